//! AWS calls for the EKS control plane. Endpoint access, public access CIDRs and log types
//! change in place (one UpdateClusterConfig at a time, each awaited); the name,
//! role and subnets cannot change, so changing them replaces the cluster.
//! Secrets encryption is turned on with AssociateEncryptionConfig; the upgrade
//! policy and zonal shift each take their own UpdateClusterConfig.

use async_trait::async_trait;

use crate::{Adapter, AwsClients, Finding, deleted, error, last_part};
use aws_sdk_eks::types::{
    ClusterStatus, EncryptionConfig, LogSetup, LogType, Logging, Provider, SupportType,
    UpdateStatus, UpgradePolicyRequest, VpcConfigRequest, ZonalShiftConfigRequest,
};
use eksform_core::cloud::{CloudError, CreateRequest, ErrorClass, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::eks_cluster::{
    ALL_LOG_TYPES, EksCluster, UpdateOf, flag, name_clash, sorted, upgrade_steps,
};
use eksform_core::kinds::tags::{changed, required, tag_changes, tags_from, tags_of};
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value, string_list};
use std::collections::HashMap;
use std::time::Duration;

fn to_live(
    kind: &EksCluster,
    finding: Finding,
    cluster: &aws_sdk_eks::types::Cluster,
) -> Option<LiveResource> {
    let tags = tags_from(cluster.tags());
    let status = match cluster.status()? {
        ClusterStatus::Active | ClusterStatus::Updating => Status::Ready,
        ClusterStatus::Deleting => Status::Deleting,
        ClusterStatus::Failed => Status::Failed,
        // Creating, pending: the wait reads it again.
        _ => Status::Pending,
    };
    let vpc = cluster.resources_vpc_config();
    let mut log_types: Vec<String> = cluster
        .logging()
        .map(|l| l.cluster_logging())
        .unwrap_or_default()
        .iter()
        .filter(|setup| setup.enabled() == Some(true))
        .flat_map(|setup| setup.types().iter().map(|t| t.as_str().to_string()))
        .collect();
    log_types.sort();
    log_types.dedup();
    let mut attributes = Attributes::new();
    let mut put = |name: &str, value: Value| {
        attributes.insert(name.into(), value);
    };
    put("name", Value::string(cluster.name().unwrap_or_default()));
    put(
        "version",
        cluster.version().map_or(Value::Null, Value::string),
    );
    put(
        "role_arn",
        Value::string(cluster.role_arn().unwrap_or_default()),
    );
    put(
        "subnet_ids",
        Value::string_set(vpc.map(|v| v.subnet_ids()).unwrap_or_default()),
    );
    put(
        "endpoint_public_access",
        Value::Bool(vpc.map(|v| v.endpoint_public_access()).unwrap_or(true)),
    );
    put(
        "endpoint_private_access",
        Value::Bool(vpc.map(|v| v.endpoint_private_access()).unwrap_or(false)),
    );
    put(
        "public_access_cidrs",
        Value::string_set(vpc.map(|v| v.public_access_cidrs()).unwrap_or_default()),
    );
    put(
        "log_types",
        Value::List(log_types.into_iter().map(Value::String).collect()),
    );
    put("arn", Value::string(cluster.arn().unwrap_or_default()));
    put(
        "endpoint",
        Value::string(cluster.endpoint().unwrap_or_default()),
    );
    put(
        "oidc_issuer",
        Value::string(
            cluster
                .identity()
                .and_then(|i| i.oidc())
                .and_then(|o| o.issuer())
                .unwrap_or_default(),
        ),
    );
    put(
        "security_group_id",
        Value::string(
            vpc.and_then(|v| v.cluster_security_group_id())
                .unwrap_or_default(),
        ),
    );
    put(
        "certificate_authority_data",
        Value::string(
            cluster
                .certificate_authority()
                .and_then(|ca| ca.data())
                .unwrap_or_default(),
        ),
    );
    put(
        "encryption_key_arn",
        secrets_key_arn(cluster).map_or(Value::Null, Value::string),
    );
    put(
        "support_type",
        cluster
            .upgrade_policy()
            .and_then(|u| u.support_type())
            .map_or(Value::Null, |t| Value::string(t.as_str())),
    );
    put(
        "zonal_shift",
        cluster
            .zonal_shift_config()
            .and_then(|z| z.enabled())
            .map_or(Value::Null, Value::Bool),
    );
    put(
        "created_at",
        Value::string(
            cluster
                .created_at()
                .map(|t| t.to_string())
                .unwrap_or_default(),
        ),
    );
    finding.live(
        kind.name(),
        cluster.name().unwrap_or_default(),
        tags,
        attributes,
        status,
    )
}

