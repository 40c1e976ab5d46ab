//! `eksform outputs`: the stack's outputs, read from live resources.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, ExitStatus, GlobalArgs};
use crate::ops;

#[derive(Debug, Args)]
pub struct OutputsArgs {
    /// The spec file of the stack.
    pub file: PathBuf,
    /// Print the outputs as a JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub(super) async fn run(global: &GlobalArgs, args: OutputsArgs) -> Result<ExitStatus, CliError> {
    let stack = ops::prepare(&args.file)?;
    let outputs = ops::stack_outputs(&global.aws_access(), &stack).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&outputs).unwrap_or_default()
        );
    } else {
        for (name, value) in outputs.as_map() {
            println!("{name} = {value}");
        }
    }
    Ok(ExitStatus::Success)
}
