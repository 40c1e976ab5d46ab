//! EC2: the adapters of the network kinds, and the tag handling they share
//! (tags in the create call, the stack filter, tag sync).

pub(crate) mod elastic_ip;
pub(crate) mod internet_gateway;
pub(crate) mod nat_gateway;
pub(crate) mod route_table;
pub(crate) mod security_group;
pub(crate) mod subnet;
pub(crate) mod subnet_tags;
pub(crate) mod vpc;

use std::collections::BTreeMap;

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use eksform_core::cloud::CloudError;
use eksform_core::kinds::tags::{tag_changes, tags_of};
use eksform_core::model::{Attributes, LiveResource, STACK_TAG};

use crate::{error, found};

/// The resource a describe call by id answered, as `to_live` reads it (an
/// adopt entry's lookup): `None` when EC2 says the id does not exist, or when
/// `to_live` keeps none of the items (a deleted NAT gateway stays listed for
/// a while).
pub(crate) fn described_by_id<Output, Item, E>(
    operation: &str,
    described: Result<Output, SdkError<E, HttpResponse>>,
    items: impl FnOnce(&Output) -> &[Item],
    to_live: impl FnMut(&Item) -> Option<LiveResource>,
) -> Result<Option<LiveResource>, CloudError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    Ok(found(operation, described)?.and_then(|out| items(&out).iter().find_map(to_live)))
}
/// TagSpecifications for a create call, so that the resource is never untagged.
pub fn tag_specification(resource_type: ResourceType, attributes: &Attributes) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(to_sdk(&tags_of(attributes))))
        .build()
}

pub fn to_sdk(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Live tags as an attribute value; `aws:` tags belong to AWS and are left out.
pub fn from_sdk(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .filter(|(k, _)| !k.starts_with("aws:"))
        .collect()
}

/// The filter that finds a stack's resources (`EVERY_STACK`: EC2 filters
/// take `*` as a wildcard).
pub fn stack_filter(stack: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{STACK_TAG}"))
        .values(stack)
        .build()
}

/// Adds, changes and removes tags so that the live tags become the desired ones.
pub async fn sync_tags(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    live: &Attributes,
    desired: &Attributes,
) -> Result<(), CloudError> {
    let (set, removed) = tag_changes(live, desired);
    if !set.is_empty() {
        ec2.create_tags()
            .resources(id)
            .set_tags(Some(to_sdk(&set)))
            .send()
            .await
            .map_err(|e| error("CreateTags", e))?;
    }
    if !removed.is_empty() {
        let keys = removed
            .into_iter()
            .map(|k| Tag::builder().key(k).build())
            .collect();
        ec2.delete_tags()
            .resources(id)
            .set_tags(Some(keys))
            .send()
            .await
            .map_err(|e| error("DeleteTags", e))?;
    }
    Ok(())
}
