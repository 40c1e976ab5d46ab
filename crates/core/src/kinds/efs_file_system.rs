//! EFS file systems (`storage.efs[]`): encryption, its key and the
//! performance mode are set at creation (a change replaces the file system);
//! the throughput mode, the lifecycle (moves between storage classes) and AWS
//! Backup's daily backups change in place. Deleting one deletes its files:
//! the kind is guarded, and the plan's delete names its size when EFS knows it.

use std::time::Duration;

use super::tags::named_after_address;
use super::{Attribute, Compare, Kind, ObservationFloor, Timings};
use crate::lower::{EfsModel, StackModel};
use crate::model::{Address, DesiredResource, LiveResource, Value};

pub struct EfsFileSystem;

impl EfsFileSystem {
    pub fn address(name: &str) -> Address {
        Address::new(&["efs_file_system", name])
    }

    /// The `storage.efs` name of a file system at `address`, if it is one.
    pub fn name_of(address: &Address) -> Option<&str> {
        address.as_str().strip_prefix("efs_file_system.")
    }
}

/// The lifecycle policies as EFS lists them, each `<setting>=<value>`
/// (`TransitionToIA=AFTER_30_DAYS`), sorted.
pub fn lifecycle_value(fs: &EfsModel) -> Value {
    let mut policies: Vec<String> = [
        ("TransitionToIA", &fs.transition_to_ia),
        ("TransitionToPrimaryStorageClass", &fs.transition_to_primary),
    ]
    .into_iter()
    .filter_map(|(setting, value)| Some(format!("{setting}={}", value.as_ref()?)))
    .collect();
    policies.sort();
    Value::string_set(&policies)
}

/// A value left out of the spec (EFS's default key, no provisioned
/// throughput) is satisfied by whatever EFS holds.
fn null_satisfied(live: &Value, desired: &Value) -> bool {
    matches!(desired, Value::Null) || live == desired
}

/// A size in bytes as people read it (`1.5 GiB`).
pub fn readable_size(bytes: i64) -> String {
    const UNITS: &[&str] = &["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::computed("arn"),
    Attribute::in_place("backup"),
    Attribute::replaces("encrypted"),
    Attribute::replaces("kms_key").compared(Compare::Custom(null_satisfied)),
    Attribute::in_place("lifecycle").compared(Compare::Set),
    Attribute::replaces("performance_mode"),
    Attribute::in_place("provisioned_throughput_mibps").compared(Compare::Custom(null_satisfied)),
    // What EFS last metered; changes with the files, never planned.
    Attribute::computed("size_bytes").compared(Compare::Ignored),
    Attribute::tags(),
    Attribute::in_place("throughput_mode"),
];

impl Kind for EfsFileSystem {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 1,
            if_any: 0,
            each: 2,
            each_of: None,
            how: "DescribeFileSystems (tags included), then DescribeLifecycleConfiguration and DescribeBackupPolicy of the stack's",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "elasticfilesystem:CreateFileSystem",
            "elasticfilesystem:DeleteFileSystem",
            "elasticfilesystem:DescribeBackupPolicy",
            "elasticfilesystem:DescribeFileSystems",
            "elasticfilesystem:DescribeLifecycleConfiguration",
            "elasticfilesystem:PutBackupPolicy",
            "elasticfilesystem:PutLifecycleConfiguration",
            "elasticfilesystem:TagResource",
            "elasticfilesystem:UntagResource",
            "elasticfilesystem:UpdateFileSystem",
        ]
    }

    fn service(&self) -> &'static str {
        "elasticfilesystem"
    }

    fn name(&self) -> &'static str {
        "efs_file_system"
    }

    fn id_prefix(&self) -> &'static str {
        "fs"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn guarded(&self) -> bool {
        // A delete (or a replacement) deletes every file on it.
        true
    }

    fn delete_after(&self) -> &'static [&'static str] {
        // Its access points go first: EFS would delete them with it, but
        // the plan shows and makes each of its own deletes.
        &["efs_access_point"]
    }

    fn delete_refused_while(&self) -> &'static [&'static str] {
        // DeleteFileSystem: FileSystemInUse while it has mount targets.
        &["efs_mount_target"]
    }

    fn delete_notes(&self, live: &LiveResource) -> Vec<String> {
        match live.attributes.get("size_bytes") {
            Some(Value::Int(bytes)) => vec![format!(
                "its files go with it: {} stored when EFS last metered it",
                readable_size(*bytes)
            )],
            _ => vec!["its files go with it".into()],
        }
    }

    fn timings(&self) -> Timings {
        // A file system is usually available within seconds and deleted
        // within a minute.
        Timings {
            create: Duration::from_secs(10),
            delete: Duration::from_secs(20),
            update: Duration::ZERO,
            poll: Duration::from_secs(5),
            timeout: Duration::from_secs(10 * 60),
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        if stack.network.is_none() {
            return vec![];
        }
        stack
            .efs
            .iter()
            .map(|fs| {
                let address = Self::address(&fs.name);
                DesiredResource::new(self.name(), address.clone())
                    .with("encrypted", Value::Bool(fs.encrypted))
                    .with(
                        "kms_key",
                        fs.kms_key.clone().map_or(Value::Null, Value::string),
                    )
                    .with(
                        "performance_mode",
                        Value::string(fs.performance_mode.clone()),
                    )
                    .with("throughput_mode", Value::string(fs.throughput_mode.clone()))
                    .with(
                        "provisioned_throughput_mibps",
                        fs.provisioned_throughput_mibps
                            .map_or(Value::Null, |m| Value::Int(i64::from(m))),
                    )
                    .with("lifecycle", lifecycle_value(fs))
                    .with("backup", Value::Bool(fs.backup))
                    .with("tags", named_after_address(stack, &address))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(readable_size(6144), "6.0 KiB");
        assert_eq!(readable_size(512), "512 bytes");
        assert_eq!(readable_size(3 * 1024 * 1024 * 1024 / 2), "1.5 GiB");
    }
}
