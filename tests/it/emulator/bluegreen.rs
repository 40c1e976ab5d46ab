//! The blue/green estate of `examples/bluegreen/` on the emulator through the
//! binary: the network, two clusters and the edge applied in one `apply DIR`
//! (the clusters and the ALB placed by `fromStack` in the network's VPC and
//! subnets), traffic moved from blue to green in one apply of the edge (the
//! same ALB, the listener's new weights), a clean re-plan, and the network's
//! destroy refused while the stacks living in it are there. Then a reference
//! read from another account through its `roleARN`: moto gives an assumed
//! role's keys the role's account, so the read is the real one.

use std::path::{Path, PathBuf};

use eksform_aws::AwsClients;
use eksform_testkit::assertions::{assert_nothing_marked, marked_by};
use eksform_testkit::emulator::{Emulator, apply, destroy, write_spec};

use super::REGION;
use crate::EKSFORM;

const EXAMPLE: &str = "examples/bluegreen";

/// A copy of the example estate, to edit.
fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE);
    for name in ["network.yaml", "blue.yaml", "green.yaml", "edge.yaml"] {
        let text = std::fs::read_to_string(root.join(name)).unwrap();
        write_spec(&dir, name, &text);
    }
    dir
}

fn run(emulator: &Emulator, args: &[&str], path: &Path) -> (i32, String, String) {
    let output = emulator.eksform().args(args).arg(path).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn network_vpc(aws: &AwsClients) -> String {
    let vpcs = aws
        .ec2
        .describe_vpcs()
        .filters(marked_by("network"))
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1);
    vpcs.vpcs()[0].vpc_id().unwrap().to_string()
}

/// The load balancer's ARN and VPC, and its listener's forward weights by
/// target group name.
async fn edge(aws: &AwsClients) -> (String, String, Vec<(String, i32)>) {
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    assert_eq!(balancers.load_balancers().len(), 1);
    let balancer = &balancers.load_balancers()[0];
    let arn = balancer.load_balancer_arn().unwrap().to_string();
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listeners.listeners().len(), 1, "port 80 only");
    let groups = aws.elb.describe_target_groups().send().await.unwrap();
    let name_of = |group_arn: &str| {
        let name = groups
            .target_groups()
            .iter()
            .find(|g| g.target_group_arn() == Some(group_arn))
            .and_then(|g| g.target_group_name())
            .expect("a forwarded group exists");
        if name.contains("blue") {
            "blue"
        } else {
            "green"
        }
        .to_string()
    };
    let mut weights: Vec<(String, i32)> = listeners.listeners()[0].default_actions()[0]
        .forward_config()
        .expect("a weighted forward")
        .target_groups()
        .iter()
        .map(|t| (name_of(t.target_group_arn().unwrap()), t.weight().unwrap()))
        .collect();
    weights.sort();
    (arn, balancer.vpc_id().unwrap().to_string(), weights)
}

/// The cluster's subnets (the emulator's cluster shows no VPC id).
async fn cluster_subnets(aws: &AwsClients, name: &str) -> Vec<String> {
    let mut subnets = aws
        .eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .unwrap()
        .cluster()
        .and_then(|c| c.resources_vpc_config())
        .map(|v| v.subnet_ids().to_vec())
        .unwrap_or_default();
    subnets.sort();
    subnets
}

