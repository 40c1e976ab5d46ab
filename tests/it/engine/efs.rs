//! EFS (`storage.efs[]`) on the memory cloud. The Fargate-only example
//! (`examples/fargate-private.yaml`: CoreDNS on Fargate, an EFS file system)
//! applies and re-plans with no changes, its NFS group admitting the cluster
//! security group Fargate pods use. Here rather than on the emulator, which
//! has no EKS add-ons and no cluster security group (EMULATOR.md); the EFS
//! calls themselves run against the emulator in `emulator::efs`. Its destroy
//! deletes the access points and mount targets before the file system (the
//! memory cloud refuses a file system's delete while mount targets exist, as
//! AWS does) and the NFS group after the mount targets.

use std::sync::Arc;

use eksform::ops;
use eksform_core::cloud::{Cloud, OneCloud};
use eksform_core::execute::{Cancellation, Event, EventLog, ExecuteOptions};
use eksform_core::graph::Operation;
use eksform_core::model::Value;
use eksform_core::outputs::KnownOutputs;
use eksform_core::plan::Plan;
use eksform_core::retry::RetryPolicy;
use eksform_testkit::memory::MemoryCloud;

use super::runs::{ACCOUNT, events};

const EXAMPLE: &str = "examples/fargate-private.yaml";

fn cloud() -> Arc<MemoryCloud> {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    // CoreDNS's schema, as far as the example's values go.
    cloud.publish_addon_schema(
        "coredns",
        serde_json::json!({
            "type": "object",
            "properties": { "computeType": { "type": "string" } }
        }),
    );
    cloud
}

async fn plan(cloud: &Arc<MemoryCloud>, goal: ops::Goal) -> Plan {
    let mut stack = ops::prepare(std::path::Path::new(EXAMPLE)).expect("the example is valid");
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let regions = OneCloud(dyn_cloud.clone());
    ops::plan_stack(
        dyn_cloud,
        &regions,
        &KnownOutputs::new(),
        &mut stack,
        goal,
        RetryPolicy::default(),
    )
    .await
    .expect("plan")
    .0
}

async fn run(cloud: &Arc<MemoryCloud>, goal: ops::Goal) -> Vec<Event> {
    let plan = plan(cloud, goal).await;
    let log = Arc::new(EventLog::default());
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let outcome = ops::apply(
        dyn_cloud,
        &plan,
        ExecuteOptions::default(),
        log.clone(),
        Cancellation::default(),
    )
    .await;
    assert!(outcome.succeeded(), "{:?}", outcome.failed);
    events(&log)
}

/// When the operation on `address` finished.
fn finished(events: &[Event], address: &str, operation: Operation) -> usize {
    events
        .iter()
        .position(|e| matches!(e, Event::Finished { address: a, operation: o, .. } if a.as_str() == address && *o == operation))
        .unwrap_or_else(|| panic!("{address} {operation:?} finished"))
}

/// When the operation on `address` started.
fn started(events: &[Event], address: &str, operation: Operation) -> usize {
    events
        .iter()
        .position(|e| matches!(e, Event::Started { address: a, operation: o } if a.as_str() == address && *o == operation))
        .unwrap_or_else(|| panic!("{address} {operation:?} started"))
}

#[tokio::test(start_paused = true)]
async fn the_fargate_only_example_with_efs_applies_replans_to_nothing_and_goes_in_order() {
    let cloud = cloud();
    run(&cloud, ops::Goal::Apply).await;
    let again = plan(&cloud, ops::Goal::Apply).await;
    assert!(
        !again.summary().has_changes(),
        "a second plan finds nothing to do: {:?}",
        again.summary()
    );

    // A mount target in each private subnet, in the NFS group, which admits
    // the cluster security group (Fargate pods' and managed nodes').
    let resources = cloud.resources();
    let by_address = |address: &str| {
        resources
            .iter()
            .find(|r| {
                r.attributes
                    .get("tags")
                    .and_then(Value::as_map)
                    .and_then(|t| t.get("eksform:address"))
                    .and_then(Value::as_str)
                    == Some(address)
            })
            .unwrap_or_else(|| panic!("{address} exists"))
    };
    let cluster = by_address("eks_cluster.main");
    let nfs = by_address("security_group.efs.shared");
    let cluster_group = cluster.attributes["security_group_id"].clone();
    let ingress = nfs.attributes["ingress"].as_list().expect("rules");
    assert_eq!(ingress.len(), 1, "{ingress:?}");
    assert_eq!(
        ingress[0].as_map().expect("a group rule")["group"],
        cluster_group
    );
    assert_eq!(
        ingress[0].as_map().expect("a group rule")["rule"],
        Value::string("tcp:2049")
    );
    for zone in ["us-east-1a", "us-east-1b"] {
        let target = by_address(&format!("efs_mount_target.shared.{zone}"));
        let subnet = by_address(&format!("subnet.private.{zone}"));
        assert_eq!(target.attributes["subnet_id"], Value::string(&subnet.id));
        assert_eq!(
            target.attributes["security_group_ids"],
            Value::List(vec![Value::string(&nfs.id)])
        );
    }

    let destroyed = run(&cloud, ops::Goal::Destroy).await;
    let file_system = started(&destroyed, "efs_file_system.shared", Operation::Delete);
    for before in [
        "efs_mount_target.shared.us-east-1a",
        "efs_mount_target.shared.us-east-1b",
        "efs_access_point.shared.bots",
    ] {
        assert!(
            finished(&destroyed, before, Operation::Delete) < file_system,
            "{before} goes first"
        );
    }
    let group = started(&destroyed, "security_group.efs.shared", Operation::Delete);
    for target in [
        "efs_mount_target.shared.us-east-1a",
        "efs_mount_target.shared.us-east-1b",
    ] {
        assert!(
            finished(&destroyed, target, Operation::Delete) < group,
            "{target} goes before its group"
        );
    }
    let refused: Vec<&Event> = destroyed
        .iter()
        .filter(
            |e| matches!(e, Event::Retrying { address, .. } if address.as_str().contains("efs")),
        )
        .collect();
    assert!(refused.is_empty(), "no EFS delete refused: {refused:?}");
    let left: Vec<String> = cloud
        .resources()
        .iter()
        .filter(|r| r.deleting_until.is_none())
        .map(|r| r.id.clone())
        .collect();
    assert!(left.is_empty(), "left: {left:?}");
}
