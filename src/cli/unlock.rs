//! `eksform unlock`: a stack's apply lock broken, after confirmation.

use std::io::IsTerminal;

use clap::Args;

use super::{CliError, ExitStatus, GlobalArgs, answered_yes};
use crate::ops::AccountState;

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// The stack's name (`stack:` in its spec).
    pub stack: String,
    /// The stack's region, whose state bucket holds the lock.
    #[arg(long)]
    pub region: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

pub(super) async fn run(global: &GlobalArgs, args: UnlockArgs) -> Result<ExitStatus, CliError> {
    let stack = &args.stack;
    let state = AccountState::open(&global.aws_access(), &args.region, None).await?;
    let Some(holder) = state.lock_holder(stack).await? else {
        println!("Stack {stack} is not locked.");
        return Ok(ExitStatus::Success);
    };
    eprintln!("Stack {stack} is locked by {}.", holder.describe());
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::UnlockNeedsConfirmation);
        }
        if !answered_yes("Break it? Only do so when that run is gone.").await {
            eprintln!("Cancelled; the lock stays.");
            return Ok(ExitStatus::Failure);
        }
    }
    state.unlock(stack).await?;
    println!("Unlocked stack {stack}.");
    Ok(ExitStatus::Success)
}
