//! `eksform import eksctl`: writes the spec that adopts a cluster eksctl
//! made (its CloudFormation stacks and the EKS API read through
//! `ops::import_eksctl`), and with `--release-stacks`, once that spec is
//! applied, lets CloudFormation go of the stacks without deleting anything
//! they made. The release asks for `yes` as `apply` does, and without a
//! terminal needs `--auto-approve`.

use std::io::IsTerminal;

use super::import::EksctlArgs;
use super::{CliError, ExitStatus, GlobalArgs, answered_yes};
use crate::ops::{self, OpsError};

pub(super) async fn run(global: &GlobalArgs, args: EksctlArgs) -> Result<ExitStatus, CliError> {
    // An edited spec is never replaced by mistake: refused before any call.
    if let Some(path) = &args.out
        && path.exists()
        && !args.force
    {
        return Err(OpsError::Refused(format!(
            "refusing to overwrite {}: pass --force to replace it",
            path.display()
        ))
        .into());
    }
    let clients = global.aws_access().clients(&args.region).await;
    if args.release_stacks {
        return release(&clients, &args).await;
    }
    let mut import = ops::import_eksctl(&clients, &args.cluster, &args.region).await?;
    if let Some(stack) = &args.stack {
        import.draft.stack = stack.clone();
    }
    let spec = eksform_core::import::write_spec(&import.draft).map_err(|e| {
        OpsError::Refused(format!(
            "cannot write the spec: {e}{}",
            if args.stack.is_none() {
                " (give the stack's name with --stack)"
            } else {
                ""
            }
        ))
    })?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, &spec)
                .map_err(|e| OpsError::Refused(format!("cannot write {}: {e}", path.display())))?;
            eprintln!(
                "Wrote {} with {} resources to adopt from {}.",
                path.display(),
                import.draft.resources.len(),
                import.stacks.join(", ")
            );
        }
        None => print!("{spec}"),
    }
    if !import.draft.unmapped.is_empty() {
        eprintln!(
            "\nNot mapped: eksform does not manage these; they stay with CloudFormation until `--release-stacks`, and with no tool after it:"
        );
        for unmapped in &import.draft.unmapped {
            eprintln!(
                "  {} ({}): {}",
                unmapped.source, unmapped.resource_type, unmapped.reason
            );
        }
    }
    eprintln!(
        "\nNext: `eksform plan` the spec (only `<= adopt`, nothing created, replaced or deleted), `eksform apply` it, then `eksform import eksctl --cluster {} --region {} --release-stacks`.",
        args.cluster, args.region
    );
    Ok(ExitStatus::Success)
}

async fn release(
    clients: &eksform_aws::AwsClients,
    args: &EksctlArgs,
) -> Result<ExitStatus, CliError> {
    let release = ops::stacks_to_release(clients, &args.cluster, &args.region).await?;
    eprintln!("These CloudFormation stacks will be deleted, every resource in them retained:");
    for stack in &release.stacks {
        eprintln!("  {stack}");
    }
    if !release.unmanaged.is_empty() {
        eprintln!("What eksform does not model stays in AWS, managed by no tool afterwards:");
        for unmapped in &release.unmanaged {
            eprintln!("  {} ({})", unmapped.source, unmapped.resource_type);
        }
    }
    if !args.auto_approve {
        if !std::io::stdin().is_terminal() {
            return Err(OpsError::Refused(
                "refusing to release the stacks without confirmation: there is no terminal to ask; pass --auto-approve".into(),
            )
            .into());
        }
        if !answered_yes("Release these stacks?").await {
            eprintln!("Release cancelled.");
            return Ok(ExitStatus::Failure);
        }
    }
    ops::release_stacks(clients, &release, Default::default()).await?;
    eprintln!(
        "Released {} stacks; every resource they made is still in AWS.",
        release.stacks.len()
    );
    Ok(ExitStatus::Success)
}
