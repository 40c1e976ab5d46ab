//! AWS calls for ECR repositories (`registries[]`): created with their mark,
//! mutability, scanning and encryption in one call, then the lifecycle and
//! repository policies; those change in place; a delete is forced (the
//! images go with the repository, which `--allow-destroy` agreed to).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ecr::types::{
    EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability,
    Repository, Tag,
};

use crate::sdk_tags::tag_map;
use crate::{Adapter, AwsClients, Finding, deleted, error, found, not_found_is_done};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::ecr_repository::EcrRepository;
use eksform_core::kinds::tags::{required, tag_changes, tags_of};
use eksform_core::model::{
    ADDRESS_TAG, Attributes, DesiredResource, LiveResource, STACK_TAG, Status, Value,
};

/// A repository as ECR describes it, with its tags.
struct Described {
    repository: Repository,
    tags: BTreeMap<String, String>,
}

/// A repository's tags; `None` once it is gone.
async fn repository_tags(
    aws: &AwsClients,
    arn: &str,
) -> Result<Option<BTreeMap<String, String>>, CloudError> {
    let listed = found(
        "ListTagsForResource",
        aws.ecr
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await,
    )?;
    Ok(listed.map(|out| tag_map(out.tags())))
}

/// The repository's lifecycle policy text, `Null` when it has none.
async fn lifecycle_policy(aws: &AwsClients, name: &str) -> Result<Value, CloudError> {
    match aws
        .ecr
        .get_lifecycle_policy()
        .repository_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .lifecycle_policy_text()
            .map_or(Value::Null, Value::string)),
        Err(e) => not_found_is_done(error("GetLifecyclePolicy", e)).map(|()| Value::Null),
    }
}

/// The repository policy text, `Null` when it has none.
async fn repository_policy(aws: &AwsClients, name: &str) -> Result<Value, CloudError> {
    match aws
        .ecr
        .get_repository_policy()
        .repository_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out.policy_text().map_or(Value::Null, Value::string)),
        Err(e) => not_found_is_done(error("GetRepositoryPolicy", e)).map(|()| Value::Null),
    }
}

/// The live resource of a described repository, its policies read (only
/// for what the finding keeps: a foreign repository's are never read).
async fn to_live(
    kind: &EcrRepository,
    aws: &AwsClients,
    finding: Finding<'_>,
    described: Described,
) -> Result<Option<LiveResource>, CloudError> {
    let repository = &described.repository;
    let Some(name) = repository.repository_name() else {
        return Ok(None);
    };
    let text = |s: Option<&str>| Value::string(s.unwrap_or_default());
    let mut values = Attributes::new();
    values.insert("name".into(), Value::string(name));
    values.insert("arn".into(), text(repository.repository_arn()));
    values.insert("uri".into(), text(repository.repository_uri()));
    values.insert(
        "image_tag_mutability".into(),
        text(repository.image_tag_mutability().map(|m| m.as_str())),
    );
    values.insert(
        "scan_on_push".into(),
        Value::Bool(
            repository
                .image_scanning_configuration()
                .is_some_and(|c| c.scan_on_push()),
        ),
    );
    let encryption = repository.encryption_configuration();
    values.insert(
        "encryption_type".into(),
        Value::string(encryption.map_or("AES256", |e| e.encryption_type().as_str())),
    );
    values.insert(
        "kms_key".into(),
        encryption
            .and_then(|e| e.kms_key())
            .map_or(Value::Null, Value::string),
    );
    let Some(mut live) = finding.live(kind.name(), name, described.tags, values, Status::Ready)
    else {
        return Ok(None);
    };
    let (lifecycle, policy) =
        futures_util::future::try_join(lifecycle_policy(aws, name), repository_policy(aws, name))
            .await?;
    live.attributes.insert("lifecycle_policy".into(), lifecycle);
    live.attributes.insert("repository_policy".into(), policy);
    Ok(Some(live))
}

/// The repository of that name with its tags; `None` when there is none.
async fn described_by_name(aws: &AwsClients, name: &str) -> Result<Option<Described>, CloudError> {
    let Some(out) = found(
        "DescribeRepositories",
        aws.ecr
            .describe_repositories()
            .repository_names(name)
            .send()
            .await,
    )?
    else {
        return Ok(None);
    };
    let Some(repository) = out.repositories().first().cloned() else {
        return Ok(None);
    };
    let Some(tags) = repository_tags(aws, repository.repository_arn().unwrap_or_default()).await?
    else {
        return Ok(None);
    };
    Ok(Some(Described { repository, tags }))
}

