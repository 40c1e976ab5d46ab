//! The floor of an apply as AWS itself sets it, owned by the benchmark.
//!
//! `REQUIREMENTS` says, from AWS's documentation, what must be done before an
//! operation can start (a subnet needs its VPC, a node group an ACTIVE cluster,
//! a listener a validated certificate, ...). The plan only says which
//! resources are which (address, kind, operation) and, through the
//! attributes it would send, which of them name which. Nothing here reads the
//! engine's graph (`build_graph`, `critical_path`) or a kind's ordering
//! metadata (`depends_on`, delete ordering): an edge the engine adds without
//! AWS requiring it shows as a makespan above this floor. Only the duration
//! table is shared with the memory cloud (`Kind::timings`), so that both
//! sides weigh an operation alike.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use eksform_core::execute::Operation;
use eksform_core::kinds;
use eksform_core::model::{Address, Status, Value};
use eksform_core::plan::{Action, Plan, ResourceChange};

/// `kind` cannot start until `needs` is done, when the one names the other.
pub struct Requirement {
    pub kind: &'static str,
    pub needs: &'static str,
    /// AWS also refuses to delete the needed resource while this one exists
    /// (DependencyViolation, ResourceInUse): the deletes go the other way.
    pub delete_refused: bool,
    /// The AWS documentation page that says so.
    pub source: &'static str,
}

const fn requires(
    kind: &'static str,
    needs: &'static str,
    delete_refused: bool,
    source: &'static str,
) -> Requirement {
    Requirement {
        kind,
        needs,
        delete_refused,
        source,
    }
}

