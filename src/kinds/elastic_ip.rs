//! Elastic IPs for the NAT gateways. Addresses the user brings
//! (`vpc.nat.elasticIPs`) are not resources of the stack and are never released.

use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, ResourceType};

use super::deleted;
use super::tags::{from_sdk, live, stack_filter, sync_tags, tag_specification};
use super::{Kind, read_by_address};
use crate::cloud::aws::{AwsClients, error};
use crate::cloud::{CloudError, CreateRequest, Scope};
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{
    Address, Attributes, DesiredResource, LiveResource, Status, Value, ownership_tags,
};

pub struct ElasticIp;

impl ElasticIp {
    pub fn address(zone: &str) -> Address {
        Address::new(&["elastic_ip", "nat", zone])
    }
}

#[async_trait]
impl Kind for ElasticIp {
    fn service(&self) -> &'static str {
        "ec2"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "elastic_ip"
    }

    fn guarded(&self) -> bool {
        // Partners allow-list these addresses: a released one is gone for good.
        true
    }

    fn id_prefix(&self) -> &'static str {
        "eipalloc"
    }

    fn computed(&self) -> &'static [&'static str] {
        &["public_ip"]
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(Network::Created(network)) = &stack.network else {
            return vec![];
        };
        if !network.elastic_ips.is_empty() {
            return vec![];
        }
        network
            .nat_zones()
            .into_iter()
            .map(|zone| {
                let address = Self::address(&zone.name);
                let name = resource_name(&stack.stack, &address);
                DesiredResource::new(self.name(), address.clone()).with(
                    "tags",
                    Value::string_map(&ownership_tags(&stack.stack, &address, &name, &stack.tags)),
                )
            })
            .collect()
    }

    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let out = aws
            .ec2
            .describe_addresses()
            .filters(stack_filter(&scope.stack))
            .send()
            .await
            .map_err(|e| error("DescribeAddresses", e))?;
        Ok(out
            .addresses()
            .iter()
            .filter_map(|eip| {
                let mut attributes = Attributes::new();
                attributes.insert(
                    "public_ip".into(),
                    Value::string(eip.public_ip().unwrap_or_default()),
                );
                let id = eip.allocation_id().unwrap_or_default();
                live(
                    self.name(),
                    &scope.stack,
                    id,
                    from_sdk(eip.tags()),
                    attributes,
                    Status::Ready,
                )
            })
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let out = aws
            .ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(tag_specification(
                ResourceType::ElasticIp,
                &request.attributes,
            ))
            .customize()
            .config_override(crate::cloud::aws::sent_once!(aws_sdk_ec2))
            .send()
            .await
            .map_err(|e| error("AllocateAddress", e))?;
        let mut attributes = request.attributes.clone();
        attributes.insert(
            "public_ip".into(),
            Value::string(out.public_ip().unwrap_or_default()),
        );
        Ok(LiveResource {
            address: request.address.clone(),
            kind: self.name().into(),
            id: out.allocation_id().unwrap_or_default().to_string(),
            attributes,
            status: Status::Ready,
        })
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
        deleted(
            "ReleaseAddress",
            aws.ec2
                .release_address()
                .allocation_id(&live.id)
                .send()
                .await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        read_by_address(self, aws, live).await
    }
}
