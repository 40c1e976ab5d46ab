//! Preflight: what a plan needs to be true of the account and region before
//! anything is created, checked at plan time so that a mistake stops the plan
//! instead of failing half-way through apply after billable resources exist.
//!
//! Pure. `questions` says what to read, for what the plan creates or changes
//! only (a plan without changes asks nothing); a `Cloud` reads the `Facts`
//! (`Cloud::preflight_facts`: read-only calls, a check whose API the endpoint
//! lacks is left out); `check` turns the facts into diagnostics at the spec's
//! `file:line:column`: errors refuse the plan, warnings (the default quotas a
//! plan would exceed) go to the plan's resources.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostics::{Diagnostic, Diagnostics, Severity, SourceFile, Span};
use crate::kinds::{AccessEntry, EksCluster, IamRole, NodeGroup};
use crate::model::Address;
use crate::plan::{Action, Plan, ResourceChange};
use crate::spec::{Located, Spec};
use crate::suggest::did_you_mean;

/// VPCs per region, AWS's default quota.
pub const VPCS_PER_REGION: usize = 5;
/// Elastic IP addresses per region, AWS's default quota.
pub const ELASTIC_IPS_PER_REGION: usize = 5;
/// NAT gateways per availability zone, AWS's default quota.
pub const NAT_GATEWAYS_PER_ZONE: usize = 5;

/// What to read from the account for a plan: only what its creates and
/// changes depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Questions {
    /// The region's availability zones (DescribeAvailabilityZones).
    pub zones: bool,
    /// The Kubernetes versions EKS offers (DescribeClusterVersions).
    pub cluster_versions: bool,
    /// Node group instance types, offered where (DescribeInstanceTypeOfferings).
    pub instance_types: BTreeSet<String>,
    /// The zones the node groups run in.
    pub instance_zones: BTreeSet<String>,
    /// Types of spot node groups (DescribeInstanceTypes SupportedUsageClasses).
    pub spot_types: BTreeSet<String>,
    /// Managed policies roles will have attached (IAM GetPolicy).
    pub managed_policies: BTreeSet<String>,
    /// Access entry principals of the caller's account (IAM GetRole / GetUser).
    pub principals: BTreeSet<String>,
    /// How many VPCs the region holds (the plan creates one).
    pub vpcs: bool,
    /// How many Elastic IPs the region holds (the plan allocates some).
    pub elastic_ips: bool,
    /// How many NAT gateways each zone holds (the plan creates some).
    pub nat_gateways: bool,
    /// The configuration schemas of the add-ons whose `configurationValues`
    /// the plan sends (DescribeAddonConfiguration).
    pub addon_configurations: BTreeSet<AddonVersion>,
    /// Target groups given by `arn` that listeners the plan makes or changes
    /// forward to (DescribeTargetGroups).
    pub brought_target_groups: BTreeSet<String>,
}

/// An add-on version whose configuration schema a plan needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AddonVersion {
    pub addon: String,
    /// An exact version, or `latest`: the newest for `kubernetes` (for any,
    /// when the spec names no Kubernetes version), as creation resolves it.
    pub version: String,
    pub kubernetes: Option<String>,
}

/// An add-on version's configuration schema, as DescribeAddonConfiguration
/// gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonSchema {
    /// The exact version (`latest` resolved).
    pub version: String,
    /// The JSON schema, as text.
    pub schema: String,
}

impl Questions {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// An availability zone as the account sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneFact {
    pub name: String,
    /// `available`, `information`, `impaired`, `unavailable`, `constrained`.
    pub state: String,
}

/// A Kubernetes version EKS offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFact {
    pub version: String,
    /// `STANDARD_SUPPORT`, `EXTENDED_SUPPORT` or `UNSUPPORTED`.
    pub status: String,
}

/// Where instance types are offered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceTypeFacts {
    /// Each asked type -> the asked zones that offer it (absent: none).
    pub offered: BTreeMap<String, BTreeSet<String>>,
    /// Every type the region offers: read only when an asked type is offered
    /// in none of the zones, to tell a typo from a type missing there.
    pub in_region: Option<BTreeSet<String>>,
}

/// What the account answered. `None`: not asked, or the endpoint does not
/// answer that API (the emulator): that check is left out.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub zones: Option<Vec<ZoneFact>>,
    pub cluster_versions: Option<Vec<VersionFact>>,
    pub instance_types: Option<InstanceTypeFacts>,
    /// Type -> whether it can run as spot.
    pub spot: Option<BTreeMap<String, bool>>,
    /// Policy ARN -> whether it exists.
    pub managed_policies: Option<BTreeMap<String, bool>>,
    /// Principal ARN -> whether it exists.
    pub principals: Option<BTreeMap<String, bool>>,
    /// Brought target group ARN -> the load balancers it serves (`None`: no
    /// such group).
    pub target_groups: Option<BTreeMap<String, Option<Vec<String>>>>,
    pub vpcs: Option<usize>,
    pub elastic_ips: Option<usize>,
    /// Zone -> NAT gateways pending or available in it.
    pub nat_gateways: Option<BTreeMap<String, usize>>,
    /// Add-on name -> its asked version's configuration schema.
    pub addon_schemas: Option<BTreeMap<String, AddonSchema>>,
    /// For resources the plan creates: what already holds their name without
    /// the stack's mark, in words (`Cloud::name_taken`).
    pub taken_names: Vec<(Address, String)>,
}

