//! EKS add-ons. `version: latest` is resolved for the cluster's Kubernetes
//! version when the add-on is created (DescribeAddonVersions), and any live
//! version satisfies it afterwards, until the cluster's version changes: the
//! add-on carries the Kubernetes version it was resolved for (the tag
//! `eksform:kubernetes-version`), so an upgrade moves it to the newest version
//! for the new Kubernetes, after the control plane and the node groups. A
//! `serviceAccount` gives the add-on that IRSA role; `configurationValues`
//! are sent as the JSON string AWS takes and checked at plan time against the
//! version's schema (`preflight`). Add-ons that run pods on
//! nodes (all but the node-level daemons) wait until the stack's node groups
//! and Fargate profiles exist, and go before them on destroy.

use super::eks_cluster::EksCluster;
use super::fargate_profile::FargateProfile;
use super::iam_role::IamRole;
use super::node_group::NodeGroup;
use super::{Attribute, Compare, Kind, ObservationFloor, Planned, Timings};
use crate::lower::{StackModel, resource_name};
use crate::model::{Address, Attributes, DesiredResource, Value, ownership_tags};
use std::time::Duration;

pub struct Addon;

/// Add-ons that run on every node (DaemonSets): they need no compute first.
const NODE_DAEMONS: &[&str] = &["vpc-cni", "kube-proxy", "eks-pod-identity-agent"];

pub const LATEST: &str = "latest";

/// The Kubernetes version a `latest` add-on was resolved for.
pub const RESOLVED_FOR_TAG: &str = "eksform:kubernetes-version";

impl Addon {
    pub fn address(name: &str) -> Address {
        Address::new(&["addon", name])
    }
}

pub fn version_key(version: &str) -> Vec<u64> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .filter_map(|part| part.parse().ok())
        .collect()
}

/// `latest` is resolved at creation; whatever runs since satisfies it.
fn latest_or_equal(live: &Value, desired: &Value) -> bool {
    desired.as_str() == Some(LATEST) || live == desired
}

/// The Kubernetes version whose newest add-on version an update moves a
/// `latest` add-on to: the cluster's version, when the live add-on was
/// resolved for another (the cluster was upgraded). The plan shows the move
/// and the adapter makes it by this rule.
pub fn moves_to_latest_for(live: &Attributes, desired: &Attributes) -> Option<String> {
    let resolved_for = |a: &Attributes| super::tags::tags_of(a).get(RESOLVED_FOR_TAG).cloned();
    let wanted = resolved_for(desired)?;
    (desired.get("addon_version").and_then(Value::as_str) == Some(LATEST)
        && resolved_for(live).as_ref() != Some(&wanted))
    .then_some(wanted)
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::replaces("addon_name"),
    Attribute::in_place("addon_version").compared(Compare::Custom(latest_or_equal)),
    Attribute::computed("arn"),
    Attribute::replaces("cluster_name"),
    // `configurationValues` as JSON text; absent from the spec leaves the live
    // configuration alone (write `{}` to clear it).
    Attribute::in_place("configuration_values").compared(Compare::JsonSettings),
    Attribute::in_place("service_account_role_arn"),
    Attribute::tags(),
];

impl Kind for Addon {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    /// An add-on made in a cluster that already runs meets whatever is
    /// installed there (the self-managed vpc-cni, CoreDNS and kube-proxy EKS
    /// and eksctl install, tuned with kubectl or Helm): apply asks EKS to
    /// overwrite the fields its configuration sets, so the plan says so.
    fn warn_create(
        &self,
        resource: &DesiredResource,
        standing: &dyn Fn(&Address) -> bool,
    ) -> Vec<String> {
        if !standing(&EksCluster::address()) {
            return Vec::new();
        }
        let name = resource
            .attributes
            .get("addon_name")
            .and_then(Value::as_str)
            .unwrap_or("the add-on");
        vec![format!(
            "made in a cluster that already runs: EKS overwrites the fields of an installed self-managed {name} that its configuration sets (resolve conflicts: OVERWRITE); changes made to them with kubectl or Helm are lost"
        )]
    }

