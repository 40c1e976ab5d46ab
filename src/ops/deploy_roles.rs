//! `eksform bootstrap --github-repo`: the account's GitHub OIDC provider and
//! the stack's two deploy roles (`eksform_core::deploy_roles`), made or
//! brought up to date. Every read and every refusal comes first (`survey`),
//! so a refused run makes nothing; then the changes (`DeployRoles::make`),
//! each skipped when what is there is already right, so a second run changes
//! nothing and says so.

use std::collections::BTreeMap;

use eksform_aws::AwsClients;
use eksform_aws::iam::deploy_roles::{self as iam, Provider, Role};
use eksform_core::cancel::Cancellation;
use eksform_core::deploy_roles::{
    DeployRole, GITHUB_AUDIENCE, GithubTarget, PATH, PROVIDER_TAG, provider_arn,
};
use eksform_core::kinds::iam_role::canonical_policy;
use eksform_core::lower::{StackModel, partition};
use eksform_core::retry::{NotFound, RetryPolicy};

use super::{AccountState, OpsError};

/// What became of the account's GitHub OIDC provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderOutcome {
    /// Made by this run.
    Created,
    /// Made by an earlier bootstrap (it carries `PROVIDER_TAG`): kept.
    Kept,
    /// Made by something else: used as it is, never tagged, changed or
    /// deleted by eksform.
    Reused,
}

/// What became of one deploy role.
#[derive(Debug, Clone)]
pub struct RoleReport {
    pub role: DeployRole,
    pub name: String,
    pub arn: String,
    /// The token subject its trust policy admits.
    pub subject: String,
    pub created: bool,
    /// Its trust policy was another (a changed repository, branch or
    /// environment) and was replaced.
    pub trust_updated: bool,
    /// The managed policies it holds now.
    pub policies: Vec<String>,
    /// Of those, the ones this run attached.
    pub attached: Vec<String>,
    /// Earlier eksform policies of this role, detached and deleted (a newer
    /// eksform's policy replaced them).
    pub removed: Vec<String>,
    /// Earlier ones detached but left in place: IAM refused the delete
    /// (attached elsewhere too, or given other versions).
    pub left: Vec<String>,
}

impl RoleReport {
    pub fn changed(&self) -> bool {
        self.created
            || self.trust_updated
            || !self.attached.is_empty()
            || !self.removed.is_empty()
            || !self.left.is_empty()
    }
}

/// What `make` did.
#[derive(Debug, Clone)]
pub struct DeployRolesReport {
    pub provider_arn: String,
    pub provider: ProviderOutcome,
    pub roles: Vec<RoleReport>,
}

impl DeployRolesReport {
    pub fn changed(&self) -> bool {
        self.provider == ProviderOutcome::Created || self.roles.iter().any(RoleReport::changed)
    }
}

/// The deploy roles of a stack, read and checked: ready to `make`.
pub struct DeployRoles {
    clients: AwsClients,
    account: String,
    partition: &'static str,
    stack: String,
    region: String,
    user_tags: BTreeMap<String, String>,
    target: GithubTarget,
    provider_arn: String,
    provider: Option<Provider>,
    roles: Vec<(DeployRole, Option<Role>)>,
}

/// Reads the provider and both roles, and refuses, before anything is
/// made, a same-named role that is not this stack's deploy role, and a
/// provider made elsewhere that does not admit the STS audience.
pub async fn survey(
    state: &AccountState,
    model: &StackModel,
    target: GithubTarget,
) -> Result<DeployRoles, OpsError> {
    let clients = state.clients().clone();
    let retry = RetryPolicy::default();
    let partition = partition(&model.region);
    let provider_arn = provider_arn(partition, state.account());
    let provider = retry
        .run(|_| iam::provider(&clients, &provider_arn), |_, _| {})
        .await?;
    if let Some(provider) = &provider
        && !provider.client_ids.iter().any(|c| c == GITHUB_AUDIENCE)
    {
        return Err(OpsError::Refused(format!(
            "the account's GitHub OIDC provider {} does not admit the audience {GITHUB_AUDIENCE}, which aws-actions/configure-aws-credentials asks tokens for; eksform does not change a provider it did not make: add the audience with `aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {} --client-id {GITHUB_AUDIENCE}`, then run bootstrap again",
            provider.arn, provider.arn
        )));
    }
    let mut roles = Vec::new();
    for role in DeployRole::BOTH {
        let name = role.name(&model.stack, &model.region);
        let found = retry.run(|_| iam::role(&clients, &name), |_, _| {}).await?;
        if let Some(found) = &found
            && !role.is_marked(&found.tags, &model.stack, &model.region)
        {
            return Err(OpsError::Refused(format!(
                "an IAM role named `{name}` already exists ({}) and is not eksform's {} role of stack {} in {} (it lacks the mark eksform:stack={}, eksform:address={}, eksform:region={}); eksform does not change it: delete or rename it, then run bootstrap again",
                found.arn,
                role.word(),
                model.stack,
                model.region,
                model.stack,
                role.address(),
                model.region,
            )));
        }
        roles.push((role, found));
    }
    Ok(DeployRoles {
        clients,
        account: state.account().to_string(),
        partition,
        stack: model.stack.clone(),
        region: model.region.clone(),
        user_tags: model.tags.clone(),
        target,
        provider_arn,
        provider,
        roles,
    })
}

