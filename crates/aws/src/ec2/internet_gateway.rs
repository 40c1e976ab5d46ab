//! AWS calls for the internet gateway and its attachment to the VPC.

use async_trait::async_trait;

use crate::ec2::{described_by_id, from_sdk, stack_filter, sync_tags, tag_specification};
use crate::{Adapter, AwsClients, Finding, deleted, error, not_found_is_done};
use aws_sdk_ec2::types::ResourceType;
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::internet_gateway::InternetGateway;
use eksform_core::kinds::tags::{changed, required};
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value};

async fn attach(aws: &AwsClients, id: &str, vpc_id: &str) -> Result<(), CloudError> {
    aws.ec2
        .attach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(|e| error("AttachInternetGateway", e))?;
    Ok(())
}

async fn detach(aws: &AwsClients, id: &str, vpc_id: &str) -> Result<(), CloudError> {
    match aws
        .ec2
        .detach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = error("DetachInternetGateway", e);
            // Already detached: the job is done.
            if e.code.as_deref() == Some("Gateway.NotAttached") {
                Ok(())
            } else {
                not_found_is_done(e)
            }
        }
    }
}

fn to_live(
    kind: &InternetGateway,
    finding: Finding,
    gateway: &aws_sdk_ec2::types::InternetGateway,
) -> Option<LiveResource> {
    let mut attributes = Attributes::new();
    let vpc = gateway.attachments().iter().find_map(|a| a.vpc_id());
    attributes.insert("vpc_id".into(), vpc.map_or(Value::Null, Value::string));
    finding.live(
        kind.name(),
        gateway.internet_gateway_id().unwrap_or_default(),
        from_sdk(gateway.tags()),
        attributes,
        Status::Ready,
    )
}

#[async_trait]
impl Adapter for InternetGateway {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let gateways = aws
            .ec2
            .describe_internet_gateways()
            .filters(stack_filter(&scope.stack))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("DescribeInternetGateways", e))?;
        Ok(gateways
            .iter()
            .filter_map(|gateway| to_live(self, Finding::Stack(&scope.stack), gateway))
            .collect())
    }

    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        described_by_id(
            "DescribeInternetGateways",
            aws.ec2
                .describe_internet_gateways()
                .internet_gateway_ids(id)
                .send()
                .await,
            |out| out.internet_gateways(),
            |gateway| to_live(self, Finding::Adoption(&desired.address), gateway),
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
            .create_internet_gateway()
            .tag_specifications(tag_specification(ResourceType::InternetGateway, attributes))
            .customize()
            .config_override(crate::sent_once!(aws_sdk_ec2))
            .send()
            .await
            .map_err(|e| error("CreateInternetGateway", e))?;
        let id = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .unwrap_or_default()
            .to_string();
        attach(aws, &id, required(attributes, "vpc_id")?).await?;
        Ok(LiveResource {
            address: request.address.clone(),
            kind: self.name().into(),
            id,
            attributes: attributes.clone(),
            status: Status::Ready,
        })
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        if changed(&live.attributes, desired, "vpc_id") {
            if let Some(old) = live.attributes.get("vpc_id").and_then(Value::as_str) {
                detach(aws, &live.id, old).await?;
            }
            // Null while the VPC it will attach to is being replaced.
            if let Some(vpc_id) = desired.get("vpc_id").and_then(Value::as_str) {
                attach(aws, &live.id, vpc_id).await?;
            }
        }
        sync_tags(&aws.ec2, &live.id, &live.attributes, desired).await
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        if let Some(vpc_id) = live.attributes.get("vpc_id").and_then(Value::as_str) {
            detach(aws, &live.id, vpc_id).await?;
        }
        deleted(
            "DeleteInternetGateway",
            aws.ec2
                .delete_internet_gateway()
                .internet_gateway_id(&live.id)
                .send()
                .await,
        )
    }
}
