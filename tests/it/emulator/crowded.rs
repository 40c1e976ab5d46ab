//! A crowded account (issue #17): other teams' clusters, node groups, roles,
//! OIDC providers, certificates, load balancers, zones and VPCs
//! (`eksform_testkit::crowd`) cost a no-change plan no call, and the plan
//! names none of them; an estate planned, applied and destroyed among them
//! leaves every one as it was.

use eksform_testkit::assertions::assert_nothing_marked;
use eksform_testkit::crowd::{self, Crowd};
use eksform_testkit::emulator::{Emulator, apply, write_spec};
use eksform_testkit::proxy::{self, Behaviour};

use super::REGION;
use crate::EKSFORM;

fn tidy_spec() -> String {
    format!(
        r#"stack: tidy
region: {REGION}
vpc:
  cidr: 10.70.0.0/16
  availabilityZones: [us-east-1a, us-east-1b]
  nat: {{ gateway: Disable }}
cluster:
  name: tidy-eks
  version: "1.31"
  publicAccessCIDRs: [198.51.100.7]
iam:
  serviceAccounts:
    - metadata: {{ namespace: kube-system, name: external-dns }}
      wellKnownPolicies: {{ externalDNS: true }}
loadBalancers:
  - name: web
    certificate: {{ domain: "*.tidy.example.com" }}
    httpsRedirect: true
    targetGroups:
      - name: ingress
        port: 80
        targetType: ip
dns:
  zone: tidy.example.com
  records:
    - name: "*.tidy.example.com"
      alias: {{ loadBalancer: web }}
"#
    )
}

/// A `plan --detailed-exitcode` through a counting proxy: its exit code,
/// output, and the calls it made by action.
async fn counted_plan(
    emulator: &Emulator,
    spec: &std::path::Path,
) -> (
    Option<i32>,
    String,
    std::collections::BTreeMap<String, usize>,
) {
    let counting = proxy::start(&emulator.endpoint, Behaviour::default())
        .await
        .unwrap();
    let output = emulator
        .eksform_via(&counting.url)
        .args(["plan", "--detailed-exitcode"])
        .arg(spec)
        .output()
        .expect("eksform runs");
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        counting.calls_by_action(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn other_teams_resources_cost_a_no_change_plan_no_call() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "tidy.yaml", &tidy_spec());
    apply(&emulator, &spec);
    let (code, output, alone) = counted_plan(&emulator, &spec).await;
    assert_eq!(code, Some(0), "no changes in the empty account: {output}");

    let aws = emulator.clients(REGION).await;
    crowd::fill(&aws, &Crowd::of_each(5)).await.unwrap();
    let (code, output, crowded) = counted_plan(&emulator, &spec).await;
    assert_eq!(code, Some(0), "no changes among the crowd: {output}");
    assert!(
        !output.contains("crowd-"),
        "the plan names another team's resource: {output}"
    );
    // Each call as often as in the empty account: nothing of the crowd read
    // one by one (the lists themselves take no more pages at this size).
    assert_eq!(
        crowded, alone,
        "the plan's calls by action, crowded (left) and alone (right)"
    );
}

/// What an estate's stack holds besides its VPC, its ALB with a certificate
/// in the stack's own zone, and the zone.
#[derive(Clone, Copy, PartialEq)]
enum Compute {
    None,
    /// A cluster.
    Cluster,
    /// A cluster with an OIDC provider, an IRSA role and a node group.
    ClusterWithWorkloads,
}

fn estate_stack(stack: &str, octet: u8, compute: Compute) -> String {
    let mut text = format!(
        r#"stack: {stack}
region: {REGION}
vpc:
  cidr: 10.{octet}.0.0/16
  availabilityZones: [us-east-1a, us-east-1b]
  nat: {{ gateway: Disable }}
loadBalancers:
  - name: web
    certificate: {{ domain: "*.{stack}.example.com" }}
    httpsRedirect: true
    targetGroups:
      - name: ingress
        port: 80
        targetType: ip
dns:
  zone: {stack}.example.com
  records:
    - name: "*.{stack}.example.com"
      alias: {{ loadBalancer: web }}
"#
    );
    if compute != Compute::None {
        text.push_str(&format!(
            r#"cluster:
  name: {stack}-eks
  version: "1.31"
  publicAccessCIDRs: [198.51.100.7]
"#
        ));
    }
    if compute == Compute::ClusterWithWorkloads {
        text.push_str(
            r#"iam:
  withOIDC: true
  serviceAccounts:
    - metadata: { namespace: kube-system, name: external-dns }
      wellKnownPolicies: { externalDNS: true }
managedNodeGroups:
  - name: general
    instanceTypes: [m5.large]
    minSize: 1
    maxSize: 3
"#,
        );
    }
    text
}

