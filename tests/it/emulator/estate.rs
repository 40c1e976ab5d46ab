//! An estate in one command, on the emulator through the binary: `plan DIR`
//! on a fresh account (a reference to a stack planned in the same run is
//! known after apply), `apply DIR` in reference order, stopping at the first
//! stack that fails, and `destroy` refused while a live stack refers to the
//! one being destroyed.
//!
//! The stacks are `stacks/`'s shape (a base, a dev-stg cluster whose NAT
//! address prd's endpoint admits) without add-ons, as the emulator has no EKS
//! add-on API, and with an OIDC provider for one cluster only, as the
//! emulator gives every cluster of a region the same issuer URL.

use std::path::{Path, PathBuf};

use eksform_aws::AwsClients;
use eksform_testkit::assertions::{assert_nothing_marked, marked_by};
use eksform_testkit::emulator::{Emulator, plan_exit_code, write_spec};

use crate::EKSFORM;

const REGION: &str = "us-east-1";

/// A directory holding a base and two stacks, prd admitting dev-stg's NAT.
fn estate() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    write_spec(
        &dir,
        "base.yaml",
        &format!("region: {REGION}\ntags:\n  team: platform\ncluster:\n  version: \"1.31\"\n"),
    );
    let dev = write_spec(
        &dir,
        "dev-stg.yaml",
        "extends: base.yaml\nstack: dev-stg\nvpc:\n  cidr: 10.10.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Single\ncluster:\n  name: dev-stg\niam:\n  withOIDC: true\nmanagedNodeGroups:\n  - name: spot-general\n    spot: true\n    instanceTypes: [m5.large, m5a.large]\n    minSize: 1\n    maxSize: 3\n    desiredCapacity: 1\n",
    );
    let prd = write_spec(
        &dir,
        "prd.yaml",
        "extends: base.yaml\nstack: prd\nvpc:\n  cidr: 10.20.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Single\ncluster:\n  name: prd\n  publicAccessCIDRs:\n    - { fromStack: dev-stg, output: natPublicIPs }\n",
    );
    (dir, dev, prd)
}

