//! Managed node groups. Labels, taints, scaling and the update config change in
//! place. Instance types, capacity type, disk size and subnets cannot: such a
//! change replaces the group create-before-destroy, under a new generated name
//! (the spec name plus a hash of those fields), so capacity never drops and
//! names never collide. `desiredCapacity` is used at creation; afterwards the
//! cluster autoscaler owns it, and eksform changes it only when it falls
//! outside [minSize, maxSize].

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_eks::types::{
    CapacityTypes, NodegroupScalingConfig, NodegroupStatus, NodegroupUpdateConfig, Taint,
    TaintEffect, UpdateLabelsPayload, UpdateTaintsPayload,
};
use sha2::{Digest, Sha256};

use super::eks_cluster::{EksCluster, UpdateOf, await_update, cluster_parts, sync_eks_tags};
use super::iam_role::IamRole;
use super::subnet::Subnet;
use super::tags::{live, required, tags_from, tags_of};
use super::{Change, Kind, Timings, deleted};
use crate::cloud::aws::{AwsClients, error};
use crate::cloud::{CloudError, CreateRequest, Scope};
use crate::lower::{Network, NodeGroupModel, StackModel, resource_name};
use crate::model::{
    Address, Attributes, DesiredResource, LiveResource, Status, Value, ownership_tags, string_list,
    string_map,
};

pub struct NodeGroup;

impl NodeGroup {
    pub fn address(name: &str) -> Address {
        Address::new(&["node_group", name])
    }

    fn to_live(&self, stack: &str, group: &aws_sdk_eks::types::Nodegroup) -> Option<LiveResource> {
        let tags = tags_from(group.tags());
        let status = match group.status()? {
            NodegroupStatus::Active | NodegroupStatus::Updating | NodegroupStatus::Degraded => {
                Status::Ready
            }
            NodegroupStatus::Deleting => Status::Deleting,
            NodegroupStatus::CreateFailed | NodegroupStatus::DeleteFailed => Status::Failed,
            _ => Status::Pending,
        };
        let health = super::eks_cluster::health_text(
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
            attributes.insert(crate::model::HEALTH.into(), Value::string(health));
        }
        live(
            self.name(),
            stack,
            group.nodegroup_name().unwrap_or_default(),
            tags,
            attributes,
            status,
        )
    }
}

fn taint_value(key: &str, value: &str, effect: &str) -> Value {
    Value::Map(BTreeMap::from([
        ("effect".to_string(), Value::string(effect)),
        ("key".to_string(), Value::string(key)),
        ("value".to_string(), Value::string(value)),
    ]))
}

fn scaling_value(min: i64, max: i64, desired: i64) -> Value {
    Value::Map(BTreeMap::from([
        ("desired_size".to_string(), Value::Int(desired)),
        ("max_size".to_string(), Value::Int(max)),
        ("min_size".to_string(), Value::Int(min)),
    ]))
}

fn int(map: &BTreeMap<String, Value>, key: &str) -> i64 {
    match map.get(key) {
        Some(Value::Int(i)) => *i,
        _ => 0,
    }
}

/// (min, max, desired) of a scaling value.
fn scaling(value: Option<&Value>) -> (i64, i64, i64) {
    value.and_then(Value::as_map).map_or((0, 0, 0), |m| {
        (
            int(m, "min_size"),
            int(m, "max_size"),
            int(m, "desired_size"),
        )
    })
}

