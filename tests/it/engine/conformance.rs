//! The conformance suite every kind gets for free (like Terraform's provider
//! acceptance harness), run on the memory cloud with virtual time: for each
//! kind of the registry, its resources are created, a second plan finds
//! nothing to do, each in-place attribute changed is an update and each
//! replacing attribute changed a replacement (both applied and re-planned to
//! nothing), the stack's destroy leaves nothing of it, and a crash after any
//! call of its apply or destroy is finished by the next run. The changes come
//! from the kind's attribute schema, so a new kind is covered as soon as a
//! fixture below lowers to it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use eksform::ops;
use eksform_core::cloud::Cloud;
use eksform_core::diagnostics::SourceFile;
use eksform_core::execute::{Cancellation, EventLog, ExecuteOptions, Outcome};
use eksform_core::kinds::{self, Change};
use eksform_core::lower::{self, StackModel};
use eksform_core::model::{ADDRESS_TAG, Attributes, DesiredResource, STACK_TAG, Value};
use eksform_core::plan::{Action, Plan};
use eksform_core::retry::RetryPolicy;
use eksform_core::spec;
use eksform_testkit::crash::crash_sweep;
use eksform_testkit::memory::MemoryCloud;

const ACCOUNT: &str = "123456789012";

/// A stack that lowers to every kind eksform creates. Its subnets' blocks
/// are the spec's: automatic blocks stay where they are once made
/// (`lower::keep_what_exists`), so a changed block would not show.
const EVERY_KIND: &str = r#"
stack: conf
region: us-east-1
vpc:
  cidr: 10.40.0.0/16
  availabilityZones: [us-east-1a, us-east-1b]
  subnets:
    public:
      us-east-1a: { cidr: 10.40.0.0/20 }
      us-east-1b: { cidr: 10.40.16.0/20 }
    private:
      us-east-1a: { cidr: 10.40.32.0/20 }
      us-east-1b: { cidr: 10.40.48.0/20 }
  nat:
    gateway: HighlyAvailable
cluster:
  version: "1.31"
  publicAccessCIDRs: [198.51.100.7]
  secretsEncryption: { keyARN: "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0" }
  upgradePolicy: { supportType: STANDARD }
  zonalShift: { enabled: true }
  logging:
    enableTypes: [api, audit]
    logRetentionInDays: 30
  addons:
    - name: coredns
      version: v1.11.1-eksbuild.1
    - name: aws-ebs-csi-driver
      serviceAccount: kube-system/ebs-csi-controller-sa
  accessEntries:
    - principalARN: arn:aws:iam::123456789012:role/platform-admins
      accessPolicies:
        - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy
          accessScope: { type: cluster }
iam:
  withOIDC: true
  serviceAccounts:
    - metadata: { namespace: kube-system, name: ebs-csi-controller-sa }
      wellKnownPolicies: { ebsCSIController: true }
  podIdentityAssociations:
    - namespace: app
      serviceAccountName: app
      permissionPolicyARNs: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]
managedNodeGroups:
  - name: general
    instanceTypes: [m6i.large]
    amiFamily: AmazonLinux2023
    minSize: 1
    maxSize: 3
    desiredCapacity: 2
    labels: { role: general }
fargateProfiles:
  - name: system
    selectors:
      - namespace: kube-system
loadBalancers:
  - name: web
    scheme: internet-facing
    ingressCIDRs: [0.0.0.0/0]
    certificate: { domain: "*.dev.example.com" }
    httpsRedirect: true
    targetGroups:
      - name: nginx
        port: 80
        targetType: ip
        healthCheckPath: /health
    defaultTargetGroup: nginx
securityGroups:
  - name: db
    ingress:
      - { from: nodes, port: 5432 }
      - { from: loadBalancer.web, port: 5432 }
      - { from: 10.40.0.0/16, ports: "5432-5433" }
      - { from: db, protocol: all }
  - name: cache
    description: Cache admitting the database
    ingress:
      - { from: db, port: 6379, protocol: tcp }
    egress:
      - { to: 10.40.0.0/16, protocol: udp, port: 53 }
