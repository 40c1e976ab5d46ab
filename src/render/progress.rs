//! Apply progress on stderr, as Terraform shows it: a line when a
//! resource's step starts, a "still" line at most every half minute while
//! it goes on, and one when it ends, with the time it took, readable in a
//! terminal and in CI logs alike.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use eksform_core::execute::{Event, EventSink, Operation};
use eksform_core::model::Address;

/// How often a step that goes on is said to go on, at most.
pub const STILL_EVERY: Duration = Duration::from_secs(30);

/// The time as the printer reads it: the system's, or a test's.
pub type Clock = Box<dyn Fn() -> Instant + Send + Sync>;

pub struct ProgressPrinter {
    state: Mutex<State>,
    clock: Clock,
}

struct State {
    out: Box<dyn Write + Send>,
    /// When each step started, and when it was last said to go on.
    steps: BTreeMap<(Address, Operation), (Instant, Instant)>,
}

impl ProgressPrinter {
    pub fn stderr() -> Self {
        Self::new(Box::new(anstream::stderr()), Box::new(Instant::now))
    }

    pub fn new(out: Box<dyn Write + Send>, clock: Clock) -> Self {
        Self {
            state: Mutex::new(State {
                out,
                steps: BTreeMap::new(),
            }),
            clock,
        }
    }
}

/// `Creating`, as the step's start and "still" lines say it.
fn doing(operation: Operation) -> &'static str {
    match operation {
        Operation::Create => "Creating",
        Operation::Update => "Modifying",
        Operation::Delete => "Destroying",
        Operation::Wait => "Waiting until ready",
        Operation::Release => "Releasing",
    }
}

/// `Still creating`.
fn still(operation: Operation) -> String {
    format!("Still {}", doing(operation).to_lowercase())
}

/// `Creation`, as the end of a step says it.
fn step(operation: Operation) -> &'static str {
    match operation {
        Operation::Create => "Creation",
        Operation::Update => "Modifications",
        Operation::Delete => "Destruction",
        Operation::Wait => "Wait",
        Operation::Release => "Release",
    }
}

/// A duration as Terraform prints it: `9m12s`, `1h2m3s`, `4s`.
pub fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

/// The line of an event; `since` is how long its step has been going on.
pub fn line(event: &Event, since: Duration) -> String {
    match event {
        Event::Started { address, operation } => format!("{address}: {}...", doing(*operation)),
        Event::Retrying {
            address,
            operation,
            error,
            attempt,
        } => format!(
            "{address}: {}... [{} elapsed; retry {attempt} after: {error}]",
            still(*operation),
            elapsed(since)
        ),
        Event::Waiting {
            address, operation, ..
        } => format!(
            "{address}: {}... [{} elapsed]",
            still(*operation),
            elapsed(since)
        ),
        Event::Finished {
            address,
            operation,
            id,
            elapsed: took,
        } => {
            let id = if id.is_empty() {
                String::new()
            } else {
                format!(" [id={id}]")
            };
            format!(
                "{address}: {} complete after {}{id}",
                step(*operation),
                elapsed(*took)
            )
        }
        Event::Failed {
            address,
            operation,
            error,
        } => format!(
            "{address}: {} failed after {}: {error}",
            step(*operation),
            elapsed(since)
        ),
        Event::Skipped {
            address,
            operation,
            because,
        } => format!(
            "{address}: {} skipped: it depends on {because}, which failed",
            step(*operation)
        ),
        Event::NotStarted { address, operation } => {
            format!("{address}: {} not started", step(*operation))
        }
    }
}

