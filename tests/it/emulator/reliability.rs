//! Reliability against the emulator through the `eksform` binary: the apply
//! lock in the state bucket, throttling injected by a proxy on loopback, and
//! applies killed (SIGKILL) at random moments then finished by the next one.

use std::time::Duration;

use eksform_testkit::assertions::{assert_nothing_marked, marked_by};
use eksform_testkit::emulator::{Emulator, write_spec};
use eksform_testkit::proxy::{self, Behaviour, Hold};
use eksform_testkit::waiting::{Lines, until_held};

use crate::EKSFORM;

const REGION: &str = "us-east-1";

fn network_spec(stack: &str) -> String {
    format!(
        "stack: {stack}\nregion: {REGION}\nvpc:\n  cidr: 10.30.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b, us-east-1c]\n  nat:\n    gateway: HighlyAvailable\n"
    )
}

fn run(command: &mut std::process::Command) -> std::process::Output {
    command.output().expect("eksform runs")
}

/// `eksform bootstrap`: the state bucket for the lock and the history.
fn bootstrap(emulator: &Emulator, spec: &std::path::Path) {
    let bootstrap = run(emulator
        .eksform_via(&emulator.endpoint)
        .arg("bootstrap")
        .arg(spec));
    assert_eq!(bootstrap.status.code(), Some(0), "{bootstrap:?}");
}

/// `eksform apply --auto-approve` started in the background through `url`,
/// its standard error kept when `stderr` says so.
fn apply_in_background(
    emulator: &Emulator,
    url: &str,
    spec: &std::path::Path,
    stderr: bool,
) -> std::process::Child {
    emulator
        .eksform_via(url)
        .args(["apply", "--auto-approve"])
        .arg(spec)
        .stdout(std::process::Stdio::null())
        .stderr(if stderr {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .spawn()
        .unwrap()
}

/// Whether the stack's lock object exists in the state bucket.
async fn is_locked(aws: &eksform_aws::AwsClients, stack: &str) -> bool {
    aws.s3
        .get_object()
        .bucket(eksform_aws::lock::bucket_name("123456789012", REGION))
        .key(format!("locks/{stack}.json"))
        .send()
        .await
        .is_ok()
}

/// How many VPCs, subnets, internet gateways and Elastic IPs carry the stack's mark.
async fn network_of(aws: &eksform_aws::AwsClients, stack: &str) -> (usize, usize, usize, usize) {
    let mark = || marked_by(stack);
    let (vpcs, subnets, gateways, addresses) = tokio::join!(
        aws.ec2.describe_vpcs().filters(mark()).send(),
        aws.ec2.describe_subnets().filters(mark()).send(),
        aws.ec2.describe_internet_gateways().filters(mark()).send(),
        aws.ec2.describe_addresses().filters(mark()).send(),
    );
    (
        vpcs.unwrap().vpcs().len(),
        subnets.unwrap().subnets().len(),
        gateways.unwrap().internet_gateways().len(),
        addresses.unwrap().addresses().len(),
    )
}

async fn vpcs_of(aws: &eksform_aws::AwsClients, stack: &str) -> usize {
    aws.ec2
        .describe_vpcs()
        .filters(marked_by(stack))
        .send()
        .await
        .unwrap()
        .vpcs()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_apply_at_a_time_with_the_holder_named_and_a_history_kept() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "locked.yaml", &network_spec("locked"));

    bootstrap(&emulator, &spec);
    let bucket = eksform_aws::lock::bucket_name("123456789012", REGION);
    // moto answers GetBucketVersioning with a root element the Rust SDK cannot
    // parse (an emulator gap): versioning shows as two versions of one key.
    for body in ["one", "two"] {
        aws.s3
            .put_object()
            .bucket(&bucket)
            .key("probe")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let versions = aws
        .s3
        .list_object_versions()
        .bucket(&bucket)
        .prefix("probe")
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 2, "the bucket is versioned");
    let blocked = aws
        .s3
        .get_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let blocked = blocked.public_access_block_configuration().unwrap();
    assert_eq!(blocked.block_public_acls(), Some(true));
    assert_eq!(blocked.restrict_public_buckets(), Some(true));
    let encryption = aws
        .s3
        .get_bucket_encryption()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(encryption.server_side_encryption_configuration().is_some());

    // An apply stopped at its NAT gateways (held at the proxy) holds the
    // lock; a second one started meanwhile fails at once, naming the holder.
    let nat = proxy::holding(&emulator.endpoint, Hold::Action("CreateNatGateway")).await;
    let mut first = apply_in_background(&emulator, &nat.url, &spec, true);
    until_held(&nat, &mut first, "the first apply reaches its NAT gateways").await;
    assert!(
        is_locked(&aws, "locked").await,
        "the first apply holds the lock"
    );
    let second = run(emulator
        .eksform_via(&emulator.endpoint)
        .args(["apply", "--auto-approve"])
        .arg(&spec));
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("is locked by") && stderr.contains(&format!("pid {}", first.id())),
        "{stderr}"
    );
    nat.let_go();
    let first = first.wait_with_output().unwrap();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(vpcs_of(&aws, "locked").await, 1, "nothing duplicated");
    assert!(!is_locked(&aws, "locked").await, "the lock is released");

    // A lock left by a run on another host: named, then broken by unlock.
    let stale = serde_json::json!({
        "caller": "arn:aws:iam::123456789012:user/ci", "host": "runner-7", "pid": 4242,
        "since": 1, "command": "apply"
    });
    aws.s3
        .put_object()
        .bucket(&bucket)
        .key("locks/locked.json")
        .body(serde_json::to_vec(&stale).unwrap().into())
        .send()
        .await
        .unwrap();
    let blocked = run(emulator
        .eksform_via(&emulator.endpoint)
        .args(["destroy", "--auto-approve"])
        .arg(&spec));
    assert_eq!(blocked.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&blocked.stderr);
    assert!(
        stderr.contains("runner-7") && stderr.contains("eksform unlock locked"),
        "{stderr}"
    );
    // Another host's lock is never taken over, whatever its pid; a run that
    // waits for it says who holds it and since when, then takes the lock
    // once it is broken.
    let mut waiting = emulator
        .eksform_via(&emulator.endpoint)
        .args(["destroy", "--auto-approve", "--lock-timeout", "600"])
        .arg(&spec)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Lines::of(&mut waiting);
    let told = lines.wait_for("Waiting for the lock of stack locked").await;
    assert!(
        told.contains("held by ci@runner-7")
            && told.contains("pid 4242")
            && told.contains("running `apply`")
            && told.contains("held since ")
            && told.contains(" (for ")
            && told.contains("waited ")
            && told.contains("giving up in "),
        "{told}"
    );
    let unlocked = run(emulator
        .eksform_via(&emulator.endpoint)
        .args(["unlock", "locked", "--region", REGION, "--yes"]));
    assert_eq!(unlocked.status.code(), Some(0), "{unlocked:?}");
    let destroyed = waiting.wait().unwrap();
    let stderr = lines.all();
    // How often it is said (not at every try) is the unit tests' business:
    // here it would depend on how long the unlock took.
    assert_eq!(destroyed.code(), Some(0), "{stderr}");

    // The history: the apply and the destroy, who and how they ended.
    let history = run(emulator
        .eksform_via(&emulator.endpoint)
        .args(["history", "--json"])
        .arg(&spec));
    let history: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    let entries = history.as_array().unwrap();
    let commands: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["who"]["command"].as_str().unwrap(),
                e["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        commands,
        vec![("apply", "succeeded"), ("destroy", "succeeded")]
    );
    assert!(entries[0]["summary"]["create"].as_u64().unwrap() > 10);
}

