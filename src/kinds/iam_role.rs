//! IAM roles eksform needs: today the cluster role; node, Fargate and IRSA
//! roles come with their resources. Roles live under the path
//! `/eksform/<stack>/`, so one list call finds a stack's roles.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_iam::types::EntityType;

use super::{Change, Kind, deleted, not_found_is_done};
use crate::cloud::aws::{AwsClients, error};
use crate::cloud::{CloudError, CreateRequest, Scope};
use crate::lower::{StackModel, fit_name, partition, resource_name};
use crate::model::{
    Address, Attributes, DesiredResource, LiveResource, STACK_TAG, Status, Value, ownership_tags,
    string_list, string_map,
};

pub struct IamRole;

impl IamRole {
    pub fn address(role: &str) -> Address {
        Address::new(&["iam_role", role])
    }

    /// The role of a Kubernetes service account.
    pub fn address_of_service_account(namespace: &str, name: &str) -> Address {
        Address::new(&["iam_role", "irsa", namespace, name])
    }

    /// A policy document as IAM returns it (URL-encoded), readable.
    pub fn decode(document: &str) -> String {
        url_decode(document)
    }
}

/// The path of a stack's roles in a region (of every stack's, for
/// `EVERY_STACK`). IAM is global: the region keeps one stack name in two
/// regions apart.
pub fn role_path(stack: &str, region: &str) -> String {
    if stack == super::tags::EVERY_STACK {
        return "/eksform/".into();
    }
    format!("/eksform/{region}/{stack}/")
}

/// Where roles made before paths named the region live (`/eksform/<stack>/`):
/// still found, without a region in their mark, and replaced by the plan.
fn path_without_region(stack: &str) -> String {
    format!("/eksform/{stack}/")
}

/// A role's name: unique in the account, so it names the region too; IAM
/// allows 64 characters.
fn role_name(stack: &StackModel, address: &Address) -> String {
    fit_name(
        &resource_name(&format!("{}-{}", stack.stack, stack.region), address),
        64,
    )
}

/// A trust policy letting an AWS service assume the role.
pub fn service_trust_policy(service: &str) -> String {
    crate::model::sorted_json(serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": service },
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }],
    }))
    .to_string()
}

/// The trust policy of an IAM role for a service account: only that service
/// account of that cluster (its OIDC provider) may assume it.
pub fn irsa_trust_policy(provider_arn: &str, issuer: &str, service_account: &str) -> String {
    let host = issuer.trim_start_matches("https://");
    let (namespace, name) = service_account
        .split_once('/')
        .unwrap_or(("default", service_account));
    crate::model::sorted_json(serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": provider_arn },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": { "StringEquals": {
                format!("{host}:sub"): format!("system:serviceaccount:{namespace}:{name}"),
                format!("{host}:aud"): "sts.amazonaws.com",
            }},
        }],
    }))
    .to_string()
}

/// The IRSA trust of a live trust policy, as the `irsa_trust` attribute, when
/// the policy is exactly one service account's (else nothing: the diff then
/// rewrites it).
fn irsa_trust_of(document: &str) -> Option<Value> {
    let policy: serde_json::Value = serde_json::from_str(document).ok()?;
    let statements = policy.get("Statement")?;
    let statement = match statements {
        serde_json::Value::Array(items) if items.len() == 1 => &items[0],
        serde_json::Value::Object(_) => statements,
        _ => return None,
    };
    let provider = statement.get("Principal")?.get("Federated")?.as_str()?;
    let equals = statement
        .get("Condition")?
        .get("StringEquals")?
        .as_object()?;
    if equals.len() != 2 {
        return None;
    }
    let (sub_key, subject) = equals.iter().find(|(k, _)| k.ends_with(":sub"))?;
    let host = sub_key.strip_suffix(":sub")?;
    if equals.get(&format!("{host}:aud"))?.as_str()? != "sts.amazonaws.com" {
        return None;
    }
    let account = subject
        .as_str()?
        .strip_prefix("system:serviceaccount:")?
        .replacen(':', "/", 1);
    Some(irsa_trust_value(
        Value::string(provider),
        Value::string(format!("https://{host}")),
        &account,
    ))
}