dns:
  zone: dev.example.com
  records:
    - name: "*.dev.example.com"
      alias: { loadBalancer: web }
    - name: status.dev.example.com
      type: CNAME
      ttl: 300
      values: [status.example.net]
registries:
  - name: conf/app
    immutableTags: true
    encryption: { type: KMS, kmsKeyARN: "arn:aws:kms:us-east-1:123456789012:key/conf" }
    lifecycle:
      keepLastTagged: [{ tagPrefixes: [v], count: 10 }]
      expireUntaggedAfterDays: 7
    pullAccounts: ["444455556666"]
storage:
  efs:
    - name: shared
      kmsKeyARN: "arn:aws:kms:us-east-1:123456789012:key/conf"
      throughputMode: provisioned
      provisionedThroughputMiBps: 64
      lifecycle: { transitionToIA: AFTER_30_DAYS, transitionToPrimaryStorageClass: AFTER_1_ACCESS }
      backup: true
      accessPoints:
        - name: app
          path: /data/app
          posixUser: { uid: 1000, gid: 1000, secondaryGids: [2000] }
          permissions: "0750"
"#;

/// A stack on a VPC it brings: eksform only tags the subnets.
const BROUGHT_VPC: &str = r#"
stack: byo
region: us-east-1
vpc:
  id: vpc-0123456789abcdef0
  subnets:
    public:
      us-east-1a: { id: subnet-0aaaaaaaaaaaaaaa1 }
    private:
      us-east-1a: { id: subnet-0bbbbbbbbbbbbbbb1 }
"#;

/// Changes a plan refuses for the whole stack although the kind allows them,
/// before anything is touched, as too big for one apply: (kind, attribute,
/// why). None today: a new VPC block replaces the whole stack in one apply.
const ONE_APPLY_CANNOT_ORDER: &[(&str, &str, &str)] = &[];

/// Kinds no fixture lowers to, with where their conformance lives.
const NOT_LOWERED: &[(&str, &str)] = &[(
    "controller_leftover",
    "found only when destroying: `a_leftover_is_deleted_with_its_stack` here",
)];

struct Fixture {
    model: StackModel,
    desired: Vec<DesiredResource>,
}

impl Fixture {
    fn new(text: &'static str) -> Self {
        let loaded =
            spec::parse(SourceFile::new("conformance.yaml", text.to_string())).expect("valid spec");
        let model = lower::model(&loaded.spec);
        let desired = lower::desired(&model);
        Self { model, desired }
    }

    /// A cloud holding what the fixture brings (the VPC's subnets).
    fn cloud(&self) -> Arc<MemoryCloud> {
        let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
        for resource in self.desired.iter().filter(|d| d.kind == "subnet_tags") {
            let id = resource.attributes["id"].as_str().expect("a subnet id");
            let mut attributes = Attributes::new();
            attributes.insert("id".into(), Value::string(id));
            attributes.insert("tags".into(), Value::string_map(&BTreeMap::new()));
            cloud.insert("subnet_tags", id, attributes);
        }
        cloud
    }
}

async fn plan(
    cloud: &Arc<MemoryCloud>,
    model: &StackModel,
    desired: &[DesiredResource],
    goal: ops::Goal,
) -> Result<Plan, ops::OpsError> {
    let cloud: Arc<dyn Cloud> = cloud.clone();
    ops::plan(cloud, model, desired, goal, RetryPolicy::default())
        .await
        .map(|(plan, _)| plan)
}

async fn apply(cloud: &Arc<MemoryCloud>, plan: &Plan) {
    if let Err(failure) = try_apply(cloud, plan).await {
        panic!("{failure}");
    }
}

async fn try_apply(cloud: &Arc<MemoryCloud>, plan: &Plan) -> Result<(), String> {
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let outcome = ops::apply(
        dyn_cloud,
        plan,
        ExecuteOptions::default(),
        Arc::new(EventLog::default()),
        Cancellation::default(),
    )
    .await;
    if outcome.succeeded() {
        Ok(())
    } else {
        Err(format!("apply failed: {:?}", outcome.failed))
    }
}