fn reference_spec() -> String {
    format!(
        r#"stack: ref
region: {REGION}
tags: {{ env: test }}
vpc:
  cidr: 10.90.0.0/16
  availabilityZones: [us-east-1a, us-east-1b]
  nat: {{ gateway: HighlyAvailable }}
cluster:
  name: ref-eks
  version: "1.31"
  publicAccessCIDRs: [198.51.100.7]
  logging:
    enableTypes: [api, audit]
    logRetentionInDays: 30
iam:
  serviceAccounts:
    - metadata: {{ namespace: kube-system, name: cluster-autoscaler }}
      wellKnownPolicies: {{ autoScaler: true }}
managedNodeGroups:
  - name: spot
    spot: true
    instanceTypes: [m5.large]
    minSize: 1
    maxSize: 3
fargateProfiles:
  - name: bots
    selectors:
      - namespace: infra-bot
loadBalancers:
  - name: web
    certificate: {{ domain: "*.ref.example.com" }}
    httpsRedirect: true
    targetGroups:
      - name: ingress
        port: 80
        targetType: ip
dns:
  zone: ref.example.com
  records:
    - name: "*.ref.example.com"
      alias: {{ loadBalancer: web }}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_third_of_calls_throttled_the_reference_stack_converges() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "ref.yaml", &reference_spec());
    let throttling = proxy::start(
        &emulator.endpoint,
        Behaviour {
            latency: Duration::ZERO,
            throttle_every: Some(3),
            ..Behaviour::default()
        },
    )
    .await
    .unwrap();
    let applied = run(emulator
        .eksform_via(&throttling.url)
        .args(["apply", "--auto-approve"])
        .arg(&spec));
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    assert!(
        throttling.throttled() * 4 > throttling.calls(),
        "a third were throttled"
    );
    let plan = run(emulator
        .eksform_via(&throttling.url)
        .args(["plan", "--detailed-exitcode"])
        .arg(&spec));
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
    let destroyed = run(emulator
        .eksform_via(&throttling.url)
        .args(["destroy", "--auto-approve"])
        .arg(&spec));
    assert_eq!(
        destroyed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&destroyed.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn applies_killed_at_random_moments_are_finished_by_the_next_apply() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "ref.yaml", &reference_spec());
    // With the state bucket, each killed run also leaves its lock behind.
    bootstrap(&emulator, &spec);
    // Each run is stopped at a different call (the proxy holds that call and
    // every later one), then killed: calls already passed on take effect,
    // their answers are lost, and nothing after them is sent. A whole apply
    // of this stack makes 92 calls, one with nothing left to do about 40
    // (the guard, the lock and the observation): the first run is stopped
    // in its creates, the others in their observation or early creates,
    // always before they could finish.
    for stop_at in [60u64, 45, 25, 50, 35] {
        let stop = proxy::holding(&emulator.endpoint, Hold::FromCall(stop_at)).await;
        let mut child = apply_in_background(&emulator, &stop.url, &spec, false);
        until_held(
            &stop,
            &mut child,
            &format!("the run reaches call {stop_at}"),
        )
        .await;
        child.kill().unwrap(); // SIGKILL: no chance to clean up
        child.wait().unwrap();
    }
    let finished = run(emulator
        .eksform_via(&emulator.endpoint)
        .args(["apply", "--auto-approve"])
        .arg(&spec));
    assert_eq!(
        finished.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&finished.stderr)
    );
    // No changes left: nothing missing, and no duplicate or orphan with the
    // stack's mark (the plan would delete it).
    let plan = run(emulator
        .eksform_via(&emulator.endpoint)
        .args(["plan", "--detailed-exitcode"])
        .arg(&spec));
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
    assert_eq!(vpcs_of(&aws, "ref").await, 1);
    assert_eq!(
        aws.eks
            .list_clusters()
            .send()
            .await
            .unwrap()
            .clusters()
            .len(),
        1
    );
    assert_eq!(
        aws.elb
            .describe_load_balancers()
            .send()
            .await
            .unwrap()
            .load_balancers()
            .len(),
        1
    );
    assert_eq!(
        aws.route53
            .list_hosted_zones()
            .send()
            .await
            .unwrap()
            .hosted_zones()
            .len(),
        1
    );
    let certificates = aws.acm.list_certificates().send().await.unwrap();
    assert_eq!(
        certificates.certificate_summary_list().len(),
        1,
        "one certificate"
    );
    let destroyed = run(emulator
        .eksform_via(&emulator.endpoint)
        .args(["destroy", "--auto-approve"])
        .arg(&spec));
    assert_eq!(
        destroyed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&destroyed.stderr)
    );
    assert_nothing_marked(&aws, "ref").await;
}

