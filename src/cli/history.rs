//! `eksform history`: the recorded applies and destroys of a stack.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, ExitStatus, GlobalArgs};
use crate::ops::{self, AccountState};
use crate::render;
use eksform_aws::when;

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The spec file of the stack.
    pub file: PathBuf,
    /// Print the records as JSON on stdout (times in seconds since the Unix epoch).
    #[arg(long)]
    pub json: bool,
}

pub(super) async fn run(global: &GlobalArgs, args: HistoryArgs) -> Result<ExitStatus, CliError> {
    let stack = ops::prepare(&args.file)?;
    let state = AccountState::open(
        &global.aws_access(),
        &stack.model.region,
        stack.model.account.as_deref(),
    )
    .await?;
    let entries = state.history(&stack.model.stack).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).unwrap_or_default()
        );
        return Ok(ExitStatus::Success);
    }
    if entries.is_empty() {
        println!("No applies of stack {} are recorded.", stack.model.stack);
    }
    let now = when::now();
    for entry in &entries {
        println!(
            "{}  {:<8} {:<11} {}  by {} on {}",
            when::local_with_age(entry.finished, now),
            entry.who.command,
            entry.result,
            render::human::summary_line(&entry.summary),
            entry.who.caller,
            entry.who.host
        );
    }
    Ok(ExitStatus::Success)
}
