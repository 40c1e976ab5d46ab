//! AWS calls for the VPC: CIDR, DNS support and hostnames (both on, as EKS needs), tags.

use async_trait::async_trait;

use crate::ec2::{described_by_id, from_sdk, stack_filter, sync_tags, tag_specification};
use crate::{Adapter, AwsClients, Finding, deleted, error};
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::tags::{changed, required};
use eksform_core::kinds::vpc::Vpc;
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value};

async fn set_dns(
    aws: &AwsClients,
    id: &str,
    support: Option<bool>,
    hostnames: Option<bool>,
) -> Result<(), CloudError> {
    // AWS takes one attribute per call.
    if let Some(value) = support {
        aws.ec2
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_support(AttributeBooleanValue::builder().value(value).build())
            .send()
            .await
            .map_err(|e| error("ModifyVpcAttribute", e))?;
    }
    if let Some(value) = hostnames {
        aws.ec2
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_hostnames(AttributeBooleanValue::builder().value(value).build())
            .send()
            .await
            .map_err(|e| error("ModifyVpcAttribute", e))?;
    }
    Ok(())
}

async fn dns_attribute(
    aws: &AwsClients,
    id: &str,
    name: VpcAttributeName,
) -> Result<bool, CloudError> {
    let out = aws
        .ec2
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(name.clone())
        .send()
        .await
        .map_err(|e| error("DescribeVpcAttribute", e))?;
    let value = match name {
        VpcAttributeName::EnableDnsSupport => out.enable_dns_support(),
        _ => out.enable_dns_hostnames(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

/// A VPC as AWS describes it, without its DNS attributes (`with_dns`).
fn to_live(kind: &Vpc, finding: Finding, vpc: &aws_sdk_ec2::types::Vpc) -> Option<LiveResource> {
    let mut attributes = Attributes::new();
    attributes.insert(
        "cidr_block".into(),
        Value::string(vpc.cidr_block().unwrap_or_default()),
    );
    finding.live(
        kind.name(),
        vpc.vpc_id().unwrap_or_default(),
        from_sdk(vpc.tags()),
        attributes,
        Status::Ready,
    )
}

/// The DNS attributes of each VPC: they have no batch read, so one call
/// each, per VPC (a stack has one), all at once.
async fn with_dns(aws: &AwsClients, found: &mut [LiveResource]) -> Result<(), CloudError> {
    let read = found.iter().map(|resource| async move {
        tokio::try_join!(
            dns_attribute(aws, &resource.id, VpcAttributeName::EnableDnsSupport),
            dns_attribute(aws, &resource.id, VpcAttributeName::EnableDnsHostnames)
        )
    });
    let read = futures_util::future::try_join_all(read).await?;
    for (resource, (support, hostnames)) in found.iter_mut().zip(read) {
        resource
            .attributes
            .insert("enable_dns_support".into(), Value::Bool(support));
        resource
            .attributes
            .insert("enable_dns_hostnames".into(), Value::Bool(hostnames));
    }
    Ok(())
}

/// The VPCs that carry the stack's mark (planning many stacks: every stack's,
/// listed once), read once per observation: the VPC kind and the ELBv2 kinds,
/// which look for the stack's load balancers in them, share the read.
pub(crate) async fn marked_vpcs(
    aws: &AwsClients,
    scope: &Scope,
) -> Result<std::sync::Arc<Vec<aws_sdk_ec2::types::Vpc>>, CloudError> {
    let list = |stack: String| async move {
        let vpcs: Result<Vec<_>, _> = aws
            .ec2
            .describe_vpcs()
            .filters(stack_filter(&stack))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        vpcs.map_err(|e| error("DescribeVpcs", e))
    };
    // Planning many stacks: every stack's VPCs listed once; but the DNS
    // attributes (one call each) only for this stack's.
    if scope.reads.is_across_stacks() {
        scope
            .reads
            .get_or_read("ec2: every stack's VPCs", || {
                list(eksform_core::kinds::tags::EVERY_STACK.to_string())
            })
            .await
    } else {
        scope
            .reads
            .get_or_read(&format!("ec2: VPCs of {}", scope.stack), || {
                list(scope.stack.clone())
            })
            .await
    }
}

/// The ids of the stack's VPCs: those carrying its mark, and the one it
/// brought.
pub(crate) async fn stack_vpc_ids(
    aws: &AwsClients,
    scope: &Scope,
) -> Result<Vec<String>, CloudError> {
    let vpcs = marked_vpcs(aws, scope).await?;
    Ok(vpcs
        .iter()
        .filter(|vpc| {
            let tags = from_sdk(vpc.tags());
            eksform_core::kinds::tags::marks_stack(
                tags.get(eksform_core::model::STACK_TAG),
                &scope.stack,
            )
        })
        .filter_map(|vpc| vpc.vpc_id().map(str::to_string))
        .chain(scope.brought_vpc.clone())
        .collect())
}

#[async_trait]
impl Adapter for Vpc {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let vpcs = marked_vpcs(aws, scope).await?;
        let mut found: Vec<LiveResource> = vpcs
            .iter()
            .filter_map(|vpc| to_live(self, Finding::Stack(&scope.stack), vpc))
            .collect();
        with_dns(aws, &mut found).await?;
        Ok(found)
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let out = aws
            .ec2
            .create_vpc()
            .cidr_block(required(attributes, "cidr_block")?)
            .tag_specifications(tag_specification(ResourceType::Vpc, attributes))
            .customize()
            .config_override(crate::sent_once!(aws_sdk_ec2))
            .send()
            .await
            .map_err(|e| error("CreateVpc", e))?;
        let id = out
            .vpc()
            .and_then(|v| v.vpc_id())
            .unwrap_or_default()
            .to_string();
        set_dns(
            aws,
            &id,
            attributes
                .get("enable_dns_support")
                .and_then(Value::as_bool),
            attributes
                .get("enable_dns_hostnames")
                .and_then(Value::as_bool),
        )
        .await?;
        Ok(request.created(self.name(), id, Status::Ready))
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let pick = |name: &str| {
            changed(&live.attributes, desired, name)
                .then(|| desired.get(name).and_then(Value::as_bool))
                .flatten()
        };
        set_dns(
            aws,
            &live.id,
            pick("enable_dns_support"),
            pick("enable_dns_hostnames"),
        )
        .await?;
        sync_tags(&aws.ec2, &live.id, &live.attributes, desired).await
    }

    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let Some(mut vpc) = described_by_id(
            "DescribeVpcs",
            aws.ec2.describe_vpcs().vpc_ids(id).send().await,
            |out| out.vpcs(),
            |vpc| to_live(self, Finding::Adoption(&desired.address), vpc),
        )?
        else {
            return Ok(None);
        };
        with_dns(aws, std::slice::from_mut(&mut vpc)).await?;
        Ok(Some(vpc))
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        deleted(
            "DeleteVpc",
            aws.ec2.delete_vpc().vpc_id(&live.id).send().await,
        )
    }
}
