//! EFS: the adapters of file systems, their mount targets and access points
//! (`storage.efs[]`), and what they share: the stack's file systems read
//! with their tags, and EFS tags.

pub(crate) mod efs_access_point;
pub(crate) mod efs_file_system;
pub(crate) mod efs_mount_target;

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_efs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_efs::types::{FileSystemDescription, LifeCycleState, Tag};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::{AwsClients, error, found};
use eksform_core::cloud::CloudError;
use eksform_core::cloud::shared::Reads;
use eksform_core::model::STACK_TAG;

pub(crate) use crate::sdk_tags::tag_map;

/// The first of the items a describe call by id answered that is not
/// `Deleted` (EFS lists a deleted file system or mount target for a while);
/// `None` when EFS says the id does not exist: the resource is gone.
pub(crate) fn not_deleted<Output, Item: Clone, E>(
    operation: &str,
    described: Result<Output, SdkError<E, HttpResponse>>,
    items: impl FnOnce(&Output) -> &[Item],
    state: impl Fn(&Item) -> &LifeCycleState,
) -> Result<Option<Item>, CloudError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    Ok(found(operation, described)?.and_then(|out| {
        items(&out)
            .iter()
            .find(|item| state(item) != &LifeCycleState::Deleted)
            .cloned()
    }))
}

/// Tags as EFS takes them.
pub(crate) fn to_efs_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>, CloudError> {
    tags.into_iter()
        .map(|(key, value)| {
            Tag::builder()
                .key(key)
                .value(value)
                .build()
                .map_err(|e| CloudError::rejected(format!("internal: an EFS tag: {e}")))
        })
        .collect()
}

/// Every file system of the region (tags come with the list), listed once
/// while `reads` shares reads: the file-system and mount-target kinds of one
/// observation share the list, and so do the stacks of one estate plan (the
/// call has no tag filter, so the list is the same for every stack).
async fn file_systems(
    aws: &AwsClients,
    reads: &Reads,
) -> Result<Arc<Vec<FileSystemDescription>>, CloudError> {
    reads
        .get_or_read("efs: file systems", || async {
            aws.efs
                .describe_file_systems()
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| error("DescribeFileSystems", e))
        })
        .await
}

/// Every file system of the region whose `eksform:stack` tag `marked`
/// admits (`Scope::marked`), from the list `reads` shares
/// (`Reads::default()`: listed anew).
pub(crate) async fn marked_file_systems(
    aws: &AwsClients,
    reads: &Reads,
    marked: impl Fn(Option<&String>) -> bool,
) -> Result<Vec<FileSystemDescription>, CloudError> {
    Ok(file_systems(aws, reads)
        .await?
        .iter()
        .filter(|fs| marked(tag_map(fs.tags()).get(STACK_TAG)))
        .cloned()
        .collect())
}

/// Sets the desired tags and removes the others (the resource is an EFS
/// file system or access point id).
pub(crate) async fn sync_tags(
    aws: &AwsClients,
    id: &str,
    live: &eksform_core::model::Attributes,
    desired: &eksform_core::model::Attributes,
) -> Result<(), CloudError> {
    let (set, removed) = eksform_core::kinds::tags::tag_changes(live, desired);
    if !set.is_empty() {
        aws.efs
            .tag_resource()
            .resource_id(id)
            .set_tags(Some(to_efs_tags(set)?))
            .send()
            .await
            .map_err(|e| error("TagResource", e))?;
    }
    if !removed.is_empty() {
        aws.efs
            .untag_resource()
            .resource_id(id)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| error("UntagResource", e))?;
    }
    Ok(())
}
