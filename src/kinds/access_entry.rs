//! Cluster access entries and the access policies associated with them. The
//! principal and the entry's type cannot change (a change replaces the entry);
//! the associated policies and their scopes change in place.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use sha2::{Digest, Sha256};

use super::eks_cluster::{EksCluster, cluster_parts, sync_eks_tags};
use super::tags::{required, stack_of, tags_of};
use super::{Change, Kind, deleted, none_if_not_found};
use crate::cloud::aws::{AwsClients, error};
use crate::cloud::{CloudError, CreateRequest, Scope};
use crate::lower::{StackModel, resource_name};
use crate::model::{
    ADDRESS_TAG, Address, Attributes, DesiredResource, LiveResource, STACK_TAG, Status, Value,
    ownership_tags,
};

pub struct AccessEntry;

impl AccessEntry {
    /// `access_entry.<last part of the principal>-<hash>`: readable and unique.
    pub fn address(principal_arn: &str) -> Address {
        let short = principal_arn
            .rsplit(['/', ':'])
            .next()
            .unwrap_or("principal");
        let digest = Sha256::digest(principal_arn.as_bytes());
        let hash: String = digest.iter().take(3).map(|b| format!("{b:02x}")).collect();
        Address::new(&["access_entry", &format!("{short}-{hash}").replace('.', "-")])
    }

    async fn describe(
        &self,
        aws: &AwsClients,
        stack: &str,
        cluster: &str,
        principal: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
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
        if tags.get(STACK_TAG).map(String::as_str) != Some(stack) {
            return Ok(None);
        }
        let Some(address) = tags.get(ADDRESS_TAG).cloned() else {
            return Ok(None);
        };
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
        Ok(Some(LiveResource {
            address: Address(address),
            kind: self.name().into(),
            id: principal.to_string(),
            attributes,
            status: Status::Ready,
        }))
    }
}

fn policy_value(scope_type: &str, namespaces: &[String]) -> Value {
    let mut namespaces = namespaces.to_vec();
    namespaces.sort();
    Value::Map(BTreeMap::from([
        (
            "namespaces".to_string(),
            Value::List(namespaces.into_iter().map(Value::String).collect()),
        ),
        ("type".to_string(), Value::string(scope_type)),
    ]))
}

/// policy ARN -> (scope type, namespaces)
fn policies(attributes: &Attributes) -> BTreeMap<String, (String, Vec<String>)> {
    attributes
        .get("policies")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(arn, scope)| {
                    let scope = scope.as_map()?;
                    let scope_type = scope.get("type")?.as_str()?.to_string();
                    let namespaces = scope
                        .get("namespaces")
                        .and_then(Value::as_list)
                        .map(|l| {
                            l.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    Some((arn.clone(), (scope_type, namespaces)))
                })
                .collect()
        })
        .unwrap_or_default()
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
            super::not_found_is_done(error("DisassociateAccessPolicy", e))?;
        }
    }
    Ok(())
}

#[async_trait]
impl Kind for AccessEntry {
    fn service(&self) -> &'static str {
        "eks"
    }

    fn name(&self) -> &'static str {
        "access_entry"
    }

    fn guarded(&self) -> bool {
        // Deleting an access entry can lock its principal (admins) out of the cluster.
        true
    }

    fn id_prefix(&self) -> &'static str {
        "access-entry"
    }

    fn computed(&self) -> &'static [&'static str] {
        &["arn"]
    }

    fn change_of(&self, attribute: &str) -> Change {
        match attribute {
            "cluster_name" | "principal_arn" | "type" => Change::Replace,
            _ => Change::InPlace,
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(cluster) = &stack.cluster else {
            return vec![];
        };
        cluster
            .access_entries
            .iter()
            .map(|entry| {
                let address = Self::address(&entry.principal_arn);
                let name = resource_name(&stack.stack, &address);
                let policies = entry
                    .policies
                    .iter()
                    .map(|(arn, (scope_type, namespaces))| {
                        (arn.clone(), policy_value(scope_type, namespaces))
                    })
                    .collect();
                DesiredResource::new(self.name(), address.clone())
                    .with("cluster_name", Value::string(cluster.name.clone()))
                    .with("principal_arn", Value::string(entry.principal_arn.clone()))
                    .with("type", Value::string("STANDARD"))
                    .with("policies", Value::Map(policies))
                    .with(
                        "tags",
                        Value::string_map(&ownership_tags(
                            &stack.stack,
                            &address,
                            &name,
                            &stack.tags,
                        )),
                    )
                    .after(&EksCluster::address())
            })
            .collect()
    }

    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let Some(cluster) = &scope.cluster else {
            return Ok(vec![]);
        };
        let principals = cluster_parts(
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
            .map(|principal| self.describe(aws, &scope.stack, cluster, principal));
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
            .map_err(|e| error("CreateAccessEntry", e))?;
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
        self.describe(aws, &stack_of(&live.attributes), cluster, &live.id)
            .await
    }
}
