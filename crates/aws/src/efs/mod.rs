//! EFS: the adapters of file systems, their mount targets and access points
//! (`storage.efs[]`), and what they share: the stack's file systems read
//! with their tags, and EFS tags.

pub(crate) mod efs_access_point;
pub(crate) mod efs_file_system;
pub(crate) mod efs_mount_target;

use std::collections::BTreeMap;

use aws_sdk_efs::types::{FileSystemDescription, Tag};

use crate::{AwsClients, error};
use eksform_core::cloud::CloudError;
use eksform_core::kinds::tags::marks_stack;
use eksform_core::model::STACK_TAG;

/// Tags as a map.
pub(crate) fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
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

/// Every file system of the region that carries the stack's mark (tags come
/// with the list).
pub(crate) async fn marked_file_systems(
    aws: &AwsClients,
    stack: &str,
) -> Result<Vec<FileSystemDescription>, CloudError> {
    let all: Vec<FileSystemDescription> = aws
        .efs
        .describe_file_systems()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| error("DescribeFileSystems", e))?;
    Ok(all
        .into_iter()
        .filter(|fs| marks_stack(tag_map(fs.tags()).get(STACK_TAG), stack))
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
