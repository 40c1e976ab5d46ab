//! `adopt:` entries on the memory cloud: an estate another tool made (every
//! resource of a network, a cluster with node groups and Fargate profiles,
//! and the edge, without eksform's marks) is taken over without creating,
//! replacing or deleting anything, and a crash after any call of that apply
//! is finished by the next one.

use std::collections::BTreeMap;
use std::sync::Arc;

use eksform_core::model::{ADDRESS_TAG, STACK_TAG, Value};
use eksform_core::plan::{ADOPTED_BY_ENTRY, ADOPTED_TAG, Action};
use eksform_testkit::crash::crash_sweep;
use eksform_testkit::memory::MemoryCloud;

use super::runs::{
    ACCOUNT, apply, assert_converged, assert_no_changes, everything_text, plan, run_that_may_crash,
    try_plan,
};

/// The estate of `text` made, then stripped of eksform's marks; with the id
/// of each resource by the address eksform gives it.
async fn made_elsewhere(text: &str) -> (Arc<MemoryCloud>, BTreeMap<String, String>) {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    assert!(apply(&cloud, text).await.succeeded());
    let ids = ids_by_address(&cloud);
    cloud.forget_marks();
    (cloud, ids)
}

fn ids_by_address(cloud: &MemoryCloud) -> BTreeMap<String, String> {
    cloud
        .resources()
        .into_iter()
        .filter_map(|r| {
            let tags = r.attributes.get("tags")?.as_map()?.clone();
            let address = tags.get(ADDRESS_TAG)?.as_str()?.to_string();
            Some((address, r.id))
        })
        .collect()
}

/// `text` with an adopt entry for every resource in `ids`.
fn with_adopt_entries(text: &str, ids: &BTreeMap<String, String>) -> String {
    let entries: String = ids
        .iter()
        .map(|(address, id)| format!("  - {{ address: {address}, id: \"{id}\" }}\n"))
        .collect();
    format!("{text}adopt:\n{entries}")
}

#[tokio::test(start_paused = true)]
async fn an_estate_made_elsewhere_is_adopted_whole_and_nothing_is_made_again() {
    let text = everything_text();
    let (cloud, ids) = made_elsewhere(&text).await;
    let adopting = with_adopt_entries(&text, &ids);

    let planned = plan(&cloud, &adopting, false).await;
    let actions: BTreeMap<String, Action> = planned
        .resources
        .iter()
        .map(|r| (r.address.to_string(), r.action))
        .collect();
    assert!(
        actions.values().all(|a| *a == Action::Adopt),
        "only adoptions: {actions:?}"
    );
    assert_eq!(
        actions.keys().cloned().collect::<Vec<_>>(),
        ids.keys().cloned().collect::<Vec<_>>(),
        "every resource is adopted"
    );
    // Taking over changes nothing but tags here: no guard applies.
    assert!(planned.guarded().is_empty());

    assert!(apply(&cloud, &adopting).await.succeeded());
    assert_converged(&cloud, &text);
    assert_eq!(ids_by_address(&cloud), ids, "every resource kept its id");
    for resource in cloud.resources() {
        let tags = resource.attributes["tags"]
            .as_map()
            .cloned()
            .unwrap_or_default();
        assert_eq!(tags.get(STACK_TAG), Some(&Value::string("eng")));
        assert_eq!(
            tags.get(ADOPTED_TAG),
            Some(&Value::string(ADOPTED_BY_ENTRY)),
            "{} says it was taken over",
            resource.id
        );
    }
    // The entries are no-ops now, and so is their removal.
    assert_no_changes(&cloud, &adopting).await;
    assert_no_changes(&cloud, &text).await;

    // Taken over, the estate is the stack's: destroy deletes it.
    let destroy = plan(&cloud, &text, true).await;
    assert!(
        destroy.resources.iter().all(|r| r.action == Action::Delete),
        "{:?}",
        destroy.summary()
    );
}