/// The KMS key the cluster's secrets are encrypted with, if any.
fn secrets_key_arn(cluster: &aws_sdk_eks::types::Cluster) -> Option<&str> {
    cluster
        .encryption_config()
        .iter()
        .find_map(|config| config.provider())
        .and_then(|provider| provider.key_arn())
}

/// Envelope encryption with `key_arn`, as CreateCluster and
/// AssociateEncryptionConfig take it (EKS no longer reads a list of
/// resources: the key covers the Kubernetes API data it encrypts).
fn secrets_encryption(key_arn: &str) -> EncryptionConfig {
    EncryptionConfig::builder()
        .provider(Provider::builder().key_arn(key_arn).build())
        .build()
}

fn upgrade_policy(support_type: &str) -> UpgradePolicyRequest {
    UpgradePolicyRequest::builder()
        .support_type(SupportType::from(support_type))
        .build()
}

fn zonal_shift(enabled: bool) -> ZonalShiftConfigRequest {
    ZonalShiftConfigRequest::builder().enabled(enabled).build()
}

/// Waits for one update of a cluster (or of one of its node groups): done at
/// once if AWS says so in its answer, else by its id, else (the emulator
/// answers with the cluster) until the cluster is active again.
pub(crate) async fn await_update(
    aws: &AwsClients,
    cluster: &str,
    part: UpdateOf<'_>,
    update: Option<&aws_sdk_eks::types::Update>,
) -> Result<(), CloudError> {
    let (nodegroup, addon) = match part {
        UpdateOf::Cluster => (None, None),
        UpdateOf::Nodegroup(name) => (Some(name), None),
        UpdateOf::Addon(name) => (None, Some(name)),
    };
    if update.and_then(|u| u.status()) == Some(&UpdateStatus::Successful) {
        return Ok(());
    }
    let update_id = update.and_then(|u| u.id());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45 * 60);
    loop {
        let done = match update_id {
            Some(id) => {
                let out = aws
                    .eks
                    .describe_update()
                    .name(cluster)
                    .set_nodegroup_name(nodegroup.map(str::to_string))
                    .set_addon_name(addon.map(str::to_string))
                    .update_id(id)
                    .send()
                    .await
                    .map_err(|e| error("DescribeUpdate", e))?;
                let update = out.update();
                match update.and_then(|u| u.status()) {
                    Some(UpdateStatus::Successful) => true,
                    Some(UpdateStatus::Failed | UpdateStatus::Cancelled) => {
                        let errors: Vec<String> = update
                            .map(|u| {
                                u.errors()
                                    .iter()
                                    .filter_map(|e| e.error_message().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default();
                        return Err(CloudError::rejected(format!(
                            "the update of {} failed: {}",
                            nodegroup.or(addon).unwrap_or(cluster),
                            errors.join("; ")
                        )));
                    }
                    _ => false,
                }
            }
            None => {
                let out = aws
                    .eks
                    .describe_cluster()
                    .name(cluster)
                    .send()
                    .await
                    .map_err(|e| error("DescribeCluster", e))?;
                out.cluster().and_then(|c| c.status()) == Some(&ClusterStatus::Active)
            }
        };
        if done {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(CloudError::rejected(format!(
                "timed out waiting for the update of {}",
                nodegroup.or(addon).unwrap_or(cluster)
            )));
        }
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
}

/// Whether a cluster of that name may be the stack's, before its tags say
/// so: the spec's cluster, one an adopt entry names, or one named after the
/// stack (`<stack>...`, as a cluster renamed in the spec was most likely
/// called). Every cluster when the scope is not the stack's spec
/// (`Scope::from_spec`); for every stack's read (an estate's), what may be
/// any of its stacks'.
fn may_be_the_stacks(name: &str, scope: &Scope) -> bool {
    scope.admits(|scope| {
        !scope.from_spec
            || scope.cluster.as_deref() == Some(name)
            || name.starts_with(scope.stack.as_str())
            || scope
                .adopt
                .iter()
                .filter(|d| d.kind == EksCluster.name())
                .filter_map(|d| d.adopt.as_deref())
                .any(|id| last_part(id) == name)
    })
}

/// The cluster of that name as DescribeCluster answers it (`None`: there is
/// none), read once per observation: the cluster kind and the OIDC provider's
/// observation (which needs the issuer) share it.
pub(crate) async fn described_cluster(
    aws: &AwsClients,
    scope: &Scope,
    name: &str,
) -> Result<std::sync::Arc<Option<aws_sdk_eks::types::Cluster>>, CloudError> {
    scope
        .reads
        .get_or_read(&format!("eks: cluster {name}"), || async {
            match aws.eks.describe_cluster().name(name).send().await {
                Ok(out) => Ok(out.cluster().cloned()),
                Err(e) => crate::none_if_not_found(error("DescribeCluster", e)),
            }
        })
        .await
}

#[async_trait]
impl Adapter for EksCluster {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let names = aws
            .eks
            .list_clusters()
            .max_results(100)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("ListClusters", e))?;
        // Tags come only with DescribeCluster, one call a cluster: only the
        // clusters that may be the stack's are described (see
        // `may_be_the_stacks`), so that other teams' clusters cost nothing.
        let read = names
            .iter()
            .filter(|name| may_be_the_stacks(name, scope))
            .map(|name| async move {
                Ok::<_, CloudError>(
                    described_cluster(aws, scope, name)
                        .await?
                        .as_ref()
                        .as_ref()
                        .and_then(|c| to_live(self, Finding::Stack(&scope.stack), c)),
                )
            });
        Ok(futures_util::future::try_join_all(read)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let name = required(attributes, "name")?;
        let vpc = VpcConfigRequest::builder()
            .set_subnet_ids(Some(string_list(attributes, "subnet_ids")))
            .set_endpoint_public_access(flag(attributes, "endpoint_public_access"))
            .set_endpoint_private_access(flag(attributes, "endpoint_private_access"))
            .set_public_access_cidrs(Some(string_list(attributes, "public_access_cidrs")))
            .build();
        let tags: HashMap<String, String> = tags_of(attributes).into_iter().collect();
        let out = aws
            .eks
            .create_cluster()
            .name(name)
            .set_version(
                attributes
                    .get("version")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            )
            .role_arn(required(attributes, "role_arn")?)
            .resources_vpc_config(vpc)
            .logging(logging(&string_list(attributes, "log_types")))
            // Access entries need the API; the aws-auth ConfigMap keeps working too.
            .access_config(
                aws_sdk_eks::types::CreateAccessConfigRequest::builder()
                    .authentication_mode(aws_sdk_eks::types::AuthenticationMode::ApiAndConfigMap)
                    .build(),
            )
            .set_encryption_config(
                attributes
                    .get("encryption_key_arn")
                    .and_then(Value::as_str)
                    .map(|key| vec![secrets_encryption(key)]),
            )
            .set_upgrade_policy(
                attributes
                    .get("support_type")
                    .and_then(Value::as_str)
                    .map(upgrade_policy),
            )
            .set_zonal_shift_config(flag(attributes, "zonal_shift").map(zonal_shift))
            .set_tags(Some(tags))
            .client_request_token(&request.token)
            .send()
            .await
            .map_err(|e| name_clash(error("CreateCluster", e), "cluster", name))?;
        let stack = &request.stack;
        match out
            .cluster()
            .and_then(|c| to_live(self, Finding::Stack(stack), c))
        {
            Some(mut live) => {
                live.attributes.extend(attributes.clone());
                Ok(live)
            }
            None => Ok(request.created(self.name(), name.to_string(), Status::Pending)),
        }
    }

    async fn name_taken(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        let name = required(&desired.attributes, "name")?;
        match aws.eks.describe_cluster().name(name).send().await {
            Ok(out) => Ok(Some(format!(
                "an EKS cluster named `{name}` already exists ({}) and is not this stack's: rename the cluster in the spec (`cluster.name`), or remove the existing one",
                out.cluster().and_then(|c| c.arn()).unwrap_or("no ARN")
            ))),
            Err(e) => crate::none_if_not_found(error("DescribeCluster", e)),
        }
    }

    /// By name, or by ARN.
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        match aws.eks.describe_cluster().name(last_part(id)).send().await {
            Ok(out) => Ok(out
                .cluster()
                .and_then(|c| to_live(self, Finding::Adoption(&desired.address), c))),
            Err(e) => crate::none_if_not_found(error("DescribeCluster", e)),
        }
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let name = &live.id;
        let before = &live.attributes;
        // An upgrade goes one minor version per step (AWS allows no more), each
        // awaited; node groups and add-ons follow in their own updates.
        if let (Some(from), Some(to)) = (
            before.get("version").and_then(Value::as_str),
            desired.get("version").and_then(Value::as_str),
        ) {
            // The steps the plan shows (`eks_cluster::upgrade_steps`).
            for step in upgrade_steps(from, to) {
                let out = aws
                    .eks
                    .update_cluster_version()
                    .name(name)
                    .version(step)
                    .send()
                    .await
                    .map_err(|e| error("UpdateClusterVersion", e))?;
                await_update(aws, name, UpdateOf::Cluster, out.update()).await?;
            }
        }
        let access_changed = ["endpoint_public_access", "endpoint_private_access"]
            .iter()
            .any(|a| changed(before, desired, a))
            || (desired.contains_key("public_access_cidrs")
                && sorted(string_list(before, "public_access_cidrs"))
                    != sorted(string_list(desired, "public_access_cidrs")));
        if access_changed {
            // What AWS needs: the endpoint settings only.
            let vpc = VpcConfigRequest::builder()
                .set_endpoint_public_access(flag(desired, "endpoint_public_access"))
                .set_endpoint_private_access(flag(desired, "endpoint_private_access"))
                .set_public_access_cidrs(Some(string_list(desired, "public_access_cidrs")))
                .build();
            let out = aws
                .eks
                .update_cluster_config()
                .name(name)
                .resources_vpc_config(vpc)
                .send()
                .await
                .map_err(|e| error("UpdateClusterConfig", e))?;
            await_update(aws, name, UpdateOf::Cluster, out.update()).await?;
            // The emulator replaces the whole VPC configuration with what an update
            // sends; AWS keeps the subnets. Put them back if they went.
            let after = aws
                .eks
                .describe_cluster()
                .name(name)
                .send()
                .await
                .map_err(|e| error("DescribeCluster", e))?;
            let subnets_now = after
                .cluster()
                .and_then(|c| c.resources_vpc_config())
                .map(|v| v.subnet_ids().to_vec())
                .unwrap_or_default();
            let subnets_before = string_list(before, "subnet_ids");
            if subnets_now.is_empty() && !subnets_before.is_empty() {
                let vpc = VpcConfigRequest::builder()
                    .set_subnet_ids(Some(subnets_before))
                    .set_endpoint_public_access(flag(desired, "endpoint_public_access"))
                    .set_endpoint_private_access(flag(desired, "endpoint_private_access"))
                    .set_public_access_cidrs(Some(string_list(desired, "public_access_cidrs")))
                    .build();
                let out = aws
                    .eks
                    .update_cluster_config()
                    .name(name)
                    .resources_vpc_config(vpc)
                    .send()
                    .await
                    .map_err(|e| error("UpdateClusterConfig", e))?;
                await_update(aws, name, UpdateOf::Cluster, out.update()).await?;
            }
        }
        if desired.contains_key("log_types")
            && sorted(string_list(before, "log_types")) != sorted(string_list(desired, "log_types"))
        {
            // One update at a time: AWS refuses a second while one is in progress.
            let out = aws
                .eks
                .update_cluster_config()
                .name(name)
                .logging(logging(&string_list(desired, "log_types")))
                .send()
                .await
                .map_err(|e| error("UpdateClusterConfig", e))?;
            await_update(aws, name, UpdateOf::Cluster, out.update()).await?;
        }
        // Only turned on: the plan refuses turning it off or another key.
        if let Some(key) = desired.get("encryption_key_arn").and_then(Value::as_str)
            && before
                .get("encryption_key_arn")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        {
            let out = aws
                .eks
                .associate_encryption_config()
                .cluster_name(name)
                .encryption_config(secrets_encryption(key))
                .send()
                .await
                .map_err(|e| error("AssociateEncryptionConfig", e))?;
            await_update(aws, name, UpdateOf::Cluster, out.update()).await?;
        }
        if let Some(support_type) = desired.get("support_type").and_then(Value::as_str)
            && changed(before, desired, "support_type")
        {
            let out = aws
                .eks
                .update_cluster_config()
                .name(name)
                .upgrade_policy(upgrade_policy(support_type))
                .send()
                .await
                .map_err(|e| error("UpdateClusterConfig", e))?;
            await_update(aws, name, UpdateOf::Cluster, out.update()).await?;
        }
        if let Some(enabled) = flag(desired, "zonal_shift")
            && changed(before, desired, "zonal_shift")
        {
            let out = aws
                .eks
                .update_cluster_config()
                .name(name)
                .zonal_shift_config(zonal_shift(enabled))
                .send()
                .await
                .map_err(|e| error("UpdateClusterConfig", e))?;
            await_update(aws, name, UpdateOf::Cluster, out.update()).await?;
        }
        sync_eks_tags(aws, live, desired).await
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        if live.status == Status::Deleting {
            return Ok(());
        }
        deleted(
            "DeleteCluster",
            aws.eks.delete_cluster().name(&live.id).send().await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let stack = eksform_core::kinds::tags::stack_of(&live.attributes);
        match aws.eks.describe_cluster().name(&live.id).send().await {
            Ok(out) => {
                if let Some(cluster) = out.cluster()
                    && cluster.status() == Some(&ClusterStatus::Failed)
                {
                    return Err(CloudError::rejected(format!(
                        "EKS reports cluster {} as FAILED",
                        live.id
                    )));
                }
                Ok(out
                    .cluster()
                    .and_then(|c| to_live(self, Finding::Stack(&stack), c)))
            }
            Err(e) => crate::none_if_not_found(error("DescribeCluster", e)),
        }
    }
}

/// The names a cluster's list call returned (node groups, Fargate profiles,
/// add-ons, access entries): none when the cluster does not exist (yet), or when
/// the endpoint lacks the API (the emulator answers such calls without an
/// error code; a create there then fails loudly).
pub(crate) fn cluster_parts<E>(
    aws: &AwsClients,
    operation: &str,
    result: Result<
        Vec<String>,
        aws_sdk_eks::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
    >,
) -> Result<Vec<String>, CloudError>
where
    E: aws_sdk_eks::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(names) => Ok(names),
        Err(e) => {
            let e = error(operation, e);
            // Not any error without a code: a timeout has none either, and
            // must not read as "nothing there".
            if crate::preflight::not_implemented(&e) {
                aws.warnings.warn(format!(
                    "this endpoint does not answer {operation}; nothing of it was observed"
                ));
                Ok(Vec::new())
            } else if e.class == ErrorClass::NotFound {
                Ok(Vec::new())
            } else {
                Err(e)
            }
        }
    }
}

