//! Subnets: one public and one private per availability zone, with the tags
//! Kubernetes load balancing looks for.

use super::vpc::Vpc;
use std::collections::BTreeMap;

use super::{Attribute, Compare, Kind, ObservationFloor, Planned};
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{Address, Attributes, DesiredResource, LiveResource, Value, ownership_tags};

pub struct Subnet;

impl Subnet {
    pub fn address(tier: &str, zone: &str) -> Address {
        Address::new(&["subnet", tier, zone])
    }
}

/// The tags Kubernetes expects on a subnet of this tier.
pub fn kubernetes_tags(tier: &str, cluster: Option<&str>) -> Vec<(String, String)> {
    let role = if tier == "public" {
        "kubernetes.io/role/elb"
    } else {
        "kubernetes.io/role/internal-elb"
    };
    let mut tags = vec![(role.to_string(), "1".to_string())];
    if let Some(cluster) = cluster {
        tags.push((
            format!("kubernetes.io/cluster/{cluster}"),
            "shared".to_string(),
        ));
    }
    tags
}

/// The tag a cluster puts on the subnets it runs in. Clusters of other
/// stacks living in this stack's network (`vpc.id` from its outputs) add
/// theirs: they are kept and never compared.
const CLUSTER_TAG_PREFIX: &str = "kubernetes.io/cluster/";

/// Whether `key` is another stack's cluster tag: one the desired tags lack.
fn is_other_clusters_tag(key: &str, desired: &BTreeMap<String, Value>) -> bool {
    key.starts_with(CLUSTER_TAG_PREFIX) && !desired.contains_key(key)
}

/// The desired tags, other clusters' tags on the live subnet aside.
fn same_tags_but_other_clusters(live: &Value, desired: &Value) -> bool {
    match (live.as_map(), desired.as_map()) {
        (Some(live), Some(desired)) => {
            let mine: BTreeMap<&String, &Value> = live
                .iter()
                .filter(|(key, _)| !is_other_clusters_tag(key, desired))
                .collect();
            mine == desired.iter().collect()
        }
        _ => live == desired,
    }
}

/// `desired` with the live subnet's other clusters' tags kept, for the tag sync.
pub fn keeping_other_clusters_tags(live: &Attributes, desired: &Attributes) -> Attributes {
    let mut kept = desired.clone();
    if let (Some(live_tags), Some(desired_tags)) = (
        live.get("tags").and_then(Value::as_map),
        desired.get("tags").and_then(Value::as_map),
    ) {
        let mut tags = desired_tags.clone();
        for (key, value) in live_tags {
            if is_other_clusters_tag(key, desired_tags) {
                tags.insert(key.clone(), value.clone());
            }
        }
        kept.insert("tags".into(), Value::Map(tags));
    }
    kept
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::replaces("availability_zone"),
    Attribute::replaces("cidr_block"),
    Attribute::in_place("map_public_ip_on_launch"),
    Attribute::tags().compared(Compare::Custom(same_tags_but_other_clusters)),
    Attribute::replaces("vpc_id"),
];

impl Kind for Subnet {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    /// The tags apply leaves: the spec's, other clusters' kept, so the plan
    /// never shows as removed a tag apply keeps.
    fn planned(
        &self,
        attribute: &str,
        live: &Attributes,
        desired: &Value,
        _desired_attributes: &Attributes,
    ) -> Option<Planned> {
        if attribute != "tags" {
            return None;
        }
        let live_tags = live.get("tags")?;
        let wanted = Attributes::from([("tags".to_string(), desired.clone())]);
        let value = keeping_other_clusters_tags(live, &wanted).remove("tags")?;
        Some(Planned {
            changes: !same_tags_but_other_clusters(live_tags, desired),
            value,
            note: None,
        })
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor::list(1, "DescribeSubnets")
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "ec2:CreateSubnet",
            "ec2:CreateTags",
            "ec2:DeleteSubnet",
            "ec2:DeleteTags",
            "ec2:DescribeSubnets",
            "ec2:ModifySubnetAttribute",
        ]
    }

    fn service(&self) -> &'static str {
        "ec2"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "subnet"
    }

    fn id_prefix(&self) -> &'static str {
        "subnet"
    }

    fn in_the_way(&self, desired: &DesiredResource, live: &LiveResource) -> bool {
        let cidr = |attributes: &Attributes| {
            attributes
                .get("cidr_block")
                .and_then(Value::as_str)
                .and_then(|c| c.parse::<ipnet::Ipv4Net>().ok())
        };
        match (cidr(&desired.attributes), cidr(&live.attributes)) {
            (Some(new), Some(old)) => new.contains(&old) || old.contains(&new),
            _ => false,
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(Network::Created(network)) = &stack.network else {
            return vec![];
        };
        let mut out = Vec::new();
        for zone in &network.zones {
            let tiers = [("public", zone.public), ("private", Some(zone.private))];
            for (tier, cidr) in tiers {
                let Some(cidr) = cidr else { continue };
                let address = Self::address(tier, &zone.name);
                let name = resource_name(&stack.stack, &address);
                let mut tags = ownership_tags(&stack.stack, &address, &name, &stack.tags);
                tags.extend(kubernetes_tags(tier, stack.cluster_name.as_deref()));
                out.push(
                    DesiredResource::new(self.name(), address)
                        .with("vpc_id", Value::reference(&Vpc::address(), "id"))
                        .with("cidr_block", Value::string(cidr.to_string()))
                        .with("availability_zone", Value::string(zone.name.clone()))
                        .with("map_public_ip_on_launch", Value::Bool(tier == "public"))
                        .with("tags", Value::string_map(&tags)),
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod other_clusters_tags {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::string(*v)))
                .collect(),
        )
    }

    #[test]
    fn other_stacks_cluster_tags_are_neither_compared_nor_removed() {
        let desired = tags(&[("kubernetes.io/role/elb", "1"), ("Name", "net")]);
        let live = tags(&[
            ("kubernetes.io/role/elb", "1"),
            ("Name", "net"),
            ("kubernetes.io/cluster/blue", "shared"),
        ]);
        assert!(same_tags_but_other_clusters(&live, &desired));
        let changed = tags(&[("kubernetes.io/role/elb", "1"), ("Name", "other")]);
        assert!(!same_tags_but_other_clusters(&live, &changed));
        // This stack's own cluster tag is compared as any other.
        let own = tags(&[
            ("kubernetes.io/role/elb", "1"),
            ("Name", "net"),
            ("kubernetes.io/cluster/blue", "owned"),
        ]);
        assert!(!same_tags_but_other_clusters(&live, &own));

        let attributes = |tags: Value| Attributes::from([("tags".to_string(), tags)]);
        let synced = keeping_other_clusters_tags(&attributes(live.clone()), &attributes(changed));
        assert_eq!(
            synced["tags"],
            tags(&[
                ("kubernetes.io/role/elb", "1"),
                ("Name", "other"),
                ("kubernetes.io/cluster/blue", "shared"),
            ])
        );
    }
}
