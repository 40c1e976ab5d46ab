//! Cluster access entries and the access policies associated with them. The
//! principal and the entry's type cannot change (a change replaces the entry);
//! the associated policies and their scopes change in place.

use super::eks_cluster::EksCluster;
use super::{Change, Kind};
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

impl Kind for AccessEntry {
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

    fn computed(&self) -> &'static [&'static str] {
        &["arn"]
    }

    fn change_of(&self, attribute: &str) -> Change {
        match attribute {
            "cluster_name" | "principal_arn" | "type" => Change::Replace,
            _ => Change::InPlace,
        }
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
                    .with("cluster_name", Value::string(cluster.name.clone()))
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
