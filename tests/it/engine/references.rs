//! References of text fields to other stacks on the memory cloud: a brought
//! VPC and its subnets read from a network stack (a zone's subnet by `key`),
//! the same read from another account through a role, and the plan errors
//! located at the reference (a key the stack lacks, a role not granted).

use std::sync::Arc;

use eksform::ops::{self, OpsError};
use eksform_core::cloud::{Cloud, OneCloud, Regions};
use eksform_core::diagnostics::SourceFile;
use eksform_core::outputs::KnownOutputs;
use eksform_core::plan::Plan;
use eksform_core::retry::RetryPolicy;
use eksform_core::spec;
use eksform_testkit::memory::{MemoryCloud, MemoryRegions};

use super::runs::{ACCOUNT, apply};

const OTHER_ACCOUNT: &str = "222233334444";
const READER: &str = "arn:aws:iam::222233334444:role/eksform-reader";

fn network() -> String {
    "stack: network\nregion: us-east-1\nvpc:\n  cidr: 10.80.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Disable\n".into()
}

/// A stack living in the network's VPC; `extra` goes into each reference.
fn tenant(extra: &str) -> String {
    let reference =
        |output: &str, key: &str| format!("{{ fromStack: network, output: {output}{key}{extra} }}");
    format!(
        "stack: tenant\nregion: us-east-1\nvpc:\n  id: {}\n  subnets:\n    private:\n      us-east-1a: {{ id: {} }}\n      us-east-1b: {{ id: {} }}\n",
        reference("vpcId", ""),
        reference("privateSubnetIds", ", key: us-east-1a"),
        reference("privateSubnetIds", ", key: us-east-1b"),
    )
}

async fn plan_tenant(
    home: &Arc<MemoryCloud>,
    regions: &dyn Regions,
    text: &str,
) -> Result<Plan, OpsError> {
    let loaded = spec::parse(SourceFile::new("tenant.yaml", text.to_string())).expect("valid");
    let mut stack = ops::Stack::lowered(loaded);
    let cloud: Arc<dyn Cloud> = home.clone();
    ops::plan_stack(
        cloud,
        regions,
        &KnownOutputs::new(),
        &mut stack,
        ops::Goal::Apply,
        RetryPolicy::default(),
    )
    .await
    .map(|(plan, _)| plan)
}

/// The subnet ids the plan tags, by zone, and the VPC they are in.
fn tagged_subnets(plan: &Plan) -> Vec<(String, String)> {
    plan.resources
        .iter()
        .filter(|r| r.kind == "subnet_tags")
        .map(|r| {
            let id = r.desired.as_ref().unwrap().attributes["id"]
                .as_str()
                .unwrap();
            (r.address.to_string(), id.to_string())
        })
        .collect()
}

/// The live subnets of `stack` in `cloud`, by address.
async fn subnets_of(cloud: &Arc<MemoryCloud>, stack: &str) -> Vec<(String, String)> {
    let scope = eksform_core::cloud::Scope {
        stack: stack.into(),
        region: "us-east-1".into(),
        ..Default::default()
    };
    let observed = eksform_core::observe::observe(cloud.clone(), &scope, RetryPolicy::default())
        .await
        .unwrap();
    observed
        .into_iter()
        .filter(|r| r.kind == "subnet" && r.address.as_str().starts_with("subnet.private."))
        .map(|r| (r.address.as_str().replace("subnet.", "subnet_tags."), r.id))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_brought_vpc_and_its_subnets_are_read_from_the_network_stack() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    assert!(apply(&cloud, &network()).await.succeeded());
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let plan = plan_tenant(&cloud, &OneCloud(dyn_cloud), &tenant(""))
        .await
        .unwrap();
    assert_eq!(tagged_subnets(&plan), subnets_of(&cloud, "network").await);
}

