//! `eksform bootstrap --github-repo`: the IAM roles GitHub Actions assumes to
//! run eksform, one *plan* role (read-only, any ref and pull request of the
//! repository) and one *apply* role (`eksform iam-policy`, one branch or one
//! environment only), trusted through the account's GitHub OIDC provider.
//! What they are called, what they trust, how they are marked and the managed
//! policies they hold; pure (the calls are in `eksform-aws`'s
//! `iam::deploy_roles`, the steps in the CLI's `ops::deploy_roles`).
//!
//! The roles live under their own path (`PATH`), outside `/eksform/`, for two
//! reasons: the apply role's policy manages roles under `/eksform/` and must
//! not reach its own, and a stack's plan observes roles under `/eksform/`
//! and would delete these as unwanted. For the same reason the provider
//! never carries `eksform:stack`: a stack's plan reads every OIDC provider
//! and keeps the ones marked for it. It is the account's, shared by every
//! stack's roles, and marked only `PROVIDER_TAG` when eksform made it.

use std::collections::BTreeMap;

use crate::lower::fit_name;
use crate::model::{ADDRESS_TAG, Address, REGION_TAG, STACK_TAG};

/// GitHub's OIDC issuer, as IAM names its provider (no scheme).
pub const GITHUB_ISSUER: &str = "token.actions.githubusercontent.com";

/// The audience `aws-actions/configure-aws-credentials` asks tokens for.
pub const GITHUB_AUDIENCE: &str = "sts.amazonaws.com";

/// The IAM path of the deploy roles and their managed policies.
pub const PATH: &str = "/eksform-deploy/";

/// The tag a GitHub OIDC provider made by eksform carries (key, value).
pub const PROVIDER_TAG: (&str, &str) = ("eksform:bootstrap", "github-actions");

/// The branch the apply role trusts when none is given.
pub const DEFAULT_BRANCH: &str = "main";

/// A `--github-*` argument that GitHub would never send in a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GithubInputError {
    #[error(
        "--github-repo `{0}` is not a GitHub repository: give OWNER/REPO, the owner 1 to 39 letters, digits or single hyphens (not first or last), the name 1 to 100 letters, digits, '.', '-' or '_'"
    )]
    Repo(String),
    #[error(
        "--github-branch `{0}` is not a branch name: no spaces, '~', '^', ':', '?', '*', '[', '\\', '..', nor a leading '-' or '/'"
    )]
    Branch(String),
    #[error(
        "--github-environment `{0}` is not an environment name: 1 to 255 characters, no control characters or surrounding spaces"
    )]
    Environment(String),
}

/// What the apply role trusts besides the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyFrom {
    /// Workflow runs on this branch (`ref:refs/heads/<branch>`).
    Branch(String),
    /// Jobs that name this deployment environment (`environment:<name>`):
    /// GitHub then puts the environment, not the ref, in the token's subject.
    Environment(String),
}

/// The repository whose workflows may assume the roles, and what of it the
/// apply role trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubTarget {
    /// `OWNER/REPO` as GitHub spells it (the token's subject is case-sensitive).
    pub repo: String,
    pub apply_from: ApplyFrom,
}

impl GithubTarget {
    /// The target the flags ask for, checked: `--github-repo`, and
    /// `--github-branch` (default `main`) or `--github-environment`.
    pub fn new(
        repo: &str,
        branch: Option<&str>,
        environment: Option<&str>,
    ) -> Result<Self, GithubInputError> {
        if !is_repo(repo) {
            return Err(GithubInputError::Repo(repo.into()));
        }
        let apply_from = match (environment, branch) {
            (Some(environment), _) => {
                let fine = !environment.is_empty()
                    && environment.chars().count() <= 255
                    && environment.trim() == environment
                    && !environment.chars().any(char::is_control);
                if !fine {
                    return Err(GithubInputError::Environment(environment.into()));
                }
                ApplyFrom::Environment(environment.into())
            }
            (None, branch) => {
                let branch = branch.unwrap_or(DEFAULT_BRANCH);
                let name = branch.strip_prefix("refs/heads/").unwrap_or(branch);
                if !is_branch(name) {
                    return Err(GithubInputError::Branch(branch.into()));
                }
                ApplyFrom::Branch(name.into())
            }
        };
        Ok(Self {
            repo: repo.into(),
            apply_from,
        })
    }

