//! AWS calls for subnets: one public and one private per availability zone, with the tags
//! Kubernetes load balancing looks for.

use async_trait::async_trait;

use crate::ec2::{described_by_id, from_sdk, stack_filter, sync_tags, tag_specification};
use crate::{Adapter, AwsClients, Finding, deleted, error};
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::subnet::Subnet;
use eksform_core::kinds::tags::{changed, required};
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value};

fn to_live(
    kind: &Subnet,
    finding: Finding,
    subnet: &aws_sdk_ec2::types::Subnet,
) -> Option<LiveResource> {
    let mut attributes = Attributes::new();
    attributes.insert(
        "vpc_id".into(),
        Value::string(subnet.vpc_id().unwrap_or_default()),
    );
    attributes.insert(
        "cidr_block".into(),
        Value::string(subnet.cidr_block().unwrap_or_default()),
    );
    attributes.insert(
        "availability_zone".into(),
        Value::string(subnet.availability_zone().unwrap_or_default()),
    );
    attributes.insert(
        "map_public_ip_on_launch".into(),
        Value::Bool(subnet.map_public_ip_on_launch().unwrap_or(false)),
    );
    finding.live(
        kind.name(),
        subnet.subnet_id().unwrap_or_default(),
        from_sdk(subnet.tags()),
        attributes,
        Status::Ready,
    )
}

#[async_trait]
impl Adapter for Subnet {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let subnets = aws
            .ec2
            .describe_subnets()
            .filters(stack_filter(&scope.stack))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("DescribeSubnets", e))?;
        Ok(subnets
            .iter()
            .filter_map(|subnet| to_live(self, Finding::Stack(&scope.stack), subnet))
            .collect())
    }

    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        described_by_id(
            "DescribeSubnets",
            aws.ec2.describe_subnets().subnet_ids(id).send().await,
            |out| out.subnets(),
            |subnet| to_live(self, Finding::Adoption(&desired.address), subnet),
        )
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let out = aws
            .ec2
            .create_subnet()
            .vpc_id(required(attributes, "vpc_id")?)
            .cidr_block(required(attributes, "cidr_block")?)
            .availability_zone(required(attributes, "availability_zone")?)
            .tag_specifications(tag_specification(ResourceType::Subnet, attributes))
            .customize()
            .config_override(crate::sent_once!(aws_sdk_ec2))
            .send()
            .await
            .map_err(|e| error("CreateSubnet", e))?;
        let id = out
            .subnet()
            .and_then(|s| s.subnet_id())
            .unwrap_or_default()
            .to_string();
        if attributes
            .get("map_public_ip_on_launch")
            .and_then(Value::as_bool)
            == Some(true)
        {
            set_public_ip(aws, &id, true).await?;
        }
        Ok(request.created(self.name(), id, Status::Ready))
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        if changed(&live.attributes, desired, "map_public_ip_on_launch") {
            let value = desired
                .get("map_public_ip_on_launch")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            set_public_ip(aws, &live.id, value).await?;
        }
        let desired =
            eksform_core::kinds::subnet::keeping_other_clusters_tags(&live.attributes, desired);
        sync_tags(&aws.ec2, &live.id, &live.attributes, &desired).await
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        deleted(
            "DeleteSubnet",
            aws.ec2.delete_subnet().subnet_id(&live.id).send().await,
        )
    }
}

async fn set_public_ip(aws: &AwsClients, id: &str, value: bool) -> Result<(), CloudError> {
    aws.ec2
        .modify_subnet_attribute()
        .subnet_id(id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(value).build())
        .send()
        .await
        .map_err(|e| error("ModifySubnetAttribute", e))?;
    Ok(())
}
