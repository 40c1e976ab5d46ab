//! `eksform apply`: a spec or a saved plan carried out (`ops::run_apply`),
//! and the terminal it runs in, shared with `destroy`: the plan and the
//! progress shown, the confirmation asked, Ctrl-C heard, the end told.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use eksform_core::execute::{Cancellation, EventSink};
use eksform_core::plan::{Plan, ResourceChange};

use super::{
    CliError, ExitStatus, GlobalArgs, answered_yes, color, print_diagnostics, render_error,
};
use crate::ops::{
    self, ApplyFrontEnd, ApplyOutcome, ApplyReport, ApplyRequest, ApplyTarget, Approval,
    Confirmation, Goal, Interrupts,
};
use crate::render;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A spec file, a directory of them (every stack, referenced stacks
    /// first), or a plan file saved by `plan --out`.
    pub file: PathBuf,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// With --auto-approve: also run the deletes and replacements the plan
    /// marks as guarded (VPCs, Elastic IPs, clusters, node groups, add-ons,
    /// access entries, OIDC providers, log groups, hosted zones, load
    /// balancers).
    #[arg(long)]
    pub allow_destroy: bool,
    /// At most this many AWS calls at once to each AWS service (fewer
    /// while it throttles).
    #[arg(long, default_value_t = 8)]
    pub parallelism: usize,
    /// Wait up to this many seconds for another apply of the stack to finish.
    #[arg(long, default_value_t = 0)]
    pub lock_timeout: u64,
}

pub(super) async fn run(global: &GlobalArgs, args: ApplyArgs) -> Result<ExitStatus, CliError> {
    let approval = Approval {
        auto_approve: args.auto_approve,
        allow_destroy: args.allow_destroy,
    };
    if args.file.is_dir() {
        return apply_estate(global, &args, approval).await;
    }
    run_goal(
        global,
        &args.file,
        Goal::Apply,
        approval,
        args.parallelism,
        args.lock_timeout,
    )
    .await
}

/// `apply DIR`: every stack of the directory, referenced stacks first, each
/// planned, approved and applied in turn with its own lock, so that a stack
/// that refers to another's outputs is planned after that stack is applied
/// and sees its real values. Stops at the first stack that does not finish.
async fn apply_estate(
    global: &GlobalArgs,
    args: &ApplyArgs,
    approval: Approval,
) -> Result<ExitStatus, CliError> {
    // Every file is read and checked before any stack is applied.
    let estate = ops::Estate::read(std::slice::from_ref(&args.file))?;
    let files = estate.ordered_files();
    for (done, file) in files.iter().enumerate() {
        println!(
            "== Stack {} of {}: {}",
            done + 1,
            files.len(),
            file.display()
        );
        let status = run_goal(
            global,
            file,
            Goal::Apply,
            approval,
            args.parallelism,
            args.lock_timeout,
        )
        .await?;
        if status != ExitStatus::Success {
            let rest: Vec<String> = files[done + 1..]
                .iter()
                .map(|f| f.display().to_string())
                .collect();
            if !rest.is_empty() {
                eprintln!(
                    "Stopped at {}: not applied: {}.",
                    file.display(),
                    rest.join(", ")
                );
            }
            return Ok(status);
        }
        println!();
    }
    Ok(ExitStatus::Success)
}

/// An apply or a destroy of `file`, from reading it to telling how it ended.
pub(super) async fn run_goal(
    global: &GlobalArgs,
    file: &Path,
    goal: Goal,
    approval: Approval,
    parallelism: usize,
    lock_timeout: u64,
) -> Result<ExitStatus, CliError> {
    let target = ApplyTarget::read(file, goal)?;
    if let ApplyTarget::Spec(stack) = &target {
        print_diagnostics(&stack.loaded.warnings);
    }
    let request = ApplyRequest {
        target,
        goal,
        approval,
        parallelism,
        lock_wait: Duration::from_secs(lock_timeout),
    };
    let report = ops::run_apply(&global.aws_access(), request, &Terminal { file, goal }).await;
    Ok(render_report(goal, report))
}

/// How the run ended, then the lock's release when it failed.
fn render_report(goal: Goal, report: ApplyReport) -> ExitStatus {
    let status = match report.result {
        Ok(outcome) => render_outcome(goal, &outcome),
        Err(error) => {
            render_error(&error.into());
            ExitStatus::Failure
        }
    };
    if let Some(failure) = report.release_failure {
        eprintln!("warning: {failure}");
    }
    status
}

