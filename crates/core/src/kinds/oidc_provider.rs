//! The cluster's IAM OIDC provider (for IAM roles for service accounts), from
//! the cluster's issuer, with the client id `sts.amazonaws.com`.

use super::eks_cluster::EksCluster;
use super::{Change, Kind};
use crate::lower::{StackModel, resource_name};
use crate::model::{Address, DesiredResource, Value, ownership_tags};

pub struct OidcProvider;

impl OidcProvider {
    pub fn address() -> Address {
        Address::new(&["oidc_provider", "main"])
    }
}

impl Kind for OidcProvider {
    fn service(&self) -> &'static str {
        "iam"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "oidc_provider"
    }

    fn is_global(&self) -> bool {
        true
    }

    fn guarded(&self) -> bool {
        // Every IAM role for a service account trusts the provider: without it they all stop working.
        true
    }

    fn id_prefix(&self) -> &'static str {
        "oidc-provider"
    }

    fn delete_after(&self) -> &'static [&'static str] {
        // Destroy order: the cluster first, then what it used.
        &["eks_cluster"]
    }

    fn computed(&self) -> &'static [&'static str] {
        &["arn"]
    }

    fn change_of(&self, attribute: &str) -> Change {
        match attribute {
            "url" | "client_ids" => Change::Replace,
            _ => Change::InPlace,
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(cluster) = &stack.cluster else {
            return vec![];
        };
        if !cluster.with_oidc {
            return vec![];
        }
        let address = Self::address();
        let name = resource_name(&stack.stack, &address);
        vec![
            DesiredResource::new(self.name(), address.clone())
                .with(
                    "url",
                    Value::reference(&EksCluster::address(), "oidc_issuer"),
                )
                .with(
                    "client_ids",
                    Value::List(vec![Value::string("sts.amazonaws.com")]),
                )
                .with(
                    "tags",
                    Value::string_map(&ownership_tags(&stack.stack, &address, &name, &stack.tags)),
                ),
        ]
    }
}
