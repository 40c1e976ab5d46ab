//! `eksform kubeconfig`: merges the stack's live cluster into a kubeconfig
//! file, with `eksform token` as the user's credential, and makes it the
//! current context.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, ExitStatus, GlobalArgs};
use crate::ops::{self, OpsError};

#[derive(Debug, Args)]
pub struct KubeconfigArgs {
    /// The spec file of the stack whose cluster to add.
    pub file: PathBuf,
    /// The kubeconfig to write (default: the first path of KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The context's name (default: the cluster's ARN).
    #[arg(long, value_name = "NAME")]
    pub alias: Option<String>,
}

pub(super) async fn run(global: &GlobalArgs, args: KubeconfigArgs) -> Result<ExitStatus, CliError> {
    let path = args
        .kubeconfig
        .or_else(|| {
            ops::default_kubeconfig_path(
                std::env::var_os("KUBECONFIG").as_deref(),
                std::env::home_dir().as_deref(),
            )
        })
        .ok_or(OpsError::NoKubeconfigPath)?;
    let stack = ops::prepare(&args.file)?;
    let written =
        ops::write_kubeconfig(&global.aws_access(), &stack, &path, args.alias.as_deref()).await?;
    println!(
        "Cluster {} (stack {}) written to {}; the current context is now {}.",
        written.cluster.name,
        stack.model.stack,
        written.path.display(),
        written.context
    );
    Ok(ExitStatus::Success)
}