fn run(emulator: &Emulator, args: &[&str], path: &std::path::Path) -> (Option<i32>, String) {
    let output = emulator.eksform().args(args).arg(path).output().unwrap();
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// Two stacks planned and applied as one estate (`plan DIR`, `apply DIR`,
/// which share one observation of the account) among other teams'
/// resources: each stack finds all of its own, nothing of the crowd is
/// deleted, retagged or named by a plan, and destroying the stacks leaves
/// the account as the crowd left it.
#[tokio::test(flavor = "multi_thread")]
async fn an_estate_among_other_teams_resources_touches_none_of_them() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    crowd::fill(&aws, &Crowd::of_each(3)).await.unwrap();
    let before = crowd::inventory(&aws).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let edge = write_spec(&dir, "edge.yaml", &estate_stack("edge", 71, Compute::None));
    let apps = write_spec(
        &dir,
        "apps.yaml",
        &estate_stack("apps", 72, Compute::ClusterWithWorkloads),
    );
    let (code, output) = run(&emulator, &["apply", "--auto-approve"], dir.path());
    assert_eq!(code, Some(0), "{output}");
    let (code, output) = run(&emulator, &["plan", "--detailed-exitcode"], dir.path());
    assert_eq!(code, Some(0), "each stack finds all of its own: {output}");
    assert!(
        !output.contains("crowd-"),
        "the plan names another team's resource: {output}"
    );
    let applied = crowd::inventory(&aws).await.unwrap();
    for (kind, crowd) in &before {
        let now = &applied[kind];
        let gone: Vec<_> = crowd.iter().filter(|item| !now.contains(item)).collect();
        assert!(
            gone.is_empty(),
            "{kind} of the crowd gone or changed: {gone:?}"
        );
    }
    assert_eq!(
        applied["certificates"].len(),
        before["certificates"].len() + 2,
        "one certificate a stack"
    );

    for spec in [&apps, &edge] {
        let (code, output) = run(&emulator, &["destroy", "--auto-approve"], spec);
        assert_eq!(code, Some(0), "{output}");
    }
    assert_nothing_marked(&aws, "edge").await;
    assert_nothing_marked(&aws, "apps").await;
    let after = crowd::inventory(&aws).await.unwrap();
    for (kind, crowd) in &before {
        assert_eq!(&after[kind], crowd, "{kind}: the crowd's, exactly");
    }
}

/// The estate's no-change `plan DIR`, one observation shared by its stacks,
/// makes each call as often among other teams' resources as alone: the
/// shared reads skip what none of the stacks can hold, as each stack's plan
/// alone does.
#[tokio::test(flavor = "multi_thread")]
async fn other_teams_resources_cost_an_estates_no_change_plan_no_call() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    write_spec(
        &dir,
        "blue.yaml",
        &estate_stack("blue", 73, Compute::Cluster),
    );
    write_spec(
        &dir,
        "green.yaml",
        &estate_stack("green", 74, Compute::ClusterWithWorkloads),
    );
    let (code, output) = run(&emulator, &["apply", "--auto-approve"], dir.path());
    assert_eq!(code, Some(0), "{output}");
    let (code, output, alone) = counted_plan(&emulator, dir.path()).await;
    assert_eq!(code, Some(0), "no changes in the empty account: {output}");

    let aws = emulator.clients(REGION).await;
    crowd::fill(&aws, &Crowd::of_each(5)).await.unwrap();
    let (code, output, crowded) = counted_plan(&emulator, dir.path()).await;
    assert_eq!(code, Some(0), "no changes among the crowd: {output}");
    assert_eq!(
        crowded, alone,
        "the estate plan's calls by action, crowded (left) and alone (right)"
    );
}
