//! The subnets of a brought VPC (`vpc.id`): eksform creates nothing there and
//! only adds the tags EKS and the load balancer controller look for. It never
//! removes a tag from them, and destroy leaves them as they are.

use super::subnet::kubernetes_tags;
use super::{Attribute, Compare, Kind, ObservationFloor, Planned};
use crate::lower::{Network, StackModel};
use crate::model::{Address, Attributes, DesiredResource, Value};

pub struct SubnetTags;

/// Enough that every wanted tag is there; other tags are someone else's.
fn has_every_wanted_tag(live: &Value, desired: &Value) -> bool {
    match (live.as_map(), desired.as_map()) {
        (Some(live), Some(desired)) => desired.iter().all(|(k, v)| live.get(k) == Some(v)),
        _ => live == desired,
    }
}

/// The tags the subnet has after apply: every live tag, the wanted ones
/// added or set. Apply only adds (`tag_changes`' first half).
fn with_wanted_tags(live: &Value, desired: &Value) -> Value {
    let mut tags = live.as_map().cloned().unwrap_or_default();
    tags.extend(desired.as_map().cloned().unwrap_or_default());
    Value::Map(tags)
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::in_place("id"),
    Attribute::tags().compared(Compare::Custom(has_every_wanted_tag)),
];

impl Kind for SubnetTags {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    /// The subnet's tags with the wanted ones added: the plan shows the
    /// additions only, never the subnet's other tags as removed.
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
        Some(Planned {
            changes: !has_every_wanted_tag(live_tags, desired),
            value: with_wanted_tags(live_tags, desired),
            note: None,
        })
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 0,
            if_any: 1,
            each: 0,
            each_of: None,
            how: "DescribeSubnets of the brought subnets",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &["ec2:CreateTags", "ec2:DescribeSubnets"]
    }

    fn service(&self) -> &'static str {
        "ec2"
    }

    fn name(&self) -> &'static str {
        "subnet_tags"
    }

    fn id_prefix(&self) -> &'static str {
        "subnet"
    }

    fn is_brought(&self) -> bool {
        true
    }

    fn looked_up_by(&self) -> Option<&'static str> {
        Some("id")
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(Network::Brought(network)) = &stack.network else {
            return vec![];
        };
        network
            .subnets
            .iter()
            .map(|(tier, zone, id)| {
                let tags = kubernetes_tags(tier, stack.cluster_name.as_deref())
                    .into_iter()
                    .collect();
                DesiredResource::new(self.name(), Address::new(&["subnet_tags", tier, zone]))
                    .with("id", Value::string(id.clone()))
                    .with("tags", Value::string_map(&tags))
            })
            .collect()
    }
}
