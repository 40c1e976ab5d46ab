//! The listeners of a load balancer: port 80 answers 301 to HTTPS when
//! `httpsRedirect` (else forwards), port 443 terminates TLS with the
//! certificate under a current TLS policy and forwards to `defaultTargetGroup`,
//! or, when target groups carry weights, to each weighted group its share
//! (`forward_weights`; blue/green moves traffic by changing them).
//! Everything but the load balancer changes in place.

use super::certificate_validation::CertificateValidation;
use super::load_balancer::LoadBalancer;
use super::target_group::TargetGroup;
use super::{Attribute, Compare, Kind, ObservationFloor};
use crate::lower::{
    CertificateSource, StackModel, TargetGroupModel, TargetGroupSource, resource_name,
};
use crate::model::{Address, Attributes, DesiredResource, Value, ownership_tags};

pub struct Listener;

impl Listener {
    pub fn address(load_balancer: &str, protocol: &str) -> Address {
        Address::new(&["listener", load_balancer, protocol])
    }
}

/// TLS 1.3 with 1.2 for older clients: AWS's recommended policy for ALBs.
pub const TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

pub fn int(attributes: &Attributes, name: &str) -> Option<i32> {
    match attributes.get(name) {
        Some(Value::Int(n)) => Some(*n as i32),
        _ => None,
    }
}

/// One entry of a weighted forward: `{ target_group_arn, weight }`.
pub fn weighted_target(target_group_arn: Value, weight: i64) -> Value {
    Value::Map(
        [
            ("target_group_arn".to_string(), target_group_arn),
            ("weight".to_string(), Value::Int(weight)),
        ]
        .into(),
    )
}

/// The (ARN, weight) pairs of a `forward_weights` value, in ARN order: AWS
/// answers them in its own order.
pub fn weighted_targets(value: &Value) -> Vec<(String, i64)> {
    let Value::List(items) = value else {
        return vec![];
    };
    let mut targets: Vec<(String, i64)> = items
        .iter()
        .filter_map(|item| {
            let Value::Map(entry) = item else {
                return None;
            };
            let arn = entry.get("target_group_arn")?.as_str()?.to_string();
            match entry.get("weight") {
                Some(Value::Int(weight)) => Some((arn, *weight)),
                _ => None,
            }
        })
        .collect();
    targets.sort();
    targets
}

/// Weighted forwards compared as sets of (target group, weight).
fn same_weighted_targets(live: &Value, desired: &Value) -> bool {
    match (live, desired) {
        (Value::List(_), Value::List(_)) => weighted_targets(live) == weighted_targets(desired),
        _ => live == desired,
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::in_place("action"),
    Attribute::in_place("certificate_arn"),
    Attribute::in_place("forward_weights").compared(Compare::Custom(same_weighted_targets)),
    Attribute::replaces("load_balancer_arn"),
    Attribute::in_place("port"),
    Attribute::in_place("protocol"),
    Attribute::in_place("ssl_policy"),
    Attribute::tags(),
    Attribute::in_place("target_group_arn"),
];

impl Kind for Listener {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 0,
            if_any: 1,
            each: 0,
            each_of: Some("load_balancer"),
            how: "DescribeListeners a load balancer + DescribeTags",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:CreateListener",
            "elasticloadbalancing:DeleteListener",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:ModifyListener",
            "elasticloadbalancing:RemoveTags",
        ]
    }

    fn service(&self) -> &'static str {
        "elasticloadbalancing"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "listener"
    }

    fn id_prefix(&self) -> &'static str {
        "arn:aws:elasticloadbalancing:listener"
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let mut desired = Vec::new();
        for lb in &stack.load_balancers {
            // A group of this stack by reference to its ARN, a brought one by its ARN.
            let arn_of = |group: &TargetGroupModel| match &group.source {
                TargetGroupSource::Made { .. } => {
                    Value::reference(&TargetGroup::address(&lb.name, &group.name), "arn")
                }
                TargetGroupSource::Brought { arn } => Value::string(arn.clone()),
            };
            let forward_to = lb.default_target_group.as_ref().and_then(|name| {
                lb.target_groups
                    .iter()
                    .find(|group| &group.name == name)
                    .map(arn_of)
            });
            // Weights given: the listeners forward to every weighted group,
            // and no single group stands alone.
            let weighted: Vec<Value> = lb
                .target_groups
                .iter()
                .filter_map(|group| {
                    let weight = group.weight?;
                    Some(weighted_target(arn_of(group), weight.into()))
                })
                .collect();
            let resource = |protocol: &str, port: i64| {
                let address = Self::address(&lb.name, protocol);
                let name = resource_name(&stack.stack, &address);
                DesiredResource::new(self.name(), address.clone())
                    .with(
                        "load_balancer_arn",
                        Value::reference(&LoadBalancer::address(&lb.name), "arn"),
                    )
                    .with("port", Value::Int(port))
                    .with("protocol", Value::string(protocol.to_ascii_uppercase()))
                    .with(
                        "tags",
                        Value::string_map(&ownership_tags(
                            &stack.stack,
                            &address,
                            &name,
                            &stack.tags,
                        )),
                    )
            };
            let forward = |resource: DesiredResource, target: &Value| {
                let resource = resource.with("action", Value::string("forward"));
                if weighted.is_empty() {
                    resource.with("target_group_arn", target.clone())
                } else {
                    resource
                        .with("target_group_arn", Value::Null)
                        .with("forward_weights", Value::List(weighted.clone()))
                }
            };
            // Port 80: a redirect needs nothing else; a forward needs a group.
            if lb.https_redirect {
                desired.push(
                    resource("http", 80)
                        .with("action", Value::string("redirect"))
                        .with("target_group_arn", Value::Null),
                );
            } else if let Some(target) = &forward_to {
                desired.push(forward(resource("http", 80), target));
            }
            let certificate = match &lb.certificate {
                Some(CertificateSource::Request(_)) => Some(Value::reference(
                    &CertificateValidation::address(&lb.name),
                    "certificate_arn",
                )),
                Some(CertificateSource::Existing(arn)) => Some(Value::string(arn.clone())),
                None => None,
            };
            if let (Some(certificate), Some(target)) = (certificate, &forward_to) {
                desired.push(
                    forward(resource("https", 443), target)
                        .with("certificate_arn", certificate)
                        .with("ssl_policy", Value::string(TLS_POLICY)),
                );
            }
        }
        desired
    }
}
