//! Network changes on the memory cloud: NAT modes keep the VPC and subnets,
//! a replaced subnet lets go of its route table first, a zone added, subnets
//! of an earlier layout kept.

use std::collections::BTreeSet;
use std::sync::Arc;

use eksform_core::execute::{Event, ExecuteOptions, Operation};
use eksform_testkit::memory::MemoryCloud;

use super::runs::{
    ACCOUNT, apply, apply_with, assert_converged, assert_no_changes, events, plan, position,
    spec_text, try_plan,
};

#[tokio::test(start_paused = true)]
async fn nat_mode_changes_keep_the_vpc_and_subnets() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    assert!(apply(&cloud, &spec_text("Single")).await.succeeded());
    let ids = |cloud: &MemoryCloud| -> BTreeSet<String> {
        cloud
            .resources()
            .into_iter()
            .filter(|r| r.kind == "vpc" || r.kind == "subnet")
            .map(|r| r.id)
            .collect()
    };
    let before = ids(&cloud);
    for mode in ["HighlyAvailable", "Single", "Disable", "HighlyAvailable"] {
        let outcome = apply(&cloud, &spec_text(mode)).await;
        assert!(outcome.succeeded(), "{mode}: {outcome:?}");
        assert_converged(&cloud, &spec_text(mode));
        assert_no_changes(&cloud, &spec_text(mode)).await;
        assert_eq!(ids(&cloud), before, "{mode}: same VPC and subnets");
    }
    let (outcome, _) = apply_with(
        &cloud,
        &spec_text("HighlyAvailable"),
        true,
        ExecuteOptions::default(),
    )
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    assert!(
        cloud.resources().is_empty(),
        "destroy leaves nothing: {:?}",
        cloud.resources()
    );
}

#[tokio::test(start_paused = true)]
async fn replacing_a_subnet_releases_its_route_table_association_first() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let before = spec_text("Single");
    assert!(apply(&cloud, &before).await.succeeded());
    // Give the private subnets explicit CIDRs; us-east-1c's moves.
    let after = before.replace(
        "  nat:\n",
        "  subnets:\n    public:\n      us-east-1a: { cidr: 10.40.0.0/19 }\n      us-east-1b: { cidr: 10.40.32.0/19 }\n      us-east-1c: { cidr: 10.40.64.0/19 }\n    private:\n      us-east-1a: { cidr: 10.40.128.0/19 }\n      us-east-1b: { cidr: 10.40.160.0/19 }\n      us-east-1c: { cidr: 10.40.224.0/19 }\n  nat:\n",
    );
    let plan = plan(&cloud, &after, false).await;
    let summary = plan.summary();
    assert_eq!(
        (summary.replace, summary.update),
        (1, 1),
        "one subnet replaced, its route table updated: {summary:?}"
    );
    let (outcome, log) = apply_with(&cloud, &after, false, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let events = events(&log);
    let released = position(
        &events,
        |e| matches!(e, Event::Finished { address, operation: Operation::Release, .. } if address.as_str() == "route_table.private.us-east-1c"),
    );
    let deleted = position(
        &events,
        |e| matches!(e, Event::Finished { address, operation: Operation::Delete, .. } if address.as_str() == "subnet.private.us-east-1c"),
    );
    assert!(released < deleted, "the association goes before the subnet");
    assert_converged(&cloud, &after);
    assert_no_changes(&cloud, &after).await;
}

#[tokio::test(start_paused = true)]
async fn adding_a_zone_creates_only_that_zones_network() {
    // The automatic split leaves room: the third zone's subnets take free
    // blocks and nothing that exists moves.
    let two = spec_text("HighlyAvailable").replace(", us-east-1c]", "]");
    let three = spec_text("HighlyAvailable");
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    assert!(apply(&cloud, &two).await.succeeded());
    let plan = plan(&cloud, &three, false).await;
    let summary = plan.summary();
    assert_eq!(
        (summary.replace, summary.delete, summary.create),
        (0, 0, 5),
        "two subnets, a route table, a NAT gateway and its address: {summary:?}"
    );
    let outcome = apply(&cloud, &three).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    assert_converged(&cloud, &three);
    assert_no_changes(&cloud, &three).await;
}

#[tokio::test(start_paused = true)]
async fn subnets_of_an_earlier_layout_keep_their_cidrs() {
    // An earlier version cut two zones into /18s: the automatic split of today
    // would say /19s, but live subnets keep what they have.
    let automatic = spec_text("Single").replace(", us-east-1c]", "]");
    let earlier = automatic.replace(
        "  nat:\n",
        "  subnets:\n    public:\n      us-east-1a: { cidr: 10.40.0.0/18 }\n      us-east-1b: { cidr: 10.40.64.0/18 }\n    private:\n      us-east-1a: { cidr: 10.40.128.0/18 }\n      us-east-1b: { cidr: 10.40.192.0/18 }\n  nat:\n",
    );
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    assert!(apply(&cloud, &earlier).await.succeeded());
    assert_no_changes(&cloud, &automatic).await;
    // Beside /18s no /19 is free for a third zone: a plan error naming the
    // subnet, not an overlap AWS refuses half-way through apply.
    let refused = try_plan(&cloud, &spec_text("Single"), false)
        .await
        .expect_err("no room is a plan error")
        .to_string();
    assert!(
        refused.contains("subnet.public.us-east-1c") && refused.contains("vpc.subnets"),
        "{refused}"
    );
}
