//! AWS calls for EFS access points: created with their mark, POSIX user and
//! root directory (owned by that user, with the spec's permissions) in one
//! call, idempotent by its client token; only tags change in place.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_efs::types::{AccessPointDescription, CreationInfo, PosixUser, RootDirectory};

use super::{tag_map, to_efs_tags};
use crate::{Adapter, AwsClients, Finding, deleted, error, found};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::efs_access_point::EfsAccessPoint;
use eksform_core::kinds::tags::{required, tags_of};
use eksform_core::model::{Attributes, LiveResource, Status, Value};

fn to_live(
    kind: &EfsAccessPoint,
    finding: Finding<'_>,
    point: &AccessPointDescription,
) -> Option<LiveResource> {
    let id = point.access_point_id()?;
    let mut values = Attributes::new();
    values.insert(
        "arn".into(),
        Value::string(point.access_point_arn().unwrap_or_default()),
    );
    values.insert(
        "file_system_id".into(),
        Value::string(point.file_system_id().unwrap_or_default()),
    );
    let root = point.root_directory();
    values.insert(
        "path".into(),
        Value::string(root.and_then(|r| r.path()).unwrap_or("/")),
    );
    values.insert(
        "permissions".into(),
        root.and_then(|r| r.creation_info())
            .map_or(Value::Null, |c| Value::string(c.permissions())),
    );
    values.insert(
        "posix_user".into(),
        point.posix_user().map_or(Value::Null, |user| {
            let mut secondary: Vec<i64> = user.secondary_gids().to_vec();
            secondary.sort_unstable();
            secondary.dedup();
            Value::Map(BTreeMap::from([
                ("uid".to_string(), Value::Int(user.uid())),
                ("gid".to_string(), Value::Int(user.gid())),
                (
                    "secondary_gids".to_string(),
                    Value::List(secondary.into_iter().map(Value::Int).collect()),
                ),
            ]))
        }),
    );
    finding.live(
        kind.name(),
        id,
        tag_map(point.tags()),
        values,
        Status::Ready,
    )
}

fn int(map: &BTreeMap<String, Value>, key: &str) -> Result<i64, CloudError> {
    match map.get(key) {
        Some(Value::Int(n)) => Ok(*n),
        _ => Err(CloudError::rejected(format!(
            "internal: posix_user.{key} is not a number"
        ))),
    }
}

fn rejected(what: &str) -> impl Fn(aws_sdk_efs::error::BuildError) -> CloudError + '_ {
    move |e| CloudError::rejected(format!("internal: {what}: {e}"))
}

#[async_trait]
impl Adapter for EfsAccessPoint {
    /// Every access point of the account (tags included), kept to the stack's.
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let points: Vec<AccessPointDescription> = aws
            .efs
            .describe_access_points()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("DescribeAccessPoints", e))?;
        Ok(points
            .iter()
            .filter_map(|point| to_live(self, Finding::Stack(&scope.stack), point))
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let user = attributes
            .get("posix_user")
            .and_then(Value::as_map)
            .ok_or_else(|| CloudError::rejected("internal: no posix_user"))?;
        let (uid, gid) = (int(user, "uid")?, int(user, "gid")?);
        let secondary: Vec<i64> = user
            .get("secondary_gids")
            .and_then(Value::as_list)
            .unwrap_or_default()
            .iter()
            .filter_map(|g| match g {
                Value::Int(n) => Some(*n),
                _ => None,
            })
            .collect();
        let posix_user = PosixUser::builder()
            .uid(uid)
            .gid(gid)
            .set_secondary_gids((!secondary.is_empty()).then_some(secondary))
            .build()
            .map_err(rejected("a POSIX user"))?;
        let creation_info = CreationInfo::builder()
            .owner_uid(uid)
            .owner_gid(gid)
            .permissions(required(attributes, "permissions")?)
            .build()
            .map_err(rejected("a root directory's creation info"))?;
        let created = aws
            .efs
            .create_access_point()
            .client_token(request.token.chars().take(64).collect::<String>())
            .file_system_id(required(attributes, "file_system_id")?)
            .posix_user(posix_user)
            .root_directory(
                RootDirectory::builder()
                    .path(required(attributes, "path")?)
                    .creation_info(creation_info)
                    .build(),
            )
            .set_tags(Some(to_efs_tags(tags_of(attributes))?))
            .send()
            .await
            .map_err(|e| error("CreateAccessPoint", e))?;
        let id = created
            .access_point_id()
            .ok_or_else(|| CloudError::rejected("CreateAccessPoint returned no id"))?;
        let mut live = request.created(self.name(), id.to_string(), Status::Ready);
        live.attributes.insert(
            "arn".into(),
            Value::string(created.access_point_arn().unwrap_or_default()),
        );
        Ok(live)
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        if desired.contains_key("tags") {
            super::sync_tags(aws, &live.id, &live.attributes, desired).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        deleted(
            "DeleteAccessPoint",
            aws.efs
                .delete_access_point()
                .access_point_id(&live.id)
                .send()
                .await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let described = found(
            "DescribeAccessPoints",
            aws.efs
                .describe_access_points()
                .access_point_id(&live.id)
                .send()
                .await,
        )?;
        Ok(described.and_then(|out| {
            out.access_points()
                .first()
                .and_then(|point| to_live(self, Finding::Adoption(&live.address), point))
        }))
    }
}
