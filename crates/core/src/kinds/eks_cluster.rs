//! The EKS control plane. Endpoint access, public access CIDRs and log types
//! change in place (one UpdateClusterConfig at a time, each awaited); the name,
//! role and subnets cannot change, so changing them replaces the cluster.
//! A version upgrade goes one minor version per step, each awaited
//! (`upgrade_steps`, which the plan shows and the adapter follows); node
//! groups and add-ons follow in their own updates. Downgrades are refused.
//! Secrets encryption can be turned on in place (AssociateEncryptionConfig),
//! never off nor to another key; the upgrade policy and zonal shift change in
//! place. Each is compared only when the spec sets it.

use super::iam_role::IamRole;
use super::log_group::LogGroup;
use super::subnet::Subnet;
use super::{Attribute, Compare, Kind, ObservationFloor, Planned, Timings};
use crate::cloud::CloudError;
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{Address, Attributes, DesiredResource, Value, ownership_tags};
use std::time::Duration;

pub struct EksCluster;

pub const ALL_LOG_TYPES: [&str; 5] = [
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
];

impl EksCluster {
    pub fn address() -> Address {
        Address::new(&["eks_cluster", "main"])
    }
}

pub fn flag(attributes: &Attributes, name: &str) -> Option<bool> {
    attributes.get(name).and_then(Value::as_bool)
}

