//! Crashes on the memory cloud: after every call of an apply and of a
//! destroy (a network, a cluster with node groups, the edge, `stacks/prd.yaml`)
//! and between the calls of every create made of several, each finished by
//! the next run.

use std::collections::BTreeSet;
use std::sync::Arc;

use eksform::ops;
use eksform_core::model::{ADDRESS_TAG, Address};
use eksform_testkit::crash::crash_sweep;
use eksform_testkit::memory::{Call, Faults, MemoryCloud};

use super::runs::{
    ACCOUNT, apply, assert_converged, assert_no_changes, assert_stack_converged, cluster_text,
    edge_text, everything_text, plan_file, run_file, run_that_may_crash, spec_text,
};

/// A fresh account with nothing in it.
async fn empty() -> Arc<MemoryCloud> {
    Arc::new(MemoryCloud::new(ACCOUNT))
}

/// A fresh account where `text` is applied.
async fn applied(text: &str) -> Arc<MemoryCloud> {
    let cloud = empty().await;
    assert!(apply(&cloud, text).await.succeeded());
    cloud
}

/// The account holds exactly `text`'s resources, and a plan finds nothing to do.
async fn converged(cloud: &Arc<MemoryCloud>, text: &str) {
    assert_converged(cloud, text);
    assert_no_changes(cloud, text).await;
}

/// Crashes the apply of `text` after each of its calls, on an empty account:
/// the next apply converges and a plan after it finds nothing to do.
async fn sweep_apply(text: &str) -> u64 {
    crash_sweep(
        empty,
        async |cloud| run_that_may_crash(cloud, text, false).await,
        async |cloud, _| converged(cloud, text).await,
    )
    .await
}

