//! A stack's outputs (docs/spec.md), read from the live resources that carry its
//! mark, and the cross-stack references (`{ fromStack, output }`) that read
//! another stack's outputs at plan time.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::cloud::{Cloud, CloudError, Regions, Scope};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::kinds::{EksCluster, HostedZone, OidcProvider, SecurityGroup, Vpc};
use crate::lower::{Network, normalize_cidr};
use crate::model::{Address, LiveResource, Value};
use crate::observe;
use crate::plan::{Action, Plan};
use crate::retry::RetryPolicy;
use crate::spec::{Located, StackReference};

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    pub public_subnet_ids: Vec<String>,
    pub private_subnet_ids: Vec<String>,
    #[serde(rename = "natPublicIPs")]
    pub nat_public_ips: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_security_group_id: Option<String>,
    /// The cluster's ARN (kubeconfig names its cluster and user entries by it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// The cluster's certificate authority, base64 as EKS gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_authority_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc_issuer: Option<String>,
    #[serde(rename = "oidcProviderARN", skip_serializing_if = "Option::is_none")]
    pub oidc_provider_arn: Option<String>,
    /// `namespace/name` -> the ARN of that service account's role.
    #[serde(
        rename = "serviceAccountRoleARNs",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub service_account_role_arns: BTreeMap<String, String>,
    /// `namespace/name` -> the role of that service account's Pod Identity
    /// association (made by eksform or brought with `roleARN`).
    #[serde(
        rename = "podIdentityRoleARNs",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub pod_identity_role_arns: BTreeMap<String, String>,
    /// Load balancer name -> its DNS name.
    #[serde(
        rename = "loadBalancerDNSNames",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub load_balancer_dns_names: BTreeMap<String, String>,
    /// `<load balancer>/<target group>` -> the target group's ARN.
    #[serde(rename = "targetGroupARNs", skip_serializing_if = "BTreeMap::is_empty")]
    pub target_group_arns: BTreeMap<String, String>,
    /// A group of `securityGroups` by name -> its id.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub security_group_ids: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosted_zone_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub name_servers: Vec<String>,
    /// ECR repository name -> its URI (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`).
    #[serde(rename = "registryURIs", skip_serializing_if = "BTreeMap::is_empty")]
    pub registry_uris: BTreeMap<String, String>,
    /// EFS file system name (`storage.efs`) -> its id (`fs-...`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub efs_file_system_ids: BTreeMap<String, String>,
    /// `<file system>/<access point>` -> the access point's id (`fsap-...`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub efs_access_point_ids: BTreeMap<String, String>,
    /// Subnet id -> its zone: what a reference's `key` picks one subnet of
    /// `publicSubnetIds` / `privateSubnetIds` by. Not an output itself.
    #[serde(skip)]
    pub subnet_zones: BTreeMap<String, String>,
}

