//! AWS calls for IAM roles eksform needs: today the cluster role; node, Fargate and IRSA
//! roles come with their resources. Roles live under the path
//! `/eksform/<stack>/`, so one list call finds a stack's roles.

use async_trait::async_trait;

use crate::sdk_tags::tag_map;
use crate::{Adapter, AwsClients, Finding, deleted, error, found, last_part, not_found_is_done};
use aws_sdk_iam::types::EntityType;
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::iam_role::{
    IamRole, RoleRead, canonical_policy, foreign_role, path_without_region, role_path,
    trust_document,
};
use eksform_core::model::{
    Address, Attributes, DesiredResource, LiveResource, STACK_TAG, Status, Value, string_list,
    string_map,
};
use std::collections::BTreeMap;

/// Puts and deletes inline policies so that exactly `wanted` are on the role.
async fn sync_inline(
    aws: &AwsClients,
    role: &str,
    current: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    for (name, document) in wanted {
        let same =
            current.get(name).and_then(|c| canonical_policy(c)) == canonical_policy(document);
        if !same {
            aws.iam
                .put_role_policy()
                .role_name(role)
                .policy_name(name)
                .policy_document(document)
                .send()
                .await
                .map_err(|e| error("PutRolePolicy", e))?;
        }
    }
    for name in current.keys().filter(|n| !wanted.contains_key(*n)) {
        if let Err(e) = aws
            .iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
        {
            not_found_is_done(error("DeleteRolePolicy", e))?;
        }
    }
    Ok(())
}

/// The role of that name, if any.
pub(crate) async fn get_role(
    aws: &AwsClients,
    name: &str,
) -> Result<Option<aws_sdk_iam::types::Role>, CloudError> {
    let described = found("GetRole", aws.iam.get_role().role_name(name).send().await)?;
    Ok(described.and_then(|out| out.role().cloned()))
}

/// The `tags` attribute as IAM takes them.
fn iam_tags(attributes: &Attributes) -> Vec<aws_sdk_iam::types::Tag> {
    super::oidc_provider::iam_tags(eksform_core::kinds::tags::tags_of(attributes))
}

async fn attached(aws: &AwsClients, role: &str) -> Result<Vec<String>, CloudError> {
    Ok(attached_policies(aws, role, None)
        .await?
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect())
}

/// The managed policies attached to `role`, every page; only those under
/// `path_prefix` when one is given.
pub(crate) async fn attached_policies(
    aws: &AwsClients,
    role: &str,
    path_prefix: Option<&str>,
) -> Result<Vec<aws_sdk_iam::types::AttachedPolicy>, CloudError> {
    aws.iam
        .list_attached_role_policies()
        .role_name(role)
        .set_path_prefix(path_prefix.map(str::to_string))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| error("ListAttachedRolePolicies", e))
}

/// Attaches and detaches managed policies so that exactly `wanted` are attached.
async fn sync_policies(
    aws: &AwsClients,
    role: &str,
    current: &[String],
    wanted: &[String],
) -> Result<(), CloudError> {
    for arn in wanted.iter().filter(|a| !current.contains(a)) {
        aws.iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| error("AttachRolePolicy", e))?;
    }
    for arn in current.iter().filter(|a| !wanted.contains(a)) {
        if let Err(e) = aws
            .iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
        {
            not_found_is_done(error("DetachRolePolicy", e))?;
        }
    }
    Ok(())
}

/// The role if it is the one `address` of `stack` wants here:
/// it carries that mark, region included. IAM's lists lag behind its
/// creates, so a role an interrupted apply made may be missing from
/// observation while GetRole already sees it.
async fn own_role(
    kind: &IamRole,
    aws: &AwsClients,
    role: &aws_sdk_iam::types::Role,
    stack: &str,
    address: &Address,
    wanted: &Attributes,
) -> Result<Option<LiveResource>, CloudError> {
    let Some(live) = describe(kind, aws, Finding::Stack(stack), role).await? else {
        return Ok(None);
    };
    let region = |attributes: &Attributes| {
        eksform_core::kinds::tags::tags_of(attributes)
            .get(eksform_core::model::REGION_TAG)
            .cloned()
    };
    Ok((live.address == *address && region(&live.attributes) == region(wanted)).then_some(live))
}

