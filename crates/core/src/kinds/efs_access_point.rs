//! EFS access points (`storage.efs[].accessPoints`): a root directory created
//! owned by a POSIX user with the given permissions, and that user for every
//! request through the point. AWS cannot change an access point: any change
//! but its tags replaces it.

use std::collections::BTreeMap;

use super::tags::named_after_address;
use super::{Attribute, Kind, ObservationFloor};
use crate::kinds::EfsFileSystem;
use crate::lower::{AccessPointModel, StackModel};
use crate::model::{Address, DesiredResource, Value};

pub struct EfsAccessPoint;

impl EfsAccessPoint {
    pub fn address(file_system: &str, access_point: &str) -> Address {
        Address::new(&["efs_access_point", file_system, access_point])
    }
}

/// The POSIX user as a value: `{ uid, gid, secondary_gids }`.
pub fn posix_user_value(point: &AccessPointModel) -> Value {
    Value::Map(BTreeMap::from([
        ("uid".to_string(), Value::Int(i64::from(point.uid))),
        ("gid".to_string(), Value::Int(i64::from(point.gid))),
        (
            "secondary_gids".to_string(),
            Value::List(
                point
                    .secondary_gids
                    .iter()
                    .map(|g| Value::Int(i64::from(*g)))
                    .collect(),
            ),
        ),
    ]))
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::computed("arn"),
    Attribute::replaces("file_system_id"),
    Attribute::replaces("path"),
    // The root directory's mode when EFS creates it (its owner is the POSIX user).
    Attribute::replaces("permissions"),
    Attribute::replaces("posix_user"),
    Attribute::tags(),
];

impl Kind for EfsAccessPoint {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor::list(
            1,
            "DescribeAccessPoints (every access point of the account, tags included)",
        )
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "elasticfilesystem:CreateAccessPoint",
            "elasticfilesystem:DeleteAccessPoint",
            "elasticfilesystem:DescribeAccessPoints",
            "elasticfilesystem:TagResource",
            "elasticfilesystem:UntagResource",
        ]
    }

    fn service(&self) -> &'static str {
        "elasticfilesystem"
    }

    fn name(&self) -> &'static str {
        "efs_access_point"
    }

    fn id_prefix(&self) -> &'static str {
        "fsap"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        if stack.network.is_none() {
            return vec![];
        }
        stack
            .efs
            .iter()
            .flat_map(|fs| {
                fs.access_points.iter().map(move |point| {
                    let address = Self::address(&fs.name, &point.name);
                    DesiredResource::new(self.name(), address.clone())
                        .with(
                            "file_system_id",
                            Value::reference(&EfsFileSystem::address(&fs.name), "id"),
                        )
                        .with("path", Value::string(point.path.clone()))
                        .with("posix_user", posix_user_value(point))
                        .with("permissions", Value::string(point.permissions.clone()))
                        .with("tags", named_after_address(stack, &address))
                })
            })
            .collect()
    }
}
