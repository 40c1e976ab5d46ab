//! The spec's `storage` section: EFS file systems (`storage.efs[]`), each
//! with mount targets in the stack's private subnets, an NFS security group
//! admitting the cluster, and access points.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::located::Located;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Storage {
    /// EFS file systems.
    #[serde(default)]
    pub efs: Vec<Located<EfsFileSystem>>,
}

/// One EFS file system, mounted from every private subnet of the stack.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EfsFileSystem {
    /// The file system's name in the stack (`[a-z][a-z0-9-]{0,31}`): its
    /// address, its `Name` tag and the key of the outputs.
    pub name: Located<String>,
    /// Encrypted at rest. Default true. Set at creation (a change replaces it).
    #[serde(default)]
    pub encrypted: Option<Located<bool>>,
    /// The KMS key encrypting it (omitted: EFS's AWS managed key
    /// `aws/elasticfilesystem`). Set at creation.
    #[serde(default, rename = "kmsKeyARN")]
    pub kms_key_arn: Option<Located<String>>,
    /// `generalPurpose` (default) or `maxIO`. Set at creation.
    #[serde(default)]
    pub performance_mode: Option<Located<PerformanceMode>>,
    /// `bursting` (default), `elastic` or `provisioned` (with
    /// `provisionedThroughputMiBps`). Changed in place.
    #[serde(default)]
    pub throughput_mode: Option<Located<ThroughputMode>>,
    /// With `throughputMode: provisioned`: the throughput in MiB/s (1 to 3414).
    #[serde(default, rename = "provisionedThroughputMiBps")]
    pub provisioned_throughput_mibps: Option<Located<u32>>,
    /// When files move between storage classes. Changed in place.
    #[serde(default)]
    pub lifecycle: Option<Located<EfsLifecycle>>,
    /// AWS Backup's daily backups of the file system. Default false. Changed in place.
    #[serde(default)]
    pub backup: Option<Located<bool>>,
    /// Access points: application entry points with their own POSIX user and
    /// root directory. AWS cannot change one: a change replaces it.
    #[serde(default)]
    pub access_points: Vec<Located<EfsAccessPoint>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PerformanceMode {
    GeneralPurpose,
    #[serde(rename = "maxIO")]
    MaxIo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ThroughputMode {
    Bursting,
    Elastic,
    Provisioned,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EfsLifecycle {
    /// Files not read for this long move to Infrequent Access.
    #[serde(default, rename = "transitionToIA")]
    pub transition_to_ia: Option<Located<TransitionToIa>>,
    /// Files in Infrequent Access move back to Standard when read.
    #[serde(default)]
    pub transition_to_primary_storage_class: Option<Located<TransitionToPrimary>>,
}

/// EFS's names for how long a file goes unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum TransitionToIa {
    AFTER_1_DAY,
    AFTER_7_DAYS,
    AFTER_14_DAYS,
    AFTER_30_DAYS,
    AFTER_60_DAYS,
    AFTER_90_DAYS,
    AFTER_180_DAYS,
    AFTER_270_DAYS,
    AFTER_365_DAYS,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum TransitionToPrimary {
    AFTER_1_ACCESS,
}

/// One access point of a file system.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EfsAccessPoint {
    /// Its name within the file system (`[a-z][a-z0-9-]{0,31}`).
    pub name: Located<String>,
    /// The directory clients see as the root, absolute (`/data/app`).
    /// EFS creates it on first use, owned by `posixUser` with `permissions`.
    pub path: Located<String>,
    /// The user and groups every request through the access point runs as.
    pub posix_user: Located<EfsPosixUser>,
    /// The root directory's mode when EFS creates it, in octal (`"0755"`).
    /// Default `"0755"`.
    #[serde(default)]
    pub permissions: Option<Located<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EfsPosixUser {
    pub uid: Located<u32>,
    pub gid: Located<u32>,
    /// Further groups (at most 16).
    #[serde(default)]
    pub secondary_gids: Vec<Located<u32>>,
}
