//! eksform-bench: how close eksform comes to the floors AWS allows.
//!
//! - Apply on the in-memory cloud, on virtual time, with the duration table of
//!   `Kind::timings` (BENCHMARKS.md gives their sources): the makespan of
//!   `stacks/prd.yaml` against its critical path, and the same for an estate.
//! - Plans through the real adapter against the emulator (moto), through the
//!   project's proxy, which counts calls, measures their chains and adds 50 ms.
//! - CPU time of parse + lower + diff of a generated 500-resource stack.
//!
//! - The same applies against an independent floor (`independent_floor`):
//!   what AWS itself requires, never the engine's graph; and at scale
//!   (`scale`): a no-change plan of 500 resources, 50 stacks applied at once.
//!
//! `--json` prints one JSON object, each key's goal in `goals`; `--quick`
//! uses small estates and few runs (what CI runs, to prove the benchmark
//! works; it judges no goal). A failure inside the benchmark (an error, a
//! second plan with changes) exits 1.

mod independent_floor;
mod report;
mod scale;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eksform::ops;
use eksform_aws::{AwsClients, AwsCloud};
use eksform_core::cloud::{Cloud, OneCloud};
use eksform_core::diagnostics::SourceFile;
use eksform_core::execute::{self, Cancellation, EventLog, ExecuteOptions, NoEvents, Operation};
use eksform_core::kinds::{self, Kind};
use eksform_core::model::Address;
use eksform_core::outputs::KnownOutputs;
use eksform_core::plan::Plan;
use eksform_core::retry::RetryPolicy;
use eksform_core::{lower, plan, spec};
use eksform_testkit::memory::MemoryCloud;
use eksform_testkit::proxy::{self, Behaviour};

mod crowded;

pub(crate) const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(scale::RSS_MODE) {
        let Some(path) = args.get(1) else {
            eprintln!("{} needs the live state's file", scale::RSS_MODE);
            std::process::exit(1);
        };
        if let Err(e) = scale::rss_child(Path::new(path)) {
            eprintln!("{e}");
            std::process::exit(1);
        }
        return;
    }
    let json = args.iter().any(|a| a == "--json");
    let quick = args.iter().any(|a| a == "--quick");
    let mut report = BTreeMap::new();
    let mut notes = Vec::new();
    if let Err(e) = run(&mut report, &mut notes, quick) {
        eprintln!("eksform-bench failed: {e}");
        std::process::exit(1);
    }

    let goals = report::goals(&report, quick);
    let not_met = report::not_met(&goals);
    if json {
        let mut object: serde_json::Map<String, serde_json::Value> = report.into_iter().collect();
        object.insert("goals".into(), serde_json::json!(goals));
        object.insert("goals_not_met".into(), serde_json::json!(not_met));
        object.insert("quick".into(), serde_json::json!(quick));
        object.insert("notes".into(), serde_json::json!(notes));
        println!("{}", serde_json::Value::Object(object));
    } else {
        print!("{}", report::table(&report, &goals));
        if quick {
            println!("\nquick: no goal is judged");
        } else if !not_met.is_empty() {
            println!("\ngoals not met: {}", not_met.join(", "));
        }
        for note in &notes {
            println!("\n{note}");
        }
    }
}

/// Every measurement; an error is a failure of the benchmark, not a note.
fn run(
    report: &mut BTreeMap<String, serde_json::Value>,
    notes: &mut Vec<String>,
    quick: bool,
) -> Result<(), String> {
    let virtual_time = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .map_err(|e| e.to_string())?;
    virtual_time.block_on(apply_benchmarks(report, notes, quick))?;
    let live = virtual_time.block_on(scale::applied_live(&large_spec()))?;

    let real_time = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    real_time.block_on(plan_benchmarks(report, notes, quick))?;
    cpu_benchmark(report, quick);
    scale_benchmarks(report, &live, quick)
}

