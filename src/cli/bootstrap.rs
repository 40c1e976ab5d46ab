//! `eksform bootstrap`: the state bucket of the spec's account and region;
//! with `--github-repo`, also the GitHub OIDC provider and the stack's deploy
//! roles for CI (`ops::deploy_roles`).

use std::path::PathBuf;

use clap::Args;
use eksform_core::deploy_roles::{DeployRole, GithubTarget};

use super::{CliError, ExitStatus, GlobalArgs};
use crate::ops::{self, AccountState, DeployRolesReport, ProviderOutcome, RoleReport};

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// A spec file: its account and region get the bucket.
    pub file: PathBuf,
    /// Also make the deploy roles GitHub Actions assumes for this stack: a
    /// plan role (read-only, any ref or pull request of OWNER/REPO) and an
    /// apply role (one branch or one environment), trusted through the
    /// account's GitHub OIDC provider (made when missing).
    #[arg(long, value_name = "OWNER/REPO")]
    pub github_repo: Option<String>,
    /// The branch whose workflow runs may assume the apply role (default: main).
    #[arg(
        long,
        value_name = "BRANCH",
        requires = "github_repo",
        conflicts_with = "github_environment"
    )]
    pub github_branch: Option<String>,
    /// Trust the apply role for jobs of this GitHub deployment environment
    /// instead of a branch.
    #[arg(long, value_name = "NAME", requires = "github_repo")]
    pub github_environment: Option<String>,
}

pub(super) async fn run(global: &GlobalArgs, args: BootstrapArgs) -> Result<ExitStatus, CliError> {
    // The flags are checked before the spec and before any AWS call.
    let github = match &args.github_repo {
        Some(repo) => Some(
            GithubTarget::new(
                repo,
                args.github_branch.as_deref(),
                args.github_environment.as_deref(),
            )
            .map_err(ops::OpsError::from)?,
        ),
        None => None,
    };
    let stack = ops::prepare(&args.file)?;
    let region = &stack.model.region;
    let state =
        AccountState::open(&global.aws_access(), region, stack.model.account.as_deref()).await?;
    // Every refusal (a same-named role that is not eksform's) before anything is made.
    let deploy_roles = match github {
        Some(target) => Some(ops::survey_deploy_roles(&state, &stack.model, target).await?),
        None => None,
    };
    state.bootstrap().await?;
    println!(
        "State bucket {} is ready: applies of stacks in {region} are locked and recorded.",
        state.bucket_name()
    );
    if let Some(deploy_roles) = deploy_roles {
        let report = deploy_roles.make().await?;
        print!("{}", render(&report, region));
    }
    Ok(ExitStatus::Success)
}

/// What was made, kept or changed, then the lines a workflow uses.
fn render(report: &DeployRolesReport, region: &str) -> String {
    let mut text = String::new();
    let provider = match report.provider {
        ProviderOutcome::Created => "created",
        ProviderOutcome::Kept => "unchanged (made by an earlier bootstrap)",
        ProviderOutcome::Reused => {
            "reused: another tool made it; eksform uses it as it is, and never tags, changes or deletes it"
        }
    };
    text.push_str(&format!(
        "GitHub OIDC provider {}: {provider}.\n",
        report.provider_arn
    ));
    for role in &report.roles {
        text.push_str(&role_line(role));
    }
    if !report.changed() {
        text.push_str(
            "Nothing changed: the provider and both deploy roles were already as asked.\n",
        );
    }
    text.push_str(
        "\nIn the workflow (aws-actions/configure-aws-credentials with `permissions: id-token: write`):\n",
    );
    for role in &report.roles {
        text.push_str(&format!(
            "  # {} jobs\n  role-to-assume: {}\n  aws-region: {region}\n",
            role.role.word(),
            role.arn
        ));
    }
    text
}

fn role_line(role: &RoleReport) -> String {
    let mut what = Vec::new();
    if role.created {
        what.push("created".to_string());
    }
    if role.trust_updated {
        what.push(
            "trust policy updated (it admitted another repository, branch or environment)".into(),
        );
    }
    if !role.created && !role.attached.is_empty() {
        what.push(format!("attached {}", role.attached.join(", ")));
    }
    if !role.removed.is_empty() {
        what.push(format!("replaced and deleted {}", role.removed.join(", ")));
    }
    if !role.left.is_empty() {
        what.push(format!(
            "detached {} (IAM refused to delete it: attached elsewhere or given other versions)",
            role.left.join(", ")
        ));
    }
    if what.is_empty() {
        what.push("unchanged".into());
    }
    let policy = match role.role {
        DeployRole::Plan => "eksform iam-policy --read-only",
        DeployRole::Apply => "eksform iam-policy",
    };
    format!(
        "{} role {}: {}; trusts {}; holds `{policy}` in {} managed polic{}.\n",
        capitalized(role.role.word()),
        role.name,
        what.join("; "),
        role.subject,
        role.policies.len(),
        if role.policies.len() == 1 { "y" } else { "ies" }
    )
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}
