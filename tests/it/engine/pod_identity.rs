//! EKS Pod Identity on the memory cloud (the emulator has no Pod Identity or
//! add-on API: EMULATOR.md): the association, its role trusted by
//! `pods.eks.amazonaws.com` and the agent add-on added for it; a role
//! change in place; a guarded delete; and a service account moved between
//! IRSA and Pod Identity with no gap in credentials (the new role and
//! association exist before the old role goes, and back).

use std::sync::Arc;

use eksform::render;
use eksform_core::execute::{Event, ExecuteOptions, Operation};
use eksform_core::plan::Action;
use eksform_testkit::memory::MemoryCloud;

use super::runs::{
    ACCOUNT, apply, apply_with, assert_converged, assert_no_changes, cluster_text, events, plan,
    position,
};

fn irsa() -> String {
    format!(
        "{}  serviceAccounts:\n    - metadata: {{ namespace: app, name: api }}\n      attachPolicyARNs: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]\n",
        cluster_text("1.31")
    )
}

fn pod_identity(extra: &str) -> String {
    format!(
        "{}  podIdentityAssociations:\n    - namespace: app\n      serviceAccountName: api\n      permissionPolicyARNs: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]\n{extra}",
        cluster_text("1.31")
    )
}

fn brought_role(name: &str) -> String {
    format!(
        "{}  podIdentityAssociations:\n    - namespace: app\n      serviceAccountName: api\n      roleARN: arn:aws:iam::123456789012:role/{name}\n",
        cluster_text("1.31")
    )
}

fn started(applied: &[Event], operation: Operation, at: &str) -> usize {
    position(
        applied,
        |e| matches!(e, Event::Started { address, operation: o } if address.as_str() == at && *o == operation),
    )
}

fn finished(applied: &[Event], operation: Operation, at: &str) -> usize {
    position(
        applied,
        |e| matches!(e, Event::Finished { address, operation: o, .. } if address.as_str() == at && *o == operation),
    )
}

#[tokio::test(start_paused = true)]
async fn an_association_comes_with_its_role_and_the_agent_and_goes_with_the_stack() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let text = pod_identity("");
    let planned = plan(&cloud, &text, false).await;
    for (address, what) in [
        ("pod_identity_association.app.api", "the association"),
        ("iam_role.pod_identity.app.api", "its role"),
        ("addon.eks-pod-identity-agent", "the agent, not in the spec"),
    ] {
        assert!(
            planned
                .resources
                .iter()
                .any(|r| r.address.as_str() == address && r.action == Action::Create),
            "{what} is created: {address}"
        );
    }
    let role = planned
        .resources
        .iter()
        .find(|r| r.address.as_str() == "iam_role.pod_identity.app.api")
        .expect("the role");
    let trust = role
        .changes
        .iter()
        .find(|a| a.name == "assume_role_policy")
        .and_then(|a| a.after.as_ref())
        .and_then(|v| v.as_str().map(str::to_string))
        .expect("a trust policy");
    assert!(
        trust.contains("pods.eks.amazonaws.com")
            && trust.contains("sts:AssumeRole")
            && trust.contains("sts:TagSession"),
        "{trust}"
    );
    assert!(apply(&cloud, &text).await.succeeded());
    assert_converged(&cloud, &text);
    assert_no_changes(&cloud, &text).await;

    let (outcome, _) = apply_with(&cloud, &text, true, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    assert!(cloud.resources().is_empty(), "{:?}", cloud.resources());
}

#[tokio::test(start_paused = true)]
async fn a_brought_role_is_used_as_it_is_and_a_new_one_changes_the_association_in_place() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let first = brought_role("app-api");
    assert!(apply(&cloud, &first).await.succeeded());
    assert!(
        !cloud.resources().iter().any(|r| r.kind == "iam_role"
            && r.attributes.get("name").and_then(|v| v.as_str()) == Some("app-api")),
        "eksform makes no role for a roleARN"
    );
    assert_no_changes(&cloud, &first).await;
    let second = brought_role("app-api-v2");
    let planned = plan(&cloud, &second, false).await;
    let association = planned
        .resources
        .iter()
        .find(|r| r.address.as_str() == "pod_identity_association.app.api")
        .expect("the association");
    assert_eq!(
        association.action,
        Action::Update,
        "the role changes in place"
    );
    assert!(apply(&cloud, &second).await.succeeded());
    assert_no_changes(&cloud, &second).await;
}

#[tokio::test(start_paused = true)]
async fn removing_an_association_is_a_guarded_delete() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    assert!(apply(&cloud, &pod_identity("")).await.succeeded());
    let without = cluster_text("1.31");
    let planned = plan(&cloud, &without, false).await;
    let association = planned
        .resources
        .iter()
        .find(|r| r.address.as_str() == "pod_identity_association.app.api")
        .expect("the association");
    assert_eq!(association.action, Action::Delete);
    assert!(
        association.is_guarded(),
        "apply --auto-approve alone refuses it: pods lose their credentials"
    );
}

#[tokio::test(start_paused = true)]
async fn moving_a_service_account_from_irsa_to_pod_identity_and_back_leaves_no_gap() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    assert!(apply(&cloud, &irsa()).await.succeeded());

    let to_pod_identity = pod_identity("");
    let moving = plan(&cloud, &to_pod_identity, false).await;
    insta::assert_snapshot!(
        "irsa-to-pod-identity-human",
        render::human::plan(&moving, false)
    );
    let (outcome, log) =
        apply_with(&cloud, &to_pod_identity, false, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let applied = events(&log);
    let association_made = finished(
        &applied,
        Operation::Create,
        "pod_identity_association.app.api",
    );
    let old_role_goes = started(&applied, Operation::Delete, "iam_role.irsa.app.api");
    assert!(
        association_made < old_role_goes,
        "the IRSA role is deleted only once the association exists"
    );
    assert!(
        finished(&applied, Operation::Create, "iam_role.pod_identity.app.api") < association_made
    );
    assert_converged(&cloud, &to_pod_identity);

    // And back: the IRSA role exists before the association goes.
    let (outcome, log) = apply_with(&cloud, &irsa(), false, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let applied = events(&log);
    assert!(
        finished(&applied, Operation::Create, "iam_role.irsa.app.api")
            < started(
                &applied,
                Operation::Delete,
                "pod_identity_association.app.api"
            ),
        "the association is deleted only once the IRSA role exists"
    );
    assert!(
        finished(
            &applied,
            Operation::Delete,
            "pod_identity_association.app.api"
        ) < started(&applied, Operation::Delete, "iam_role.pod_identity.app.api"),
        "its role goes after it"
    );
}
