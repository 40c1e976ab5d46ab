//! The spec types: one stack (one environment) as written in YAML.
//!
//! Field names follow eksctl's ClusterConfig where eksctl has the same idea.
//! These types are also the source of the published JSON Schema (`eksform schema`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::located::Located;

/// One stack: one environment of the estate.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "eksform stack spec")]
pub struct Spec {
    /// Stack name, `[a-z][a-z0-9-]{0,23}`. Goes into resource names and ownership tags.
    pub stack: Located<String>,
    /// AWS region, for example `ap-northeast-1`.
    pub region: Located<String>,
    /// Guard: every command refuses to touch AWS when the caller's account differs.
    #[serde(default)]
    pub account: Option<Located<String>>,
    /// Deep-merge this file over the named base file (path relative to this file).
    #[serde(default)]
    pub extends: Option<Located<String>>,
    /// Tags added to every resource that takes tags.
    #[serde(default)]
    pub tags: Located<BTreeMap<String, String>>,
    #[serde(default)]
    pub vpc: Option<Located<Vpc>>,
    #[serde(default)]
    pub cluster: Option<Located<Cluster>>,
    #[serde(default)]
    pub iam: Option<Located<Iam>>,
    #[serde(default)]
    pub managed_node_groups: Option<Located<Vec<Located<ManagedNodeGroup>>>>,
    #[serde(default)]
    pub fargate_profiles: Option<Located<Vec<Located<FargateProfile>>>>,
    #[serde(default)]
    pub load_balancers: Option<Located<Vec<Located<LoadBalancer>>>>,
    /// Security groups in the stack's VPC, with rules admitting CIDRs or groups.
    #[serde(default)]
    pub security_groups: Option<Located<Vec<Located<super::SecurityGroup>>>>,
    #[serde(default)]
    pub dns: Option<Located<Dns>>,
    /// ECR repositories.
    #[serde(default)]
    pub registries: Option<Located<Vec<Located<super::registries::Registry>>>>,
    /// Storage the stack's workloads mount: EFS file systems.
    #[serde(default)]
    pub storage: Option<Located<super::storage::Storage>>,
    /// Existing resources eksform takes over instead of creating: each
    /// address (as plans print it) with the AWS id or name of the resource.
    /// The plan shows them as `<= adopt`; apply marks them. Once applied the
    /// entries are no-ops.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adopt: Vec<Located<AdoptEntry>>,
}