/// What AWS requires between resources that name one another. BENCHMARKS.md
/// prints this table with its sources.
pub const REQUIREMENTS: &[Requirement] = &[
    requires(
        "subnet",
        "vpc",
        true,
        "Amazon VPC User Guide, Subnets for your VPC",
    ),
    requires(
        "internet_gateway",
        "vpc",
        true,
        "Amazon VPC User Guide, Internet gateways (attach to a VPC)",
    ),
    requires(
        "nat_gateway",
        "subnet",
        true,
        "Amazon VPC User Guide, NAT gateways (created in a public subnet)",
    ),
    requires(
        "nat_gateway",
        "elastic_ip",
        true,
        "Amazon VPC User Guide, NAT gateways (an Elastic IP address for a public NAT gateway)",
    ),
    requires(
        "route_table",
        "vpc",
        true,
        "Amazon VPC User Guide, Route tables",
    ),
    requires(
        "route_table",
        "subnet",
        false,
        "Amazon VPC User Guide, Route tables (subnet associations)",
    ),
    requires(
        "route_table",
        "internet_gateway",
        false,
        "Amazon VPC User Guide, Internet gateways (route to the gateway)",
    ),
    requires(
        "route_table",
        "nat_gateway",
        false,
        "Amazon VPC User Guide, NAT gateways (route to the available gateway)",
    ),
    requires(
        "security_group",
        "vpc",
        true,
        "Amazon VPC User Guide, Security groups",
    ),
    requires(
        "security_group",
        "security_group",
        true,
        "Amazon VPC User Guide, Security group rules (referenced groups)",
    ),
    requires(
        "security_group",
        "eks_cluster",
        false,
        "Amazon EKS User Guide, Cluster security group",
    ),
    requires(
        "subnet_tags",
        "subnet",
        false,
        "Amazon EC2 API Reference, CreateTags",
    ),
    requires(
        "eks_cluster",
        "subnet",
        true,
        "Amazon EKS User Guide, Create a cluster (subnets; EKS places network interfaces in them)",
    ),
    requires(
        "eks_cluster",
        "iam_role",
        false,
        "Amazon EKS User Guide, Cluster IAM role",
    ),
    requires(
        "eks_cluster",
        "security_group",
        true,
        "Amazon EKS User Guide, Security group requirements",
    ),
    requires(
        "node_group",
        "eks_cluster",
        true,
        "Amazon EKS User Guide, Create a managed node group (cluster ACTIVE; a cluster with node groups cannot be deleted)",
    ),
    requires(
        "node_group",
        "iam_role",
        false,
        "Amazon EKS User Guide, Node IAM role",
    ),
    requires(
        "node_group",
        "subnet",
        true,
        "Amazon EKS User Guide, Create a managed node group (subnets)",
    ),
    requires(
        "node_group",
        "route_table",
        false,
        "Amazon EKS User Guide, VPC and subnet requirements (nodes reach the endpoint and registries through a route)",
    ),
    requires(
        "fargate_profile",
        "eks_cluster",
        true,
        "Amazon EKS User Guide, Fargate profile (cluster ACTIVE)",
    ),
    requires(
        "fargate_profile",
        "iam_role",
        false,
        "Amazon EKS User Guide, Pod execution IAM role",
    ),
    requires(
        "fargate_profile",
        "subnet",
        true,
        "Amazon EKS User Guide, Fargate profile (private subnets)",
    ),
    requires(
        "addon",
        "eks_cluster",
        false,
        "Amazon EKS User Guide, Amazon EKS add-ons (cluster ACTIVE)",
    ),
    requires(
        "addon",
        "iam_role",
        false,
        "Amazon EKS User Guide, IAM roles for service accounts",
    ),
    requires(
        "oidc_provider",
        "eks_cluster",
        false,
        "Amazon EKS User Guide, Create an IAM OIDC provider for your cluster (the issuer URL)",
    ),
    requires(
        "iam_role",
        "oidc_provider",
        false,
        "IAM User Guide, Create a role for OIDC federation (the provider must exist)",
    ),
    requires(
        "iam_role",
        "eks_cluster",
        false,
        "Amazon EKS User Guide, IAM roles for service accounts (the issuer in the trust policy)",
    ),
    requires(
        "access_entry",
        "eks_cluster",
        false,
        "Amazon EKS User Guide, Access entries",
    ),
    requires(
        "access_entry",
        "iam_role",
        false,
        "Amazon EKS User Guide, Access entries (the principal must exist)",
    ),
    requires(
        "pod_identity_association",
        "eks_cluster",
        false,
        "Amazon EKS User Guide, EKS Pod Identity associations",
    ),
    requires(
        "pod_identity_association",
        "iam_role",
        false,
        "Amazon EKS User Guide, EKS Pod Identity associations (the role)",
    ),
    requires(
        "certificate_validation",
        "certificate",
        false,
        "AWS Certificate Manager User Guide, DNS validation",
    ),
    requires(
        "certificate_validation",
        "dns_record",
        false,
        "AWS Certificate Manager User Guide, DNS validation (the CNAME record resolves)",
    ),
    requires(
        "dns_record",
        "hosted_zone",
        true,
        "Amazon Route 53 Developer Guide, Working with records (HostedZoneNotEmpty)",
    ),
    requires(
        "dns_record",
        "load_balancer",
        false,
        "Amazon Route 53 Developer Guide, Routing traffic to an ELB load balancer (alias target)",
    ),
    requires(
        "dns_record",
        "certificate",
        false,
        "AWS Certificate Manager User Guide, DNS validation (the record ACM names)",
    ),
    requires(
        "target_group",
        "vpc",
        false,
        "Elastic Load Balancing, Target groups for your Application Load Balancers",
    ),
    requires(
        "load_balancer",
        "subnet",
        true,
        "Elastic Load Balancing, Application Load Balancers (subnets)",
    ),
    requires(
        "load_balancer",
        "security_group",
        true,
        "Elastic Load Balancing, Security groups for your Application Load Balancer",
    ),
    requires(
        "load_balancer",
        "internet_gateway",
        false,
        "Elastic Load Balancing, Create an Application Load Balancer (an internet-facing one needs the VPC's internet gateway)",
    ),
    requires(
        "listener",
        "load_balancer",
        false,
        "Elastic Load Balancing, Listeners for your Application Load Balancers",
    ),
    requires(
        "listener",
        "target_group",
        true,
        "Elastic Load Balancing, Listeners (a target group in use cannot be deleted)",
    ),
    requires(
        "listener",
        "certificate",
        true,
        "Elastic Load Balancing, SSL certificates (ACM certificates in use cannot be deleted)",
    ),
    requires(
        "listener",
        "certificate_validation",
        false,
        "Elastic Load Balancing, SSL certificates (the certificate must be issued)",
    ),
];

