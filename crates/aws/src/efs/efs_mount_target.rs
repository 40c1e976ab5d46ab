//! AWS calls for EFS mount targets. EFS keeps no tags on a mount target:
//! the stack's are those of its marked file systems, each at the address of
//! its file system's name and its subnet's zone, with the mark derived from
//! the file system's. A create is looked for before it is made (the call has
//! no idempotency token; a second mount target in a zone is refused).

use async_trait::async_trait;
use aws_sdk_efs::types::{LifeCycleState, MountTargetDescription};

use super::{marked_file_systems, not_deleted};
use crate::{Adapter, AwsClients, deleted, error, none_if_not_found};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::efs_mount_target::EfsMountTarget;
use eksform_core::kinds::tags::{mark, required, stack_of};
use eksform_core::kinds::{EfsFileSystem, Kind};
use eksform_core::model::{ADDRESS_TAG, Address, Attributes, LiveResource, Status, Value};

fn status_of(state: &LifeCycleState) -> Status {
    match state {
        LifeCycleState::Available => Status::Ready,
        _ => Status::Pending,
    }
}

/// The mount targets of a file system; none once it is gone.
async fn mount_targets(
    aws: &AwsClients,
    file_system_id: &str,
) -> Result<Vec<MountTargetDescription>, CloudError> {
    match aws
        .efs
        .describe_mount_targets()
        .file_system_id(file_system_id)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
    {
        Ok(targets) => Ok(targets),
        Err(e) => none_if_not_found::<()>(error("DescribeMountTargets", e)).map(|_| Vec::new()),
    }
}

/// A mount target as a live resource of the stack, its security groups read.
async fn to_live(
    kind: &EfsMountTarget,
    aws: &AwsClients,
    stack: &str,
    file_system: &str,
    target: &MountTargetDescription,
) -> Result<Option<LiveResource>, CloudError> {
    let Some(zone) = target.availability_zone_name() else {
        return Ok(None);
    };
    let id = target.mount_target_id();
    let groups = match aws
        .efs
        .describe_mount_target_security_groups()
        .mount_target_id(id)
        .send()
        .await
    {
        Ok(out) => out.security_groups().to_vec(),
        Err(e) => return none_if_not_found(error("DescribeMountTargetSecurityGroups", e)),
    };
    let address = EfsMountTarget::address(file_system, zone);
    let mut attributes = Attributes::new();
    attributes.insert(
        "file_system_id".into(),
        Value::string(target.file_system_id()),
    );
    attributes.insert("subnet_id".into(), Value::string(target.subnet_id()));
    attributes.insert("security_group_ids".into(), Value::string_set(&groups));
    attributes.insert("tags".into(), Value::string_map(&mark(stack, &address)));
    Ok(Some(LiveResource {
        address,
        kind: kind.name().into(),
        id: id.to_string(),
        attributes,
        status: status_of(target.life_cycle_state()),
    }))
}

/// The live mount targets of the stack's file systems.
async fn observed(
    kind: &EfsMountTarget,
    aws: &AwsClients,
    scope: &Scope,
) -> Result<Vec<LiveResource>, CloudError> {
    // The list the file-system kind's observation reads too (shared).
    let file_systems = marked_file_systems(aws, &scope.reads, |tag| scope.marked(tag)).await?;
    let read = file_systems.iter().map(|fs| async move {
        let tags = super::tag_map(fs.tags());
        // The file system's own stack (observing every stack at once).
        let (Some(fs_stack), Some(name)) = (
            tags.get(eksform_core::model::STACK_TAG),
            tags.get(ADDRESS_TAG)
                .and_then(|a| EfsFileSystem::name_of(&Address(a.clone())).map(str::to_string)),
        ) else {
            return Ok(Vec::new());
        };
        let targets = mount_targets(aws, fs.file_system_id()).await?;
        let lives = futures_util::future::try_join_all(
            targets
                .iter()
                .filter(|t| t.life_cycle_state() != &LifeCycleState::Deleted)
                .map(|t| to_live(kind, aws, fs_stack, &name, t)),
        )
        .await?;
        Ok::<_, CloudError>(lives.into_iter().flatten().collect::<Vec<_>>())
    });
    Ok(futures_util::future::try_join_all(read)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

#[async_trait]
impl Adapter for EfsMountTarget {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        observed(self, aws, scope).await
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let file_system_id = required(attributes, "file_system_id")?;
        let subnet_id = required(attributes, "subnet_id")?;
        let groups: Vec<String> = attributes
            .get("security_group_ids")
            .and_then(Value::as_list)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        // No idempotency token: a lost attempt's mount target is found in
        // the subnet and finished with an update.
        if let Some(made) = mount_targets(aws, file_system_id)
            .await?
            .into_iter()
            .find(|t| {
                t.subnet_id() == subnet_id && t.life_cycle_state() != &LifeCycleState::Deleted
            })
        {
            let mut live = request.created(
                self.name(),
                made.mount_target_id().to_string(),
                status_of(made.life_cycle_state()),
            );
            if let Some(existing) = self.read(aws, &live).await? {
                self.update(aws, &existing, attributes).await?;
                live.status = existing.status;
            }
            return Ok(live);
        }
        let created = aws
            .efs
            .create_mount_target()
            .file_system_id(file_system_id)
            .subnet_id(subnet_id)
            .set_security_groups(Some(groups))
            .customize()
            .config_override(crate::sent_once!(aws_sdk_efs))
            .send()
            .await
            .map_err(|e| error("CreateMountTarget", e))?;
        Ok(request.created(
            self.name(),
            created.mount_target_id().to_string(),
            status_of(created.life_cycle_state()),
        ))
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        if self.changed("security_group_ids", &live.attributes, desired) {
            let wanted = desired.get("security_group_ids").unwrap_or(&Value::Null);
            aws.efs
                .modify_mount_target_security_groups()
                .mount_target_id(&live.id)
                .set_security_groups(Some(
                    wanted
                        .as_list()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                ))
                .send()
                .await
                .map_err(|e| error("ModifyMountTargetSecurityGroups", e))?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        deleted(
            "DeleteMountTarget",
            aws.efs
                .delete_mount_target()
                .mount_target_id(&live.id)
                .send()
                .await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let Some(target) = not_deleted(
            "DescribeMountTargets",
            aws.efs
                .describe_mount_targets()
                .mount_target_id(&live.id)
                .send()
                .await,
            |out| out.mount_targets(),
            MountTargetDescription::life_cycle_state,
        )?
        else {
            return Ok(None);
        };
        let stack = stack_of(&live.attributes);
        let file_system = live
            .address
            .as_str()
            .strip_prefix("efs_mount_target.")
            .and_then(|rest| rest.split('.').next())
            .unwrap_or_default()
            .to_string();
        let mut found = to_live(self, aws, &stack, &file_system, &target).await?;
        if let Some(found) = &mut found {
            // Its address as the plan knows it.
            found.address = live.address.clone();
        }
        Ok(found)
    }
}
