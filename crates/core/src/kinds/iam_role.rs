//! IAM roles eksform needs: today the cluster role; node, Fargate, IRSA and
//! Pod Identity roles come with their resources. Roles live under the path
//! `/eksform/<stack>/`, so one list call finds a stack's roles.

use super::{Attribute, Compare, Kind, ObservationFloor};
use crate::cloud::CloudError;
use crate::lower::{StackModel, fit_name, partition, resource_name};
use crate::model::{
    Address, Attributes, DesiredResource, LiveResource, STACK_TAG, Status, Value, ownership_tags,
};
use std::collections::BTreeMap;

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
pub fn path_without_region(stack: &str) -> String {
    format!("/eksform/{stack}/")
}

/// A role's name: unique in the account, so it names the region too; IAM
/// allows 64 characters.
pub fn role_name(stack: &StackModel, address: &Address) -> String {
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
pub fn irsa_trust_of(document: &str) -> Option<Value> {
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
pub fn trust_document(attributes: &Attributes) -> Result<String, CloudError> {
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

/// Whether a live trust policy gives what the desired one asks for: the same
/// document, or the same but for `sts:TagSession` on a service's statement.
/// eksform lets the services it names tag their sessions; a role eksctl or
/// Terraform made without that (EKS and EC2 do not need it) already lets the
/// service assume it, so taking the role over changes nothing there. EKS Pod
/// Identity's service does need it, so its statements are compared whole.
pub fn trust_satisfied(live: &Value, desired: &Value) -> bool {
    if Compare::PolicyDocument.satisfied(live, desired) {
        return true;
    }
    let without_tag_session = |value: &Value| -> Option<serde_json::Value> {
        let mut document = canonical_policy(value.as_str()?)?;
        let statements = match document.get_mut("Statement")? {
            serde_json::Value::Array(items) => items.iter_mut().collect::<Vec<_>>(),
            single => vec![single],
        };
        for statement in statements {
            let service = statement.pointer("/Principal/Service").cloned();
            let for_pods = match &service {
                Some(serde_json::Value::String(s)) => s == "pods.eks.amazonaws.com",
                Some(serde_json::Value::Array(items)) => {
                    items.iter().any(|s| s == "pods.eks.amazonaws.com")
                }
                _ => true,
            };
            if for_pods {
                continue;
            }
            if let Some(serde_json::Value::Array(actions)) = statement.get_mut("Action") {
                actions.retain(|a| a != "sts:TagSession");
                if actions.len() == 1 {
                    let only = actions.remove(0);
                    statement["Action"] = only;
                }
            }
        }
        Some(document)
    };
    let live = without_tag_session(live);
    live.is_some() && live == without_tag_session(desired)
}

/// A role of the wanted name that is not this create's own.
pub fn foreign_role(name: &str, clash: CloudError) -> CloudError {
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

/// What eksform reads of a role, however it was read.
pub struct RoleRead<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub arn: &'a str,
    /// As IAM returns it: URL-encoded.
    pub trust: Option<&'a str>,
    pub tags: BTreeMap<String, String>,
    pub managed_policy_arns: Vec<String>,
    /// Name -> URL-encoded document.
    pub inline_policies: BTreeMap<String, String>,
}

impl IamRole {
    /// A live role from what was read, if it carries the stack's mark.
    pub fn to_live(&self, stack: &str, role: RoleRead<'_>) -> Option<LiveResource> {
        if !super::tags::marks_stack(role.tags.get(STACK_TAG), stack) {
            return None;
        }
        let address = role.tags.get(crate::model::ADDRESS_TAG).cloned()?;
        Some(self.read_as(Address(address), role))
    }

    /// A live role from what was read, at `address` whatever its marks (an
    /// `adopt:` entry's).
    pub fn read_as(&self, address: Address, role: RoleRead<'_>) -> LiveResource {
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
        LiveResource {
            address,
            kind: self.name().into(),
            id: role.name.to_string(),
            attributes,
            status: Status::Ready,
        }
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::computed("arn"),
    Attribute::in_place("assume_role_policy").compared(Compare::TrustPolicy),
    Attribute::in_place("inline_policies").compared(Compare::PolicyDocuments),
    Attribute::in_place("irsa_trust"),
    Attribute::in_place("managed_policy_arns"),
    Attribute::replaces("name"),
    Attribute::replaces("path"),
    Attribute::tags(),
];

impl Kind for IamRole {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn adopted_identity(&self) -> &'static [&'static str] {
        &["name", "path"]
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor::list(1, "GetAccountAuthorizationDetails")
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "iam:AttachRolePolicy",
            "iam:CreateRole",
            "iam:DeleteRole",
            "iam:DeleteRolePolicy",
            "iam:DetachRolePolicy",
            "iam:GetAccountAuthorizationDetails",
            "iam:GetRole",
            "iam:GetRolePolicy",
            "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies",
            "iam:ListRoleTags",
            "iam:PutRolePolicy",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:UpdateAssumeRolePolicy",
        ]
    }

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

    fn delete_after_creates_of(&self, address: &Address) -> Vec<Address> {
        // A service account moving from IRSA to Pod Identity: its IRSA role
        // goes once the association (and so its new role) exists.
        let service_account = address
            .as_str()
            .strip_prefix("iam_role.irsa.")
            .and_then(|rest| rest.split_once('.'));
        match service_account {
            Some((namespace, name)) => vec![
                super::pod_identity_association::PodIdentityAssociation::address(namespace, name),
            ],
            None => Vec::new(),
        }
    }

    fn delete_after(&self) -> &'static [&'static str] {
        // Destroy order: the cluster (with its node groups, Fargate profiles and
        // add-ons) first, then the node, Fargate and service-account roles.
        &["eks_cluster"]
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
        // eksctl and the terraform-aws-modules `eks` module both attach the
        // VPC resource controller's policy (security groups for pods need
        // it), so a cluster role they made is taken over unchanged.
        let mut roles = vec![role(
            "cluster",
            "eks.amazonaws.com",
            &["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"],
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
        // EKS Pod Identity: a role `pods.eks.amazonaws.com` assumes, with
        // the session tags it sets (AssumeRole and TagSession), unless the
        // spec brings its own `roleARN`.
        for association in cluster
            .pod_identities
            .iter()
            .filter(|a| a.role_arn.is_none())
        {
            let address = super::pod_identity_association::PodIdentityAssociation::role_address(
                &association.namespace,
                &association.service_account,
            );
            let name = association
                .role_name
                .clone()
                .unwrap_or_else(|| role_name(stack, &address));
            let mut tags = association.tags.clone();
            tags.extend(ownership_tags(&stack.stack, &address, &name, &stack.tags));
            tags.insert("eksform:cluster".into(), cluster.name.clone());
            tags.insert(
                "eksform:service-account".into(),
                format!("{}/{}", association.namespace, association.service_account),
            );
            roles.push(
                DesiredResource::new(self.name(), address)
                    .with("name", Value::string(name))
                    .with(
                        "path",
                        Value::string(role_path(&stack.stack, &stack.region)),
                    )
                    .with(
                        "assume_role_policy",
                        Value::string(service_trust_policy(
                            super::pod_identity_association::POD_IDENTITY_SERVICE,
                        )),
                    )
                    .with(
                        "managed_policy_arns",
                        Value::List(
                            association
                                .managed_policy_arns
                                .iter()
                                .map(|a| Value::string(a.clone()))
                                .collect(),
                        ),
                    )
                    .with(
                        "inline_policies",
                        Value::Map(
                            association
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

    fn trust(service: &str, actions: &str) -> Value {
        Value::string(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":{actions}}}]}}"#
        ))
    }

    #[test]
    fn a_service_trust_without_tag_session_satisfies_eksforms() {
        let desired = Value::string(service_trust_policy("eks.amazonaws.com"));
        assert!(trust_satisfied(
            &trust("eks.amazonaws.com", r#""sts:AssumeRole""#),
            &desired
        ));
        assert!(trust_satisfied(
            &trust(
                "eks.amazonaws.com",
                r#"["sts:TagSession","sts:AssumeRole"]"#
            ),
            &desired
        ));
        // Another service, or no AssumeRole, is a change.
        assert!(!trust_satisfied(
            &trust("ec2.amazonaws.com", r#""sts:AssumeRole""#),
            &desired
        ));
        assert!(!trust_satisfied(
            &trust("eks.amazonaws.com", r#""sts:TagSession""#),
            &desired
        ));
    }

    #[test]
    fn pod_identitys_service_needs_tag_session() {
        let desired = Value::string(service_trust_policy("pods.eks.amazonaws.com"));
        assert!(!trust_satisfied(
            &trust("pods.eks.amazonaws.com", r#""sts:AssumeRole""#),
            &desired
        ));
    }
}
