//! Managed node groups. Labels, taints, scaling and the update config change in
//! place. Instance types, capacity type, disk size and subnets cannot: such a
//! change replaces the group create-before-destroy, under a new generated name
//! (the spec name plus a hash of those fields), so capacity never drops and
//! names never collide. `desiredCapacity` is used at creation; afterwards the
//! cluster autoscaler owns it, and eksform changes it only when it falls
//! outside [minSize, maxSize]. The AMI type (`amiFamily` and the instance
//! types' architecture) is set at creation: a different one is refused with
//! the way to get it (a new group beside the old).

use super::eks_cluster::EksCluster;
use super::iam_role::IamRole;
use super::subnet::Subnet;
use super::{Attribute, Compare, Kind, ObservationFloor, Planned, Timings};
use crate::lower::{Network, NodeGroupModel, StackModel, resource_name};
use crate::model::{Address, Attributes, DesiredResource, Value, ownership_tags};
use crate::plan::Note;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;

pub struct NodeGroup;

impl NodeGroup {
    pub fn address(name: &str) -> Address {
        Address::new(&["node_group", name])
    }
}

/// A processor architecture of EC2 instance types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    X86,
    Arm,
}

impl Architecture {
    pub fn describe(self) -> &'static str {
        match self {
            Architecture::X86 => "x86_64",
            Architecture::Arm => "arm64 (Graviton)",
        }
    }
}

/// The architecture of an instance type, read from its family's name as EC2
/// names them: a `g` after the generation digit is Graviton (`m7g`, `c6gn`,
/// `t4g`, `x2gd`, `im4gn`, `g5g`), and `a1` is the first Graviton. None for a
/// name of another form (then nothing is checked).
pub fn architecture_of(instance_type: &str) -> Option<Architecture> {
    let family = instance_type.split('.').next()?;
    if family == "a1" {
        return Some(Architecture::Arm);
    }
    let after_letters = family.trim_start_matches(|c: char| c.is_ascii_lowercase());
    let suffix = after_letters.trim_start_matches(|c: char| c.is_ascii_digit());
    if after_letters.len() == family.len() || suffix.len() == after_letters.len() {
        // No leading letters or no generation digit: not an EC2 family name.
        return None;
    }
    Some(if suffix.contains('g') {
        Architecture::Arm
    } else {
        Architecture::X86
    })
}

/// EKS's `amiType` for an `amiFamily` on an architecture.
pub fn ami_type(family: crate::spec::AmiFamily, architecture: Architecture) -> &'static str {
    use crate::spec::AmiFamily::*;
    match (family, architecture) {
        (AmazonLinux2023, Architecture::X86) => "AL2023_x86_64_STANDARD",
        (AmazonLinux2023, Architecture::Arm) => "AL2023_ARM_64_STANDARD",
        (AmazonLinux2, Architecture::X86) => "AL2_x86_64",
        (AmazonLinux2, Architecture::Arm) => "AL2_ARM_64",
        (Bottlerocket, Architecture::X86) => "BOTTLEROCKET_x86_64",
        (Bottlerocket, Architecture::Arm) => "BOTTLEROCKET_ARM_64",
    }
}

pub fn taint_value(key: &str, value: &str, effect: &str) -> Value {
    Value::Map(BTreeMap::from([
        ("effect".to_string(), Value::string(effect)),
        ("key".to_string(), Value::string(key)),
        ("value".to_string(), Value::string(value)),
    ]))
}

