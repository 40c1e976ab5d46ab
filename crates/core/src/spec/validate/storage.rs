//! The rules of `storage.efs[]`: names, a VPC with private subnets to mount
//! from, a KMS key only when encrypted, provisioned throughput exactly with
//! `throughputMode: provisioned`, and each access point's name, path, groups
//! and permissions.

use super::Validator;
use crate::spec::{Spec, ThroughputMode};

/// A file system's or access point's name: it goes into addresses, names and
/// output keys.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    (1..=32).contains(&name.len())
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// An access point's root directory as EFS takes it: absolute, at most 100
/// characters, no empty, `.` or `..` parts.
fn valid_path(path: &str) -> bool {
    path.starts_with('/')
        && path.len() <= 100
        && (path == "/"
            || path[1..]
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != ".."))
}

/// A directory mode in octal, as EFS's CreationInfo takes it: 3 or 4 octal digits.
pub fn valid_permissions(text: &str) -> bool {
    (3..=4).contains(&text.len()) && text.chars().all(|c| ('0'..='7').contains(&c))
}

pub(super) fn validate_storage(v: &mut Validator, spec: &Spec) {
    let Some(storage) = &spec.storage else {
        return;
    };
    if storage.efs.is_empty() {
        return;
    }
    match &spec.vpc {
        None => v.error(
            storage.span,
            "storage.efs: needs a `vpc` section",
            "mount targets go into the stack's private subnets",
        ),
        Some(vpc)
            if vpc.id.is_some()
                && vpc
                    .subnets
                    .as_ref()
                    .is_none_or(|s| s.private.values().all(|p| p.id.is_none())) =>
        {
            v.error(
                storage.span,
                "storage.efs: the brought VPC names no private subnets",
                "mount targets go into the stack's private subnets: list them under vpc.subnets.private",
            )
        }
        Some(_) => {}
    }
    v.unique(
        "EFS file system",
        storage.efs.iter().map(|f| (f.name.as_str(), f.name.span)),
    );
    for fs in &storage.efs {
        let name = fs.name.as_str();
        if !valid_name(name) {
            v.error(
                fs.name.span,
                format!("storage.efs: `{name}` is not a valid file system name"),
                "1 to 32 characters: a lower-case letter, then lower-case letters, digits or '-'",
            );
        }
        if let Some(key) = &fs.kms_key_arn {
            if fs.encrypted.as_ref().is_some_and(|e| !e.value) {
                v.error(
                    key.span,
                    format!("storage.efs.{name}.kmsKeyARN: given for a file system that is not encrypted"),
                    "remove `encrypted: false`, or the key",
                );
            }
            if !(key.starts_with("arn:") && key.contains(":kms:")) {
                v.error(
                    key.span,
                    format!(
                        "storage.efs.{name}.kmsKeyARN: `{}` is not a KMS key ARN",
                        key.value
                    ),
                    "arn:aws:kms:<region>:<account>:key/<id> (or an alias ARN)",
                );
            }
        }
        let provisioned = fs
            .throughput_mode
            .as_ref()
            .is_some_and(|m| m.value == ThroughputMode::Provisioned);
        match (&fs.provisioned_throughput_mibps, provisioned) {
            (Some(mibps), false) => v.error(
                mibps.span,
                format!("storage.efs.{name}.provisionedThroughputMiBps: only with `throughputMode: provisioned`"),
                "",
            ),
            (Some(mibps), true) if !(1..=3414).contains(&mibps.value) => v.error(
                mibps.span,
                format!(
                    "storage.efs.{name}.provisionedThroughputMiBps: {} is out of range",
                    mibps.value
                ),
                "1 to 3414 MiB/s",
            ),
            (None, true) => v.error(
                fs.throughput_mode
                    .as_ref()
                    .map_or(fs.name.span, |m| m.span),
                format!("storage.efs.{name}: `throughputMode: provisioned` needs `provisionedThroughputMiBps`"),
                "",
            ),
            _ => {}
        }
        if let Some(lifecycle) = &fs.lifecycle
            && lifecycle.transition_to_primary_storage_class.is_some()
            && lifecycle.transition_to_ia.is_none()
        {
            v.error(
                lifecycle.span,
                format!("storage.efs.{name}.lifecycle: `transitionToPrimaryStorageClass` without `transitionToIA`"),
                "files only come back from Infrequent Access once they have moved there",
            );
        }
        v.unique(
            "access point",
            fs.access_points
                .iter()
                .map(|a| (a.name.as_str(), a.name.span)),
        );
        if fs.access_points.len() > 1000 {
            v.error(
                fs.name.span,
                format!("storage.efs.{name}: more than 1000 access points"),
                "EFS allows 1000 access points a file system",
            );
        }
        for point in &fs.access_points {
            let point_name = point.name.as_str();
            let at = format!("storage.efs.{name}.accessPoints.{point_name}");
            if !valid_name(point_name) {
                v.error(
                    point.name.span,
                    format!("storage.efs.{name}.accessPoints: `{point_name}` is not a valid access point name"),
                    "1 to 32 characters: a lower-case letter, then lower-case letters, digits or '-'",
                );
            }
            if !valid_path(&point.path) {
                v.error(
                    point.path.span,
                    format!("{at}.path: `{}` is not an absolute directory path", point.path.value),
                    "starts with '/', at most 100 characters, no empty, `.` or `..` parts (for example /data/app)",
                );
            }
            if point.posix_user.secondary_gids.len() > 16 {
                v.error(
                    point.posix_user.span,
                    format!("{at}.posixUser.secondaryGids: more than 16 groups"),
                    "EFS takes at most 16 secondary groups",
                );
            }
            if let Some(permissions) = &point.permissions
                && !valid_permissions(permissions)
            {
                v.error(
                    permissions.span,
                    format!(
                        "{at}.permissions: `{}` is not an octal mode",
                        permissions.value
                    ),
                    "3 or 4 octal digits, quoted, for example \"0755\"",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_absolute_without_empty_or_dot_parts() {
        assert!(valid_path("/"));
        assert!(valid_path("/data/app"));
        for bad in ["data", "/data//app", "/data/../etc", "/data/", ""] {
            assert!(!valid_path(bad), "{bad}");
        }
    }

    #[test]
    fn permissions_are_three_or_four_octal_digits() {
        assert!(valid_permissions("755"));
        assert!(valid_permissions("0750"));
        for bad in ["75", "0789", "07555", "rwx"] {
            assert!(!valid_permissions(bad), "{bad}");
        }
    }
}