    /// The token subjects a role trusts, as its trust policy's condition
    /// states them: the plan role any ref, pull request or environment of the
    /// repository (`StringLike`), the apply role exactly one (`StringEquals`).
    pub fn subject(&self, role: DeployRole) -> String {
        match (role, &self.apply_from) {
            (DeployRole::Plan, _) => format!("repo:{}:*", self.repo),
            (DeployRole::Apply, ApplyFrom::Branch(branch)) => {
                format!("repo:{}:ref:refs/heads/{branch}", self.repo)
            }
            (DeployRole::Apply, ApplyFrom::Environment(name)) => {
                format!("repo:{}:environment:{name}", self.repo)
            }
        }
    }
}

/// GitHub's rules for an owner (user or organization) and a repository name.
fn is_repo(text: &str) -> bool {
    let Some((owner, name)) = text.split_once('/') else {
        return false;
    };
    let owner_ok = (1..=39).contains(&owner.len())
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !owner.starts_with('-')
        && !owner.ends_with('-')
        && !owner.contains("--");
    let name_ok = (1..=100).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && name != "."
        && name != "..";
    owner_ok && name_ok
}

/// Git's rules for a branch name (`git check-ref-format --branch`), as far as
/// a token's subject can carry it.
fn is_branch(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && !name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
}

/// One of the two deploy roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeployRole {
    /// `plan`, `outputs`, `history`, `validate`: `eksform iam-policy --read-only`.
    Plan,
    /// `apply`, `destroy` and the rest: `eksform iam-policy`.
    Apply,
}

impl DeployRole {
    pub const BOTH: [DeployRole; 2] = [DeployRole::Plan, DeployRole::Apply];

    pub fn word(self) -> &'static str {
        match self {
            DeployRole::Plan => "plan",
            DeployRole::Apply => "apply",
        }
    }

    /// Its place in the mark (`eksform:address`).
    pub fn address(self) -> Address {
        Address::new(&["deploy_role", self.word()])
    }

    /// `eksform-<stack>-<region>-<plan|apply>`: one pair per stack and
    /// region, as the state bucket is per region; within IAM's 64 characters
    /// (a stack name of 24 and the longest region leave room; `fit_name`
    /// keeps it so whatever comes).
    pub fn name(self, stack: &str, region: &str) -> String {
        fit_name(&format!("eksform-{stack}-{region}-{}", self.word()), 64)
    }

    /// The role's trust policy: web identities of GitHub's provider, for the
    /// STS audience, with the subject `target` gives this role.
    pub fn trust_policy(self, provider_arn: &str, target: &GithubTarget) -> serde_json::Value {
        let subject = target.subject(self);
        let audience = serde_json::json!({ format!("{GITHUB_ISSUER}:aud"): GITHUB_AUDIENCE });
        let condition = match self {
            DeployRole::Plan => serde_json::json!({
                "StringEquals": audience,
                "StringLike": { format!("{GITHUB_ISSUER}:sub"): subject },
            }),
            DeployRole::Apply => {
                let mut equals = audience;
                equals[format!("{GITHUB_ISSUER}:sub")] = serde_json::json!(subject);
                serde_json::json!({ "StringEquals": equals })
            }
        };
        crate::model::sorted_json(serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "Federated": provider_arn },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }],
        }))
    }

    /// The policy the role holds, as `eksform iam-policy` prints it.
    pub fn policy(self) -> serde_json::Value {
        match self {
            DeployRole::Plan => crate::iam_policy::read_only_document(),
            DeployRole::Apply => crate::iam_policy::document(),
        }
    }

    /// The managed policies that hold `policy`: cut to IAM's size for one
    /// managed policy, each named `<role>-<n>-<hash of its document>`, so
    /// that a changed policy (a newer eksform) is a new name and an unchanged
    /// one is left as it is.
    pub fn managed_policies(self, stack: &str, region: &str) -> Vec<ManagedPolicy> {
        let parts =
            crate::iam_policy::split(&self.policy(), crate::iam_policy::MANAGED_POLICY_LIMIT)
                // Each statement of `GRANTS` is far under the limit (a unit test says so).
                .unwrap_or_default();
        parts
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let document = part.to_string();
                ManagedPolicy {
                    name: format!(
                        "{}-{}-{}",
                        self.name(stack, region),
                        i + 1,
                        crate::lower::short_hash(&document)
                    ),
                    document,
                }
            })
            .collect()
    }

    /// The start of the names of this role's managed policies: what the
    /// bootstrap may detach and delete (older ones), nothing else.
    pub fn policy_prefix(self, stack: &str, region: &str) -> String {
        format!("{}-", self.name(stack, region))
    }

    /// The mark: the stack's, this role's address and the region (IAM is
    /// global), with the spec's tags.
    pub fn tags(
        self,
        stack: &str,
        region: &str,
        user_tags: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut tags = user_tags.clone();
        tags.insert(STACK_TAG.into(), stack.into());
        tags.insert(ADDRESS_TAG.into(), self.address().0);
        tags.insert(REGION_TAG.into(), region.into());
        tags
    }

    /// Whether a role of this name carrying `tags` is this one: eksform's,
    /// of this stack, region and role.
    pub fn is_marked(self, tags: &BTreeMap<String, String>, stack: &str, region: &str) -> bool {
        tags.get(STACK_TAG).map(String::as_str) == Some(stack)
            && tags.get(ADDRESS_TAG) == Some(&self.address().0)
            && tags.get(REGION_TAG).map(String::as_str) == Some(region)
    }
}

