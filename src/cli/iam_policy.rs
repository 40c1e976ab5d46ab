//! `eksform iam-policy`: the least-privilege IAM policy eksform itself needs.

use super::{CliError, ExitStatus};
use crate::ops;

pub(super) fn run() -> Result<ExitStatus, CliError> {
    println!(
        "{}",
        serde_json::to_string_pretty(&ops::iam_policy()).unwrap_or_default()
    );
    Ok(ExitStatus::Success)
}
