//! What Kubernetes controllers made in the stack's VPC and left behind: load
//! balancers, target groups and security groups of the AWS Load Balancer
//! Controller (tagged `elbv2.k8s.aws/cluster`, `service.k8s.aws/*` or
//! `kubernetes.io/cluster/<cluster>=owned`). Never desired; found only when
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

/// Whether tags say a controller of `cluster` made the resource.
fn made_by_controller(tags: &BTreeMap<String, String>, cluster: &str) -> bool {
    tags.get("elbv2.k8s.aws/cluster").map(String::as_str) == Some(cluster)
        || tags
            .get(&format!("kubernetes.io/cluster/{cluster}"))
            .map(String::as_str)
            == Some("owned")
        || (tags.keys().any(|k| k.starts_with("service.k8s.aws/"))
            && tags.values().any(|v| v == cluster))
}

fn leftover(
    stack: &str,
    what: &str,
    name: &str,
    id: &str,
    mut attributes: Attributes,
) -> LiveResource {
    let address = Address::new(&["controller_leftover", what, name]);
    attributes.insert("what".into(), Value::string(what));
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
            if !tags
                .get(arn)
                .is_some_and(|t| made_by_controller(t, cluster))
            {
                continue;
            }
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
            if !tags
                .get(arn)
                .is_some_and(|t| made_by_controller(t, cluster))
            {
                continue;
            }
            let attributes = Attributes::new();
            let name = group.target_group_name().unwrap_or_default();
            found.push(leftover(
                &scope.stack,
                "target_group",
                name,
                arn,
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
                .filter(|g| g.load_balancer_arns().iter().any(|a| *a == balancer.id))
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
                    .values("service.k8s.aws/*")
                    .build(),
            )
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("DescribeSecurityGroups", e))?;
        for group in &security_groups {
            if !made_by_controller(&from_sdk(group.tags()), cluster) {
                continue;
            }
            let mut attributes = Attributes::new();
            attributes.insert(
                "vpc_id".into(),
                Value::string(group.vpc_id().unwrap_or_default()),
            );
            let id = group.group_id().unwrap_or_default();
            found.push(leftover(&scope.stack, "security_group", id, id, attributes));
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
