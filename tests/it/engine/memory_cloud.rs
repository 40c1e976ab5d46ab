//! The memory cloud's rules, which stand for AWS's: what AWS refuses, and
//! how, whatever the engine's settings say. Engine tests rely on them to
//! catch a wrong ordering setting; these tests pin them down.

use std::sync::Arc;

use eksform::ops;
use eksform_core::cloud::{Cloud, CreateRequest, ErrorClass, OneCloud, Regions, Scope};
use eksform_core::diagnostics::SourceFile;
use eksform_core::execute::{Cancellation, EventLog, ExecuteOptions, Outcome};
use eksform_core::kinds::{self, Kind};
use eksform_core::model::{ADDRESS_TAG, Address, Attributes, LiveResource, STACK_TAG, Value};
use eksform_core::retry::RetryPolicy;
use eksform_core::{lower, spec};
use eksform_testkit::memory::{MemoryCloud, MemoryRegions};

const ACCOUNT: &str = "123456789012";

fn network(stack: &str, region: &str, cidr: &str) -> String {
    format!(
        "stack: {stack}\nregion: {region}\nvpc:\n  cidr: {cidr}\n  availabilityZones: [{region}a, {region}b]\n  nat:\n    gateway: Single\n"
    )
}

fn with_cluster(text: &str) -> String {
    format!(
        "{text}cluster:\n  name: mem-eks\n  version: \"1.31\"\nmanagedNodeGroups:\n  - name: general\n    minSize: 1\n    maxSize: 3\n"
    )
}

async fn apply(cloud: Arc<dyn Cloud>, text: &str) -> Outcome {
    let loaded = spec::parse(SourceFile::new("mem.yaml", text.to_string())).expect("valid spec");
    let model = lower::model(&loaded.spec);
    let desired = lower::desired(&model);
    let (plan, _) = ops::plan(
        cloud.clone(),
        &model,
        &desired,
        ops::Goal::Apply,
        RetryPolicy::default(),
    )
    .await
    .expect("plan");
    ops::apply(
        cloud,
        &plan,
        ExecuteOptions::default(),
        Arc::new(EventLog::default()),
        Cancellation::default(),
    )
    .await
}

async fn observed(cloud: &dyn Cloud, kind: &str, stack: &str) -> Vec<LiveResource> {
    let scope = Scope {
        stack: stack.into(),
        cluster: Some("mem-eks".into()),
        ..Scope::default()
    };
    cloud
        .observe(kinds::by_name(kind).unwrap(), &scope)
        .await
        .unwrap()
}

async fn one(cloud: &dyn Cloud, kind: &str, stack: &str) -> LiveResource {
    let mut found = observed(cloud, kind, stack).await;
    assert_eq!(found.len(), 1, "one {kind}");
    found.remove(0)
}