/// What an EKS update is about.
#[derive(Debug, Clone, Copy)]
pub enum UpdateOf<'a> {
    Cluster,
    Nodegroup(&'a str),
    Addon(&'a str),
}

/// The versions an upgrade from `from` to `to` passes through, one minor
/// version per step (EKS allows no more), each a separate awaited update:
/// `1.31`, `1.32` from `1.30` to `1.32`. Empty when it is no upgrade.
pub fn upgrade_steps(from: &str, to: &str) -> Vec<String> {
    let major = |v: &str| v.split_once('.').map(|(major, _)| major.to_string());
    match (minor_of(from), minor_of(to), major(from), major(to)) {
        (Some(from_minor), Some(to_minor), Some(from_major), Some(to_major))
            if from_major == to_major =>
        {
            (from_minor + 1..=to_minor)
                .map(|step| format!("{from_major}.{step}"))
                .collect()
        }
        _ => vec![],
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::computed("arn"),
    Attribute::computed("certificate_authority_data"),
    Attribute::computed("created_at"),
    Attribute::in_place("encryption_key_arn"),
    Attribute::computed("endpoint"),
    Attribute::in_place("endpoint_private_access"),
    Attribute::in_place("endpoint_public_access"),
    Attribute::in_place("log_types"),
    Attribute::replaces("name"),
    Attribute::computed("oidc_issuer"),
    Attribute::in_place("public_access_cidrs"),
    Attribute::replaces("role_arn"),
    Attribute::computed("security_group_id"),
    Attribute::in_place("support_type"),
    // EKS keeps no order among a cluster's subnets.
    Attribute::replaces("subnet_ids").compared(Compare::Set),
    Attribute::tags(),
    Attribute::in_place("version"),
    Attribute::in_place("zonal_shift"),
];

impl Kind for EksCluster {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn planned(
        &self,
        attribute: &str,
        live: &Attributes,
        desired: &Value,
        _desired_attributes: &Attributes,
    ) -> Option<Planned> {
        if attribute != "version" {
            return None;
        }
        let from = live.get("version")?.as_str()?;
        let steps = upgrade_steps(from, desired.as_str()?);
        // One step says nothing the change itself does not.
        (steps.len() > 1).then(|| Planned {
            value: desired.clone(),
            changes: true,
            note: Some(crate::plan::Note::on_value(format!(
                "one minor version at a time, each awaited: {from} -> {}",
                steps.join(" -> ")
            ))),
        })
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 1,
            if_any: 0,
            each: 1,
            each_of: None,
            how: "ListClusters + DescribeCluster a cluster",
        }
    }

    fn delete_refused_while(&self) -> &'static [&'static str] {
        // DeleteCluster: "Cluster has nodegroups attached" (and Fargate
        // profiles): ResourceInUseException until they are gone.
        &["node_group", "fargate_profile"]
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "eks:AssociateEncryptionConfig",
            "eks:CreateCluster",
            "eks:DeleteCluster",
            "eks:DescribeCluster",
            "eks:DescribeUpdate",
            "eks:ListClusters",
            "eks:TagResource",
            "eks:UntagResource",
            "eks:UpdateClusterConfig",
            "eks:UpdateClusterVersion",
        ]
    }

    fn service(&self) -> &'static str {
        "eks"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn guarded(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "eks_cluster"
    }

    fn id_prefix(&self) -> &'static str {
        "cluster"
    }

    fn check_change(&self, attribute: &str, before: &Value, after: &Value) -> Result<(), String> {
        if attribute == "encryption_key_arn" {
            return match before.as_str() {
                Some(live) if !live.is_empty() => Err(format!(
                    "the cluster's secrets are encrypted with {live}, and EKS can neither turn secrets encryption off nor change its key: keep keyARN: {live}"
                )),
                _ => Ok(()),
            };
        }
        if attribute != "version" {
            return Ok(());
        }
        let minor = |v: &Value| {
            v.as_str()
                .and_then(|s| s.split_once('.'))
                .and_then(|(_, m)| m.parse::<u32>().ok())
        };
        match (minor(before), minor(after)) {
            (Some(live), Some(wanted)) if wanted < live => Err(format!(
                "the cluster runs Kubernetes {} and cannot go down to {}: EKS has no downgrades",
                before.as_str().unwrap_or_default(),
                after.as_str().unwrap_or_default()
            )),
            _ => Ok(()),
        }
    }

    fn timings(&self) -> Timings {
        // Creating a control plane takes 10 to 15 minutes, deleting about 5 to 10 (EKS user guide).
        Timings {
            create: Duration::from_secs(15 * 60),
            delete: Duration::from_secs(8 * 60),
            // A version or configuration update: about 8 minutes a minor version (observed).
            update: Duration::from_secs(8 * 60),
            poll: Duration::from_secs(20),
            timeout: Duration::from_secs(40 * 60),
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(cluster) = &stack.cluster else {
            return vec![];
        };
        // Private subnets, or the public ones when there are none; both
        // with `controlPlaneSubnets: PublicAndPrivate`.
        let subnets: Vec<Value> = match &stack.network {
            Some(Network::Created(network)) => network
                .zones
                .iter()
                .map(|z| Value::reference(&Subnet::address("private", &z.name), "id"))
                .chain(
                    network
                        .zones
                        .iter()
                        .filter(|z| cluster.control_plane_in_public_subnets && z.public.is_some())
                        .map(|z| Value::reference(&Subnet::address("public", &z.name), "id")),
                )
                .collect(),
            Some(Network::Brought(network)) if cluster.control_plane_in_public_subnets => network
                .subnets
                .iter()
                .map(|(_, _, id)| Value::string(id.clone()))
                .collect(),
            Some(Network::Brought(network)) => {
                let private: Vec<Value> = network
                    .subnets
                    .iter()
                    .filter(|(tier, _, _)| tier == "private")
                    .map(|(_, _, id)| Value::string(id.clone()))
                    .collect();
                if private.is_empty() {
                    network
                        .subnets
                        .iter()
                        .map(|(_, _, id)| Value::string(id.clone()))
                        .collect()
                } else {
                    private
                }
            }
            None => vec![],
        };
        let address = Self::address();
        let name = resource_name(&stack.stack, &address);
        let list = |items: &[String]| {
            Value::List(items.iter().map(|s| Value::string(s.clone())).collect())
        };
        let mut resource =
            DesiredResource::new(self.name(), address.clone())
                .with("name", Value::string(cluster.name.clone()))
                .with(
                    "role_arn",
                    Value::reference(&IamRole::address("cluster"), "arn"),
                )
                .with("subnet_ids", Value::List(subnets))
                .with(
                    "endpoint_public_access",
                    Value::Bool(cluster.endpoint_public_access),
                )
                .with(
                    "endpoint_private_access",
                    Value::Bool(cluster.endpoint_private_access),
                )
                .with(
                    "public_access_cidrs",
                    Value::List(
                        cluster
                            .public_access_cidrs
                            .iter()
                            .map(|cidr| Value::string(cidr.clone()))
                            // What a stack planned in the same run changes: known after its apply.
                            .chain(cluster.public_access_after_apply.iter().map(
                                |(stack, output)| {
                                    Value::reference(&Address::other_stack(stack), output)
                                },
                            ))
                            .collect(),
                    ),
                )
                .with("log_types", list(&cluster.log_types))
                .with(
                    "tags",
                    Value::string_map(&ownership_tags(&stack.stack, &address, &name, &stack.tags)),
                )
                // The log group first, so that EKS never makes one with infinite retention.
                .after(&LogGroup::address());
        if let Some(version) = &cluster.version {
            resource = resource.with("version", Value::string(version.clone()));
        }
        // Compared only when the spec says: a cluster's own defaults stand otherwise.
        if let Some(key) = &cluster.secrets_key_arn {
            resource = resource.with("encryption_key_arn", Value::string(key.clone()));
        }
        if let Some(support_type) = &cluster.support_type {
            resource = resource.with("support_type", Value::string(support_type.clone()));
        }
        if let Some(enabled) = cluster.zonal_shift {
            resource = resource.with("zonal_shift", Value::Bool(enabled));
        }
        vec![resource]
    }
}

