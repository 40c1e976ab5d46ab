//! How the executor runs a plan on the memory cloud: waits for what is
//! pending, the concurrency bound, a failed branch, throttling, Ctrl-C, the
//! order of a destroy, and AWS's lag after a create (IAM).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use eksform::ops;
use eksform_core::cloud::Cloud;
use eksform_core::execute::{CallLimits, Cancellation, Event, EventLog, ExecuteOptions, Operation};
use eksform_core::model::Address;
use eksform_testkit::memory::{Call, Faults, MemoryCloud};

use super::runs::{
    ACCOUNT, apply, apply_with, assert_converged, assert_no_changes, cluster_text, events,
    everything_text, plan, position, run_that_may_crash, spec_text,
};

#[tokio::test(start_paused = true)]
async fn pending_nat_gateways_are_awaited_before_routes_use_them() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let started = tokio::time::Instant::now();
    let (outcome, log) = apply_with(
        &cloud,
        &spec_text("HighlyAvailable"),
        false,
        ExecuteOptions::default(),
    )
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let nat_time = cloud_nat_create_time();
    assert!(
        started.elapsed() >= nat_time,
        "the apply waited for the NAT gateways ({:?})",
        started.elapsed()
    );
    let events = events(&log);
    for zone in ["us-east-1a", "us-east-1b", "us-east-1c"] {
        let nat_ready = position(
            &events,
            |e| matches!(e, Event::Finished { address, .. } if address.as_str() == format!("nat_gateway.{zone}")),
        );
        let route = position(
            &events,
            |e| matches!(e, Event::Started { address, .. } if address.as_str() == format!("route_table.private.{zone}")),
        );
        assert!(
            nat_ready < route,
            "the route table of {zone} starts after its NAT gateway is available"
        );
    }
    assert_converged(&cloud, &spec_text("HighlyAvailable"));
    assert_no_changes(&cloud, &spec_text("HighlyAvailable")).await;
}

fn cloud_nat_create_time() -> Duration {
    eksform_core::kinds::by_name("nat_gateway")
        .unwrap()
        .timings()
        .create
}

#[tokio::test(start_paused = true)]
async fn independent_work_runs_in_parallel_within_the_bound() {
    // Plan against one account, apply to a fresh one: only the apply's calls are counted.
    for parallelism in [1, 2, 4] {
        let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
        let plan = plan(&cloud, &spec_text("HighlyAvailable"), false).await;
        let fresh = Arc::new(MemoryCloud::new(ACCOUNT));
        let dyn_cloud: Arc<dyn Cloud> = fresh.clone();
        let options = ExecuteOptions {
            parallelism,
            ..ExecuteOptions::default()
        };
        let outcome = ops::apply(
            dyn_cloud,
            &plan,
            options,
            Arc::new(EventLog::default()),
            Cancellation::default(),
        )
        .await;
        assert!(outcome.succeeded());
        assert!(
            fresh.max_in_flight() <= parallelism,
            "at most {parallelism} calls at once, saw {}",
            fresh.max_in_flight()
        );
        if parallelism > 1 {
            assert!(
                fresh.max_in_flight() > 1,
                "independent subnets are created concurrently"
            );
        }
    }
}

