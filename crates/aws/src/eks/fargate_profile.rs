//! AWS calls for Fargate profiles: the pod execution role, the private subnets, selectors
//! with labels. AWS changes nothing of a profile in place, so any change
//! replaces it; and AWS allows one profile operation at a time per cluster, so
//! the executor runs them one after another.

use async_trait::async_trait;

use crate::eks::eks_cluster::{cluster_part, cluster_parts, sync_eks_tags};
use crate::{Adapter, AwsClients, Finding, deleted, error};
use aws_sdk_eks::types::{FargateProfileSelector, FargateProfileStatus};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::fargate_profile::{FargateProfile, selector_value};
use eksform_core::kinds::tags::{required, tags_from, tags_of};
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value};
use std::collections::{BTreeMap, HashMap};

fn to_live(
    kind: &FargateProfile,
    finding: Finding,
    profile: &aws_sdk_eks::types::FargateProfile,
) -> Option<LiveResource> {
    let tags = tags_from(profile.tags());
    let status = match profile.status()? {
        FargateProfileStatus::Active => Status::Ready,
        FargateProfileStatus::Deleting => Status::Deleting,
        FargateProfileStatus::CreateFailed | FargateProfileStatus::DeleteFailed => Status::Failed,
        _ => Status::Pending,
    };
    let selectors = profile
        .selectors()
        .iter()
        .map(|s| {
            let labels: BTreeMap<String, String> = s
                .labels()
                .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            selector_value(s.namespace().unwrap_or_default(), &labels)
        })
        .collect();
    let mut attributes = Attributes::new();
    attributes.insert(
        "cluster_name".into(),
        Value::string(profile.cluster_name().unwrap_or_default()),
    );
    attributes.insert(
        "name".into(),
        Value::string(profile.fargate_profile_name().unwrap_or_default()),
    );
    attributes.insert(
        "pod_execution_role_arn".into(),
        Value::string(profile.pod_execution_role_arn().unwrap_or_default()),
    );
    attributes.insert("subnet_ids".into(), Value::string_set(profile.subnets()));
    attributes.insert("selectors".into(), Value::List(selectors));
    attributes.insert(
        "arn".into(),
        Value::string(profile.fargate_profile_arn().unwrap_or_default()),
    );
    finding.live(
        kind.name(),
        profile.fargate_profile_name().unwrap_or_default(),
        tags,
        attributes,
        status,
    )
}

#[async_trait]
impl Adapter for FargateProfile {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let Some(cluster) = &scope.cluster else {
            return Ok(vec![]);
        };
        let names = cluster_parts(
            aws,
            "ListFargateProfiles",
            aws.eks
                .list_fargate_profiles()
                .cluster_name(cluster)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await,
        )?;
        // No batch read: one DescribeFargateProfile per profile, all at once.
        let read = names.iter().map(|name| async move {
            aws.eks
                .describe_fargate_profile()
                .cluster_name(cluster)
                .fargate_profile_name(name)
                .send()
                .await
                .map_err(|e| error("DescribeFargateProfile", e))
        });
        Ok(futures_util::future::try_join_all(read)
            .await?
            .iter()
            .filter_map(|out| {
                out.fargate_profile()
                    .and_then(|p| to_live(self, Finding::Stack(&scope.stack), p))
            })
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let subnets = eksform_core::model::string_list(attributes, "subnet_ids");
        let tags: HashMap<String, String> = tags_of(attributes).into_iter().collect();
        let out = aws
            .eks
            .create_fargate_profile()
            .cluster_name(required(attributes, "cluster_name")?)
            .fargate_profile_name(required(attributes, "name")?)
            .pod_execution_role_arn(required(attributes, "pod_execution_role_arn")?)
            .set_subnets(Some(subnets))
            .set_selectors(Some(selectors(attributes)))
            .set_tags(Some(tags))
            .client_request_token(&request.token)
            .send()
            .await
            .map_err(|e| error("CreateFargateProfile", e))?;
        match out
            .fargate_profile()
            .and_then(|p| to_live(self, Finding::Stack(&request.stack), p))
        {
            Some(mut live) => {
                live.attributes.extend(attributes.clone());
                Ok(live)
            }
            None => Ok(request.created(
                self.name(),
                required(attributes, "name")?.to_string(),
                Status::Pending,
            )),
        }
    }

    /// By name in the spec's cluster, or by ARN
    /// (`arn:aws:eks:<region>:<account>:fargateprofile/<cluster>/<name>/<uuid>`).
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let (cluster, name) = cluster_part(desired, id, "fargateprofile/")?;
        match aws
            .eks
            .describe_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .fargate_profile()
                .and_then(|p| to_live(self, Finding::Adoption(&desired.address), p))),
            Err(e) => crate::none_if_not_found(error("DescribeFargateProfile", e)),
        }
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        sync_eks_tags(aws, live, desired).await
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        if live.status == Status::Deleting {
            return Ok(());
        }
        let cluster = required(&live.attributes, "cluster_name")?;
        deleted(
            "DeleteFargateProfile",
            aws.eks
                .delete_fargate_profile()
                .cluster_name(cluster)
                .fargate_profile_name(&live.id)
                .send()
                .await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let stack = eksform_core::kinds::tags::stack_of(&live.attributes);
        let cluster = required(&live.attributes, "cluster_name")?;
        match aws
            .eks
            .describe_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(&live.id)
            .send()
            .await
        {
            Ok(out) => {
                if let Some(profile) = out.fargate_profile()
                    && matches!(
                        profile.status(),
                        Some(
                            FargateProfileStatus::CreateFailed | FargateProfileStatus::DeleteFailed
                        )
                    )
                {
                    return Err(CloudError::rejected(format!(
                        "Fargate profile {} failed",
                        live.id
                    )));
                }
                Ok(out
                    .fargate_profile()
                    .and_then(|p| to_live(self, Finding::Stack(&stack), p)))
            }
            Err(e) => crate::none_if_not_found(error("DescribeFargateProfile", e)),
        }
    }
}

pub fn selectors(attributes: &Attributes) -> Vec<FargateProfileSelector> {
    attributes
        .get("selectors")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_map)
        .map(|s| {
            let labels: HashMap<String, String> = s
                .get("labels")
                .and_then(Value::as_map)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            FargateProfileSelector::builder()
                .namespace(
                    s.get("namespace")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                )
                .set_labels((!labels.is_empty()).then_some(labels))
                .build()
        })
        .collect()
}