impl EventSink for ProgressPrinter {
    fn emit(&self, event: Event) {
        let now = (self.clock)();
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let (address, operation) = match &event {
            Event::Started { address, operation }
            | Event::Retrying {
                address, operation, ..
            }
            | Event::Waiting {
                address, operation, ..
            }
            | Event::Finished {
                address, operation, ..
            }
            | Event::Failed {
                address, operation, ..
            }
            | Event::Skipped {
                address, operation, ..
            }
            | Event::NotStarted { address, operation } => (address.clone(), *operation),
        };
        let key = (address, operation);
        let (started, said) = *state.steps.entry(key.clone()).or_insert((now, now));
        match &event {
            // A poll's result is said at most every `STILL_EVERY`; a retry
            // always (it says why).
            Event::Waiting { .. } if now.duration_since(said) < STILL_EVERY => return,
            Event::Waiting { .. } | Event::Retrying { .. } => {
                state.steps.insert(key, (started, now));
            }
            Event::Started { .. } => {}
            _ => {
                state.steps.remove(&key);
            }
        }
        let text = line(&event, now.duration_since(started));
        let _ = writeln!(state.out, "{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// What the printer wrote, shared with the test.
    #[derive(Clone, Default)]
    struct Written(Arc<Mutex<Vec<u8>>>);

    impl Write for Written {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Written {
        fn lines(&self) -> Vec<String> {
            String::from_utf8(self.0.lock().unwrap().clone())
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect()
        }
    }

    /// A clock the test moves.
    fn clock() -> (Arc<Mutex<Instant>>, Clock) {
        let now = Arc::new(Mutex::new(Instant::now()));
        let read = now.clone();
        (now, Box::new(move || *read.lock().unwrap()))
    }

    fn address(text: &str) -> Address {
        Address(text.to_string())
    }

    fn waiting(at: &str) -> Event {
        Event::Waiting {
            address: address(at),
            operation: Operation::Create,
            status: "pending".into(),
        }
    }

    #[test]
    fn a_long_wait_is_said_at_most_every_half_minute_per_resource_then_its_time() {
        let written = Written::default();
        let (now, clock) = clock();
        let printer = ProgressPrinter::new(Box::new(written.clone()), clock);
        let advance = |secs| *now.lock().unwrap() += Duration::from_secs(secs);
        for at in ["eks_cluster.main", "nat_gateway.a"] {
            printer.emit(Event::Started {
                address: address(at),
                operation: Operation::Create,
            });
        }
        // Polled every 10 s for 9m12s.
        for _ in 0..55 {
            advance(10);
            printer.emit(waiting("eks_cluster.main"));
            printer.emit(waiting("nat_gateway.a"));
        }
        advance(2);
        printer.emit(Event::Finished {
            address: address("eks_cluster.main"),
            operation: Operation::Create,
            id: "web-eks".into(),
            elapsed: Duration::from_secs(552),
        });
        let lines = written.lines();
        let still: Vec<&String> = lines
            .iter()
            .filter(|l| l.starts_with("eks_cluster.main: Still creating..."))
            .collect();
        // 550 s of polls: one line at 30 s, 60 s, ... 540 s.
        assert_eq!(still.len(), 18, "{lines:#?}");
        assert_eq!(
            still[0],
            "eks_cluster.main: Still creating... [30s elapsed]"
        );
        assert_eq!(
            still[12],
            "eks_cluster.main: Still creating... [6m30s elapsed]"
        );
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("nat_gateway.a: Still creating..."))
                .count(),
            18,
            "each resource has its own pace"
        );
        assert_eq!(
            lines.last().unwrap(),
            "eks_cluster.main: Creation complete after 9m12s [id=web-eks]"
        );
        assert_eq!(lines[0], "eks_cluster.main: Creating...");
    }

    #[test]
    fn steps_say_what_they_did_and_how_long_it_took() {
        let finished = |operation, secs| Event::Finished {
            address: address("vpc.main"),
            operation,
            id: String::new(),
            elapsed: Duration::from_secs(secs),
        };
        assert_eq!(
            line(&finished(Operation::Delete, 3 * 3600 + 62), Duration::ZERO),
            "vpc.main: Destruction complete after 3h1m2s"
        );
        assert_eq!(
            line(&finished(Operation::Update, 4), Duration::ZERO),
            "vpc.main: Modifications complete after 4s"
        );
        let failed = Event::Failed {
            address: address("vpc.main"),
            operation: Operation::Create,
            error: "CreateVpc: limit exceeded".into(),
        };
        assert_eq!(
            line(&failed, Duration::from_secs(75)),
            "vpc.main: Creation failed after 1m15s: CreateVpc: limit exceeded"
        );
    }
}
