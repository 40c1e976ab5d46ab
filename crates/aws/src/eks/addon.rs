//! AWS calls for EKS add-ons. `version: latest` is resolved for the cluster's Kubernetes
//! version when the add-on is created (DescribeAddonVersions), and any live
//! version satisfies it afterwards, until the cluster's version changes: the
//! add-on carries the Kubernetes version it was resolved for (the tag
//! `eksform:kubernetes-version`), so an upgrade moves it to the newest version
//! for the new Kubernetes, after the control plane and the node groups. A
//! `serviceAccount` gives the add-on that IRSA role. Add-ons that run pods on
//! nodes (all but the node-level daemons) wait until the stack's node groups
//! and Fargate profiles exist, and go before them on destroy.

use async_trait::async_trait;

use crate::eks::eks_cluster::{await_update, cluster_part, cluster_parts, sync_eks_tags};
use crate::{Adapter, AwsClients, Finding, deleted, error, none_if_not_found};
use aws_sdk_eks::types::{AddonStatus, ResolveConflicts};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::addon::{Addon, LATEST, moves_to_latest_for, version_key};
use eksform_core::kinds::eks_cluster::UpdateOf;
use eksform_core::kinds::tags::{required, stack_of, tags_from, tags_of};
use eksform_core::kinds::{Compare, Kind};
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value};
use eksform_core::preflight::{AddonSchema, AddonVersion};
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn to_live(
    kind: &Addon,
    finding: Finding,
    addon: &aws_sdk_eks::types::Addon,
) -> Option<LiveResource> {
    let tags = tags_from(addon.tags());
    let status = match addon.status()? {
        AddonStatus::Active | AddonStatus::Degraded | AddonStatus::Updating => Status::Ready,
        AddonStatus::Deleting => Status::Deleting,
        AddonStatus::CreateFailed | AddonStatus::DeleteFailed | AddonStatus::UpdateFailed => {
            Status::Failed
        }
        _ => Status::Pending,
    };
    let health = eksform_core::kinds::eks_cluster::health_text(
        addon.status().map(|s| s.as_str()),
        addon
            .health()
            .map(|h| h.issues())
            .unwrap_or_default()
            .iter()
            .filter_map(|i| i.message()),
    );
    let mut attributes = Attributes::new();
    attributes.insert(
        "cluster_name".into(),
        Value::string(addon.cluster_name().unwrap_or_default()),
    );
    attributes.insert(
        "addon_name".into(),
        Value::string(addon.addon_name().unwrap_or_default()),
    );
    attributes.insert(
        "addon_version".into(),
        Value::string(addon.addon_version().unwrap_or_default()),
    );
    attributes.insert(
        "service_account_role_arn".into(),
        addon
            .service_account_role_arn()
            .map_or(Value::Null, Value::string),
    );
    attributes.insert(
        "arn".into(),
        Value::string(addon.addon_arn().unwrap_or_default()),
    );
    // As the spec's are lowered: canonical JSON, none when empty.
    attributes.insert(
        "configuration_values".into(),
        addon
            .configuration_values()
            .filter(|text| !text.trim().is_empty())
            .map_or(Value::Null, |text| {
                match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(parsed) => Value::string(eksform_core::spec::canonical_json(&parsed)),
                    Err(_) => Value::string(text),
                }
            }),
    );
    if let Some(health) = health {
        attributes.insert(eksform_core::model::HEALTH.into(), Value::string(health));
    }
    finding.live(
        kind.name(),
        addon.addon_name().unwrap_or_default(),
        tags,
        attributes,
        status,
    )
}

/// The newest version of an add-on that runs on a Kubernetes version.
async fn latest_version(
    aws: &AwsClients,
    addon: &str,
    cluster: &str,
) -> Result<String, CloudError> {
    let described = aws
        .eks
        .describe_cluster()
        .name(cluster)
        .send()
        .await
        .map_err(|e| error("DescribeCluster", e))?;
    let kubernetes = described
        .cluster()
        .and_then(|c| c.version())
        .unwrap_or_default()
        .to_string();
    newest_version(aws, addon, Some(&kubernetes)).await
}

