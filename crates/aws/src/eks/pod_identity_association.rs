//! AWS calls for EKS Pod Identity associations: listed per cluster and
//! described one by one (the list gives no tags, so no mark), created with
//! the mark in the call's tags, the role changed in place
//! (UpdatePodIdentityAssociation), deleted by association id.

use async_trait::async_trait;

use crate::eks::eks_cluster::{cluster_parts, sync_eks_tags};
use crate::{Adapter, AwsClients, Finding, deleted, error, none_if_not_found};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::pod_identity_association::PodIdentityAssociation;
use eksform_core::kinds::tags::{required, stack_of, tags_of};
use eksform_core::model::{Attributes, LiveResource, Status, Value};
use std::collections::{BTreeMap, HashMap};

fn to_live(
    kind: &PodIdentityAssociation,
    finding: Finding,
    association: &aws_sdk_eks::types::PodIdentityAssociation,
) -> Option<LiveResource> {
    let tags: BTreeMap<String, String> = association
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let text = |v: Option<&str>| Value::string(v.unwrap_or_default());
    let mut attributes = Attributes::new();
    attributes.insert("cluster_name".into(), text(association.cluster_name()));
    attributes.insert("namespace".into(), text(association.namespace()));
    attributes.insert(
        "service_account".into(),
        text(association.service_account()),
    );
    attributes.insert("role_arn".into(), text(association.role_arn()));
    attributes.insert("arn".into(), text(association.association_arn()));
    finding.live(
        kind.name(),
        association.association_id()?,
        tags,
        attributes,
        Status::Ready,
    )
}

async fn describe(
    aws: &AwsClients,
    cluster: &str,
    id: &str,
) -> Result<Option<aws_sdk_eks::types::PodIdentityAssociation>, CloudError> {
    match aws
        .eks
        .describe_pod_identity_association()
        .cluster_name(cluster)
        .association_id(id)
        .send()
        .await
    {
        Ok(out) => Ok(out.association().cloned()),
        Err(e) => none_if_not_found(error("DescribePodIdentityAssociation", e)),
    }
}

#[async_trait]
impl Adapter for PodIdentityAssociation {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let Some(cluster) = &scope.cluster else {
            return Ok(vec![]);
        };
        let ids = cluster_parts(
            aws,
            "ListPodIdentityAssociations",
            aws.eks
                .list_pod_identity_associations()
                .cluster_name(cluster)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map(|found| {
                    found
                        .iter()
                        .filter_map(|a| a.association_id().map(str::to_string))
                        .collect()
                }),
        )?;
        // No batch read, and the list carries no tags: one Describe each, all at once.
        let read = ids.iter().map(|id| describe(aws, cluster, id));
        Ok(futures_util::future::try_join_all(read)
            .await?
            .iter()
            .flatten()
            .filter_map(|a| to_live(self, Finding::Stack(&scope.stack), a))
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let tags: HashMap<String, String> = tags_of(attributes).into_iter().collect();
        let out = aws
            .eks
            .create_pod_identity_association()
            .cluster_name(required(attributes, "cluster_name")?)
            .namespace(required(attributes, "namespace")?)
            .service_account(required(attributes, "service_account")?)
            .role_arn(required(attributes, "role_arn")?)
            .set_tags(Some(tags))
            .client_request_token(&request.token)
            .send()
            .await
            .map_err(|e| error("CreatePodIdentityAssociation", e))?;
        out.association()
            .and_then(|a| to_live(self, Finding::Stack(&request.stack), a))
            .ok_or_else(|| {
                CloudError::rejected(
                    "CreatePodIdentityAssociation answered without the association",
                )
            })
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let cluster = required(&live.attributes, "cluster_name")?;
        if let Some(role) = desired.get("role_arn").and_then(Value::as_str)
            && live.attributes.get("role_arn").and_then(Value::as_str) != Some(role)
        {
            aws.eks
                .update_pod_identity_association()
                .cluster_name(cluster)
                .association_id(&live.id)
                .role_arn(role)
                .send()
                .await
                .map_err(|e| error("UpdatePodIdentityAssociation", e))?;
        }
        sync_eks_tags(aws, live, desired).await
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        let cluster = required(&live.attributes, "cluster_name")?;
        deleted(
            "DeletePodIdentityAssociation",
            aws.eks
                .delete_pod_identity_association()
                .cluster_name(cluster)
                .association_id(&live.id)
                .send()
                .await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let cluster = required(&live.attributes, "cluster_name")?;
        let stack = stack_of(&live.attributes);
        Ok(describe(aws, cluster, &live.id)
            .await?
            .and_then(|a| to_live(self, Finding::Stack(&stack), &a)))
    }
}
