//! The cluster on the memory cloud: the control plane beside NAT gateways,
//! downgrades refused, upgrades in order, node groups replaced
//! create-before-destroy, Fargate profiles one at a time, add-ons after
//! compute, a node group AWS gave up on.

use std::sync::Arc;

use eksform::ops;
use eksform_core::cloud::Cloud;
use eksform_core::execute::{Event, ExecuteOptions, Operation};
use eksform_core::model::Address;
use eksform_core::plan::Action;
use eksform_core::retry::RetryPolicy;
use eksform_testkit::memory::{Faults, MemoryCloud};

use super::runs::{
    ACCOUNT, apply, apply_with, assert_converged, assert_no_changes, cluster_text, desired, events,
    plan, position,
};

#[tokio::test(start_paused = true)]
async fn the_control_plane_does_not_wait_for_nat_gateways_and_goes_before_its_role_on_destroy() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let text = format!(
        "{}  serviceAccounts:\n    - metadata: {{ namespace: kube-system, name: ebs-csi-controller-sa }}\n      wellKnownPolicies: {{ ebsCSIController: true }}\nmanagedNodeGroups:\n  - name: general\n    minSize: 1\n    maxSize: 3\n",
        cluster_text("1.31")
    );
    let (outcome, log) = apply_with(&cloud, &text, false, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let applied = events(&log);
    let cluster_started = position(
        &applied,
        |e| matches!(e, Event::Started { address, .. } if address.as_str() == "eks_cluster.main"),
    );
    let nat_done = position(
        &applied,
        |e| matches!(e, Event::Finished { address, .. } if address.as_str().starts_with("nat_gateway.")),
    );
    assert!(
        cluster_started < nat_done,
        "the cluster needs subnets, not NAT gateways"
    );
    let log_group = position(
        &applied,
        |e| matches!(e, Event::Finished { address, .. } if address.as_str() == "log_group.cluster"),
    );
    assert!(
        log_group < cluster_started,
        "the log group exists before the cluster"
    );

    let (outcome, log) = apply_with(&cloud, &text, true, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let destroyed = events(&log);
    let cluster_gone = position(
        &destroyed,
        |e| matches!(e, Event::Finished { address, operation: Operation::Delete, .. } if address.as_str() == "eks_cluster.main"),
    );
    let entry =
        eksform_core::kinds::AccessEntry::address("arn:aws:iam::123456789012:role/platform-admins");
    let entry_deleted = position(
        &destroyed,
        |e| matches!(e, Event::Finished { address, operation: Operation::Delete, .. } if *address == entry),
    );
    assert!(
        entry_deleted < cluster_gone,
        "access entries go before the cluster"
    );
    // SPEC issue 3 item 10: add-ons, node groups and Fargate profiles, then the
    // cluster, then the log group, the OIDC provider and the roles.
    for after in [
        "iam_role.cluster",
        "log_group.cluster",
        "subnet.private.us-east-1a",
        "oidc_provider.main",
        "iam_role.node",
        "iam_role.irsa.kube-system.ebs-csi-controller-sa",
    ] {
        let started = position(
            &destroyed,
            |e| matches!(e, Event::Started { address, operation: Operation::Delete } if address.as_str() == after),
        );
        assert!(
            cluster_gone < started,
            "{after} is deleted after the cluster is gone"
        );
    }
    assert!(cloud.resources().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_downgrade_is_refused_at_plan_time() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    assert!(apply(&cloud, &cluster_text("1.30")).await.succeeded());
    let (model, wanted) = desired(&cluster_text("1.29"));
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let error = ops::plan(
        dyn_cloud,
        &model,
        &wanted,
        ops::Goal::Apply,
        RetryPolicy::default(),
    )
    .await
    .expect_err("refused");
    let message = error.to_string();
    assert!(
        message.contains("eks_cluster.main") && message.contains("no downgrades"),
        "{message}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_upgrade_moves_the_control_plane_then_the_node_groups_then_the_add_ons() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let text = |version: &str| {
        format!(
            "{}managedNodeGroups:\n  - name: general\n    minSize: 1\n    maxSize: 3\n",
            cluster_text(version).replace("  accessEntries:", "  addons:\n    - name: coredns\n      version: v1.11.1-eksbuild.1\n    - name: aws-ebs-csi-driver\n  accessEntries:")
        )
    };
    assert!(apply(&cloud, &text("1.29")).await.succeeded());
    let upgraded = text("1.31").replace("v1.11.1-eksbuild.1", "v1.11.3-eksbuild.2");
    let plan = plan(&cloud, &upgraded, false).await;
    let updates: Vec<&str> = plan
        .resources
        .iter()
        .filter(|r| r.action == Action::Update)
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(
        updates,
        vec![
            "eks_cluster.main",
            "node_group.general",
            "addon.coredns",
            "addon.aws-ebs-csi-driver"
        ],
        "in place, nothing replaced; the `latest` add-on follows the new version"
    );
    let (outcome, log) = apply_with(&cloud, &upgraded, false, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let events = events(&log);
    let done = |name: &str| {
        position(
            &events,
            |e| matches!(e, Event::Finished { address, operation: Operation::Update, .. } if address.as_str() == name),
        )
    };
    let begun = |name: &str| {
        position(
            &events,
            |e| matches!(e, Event::Started { address, operation: Operation::Update } if address.as_str() == name),
        )
    };
    assert!(
        done("eks_cluster.main") < begun("node_group.general"),
        "the control plane first"
    );
    assert!(
        done("node_group.general") < begun("addon.coredns")
            && done("node_group.general") < begun("addon.aws-ebs-csi-driver"),
        "then the nodes, then the add-ons"
    );
    // With AWS's durations: 1.29 -> 1.31 is two control-plane steps of about
    // eight minutes each, then the nodes roll, then the add-ons move.
    let took = |name: &str| {
        events
            .iter()
            .find_map(|e| match e {
                Event::Finished {
                    address,
                    operation: Operation::Update,
                    elapsed,
                    ..
                } if address.as_str() == name => Some(*elapsed),
                _ => None,
            })
            .unwrap()
    };
    use eksform_core::kinds::Kind;
    let step = eksform_core::kinds::EksCluster.timings().update;
    assert!(
        took("eks_cluster.main") >= step * 2 && took("eks_cluster.main") < step * 3,
        "two control-plane steps: {:?}",
        took("eks_cluster.main")
    );
    assert!(took("node_group.general") >= eksform_core::kinds::NodeGroup.timings().update);
    assert_no_changes(&cloud, &upgraded).await;
}

#[tokio::test(start_paused = true)]
async fn a_node_group_is_replaced_create_before_destroy() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let with_group = |types: &str| {
        format!(
            "{}managedNodeGroups:\n  - name: general\n    instanceTypes: [{types}]\n    minSize: 1\n    maxSize: 3\n",
            cluster_text("1.31")
        )
    };
    assert!(apply(&cloud, &with_group("m5.large")).await.succeeded());
    let (outcome, log) = apply_with(
        &cloud,
        &with_group("m6i.large"),
        false,
        ExecuteOptions::default(),
    )
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let events = events(&log);
    let created = position(
        &events,
        |e| matches!(e, Event::Finished { address, operation: Operation::Create, .. } if address.as_str() == "node_group.general"),
    );
    let deleting = position(
        &events,
        |e| matches!(e, Event::Started { address, operation: Operation::Delete } if address.as_str() == "node_group.general"),
    );
    assert!(
        created < deleting,
        "the new group is ready before the old one goes"
    );
    assert_converged(&cloud, &with_group("m6i.large"));
    assert_no_changes(&cloud, &with_group("m6i.large")).await;
}

#[tokio::test(start_paused = true)]
async fn a_node_group_is_replaced_while_add_ons_stay() {
    // Add-ons go before the nodes on destroy (ordering), but AWS does not refuse
    // to delete a node group while add-ons exist: a replacement goes through.
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let with_group = |types: &str| {
        format!(
            "{}managedNodeGroups:\n  - name: general\n    instanceTypes: [{types}]\n    minSize: 1\n    maxSize: 3\n",
            cluster_text("1.31").replace(
                "  accessEntries:",
                "  addons:\n    - name: vpc-cni\n    - name: coredns\n  accessEntries:",
            )
        )
    };
    assert!(apply(&cloud, &with_group("m5.large")).await.succeeded());
    let (outcome, log) = apply_with(
        &cloud,
        &with_group("m6i.large"),
        false,
        ExecuteOptions::default(),
    )
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    for event in events(&log) {
        if let Event::Retrying { address, error, .. } = event {
            panic!("{address} was refused: {error}");
        }
    }
    assert_converged(&cloud, &with_group("m6i.large"));
    assert_no_changes(&cloud, &with_group("m6i.large")).await;
}

#[tokio::test(start_paused = true)]
async fn fargate_profiles_change_one_at_a_time() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let text = format!(
        "{}fargateProfiles:\n  - name: a\n    selectors: [{{ namespace: a }}]\n  - name: b\n    selectors: [{{ namespace: b }}]\n  - name: c\n    selectors: [{{ namespace: c }}]\n",
        cluster_text("1.31")
    );
    let started = tokio::time::Instant::now();
    let (outcome, log) = apply_with(&cloud, &text, false, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    // The model refuses a profile change while another is in progress, as AWS
    // does; the executor never asks for one, so no profile was refused and
    // retried. (The cluster's create may be: its role is seconds old.)
    for event in events(&log) {
        if let Event::Retrying { address, error, .. } = event
            && address.as_str().starts_with("fargate_profile.")
        {
            panic!("{address} was refused: {error}");
        }
    }
    let timing = |kind: &str| eksform_core::kinds::by_name(kind).unwrap().timings().create;
    assert!(
        started.elapsed() >= timing("eks_cluster") + 3 * timing("fargate_profile"),
        "the three profiles were made one after another ({:?})",
        started.elapsed()
    );
    assert_converged(&cloud, &text);
    let (outcome, _) = apply_with(&cloud, &text, true, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    assert!(cloud.resources().is_empty());
}

#[tokio::test(start_paused = true)]
async fn add_ons_that_need_pods_wait_for_compute_and_go_before_it() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let text = format!(
        "{}managedNodeGroups:\n  - name: general\n    minSize: 1\n    maxSize: 3\n",
        cluster_text("1.31").replace(
            "  accessEntries:",
            "  addons:\n    - name: vpc-cni\n    - name: coredns\n    - name: aws-ebs-csi-driver\n      serviceAccount: kube-system/ebs-csi-controller-sa\n  accessEntries:",
        ) + "  serviceAccounts:\n    - metadata: { namespace: kube-system, name: ebs-csi-controller-sa }\n      wellKnownPolicies: { ebsCSIController: true }\n"
    );
    let (outcome, log) = apply_with(&cloud, &text, false, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let applied = events(&log);
    let finished = |name: &str| {
        position(
            &applied,
            |e| matches!(e, Event::Finished { address, operation: Operation::Create, .. } if address.as_str() == name),
        )
    };
    let started = |name: &str| {
        position(
            &applied,
            |e| matches!(e, Event::Started { address, operation: Operation::Create } if address.as_str() == name),
        )
    };
    assert!(
        finished("node_group.general") < started("addon.coredns"),
        "coredns needs nodes"
    );
    assert!(finished("node_group.general") < started("addon.aws-ebs-csi-driver"));
    assert!(
        started("addon.vpc-cni") < finished("node_group.general"),
        "the CNI does not wait for nodes"
    );
    assert!(
        finished("iam_role.irsa.kube-system.ebs-csi-controller-sa")
            < started("addon.aws-ebs-csi-driver")
    );
    assert_converged(&cloud, &text);
    assert_no_changes(&cloud, &text).await;

    let (outcome, log) = apply_with(&cloud, &text, true, ExecuteOptions::default()).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let destroyed = events(&log);
    let addon_gone = position(
        &destroyed,
        |e| matches!(e, Event::Finished { address, operation: Operation::Delete, .. } if address.as_str() == "addon.coredns"),
    );
    let nodes_going = position(
        &destroyed,
        |e| matches!(e, Event::Started { address, operation: Operation::Delete } if address.as_str() == "node_group.general"),
    );
    assert!(
        addon_gone < nodes_going,
        "add-ons go before the nodes they run on"
    );
    assert!(cloud.resources().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_node_group_aws_gave_up_on_is_replaced_not_waited_on() {
    let text = format!(
        "{}managedNodeGroups:\n  - name: general\n    instanceTypes: [m5.large]\n    minSize: 1\n    maxSize: 3\n",
        cluster_text("1.31")
    );
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let group = Address("node_group.general".into());
    cloud.set_faults(Faults {
        fail_create: vec![group.clone()],
        ..Faults::default()
    });
    // The wait sees CREATE_FAILED and stops at once, naming it.
    let outcome = apply(&cloud, &text).await;
    let failed: Vec<_> = outcome.failed.iter().map(|(a, _, e)| (a, e)).collect();
    assert!(
        matches!(failed.as_slice(), [(address, error)] if **address == group && error.message.contains("failed")),
        "{outcome:?}"
    );
    cloud.set_faults(Faults::default());
    let plan = plan(&cloud, &text, false).await;
    let change = plan
        .resources
        .iter()
        .find(|r| r.address == group)
        .expect("the node group is in the plan");
    assert_eq!(change.action, Action::Replace, "{change:?}");
    assert!(
        change
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("failed")
    );
    let outcome = apply(&cloud, &text).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    assert_converged(&cloud, &text);
    assert_no_changes(&cloud, &text).await;
}