/// Add-ons that run on every node (DaemonSets): ACTIVE with no node at all.
/// Every other add-on runs a Deployment and needs compute first (EKS User
/// Guide, Amazon EKS add-ons: "If an add-on requires nodes, ... DEGRADED").
const NODE_DAEMONS: &[&str] = &["vpc-cni", "kube-proxy", "eks-pod-identity-agent"];

/// Kinds of which AWS runs one operation at a time per cluster (EKS User
/// Guide, Fargate profile: one profile creating or deleting at a time).
const ONE_AT_A_TIME: &[&str] = &["fargate_profile"];

/// One operation of the plan.
struct Step<'a> {
    change: &'a ResourceChange,
    operation: Operation,
}

/// The longest path of a plan's operations through `REQUIREMENTS`, each
/// weighing its kind's duration plus one call (`latency`): the least time any
/// schedule AWS allows can take. With the chain that sets it.
pub struct Floor {
    pub duration: Duration,
    pub chain: Vec<(Address, Operation)>,
    /// Why each link of the chain waits for the one before: the AWS
    /// documentation of the requirement.
    pub sources: Vec<&'static str>,
}

const ONE_AT_A_TIME_SOURCE: &str =
    "Amazon EKS User Guide, AWS Fargate profile (one profile at a time)";
const COMPUTE_SOURCE: &str = "Amazon EKS User Guide, Amazon EKS add-ons (pods need compute)";

/// The AWS documentation that makes `after` wait for `before`.
fn source_of(before: &Step, after: &Step) -> &'static str {
    let (before_kind, after_kind) = (before.change.kind.as_str(), after.change.kind.as_str());
    if before_kind == after_kind && ONE_AT_A_TIME.contains(&after_kind) {
        return ONE_AT_A_TIME_SOURCE;
    }
    if after_kind == "addon" && matches!(before_kind, "node_group" | "fargate_profile") {
        return COMPUTE_SOURCE;
    }
    let deleting = after.operation == Operation::Delete;
    REQUIREMENTS
        .iter()
        .find(|rule| {
            if deleting {
                rule.kind == before_kind && rule.needs == after_kind
            } else {
                rule.kind == after_kind && rule.needs == before_kind
            }
        })
        .map_or("", |rule| rule.source)
}

/// What an operation waits for: all of these, or the first of these (an
/// add-on needs some compute, any node group or Fargate profile).
enum Wait {
    /// This step done, and then this long (a role becoming assumable).
    All(usize, Duration),
    AnyOf(Vec<usize>),
}

/// How long after a role is created EKS can assume it: IAM is eventually
/// consistent (IAM User Guide, "Changes that I make are not always
/// immediately visible"). The memory cloud's value, as for the durations.
fn assumable_after(rule: &Requirement) -> Duration {
    if rule.needs == "iam_role"
        && matches!(rule.kind, "eks_cluster" | "node_group" | "fargate_profile")
    {
        eksform_testkit::memory::ROLE_PROPAGATION
    } else {
        Duration::ZERO
    }
}

