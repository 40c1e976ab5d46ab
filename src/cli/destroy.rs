//! `eksform destroy`: everything that carries the stack's mark deleted,
//! through the same run as `apply`.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, ExitStatus, GlobalArgs, apply};
use crate::ops::{self, Approval, Goal};

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// The spec file of the stack to destroy.
    pub file: PathBuf,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// At most this many AWS calls at once to each AWS service (fewer
    /// while it throttles).
    #[arg(long, default_value_t = 8)]
    pub parallelism: usize,
    /// Wait up to this many seconds for another apply of the stack to finish.
    #[arg(long, default_value_t = 0)]
    pub lock_timeout: u64,
    /// Destroy even while a live stack of the same directory refers to this
    /// one's outputs (its endpoint would admit addresses that are released).
    #[arg(long)]
    pub force: bool,
}

pub(super) async fn run(global: &GlobalArgs, args: DestroyArgs) -> Result<ExitStatus, CliError> {
    if !args.force {
        let referrers = ops::live_referrers(&args.file, &global.aws_access()).await?;
        for file in &referrers.unreadable {
            eprintln!(
                "note: {} cannot be read, so whether it refers to this stack is not known",
                file.display()
            );
        }
        if !referrers.live.is_empty() {
            return Err(CliError::ReferredTo {
                file: args.file.clone(),
                referrers: referrers.live,
            });
        }
    }
    apply::run_goal(
        global,
        &args.file,
        Goal::Destroy,
        Approval::destroy(args.auto_approve),
        args.parallelism,
        args.lock_timeout,
    )
    .await
}