/// What a plan does, in words: `address Action` for each change.
fn actions_of(planned: &Plan) -> Vec<String> {
    planned
        .resources
        .iter()
        .filter(|r| r.action != Action::NoOp)
        .map(|r| format!("{} {:?}", r.address, r.action))
        .collect()
}

/// What a plan of `desired` would still do: nothing, once it is applied.
async fn work_left(
    cloud: &Arc<MemoryCloud>,
    fixture: &Fixture,
    desired: &[DesiredResource],
) -> Vec<String> {
    let again = plan(cloud, &fixture.model, desired, ops::Goal::Apply)
        .await
        .expect("plan");
    actions_of(&again)
}

/// Plans and applies `desired`, and checks that the next plan finds nothing
/// to do.
async fn converge(cloud: &Arc<MemoryCloud>, fixture: &Fixture, desired: &[DesiredResource]) {
    let planned = plan(cloud, &fixture.model, desired, ops::Goal::Apply)
        .await
        .expect("plan");
    apply(cloud, &planned).await;
    let left = work_left(cloud, fixture, desired).await;
    assert!(left.is_empty(), "a second plan finds work: {left:?}");
}

/// Another value of the same shape, valid where the first was: a CIDR block
/// none of the stack's uses, a number one up, the other boolean, another
/// valid policy document, a string with its last character moved on, a list
/// with one more item, a map with one more key.
/// `None` where the attribute holds a reference (known after apply: it
/// changes with what it refers to, never on its own).
fn changed(value: &Value, round: u8) -> Option<Value> {
    Some(match value {
        Value::Bool(b) => Value::Bool(!b),
        Value::Int(i) => Value::Int(i + 1),
        Value::String(s) if s.parse::<ipnet::Ipv4Net>().is_ok() => {
            Value::string(format!("10.{}.0.0/24", 200 + u32::from(round)))
        }
        Value::String(s) => match serde_json::from_str::<serde_json::Value>(s) {
            // A policy document: another valid one.
            Ok(serde_json::Value::Object(mut document)) => {
                document.insert("Id".into(), format!("conformance-{round}").into());
                Value::string(serde_json::Value::Object(document).to_string())
            }
            _ => Value::string(next_character(s)?),
        },
        Value::List(items) => {
            let mut items = items.clone();
            let extra = match items.first() {
                Some(first) => changed(first, round)?,
                None => Value::string("changed"),
            };
            items.push(extra);
            Value::List(items)
        }
        // An empty map gives no item to follow (an inline policy must be a
        // document): left alone.
        Value::Map(map) => {
            let mut map = map.clone();
            let (key, first) = map.iter().next()?;
            let extra = changed(first, round)?;
            map.insert(format!("{key}-changed"), extra);
            Value::Map(map)
        }
        Value::Null | Value::Ref(..) => return None,
    })
}

/// The string with its last letter or digit moved one on (`us-east-1a` ->
/// `us-east-1b`, `1.31` -> `1.32`): the same length and shape, so names stay
/// within AWS's limits.
fn next_character(text: &str) -> Option<String> {
    let (at, last) = text
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_ascii_alphanumeric())?;
    let next = match last {
        'z' => 'y',
        'Z' => 'Y',
        '9' => '8',
        c => (c as u8 + 1) as char,
    };
    let mut changed = text.to_string();
    changed.replace_range(at..at + 1, &next.to_string());
    Some(changed)
}

/// Whether the value holds a reference anywhere.
fn refers(value: &Value) -> bool {
    match value {
        Value::Ref(..) => true,
        Value::List(items) => items.iter().any(refers),
        Value::Map(map) => map.values().any(refers),
        _ => false,
    }
}