pub fn critical_path(plan: &Plan, latency: Duration) -> Result<Floor, String> {
    let steps = steps(plan);
    let waits = waits(&steps);
    let weight = |step: &Step| -> Result<Duration, String> {
        let kind = kinds::by_name(&step.change.kind)
            .ok_or_else(|| format!("unknown kind `{}`", step.change.kind))?;
        let timings = kind.timings();
        Ok(latency
            + match step.operation {
                Operation::Create | Operation::Wait => timings.create,
                Operation::Delete => timings.delete,
                Operation::Update => timings.update,
                Operation::Release => Duration::ZERO,
            })
    };
    let weights = steps.iter().map(weight).collect::<Result<Vec<_>, _>>()?;
    // Operations AWS takes one at a time, grouped by what they share.
    let mut groups: BTreeMap<(String, bool), Vec<usize>> = BTreeMap::new();
    for (i, step) in steps.iter().enumerate() {
        if ONE_AT_A_TIME.contains(&step.change.kind.as_str()) {
            let deleting = step.operation == Operation::Delete;
            groups
                .entry((cluster_of(step.change), deleting))
                .or_default()
                .push(i);
        }
    }
    let group_of: BTreeMap<usize, Vec<usize>> = groups
        .values()
        .flat_map(|members| members.iter().map(move |m| (*m, members.clone())))
        .collect();
    let mut schedule = Schedule {
        waits: &waits,
        weights: &weights,
        group_of: &group_of,
        finish: vec![None; steps.len()],
        via: vec![None; steps.len()],
        visiting: vec![false; steps.len()],
    };
    for i in 0..steps.len() {
        schedule.finish(i)?;
    }
    let Some(last) = (0..steps.len()).max_by_key(|&i| schedule.finish[i]) else {
        return Ok(Floor {
            duration: Duration::ZERO,
            chain: Vec::new(),
            sources: Vec::new(),
        });
    };
    let mut chain = vec![last];
    while let Some(before) = schedule.via[*chain.last().expect("not empty")] {
        chain.push(before);
    }
    chain.reverse();
    let sources = chain
        .windows(2)
        .map(|pair| source_of(&steps[pair[0]], &steps[pair[1]]))
        .collect();
    Ok(Floor {
        duration: schedule.finish[last].unwrap_or_default(),
        sources,
        chain: chain
            .into_iter()
            .map(|i| (steps[i].change.address.clone(), steps[i].operation))
            .collect(),
    })
}

/// Earliest finishes, computed on demand (memoised, cycles refused).
struct Schedule<'a> {
    waits: &'a [Vec<Wait>],
    weights: &'a [Duration],
    group_of: &'a BTreeMap<usize, Vec<usize>>,
    finish: Vec<Option<Duration>>,
    via: Vec<Option<usize>>,
    visiting: Vec<bool>,
}

impl Schedule<'_> {
    /// When step `i` can start at the earliest, and the step that sets it.
    fn ready(&mut self, i: usize) -> Result<(Duration, Option<usize>), String> {
        if self.visiting[i] {
            return Err("AWS's requirements form a cycle in this plan".into());
        }
        self.visiting[i] = true;
        let mut ready = (Duration::ZERO, None);
        for wait in &self.waits[i] {
            let candidate = match wait {
                Wait::All(j, lag) => (self.finish(*j)? + *lag, Some(*j)),
                Wait::AnyOf(options) => {
                    let mut first: Option<(Duration, Option<usize>)> = None;
                    for j in options {
                        let at = self.finish(*j)?;
                        if first.is_none_or(|(best, _)| at < best) {
                            first = Some((at, Some(*j)));
                        }
                    }
                    first.unwrap_or((Duration::ZERO, None))
                }
            };
            if candidate.0 > ready.0 {
                ready = candidate;
            }
        }
        self.visiting[i] = false;
        Ok(ready)
    }

    fn finish(&mut self, i: usize) -> Result<Duration, String> {
        if let Some(done) = self.finish[i] {
            return Ok(done);
        }
        match self.group_of.get(&i).cloned() {
            None => {
                let (ready, via) = self.ready(i)?;
                self.finish[i] = Some(ready + self.weights[i]);
                self.via[i] = via;
            }
            // One at a time: in the order they become ready, which ends the
            // last of them soonest (one machine, release times).
            Some(members) => {
                let mut ready = Vec::new();
                for &m in &members {
                    ready.push((self.ready(m)?, m));
                }
                ready.sort_by_key(|((at, _), m)| (*at, *m));
                let mut free = Duration::ZERO;
                let mut previous = None;
                for ((at, via), m) in ready {
                    let (start, via) = if free > at {
                        (free, previous)
                    } else {
                        (at, via)
                    };
                    free = start + self.weights[m];
                    self.finish[m] = Some(free);
                    self.via[m] = via;
                    previous = Some(m);
                }
            }
        }
        Ok(self.finish[i].unwrap_or_default())
    }
}

