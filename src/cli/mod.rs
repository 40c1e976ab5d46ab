//! The command line: arguments, confirmation, exit codes, and rendering of
//! diagnostics and errors at the edge. The work is in `ops`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::ops::{self, OpsError};
use crate::render;
use eksform_aws::lock::{self, StackLock, StateBucket};
use eksform_aws::{AwsClients, AwsCloud, Connection};
use eksform_core::cloud::{Cloud, Regions};
use eksform_core::diagnostics::{Diagnostics, RenderedDiagnostic};
use eksform_core::estate;
use eksform_core::execute::{Cancellation, ExecuteOptions};
use eksform_core::outputs::KnownOutputs;
use eksform_core::plan::Plan;
use eksform_core::retry::RetryPolicy;
use eksform_core::spec;

#[derive(Debug, Parser)]
#[command(
    name = "eksform",
    version,
    about = "Plan and apply an EKS estate from one spec per environment"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// AWS profile from the shared config files.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Send AWS calls to this endpoint (a local emulator); AWS_ENDPOINT_URL works too.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// No colour in output (NO_COLOR works too).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// More logging on stderr (-v, -vv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check specs offline; no AWS calls.
    Validate {
        /// Spec files, or directories of them (a base that others extend is not
        /// a stack and is checked through them).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Show what apply would do.
    Plan {
        /// A spec file, or several, or directories of them: each stack is
        /// planned after the stacks it refers to (`fromStack`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Save the plan for `apply PLANFILE`.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the plan as versioned JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Exit 2 when there are changes, 0 when there are none.
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Make the live account match the spec (or apply a saved plan).
    Apply {
        /// A spec file, or a plan file saved by `plan --out`.
        file: PathBuf,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
        /// With --auto-approve: also delete or replace clusters, VPCs, node
        /// groups, hosted zones and load balancers when the plan says so.
        #[arg(long)]
        allow_destroy: bool,
        /// At most this many AWS calls at once to each AWS service (fewer
        /// while it throttles).
        #[arg(long, default_value_t = 8)]
        parallelism: usize,
        /// Wait up to this many seconds for another apply of the stack to finish.
        #[arg(long, default_value_t = 0)]
        lock_timeout: u64,
    },
    /// Delete everything that carries the stack's mark.
    Destroy {
        file: PathBuf,
        #[arg(long)]
        auto_approve: bool,
        /// At most this many AWS calls at once to each AWS service (fewer
        /// while it throttles).
        #[arg(long, default_value_t = 8)]
        parallelism: usize,
        /// Wait up to this many seconds for another apply of the stack to finish.
        #[arg(long, default_value_t = 0)]
        lock_timeout: u64,
    },
    /// Make the account's state bucket for the spec's region: apply locks and
    /// history (versioned, encrypted, public access blocked).
    Bootstrap { file: PathBuf },
    /// Break the apply lock of a stack (one left by a killed run elsewhere).
    Unlock {
        stack: String,
        #[arg(long)]
        region: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// The applies and destroys of a stack: who, when, what, how it ended.
    History {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Print the stack's outputs, read from live resources.
    Outputs {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the spec (for editors).
    Schema,
    /// Print the least-privilege IAM policy eksform itself needs.
    IamPolicy,
}

/// A failure already explained to the user, with its exit code.
struct Exit(u8);

pub async fn run(cli: Cli) -> ExitCode {
    if cli.global.no_color || std::env::var_os("NO_COLOR").is_some() {
        anstream::ColorChoice::Never.write_global();
    }
    init_logging(cli.global.verbose);
    let result = match &cli.command {
        Command::Validate { files } => validate(files),
        Command::IamPolicy => {
            println!(
                "{}",
                serde_json::to_string_pretty(&eksform_core::iam_policy::document())
                    .unwrap_or_default()
            );
            Ok(0)
        }
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&spec::json_schema()).unwrap_or_default()
            );
            Ok(0)
        }
        Command::Plan {
            files,
            out,
            json,
            detailed_exitcode,
        } => {
            plan_command(
                &cli.global,
                files,
                out.as_deref(),
                *json,
                *detailed_exitcode,
            )
            .await
        }
        Command::Apply {
            file,
            auto_approve,
            allow_destroy,
            parallelism,
            lock_timeout,
        } => {
            let guard = Approval {
                auto_approve: *auto_approve,
                allow_destroy: *allow_destroy,
            };
            let wait = Duration::from_secs(*lock_timeout);
            apply_command(&cli.global, file, guard, *parallelism, wait, false).await
        }
        Command::Destroy {
            file,
            auto_approve,
            parallelism,
            lock_timeout,
        } => {
            // `destroy` is the explicit request to delete everything.
            let guard = Approval {
                auto_approve: *auto_approve,
                allow_destroy: true,
            };
            let wait = Duration::from_secs(*lock_timeout);
            apply_command(&cli.global, file, guard, *parallelism, wait, true).await
        }
        Command::Outputs { file, json } => outputs_command(&cli.global, file, *json).await,
        Command::Bootstrap { file } => bootstrap_command(&cli.global, file).await,
        Command::Unlock { stack, region, yes } => {
            unlock_command(&cli.global, stack, region, *yes).await
        }
        Command::History { file, json } => history_command(&cli.global, file, *json).await,
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Exit(code)) => ExitCode::from(code),
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info,aws_config=warn",
        _ => "debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into()),
        )
        .try_init();
}