fn run(emulator: &Emulator, args: &[&str], path: &Path) -> (i32, String, String) {
    let output = emulator.eksform().args(args).arg(path).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn nat_addresses(aws: &AwsClients, stack: &str) -> Vec<String> {
    aws.ec2
        .describe_addresses()
        .filters(marked_by(stack))
        .send()
        .await
        .unwrap()
        .addresses()
        .iter()
        .filter_map(|a| a.public_ip().map(|ip| format!("{ip}/32")))
        .collect()
}

async fn public_access_cidrs(aws: &AwsClients, cluster: &str) -> Vec<String> {
    aws.eks
        .describe_cluster()
        .name(cluster)
        .send()
        .await
        .unwrap()
        .cluster()
        .and_then(|c| c.resources_vpc_config())
        .map(|v| v.public_access_cidrs().to_vec())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_estate_is_planned_and_applied_in_one_command_and_its_referenced_stack_kept() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let (dir, dev, prd) = estate();

    // A fresh account: both stacks planned, prd's endpoint admitting what
    // dev-stg's apply will make.
    let (code, plan, stderr) = run(&emulator, &["plan", "--detailed-exitcode"], dir.path());
    assert_eq!(code, 2, "{plan}{stderr}");
    let (dev_at, prd_at) = (
        plan.find("Stack dev-stg").expect("dev-stg planned"),
        plan.find("Stack prd").expect("prd planned"),
    );
    assert!(dev_at < prd_at, "the referenced stack comes first: {plan}");
    assert!(
        plan.contains("known after apply: fromStack.dev-stg.natPublicIPs"),
        "{plan}"
    );
    assert!(!stderr.contains("nothing was sent"), "{stderr}");
    let (code, json, stderr) = run(&emulator, &["plan", "--json"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    let document: serde_json::Value = serde_json::from_str(&json).unwrap();
    let stacks: Vec<&str> = document["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stack"].as_str().unwrap())
        .collect();
    assert_eq!(stacks, ["dev-stg", "prd"]);
    assert_eq!(document["has_changes"], true);
    assert!(
        nat_addresses(&aws, "dev-stg").await.is_empty(),
        "plan made nothing"
    );

    // One apply: dev-stg, then prd planned against dev-stg's real NAT address.
    let (code, out, stderr) = run(&emulator, &["apply", "--auto-approve"], dir.path());
    assert_eq!(code, 0, "{out}{stderr}");
    let first = out.find("Stack 1 of 2").unwrap();
    assert!(out[first..].starts_with(&format!("Stack 1 of 2: {}", dev.display())));
    assert!(out.contains(&format!("Stack 2 of 2: {}", prd.display())));
    let nat = nat_addresses(&aws, "dev-stg").await;
    assert_eq!(nat.len(), 1);
    assert_eq!(public_access_cidrs(&aws, "prd").await, nat);
    assert_eq!(plan_exit_code(&emulator, dir.path()), 0, "re-plan is clean");

    // dev-stg is what prd's endpoint admits: not destroyed while prd lives.
    let (code, _, stderr) = run(&emulator, &["destroy", "--auto-approve"], &dev);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("stack prd") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(nat_addresses(&aws, "dev-stg").await, nat, "nothing deleted");
    assert_eq!(plan_exit_code(&emulator, &dev), 0);

    // --force is the way past it; then prd, which nothing refers to.
    let (code, _, stderr) = run(&emulator, &["destroy", "--auto-approve", "--force"], &dev);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(&emulator, &["destroy", "--auto-approve"], &prd);
    assert_eq!(code, 0, "{stderr}");
    assert_nothing_marked(&aws, "dev-stg").await;
    assert_nothing_marked(&aws, "prd").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_of_an_estate_stops_at_the_first_stack_that_fails() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    // Another team's cluster holds dev-stg's name: dev-stg's plan fails.
    aws.eks
        .create_cluster()
        .name("dev-stg")
        .role_arn("arn:aws:iam::123456789012:role/someone-else")
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids("subnet-00000001")
                .subnet_ids("subnet-00000002")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (dir, _, prd) = estate();
    let (code, out, stderr) = run(&emulator, &["apply", "--auto-approve"], dir.path());
    assert_eq!(code, 1, "{out}{stderr}");
    assert!(
        stderr.contains(&format!("not applied: {}", prd.display())),
        "{stderr}"
    );
    assert!(!out.contains("Stack 2 of 2"), "{out}");
    assert_nothing_marked(&aws, "dev-stg").await;
    assert_nothing_marked(&aws, "prd").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_needing_outputs_known_only_after_another_stacks_apply_is_refused_untouched() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let (dir, _dev, prd) = estate();
    let plans = dir.path().join("plans");
    let (code, _, stderr) = run(
        &emulator,
        &["plan", "--out", plans.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let dev_plan = plans.join("01-dev-stg.plan");
    let prd_plan = plans.join("02-prd.plan");
    assert!(dev_plan.exists() && prd_plan.exists(), "{stderr}");

    let (code, _, stderr) = run(&emulator, &["apply", "--auto-approve"], &dev_plan);
    assert_eq!(code, 0, "dev-stg's saved plan applies:\n{stderr}");
    // prd's plan was made while dev-stg's NAT address was known only after
    // its apply: refused before anything of prd is made.
    let (code, _, stderr) = run(&emulator, &["apply", "--auto-approve"], &prd_plan);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("uses outputs of stack dev-stg") && stderr.contains("make a new plan"),
        "{stderr}"
    );
    assert_nothing_marked(&aws, "prd").await;

    // A new plan of prd knows the address, and applies.
    let fresh = dir.path().join("prd.plan");
    let (code, _, stderr) = run(&emulator, &["plan", "--out", fresh.to_str().unwrap()], &prd);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(&emulator, &["apply", "--auto-approve"], &fresh);
    assert_eq!(code, 0, "{stderr}");
    let mut admitted = public_access_cidrs(&aws, "prd").await;
    admitted.sort();
    let mut nat = nat_addresses(&aws, "dev-stg").await;
    nat.sort();
    assert_eq!(admitted, nat, "prd's endpoint admits dev-stg's NAT address");
}

/// A stack of the edge: a VPC, an ALB with a certificate for `*.<stack>.example.com`
/// and that zone. Stacks of one estate differ in their domains.
fn edge_stack(stack: &str, second_octet: u8) -> String {
    format!(
        r#"stack: {stack}
region: {REGION}
vpc:
  cidr: 10.{second_octet}.0.0/16
  availabilityZones: [us-east-1a, us-east-1b]
  nat: {{ gateway: Disable }}
loadBalancers:
  - name: web
    certificate: {{ domain: "*.{stack}.example.com" }}
    targetGroups:
      - name: app
        port: 80
        targetType: ip
dns:
  zone: {stack}.example.com
"#
    )
}

async fn certificates(aws: &AwsClients) -> Vec<String> {
    aws.acm
        .list_certificates()
        .send()
        .await
        .unwrap()
        .certificate_summary_list()
        .iter()
        .filter_map(|c| c.domain_name().map(str::to_string))
        .collect()
}

/// The stacks of `plan DIR` share one observation of the account: each stack's
/// certificates are still found, in its own domains, and nothing is made twice.
#[tokio::test(flavor = "multi_thread")]
async fn stacks_planned_together_each_find_their_certificates_and_nothing_is_made_twice() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    write_spec(&dir, "blue.yaml", &edge_stack("blue", 41));
    write_spec(&dir, "green.yaml", &edge_stack("green", 42));

    let (code, out, stderr) = run(&emulator, &["apply", "--auto-approve"], dir.path());
    assert_eq!(code, 0, "{out}{stderr}");
    let mut made = certificates(&aws).await;
    made.sort();
    assert_eq!(made, ["*.blue.example.com", "*.green.example.com"]);

    let (code, plan, stderr) = run(&emulator, &["plan", "--detailed-exitcode"], dir.path());
    assert_eq!(code, 0, "both stacks found whole: {plan}{stderr}");
    let (code, out, stderr) = run(&emulator, &["apply", "--auto-approve"], dir.path());
    assert_eq!(code, 0, "{out}{stderr}");
    assert_eq!(
        certificates(&aws).await.len(),
        2,
        "no certificate made twice"
    );
}

/// A certificate requested outside eksform, as Terraform's would be: its ARN.
async fn certificate_made_elsewhere(aws: &AwsClients, domain: &str) -> String {
    aws.acm
        .request_certificate()
        .domain_name(domain)
        .validation_method(aws_sdk_acm::types::ValidationMethod::Dns)
        .send()
        .await
        .unwrap()
        .certificate_arn()
        .unwrap()
        .to_string()
}

/// The first stack of an estate took its certificate over with an adopt
/// entry (kept in its spec, as `import terraform` writes it): the estate's
/// shared read still finds that certificate's validation as that stack's, and
/// the re-plan has no changes.
#[tokio::test(flavor = "multi_thread")]
async fn an_adopted_certificate_of_one_stack_of_an_estate_stays_validated() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let arn = certificate_made_elsewhere(&aws, "*.blue.example.com").await;
    let dir = tempfile::tempdir().unwrap();
    write_spec(
        &dir,
        "blue.yaml",
        &format!(
            "{}adopt:\n  - {{ address: certificate.web, id: \"{arn}\" }}\n",
            edge_stack("blue", 43)
        ),
    );
    write_spec(&dir, "green.yaml", &edge_stack("green", 44));
    let (code, out, stderr) = run(&emulator, &["apply", "--auto-approve"], dir.path());
    assert_eq!(code, 0, "{out}{stderr}");
    let (code, plan, stderr) = run(&emulator, &["plan", "--detailed-exitcode"], dir.path());
    assert_eq!(code, 0, "no phantom validation: {plan}{stderr}");
    assert_eq!(
        certificates(&aws).await.len(),
        2,
        "the adopted one and green's"
    );
}
