//! Waiting for an observed event (a count reached, a process gone, a line on
//! a child's standard error), never for a fixed time: a bound of minutes that
//! only a run that never gets there reaches.

use std::process::Child;
use std::time::{Duration, Instant};

/// The longest a test waits for an event before calling it lost: a bound for
/// a hung run, never a pace a run must keep.
pub const NEVER: Duration = Duration::from_secs(300);

/// Waits until `done` says so (an observed event: a count reached, a process
/// gone), failing the test naming `what` only when it never happens.
pub async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + NEVER;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: never happened");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until a call reached `gate`'s hold, failing if `child` (the run
/// sending the calls) ended first.
pub async fn until_held(gate: &crate::proxy::Proxy, child: &mut Child, what: &str) {
    until(what, || {
        gate.held() > 0 || child.try_wait().is_ok_and(|exited| exited.is_some())
    })
    .await;
    assert!(
        gate.held() > 0,
        "{what}: the run ended first ({:?})",
        child.try_wait()
    );
}

/// A child's standard error, read line by line as it comes.
pub struct Lines {
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Lines {
    /// Takes the child's piped standard error.
    pub fn of(child: &mut Child) -> Self {
        let stderr = child.stderr.take().expect("standard error piped");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line holding `text` and returns it; fails the test when
    /// the stream ends (or nothing comes for `NEVER`) without one.
    pub async fn wait_for(&mut self, text: &str) -> String {
        let deadline = Instant::now() + NEVER;
        loop {
            match self.lines.try_recv() {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => {
                    assert!(
                        Instant::now() < deadline,
                        "no line with {text:?}; so far:\n{}",
                        self.seen.join("\n")
                    );
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err(std::sync::mpsc::TryRecvError::Disconnected) => panic!(
                    "the stream ended with no line with {text:?}:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Everything the child wrote, once it has exited.
    pub fn all(mut self) -> String {
        self.seen.extend(self.lines.iter());
        self.seen.join("\n")
    }
}
