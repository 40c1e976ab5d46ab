//! A crowded account (issue #17): other teams' clusters, node groups, roles,
//! OIDC providers, certificates, load balancers, zones and VPCs
//! (`eksform_testkit::crowd`) cost a no-change plan no call, and the plan
//! names none of them.

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
