//! Elastic IPs for the NAT gateways. Addresses the user brings
//! (`vpc.nat.elasticIPs`) are not resources of the stack and are never released.

use super::{Attribute, Kind, ObservationFloor};
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{Address, DesiredResource, Value, ownership_tags};

pub struct ElasticIp;

impl ElasticIp {
    pub fn address(zone: &str) -> Address {
        Address::new(&["elastic_ip", "nat", zone])
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[Attribute::computed("public_ip"), Attribute::tags()];

impl Kind for ElasticIp {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor::list(1, "DescribeAddresses")
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "ec2:AllocateAddress",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DescribeAddresses",
            "ec2:ReleaseAddress",
        ]
    }

    fn service(&self) -> &'static str {
        "ec2"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "elastic_ip"
    }

    fn guarded(&self) -> bool {
        // Partners allow-list these addresses: a released one is gone for good.
        true
    }

    fn id_prefix(&self) -> &'static str {
        "eipalloc"
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(Network::Created(network)) = &stack.network else {
            return vec![];
        };
        if !network.elastic_ips.is_empty() {
            return vec![];
        }
        network
            .nat_zones()
            .into_iter()
            .map(|zone| {
                let address = Self::address(&zone.name);
                let name = resource_name(&stack.stack, &address);
                DesiredResource::new(self.name(), address.clone()).with(
                    "tags",
                    Value::string_map(&ownership_tags(&stack.stack, &address, &name, &stack.tags)),
                )
            })
            .collect()
    }
}