/// The plan's operations: a replacement is a delete and a create that AWS
/// lets run side by side (the names differ or the old one goes first at no
/// cost the floor counts).
fn steps(plan: &Plan) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    for change in &plan.resources {
        let mut push = |operation| steps.push(Step { change, operation });
        match change.action {
            Action::Create => push(Operation::Create),
            Action::Update | Action::Adopt | Action::Release => push(Operation::Update),
            Action::Replace => {
                push(Operation::Delete);
                push(Operation::Create);
            }
            Action::Delete => push(Operation::Delete),
            // A resource still being created (an interrupted apply's): the
            // floor counts its whole creation.
            Action::NoOp => {
                if change
                    .live
                    .as_ref()
                    .is_some_and(|l| l.status == Status::Pending)
                {
                    push(Operation::Wait)
                }
            }
        }
    }
    steps
}

/// Every address a desired resource names (its references).
fn desired_names(change: &ResourceChange) -> BTreeSet<&Address> {
    fn walk<'v>(value: &'v Value, into: &mut BTreeSet<&'v Address>) {
        match value {
            Value::Ref(reference) => {
                into.insert(&reference.address);
            }
            Value::List(items) => items.iter().for_each(|v| walk(v, into)),
            Value::Map(map) => map.values().for_each(|v| walk(v, into)),
            _ => {}
        }
    }
    let mut names = BTreeSet::new();
    if let Some(desired) = &change.desired {
        for value in desired.attributes.values() {
            walk(value, &mut names);
        }
    }
    names
}

/// Every string a live resource holds (the ids and ARNs it names).
fn live_strings(change: &ResourceChange) -> BTreeSet<&str> {
    fn walk<'v>(value: &'v Value, into: &mut BTreeSet<&'v str>) {
        match value {
            Value::String(s) => {
                into.insert(s);
            }
            Value::List(items) => items.iter().for_each(|v| walk(v, into)),
            Value::Map(map) => map.values().for_each(|v| walk(v, into)),
            _ => {}
        }
    }
    let mut strings = BTreeSet::new();
    if let Some(live) = &change.live {
        for value in live.attributes.values() {
            walk(value, &mut strings);
        }
    }
    strings
}

/// The cluster a resource belongs to, as its attributes name it.
fn cluster_of(change: &ResourceChange) -> String {
    let named = change
        .desired
        .as_ref()
        .and_then(|d| d.attributes.get("cluster_name"))
        .or_else(|| change.live.as_ref()?.attributes.get("cluster_name"));
    match named {
        Some(Value::Ref(reference)) => reference.address.to_string(),
        Some(Value::String(name)) => name.clone(),
        _ => String::new(),
    }
}

/// Whether `a` names `b`: by reference in what `a` would send, or, for what
/// is live, by holding one of `b`'s ids.
fn names(a: &ResourceChange, b: &ResourceChange) -> bool {
    if desired_names(a).contains(&b.address) {
        return true;
    }
    match &b.live {
        Some(live) => {
            let held = live_strings(a);
            live.identifiers().iter().any(|id| held.contains(id))
        }
        None => false,
    }
}