impl Outputs {
    /// The outputs of a stack's observed resources. `network` is the stack's own
    /// network model when known: a brought VPC carries no mark of the stack, so
    /// its ids come from the spec.
    pub fn from_observed(observed: &[LiveResource], network: Option<&Network>) -> Self {
        let find =
            |address: &crate::model::Address| observed.iter().find(|r| &r.address == address);
        let attribute = |address: &crate::model::Address, name: &str| {
            find(address)
                .and_then(|r| r.attributes.get(name))
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        // Observation is sorted by address, so subnets and NAT gateways come in
        // zone order.
        let with_prefix = |prefix: &'static str| {
            observed
                .iter()
                .filter(move |r| r.address.as_str().starts_with(prefix))
        };
        let mut outputs = Outputs {
            vpc_id: find(&Vpc::address()).map(|r| r.id.clone()),
            public_subnet_ids: with_prefix("subnet.public.")
                .map(|r| r.id.clone())
                .collect(),
            private_subnet_ids: with_prefix("subnet.private.")
                .map(|r| r.id.clone())
                .collect(),
            nat_public_ips: with_prefix("nat_gateway.")
                .filter_map(|r| r.attributes.get("public_ip")?.as_str())
                .filter(|ip| !ip.is_empty())
                .map(str::to_string)
                .collect(),
            cluster_name: attribute(&EksCluster::address(), "name"),
            cluster_endpoint: attribute(&EksCluster::address(), "endpoint"),
            cluster_security_group_id: attribute(&EksCluster::address(), "security_group_id"),
            cluster_arn: attribute(&EksCluster::address(), "arn"),
            certificate_authority_data: attribute(
                &EksCluster::address(),
                "certificate_authority_data",
            ),
            oidc_issuer: attribute(&EksCluster::address(), "oidc_issuer"),
            oidc_provider_arn: attribute(&OidcProvider::address(), "arn"),
            service_account_role_arns: with_prefix("iam_role.irsa.")
                .filter_map(|r| {
                    let tags = r.attributes.get("tags")?.as_map()?;
                    let account = tags.get("eksform:service-account")?.as_str()?;
                    Some((
                        account.to_string(),
                        r.attributes.get("arn")?.as_str()?.to_string(),
                    ))
                })
                .collect(),
            pod_identity_role_arns: with_prefix("pod_identity_association.")
                .filter_map(|r| {
                    let text = |name: &str| r.attributes.get(name)?.as_str();
                    Some((
                        format!("{}/{}", text("namespace")?, text("service_account")?),
                        text("role_arn")?.to_string(),
                    ))
                })
                .collect(),
            load_balancer_dns_names: with_prefix("load_balancer.")
                .filter_map(|r| {
                    let name = r.address.as_str().strip_prefix("load_balancer.")?;
                    Some((
                        name.to_string(),
                        r.attributes.get("dns_name")?.as_str()?.to_string(),
                    ))
                })
                .collect(),
            target_group_arns: with_prefix("target_group.")
                .filter_map(|r| {
                    let key = r
                        .address
                        .as_str()
                        .strip_prefix("target_group.")?
                        .replacen('.', "/", 1);
                    Some((key, r.attributes.get("arn")?.as_str()?.to_string()))
                })
                .collect(),
            security_group_ids: with_prefix("security_group.custom.")
                .filter_map(|r| {
                    let name = SecurityGroup::declared_name(&r.address)?;
                    Some((name.to_string(), r.id.clone()))
                })
                .collect(),
            hosted_zone_id: find(&HostedZone::address()).map(|r| r.id.clone()),
            name_servers: find(&HostedZone::address())
                .map(|r| crate::model::string_list(&r.attributes, "name_servers"))
                .unwrap_or_default(),
            registry_uris: with_prefix("ecr_repository.")
                .filter_map(|r| {
                    Some((
                        r.attributes.get("name")?.as_str()?.to_string(),
                        r.attributes.get("uri")?.as_str()?.to_string(),
                    ))
                })
                .collect(),
            efs_file_system_ids: with_prefix("efs_file_system.")
                .filter_map(|r| {
                    let name = r.address.as_str().strip_prefix("efs_file_system.")?;
                    Some((name.to_string(), r.id.clone()))
                })
                .collect(),
            efs_access_point_ids: with_prefix("efs_access_point.")
                .filter_map(|r| {
                    let key = r
                        .address
                        .as_str()
                        .strip_prefix("efs_access_point.")?
                        .replacen('.', "/", 1);
                    Some((key, r.id.clone()))
                })
                .collect(),
            subnet_zones: with_prefix("subnet.")
                .filter_map(|r| {
                    let zone = r.address.as_str().splitn(3, '.').nth(2)?;
                    Some((r.id.clone(), zone.to_string()))
                })
                .collect(),
        };
        if let Some(Network::Brought(network)) = network {
            outputs.vpc_id = Some(network.vpc_id.clone());
            for (tier, zone, id) in &network.subnets {
                outputs.subnet_zones.insert(id.clone(), zone.clone());
                match tier.as_str() {
                    "public" => outputs.public_subnet_ids.push(id.clone()),
                    _ => outputs.private_subnet_ids.push(id.clone()),
                }
            }
        }
        outputs
    }