fn irsa_trust_value(provider_arn: Value, issuer: Value, service_account: &str) -> Value {
    Value::Map(BTreeMap::from([
        ("issuer".to_string(), issuer),
        ("provider_arn".to_string(), provider_arn),
        (
            "service_account".to_string(),
            Value::string(service_account),
        ),
    ]))
}

/// The trust policy document a role's desired attributes ask for.
fn trust_document(attributes: &Attributes) -> Result<String, CloudError> {
    if let Some(trust) = attributes.get("irsa_trust").and_then(Value::as_map) {
        let field = |k: &str| trust.get(k).and_then(Value::as_str).unwrap_or_default();
        return Ok(irsa_trust_policy(
            field("provider_arn"),
            field("issuer"),
            field("service_account"),
        ));
    }
    Ok(super::tags::required(attributes, "assume_role_policy")?.to_string())
}

/// Puts and deletes inline policies so that exactly `wanted` are on the role.
async fn sync_inline(
    aws: &AwsClients,
    role: &str,
    current: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    for (name, document) in wanted {
        let same =
            current.get(name).and_then(|c| canonical_policy(c)) == canonical_policy(document);
        if !same {
            aws.iam
                .put_role_policy()
                .role_name(role)
                .policy_name(name)
                .policy_document(document)
                .send()
                .await
                .map_err(|e| error("PutRolePolicy", e))?;
        }
    }
    for name in current.keys().filter(|n| !wanted.contains_key(*n)) {
        if let Err(e) = aws
            .iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
        {
            not_found_is_done(error("DeleteRolePolicy", e))?;
        }
    }
    Ok(())
}

/// An IAM policy document in a canonical form, so that documents that mean the
/// same compare equal: keys sorted, one-element lists as their element, lists sorted.
pub fn canonical_policy(document: &str) -> Option<serde_json::Value> {
    fn canonical(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Array(items) => {
                let mut items: Vec<serde_json::Value> = items.into_iter().map(canonical).collect();
                if items.len() == 1 {
                    return items.remove(0);
                }
                items.sort_by_key(|v| v.to_string());
                serde_json::Value::Array(items)
            }
            serde_json::Value::Object(map) => {
                serde_json::Value::Object(map.into_iter().map(|(k, v)| (k, canonical(v))).collect())
            }
            other => other,
        }
    }
    serde_json::from_str(document)
        .ok()
        .map(crate::model::sorted_json)
        .map(canonical)
}

/// The role of that name, if any.
async fn get_role(
    aws: &AwsClients,
    name: &str,
) -> Result<Option<aws_sdk_iam::types::Role>, CloudError> {
    match aws.iam.get_role().role_name(name).send().await {
        Ok(out) => Ok(out.role().cloned()),
        Err(e) => super::none_if_not_found(error("GetRole", e)),
    }
}

/// A role of the wanted name that is not this create's own.
fn foreign_role(name: &str, clash: CloudError) -> CloudError {
    CloudError::rejected(format!(
        "an IAM role named `{name}` already exists and is not this stack's in this region: delete or rename it ({clash})"
    ))
}

/// IAM answers policy documents URL-encoded.
pub fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn iam_tags(attributes: &Attributes) -> Vec<aws_sdk_iam::types::Tag> {
    super::tags::tags_of(attributes)
        .into_iter()
        .filter_map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .ok()
        })
        .collect()
}

async fn attached(aws: &AwsClients, role: &str) -> Result<Vec<String>, CloudError> {
    let policies = aws
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| error("ListAttachedRolePolicies", e))?;
    Ok(policies
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect())
}

/// Attaches and detaches managed policies so that exactly `wanted` are attached.
async fn sync_policies(
    aws: &AwsClients,
    role: &str,
    current: &[String],
    wanted: &[String],
) -> Result<(), CloudError> {
    for arn in wanted.iter().filter(|a| !current.contains(a)) {
        aws.iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| error("AttachRolePolicy", e))?;
    }
    for arn in current.iter().filter(|a| !wanted.contains(a)) {
        if let Err(e) = aws
            .iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
        {
            not_found_is_done(error("DetachRolePolicy", e))?;
        }
    }
    Ok(())
}

