//! `eksform import`: the spec that adopts an estate another tool made, one
//! subcommand per tool.

use clap::{Args, Subcommand};

use super::{CliError, ExitStatus, GlobalArgs, import_eksctl};

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub from: ImportFrom,
}

#[derive(Debug, Subcommand)]
pub enum ImportFrom {
    /// A cluster eksctl made: its CloudFormation stacks and the EKS API.
    Eksctl(import_eksctl::EksctlArgs),
}

pub(super) async fn run(global: &GlobalArgs, args: ImportArgs) -> Result<ExitStatus, CliError> {
    match args.from {
        ImportFrom::Eksctl(args) => import_eksctl::run(global, args).await,
    }
}
