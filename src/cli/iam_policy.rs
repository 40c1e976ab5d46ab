//! `eksform iam-policy`: the least-privilege IAM policy eksform itself needs;
//! `--read-only`: the one of the commands that only read.

use clap::Args;

use super::{CliError, ExitStatus};
use crate::ops;

#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// Only what `plan`, `outputs`, `history` and `validate` need: every
    /// read of the full policy, nothing that writes (for a CI plan job).
    #[arg(long)]
    pub read_only: bool,
}

pub(super) fn run(args: IamPolicyArgs) -> Result<ExitStatus, CliError> {
    let document = if args.read_only {
        ops::read_only_iam_policy()
    } else {
        ops::iam_policy()
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&document).unwrap_or_default()
    );
    Ok(ExitStatus::Success)
}