fn color() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

fn print_diagnostics(diagnostics: &Diagnostics) {
    let handler =
        if anstream::AutoStream::choice(&std::io::stderr()) == anstream::ColorChoice::Never {
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        } else {
            miette::GraphicalReportHandler::new()
        };
    let mut stderr = anstream::stderr();
    for diagnostic in diagnostics.iter() {
        let mut text = String::new();
        if handler
            .render_report(&mut text, &RenderedDiagnostic::from(diagnostic))
            .is_err()
        {
            text = diagnostic.to_string();
        }
        let _ = writeln!(stderr, "{text}");
    }
}

fn fail(error: OpsError) -> Exit {
    match error {
        OpsError::Spec(diagnostics) => {
            print_diagnostics(&diagnostics);
            let count = diagnostics.errors().count();
            eprintln!(
                "error: {count} problem{} in the spec; nothing was sent to AWS",
                if count == 1 { "" } else { "s" }
            );
        }
        other => eprintln!("error: {other}"),
    }
    Exit(1)
}

/// The stack files among the paths a command was given.
fn stack_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Exit> {
    let files = estate::stack_files(paths).map_err(|e| {
        eprintln!("error: cannot read the stack files: {e}");
        Exit(1)
    })?;
    if files.is_empty() {
        eprintln!("error: no stack files (*.yaml) in what was given");
        return Err(Exit(1));
    }
    Ok(files)
}

fn validate(files: &[PathBuf]) -> Result<u8, Exit> {
    let mut failed = false;
    for file in &stack_files(files)? {
        match spec::load(file) {
            Ok(loaded) => {
                print_diagnostics(&loaded.warnings);
                eprintln!("{}: valid", file.display());
            }
            Err(diagnostics) => {
                print_diagnostics(&diagnostics);
                failed = true;
            }
        }
    }
    if failed { Err(Exit(1)) } else { Ok(0) }
}

async fn connect_clients(global: &GlobalArgs, region: &str) -> AwsClients {
    let connection = Connection {
        region: region.into(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    };
    AwsClients::connect(&connection).await
}

async fn connect(global: &GlobalArgs, region: &str) -> Arc<dyn Cloud> {
    Arc::new(AwsCloud {
        clients: connect_clients(global, region).await,
    })
}

/// A new connection for each region asked for.
struct Connections<'a> {
    global: &'a GlobalArgs,
}