/// The network's subnets, each in the network's VPC.
async fn network_subnets(aws: &AwsClients, vpc: &str) -> Vec<String> {
    let found = aws
        .ec2
        .describe_subnets()
        .filters(marked_by("network"))
        .send()
        .await
        .unwrap();
    let mut subnets: Vec<String> = found
        .subnets()
        .iter()
        .inspect(|s| assert_eq!(s.vpc_id(), Some(vpc)))
        .map(|s| s.subnet_id().unwrap().to_string())
        .collect();
    subnets.sort();
    subnets
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bluegreen_estate_moves_traffic_in_one_apply_and_keeps_its_network() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = example_copy();

    // A fresh account: the clusters' VPC is known only after the network's
    // apply, which `plan DIR` says at the reference, making nothing.
    let (code, out, stderr) = run(&emulator, &["plan"], dir.path());
    assert_eq!(code, 1, "{out}{stderr}");
    assert!(
        stderr.contains("vpc.id: output `vpcId` of stack `network` is known only after")
            && stderr.contains("blue.yaml:9:"),
        "{stderr}"
    );

    let (code, out, stderr) = run(&emulator, &["apply", "--auto-approve"], dir.path());
    assert_eq!(code, 0, "{out}{stderr}");
    assert!(
        out.contains("Stack 1 of 4") && out.find("network.yaml") < out.find("Stack 2 of 4"),
        "the network first: {out}"
    );
    let vpc = network_vpc(&aws).await;
    let subnets = network_subnets(&aws, &vpc).await;
    assert_eq!(subnets.len(), 4);
    for cluster in ["blue", "green"] {
        let in_use = cluster_subnets(&aws, cluster).await;
        assert!(
            !in_use.is_empty() && in_use.iter().all(|s| subnets.contains(s)),
            "{cluster} runs in the network's subnets: {in_use:?} of {subnets:?}"
        );
    }
    let (balancer, balancer_vpc, weights) = edge(&aws).await;
    assert_eq!(balancer_vpc, vpc, "the ALB is in the network's VPC");
    assert_eq!(
        weights,
        [("blue".to_string(), 100), ("green".to_string(), 0)]
    );
    let (code, out, stderr) = run(&emulator, &["plan", "--detailed-exitcode"], dir.path());
    assert_eq!(code, 0, "re-plan is clean: {out}{stderr}");

    // Blue to green: one edit, one apply of the edge.
    let edge_file = dir.path().join("edge.yaml");
    let text = std::fs::read_to_string(&edge_file).unwrap();
    let moved = text
        .replace("/healthz, weight: 100 }", "/healthz, weight: MOVED }")
        .replace("/healthz, weight: 0 }", "/healthz, weight: 100 }")
        .replace("weight: MOVED", "weight: 0");
    assert_ne!(moved, text);
    std::fs::write(&edge_file, moved).unwrap();
    apply(&emulator, &edge_file);
    let (after, _, weights) = edge(&aws).await;
    assert_eq!(after, balancer, "the same ALB");
    assert_eq!(
        weights,
        [("blue".to_string(), 0), ("green".to_string(), 100)]
    );
    let (code, out, stderr) = run(&emulator, &["plan", "--detailed-exitcode"], dir.path());
    assert_eq!(code, 0, "re-plan is clean: {out}{stderr}");

    // The network holds the clusters and the ALB: not destroyed under them.
    let network = dir.path().join("network.yaml");
    let (code, _, stderr) = run(&emulator, &["destroy", "--auto-approve"], &network);
    assert_eq!(code, 1, "{stderr}");
    for stack in ["blue", "green", "edge"] {
        assert!(stderr.contains(&format!("stack {stack}")), "{stderr}");
    }
    assert_eq!(network_vpc(&aws).await, vpc, "nothing deleted");

    for name in ["edge.yaml", "green.yaml", "blue.yaml", "network.yaml"] {
        destroy(&emulator, &dir.path().join(name));
    }
    for stack in ["edge", "green", "blue", "network"] {
        assert_nothing_marked(&aws, stack).await;
    }
}

/// Another account's credentials, as its own people would have them: moto
/// gives an assumed role's keys the role's account.
async fn keys_of_account(aws: &AwsClients, account: &str) -> [(String, String); 3] {
    let out = aws
        .sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/admin"))
        .role_session_name("other-team")
        .send()
        .await
        .unwrap();
    let keys = out.credentials().unwrap();
    [
        ("AWS_ACCESS_KEY_ID".into(), keys.access_key_id().into()),
        (
            "AWS_SECRET_ACCESS_KEY".into(),
            keys.secret_access_key().into(),
        ),
        ("AWS_SESSION_TOKEN".into(), keys.session_token().into()),
    ]
}

fn spec_in(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    write_spec(dir, name, text)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reference_reads_another_accounts_stack_through_its_role() {
    const OTHER: &str = "222233334444";
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let other_keys = keys_of_account(&aws, OTHER).await;
    let dir = tempfile::tempdir().unwrap();

    // The other account's team applies its network with its own keys.
    let shared = spec_in(
        &dir,
        "shared.yaml",
        &format!(
            "stack: shared\nregion: {REGION}\naccount: \"{OTHER}\"\nvpc:\n  cidr: 10.90.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Single\n"
        ),
    );
    let mut as_other = emulator.eksform();
    for (name, value) in &other_keys {
        as_other.env(name, value);
    }
    as_other
        .args(["apply", "--auto-approve"])
        .arg(&shared)
        .assert()
        .success();

    // This account's stack admits the other account's NAT address, read
    // through a role of that account.
    let role = format!("arn:aws:iam::{OTHER}:role/eksform-reader");
    let here = tempfile::tempdir().unwrap();
    let app = spec_in(
        &here,
        "app.yaml",
        &format!(
            "stack: app\nregion: {REGION}\nvpc:\n  cidr: 10.91.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Disable\ncluster:\n  version: \"1.31\"\n  publicAccessCIDRs:\n    - {{ fromStack: shared, output: natPublicIPs, roleARN: \"{role}\" }}\n"
        ),
    );
    let (code, json, stderr) = run(&emulator, &["plan", "--json"], &app);
    assert_eq!(code, 0, "{stderr}");
    let mut other = emulator.eksform();
    for (name, value) in &other_keys {
        other.env(name, value);
    }
    let outputs = other
        .args(["outputs", "--json"])
        .arg(&shared)
        .output()
        .unwrap();
    let outputs: serde_json::Value = serde_json::from_slice(&outputs.stdout).unwrap();
    let nat = outputs["natPublicIPs"][0]
        .as_str()
        .expect("a NAT address")
        .to_string();
    assert!(json.contains(&format!("{nat}/32")), "{json}");
    // This account has no stack `shared`: the address came from the other one.
    let (code, _, stderr) = run(
        &emulator,
        &["plan"],
        &spec_in(
            &here,
            "app.yaml",
            &std::fs::read_to_string(&app)
                .unwrap()
                .replace(&format!(", roleARN: \"{role}\""), ""),
        ),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("has no live resources"), "{stderr}");
}