#[tokio::test(start_paused = true)]
async fn an_internet_gateway_stays_attached_while_a_nat_gateway_maps_an_address() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    assert!(
        apply(cloud.clone(), &network("mem", "us-east-1", "10.1.0.0/16"))
            .await
            .succeeded()
    );
    let gateway = one(cloud.as_ref(), "internet_gateway", "mem").await;
    let igw = kinds::by_name("internet_gateway").unwrap();
    let refused = cloud.delete(igw, &gateway).await.unwrap_err();
    assert_eq!(refused.class, ErrorClass::DependencyViolation);
    assert!(
        refused.message.contains("mapped public address"),
        "{refused}"
    );

    // Still refused while the NAT gateway is being deleted; accepted once it is gone.
    let nat = one(cloud.as_ref(), "nat_gateway", "mem").await;
    let nat_kind = kinds::by_name("nat_gateway").unwrap();
    cloud.delete(nat_kind, &nat).await.unwrap();
    assert!(cloud.delete(igw, &gateway).await.is_err());
    while cloud.read(nat_kind, &nat).await.unwrap().is_some() {
        tokio::time::sleep(nat_kind.timings().poll).await;
    }
    // The Elastic IP, no longer associated, does not hold the gateway.
    cloud.delete(igw, &gateway).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn what_is_in_use_is_not_deleted_and_an_update_waits_for_the_last() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let text = with_cluster(&network("mem", "us-east-1", "10.1.0.0/16"));
    assert!(apply(cloud.clone(), &text).await.succeeded());
    let refused = |e: eksform_core::cloud::CloudError, code: &str| {
        assert_eq!(e.class, ErrorClass::DependencyViolation, "{e}");
        assert_eq!(e.code.as_deref(), Some(code), "{e}");
    };
    let cluster = one(cloud.as_ref(), "eks_cluster", "mem").await;
    let eks = kinds::by_name("eks_cluster").unwrap();
    refused(
        cloud.delete(eks, &cluster).await.unwrap_err(),
        "ResourceInUseException",
    );
    let subnet = observed(cloud.as_ref(), "subnet", "mem")
        .await
        .into_iter()
        .find(|s| s.address.as_str().starts_with("subnet.private."))
        .unwrap();
    refused(
        cloud
            .delete(kinds::by_name("subnet").unwrap(), &subnet)
            .await
            .unwrap_err(),
        "DependencyViolation",
    );
    let vpc = one(cloud.as_ref(), "vpc", "mem").await;
    refused(
        cloud
            .delete(kinds::by_name("vpc").unwrap(), &vpc)
            .await
            .unwrap_err(),
        "DependencyViolation",
    );
    let address = one(cloud.as_ref(), "elastic_ip", "mem").await;
    refused(
        cloud
            .delete(kinds::by_name("elastic_ip").unwrap(), &address)
            .await
            .unwrap_err(),
        "InvalidIPAddress.InUse",
    );

    // EKS carries out one update of a node group at a time.
    let group = one(cloud.as_ref(), "node_group", "mem").await;
    let node_group = kinds::by_name("node_group").unwrap();
    let mut scaled = group.attributes.clone();
    scaled.insert("version".into(), Value::string("1.32"));
    let first = {
        let cloud = cloud.clone();
        let group = group.clone();
        let scaled = scaled.clone();
        tokio::spawn(async move { cloud.update(node_group, &group, &scaled).await })
    };
    // Until the first update's call has been answered.
    while cloud
        .read(node_group, &group)
        .await
        .unwrap()
        .unwrap()
        .status
        == eksform_core::model::Status::Ready
    {}
    let mut relabelled = group.attributes.clone();
    relabelled.insert("labels".into(), Value::Map(Default::default()));
    relabelled.insert("max_unavailable".into(), Value::Int(2));
    refused(
        cloud
            .update(node_group, &group, &relabelled)
            .await
            .unwrap_err(),
        "ResourceInUseException",
    );
    first.await.unwrap().unwrap();
    cloud.update(node_group, &group, &relabelled).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_efs_file_system_is_kept_while_it_has_mount_targets() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    let text = format!(
        "{}storage:\n  efs:\n    - name: files\n",
        network("mem", "us-east-1", "10.1.0.0/16")
    );
    assert!(apply(cloud.clone(), &text).await.succeeded());
    let file_system = one(cloud.as_ref(), "efs_file_system", "mem").await;
    let refused = cloud
        .delete(kinds::by_name("efs_file_system").unwrap(), &file_system)
        .await
        .unwrap_err();
    assert_eq!(refused.class, ErrorClass::DependencyViolation, "{refused}");
    assert_eq!(refused.code.as_deref(), Some("FileSystemInUse"));
    // Its mount targets' network interfaces hold their subnets and group.
    let targets = observed(cloud.as_ref(), "efs_mount_target", "mem").await;
    assert_eq!(targets.len(), 2, "one per private subnet");
    let group = one(cloud.as_ref(), "security_group", "mem").await;
    let refused = cloud
        .delete(kinds::by_name("security_group").unwrap(), &group)
        .await
        .unwrap_err();
    assert_eq!(refused.code.as_deref(), Some("DependencyViolation"));
    let mount_target = kinds::by_name("efs_mount_target").unwrap();
    for target in &targets {
        cloud.delete(mount_target, target).await.unwrap();
    }
    while !observed(cloud.as_ref(), "efs_mount_target", "mem")
        .await
        .is_empty()
    {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    cloud
        .delete(kinds::by_name("efs_file_system").unwrap(), &file_system)
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn five_vpcs_a_region_and_each_region_sees_its_own() {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    for i in 0..5 {
        let text = network(&format!("net-{i}"), "us-east-1", &format!("10.{i}.0.0/16"));
        assert!(apply(cloud.clone(), &text).await.succeeded());
    }
    let sixth = apply(cloud.clone(), &network("net-5", "us-east-1", "10.5.0.0/16")).await;
    let failed: Vec<String> = sixth
        .failed
        .iter()
        .map(|(a, _, e)| format!("{a}: {e}"))
        .collect();
    assert!(
        failed
            .iter()
            .any(|f| f.starts_with("vpc.main") && f.contains("VpcLimitExceeded")),
        "{failed:?}"
    );

    // Another region has its own quota and sees none of us-east-1's VPCs;
    // IAM is global.
    let regions = MemoryRegions::new(cloud.clone());
    let ireland = regions.cloud("eu-west-1").await;
    assert!(observed(ireland.as_ref(), "vpc", "net-0").await.is_empty());
    let text = with_cluster(&network("eu", "eu-west-1", "10.5.0.0/16"));
    assert!(apply(ireland.clone(), &text).await.succeeded());
    assert_eq!(observed(ireland.as_ref(), "vpc", "eu").await.len(), 1);
    assert!(observed(cloud.as_ref(), "vpc", "eu").await.is_empty());
    assert!(
        observed(cloud.as_ref(), "eks_cluster", "eu")
            .await
            .is_empty()
    );
    let roles = observed(cloud.as_ref(), "iam_role", "eu").await;
    assert!(!roles.is_empty(), "roles are seen from every region");
    // A OneCloud is one region: the same call from it does not reach Ireland.
    let here = OneCloud(cloud.clone()).cloud("eu-west-1").await;
    assert!(observed(here.as_ref(), "vpc", "eu").await.is_empty());
}

fn request(kind: &str, name: &str) -> CreateRequest {
    let address = Address::new(&[kind, "long"]);
    let mut attributes = Attributes::new();
    attributes.insert("name".into(), Value::string(name));
    attributes.insert("path".into(), Value::string("/eksform/mem/"));
    attributes.insert(
        "tags".into(),
        Value::Map(
            [
                (STACK_TAG.to_string(), Value::string("mem")),
                (ADDRESS_TAG.to_string(), Value::string(address.as_str())),
            ]
            .into(),
        ),
    );
    CreateRequest {
        stack: "mem".into(),
        address,
        attributes,
        token: format!("token-{kind}-{}", name.len()),
    }
}

#[tokio::test(start_paused = true)]
async fn names_longer_than_aws_allows_are_rejected() {
    let cloud = MemoryCloud::new(ACCOUNT);
    for (kind, longest) in [
        ("iam_role", 64),
        ("load_balancer", 32),
        ("target_group", 32),
    ] {
        let kind: &'static dyn Kind = kinds::by_name(kind).unwrap();
        let too_long = cloud
            .create(kind, &request(kind.name(), &"n".repeat(longest + 1)))
            .await
            .unwrap_err();
        assert_eq!(too_long.class, ErrorClass::Rejected, "{too_long}");
        assert_eq!(too_long.code.as_deref(), Some("ValidationError"));
        cloud
            .create(kind, &request(kind.name(), &"n".repeat(longest)))
            .await
            .unwrap();
    }
}