/// The stack's marked resources in the cloud, by address.
fn marked(cloud: &MemoryCloud, stack: &str) -> BTreeSet<String> {
    cloud
        .resources()
        .into_iter()
        .filter(|r| r.deleting_until.is_none())
        .filter_map(|r| {
            let tags = r.attributes.get("tags")?.as_map()?.clone();
            (tags.get(STACK_TAG)?.as_str()? == stack)
                .then(|| tags.get(ADDRESS_TAG)?.as_str().map(str::to_string))
                .flatten()
        })
        .collect()
}

/// What one kind's conformance run did, for the registry's coverage check.
#[derive(Debug, Default)]
struct Covered {
    created: usize,
    in_place: usize,
    replaced: usize,
    refused: usize,
    /// Changes the schema says are satisfied as they are (`Compare`).
    satisfied: usize,
    /// Attributes whose change the plan refused as too big for one apply.
    too_big_for_one_apply: Vec<String>,
}

/// The whole run for the fixture: create, no-op, every attribute of every
/// resource changed (by the schema's `change_of`, checked through the plan
/// and the apply), back to the spec, destroy.
async fn run(fixture: &Fixture, failures: &mut Vec<String>) -> BTreeMap<&'static str, Covered> {
    let cloud = fixture.cloud();
    let stack = fixture.model.stack.clone();
    let mut covered: BTreeMap<&'static str, Covered> = BTreeMap::new();

    // Create, then a second plan that finds nothing to do.
    converge(&cloud, fixture, &fixture.desired).await;
    for resource in &fixture.desired {
        let kind = kinds::by_name(&resource.kind).expect("a registered kind");
        covered.entry(kind.name()).or_default().created += 1;
    }

    // Every attribute changed, one at a time, from the baseline: the spec,
    // plus the changes that cannot be undone (EKS has no downgrades).
    let mut baseline = fixture.desired.clone();
    let mut round = 0u8;
    for (index, resource) in fixture.desired.iter().enumerate() {
        let kind = kinds::by_name(&resource.kind).expect("a registered kind");
        for (name, value) in &resource.attributes {
            // What AWS computes, what follows another resource, and what
            // names the resource itself (a brought subnet's id: another id
            // is another subnet) are not changed on their own.
            if kind.is_computed(name) || refers(value) || kind.looked_up_by() == Some(name) {
                continue;
            }
            round = round.wrapping_add(1);
            let value = &baseline[index].attributes[name].clone();
            let Some(new) = changed(value, round) else {
                continue;
            };
            let mut desired = baseline.clone();
            desired[index].attributes.insert(name.clone(), new.clone());
            let entry = covered.entry(kind.name()).or_default();
            let planned = match plan(&cloud, &fixture.model, &desired, ops::Goal::Apply).await {
                Ok(planned) => planned,
                Err(refusal) => {
                    // Only a change the kind refuses, with its reason, or one
                    // listed as too big for one apply, may stop the plan.
                    let too_big = ONE_APPLY_CANNOT_ORDER
                        .iter()
                        .any(|(k, a, _)| *k == kind.name() && a == name)
                        && refusal
                            .to_string()
                            .contains("split the change into two applies");
                    if too_big {
                        entry.too_big_for_one_apply.push(name.clone());
                    }
                    if !too_big && kind.check_change(name, value, &new).is_ok() {
                        failures.push(format!(
                            "{} `{name}` -> {new:?}: the plan failed without the kind refusing it: {refusal}",
                            resource.address
                        ));
                    }
                    entry.refused += 1;
                    continue;
                }
            };
            let action = planned
                .resources
                .iter()
                .find(|r| r.address == resource.address)
                .map(|r| r.action)
                .expect("the changed resource is in the plan");
            let expected = if kind.satisfied(name, value, &new) {
                Action::NoOp
            } else if kind.change_of(name) == Change::Replace {
                Action::Replace
            } else {
                Action::Update
            };
            if action != expected {
                failures.push(format!(
                    "{} `{name}` {value:?} -> {new:?}: {action:?}, not {expected:?}",
                    resource.address
                ));
                continue;
            }
            match expected {
                Action::Replace => entry.replaced += 1,
                Action::Update => entry.in_place += 1,
                _ => entry.satisfied += 1,
            }
            if let Err(failure) = try_apply(&cloud, &planned).await {
                let actions = actions_of(&planned);
                failures.push(format!(
                    "{} `{name}` -> {new:?}: {failure} (plan: {actions:?})",
                    resource.address
                ));
                return covered;
            }
            let left = work_left(&cloud, fixture, &desired).await;
            if !left.is_empty() {
                failures.push(format!(
                    "after {} `{name}` changed, a second plan finds work: {left:?}",
                    resource.address
                ));
            }
            // Back to the baseline, unless the kind refuses the way back.
            if kind.check_change(name, &new, value).is_err() {
                baseline = desired;
            } else {
                converge(&cloud, fixture, &baseline).await;
            }
        }
    }

    // Destroy: nothing of the stack is left.
    let planned = plan(&cloud, &fixture.model, &baseline, ops::Goal::Destroy)
        .await
        .expect("destroy plan");
    apply(&cloud, &planned).await;
    assert_eq!(
        marked(&cloud, &stack),
        BTreeSet::new(),
        "left after destroy"
    );
    covered
}