/// One preflight problem, with the resource of the plan it concerns.
#[derive(Debug, Clone)]
pub struct Finding {
    pub diagnostic: Diagnostic,
    pub resource: Option<Address>,
}

/// Everything preflight found.
#[derive(Debug, Clone, Default)]
pub struct Findings(pub Vec<Finding>);

impl Findings {
    /// The errors, which refuse the plan.
    pub fn errors(&self) -> Diagnostics {
        let mut errors = Diagnostics::new();
        for finding in &self.0 {
            if finding.diagnostic.severity == Severity::Error {
                errors.push(finding.diagnostic.clone());
            }
        }
        errors.sorted()
    }

    /// The warnings, written into the plan under the resource they concern,
    /// so both the text and the JSON plan show them.
    pub fn warn_in(&self, plan: &mut Plan) {
        for finding in &self.0 {
            if finding.diagnostic.severity != Severity::Warning {
                continue;
            }
            let target = finding
                .resource
                .as_ref()
                .and_then(|a| plan.resources.iter().position(|r| &r.address == a))
                .or_else(|| (!plan.resources.is_empty()).then_some(0));
            if let Some(i) = target {
                plan.resources[i]
                    .warnings
                    .push(finding.diagnostic.to_string());
            }
        }
    }
}

fn makes(change: &ResourceChange) -> bool {
    matches!(change.action, Action::Create | Action::Replace)
}

fn changes(change: &ResourceChange) -> bool {
    matches!(
        change.action,
        Action::Create | Action::Replace | Action::Update | Action::Adopt
    )
}

fn created<'p>(plan: &'p Plan, kind: &'p str) -> impl Iterator<Item = &'p ResourceChange> {
    plan.resources
        .iter()
        .filter(move |r| r.kind == kind && r.action == Action::Create)
}

/// The account of an IAM ARN (`arn:aws:iam::<account>:...`).
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4)
}

/// The node groups of the spec the plan makes (created, or replaced under a
/// new name).
fn made_node_groups<'s>(
    spec: &'s Spec,
    plan: &Plan,
) -> Vec<&'s Located<crate::spec::ManagedNodeGroup>> {
    let made: BTreeSet<&Address> = plan
        .resources
        .iter()
        .filter(|r| r.kind == "node_group" && makes(r))
        .map(|r| &r.address)
        .collect();
    spec.managed_node_groups
        .iter()
        .flat_map(|groups| groups.iter())
        .filter(|g| made.contains(&NodeGroup::address(&g.name)))
        .collect()
}

/// The instance types of a node group as lowering defaults them.
fn instance_types(group: &crate::spec::ManagedNodeGroup) -> Vec<(String, Span)> {
    if group.instance_types.is_empty() {
        vec![("m5.large".into(), group.name.span)]
    } else {
        group
            .instance_types
            .iter()
            .map(|t| (t.value.clone(), t.span))
            .collect()
    }
}

/// Managed policy ARNs of the roles the plan makes or changes, each with
/// where the spec asks for it.
fn wanted_policies(spec: &Spec, plan: &Plan) -> Vec<(String, Span)> {
    let partition = crate::lower::partition(&spec.region);
    let changed: BTreeSet<&Address> = plan
        .resources
        .iter()
        .filter(|r| r.kind == "iam_role" && changes(r))
        .map(|r| &r.address)
        .collect();
    let mut wanted = Vec::new();
    for account in spec.iam.iter().flat_map(|iam| &iam.service_accounts) {
        let metadata = &account.metadata;
        let address = IamRole::address_of_service_account(&metadata.namespace, &metadata.name);
        if !changed.contains(&address) {
            continue;
        }
        if let Some(known) = &account.well_known_policies {
            for (on, policy) in crate::kinds::well_known_policies(known) {
                if let (true, crate::kinds::WellKnown::Managed(path)) = (on, policy) {
                    wanted.push((
                        format!("arn:{partition}:iam::aws:policy/{path}"),
                        metadata.name.span,
                    ));
                }
            }
        }
        wanted.extend(
            account
                .attach_policy_arns
                .iter()
                .filter_map(|arn| Some((arn.literal()?.to_string(), arn.span))),
        );
    }
    wanted
}

