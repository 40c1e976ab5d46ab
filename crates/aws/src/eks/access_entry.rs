//! AWS calls for cluster access entries and the access policies associated with them. The
//! principal and the entry's type cannot change (a change replaces the entry);
//! the associated policies and their scopes change in place.

use async_trait::async_trait;

use crate::eks::eks_cluster::{cluster_parts, sync_eks_tags};
use crate::{Adapter, AwsClients, Finding, deleted, error, none_if_not_found};
use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::access_entry::{AccessEntry, policies, policy_value};
use eksform_core::kinds::tags::{required, stack_of, tags_of};
use eksform_core::model::{Attributes, DesiredResource, LiveResource, STACK_TAG, Status, Value};
use std::collections::{BTreeMap, HashMap};

/// An access entry as AWS holds it, whoever made it: its tags and its
/// attributes in the kind's terms.
struct EntryRead {
    tags: BTreeMap<String, String>,
    attributes: Attributes,
}

async fn read(
    aws: &AwsClients,
    cluster: &str,
    principal: &str,
) -> Result<Option<EntryRead>, CloudError> {
    let out = match aws
        .eks
        .describe_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => return none_if_not_found(error("DescribeAccessEntry", e)),
    };
    let Some(entry) = out.access_entry() else {
        return Ok(None);
    };
    let tags: BTreeMap<String, String> = entry
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let associated = aws
        .eks
        .list_associated_access_policies()
        .cluster_name(cluster)
        .principal_arn(principal)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| error("ListAssociatedAccessPolicies", e))?;
    let policies: BTreeMap<String, Value> = associated
        .iter()
        .filter_map(|p| {
            let scope = p.access_scope()?;
            let scope_type = scope
                .r#type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default();
            Some((
                p.policy_arn()?.to_string(),
                policy_value(&scope_type, scope.namespaces()),
            ))
        })
        .collect();
    let mut attributes = Attributes::new();
    attributes.insert("cluster_name".into(), Value::string(cluster));
    attributes.insert("principal_arn".into(), Value::string(principal));
    attributes.insert(
        "type".into(),
        Value::string(entry.r#type().unwrap_or("STANDARD")),
    );
    attributes.insert("policies".into(), Value::Map(policies));
    attributes.insert(
        "arn".into(),
        Value::string(entry.access_entry_arn().unwrap_or_default()),
    );
    attributes.insert("tags".into(), Value::string_map(&tags));
    Ok(Some(EntryRead { tags, attributes }))
}

/// The entry for `principal` as `finding` wants it (the stack's, if it
/// carries the stack's mark; an adopt entry's, whatever its marks).
async fn describe(
    kind: &AccessEntry,
    aws: &AwsClients,
    finding: Finding<'_>,
    cluster: &str,
    principal: &str,
) -> Result<Option<LiveResource>, CloudError> {
    let Some(EntryRead { tags, attributes }) = read(aws, cluster, principal).await? else {
        return Ok(None);
    };
    Ok(finding.live(kind.name(), principal, tags, attributes, Status::Ready))
}

/// The entry EKS made on the stack's own cluster for the principal that
/// created it (`bootstrapClusterCreatorAdminPermissions`, on by default)
/// when the spec lists that principal too: EKS allows one entry per
/// principal, so the spec's entry is this one. It gets the stack's mark and
/// exactly the spec's policies, as a create would have made it. An entry
/// another stack marked is never taken.
async fn take_over_unmarked(
    aws: &AwsClients,
    request: &CreateRequest,
    cluster: &str,
    principal: &str,
    in_use: CloudError,
) -> Result<LiveResource, CloudError> {
    let Some(existing) = read(aws, cluster, principal).await? else {
        return Err(in_use);
    };
    let attributes = &request.attributes;
    let marked_by = existing.tags.get(STACK_TAG);
    let same_type = existing.attributes.get("type") == attributes.get("type");
    if marked_by.is_some_and(|stack| stack != &request.stack) || !same_type {
        return Err(in_use);
    }
    let live = LiveResource {
        address: request.address.clone(),
        kind: AccessEntry.name().into(),
        id: principal.to_string(),
        attributes: existing.attributes.clone(),
        status: Status::Ready,
    };
    sync_eks_tags(aws, &live, attributes).await?;
    sync_policies(
        aws,
        cluster,
        principal,
        &policies(&existing.attributes),
        &policies(attributes),
    )
    .await?;
    let mut created = request.created(AccessEntry.name(), principal.to_string(), Status::Ready);
    if let Some(arn) = existing.attributes.get("arn") {
        created.attributes.insert("arn".into(), arn.clone());
    }
    Ok(created)
}