/// For each step, what it waits for under `REQUIREMENTS`.
fn waits(steps: &[Step]) -> Vec<Vec<Wait>> {
    let creating = |step: &Step| step.operation != Operation::Delete;
    let kind_is = |step: &Step, kind: &str| step.change.kind == kind;
    let mut waits: Vec<Vec<Wait>> = steps.iter().map(|_| Vec::new()).collect();
    for (i, step) in steps.iter().enumerate() {
        for (j, other) in steps.iter().enumerate() {
            if i == j || step.change.address == other.change.address {
                continue;
            }
            for rule in REQUIREMENTS {
                // Creates and updates wait for what they need to be made;
                // a delete of something needed waits for the deletes of
                // what AWS would refuse it for.
                let needed = if creating(step) && creating(other) {
                    kind_is(step, rule.kind)
                        && kind_is(other, rule.needs)
                        && related(rule, step, other, steps)
                } else if !creating(step) && !creating(other) {
                    rule.delete_refused
                        && kind_is(other, rule.kind)
                        && kind_is(step, rule.needs)
                        && names(other.change, step.change)
                } else {
                    false
                };
                if needed {
                    let lag = if creating(step) {
                        assumable_after(rule)
                    } else {
                        Duration::ZERO
                    };
                    waits[i].push(Wait::All(j, lag));
                    break;
                }
            }
        }
        // An add-on that runs pods needs some compute of its cluster.
        let addon_name = step
            .change
            .desired
            .as_ref()
            .and_then(|d| d.attributes.get("addon_name"))
            .and_then(Value::as_str);
        if creating(step)
            && kind_is(step, "addon")
            && addon_name.is_some_and(|name| !NODE_DAEMONS.contains(&name))
        {
            let cluster = cluster_of(step.change);
            let compute: Vec<usize> = steps
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    creating(s)
                        && (kind_is(s, "node_group") || kind_is(s, "fargate_profile"))
                        && cluster_of(s.change) == cluster
                })
                .map(|(j, _)| j)
                .collect();
            if !compute.is_empty() {
                waits[i].push(Wait::AnyOf(compute));
            }
        }
    }
    waits
}