/// What eksform reads of a role, however it was read.
struct RoleRead<'a> {
    name: &'a str,
    path: &'a str,
    arn: &'a str,
    /// As IAM returns it: URL-encoded.
    trust: Option<&'a str>,
    tags: BTreeMap<String, String>,
    managed_policy_arns: Vec<String>,
    /// Name -> URL-encoded document.
    inline_policies: BTreeMap<String, String>,
}

impl IamRole {
    /// A live role from what was read, if it carries the stack's mark.
    fn to_live(&self, stack: &str, role: RoleRead<'_>) -> Option<LiveResource> {
        if !super::tags::marks_stack(role.tags.get(STACK_TAG), stack) {
            return None;
        }
        let address = role.tags.get(crate::model::ADDRESS_TAG).cloned()?;
        let mut policies = role.managed_policy_arns;
        policies.sort();
        let mut attributes = Attributes::new();
        attributes.insert("name".into(), Value::string(role.name));
        attributes.insert("path".into(), Value::string(role.path));
        attributes.insert("arn".into(), Value::string(role.arn));
        let trust = role.trust.map(url_decode).unwrap_or_default();
        if let Some(irsa) = irsa_trust_of(&trust) {
            attributes.insert("irsa_trust".into(), irsa);
        }
        attributes.insert("assume_role_policy".into(), Value::string(trust));
        let inline = role
            .inline_policies
            .iter()
            .map(|(name, document)| (name.clone(), Value::string(url_decode(document))))
            .collect();
        attributes.insert("inline_policies".into(), Value::Map(inline));
        attributes.insert(
            "managed_policy_arns".into(),
            Value::List(policies.into_iter().map(Value::String).collect()),
        );
        attributes.insert("tags".into(), Value::string_map(&role.tags));
        Some(LiveResource {
            address: Address(address),
            kind: self.name().into(),
            id: role.name.to_string(),
            attributes,
            status: Status::Ready,
        })
    }

    /// The role if it is the one `address` of `stack` wants here:
    /// it carries that mark, region included. IAM's lists lag behind its
    /// creates, so a role an interrupted apply made may be missing from
    /// observation while GetRole already sees it.
    async fn own_role(
        &self,
        aws: &AwsClients,
        role: &aws_sdk_iam::types::Role,
        stack: &str,
        address: &Address,
        wanted: &Attributes,
    ) -> Result<Option<LiveResource>, CloudError> {
        let Some(live) = self.describe(aws, stack, role).await? else {
            return Ok(None);
        };
        let region = |attributes: &Attributes| {
            super::tags::tags_of(attributes)
                .get(crate::model::REGION_TAG)
                .cloned()
        };
        Ok(
            (live.address == *address && region(&live.attributes) == region(wanted))
                .then_some(live),
        )
    }

    /// After CreateRole answered EntityAlreadyExists: a role carrying this
    /// create's own mark was made by an attempt whose answer was lost; it is
    /// brought to what the request asks. Anything else holding the name is an
    /// error.
    async fn finish_lost_create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
        clash: CloudError,
    ) -> Result<LiveResource, CloudError> {
        let name = super::tags::required(&request.attributes, "name")?;
        let Some(role) = get_role(aws, name).await? else {
            return Err(clash);
        };
        let Some(live) = self
            .own_role(
                aws,
                &role,
                &request.stack,
                &request.address,
                &request.attributes,
            )
            .await?
        else {
            return Err(foreign_role(name, clash));
        };
        self.update(aws, &live, &request.attributes).await?;
        let mut finished = request.created(self.name(), name.to_string(), Status::Ready);
        if let Some(arn) = live.attributes.get("arn") {
            finished.attributes.insert("arn".into(), arn.clone());
        }
        Ok(finished)
    }

    /// One role read call by call (after a change, where a batch read of the
    /// whole account would cost more than it saves).
    async fn describe(
        &self,
        aws: &AwsClients,
        stack: &str,
        role: &aws_sdk_iam::types::Role,
    ) -> Result<Option<LiveResource>, CloudError> {
        let name = role.role_name();
        let tags = aws
            .iam
            .list_role_tags()
            .role_name(name)
            .send()
            .await
            .map_err(|e| error("ListRoleTags", e))?;
        let tags: BTreeMap<String, String> = tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        if !super::tags::marks_stack(tags.get(STACK_TAG), stack) {
            return Ok(None);
        }
        let managed_policy_arns = attached(aws, name).await?;
        let names = aws
            .iam
            .list_role_policies()
            .role_name(name)
            .send()
            .await
            .map_err(|e| error("ListRolePolicies", e))?;
        let mut inline_policies = BTreeMap::new();
        for policy in names.policy_names() {
            let document = aws
                .iam
                .get_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await
                .map_err(|e| error("GetRolePolicy", e))?;
            inline_policies.insert(policy.clone(), document.policy_document().to_string());
        }
        Ok(self.to_live(
            stack,
            RoleRead {
                name,
                path: role.path(),
                arn: role.arn(),
                trust: role.assume_role_policy_document(),
                tags,
                managed_policy_arns,
                inline_policies,
            },
        ))
    }
}