    /// The outputs a plan changes: those read from a resource it creates,
    /// replaces, deletes or releases (see `sources`), or updates in the
    /// attribute the output reads (`updated_in_place`).
    pub fn changed_by(plan: &Plan) -> BTreeSet<String> {
        OUTPUT_NAMES
            .iter()
            .filter(|output| {
                plan.resources.iter().any(|change| {
                    let changes_it = match change.action {
                        Action::Create | Action::Replace | Action::Delete | Action::Release => true,
                        // The id an adopted resource's outputs give stays.
                        Action::Adopt => false,
                        Action::Update => updated_in_place(output)
                            .is_some_and(|read| change.changes.iter().any(|c| c.name == read)),
                        Action::NoOp => false,
                    };
                    changes_it
                        && sources(output)
                            .iter()
                            .any(|source| is_at_or_under(&change.address, source))
                })
            })
            .map(|output| output.to_string())
            .collect()
    }

    pub fn as_map(&self) -> BTreeMap<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map.into_iter().collect(),
            _ => BTreeMap::new(),
        }
    }

    /// An output as a list of strings: a list output as it is, a string output
    /// as one item; `None` when the stack does not have it.
    pub fn values(&self, name: &str) -> Option<Vec<String>> {
        match self.as_map().remove(name)? {
            serde_json::Value::String(s) => Some(vec![s]),
            serde_json::Value::Array(items) => Some(
                items
                    .into_iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
            )
            .filter(|v: &Vec<String>| !v.is_empty()),
            _ => None,
        }
    }
}

/// How a reference's `key` applies to an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// A map output: the key names the entry (required).
    Entry,
    /// A list of subnets: the key, when given, names the zone.
    Zone,
    /// An output without keys.
    None,
}

/// Whether `name` is an output, and how a key applies to it.
pub fn key_use(name: &str) -> Option<KeyUse> {
    if !OUTPUT_NAMES.contains(&name) {
        return None;
    }
    Some(match name {
        "serviceAccountRoleARNs"
        | "podIdentityRoleARNs"
        | "loadBalancerDNSNames"
        | "targetGroupARNs"
        | "securityGroupIds"
        | "registryURIs" => KeyUse::Entry,
        "publicSubnetIds" | "privateSubnetIds" => KeyUse::Zone,
        _ => KeyUse::None,
    })
}

/// Why an output's value could not be read with a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// The stack has no such output (or it is empty in the live account).
    Empty,
    /// The output has no entry under the key; the keys it has.
    NoKey(Vec<String>),
}

impl Outputs {
    /// An output's values, one entry of a map output (`key`), or a zone's
    /// subnets of a subnet list (`key`).
    pub fn lookup(&self, name: &str, key: Option<&str>) -> Result<Vec<String>, LookupError> {
        match (key_use(name), key) {
            (Some(KeyUse::Entry), Some(key)) => {
                let Some(serde_json::Value::Object(map)) = self.as_map().remove(name) else {
                    return Err(LookupError::Empty);
                };
                match map.get(key).and_then(|v| v.as_str()) {
                    Some(value) => Ok(vec![value.to_string()]),
                    None => Err(LookupError::NoKey(map.keys().cloned().collect())),
                }
            }
            (Some(KeyUse::Zone), Some(zone)) => {
                let ids = self.values(name).ok_or(LookupError::Empty)?;
                let in_zone: Vec<String> = ids
                    .iter()
                    .filter(|id| self.subnet_zones.get(*id).map(String::as_str) == Some(zone))
                    .cloned()
                    .collect();
                if in_zone.is_empty() {
                    let mut zones: Vec<String> = ids
                        .iter()
                        .filter_map(|id| self.subnet_zones.get(id).cloned())
                        .collect();
                    zones.sort();
                    zones.dedup();
                    return Err(LookupError::NoKey(zones));
                }
                Ok(in_zone)
            }
            _ => self.values(name).ok_or(LookupError::Empty),
        }
    }
}