/// Whether `rule` relates these two creates. Most relations are a name; a
/// few go through a third resource AWS looks at.
fn related(rule: &Requirement, step: &Step, other: &Step, steps: &[Step]) -> bool {
    let (a, b) = (step.change, other.change);
    match (rule.kind, rule.needs) {
        // The route tables of the node group's subnets (their way out).
        ("node_group", "route_table") => desired_names(a)
            .iter()
            .any(|subnet| desired_names(b).contains(subnet)),
        // The internet gateway of the VPC of the NAT gateway's or the
        // internet-facing load balancer's subnets.
        ("nat_gateway" | "load_balancer", "internet_gateway") => {
            let internet_facing = rule.kind == "nat_gateway"
                || a.desired
                    .as_ref()
                    .and_then(|d| d.attributes.get("scheme"))
                    .and_then(Value::as_str)
                    == Some("internet-facing");
            internet_facing
                && steps.iter().any(|subnet| {
                    subnet.change.kind == "subnet"
                        && names(a, subnet.change)
                        && desired_names(subnet.change)
                            .iter()
                            .any(|vpc| desired_names(b).contains(vpc))
                })
        }
        // The validation record of the same certificate.
        ("certificate_validation", "dns_record") => desired_names(a)
            .iter()
            .any(|certificate| desired_names(b).contains(certificate)),
        // The validation of the certificate the listener serves.
        ("listener", "certificate_validation") => desired_names(a)
            .iter()
            .any(|certificate| desired_names(b).contains(certificate)),
        _ => names(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::Arc;

    use eksform::ops;
    use eksform_core::cloud::Cloud;
    use eksform_core::execute::{Cancellation, EventLog, ExecuteOptions};
    use eksform_testkit::memory::MemoryCloud;

    fn stack_file(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../stacks")
            .join(name)
    }

    /// `stacks/prd.yaml` applied (after dev-stg, which it refers to) with
    /// `options`: the makespan and the plan's independent floor.
    async fn prd_apply(options: ExecuteOptions) -> (Duration, Duration) {
        let cloud = Arc::new(MemoryCloud::new(crate::ACCOUNT));
        for name in ["dev-stg.yaml", "prd.yaml"] {
            let mut stack = ops::prepare(&stack_file(name)).expect("a valid stack file");
            let plan = crate::plan_on(cloud.clone(), &mut stack)
                .await
                .expect("plan");
            let floor = critical_path(&plan, cloud.latency()).expect("a floor");
            let options = if name == "prd.yaml" {
                options.clone()
            } else {
                ExecuteOptions::default()
            };
            let started = tokio::time::Instant::now();
            let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
            let outcome = ops::apply(
                dyn_cloud,
                &plan,
                options,
                Arc::new(EventLog::default()),
                Cancellation::default(),
            )
            .await;
            assert!(outcome.succeeded(), "{outcome:?}");
            if name == "prd.yaml" {
                return (started.elapsed(), floor.duration);
            }
        }
        unreachable!("prd.yaml is applied last")
    }

    #[test]
    fn fargate_profiles_of_a_cluster_count_one_after_another() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a runtime");
        let cloud = Arc::new(MemoryCloud::new(crate::ACCOUNT));
        let mut stack = crate::stack_from_text(&crate::estate_stack(0));
        let plan = runtime
            .block_on(crate::plan_on(cloud.clone(), &mut stack))
            .expect("plan");
        let floor = critical_path(&plan, cloud.latency()).expect("a floor");
        // The cluster's role and its 8 s to become assumable, the control
        // plane (15 min), then the two profiles (3 min each, one at a time)
        // outlast the node group (5 min).
        let chain: Vec<String> = floor
            .chain
            .iter()
            .map(|(address, operation)| format!("{operation} {address}"))
            .collect();
        assert_eq!(
            chain[chain.len() - 3..],
            [
                "create eks_cluster.main",
                "create fargate_profile.bots",
                "create fargate_profile.jobs"
            ],
            "{chain:?}"
        );
        let minutes = floor.duration.as_secs_f64() / 60.0;
        assert!((21.13..21.14).contains(&minutes), "{minutes}");
        assert_eq!(floor.sources.len(), chain.len() - 1);
        assert_eq!(floor.sources.last(), Some(&ONE_AT_A_TIME_SOURCE));
    }

    #[test]
    fn a_needless_wait_in_the_engine_raises_the_independent_ratio() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a runtime");
        let (makespan, floor) = runtime.block_on(prd_apply(ExecuteOptions::default()));
        // The control plane needs its subnets and role, not a NAT gateway;
        // a node group needs the cluster, not its vpc-cni add-on: waits AWS
        // does not ask for, two minutes each on the path.
        let needless = ExecuteOptions {
            extra_waits: vec![
                (
                    Address::new(&["eks_cluster", "main"]),
                    Address::new(&["nat_gateway", "ap-northeast-1a"]),
                ),
                (
                    Address::new(&["node_group", "general"]),
                    Address::new(&["addon", "vpc-cni"]),
                ),
            ],
            ..ExecuteOptions::default()
        };
        let (slower, same_floor) = runtime.block_on(prd_apply(needless));
        assert_eq!(
            floor, same_floor,
            "the floor is the plan's, not the graph's"
        );
        let ratio = makespan.as_secs_f64() / floor.as_secs_f64();
        let needless_ratio = slower.as_secs_f64() / floor.as_secs_f64();
        // Polls and jittered retries (the role's IAM lag) move a makespan
        // by seconds, never by the four minutes the needless waits add.
        assert!(ratio < 1.05, "{ratio}");
        assert!(needless_ratio > ratio + 0.1, "{ratio} -> {needless_ratio}");
    }

    #[test]
    fn every_requirement_names_registered_kinds() {
        for rule in REQUIREMENTS {
            assert!(kinds::by_name(rule.kind).is_some(), "{}", rule.kind);
            assert!(kinds::by_name(rule.needs).is_some(), "{}", rule.needs);
        }
    }
}
