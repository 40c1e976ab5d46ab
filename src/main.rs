//! The `eksform` binary: parse arguments, run, exit. Everything else is in the library.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    end_quietly_on_closed_pipe();
    eksform::cli::run(eksform::cli::Cli::parse()).await
}

/// `eksform plan x.yaml | head`: once the reader is gone, end as Unix tools
/// do, killed by SIGPIPE, which shells take as a quiet end. Rust ignores
/// SIGPIPE, so every `println!`/`eprintln!` to a closed pipe would panic
/// instead. Restoring the default covers every write of the process, ours,
/// future ones and the libraries', where a writer treating `BrokenPipe` as
/// "stop" protects only the writes routed through it. Sockets are not
/// affected: std and tokio send with `MSG_NOSIGNAL`. An apply ended this way
/// is like any other crash: its lock's holder is dead (taken over by the
/// next run on this machine) and the next apply resumes from the live state.
fn end_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: sets SIGPIPE's disposition back to the default; nothing in
    // the process installs a handler of its own for it.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