#[async_trait::async_trait]
impl Regions for Connections<'_> {
    async fn cloud(&self, region: &str) -> Arc<dyn Cloud> {
        connect(self.global, region).await
    }
}

/// Connections for references to stacks in other regions; the stack's own
/// region reuses its connection.
struct Connector<'a> {
    global: &'a GlobalArgs,
    home_region: String,
    home: Arc<dyn Cloud>,
}

impl<'a> Connector<'a> {
    fn new(global: &'a GlobalArgs, home_region: &str, home: Arc<dyn Cloud>) -> Self {
        Self {
            global,
            home_region: home_region.into(),
            home,
        }
    }
}

#[async_trait::async_trait]
impl Regions for Connector<'_> {
    async fn cloud(&self, region: &str) -> Arc<dyn Cloud> {
        if region == self.home_region {
            self.home.clone()
        } else {
            connect(self.global, region).await
        }
    }
}

async fn plan_command(
    global: &GlobalArgs,
    files: &[PathBuf],
    out: Option<&Path>,
    json: bool,
    detailed: bool,
) -> Result<u8, Exit> {
    let files = stack_files(files)?;
    if files.len() > 1 && out.is_some() {
        eprintln!("error: --out saves the plan of one stack; give one spec file");
        return Err(Exit(1));
    }
    // Every file is read and checked before anything is sent to AWS.
    let mut stacks = Vec::new();
    let mut problems = Diagnostics::new();
    for file in &files {
        match ops::prepare(file) {
            Ok(stack) => stacks.push(stack),
            Err(OpsError::Spec(diagnostics)) => problems.extend(diagnostics),
            Err(other) => return Err(fail(other)),
        }
    }
    if problems.has_errors() {
        return Err(fail(OpsError::Spec(problems)));
    }
    let order = estate::order(&stacks.iter().map(|s| &s.model).collect::<Vec<_>>())
        .map_err(|e| fail(OpsError::Refused(e)))?;
    let connections = Connections { global };
    let plans: Vec<(PathBuf, Plan)> = ops::plan_estate(
        &mut stacks,
        &order,
        &connections,
        RetryPolicy::default(),
        |stack| print_diagnostics(&stack.loaded.warnings),
    )
    .await
    .map_err(fail)?
    .into_iter()
    .map(|(i, plan)| (files[i].clone(), plan))
    .collect();
    let many = plans.len() > 1;
    if json {
        let rendered: Vec<serde_json::Value> =
            plans.iter().map(|(_, p)| render::json::plan(p)).collect();
        let value = if many {
            serde_json::Value::Array(rendered)
        } else {
            rendered.into_iter().next().unwrap_or_default()
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else {
        for (file, plan) in &plans {
            if many {
                println!("Stack {} ({}):", plan.stack, file.display());
            }
            print!("{}", render::human::plan(plan, color()));
            if many {
                println!();
            }
        }
        if many {
            println!("Summary:");
            for (_, plan) in &plans {
                println!(
                    "  {}: {}",
                    plan.stack,
                    render::human::summary_line(&plan.summary())
                );
            }
        }
    }
    if let (Some(out), Some((_, plan))) = (out, plans.first()) {
        let text = serde_json::to_string_pretty(plan).unwrap_or_default();
        std::fs::write(out, text).map_err(|e| {
            eprintln!("error: cannot write the plan to {}: {e}", out.display());
            Exit(1)
        })?;
        eprintln!(
            "Saved the plan to {}. Apply it with: eksform apply {}",
            out.display(),
            out.display()
        );
    }
    let changes = plans.iter().any(|(_, p)| p.summary().has_changes());
    Ok(if detailed && changes { 2 } else { 0 })
}

/// A saved plan is JSON with a format version; a spec is YAML.
fn read_saved_plan(file: &Path) -> Option<Result<Plan, String>> {
    let text = std::fs::read_to_string(file).ok()?;
    if !text.trim_start().starts_with('{') {
        return None;
    }
    Some(Plan::from_json(&text).map_err(|e| {
        format!(
            "{} is not a plan file eksform can read: {e}",
            file.display()
        )
    }))
}

/// What the user approved up front.
#[derive(Clone, Copy)]
struct Approval {
    auto_approve: bool,
    allow_destroy: bool,
}

/// What apply and destroy need to know before they plan.
enum Target {
    Saved(Plan),
    Spec(Box<ops::Stack>),
}

async fn apply_command(
    global: &GlobalArgs,
    file: &Path,
    approval: Approval,
    parallelism: usize,
    lock_wait: Duration,
    destroy: bool,
) -> Result<u8, Exit> {
    let target = match (destroy, read_saved_plan(file)) {
        (false, Some(saved)) => Target::Saved(saved.map_err(|e| fail(OpsError::Refused(e)))?),
        _ => {
            let stack = ops::prepare(file).map_err(fail)?;
            print_diagnostics(&stack.loaded.warnings);
            Target::Spec(Box::new(stack))
        }
    };
    let (stack_name, region, expected_account) = match &target {
        Target::Saved(plan) => (
            plan.stack.clone(),
            plan.region.clone(),
            Some(plan.account.clone()),
        ),
        Target::Spec(stack) => (
            stack.model.stack.clone(),
            stack.model.region.clone(),
            stack.model.account.clone(),
        ),
    };
    let clients = connect_clients(global, &region).await;
    let cloud: Arc<dyn Cloud> = Arc::new(AwsCloud {
        clients: clients.clone(),
    });
    // The account guard comes first; then the stack's lock, held from before
    // the plan to after the last call.
    let (account, caller) = lock::caller(&clients)
        .await
        .map_err(|e| fail(OpsError::Cloud(e)))?;
    if let Some(expected) = &expected_account
        && *expected != account
    {
        return Err(fail(OpsError::AccountMismatch {
            expected: expected.clone(),
            actual: account,
        }));
    }
    let command = if destroy { "destroy" } else { "apply" };
    // Whoever waits for a lock is told once who holds it, then every half
    // minute or when the holder changes: never silent, never a flood.
    let mut reports = lock::WaitReports::every(Duration::from_secs(30));
    let mut waiting = |holder: &lock::Holder, left: Duration| {
        if let Some(line) = reports.report(&stack_name, holder, left, std::time::Instant::now()) {
            eprintln!("{line}");
        }
    };
    let stack_lock = StackLock::take(
        &clients,
        &account,
        &caller,
        &stack_name,
        &region,
        command,
        lock_wait,
        &mut waiting,
    )
    .await
    .map_err(|e| {
        eprintln!("error: {e}");
        Exit(1)
    })?;
    if stack_lock.is_none() {
        eprintln!(
            "note: account {account} has no state bucket in {region}, so this {command} is not locked against others and leaves no history; `eksform bootstrap {}` makes one",
            file.display()
        );
    }
    // From here on Ctrl-C never leaves the lock behind: the first stops new
    // work (before the apply starts, nothing is changed), the second abandons
    // the calls in flight; either way the lock is released below.
    let cancel = Cancellation::default();
    let quit = Arc::new(tokio::sync::Notify::new());
    let watcher = watch_interrupts(cancel.clone(), quit.clone());
    let (result, done) = tokio::select! {
        outcome = plan_and_apply(global, cloud, target, approval, parallelism, destroy, cancel) => outcome,
        _ = quit.notified() => {
            eprintln!("Quit: the calls in flight were abandoned; the next {command} finishes the job.");
            (Err(Exit(130)), None)
        }
    };
    watcher.abort();
    if let Some(stack_lock) = stack_lock {
        let done = done.as_ref().map(|(plan, result)| (plan, *result));
        if let Err(e) = stack_lock.release(done).await {
            eprintln!(
                "warning: could not release the lock of stack {stack_name} or record the history: {e}"
            );
        }
    }
    result
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

/// How a run ended: its exit code, and the plan it carried out with how it
/// ended (`succeeded`, `failed`, `interrupted`) for the history.
type RunResult = (Result<u8, Exit>, Option<(Plan, &'static str)>);

/// Stops before changing anything when Ctrl-C came before the apply began.
fn interrupted_before_apply(cancel: &Cancellation) -> Option<RunResult> {
    cancel.is_cancelled().then(|| {
        eprintln!("Interrupted before anything was changed.");
        (Err(Exit(1)), None)
    })
}

/// Plans (or rechecks a saved plan), asks, applies. Returns the exit and, when
/// something was applied, the plan and how it ended (for the history).
async fn plan_and_apply(
    global: &GlobalArgs,
    cloud: Arc<dyn Cloud>,
    target: Target,
    approval: Approval,
    parallelism: usize,
    destroy: bool,
    cancel: Cancellation,
) -> RunResult {
    let retry = RetryPolicy::default();
    let plan = match target {
        // The plan executed is made anew from the live state; the file only
        // says what it must be.
        Target::Saved(saved) => match ops::recheck_saved_plan(cloud.clone(), &saved, retry).await {
            Ok(fresh) => fresh,
            Err(e) => return (Err(fail(e)), None),
        },
        Target::Spec(mut stack) => {
            let regions = Connector::new(global, &stack.model.region, cloud.clone());
            let goal = if destroy {
                ops::Goal::Destroy
            } else {
                ops::Goal::Apply
            };
            match ops::plan_stack(
                cloud.clone(),
                &regions,
                &KnownOutputs::new(),
                &mut stack,
                goal,
                retry,
            )
            .await
            {
                Ok((plan, _)) => plan,
                Err(e) => return (Err(fail(e)), None),
            }
        }
    };
    if let Some(stopped) = interrupted_before_apply(&cancel) {
        return stopped;
    }
    print!("{}", render::human::plan(&plan, color()));
    if !plan.summary().has_changes() {
        return (Ok(0), None);
    }
    let guarded = plan.guarded();
    if !destroy && !guarded.is_empty() {
        eprintln!("This plan deletes or replaces:");
        for change in &guarded {
            eprintln!(
                "  {} {} ({})",
                change.action.symbol(),
                change.address,
                change.kind
            );
        }
        if approval.auto_approve && !approval.allow_destroy {
            eprintln!(
                "error: refusing to delete or replace these with --auto-approve alone; add --allow-destroy if that is intended"
            );
            return (Err(Exit(1)), None);
        }
    }
    if !approval.auto_approve
        && let Err(exit) = confirm(destroy).await
    {
        return (Err(exit), None);
    }
    if let Some(stopped) = interrupted_before_apply(&cancel) {
        return stopped;
    }
    let options = ExecuteOptions {
        parallelism,
        ..ExecuteOptions::default()
    };
    let sink = Arc::new(render::progress::ProgressPrinter::stderr());
    let outcome = ops::apply(cloud, &plan, options, sink, cancel).await;
    let verb = if destroy { "Destroy" } else { "Apply" };
    if outcome.succeeded() {
        println!(
            "{verb} complete: {} operations done.",
            outcome.completed.len()
        );
        return (Ok(0), Some((plan, "succeeded")));
    }
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
    let result = if outcome.interrupted {
        "interrupted"
    } else {
        "failed"
    };
    (Err(Exit(1)), Some((plan, result)))
}

async fn confirm(destroy: bool) -> Result<(), Exit> {
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "error: refusing to {} without confirmation: there is no terminal to ask; pass --auto-approve",
            if destroy { "destroy" } else { "apply" }
        );
        return Err(Exit(1));
    }
    eprint!("Do you want to perform these actions? Only 'yes' will be accepted: ");
    let _ = std::io::stderr().flush();
    // Read off the runtime's threads, so that Ctrl-C is heard while it waits.
    let answer = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        answer
    })
    .await
    .unwrap_or_default();
    if answer.trim() == "yes" {
        Ok(())
    } else {
        eprintln!("Cancelled; nothing was changed.");
        Err(Exit(1))
    }
}

async fn outputs_command(global: &GlobalArgs, file: &Path, json: bool) -> Result<u8, Exit> {
    let stack = ops::prepare(file).map_err(fail)?;
    let cloud = connect(global, &stack.model.region).await;
    let outputs = ops::outputs(cloud, &stack.model, &stack.desired, RetryPolicy::default())
        .await
        .map_err(fail)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&outputs).unwrap_or_default()
        );
    } else {
        for (name, value) in outputs.as_map() {
            println!("{name} = {value}");
        }
    }
    Ok(0)
}