/// The repository name an adopt entry's id stands for: the name itself, the
/// repository's ARN (`arn:aws:ecr:<region>:<account>:repository/<name>`) or
/// its URI (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`).
fn name_in(id: &str) -> &str {
    if let Some((_, name)) = id.split_once(":repository/") {
        return name;
    }
    match id.split_once('/') {
        Some((host, name)) if host.contains(".dkr.ecr.") => name,
        _ => id,
    }
}

fn to_ecr_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>, CloudError> {
    tags.into_iter()
        .map(|(key, value)| {
            Tag::builder()
                .key(key)
                .value(value)
                .build()
                .map_err(|e| CloudError::rejected(format!("internal: an ECR tag: {e}")))
        })
        .collect()
}

fn scanning(attributes: &Attributes) -> ImageScanningConfiguration {
    ImageScanningConfiguration::builder()
        .scan_on_push(matches!(
            attributes.get("scan_on_push"),
            Some(Value::Bool(true))
        ))
        .build()
}

async fn set_lifecycle_policy(
    aws: &AwsClients,
    name: &str,
    policy: Option<&str>,
) -> Result<(), CloudError> {
    match policy {
        Some(text) => {
            aws.ecr
                .put_lifecycle_policy()
                .repository_name(name)
                .lifecycle_policy_text(text)
                .send()
                .await
                .map_err(|e| error("PutLifecyclePolicy", e))?;
            Ok(())
        }
        None => deleted(
            "DeleteLifecyclePolicy",
            aws.ecr
                .delete_lifecycle_policy()
                .repository_name(name)
                .send()
                .await,
        ),
    }
}

async fn set_repository_policy(
    aws: &AwsClients,
    name: &str,
    policy: Option<&str>,
) -> Result<(), CloudError> {
    match policy {
        Some(text) => {
            aws.ecr
                .set_repository_policy()
                .repository_name(name)
                .policy_text(text)
                .send()
                .await
                .map_err(|e| error("SetRepositoryPolicy", e))?;
            Ok(())
        }
        None => deleted(
            "DeleteRepositoryPolicy",
            aws.ecr
                .delete_repository_policy()
                .repository_name(name)
                .send()
                .await,
        ),
    }
}

