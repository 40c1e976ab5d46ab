//! Application load balancers of `loadBalancers`: in the public subnets when
//! internet-facing, the private ones when internal, behind their own security
//! group, with the idle timeout attribute. Also the ELBv2 helpers the target
//! group and listener kinds share (tags, the stack's load balancers).

use super::security_group::SecurityGroup;
use super::{Attribute, Kind, ObservationFloor, Timings};
use crate::lower::{StackModel, fit_name, resource_name, subnet_values};
use crate::model::{Address, Attributes, DesiredResource, Value, ownership_tags};
use std::time::Duration;

pub struct LoadBalancer;

impl LoadBalancer {
    pub fn address(name: &str) -> Address {
        Address::new(&["load_balancer", name])
    }
}

pub const IDLE_TIMEOUT: &str = "idle_timeout.timeout_seconds";

/// AWS's limit on a load balancer's name.
pub const NAME_MAX: usize = 32;

pub fn idle_timeout(attributes: &Attributes) -> Option<String> {
    match attributes.get("idle_timeout_seconds") {
        Some(Value::Int(seconds)) => Some(seconds.to_string()),
        _ => None,
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::computed("arn"),
    Attribute::computed("canonical_hosted_zone_id"),
    Attribute::computed("dns_name"),
    Attribute::in_place("idle_timeout_seconds"),
    Attribute::replaces("name"),
    Attribute::replaces("scheme"),
    Attribute::in_place("security_group_ids"),
    Attribute::in_place("subnet_ids"),
    Attribute::tags(),
];

impl Kind for LoadBalancer {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn adopted_identity(&self) -> &'static [&'static str] {
        &["name"]
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 1,
            if_any: 1,
            each: 1,
            each_of: None,
            how: "DescribeLoadBalancers + DescribeTags + attributes a load balancer",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:CreateLoadBalancer",
            "elasticloadbalancing:DeleteLoadBalancer",
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:RemoveTags",
            "elasticloadbalancing:SetSecurityGroups",
            "elasticloadbalancing:SetSubnets",
        ]
    }

    fn service(&self) -> &'static str {
        "elasticloadbalancing"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn guarded(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "load_balancer"
    }

    fn id_prefix(&self) -> &'static str {
        "arn:aws:elasticloadbalancing"
    }

    fn timings(&self) -> Timings {
        Timings {
            create: Duration::from_secs(3 * 60),
            delete: Duration::ZERO,
            update: Duration::ZERO,
            poll: Duration::from_secs(15),
            timeout: Duration::from_secs(20 * 60),
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(network) = &stack.network else {
            return vec![];
        };
        stack
            .load_balancers
            .iter()
            .map(|lb| {
                let address = Self::address(&lb.name);
                let tag_name = resource_name(&stack.stack, &address);
                // ELBv2 names: 32 characters, letters, digits and '-'.
                let name = fit_name(&format!("{}-{}", stack.stack, lb.name), NAME_MAX);
                let tier = if lb.internet_facing {
                    "public"
                } else {
                    "private"
                };
                DesiredResource::new(self.name(), address.clone())
                    .with("name", Value::string(name))
                    .with(
                        "scheme",
                        Value::string(if lb.internet_facing {
                            "internet-facing"
                        } else {
                            "internal"
                        }),
                    )
                    .with("subnet_ids", Value::List(subnet_values(network, tier)))
                    .with(
                        "security_group_ids",
                        Value::List(vec![Value::reference(
                            &SecurityGroup::address(&lb.name),
                            "id",
                        )]),
                    )
                    .with(
                        "idle_timeout_seconds",
                        Value::Int(lb.idle_timeout_seconds.into()),
                    )
                    .with(
                        "tags",
                        Value::string_map(&ownership_tags(
                            &stack.stack,
                            &address,
                            &tag_name,
                            &stack.tags,
                        )),
                    )
            })
            .collect()
    }
}
