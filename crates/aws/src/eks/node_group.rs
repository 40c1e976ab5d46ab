//! AWS calls for Managed node groups. Labels, taints, scaling and the update config change in
//! place. Instance types, capacity type, disk size and subnets cannot: such a
//! change replaces the group create-before-destroy, under a new generated name
//! (the spec name plus a hash of those fields), so capacity never drops and
//! names never collide. `desiredCapacity` is used at creation; afterwards the
//! cluster autoscaler owns it, and eksform changes it only when it falls
//! outside [minSize, maxSize].

use async_trait::async_trait;

use crate::eks::eks_cluster::{await_update, cluster_part, cluster_parts, sync_eks_tags};
use crate::{Adapter, AwsClients, Finding, deleted, error};
use aws_sdk_eks::types::{
    AmiTypes, CapacityTypes, NodegroupScalingConfig, NodegroupStatus, NodegroupUpdateConfig, Taint,
    TaintEffect, UpdateLabelsPayload, UpdateTaintsPayload,
};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::eks_cluster::UpdateOf;
use eksform_core::kinds::node_group::{
    NodeGroup, scaling, scaling_value, size_to_set, sorted, taint_value,
};
use eksform_core::kinds::tags::{required, tags_from, tags_of};
use eksform_core::model::{
    Attributes, DesiredResource, LiveResource, Status, Value, string_list, string_map,
};
use std::collections::HashMap;

fn to_live(
    kind: &NodeGroup,
    finding: Finding,
    group: &aws_sdk_eks::types::Nodegroup,
) -> Option<LiveResource> {
    let tags = tags_from(group.tags());
    let status = match group.status()? {
        NodegroupStatus::Active | NodegroupStatus::Updating | NodegroupStatus::Degraded => {
            Status::Ready
        }
        NodegroupStatus::Deleting => Status::Deleting,
        NodegroupStatus::CreateFailed | NodegroupStatus::DeleteFailed => Status::Failed,
        _ => Status::Pending,
    };
    let health = eksform_core::kinds::eks_cluster::health_text(
        group.status().map(|s| s.as_str()),
        group
            .health()
            .map(|h| h.issues())
            .unwrap_or_default()
            .iter()
            .filter_map(|i| i.message()),
    );
    let scaling = group.scaling_config();
    let mut attributes = Attributes::new();
    let mut put = |name: &str, value: Value| {
        attributes.insert(name.into(), value);
    };
    put(
        "cluster_name",
        Value::string(group.cluster_name().unwrap_or_default()),
    );
    put(
        "nodegroup_name",
        Value::string(group.nodegroup_name().unwrap_or_default()),
    );
    put(
        "node_role_arn",
        Value::string(group.node_role().unwrap_or_default()),
    );
    put("subnet_ids", Value::string_set(group.subnets()));
    put(
        "capacity_type",
        Value::string(
            group
                .capacity_type()
                .map(|c| c.as_str())
                .unwrap_or("ON_DEMAND"),
        ),
    );
    put("instance_types", Value::string_set(group.instance_types()));
    put(
        "ami_type",
        group
            .ami_type()
            .map_or(Value::Null, |t| Value::string(t.as_str())),
    );
    put(
        "disk_size",
        group
            .disk_size()
            .map_or(Value::Null, |d| Value::Int(d.into())),
    );
    put(
        "version",
        group.version().map_or(Value::Null, Value::string),
    );
    put(
        "labels",
        Value::string_map(
            &group
                .labels()
                .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        ),
    );
    put(
        "taints",
        Value::List(
            group
                .taints()
                .iter()
                .map(|t| {
                    taint_value(
                        t.key().unwrap_or_default(),
                        t.value().unwrap_or_default(),
                        t.effect().map(|e| e.as_str()).unwrap_or_default(),
                    )
                })
                .collect(),
        ),
    );
    put(
        "scaling",
        scaling_value(
            scaling.and_then(|s| s.min_size()).unwrap_or(0).into(),
            scaling.and_then(|s| s.max_size()).unwrap_or(0).into(),
            scaling.and_then(|s| s.desired_size()).unwrap_or(0).into(),
        ),
    );
    put(
        "max_unavailable",
        group
            .update_config()
            .and_then(|u| u.max_unavailable())
            .map_or(Value::Null, |m| Value::Int(m.into())),
    );
    put(
        "max_unavailable_percentage",
        group
            .update_config()
            .and_then(|u| u.max_unavailable_percentage())
            .map_or(Value::Null, |m| Value::Int(m.into())),
    );
    put(
        "arn",
        Value::string(group.nodegroup_arn().unwrap_or_default()),
    );
    if let Some(health) = health {
        attributes.insert(eksform_core::model::HEALTH.into(), Value::string(health));
    }
    finding.live(
        kind.name(),
        group.nodegroup_name().unwrap_or_default(),
        tags,
        attributes,
        status,
    )
}

