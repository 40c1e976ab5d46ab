//! EFS (`storage.efs[]`) through the binary: file systems created with their
//! mark, lifecycle and backup, a mount target in each private subnet in the
//! file system's NFS group, and access points with their POSIX user and
//! root directory; re-planned to nothing; the lifecycle changed in place and
//! an access point added; a file system removed from the spec refused under
//! `--auto-approve` alone and deleted (mount targets first, then the file
//! system, then its NFS group) under `--allow-destroy`; destroy leaves
//! nothing marked.
//!
//! The stack has no cluster: the emulator's EKS cluster has no
//! `clusterSecurityGroupId` (EMULATOR.md), so the NFS group admits the VPC's
//! CIDR here; the rule from the cluster security group is applied on the
//! memory cloud (`engine::efs`, the Fargate-only example). The emulator has
//! no UpdateFileSystem nor PutBackupPolicy: eksform calls them only when the
//! throughput or backup differ from what is live, which this test does not
//! change; their requests are checked in `requests::efs`.

use std::collections::BTreeSet;

use aws_sdk_efs::types::FileSystemDescription;
use eksform_aws::AwsClients;
use eksform_testkit::assertions::{assert_nothing_marked, marked_by};
use eksform_testkit::emulator::{
    Emulator, apply, apply_allowing_destroy, destroy, plan_exit_code, write_spec,
};

use super::REGION;
use crate::EKSFORM;

fn spec(file_systems: &str) -> String {
    format!(
        r#"stack: efs
region: {REGION}
vpc:
  cidr: 10.80.0.0/16
  availabilityZones: [us-east-1a, us-east-1b]
  nat: {{ gateway: Disable }}
storage:
  efs:
{file_systems}"#
    )
}

const SHARED_V1: &str = r#"    - name: shared
      lifecycle: { transitionToIA: AFTER_30_DAYS }
      backup: true
      accessPoints:
        - name: app
          path: /data/app
          posixUser: { uid: 1000, gid: 1000, secondaryGids: [2000] }
          permissions: "0750"
"#;

const SHARED_V2: &str = r#"    - name: shared
      lifecycle: { transitionToIA: AFTER_60_DAYS, transitionToPrimaryStorageClass: AFTER_1_ACCESS }
      backup: true
      accessPoints:
        - name: app
          path: /data/app
          posixUser: { uid: 1000, gid: 1000, secondaryGids: [2000] }
          permissions: "0750"
        - name: jobs
          path: /jobs
          posixUser: { uid: 2000, gid: 2000 }
"#;

const SCRATCH: &str = "    - name: scratch\n      encrypted: false\n";

/// The stack's file systems (by their `Name` tag).
async fn file_systems(aws: &AwsClients) -> Vec<FileSystemDescription> {
    aws.efs
        .describe_file_systems()
        .send()
        .await
        .unwrap()
        .file_systems()
        .iter()
        .filter(|fs| {
            fs.tags()
                .iter()
                .any(|t| t.key() == "eksform:stack" && t.value() == "efs")
        })
        .cloned()
        .collect()
}

fn named<'a>(all: &'a [FileSystemDescription], name: &str) -> &'a FileSystemDescription {
    all.iter()
        .find(|fs| fs.name() == Some(&format!("efs-efs-file-system-{name}")))
        .unwrap_or_else(|| panic!("file system {name}"))
}

/// Each mount target of a file system as (subnet, groups).
async fn mount_targets(aws: &AwsClients, file_system: &str) -> BTreeSet<(String, Vec<String>)> {
    let targets = aws
        .efs
        .describe_mount_targets()
        .file_system_id(file_system)
        .send()
        .await
        .unwrap();
    let mut found = BTreeSet::new();
    for target in targets.mount_targets() {
        let groups = aws
            .efs
            .describe_mount_target_security_groups()
            .mount_target_id(target.mount_target_id())
            .send()
            .await
            .unwrap();
        found.insert((
            target.subnet_id().to_string(),
            groups.security_groups().to_vec(),
        ));
    }
    found
}