#[test]
fn credentials_never_reach_output_or_logs() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "quiet.yaml", &network_spec("quiet"));
    let secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
    for args in [
        &["-vv", "apply", "--auto-approve"][..],
        &["-vv", "plan", "--json"],
        &["-vv", "destroy", "--auto-approve"],
    ] {
        let output = run(emulator
            .eksform_via(&emulator.endpoint)
            .env("AWS_ACCESS_KEY_ID", "AKIAEKSFORMTESTKEY01")
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_SESSION_TOKEN", "session-token-never-printed")
            .args(args)
            .arg(&spec));
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        for stream in [&output.stdout, &output.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(!text.is_empty() || stream == &output.stdout);
            for leaked in [secret, "session-token-never-printed"] {
                assert!(!text.contains(leaked), "{args:?} printed a credential");
            }
        }
    }
}

/// Ctrl-C (SIGINT) during an apply: no new work starts, the calls in flight
/// finish, the run says what is left and exits 1, the lock is released and
/// the history says how it ended; the next apply finishes the job.
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_the_apply_releases_the_lock_and_the_next_apply_finishes() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "halted.yaml", &network_spec("halted"));
    bootstrap(&emulator, &spec);
    let bucket = eksform_aws::lock::bucket_name("123456789012", REGION);

    // The apply stopped at its NAT gateways (held at the proxy) when Ctrl-C
    // comes; they go on once the run has said it stops new work.
    let nat = proxy::holding(&emulator.endpoint, Hold::Action("CreateNatGateway")).await;
    let mut child = apply_in_background(&emulator, &nat.url, &spec, true);
    let mut lines = Lines::of(&mut child);
    until_held(&nat, &mut child, "the apply reaches its NAT gateways").await;
    let signalled = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    lines.wait_for("Interrupted: no new work starts").await;
    nat.let_go();
    let interrupted = child.wait().unwrap();
    let stderr = lines.all();
    assert_eq!(interrupted.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("incomplete") && stderr.contains("not started"),
        "{stderr}"
    );
    assert_eq!(vpcs_of(&aws, "halted").await, 1, "the VPC was made");
    assert!(!is_locked(&aws, "halted").await, "the lock is released");
    let history = run(emulator
        .eksform_via(&emulator.endpoint)
        .args(["history", "--json"])
        .arg(&spec));
    let history: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(history[0]["result"], "interrupted", "{history}");

    let again = run(emulator
        .eksform_via(&emulator.endpoint)
        .args(["apply", "--auto-approve"])
        .arg(&spec));
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(vpcs_of(&aws, "halted").await, 1, "nothing duplicated");
    let replan = run(emulator
        .eksform_via(&emulator.endpoint)
        .args(["plan", "--detailed-exitcode"])
        .arg(&spec));
    assert_eq!(
        replan.status.code(),
        Some(0),
        "the next apply finished the job"
    );
    let destroyed = run(emulator
        .eksform_via(&emulator.endpoint)
        .args(["destroy", "--auto-approve"])
        .arg(&spec));
    assert_eq!(destroyed.status.code(), Some(0));

    // A lock object eksform did not write still holds the lock: refused at
    // once, naming it, until `unlock` breaks it.
    aws.s3
        .put_object()
        .bucket(&bucket)
        .key("locks/halted.json")
        .body(b"not json".to_vec().into())
        .send()
        .await
        .unwrap();
    let refused = run(emulator
        .eksform_via(&emulator.endpoint)
        .args(["apply", "--auto-approve"])
        .arg(&spec));
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not one eksform wrote"), "{stderr}");
    assert_eq!(vpcs_of(&aws, "halted").await, 0, "nothing was touched");
    let unlocked = run(emulator
        .eksform_via(&emulator.endpoint)
        .args(["unlock", "halted", "--region", REGION, "--yes"]));
    assert_eq!(unlocked.status.code(), Some(0), "{unlocked:?}");
}

