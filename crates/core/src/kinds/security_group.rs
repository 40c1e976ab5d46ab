//! The security group of a load balancer: HTTP and HTTPS in from
//! `ingressCIDRs`, everything out to the VPC (or anywhere, for a brought VPC
//! whose CIDR eksform does not know). Rules change in place.

use super::{Attribute, Kind, ObservationFloor, Timings};
use crate::lower::{Network, StackModel, resource_name, vpc_value};
use crate::model::{Address, DesiredResource, Value, ownership_tags};
use std::time::Duration;

pub struct SecurityGroup;

impl SecurityGroup {
    pub fn address(load_balancer: &str) -> Address {
        Address::new(&["security_group", "load_balancer", load_balancer])
    }
}

#[derive(Clone, Copy)]
pub enum Direction {
    Ingress,
    Egress,
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::replaces("description"),
    Attribute::in_place("egress"),
    Attribute::in_place("ingress"),
    Attribute::replaces("name"),
    Attribute::tags(),
    Attribute::replaces("vpc_id"),
];

impl Kind for SecurityGroup {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn adopted_identity(&self) -> &'static [&'static str] {
        &["name", "description"]
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor::list(1, "DescribeSecurityGroups")
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:CreateSecurityGroup",
            "ec2:CreateTags",
            "ec2:DeleteSecurityGroup",
            "ec2:DeleteTags",
            "ec2:DescribeSecurityGroups",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
        ]
    }

    fn service(&self) -> &'static str {
        "ec2"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "security_group"
    }

    fn id_prefix(&self) -> &'static str {
        "sg"
    }

    fn timings(&self) -> Timings {
        Timings {
            // A deleted load balancer lets go of its network interfaces slowly.
            timeout: Duration::from_secs(10 * 60),
            ..Timings::immediate()
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(network) = &stack.network else {
            return vec![];
        };
        let egress_to = match network {
            Network::Created(created) => created.cidr.to_string(),
            Network::Brought(_) => "0.0.0.0/0".into(),
        };
        stack
            .load_balancers
            .iter()
            .map(|lb| {
                let address = Self::address(&lb.name);
                let name = resource_name(&stack.stack, &address);
                let ingress: Vec<String> = lb
                    .ingress_cidrs
                    .iter()
                    .flat_map(|cidr| [format!("tcp:80:{cidr}"), format!("tcp:443:{cidr}")])
                    .collect();
                DesiredResource::new(self.name(), address.clone())
                    .with("name", Value::string(name.clone()))
                    .with(
                        "description",
                        Value::string(format!(
                            "Load balancer {} of stack {}",
                            lb.name, stack.stack
                        )),
                    )
                    .with("vpc_id", vpc_value(network))
                    .with("ingress", Value::string_set(&ingress))
                    .with("egress", Value::string_set(&[format!("all:{egress_to}")]))
                    .with(
                        "tags",
                        Value::string_map(&ownership_tags(
                            &stack.stack,
                            &address,
                            &name,
                            &stack.tags,
                        )),
                    )
            })
            .collect()
    }
}