fn put(
    report: &mut BTreeMap<String, serde_json::Value>,
    name: &str,
    value: impl Into<serde_json::Value>,
) {
    report.insert(name.into(), value.into());
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

// --- apply on virtual time ---------------------------------------------------

async fn plan_file(cloud: &Arc<MemoryCloud>, path: &Path) -> Plan {
    let mut stack = ops::prepare(path).expect("a valid stack file");
    plan_stack(cloud, &mut stack).await
}

/// A plan of one stack on `cloud`, as `eksform plan` makes it.
pub(crate) async fn plan_on(
    cloud: Arc<dyn Cloud>,
    stack: &mut ops::Stack,
) -> Result<Plan, ops::OpsError> {
    let regions = OneCloud(cloud.clone());
    ops::plan_stack(
        cloud,
        &regions,
        &KnownOutputs::new(),
        stack,
        ops::Goal::Apply,
        RetryPolicy::default(),
    )
    .await
    .map(|(plan, _)| plan)
}

async fn plan_stack(cloud: &Arc<MemoryCloud>, stack: &mut ops::Stack) -> Plan {
    plan_on(cloud.clone(), stack).await.expect("plan")
}

/// Applies a plan with the default options: how long it took, and its events.
async fn apply_timed(cloud: &Arc<MemoryCloud>, plan: &Plan) -> (Duration, Arc<EventLog>) {
    let log = Arc::new(EventLog::default());
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let started = tokio::time::Instant::now();
    let outcome = ops::apply(
        dyn_cloud,
        plan,
        ExecuteOptions::default(),
        log.clone(),
        Cancellation::default(),
    )
    .await;
    assert!(
        outcome.succeeded(),
        "the benchmark apply succeeds: {outcome:?}"
    );
    (started.elapsed(), log)
}

/// An operation's duration under the table: its kind's create or delete time
/// (`Kind::timings`, sources in BENCHMARKS.md) plus one call's round trip.
fn table_weight(latency: Duration) -> impl Fn(&'static dyn Kind, Operation) -> Duration {
    move |kind, operation| {
        let timings = kind.timings();
        latency
            + match operation {
                Operation::Create => timings.create,
                Operation::Delete => timings.delete,
                _ => Duration::ZERO,
            }
    }
}

fn critical_path(plan: &Plan, latency: Duration) -> (Duration, Vec<(Address, Operation)>) {
    execute::critical_path(plan, table_weight(latency)).expect("the plan's graph")
}

pub(crate) fn estate_stack(i: usize) -> String {
    format!(
        "stack: est-{i}\nregion: {REGION}\nvpc:\n  cidr: 10.{i}.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b, us-east-1c]\n  nat: {{ gateway: HighlyAvailable }}\ncluster:\n  version: \"1.31\"\n  logging:\n    enableTypes: [api]\n    logRetentionInDays: 30\niam:\n  serviceAccounts:\n    - metadata: {{ namespace: kube-system, name: cluster-autoscaler }}\n      wellKnownPolicies: {{ autoScaler: true }}\nmanagedNodeGroups:\n  - name: general\n    instanceTypes: [m5.large]\n    minSize: 1\n    maxSize: 3\nfargateProfiles:\n  - name: bots\n    selectors:\n      - namespace: bots\n  - name: jobs\n    selectors:\n      - namespace: jobs\n"
    )
}

pub(crate) fn stack_from_text(text: &str) -> ops::Stack {
    ops::Stack::lowered(
        spec::parse(SourceFile::new("bench.yaml", text.to_string())).expect("a valid spec"),
    )
}

async fn apply_benchmarks(
    report: &mut BTreeMap<String, serde_json::Value>,
    notes: &mut Vec<String>,
    quick: bool,
) -> Result<(), String> {
    // stacks/prd.yaml admits dev-stg's NAT address: dev-stg is applied first.
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let plan = plan_file(&cloud, Path::new("stacks/dev-stg.yaml")).await;
    apply_timed(&cloud, &plan).await;
    let plan = plan_file(&cloud, Path::new("stacks/prd.yaml")).await;
    let (critical, chain) = critical_path(&plan, cloud.latency());
    let independent = independent_floor::critical_path(&plan, cloud.latency())?;
    let (makespan, _) = apply_timed(&cloud, &plan).await;
    put(report, "apply_makespan_s", round(makespan.as_secs_f64(), 1));
    put(
        report,
        "critical_path_independent_s",
        round(independent.duration.as_secs_f64(), 1),
    );
    put(
        report,
        "makespan_ratio_independent",
        round(
            makespan.as_secs_f64() / independent.duration.as_secs_f64(),
            3,
        ),
    );
    notes.push(format!(
        "independent critical path of stacks/prd.yaml (AWS's requirements): {} (because: {})",
        chain_text(&independent.chain),
        independent.sources.join("; ")
    ));
    put(report, "critical_path_s", round(critical.as_secs_f64(), 1));
    put(
        report,
        "makespan_ratio",
        round(makespan.as_secs_f64() / critical.as_secs_f64(), 3),
    );
    notes.push(format!(
        "critical path of stacks/prd.yaml: {}",
        chain_text(&chain)
    ));

    // An estate of stacks applied together by one process, in one account:
    // the stacks are independent, so the floor is the longest one's path.
    let size = if quick { 3 } else { 10 };
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    // Beyond AWS's default quotas of a region (5 VPCs, 5 Elastic IPs), as an
    // account holding such an estate has asked for.
    cloud.raise_quota("vpc", size);
    cloud.raise_quota("elastic_ip", 3 * size);
    let mut plans = Vec::new();
    let mut critical = Duration::ZERO;
    let mut independent = Duration::ZERO;
    for i in 0..size {
        let mut stack = stack_from_text(&estate_stack(i));
        let plan = plan_stack(&cloud, &mut stack).await;
        critical = critical.max(critical_path(&plan, cloud.latency()).0);
        independent =
            independent.max(independent_floor::critical_path(&plan, cloud.latency())?.duration);
        plans.push(plan);
    }
    let started = tokio::time::Instant::now();
    let mut applies = tokio::task::JoinSet::new();
    for plan in plans {
        let cloud: Arc<dyn Cloud> = cloud.clone();
        applies.spawn(async move {
            ops::apply(
                cloud,
                &plan,
                ExecuteOptions::default(),
                Arc::new(NoEvents),
                Cancellation::default(),
            )
            .await
        });
    }
    while let Some(outcome) = applies.join_next().await {
        match outcome {
            Ok(outcome) if outcome.succeeded() => {}
            other => panic!("an estate apply failed: {other:?}"),
        }
    }
    let makespan = started.elapsed();
    put(
        report,
        "estate_makespan_ratio",
        round(makespan.as_secs_f64() / critical.as_secs_f64(), 3),
    );
    put(
        report,
        "estate_makespan_ratio_independent",
        round(makespan.as_secs_f64() / independent.as_secs_f64(), 3),
    );
    notes.push(format!(
        "estate: {size} stacks (network with HA NAT, cluster, node group, 2 Fargate profiles, IRSA) applied concurrently in one process on one in-memory account"
    ));

    let size = if quick { 4 } else { 50 };
    let estate = scale::estate_apply(size, estate_stack).await?;
    put(
        report,
        "estate_apply_makespan_ratio_50",
        round(
            estate.makespan.as_secs_f64() / estate.independent.as_secs_f64(),
            3,
        ),
    );
    put(
        report,
        "estate_apply_calls_in_flight_50",
        estate.most_in_flight,
    );
    if quick {
        notes.push("quick: an estate of 4 stacks stands for 50".into());
    }
    Ok(())
}

/// `create vpc.main -> create subnet.private.a -> ...`
fn chain_text(chain: &[(Address, Operation)]) -> String {
    chain
        .iter()
        .map(|(address, operation)| format!("{operation} {address}"))
        .collect::<Vec<_>>()
        .join(" -> ")
}

// --- plans through the real adapter ------------------------------------------

/// A moto server on a free loopback port, stopped when dropped.
struct Emulator {
    child: Child,
    endpoint: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_emulator() -> Result<Emulator, String> {
    let server = std::env::var_os("EKSFORM_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".venv/bin/moto_server"));
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())?;
    let child = Command::new(&server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .env("MOTO_ACM_VALIDATION_WAIT", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start {} ({e}); run scripts/emulator.sh install",
                server.display()
            )
        })?;
    let emulator = Emulator {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("the emulator did not start".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(emulator)
}

async fn clients(endpoint: &str) -> AwsClients {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            "test", "test", None, None, "bench",
        ))
        .load()
        .await;
    AwsClients::from_config(&config)
}

/// The reference stack on the emulator: the production shape without add-ons,
/// which moto does not serve.
const REFERENCE: &str = r#"stack: ref
region: us-east-1
vpc:
  cidr: 10.90.0.0/16
  availabilityZones: [us-east-1a, us-east-1b, us-east-1c]
  nat: { gateway: HighlyAvailable }
cluster:
  name: ref-eks
  version: "1.31"
  publicAccessCIDRs: [198.51.100.7]
  logging:
    enableTypes: ["*"]
    logRetentionInDays: 90
iam:
  serviceAccounts:
    - metadata: { namespace: kube-system, name: aws-load-balancer-controller }
      wellKnownPolicies: { awsLoadBalancerController: true }
    - metadata: { namespace: kube-system, name: external-dns }
      wellKnownPolicies: { externalDNS: true }
managedNodeGroups:
  - name: general
    instanceTypes: [m6i.xlarge]
    minSize: 3
    maxSize: 12
fargateProfiles:
  - name: bots
    selectors:
      - namespace: infra-bot
loadBalancers:
  - name: web
    certificate: { domain: "*.ref.example.com" }
    httpsRedirect: true
    targetGroups:
      - name: ingress
        port: 80
        targetType: ip
dns:
  zone: ref.example.com
  records:
    - name: "*.ref.example.com"
      alias: { loadBalancer: web }
"#;

/// The calls a proxy passed on, by action: `DescribeVpcs 1, ...`.
fn by_action(proxy: &proxy::Proxy) -> String {
    proxy
        .calls_by_action()
        .iter()
        .map(|(action, n)| format!("{action} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every region through one endpoint (the proxy in front of the emulator).
struct Through(String);

#[async_trait::async_trait]
impl eksform_core::cloud::Regions for Through {
    async fn cloud(&self, _region: &str) -> Arc<dyn Cloud> {
        Arc::new(AwsCloud {
            clients: clients(&self.0).await,
        })
    }

    /// The benchmark's stacks live in one account.
    async fn cloud_as(
        &self,
        _region: &str,
        role_arn: &str,
    ) -> Result<Arc<dyn Cloud>, eksform_core::cloud::CloudError> {
        Err(eksform_core::cloud::CloudError::rejected(format!(
            "the benchmark reaches one account only and cannot assume {role_arn}"
        )))
    }
}

async fn plan_through(endpoint: &str, stack: &mut ops::Stack) -> Result<Plan, String> {
    let cloud: Arc<dyn Cloud> = Arc::new(AwsCloud {
        clients: clients(endpoint).await,
    });
    plan_on(cloud, stack).await.map_err(|e| e.to_string())
}

/// The median wall time of no-change plans of the reference stack through a
/// proxy adding 50 ms to every call to `endpoint` (one plan in quick mode:
/// one run is at the mercy of whatever else the 2-core machine does), with
/// the proxy of the median run, whose spans give the plan's depth and chain.
pub(crate) async fn median_plan_wall_ms(
    endpoint: &str,
    quick: bool,
) -> Result<(u64, proxy::Proxy), String> {
    let runs = if quick { 1 } else { 5 };
    let mut timed = Vec::new();
    for _ in 0..runs {
        let far = proxy::start(
            endpoint,
            Behaviour {
                latency: Duration::from_millis(50),
                ..Behaviour::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut stack = stack_from_text(REFERENCE);
        let started = Instant::now();
        plan_through(&far.url, &mut stack).await?;
        timed.push((started.elapsed().as_millis() as u64, far));
    }
    timed.sort_by_key(|(ms, _)| *ms);
    let middle = timed.len() / 2;
    Ok(timed.swap_remove(middle))
}

async fn apply_through(endpoint: &str, text: &str) -> Result<(), String> {
    let mut stack = stack_from_text(text);
    let plan = plan_through(endpoint, &mut stack).await?;
    let cloud: Arc<dyn Cloud> = Arc::new(AwsCloud {
        clients: clients(endpoint).await,
    });
    let outcome = ops::apply(
        cloud,
        &plan,
        ExecuteOptions::default(),
        Arc::new(NoEvents),
        Cancellation::default(),
    )
    .await;
    if outcome.succeeded() {
        Ok(())
    } else {
        Err(format!("apply failed: {:?}", outcome.failed))
    }
}

/// The fewest calls a no-change plan can make, kind by kind, given what the
/// AWS APIs offer: a batch read where there is one (EC2's Describe calls with
/// a tag filter, IAM's GetAccountAuthorizationDetails, ELBv2's DescribeTags of
/// 20 resources), and one read per resource where there is none. Returns the
/// total and its derivation.
fn plan_floor(plan: &Plan) -> (usize, String) {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for resource in plan.resources.iter().filter(|r| r.live.is_some()) {
        *count.entry(resource.kind.as_str()).or_default() += 1;
    }
    let n = |kind: &str| count.get(kind).copied().unwrap_or(0);
    // (kind, calls, how): the account guard, then each kind's floor as its
    // definition states it.
    let mut rows: Vec<(&str, usize, String)> =
        vec![("account guard", 1, "GetCallerIdentity".into())];
    for kind in kinds::ALL {
        let floor = kind.observation_floor();
        rows.push((kind.name(), floor.calls(n, kind.name()), floor.how.into()));
    }
    let total = rows.iter().map(|(_, calls, _)| calls).sum();
    let derivation = rows
        .iter()
        .filter(|(_, calls, _)| *calls > 0)
        .map(|(kind, calls, how)| format!("{calls} {kind} ({how})"))
        .collect::<Vec<_>>()
        .join(" + ");
    (total, derivation)
}

async fn plan_benchmarks(
    report: &mut BTreeMap<String, serde_json::Value>,
    notes: &mut Vec<String>,
    quick: bool,
) -> Result<(), String> {
    let emulator = match start_emulator() {
        Ok(emulator) => emulator,
        // No emulator installed: the rest still runs (BENCHMARKS.md).
        Err(e) => {
            notes.push(format!("plan benchmarks skipped: {e}"));
            return Ok(());
        }
    };
    apply_through(&emulator.endpoint, REFERENCE).await?;

    let counting = proxy::start(&emulator.endpoint, Behaviour::default())
        .await
        .map_err(|e| e.to_string())?;
    let mut stack = stack_from_text(REFERENCE);
    let plan = plan_through(&counting.url, &mut stack).await?;
    if plan.summary().has_changes() {
        return Err("the reference stack's second plan has changes".into());
    }
    put(report, "plan_calls", counting.calls());
    let (floor, derivation) = plan_floor(&plan);
    put(report, "plan_floor_calls", floor);
    notes.push(format!("plan_floor_calls = {derivation}"));

    let (wall_ms, far) = median_plan_wall_ms(&emulator.endpoint, quick).await?;
    put(report, "plan_wall_ms_50ms_rtt", wall_ms);
    put(report, "plan_depth", far.depth());
    notes.push(format!("plan calls by action: {}", by_action(&counting)));
    notes.push(format!(
        "plan's longest chain: {}",
        far.longest_chain().join(" -> ")
    ));

    // Estates of network-only stacks, planned as one command plans them.
    let sizes: &[(usize, &str)] = if quick {
        &[
            (1, "estate_plan_calls_1"),
            (2, "estate_plan_calls_10"),
            (3, "estate_plan_calls_50"),
        ]
    } else {
        &[
            (1, "estate_plan_calls_1"),
            (10, "estate_plan_calls_10"),
            (50, "estate_plan_calls_50"),
        ]
    };
    let largest = sizes.iter().map(|(n, _)| *n).max().unwrap_or(1);
    let network = |i: usize| {
        format!(
            "stack: net-{i}\nregion: {REGION}\nvpc:\n  cidr: 10.{}.{}.0/22\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat: {{ gateway: Single }}\n",
            i / 60,
            (i % 60) * 4
        )
    };
    for i in 0..largest {
        apply_through(&emulator.endpoint, &network(i)).await?;
    }
    for (size, key) in sizes {
        let counting = proxy::start(&emulator.endpoint, Behaviour::default())
            .await
            .map_err(|e| e.to_string())?;
        let mut stacks: Vec<ops::Stack> =
            (0..*size).map(|i| stack_from_text(&network(i))).collect();
        let order: Vec<usize> = (0..*size).collect();
        let regions = Through(counting.url.clone());
        ops::plan_estate(
            &mut stacks,
            &order,
            &regions,
            RetryPolicy::default(),
            |_| {},
        )
        .await
        .map_err(|e| e.to_string())?;
        put(report, key, counting.calls());
        notes.push(format!("{key} by action: {}", by_action(&counting)));
    }
    if quick {
        notes.push("quick: estates of 1, 2 and 3 stacks stand for 1, 10 and 50".into());
    }
    // What an estate shares is read once; each VPC's two DNS attributes have
    // no batch read: N stacks may cost the shared reads plus 2 N. The shared
    // reads are taken from the smallest estate of several stacks (a single
    // stack is planned alone, without the pass that reads every stack's
    // load balancers and clusters at once), the goal checked on the others.
    let (smallest, smallest_key) = sizes[1];
    let calls = |key: &str| {
        report
            .get(key)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    let shared = calls(smallest_key).saturating_sub(2 * smallest as u64);
    for (size, key) in sizes {
        notes.push(format!(
            "{key} = {} {} shared reads ({shared}, from {smallest_key}) + 2 x {size} = {}",
            calls(key),
            if calls(key) <= shared + 2 * *size as u64 {
                "<="
            } else {
                "> (goal not met)"
            },
            shared + 2 * *size as u64
        ));
    }
    put(report, "estate_plan_shared_reads", shared);

    // The crowded account is the empty account of `plan_wall_ms_50ms_rtt`
    // (the reference stack alone) plus the crowd: a fresh emulator, so that
    // the estates' stacks above are not counted in it.
    drop(emulator);
    let crowded_account = start_emulator()?;
    apply_through(&crowded_account.endpoint, REFERENCE).await?;
    crowded::measure(report, notes, &crowded_account.endpoint, quick).await
}

// --- CPU ---------------------------------------------------------------------

/// A stack of about 500 resources: a network, a cluster, and many node groups,
/// Fargate profiles and service accounts.
pub(crate) fn large_spec() -> String {
    let mut text = String::from(
        "stack: big\nregion: us-east-1\nvpc:\n  cidr: 10.0.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b, us-east-1c]\n  nat: { gateway: HighlyAvailable }\ncluster:\n  version: \"1.31\"\niam:\n  serviceAccounts:\n",
    );
    for i in 0..200 {
        text.push_str(&format!(
            "    - metadata: {{ namespace: team-{i}, name: app }}\n      wellKnownPolicies: {{ externalDNS: true }}\n"
        ));
    }
    text.push_str("managedNodeGroups:\n");
    for i in 0..120 {
        text.push_str(&format!(
            "  - name: group-{i}\n    instanceTypes: [m5.large]\n    minSize: 1\n    maxSize: 3\n"
        ));
    }
    text.push_str("fargateProfiles:\n");
    for i in 0..150 {
        text.push_str(&format!(
            "  - name: profile-{i}\n    selectors:\n      - namespace: ns-{i}\n"
        ));
    }
    text
}

fn cpu_benchmark(report: &mut BTreeMap<String, serde_json::Value>, quick: bool) {
    let text = large_spec();
    let mut times = Vec::new();
    let mut resources = 0;
    for _ in 0..if quick { 3 } else { 9 } {
        let started = Instant::now();
        let loaded = spec::parse(SourceFile::new("big.yaml", text.clone())).expect("a valid spec");
        let model = lower::model(&loaded.spec);
        let desired = lower::desired(&model);
        let changes = plan::diff(&desired, &[]).expect("a plan");
        // A plan is also checked to be one apply can order.
        let planned = plan::Plan {
            format_version: plan::PLAN_FORMAT_VERSION,
            eksform_version: String::new(),
            stack: model.stack.clone(),
            region: model.region.clone(),
            account: String::new(),
            fingerprint: String::new(),
            resources: changes,
        };
        eksform_core::execute::check_schedulable(&planned).expect("an orderable plan");
        times.push(started.elapsed());
        resources = planned.resources.len();
    }
    times.sort();
    put(
        report,
        "cpu_ms_500",
        round(times[times.len() / 2].as_secs_f64() * 1000.0, 1),
    );
    put(report, "cpu_resources", resources);
}

/// The no-change plan of the 500-resource stack: CPU, and peak memory in a
/// child process.
fn scale_benchmarks(
    report: &mut BTreeMap<String, serde_json::Value>,
    live: &[eksform_core::model::LiveResource],
    quick: bool,
) -> Result<(), String> {
    let (ms, resources) = scale::cpu_nochange(&large_spec(), live, if quick { 3 } else { 9 })?;
    put(report, "cpu_ms_500_nochange", round(ms, 1));
    put(report, "cpu_resources_nochange", resources);
    put(report, "rss_mb_500", round(scale::rss_in_child(live)?, 1));
    Ok(())
}