/// The cluster and name an adopt entry gives for a part of a cluster (a node
/// group, a Fargate profile): its ARN (`...:<kind>/<cluster>/<name>/<uuid>`,
/// `kind_path` being `nodegroup/`), or its name in the spec's cluster (the
/// desired resource's `cluster_name`).
pub(crate) fn cluster_part<'a>(
    desired: &'a DesiredResource,
    id: &'a str,
    kind_path: &str,
) -> Result<(&'a str, &'a str), CloudError> {
    if let Some((_, path)) = id.split_once(&format!(":{kind_path}")) {
        let mut parts = path.split('/');
        if let (Some(cluster), Some(name)) = (parts.next(), parts.next()) {
            return Ok((cluster, name));
        }
    }
    let cluster = desired
        .attributes
        .get("cluster_name")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            CloudError::rejected(format!(
                "adopt: the cluster of {} is not known yet: give its ARN, or adopt the cluster too",
                desired.address
            ))
        })?;
    Ok((cluster, id))
}

/// Tags of an EKS resource (cluster, node group, Fargate profile), by its ARN.
pub(crate) async fn sync_eks_tags(
    aws: &AwsClients,
    live: &LiveResource,
    desired: &Attributes,
) -> Result<(), CloudError> {
    let arn = live
        .attributes
        .get("arn")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let (set, removed) = tag_changes(&live.attributes, desired);
    if !set.is_empty() {
        aws.eks
            .tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(set.into_iter().collect()))
            .send()
            .await
            .map_err(|e| error("TagResource", e))?;
    }
    if !removed.is_empty() {
        aws.eks
            .untag_resource()
            .resource_arn(&arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| error("UntagResource", e))?;
    }
    Ok(())
}

