//! AWS calls for the control-plane log group `/aws/eks/<cluster>/cluster`, made before the
//! cluster so that EKS never creates one with infinite retention. An existing
//! group of that name without eksform's mark is adopted (the plan says so).

use async_trait::async_trait;

use crate::{Adapter, AwsClients, deleted, error};
use eksform_core::cloud::{CloudError, CreateRequest, ErrorClass, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::log_group::{LogGroup, retention, taggable_arn};
use eksform_core::kinds::tags::{required, tag_changes, tags_of};
use eksform_core::model::{
    Address, Attributes, DesiredResource, LiveResource, STACK_TAG, Status, Value,
};
use std::collections::HashMap;

async fn set_retention(aws: &AwsClients, name: &str, days: Option<i64>) -> Result<(), CloudError> {
    match days {
        Some(days) => {
            aws.logs
                .put_retention_policy()
                .log_group_name(name)
                .retention_in_days(days as i32)
                .send()
                .await
                .map_err(|e| error("PutRetentionPolicy", e))?;
        }
        None => {
            aws.logs
                .delete_retention_policy()
                .log_group_name(name)
                .send()
                .await
                .map_err(|e| error("DeleteRetentionPolicy", e))?;
        }
    }
    Ok(())
}

/// The group of that name at `address`, found by name whatever its marks.
async fn by_name(
    kind: &LogGroup,
    aws: &AwsClients,
    address: &Address,
    name: &str,
) -> Result<Option<LiveResource>, CloudError> {
    let scope = Scope {
        named: [(address.clone(), name.to_string())].into(),
        ..Scope::default()
    };
    match kind.observe(aws, &scope).await {
        Ok(found) => Ok(found.into_iter().next()),
        Err(e) if e.class == ErrorClass::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl Adapter for LogGroup {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let mut found = Vec::new();
        for (address, name) in scope
            .named
            .iter()
            .filter(|(a, _)| a.as_str().starts_with("log_group."))
        {
            let groups = aws
                .logs
                .describe_log_groups()
                .log_group_name_prefix(name)
                .send()
                .await
                .map_err(|e| error("DescribeLogGroups", e))?;
            let Some(group) = groups
                .log_groups()
                .iter()
                .find(|g| g.log_group_name() == Some(name.as_str()))
            else {
                continue;
            };
            let arn = group
                .arn()
                .map(taggable_arn)
                .unwrap_or_default()
                .to_string();
            let tags = aws
                .logs
                .list_tags_for_resource()
                .resource_arn(&arn)
                .send()
                .await
                .map_err(|e| error("ListTagsForResource", e))?;
            let tags: std::collections::BTreeMap<String, String> = tags
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            // Another stack's (its cluster has this name too): never this
            // stack's to change or delete. (No stack: a read of the group alone.)
            if let Some(owner) = tags.get(STACK_TAG)
                && !scope.stack.is_empty()
                && *owner != scope.stack
            {
                continue;
            }
            let mut attributes = Attributes::new();
            attributes.insert("name".into(), Value::string(name.clone()));
            attributes.insert("arn".into(), Value::string(arn));
            attributes.insert(
                "retention_in_days".into(),
                group
                    .retention_in_days()
                    .map_or(Value::Null, |d| Value::Int(d.into())),
            );
            attributes.insert("tags".into(), Value::string_map(&tags));
            // Found by name: with or without the mark (then the plan adopts it).
            found.push(LiveResource {
                address: address.clone(),
                kind: self.name().into(),
                id: name.clone(),
                attributes,
                status: Status::Ready,
            });
        }
        Ok(found)
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let name = required(attributes, "name")?;
        let tags: HashMap<String, String> = tags_of(attributes).into_iter().collect();
        aws.logs
            .create_log_group()
            .log_group_name(name)
            .set_tags(Some(tags))
            .customize()
            .config_override(crate::sent_once!(aws_sdk_cloudwatchlogs))
            .send()
            .await
            .map_err(|e| error("CreateLogGroup", e))?;
        if let Some(days) = retention(attributes) {
            set_retention(aws, name, Some(days)).await?;
        }
        Ok(request.created(self.name(), name.to_string(), Status::Ready))
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        if desired.contains_key("retention_in_days")
            && retention(&live.attributes) != retention(desired)
        {
            set_retention(aws, &live.id, retention(desired)).await?;
        }
        let arn = live
            .attributes
            .get("arn")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let (set, removed) = tag_changes(&live.attributes, desired);
        if !set.is_empty() {
            aws.logs
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(set.into_iter().collect()))
                .send()
                .await
                .map_err(|e| error("TagResource", e))?;
        }
        if !removed.is_empty() {
            aws.logs
                .untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| error("UntagResource", e))?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        deleted(
            "DeleteLogGroup",
            aws.logs
                .delete_log_group()
                .log_group_name(&live.id)
                .send()
                .await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        by_name(self, aws, &live.address, &live.id).await
    }

    /// By name, or by ARN (`arn:aws:logs:<region>:<account>:log-group:<name>`,
    /// with or without `:*`). The stack's observation finds a group by its
    /// name too: an entry only says that it is taken over.
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let name = match id.split_once(":log-group:") {
            Some((_, name)) => name.trim_end_matches(":*"),
            None => id,
        };
        by_name(self, aws, &desired.address, name).await
    }
}
