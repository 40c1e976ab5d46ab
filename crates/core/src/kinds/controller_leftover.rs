//! What Kubernetes controllers made in the stack's VPC and left behind: load
//! balancers, target groups and security groups of the AWS Load Balancer
//! Controller (tagged exactly `elbv2.k8s.aws/cluster=<cluster>`) or of the
//! cloud provider (`kubernetes.io/cluster/<cluster>=owned`), and only those in
//! the stack's own VPC (`in_stack_vpc`): a same-named cluster's resources in
//! another VPC are never touched. Never desired; found only when
//! destroying, listed in the plan and deleted after the cluster is gone (it
//! would make them again) and before the subnets and the VPC, which AWS will
//! not delete while they stand. Their network interfaces go with them; the
//! subnet and VPC deletes wait for that through their dependency retries.

use super::tags::mark;
use super::{Attribute, Kind, ObservationFloor};
use crate::lower::StackModel;
use crate::model::{Address, Attributes, DesiredResource, LiveResource, Status, Value};
use std::collections::BTreeMap;

pub struct ControllerLeftover;

/// The attribute that says why a leftover was picked: the tag that matched.
pub const FOUND_BY: &str = "found_by";

/// The tag by which a controller of `cluster` marked what it made, if any:
/// the AWS Load Balancer Controller's `elbv2.k8s.aws/cluster=<cluster>`, or the
/// Kubernetes cloud provider's `kubernetes.io/cluster/<cluster>=owned`. Exact
/// keys and values only: a resource of another cluster, or one that merely
/// mentions the name in some other tag, never matches.
pub fn controller_tag(tags: &BTreeMap<String, String>, cluster: &str) -> Option<String> {
    if tags.get("elbv2.k8s.aws/cluster").map(String::as_str) == Some(cluster) {
        return Some(format!("elbv2.k8s.aws/cluster={cluster}"));
    }
    let owned = format!("kubernetes.io/cluster/{cluster}");
    (tags.get(&owned).map(String::as_str) == Some("owned")).then(|| format!("{owned}=owned"))
}

pub fn leftover(
    stack: &str,
    what: &str,
    name: &str,
    id: &str,
    matched: String,
    mut attributes: Attributes,
) -> LiveResource {
    let address = Address::new(&["controller_leftover", what, name]);
    attributes.insert("what".into(), Value::string(what));
    // The plan says why eksform deletes something it did not make.
    attributes.insert(
        FOUND_BY.into(),
        Value::string(format!("left by a Kubernetes controller (tag {matched})")),
    );
    // Not made by eksform: marked here, for this destroy only, so that the plan
    // lists and deletes it.
    attributes.insert("tags".into(), Value::string_map(&mark(stack, &address)));
    LiveResource {
        address,
        kind: "controller_leftover".into(),
        id: id.into(),
        attributes,
        status: Status::Ready,
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[Attribute::tags(), Attribute::in_place("what")];

impl Kind for ControllerLeftover {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor::list(0, "observed only when destroying")
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DeleteSecurityGroup",
            "ec2:DescribeSecurityGroups",
            "elasticloadbalancing:DeleteLoadBalancer",
            "elasticloadbalancing:DeleteTargetGroup",
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:DescribeTargetGroups",
        ]
    }

    fn service(&self) -> &'static str {
        "elasticloadbalancing"
    }

    fn name(&self) -> &'static str {
        "controller_leftover"
    }

    fn id_prefix(&self) -> &'static str {
        "leftover"
    }

    fn delete_after(&self) -> &'static [&'static str] {
        &["eks_cluster", "node_group", "fargate_profile"]
    }

    fn lower(&self, _stack: &StackModel) -> Vec<DesiredResource> {
        vec![]
    }
}

impl ControllerLeftover {
    /// Keeps only the leftovers that stand in one of the stack's VPCs (the VPC
    /// it made, found in the same observation, or the one it brought): the
    /// region's other VPCs may hold a same-named cluster's load balancers.
    /// With no VPC known, no leftover is kept.
    pub fn in_stack_vpc(
        observed: Vec<LiveResource>,
        brought_vpc: Option<&str>,
    ) -> Vec<LiveResource> {
        let mut vpcs: Vec<String> = observed
            .iter()
            .filter(|r| r.kind == "vpc")
            .map(|r| r.id.clone())
            .collect();
        vpcs.extend(brought_vpc.map(str::to_string));
        observed
            .into_iter()
            .filter(|r| {
                r.kind != "controller_leftover"
                    || r.attributes
                        .get("vpc_id")
                        .and_then(Value::as_str)
                        .is_some_and(|vpc| vpcs.iter().any(|v| v == vpc))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_the_controllers_exact_tags_for_the_cluster_match() {
        let dev = "dev";
        assert!(controller_tag(&tags(&[("elbv2.k8s.aws/cluster", "dev")]), dev).is_some());
        assert!(controller_tag(&tags(&[("kubernetes.io/cluster/dev", "owned")]), dev).is_some());
        // Another cluster, a shared subnet-style tag, or the name in any other value.
        assert!(controller_tag(&tags(&[("elbv2.k8s.aws/cluster", "dev2")]), dev).is_none());
        assert!(controller_tag(&tags(&[("kubernetes.io/cluster/dev", "shared")]), dev).is_none());
        assert!(
            controller_tag(
                &tags(&[("service.k8s.aws/stack", "x"), ("team", "dev")]),
                dev
            )
            .is_none()
        );
    }

    #[test]
    fn leftovers_outside_the_stacks_vpc_are_dropped() {
        let resource = |kind: &str, id: &str, vpc: &str| LiveResource {
            address: Address::new(&[kind, id]),
            kind: kind.into(),
            id: id.into(),
            attributes: Attributes::from([("vpc_id".to_string(), Value::string(vpc))]),
            status: Status::Ready,
        };
        let observed = vec![
            resource("vpc", "vpc-mine", ""),
            resource("controller_leftover", "lb-mine", "vpc-mine"),
            resource("controller_leftover", "lb-other", "vpc-other"),
            resource("controller_leftover", "sg-none", ""),
        ];
        let kept: Vec<String> = ControllerLeftover::in_stack_vpc(observed.clone(), None)
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(kept, ["vpc-mine", "lb-mine"]);
        let without_vpc: Vec<LiveResource> =
            observed.into_iter().filter(|r| r.kind != "vpc").collect();
        assert!(ControllerLeftover::in_stack_vpc(without_vpc.clone(), None).is_empty());
        assert_eq!(
            ControllerLeftover::in_stack_vpc(without_vpc, Some("vpc-other")).len(),
            1
        );
    }
}