#[tokio::test(start_paused = true)]
async fn every_kind_is_created_changed_in_place_replaced_and_deleted() {
    let mut missing = Vec::new();
    let mut covered = run(&Fixture::new(EVERY_KIND), &mut missing).await;
    covered.extend(run(&Fixture::new(BROUGHT_VPC), &mut missing).await);
    for kind in kinds::ALL {
        if NOT_LOWERED.iter().any(|(name, _)| *name == kind.name()) {
            continue;
        }
        match covered.get(kind.name()) {
            None => missing.push(format!("{}: no fixture lowers to it", kind.name())),
            Some(run) if run.in_place + run.replaced + run.refused + run.satisfied == 0 => {
                missing.push(format!("{}: no attribute was changed", kind.name()))
            }
            Some(_) => {}
        }
    }
    // The list of changes too big for one apply is the truth, not a wish.
    for (kind, attribute, _) in ONE_APPLY_CANNOT_ORDER {
        if !covered
            .get(kind)
            .is_some_and(|run| run.too_big_for_one_apply.iter().any(|a| a == attribute))
        {
            missing.push(format!(
                "{kind} `{attribute}`: listed as too big for one apply, but it was not refused"
            ));
        }
    }
    assert!(missing.is_empty(), "conformance failures: {missing:#?}");
}

#[tokio::test(start_paused = true)]
async fn a_leftover_is_deleted_with_its_stack() {
    let fixture = Fixture::new(EVERY_KIND);
    let cloud = fixture.cloud();
    converge(&cloud, &fixture, &fixture.desired).await;
    let vpc = cloud
        .resources()
        .into_iter()
        .find(|r| r.kind == "vpc")
        .expect("the stack's VPC")
        .id;
    // What the load balancer controller left, as observation reports it: one
    // in the stack's VPC, one (same cluster tag) in a VPC that is not the
    // stack's, which stays.
    let leftover = |name: &str, vpc: &str| {
        let mut tags = BTreeMap::new();
        tags.insert(STACK_TAG.to_string(), "conf".to_string());
        tags.insert(
            ADDRESS_TAG.to_string(),
            format!("controller_leftover.load_balancer.{name}"),
        );
        let mut attributes = Attributes::new();
        attributes.insert("what".into(), Value::string("load balancer"));
        attributes.insert("vpc_id".into(), Value::string(vpc));
        attributes.insert("tags".into(), Value::string_map(&tags));
        cloud.insert("controller_leftover", name, attributes);
    };
    leftover("k8s-default-web", &vpc);
    leftover("k8s-other-web", "vpc-0fedcba9876543210");
    let planned = plan(&cloud, &fixture.model, &fixture.desired, ops::Goal::Destroy)
        .await
        .expect("destroy plan");
    assert!(
        planned
            .resources
            .iter()
            .any(|r| r.kind == "controller_leftover" && r.action == Action::Delete),
        "the destroy plan deletes the leftover"
    );
    assert!(
        !planned
            .resources
            .iter()
            .any(|r| r.address.to_string().ends_with("k8s-other-web")),
        "what is outside the stack's VPC is not in the plan"
    );
    apply(&cloud, &planned).await;
    let left: BTreeSet<String> =
        BTreeSet::from(["controller_leftover.load_balancer.k8s-other-web".to_string()]);
    assert_eq!(marked(&cloud, "conf"), left, "left after destroy");
}

