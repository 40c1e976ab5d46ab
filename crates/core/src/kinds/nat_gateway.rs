//! NAT gateways: none, one (in the first zone) or one per zone, each in its
//! zone's public subnet with an Elastic IP. Creating and deleting take minutes;
//! the engine waits for `available` and for `deleted` (before the address is
//! released and the internet gateway detached).

use super::elastic_ip::ElasticIp;
use super::internet_gateway::InternetGateway;
use super::subnet::Subnet;
use super::{Attribute, Kind, ObservationFloor, Timings};
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{Address, DesiredResource, Value, ownership_tags};
use std::time::Duration;

pub struct NatGateway;

impl NatGateway {
    pub fn address(zone: &str) -> Address {
        Address::new(&["nat_gateway", zone])
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::replaces("allocation_id"),
    Attribute::computed("public_ip"),
    Attribute::replaces("subnet_id"),
    Attribute::tags(),
];

impl Kind for NatGateway {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor::list(1, "DescribeNatGateways")
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "ec2:CreateNatGateway",
            "ec2:CreateTags",
            "ec2:DeleteNatGateway",
            "ec2:DeleteTags",
            "ec2:DescribeNatGateways",
        ]
    }

    fn service(&self) -> &'static str {
        "ec2"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "nat_gateway"
    }

    fn id_prefix(&self) -> &'static str {
        "nat"
    }

    fn timings(&self) -> Timings {
        // NAT gateways typically take 1-3 minutes to become available and about
        // a minute to delete (AWS VPC user guide; observed).
        Timings {
            create: Duration::from_secs(120),
            delete: Duration::from_secs(60),
            update: Duration::ZERO,
            poll: Duration::from_secs(5),
            timeout: Duration::from_secs(15 * 60),
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(Network::Created(network)) = &stack.network else {
            return vec![];
        };
        network
            .nat_zones()
            .into_iter()
            .enumerate()
            .map(|(index, zone)| {
                let address = Self::address(&zone.name);
                let name = resource_name(&stack.stack, &address);
                let allocation = match network.elastic_ips.get(index) {
                    Some(brought) => Value::string(brought.clone()),
                    None => Value::reference(&ElasticIp::address(&zone.name), "id"),
                };
                DesiredResource::new(self.name(), address.clone())
                    .with(
                        "subnet_id",
                        Value::reference(&Subnet::address("public", &zone.name), "id"),
                    )
                    .with("allocation_id", allocation)
                    .with(
                        "tags",
                        Value::string_map(&ownership_tags(
                            &stack.stack,
                            &address,
                            &name,
                            &stack.tags,
                        )),
                    )
                    // A public NAT gateway needs the VPC's internet gateway attached.
                    .after(&InternetGateway::address())
            })
            .collect()
    }
}
