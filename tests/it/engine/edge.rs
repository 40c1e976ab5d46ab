//! The edge on the memory cloud: the HTTPS listener after the issued
//! certificate, a new target group before the listener moves.

use std::sync::Arc;

use eksform_core::execute::{Event, ExecuteOptions, Operation};
use eksform_testkit::memory::MemoryCloud;

use super::runs::{ACCOUNT, apply_with, assert_no_changes, edge_text, events, position};

#[tokio::test(start_paused = true)]
async fn the_https_listener_waits_for_the_issued_certificate_and_a_new_target_group_comes_first() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let (outcome, log) = apply_with(&cloud, &edge_text(80), false, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let first_run = events(&log);
    let done = |address: &str| {
        position(
            &first_run,
            |e| matches!(e, Event::Finished { address: a, .. } if a.as_str() == address),
        )
    };
    let started = |address: &str| {
        position(
            &first_run,
            |e| matches!(e, Event::Started { address: a, .. } if a.as_str() == address),
        )
    };
    assert!(done("dns_record.validation.web") < started("certificate_validation.web"));
    assert!(done("certificate_validation.web") < started("listener.web.https"));

    // A new port replaces the group: the new one exists before the listener
    // moves to it, and the old one goes only after that.
    let (outcome, log) =
        apply_with(&cloud, &edge_text(8080), false, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let second_run = events(&log);
    let first = |operation: Operation, address: &str| {
        position(
            &second_run,
            |e| matches!(e, Event::Finished { address: a, operation: o, .. } if a.as_str() == address && *o == operation),
        )
    };
    let created = first(Operation::Create, "target_group.web.nginx");
    let moved = first(Operation::Update, "listener.web.https");
    let deleted = first(Operation::Delete, "target_group.web.nginx");
    assert!(created < moved && moved < deleted, "{second_run:?}");
    assert_no_changes(&cloud, &edge_text(8080)).await;
}