fn render_outcome(goal: Goal, outcome: &ApplyOutcome) -> ExitStatus {
    let verb = match goal {
        Goal::Apply => "Apply",
        Goal::Destroy => "Destroy",
    };
    match outcome {
        ApplyOutcome::NoChanges => ExitStatus::Success,
        ApplyOutcome::Complete { operations } => {
            println!("{verb} complete: {operations} operations done.");
            ExitStatus::Success
        }
        ApplyOutcome::Incomplete(outcome) => {
            eprintln!(
                "{verb} incomplete: {} done, {} failed, {} skipped, {} not started{}. Run it again to finish; it resumes from the live state.",
                outcome.completed.len(),
                outcome.failed.len(),
                outcome.skipped.len(),
                outcome.not_started.len(),
                if outcome.interrupted {
                    " (interrupted)"
                } else {
                    ""
                }
            );
            for (address, operation, error) in &outcome.failed {
                eprintln!("  {operation} {address}: {error}");
            }
            ExitStatus::Failure
        }
        ApplyOutcome::InterruptedBeforeChanges => {
            eprintln!("Interrupted before anything was changed.");
            ExitStatus::Failure
        }
        ApplyOutcome::Declined => {
            eprintln!("{verb} cancelled.");
            ExitStatus::Failure
        }
        ApplyOutcome::Abandoned => {
            eprintln!(
                "Quit: the calls in flight were abandoned; the next {} finishes the job.",
                goal.command()
            );
            ExitStatus::Quit
        }
    }
}

/// The terminal an apply or destroy of `file` runs in.
struct Terminal<'a> {
    file: &'a Path,
    goal: Goal,
}

#[async_trait::async_trait]
impl ApplyFrontEnd for Terminal<'_> {
    fn waiting_for_lock(&self, report: &str) {
        eprintln!("{report}");
    }

    fn not_locked(&self, account: &str, region: &str, goal: Goal) {
        eprintln!(
            "note: account {account} has no state bucket in {region}, so this {} is not locked against others and leaves no history; `eksform bootstrap {}` makes one",
            goal.command(),
            self.file.display()
        );
    }

    fn listen_for_interrupts(&self) -> Interrupts {
        let cancel = Cancellation::default();
        let quit = Arc::new(tokio::sync::Notify::new());
        let watcher = AbortOnDrop(watch_interrupts(cancel.clone(), quit.clone()));
        Interrupts {
            cancel,
            quit: Box::pin(async move {
                // Dropped with this future: no Ctrl-C is heard after the run.
                let _watcher = watcher;
                quit.notified().await;
            }),
        }
    }

    fn show_plan(&self, plan: &Plan) {
        let shown = match self.goal {
            Goal::Apply => render::human::plan(plan, color()),
            Goal::Destroy => render::human::destroy_plan(plan, color()),
        };
        print!("{shown}");
    }

    fn show_guarded(&self, changes: &[&ResourceChange]) {
        eprintln!("This plan deletes or replaces, or changes the settings of what it adopts:");
        for change in changes {
            eprintln!(
                "  {} {} ({})",
                change.action.symbol(),
                change.address,
                change.kind
            );
        }
    }

    async fn confirm(&self, goal: Goal) -> Confirmation {
        if !std::io::stdin().is_terminal() {
            return Confirmation::CannotAsk;
        }
        let question = match goal {
            Goal::Apply => "Do you want to perform these actions?",
            Goal::Destroy => "Do you really want to destroy every resource of this stack?",
        };
        if answered_yes(question).await {
            Confirmation::Approved
        } else {
            Confirmation::Declined
        }
    }

    fn progress(&self) -> Arc<dyn EventSink> {
        Arc::new(render::progress::ProgressPrinter::stderr())
    }
}

/// Ctrl-C: the first cancels (no new work starts), the second asks to quit now.
fn watch_interrupts(
    cancel: Cancellation,
    quit: Arc<tokio::sync::Notify>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            // Cancelled before saying so: once the line is out, no new work
            // starts (what the tests wait for).
            cancel.cancel();
            eprintln!(
                "\nInterrupted: no new work starts; waiting for the calls in flight. Press Ctrl-C again to quit now."
            );
            if tokio::signal::ctrl_c().await.is_ok() {
                quit.notify_one();
            }
        }
    })
}

/// A task stopped when its handle goes.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