/// Crashes the destroy of `text` after each of its calls, once it is
/// applied: the next destroy leaves nothing.
async fn sweep_destroy(text: &str) -> u64 {
    crash_sweep(
        async || applied(text).await,
        async |cloud| run_that_may_crash(cloud, text, true).await,
        async |cloud, crash| {
            assert!(
                cloud.resources().is_empty(),
                "crash at {}: leftovers {:?}",
                crash.at,
                cloud.resources()
            );
        },
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn a_crash_after_any_call_of_an_apply_is_finished_by_the_next_apply() {
    let text = spec_text("HighlyAvailable");
    let total = crash_sweep(
        empty,
        async |cloud| run_that_may_crash(cloud, &text, false).await,
        async |cloud, crash| {
            if let Some(outcome) = crash.outcome {
                assert!(
                    !outcome.succeeded() || crash.at >= crash.of,
                    "crash at call {} of {} is reported",
                    crash.at,
                    crash.of
                );
            }
            converged(cloud, &text).await;
        },
    )
    .await;
    assert!(total > 20, "a full apply makes many calls ({total})");
}

#[tokio::test(start_paused = true)]
async fn a_crash_after_any_call_of_a_destroy_is_finished_by_the_next_destroy() {
    sweep_destroy(&spec_text("HighlyAvailable")).await;
}

#[tokio::test(start_paused = true)]
async fn a_crash_after_any_call_of_a_cluster_apply_is_finished_by_the_next_apply() {
    let text = format!(
        "{}managedNodeGroups:\n  - name: general\n    spot: true\n    instanceTypes: [m5.large]\n    minSize: 1\n    maxSize: 3\n",
        cluster_text("1.31")
    );
    sweep_apply(&text).await;
}

#[tokio::test(start_paused = true)]
async fn a_crash_after_any_call_of_an_edge_apply_or_destroy_is_finished_by_the_next_run() {
    let text = edge_text(80);
    sweep_apply(&text).await;
    sweep_destroy(&text).await;
}

#[tokio::test(start_paused = true)]
async fn a_crash_after_any_call_of_the_production_stack_is_finished_by_the_next_run() {
    // stacks/prd.yaml extends base.yaml and admits dev-stg's NAT address, so
    // dev-stg is applied first each time.
    let with_dev_stg = async || {
        let cloud = empty().await;
        let outcome = run_file(&cloud, "dev-stg", ops::Goal::Apply).await.unwrap();
        assert!(outcome.succeeded(), "{outcome:?}");
        cloud
    };
    let wanted: BTreeSet<String> = ops::prepare(std::path::Path::new("stacks/prd.yaml"))
        .unwrap()
        .desired
        .iter()
        .map(|d| d.address.to_string())
        .collect();
    let total = crash_sweep(
        with_dev_stg,
        async |cloud| run_file(cloud, "prd", ops::Goal::Apply).await,
        async |cloud, crash| {
            assert_stack_converged(cloud, "prd", &wanted);
            let again = plan_file(cloud, "prd", ops::Goal::Apply).await.unwrap();
            assert!(
                !again.summary().has_changes(),
                "crash at {}: {:?}",
                crash.at,
                again.summary()
            );
        },
    )
    .await;
    assert!(
        total > 50,
        "the production apply makes many calls ({total})"
    );

    // And its destroy, crashed at every call.
    crash_sweep(
        async || {
            let cloud = with_dev_stg().await;
            assert!(
                run_file(&cloud, "prd", ops::Goal::Apply)
                    .await
                    .unwrap()
                    .succeeded()
            );
            cloud
        },
        async |cloud| run_file(cloud, "prd", ops::Goal::Destroy).await,
        async |cloud, _| assert_stack_converged(cloud, "prd", &BTreeSet::new()),
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_crash_between_the_calls_of_any_create_of_several_is_finished_by_the_next_apply() {
    let text = everything_text();
    let clean = Arc::new(MemoryCloud::new(ACCOUNT));
    assert!(apply(&clean, &text).await.succeeded());
    let log = clean.call_log();
    // The calls after which a create stands half made: the create itself and
    // every later call of it but its last.
    let mut crash_points: Vec<(Call, Address, String)> = Vec::new();
    for (i, call) in log.iter().enumerate() {
        let Some(kind) = call.action.strip_prefix("create ") else {
            continue;
        };
        let kind = kind.split(':').next().unwrap_or(kind);
        let continued = log[i + 1..].iter().any(|later| {
            later.address == call.address && later.action.starts_with(&format!("create {kind}: "))
        });
        if continued {
            let address = call.address.clone().expect("a create names its address");
            crash_points.push((call.clone(), address, kind.to_string()));
        }
    }
    let kinds: BTreeSet<&str> = crash_points.iter().map(|(_, _, k)| k.as_str()).collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "iam_role",
            "internet_gateway",
            "load_balancer",
            "log_group",
            "route_table",
            "security_group",
            "subnet",
            "vpc",
        ]),
        "every create of several calls is crashed between its calls"
    );
    for (call, address, kind) in crash_points {
        let k = &call.action;
        let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
        cloud.set_faults(Faults {
            crash_at: Some(call.clone()),
            ..Faults::default()
        });
        let outcome = run_that_may_crash(&cloud, &text, false).await;
        assert!(outcome.is_some_and(|o| !o.succeeded()), "crash at {k}");
        let marked = |cloud: &MemoryCloud| -> Vec<String> {
            cloud
                .resources()
                .into_iter()
                .filter(|r| {
                    r.attributes
                        .get("tags")
                        .and_then(|t| t.as_map())
                        .and_then(|t| t.get(ADDRESS_TAG))
                        .and_then(|a| a.as_str())
                        == Some(address.as_str())
                })
                .map(|r| r.id)
                .collect()
        };
        // The first call set the marks (TagSpecifications): the half-made
        // resource is found by its address...
        let half_made = marked(&cloud);
        assert_eq!(half_made.len(), 1, "{kind} {address} half made at {k}");
        cloud.set_faults(Faults::default());
        let outcome = apply(&cloud, &text).await;
        assert!(
            outcome.succeeded(),
            "after a crash at call {k} in the create of {address}: {outcome:?}"
        );
        // ... and finished in place, not replaced.
        assert_eq!(marked(&cloud), half_made, "{address} is finished in place");
        assert_converged(&cloud, &text);
        assert_no_changes(&cloud, &text).await;
    }
}
