//! AWS calls for Elastic IPs for the NAT gateways. Addresses the user brings
//! (`vpc.nat.elasticIPs`) are not resources of the stack and are never released.

use async_trait::async_trait;

use crate::ec2::{described_by_id, from_sdk, stack_filter, sync_tags, tag_specification};
use crate::{Adapter, AwsClients, Finding, deleted, error};
use aws_sdk_ec2::types::{DomainType, ResourceType};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::elastic_ip::ElasticIp;
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value};

fn to_live(
    kind: &ElasticIp,
    finding: Finding,
    eip: &aws_sdk_ec2::types::Address,
) -> Option<LiveResource> {
    let mut attributes = Attributes::new();
    attributes.insert(
        "public_ip".into(),
        Value::string(eip.public_ip().unwrap_or_default()),
    );
    finding.live(
        kind.name(),
        eip.allocation_id().unwrap_or_default(),
        from_sdk(eip.tags()),
        attributes,
        Status::Ready,
    )
}

#[async_trait]
impl Adapter for ElasticIp {
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
            .filter_map(|eip| to_live(self, Finding::Stack(&scope.stack), eip))
            .collect())
    }

    /// By allocation id (`eipalloc-...`) or by the public address itself.
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let request = aws.ec2.describe_addresses();
        let request = if id.starts_with("eipalloc-") {
            request.allocation_ids(id)
        } else {
            request.public_ips(id)
        };
        described_by_id(
            "DescribeAddresses",
            request.send().await,
            |out| out.addresses(),
            |eip| to_live(self, Finding::Adoption(&desired.address), eip),
        )
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
            .config_override(crate::sent_once!(aws_sdk_ec2))
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
}