/// A customer managed policy a deploy role holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicy {
    pub name: String,
    /// Compact JSON.
    pub document: String,
}

/// The ARN the account's GitHub OIDC provider has (IAM names providers by
/// their host).
pub fn provider_arn(partition: &str, account: &str) -> String {
    format!("arn:{partition}:iam::{account}:oidc-provider/{GITHUB_ISSUER}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(repo: &str) -> GithubTarget {
        GithubTarget::new(repo, None, None).unwrap()
    }

    #[test]
    fn repository_names_follow_githubs_rules() {
        let longest = format!("{}/{}", "o".repeat(39), "r".repeat(100));
        let (owner_too_long, name_too_long) = (
            format!("{}/r", "o".repeat(40)),
            format!("o/{}", "r".repeat(101)),
        );
        for good in [
            "octo/app",
            "Octo-Org/my.repo_2",
            "a/b",
            "x1/.github",
            longest.as_str(),
        ] {
            assert!(GithubTarget::new(good, None, None).is_ok(), "{good}");
        }
        for bad in [
            "",
            "octo",
            "octo/",
            "/app",
            "octo/app/extra",
            "-octo/app",
            "octo-/app",
            "oc--to/app",
            "oc_to/app",
            "octo/a b",
            "octo/app*",
            "octo/..",
            "octo/.",
            owner_too_long.as_str(),
            name_too_long.as_str(),
        ] {
            assert_eq!(
                GithubTarget::new(bad, None, None),
                Err(GithubInputError::Repo(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_apply_role_trusts_one_branch_or_one_environment() {
        let default = target("octo/app");
        assert_eq!(default.subject(DeployRole::Plan), "repo:octo/app:*");
        assert_eq!(
            default.subject(DeployRole::Apply),
            "repo:octo/app:ref:refs/heads/main"
        );
        let branch = GithubTarget::new("octo/app", Some("refs/heads/release/v2"), None).unwrap();
        assert_eq!(
            branch.subject(DeployRole::Apply),
            "repo:octo/app:ref:refs/heads/release/v2"
        );
        let environment = GithubTarget::new("octo/app", None, Some("production")).unwrap();
        assert_eq!(
            environment.subject(DeployRole::Apply),
            "repo:octo/app:environment:production"
        );
        assert_eq!(environment.subject(DeployRole::Plan), "repo:octo/app:*");
        for bad in ["", "a b", "x..y", "-x", "x:y", "x*", "x.lock", "x/"] {
            assert_eq!(
                GithubTarget::new("octo/app", Some(bad), None),
                Err(GithubInputError::Branch(bad.into())),
                "{bad}"
            );
        }
        let too_long = "e".repeat(256);
        for bad in ["", " prod", "prod\n", too_long.as_str()] {
            assert_eq!(
                GithubTarget::new("octo/app", None, Some(bad)),
                Err(GithubInputError::Environment(bad.into())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn trust_policies_state_the_audience_and_the_subject() {
        let provider = provider_arn("aws", "123456789012");
        let target = target("octo/app");
        let plan = DeployRole::Plan.trust_policy(&provider, &target);
        let statement = &plan["Statement"][0];
        assert_eq!(statement["Principal"]["Federated"], provider);
        assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
        assert_eq!(
            statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"],
            "sts.amazonaws.com"
        );
        assert_eq!(
            statement["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"],
            "repo:octo/app:*"
        );
        let apply = DeployRole::Apply.trust_policy(&provider, &target);
        let equals = &apply["Statement"][0]["Condition"]["StringEquals"];
        assert_eq!(
            equals["token.actions.githubusercontent.com:sub"],
            "repo:octo/app:ref:refs/heads/main"
        );
        assert_eq!(
            equals["token.actions.githubusercontent.com:aud"],
            "sts.amazonaws.com"
        );
        assert!(
            apply["Statement"][0]["Condition"]
                .get("StringLike")
                .is_none()
        );
    }

    #[test]
    fn names_fit_iam_and_keep_stack_region_and_role_apart() {
        let longest_stack = "a".repeat(24);
        for role in DeployRole::BOTH {
            let name = role.name(&longest_stack, "ap-southeast-3");
            assert!(name.len() <= 64, "{name}");
            assert!(name.ends_with(role.word()), "{name}");
            for policy in role.managed_policies(&longest_stack, "ap-southeast-3") {
                assert!(policy.name.len() <= 128, "{}", policy.name);
                assert!(
                    policy
                        .name
                        .starts_with(&role.policy_prefix(&longest_stack, "ap-southeast-3"))
                );
            }
        }
        assert_eq!(
            DeployRole::Plan.name("dev", "us-east-1"),
            "eksform-dev-us-east-1-plan"
        );
        assert_ne!(
            DeployRole::Plan.name("dev", "us-east-1"),
            DeployRole::Plan.name("dev", "us-west-2")
        );
    }

    #[test]
    fn managed_policies_hold_the_whole_policy_within_iams_size() {
        for role in DeployRole::BOTH {
            let policies = role.managed_policies("dev", "us-east-1");
            assert!(!policies.is_empty());
            let mut statements = Vec::new();
            for policy in &policies {
                assert!(
                    policy.document.len() <= crate::iam_policy::MANAGED_POLICY_LIMIT,
                    "{} has {} characters",
                    policy.name,
                    policy.document.len()
                );
                let document: serde_json::Value = serde_json::from_str(&policy.document).unwrap();
                assert_eq!(document["Version"], "2012-10-17");
                statements.extend(document["Statement"].as_array().unwrap().clone());
            }
            assert_eq!(
                serde_json::Value::Array(statements),
                role.policy()["Statement"],
                "the parts are the policy, in order"
            );
            // The same policy gives the same names: a second bootstrap changes nothing.
            assert_eq!(policies, role.managed_policies("dev", "us-east-1"));
        }
        // The full policy is over the limit and needs more than one.
        assert!(DeployRole::Apply.managed_policies("dev", "us-east-1").len() > 1);
    }

    #[test]
    fn the_mark_names_stack_role_and_region() {
        let tags = DeployRole::Apply.tags(
            "dev",
            "us-east-1",
            &BTreeMap::from([("team".to_string(), "platform".to_string())]),
        );
        assert_eq!(tags["team"], "platform");
        assert!(DeployRole::Apply.is_marked(&tags, "dev", "us-east-1"));
        assert!(!DeployRole::Plan.is_marked(&tags, "dev", "us-east-1"));
        assert!(!DeployRole::Apply.is_marked(&tags, "prd", "us-east-1"));
        assert!(!DeployRole::Apply.is_marked(&tags, "dev", "eu-west-1"));
        assert!(!DeployRole::Apply.is_marked(&BTreeMap::new(), "dev", "us-east-1"));
    }
}
