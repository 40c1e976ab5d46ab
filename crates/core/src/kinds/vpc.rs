//! The VPC: CIDR, DNS support and hostnames (both on, as EKS needs), tags.

use super::{Attribute, Kind, ObservationFloor};
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{Address, DesiredResource, Value, ownership_tags};

pub struct Vpc;

impl Vpc {
    pub fn address() -> Address {
        Address::new(&["vpc", "main"])
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::replaces("cidr_block"),
    Attribute::in_place("enable_dns_hostnames"),
    Attribute::in_place("enable_dns_support"),
    Attribute::tags(),
];

impl Kind for Vpc {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 1,
            if_any: 0,
            each: 2,
            each_of: None,
            how: "DescribeVpcs + 2 DNS attributes a VPC",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "ec2:CreateTags",
            "ec2:CreateVpc",
            "ec2:DeleteTags",
            "ec2:DeleteVpc",
            "ec2:DescribeVpcAttribute",
            "ec2:DescribeVpcs",
            "ec2:ModifyVpcAttribute",
        ]
    }

    fn service(&self) -> &'static str {
        "ec2"
    }

    fn guarded(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "vpc"
    }

    fn id_prefix(&self) -> &'static str {
        "vpc"
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(Network::Created(network)) = &stack.network else {
            return vec![];
        };
        let address = Self::address();
        let name = resource_name(&stack.stack, &address);
        vec![
            DesiredResource::new(self.name(), address.clone())
                .with("cidr_block", Value::string(network.cidr.to_string()))
                .with("enable_dns_support", Value::Bool(true))
                .with("enable_dns_hostnames", Value::Bool(true))
                .with(
                    "tags",
                    Value::string_map(&ownership_tags(&stack.stack, &address, &name, &stack.tags)),
                ),
        ]
    }
}