#[async_trait]
impl Adapter for EcrRepository {
    /// Every repository of the region, each one's tags (ECR has no tag
    /// filter nor batch tag read; all at once), then the policies of those
    /// that carry the stack's mark.
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let repositories: Vec<Repository> = aws
            .ecr
            .describe_repositories()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("DescribeRepositories", e))?;
        let read = repositories.into_iter().map(|repository| async move {
            let arn = repository.repository_arn().unwrap_or_default().to_string();
            let Some(tags) = repository_tags(aws, &arn).await? else {
                // Deleted between the list and now.
                return Ok(None);
            };
            if !scope.marked(tags.get(STACK_TAG)) {
                return Ok(None);
            }
            to_live(
                self,
                aws,
                Finding::Stack(&scope.stack),
                Described { repository, tags },
            )
            .await
        });
        Ok(futures_util::future::try_join_all(read)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let name = required(attributes, "name")?;
        let encryption = EncryptionConfiguration::builder()
            .encryption_type(EncryptionType::from(required(
                attributes,
                "encryption_type",
            )?))
            .set_kms_key(
                attributes
                    .get("kms_key")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            )
            .build()
            .map_err(|e| CloudError::rejected(format!("internal: ECR encryption: {e}")))?;
        let created = aws
            .ecr
            .create_repository()
            .repository_name(name)
            .image_tag_mutability(ImageTagMutability::from(required(
                attributes,
                "image_tag_mutability",
            )?))
            .image_scanning_configuration(scanning(attributes))
            .encryption_configuration(encryption)
            .set_tags(Some(to_ecr_tags(tags_of(attributes))?))
            .customize()
            .config_override(crate::sent_once!(aws_sdk_ecr))
            .send()
            .await
            .map_err(|e| error("CreateRepository", e))?;
        let repository = created
            .repository()
            .ok_or_else(|| CloudError::rejected("CreateRepository returned no repository"))?;
        // A crash from here on leaves a marked repository without its
        // policies: the next plan updates it in place.
        let text = |name: &str| attributes.get(name).and_then(Value::as_str);
        if let Some(policy) = text("lifecycle_policy") {
            set_lifecycle_policy(aws, name, Some(policy)).await?;
        }
        if let Some(policy) = text("repository_policy") {
            set_repository_policy(aws, name, Some(policy)).await?;
        }
        let mut live = request.created(self.name(), name.to_string(), Status::Ready);
        for (attribute, value) in [
            ("arn", repository.repository_arn()),
            ("uri", repository.repository_uri()),
        ] {
            live.attributes
                .insert(attribute.into(), Value::string(value.unwrap_or_default()));
        }
        Ok(live)
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let name = live.id.as_str();
        let changed = |attribute: &str| self.changed(attribute, &live.attributes, desired);
        if changed("image_tag_mutability") {
            aws.ecr
                .put_image_tag_mutability()
                .repository_name(name)
                .image_tag_mutability(ImageTagMutability::from(required(
                    desired,
                    "image_tag_mutability",
                )?))
                .send()
                .await
                .map_err(|e| error("PutImageTagMutability", e))?;
        }
        if changed("scan_on_push") {
            aws.ecr
                .put_image_scanning_configuration()
                .repository_name(name)
                .image_scanning_configuration(scanning(desired))
                .send()
                .await
                .map_err(|e| error("PutImageScanningConfiguration", e))?;
        }
        let text = |attribute: &str| desired.get(attribute).and_then(Value::as_str);
        if changed("lifecycle_policy") {
            set_lifecycle_policy(aws, name, text("lifecycle_policy")).await?;
        }
        if changed("repository_policy") {
            set_repository_policy(aws, name, text("repository_policy")).await?;
        }
        if desired.contains_key("tags") {
            let arn = required(&live.attributes, "arn")?;
            let (set, removed) = tag_changes(&live.attributes, desired);
            if !set.is_empty() {
                aws.ecr
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(to_ecr_tags(set)?))
                    .send()
                    .await
                    .map_err(|e| error("TagResource", e))?;
            }
            if !removed.is_empty() {
                aws.ecr
                    .untag_resource()
                    .resource_arn(arn)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .map_err(|e| error("UntagResource", e))?;
            }
        }
        Ok(())
    }

    /// Forced: the images go with the repository. The plan marked the delete
    /// destructive, and apply ran it only with `--allow-destroy` or a yes.
    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        deleted(
            "DeleteRepository",
            aws.ecr
                .delete_repository()
                .repository_name(&live.id)
                .force(true)
                .send()
                .await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        match described_by_name(aws, &live.id).await? {
            Some(described) => {
                to_live(self, aws, Finding::Adoption(&live.address), described).await
            }
            None => Ok(None),
        }
    }

    /// A repository of the name without this stack's mark at this address:
    /// creating it would fail half-way through apply.
    async fn name_taken(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        let name = required(&desired.attributes, "name")?;
        let Some(described) = described_by_name(aws, name).await? else {
            return Ok(None);
        };
        let ours = described.tags.get(ADDRESS_TAG) == Some(&desired.address.0)
            && tags_of(&desired.attributes).get(STACK_TAG) == described.tags.get(STACK_TAG);
        Ok((!ours).then(|| {
            format!(
                "an ECR repository named `{name}` already exists in the region and is not this stack's: take it over with an `adopt:` entry (address `{}`, id `{name}`), or rename the registry in the spec",
                desired.address
            )
        }))
    }

    /// By name, ARN or URI.
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        match described_by_name(aws, name_in(id)).await? {
            Some(described) => {
                to_live(self, aws, Finding::Adoption(&desired.address), described).await
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adopt_id_may_be_the_name_the_arn_or_the_uri() {
        assert_eq!(name_in("team/app"), "team/app");
        assert_eq!(
            name_in("arn:aws:ecr:us-east-1:111122223333:repository/team/app"),
            "team/app"
        );
        assert_eq!(
            name_in("111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app"),
            "team/app"
        );
    }
}
