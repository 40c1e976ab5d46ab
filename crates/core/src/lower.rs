//! Lowering: a validated spec becomes the stack model (defaults applied, the
//! VPC CIDR split into subnets), and each kind turns the model into desired
//! resources. Pure.

mod registries;

use std::collections::BTreeMap;

use ipnet::Ipv4Net;

use crate::kinds::{self, node_group};
use crate::model::{Address, DesiredResource, LiveResource, Value};
use crate::spec::{self, NatMode, Spec};

pub use registries::{RegistryModel, lifecycle_policy};
mod security_groups;
pub use security_groups::{GroupName, Peer, RuleModel, SecurityGroupModel, looks_like_cidr};
mod storage;
pub use storage::{AccessPointModel, EfsModel};

/// A stack with its defaults applied: what the kinds lower from.
#[derive(Debug, Clone)]
pub struct StackModel {
    pub stack: String,
    pub region: String,
    pub account: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub network: Option<Network>,
    /// The cluster's name when the stack has one (subnets are tagged for it).
    pub cluster_name: Option<String>,
    pub cluster: Option<ClusterModel>,
    pub load_balancers: Vec<LoadBalancerModel>,
    /// `securityGroups`.
    pub security_groups: Vec<SecurityGroupModel>,
    pub dns: Option<DnsModel>,
    /// ECR repositories (`registries`).
    pub registries: Vec<RegistryModel>,
    /// EFS file systems (`storage.efs`).
    pub efs: Vec<EfsModel>,
    /// `adopt:` entries: the id of the live resource to take over, by address.
    pub adopt: BTreeMap<Address, String>,
    /// Every `fromStack` reference of the spec (`spec::references`): the
    /// stacks this one is planned after and that refuse to go before it.
    pub references: Vec<spec::Located<spec::StackReference>>,
}

/// An ALB of `loadBalancers`, with defaults applied.
#[derive(Debug, Clone)]
pub struct LoadBalancerModel {
    pub name: String,
    pub internet_facing: bool,
    pub idle_timeout_seconds: u32,
    /// Normalised CIDRs the security group admits on 80 and 443.
    pub ingress_cidrs: Vec<String>,
    pub certificate: Option<CertificateSource>,
    pub https_redirect: bool,
    pub target_groups: Vec<TargetGroupModel>,
    pub default_target_group: Option<String>,
}

#[derive(Debug, Clone)]
pub enum CertificateSource {
    /// Requested in ACM, validated by DNS.
    Request(String),
    Existing(String),
}

#[derive(Debug, Clone)]
pub struct TargetGroupModel {
    pub name: String,
    pub source: TargetGroupSource,
    /// Its share of the listeners' requests when the load balancer splits
    /// them by weight (`None`: not forwarded to by weight).
    pub weight: Option<u16>,
}

/// Who makes a target group.
#[derive(Debug, Clone)]
pub enum TargetGroupSource {
    /// This stack.
    Made {
        port: u16,
        /// `ip` or `instance` (AWS's default).
        target_type: String,
        health_check_path: String,
    },
    /// Someone else (another stack, other tools): given by ARN, forwarded
    /// to and never changed.
    Brought { arn: String },
}

/// `dns`: the hosted zone (a name without the trailing dot) and its records.
#[derive(Debug, Clone)]
pub struct DnsModel {
    pub zone: String,
    pub records: Vec<RecordModel>,
}

#[derive(Debug, Clone)]
pub struct RecordModel {
    /// Lower case, without the trailing dot.
    pub name: String,
    pub record_type: String,
    pub ttl: u32,
    pub values: Vec<String>,
    /// The load balancer an alias record points at.
    pub alias: Option<String>,
    /// Weighted or failover routing (`None`: a simple record).
    pub routing: Option<RecordRouting>,
}

/// How Route53 picks among the records of one name and type.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRouting {
    pub set_identifier: String,
    pub weight: Option<u16>,
    /// `PRIMARY` or `SECONDARY`.
    pub failover: Option<String>,
    pub health_check_id: Option<String>,
}

/// The EKS control plane with its defaults applied.
#[derive(Debug, Clone)]
pub struct ClusterModel {
    pub name: String,
    /// None: AWS's default version at creation, then whatever the cluster runs.
    pub version: Option<String>,
    pub endpoint_public_access: bool,
    pub endpoint_private_access: bool,
    /// Normalised: a bare IP becomes /32; sorted, without duplicates.
    pub public_access_cidrs: Vec<String>,
    /// `fromStack` entries of `publicAccessCIDRs`, added to `public_access_cidrs`
    /// at plan time (`ops::resolve_references`).
    pub public_access_references: Vec<spec::Located<spec::StackReference>>,
    /// (stack, output) of the references whose values only that stack's
    /// apply will tell: it is planned in the same run and changes them.
    pub public_access_after_apply: Vec<(String, String)>,
    /// Control-plane log types; `*` expanded.
    pub log_types: Vec<String>,
    pub log_retention_in_days: Option<u32>,
    /// The cluster's IAM OIDC provider.
    pub with_oidc: bool,
    pub node_groups: Vec<NodeGroupModel>,
    pub fargate_profiles: Vec<FargateProfileModel>,
    pub service_accounts: Vec<ServiceAccountModel>,
    /// EKS Pod Identity associations (`iam.podIdentityAssociations`).
    pub pod_identities: Vec<PodIdentityModel>,
    pub access_entries: Vec<AccessEntryModel>,
    pub addons: Vec<AddonModel>,
    /// `controlPlaneSubnets: PublicAndPrivate`: the public subnets too.
    pub control_plane_in_public_subnets: bool,
    /// `secretsEncryption.keyARN`. None: no opinion (EKS cannot turn it off).
    pub secrets_key_arn: Option<String>,
    /// `upgradePolicy.supportType` (STANDARD/EXTENDED). None: no opinion.
    pub support_type: Option<String>,
    /// `zonalShift.enabled`. None: no opinion.
    pub zonal_shift: Option<bool>,
}

