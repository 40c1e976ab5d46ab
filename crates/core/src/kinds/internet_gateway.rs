//! The internet gateway and its attachment to the VPC.

use super::vpc::Vpc;
use super::{Attribute, Kind, ObservationFloor};
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{Address, DesiredResource, Value, ownership_tags};

pub struct InternetGateway;

impl InternetGateway {
    pub fn address() -> Address {
        Address::new(&["internet_gateway", "main"])
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[Attribute::tags(), Attribute::in_place("vpc_id")];

impl Kind for InternetGateway {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor::list(1, "DescribeInternetGateways")
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "ec2:AttachInternetGateway",
            "ec2:CreateInternetGateway",
            "ec2:CreateTags",
            "ec2:DeleteInternetGateway",
            "ec2:DeleteTags",
            "ec2:DescribeInternetGateways",
            "ec2:DetachInternetGateway",
        ]
    }

    fn service(&self) -> &'static str {
        "ec2"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "internet_gateway"
    }

    fn id_prefix(&self) -> &'static str {
        "igw"
    }

    fn delete_refused_while(&self) -> &'static [&'static str] {
        // AWS refuses to detach while NAT gateways still map public addresses.
        &["nat_gateway", "elastic_ip"]
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(Network::Created(network)) = &stack.network else {
            return vec![];
        };
        if network.zones.iter().all(|z| z.public.is_none()) {
            return vec![];
        }
        let address = Self::address();
        let name = resource_name(&stack.stack, &address);
        vec![
            DesiredResource::new(self.name(), address.clone())
                .with("vpc_id", Value::reference(&Vpc::address(), "id"))
                .with(
                    "tags",
                    Value::string_map(&ownership_tags(&stack.stack, &address, &name, &stack.tags)),
                ),
        ]
    }
}
