//! AWS calls for Target groups of a load balancer. Port, protocol and target type cannot
//! change in place: the group is replaced create-before-destroy under a new
//! name (the names carry a hash of those fields), so the listener always has a
//! group to forward to. The health check path changes in place.

use async_trait::async_trait;

use crate::elbv2::load_balancer::{
    Candidate, elb_tags, may_be_the_stacks_by, sync_elb_tags, to_elb_tags,
};
use crate::{Adapter, AwsClients, Finding, error, not_found_is_done};
use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetTypeEnum};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::tags::{required, tags_of};
use eksform_core::kinds::target_group::TargetGroup;
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value};

/// The length eksform cuts a target group's `<stack>-<balancer>-<group>` to
/// before its hash (`kinds::target_group`).
const NAME_PREFIX_MAX: usize = 23;

fn to_live(
    kind: &TargetGroup,
    finding: Finding,
    group: &aws_sdk_elasticloadbalancingv2::types::TargetGroup,
    tags: std::collections::BTreeMap<String, String>,
) -> Option<LiveResource> {
    let arn = group.target_group_arn()?.to_string();
    let mut values = Attributes::new();
    let text = |s: Option<&str>| Value::string(s.unwrap_or_default());
    values.insert("name".into(), text(group.target_group_name()));
    values.insert(
        "port".into(),
        Value::Int(group.port().unwrap_or_default().into()),
    );
    values.insert(
        "protocol".into(),
        text(group.protocol().map(ProtocolEnum::as_str)),
    );
    values.insert(
        "target_type".into(),
        text(group.target_type().map(TargetTypeEnum::as_str)),
    );
    values.insert("vpc_id".into(), text(group.vpc_id()));
    values.insert("health_check_path".into(), text(group.health_check_path()));
    values.insert("arn".into(), Value::string(arn.clone()));
    finding.live(kind.name(), &arn, tags, values, Status::Ready)
}

#[async_trait]
impl Adapter for TargetGroup {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let groups = async {
            aws.elb
                .describe_target_groups()
                // ELBv2's largest page.
                .page_size(400)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| error("DescribeTargetGroups", e))
        };
        let (groups, vpcs) = tokio::try_join!(groups, crate::ec2::vpc::stack_vpc_ids(aws, scope))?;
        // Only the tags of the groups that may be the stack's are read: other
        // teams' cost no call beyond the list's pages.
        let arns: Vec<String> = groups
            .iter()
            .filter(|g| {
                may_be_the_stacks_by(
                    scope,
                    &vpcs,
                    Candidate {
                        kind: self.name(),
                        name: g.target_group_name().unwrap_or_default(),
                        arn: g.target_group_arn().unwrap_or_default(),
                        vpc: g.vpc_id().unwrap_or_default(),
                        name_max: NAME_PREFIX_MAX,
                    },
                )
            })
            .filter_map(|g| g.target_group_arn().map(str::to_string))
            .collect();
        let mut tags = elb_tags(aws, &arns).await?;
        Ok(groups
            .iter()
            .filter_map(|group| {
                let tags = tags.remove(group.target_group_arn()?).unwrap_or_default();
                to_live(self, Finding::Stack(&scope.stack), group, tags)
            })
            .collect())
    }

    /// By ARN, or by name.
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let request = aws.elb.describe_target_groups();
        let request = if id.starts_with("arn:") {
            request.target_group_arns(id)
        } else {
            request.names(id)
        };
        let described = match request.send().await {
            Ok(out) => out,
            Err(e) => return crate::none_if_not_found(error("DescribeTargetGroups", e)),
        };
        let Some(group) = described.target_groups().first() else {
            return Ok(None);
        };
        let arn = group.target_group_arn().unwrap_or_default().to_string();
        let mut tags = elb_tags(aws, std::slice::from_ref(&arn)).await?;
        Ok(to_live(
            self,
            Finding::Adoption(&desired.address),
            group,
            tags.remove(&arn).unwrap_or_default(),
        ))
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let port = match attributes.get("port") {
            Some(Value::Int(port)) => *port as i32,
            _ => {
                return Err(CloudError::rejected(
                    "internal: target group without a port",
                ));
            }
        };
        let created = aws
            .elb
            .create_target_group()
            .name(required(attributes, "name")?)
            .protocol(ProtocolEnum::from(required(attributes, "protocol")?))
            .port(port)
            .vpc_id(required(attributes, "vpc_id")?)
            .target_type(TargetTypeEnum::from(required(attributes, "target_type")?))
            .health_check_path(required(attributes, "health_check_path")?)
            .set_tags(Some(to_elb_tags(&tags_of(attributes))))
            .send()
            .await
            .map_err(|e| error("CreateTargetGroup", e))?;
        let arn = created
            .target_groups()
            .first()
            .and_then(|g| g.target_group_arn())
            .ok_or_else(|| CloudError::rejected("CreateTargetGroup returned no target group"))?
            .to_string();
        let mut live = request.created(self.name(), arn.clone(), Status::Ready);
        live.attributes.insert("arn".into(), Value::string(arn));
        Ok(live)
    }

    async fn name_taken(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        let name = required(&desired.attributes, "name")?;
        let found = aws
            .elb
            .describe_target_groups()
            .names(name)
            .send()
            .await
            .map(|out| !out.target_groups().is_empty())
            .map_err(|e| error("DescribeTargetGroups", e));
        crate::elbv2::load_balancer::elb_name_taken("target group", name, found)
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        if let Some(path) = desired.get("health_check_path").and_then(Value::as_str)
            && live
                .attributes
                .get("health_check_path")
                .and_then(Value::as_str)
                != Some(path)
        {
            aws.elb
                .modify_target_group()
                .target_group_arn(&live.id)
                .health_check_path(path)
                .send()
                .await
                .map_err(|e| error("ModifyTargetGroup", e))?;
        }
        if desired.contains_key("tags") {
            sync_elb_tags(aws, &live.id, &live.attributes, desired).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        match aws
            .elb
            .delete_target_group()
            .target_group_arn(&live.id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => not_found_is_done(error("DeleteTargetGroup", e)),
        }
    }
}
