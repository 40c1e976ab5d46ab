//! AWS calls for What Kubernetes controllers made in the stack's VPC and left behind: load
//! balancers, target groups and security groups of the AWS Load Balancer
//! Controller (tagged exactly `elbv2.k8s.aws/cluster=<cluster>`) or of the
//! cloud provider (`kubernetes.io/cluster/<cluster>=owned`), and only those in
//! the stack's own VPC (`in_stack_vpc`): a same-named cluster's resources in
//! another VPC are never touched. Never desired; found only when
//! destroying, listed in the plan and deleted after the cluster is gone (it
//! would make them again) and before the subnets and the VPC, which AWS will
//! not delete while they stand. Their network interfaces go with them; the
//! subnet and VPC deletes wait for that through their dependency retries.

use async_trait::async_trait;

use crate::ec2::from_sdk;
use crate::elbv2::load_balancer::{elb_tags, region_load_balancers_with_tags};
use crate::{Adapter, AwsClients, error, not_found_is_done};
use aws_sdk_ec2::types::Filter;
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::controller_leftover::{ControllerLeftover, controller_tag, leftover};
use eksform_core::model::{Attributes, DesiredResource, LiveResource, STACK_TAG, Value};

#[async_trait]
impl Adapter for ControllerLeftover {
    async fn find_to_adopt(
        &self,
        _aws: &AwsClients,
        _desired: &DesiredResource,
        _id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        Err(crate::not_adoptable(
            self.name(),
            "it is what a Kubernetes controller left in the stack's VPC, found only to be deleted by destroy",
        ))
    }

    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let (true, Some(cluster)) = (scope.destroying, &scope.cluster) else {
            return Ok(vec![]);
        };
        // The spec's cluster name proves nothing alone: while a cluster of that
        // name stands that is not the stack's (a spec copied from another
        // stack's), what its controller made is that cluster's, in use. Once
        // no cluster has the name (the stack's went before an interrupted
        // destroy ended), its leftovers are the stack's to clear.
        let standing = crate::eks::eks_cluster::described_cluster(aws, scope, cluster).await?;
        if let Some(standing) = standing.as_ref()
            && !eksform_core::kinds::tags::marks_stack(
                standing.tags().and_then(|tags| tags.get(STACK_TAG)),
                &scope.stack,
            )
        {
            return Ok(vec![]);
        }
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
