//! The cluster's IAM OIDC provider (for IAM roles for service accounts), from
//! the cluster's issuer, with the client id `sts.amazonaws.com`.

use super::eks_cluster::EksCluster;
use super::{Attribute, Kind, ObservationFloor};
use crate::lower::{StackModel, resource_name};
use crate::model::{Address, DesiredResource, Value, ownership_tags};

pub struct OidcProvider;

impl OidcProvider {
    pub fn address() -> Address {
        Address::new(&["oidc_provider", "main"])
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::computed("arn"),
    Attribute::replaces("client_ids"),
    Attribute::tags(),
    Attribute::replaces("url"),
];

impl Kind for OidcProvider {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 1,
            if_any: 0,
            each: 1,
            each_of: None,
            how: "ListOpenIDConnectProviders + Get a provider",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            // The cluster's issuer, read to find the stack's provider among others.
            "eks:DescribeCluster",
            "iam:CreateOpenIDConnectProvider",
            "iam:DeleteOpenIDConnectProvider",
            "iam:GetOpenIDConnectProvider",
            "iam:ListOpenIDConnectProviders",
            "iam:TagOpenIDConnectProvider",
            "iam:UntagOpenIDConnectProvider",
        ]
    }

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
