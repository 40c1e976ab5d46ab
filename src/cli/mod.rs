//! The command line: the clap definitions, dispatch to one module per
//! command, the exit codes, and the rendering of diagnostics and errors at
//! the edge. Each command reads its arguments, calls `ops` and renders what
//! comes back; the policy is in `ops`.

mod apply;
mod bootstrap;
mod destroy;
mod history;
mod iam_policy;
mod import;
mod import_eksctl;
mod kubeconfig;
mod outputs;
mod plan;
mod schema;
mod token;
mod unlock;
mod validate;

use std::io::{BufRead, Write};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::ops::{AwsAccess, OpsError};
use eksform_aws::Warnings;
use eksform_core::diagnostics::{Diagnostic, Diagnostics, RenderedDiagnostic};

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

impl GlobalArgs {
    fn aws_access(&self) -> AwsAccess {
        AwsAccess::new(
            self.profile.clone(),
            self.endpoint_url.clone(),
            Warnings::to(print_warning),
        )
    }
}

// The doc comment of each variant is its command's help; the arguments are
// in the command's module.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check specs offline; no AWS calls.
    Validate(validate::ValidateArgs),
    /// Show what apply would do.
    Plan(plan::PlanArgs),
    /// Make the live account match the spec (or apply a saved plan).
    Apply(apply::ApplyArgs),
    /// Delete everything that carries the stack's mark.
    Destroy(destroy::DestroyArgs),
    /// Make the account's state bucket for the spec's region: apply locks and
    /// history (versioned, encrypted, public access blocked); with
    /// --github-repo, also the stack's deploy roles for GitHub Actions.
    Bootstrap(bootstrap::BootstrapArgs),
    /// Break the apply lock of a stack (one left by a killed run elsewhere).
    Unlock(unlock::UnlockArgs),
    /// The applies and destroys of a stack: who, when, what, how it ended.
    History(history::HistoryArgs),
    /// Print the stack's outputs, read from live resources.
    Outputs(outputs::OutputsArgs),
    /// Add the stack's live cluster to a kubeconfig (eksform token as its
    /// credential) and make it the current context.
    Kubeconfig(kubeconfig::KubeconfigArgs),
    /// Print an ExecCredential with a token for an EKS cluster (kubectl's
    /// credential plugin; no AWS call unless --role-arn).
    Token(token::TokenArgs),
    /// Print the JSON Schema of the spec (for editors).
    Schema,
    /// Print the least-privilege IAM policy eksform itself needs (--read-only:
    /// the one of plan, outputs, history and validate).
    IamPolicy(iam_policy::IamPolicyArgs),
    /// Write a spec that takes over an estate made by Terraform or eksctl:
    /// an `adopt:` entry for every resource, nothing recreated.
    Import(import::ImportArgs),
}

/// The exit codes of eksform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done (for `plan --detailed-exitcode`: and no changes).
    Success,
    /// An error, a refusal, a cancelled or an incomplete run.
    Failure,
    /// `plan --detailed-exitcode`: the plan has changes.
    Changes,
    /// A second Ctrl-C abandoned the calls in flight.
    Quit,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failure => 1,
            Self::Changes => 2,
            Self::Quit => 130,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

/// A command's failure, rendered by `render_error`.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Ops(#[from] OpsError),
    #[error("refusing to break the lock without confirmation: pass --yes")]
    UnlockNeedsConfirmation,
    #[error(
        "refusing to destroy {}: {} refer{} to its outputs and {} live; destroying it would leave {} using what is gone (an endpoint admitting released NAT addresses). Destroy {} first, or remove the reference and apply, or pass --force",
        file.display(),
        referrers.iter().map(|r| format!("stack {} ({}, {})", r.stack, r.file.display(), r.region)).collect::<Vec<_>>().join(", "),
        if referrers.len() == 1 { "s" } else { "" },
        if referrers.len() == 1 { "is" } else { "are" },
        if referrers.len() == 1 { "it" } else { "them" },
        if referrers.len() == 1 { "it" } else { "them" },
    )]
    ReferredTo {
        file: std::path::PathBuf,
        referrers: Vec<crate::ops::Referrer>,
    },
    #[error(transparent)]
    ImportTerraform(#[from] crate::ops::ImportTerraformError),
}

pub async fn run(cli: Cli) -> ExitCode {
    if cli.global.no_color || std::env::var_os("NO_COLOR").is_some() {
        anstream::ColorChoice::Never.write_global();
    }
    init_logging(cli.global.verbose);
    let global = &cli.global;
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Plan(args) => plan::run(global, args).await,
        Command::Apply(args) => apply::run(global, args).await,
        Command::Destroy(args) => destroy::run(global, args).await,
        Command::Bootstrap(args) => bootstrap::run(global, args).await,
        Command::Unlock(args) => unlock::run(global, args).await,
        Command::History(args) => history::run(global, args).await,
        Command::Outputs(args) => outputs::run(global, args).await,
        Command::Kubeconfig(args) => kubeconfig::run(global, args).await,
        Command::Token(args) => token::run(global, args).await,
        Command::Schema => schema::run(),
        Command::IamPolicy(args) => iam_policy::run(args),
        Command::Import(args) => import::run(global, args).await,
    };
    match result {
        Ok(status) => status.into(),
        Err(error) => {
            render_error(&error);
            ExitStatus::Failure.into()
        }
    }
}

fn init_logging(verbose: u8) {
    // Without -v nothing is logged: what a user must see is a diagnostic or
    // a line of progress, never a log line.
    let level = match verbose {
        0 => "off",
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

/// Whether stdout takes colour.
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

/// A warning from the AWS side, shown as the spec's are; once per run, as
/// a wait or an observation repeated says the same again.
fn print_warning(message: String) {
    static SAID: std::sync::Mutex<std::collections::BTreeSet<String>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let first = SAID
        .lock()
        .map_or(true, |mut said| said.insert(message.clone()));
    if first {
        let mut warning = Diagnostics::new();
        warning.push(Diagnostic::warning(message));
        print_diagnostics(&warning);
    }
}

/// Every problem found, then one line counting them and saying what was
/// (not) done.
fn print_problems(diagnostics: &Diagnostics, found: &str) {
    print_diagnostics(diagnostics);
    let count = diagnostics.errors().count();
    eprintln!(
        "error: {count} problem{} {found}",
        if count == 1 { "" } else { "s" }
    );
}

/// An error on stderr: the spec's problems with miette, anything else in a line.
fn render_error(error: &CliError) {
    match error {
        CliError::Ops(OpsError::Spec(diagnostics)) => {
            print_problems(diagnostics, "in the spec; nothing was sent to AWS");
        }
        CliError::Ops(OpsError::Live(diagnostics)) => print_problems(
            diagnostics,
            "between the spec and the live account; nothing was changed in AWS",
        ),
        other => eprintln!("error: {other}"),
    }
}

/// Asks on stderr and reads the answer from stdin: whether it was `yes`.
/// Read off the runtime's threads, so that Ctrl-C is heard while it waits.
async fn answered_yes(question: &str) -> bool {
    eprint!("{question} Only 'yes' will be accepted: ");
    let _ = std::io::stderr().flush();
    let answer = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        answer
    })
    .await
    .unwrap_or_default();
    answer.trim() == "yes"
}