/// An EKS add-on.
#[derive(Debug, Clone)]
pub struct AddonModel {
    pub name: String,
    /// `latest` (resolved for the cluster's version when created) or exact.
    pub version: String,
    /// `namespace/name` of the service account whose IRSA role it uses.
    pub service_account: Option<String>,
    /// `configurationValues` as the canonical JSON string AWS takes.
    pub configuration_values: Option<String>,
}

/// A cluster access entry and the access policies associated with it.
#[derive(Debug, Clone)]
pub struct AccessEntryModel {
    pub principal_arn: String,
    /// policy ARN -> (scope type `cluster` or `namespace`, namespaces)
    pub policies: BTreeMap<String, (String, Vec<String>)>,
}

/// An EKS Pod Identity association and, unless `role_arn` brings one, the
/// role eksform makes for it.
#[derive(Debug, Clone)]
pub struct PodIdentityModel {
    pub namespace: String,
    pub service_account: String,
    /// A role of the user's: eksform makes none.
    pub role_arn: Option<String>,
    /// The made role's name, when the spec gives one.
    pub role_name: Option<String>,
    pub managed_policy_arns: Vec<String>,
    pub inline_policies: BTreeMap<String, String>,
    /// The association's and the made role's own tags.
    pub tags: BTreeMap<String, String>,
}