impl DeployRoles {
    /// Makes what is missing and corrects what differs: the provider, each
    /// role with its trust policy, and its managed policies.
    pub async fn make(self) -> Result<DeployRolesReport, OpsError> {
        let retry = RetryPolicy::default();
        let (provider_arn, provider) = match &self.provider {
            Some(found)
                if found.tags.get(PROVIDER_TAG.0).map(String::as_str) == Some(PROVIDER_TAG.1) =>
            {
                (found.arn.clone(), ProviderOutcome::Kept)
            }
            Some(found) => (found.arn.clone(), ProviderOutcome::Reused),
            None => {
                let tags =
                    BTreeMap::from([(PROVIDER_TAG.0.to_string(), PROVIDER_TAG.1.to_string())]);
                let arn = iam::create_provider(&self.clients, tags).await?;
                let arn = if arn.is_empty() {
                    self.provider_arn.clone()
                } else {
                    arn
                };
                (arn, ProviderOutcome::Created)
            }
        };
        let mut roles = Vec::new();
        for (role, found) in &self.roles {
            roles.push(
                self.make_role(*role, found.as_ref(), &provider_arn, retry)
                    .await?,
            );
        }
        Ok(DeployRolesReport {
            provider_arn,
            provider,
            roles,
        })
    }

    async fn make_role(
        &self,
        role: DeployRole,
        found: Option<&Role>,
        provider_arn: &str,
        retry: RetryPolicy,
    ) -> Result<RoleReport, OpsError> {
        let clients = &self.clients;
        let name = role.name(&self.stack, &self.region);
        let trust = role.trust_policy(provider_arn, &self.target).to_string();
        let tags = role.tags(&self.stack, &self.region, &self.user_tags);
        let (arn, created, trust_updated) = match found {
            None => {
                let description = format!(
                    "eksform {} role of stack {} in {}, for GitHub Actions (eksform bootstrap --github-repo)",
                    role.word(),
                    self.stack,
                    self.region
                );
                let arn =
                    iam::create_role(clients, &name, &trust, &description, tags.clone()).await?;
                (arn, true, false)
            }
            Some(found) => {
                let differs = found.trust != canonical_policy(&trust);
                if differs {
                    retry
                        .run(|_| iam::update_trust(clients, &name, &trust), |_, _| {})
                        .await?;
                }
                (found.arn.clone(), false, differs)
            }
        };
        // A role made moments ago has nothing attached (and IAM may not list it yet).
        let attached = if created {
            Vec::new()
        } else {
            retry
                .run(|_| iam::attached(clients, &name), |_, _| {})
                .await?
        };
        let wanted = role.managed_policies(&self.stack, &self.region);
        let mut report = RoleReport {
            role,
            name: name.clone(),
            arn,
            subject: self.target.subject(role),
            created,
            trust_updated,
            policies: wanted.iter().map(|p| p.name.clone()).collect(),
            attached: Vec::new(),
            removed: Vec::new(),
            left: Vec::new(),
        };
        // New policies first, old ones after: the role keeps working throughout.
        for policy in &wanted {
            if attached.iter().any(|a| a.name == policy.name) {
                continue;
            }
            let existing = format!(
                "arn:{}:iam::{}:policy{PATH}{}",
                self.partition, self.account, policy.name
            );
            let description = format!(
                "eksform {} role of stack {} in {}: `eksform iam-policy{}`, part {}",
                role.word(),
                self.stack,
                self.region,
                if role == DeployRole::Plan {
                    " --read-only"
                } else {
                    ""
                },
                report
                    .policies
                    .iter()
                    .position(|n| *n == policy.name)
                    .unwrap_or(0)
                    + 1,
            );
            let arn = retry
                .run(
                    |_| iam::create_policy(clients, policy, &description, tags.clone(), &existing),
                    |_, _| {},
                )
                .await?;
            // IAM may not know the role or policy made moments ago yet.
            retry
                .run_with(
                    |_| iam::attach(clients, &name, &arn),
                    |_, _| {},
                    NotFound::MayBeLag,
                    &Cancellation::default(),
                )
                .await?;
            report.attached.push(policy.name.clone());
        }
        let prefix = role.policy_prefix(&self.stack, &self.region);
        let stale = attached
            .iter()
            .filter(|a| a.name.starts_with(&prefix) && !report.policies.contains(&a.name));
        for old in stale {
            retry
                .run(|_| iam::detach(clients, &name, &old.arn), |_, _| {})
                .await?;
            if retry
                .run(|_| iam::delete_policy(clients, &old.arn), |_, _| {})
                .await?
            {
                report.removed.push(old.name.clone());
            } else {
                report.left.push(old.name.clone());
            }
        }
        Ok(report)
    }
}