/// The stack's access points, by their address tag.
async fn access_points(
    aws: &AwsClients,
) -> Vec<(String, aws_sdk_efs::types::AccessPointDescription)> {
    aws.efs
        .describe_access_points()
        .send()
        .await
        .unwrap()
        .access_points()
        .iter()
        .filter_map(|point| {
            let tags = point.tags();
            tags.iter()
                .any(|t| t.key() == "eksform:stack" && t.value() == "efs")
                .then(|| {
                    let address = tags
                        .iter()
                        .find(|t| t.key() == "eksform:address")
                        .map(|t| t.value().to_string())
                        .unwrap_or_default();
                    (address, point.clone())
                })
        })
        .collect()
}

async fn group_id(aws: &AwsClients, address: &str) -> Option<String> {
    aws.ec2
        .describe_security_groups()
        .filters(marked_by("efs"))
        .send()
        .await
        .unwrap()
        .security_groups()
        .iter()
        .find(|g| {
            g.tags()
                .iter()
                .any(|t| t.key() == Some("eksform:address") && t.value() == Some(address))
        })
        .and_then(|g| g.group_id().map(str::to_string))
}

async fn private_subnets(aws: &AwsClients) -> BTreeSet<String> {
    aws.ec2
        .describe_subnets()
        .filters(marked_by("efs"))
        .send()
        .await
        .unwrap()
        .subnets()
        .iter()
        .filter(|s| {
            s.tags().iter().any(|t| {
                t.key() == Some("eksform:address")
                    && t.value().is_some_and(|v| v.starts_with("subnet.private."))
            })
        })
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect()
}

async fn lifecycle(aws: &AwsClients, file_system: &str) -> Vec<String> {
    let out = aws
        .efs
        .describe_lifecycle_configuration()
        .file_system_id(file_system)
        .send()
        .await
        .unwrap();
    let mut rules: Vec<String> = out
        .lifecycle_policies()
        .iter()
        .flat_map(|p| {
            p.transition_to_ia()
                .map(|r| r.as_str().to_string())
                .into_iter()
                .chain(
                    p.transition_to_primary_storage_class()
                        .map(|r| r.as_str().to_string()),
                )
        })
        .collect();
    rules.sort();
    rules
}