/// After CreateRole answered EntityAlreadyExists: a role carrying this
/// create's own mark was made by an attempt whose answer was lost; it is
/// brought to what the request asks. Anything else holding the name is an
/// error.
async fn finish_lost_create(
    kind: &IamRole,
    aws: &AwsClients,
    request: &CreateRequest,
    clash: CloudError,
) -> Result<LiveResource, CloudError> {
    let name = eksform_core::kinds::tags::required(&request.attributes, "name")?;
    let Some(role) = get_role(aws, name).await? else {
        return Err(clash);
    };
    let Some(live) = own_role(
        kind,
        aws,
        &role,
        &request.stack,
        &request.address,
        &request.attributes,
    )
    .await?
    else {
        return Err(foreign_role(name, clash));
    };
    kind.update(aws, &live, &request.attributes).await?;
    let mut finished = request.created(kind.name(), name.to_string(), Status::Ready);
    if let Some(arn) = live.attributes.get("arn") {
        finished.attributes.insert("arn".into(), arn.clone());
    }
    Ok(finished)
}

/// One role read call by call (after a change, where a batch read of the
/// whole account would cost more than it saves), as `finding` wants it.
async fn describe(
    kind: &IamRole,
    aws: &AwsClients,
    finding: Finding<'_>,
    role: &aws_sdk_iam::types::Role,
) -> Result<Option<LiveResource>, CloudError> {
    let name = role.role_name();
    let tags = aws
        .iam
        .list_role_tags()
        .role_name(name)
        .send()
        .await
        .map_err(|e| error("ListRoleTags", e))?;
    let tags = tag_map(tags.tags());
    if let Finding::Stack(stack) = finding
        && !eksform_core::kinds::tags::marks_stack(tags.get(STACK_TAG), stack)
    {
        return Ok(None);
    }
    let managed_policy_arns = attached(aws, name).await?;
    let names = aws
        .iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| error("ListRolePolicies", e))?;
    let mut inline_policies = BTreeMap::new();
    for policy in names.policy_names() {
        let document = aws
            .iam
            .get_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            .map_err(|e| error("GetRolePolicy", e))?;
        inline_policies.insert(policy.clone(), document.policy_document().to_string());
    }
    let read = RoleRead {
        name,
        path: role.path(),
        arn: role.arn(),
        trust: role.assume_role_policy_document(),
        tags,
        managed_policy_arns,
        inline_policies,
    };
    Ok(match finding {
        Finding::Stack(stack) => kind.to_live(stack, read),
        Finding::Adoption(address) => Some(kind.read_as(address.clone(), read)),
    })
}

