//! AWS calls for NAT gateways: none, one (in the first zone) or one per zone, each in its
//! zone's public subnet with an Elastic IP. Creating and deleting take minutes;
//! the engine waits for `available` and for `deleted` (before the address is
//! released and the internet gateway detached).

use async_trait::async_trait;

use crate::ec2::{described_by_id, from_sdk, stack_filter, sync_tags, tag_specification};
use crate::{Adapter, AwsClients, Finding, deleted, error};
use aws_sdk_ec2::types::{Filter, NatGatewayState, ResourceType};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::nat_gateway::NatGateway;
use eksform_core::kinds::tags::required;
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value};

fn to_live(
    kind: &NatGateway,
    finding: Finding,
    gateway: &aws_sdk_ec2::types::NatGateway,
) -> Option<LiveResource> {
    let status = match gateway.state()? {
        NatGatewayState::Pending => Status::Pending,
        NatGatewayState::Available => Status::Ready,
        NatGatewayState::Deleting => Status::Deleting,
        // Deleted and failed gateways stay listed for a while; they are gone.
        _ => return None,
    };
    let address = gateway.nat_gateway_addresses().first();
    let mut attributes = Attributes::new();
    attributes.insert(
        "subnet_id".into(),
        Value::string(gateway.subnet_id().unwrap_or_default()),
    );
    attributes.insert(
        "allocation_id".into(),
        Value::string(address.and_then(|a| a.allocation_id()).unwrap_or_default()),
    );
    attributes.insert(
        "public_ip".into(),
        Value::string(address.and_then(|a| a.public_ip()).unwrap_or_default()),
    );
    let id = gateway.nat_gateway_id().unwrap_or_default();
    finding.live(
        kind.name(),
        id,
        from_sdk(gateway.tags()),
        attributes,
        status,
    )
}

#[async_trait]
impl Adapter for NatGateway {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let gateways = aws
            .ec2
            .describe_nat_gateways()
            .filter(stack_filter(&scope.stack))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("DescribeNatGateways", e))?;
        // Some endpoints ignore the tag filter: `to_live` checks the mark again.
        Ok(gateways
            .iter()
            .filter_map(|g| to_live(self, Finding::Stack(&scope.stack), g))
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let out = aws
            .ec2
            .create_nat_gateway()
            .subnet_id(required(attributes, "subnet_id")?)
            .allocation_id(required(attributes, "allocation_id")?)
            .client_token(&request.token)
            .tag_specifications(tag_specification(ResourceType::Natgateway, attributes))
            .send()
            .await
            .map_err(|e| error("CreateNatGateway", e))?;
        let gateway = out
            .nat_gateway()
            .ok_or_else(|| CloudError::rejected("CreateNatGateway returned no gateway"))?;
        let mut created = LiveResource {
            address: request.address.clone(),
            kind: self.name().into(),
            id: gateway.nat_gateway_id().unwrap_or_default().to_string(),
            attributes: attributes.clone(),
            status: Status::Pending,
        };
        if gateway.state() == Some(&NatGatewayState::Available) {
            created.status = Status::Ready;
        }
        if let Some(ip) = gateway
            .nat_gateway_addresses()
            .first()
            .and_then(|a| a.public_ip())
        {
            created
                .attributes
                .insert("public_ip".into(), Value::string(ip));
        }
        Ok(created)
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        sync_tags(&aws.ec2, &live.id, &live.attributes, desired).await
    }

    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        // A deleted gateway stays listed for a while: `to_live` drops it.
        described_by_id(
            "DescribeNatGateways",
            aws.ec2
                .describe_nat_gateways()
                .nat_gateway_ids(id)
                .send()
                .await,
            |out| out.nat_gateways(),
            |g| to_live(self, Finding::Adoption(&desired.address), g),
        )
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        if live.status == Status::Deleting {
            return Ok(());
        }
        deleted(
            "DeleteNatGateway",
            aws.ec2
                .delete_nat_gateway()
                .nat_gateway_id(&live.id)
                .send()
                .await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let stack = eksform_core::kinds::tags::stack_of(&live.attributes);
        let out = aws
            .ec2
            .describe_nat_gateways()
            .filter(
                Filter::builder()
                    .name("nat-gateway-id")
                    .values(&live.id)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| error("DescribeNatGateways", e))?;
        Ok(out
            .nat_gateways()
            .iter()
            .find_map(|g| to_live(self, Finding::Stack(&stack), g)))
    }
}