    fn planned(
        &self,
        attribute: &str,
        live: &Attributes,
        desired: &Value,
        desired_attributes: &Attributes,
    ) -> Option<Planned> {
        if attribute != "addon_version" {
            return None;
        }
        let kubernetes = moves_to_latest_for(live, desired_attributes)?;
        Some(Planned {
            value: desired.clone(),
            changes: true,
            note: Some(crate::plan::Note::on_value(format!(
                "the newest version for Kubernetes {kubernetes}, looked up when apply runs"
            ))),
        })
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 0,
            if_any: 0,
            each: 1,
            each_of: Some("eks_cluster"),
            how: "ListAddons a cluster + Describe an add-on",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "eks:CreateAddon",
            "eks:DeleteAddon",
            "eks:DescribeAddon",
            // The configuration schema preflight checks configurationValues against.
            "eks:DescribeAddonConfiguration",
            "eks:DescribeAddonVersions",
            "eks:DescribeCluster",
            "eks:DescribeUpdate",
            "eks:ListAddons",
            "eks:TagResource",
            "eks:UntagResource",
            "eks:UpdateAddon",
        ]
    }

    fn service(&self) -> &'static str {
        "eks"
    }

    fn name(&self) -> &'static str {
        "addon"
    }

    fn guarded(&self) -> bool {
        // Deleting an add-on such as vpc-cni or coredns takes networking or DNS from running pods.
        true
    }

    fn id_prefix(&self) -> &'static str {
        "addon"
    }

    fn timings(&self) -> Timings {
        // Add-ons become active within a few minutes (EKS user guide).
        Timings {
            create: Duration::from_secs(2 * 60),
            delete: Duration::from_secs(60),
            // An add-on update is ACTIVE again within a minute or so.
            update: Duration::from_secs(60),
            poll: Duration::from_secs(10),
            timeout: Duration::from_secs(20 * 60),
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(cluster) = &stack.cluster else {
            return vec![];
        };
        let compute: Vec<Address> = cluster
            .node_groups
            .iter()
            .map(|g| NodeGroup::address(&g.name))
            .chain(
                cluster
                    .fargate_profiles
                    .iter()
                    .map(|p| FargateProfile::address(&p.name)),
            )
            .collect();
        cluster
            .addons
            .iter()
            .map(|addon| {
                let address = Self::address(&addon.name);
                let name = resource_name(&stack.stack, &address);
                let role = match &addon.service_account {
                    Some(account) => {
                        let (namespace, account) =
                            account.split_once('/').unwrap_or(("default", account));
                        Value::reference(
                            &IamRole::address_of_service_account(namespace, account),
                            "arn",
                        )
                    }
                    None => Value::Null,
                };
                let mut tags = ownership_tags(&stack.stack, &address, &name, &stack.tags);
                if addon.version == LATEST
                    && let Some(kubernetes) = &cluster.version
                {
                    tags.insert(RESOLVED_FOR_TAG.into(), kubernetes.clone());
                }
                let mut resource = DesiredResource::new(self.name(), address.clone())
                    .with(
                        "cluster_name",
                        Value::reference(&EksCluster::address(), "name"),
                    )
                    .with("addon_name", Value::string(addon.name.clone()))
                    .with("addon_version", Value::string(addon.version.clone()))
                    .with(
                        "configuration_values",
                        addon
                            .configuration_values
                            .as_ref()
                            .map_or(Value::Null, Value::string),
                    )
                    .with("service_account_role_arn", role)
                    .with("tags", Value::string_map(&tags))
                    .after(&EksCluster::address());
                if !NODE_DAEMONS.contains(&addon.name.as_str()) {
                    for needed in &compute {
                        resource = resource.after(needed);
                    }
                }
                resource
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::version_key;

    #[test]
    fn versions_compare_by_their_numbers() {
        let mut versions = [
            "v1.9.0-eksbuild.1",
            "v1.18.3-eksbuild.1",
            "v1.18.3-eksbuild.12",
            "v1.18.3-eksbuild.2",
        ];
        versions.sort_by_key(|v| version_key(v));
        assert_eq!(versions.last(), Some(&"v1.18.3-eksbuild.12"));
    }
}