#[async_trait]
impl Kind for IamRole {
    fn service(&self) -> &'static str {
        "iam"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "iam_role"
    }

    fn is_global(&self) -> bool {
        true
    }

    fn id_prefix(&self) -> &'static str {
        "role"
    }

    fn delete_after(&self) -> &'static [&'static str] {
        // Destroy order: the cluster (with its node groups, Fargate profiles and
        // add-ons) first, then the node, Fargate and service-account roles.
        &["eks_cluster"]
    }

    fn computed(&self) -> &'static [&'static str] {
        &["arn"]
    }

    fn change_of(&self, attribute: &str) -> Change {
        match attribute {
            "name" | "path" => Change::Replace,
            _ => Change::InPlace,
        }
    }

    fn satisfied(&self, attribute: &str, live: &Value, desired: &Value) -> bool {
        match (attribute, live.as_str(), desired.as_str()) {
            ("assume_role_policy", Some(live), Some(desired)) => {
                canonical_policy(live).is_some()
                    && canonical_policy(live) == canonical_policy(desired)
            }
            _ if attribute == "inline_policies" => {
                let documents = |v: &Value| -> Option<BTreeMap<String, serde_json::Value>> {
                    v.as_map()?
                        .iter()
                        .map(|(k, d)| Some((k.clone(), canonical_policy(d.as_str()?)?)))
                        .collect()
                };
                documents(live).is_some() && documents(live) == documents(desired)
            }
            _ => live == desired,
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(cluster) = &stack.cluster else {
            return vec![];
        };
        let aws_policy = |name: &str| {
            Value::string(format!(
                "arn:{}:iam::aws:policy/{name}",
                partition(&stack.region)
            ))
        };
        let role = |suffix: &str, service: &str, policies: &[&str]| {
            let address = Self::address(suffix);
            let name = role_name(stack, &address);
            let mut tags = ownership_tags(&stack.stack, &address, &name, &stack.tags);
            tags.insert("eksform:cluster".into(), cluster.name.clone());
            DesiredResource::new(self.name(), address)
                .with("name", Value::string(name))
                .with(
                    "path",
                    Value::string(role_path(&stack.stack, &stack.region)),
                )
                .with(
                    "assume_role_policy",
                    Value::string(service_trust_policy(service)),
                )
                .with(
                    "managed_policy_arns",
                    Value::List(policies.iter().map(|p| aws_policy(p)).collect()),
                )
                .with("tags", Value::string_map(&tags))
        };
        let mut roles = vec![role(
            "cluster",
            "eks.amazonaws.com",
            &["AmazonEKSClusterPolicy"],
        )];
        if !cluster.node_groups.is_empty() {
            // What worker nodes need: join the cluster, run the VPC CNI, pull images.
            roles.push(role(
                "node",
                "ec2.amazonaws.com",
                &[
                    "AmazonEKSWorkerNodePolicy",
                    "AmazonEKS_CNI_Policy",
                    "AmazonEC2ContainerRegistryReadOnly",
                ],
            ));
        }
        for account in &cluster.service_accounts {
            let key = format!("{}/{}", account.namespace, account.name);
            let address = Self::address_of_service_account(&account.namespace, &account.name);
            let name = role_name(stack, &address);
            let mut tags = ownership_tags(&stack.stack, &address, &name, &stack.tags);
            tags.insert("eksform:cluster".into(), cluster.name.clone());
            tags.insert("eksform:service-account".into(), key.clone());
            let trust = irsa_trust_value(
                Value::reference(&super::oidc_provider::OidcProvider::address(), "arn"),
                Value::reference(&super::eks_cluster::EksCluster::address(), "oidc_issuer"),
                &key,
            );
            roles.push(
                DesiredResource::new(self.name(), address)
                    .with("name", Value::string(name))
                    .with(
                        "path",
                        Value::string(role_path(&stack.stack, &stack.region)),
                    )
                    .with("irsa_trust", trust)
                    .with(
                        "managed_policy_arns",
                        Value::List(
                            account
                                .managed_policy_arns
                                .iter()
                                .map(|a| Value::string(a.clone()))
                                .collect(),
                        ),
                    )
                    .with(
                        "inline_policies",
                        Value::Map(
                            account
                                .inline_policies
                                .iter()
                                .map(|(k, v)| (k.clone(), Value::string(v.clone())))
                                .collect(),
                        ),
                    )
                    .with("tags", Value::string_map(&tags)),
            );
        }
        if !cluster.fargate_profiles.is_empty() {
            roles.push(role(
                "fargate",
                "eks-fargate-pods.amazonaws.com",
                &["AmazonEKSFargatePodExecutionRolePolicy"],
            ));
        }
        roles
    }

    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        // One batch read: GetAccountAuthorizationDetails answers every role
        // with its trust, tags, attached and inline policies, where ListRoles
        // would need three more calls a role.
        let pages: Vec<_> = aws
            .iam
            .get_account_authorization_details()
            .filter(EntityType::Role)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("GetAccountAuthorizationDetails", e))?;
        // A read of one role (no region in its scope) looks under every path.
        let prefix = if scope.region.is_empty() {
            role_path(super::tags::EVERY_STACK, "")
        } else {
            role_path(&scope.stack, &scope.region)
        };
        let legacy = path_without_region(&scope.stack);
        let regional = |role: &&aws_sdk_iam::types::RoleDetail| {
            role.tags()
                .iter()
                .any(|t| t.key() == crate::model::REGION_TAG)
        };
        Ok(pages
            .iter()
            .flat_map(|page| page.role_detail_list())
            .filter(|role| {
                role.path().is_some_and(|p| {
                    p.starts_with(&prefix) || (p.starts_with(&legacy) && !regional(role))
                })
            })
            .filter_map(|role| {
                self.to_live(
                    &scope.stack,
                    RoleRead {
                        name: role.role_name()?,
                        path: role.path()?,
                        arn: role.arn()?,
                        trust: role.assume_role_policy_document(),
                        tags: role
                            .tags()
                            .iter()
                            .map(|t| (t.key().to_string(), t.value().to_string()))
                            .collect(),
                        managed_policy_arns: role
                            .attached_managed_policies()
                            .iter()
                            .filter_map(|p| p.policy_arn().map(str::to_string))
                            .collect(),
                        inline_policies: role
                            .role_policy_list()
                            .iter()
                            .filter_map(|p| {
                                Some((
                                    p.policy_name()?.to_string(),
                                    p.policy_document()?.to_string(),
                                ))
                            })
                            .collect(),
                    },
                )
            })
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let name = super::tags::required(attributes, "name")?;
        let out = match aws
            .iam
            .create_role()
            .role_name(name)
            .path(super::tags::required(attributes, "path")?)
            .assume_role_policy_document(trust_document(attributes)?)
            .set_tags(Some(iam_tags(attributes)))
            .customize()
            .config_override(crate::cloud::aws::sent_once!(aws_sdk_iam))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = error("CreateRole", e);
                if e.code.as_deref() != Some("EntityAlreadyExists") {
                    return Err(e);
                }
                // IAM's lists lag behind its creates: a role an earlier,
                // interrupted attempt made may be missing from observation.
                // GetRole sees it; if it carries this very mark, finish it.
                return self.finish_lost_create(aws, request, e).await;
            }
        };
        sync_policies(
            aws,
            name,
            &[],
            &string_list(attributes, "managed_policy_arns"),
        )
        .await?;
        sync_inline(
            aws,
            name,
            &BTreeMap::new(),
            &string_map(attributes, "inline_policies"),
        )
        .await?;
        let mut created = request.created(self.name(), name.to_string(), Status::Ready);
        if let Some(role) = out.role() {
            created
                .attributes
                .insert("arn".into(), Value::string(role.arn()));
        }
        Ok(created)
    }

    async fn name_taken(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        let name = super::tags::required(&desired.attributes, "name")?;
        let Some(role) = get_role(aws, name).await? else {
            return Ok(None);
        };
        // The stack's own role that IAM's lists do not show yet is no clash:
        // the create finishes it (`finish_lost_create`).
        let stack = super::tags::stack_of(&desired.attributes);
        let own = self
            .own_role(aws, &role, &stack, &desired.address, &desired.attributes)
            .await?;
        Ok(own.is_none().then(|| {
            format!(
                "an IAM role named `{name}` already exists ({}) and is not this stack's in this region: delete or rename it",
                role.arn()
            )
        }))
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let name = &live.id;
        let policy = |a: &Attributes| {
            a.get("assume_role_policy")
                .and_then(Value::as_str)
                .and_then(canonical_policy)
        };
        if let Some(document) = desired.get("assume_role_policy").and_then(Value::as_str)
            && policy(&live.attributes) != policy(desired)
        {
            aws.iam
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(document)
                .send()
                .await
                .map_err(|e| error("UpdateAssumeRolePolicy", e))?;
        }
        if desired.contains_key("irsa_trust")
            && live.attributes.get("irsa_trust") != desired.get("irsa_trust")
        {
            aws.iam
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(trust_document(desired)?)
                .send()
                .await
                .map_err(|e| error("UpdateAssumeRolePolicy", e))?;
        }
        if desired.contains_key("inline_policies") {
            sync_inline(
                aws,
                name,
                &string_map(&live.attributes, "inline_policies"),
                &string_map(desired, "inline_policies"),
            )
            .await?;
        }
        if desired.contains_key("managed_policy_arns") {
            sync_policies(
                aws,
                name,
                &string_list(&live.attributes, "managed_policy_arns"),
                &string_list(desired, "managed_policy_arns"),
            )
            .await?;
        }
        let (set, removed) = super::tags::tag_changes(&live.attributes, desired);
        if !set.is_empty() {
            let tags = set.into_iter().filter_map(|(k, v)| {
                aws_sdk_iam::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .ok()
            });
            aws.iam
                .tag_role()
                .role_name(name)
                .set_tags(Some(tags.collect()))
                .send()
                .await
                .map_err(|e| error("TagRole", e))?;
        }
        if !removed.is_empty() {
            aws.iam
                .untag_role()
                .role_name(name)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| error("UntagRole", e))?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        let name = &live.id;
        // A role goes only without policies: detach the managed, delete the inline ones.
        match attached(aws, name).await {
            Ok(current) => sync_policies(aws, name, &current, &[]).await?,
            Err(e) => return not_found_is_done(e),
        }
        let inline = aws
            .iam
            .list_role_policies()
            .role_name(name)
            .send()
            .await
            .map_err(|e| error("ListRolePolicies", e))?;
        for policy in inline.policy_names() {
            if let Err(e) = aws
                .iam
                .delete_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await
            {
                not_found_is_done(error("DeleteRolePolicy", e))?;
            }
        }
        deleted(
            "DeleteRole",
            aws.iam.delete_role().role_name(name).send().await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let stack = super::tags::stack_of(&live.attributes);
        match get_role(aws, &live.id).await? {
            Some(role) => self.describe(aws, &stack, &role).await,
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_that_mean_the_same_compare_equal() {
        let written = service_trust_policy("eks.amazonaws.com");
        let returned = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Action%22%3A%5B%22sts%3ATagSession%22%2C%22sts%3AAssumeRole%22%5D%2C%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22eks.amazonaws.com%22%7D%7D%5D%7D";
        assert_eq!(
            canonical_policy(&url_decode(returned)),
            canonical_policy(&written)
        );
        let other = service_trust_policy("ec2.amazonaws.com");
        assert_ne!(canonical_policy(&other), canonical_policy(&written));
    }
}
