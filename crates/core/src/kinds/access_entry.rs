//! Cluster access entries and the access policies associated with them. The
//! principal and the entry's type cannot change (a change replaces the entry);
//! the associated policies and their scopes change in place.

use super::eks_cluster::EksCluster;
use super::{Attribute, Kind, ObservationFloor};
use crate::lower::{StackModel, resource_name};
use crate::model::{Address, Attributes, DesiredResource, Value, ownership_tags};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub struct AccessEntry;

impl AccessEntry {
    /// `access_entry.<last part of the principal>-<hash>`: readable and unique.
    pub fn address(principal_arn: &str) -> Address {
        let short = principal_arn
            .rsplit(['/', ':'])
            .next()
            .unwrap_or("principal");
        let digest = Sha256::digest(principal_arn.as_bytes());
        let hash: String = digest.iter().take(3).map(|b| format!("{b:02x}")).collect();
        Address::new(&["access_entry", &format!("{short}-{hash}").replace('.', "-")])
    }
}

pub fn policy_value(scope_type: &str, namespaces: &[String]) -> Value {
    let mut namespaces = namespaces.to_vec();
    namespaces.sort();
    Value::Map(BTreeMap::from([
        (
            "namespaces".to_string(),
            Value::List(namespaces.into_iter().map(Value::String).collect()),
        ),
        ("type".to_string(), Value::string(scope_type)),
    ]))
}

/// policy ARN -> (scope type, namespaces)
pub fn policies(attributes: &Attributes) -> BTreeMap<String, (String, Vec<String>)> {
    attributes
        .get("policies")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(arn, scope)| {
                    let scope = scope.as_map()?;
                    let scope_type = scope.get("type")?.as_str()?.to_string();
                    let namespaces = scope
                        .get("namespaces")
                        .and_then(Value::as_list)
                        .map(|l| {
                            l.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    Some((arn.clone(), (scope_type, namespaces)))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::computed("arn"),
    Attribute::replaces("cluster_name"),
    Attribute::in_place("policies"),
    Attribute::replaces("principal_arn"),
    Attribute::replaces("type"),
    Attribute::tags(),
];

impl Kind for AccessEntry {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 0,
            if_any: 0,
            each: 1,
            each_of: Some("eks_cluster"),
            how: "ListAccessEntries a cluster + Describe an entry",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "eks:AssociateAccessPolicy",
            "eks:CreateAccessEntry",
            "eks:DeleteAccessEntry",
            "eks:DescribeAccessEntry",
            "eks:DisassociateAccessPolicy",
            "eks:ListAccessEntries",
            "eks:ListAssociatedAccessPolicies",
            "eks:TagResource",
            "eks:UntagResource",
        ]
    }

    fn service(&self) -> &'static str {
        "eks"
    }

    fn name(&self) -> &'static str {
        "access_entry"
    }

    fn guarded(&self) -> bool {
        // Deleting an access entry can lock its principal (admins) out of the cluster.
        true
    }

    fn id_prefix(&self) -> &'static str {
        "access-entry"
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(cluster) = &stack.cluster else {
            return vec![];
        };
        cluster
            .access_entries
            .iter()
            .map(|entry| {
                let address = Self::address(&entry.principal_arn);
                let name = resource_name(&stack.stack, &address);
                let policies = entry
                    .policies
                    .iter()
                    .map(|(arn, (scope_type, namespaces))| {
                        (arn.clone(), policy_value(scope_type, namespaces))
                    })
                    .collect();
                DesiredResource::new(self.name(), address.clone())
                    .with(
                        "cluster_name",
                        Value::reference(&EksCluster::address(), "name"),
                    )
                    .with("principal_arn", Value::string(entry.principal_arn.clone()))
                    .with("type", Value::string("STANDARD"))
                    .with("policies", Value::Map(policies))
                    .with(
                        "tags",
                        Value::string_map(&ownership_tags(
                            &stack.stack,
                            &address,
                            &name,
                            &stack.tags,
                        )),
                    )
                    .after(&EksCluster::address())
            })
            .collect()
    }
}
