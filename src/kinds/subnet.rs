//! Subnets: one public and one private per availability zone, with the tags
//! Kubernetes load balancing looks for.

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};

use super::deleted;
use super::tags::{changed, from_sdk, live, required, stack_filter, sync_tags, tag_specification};
use super::vpc::Vpc;
use super::{Change, Kind, read_by_address};
use crate::cloud::aws::{AwsClients, error};
use crate::cloud::{CloudError, CreateRequest, Scope};
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{
    Address, Attributes, DesiredResource, LiveResource, Status, Value, ownership_tags,
};

pub struct Subnet;

impl Subnet {
    pub fn address(tier: &str, zone: &str) -> Address {
        Address::new(&["subnet", tier, zone])
    }
}

/// The tags Kubernetes expects on a subnet of this tier.
pub fn kubernetes_tags(tier: &str, cluster: Option<&str>) -> Vec<(String, String)> {
    let role = if tier == "public" {
        "kubernetes.io/role/elb"
    } else {
        "kubernetes.io/role/internal-elb"
    };
    let mut tags = vec![(role.to_string(), "1".to_string())];
    if let Some(cluster) = cluster {
        tags.push((
            format!("kubernetes.io/cluster/{cluster}"),
            "shared".to_string(),
        ));
    }
    tags
}

#[async_trait]
impl Kind for Subnet {
    fn service(&self) -> &'static str {
        "ec2"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "subnet"
    }

    fn id_prefix(&self) -> &'static str {
        "subnet"
    }

    fn change_of(&self, attribute: &str) -> Change {
        match attribute {
            "vpc_id" | "cidr_block" | "availability_zone" => Change::Replace,
            _ => Change::InPlace,
        }
    }

    fn in_the_way(&self, desired: &DesiredResource, live: &LiveResource) -> bool {
        let cidr = |attributes: &Attributes| {
            attributes
                .get("cidr_block")
                .and_then(Value::as_str)
                .and_then(|c| c.parse::<ipnet::Ipv4Net>().ok())
        };
        match (cidr(&desired.attributes), cidr(&live.attributes)) {
            (Some(new), Some(old)) => new.contains(&old) || old.contains(&new),
            _ => false,
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(Network::Created(network)) = &stack.network else {
            return vec![];
        };
        let mut out = Vec::new();
        for zone in &network.zones {
            let tiers = [("public", zone.public), ("private", Some(zone.private))];
            for (tier, cidr) in tiers {
                let Some(cidr) = cidr else { continue };
                let address = Self::address(tier, &zone.name);
                let name = resource_name(&stack.stack, &address);
                let mut tags = ownership_tags(&stack.stack, &address, &name, &stack.tags);
                tags.extend(kubernetes_tags(tier, stack.cluster_name.as_deref()));
                out.push(
                    DesiredResource::new(self.name(), address)
                        .with("vpc_id", Value::reference(&Vpc::address(), "id"))
                        .with("cidr_block", Value::string(cidr.to_string()))
                        .with("availability_zone", Value::string(zone.name.clone()))
                        .with("map_public_ip_on_launch", Value::Bool(tier == "public"))
                        .with("tags", Value::string_map(&tags)),
                );
            }
        }
        out
    }

    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let mut found = Vec::new();
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
        for subnet in &subnets {
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
            let id = subnet.subnet_id().unwrap_or_default();
            found.extend(live(
                self.name(),
                &scope.stack,
                id,
                from_sdk(subnet.tags()),
                attributes,
                Status::Ready,
            ));
        }
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
            .create_subnet()
            .vpc_id(required(attributes, "vpc_id")?)
            .cidr_block(required(attributes, "cidr_block")?)
            .availability_zone(required(attributes, "availability_zone")?)
            .tag_specifications(tag_specification(ResourceType::Subnet, attributes))
            .customize()
            .config_override(crate::cloud::aws::sent_once!(aws_sdk_ec2))
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
        sync_tags(&aws.ec2, &live.id, &live.attributes, desired).await
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        deleted(
            "DeleteSubnet",
            aws.ec2.delete_subnet().subnet_id(&live.id).send().await,
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
