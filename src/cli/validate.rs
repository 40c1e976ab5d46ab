//! `eksform validate`: specs checked offline, every problem of every file.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, ExitStatus, print_diagnostics};
use crate::ops;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Spec files, or directories of them (a base that others extend is not
    /// a stack and is checked through them).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub(super) fn run(args: ValidateArgs) -> Result<ExitStatus, CliError> {
    let mut failed = false;
    for file in &ops::stack_files(&args.files)? {
        match ops::validate(file) {
            Ok(warnings) => {
                print_diagnostics(&warnings);
                eprintln!("{}: valid", file.display());
            }
            Err(problems) => {
                print_diagnostics(&problems);
                failed = true;
            }
        }
    }
    // Each file's problems are out already; the exit code says the rest.
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}
