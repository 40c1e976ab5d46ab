//! `eksform import`: an estate made by other tools written as an eksform
//! spec whose `adopt:` entries take every resource over. `terraform` reads a
//! state file (no AWS call); `eksctl` reads eksctl's CloudFormation stacks
//! (`import_eksctl`).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{CliError, ExitStatus, GlobalArgs, print_diagnostics};
use crate::ops;
use eksform_core::diagnostics::{Diagnostic, Diagnostics};

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
}

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// Read a Terraform state (format 4, as `terraform state pull` prints it)
    /// and write the spec adopting what it holds, with `removed.tf` beside
    /// it; no AWS calls.
    Terraform(TerraformArgs),
    /// Read eksctl's CloudFormation stacks of a cluster and write the spec
    /// adopting what they made; --release-stacks then lets CloudFormation go.
    Eksctl(EksctlArgs),
}

#[derive(Debug, Args)]
pub struct TerraformArgs {
    /// The state file: `terraform state pull > state.json`.
    #[arg(long, value_name = "STATE.json")]
    pub state: PathBuf,
    /// The stack name the spec gets ([a-z][a-z0-9-]{0,23}).
    #[arg(long, value_name = "NAME")]
    pub stack: String,
    /// Write the spec to this file and `removed.tf` beside it (default: the
    /// spec on stdout, no removed.tf).
    #[arg(long, value_name = "SPEC")]
    pub out: Option<PathBuf>,
    /// Overwrite SPEC and removed.tf when they exist (refused otherwise).
    #[arg(long, requires = "out")]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct EksctlArgs {
    /// The cluster's name, as eksctl named its stacks (`eksctl-<cluster>-cluster`).
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// The region of the cluster and its stacks.
    #[arg(long, value_name = "REGION")]
    pub region: String,
    /// The stack name the spec gets (default: the cluster's name).
    #[arg(long, value_name = "NAME", conflicts_with = "release_stacks")]
    pub stack: Option<String>,
    /// Write the spec to this file (default: stdout).
    #[arg(long, value_name = "SPEC", conflicts_with = "release_stacks")]
    pub out: Option<PathBuf>,
    /// With --out: overwrite SPEC when it exists (without it, an existing
    /// file is refused before anything is read).
    #[arg(long, requires = "out")]
    pub force: bool,
    /// After the adoption is applied: retain every resource of the stacks and
    /// delete the stacks, so that CloudFormation lets go and nothing in AWS is
    /// deleted; refused while a resource is not adopted yet.
    #[arg(long)]
    pub release_stacks: bool,
    /// With --release-stacks: do not ask (needed without a terminal).
    #[arg(long, requires = "release_stacks")]
    pub auto_approve: bool,
}

pub(super) async fn run(global: &GlobalArgs, args: ImportArgs) -> Result<ExitStatus, CliError> {
    match args.source {
        ImportSource::Terraform(args) => terraform(args),
        ImportSource::Eksctl(args) => super::import_eksctl::run(global, args).await,
    }
}

fn terraform(args: TerraformArgs) -> Result<ExitStatus, CliError> {
    let imported = ops::import_terraform(&args.state, &args.stack)?;
    let mut warnings = Diagnostics::new();
    for unmapped in &imported.unmapped {
        warnings.push(
            Diagnostic::warning(format!(
                "not imported: {} ({})",
                unmapped.source, unmapped.resource_type
            ))
            .with_help(unmapped.reason.clone()),
        );
    }
    if let Some(problems) = &imported.problems {
        for problem in problems.errors() {
            warnings.push(
                Diagnostic::warning(format!("the spec needs editing: {}", problem.message))
                    .with_help("the state holds only part of what the spec needs; complete it by hand, then `eksform validate`"),
            );
        }
    }
    match &args.out {
        Some(out) => {
            let written = ops::write_import(&imported, out, args.force)?;
            print_diagnostics(&warnings);
            for path in &written {
                eprintln!("wrote {}", path.display());
            }
        }
        None => {
            print!("{}", imported.spec);
            print_diagnostics(&warnings);
        }
    }
    eprintln!(
        "{} resource{} to adopt. Review the spec, run `eksform plan` (only `<= adopt`) and `eksform apply`; then make Terraform forget them{}:",
        imported.adopted,
        if imported.adopted == 1 { "" } else { "s" },
        if args.out.is_some() {
            " with the removed blocks of removed.tf (Terraform 1.7+), or"
        } else {
            ""
        }
    );
    for command in &imported.state_rm {
        eprintln!("  {command}");
    }
    Ok(ExitStatus::Success)
}