/// The newest version of an add-on for a Kubernetes version (for any, when
/// none is given).
async fn newest_version(
    aws: &AwsClients,
    addon: &str,
    kubernetes: Option<&str>,
) -> Result<String, CloudError> {
    let out = aws
        .eks
        .describe_addon_versions()
        .addon_name(addon)
        .set_kubernetes_version(kubernetes.map(str::to_string))
        .send()
        .await
        .map_err(|e| error("DescribeAddonVersions", e))?;
    let mut versions: Vec<String> = out
        .addons()
        .iter()
        .flat_map(|a| a.addon_versions())
        .filter_map(|v| v.addon_version().map(str::to_string))
        .collect();
    // v1.18.3-eksbuild.1: compare the numbers, not the text.
    versions.sort_by_key(|v| version_key(v));
    versions.pop().ok_or_else(|| {
        CloudError::rejected(format!(
            "AWS offers no version of add-on {addon} for Kubernetes {}",
            kubernetes.unwrap_or("any version")
        ))
    })
}

/// The configuration schema of each asked add-on version, read at once
/// (preflight): `latest` resolved as creation resolves it, then
/// DescribeAddonConfiguration. An add-on version without a schema is left
/// out (nothing to check against).
pub async fn configuration_schemas(
    aws: &AwsClients,
    asked: &BTreeSet<AddonVersion>,
) -> Result<BTreeMap<String, AddonSchema>, CloudError> {
    let read = asked.iter().map(|question| async move {
        let version = match question.version.as_str() {
            LATEST => newest_version(aws, &question.addon, question.kubernetes.as_deref()).await?,
            exact => exact.to_string(),
        };
        let out = aws
            .eks
            .describe_addon_configuration()
            .addon_name(&question.addon)
            .addon_version(&version)
            .send()
            .await
            .map_err(|e| error("DescribeAddonConfiguration", e))?;
        Ok::<_, CloudError>(out.configuration_schema().map(|schema| {
            (
                question.addon.clone(),
                AddonSchema {
                    version,
                    schema: schema.to_string(),
                },
            )
        }))
    });
    Ok(futures_util::future::try_join_all(read)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

#[async_trait]
impl Adapter for Addon {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let Some(cluster) = &scope.cluster else {
            return Ok(vec![]);
        };
        let names = cluster_parts(
            aws,
            "ListAddons",
            aws.eks
                .list_addons()
                .cluster_name(cluster)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await,
        )?;
        // No batch read: one DescribeAddon per add-on, all at once.
        let read = names.iter().map(|name| async move {
            aws.eks
                .describe_addon()
                .cluster_name(cluster)
                .addon_name(name)
                .send()
                .await
                .map_err(|e| error("DescribeAddon", e))
        });
        Ok(futures_util::future::try_join_all(read)
            .await?
            .iter()
            .filter_map(|out| {
                out.addon()
                    .and_then(|a| to_live(self, Finding::Stack(&scope.stack), a))
            })
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let cluster = required(attributes, "cluster_name")?;
        let name = required(attributes, "addon_name")?;
        let version = match required(attributes, "addon_version")? {
            LATEST => latest_version(aws, name, cluster).await?,
            exact => exact.to_string(),
        };
        let tags: HashMap<String, String> = tags_of(attributes).into_iter().collect();
        let out = aws
            .eks
            .create_addon()
            .cluster_name(cluster)
            .addon_name(name)
            .addon_version(&version)
            .set_service_account_role_arn(
                attributes
                    .get("service_account_role_arn")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            )
            .set_configuration_values(
                attributes
                    .get("configuration_values")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            )
            .resolve_conflicts(ResolveConflicts::Overwrite)
            .set_tags(Some(tags))
            .client_request_token(&request.token)
            .send()
            .await
            .map_err(|e| error("CreateAddon", e))?;
        match out
            .addon()
            .and_then(|a| to_live(self, Finding::Stack(&request.stack), a))
        {
            Some(live) => Ok(live),
            None => Ok(request.created(self.name(), name.to_string(), Status::Pending)),
        }
    }

    /// By name in the spec's cluster, or by ARN
    /// (`arn:aws:eks:<region>:<account>:addon/<cluster>/<name>/<uuid>`).
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let (cluster, name) = cluster_part(desired, id, "addon/")?;
        match aws
            .eks
            .describe_addon()
            .cluster_name(cluster)
            .addon_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .addon()
                .and_then(|a| to_live(self, Finding::Adoption(&desired.address), a))),
            Err(e) => none_if_not_found(error("DescribeAddon", e)),
        }
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let cluster = required(&live.attributes, "cluster_name")?;
        let live_version = live.attributes.get("addon_version").and_then(Value::as_str);
        // `latest` resolved for another Kubernetes version (the cluster was
        // upgraded): the newest version for the cluster's version now, as
        // the plan shows.
        let wanted = match desired.get("addon_version").and_then(Value::as_str) {
            Some(LATEST) if moves_to_latest_for(&live.attributes, desired).is_some() => {
                Some(latest_version(aws, &live.id, cluster).await?)
            }
            Some(LATEST) | None => None,
            Some(exact) => Some(exact.to_string()),
        };
        let version_changed = wanted.is_some() && wanted.as_deref() != live_version;
        let role_changed = desired.contains_key("service_account_role_arn")
            && live.attributes.get("service_account_role_arn")
                != desired.get("service_account_role_arn");
        // Absent from the spec (null), the live configuration stays as it is.
        let configuration = desired
            .get("configuration_values")
            .filter(|wanted| {
                !Compare::JsonSettings.satisfied(
                    live.attributes
                        .get("configuration_values")
                        .unwrap_or(&Value::Null),
                    wanted,
                )
            })
            .and_then(Value::as_str)
            .map(str::to_string);
        if version_changed || role_changed || configuration.is_some() {
            let out = aws
                .eks
                .update_addon()
                .cluster_name(cluster)
                .addon_name(&live.id)
                .set_addon_version(wanted.filter(|_| version_changed))
                .set_service_account_role_arn(
                    desired
                        .get("service_account_role_arn")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                )
                .set_configuration_values(configuration)
                .resolve_conflicts(ResolveConflicts::Overwrite)
                .send()
                .await
                .map_err(|e| error("UpdateAddon", e))?;
            await_update(aws, cluster, UpdateOf::Addon(&live.id), out.update()).await?;
        }
        sync_eks_tags(aws, live, desired).await
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        if live.status == Status::Deleting {
            return Ok(());
        }
        let cluster = required(&live.attributes, "cluster_name")?;
        deleted(
            "DeleteAddon",
            aws.eks
                .delete_addon()
                .cluster_name(cluster)
                .addon_name(&live.id)
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
        match aws
            .eks
            .describe_addon()
            .cluster_name(cluster)
            .addon_name(&live.id)
            .send()
            .await
        {
            Ok(out) => {
                if let Some(addon) = out.addon()
                    && matches!(
                        addon.status(),
                        Some(
                            AddonStatus::CreateFailed
                                | AddonStatus::DeleteFailed
                                | AddonStatus::UpdateFailed
                        )
                    )
                {
                    let issues: Vec<String> = addon
                        .health()
                        .map(|h| {
                            h.issues()
                                .iter()
                                .filter_map(|i| i.message().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    return Err(CloudError::rejected(format!(
                        "add-on {} failed: {}",
                        live.id,
                        issues.join("; ")
                    )));
                }
                let stack = stack_of(&live.attributes);
                Ok(out
                    .addon()
                    .and_then(|a| to_live(self, Finding::Stack(&stack), a)))
            }
            Err(e) => none_if_not_found(error("DescribeAddon", e)),
        }
    }
}
