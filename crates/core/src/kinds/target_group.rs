//! Target groups of a load balancer. Port, protocol and target type cannot
//! change in place: the group is replaced create-before-destroy under a new
//! name (the names carry a hash of those fields), so the listener always has a
//! group to forward to. The health check path changes in place. Groups given
//! by `arn` are someone else's: the listeners forward to them, this kind
//! makes nothing for them.

use super::{Attribute, Kind, ObservationFloor};
use crate::lower::{StackModel, TargetGroupSource, fit_name, resource_name, short_hash, vpc_value};
use crate::model::{Address, DesiredResource, Value, ownership_tags};

pub struct TargetGroup;

impl TargetGroup {
    pub fn address(load_balancer: &str, group: &str) -> Address {
        Address::new(&["target_group", load_balancer, group])
    }
}

const PROTOCOL: &str = "HTTP";

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::computed("arn"),
    Attribute::in_place("health_check_path"),
    Attribute::replaces("name"),
    Attribute::replaces("port"),
    Attribute::replaces("protocol"),
    Attribute::tags(),
    Attribute::replaces("target_type"),
    Attribute::replaces("vpc_id"),
];

impl Kind for TargetGroup {
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
            each: 0,
            each_of: None,
            how: "DescribeTargetGroups + DescribeTags",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:CreateTargetGroup",
            "elasticloadbalancing:DeleteTargetGroup",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:ModifyTargetGroup",
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
        "target_group"
    }

    fn id_prefix(&self) -> &'static str {
        "arn:aws:elasticloadbalancing:targetgroup"
    }

    fn create_before_destroy(&self) -> bool {
        true
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(network) = &stack.network else {
            return vec![];
        };
        let mut desired = Vec::new();
        for lb in &stack.load_balancers {
            for group in &lb.target_groups {
                // A brought group is its owner's to make.
                let TargetGroupSource::Made {
                    port,
                    target_type,
                    health_check_path,
                } = &group.source
                else {
                    continue;
                };
                let address = Self::address(&lb.name, &group.name);
                let tag_name = resource_name(&stack.stack, &address);
                // 32 characters; the hash of what forces a new group keeps the
                // replacement's name apart from the old one's.
                let hash = short_hash(&format!("{port}:{PROTOCOL}:{target_type}"));
                let prefix = fit_name(&format!("{}-{}-{}", stack.stack, lb.name, group.name), 23);
                desired.push(
                    DesiredResource::new(self.name(), address.clone())
                        .with("name", Value::string(format!("{prefix}-{hash}")))
                        .with("port", Value::Int((*port).into()))
                        .with("protocol", Value::string(PROTOCOL))
                        .with("target_type", Value::string(target_type.clone()))
                        .with("vpc_id", vpc_value(network))
                        .with(
                            "health_check_path",
                            Value::string(health_check_path.clone()),
                        )
                        .with(
                            "tags",
                            Value::string_map(&ownership_tags(
                                &stack.stack,
                                &address,
                                &tag_name,
                                &stack.tags,
                            )),
                        ),
                );
            }
        }
        desired
    }
}