/// Access entry principals the plan creates entries for, in the caller's account.
fn wanted_principals(spec: &Spec, plan: &Plan) -> Vec<Located<String>> {
    let made: BTreeSet<&Address> = plan
        .resources
        .iter()
        .filter(|r| r.kind == "access_entry" && makes(r))
        .map(|r| &r.address)
        .collect();
    spec.cluster
        .iter()
        .flat_map(|c| &c.access_entries)
        // A reference not resolved yet names no principal to look for.
        .filter_map(|e| {
            Some(Located::new(
                e.principal_arn.literal()?.to_string(),
                e.principal_arn.span,
            ))
        })
        .filter(|arn| made.contains(&AccessEntry::address(arn)))
        .filter(|arn| arn_account(arn) == Some(plan.account.as_str()))
        .collect()
}

/// Target groups given by `arn` that the plan's new or changed listeners
/// forward to, each with where it is written.
fn wanted_target_groups(spec: &Spec, plan: &Plan) -> Vec<Located<String>> {
    let changed: BTreeSet<&str> = plan
        .resources
        .iter()
        .filter(|r| r.kind == "listener" && changes(r))
        .filter_map(|r| r.address.as_str().split('.').nth(1))
        .collect();
    spec.load_balancers
        .iter()
        .flat_map(|l| l.iter())
        .filter(|lb| changed.contains(lb.name.as_str()))
        .flat_map(|lb| &lb.target_groups)
        // A reference not resolved yet names no group to look for.
        .filter_map(|group| {
            let arn = group.arn.as_ref()?;
            Some(Located::new(arn.literal()?.to_string(), arn.span))
        })
        .collect()
}

/// The zones of the spec, each with where it is written.
fn zones(spec: &Spec) -> Vec<(String, Span)> {
    let Some(vpc) = &spec.vpc else {
        return Vec::new();
    };
    if let Some(zones) = &vpc.availability_zones {
        return zones.iter().map(|z| (z.value.clone(), z.span)).collect();
    }
    let mut found = BTreeMap::new();
    if let Some(subnets) = &vpc.subnets {
        for (zone, subnet) in subnets.public.iter().chain(&subnets.private) {
            found.entry(zone.clone()).or_insert(subnet.span);
        }
    }
    found.into_iter().collect()
}

/// What to read for this plan of this spec.
pub fn questions(spec: &Spec, plan: &Plan) -> Questions {
    let creates_subnets = plan
        .resources
        .iter()
        .any(|r| r.kind == "subnet" && makes(r));
    let cluster_changes = spec.cluster.as_ref().is_some_and(|c| c.version.is_some())
        && plan
            .resources
            .iter()
            .any(|r| r.address == EksCluster::address() && changes(r));
    let groups = made_node_groups(spec, plan);
    let types = |spot_only: bool| -> BTreeSet<String> {
        groups
            .iter()
            .filter(|g| !spot_only || g.spot)
            .flat_map(|g| instance_types(g))
            .map(|(t, _)| t)
            .collect()
    };
    Questions {
        zones: creates_subnets,
        cluster_versions: cluster_changes,
        instance_types: types(false),
        instance_zones: if groups.is_empty() {
            BTreeSet::new()
        } else {
            zones(spec).into_iter().map(|(z, _)| z).collect()
        },
        spot_types: types(true),
        managed_policies: wanted_policies(spec, plan)
            .into_iter()
            .map(|(arn, _)| arn)
            .collect(),
        principals: wanted_principals(spec, plan)
            .into_iter()
            .map(|arn| arn.value.clone())
            .collect(),
        vpcs: created(plan, "vpc").next().is_some(),
        elastic_ips: created(plan, "elastic_ip").next().is_some(),
        nat_gateways: created(plan, "nat_gateway").next().is_some(),
        addon_configurations: configured_addons(spec, plan)
            .into_iter()
            .map(|(question, _)| question)
            .collect(),
        brought_target_groups: wanted_target_groups(spec, plan)
            .into_iter()
            .map(|arn| arn.value)
            .collect(),
    }
}

/// The add-ons with `configurationValues` that the plan creates or changes,
/// each with the version whose schema checks them.
fn configured_addons<'s>(
    spec: &'s Spec,
    plan: &Plan,
) -> Vec<(AddonVersion, &'s crate::spec::Addon)> {
    let Some(cluster) = &spec.cluster else {
        return Vec::new();
    };
    let changed: BTreeSet<&Address> = plan
        .resources
        .iter()
        .filter(|r| r.kind == "addon" && changes(r))
        .map(|r| &r.address)
        .collect();
    cluster
        .addons
        .iter()
        .filter(|addon| addon.configuration_values.is_some())
        .filter(|addon| changed.contains(&crate::kinds::Addon::address(&addon.name)))
        .map(|addon| {
            let question = AddonVersion {
                addon: addon.name.value.clone(),
                version: addon.version.as_ref().map_or_else(
                    || crate::kinds::addon::LATEST.to_string(),
                    |v| v.value.clone(),
                ),
                kubernetes: cluster.version.as_ref().map(|v| v.value.clone()),
            };
            (question, &addon.value)
        })
        .collect()
}

