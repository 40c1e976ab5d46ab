//! NAT gateways: none, one (in the first zone) or one per zone, each in its
//! zone's public subnet with an Elastic IP. Creating and deleting take minutes;
//! the engine waits for `available` and for `deleted` (before the address is
//! released and the internet gateway detached).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, NatGatewayState, ResourceType};

use super::deleted;
use super::elastic_ip::ElasticIp;
use super::internet_gateway::InternetGateway;
use super::subnet::Subnet;
use super::tags::{from_sdk, live, required, stack_filter, sync_tags, tag_specification};
use super::{Change, Kind, Timings};
use crate::cloud::aws::{AwsClients, error};
use crate::cloud::{CloudError, CreateRequest, Scope};
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{
    Address, Attributes, DesiredResource, LiveResource, Status, Value, ownership_tags,
};

pub struct NatGateway;

impl NatGateway {
    pub fn address(zone: &str) -> Address {
        Address::new(&["nat_gateway", zone])
    }

    fn to_live(
        &self,
        stack: &str,
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
        live(
            self.name(),
            stack,
            id,
            from_sdk(gateway.tags()),
            attributes,
            status,
        )
    }
}

#[async_trait]
impl Kind for NatGateway {
    fn service(&self) -> &'static str {
        "ec2"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "nat_gateway"
    }

    fn id_prefix(&self) -> &'static str {
        "nat"
    }

    fn computed(&self) -> &'static [&'static str] {
        &["public_ip"]
    }

    fn change_of(&self, attribute: &str) -> Change {
        match attribute {
            "subnet_id" | "allocation_id" => Change::Replace,
            _ => Change::InPlace,
        }
    }

    fn timings(&self) -> Timings {
        // NAT gateways typically take 1-3 minutes to become available and about
        // a minute to delete (AWS VPC user guide; observed).
        Timings {
            create: Duration::from_secs(120),
            delete: Duration::from_secs(60),
            update: Duration::ZERO,
            poll: Duration::from_secs(5),
            timeout: Duration::from_secs(15 * 60),
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(Network::Created(network)) = &stack.network else {
            return vec![];
        };
        network
            .nat_zones()
            .into_iter()
            .enumerate()
            .map(|(index, zone)| {
                let address = Self::address(&zone.name);
                let name = resource_name(&stack.stack, &address);
                let allocation = match network.elastic_ips.get(index) {
                    Some(brought) => Value::string(brought.clone()),
                    None => Value::reference(&ElasticIp::address(&zone.name), "id"),
                };
                DesiredResource::new(self.name(), address.clone())
                    .with(
                        "subnet_id",
                        Value::reference(&Subnet::address("public", &zone.name), "id"),
                    )
                    .with("allocation_id", allocation)
                    .with(
                        "tags",
                        Value::string_map(&ownership_tags(
                            &stack.stack,
                            &address,
                            &name,
                            &stack.tags,
                        )),
                    )
                    // A public NAT gateway needs the VPC's internet gateway attached.
                    .after(&InternetGateway::address())
            })
            .collect()
    }

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
            .filter_map(|g| self.to_live(&scope.stack, g))
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
        let stack = super::tags::stack_of(&live.attributes);
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
            .find_map(|g| self.to_live(&stack, g)))
    }
}
