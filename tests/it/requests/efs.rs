//! EFS calls the emulator lacks (EMULATOR.md; moto 5.2.5 has neither
//! UpdateFileSystem nor PutBackupPolicy): a file system's throughput and
//! backup changed in place, with the EFS client mocked by aws-smithy-mocks.
//! Each call goes out only when its setting differs from what is live, so
//! the emulator's applies (which keep them) never make it. Also: one
//! observation lists the file systems once for both kinds that read them
//! (counted here, where each call can be counted by operation).

use std::sync::{Arc, Mutex};

use aws_sdk_efs::Client;
use aws_sdk_efs::operation::describe_backup_policy::DescribeBackupPolicyOutput;
use aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput;
use aws_sdk_efs::operation::describe_lifecycle_configuration::DescribeLifecycleConfigurationOutput;
use aws_sdk_efs::operation::describe_mount_targets::DescribeMountTargetsOutput;
use aws_sdk_efs::operation::put_backup_policy::PutBackupPolicyOutput;
use aws_sdk_efs::operation::update_file_system::UpdateFileSystemOutput;
use aws_sdk_efs::types::{
    FileSystemDescription, FileSystemSize, LifeCycleState, PerformanceMode, Tag,
};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
use eksform_aws::{Adapter, AwsClients};
use eksform_core::cloud::Scope;
use eksform_core::cloud::shared::Reads;
use eksform_core::kinds::{EfsFileSystem, EfsMountTarget};
use eksform_core::model::{
    ADDRESS_TAG, Address, Attributes, LiveResource, STACK_TAG, Status, Value,
};

/// An EFS client answered by `rules` (built by hand, as `requests::ec2`'s,
/// so the SDK is not compiled again with `test-util`).
fn mocked_efs(rules: &[&Rule]) -> Client {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let config = aws_sdk_efs::Config::builder()
        .behavior_version(aws_sdk_efs::config::BehaviorVersion::latest())
        .region(aws_sdk_efs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_efs::config::Credentials::new(
            "AKIDTEST", "test", None, None, "test",
        ))
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .interceptor(interceptor)
        .build();
    Client::from_conf(config)
}

fn clients(efs: Client) -> AwsClients {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let mut clients = AwsClients::from_config(&config);
    clients.efs = efs;
    clients
}

fn live(throughput: &str, mibps: Option<i64>, backup: bool) -> LiveResource {
    let mut attributes = Attributes::new();
    attributes.insert("throughput_mode".into(), Value::string(throughput));
    attributes.insert(
        "provisioned_throughput_mibps".into(),
        mibps.map_or(Value::Null, Value::Int),
    );
    attributes.insert("backup".into(), Value::Bool(backup));
    LiveResource {
        address: Address("efs_file_system.shared".into()),
        kind: "efs_file_system".into(),
        id: "fs-0123".into(),
        attributes,
        status: Status::Ready,
    }
}

type Seen<T> = Arc<Mutex<Vec<T>>>;

/// Each UpdateFileSystem request's throughput mode and MiB/s.
type Updates = Seen<(String, Option<f64>)>;

/// Mocks recording each UpdateFileSystem (mode, MiB/s) and PutBackupPolicy
/// (status) request.
fn recording() -> (Rule, Rule, Updates, Seen<String>) {
    let updates: Updates = Arc::default();
    let seen = updates.clone();
    let update = mock!(Client::update_file_system)
        .match_requests(move |request| {
            seen.lock().unwrap().push((
                request
                    .throughput_mode()
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default(),
                request.provisioned_throughput_in_mibps(),
            ));
            request.file_system_id() == Some("fs-0123")
        })
        .then_output(|| {
            UpdateFileSystemOutput::builder()
                .owner_id("123456789012")
                .creation_token("t")
                .file_system_id("fs-0123")
                .creation_time(aws_smithy_types::DateTime::from_secs(0))
                .life_cycle_state(LifeCycleState::Updating)
                .number_of_mount_targets(2)
                .performance_mode(PerformanceMode::GeneralPurpose)
                .set_tags(Some(Vec::new()))
                .build()
                .unwrap()
        });
    let backups: Seen<String> = Arc::default();
    let seen = backups.clone();
    let backup = mock!(Client::put_backup_policy)
        .match_requests(move |request| {
            seen.lock().unwrap().push(
                request
                    .backup_policy()
                    .map(|p| p.status().as_str().to_string())
                    .unwrap_or_default(),
            );
            request.file_system_id() == Some("fs-0123")
        })
        .then_output(|| PutBackupPolicyOutput::builder().build());
    (update, backup, updates, backups)
}

