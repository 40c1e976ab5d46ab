//! `eksform token`: prints the ExecCredential kubectl's exec plugin reads,
//! holding a token for an EKS cluster (what `eksform kubeconfig` wires in).

use clap::Args;

use super::{CliError, ExitStatus, GlobalArgs};
use crate::ops;

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The EKS cluster's name (the token is signed for it alone).
    #[arg(long)]
    pub cluster: String,
    /// The cluster's AWS region.
    #[arg(long)]
    pub region: String,
    /// Assume this IAM role first (STS AssumeRole) and sign with its credentials.
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
}

pub(super) async fn run(global: &GlobalArgs, args: TokenArgs) -> Result<ExitStatus, CliError> {
    let token = ops::token(
        &global.aws_access(),
        &args.cluster,
        &args.region,
        args.role_arn.as_deref(),
    )
    .await?;
    println!(
        "{}",
        serde_json::to_string(&token.exec_credential()).unwrap_or_default()
    );
    Ok(ExitStatus::Success)
}