#[tokio::test(start_paused = true)]
async fn an_adopt_entry_for_what_does_not_exist_or_another_stack_owns_is_refused() {
    let text = everything_text();
    let (cloud, mut ids) = made_elsewhere(&text).await;
    ids.insert("vpc.main".into(), "vpc-0000000000000000".into());
    let error = try_plan(&cloud, &with_adopt_entries(&text, &ids), false)
        .await
        .expect_err("an id that does not exist is refused");
    assert!(
        error.to_string().contains("vpc-0000000000000000"),
        "{error}"
    );

    // Another stack owns a VPC: naming it in an adopt entry never takes it.
    let other = "stack: other\nregion: us-east-1\nvpc:\n  cidr: 10.41.0.0/16\n  availabilityZones: [us-east-1a]\n";
    assert!(apply(&cloud, other).await.succeeded());
    let theirs = cloud
        .resources()
        .into_iter()
        .find(|r| {
            r.kind == "vpc"
                && r.attributes["tags"]
                    .as_map()
                    .is_some_and(|t| t.get(STACK_TAG) == Some(&Value::string("other")))
        })
        .expect("the other stack's VPC");
    ids.insert("vpc.main".into(), theirs.id.clone());
    let error = try_plan(&cloud, &with_adopt_entries(&text, &ids), false)
        .await
        .expect_err("another stack's VPC is refused");
    assert!(error.to_string().contains("stack other"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_crash_after_any_call_of_an_adopting_apply_is_finished_by_the_next_apply() {
    let text = everything_text();
    let (_, ids) = made_elsewhere(&text).await;
    let adopting = with_adopt_entries(&text, &ids);
    let runs = crash_sweep(
        async || made_elsewhere(&text).await.0,
        async |cloud| run_that_may_crash(cloud, &adopting, false).await,
        async |cloud, crash| {
            assert_converged(cloud, &text);
            assert_eq!(
                ids_by_address(cloud).len(),
                ids.len(),
                "crash at {}: nothing made twice",
                crash.at
            );
            assert_no_changes(cloud, &adopting).await;
        },
    )
    .await;
    assert!(
        runs > 10,
        "the sweep crashed the apply at every call: {runs}"
    );
}

#[tokio::test(start_paused = true)]
async fn taking_over_with_a_changed_setting_is_guarded_and_one_that_cannot_change_is_refused() {
    let text = everything_text();
    let (cloud, ids) = made_elsewhere(&text).await;

    // A setting that changes in place: adopted with it, but guarded.
    let longer = text.replace("logRetentionInDays: 30", "logRetentionInDays: 90");
    assert_ne!(longer, text);
    let planned = plan(&cloud, &with_adopt_entries(&longer, &ids), false).await;
    let guarded: Vec<String> = planned
        .guarded()
        .iter()
        .map(|r| r.address.to_string())
        .collect();
    assert_eq!(guarded, ["log_group.cluster"], "{planned:#?}");
    let log_group = planned.guarded()[0];
    assert_eq!(log_group.action, Action::Adopt);
    assert!(log_group.warnings[0].contains("--allow-destroy"));

    // A setting AWS cannot change: never a replacement, a plan error naming
    // the value that keeps it.
    let moved = text.replace("10.40.0.0/16", "10.50.0.0/16");
    let error = try_plan(&cloud, &with_adopt_entries(&moved, &ids), false)
        .await
        .expect_err("a CIDR change of an adopted VPC is refused");
    let message = error.to_string();
    assert!(message.contains("vpc.main"), "{message}");
    assert!(message.contains("set it to \"10.40.0.0/16\""), "{message}");
}

#[tokio::test(start_paused = true)]
async fn a_role_of_the_same_stack_name_in_another_region_is_never_taken() {
    // IAM is global: stack `eng` of us-east-1 owns this cluster role.
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let text = everything_text();
    assert!(apply(&cloud, &text).await.succeeded());
    let role = ids_by_address(&cloud)["iam_role.cluster"].clone();

    // Stack `eng` of eu-west-1 is another stack, and may not adopt it.
    let elsewhere = Arc::new(cloud.in_region("eu-west-1"));
    let there = with_adopt_entries(
        &text.replace("us-east-1", "eu-west-1"),
        &BTreeMap::from([("iam_role.cluster".to_string(), role.clone())]),
    );
    let error = try_plan(&elsewhere, &there, false)
        .await
        .expect_err("another region's role is refused");
    assert!(error.to_string().contains("in us-east-1"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_crash_after_any_call_of_a_destroy_of_what_was_adopted_is_finished_by_the_next() {
    let text = everything_text();
    let (_, ids) = made_elsewhere(&text).await;
    let adopting = with_adopt_entries(&text, &ids);
    let adopted = async || {
        let (cloud, _) = made_elsewhere(&text).await;
        assert!(apply(&cloud, &adopting).await.succeeded());
        cloud
    };
    // The entries stay in the spec: what the interrupted destroy deleted
    // already is simply gone, never an error.
    crash_sweep(
        adopted,
        async |cloud| run_that_may_crash(cloud, &adopting, true).await,
        async |cloud, crash| {
            assert!(
                cloud.resources().is_empty(),
                "crash at {}: leftovers {:?}",
                crash.at,
                cloud.resources()
            );
        },
    )
    .await;
}
