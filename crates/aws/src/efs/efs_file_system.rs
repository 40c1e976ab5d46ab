//! AWS calls for EFS file systems: created with their mark, encryption,
//! performance and throughput modes and backup in one call (idempotent by
//! its creation token), then the lifecycle; throughput, lifecycle and backup
//! change in place, each only when it differs from what is live (the
//! emulator has no UpdateFileSystem nor PutBackupPolicy).

use async_trait::async_trait;
use aws_sdk_efs::types::{
    BackupPolicy, FileSystemDescription, LifeCycleState, LifecyclePolicy, PerformanceMode,
    Status as BackupStatus, ThroughputMode, TransitionToIaRules,
    TransitionToPrimaryStorageClassRules,
};

use super::{marked_file_systems, not_deleted, tag_map, to_efs_tags};
use crate::{Adapter, AwsClients, Finding, deleted, error, none_if_not_found};
use eksform_core::cloud::shared::Reads;
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::efs_file_system::EfsFileSystem;
use eksform_core::kinds::tags::{required, tags_of};
use eksform_core::model::{Attributes, LiveResource, Status, Value};

fn status_of(state: &LifeCycleState) -> Status {
    match state {
        LifeCycleState::Available | LifeCycleState::Updating => Status::Ready,
        _ => Status::Pending,
    }
}

/// The lifecycle policies as the kind's value (`TransitionToIA=AFTER_30_DAYS`).
fn lifecycle_value(policies: &[LifecyclePolicy]) -> Value {
    let mut items: Vec<String> = Vec::new();
    for policy in policies {
        if let Some(rule) = policy.transition_to_ia() {
            items.push(format!("TransitionToIA={}", rule.as_str()));
        }
        if let Some(rule) = policy.transition_to_primary_storage_class() {
            items.push(format!("TransitionToPrimaryStorageClass={}", rule.as_str()));
        }
    }
    items.sort();
    Value::string_set(&items)
}

/// The kind's lifecycle value as EFS's policies (one rule each).
fn lifecycle_policies(value: Option<&Value>) -> Vec<LifecyclePolicy> {
    value
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|item| item.split_once('='))
        .filter_map(|(setting, rule)| match setting {
            "TransitionToIA" => Some(
                LifecyclePolicy::builder()
                    .transition_to_ia(TransitionToIaRules::from(rule))
                    .build(),
            ),
            "TransitionToPrimaryStorageClass" => Some(
                LifecyclePolicy::builder()
                    .transition_to_primary_storage_class(
                        TransitionToPrimaryStorageClassRules::from(rule),
                    )
                    .build(),
            ),
            _ => None,
        })
        .collect()
}

async fn lifecycle(aws: &AwsClients, id: &str) -> Result<Value, CloudError> {
    let out = aws
        .efs
        .describe_lifecycle_configuration()
        .file_system_id(id)
        .send()
        .await
        .map_err(|e| error("DescribeLifecycleConfiguration", e))?;
    Ok(lifecycle_value(out.lifecycle_policies()))
}

/// Whether AWS Backup backs the file system up; a file system whose policy
/// was never set has none (PolicyNotFound).
async fn backup(aws: &AwsClients, id: &str) -> Result<bool, CloudError> {
    match aws
        .efs
        .describe_backup_policy()
        .file_system_id(id)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .backup_policy()
            .is_some_and(|p| matches!(p.status(), BackupStatus::Enabled | BackupStatus::Enabling))),
        Err(e) => none_if_not_found(error("DescribeBackupPolicy", e)).map(|_: Option<()>| false),
    }
}

/// The live resource of a described file system, its lifecycle and backup
/// read (only for what the finding keeps).
async fn to_live(
    kind: &EfsFileSystem,
    aws: &AwsClients,
    finding: Finding<'_>,
    fs: &FileSystemDescription,
) -> Result<Option<LiveResource>, CloudError> {
    let id = fs.file_system_id();
    let mut values = Attributes::new();
    values.insert(
        "arn".into(),
        Value::string(fs.file_system_arn().unwrap_or_default()),
    );
    values.insert(
        "encrypted".into(),
        Value::Bool(fs.encrypted().unwrap_or(false)),
    );
    values.insert(
        "kms_key".into(),
        fs.kms_key_id().map_or(Value::Null, Value::string),
    );
    values.insert(
        "performance_mode".into(),
        Value::string(fs.performance_mode().as_str()),
    );
    values.insert(
        "throughput_mode".into(),
        Value::string(fs.throughput_mode().map_or("bursting", |m| m.as_str())),
    );
    values.insert(
        "provisioned_throughput_mibps".into(),
        fs.provisioned_throughput_in_mibps()
            .map_or(Value::Null, |m| Value::Int(m.round() as i64)),
    );
    values.insert(
        "size_bytes".into(),
        fs.size_in_bytes()
            .map_or(Value::Null, |size| Value::Int(size.value())),
    );
    let Some(mut live) = finding.live(
        kind.name(),
        id,
        tag_map(fs.tags()),
        values,
        status_of(fs.life_cycle_state()),
    ) else {
        return Ok(None);
    };
    let (lifecycle, backup) =
        futures_util::future::try_join(lifecycle(aws, id), backup(aws, id)).await?;
    live.attributes.insert("lifecycle".into(), lifecycle);
    live.attributes.insert("backup".into(), Value::Bool(backup));
    Ok(Some(live))
}