#[async_trait]
impl Adapter for IamRole {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        // One batch read: GetAccountAuthorizationDetails answers every role
        // with its trust, tags, attached and inline policies, where ListRoles
        // would need three more calls a role.
        let pages: Vec<_> = aws
            .iam
            .get_account_authorization_details()
            .filter(EntityType::Role)
            // IAM's largest page: an account of hundreds of roles is one call.
            .max_items(1000)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("GetAccountAuthorizationDetails", e))?;
        // A read of one role (no region in its scope) looks under every path.
        let prefix = if scope.region.is_empty() {
            role_path(eksform_core::kinds::tags::EVERY_STACK, "")
        } else {
            role_path(&scope.stack, &scope.region)
        };
        let legacy = path_without_region(&scope.stack);
        let regional = |role: &&aws_sdk_iam::types::RoleDetail| {
            role.tags()
                .iter()
                .any(|t| t.key() == eksform_core::model::REGION_TAG)
        };
        Ok(pages
            .iter()
            .flat_map(|page| page.role_detail_list())
            .filter(|role| {
                role.path().is_some_and(|p| {
                    p.starts_with(&prefix) || (p.starts_with(&legacy) && !regional(role))
                })
            })
            .filter_map(|role| {
                self.to_live(
                    &scope.stack,
                    RoleRead {
                        name: role.role_name()?,
                        path: role.path()?,
                        arn: role.arn()?,
                        trust: role.assume_role_policy_document(),
                        tags: tag_map(role.tags()),
                        managed_policy_arns: role
                            .attached_managed_policies()
                            .iter()
                            .filter_map(|p| p.policy_arn().map(str::to_string))
                            .collect(),
                        inline_policies: role
                            .role_policy_list()
                            .iter()
                            .filter_map(|p| {
                                Some((
                                    p.policy_name()?.to_string(),
                                    p.policy_document()?.to_string(),
                                ))
                            })
                            .collect(),
                    },
                )
            })
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let name = eksform_core::kinds::tags::required(attributes, "name")?;
        let out = match aws
            .iam
            .create_role()
            .role_name(name)
            .path(eksform_core::kinds::tags::required(attributes, "path")?)
            .assume_role_policy_document(trust_document(attributes)?)
            .set_tags(Some(iam_tags(attributes)))
            .customize()
            .config_override(crate::sent_once!(aws_sdk_iam))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = error("CreateRole", e);
                if e.code.as_deref() != Some("EntityAlreadyExists") {
                    return Err(e);
                }
                // IAM's lists lag behind its creates: a role an earlier,
                // interrupted attempt made may be missing from observation.
                // GetRole sees it; if it carries this very mark, finish it.
                return finish_lost_create(self, aws, request, e).await;
            }
        };
        sync_policies(
            aws,
            name,
            &[],
            &string_list(attributes, "managed_policy_arns"),
        )
        .await?;
        sync_inline(
            aws,
            name,
            &BTreeMap::new(),
            &string_map(attributes, "inline_policies"),
        )
        .await?;
        let mut created = request.created(self.name(), name.to_string(), Status::Ready);
        if let Some(role) = out.role() {
            created
                .attributes
                .insert("arn".into(), Value::string(role.arn()));
        }
        Ok(created)
    }

    async fn name_taken(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        let name = eksform_core::kinds::tags::required(&desired.attributes, "name")?;
        let Some(role) = get_role(aws, name).await? else {
            return Ok(None);
        };
        // The stack's own role that IAM's lists do not show yet is no clash:
        // the create finishes it (`finish_lost_create`).
        let stack = eksform_core::kinds::tags::stack_of(&desired.attributes);
        let own = own_role(
            self,
            aws,
            &role,
            &stack,
            &desired.address,
            &desired.attributes,
        )
        .await?;
        Ok(own.is_none().then(|| {
            format!(
                "an IAM role named `{name}` already exists ({}) and is not this stack's in this region: delete or rename it",
                role.arn()
            )
        }))
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let name = &live.id;
        // The plan's rule, not an exact compare: a trust that already lets
        // the service in (eksctl's, without `sts:TagSession`) is left as it
        // is, as the plan showed.
        if let Some(wanted) = desired.get("assume_role_policy")
            && let Some(document) = wanted.as_str()
            && !live
                .attributes
                .get("assume_role_policy")
                .is_some_and(|trust| self.satisfied("assume_role_policy", trust, wanted))
        {
            aws.iam
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(document)
                .send()
                .await
                .map_err(|e| error("UpdateAssumeRolePolicy", e))?;
        }
        if desired.contains_key("irsa_trust")
            && live.attributes.get("irsa_trust") != desired.get("irsa_trust")
        {
            aws.iam
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(trust_document(desired)?)
                .send()
                .await
                .map_err(|e| error("UpdateAssumeRolePolicy", e))?;
        }
        if desired.contains_key("inline_policies") {
            sync_inline(
                aws,
                name,
                &string_map(&live.attributes, "inline_policies"),
                &string_map(desired, "inline_policies"),
            )
            .await?;
        }
        if desired.contains_key("managed_policy_arns") {
            sync_policies(
                aws,
                name,
                &string_list(&live.attributes, "managed_policy_arns"),
                &string_list(desired, "managed_policy_arns"),
            )
            .await?;
        }
        let (set, removed) = eksform_core::kinds::tags::tag_changes(&live.attributes, desired);
        if !set.is_empty() {
            let tags = set.into_iter().filter_map(|(k, v)| {
                aws_sdk_iam::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .ok()
            });
            aws.iam
                .tag_role()
                .role_name(name)
                .set_tags(Some(tags.collect()))
                .send()
                .await
                .map_err(|e| error("TagRole", e))?;
        }
        if !removed.is_empty() {
            aws.iam
                .untag_role()
                .role_name(name)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| error("UntagRole", e))?;
        }
        Ok(())
    }

    /// By name or ARN, under any path: a role outside `/eksform/` (made by
    /// Terraform or eksctl) is found by its entry only, so the entry stays.
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        match get_role(aws, last_part(id)).await? {
            Some(role) => describe(self, aws, Finding::Adoption(&desired.address), &role).await,
            None => Ok(None),
        }
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        let name = &live.id;
        // A role goes only without policies: detach the managed, delete the inline ones.
        match attached(aws, name).await {
            Ok(current) => sync_policies(aws, name, &current, &[]).await?,
            Err(e) => return not_found_is_done(e),
        }
        let inline = aws
            .iam
            .list_role_policies()
            .role_name(name)
            .send()
            .await
            .map_err(|e| error("ListRolePolicies", e))?;
        for policy in inline.policy_names() {
            if let Err(e) = aws
                .iam
                .delete_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await
            {
                not_found_is_done(error("DeleteRolePolicy", e))?;
            }
        }
        deleted(
            "DeleteRole",
            aws.iam.delete_role().role_name(name).send().await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let stack = eksform_core::kinds::tags::stack_of(&live.attributes);
        match get_role(aws, &live.id).await? {
            Some(role) => describe(self, aws, Finding::Stack(&stack), &role).await,
            None => Ok(None),
        }
    }
}
