//! What the engine tests share: their specs, and planning and applying them
//! on the memory cloud with the engine (`ops`), and what a converged
//! account is.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use eksform::ops;
use eksform_core::cloud::Cloud;
use eksform_core::diagnostics::SourceFile;
use eksform_core::execute::{Cancellation, Event, EventLog, ExecuteOptions, Outcome};
use eksform_core::model::{ADDRESS_TAG, DesiredResource, STACK_TAG};
use eksform_core::plan::Plan;
use eksform_core::retry::RetryPolicy;
use eksform_core::{lower, spec};
use eksform_testkit::memory::MemoryCloud;

pub(super) const ACCOUNT: &str = "123456789012";

pub(super) fn spec_text(nat: &str) -> String {
    format!(
        "stack: eng\nregion: us-east-1\nvpc:\n  cidr: 10.40.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b, us-east-1c]\n  nat:\n    gateway: {nat}\n"
    )
}

pub(super) fn desired(text: &str) -> (lower::StackModel, Vec<DesiredResource>) {
    let loaded = spec::parse(SourceFile::new("eng.yaml", text.to_string())).expect("valid spec");
    let model = lower::model(&loaded.spec);
    let desired = lower::desired(&model);
    (model, desired)
}

pub(super) async fn plan(cloud: &Arc<MemoryCloud>, text: &str, destroy: bool) -> Plan {
    try_plan(cloud, text, destroy).await.expect("plan")
}

/// A plan, or the error that refuses one.
pub(super) async fn try_plan(
    cloud: &Arc<MemoryCloud>,
    text: &str,
    destroy: bool,
) -> Result<Plan, ops::OpsError> {
    let (model, desired) = desired(text);
    let goal = if destroy {
        ops::Goal::Destroy
    } else {
        ops::Goal::Apply
    };
    let cloud: Arc<dyn Cloud> = cloud.clone();
    ops::plan(cloud, &model, &desired, goal, RetryPolicy::default())
        .await
        .map(|(plan, _)| plan)
}

pub(super) async fn apply_with(
    cloud: &Arc<MemoryCloud>,
    text: &str,
    destroy: bool,
    options: ExecuteOptions,
) -> (Outcome, Arc<EventLog>) {
    let plan = plan(cloud, text, destroy).await;
    let log = Arc::new(EventLog::default());
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let outcome = ops::apply(
        dyn_cloud,
        &plan,
        options,
        log.clone(),
        Cancellation::default(),
    )
    .await;
    (outcome, log)
}

pub(super) async fn apply(cloud: &Arc<MemoryCloud>, text: &str) -> Outcome {
    apply_with(cloud, text, false, ExecuteOptions::default())
        .await
        .0
}

/// The account holds exactly the desired resources: one per address, all marked.
pub(super) fn assert_converged(cloud: &MemoryCloud, text: &str) {
    let (_, desired) = desired(text);
    let wanted: BTreeSet<String> = desired.iter().map(|d| d.address.to_string()).collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for resource in cloud.resources() {
        let tags = resource
            .attributes
            .get("tags")
            .and_then(|t| t.as_map())
            .cloned()
            .unwrap_or_default();
        let stack = tags.get(STACK_TAG).and_then(|v| v.as_str());
        let address = tags
            .get(ADDRESS_TAG)
            .and_then(|v| v.as_str())
            .unwrap_or("<none>")
            .to_string();
        assert_eq!(
            stack,
            Some("eng"),
            "unmarked resource {} ({address})",
            resource.id
        );
        assert!(
            resource.deleting_until.is_none(),
            "{address} is still being deleted"
        );
        *seen.entry(address).or_default() += 1;
    }
    let duplicates: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "duplicates: {duplicates:?}");
    let found: BTreeSet<String> = seen.into_keys().collect();
    assert_eq!(found, wanted, "live resources are exactly the desired ones");
}

pub(super) async fn assert_no_changes(cloud: &Arc<MemoryCloud>, text: &str) {
    let plan = plan(cloud, text, false).await;
    assert!(
        !plan.summary().has_changes(),
        "a second plan finds nothing to do: {:?}",
        plan.summary()
    );
}

pub(super) fn events(log: &EventLog) -> Vec<Event> {
    log.0.lock().unwrap().clone()
}

pub(super) fn position(events: &[Event], matches: impl Fn(&Event) -> bool) -> usize {
    events.iter().position(matches).expect("event present")
}