#[tokio::test]
async fn throughput_and_backup_change_in_place_by_their_own_calls() {
    let (update, backup, updates, backups) = recording();
    let efs = mocked_efs(&[&update, &backup]);
    let mut desired = Attributes::new();
    desired.insert("throughput_mode".into(), Value::string("provisioned"));
    desired.insert("provisioned_throughput_mibps".into(), Value::Int(128));
    desired.insert("backup".into(), Value::Bool(true));
    EfsFileSystem
        .update(&clients(efs), &live("bursting", None, false), &desired)
        .await
        .expect("update");
    assert_eq!(
        *updates.lock().unwrap(),
        [("provisioned".to_string(), Some(128.0))]
    );
    assert_eq!(*backups.lock().unwrap(), ["ENABLED"]);

    // Backup off, throughput back to bursting (no MiB/s sent).
    let (update, backup, updates, backups) = recording();
    let efs = mocked_efs(&[&update, &backup]);
    let mut desired = Attributes::new();
    desired.insert("throughput_mode".into(), Value::string("bursting"));
    desired.insert("provisioned_throughput_mibps".into(), Value::Null);
    desired.insert("backup".into(), Value::Bool(false));
    EfsFileSystem
        .update(
            &clients(efs),
            &live("provisioned", Some(128), true),
            &desired,
        )
        .await
        .expect("update");
    assert_eq!(*updates.lock().unwrap(), [("bursting".to_string(), None)]);
    assert_eq!(*backups.lock().unwrap(), ["DISABLED"]);
}

#[tokio::test]
async fn settings_that_already_hold_make_no_call() {
    let (update, backup, updates, backups) = recording();
    let efs = mocked_efs(&[&update, &backup]);
    let mut desired = Attributes::new();
    desired.insert("throughput_mode".into(), Value::string("elastic"));
    desired.insert("provisioned_throughput_mibps".into(), Value::Null);
    desired.insert("backup".into(), Value::Bool(true));
    EfsFileSystem
        .update(&clients(efs), &live("elastic", None, true), &desired)
        .await
        .expect("update");
    assert!(updates.lock().unwrap().is_empty());
    assert!(backups.lock().unwrap().is_empty());
}

/// The stack's one file system as DescribeFileSystems lists it (its mark in
/// its tags).
fn marked_file_system() -> FileSystemDescription {
    let tag = |key: &str, value: &str| Tag::builder().key(key).value(value).build().unwrap();
    FileSystemDescription::builder()
        .owner_id("123456789012")
        .creation_token("t")
        .file_system_id("fs-0123")
        .creation_time(aws_smithy_types::DateTime::from_secs(0))
        .life_cycle_state(LifeCycleState::Available)
        .number_of_mount_targets(0)
        .size_in_bytes(FileSystemSize::builder().value(6144).build())
        .performance_mode(PerformanceMode::GeneralPurpose)
        .tags(tag(STACK_TAG, "shop"))
        .tags(tag(ADDRESS_TAG, "efs_file_system.shared"))
        .build()
        .unwrap()
}

#[tokio::test]
async fn one_observation_lists_the_file_systems_once_for_both_kinds() {
    let list = mock!(Client::describe_file_systems).then_output(|| {
        DescribeFileSystemsOutput::builder()
            .file_systems(marked_file_system())
            .build()
    });
    let lifecycle = mock!(Client::describe_lifecycle_configuration)
        .then_output(|| DescribeLifecycleConfigurationOutput::builder().build());
    let backup = mock!(Client::describe_backup_policy)
        .then_output(|| DescribeBackupPolicyOutput::builder().build());
    let mount_targets = mock!(Client::describe_mount_targets)
        .then_output(|| DescribeMountTargetsOutput::builder().build());
    let aws = clients(mocked_efs(&[&list, &lifecycle, &backup, &mount_targets]));
    // Reads shared, as a plan's observation shares them.
    let scope = Scope {
        stack: "shop".into(),
        reads: Reads::shared(),
        ..Scope::default()
    };
    let file_systems = EfsFileSystem.observe(&aws, &scope).await.expect("observe");
    let mount_targets_found = EfsMountTarget.observe(&aws, &scope).await.expect("observe");
    assert_eq!(file_systems.len(), 1, "{file_systems:?}");
    assert!(mount_targets_found.is_empty(), "{mount_targets_found:?}");
    // The mount-target kind read the file system's mount targets from the
    // shared list, without listing the file systems again.
    assert_eq!(mount_targets.num_calls(), 1);
    assert_eq!(list.num_calls(), 1);
}