/// `ResourceInUseException` from an EKS create: the name is held by another
/// resource (a retried create with the same token gets its own back). Waiting
/// cannot free it, so it is no dependency to retry.
pub fn name_clash(e: CloudError, what: &str, name: &str) -> CloudError {
    if e.code.as_deref() != Some("ResourceInUseException") {
        return e;
    }
    CloudError::new(
        crate::cloud::ErrorClass::Rejected,
        e.code.as_deref(),
        format!(
            "a {what} named {name} already exists without this stack's mark: rename it in the spec ({e})"
        ),
    )
}

/// What AWS reports of a node group's or add-on's health, for the plan: the
/// status when it is failed or degraded, with the issues' messages.
pub fn health_text<'a>(
    status: Option<&str>,
    issues: impl Iterator<Item = &'a str>,
) -> Option<String> {
    let status = status?;
    if !(status.ends_with("FAILED") || status == "DEGRADED") {
        return None;
    }
    let issues: Vec<&str> = issues.collect();
    Some(if issues.is_empty() {
        status.to_string()
    } else {
        format!("{status}: {}", issues.join("; "))
    })
}

/// The minor number of a Kubernetes version: 31 of `1.31`.
pub fn minor_of(version: &str) -> Option<u32> {
    version
        .split_once('.')
        .and_then(|(_, minor)| minor.parse().ok())
}

pub fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upgrade_goes_one_minor_version_per_step() {
        assert_eq!(upgrade_steps("1.30", "1.32"), ["1.31", "1.32"]);
        assert_eq!(upgrade_steps("1.31", "1.32"), ["1.32"]);
        assert!(upgrade_steps("1.32", "1.32").is_empty());
        assert!(upgrade_steps("1.32", "1.30").is_empty());
        assert!(upgrade_steps("1.x", "1.32").is_empty());
        let live = Attributes::from([("version".to_string(), Value::string("1.30"))]);
        let planned = EksCluster
            .planned("version", &live, &Value::string("1.32"), &Attributes::new())
            .expect("two steps are shown");
        assert!(
            planned.note.unwrap().text.ends_with("1.30 -> 1.31 -> 1.32"),
            "each step"
        );
        assert!(
            EksCluster
                .planned("version", &live, &Value::string("1.31"), &Attributes::new())
                .is_none()
        );
    }
}