/// Enabled and disabled log types: AWS replaces the logging setup as a whole.
pub fn logging(types: &[String]) -> Logging {
    let enabled: Vec<LogType> = types.iter().map(|t| LogType::from(t.as_str())).collect();
    let disabled: Vec<LogType> = ALL_LOG_TYPES
        .iter()
        .filter(|t| !types.iter().any(|x| x == *t))
        .map(|t| LogType::from(*t))
        .collect();
    let mut setups = Vec::new();
    if !enabled.is_empty() {
        setups.push(
            LogSetup::builder()
                .set_types(Some(enabled))
                .enabled(true)
                .build(),
        );
    }
    if !disabled.is_empty() {
        setups.push(
            LogSetup::builder()
                .set_types(Some(disabled))
                .enabled(false)
                .build(),
        );
    }
    Logging::builder().set_cluster_logging(Some(setups)).build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use eksform_core::model::Address;

    #[test]
    fn a_part_of_a_cluster_is_named_by_its_arn_or_by_its_name_in_the_specs_cluster() {
        let group = DesiredResource::new("node_group", Address("node_group.general".into()))
            .with("cluster_name", Value::string("prd"));
        assert_eq!(
            cluster_part(&group, "general-1", "nodegroup/").unwrap(),
            ("prd", "general-1")
        );
        assert_eq!(
            cluster_part(
                &group,
                "arn:aws:eks:us-east-1:123456789012:nodegroup/legacy/general-1/ab12",
                "nodegroup/"
            )
            .unwrap(),
            ("legacy", "general-1")
        );
        let unresolved = DesiredResource::new("node_group", Address("node_group.general".into()))
            .with(
                "cluster_name",
                Value::reference(&EksCluster::address(), "name"),
            );
        assert!(cluster_part(&unresolved, "general-1", "nodegroup/").is_err());
    }
}