pub fn scaling_value(min: i64, max: i64, desired: i64) -> Value {
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
pub fn scaling(value: Option<&Value>) -> (i64, i64, i64) {
    value.and_then(Value::as_map).map_or((0, 0, 0), |m| {
        (
            int(m, "min_size"),
            int(m, "max_size"),
            int(m, "desired_size"),
        )
    })
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

/// No updateConfig in the spec: EKS's default (one node) stands.
fn default_when_unset(live: &Value, desired: &Value) -> bool {
    desired == &Value::Null || live == desired
}

/// The autoscaler owns the desired size within the bounds.
fn within_bounds(live: &Value, desired: &Value) -> bool {
    let (live_min, live_max, live_desired) = scaling(Some(live));
    let (min, max, _) = scaling(Some(desired));
    live_min == min && live_max == max && (min..=max).contains(&live_desired)
}

/// The desired size an update of the bounds sends: none while the size the
/// group runs is within them (the cluster autoscaler's to keep), the running
/// size clamped into them otherwise. Asked with the size the group runs when
/// the update is sent, not the plan's: the autoscaler may have moved it since,
/// and sending the plan's would scale the group back.
pub fn size_to_set(running: i64, min: i64, max: i64) -> Option<i64> {
    // Not `clamp`: the spec check keeps min <= max, but this never panics.
    (!(min..=max).contains(&running)).then(|| running.max(min).min(max))
}

/// The scaling an update sets: the spec's bounds, and the size the group
/// runs (the cluster autoscaler's) kept when it is within them, clamped into
/// them otherwise. The spec's desiredCapacity only sizes a new group. The plan
/// shows this value; the adapter sends the bounds, and a size only where the
/// group runs outside them when the update is sent (`size_to_set`).
pub fn scaling_to_apply(live: &Value, desired: &Value) -> Planned {
    let (min, max, wanted) = scaling(Some(desired));
    let (_, _, running) = scaling(Some(live));
    let size = size_to_set(running, min, max).unwrap_or(running);
    let value = scaling_value(min, max, size);
    let note = if size != running {
        Some(Note::on_element(
            "desired_size",
            format!("clamped into [{min}, {max}]; the cluster autoscaler owns the desired size"),
        ))
    } else if wanted != running {
        Some(Note::on_element(
            "desired_size",
            format!(
                "desiredCapacity ({wanted}) is used only at creation; the cluster autoscaler owns the desired size now: it stays {running}, within [{min}, {max}]"
            ),
        ))
    } else {
        None
    };
    Planned {
        changes: live != &value,
        value,
        note,
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    // Refused when it differs (`check_change`): the name hash does not cover it.
    Attribute::replaces("ami_type"),
    Attribute::computed("arn"),
    Attribute::replaces("capacity_type"),
    Attribute::replaces("cluster_name"),
    Attribute::replaces("disk_size"),
    Attribute::replaces("instance_types"),
    Attribute::in_place("labels"),
    Attribute::in_place("max_unavailable").compared(Compare::Custom(default_when_unset)),
    Attribute::in_place("max_unavailable_percentage").compared(Compare::Custom(default_when_unset)),
    Attribute::replaces("node_role_arn"),
    Attribute::replaces("nodegroup_name"),
    Attribute::in_place("scaling").compared(Compare::Custom(within_bounds)),
    Attribute::replaces("subnet_ids"),
    Attribute::tags(),
    Attribute::in_place("taints").compared(Compare::Set),
    Attribute::in_place("version"),
];

impl Kind for NodeGroup {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn adopted_identity(&self) -> &'static [&'static str] {
        &["nodegroup_name"]
    }

    fn planned(
        &self,
        attribute: &str,
        live: &Attributes,
        desired: &Value,
        _desired_attributes: &Attributes,
    ) -> Option<Planned> {
        match attribute {
            "scaling" => Some(scaling_to_apply(live.get("scaling")?, desired)),
            _ => None,
        }
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 0,
            if_any: 0,
            each: 1,
            each_of: Some("eks_cluster"),
            how: "ListNodegroups a cluster + Describe a group",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "eks:CreateNodegroup",
            "eks:DeleteNodegroup",
            "eks:DescribeCluster",
            "eks:DescribeNodegroup",
            "eks:DescribeUpdate",
            "eks:ListNodegroups",
            "eks:TagResource",
            "eks:UntagResource",
            "eks:UpdateNodegroupConfig",
            "eks:UpdateNodegroupVersion",
        ]
    }

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

    fn check_change(&self, attribute: &str, before: &Value, after: &Value) -> Result<(), String> {
        match (attribute, before.as_str(), after.as_str()) {
            ("ami_type", Some(live), Some(wanted)) if live != wanted => Err(format!(
                "the group runs {live} and EKS sets a group's AMI type only at creation: to move to {wanted}, add a group under a new name with that amiFamily and remove this one (eksform makes the new group before it deletes the old)"
            )),
            _ => Ok(()),
        }
    }

    fn create_before_destroy(&self) -> bool {
        true
    }

    fn delete_after(&self) -> &'static [&'static str] {
        // Add-ons go while their pods still have somewhere to run.
        &["addon"]
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
                    .with(
                        "cluster_name",
                        Value::reference(&EksCluster::address(), "name"),
                    )
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
                let resource = match &group.ami_type {
                    Some(ami_type) => resource.with("ami_type", Value::string(ami_type.clone())),
                    None => resource,
                };
                match &cluster.version {
                    // Node groups follow the control plane's version.
                    Some(version) => resource.with("version", Value::string(version.clone())),
                    None => resource,
                }
            })
            .collect()
    }
}

pub fn sorted(mut items: Vec<Value>) -> Vec<Value> {
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
    fn an_update_keeps_the_autoscalers_size_within_the_bounds_and_clamps_it_into_them() {
        let live = scaling_value(2, 8, 3);
        // 5/4/12: 3 is below the new minimum, so 4.
        let raised = scaling_to_apply(&live, &scaling_value(4, 12, 5));
        assert_eq!(raised.value, scaling_value(4, 12, 4));
        assert!(raised.changes);
        let note = raised.note.expect("says why");
        assert_eq!(note.element.as_deref(), Some("desired_size"));
        assert!(note.text.contains("clamped into [4, 12]"), "{}", note.text);
        // 2/1/12 is no scale-down: 3 is within [1, 12] and stays.
        let widened = scaling_to_apply(&live, &scaling_value(1, 12, 2));
        assert_eq!(widened.value, scaling_value(1, 12, 3));
        assert!(widened.note.unwrap().text.contains("stays 3"));
        // Only desiredCapacity differs: nothing to change, and a note says why.
        let same_bounds = scaling_to_apply(&live, &scaling_value(2, 8, 5));
        assert!(!same_bounds.changes);
        assert_eq!(same_bounds.value, live);
        assert!(
            same_bounds
                .note
                .unwrap()
                .text
                .contains("used only at creation")
        );
        // Above a lowered maximum: the maximum.
        let lowered = scaling_to_apply(&scaling_value(1, 10, 9), &scaling_value(1, 6, 2));
        assert_eq!(lowered.value, scaling_value(1, 6, 6));
    }

    #[test]
    fn an_update_sends_a_size_only_where_the_group_runs_outside_its_new_bounds() {
        assert_eq!(size_to_set(3, 1, 10), None, "within: the autoscaler's");
        assert_eq!(size_to_set(3, 3, 3), None);
        assert_eq!(size_to_set(3, 4, 12), Some(4));
        assert_eq!(size_to_set(9, 1, 6), Some(6));
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
        // Unset, EKS's default stands: no perpetual diff.
        assert!(NodeGroup.satisfied("max_unavailable_percentage", &Value::Null, &Value::Null));
        assert!(NodeGroup.satisfied("max_unavailable", &Value::Int(1), &Value::Null));
        assert!(!NodeGroup.satisfied("max_unavailable_percentage", &Value::Null, &Value::Int(33)));
    }
}