/// A create that took effect but whose answer was lost (a 500 after the
/// fact): the SDK does not send a create without an idempotency token again;
/// the engine retries it, finds what the lost attempt made by its address tag,
/// and finishes it. Exactly one of each, for every EC2 create of that kind.
#[tokio::test(flavor = "multi_thread")]
async fn creates_whose_answers_are_lost_are_found_not_duplicated() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    for (i, action) in [
        "CreateVpc",
        "CreateSubnet",
        "CreateInternetGateway",
        "AllocateAddress",
        "POST /2013-04-01/hostedzone",
    ]
    .into_iter()
    .enumerate()
    {
        let stack = format!("lost-{i}");
        let zone = format!("{stack}.example.com");
        let text = format!("{}dns:\n  zone: {zone}\n", network_spec(&stack));
        let spec = write_spec(&dir, &format!("{stack}.yaml"), &text);
        let lossy = proxy::start(
            &emulator.endpoint,
            Behaviour {
                lose_first_answer_of: Some(action),
                ..Behaviour::default()
            },
        )
        .await
        .unwrap();
        let applied = run(emulator
            .eksform_via(&lossy.url)
            .args(["apply", "--auto-approve"])
            .arg(&spec));
        assert_eq!(
            applied.status.code(),
            Some(0),
            "{action}: {}",
            String::from_utf8_lossy(&applied.stderr)
        );
        let (vpcs, subnets, gateways, addresses) = network_of(&aws, &stack).await;
        assert_eq!(vpcs, 1, "{action}: one VPC");
        assert_eq!(subnets, 6, "{action}: one subnet each");
        assert_eq!(gateways, 1, "{action}: one internet gateway");
        assert_eq!(addresses, 3, "{action}: one address a zone");
        let zones = aws.route53.list_hosted_zones().send().await.unwrap();
        let named = zones
            .hosted_zones()
            .iter()
            .filter(|z| z.name() == format!("{zone}."))
            .count();
        assert_eq!(named, 1, "{action}: one hosted zone");
        let replan = run(emulator
            .eksform_via(&emulator.endpoint)
            .args(["plan", "--detailed-exitcode"])
            .arg(&spec));
        assert_eq!(
            replan.status.code(),
            Some(0),
            "{action}: nothing left to do"
        );
        let destroyed = run(emulator
            .eksform_via(&emulator.endpoint)
            .args(["destroy", "--auto-approve"])
            .arg(&spec));
        assert_eq!(destroyed.status.code(), Some(0));
    }
}