/// Each changed add-on's `configurationValues` checked against its version's
/// schema: every problem at the offending key, refusing the plan.
fn check_addon_configurations(c: &mut Checker, spec: &Spec, plan: &Plan, facts: &Facts) {
    let Some(schemas) = &facts.addon_schemas else {
        return;
    };
    for (question, addon) in configured_addons(spec, plan) {
        let (Some(values), Some(found)) =
            (&addon.configuration_values, schemas.get(&question.addon))
        else {
            continue;
        };
        let address = crate::kinds::Addon::address(&question.addon);
        let schema: serde_json::Value = match serde_json::from_str(&found.schema) {
            Ok(schema) => schema,
            Err(e) => {
                c.warning(
                    Some(values.span()),
                    format!(
                        "cluster.addons.{}.configurationValues: not checked: the schema AWS gave for {} is not JSON ({e})",
                        question.addon, found.version
                    ),
                    String::new(),
                    address,
                );
                continue;
            }
        };
        let path = format!("cluster.addons.{}.configurationValues", question.addon);
        for mut diagnostic in values.check_against(&schema, c.file, &path) {
            diagnostic.message = format!(
                "{} (the configuration schema of {} {})",
                diagnostic.message, question.addon, found.version
            );
            c.findings.push(Finding {
                diagnostic,
                resource: Some(address.clone()),
            });
        }
    }
}

/// Builds findings located in the spec's file.
struct Checker<'a> {
    file: &'a SourceFile,
    findings: Vec<Finding>,
}

impl Checker<'_> {
    fn push(
        &mut self,
        diagnostic: Diagnostic,
        span: Option<Span>,
        help: String,
        resource: Option<Address>,
    ) {
        let mut diagnostic = match span {
            Some(span) => diagnostic.at(self.file, span),
            None => diagnostic.in_file(self.file),
        };
        if !help.is_empty() {
            diagnostic = diagnostic.with_help(help);
        }
        self.findings.push(Finding {
            diagnostic,
            resource,
        });
    }

    fn error(&mut self, span: Option<Span>, message: String, help: String) {
        self.push(Diagnostic::error(message), span, help, None);
    }

    fn warning(&mut self, span: Option<Span>, message: String, help: String, resource: Address) {
        self.push(Diagnostic::warning(message), span, help, Some(resource));
    }
}

/// A "did you mean" hint, when a candidate is close.
fn hint(input: &str, candidates: &BTreeSet<String>) -> String {
    did_you_mean(input, candidates.iter().map(String::as_str))
        .map(|close| format!("did you mean `{close}`?"))
        .unwrap_or_default()
}

/// The preflight findings of a plan of `spec` (read from `file`), given what
/// the account answered.
pub fn check(spec: &Spec, file: &SourceFile, plan: &Plan, facts: &Facts) -> Findings {
    let mut c = Checker {
        file,
        findings: Vec::new(),
    };
    check_zones(&mut c, spec, plan, facts);
    check_version(&mut c, spec, facts);
    check_instance_types(&mut c, spec, plan, facts);
    check_policies(&mut c, spec, plan, facts);
    check_principals(&mut c, spec, plan, facts);
    check_brought_target_groups(&mut c, spec, plan, facts);
    check_taken_names(&mut c, spec, facts);
    check_quotas(&mut c, spec, plan, facts);
    check_addon_configurations(&mut c, spec, plan, facts);
    Findings(c.findings)
}

fn check_zones(c: &mut Checker, spec: &Spec, plan: &Plan, facts: &Facts) {
    let Some(known) = &facts.zones else { return };
    let available: BTreeSet<String> = known
        .iter()
        .filter(|z| z.state == "available")
        .map(|z| z.name.clone())
        .collect();
    for (zone, span) in zones(spec) {
        if available.contains(&zone) {
            continue;
        }
        let message = match known.iter().find(|z| z.name == zone) {
            Some(z) => format!(
                "availability zone `{zone}` is {} in {}, not available",
                z.state, plan.region
            ),
            None => format!(
                "availability zone `{zone}` does not exist in {} or is not offered to account {}",
                plan.region, plan.account
            ),
        };
        // Zone names differ by one letter: list them rather than guess.
        let offered = available.iter().cloned().collect::<Vec<_>>().join(", ");
        c.error(
            Some(span),
            message,
            format!("{} offers {offered}", plan.region),
        );
    }
}