#[tokio::test(start_paused = true)]
async fn a_reference_with_a_role_reads_the_stack_of_the_roles_account() {
    let home = Arc::new(MemoryCloud::new(ACCOUNT));
    let other = Arc::new(MemoryCloud::new(OTHER_ACCOUNT));
    assert!(apply(&other, &network()).await.succeeded());
    let regions = MemoryRegions::new(home.clone()).with_role(READER, other.clone());

    let plan = plan_tenant(
        &home,
        &regions,
        &tenant(&format!(", roleARN: \"{READER}\"")),
    )
    .await
    .unwrap();
    assert_eq!(tagged_subnets(&plan), subnets_of(&other, "network").await);

    // Without the role the reference reads this account, which has no such stack.
    let Err(OpsError::Live(problems)) = plan_tenant(&home, &regions, &tenant("")).await else {
        panic!("a plan error");
    };
    assert!(
        problems
            .iter()
            .all(|p| p.message.contains("has no live resources")
                && p.message.contains("this account")
                && p.span.is_some()),
        "{problems}"
    );

    // A role the other account does not grant: AssumeRole's refusal, before anything.
    let calls = home.calls();
    let unknown = READER.replace("eksform-reader", "someone-else");
    let refused = plan_tenant(
        &home,
        &regions,
        &tenant(&format!(", roleARN: \"{unknown}\"")),
    )
    .await;
    assert!(
        matches!(&refused, Err(OpsError::Cloud(e)) if e.to_string().contains("AssumeRole")),
        "{refused:?}"
    );
    assert_eq!(home.calls() - calls, 1, "the account guard only");
}

#[tokio::test(start_paused = true)]
async fn a_key_the_stack_does_not_have_is_a_plan_error_at_the_reference() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    assert!(apply(&cloud, &network()).await.succeeded());
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let text = tenant("").replace("key: us-east-1b", "key: us-east-1c");
    let Err(OpsError::Live(problems)) = plan_tenant(&cloud, &OneCloud(dyn_cloud), &text).await
    else {
        panic!("a plan error");
    };
    let problem = problems.iter().next().unwrap();
    assert_eq!(problems.iter().count(), 1, "{problems}");
    assert!(
        problem
            .message
            .contains("vpc.subnets.private.us-east-1b.id: output `privateSubnetIds` of stack `network` has no key `us-east-1c`"),
        "{problems}"
    );
    assert_eq!(
        problem.help.as_deref(),
        Some("its keys: us-east-1a, us-east-1b")
    );
    let span = problem.span.unwrap();
    assert_eq!(
        (span.line, span.column),
        (8, 25),
        "the us-east-1b reference"
    );
}

/// A target group another stack made and forwards nothing to: the tenant's
/// listener forwards to it by the ARN the reference reads, and the tenant
/// makes no target group of its own for it.
#[tokio::test(start_paused = true)]
async fn a_target_group_arn_is_read_from_another_stack() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let network = format!(
        "{}loadBalancers:\n  - name: shared\n    targetGroups:\n      - {{ name: main, port: 80 }}\n      - {{ name: spare, port: 8080 }}\n",
        network()
    );
    assert!(apply(&cloud, &network).await.succeeded());
    let text = format!(
        "{}loadBalancers:\n  - name: web\n    targetGroups:\n      - {{ name: own, port: 80, weight: 1 }}\n      - {{ name: theirs, arn: {{ fromStack: network, output: targetGroupARNs, key: shared/spare }}, weight: 3 }}\n",
        tenant("")
    );
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let plan = plan_tenant(&cloud, &OneCloud(dyn_cloud), &text)
        .await
        .unwrap();

    let spare = cloud
        .resources()
        .into_iter()
        .find(|r| {
            r.kind == "target_group"
                && r.attributes
                    .get("name")
                    .and_then(|n| n.as_str())
                    .is_some_and(|n| n.contains("spare"))
        })
        .and_then(|r| r.attributes.get("arn")?.as_str().map(str::to_string))
        .expect("the network's spare group");
    let groups: Vec<&str> = plan
        .resources
        .iter()
        .filter(|r| r.kind == "target_group")
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(groups, ["target_group.web.own"], "no group made for theirs");
    let listener = plan
        .resources
        .iter()
        .find(|r| r.address.as_str() == "listener.web.http")
        .expect("a port-80 listener");
    let weights = &listener.desired.as_ref().unwrap().attributes["forward_weights"];
    let brought: Vec<i64> = eksform_core::kinds::listener::weighted_targets(weights)
        .into_iter()
        .filter(|(arn, _)| *arn == spare)
        .map(|(_, weight)| weight)
        .collect();
    assert_eq!(
        brought,
        [3],
        "the listener forwards to the network's group: {weights:?}"
    );
}
