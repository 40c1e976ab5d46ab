//! EKS Pod Identity associations (`iam.podIdentityAssociations`): a
//! Kubernetes service account of the cluster given a role that
//! `pods.eks.amazonaws.com` assumes (the role eksform makes, an `iam_role`
//! at `iam_role.pod_identity.<namespace>.<name>`, or the user's `roleARN`).
//! The service account cannot change (a change replaces the association);
//! the role changes in place (UpdatePodIdentityAssociation). The mark is in
//! the association's tags.
//!
//! Moving a service account between IRSA and Pod Identity never leaves it
//! without credentials: the old IRSA role is deleted only after the new
//! association exists, and the old association only after the new IRSA role
//! exists (`delete_after_creates_of`).

use super::eks_cluster::EksCluster;
use super::iam_role::IamRole;
use super::{Attribute, Kind, ObservationFloor};
use crate::lower::{StackModel, resource_name};
use crate::model::{Address, DesiredResource, Value, ownership_tags};

pub struct PodIdentityAssociation;

/// The add-on whose agent hands pods their Pod Identity credentials.
pub const AGENT_ADDON: &str = "eks-pod-identity-agent";

/// The service principal of EKS Pod Identity, which the role must trust.
pub const POD_IDENTITY_SERVICE: &str = "pods.eks.amazonaws.com";

impl PodIdentityAssociation {
    pub fn address(namespace: &str, service_account: &str) -> Address {
        Address::new(&["pod_identity_association", namespace, service_account])
    }

    /// The role eksform makes for an association.
    pub fn role_address(namespace: &str, service_account: &str) -> Address {
        Address::new(&["iam_role", "pod_identity", namespace, service_account])
    }

    /// (namespace, service account) of an association's or its role's address.
    pub fn service_account_of(address: &Address) -> Option<(&str, &str)> {
        let rest = address
            .as_str()
            .strip_prefix("pod_identity_association.")
            .or_else(|| address.as_str().strip_prefix("iam_role.pod_identity."))?;
        rest.split_once('.')
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::computed("arn"),
    Attribute::replaces("cluster_name"),
    Attribute::replaces("namespace"),
    Attribute::in_place("role_arn"),
    Attribute::replaces("service_account"),
    Attribute::tags(),
];

impl Kind for PodIdentityAssociation {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 0,
            if_any: 0,
            each: 1,
            each_of: Some("eks_cluster"),
            how: "ListPodIdentityAssociations a cluster + Describe an association",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "eks:CreatePodIdentityAssociation",
            "eks:DeletePodIdentityAssociation",
            "eks:DescribePodIdentityAssociation",
            "eks:ListPodIdentityAssociations",
            "eks:TagResource",
            "eks:UntagResource",
            "eks:UpdatePodIdentityAssociation",
        ]
    }

    fn service(&self) -> &'static str {
        "eks"
    }

    fn name(&self) -> &'static str {
        "pod_identity_association"
    }

    fn guarded(&self) -> bool {
        // Deleting an association takes the AWS credentials of running pods.
        true
    }

    fn id_prefix(&self) -> &'static str {
        "a"
    }

    fn delete_after_creates_of(&self, address: &Address) -> Vec<Address> {
        // Back to IRSA: the service account's IRSA role exists first.
        match Self::service_account_of(address) {
            Some((namespace, name)) => vec![IamRole::address_of_service_account(namespace, name)],
            None => Vec::new(),
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(cluster) = &stack.cluster else {
            return vec![];
        };
        cluster
            .pod_identities
            .iter()
            .map(|association| {
                let address = Self::address(&association.namespace, &association.service_account);
                let name = resource_name(&stack.stack, &address);
                let mut tags = association.tags.clone();
                tags.extend(ownership_tags(&stack.stack, &address, &name, &stack.tags));
                let role = match &association.role_arn {
                    Some(arn) => Value::string(arn.clone()),
                    None => Value::reference(
                        &Self::role_address(&association.namespace, &association.service_account),
                        "arn",
                    ),
                };
                DesiredResource::new(self.name(), address)
                    .with(
                        "cluster_name",
                        Value::reference(&EksCluster::address(), "name"),
                    )
                    .with("namespace", Value::string(association.namespace.clone()))
                    .with(
                        "service_account",
                        Value::string(association.service_account.clone()),
                    )
                    .with("role_arn", role)
                    .with("tags", Value::string_map(&tags))
                    .after(&EksCluster::address())
            })
            .collect()
    }
}