/// An entry's policies by their names (`AmazonEKSClusterAdminPolicy`), for
/// messages; `none` when it has none.
fn policy_names(attributes: &Attributes) -> String {
    let names: Vec<String> = policies(attributes)
        .into_keys()
        .map(|arn| crate::last_part(&arn).to_string())
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Associates and disassociates access policies so that exactly `wanted` apply.
async fn sync_policies(
    aws: &AwsClients,
    cluster: &str,
    principal: &str,
    current: &BTreeMap<String, (String, Vec<String>)>,
    wanted: &BTreeMap<String, (String, Vec<String>)>,
) -> Result<(), CloudError> {
    for (arn, (scope_type, namespaces)) in wanted {
        if current.get(arn) == Some(&(scope_type.clone(), namespaces.clone())) {
            continue;
        }
        let scope = AccessScope::builder()
            .r#type(AccessScopeType::from(scope_type.as_str()))
            .set_namespaces((!namespaces.is_empty()).then(|| namespaces.clone()))
            .build();
        aws.eks
            .associate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(arn)
            .access_scope(scope)
            .send()
            .await
            .map_err(|e| error("AssociateAccessPolicy", e))?;
    }
    for arn in current.keys().filter(|a| !wanted.contains_key(*a)) {
        if let Err(e) = aws
            .eks
            .disassociate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(arn)
            .send()
            .await
        {
            crate::not_found_is_done(error("DisassociateAccessPolicy", e))?;
        }
    }
    Ok(())
}

#[async_trait]
impl Adapter for AccessEntry {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let Some(cluster) = &scope.cluster else {
            return Ok(vec![]);
        };
        let principals = cluster_parts(
            aws,
            "ListAccessEntries",
            aws.eks
                .list_access_entries()
                .cluster_name(cluster)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await,
        )?;
        // No batch read: one DescribeAccessEntry and one policy list per entry,
        // all entries at once.
        let read = principals
            .iter()
            .map(|principal| describe(self, aws, Finding::Stack(&scope.stack), cluster, principal));
        Ok(futures_util::future::try_join_all(read)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let cluster = required(attributes, "cluster_name")?;
        let principal = required(attributes, "principal_arn")?;
        let tags: HashMap<String, String> = tags_of(attributes).into_iter().collect();
        let out = aws
            .eks
            .create_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .r#type(required(attributes, "type")?)
            .set_tags(Some(tags))
            .client_request_token(&request.token)
            .send()
            .await
            .map_err(|e| error("CreateAccessEntry", e));
        let out = match out {
            Ok(out) => out,
            Err(in_use) if in_use.code.as_deref() == Some("ResourceInUseException") => {
                return take_over_unmarked(aws, request, cluster, principal, in_use).await;
            }
            Err(other) => return Err(other),
        };
        sync_policies(
            aws,
            cluster,
            principal,
            &BTreeMap::new(),
            &policies(attributes),
        )
        .await?;
        let mut created = request.created(self.name(), principal.to_string(), Status::Ready);
        if let Some(arn) = out.access_entry().and_then(|e| e.access_entry_arn()) {
            created.attributes.insert("arn".into(), Value::string(arn));
        }
        Ok(created)
    }

    /// An entry EKS already holds for the principal in a cluster that stands
    /// when the plan is made: EKS's for the cluster's creator, eksctl's or a
    /// person's, with policies of its own. A create would take it over at
    /// apply (`take_over_unmarked`, meant for a cluster the same apply makes)
    /// and set the spec's policies, a cluster admin's going unseen: the plan
    /// stops and names the adopt entry, under which it shows the policies'
    /// changes.
    async fn name_taken(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        let known = |name: &str| desired.attributes.get(name).and_then(Value::as_str);
        // Unknown until the cluster or the principal stands: nothing to meet.
        let (Some(cluster), Some(principal)) = (known("cluster_name"), known("principal_arn"))
        else {
            return Ok(None);
        };
        let existing = match read(aws, cluster, principal).await {
            Ok(Some(existing)) => existing,
            Ok(None) => return Ok(None),
            // The emulator lacks the API: its observation said so already
            // (`cluster_parts`).
            Err(e) if crate::preflight::not_implemented(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(match existing.tags.get(STACK_TAG) {
            Some(owner) if *owner == stack_of(&desired.attributes) => None,
            Some(owner) => Some(format!(
                "the access entry of {principal} in cluster {cluster} is stack {owner}'s: eksform never takes another stack's"
            )),
            None => Some(format!(
                "an access entry of {principal} already exists in cluster {cluster}, made outside eksform (EKS makes one for the cluster's creator; eksctl and people add others), with policies {}: take it over with `adopt: [{{ address: {}, id: {principal} }}]`, and the plan shows what changes in its policies",
                policy_names(&existing.attributes),
                desired.address
            )),
        })
    }

    /// By the principal's ARN (what names an entry), in the spec's cluster.
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let Some(cluster) = desired
            .attributes
            .get("cluster_name")
            .and_then(Value::as_str)
        else {
            return Err(CloudError::rejected(format!(
                "adopt: the cluster of {} is not known yet: adopt the cluster too",
                desired.address
            )));
        };
        describe(self, aws, Finding::Adoption(&desired.address), cluster, id).await
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let cluster = required(&live.attributes, "cluster_name")?;
        if desired.contains_key("policies") {
            sync_policies(
                aws,
                cluster,
                &live.id,
                &policies(&live.attributes),
                &policies(desired),
            )
            .await?;
        }
        sync_eks_tags(aws, live, desired).await
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        let cluster = required(&live.attributes, "cluster_name")?;
        deleted(
            "DeleteAccessEntry",
            aws.eks
                .delete_access_entry()
                .cluster_name(cluster)
                .principal_arn(&live.id)
                .send()
                .await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let cluster = required(&live.attributes, "cluster_name")?;
        let stack = stack_of(&live.attributes);
        describe(self, aws, Finding::Stack(&stack), cluster, &live.id).await
    }
}
