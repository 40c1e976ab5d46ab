//! `storage.efs[]` with its defaults applied: a file system's settings in
//! EFS's words, its access points with their POSIX users. Pure.

use crate::spec::{PerformanceMode, Spec, ThroughputMode};

/// An EFS file system of `storage.efs`.
#[derive(Debug, Clone)]
pub struct EfsModel {
    pub name: String,
    pub encrypted: bool,
    /// The KMS key given; none: EFS's AWS managed key (when encrypted).
    pub kms_key: Option<String>,
    /// `generalPurpose` or `maxIO`, as EFS names them.
    pub performance_mode: String,
    /// `bursting`, `elastic` or `provisioned`.
    pub throughput_mode: String,
    pub provisioned_throughput_mibps: Option<u32>,
    /// `TransitionToIA` (`AFTER_30_DAYS`...), if any.
    pub transition_to_ia: Option<String>,
    /// `TransitionToPrimaryStorageClass` (`AFTER_1_ACCESS`), if any.
    pub transition_to_primary: Option<String>,
    pub backup: bool,
    pub access_points: Vec<AccessPointModel>,
}

/// An access point: its root directory, created owned by its POSIX user.
#[derive(Debug, Clone)]
pub struct AccessPointModel {
    pub name: String,
    pub path: String,
    pub uid: u32,
    pub gid: u32,
    /// Sorted, without duplicates.
    pub secondary_gids: Vec<u32>,
    /// Octal, as written (`0755`).
    pub permissions: String,
}

pub fn efs(spec: &Spec) -> Vec<EfsModel> {
    let Some(storage) = &spec.storage else {
        return Vec::new();
    };
    storage
        .efs
        .iter()
        .map(|fs| {
            let encrypted = fs.encrypted.as_ref().is_none_or(|e| e.value);
            let lifecycle = fs.lifecycle.as_ref();
            EfsModel {
                name: fs.name.value.clone(),
                encrypted,
                kms_key: fs
                    .kms_key_arn
                    .as_ref()
                    .filter(|_| encrypted)
                    .map(|k| k.value.clone()),
                performance_mode: match fs.performance_mode.as_ref().map(|m| m.value) {
                    Some(PerformanceMode::MaxIo) => "maxIO".into(),
                    Some(PerformanceMode::GeneralPurpose) | None => "generalPurpose".into(),
                },
                throughput_mode: match fs.throughput_mode.as_ref().map(|m| m.value) {
                    Some(ThroughputMode::Elastic) => "elastic".into(),
                    Some(ThroughputMode::Provisioned) => "provisioned".into(),
                    Some(ThroughputMode::Bursting) | None => "bursting".into(),
                },
                provisioned_throughput_mibps: fs
                    .provisioned_throughput_mibps
                    .as_ref()
                    .map(|m| m.value),
                transition_to_ia: lifecycle
                    .and_then(|l| l.transition_to_ia.as_ref())
                    .map(|t| format!("{:?}", t.value)),
                transition_to_primary: lifecycle
                    .and_then(|l| l.transition_to_primary_storage_class.as_ref())
                    .map(|t| format!("{:?}", t.value)),
                backup: fs.backup.as_ref().is_some_and(|b| b.value),
                access_points: fs
                    .access_points
                    .iter()
                    .map(|point| {
                        let mut secondary_gids: Vec<u32> = point
                            .posix_user
                            .secondary_gids
                            .iter()
                            .map(|g| g.value)
                            .collect();
                        secondary_gids.sort_unstable();
                        secondary_gids.dedup();
                        AccessPointModel {
                            name: point.name.value.clone(),
                            path: point.path.value.clone(),
                            uid: point.posix_user.uid.value,
                            gid: point.posix_user.gid.value,
                            secondary_gids,
                            permissions: point
                                .permissions
                                .as_ref()
                                .map_or_else(|| "0755".into(), |p| p.value.clone()),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}
