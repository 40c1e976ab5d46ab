//! Several stacks on the memory cloud: a referenced stack observed once, an
//! estate plan sharing observation, `stacks/prd.yaml` under throttling.

use std::sync::Arc;

use eksform::ops;
use eksform_core::cloud::Cloud;
use eksform_core::diagnostics::SourceFile;
use eksform_core::plan::Plan;
use eksform_core::retry::RetryPolicy;
use eksform_core::spec;
use eksform_testkit::memory::{Faults, MemoryCloud};

use super::runs::{ACCOUNT, apply, plan_file, run_file, spec_text};

#[tokio::test(start_paused = true)]
async fn a_referenced_stack_planned_in_the_same_run_is_not_observed_again() {
    use eksform_core::cloud::OneCloud;
    use eksform_core::outputs::{KnownOutputs, KnownStack, Outputs};
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let ops_text = spec_text("Single").replace("stack: eng", "stack: ops");
    assert!(apply(&cloud, &ops_text).await.succeeded());
    let prd_text = "stack: prd\nregion: us-east-1\nvpc:\n  cidr: 10.70.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\ncluster:\n  publicAccessCIDRs:\n    - { fromStack: ops, output: natPublicIPs }\n".to_string();
    let stack = |text: &str| {
        ops::Stack::lowered(spec::parse(SourceFile::new("stack.yaml", text.to_string())).unwrap())
    };
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let regions = OneCloud(dyn_cloud.clone());
    let retry = RetryPolicy::default();

    // The estate plan: ops first, whose observation then serves prd's reference.
    let mut ops_stack = stack(&ops_text);
    let (_, observed) = ops::plan_stack(
        dyn_cloud.clone(),
        &regions,
        &KnownOutputs::new(),
        &mut ops_stack,
        ops::Goal::Apply,
        retry,
    )
    .await
    .unwrap();
    let mut known = KnownOutputs::new();
    known.insert(
        ("ops".into(), "us-east-1".into()),
        KnownStack::live(Some(Outputs::from_observed(
            &observed,
            ops_stack.model.network.as_ref(),
        ))),
    );
    let before = cloud.calls();
    let mut shared = stack(&prd_text);
    let (with_known, _) = ops::plan_stack(
        dyn_cloud.clone(),
        &regions,
        &known,
        &mut shared,
        ops::Goal::Apply,
        retry,
    )
    .await
    .unwrap();
    let calls_shared = cloud.calls() - before;

    let before = cloud.calls();
    let mut alone = stack(&prd_text);
    let (without, _) = ops::plan_stack(
        dyn_cloud.clone(),
        &regions,
        &KnownOutputs::new(),
        &mut alone,
        ops::Goal::Apply,
        retry,
    )
    .await
    .unwrap();
    let calls_alone = cloud.calls() - before;

    let cidrs = |plan: &Plan| {
        plan.resources
            .iter()
            .find(|r| r.address.as_str() == "eks_cluster.main")
            .and_then(|r| {
                r.desired
                    .as_ref()?
                    .attributes
                    .get("public_access_cidrs")
                    .cloned()
            })
    };
    assert_eq!(cidrs(&with_known), cidrs(&without));
    assert!(cidrs(&without).is_some_and(|c| format!("{c:?}").contains("/32")));
    assert!(
        calls_shared < calls_alone,
        "shared observation: {calls_shared} calls, alone: {calls_alone}"
    );
}

#[tokio::test(start_paused = true)]
async fn with_a_third_of_calls_throttled_the_production_stack_converges() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    cloud.set_faults(Faults {
        throttle_ratio: 1.0 / 3.0,
        ..Faults::default()
    });
    assert!(
        run_file(&cloud, "dev-stg", ops::Goal::Apply)
            .await
            .unwrap()
            .succeeded()
    );
    let outcome = run_file(&cloud, "prd", ops::Goal::Apply).await.unwrap();
    assert!(outcome.succeeded(), "{outcome:?}");
    cloud.set_faults(Faults::default());
    let again = plan_file(&cloud, "prd", ops::Goal::Apply).await.unwrap();
    assert!(!again.summary().has_changes());
}

/// One `plan` of many stacks in one account and region reads the kinds that
/// can be read for every stack once for all of them, and hands each stack
/// only its own resources.
#[tokio::test(start_paused = true)]
async fn an_estate_plan_shares_observation_and_keeps_stacks_apart() {
    use eksform_core::cloud::OneCloud;
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let text = |i: usize| {
        spec_text("Single")
            .replace("stack: eng", &format!("stack: net-{i}"))
            .replace("10.40.0.0/16", &format!("10.{}.0.0/16", 50 + i))
    };
    for i in 0..5 {
        assert!(apply(&cloud, &text(i)).await.succeeded());
    }
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let regions = OneCloud(dyn_cloud);
    let estate = |n: usize| {
        (0..n)
            .map(|i| {
                ops::Stack::lowered(spec::parse(SourceFile::new("net.yaml", text(i))).unwrap())
            })
            .collect::<Vec<_>>()
    };
    let calls_of = async |n: usize| {
        let mut stacks = estate(n);
        let order: Vec<usize> = (0..n).collect();
        let before = cloud.calls();
        let plans = ops::plan_estate(
            &mut stacks,
            &order,
            &regions,
            RetryPolicy::default(),
            |_| {},
        )
        .await
        .expect("the estate plans");
        (cloud.calls() - before, plans)
    };
    let (one, _) = calls_of(1).await;
    let (five, plans) = calls_of(5).await;
    assert_eq!(plans.len(), 5);
    for (i, plan) in &plans {
        assert_eq!(plan.stack, format!("net-{i}"));
        assert!(
            !plan.summary().has_changes(),
            "net-{i} sees only its own resources: {:?}",
            plan.summary()
        );
        // Every resource of the plan is the stack's own.
        for resource in &plan.resources {
            if let Some(live) = &resource.live {
                assert_eq!(
                    eksform_core::kinds::tags::stack_of(&live.attributes),
                    format!("net-{i}")
                );
            }
        }
    }
    // The account is asked once and the shared kinds are read once: each
    // further stack costs only the kinds that cannot be read for every stack
    // at once (those looked up by the stack's cluster, zone or names).
    let unshared = eksform_core::kinds::ALL
        .iter()
        .filter(|k| !k.observes_every_stack())
        .count() as u64;
    assert!(
        unshared < eksform_core::kinds::ALL.len() as u64 / 2,
        "most kinds are shared"
    );
    assert!(
        five <= one + 4 * unshared,
        "5 stacks took {five} calls where 1 took {one} ({unshared} kinds unshared)"
    );
}