#[async_trait]
impl Adapter for NodeGroup {
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
            "ListNodegroups",
            aws.eks
                .list_nodegroups()
                .cluster_name(cluster)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await,
        )?;
        // No batch read: one DescribeNodegroup per group, all at once.
        let read = names.iter().map(|name| async move {
            aws.eks
                .describe_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .send()
                .await
                .map_err(|e| error("DescribeNodegroup", e))
        });
        Ok(futures_util::future::try_join_all(read)
            .await?
            .iter()
            .filter_map(|out| {
                out.nodegroup()
                    .and_then(|g| to_live(self, Finding::Stack(&scope.stack), g))
            })
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let (min, max, desired) = scaling(attributes.get("scaling"));
        let max_unavailable = update_config(attributes);
        let labels: HashMap<String, String> =
            string_map(attributes, "labels").into_iter().collect();
        let tags: HashMap<String, String> = tags_of(attributes).into_iter().collect();
        let taints = taints(attributes);
        let out = aws
            .eks
            .create_nodegroup()
            .cluster_name(required(attributes, "cluster_name")?)
            .nodegroup_name(required(attributes, "nodegroup_name")?)
            .node_role(required(attributes, "node_role_arn")?)
            .set_subnets(Some(string_list(attributes, "subnet_ids")))
            .capacity_type(CapacityTypes::from(required(attributes, "capacity_type")?))
            .set_instance_types(Some(string_list(attributes, "instance_types")))
            .set_ami_type(
                attributes
                    .get("ami_type")
                    .and_then(Value::as_str)
                    .map(AmiTypes::from),
            )
            .set_disk_size(match attributes.get("disk_size") {
                Some(Value::Int(d)) => Some(*d as i32),
                _ => None,
            })
            .set_version(
                attributes
                    .get("version")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            )
            .scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(min as i32)
                    .max_size(max as i32)
                    .desired_size(desired as i32)
                    .build(),
            )
            .set_labels(Some(labels))
            .set_taints((!taints.is_empty()).then_some(taints))
            .set_update_config(max_unavailable)
            .set_tags(Some(tags))
            .client_request_token(&request.token)
            .send()
            .await
            .map_err(|e| {
                eksform_core::kinds::eks_cluster::name_clash(
                    error("CreateNodegroup", e),
                    "node group",
                    attributes
                        .get("nodegroup_name")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                )
            })?;
        match out
            .nodegroup()
            .and_then(|g| to_live(self, Finding::Stack(&request.stack), g))
        {
            Some(mut live) => {
                live.attributes.extend(attributes.clone());
                Ok(live)
            }
            None => Ok(request.created(
                self.name(),
                required(attributes, "nodegroup_name")?.to_string(),
                Status::Pending,
            )),
        }
    }

    /// By name in the spec's cluster, or by ARN
    /// (`arn:aws:eks:<region>:<account>:nodegroup/<cluster>/<name>/<uuid>`).
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let (cluster, name) = cluster_part(desired, id, "nodegroup/")?;
        match aws
            .eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .nodegroup()
                .and_then(|g| to_live(self, Finding::Adoption(&desired.address), g))),
            Err(e) => crate::none_if_not_found(error("DescribeNodegroup", e)),
        }
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let cluster = required(&live.attributes, "cluster_name")?.to_string();
        let before = &live.attributes;
        if let Some(version) = desired.get("version").and_then(Value::as_str)
            && before.get("version").and_then(Value::as_str) != Some(version)
        {
            // After the control plane (the graph orders it), straight to its version.
            let out = aws
                .eks
                .update_nodegroup_version()
                .cluster_name(&cluster)
                .nodegroup_name(&live.id)
                .version(version)
                .send()
                .await
                .map_err(|e| error("UpdateNodegroupVersion", e))?;
            await_update(aws, &cluster, UpdateOf::Nodegroup(&live.id), out.update()).await?;
        }
        let mut request = aws
            .eks
            .update_nodegroup_config()
            .cluster_name(&cluster)
            .nodegroup_name(&live.id);
        let mut changes = false;
        let (old_labels, new_labels) =
            (string_map(before, "labels"), string_map(desired, "labels"));
        if desired.contains_key("labels") && old_labels != new_labels {
            let set: HashMap<String, String> = new_labels
                .iter()
                .filter(|(k, v)| old_labels.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let removed: Vec<String> = old_labels
                .keys()
                .filter(|k| !new_labels.contains_key(*k))
                .cloned()
                .collect();
            request = request.labels(
                UpdateLabelsPayload::builder()
                    .set_add_or_update_labels((!set.is_empty()).then_some(set))
                    .set_remove_labels((!removed.is_empty()).then_some(removed))
                    .build(),
            );
            changes = true;
        }
        let old_taints = before
            .get("taints")
            .and_then(Value::as_list)
            .unwrap_or_default()
            .to_vec();
        let new_taints = desired
            .get("taints")
            .and_then(Value::as_list)
            .unwrap_or_default()
            .to_vec();
        if desired.contains_key("taints")
            && sorted(old_taints.clone()) != sorted(new_taints.clone())
        {
            let key = |v: &Value| {
                v.as_map()
                    .and_then(|m| m.get("key"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let wanted: Attributes = [(
                "taints".to_string(),
                Value::List(
                    new_taints
                        .iter()
                        .filter(|t| !old_taints.contains(t))
                        .cloned()
                        .collect(),
                ),
            )]
            .into();
            let gone: Attributes = [(
                "taints".to_string(),
                Value::List(
                    old_taints
                        .iter()
                        .filter(|t| !new_taints.iter().any(|n| key(n) == key(t)))
                        .cloned()
                        .collect(),
                ),
            )]
            .into();
            let (add, remove) = (taints(&wanted), taints(&gone));
            request = request.taints(
                UpdateTaintsPayload::builder()
                    .set_add_or_update_taints((!add.is_empty()).then_some(add))
                    .set_remove_taints((!remove.is_empty()).then_some(remove))
                    .build(),
            );
            changes = true;
        }
        if self.changed("scaling", before, desired) {
            // The spec's bounds; the size only where the group runs outside
            // them now (`node_group::size_to_set`), read again here: the
            // autoscaler may have resized the group since the plan.
            let (min, max, planned) = scaling(desired.get("scaling"));
            let running = self.read(aws, live).await?;
            let size = running.map_or(Some(planned), |now| {
                let (_, _, running) = scaling(now.attributes.get("scaling"));
                size_to_set(running, min, max)
            });
            request = request.scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(min as i32)
                    .max_size(max as i32)
                    .set_desired_size(size.map(|s| s as i32))
                    .build(),
            );
            changes = true;
        }
        let update_config_changed = ["max_unavailable", "max_unavailable_percentage"]
            .iter()
            .any(|a| self.changed(a, before, desired));
        if update_config_changed && let Some(config) = update_config(desired) {
            request = request.update_config(config);
            changes = true;
        }
        if changes {
            let out = request
                .send()
                .await
                .map_err(|e| error("UpdateNodegroupConfig", e))?;
            await_update(aws, &cluster, UpdateOf::Nodegroup(&live.id), out.update()).await?;
        }
        sync_eks_tags(aws, live, desired).await
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        if live.status == Status::Deleting {
            return Ok(());
        }
        let cluster = required(&live.attributes, "cluster_name")?;
        deleted(
            "DeleteNodegroup",
            aws.eks
                .delete_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(&live.id)
                .send()
                .await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let stack = eksform_core::kinds::tags::stack_of(&live.attributes);
        let cluster = required(&live.attributes, "cluster_name")?;
        match aws
            .eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(&live.id)
            .send()
            .await
        {
            Ok(out) => {
                if let Some(group) = out.nodegroup()
                    && matches!(
                        group.status(),
                        Some(NodegroupStatus::CreateFailed | NodegroupStatus::DeleteFailed)
                    )
                {
                    let issues: Vec<String> = group
                        .health()
                        .map(|h| {
                            h.issues()
                                .iter()
                                .filter_map(|i| i.message().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    return Err(CloudError::rejected(format!(
                        "node group {} failed: {}",
                        live.id,
                        issues.join("; ")
                    )));
                }
                Ok(out
                    .nodegroup()
                    .and_then(|g| to_live(self, Finding::Stack(&stack), g)))
            }
            Err(e) => crate::none_if_not_found(error("DescribeNodegroup", e)),
        }
    }
}

pub fn taints(attributes: &Attributes) -> Vec<Taint> {
    attributes
        .get("taints")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_map)
        .map(|t| {
            let text = |k: &str| {
                t.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            Taint::builder()
                .key(text("key"))
                .value(text("value"))
                .effect(TaintEffect::from(text("effect").as_str()))
                .build()
        })
        .collect()
}

/// The update config of desired attributes: a count or a percentage of nodes
/// unavailable during an update (the spec allows one of them).
pub fn update_config(attributes: &Attributes) -> Option<NodegroupUpdateConfig> {
    match (
        attributes.get("max_unavailable"),
        attributes.get("max_unavailable_percentage"),
    ) {
        (Some(Value::Int(m)), _) => Some(
            NodegroupUpdateConfig::builder()
                .max_unavailable(*m as i32)
                .build(),
        ),
        (_, Some(Value::Int(p))) => Some(
            NodegroupUpdateConfig::builder()
                .max_unavailable_percentage(*p as i32)
                .build(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_unavailable_percentage_is_sent() {
        let mut attributes = Attributes::new();
        attributes.insert("max_unavailable_percentage".into(), Value::Int(33));
        let config = update_config(&attributes).expect("an update config");
        assert_eq!(config.max_unavailable_percentage(), Some(33));
        assert_eq!(config.max_unavailable(), None);
    }
}
