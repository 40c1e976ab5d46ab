//! `eksform bootstrap`: the state bucket of the spec's account and region.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, ExitStatus, GlobalArgs};
use crate::ops::{self, AccountState};

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// A spec file: its account and region get the bucket.
    pub file: PathBuf,
}

pub(super) async fn run(global: &GlobalArgs, args: BootstrapArgs) -> Result<ExitStatus, CliError> {
    let stack = ops::prepare(&args.file)?;
    let region = &stack.model.region;
    let state =
        AccountState::open(&global.aws_access(), region, stack.model.account.as_deref()).await?;
    state.bootstrap().await?;
    println!(
        "State bucket {} is ready: applies of stacks in {region} are locked and recorded.",
        state.bucket_name()
    );
    Ok(ExitStatus::Success)
}