#[tokio::test(flavor = "multi_thread")]
async fn file_systems_mount_targets_and_access_points_are_made_changed_guarded_and_destroyed() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let first = write_spec(&dir, "efs.yaml", &spec(&format!("{SHARED_V1}{SCRATCH}")));
    apply(&emulator, &first);

    let live = file_systems(&aws).await;
    assert_eq!(live.len(), 2);
    let shared = named(&live, "shared");
    let scratch = named(&live, "scratch");
    let (shared_id, scratch_id) = (
        shared.file_system_id().to_string(),
        scratch.file_system_id().to_string(),
    );
    assert_eq!(shared.encrypted(), Some(true), "encrypted by default");
    assert_eq!(scratch.encrypted(), Some(false));
    assert_eq!(lifecycle(&aws, &shared_id).await, ["AFTER_30_DAYS"]);
    let backup = aws
        .efs
        .describe_backup_policy()
        .file_system_id(&shared_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        backup.backup_policy().map(|p| p.status().as_str()),
        Some("ENABLED")
    );

    // A mount target in each private subnet, in the file system's own NFS
    // group, which admits NFS from the VPC.
    let subnets = private_subnets(&aws).await;
    assert_eq!(subnets.len(), 2);
    let nfs = group_id(&aws, "security_group.efs.shared")
        .await
        .expect("the NFS group");
    let wanted: BTreeSet<(String, Vec<String>)> = subnets
        .iter()
        .map(|s| (s.clone(), vec![nfs.clone()]))
        .collect();
    assert_eq!(mount_targets(&aws, &shared_id).await, wanted);
    let groups = aws
        .ec2
        .describe_security_groups()
        .group_ids(&nfs)
        .send()
        .await
        .unwrap();
    let rules: Vec<(i32, String)> = groups.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            p.ip_ranges()
                .iter()
                .filter_map(|r| r.cidr_ip())
                .map(|cidr| (p.from_port().unwrap_or(-1), cidr.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(rules, [(2049, "10.80.0.0/16".to_string())]);

    let points = access_points(&aws).await;
    assert_eq!(points.len(), 1);
    let (address, app) = &points[0];
    assert_eq!(address, "efs_access_point.shared.app");
    assert_eq!(app.file_system_id(), Some(shared_id.as_str()));
    let user = app.posix_user().expect("a POSIX user");
    assert_eq!(
        (user.uid(), user.gid(), user.secondary_gids()),
        (1000, 1000, &[2000][..])
    );
    let root = app.root_directory().expect("a root directory");
    assert_eq!(root.path(), Some("/data/app"));
    let creation = root.creation_info().expect("its creation info");
    assert_eq!(
        (
            creation.owner_uid(),
            creation.owner_gid(),
            creation.permissions()
        ),
        (1000, 1000, "0750")
    );

    let outputs = emulator
        .eksform()
        .args(["outputs", "--json"])
        .arg(&first)
        .output()
        .unwrap();
    let outputs: serde_json::Value = serde_json::from_slice(&outputs.stdout).unwrap();
    assert_eq!(outputs["efsFileSystemIds"]["shared"], shared_id.as_str());
    assert_eq!(outputs["efsFileSystemIds"]["scratch"], scratch_id.as_str());
    assert_eq!(
        outputs["efsAccessPointIds"]["shared/app"],
        app.access_point_id().unwrap()
    );

    assert_eq!(
        plan_exit_code(&emulator, &first),
        0,
        "a re-plan changes nothing"
    );

    // The lifecycle in place, a new access point; the rest stays.
    let second = write_spec(&dir, "efs.yaml", &spec(&format!("{SHARED_V2}{SCRATCH}")));
    let planned = emulator
        .eksform()
        .arg("plan")
        .arg(&second)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&planned.stdout);
    assert!(text.contains("~ efs_file_system.shared"), "{text}");
    assert!(text.contains("+ efs_access_point.shared.jobs"), "{text}");
    assert!(!text.contains("-/+"), "nothing is replaced: {text}");
    apply(&emulator, &second);
    assert_eq!(file_systems(&aws).await.len(), 2, "the same file systems");
    assert_eq!(
        lifecycle(&aws, &shared_id).await,
        ["AFTER_1_ACCESS", "AFTER_60_DAYS"]
    );
    assert_eq!(access_points(&aws).await.len(), 2);
    assert_eq!(
        plan_exit_code(&emulator, &second),
        0,
        "a re-plan changes nothing"
    );

    // A file system removed from the spec: refused under --auto-approve
    // alone, nothing deleted; the plan names its size.
    let without_scratch = write_spec(&dir, "efs.yaml", &spec(SHARED_V2));
    let planned = emulator
        .eksform()
        .arg("plan")
        .arg(&without_scratch)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&planned.stdout);
    assert!(text.contains("- efs_file_system.scratch"), "{text}");
    assert!(text.contains("its files go with it: 0 bytes"), "{text}");
    let refused = emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&without_scratch)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("efs_file_system.scratch") && stderr.contains("--allow-destroy"),
        "{stderr}"
    );
    assert_eq!(file_systems(&aws).await.len(), 2, "nothing deleted");
    // Allowed: its mount targets, then it, then its NFS group.
    apply_allowing_destroy(&emulator, &without_scratch);
    let live = file_systems(&aws).await;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].file_system_id(), shared_id);
    assert_eq!(group_id(&aws, "security_group.efs.scratch").await, None);
    assert_eq!(plan_exit_code(&emulator, &without_scratch), 0);

    destroy(&emulator, &without_scratch);
    assert!(
        file_systems(&aws).await.is_empty(),
        "no file system keeps the mark"
    );
    assert!(
        access_points(&aws).await.is_empty(),
        "no access point keeps the mark"
    );
    assert_eq!(group_id(&aws, "security_group.efs.shared").await, None);
    assert_nothing_marked(&aws, "efs").await;
}