/// The state bucket of the spec's account and region, after the account guard.
async fn state_bucket(
    global: &GlobalArgs,
    region: &str,
    expected: Option<&str>,
) -> Result<StateBucket, Exit> {
    let clients = connect_clients(global, region).await;
    let (account, _) = lock::caller(&clients)
        .await
        .map_err(|e| fail(OpsError::Cloud(e)))?;
    if let Some(expected) = expected
        && expected != account
    {
        return Err(fail(OpsError::AccountMismatch {
            expected: expected.into(),
            actual: account,
        }));
    }
    Ok(StateBucket::new(clients, &account, region))
}

async fn bootstrap_command(global: &GlobalArgs, file: &Path) -> Result<u8, Exit> {
    let stack = ops::prepare(file).map_err(fail)?;
    let bucket = state_bucket(global, &stack.model.region, stack.model.account.as_deref()).await?;
    bucket
        .bootstrap()
        .await
        .map_err(|e| fail(OpsError::Cloud(e)))?;
    println!(
        "State bucket {} is ready: applies of stacks in {} are locked and recorded.",
        bucket.name, stack.model.region
    );
    Ok(0)
}

async fn unlock_command(
    global: &GlobalArgs,
    stack: &str,
    region: &str,
    yes: bool,
) -> Result<u8, Exit> {
    let bucket = state_bucket(global, region, None).await?;
    let holder = bucket
        .holder(stack)
        .await
        .map_err(|e| fail(OpsError::Cloud(e)))?;
    let Some(holder) = holder else {
        println!("Stack {stack} is not locked.");
        return Ok(0);
    };
    eprintln!("Stack {stack} is locked by {}.", holder.describe());
    if !yes {
        if !std::io::stdin().is_terminal() {
            eprintln!("error: refusing to break the lock without confirmation: pass --yes");
            return Err(Exit(1));
        }
        eprint!("Break it? Only do so when that run is gone. Only 'yes' will be accepted: ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if answer.trim() != "yes" {
            eprintln!("Cancelled; the lock stays.");
            return Err(Exit(1));
        }
    }
    bucket
        .unlock(stack)
        .await
        .map_err(|e| fail(OpsError::Cloud(e)))?;
    println!("Unlocked stack {stack}.");
    Ok(0)
}

async fn history_command(global: &GlobalArgs, file: &Path, json: bool) -> Result<u8, Exit> {
    let stack = ops::prepare(file).map_err(fail)?;
    let bucket = state_bucket(global, &stack.model.region, stack.model.account.as_deref()).await?;
    let entries = bucket
        .history(&stack.model.stack)
        .await
        .map_err(|e| fail(OpsError::Cloud(e)))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).unwrap_or_default()
        );
        return Ok(0);
    }
    if entries.is_empty() {
        println!("No applies of stack {} are recorded.", stack.model.stack);
    }
    for entry in &entries {
        println!(
            "{}  {:<8} {:<11} {}  by {} on {}",
            entry.finished,
            entry.who.command,
            entry.result,
            render::human::summary_line(&entry.summary),
            entry.who.caller,
            entry.who.host
        );
    }
    Ok(0)
}
