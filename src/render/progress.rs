//! Apply progress on stderr: one line per step of each resource, with the
//! elapsed time, readable in a terminal and in CI logs alike.

use std::io::Write;
use std::sync::Mutex;

use eksform_core::execute::{Event, EventSink, Operation};

pub struct ProgressPrinter {
    out: Mutex<Box<dyn Write + Send>>,
}

impl ProgressPrinter {
    pub fn stderr() -> Self {
        Self {
            out: Mutex::new(Box::new(anstream::stderr())),
        }
    }
}

fn doing(operation: Operation) -> &'static str {
    match operation {
        Operation::Create => "creating",
        Operation::Update => "updating",
        Operation::Delete => "deleting",
        Operation::Wait => "waiting",
        Operation::Release => "releasing",
    }
}

fn done(operation: Operation) -> &'static str {
    match operation {
        Operation::Create => "created",
        Operation::Update => "updated",
        Operation::Delete => "deleted",
        Operation::Wait => "ready",
        Operation::Release => "released",
    }
}

pub fn line(event: &Event) -> String {
    match event {
        Event::Started { address, operation } => format!("{address}: {}...", doing(*operation)),
        Event::Retrying {
            address,
            operation,
            error,
            attempt,
        } => {
            format!(
                "{address}: {} (retry {attempt} after: {error})",
                doing(*operation)
            )
        }
        Event::Waiting {
            address, status, ..
        } => format!("{address}: waiting ({status})"),
        Event::Finished {
            address,
            operation,
            id,
            elapsed,
        } => {
            let id = if id.is_empty() {
                String::new()
            } else {
                format!(" {id}")
            };
            format!(
                "{address}: {}{id} [{:.1}s]",
                done(*operation),
                elapsed.as_secs_f64()
            )
        }
        Event::Failed {
            address,
            operation,
            error,
        } => format!("{address}: {} failed: {error}", doing(*operation)),
        Event::Skipped {
            address,
            operation,
            because,
        } => {
            format!(
                "{address}: {} skipped: it depends on {because}, which failed",
                doing(*operation)
            )
        }
        Event::NotStarted { address, operation } => {
            format!("{address}: {} not started", doing(*operation))
        }
    }
}

impl EventSink for ProgressPrinter {
    fn emit(&self, event: Event) {
        if let Ok(mut out) = self.out.lock() {
            let _ = writeln!(out, "{}", line(&event));
        }
    }
}