/// Every output's name, as specs and `eksform outputs` spell it.
pub const OUTPUT_NAMES: &[&str] = &[
    "vpcId",
    "publicSubnetIds",
    "privateSubnetIds",
    "natPublicIPs",
    "clusterName",
    "clusterEndpoint",
    "clusterSecurityGroupId",
    "clusterArn",
    "certificateAuthorityData",
    "oidcIssuer",
    "oidcProviderARN",
    "serviceAccountRoleARNs",
    "podIdentityRoleARNs",
    "loadBalancerDNSNames",
    "targetGroupARNs",
    "securityGroupIds",
    "hostedZoneId",
    "nameServers",
    "registryURIs",
    "efsFileSystemIds",
    "efsAccessPointIds",
];

/// The addresses (or address prefixes) an output is read from in
/// `Outputs::from_observed`.
fn sources(output: &str) -> Vec<Address> {
    let prefix = |parts: &[&str]| vec![Address::new(parts)];
    match output {
        "vpcId" => vec![Vpc::address()],
        "publicSubnetIds" => prefix(&["subnet", "public"]),
        "privateSubnetIds" => prefix(&["subnet", "private"]),
        // A new Elastic IP is a new address, whichever gateway holds it.
        "natPublicIPs" => vec![
            Address::new(&["nat_gateway"]),
            Address::new(&["elastic_ip"]),
        ],
        "clusterName"
        | "clusterEndpoint"
        | "clusterSecurityGroupId"
        | "clusterArn"
        | "certificateAuthorityData"
        | "oidcIssuer" => vec![EksCluster::address()],
        "oidcProviderARN" => vec![OidcProvider::address()],
        "serviceAccountRoleARNs" => prefix(&["iam_role", "irsa"]),
        "podIdentityRoleARNs" => prefix(&["pod_identity_association"]),
        "loadBalancerDNSNames" => prefix(&["load_balancer"]),
        "targetGroupARNs" => prefix(&["target_group"]),
        "securityGroupIds" => prefix(&["security_group", "custom"]),
        "hostedZoneId" | "nameServers" => vec![HostedZone::address()],
        "registryURIs" => prefix(&["ecr_repository"]),
        "efsFileSystemIds" => prefix(&["efs_file_system"]),
        "efsAccessPointIds" => prefix(&["efs_access_point"]),
        _ => vec![],
    }
}

/// The attribute an output reads that AWS changes in place, if any: the
/// other outputs are ids, ARNs and names, which only a replacement changes.
fn updated_in_place(output: &str) -> Option<&'static str> {
    match output {
        "podIdentityRoleARNs" => Some("role_arn"),
        _ => None,
    }
}

/// Whether `address` is `source` or lies under it (`subnet.public.a` under `subnet.public`).
fn is_at_or_under(address: &Address, source: &Address) -> bool {
    address.as_str() == source.as_str()
        || address
            .as_str()
            .strip_prefix(source.as_str())
            .is_some_and(|rest| rest.starts_with('.'))
}

/// The outputs of another stack, found by its mark alone (no spec needed);
/// `None` when nothing in the account carries that stack's mark.
pub async fn of_stack(
    cloud: Arc<dyn Cloud>,
    stack: &str,
    region: &str,
    retry: RetryPolicy,
) -> Result<Option<Outputs>, CloudError> {
    let scope = Scope {
        stack: stack.into(),
        region: region.into(),
        ..Scope::default()
    };
    let observed = observe::observe(cloud, &scope, retry).await?;
    Ok((!observed.is_empty()).then(|| Outputs::from_observed(&observed, None)))
}

/// What resolving references found: the CIDRs each reference stands for, or
/// the diagnostics of those that could not be resolved.
#[derive(Debug)]
pub enum ReferenceError {
    Unresolved(Diagnostics),
    Cloud(CloudError),
}

/// What a run knows of a stack it has already planned: the outputs of its
/// live resources (`None` when nothing of it is live yet), and the outputs
/// its plan changes, which are known only after that plan is applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnownStack {
    pub live: Option<Outputs>,
    pub after_apply: BTreeSet<String>,
}