fn check_version(c: &mut Checker, spec: &Spec, facts: &Facts) {
    let (Some(offered), Some(version)) = (
        &facts.cluster_versions,
        spec.cluster.as_ref().and_then(|c| c.version.as_ref()),
    ) else {
        return;
    };
    let supported: BTreeSet<String> = offered
        .iter()
        .filter(|v| v.status != "UNSUPPORTED")
        .map(|v| v.version.clone())
        .collect();
    match offered.iter().find(|v| v.version == version.value) {
        Some(v) if v.status == "EXTENDED_SUPPORT" => c.warning(
            Some(version.span),
            format!(
                "cluster.version: Kubernetes {} is in EKS extended support, which costs more per cluster hour",
                version.value
            ),
            format!(
                "standard support covers {}",
                supported
                    .iter()
                    .filter(|s| offered
                        .iter()
                        .any(|o| &o.version == *s && o.status == "STANDARD_SUPPORT"))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            EksCluster::address(),
        ),
        Some(v) if v.status != "UNSUPPORTED" => {}
        _ => c.error(
            Some(version.span),
            format!(
                "cluster.version: EKS does not offer Kubernetes {}",
                version.value
            ),
            format!(
                "EKS offers {}",
                supported.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        ),
    }
}

fn check_instance_types(c: &mut Checker, spec: &Spec, plan: &Plan, facts: &Facts) {
    let zones: BTreeSet<String> = zones(spec).into_iter().map(|(z, _)| z).collect();
    for group in made_node_groups(spec, plan) {
        for (instance_type, span) in instance_types(group) {
            let what = format!("managedNodeGroups.{}", group.name.value);
            if let Some(types) = &facts.instance_types {
                let offered = types.offered.get(&instance_type);
                let in_region = types
                    .in_region
                    .as_ref()
                    .map(|all| all.contains(&instance_type));
                match offered {
                    Some(where_) if where_.len() < zones.len() => c.warning(
                        Some(span),
                        format!(
                            "{what}: instance type `{instance_type}` is not offered in {}",
                            zones
                                .difference(where_)
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        "the group runs no nodes of that type there; add another type or choose other zones".into(),
                        NodeGroup::address(&group.name),
                    ),
                    Some(_) => {}
                    None if in_region == Some(true) => c.error(
                        Some(span),
                        format!(
                            "{what}: instance type `{instance_type}` is offered in {} but in none of the stack's zones ({})",
                            plan.region,
                            zones.iter().cloned().collect::<Vec<_>>().join(", ")
                        ),
                        "choose another type or other zones".into(),
                    ),
                    None => c.error(
                        Some(span),
                        format!(
                            "{what}: instance type `{instance_type}` does not exist in {}",
                            plan.region
                        ),
                        types
                            .in_region
                            .as_ref()
                            .map(|all| hint(&instance_type, all))
                            .unwrap_or_default(),
                    ),
                }
            }
            if group.spot
                && let Some(false) = facts.spot.as_ref().and_then(|s| s.get(&instance_type))
            {
                c.error(
                    Some(span),
                    format!("{what}: instance type `{instance_type}` cannot run as spot"),
                    "choose a type with spot capacity, or set `spot: false`".into(),
                );
            }
        }
    }
}

fn check_policies(c: &mut Checker, spec: &Spec, plan: &Plan, facts: &Facts) {
    let Some(known) = &facts.managed_policies else {
        return;
    };
    let mut reported = BTreeSet::new();
    for (arn, span) in wanted_policies(spec, plan) {
        if known.get(&arn) == Some(&false) && reported.insert((arn.clone(), span.offset)) {
            c.error(
                Some(span),
                format!(
                    "iam.serviceAccounts: managed policy `{arn}` does not exist in account {}",
                    plan.account
                ),
                "check its name and path (AWS managed policies are `arn:aws:iam::aws:policy/...`), or create it first".into(),
            );
        }
    }
}

fn check_principals(c: &mut Checker, spec: &Spec, plan: &Plan, facts: &Facts) {
    let Some(known) = &facts.principals else {
        return;
    };
    for arn in wanted_principals(spec, plan) {
        if known.get(&arn.value) == Some(&false) {
            c.error(
                Some(arn.span),
                format!(
                    "cluster.accessEntries: principal `{}` does not exist in account {}",
                    arn.value, plan.account
                ),
                "create the role or user first, or correct the ARN (EKS refuses an access entry for a missing principal)".into(),
            );
        }
    }
}

/// A brought target group must exist, and serve no load balancer but this
/// stack's: AWS lets a target group serve one load balancer, and refuses
/// the listener's change half-way through an apply otherwise.
fn check_brought_target_groups(c: &mut Checker, spec: &Spec, plan: &Plan, facts: &Facts) {
    let Some(known) = &facts.target_groups else {
        return;
    };
    let ours: BTreeSet<&str> = plan
        .resources
        .iter()
        .filter(|r| r.kind == "load_balancer")
        .filter_map(|r| r.live.as_ref().map(|live| live.id.as_str()))
        .collect();
    for arn in wanted_target_groups(spec, plan) {
        match known.get(&arn.value) {
            Some(None) => c.error(
                Some(arn.span),
                format!(
                    "loadBalancers: target group `{}` does not exist in {} of account {}",
                    arn.value, plan.region, plan.account
                ),
                "check the ARN, or apply the stack that makes the group first".into(),
            ),
            Some(Some(balancers)) => {
                if let Some(other) = balancers.iter().find(|b| !ours.contains(b.as_str())) {
                    c.error(
                        Some(arn.span),
                        format!(
                            "loadBalancers: target group `{}` already serves load balancer `{other}`",
                            arn.value
                        ),
                        "AWS lets a target group serve one load balancer: give this one a group of its own".into(),
                    );
                }
            }
            None => {}
        }
    }
}

/// Where the spec asks for the resource at `address`, for a taken name.
fn span_of_address(spec: &Spec, address: &Address) -> Option<Span> {
    let parts: Vec<&str> = address.as_str().split('.').collect();
    let cluster = spec.cluster.as_ref();
    match parts.as_slice() {
        ["eks_cluster", _] => cluster.map(|c| c.name.as_ref().map_or(c.span, |n| n.span)),
        ["iam_role", "irsa", namespace, name] => spec
            .iam
            .iter()
            .flat_map(|iam| &iam.service_accounts)
            .find(|sa| sa.metadata.namespace.value == *namespace && sa.metadata.name.value == *name)
            .map(|sa| sa.metadata.name.span),
        ["iam_role", "node"] => spec.managed_node_groups.as_ref().map(|g| g.span),
        ["iam_role", "fargate"] => spec.fargate_profiles.as_ref().map(|f| f.span),
        ["iam_role", _] => cluster.map(|c| c.span),
        ["node_group", name] => spec
            .managed_node_groups
            .iter()
            .flat_map(|g| g.iter())
            .find(|g| g.name.value == *name)
            .map(|g| g.name.span),
        ["load_balancer", name] => spec
            .load_balancers
            .iter()
            .flat_map(|l| l.iter())
            .find(|l| l.name.value == *name)
            .map(|l| l.name.span),
        ["target_group", balancer, group] => spec
            .load_balancers
            .iter()
            .flat_map(|l| l.iter())
            .filter(|l| l.name.value == *balancer)
            .flat_map(|l| &l.target_groups)
            .find(|t| t.name.value == *group)
            .map(|t| t.name.span),
        _ => None,
    }
}

fn check_taken_names(c: &mut Checker, spec: &Spec, facts: &Facts) {
    for (address, what) in &facts.taken_names {
        c.error(
            span_of_address(spec, address),
            format!("{address}: {what}"),
            "rename it in the spec, or delete the existing resource (eksform never takes over a resource of another owner by its name)".into(),
        );
    }
}

fn check_quotas(c: &mut Checker, spec: &Spec, plan: &Plan, facts: &Facts) {
    let vpc = spec.vpc.as_ref();
    let vpc_span = vpc.map(|v| v.cidr.as_ref().map_or(v.span, |c| c.span));
    let nat_span = vpc.map(|v| v.nat.as_ref().map_or(v.span, |n| n.span));
    let region = &plan.region;
    let new_vpcs: Vec<&ResourceChange> = created(plan, "vpc").collect();
    if let (Some(existing), Some(first)) = (facts.vpcs, new_vpcs.first())
        && existing + new_vpcs.len() > VPCS_PER_REGION
    {
        c.warning(
            vpc_span,
            format!(
                "{region} holds {existing} VPCs; one more exceeds the default quota of {VPCS_PER_REGION} VPCs per region"
            ),
            "unless the account's quota was raised, the VPC create fails: ask for more in Service Quotas (Amazon VPC, VPCs per Region) or delete an unused VPC".into(),
            first.address.clone(),
        );
    }
    let new_ips: Vec<&ResourceChange> = created(plan, "elastic_ip").collect();
    if let (Some(existing), Some(first)) = (facts.elastic_ips, new_ips.first())
        && existing + new_ips.len() > ELASTIC_IPS_PER_REGION
    {
        c.warning(
            nat_span,
            format!(
                "{region} holds {existing} Elastic IPs; {} more exceed the default quota of {ELASTIC_IPS_PER_REGION} per region",
                new_ips.len()
            ),
            "unless the account's quota was raised, the allocation fails: ask for more in Service Quotas (Amazon EC2, EC2-VPC Elastic IPs), release unused addresses, or bring allocations with `vpc.nat.elasticIPs`".into(),
            first.address.clone(),
        );
    }
    if let Some(existing) = &facts.nat_gateways {
        let mut new_by_zone: BTreeMap<&str, Vec<&ResourceChange>> = BTreeMap::new();
        for nat in created(plan, "nat_gateway") {
            let zone = nat.address.as_str().rsplit('.').next().unwrap_or_default();
            new_by_zone.entry(zone).or_default().push(nat);
        }
        for (zone, new) in new_by_zone {
            let held = existing.get(zone).copied().unwrap_or(0);
            if held + new.len() > NAT_GATEWAYS_PER_ZONE {
                c.warning(
                    nat_span,
                    format!(
                        "{zone} holds {held} NAT gateways; one more exceeds the default quota of {NAT_GATEWAYS_PER_ZONE} per availability zone"
                    ),
                    "unless the account's quota was raised, the NAT gateway create fails: ask for more in Service Quotas (Amazon VPC, NAT gateways per Availability Zone)".into(),
                    new[0].address.clone(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SourceFile;
    use crate::plan::PLAN_FORMAT_VERSION;
    use crate::spec::LoadedSpec;

    const ACCOUNT: &str = "111122223333";

    const SPEC: &str = r#"stack: dev
region: us-east-1
vpc:
  cidr: 10.0.0.0/16
  availabilityZones: [us-east-1a, us-east-1z]
  nat:
    gateway: HighlyAvailable
cluster:
  name: dev-eks
  version: "1.99"
  accessEntries:
    - principalARN: arn:aws:iam::111122223333:role/admins
      accessPolicies:
        - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy
          accessScope: { type: cluster }
    - principalARN: arn:aws:iam::999999999999:role/elsewhere
iam:
  serviceAccounts:
    - metadata: { namespace: apps, name: reader }
      attachPolicyARNs: [arn:aws:iam::aws:policy/NoSuchPolicy]
managedNodeGroups:
  - name: general
    spot: true
    instanceTypes: [m5.largee, t2.nano]
"#;

    fn loaded(text: &str) -> LoadedSpec {
        crate::spec::parse(SourceFile::new("dev.yaml", text)).expect("the spec is valid")
    }

    /// The plan of a spec in an empty account: everything created.
    fn plan_of(loaded: &LoadedSpec) -> Plan {
        let model = crate::lower::model(&loaded.spec);
        let desired = crate::lower::desired(&model);
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            eksform_version: "test".into(),
            stack: model.stack.clone(),
            region: model.region.clone(),
            account: ACCOUNT.into(),
            fingerprint: String::new(),
            resources: crate::plan::diff(&desired, &[]).expect("a plan"),
        }
    }

    fn zone(name: &str) -> ZoneFact {
        ZoneFact {
            name: name.into(),
            state: "available".into(),
        }
    }

    /// `line:column message` of each error, sorted.
    fn errors(findings: &Findings) -> Vec<String> {
        findings
            .errors()
            .iter()
            .map(|d| {
                let span = d.span.unwrap_or_default();
                format!("{}:{} {}", span.line, span.column, d.message)
            })
            .collect()
    }

    #[test]
    fn asks_only_for_what_the_plan_creates() {
        let spec = loaded(SPEC);
        let plan = plan_of(&spec);
        let asked = questions(&spec.spec, &plan);
        assert!(asked.zones && asked.cluster_versions && asked.vpcs);
        assert!(asked.elastic_ips && asked.nat_gateways);
        assert_eq!(
            asked.instance_types,
            BTreeSet::from(["m5.largee".to_string(), "t2.nano".to_string()])
        );
        assert_eq!(asked.spot_types, asked.instance_types);
        assert_eq!(
            asked.instance_zones,
            BTreeSet::from(["us-east-1a".to_string(), "us-east-1z".to_string()])
        );
        assert_eq!(
            asked.managed_policies,
            BTreeSet::from(["arn:aws:iam::aws:policy/NoSuchPolicy".to_string()])
        );
        // A principal of another account is not this account's to read.
        assert_eq!(
            asked.principals,
            BTreeSet::from(["arn:aws:iam::111122223333:role/admins".to_string()])
        );
        // A plan that changes nothing asks nothing.
        let mut unchanged = plan;
        for change in &mut unchanged.resources {
            change.action = Action::NoOp;
        }
        assert!(questions(&spec.spec, &unchanged).is_empty());
    }

    #[test]
    fn every_mistake_is_an_error_at_its_place_in_the_spec() {
        let spec = loaded(SPEC);
        let plan = plan_of(&spec);
        let facts = Facts {
            zones: Some(vec![zone("us-east-1a"), zone("us-east-1b")]),
            cluster_versions: Some(vec![VersionFact {
                version: "1.31".into(),
                status: "STANDARD_SUPPORT".into(),
            }]),
            instance_types: Some(InstanceTypeFacts {
                offered: BTreeMap::from([(
                    "t2.nano".to_string(),
                    BTreeSet::from(["us-east-1a".to_string()]),
                )]),
                in_region: Some(BTreeSet::from([
                    "m5.large".to_string(),
                    "t2.nano".to_string(),
                ])),
            }),
            spot: Some(BTreeMap::from([("t2.nano".to_string(), false)])),
            managed_policies: Some(BTreeMap::from([(
                "arn:aws:iam::aws:policy/NoSuchPolicy".to_string(),
                false,
            )])),
            principals: Some(BTreeMap::from([(
                "arn:aws:iam::111122223333:role/admins".to_string(),
                false,
            )])),
            taken_names: vec![(
                EksCluster::address(),
                "an EKS cluster named `dev-eks` already exists".into(),
            )],
            ..Facts::default()
        };
        let findings = check(&spec.spec, &spec.file, &plan, &facts);
        assert_eq!(
            errors(&findings),
            [
                "5:35 availability zone `us-east-1z` does not exist in us-east-1 or is not offered to account 111122223333",
                "9:9 eks_cluster.main: an EKS cluster named `dev-eks` already exists",
                "10:12 cluster.version: EKS does not offer Kubernetes 1.99",
                "12:21 cluster.accessEntries: principal `arn:aws:iam::111122223333:role/admins` does not exist in account 111122223333",
                "20:26 iam.serviceAccounts: managed policy `arn:aws:iam::aws:policy/NoSuchPolicy` does not exist in account 111122223333",
                "24:21 managedNodeGroups.general: instance type `m5.largee` does not exist in us-east-1",
                "24:32 managedNodeGroups.general: instance type `t2.nano` cannot run as spot",
            ]
        );
        let typo = findings
            .errors()
            .into_iter()
            .find(|d| d.message.contains("m5.largee"))
            .and_then(|d| d.help);
        assert_eq!(typo.as_deref(), Some("did you mean `m5.large`?"));
        let zone_hint = findings
            .errors()
            .into_iter()
            .find(|d| d.message.contains("us-east-1z"))
            .and_then(|d| d.help);
        assert_eq!(
            zone_hint.as_deref(),
            Some("us-east-1 offers us-east-1a, us-east-1b")
        );
        // t2.nano is offered in one of the two zones: a warning, not an error.
        let mut warned = plan.clone();
        findings.warn_in(&mut warned);
        let group = warned
            .resources
            .iter()
            .find(|r| r.address == NodeGroup::address("general"))
            .expect("the node group");
        assert!(
            group.warnings.iter().any(|w| w.contains("dev.yaml:24:32")
                && w.contains("`t2.nano` is not offered in us-east-1z")),
            "{:?}",
            group.warnings
        );
    }

    #[test]
    fn nothing_known_is_nothing_found() {
        let spec = loaded(SPEC);
        let plan = plan_of(&spec);
        let findings = check(&spec.spec, &spec.file, &plan, &Facts::default());
        assert!(findings.0.is_empty(), "{:?}", findings.0);
    }

    #[test]
    fn a_version_in_extended_support_is_a_warning_on_the_cluster() {
        let spec = loaded(SPEC);
        let plan = plan_of(&spec);
        let version = |v: &str, status: &str| VersionFact {
            version: v.into(),
            status: status.into(),
        };
        let facts = Facts {
            cluster_versions: Some(vec![
                version("1.99", "EXTENDED_SUPPORT"),
                version("1.33", "STANDARD_SUPPORT"),
            ]),
            ..Facts::default()
        };
        let findings = check(&spec.spec, &spec.file, &plan, &facts);
        assert!(!findings.errors().has_errors());
        let mut warned = plan;
        findings.warn_in(&mut warned);
        let cluster = warned
            .resources
            .iter()
            .find(|r| r.address == EksCluster::address())
            .expect("the cluster");
        assert!(
            cluster.warnings.iter().any(|w| w.contains("dev.yaml:10:12")
                && w.contains("extended support")
                && w.contains("standard support covers 1.33")),
            "{:?}",
            cluster.warnings
        );
    }

    #[test]
    fn default_quotas_the_plan_would_exceed_are_warnings() {
        let spec = loaded(SPEC);
        let plan = plan_of(&spec);
        let warnings_with = |facts: Facts| {
            let findings = check(&spec.spec, &spec.file, &plan, &facts);
            assert!(!findings.errors().has_errors(), "quotas are never errors");
            findings
                .0
                .iter()
                .map(|f| {
                    let at = f.diagnostic.span.unwrap_or_default();
                    format!(
                        "{} {}:{} {}",
                        f.resource.as_ref().map(Address::as_str).unwrap_or("-"),
                        at.line,
                        at.column,
                        f.diagnostic.message
                    )
                })
                .collect::<Vec<_>>()
        };
        // Below the quotas: no warning. The plan makes 1 VPC, 2 addresses
        // and one NAT gateway per zone.
        let room = Facts {
            vpcs: Some(4),
            elastic_ips: Some(3),
            nat_gateways: Some(BTreeMap::from([("us-east-1a".to_string(), 4)])),
            ..Facts::default()
        };
        assert!(warnings_with(room).is_empty());
        let full = Facts {
            vpcs: Some(5),
            elastic_ips: Some(4),
            nat_gateways: Some(BTreeMap::from([
                ("us-east-1a".to_string(), 5),
                ("us-east-1z".to_string(), 1),
            ])),
            ..Facts::default()
        };
        assert_eq!(
            warnings_with(full),
            [
                "vpc.main 4:9 us-east-1 holds 5 VPCs; one more exceeds the default quota of 5 VPCs per region",
                "elastic_ip.nat.us-east-1a 7:5 us-east-1 holds 4 Elastic IPs; 2 more exceed the default quota of 5 per region",
                "nat_gateway.us-east-1a 7:5 us-east-1a holds 5 NAT gateways; one more exceeds the default quota of 5 per availability zone",
            ]
        );
    }
}