fn taints(attributes: &Attributes) -> Vec<Taint> {
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
fn update_config(attributes: &Attributes) -> Option<NodegroupUpdateConfig> {
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

/// What places a group's subnets: each zone of its tier with the subnet's
/// CIDR (a new zone or a resplit makes new subnets), or a brought VPC's subnet ids.
fn subnet_placement(network: Option<&Network>, tier: &str) -> Vec<String> {
    match network {
        Some(Network::Created(network)) => network
            .zones
            .iter()
            .filter_map(|z| {
                let cidr = if tier == "private" {
                    Some(z.private)
                } else {
                    z.public
                };
                cidr.map(|c| format!("{}={c}", z.name))
            })
            .collect(),
        Some(Network::Brought(network)) => network
            .subnets
            .iter()
            .filter(|(t, _, _)| t == tier)
            .map(|(_, _, id)| id.clone())
            .collect(),
        None => vec![],
    }
}

/// The generated AWS name: the spec name and a hash of what forces a new group
/// (a replacement is created before the old group goes, so its name must differ).
fn generated_name(group: &NodeGroupModel, placement: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(group.instance_types.join(",").as_bytes());
    hasher.update([u8::from(group.spot), u8::from(group.private_networking)]);
    hasher.update(group.volume_size.to_be_bytes());
    let mut placement = placement.to_vec();
    placement.sort();
    hasher.update(placement.join(",").as_bytes());
    let digest = hasher.finalize();
    let base: String = group.name.chars().take(55).collect();
    format!(
        "{base}-{}",
        digest
            .iter()
            .take(3)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

#[async_trait]
impl Kind for NodeGroup {
    fn service(&self) -> &'static str {
        "eks"
    }

    fn guarded(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "node_group"
    }

    fn id_prefix(&self) -> &'static str {
        "nodegroup"
    }

    fn computed(&self) -> &'static [&'static str] {
        &["arn"]
    }

    fn change_of(&self, attribute: &str) -> Change {
        match attribute {
            "cluster_name" | "nodegroup_name" | "node_role_arn" | "subnet_ids"
            | "capacity_type" | "instance_types" | "disk_size" => Change::Replace,
            _ => Change::InPlace,
        }
    }

    fn create_before_destroy(&self) -> bool {
        true
    }

    fn delete_after(&self) -> &'static [&'static str] {
        // Add-ons go while their pods still have somewhere to run.
        &["addon"]
    }

    fn satisfied(&self, attribute: &str, live: &Value, desired: &Value) -> bool {
        if attribute == "taints" {
            // EKS keeps taints as a set: their order means nothing.
            let set = |v: &Value| {
                let mut items = v.as_list().unwrap_or_default().to_vec();
                items.sort();
                items.dedup();
                items
            };
            return set(live) == set(desired);
        }
        if matches!(attribute, "max_unavailable" | "max_unavailable_percentage")
            && desired == &Value::Null
        {
            // No updateConfig in the spec: EKS's default (one node) stands.
            return true;
        }
        if attribute != "scaling" {
            return live == desired;
        }
        // The autoscaler owns the desired size within the bounds.
        let (live_min, live_max, live_desired) = scaling(Some(live));
        let (min, max, _) = scaling(Some(desired));
        live_min == min && live_max == max && (min..=max).contains(&live_desired)
    }

    fn timings(&self) -> Timings {
        // Managed node groups take a few minutes to create and to delete (EKS user guide).
        Timings {
            create: Duration::from_secs(5 * 60),
            delete: Duration::from_secs(5 * 60),
            // A rolling update replaces the nodes: several minutes (EKS user guide).
            update: Duration::from_secs(6 * 60),
            poll: Duration::from_secs(15),
            timeout: Duration::from_secs(40 * 60),
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(cluster) = &stack.cluster else {
            return vec![];
        };
        cluster
            .node_groups
            .iter()
            .map(|group| {
                let tier = if group.private_networking {
                    "private"
                } else {
                    "public"
                };
                let subnets: Vec<Value> = match &stack.network {
                    Some(Network::Created(network)) => network
                        .zones
                        .iter()
                        .filter(|z| tier == "private" || z.public.is_some())
                        .map(|z| Value::reference(&Subnet::address(tier, &z.name), "id"))
                        .collect(),
                    Some(Network::Brought(network)) => network
                        .subnets
                        .iter()
                        .filter(|(t, _, _)| t == tier)
                        .map(|(_, _, id)| Value::string(id.clone()))
                        .collect(),
                    None => vec![],
                };
                let address = Self::address(&group.name);
                let name = resource_name(&stack.stack, &address);
                let mut tags = ownership_tags(&stack.stack, &address, &name, &stack.tags);
                tags.extend(group.tags.clone());
                let resource = DesiredResource::new(self.name(), address.clone())
                    .with("cluster_name", Value::string(cluster.name.clone()))
                    .with(
                        "nodegroup_name",
                        Value::string(generated_name(
                            group,
                            &subnet_placement(stack.network.as_ref(), tier),
                        )),
                    )
                    .with(
                        "node_role_arn",
                        Value::reference(&IamRole::address("node"), "arn"),
                    )
                    .with("subnet_ids", Value::List(subnets))
                    .with(
                        "capacity_type",
                        Value::string(if group.spot { "SPOT" } else { "ON_DEMAND" }),
                    )
                    .with(
                        "instance_types",
                        Value::List(
                            group
                                .instance_types
                                .iter()
                                .map(|t| Value::string(t.clone()))
                                .collect(),
                        ),
                    )
                    .with("disk_size", Value::Int(group.volume_size.into()))
                    .with("labels", Value::string_map(&group.labels))
                    .with(
                        "taints",
                        Value::List(
                            group
                                .taints
                                .iter()
                                .map(|(k, v, e)| taint_value(k, v, e))
                                .collect(),
                        ),
                    )
                    .with(
                        "scaling",
                        scaling_value(
                            group.min_size.into(),
                            group.max_size.into(),
                            group.desired_size.into(),
                        ),
                    )
                    .with(
                        "max_unavailable",
                        group
                            .max_unavailable
                            .map_or(Value::Null, |m| Value::Int(m.into())),
                    )
                    .with(
                        "max_unavailable_percentage",
                        group
                            .max_unavailable_percentage
                            .map_or(Value::Null, |m| Value::Int(m.into())),
                    )
                    .with("tags", Value::string_map(&tags))
                    .after(&EksCluster::address());
                match &cluster.version {
                    // Node groups follow the control plane's version.
                    Some(version) => resource.with("version", Value::string(version.clone())),
                    None => resource,
                }
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
        let names = cluster_parts(
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
            .filter_map(|out| out.nodegroup().and_then(|g| self.to_live(&scope.stack, g)))
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
                super::eks_cluster::name_clash(
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
            .and_then(|g| self.to_live(&request.stack, g))
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
        if let Some(wanted) = desired.get("scaling")
            && !self.satisfied(
                "scaling",
                before.get("scaling").unwrap_or(&Value::Null),
                wanted,
            )
        {
            let (min, max, _) = scaling(Some(wanted));
            let (_, _, live_desired) = scaling(before.get("scaling"));
            request = request.scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(min as i32)
                    .max_size(max as i32)
                    .desired_size(live_desired.clamp(min, max) as i32)
                    .build(),
            );
            changes = true;
        }
        let update_config_changed = ["max_unavailable", "max_unavailable_percentage"]
            .iter()
            .any(|a| {
                desired.get(*a).is_some_and(|wanted| {
                    !self.satisfied(a, before.get(*a).unwrap_or(&Value::Null), wanted)
                })
            });
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
        let stack = super::tags::stack_of(&live.attributes);
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
                Ok(out.nodegroup().and_then(|g| self.to_live(&stack, g)))
            }
            Err(e) => super::none_if_not_found(error("DescribeNodegroup", e)),
        }
    }
}

fn sorted(mut items: Vec<Value>) -> Vec<Value> {
    items.sort();
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SourceFile;

    fn group_of(zones: &str, group: &str) -> DesiredResource {
        let text = format!(
            "stack: ng\nregion: us-east-1\nvpc:\n  cidr: 10.40.0.0/16\n  availabilityZones: [{zones}]\ncluster:\n  name: ng-eks\nmanagedNodeGroups:\n  - name: general\n    minSize: 1\n    maxSize: 3\n{group}"
        );
        let loaded = crate::spec::parse(SourceFile::new("ng.yaml", text)).expect("valid spec");
        let model = crate::lower::model(&loaded.spec);
        NodeGroup.lower(&model).remove(0)
    }

    fn name(group: &DesiredResource) -> String {
        group.attributes["nodegroup_name"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_new_zone_gives_the_replacement_a_new_name() {
        let two = group_of("us-east-1a, us-east-1b", "");
        assert_eq!(name(&two), name(&group_of("us-east-1a, us-east-1b", "")));
        assert_ne!(
            name(&two),
            name(&group_of("us-east-1a, us-east-1b, us-east-1c", "")),
            "the subnets change: the group is replaced create-before-destroy, under a new name"
        );
    }

    #[test]
    fn taints_compare_as_a_set() {
        let a = taint_value("a", "1", "NO_SCHEDULE");
        let b = taint_value("b", "", "NO_EXECUTE");
        let live = Value::List(vec![b.clone(), a.clone()]);
        assert!(NodeGroup.satisfied("taints", &live, &Value::List(vec![a.clone(), b])));
        assert!(!NodeGroup.satisfied("taints", &live, &Value::List(vec![a])));
    }

    #[test]
    fn max_unavailable_percentage_is_sent() {
        let group = group_of(
            "us-east-1a, us-east-1b",
            "    updateConfig: { maxUnavailablePercentage: 33 }\n",
        );
        assert_eq!(
            group.attributes["max_unavailable_percentage"],
            Value::Int(33)
        );
        let config = update_config(&group.attributes).expect("an update config");
        assert_eq!(config.max_unavailable_percentage(), Some(33));
        assert_eq!(config.max_unavailable(), None);
        // Unset, EKS's default stands: no perpetual diff.
        assert!(NodeGroup.satisfied("max_unavailable_percentage", &Value::Null, &Value::Null));
        assert!(NodeGroup.satisfied("max_unavailable", &Value::Int(1), &Value::Null));
        assert!(!NodeGroup.satisfied("max_unavailable_percentage", &Value::Null, &Value::Int(33)));
    }
}
