//! Fargate profiles: the pod execution role, the private subnets, selectors
//! with labels. AWS changes nothing of a profile in place, so any change
//! replaces it; and AWS allows one profile operation at a time per cluster, so
//! the executor runs them one after another.

use super::eks_cluster::EksCluster;
use super::iam_role::IamRole;
use super::subnet::Subnet;
use super::{Attribute, Kind, ObservationFloor, Timings};
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{Address, DesiredResource, Value, ownership_tags};
use std::collections::BTreeMap;
use std::time::Duration;

pub struct FargateProfile;

impl FargateProfile {
    pub fn address(name: &str) -> Address {
        Address::new(&["fargate_profile", name])
    }
}

pub fn selector_value(namespace: &str, labels: &BTreeMap<String, String>) -> Value {
    Value::Map(BTreeMap::from([
        ("labels".to_string(), Value::string_map(labels)),
        ("namespace".to_string(), Value::string(namespace)),
    ]))
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::computed("arn"),
    Attribute::replaces("cluster_name"),
    Attribute::replaces("name"),
    Attribute::replaces("pod_execution_role_arn"),
    Attribute::replaces("selectors"),
    Attribute::replaces("subnet_ids"),
    Attribute::tags(),
];

impl Kind for FargateProfile {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 0,
            if_any: 0,
            each: 1,
            each_of: Some("eks_cluster"),
            how: "ListFargateProfiles a cluster + Describe a profile",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "eks:CreateFargateProfile",
            "eks:DeleteFargateProfile",
            "eks:DescribeFargateProfile",
            "eks:ListFargateProfiles",
            "eks:TagResource",
            "eks:UntagResource",
        ]
    }

    fn service(&self) -> &'static str {
        "eks"
    }

    fn name(&self) -> &'static str {
        "fargate_profile"
    }

    fn id_prefix(&self) -> &'static str {
        "fargate-profile"
    }

    fn one_at_a_time(&self) -> bool {
        true
    }

    fn delete_after(&self) -> &'static [&'static str] {
        &["addon"]
    }

    fn timings(&self) -> Timings {
        // A Fargate profile takes a few minutes to create and to delete (EKS user guide).
        Timings {
            create: Duration::from_secs(3 * 60),
            delete: Duration::from_secs(3 * 60),
            update: Duration::ZERO,
            poll: Duration::from_secs(10),
            timeout: Duration::from_secs(20 * 60),
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(cluster) = &stack.cluster else {
            return vec![];
        };
        // Fargate runs pods in private subnets only.
        let subnets: Vec<Value> = match &stack.network {
            Some(Network::Created(network)) => network
                .zones
                .iter()
                .map(|z| Value::reference(&Subnet::address("private", &z.name), "id"))
                .collect(),
            Some(Network::Brought(network)) => network
                .subnets
                .iter()
                .filter(|(tier, _, _)| tier == "private")
                .map(|(_, _, id)| Value::string(id.clone()))
                .collect(),
            None => vec![],
        };
        cluster
            .fargate_profiles
            .iter()
            .map(|profile| {
                let address = Self::address(&profile.name);
                let name = resource_name(&stack.stack, &address);
                DesiredResource::new(self.name(), address.clone())
                    .with(
                        "cluster_name",
                        Value::reference(&EksCluster::address(), "name"),
                    )
                    .with("name", Value::string(profile.name.clone()))
                    .with(
                        "pod_execution_role_arn",
                        Value::reference(&IamRole::address("fargate"), "arn"),
                    )
                    .with("subnet_ids", Value::List(subnets.clone()))
                    .with(
                        "selectors",
                        Value::List(
                            profile
                                .selectors
                                .iter()
                                .map(|(ns, labels)| selector_value(ns, labels))
                                .collect(),
                        ),
                    )
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
