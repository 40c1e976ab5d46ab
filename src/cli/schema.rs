//! `eksform schema`: the JSON Schema of the spec, for editors.

use super::{CliError, ExitStatus};
use crate::ops;

pub(super) fn run() -> Result<ExitStatus, CliError> {
    println!(
        "{}",
        serde_json::to_string_pretty(&ops::spec_schema()).unwrap_or_default()
    );
    Ok(ExitStatus::Success)
}
