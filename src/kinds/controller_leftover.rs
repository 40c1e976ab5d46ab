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

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::Filter;

use super::load_balancer::{elb_tags, region_load_balancers_with_tags};
use super::tags::{from_sdk, mark};
use super::{Kind, not_found_is_done};
use crate::cloud::aws::{AwsClients, error};
use crate::cloud::{CloudError, CreateRequest, Scope};
use crate::lower::StackModel;
use crate::model::{Address, Attributes, DesiredResource, LiveResource, Status, Value};

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

fn leftover(
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

#[async_trait]
impl Kind for ControllerLeftover {
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

    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let (true, Some(cluster)) = (scope.destroying, &scope.cluster) else {
            return Ok(vec![]);
        };
        let mut found = Vec::new();
        let (balancers, tags) = region_load_balancers_with_tags(aws, scope).await?;
        for balancer in balancers.iter() {
            let arn = balancer.load_balancer_arn().unwrap_or_default();
            let Some(matched) = tags.get(arn).and_then(|t| controller_tag(t, cluster)) else {
                continue;
            };
            let mut attributes = Attributes::new();
            let subnets: Vec<String> = balancer
                .availability_zones()
                .iter()
                .filter_map(|z| z.subnet_id().map(str::to_string))
                .collect();
            attributes.insert("subnet_ids".into(), Value::string_set(&subnets));
            attributes.insert(
                "security_group_ids".into(),
                Value::string_set(balancer.security_groups()),
            );
            attributes.insert(
                "vpc_id".into(),
                Value::string(balancer.vpc_id().unwrap_or_default()),
            );
            let name = balancer.load_balancer_name().unwrap_or_default();
            found.push(leftover(
                &scope.stack,
                "load_balancer",
                name,
                arn,
                matched,
                attributes,
            ));
        }
        let groups = aws
            .elb
            .describe_target_groups()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("DescribeTargetGroups", e))?;
        let arns: Vec<String> = groups
            .iter()
            .filter_map(|g| g.target_group_arn().map(str::to_string))
            .collect();
        let tags = elb_tags(aws, &arns).await?;
        for group in &groups {
            let arn = group.target_group_arn().unwrap_or_default();
            let Some(matched) = tags.get(arn).and_then(|t| controller_tag(t, cluster)) else {
                continue;
            };
            let mut attributes = Attributes::new();
            attributes.insert(
                "vpc_id".into(),
                Value::string(group.vpc_id().unwrap_or_default()),
            );
            let name = group.target_group_name().unwrap_or_default();
            found.push(leftover(
                &scope.stack,
                "target_group",
                name,
                arn,
                matched,
                attributes,
            ));
        }
        // A target group is held by the listeners of its load balancers: the
        // load balancer (whose delete removes its listeners) records the groups
        // it forwards to, so that it goes first and AWS does not answer
        // ResourceInUse to the target group's delete.
        for balancer in found
            .iter_mut()
            .filter(|r| r.attributes.get("what") == Some(&Value::string("load_balancer")))
        {
            let held: Vec<String> = groups
                .iter()
                .filter(|g| g.load_balancer_arns().contains(&balancer.id))
                .filter_map(|g| g.target_group_arn().map(str::to_string))
                .collect();
            balancer
                .attributes
                .insert("target_group_arns".into(), Value::string_set(&held));
        }
        let security_groups = aws
            .ec2
            .describe_security_groups()
            .filters(
                Filter::builder()
                    .name("tag-key")
                    .values("elbv2.k8s.aws/cluster")
                    .values(format!("kubernetes.io/cluster/{cluster}"))
                    .build(),
            )
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("DescribeSecurityGroups", e))?;
        for group in &security_groups {
            let Some(matched) = controller_tag(&from_sdk(group.tags()), cluster) else {
                continue;
            };
            let mut attributes = Attributes::new();
            attributes.insert(
                "vpc_id".into(),
                Value::string(group.vpc_id().unwrap_or_default()),
            );
            let id = group.group_id().unwrap_or_default();
            found.push(leftover(
                &scope.stack,
                "security_group",
                id,
                id,
                matched,
                attributes,
            ));
        }
        Ok(found)
    }

    async fn create(
        &self,
        _aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        Err(CloudError::rejected(format!(
            "internal: {} is never created",
            request.address
        )))
    }

    async fn update(
        &self,
        _aws: &AwsClients,
        _live: &LiveResource,
        _desired: &Attributes,
    ) -> Result<(), CloudError> {
        Ok(())
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        let result = match live.attributes.get("what").and_then(Value::as_str) {
            Some("load_balancer") => aws
                .elb
                .delete_load_balancer()
                .load_balancer_arn(&live.id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| error("DeleteLoadBalancer", e)),
            Some("target_group") => aws
                .elb
                .delete_target_group()
                .target_group_arn(&live.id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| error("DeleteTargetGroup", e)),
            _ => aws
                .ec2
                .delete_security_group()
                .group_id(&live.id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| error("DeleteSecurityGroup", e)),
        };
        result.or_else(not_found_is_done)
    }

    async fn read(
        &self,
        _aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        // Deletes are immediate for these; a wait never asks.
        Ok(Some(live.clone()))
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
