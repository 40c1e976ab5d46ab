//! AWS calls for the subnets of a brought VPC (`vpc.id`): eksform creates nothing there and
//! only adds the tags EKS and the load balancer controller look for. It never
//! removes a tag from them, and destroy leaves them as they are.

use async_trait::async_trait;

use crate::ec2::{from_sdk, to_sdk};
use crate::{Adapter, AwsClients, error, observed_by_id};
use aws_sdk_ec2::types::Tag;
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::subnet_tags::SubnetTags;
use eksform_core::kinds::tags::tags_of;
use eksform_core::model::{Address, Attributes, DesiredResource, LiveResource, Status, Value};

#[async_trait]
impl Adapter for SubnetTags {
    async fn find_to_adopt(
        &self,
        _aws: &AwsClients,
        _desired: &DesiredResource,
        _id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        Err(crate::not_adoptable(
            self.name(),
            "it is the Kubernetes tags eksform adds to a brought subnet, which stays the user's: nothing to take over",
        ))
    }

    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let brought: Vec<(&Address, &String)> = scope
            .named
            .iter()
            .filter(|(address, _)| address.as_str().starts_with("subnet_tags."))
            .collect();
        if brought.is_empty() {
            return Ok(vec![]);
        }
        let out = aws
            .ec2
            .describe_subnets()
            .set_subnet_ids(Some(brought.iter().map(|(_, id)| (*id).clone()).collect()))
            .send()
            .await
            .map_err(|e| error("DescribeSubnets", e))?;
        Ok(out
            .subnets()
            .iter()
            .filter_map(|subnet| {
                let id = subnet.subnet_id()?;
                let (address, _) = brought.iter().find(|(_, b)| b.as_str() == id)?;
                let mut attributes = Attributes::new();
                attributes.insert("id".into(), Value::string(id));
                attributes.insert("tags".into(), Value::string_map(&from_sdk(subnet.tags())));
                Some(LiveResource {
                    address: (*address).clone(),
                    kind: self.name().into(),
                    id: id.to_string(),
                    attributes,
                    status: Status::Ready,
                })
            })
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let id = eksform_core::kinds::tags::required(&request.attributes, "id")?.to_string();
        add_tags(aws, &id, &request.attributes).await?;
        Ok(request.created(self.name(), id, Status::Ready))
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        // Only the tags to add or set: the subnet's others (CloudFormation's
        // `aws:` ones among them, which CreateTags refuses) are left as they are.
        let (set, _) = eksform_core::kinds::tags::tag_changes(&live.attributes, desired);
        if set.is_empty() {
            return Ok(());
        }
        let tags = Attributes::from([("tags".to_string(), Value::string_map(&set))]);
        add_tags(aws, &live.id, &tags).await
    }

    async fn delete(&self, _aws: &AwsClients, _live: &LiveResource) -> Result<(), CloudError> {
        // The subnet is the user's: nothing of it is eksform's to remove.
        Ok(())
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let scope = Scope {
            named: [(live.address.clone(), live.id.clone())].into(),
            ..Scope::default()
        };
        observed_by_id(self, aws, &scope, &live.id).await
    }
}

async fn add_tags(aws: &AwsClients, id: &str, attributes: &Attributes) -> Result<(), CloudError> {
    let tags: Vec<Tag> = to_sdk(&tags_of(attributes));
    aws.ec2
        .create_tags()
        .resources(id)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| error("CreateTags", e))?;
    Ok(())
}