/// Plans and applies, where the crash may come anywhere, even in planning.
pub(super) async fn run_that_may_crash(
    cloud: &Arc<MemoryCloud>,
    text: &str,
    destroy: bool,
) -> Option<Outcome> {
    let (model, wanted) = desired(text);
    let goal = if destroy {
        ops::Goal::Destroy
    } else {
        ops::Goal::Apply
    };
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let (plan, _) = ops::plan(
        dyn_cloud.clone(),
        &model,
        &wanted,
        goal,
        RetryPolicy::default(),
    )
    .await
    .ok()?;
    Some(
        ops::apply(
            dyn_cloud,
            &plan,
            ExecuteOptions::default(),
            Arc::new(EventLog::default()),
            Cancellation::default(),
        )
        .await,
    )
}

pub(super) fn cluster_text(version: &str) -> String {
    format!(
        "{}cluster:\n  name: eng-eks\n  version: \"{version}\"\n  publicAccessCIDRs: [198.51.100.7]\n  logging:\n    enableTypes: [\"*\"]\n    logRetentionInDays: 30\n  accessEntries:\n    - principalARN: arn:aws:iam::123456789012:role/platform-admins\n      accessPolicies:\n        - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy\n          accessScope: {{ type: cluster }}\niam:\n  withOIDC: true\n",
        spec_text("HighlyAvailable")
    )
}

pub(super) fn edge_text(port: u16) -> String {
    format!("{}{}", spec_text("Single"), edge_sections(port))
}

/// The load balancer, its certificate and DNS, to append to a spec.
pub(super) fn edge_sections(port: u16) -> String {
    format!(
        "loadBalancers:\n  - name: web\n    idleTimeoutSeconds: 300\n    certificate: {{ domain: \"*.dev.example.com\" }}\n    httpsRedirect: true\n    targetGroups:\n      - name: nginx\n        port: {port}\n        targetType: ip\n    defaultTargetGroup: nginx\ndns:\n  zone: dev.example.com\n  records:\n    - name: \"*.dev.example.com\"\n      alias: {{ loadBalancer: web }}\n"
    )
}

/// A stack with every kind whose create is several AWS calls: the VPC (its
/// DNS attributes), public subnets, the internet gateway (its attachment),
/// route tables (routes, associations), roles (policies), the log group
/// (retention), the load balancer's security group (rules) and the load
/// balancer (its idle timeout); and a node group and Fargate profiles.
pub(super) fn everything_text() -> String {
    format!(
        "{}managedNodeGroups:\n  - name: general\n    minSize: 1\n    maxSize: 3\nfargateProfiles:\n  - name: a\n    selectors: [{{ namespace: a }}]\n  - name: b\n    selectors: [{{ namespace: b }}]\n{}",
        cluster_text("1.31"),
        edge_sections(80)
    )
}

/// Plans `stacks/<name>.yaml` (with its base and references) on the memory
/// cloud; `None` when planning itself crashed.
pub(super) async fn plan_file(
    cloud: &Arc<MemoryCloud>,
    name: &str,
    goal: ops::Goal,
) -> Option<Plan> {
    use eksform_core::cloud::OneCloud;
    use eksform_core::outputs::KnownOutputs;
    let mut stack = ops::prepare(std::path::Path::new(&format!("stacks/{name}.yaml")))
        .expect("the stack file is valid");
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let regions = OneCloud(dyn_cloud.clone());
    ops::plan_stack(
        dyn_cloud,
        &regions,
        &KnownOutputs::new(),
        &mut stack,
        goal,
        RetryPolicy::default(),
    )
    .await
    .ok()
    .map(|(plan, _)| plan)
}

pub(super) async fn run_file(
    cloud: &Arc<MemoryCloud>,
    name: &str,
    goal: ops::Goal,
) -> Option<Outcome> {
    let plan = plan_file(cloud, name, goal).await?;
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    Some(
        ops::apply(
            dyn_cloud,
            &plan,
            ExecuteOptions::default(),
            Arc::new(EventLog::default()),
            Cancellation::default(),
        )
        .await,
    )
}

/// Every resource is marked; the stack's are exactly its desired ones, once each.
pub(super) fn assert_stack_converged(cloud: &MemoryCloud, stack: &str, wanted: &BTreeSet<String>) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for resource in cloud.resources() {
        let tags = resource
            .attributes
            .get("tags")
            .and_then(|t| t.as_map())
            .cloned()
            .unwrap_or_default();
        let owner = tags.get(STACK_TAG).and_then(|v| v.as_str());
        assert!(owner.is_some(), "unmarked resource {}", resource.id);
        if owner != Some(stack) {
            continue;
        }
        assert!(
            resource.deleting_until.is_none(),
            "{} is still being deleted",
            resource.id
        );
        let address = tags
            .get(ADDRESS_TAG)
            .and_then(|v| v.as_str())
            .unwrap_or("<none>");
        *seen.entry(address.to_string()).or_default() += 1;
    }
    let duplicates: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "duplicates: {duplicates:?}");
    assert_eq!(&seen.into_keys().collect::<BTreeSet<_>>(), wanted);
}
