//! The control-plane log group `/aws/eks/<cluster>/cluster`, made before the
//! cluster so that EKS never creates one with infinite retention. An existing
//! group of that name without eksform's mark is adopted (the plan says so).

use super::{Attribute, Kind, ObservationFloor, Timings};
use crate::lower::{StackModel, resource_name};
use crate::model::{Address, Attributes, DesiredResource, Value, ownership_tags};
use std::time::Duration;

pub struct LogGroup;

impl LogGroup {
    pub fn address() -> Address {
        Address::new(&["log_group", "cluster"])
    }
}

/// The ARN the tagging calls take (without the `:*` DescribeLogGroups appends).
pub fn taggable_arn(arn: &str) -> &str {
    arn.strip_suffix(":*").unwrap_or(arn)
}

pub fn retention(attributes: &Attributes) -> Option<i64> {
    match attributes.get("retention_in_days") {
        Some(Value::Int(days)) => Some(*days),
        _ => None,
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::computed("arn"),
    Attribute::in_place("name"),
    Attribute::in_place("retention_in_days"),
    Attribute::tags(),
];

impl Kind for LogGroup {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 1,
            if_any: 0,
            each: 1,
            each_of: None,
            how: "DescribeLogGroups + tags a group",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "logs:CreateLogGroup",
            "logs:DeleteLogGroup",
            "logs:DeleteRetentionPolicy",
            "logs:DescribeLogGroups",
            "logs:ListTagsForResource",
            "logs:PutRetentionPolicy",
            "logs:TagResource",
            "logs:UntagResource",
        ]
    }

    fn service(&self) -> &'static str {
        "logs"
    }

    fn name(&self) -> &'static str {
        "log_group"
    }

    fn guarded(&self) -> bool {
        // Deleting a log group deletes its events (audit logs).
        true
    }

    fn id_prefix(&self) -> &'static str {
        "log-group"
    }

    fn looked_up_by(&self) -> Option<&'static str> {
        Some("name")
    }

    fn delete_after(&self) -> &'static [&'static str] {
        // EKS writes to (and may re-create) the group until the cluster is gone.
        &["eks_cluster"]
    }

    fn timings(&self) -> Timings {
        Timings {
            poll: Duration::from_secs(5),
            ..Timings::immediate()
        }
    }

    fn warn_change(&self, attribute: &str, before: &Value, after: &Value) -> Option<String> {
        // No retention (Null) keeps events forever.
        let days = |v: &Value| match v {
            Value::Int(days) => Some(*days),
            _ => None,
        };
        match (attribute, days(before), days(after)) {
            ("retention_in_days", before, Some(after)) if before.is_none_or(|b| b > after) => {
                Some(format!(
                    "retention cut from {} to {after} days: CloudWatch Logs deletes older events",
                    before.map_or("never expire".to_string(), |b| format!("{b}"))
                ))
            }
            _ => None,
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(cluster) = &stack.cluster else {
            return vec![];
        };
        let address = Self::address();
        let name = resource_name(&stack.stack, &address);
        let mut resource = DesiredResource::new(self.name(), address.clone())
            .with(
                "name",
                Value::string(format!("/aws/eks/{}/cluster", cluster.name)),
            )
            .with(
                "tags",
                Value::string_map(&ownership_tags(&stack.stack, &address, &name, &stack.tags)),
            );
        resource = resource.with(
            "retention_in_days",
            cluster
                .log_retention_in_days
                .map_or(Value::Null, |d| Value::Int(d.into())),
        );
        vec![resource]
    }
}