/// Two stacks applied at once by one process: with shared bounds, the calls
/// of both together stay within `parallelism` per service; with their own,
/// each apply keeps its bound and together they exceed it.
#[tokio::test(start_paused = true)]
async fn applies_sharing_call_limits_keep_the_bound_between_them() {
    // One NAT gateway each: two stacks stay within the region's 5 addresses.
    let texts = [
        spec_text("Single"),
        spec_text("Single")
            .replace("stack: eng", "stack: other")
            .replace("10.40.0.0/16", "10.41.0.0/16"),
    ];
    for shared in [true, false] {
        let planning = Arc::new(MemoryCloud::new(ACCOUNT));
        let mut plans = Vec::new();
        for text in &texts {
            plans.push(plan(&planning, text, false).await);
        }
        let fresh = Arc::new(MemoryCloud::new(ACCOUNT));
        let limits = Arc::new(CallLimits::new(2));
        let applies = plans.iter().map(|plan| {
            let cloud: Arc<dyn Cloud> = fresh.clone();
            let options = ExecuteOptions {
                parallelism: 2,
                shared_limits: shared.then(|| limits.clone()),
                ..ExecuteOptions::default()
            };
            ops::apply(
                cloud,
                plan,
                options,
                Arc::new(EventLog::default()),
                Cancellation::default(),
            )
        });
        for outcome in futures_util::future::join_all(applies).await {
            assert!(outcome.succeeded(), "{outcome:?}");
        }
        if shared {
            assert!(
                fresh.max_in_flight() <= 2,
                "two applies sharing a bound of 2 had {} calls at once",
                fresh.max_in_flight()
            );
        } else {
            assert!(
                fresh.max_in_flight() > 2,
                "two applies each with its own bound of 2 run more than 2 calls at once (saw {})",
                fresh.max_in_flight()
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_branch_skips_its_dependants_and_lets_the_rest_finish() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    cloud.set_faults(Faults {
        reject_create: vec![Address("subnet.public.us-east-1b".into())],
        ..Faults::default()
    });
    let outcome = apply(&cloud, &spec_text("HighlyAvailable")).await;
    assert!(!outcome.succeeded());
    let failed: Vec<&str> = outcome.failed.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(failed, vec!["subnet.public.us-east-1b"]);
    let skipped: BTreeSet<&str> = outcome.skipped.iter().map(|(a, _)| a.as_str()).collect();
    for dependant in [
        "nat_gateway.us-east-1b",
        "route_table.private.us-east-1b",
        "route_table.public",
    ] {
        assert!(
            skipped.contains(dependant),
            "{dependant} is skipped: {skipped:?}"
        );
    }
    let completed: BTreeSet<&str> = outcome.completed.iter().map(|(a, _)| a.as_str()).collect();
    for independent in [
        "nat_gateway.us-east-1a",
        "nat_gateway.us-east-1c",
        "route_table.private.us-east-1a",
        "subnet.private.us-east-1b",
    ] {
        assert!(
            completed.contains(independent),
            "{independent} completes: {completed:?}"
        );
    }
    // Once the fault is gone, the next apply finishes the job.
    cloud.set_faults(Faults::default());
    assert!(
        apply(&cloud, &spec_text("HighlyAvailable"))
            .await
            .succeeded()
    );
    assert_converged(&cloud, &spec_text("HighlyAvailable"));
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_until_the_apply_converges() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    cloud.set_faults(Faults {
        throttle_ratio: 0.33,
        seed: 7,
        ..Faults::default()
    });
    let (outcome, log) = apply_with(
        &cloud,
        &spec_text("HighlyAvailable"),
        false,
        ExecuteOptions::default(),
    )
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    assert!(
        events(&log)
            .iter()
            .any(|e| matches!(e, Event::Retrying { .. })),
        "some calls were retried"
    );
    cloud.set_faults(Faults::default());
    assert_converged(&cloud, &spec_text("HighlyAvailable"));
}

#[tokio::test(start_paused = true)]
async fn cancellation_stops_new_work_and_the_next_apply_finishes() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let text = spec_text("HighlyAvailable");
    let plan = plan(&cloud, &text, false).await;
    let cancel = Cancellation::default();
    let canceller = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            // While the NAT gateways are pending.
            tokio::time::sleep(Duration::from_secs(30)).await;
            cancel.cancel();
        })
    };
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let outcome = ops::apply(
        dyn_cloud,
        &plan,
        ExecuteOptions::default(),
        Arc::new(EventLog::default()),
        cancel,
    )
    .await;
    canceller.await.unwrap();
    assert!(outcome.interrupted && !outcome.succeeded());
    assert!(!outcome.not_started.is_empty() || !outcome.failed.is_empty());
    assert!(
        outcome
            .not_started
            .iter()
            .all(|(_, op)| *op == Operation::Create || *op == Operation::Update)
    );
    assert!(apply(&cloud, &text).await.succeeded());
    assert_converged(&cloud, &text);
}

/// The engine orders deletes so that AWS (as the memory cloud models it,
/// from AWS's rules and not from the engine's settings) refuses none. This
/// is what fails when a kind's ordering setting is wrong: checked by hand
/// with `InternetGateway::delete_refused_while` emptied, where the internet
/// gateway's delete is refused ("Network vpc-... has some mapped public
/// address(es)") while the NAT gateways are deleted, and this test fails.
#[tokio::test(start_paused = true)]
async fn a_destroy_is_ordered_so_that_aws_refuses_nothing() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let text = everything_text();
    assert!(apply(&cloud, &text).await.succeeded());
    let (outcome, log) = apply_with(&cloud, &text, true, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    for event in events(&log) {
        if let Event::Retrying { address, error, .. } = event {
            panic!("{address} was refused: {error}");
        }
    }
    assert!(cloud.resources().is_empty(), "{:?}", cloud.resources());
}

/// A cluster named with a role made moments ago is refused while IAM
/// catches up; the engine retries it until EKS can assume the role.
#[tokio::test(start_paused = true)]
async fn a_cluster_waits_until_its_new_role_can_be_assumed() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let (outcome, log) = apply_with(
        &cloud,
        &cluster_text("1.31"),
        false,
        ExecuteOptions::default(),
    )
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    assert!(
        events(&log).iter().any(|e| matches!(
            e,
            Event::Retrying { address, error, .. }
                if address.as_str() == "eks_cluster.main" && error.contains("could not be assumed")
        )),
        "the cluster's create was refused while its role was new"
    );
    assert_converged(&cloud, &cluster_text("1.31"));
}

/// IAM's lists lag behind its creates. After a crash right after CreateRole,
/// an apply within the lag does not see the role and its CreateRole is
/// refused (EntityAlreadyExists, as AWS answers); once the role is listed,
/// the next apply finishes it: never a second role.
#[tokio::test(start_paused = true)]
async fn a_role_missing_from_iams_list_for_a_moment_is_never_made_twice() {
    let text = cluster_text("1.31");
    let lag = Duration::from_secs(5);
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let create_role = Call {
        action: "create iam_role".into(),
        address: Some(Address("iam_role.cluster".into())),
    };
    cloud.set_faults(Faults {
        crash_at: Some(create_role),
        role_list_lag: lag,
        ..Faults::default()
    });
    run_that_may_crash(&cloud, &text, false).await;
    cloud.set_faults(Faults {
        role_list_lag: lag,
        ..Faults::default()
    });
    // Planned moments after the crash: the role is not listed yet.
    let soon = apply(&cloud, &text).await;
    let failed: Vec<(&str, Option<&str>)> = soon
        .failed
        .iter()
        .map(|(a, _, e)| (a.as_str(), e.code.as_deref()))
        .collect();
    assert_eq!(
        failed,
        vec![("iam_role.cluster", Some("EntityAlreadyExists"))]
    );
    // That apply waited minutes for the NAT gateways: the role is listed now.
    let outcome = apply(&cloud, &text).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    assert_converged(&cloud, &text);
    assert_no_changes(&cloud, &text).await;
}