/// Plans and applies `goal` for the fixture; `None` when planning crashed.
async fn run_that_may_crash(
    cloud: &Arc<MemoryCloud>,
    fixture: &Fixture,
    goal: ops::Goal,
) -> Option<Outcome> {
    let planned = plan(cloud, &fixture.model, &fixture.desired, goal)
        .await
        .ok()?;
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    Some(
        ops::apply(
            dyn_cloud,
            &planned,
            ExecuteOptions::default(),
            Arc::new(EventLog::default()),
            Cancellation::default(),
        )
        .await,
    )
}

/// The kinds whose creates, updates or deletes a clean run of `goal` calls.
async fn kinds_called(
    fixture: &Fixture,
    cloud: Arc<MemoryCloud>,
    goal: ops::Goal,
) -> BTreeSet<String> {
    let before = cloud.call_log().len();
    let outcome = run_that_may_crash(&cloud, fixture, goal)
        .await
        .expect("a plan");
    assert!(outcome.succeeded(), "{outcome:?}");
    cloud.call_log()[before..]
        .iter()
        .filter_map(|call| {
            let (operation, kind) = call.action.split_once(' ')?;
            matches!(operation, "create" | "update" | "delete")
                .then(|| kind.split(':').next().unwrap_or(kind).to_string())
        })
        .collect()
}

/// Every kind the fixture lowers to is called by its apply and its destroy,
/// and a crash after each of those calls is finished by the next run: the
/// apply converges to the fixture, the destroy leaves nothing marked.
#[tokio::test(start_paused = true)]
async fn a_crash_after_any_call_of_any_kind_is_finished_by_the_next_run() {
    let fixture = Fixture::new(EVERY_KIND);
    let lowered: BTreeSet<String> = fixture.desired.iter().map(|d| d.kind.clone()).collect();
    let applied = async || {
        let cloud = fixture.cloud();
        converge(&cloud, &fixture, &fixture.desired).await;
        cloud
    };
    assert_eq!(
        kinds_called(&fixture, fixture.cloud(), ops::Goal::Apply).await,
        lowered,
        "the apply calls every kind the fixture lowers to"
    );
    assert_eq!(
        kinds_called(&fixture, applied().await, ops::Goal::Destroy).await,
        lowered,
        "the destroy calls every kind the fixture lowers to"
    );
    let wanted: BTreeSet<String> = fixture
        .desired
        .iter()
        .map(|d| d.address.to_string())
        .collect();
    crash_sweep(
        async || fixture.cloud(),
        async |cloud| run_that_may_crash(cloud, &fixture, ops::Goal::Apply).await,
        async |cloud, crash| {
            assert_eq!(
                marked(cloud, "conf"),
                wanted,
                "crash at call {} of {}",
                crash.at,
                crash.of
            );
            let left = work_left(cloud, &fixture, &fixture.desired).await;
            assert!(
                left.is_empty(),
                "crash at call {} of {}: a second plan finds work: {left:?}",
                crash.at,
                crash.of
            );
        },
    )
    .await;
    crash_sweep(
        applied,
        async |cloud| run_that_may_crash(cloud, &fixture, ops::Goal::Destroy).await,
        async |cloud, crash| {
            assert_eq!(
                marked(cloud, "conf"),
                BTreeSet::new(),
                "crash at call {} of {}: left after destroy",
                crash.at,
                crash.of
            );
        },
    )
    .await;
}
