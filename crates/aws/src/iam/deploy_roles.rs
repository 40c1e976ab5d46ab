//! The IAM calls of `eksform bootstrap --github-repo` (see
//! `eksform_core::deploy_roles`): the account's GitHub OIDC provider, the
//! deploy roles and their managed policies. Not an adapter: no stack
//! observes, changes or deletes these; the bootstrap reads each one by its
//! name and says what it found.

use std::collections::BTreeMap;

use eksform_core::cloud::CloudError;
use eksform_core::deploy_roles::{GITHUB_AUDIENCE, GITHUB_ISSUER, ManagedPolicy, PATH};
use eksform_core::kinds::iam_role::{canonical_policy, url_decode};

use super::iam_role::{attached_policies, get_role};
use super::oidc_provider::{get_provider, iam_tags};
use crate::sdk_tags::tag_map;
use crate::{AwsClients, error};

/// The account's GitHub OIDC provider as read.
#[derive(Debug, Clone)]
pub struct Provider {
    pub arn: String,
    pub client_ids: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// The provider at `arn`, if there is one.
pub async fn provider(aws: &AwsClients, arn: &str) -> Result<Option<Provider>, CloudError> {
    Ok(get_provider(aws, arn).await?.map(|out| Provider {
        arn: arn.into(),
        client_ids: out.client_id_list().to_vec(),
        tags: tag_map(out.tags()),
    }))
}

/// Makes GitHub's provider for the STS audience, with `tags`; its ARN. No
/// thumbprint: IAM trusts GitHub's certificate through its own store.
pub async fn create_provider(
    aws: &AwsClients,
    tags: BTreeMap<String, String>,
) -> Result<String, CloudError> {
    let out = aws
        .iam
        .create_open_id_connect_provider()
        .url(format!("https://{GITHUB_ISSUER}"))
        .client_id_list(GITHUB_AUDIENCE)
        .set_tags(Some(iam_tags(tags)))
        .send()
        .await
        .map_err(|e| error("CreateOpenIDConnectProvider", e))?;
    Ok(out
        .open_id_connect_provider_arn()
        .unwrap_or_default()
        .to_string())
}

/// A role as read: its ARN, trust policy (canonical) and tags.
#[derive(Debug, Clone)]
pub struct Role {
    pub arn: String,
    pub trust: Option<serde_json::Value>,
    pub tags: BTreeMap<String, String>,
}

/// The role named `name`, if there is one.
pub async fn role(aws: &AwsClients, name: &str) -> Result<Option<Role>, CloudError> {
    let Some(role) = get_role(aws, name).await? else {
        return Ok(None);
    };
    let tags = aws
        .iam
        .list_role_tags()
        .role_name(name)
        .send()
        .await
        .map_err(|e| error("ListRoleTags", e))?;
    Ok(Some(Role {
        arn: role.arn().to_string(),
        trust: role
            .assume_role_policy_document()
            .and_then(|document| canonical_policy(&url_decode(document))),
        tags: tag_map(tags.tags()),
    }))
}

/// Makes a role under the deploy path, marked in the create call; its ARN.
pub async fn create_role(
    aws: &AwsClients,
    name: &str,
    trust: &str,
    description: &str,
    tags: BTreeMap<String, String>,
) -> Result<String, CloudError> {
    let out = aws
        .iam
        .create_role()
        .role_name(name)
        .path(PATH)
        .assume_role_policy_document(trust)
        .description(description)
        .set_tags(Some(iam_tags(tags)))
        .send()
        .await
        .map_err(|e| error("CreateRole", e))?;
    Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default())
}

pub async fn update_trust(aws: &AwsClients, name: &str, trust: &str) -> Result<(), CloudError> {
    aws.iam
        .update_assume_role_policy()
        .role_name(name)
        .policy_document(trust)
        .send()
        .await
        .map_err(|e| error("UpdateAssumeRolePolicy", e))?;
    Ok(())
}

/// A managed policy attached to a role: its name and ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    pub name: String,
    pub arn: String,
}

/// The managed policies under the deploy path attached to the role (the
/// ones a user attached from elsewhere are not listed, so never touched).
pub async fn attached(aws: &AwsClients, role: &str) -> Result<Vec<Attached>, CloudError> {
    Ok(attached_policies(aws, role, Some(PATH))
        .await?
        .iter()
        .filter_map(|p| {
            Some(Attached {
                name: p.policy_name()?.to_string(),
                arn: p.policy_arn()?.to_string(),
            })
        })
        .collect())
}

/// Makes the managed policy under the deploy path, marked; its ARN. A
/// policy of that name already there (an earlier run stopped before
/// attaching it) has the same document, since its name carries the
/// document's hash: it is `existing`, used as it is.
pub async fn create_policy(
    aws: &AwsClients,
    policy: &ManagedPolicy,
    description: &str,
    tags: BTreeMap<String, String>,
    existing: &str,
) -> Result<String, CloudError> {
    match aws
        .iam
        .create_policy()
        .policy_name(&policy.name)
        .path(PATH)
        .policy_document(&policy.document)
        .description(description)
        .set_tags(Some(iam_tags(tags)))
        .send()
        .await
    {
        Ok(out) => Ok(out
            .policy()
            .and_then(|p| p.arn())
            .unwrap_or(existing)
            .to_string()),
        Err(e) => {
            let e = error("CreatePolicy", e);
            if e.code.as_deref() == Some("EntityAlreadyExists") {
                Ok(existing.to_string())
            } else {
                Err(e)
            }
        }
    }
}

pub async fn attach(aws: &AwsClients, role: &str, arn: &str) -> Result<(), CloudError> {
    aws.iam
        .attach_role_policy()
        .role_name(role)
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| error("AttachRolePolicy", e))?;
    Ok(())
}

pub async fn detach(aws: &AwsClients, role: &str, arn: &str) -> Result<(), CloudError> {
    if let Err(e) = aws
        .iam
        .detach_role_policy()
        .role_name(role)
        .policy_arn(arn)
        .send()
        .await
    {
        crate::not_found_is_done(error("DetachRolePolicy", e))?;
    }
    Ok(())
}

/// Deletes a managed policy; `false` when IAM refuses because it is still
/// attached elsewhere or has other versions (someone else uses or changed it).
pub async fn delete_policy(aws: &AwsClients, arn: &str) -> Result<bool, CloudError> {
    match aws.iam.delete_policy().policy_arn(arn).send().await {
        Ok(_) => Ok(true),
        Err(e) => {
            let e = error("DeletePolicy", e);
            if e.code.as_deref() == Some("DeleteConflict") {
                Ok(false)
            } else {
                crate::not_found_is_done(e).map(|()| true)
            }
        }
    }
}