/// One resource to take over: `{ address: eks_cluster.main, id: legacy }`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdoptEntry {
    /// The resource's address in eksform's plans (`vpc.main`, `subnet.private.eu-west-1a`).
    pub address: Located<String>,
    /// The live resource's id, ARN or name, as its AWS API names it
    /// (`vpc-0abc...`, a role's name, a cluster's name, a zone's id).
    pub id: Located<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Vpc {
    /// The VPC's IPv4 CIDR (a /16 to /28 network). Omit with `id`.
    #[serde(default)]
    pub cidr: Option<Located<String>>,
    /// Bring your own VPC: eksform creates no network resources, only tags the subnets.
    /// A VPC id, or `{ fromStack: <network stack>, output: vpcId }`.
    #[serde(default)]
    pub id: Option<Located<TextSource>>,
    /// At least 2 when the stack declares a cluster.
    #[serde(default)]
    pub availability_zones: Option<Located<Vec<Located<String>>>>,
    #[serde(default)]
    pub subnets: Option<Located<Subnets>>,
    #[serde(default)]
    pub nat: Option<Located<Nat>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subnets {
    /// Availability zone -> subnet.
    #[serde(default)]
    pub public: BTreeMap<String, Located<SubnetSpec>>,
    /// Availability zone -> subnet.
    #[serde(default)]
    pub private: BTreeMap<String, Located<SubnetSpec>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubnetSpec {
    #[serde(default)]
    pub cidr: Option<Located<String>>,
    /// An existing subnet (with `vpc.id`): a subnet id, or
    /// `{ fromStack: <network stack>, output: privateSubnetIds, key: <zone> }`.
    #[serde(default)]
    pub id: Option<Located<TextSource>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nat {
    /// Single (default) | HighlyAvailable (one per AZ) | Disable.
    #[serde(default)]
    pub gateway: Option<Located<NatMode>>,
    /// Reuse existing Elastic IP allocations (never released by eksform).
    #[serde(default, rename = "elasticIPs")]
    pub elastic_ips: Option<Located<Vec<Located<String>>>>,
    /// PerZone (default): a private route table per zone | Shared: one for every zone's private subnet (Single or Disable only).
    #[serde(default, rename = "privateRouteTables")]
    pub private_route_tables: Option<Located<PrivateRouteTables>>,
}

/// How the private subnets' route tables are laid out. `Shared` is the layout
/// of a VPC made with one NAT gateway by other tools (terraform-aws-modules'
/// `single_nat_gateway`): one table, `route_table.private`, for every zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
pub enum PrivateRouteTables {
    #[default]
    PerZone,
    Shared,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
pub enum NatMode {
    #[default]
    Single,
    HighlyAvailable,
    Disable,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
    /// Default: the stack name.
    #[serde(default)]
    pub name: Option<Located<String>>,
    /// Kubernetes version as a string, for example "1.31".
    #[serde(default)]
    pub version: Option<Located<String>>,
    #[serde(default)]
    pub endpoints: Option<Located<Endpoints>>,
    /// Default [0.0.0.0/0]; a bare IP means /32.
    #[serde(default, rename = "publicAccessCIDRs")]
    pub public_access_cidrs: Option<Located<Vec<Located<CidrSource>>>>,
    #[serde(default)]
    pub logging: Option<Located<Logging>>,
    #[serde(default)]
    pub addons: Vec<Located<Addon>>,
    #[serde(default)]
    pub access_entries: Vec<Located<AccessEntry>>,
    /// Where the control plane's network interfaces go: the private subnets
    /// (default), or the public and the private ones, as eksctl does by
    /// default. Set at creation: a change replaces the cluster.
    #[serde(default)]
    pub control_plane_subnets: Option<ControlPlaneSubnets>,
    /// Envelope encryption of Kubernetes secrets with a KMS key. It can be
    /// turned on for an existing cluster (in place); EKS can neither turn it
    /// off nor change the key.
    #[serde(default)]
    pub secrets_encryption: Option<Located<SecretsEncryption>>,
    /// What happens at the end of a version's standard support. Default: what
    /// EKS chooses at creation, then whatever the cluster has.
    #[serde(default)]
    pub upgrade_policy: Option<Located<UpgradePolicy>>,
    /// Amazon Application Recovery Controller zonal shift for the cluster.
    /// Default: what the cluster has (off at creation).
    #[serde(default)]
    pub zonal_shift: Option<Located<ZonalShift>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretsEncryption {
    /// The ARN of a symmetric KMS key (or an alias ARN) in the cluster's region.
    #[serde(rename = "keyARN")]
    pub key_arn: Located<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpgradePolicy {
    pub support_type: SupportType,
}

/// STANDARD: the cluster is upgraded when standard support ends. EXTENDED:
/// it stays on its version, billed for extended support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum SupportType {
    #[serde(rename = "STANDARD")]
    Standard,
    #[serde(rename = "EXTENDED")]
    Extended,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZonalShift {
    pub enabled: bool,
}

/// The subnets a cluster's control plane uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum ControlPlaneSubnets {
    Private,
    PublicAndPrivate,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Endpoints {
    #[serde(default)]
    pub public_access: Option<bool>,
    #[serde(default)]
    pub private_access: Option<bool>,
}

/// A CIDR, a bare IP, or a reference to another stack's output.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum CidrSource {
    Literal(String),
    FromStack(StackReference),
}

/// An id, ARN or name, or a reference to another stack's output that holds one.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum TextSource {
    Literal(String),
    FromStack(StackReference),
}

impl TextSource {
    /// The text written in the spec; `None` for a reference.
    pub fn literal(&self) -> Option<&str> {
        match self {
            TextSource::Literal(text) => Some(text),
            TextSource::FromStack(_) => None,
        }
    }

    /// The text written in the spec, or empty for a reference not resolved
    /// yet (references are resolved at plan time, see `spec::references`).
    pub fn text(&self) -> &str {
        self.literal().unwrap_or_default()
    }

    pub fn reference(&self) -> Option<&StackReference> {
        match self {
            TextSource::Literal(_) => None,
            TextSource::FromStack(reference) => Some(reference),
        }
    }
}

/// `{ fromStack: <stack>, output: <name> }`, resolved at plan time from that stack's live outputs.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StackReference {
    pub from_stack: String,
    pub output: String,
    /// One entry of a map output (`targetGroupARNs: <load balancer>/<group>`,
    /// `serviceAccountRoleARNs: <namespace>/<name>`), or a zone's subnet of
    /// `publicSubnetIds` / `privateSubnetIds`.
    #[serde(default)]
    pub key: Option<String>,
    /// The other stack's region, when it is not this one's.
    #[serde(default)]
    pub region: Option<String>,
    /// A role of the other stack's account, assumed (STS AssumeRole) to read
    /// its outputs when that stack lives in another account.
    #[serde(default, rename = "roleARN")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Logging {
    #[serde(default)]
    pub enable_types: Vec<Located<LogType>>,
    /// One of the values CloudWatch Logs accepts.
    #[serde(default)]
    pub log_retention_in_days: Option<Located<u32>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum LogType {
    #[serde(rename = "api")]
    Api,
    #[serde(rename = "audit")]
    Audit,
    #[serde(rename = "authenticator")]
    Authenticator,
    #[serde(rename = "controllerManager")]
    ControllerManager,
    #[serde(rename = "scheduler")]
    Scheduler,
    #[serde(rename = "*")]
    All,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Addon {
    pub name: Located<String>,
    /// `latest` (default) or an exact version such as v1.18.3-eksbuild.1.
    #[serde(default)]
    pub version: Option<Located<String>>,
    /// `namespace/name` of an entry in `iam.serviceAccounts` whose role the add-on uses.
    #[serde(default)]
    pub service_account: Option<Located<String>>,
    /// The add-on's configuration (a mapping, or the JSON string AWS takes),
    /// checked at plan time against the add-on version's schema.
    #[serde(default)]
    pub configuration_values: Option<super::ConfigurationValues>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessEntry {
    /// An IAM user or role ARN, or a reference to an output holding one.
    #[serde(rename = "principalARN")]
    pub principal_arn: Located<TextSource>,
    #[serde(default)]
    pub access_policies: Vec<Located<AccessPolicy>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessPolicy {
    #[serde(rename = "policyARN")]
    pub policy_arn: Located<String>,
    pub access_scope: Located<AccessScope>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessScope {
    #[serde(rename = "type")]
    pub scope_type: AccessScopeType,
    #[serde(default)]
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AccessScopeType {
    Cluster,
    Namespace,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Iam {
    /// Create the cluster's IAM OIDC provider; implied when serviceAccounts exist.
    #[serde(default, rename = "withOIDC")]
    pub with_oidc: Option<bool>,
    /// EKS Pod Identity: an association of a service account with a role
    /// that `pods.eks.amazonaws.com` may assume (eksctl's field names).
    #[serde(default)]
    pub pod_identity_associations: Vec<Located<PodIdentityAssociation>>,
    #[serde(default)]
    pub service_accounts: Vec<Located<ServiceAccount>>,
}

/// One EKS Pod Identity association: the service account, and either a role
/// of the user's (`roleARN`) or the policies of a role eksform makes.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodIdentityAssociation {
    pub namespace: Located<String>,
    pub service_account_name: Located<String>,
    /// A role of your own (its trust must admit `pods.eks.amazonaws.com`);
    /// eksform then makes no role. Not with the policy fields.
    #[serde(default, rename = "roleARN")]
    pub role_arn: Option<Located<String>>,
    /// The name of the role eksform makes (default: derived from the stack,
    /// region and service account).
    #[serde(default)]
    pub role_name: Option<Located<String>>,
    #[serde(default)]
    pub well_known_policies: Option<WellKnownPolicies>,
    /// Managed policies attached to the role (`iam.serviceAccounts`' `attachPolicyARNs`).
    #[serde(default, rename = "permissionPolicyARNs")]
    pub permission_policy_arns: Vec<Located<String>>,
    /// An inline IAM policy document (`iam.serviceAccounts`' `attachPolicy`).
    #[serde(default)]
    pub permission_policy: Option<serde_json::Value>,
    /// Tags of the association and of the role eksform makes.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceAccount {
    pub metadata: ServiceAccountMetadata,
    #[serde(default)]
    pub well_known_policies: Option<WellKnownPolicies>,
    /// Managed policy ARNs; an item may be a reference to another stack's output.
    #[serde(default, rename = "attachPolicyARNs")]
    pub attach_policy_arns: Vec<Located<TextSource>>,
    /// An inline IAM policy document.
    #[serde(default)]
    pub attach_policy: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountMetadata {
    pub namespace: Located<String>,
    pub name: Located<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WellKnownPolicies {
    #[serde(default)]
    pub auto_scaler: bool,
    #[serde(default, rename = "externalDNS")]
    pub external_dns: bool,
    #[serde(default)]
    pub aws_load_balancer_controller: bool,
    #[serde(default, rename = "ebsCSIController")]
    pub ebs_csi_controller: bool,
    #[serde(default, rename = "efsCSIController")]
    pub efs_csi_controller: bool,
    #[serde(default)]
    pub cert_manager: bool,
    #[serde(default)]
    pub image_builder: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ManagedNodeGroup {
    pub name: Located<String>,
    /// capacityType SPOT; default false (ON_DEMAND).
    #[serde(default)]
    pub spot: bool,
    #[serde(default)]
    pub instance_types: Vec<Located<String>>,
    #[serde(default)]
    pub min_size: Option<Located<u32>>,
    #[serde(default)]
    pub max_size: Option<Located<u32>>,
    /// Used at creation; afterwards the cluster autoscaler owns it.
    #[serde(default)]
    pub desired_capacity: Option<Located<u32>>,
    /// GiB, default 20.
    #[serde(default)]
    pub volume_size: Option<Located<u32>>,
    /// Private subnets (default true); false = public subnets.
    #[serde(default)]
    pub private_networking: Option<bool>,
    /// The node image: AmazonLinux2023, AmazonLinux2 or Bottlerocket; the
    /// ARM or x86 variant follows the instance types. Default: what EKS
    /// chooses for the cluster's version. Set at creation: a change replaces
    /// the group.
    #[serde(default)]
    pub ami_family: Option<Located<AmiFamily>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<Located<Taint>>,
    #[serde(default)]
    pub update_config: Option<UpdateConfig>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// eksctl's `amiFamily` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum AmiFamily {
    AmazonLinux2023,
    AmazonLinux2,
    Bottlerocket,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Taint {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
    pub effect: TaintEffect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateConfig {
    #[serde(default)]
    pub max_unavailable: Option<u32>,
    #[serde(default)]
    pub max_unavailable_percentage: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FargateProfile {
    pub name: Located<String>,
    pub selectors: Vec<Located<FargateSelector>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FargateSelector {
    pub namespace: Located<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoadBalancer {
    pub name: Located<String>,
    #[serde(default)]
    pub scheme: Option<LoadBalancerScheme>,
    #[serde(default)]
    pub idle_timeout_seconds: Option<Located<u32>>,
    /// The ALB security group allows 80/443 from these.
    #[serde(default, rename = "ingressCIDRs")]
    pub ingress_cidrs: Vec<Located<String>>,
    #[serde(default)]
    pub certificate: Option<Located<Certificate>>,
    /// Port 80 answers 301 to https.
    #[serde(default)]
    pub https_redirect: Option<bool>,
    #[serde(default)]
    pub target_groups: Vec<Located<TargetGroup>>,
    /// Where the HTTPS listener forwards.
    #[serde(default)]
    pub default_target_group: Option<Located<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LoadBalancerScheme {
    InternetFacing,
    Internal,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// Request a DNS-validated certificate for this domain.
    #[serde(default)]
    pub domain: Option<Located<String>>,
    /// Use an existing certificate: its ARN, or a reference to an output holding one.
    #[serde(default)]
    pub arn: Option<Located<TextSource>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TargetGroup {
    pub name: Located<String>,
    /// The port targets receive traffic on: a group eksform makes. Give
    /// `arn` instead for a group made elsewhere.
    #[serde(default)]
    pub port: Option<Located<u16>>,
    /// A target group eksform does not make (another stack's, through
    /// `fromStack`, or one made by other tools): the listeners forward to it
    /// and eksform never changes or deletes it.
    #[serde(default)]
    pub arn: Option<Located<TextSource>>,
    #[serde(default)]
    pub target_type: Option<TargetType>,
    #[serde(default)]
    pub health_check_path: Option<Located<String>>,
    /// 0 to 999: the listeners forward to every group with a weight, each
    /// getting its share of the requests (blue/green). Changing weights
    /// modifies the listeners in place. Without weights the listeners
    /// forward to `defaultTargetGroup`.
    #[serde(default)]
    pub weight: Option<Located<u16>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetType {
    Ip,
    Instance,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// Public hosted zone; created when it does not exist.
    pub zone: Located<String>,
    #[serde(default)]
    pub records: Vec<Located<DnsRecord>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsRecord {
    pub name: Located<String>,
    #[serde(default, rename = "type")]
    pub record_type: Option<RecordType>,
    #[serde(default)]
    pub ttl: Option<u32>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub alias: Option<Located<Alias>>,
    /// Tells apart records of one name and type under weighted or failover
    /// routing: lower-case letters, digits and '-', up to 40.
    #[serde(default, rename = "setIdentifier")]
    pub set_identifier: Option<Located<String>>,
    /// Weighted routing: 0 to 255, this record's share of the answers.
    #[serde(default)]
    pub weight: Option<Located<u16>>,
    /// Failover routing: the PRIMARY record answers while healthy, else the SECONDARY.
    #[serde(default)]
    pub failover: Option<Located<Failover>>,
    /// The Route53 health check whose status this record follows.
    #[serde(default, rename = "healthCheckId")]
    pub health_check_id: Option<Located<String>>,
}

/// A failover record's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Failover {
    #[allow(clippy::upper_case_acronyms)]
    PRIMARY,
    #[allow(clippy::upper_case_acronyms)]
    SECONDARY,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum RecordType {
    A,
    #[allow(clippy::upper_case_acronyms)]
    AAAA,
    #[allow(clippy::upper_case_acronyms)]
    CNAME,
    #[allow(clippy::upper_case_acronyms)]
    TXT,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Alias {
    pub load_balancer: Located<String>,
}