impl KnownStack {
    /// A stack as observed, with nothing of it about to change.
    pub fn live(outputs: Option<Outputs>) -> Self {
        Self {
            live: outputs,
            after_apply: BTreeSet::new(),
        }
    }

    /// A stack planned in this run: what is live now, and what its plan changes.
    pub fn planned(observed: &[LiveResource], network: Option<&Network>, plan: &Plan) -> Self {
        Self {
            live: (!observed.is_empty()).then(|| Outputs::from_observed(observed, network)),
            after_apply: Outputs::changed_by(plan),
        }
    }
}

/// Stacks already observed or planned in this run, by (stack, region): the
/// stacks of one `plan` command share their observation with the stacks that
/// refer to them.
pub type KnownOutputs = BTreeMap<(String, String), KnownStack>;

/// What `resolve_cidrs` found: the CIDRs the references stand for now, and
/// the references whose values only another stack's apply will tell.
#[derive(Debug, Default)]
pub struct ResolvedCidrs {
    pub cidrs: Vec<String>,
    /// (stack, output) of each reference known only after apply.
    pub after_apply: Vec<(String, String)>,
}

/// Resolves `fromStack` references into the CIDRs they stand for (a bare IP is
/// a /32). Each other stack is observed once, in its own region, unless this
/// run knows it already; an output that a stack planned in this run changes
/// is known only after apply.
pub async fn resolve_cidrs(
    references: &[Located<StackReference>],
    field: &str,
    home_region: &str,
    regions: &dyn Regions,
    known: &KnownOutputs,
    file: &SourceFile,
    retry: RetryPolicy,
) -> Result<ResolvedCidrs, ReferenceError> {
    let mut seen = known.clone();
    let mut resolved = ResolvedCidrs::default();
    let mut problems = Diagnostics::new();
    for reference in references {
        let region = reference
            .region
            .clone()
            .unwrap_or_else(|| home_region.into());
        // A stack of another account (`roleARN`) is never one this run planned.
        let key = match &reference.role_arn {
            Some(role) => (
                format!("{} as {role}", reference.from_stack),
                region.clone(),
            ),
            None => (reference.from_stack.clone(), region.clone()),
        };
        if !seen.contains_key(&key) {
            let cloud = crate::stack_references::connection_for(regions, reference, home_region)
                .await
                .map_err(ReferenceError::Cloud)?;
            let outputs = of_stack(cloud, &reference.from_stack, &region, retry)
                .await
                .map_err(ReferenceError::Cloud)?;
            seen.insert(key.clone(), KnownStack::live(outputs));
        }
        let problem = |message: String, help: &str| {
            Diagnostic::error(format!("{field}: {message}"))
                .at(file, reference.span)
                .with_help(help)
        };
        let stack = &seen[&key];
        if stack.after_apply.contains(&reference.output) {
            resolved
                .after_apply
                .push((reference.from_stack.clone(), reference.output.clone()));
            continue;
        }
        match &stack.live {
            None => problems.push(problem(
                format!(
                    "stack `{}` (output `{}`) has no live resources in region {region} of this account",
                    reference.from_stack, reference.output
                ),
                "apply that stack first (or plan both together: `eksform plan DIR`), or check `fromStack` and `region`",
            )),
            Some(outputs) => match outputs.lookup(&reference.output, reference.key.as_deref()).ok() {
                None => problems.push(problem(
                    format!(
                        "stack `{}` has no output `{}` (it is empty in the live account)",
                        reference.from_stack, reference.output
                    ),
                    "for natPublicIPs, the other stack needs a NAT gateway",
                )),
                Some(values) => resolved
                    .cidrs
                    .extend(values.iter().map(|v| normalize_cidr(v))),
            },
        }
    }
    if problems.has_errors() {
        return Err(ReferenceError::Unresolved(problems));
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ResourceChange;

    #[test]
    fn every_output_is_listed_with_the_resources_it_is_read_from() {
        // A struct literal without `..`: a new output does not compile here
        // until it is given a value, and then fails until it is listed.
        let one = || vec!["x".to_string()];
        let map = || BTreeMap::from([("k".to_string(), "v".to_string())]);
        let outputs = Outputs {
            vpc_id: Some("x".into()),
            public_subnet_ids: one(),
            private_subnet_ids: one(),
            nat_public_ips: one(),
            cluster_name: Some("x".into()),
            cluster_endpoint: Some("x".into()),
            cluster_security_group_id: Some("x".into()),
            cluster_arn: Some("x".into()),
            certificate_authority_data: Some("x".into()),
            oidc_issuer: Some("x".into()),
            oidc_provider_arn: Some("x".into()),
            service_account_role_arns: map(),
            pod_identity_role_arns: map(),
            load_balancer_dns_names: map(),
            target_group_arns: map(),
            security_group_ids: map(),
            hosted_zone_id: Some("x".into()),
            name_servers: one(),
            registry_uris: map(),
            efs_file_system_ids: map(),
            efs_access_point_ids: map(),
            subnet_zones: map(),
        };
        let names: BTreeSet<String> = outputs.as_map().into_keys().collect();
        let listed: BTreeSet<String> = OUTPUT_NAMES.iter().map(|n| n.to_string()).collect();
        assert_eq!(names, listed);
        for name in OUTPUT_NAMES {
            assert!(!sources(name).is_empty(), "{name} is read from nothing");
        }
    }

    fn plan_of(changes: &[(&str, Action)]) -> Plan {
        Plan {
            format_version: crate::plan::PLAN_FORMAT_VERSION,
            eksform_version: "test".into(),
            stack: "dev".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            fingerprint: String::new(),
            resources: changes
                .iter()
                .map(|(address, action)| ResourceChange {
                    address: crate::model::Address(address.to_string()),
                    kind: address.split('.').next().unwrap_or_default().into(),
                    action: *action,
                    reason: None,
                    warnings: vec![],
                    notes: vec![],
                    changes: vec![],
                    desired: None,
                    live: None,
                })
                .collect(),
        }
    }

    #[test]
    fn a_plan_changes_the_outputs_of_what_it_makes_replaces_deletes_adopts_releases_or_moves_in_place()
     {
        let plan = plan_of(&[
            ("elastic_ip.nat.us-east-1a", Action::Create),
            ("eks_cluster.main", Action::Update),
            ("subnet.publicity.a", Action::Create),
            ("load_balancer.web", Action::NoOp),
        ]);
        assert_eq!(
            Outputs::changed_by(&plan),
            BTreeSet::from(["natPublicIPs".to_string()])
        );
        // An association moved to another role in place: its output changes;
        // a change of its tags alone does not.
        let mut moved = plan_of(&[("pod_identity_association.kube-system.app", Action::Update)]);
        assert!(Outputs::changed_by(&moved).is_empty());
        moved.resources[0]
            .changes
            .push(crate::plan::AttributeChange {
                name: "role_arn".into(),
                before: Some(crate::model::Value::string(
                    "arn:aws:iam::123456789012:role/a",
                )),
                after: Some(crate::model::Value::string(
                    "arn:aws:iam::123456789012:role/b",
                )),
                forces_replacement: false,
                notes: vec![],
            });
        assert_eq!(
            Outputs::changed_by(&moved),
            BTreeSet::from(["podIdentityRoleARNs".to_string()])
        );
        let released = plan_of(&[("target_group.web.blue", Action::Release)]);
        assert_eq!(
            Outputs::changed_by(&released),
            BTreeSet::from(["targetGroupARNs".to_string()])
        );
        let replaced = plan_of(&[("eks_cluster.main", Action::Replace)]);
        assert_eq!(
            Outputs::changed_by(&replaced),
            [
                "certificateAuthorityData",
                "clusterArn",
                "clusterEndpoint",
                "clusterName",
                "clusterSecurityGroupId",
                "oidcIssuer"
            ]
            .map(String::from)
            .into()
        );
    }
}