/// An IAM role for one Kubernetes service account (IRSA).
#[derive(Debug, Clone)]
pub struct ServiceAccountModel {
    pub namespace: String,
    pub name: String,
    /// Managed policies: the well-known ones AWS publishes, then attachPolicyARNs.
    pub managed_policy_arns: Vec<String>,
    /// Inline policies by name: well-known ones AWS publishes no managed policy
    /// for, and `attachPolicy`.
    pub inline_policies: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct FargateProfileModel {
    pub name: String,
    /// (namespace, labels) per selector.
    pub selectors: Vec<(String, BTreeMap<String, String>)>,
}

/// A managed node group with its defaults applied (eksctl's where it has them).
#[derive(Debug, Clone)]
pub struct NodeGroupModel {
    pub name: String,
    pub spot: bool,
    pub instance_types: Vec<String>,
    pub min_size: u32,
    pub max_size: u32,
    /// Used at creation; afterwards the autoscaler owns it within [min, max].
    pub desired_size: u32,
    pub volume_size: u32,
    /// Private subnets (true) or public ones.
    pub private_networking: bool,
    pub labels: BTreeMap<String, String>,
    /// (key, value, effect) with AWS's effect names (NO_SCHEDULE, ...).
    pub taints: Vec<(String, String, String)>,
    pub max_unavailable: Option<u32>,
    pub max_unavailable_percentage: Option<u32>,
    pub tags: BTreeMap<String, String>,
    /// EKS's `amiType` from `amiFamily` and the instance types' architecture
    /// (x86 when it cannot be told). None: EKS's default.
    pub ami_type: Option<String>,
}

/// A workload role's policies, the same for IRSA (`iam.serviceAccounts`:
/// `wellKnownPolicies`, `attachPolicyARNs`, `attachPolicy`) and Pod Identity
/// (`wellKnownPolicies`, `permissionPolicyARNs`, `permissionPolicy`): the
/// managed policy ARNs, sorted, and the inline documents by name.
pub fn workload_policies(
    region: &str,
    well_known: Option<&spec::WellKnownPolicies>,
    policy_arns: impl IntoIterator<Item = String>,
    inline_document: Option<&serde_json::Value>,
) -> (Vec<String>, BTreeMap<String, String>) {
    let partition = partition(region);
    let mut managed = Vec::new();
    let mut inline = BTreeMap::new();
    if let Some(known) = well_known {
        for (wanted, policy) in crate::kinds::well_known_policies(known) {
            if !wanted {
                continue;
            }
            match policy {
                crate::kinds::WellKnown::Managed(path) => {
                    managed.push(format!("arn:{partition}:iam::aws:policy/{path}"))
                }
                crate::kinds::WellKnown::Inline(name, document) => {
                    inline.insert(name.to_string(), document.to_string());
                }
            }
        }
    }
    managed.extend(policy_arns);
    if let Some(document) = inline_document {
        inline.insert(
            "eksform-inline".into(),
            crate::model::sorted_json(document.clone()).to_string(),
        );
    }
    managed.sort();
    managed.dedup();
    (managed, inline)
}

fn service_accounts(spec: &Spec) -> Vec<ServiceAccountModel> {
    let Some(iam) = &spec.iam else {
        return Vec::new();
    };
    iam.service_accounts
        .iter()
        .map(|account| {
            let (managed, inline) = workload_policies(
                &spec.region,
                account.well_known_policies.as_ref(),
                // A reference not resolved yet (before plan time) names no policy.
                account
                    .attach_policy_arns
                    .iter()
                    .filter_map(|a| a.literal())
                    .map(str::to_string),
                account.attach_policy.as_ref(),
            );
            ServiceAccountModel {
                namespace: account.metadata.namespace.value.clone(),
                name: account.metadata.name.value.clone(),
                managed_policy_arns: managed,
                inline_policies: inline,
            }
        })
        .collect()
}

/// The add-ons, with the EKS Pod Identity agent (`latest`) when the spec has
/// associations and does not list the agent: associations give pods no
/// credentials without it.
fn with_pod_identity_agent(spec: &Spec, mut addons: Vec<AddonModel>) -> Vec<AddonModel> {
    let associations = spec
        .iam
        .as_ref()
        .is_some_and(|iam| !iam.pod_identity_associations.is_empty());
    if associations
        && !addons
            .iter()
            .any(|a| a.name == kinds::pod_identity_association::AGENT_ADDON)
    {
        addons.push(AddonModel {
            name: kinds::pod_identity_association::AGENT_ADDON.into(),
            version: kinds::addon::LATEST.into(),
            service_account: None,
            configuration_values: None,
        });
    }
    addons
}

fn pod_identities(spec: &Spec) -> Vec<PodIdentityModel> {
    let Some(iam) = &spec.iam else {
        return Vec::new();
    };
    iam.pod_identity_associations
        .iter()
        .map(|association| {
            let (managed, inline) = workload_policies(
                &spec.region,
                association.well_known_policies.as_ref(),
                association
                    .permission_policy_arns
                    .iter()
                    .map(|a| a.value.clone()),
                association.permission_policy.as_ref(),
            );
            PodIdentityModel {
                namespace: association.namespace.value.clone(),
                service_account: association.service_account_name.value.clone(),
                role_arn: association.role_arn.as_ref().map(|a| a.value.clone()),
                role_name: association.role_name.as_ref().map(|n| n.value.clone()),
                managed_policy_arns: managed,
                inline_policies: inline,
                tags: association.tags.clone(),
            }
        })
        .collect()
}

fn node_groups(spec: &Spec) -> Vec<NodeGroupModel> {
    let Some(groups) = &spec.managed_node_groups else {
        return Vec::new();
    };
    groups
        .iter()
        .map(|group| {
            let desired_size = group
                .desired_capacity
                .as_ref()
                .or(group.min_size.as_ref())
                .map_or(2, |d| d.value);
            let min_size = group.min_size.as_ref().map_or(desired_size, |m| m.value);
            let max_size = group
                .max_size
                .as_ref()
                .map_or(desired_size.max(min_size), |m| m.value);
            let mut instance_types: Vec<String> = group
                .instance_types
                .iter()
                .map(|t| t.value.clone())
                .collect();
            if instance_types.is_empty() {
                instance_types.push("m5.large".into());
            }
            let ami_type = group.ami_family.as_ref().map(|family| {
                let architecture = instance_types
                    .iter()
                    .find_map(|t| node_group::architecture_of(t))
                    .unwrap_or(node_group::Architecture::X86);
                node_group::ami_type(family.value, architecture).to_string()
            });
            NodeGroupModel {
                name: group.name.value.clone(),
                spot: group.spot,
                instance_types,
                min_size,
                max_size,
                desired_size,
                volume_size: group.volume_size.as_ref().map_or(20, |v| v.value),
                private_networking: group.private_networking.unwrap_or(true),
                labels: group.labels.clone(),
                taints: group
                    .taints
                    .iter()
                    .map(|located| {
                        let t = &located.value;
                        let effect = match t.effect {
                            spec::TaintEffect::NoSchedule => "NO_SCHEDULE",
                            spec::TaintEffect::PreferNoSchedule => "PREFER_NO_SCHEDULE",
                            spec::TaintEffect::NoExecute => "NO_EXECUTE",
                        };
                        (
                            t.key.clone(),
                            t.value.clone().unwrap_or_default(),
                            effect.to_string(),
                        )
                    })
                    .collect(),
                max_unavailable: group.update_config.as_ref().and_then(|u| u.max_unavailable),
                max_unavailable_percentage: group
                    .update_config
                    .as_ref()
                    .and_then(|u| u.max_unavailable_percentage),
                ami_type,
                tags: group.tags.clone(),
            }
        })
        .collect()
}

/// The AWS partition of a region, for ARNs.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// A CIDR as AWS stores it: a bare address is a /32.
pub fn normalize_cidr(text: &str) -> String {
    match text.parse::<Ipv4Net>() {
        Ok(net) => net.trunc().to_string(),
        Err(_) => format!("{text}/32"),
    }
}

fn cluster_model(spec: &Spec) -> Option<ClusterModel> {
    let cluster = spec.cluster.as_ref()?;
    let endpoints = cluster.endpoints.as_ref();
    let mut public_access_cidrs: Vec<String> = match &cluster.public_access_cidrs {
        Some(cidrs) => cidrs
            .iter()
            .filter_map(|c| match &c.value {
                spec::CidrSource::Literal(text) => Some(normalize_cidr(text)),
                spec::CidrSource::FromStack(_) => None,
            })
            .collect(),
        None => vec!["0.0.0.0/0".into()],
    };
    public_access_cidrs.sort();
    public_access_cidrs.dedup();
    let public_access_references = cluster
        .public_access_cidrs
        .iter()
        .flat_map(|c| c.iter())
        .filter_map(|c| match &c.value {
            spec::CidrSource::FromStack(reference) => {
                Some(spec::Located::new(reference.clone(), c.span))
            }
            spec::CidrSource::Literal(_) => None,
        })
        .collect();
    let logging = cluster.logging.as_ref();
    let mut log_types: Vec<String> = logging
        .map(|l| l.enable_types.iter().map(|t| t.value).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .flat_map(|t| match t {
            spec::LogType::All => vec![
                "api",
                "audit",
                "authenticator",
                "controllerManager",
                "scheduler",
            ],
            spec::LogType::Api => vec!["api"],
            spec::LogType::Audit => vec!["audit"],
            spec::LogType::Authenticator => vec!["authenticator"],
            spec::LogType::ControllerManager => vec!["controllerManager"],
            spec::LogType::Scheduler => vec!["scheduler"],
        })
        .map(str::to_string)
        .collect();
    log_types.sort();
    log_types.dedup();
    let iam = spec.iam.as_ref();
    Some(ClusterModel {
        name: cluster
            .name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_else(|| spec.stack.value.clone()),
        version: cluster.version.as_ref().map(|v| v.value.clone()),
        endpoint_public_access: endpoints.and_then(|e| e.public_access).unwrap_or(true),
        endpoint_private_access: endpoints.and_then(|e| e.private_access).unwrap_or(true),
        public_access_cidrs,
        public_access_references,
        public_access_after_apply: Vec::new(),
        log_types,
        log_retention_in_days: logging
            .and_then(|l| l.log_retention_in_days.as_ref())
            .map(|d| d.value),
        with_oidc: iam
            .is_some_and(|i| i.with_oidc.unwrap_or(false) || !i.service_accounts.is_empty()),
        service_accounts: service_accounts(spec),
        pod_identities: pod_identities(spec),
        control_plane_in_public_subnets: cluster.control_plane_subnets
            == Some(spec::ControlPlaneSubnets::PublicAndPrivate),
        secrets_key_arn: cluster
            .secrets_encryption
            .as_ref()
            .map(|e| e.key_arn.value.clone()),
        support_type: cluster.upgrade_policy.as_ref().map(|u| {
            match u.support_type {
                spec::SupportType::Standard => "STANDARD",
                spec::SupportType::Extended => "EXTENDED",
            }
            .to_string()
        }),
        zonal_shift: cluster.zonal_shift.as_ref().map(|z| z.enabled),
        addons: with_pod_identity_agent(
            spec,
            cluster
                .addons
                .iter()
                .map(|addon| AddonModel {
                    name: addon.name.value.clone(),
                    version: addon
                        .version
                        .as_ref()
                        .map_or_else(|| "latest".to_string(), |v| v.value.clone()),
                    service_account: addon.service_account.as_ref().map(|s| s.value.clone()),
                    configuration_values: addon
                        .configuration_values
                        .as_ref()
                        .map(|values| values.canonical_json()),
                })
                .collect(),
        ),
        access_entries: cluster
            .access_entries
            .iter()
            .map(|entry| AccessEntryModel {
                principal_arn: entry.principal_arn.text().to_string(),
                policies: entry
                    .access_policies
                    .iter()
                    .map(|policy| {
                        let scope = match policy.access_scope.scope_type {
                            spec::AccessScopeType::Cluster => "cluster",
                            spec::AccessScopeType::Namespace => "namespace",
                        };
                        let mut namespaces = policy.access_scope.namespaces.clone();
                        namespaces.sort();
                        (
                            policy.policy_arn.value.clone(),
                            (scope.to_string(), namespaces),
                        )
                    })
                    .collect(),
            })
            .collect(),
        node_groups: node_groups(spec),
        fargate_profiles: spec
            .fargate_profiles
            .iter()
            .flat_map(|profiles| profiles.iter())
            .map(|profile| FargateProfileModel {
                name: profile.name.value.clone(),
                selectors: profile
                    .selectors
                    .iter()
                    .map(|s| (s.namespace.value.clone(), s.labels.clone()))
                    .collect(),
            })
            .collect(),
    })
}

#[derive(Debug, Clone)]
pub enum Network {
    /// eksform creates and owns the VPC.
    Created(CreatedNetwork),
    /// The user's VPC: eksform only tags its subnets.
    Brought(BroughtNetwork),
}

#[derive(Debug, Clone)]
pub struct CreatedNetwork {
    pub cidr: Ipv4Net,
    pub zones: Vec<Zone>,
    pub nat: NatMode,
    /// Allocation ids the user brought for the NAT gateways, in zone order.
    pub elastic_ips: Vec<String>,
    /// Whether the subnets' CIDRs come from the automatic split (not the spec):
    /// then live subnets keep the CIDRs they have (`keep_what_exists`).
    pub automatic: bool,
    /// One private route table for every zone (`vpc.nat.privateRouteTables:
    /// Shared`) instead of one per zone.
    pub shared_private_route_table: bool,
}

#[derive(Debug, Clone)]
pub struct Zone {
    pub name: String,
    pub public: Option<Ipv4Net>,
    pub private: Ipv4Net,
}

impl CreatedNetwork {
    /// The zones that get a NAT gateway: none, the first, or every zone.
    pub fn nat_zones(&self) -> Vec<&Zone> {
        match self.nat {
            NatMode::Disable => vec![],
            NatMode::Single => self
                .zones
                .iter()
                .filter(|z| z.public.is_some())
                .take(1)
                .collect(),
            NatMode::HighlyAvailable => self.zones.iter().filter(|z| z.public.is_some()).collect(),
        }
    }

    /// The zone whose NAT gateway a zone's private subnets route through.
    pub fn nat_zone_for(&self, zone: &str) -> Option<&Zone> {
        let nat_zones = self.nat_zones();
        nat_zones
            .iter()
            .find(|z| z.name == zone)
            .or(nat_zones.first())
            .copied()
    }
}

#[derive(Debug, Clone)]
pub struct BroughtNetwork {
    pub vpc_id: String,
    /// (tier, zone, subnet id), tier is `public` or `private`.
    pub subnets: Vec<(String, String, String)>,
}

/// The stack model of a validated spec.
pub fn model(spec: &Spec) -> StackModel {
    let cluster_name = spec.cluster.as_ref().map(|c| {
        c.name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_else(|| spec.stack.value.clone())
    });
    StackModel {
        stack: spec.stack.value.clone(),
        region: spec.region.value.clone(),
        account: spec.account.as_ref().map(|a| a.value.clone()),
        tags: spec.tags.value.clone(),
        network: spec.vpc.as_ref().and_then(|vpc| network(vpc)),
        cluster_name,
        cluster: cluster_model(spec),
        load_balancers: load_balancers(spec),
        security_groups: security_groups::security_groups(spec),
        dns: spec.dns.as_ref().map(|dns| dns_model(dns)),
        registries: registries::registries(spec),
        efs: storage::efs(spec),
        adopt: spec
            .adopt
            .iter()
            .map(|entry| {
                (
                    Address(entry.address.value.trim().to_string()),
                    entry.id.value.trim().to_string(),
                )
            })
            .collect(),
        references: spec::references::all_references(spec),
    }
}

fn load_balancers(spec: &Spec) -> Vec<LoadBalancerModel> {
    let Some(balancers) = &spec.load_balancers else {
        return vec![];
    };
    balancers
        .iter()
        .map(|lb| {
            let mut ingress_cidrs: Vec<String> = if lb.ingress_cidrs.is_empty() {
                vec!["0.0.0.0/0".into()]
            } else {
                lb.ingress_cidrs.iter().map(|c| normalize_cidr(c)).collect()
            };
            ingress_cidrs.sort();
            ingress_cidrs.dedup();
            let certificate = lb
                .certificate
                .as_ref()
                .and_then(|c| match (&c.domain, &c.arn) {
                    (Some(domain), _) => Some(CertificateSource::Request(
                        domain.trim_end_matches('.').to_ascii_lowercase(),
                    )),
                    (None, Some(arn)) => Some(CertificateSource::Existing(arn.text().to_string())),
                    (None, None) => None,
                });
            LoadBalancerModel {
                name: lb.name.value.clone(),
                internet_facing: lb.scheme != Some(spec::LoadBalancerScheme::Internal),
                idle_timeout_seconds: lb.idle_timeout_seconds.as_ref().map_or(60, |t| t.value),
                ingress_cidrs,
                https_redirect: lb.https_redirect.unwrap_or(false) && certificate.is_some(),
                certificate,
                target_groups: lb
                    .target_groups
                    .iter()
                    .map(|tg| TargetGroupModel {
                        name: tg.name.value.clone(),
                        source: match &tg.arn {
                            Some(arn) => TargetGroupSource::Brought {
                                arn: arn.text().to_string(),
                            },
                            None => TargetGroupSource::Made {
                                port: tg.port.as_ref().map_or(80, |p| p.value),
                                target_type: match tg.target_type {
                                    Some(spec::TargetType::Ip) => "ip".into(),
                                    _ => "instance".into(),
                                },
                                health_check_path: tg
                                    .health_check_path
                                    .as_ref()
                                    .map_or_else(|| "/".into(), |p| p.value.clone()),
                            },
                        },
                        weight: tg.weight.as_ref().map(|w| w.value),
                    })
                    .collect(),
                default_target_group: lb
                    .default_target_group
                    .as_ref()
                    .map(|d| d.value.clone())
                    .or_else(|| lb.target_groups.first().map(|t| t.name.value.clone())),
            }
        })
        .collect()
}

fn dns_model(dns: &spec::Dns) -> DnsModel {
    DnsModel {
        zone: dns.zone.trim_end_matches('.').to_ascii_lowercase(),
        records: dns
            .records
            .iter()
            .map(|r| RecordModel {
                name: r.name.trim_end_matches('.').to_ascii_lowercase(),
                record_type: match r.record_type {
                    Some(t) => format!("{t:?}"),
                    None if r.alias.is_some() => "A".into(),
                    None => "CNAME".into(),
                },
                ttl: r.ttl.unwrap_or(300),
                values: r.values.clone(),
                alias: r.alias.as_ref().map(|a| a.load_balancer.value.clone()),
                routing: r.set_identifier.as_ref().map(|id| RecordRouting {
                    set_identifier: id.value.clone(),
                    weight: r.weight.as_ref().map(|w| w.value),
                    failover: r.failover.as_ref().map(|f| format!("{:?}", f.value)),
                    health_check_id: r.health_check_id.as_ref().map(|h| h.value.clone()),
                }),
            })
            .collect(),
    }
}

/// A name within an AWS length limit: a longer one is cut and ends in a short
/// hash of the whole, so that different long names stay different.
pub fn fit_name(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let hash = short_hash(name);
    let keep = max.saturating_sub(hash.len() + 1);
    format!("{}-{hash}", &name[..keep])
}

/// The part of `prefix` that every name `fit_name(prefix + anything, max)`
/// starts with: what a name cut to fit still tells of its start.
pub fn fitted_prefix(prefix: &str, max: usize) -> &str {
    let keep = max.saturating_sub(short_hash("").len() + 1);
    &prefix[..prefix.len().min(keep)]
}

/// Eight hex digits of the SHA-256 of `text`: stable across runs and machines.
pub fn short_hash(text: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(text.as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// The subnets of a tier as desired values: references to the subnets eksform
/// creates, or the ids of a brought VPC's.
pub fn subnet_values(network: &Network, tier: &str) -> Vec<Value> {
    match network {
        Network::Created(network) => network
            .zones
            .iter()
            .filter(|z| tier == "private" || z.public.is_some())
            .map(|z| Value::reference(&crate::kinds::Subnet::address(tier, &z.name), "id"))
            .collect(),
        Network::Brought(network) => network
            .subnets
            .iter()
            .filter(|(t, _, _)| t == tier)
            .map(|(_, _, id)| Value::string(id.clone()))
            .collect(),
    }
}

/// The VPC id as a desired value.
pub fn vpc_value(network: &Network) -> Value {
    match network {
        Network::Created(_) => Value::reference(&crate::kinds::Vpc::address(), "id"),
        Network::Brought(network) => Value::string(network.vpc_id.clone()),
    }
}

fn network(vpc: &spec::Vpc) -> Option<Network> {
    if let Some(id) = &vpc.id {
        let mut subnets = Vec::new();
        if let Some(given) = &vpc.subnets {
            for (tier, map) in [("public", &given.public), ("private", &given.private)] {
                for (zone, subnet) in map {
                    if let Some(subnet_id) = &subnet.id {
                        subnets.push((
                            tier.to_string(),
                            zone.clone(),
                            subnet_id.text().to_string(),
                        ));
                    }
                }
            }
        }
        return Some(Network::Brought(BroughtNetwork {
            vpc_id: id.text().to_string(),
            subnets,
        }));
    }
    let cidr: Ipv4Net = vpc.cidr.as_ref()?.parse().ok()?;
    let zone_names = spec::availability_zones(vpc);
    let zones = match &vpc.subnets {
        Some(given) => zone_names
            .iter()
            .filter_map(|zone| {
                let parse = |s: Option<&spec::Located<spec::SubnetSpec>>| {
                    s.and_then(|s| s.cidr.as_ref())
                        .and_then(|c| c.parse::<Ipv4Net>().ok())
                };
                Some(Zone {
                    name: zone.clone(),
                    public: parse(given.public.get(zone)),
                    private: parse(given.private.get(zone))?,
                })
            })
            .collect(),
        None => split(cidr, &zone_names),
    };
    Some(Network::Created(CreatedNetwork {
        cidr,
        zones,
        automatic: vpc.subnets.is_none(),
        nat: spec::nat_mode(vpc),
        shared_private_route_table: vpc
            .nat
            .as_ref()
            .and_then(|n| n.private_route_tables.as_ref())
            .is_some_and(|t| t.value == spec::PrivateRouteTables::Shared),
        elastic_ips: vpc
            .nat
            .as_ref()
            .and_then(|n| n.elastic_ips.as_ref())
            .map(|e| e.iter().map(|a| a.value.clone()).collect())
            .unwrap_or_default(),
    }))
}

/// The automatic split of docs/spec.md, with room to grow: max(8, the smallest power of
/// two >= 2N) equal blocks, public subnets in the first half and private ones
/// in the second, zone i at slot i of each half. A /16 with two zones leaves
/// room for two more, whose subnets go to the next slots: adding a zone at the
/// end of the list never moves an existing subnet.
pub fn split(cidr: Ipv4Net, zones: &[String]) -> Vec<Zone> {
    let n = zones.len();
    let blocks = (2 * n).next_power_of_two().max(8);
    let half = blocks / 2;
    let prefix = cidr.prefix_len() + blocks.trailing_zeros() as u8;
    let Ok(parts) = cidr.subnets(prefix) else {
        return Vec::new();
    };
    let parts: Vec<Ipv4Net> = parts.collect();
    zones
        .iter()
        .enumerate()
        .filter_map(|(i, zone)| {
            Some(Zone {
                name: zone.clone(),
                public: Some(*parts.get(i)?),
                private: *parts.get(half + i)?,
            })
        })
        .collect()
}

/// Desired values that depend on what already exists, settled once the live
/// state is known (pure):
/// - subnets of the automatic split keep the CIDRs they live with (a zone
///   removed from the middle of the list, or a layout of an earlier version,
///   never moves them), and a new subnet whose slot overlaps one of them takes
///   the next free block of its half;
/// - a live cluster keeps its control-plane subnets while the spec still has
///   them: AWS cannot add availability zones to a cluster, so a new zone is
///   for node groups, never a reason to replace the control plane.
///
/// A new subnet with no free block left is an error naming it (AWS would
/// refuse the overlap half-way through apply).
pub fn keep_what_exists(
    model: &StackModel,
    desired: &mut [DesiredResource],
    observed: &[LiveResource],
) -> Result<(), (Address, String)> {
    let live_at = |address: &Address| observed.iter().find(|l| &l.address == address);
    if let Some(Network::Created(network)) = &model.network
        && network.automatic
    {
        keep_subnet_cidrs(network, desired, &live_at)?;
    }
    keep_validation_record_addresses(model, desired, observed);
    let cluster = crate::kinds::EksCluster::address();
    let Some(live_cluster) = live_at(&cluster) else {
        return Ok(());
    };
    let live_subnets = crate::model::string_list(&live_cluster.attributes, "subnet_ids");
    // The live subnet ids the spec's subnets stand for, by address.
    let subnet_id = |address: &Address| live_at(address).map(|l| l.id.clone());
    let Some(resource) = desired.iter_mut().find(|d| d.address == cluster) else {
        return Ok(());
    };
    let Some(Value::List(wanted)) = resource.attributes.get("subnet_ids") else {
        return Ok(());
    };
    let kept: Vec<Value> = wanted
        .iter()
        .filter(|value| match value {
            Value::Ref(reference) => {
                subnet_id(&reference.address).is_some_and(|id| live_subnets.contains(&id))
            }
            Value::String(id) => live_subnets.contains(id),
            _ => false,
        })
        .cloned()
        .collect();
    // Only when every live subnet is still wanted: otherwise the change is the
    // user's to see in the plan.
    if kept.len() == live_subnets.len() && kept.len() < wanted.len() {
        resource
            .attributes
            .insert("subnet_ids".into(), Value::List(kept));
    }
    Ok(())
}

/// A certificate validation record stays at the address it lives at. One
/// record serves every load balancer validated for its domain, at the first
/// one's address (`DnsRecord::validation_holder`); when that load balancer
/// leaves the spec, or another comes before it, the record would move to a
/// new address: a create of a name Route 53 already holds (creates run
/// before deletes), then a delete. Instead the desired record takes the
/// address of the live one of its domain that nothing else wants, and what
/// waited on it waits on that address.
fn keep_validation_record_addresses(
    model: &StackModel,
    desired: &mut [DesiredResource],
    observed: &[LiveResource],
) {
    let is_validation = crate::kinds::DnsRecord::is_validation_address;
    let domain_of_name = |name: &str| {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        name.split_once('.').map(|(_, domain)| domain.to_string())
    };
    let mut moves: Vec<(Address, Address)> = Vec::new();
    for resource in desired.iter() {
        if resource.kind != "dns_record"
            || !is_validation(&resource.address)
            || observed.iter().any(|l| l.address == resource.address)
        {
            continue;
        }
        let holder = resource.address.as_str().rsplit('.').next().unwrap_or("");
        let Some(domain) = model
            .load_balancers
            .iter()
            .find(|lb| lb.name == holder)
            .and_then(crate::kinds::DnsRecord::validated_domain)
        else {
            continue;
        };
        let kept = observed.iter().find(|live| {
            live.kind == "dns_record"
                && is_validation(&live.address)
                && !desired.iter().any(|d| d.address == live.address)
                && !moves.iter().any(|(_, to)| to == &live.address)
                && live
                    .attributes
                    .get("name")
                    .and_then(Value::as_str)
                    .and_then(domain_of_name)
                    .as_deref()
                    == Some(domain.as_str())
        });
        if let Some(live) = kept {
            moves.push((resource.address.clone(), live.address.clone()));
        }
    }
    for (from, to) in moves {
        for resource in desired.iter_mut() {
            if resource.address == from {
                resource.address = to.clone();
                if let Some(Value::Map(tags)) = resource.attributes.get_mut("tags") {
                    tags.insert(
                        crate::model::ADDRESS_TAG.to_string(),
                        Value::string(to.as_str()),
                    );
                }
            }
            for dependency in resource.depends_on.iter_mut().filter(|d| **d == from) {
                *dependency = to.clone();
            }
        }
    }
}

fn keep_subnet_cidrs<'a>(
    network: &CreatedNetwork,
    desired: &mut [DesiredResource],
    live_at: &impl Fn(&Address) -> Option<&'a LiveResource>,
) -> Result<(), (Address, String)> {
    let cidr_of = |attributes: &crate::model::Attributes| {
        attributes
            .get("cidr_block")
            .and_then(Value::as_str)
            .and_then(|c| c.parse::<Ipv4Net>().ok())
    };
    // First the CIDRs of subnets that exist, then the new ones around them.
    let mut taken: Vec<Ipv4Net> = Vec::new();
    let mut new = Vec::new();
    for (index, resource) in desired.iter_mut().enumerate() {
        if resource.kind != "subnet" {
            continue;
        }
        match live_at(&resource.address).and_then(|l| cidr_of(&l.attributes)) {
            Some(live) if network.cidr.contains(&live) => {
                resource
                    .attributes
                    .insert("cidr_block".into(), Value::string(live.to_string()));
                taken.push(live);
            }
            _ => new.push(index),
        }
    }
    for index in new {
        let resource = &mut desired[index];
        let Some(wanted) = cidr_of(&resource.attributes) else {
            continue;
        };
        if !taken.iter().any(|t| overlaps(t, &wanted)) {
            taken.push(wanted);
            continue;
        }
        // The half of the VPC this tier lives in: the one holding its slot.
        let halves = network
            .cidr
            .subnets(network.cidr.prefix_len() + 1)
            .map(|h| h.collect::<Vec<_>>())
            .unwrap_or_default();
        let free = halves
            .iter()
            .find(|h| h.contains(&wanted))
            .and_then(|half| half.subnets(wanted.prefix_len()).ok())
            .and_then(|mut blocks| blocks.find(|b| !taken.iter().any(|t| overlaps(t, b))));
        let Some(free) = free else {
            return Err((
                resource.address.clone(),
                format!(
                    "no free /{} is left in {} beside the subnets that exist: give the subnets in `vpc.subnets`, or remove a zone",
                    wanted.prefix_len(),
                    network.cidr
                ),
            ));
        };
        resource
            .attributes
            .insert("cidr_block".into(), Value::string(free.to_string()));
        taken.push(free);
    }
    Ok(())
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Every desired resource of the stack, from every registered kind.
pub fn desired(model: &StackModel) -> Vec<DesiredResource> {
    kinds::ALL
        .iter()
        .flat_map(|kind| {
            let mut resources = kind.lower(model);
            for resource in &mut resources {
                if kind.is_global() {
                    mark_region(resource, &model.region);
                }
                resource.adopt = model.adopt.get(&resource.address).cloned();
            }
            resources
        })
        .collect()
}

/// Adds the region to a global resource's mark (`model::REGION_TAG`).
fn mark_region(resource: &mut DesiredResource, region: &str) {
    if let Some(Value::Map(tags)) = resource.attributes.get_mut("tags") {
        tags.insert(crate::model::REGION_TAG.into(), Value::string(region));
    }
}

/// The `Name` tag eksform gives a resource: the stack, then the address,
/// dashed (`prd-subnet-public-us-east-1a`); a `.main` suffix is dropped.
pub fn resource_name(stack: &str, address: &Address) -> String {
    let path = address
        .as_str()
        .strip_suffix(".main")
        .unwrap_or(address.as_str());
    format!("{stack}-{}", path.replace(['.', '_'], "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_cut_to_fit_keeps_its_fitted_prefix() {
        // A stack name of 24 characters: `<stack>-` is longer than what a
        // 32-character name cut with a hash keeps.
        let prefix = format!("{}-", "a".repeat(24));
        for name in ["web", "a-much-longer-load-balancer-name"] {
            let fitted = fit_name(&format!("{prefix}{name}"), 32);
            assert!(fitted.len() <= 32);
            assert!(fitted.starts_with(fitted_prefix(&prefix, 32)), "{fitted}");
        }
        assert_eq!(fitted_prefix("dev-", 32), "dev-");
    }

    #[test]
    fn splits_three_zones_into_eight_blocks() {
        let zones: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|z| format!("us-east-1{z}"))
            .collect();
        let split = split("10.20.0.0/16".parse().unwrap(), &zones);
        let public: Vec<String> = split
            .iter()
            .map(|z| z.public.unwrap().to_string())
            .collect();
        let private: Vec<String> = split.iter().map(|z| z.private.to_string()).collect();
        assert_eq!(public, ["10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"]);
        assert_eq!(
            private,
            ["10.20.128.0/19", "10.20.160.0/19", "10.20.192.0/19"]
        );
    }

    #[test]
    fn two_zones_leave_room_for_two_more_without_moving() {
        let zones: Vec<String> = ["a", "b", "c", "d"]
            .iter()
            .map(|z| format!("x-1{z}"))
            .collect();
        let two = split("10.0.0.0/16".parse().unwrap(), &zones[..2]);
        let four = split("10.0.0.0/16".parse().unwrap(), &zones);
        assert_eq!(two[1].private.to_string(), "10.0.160.0/19");
        for (before, after) in two.iter().zip(&four) {
            assert_eq!(before.public, after.public);
            assert_eq!(before.private, after.private);
        }
        assert_eq!(four[3].public.unwrap().to_string(), "10.0.96.0/19");
        assert_eq!(four[3].private.to_string(), "10.0.224.0/19");
    }

    #[test]
    fn names_resources_after_stack_and_address() {
        assert_eq!(
            resource_name("prd", &Address::new(&["vpc", "main"])),
            "prd-vpc"
        );
        assert_eq!(
            resource_name("prd", &Address::new(&["subnet", "public", "us-east-1a"])),
            "prd-subnet-public-us-east-1a"
        );
    }
}