async fn put_lifecycle(
    aws: &AwsClients,
    id: &str,
    value: Option<&Value>,
) -> Result<(), CloudError> {
    aws.efs
        .put_lifecycle_configuration()
        .file_system_id(id)
        .set_lifecycle_policies(Some(lifecycle_policies(value)))
        .send()
        .await
        .map_err(|e| error("PutLifecycleConfiguration", e))?;
    Ok(())
}

fn mibps(attributes: &Attributes) -> Option<f64> {
    match attributes.get("provisioned_throughput_mibps") {
        Some(Value::Int(m)) => Some(*m as f64),
        _ => None,
    }
}

#[async_trait]
impl Adapter for EfsFileSystem {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let marked = marked_file_systems(aws, &scope.reads, |tag| scope.marked(tag)).await?;
        let read = marked
            .iter()
            .map(|fs| to_live(self, aws, Finding::Stack(&scope.stack), fs));
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
        let encrypted = matches!(attributes.get("encrypted"), Some(Value::Bool(true)));
        let backup = matches!(attributes.get("backup"), Some(Value::Bool(true)));
        // The creation token makes the call idempotent: a retry after a lost
        // answer returns the same file system (FileSystemAlreadyExists names it).
        let token: String = request.token.chars().take(64).collect();
        let created = aws
            .efs
            .create_file_system()
            .creation_token(&token)
            .encrypted(encrypted)
            .set_kms_key_id(
                attributes
                    .get("kms_key")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            )
            .performance_mode(PerformanceMode::from(required(
                attributes,
                "performance_mode",
            )?))
            .throughput_mode(ThroughputMode::from(required(
                attributes,
                "throughput_mode",
            )?))
            .set_provisioned_throughput_in_mibps(mibps(attributes))
            .backup(backup)
            .set_tags(Some(to_efs_tags(tags_of(attributes))?))
            .send()
            .await;
        let (id, arn, state) = match created {
            Ok(out) => (
                out.file_system_id().to_string(),
                out.file_system_arn().unwrap_or_default().to_string(),
                out.life_cycle_state().clone(),
            ),
            Err(e) => {
                let e = error("CreateFileSystem", e);
                if e.code.as_deref() != Some("FileSystemAlreadyExists") {
                    return Err(e);
                }
                // Listed anew: the lost attempt's file system is newer than
                // any shared list.
                let all = marked_file_systems(aws, &Reads::default(), |tag| {
                    eksform_core::kinds::tags::marks_stack(tag, &request.stack)
                })
                .await?;
                let fs = all
                    .iter()
                    .find(|fs| fs.creation_token() == token)
                    .ok_or(e)?;
                (
                    fs.file_system_id().to_string(),
                    fs.file_system_arn().unwrap_or_default().to_string(),
                    fs.life_cycle_state().clone(),
                )
            }
        };
        // A crash from here on leaves a marked file system without its
        // lifecycle: the next plan updates it in place.
        let policies = attributes.get("lifecycle");
        if policies
            .and_then(Value::as_list)
            .is_some_and(|p| !p.is_empty())
        {
            put_lifecycle(aws, &id, policies).await?;
        }
        let mut live = request.created(self.name(), id, status_of(&state));
        live.attributes.insert("arn".into(), Value::string(arn));
        Ok(live)
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let id = live.id.as_str();
        let changed = |attribute: &str| self.changed(attribute, &live.attributes, desired);
        if changed("throughput_mode") || changed("provisioned_throughput_mibps") {
            aws.efs
                .update_file_system()
                .file_system_id(id)
                .throughput_mode(ThroughputMode::from(required(desired, "throughput_mode")?))
                .set_provisioned_throughput_in_mibps(mibps(desired))
                .send()
                .await
                .map_err(|e| error("UpdateFileSystem", e))?;
        }
        if changed("lifecycle") {
            put_lifecycle(aws, id, desired.get("lifecycle")).await?;
        }
        if changed("backup") {
            let status = if matches!(desired.get("backup"), Some(Value::Bool(true))) {
                BackupStatus::Enabled
            } else {
                BackupStatus::Disabled
            };
            let policy = BackupPolicy::builder()
                .status(status)
                .build()
                .map_err(|e| CloudError::rejected(format!("internal: a backup policy: {e}")))?;
            aws.efs
                .put_backup_policy()
                .file_system_id(id)
                .backup_policy(policy)
                .send()
                .await
                .map_err(|e| error("PutBackupPolicy", e))?;
        }
        if desired.contains_key("tags") {
            super::sync_tags(aws, id, &live.attributes, desired).await?;
        }
        Ok(())
    }

    /// The plan marked the delete destructive (its files go with it), and
    /// apply ran it only with `--allow-destroy` or a yes. EFS refuses it
    /// while mount targets remain (FileSystemInUse, retried).
    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        deleted(
            "DeleteFileSystem",
            aws.efs
                .delete_file_system()
                .file_system_id(&live.id)
                .send()
                .await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let Some(fs) = not_deleted(
            "DescribeFileSystems",
            aws.efs
                .describe_file_systems()
                .file_system_id(&live.id)
                .send()
                .await,
            |out| out.file_systems(),
            FileSystemDescription::life_cycle_state,
        )?
        else {
            return Ok(None);
        };
        to_live(self, aws, Finding::Adoption(&live.address), &fs).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_policies_read_back_as_written() {
        let value = Value::string_set(&[
            "TransitionToIA=AFTER_30_DAYS".to_string(),
            "TransitionToPrimaryStorageClass=AFTER_1_ACCESS".to_string(),
        ]);
        let policies = lifecycle_policies(Some(&value));
        assert_eq!(policies.len(), 2);
        assert_eq!(lifecycle_value(&policies), value);
    }
}
