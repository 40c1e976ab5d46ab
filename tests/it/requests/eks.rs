//! The requests eksform sends for EKS calls the emulator answers wrongly or not
//! at all (EMULATOR.md: UpdateClusterConfig answers with the cluster instead of
//! an update, DescribeUpdate is missing). Here the SDK client is mocked with
//! aws-smithy-mocks to answer as AWS does, and the adapter is checked to send
//! what AWS needs and to wait by update id.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_eks::Client;
use aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput;
use aws_sdk_eks::operation::describe_update::DescribeUpdateOutput;
use aws_sdk_eks::operation::update_cluster_config::UpdateClusterConfigOutput;
use aws_sdk_eks::types::{Cluster, ClusterStatus, Update, UpdateStatus, VpcConfigResponse};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use eksform_aws::{Adapter, AwsClients};
use eksform_core::kinds::EksCluster;
use eksform_core::model::{Address, Attributes, LiveResource, Status, Value};

fn clients(eks: Client) -> AwsClients {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let mut clients = AwsClients::from_config(&config);
    clients.eks = eks;
    clients
}

fn strings(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::string(*s)).collect())
}

fn live_cluster() -> LiveResource {
    let mut attributes = Attributes::new();
    attributes.insert("name".into(), Value::string("prd"));
    attributes.insert("subnet_ids".into(), strings(&["subnet-a", "subnet-b"]));
    attributes.insert("endpoint_public_access".into(), Value::Bool(true));
    attributes.insert("endpoint_private_access".into(), Value::Bool(true));
    attributes.insert("public_access_cidrs".into(), strings(&["198.51.100.7/32"]));
    attributes.insert("log_types".into(), strings(&["api"]));
    attributes.insert(
        "arn".into(),
        Value::string("arn:aws:eks:us-east-1:123456789012:cluster/prd"),
    );
    attributes.insert("tags".into(), Value::Map(BTreeMap::new()));
    LiveResource {
        address: Address("eks_cluster.main".into()),
        kind: "eks_cluster".into(),
        id: "prd".into(),
        attributes,
        status: Status::Ready,
    }
}

fn active_cluster() -> DescribeClusterOutput {
    DescribeClusterOutput::builder()
        .cluster(
            Cluster::builder()
                .name("prd")
                .status(ClusterStatus::Active)
                .resources_vpc_config(
                    VpcConfigResponse::builder()
                        .subnet_ids("subnet-a")
                        .subnet_ids("subnet-b")
                        .build(),
                )
                .build(),
        )
        .build()
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_change_sends_only_the_endpoint_settings_and_waits_for_its_update() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    let update = mock!(Client::update_cluster_config)
        .match_requests(move |request| {
            recorded.lock().unwrap().push(format!("{request:?}"));
            true
        })
        .then_output(|| {
            UpdateClusterConfigOutput::builder()
                .update(
                    Update::builder()
                        .id("update-1")
                        .status(UpdateStatus::InProgress)
                        .build(),
                )
                .build()
        });
    // In progress twice, then done: eksform keeps asking by the update's id.
    let progress = mock!(Client::describe_update)
        .match_requests(|request| {
            request.update_id() == Some("update-1") && request.name() == Some("prd")
        })
        .sequence()
        .output(|| {
            DescribeUpdateOutput::builder()
                .update(
                    Update::builder()
                        .id("update-1")
                        .status(UpdateStatus::InProgress)
                        .build(),
                )
                .build()
        })
        .times(2)
        .output(|| {
            DescribeUpdateOutput::builder()
                .update(
                    Update::builder()
                        .id("update-1")
                        .status(UpdateStatus::Successful)
                        .build(),
                )
                .build()
        })
        .build();
    let describe = mock!(Client::describe_cluster).then_output(active_cluster);
    let eks = mock_client!(
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&update, &progress, &describe]
    );

    let mut desired = live_cluster().attributes;
    desired.insert("public_access_cidrs".into(), strings(&["198.51.100.8/32"]));
    EksCluster
        .update(&clients(eks), &live_cluster(), &desired)
        .await
        .expect("update");

    assert_eq!(
        update.num_calls(),
        1,
        "one UpdateClusterConfig: the subnets were not lost"
    );
    assert_eq!(progress.num_calls(), 3, "waited until the update succeeded");
    let requests = seen.lock().unwrap();
    let request = &requests[0];
    assert!(request.contains("198.51.100.8/32"), "{request}");
    assert!(
        request.contains("subnet_ids: None"),
        "AWS keeps the subnets; eksform does not send them: {request}"
    );
    assert!(
        request.contains("logging: None"),
        "one kind of update per call: {request}"
    );
}

#[tokio::test(start_paused = true)]
async fn endpoint_and_logging_changes_are_two_updates_one_after_the_other() {
    let update = mock!(Client::update_cluster_config).then_output(|| {
        UpdateClusterConfigOutput::builder()
            .update(
                Update::builder()
                    .id("update-n")
                    .status(UpdateStatus::InProgress)
                    .build(),
            )
            .build()
    });
    let done = mock!(Client::describe_update).then_output(|| {
        DescribeUpdateOutput::builder()
            .update(
                Update::builder()
                    .id("update-n")
                    .status(UpdateStatus::Successful)
                    .build(),
            )
            .build()
    });
    let describe = mock!(Client::describe_cluster).then_output(active_cluster);
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&update, &done, &describe]);

    let mut desired = live_cluster().attributes;
    desired.insert("endpoint_public_access".into(), Value::Bool(false));
    desired.insert("log_types".into(), strings(&["api", "audit"]));
    EksCluster
        .update(&clients(eks), &live_cluster(), &desired)
        .await
        .expect("update");
    assert_eq!(update.num_calls(), 2);
    assert_eq!(done.num_calls(), 2, "each update awaited before the next");
}

/// The emulator has no AssociateEncryptionConfig and keeps neither an
/// upgrade policy nor a zonal shift configuration (EMULATOR.md): their
/// requests are checked here.
#[tokio::test(start_paused = true)]
async fn secrets_encryption_is_turned_on_in_place_and_the_upgrade_policy_and_zonal_shift_are_one_update_each()
 {
    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    let in_progress = |id: &str| {
        Update::builder()
            .id(id)
            .status(UpdateStatus::InProgress)
            .build()
    };
    let associate = mock!(Client::associate_encryption_config)
        .match_requests(|request| {
            let config = request.encryption_config();
            request.cluster_name() == Some("prd")
                && config.len() == 1
                && config[0].provider().and_then(|p| p.key_arn()) == Some(KEY)
        })
        .then_output(move || {
            aws_sdk_eks::operation::associate_encryption_config::AssociateEncryptionConfigOutput::builder()
                .update(in_progress("encryption"))
                .build()
        });
    let policy = mock!(Client::update_cluster_config)
        .match_requests(|request| {
            request.upgrade_policy().and_then(|p| p.support_type())
                == Some(&aws_sdk_eks::types::SupportType::Standard)
                && request.zonal_shift_config().is_none()
                && request.resources_vpc_config().is_none()
        })
        .then_output(move || {
            UpdateClusterConfigOutput::builder()
                .update(in_progress("policy"))
                .build()
        });
    let shift = mock!(Client::update_cluster_config)
        .match_requests(|request| {
            request.zonal_shift_config().and_then(|z| z.enabled()) == Some(true)
                && request.upgrade_policy().is_none()
        })
        .then_output(move || {
            UpdateClusterConfigOutput::builder()
                .update(in_progress("shift"))
                .build()
        });
    let awaited = Arc::new(Mutex::new(Vec::new()));
    let recorded = awaited.clone();
    let done = mock!(Client::describe_update)
        .match_requests(move |request| {
            recorded
                .lock()
                .unwrap()
                .push(request.update_id().unwrap_or_default().to_string());
            true
        })
        .then_output(|| {
            DescribeUpdateOutput::builder()
                .update(Update::builder().status(UpdateStatus::Successful).build())
                .build()
        });
    let eks = mock_client!(
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&associate, &policy, &shift, &done]
    );

    let mut live = live_cluster();
    live.attributes
        .insert("encryption_key_arn".into(), Value::Null);
    live.attributes
        .insert("support_type".into(), Value::string("EXTENDED"));
    live.attributes
        .insert("zonal_shift".into(), Value::Bool(false));
    let mut desired = live_cluster().attributes;
    desired.insert("encryption_key_arn".into(), Value::string(KEY));
    desired.insert("support_type".into(), Value::string("STANDARD"));
    desired.insert("zonal_shift".into(), Value::Bool(true));
    EksCluster
        .update(&clients(eks), &live, &desired)
        .await
        .expect("update");
    assert_eq!(
        (associate.num_calls(), policy.num_calls(), shift.num_calls()),
        (1, 1, 1)
    );
    assert_eq!(
        *awaited.lock().unwrap(),
        ["encryption", "policy", "shift"],
        "each update awaited before the next"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_update_fails_with_aws_words() {
    let update = mock!(Client::update_cluster_config).then_output(|| {
        UpdateClusterConfigOutput::builder()
            .update(
                Update::builder()
                    .id("update-x")
                    .status(UpdateStatus::InProgress)
                    .build(),
            )
            .build()
    });
    let failed = mock!(Client::describe_update).then_output(|| {
        DescribeUpdateOutput::builder()
            .update(
                Update::builder()
                    .id("update-x")
                    .status(UpdateStatus::Failed)
                    .errors(
                        aws_sdk_eks::types::ErrorDetail::builder()
                            .error_message("subnet is not in the VPC")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&update, &failed]);
    let mut desired = live_cluster().attributes;
    desired.insert("public_access_cidrs".into(), strings(&["0.0.0.0/0"]));
    let error = EksCluster
        .update(&clients(eks), &live_cluster(), &desired)
        .await
        .expect_err("failed update");
    assert!(
        error.to_string().contains("subnet is not in the VPC"),
        "{error}"
    );
}

// Access entries: the emulator has none of these APIs (EMULATOR.md), so the
// requests are checked against a mocked client; the ordering (after the
// cluster, before its deletion) is covered on the memory cloud.

use aws_sdk_eks::operation::associate_access_policy::AssociateAccessPolicyOutput;
use aws_sdk_eks::operation::create_access_entry::CreateAccessEntryOutput;
use aws_sdk_eks::operation::disassociate_access_policy::DisassociateAccessPolicyOutput;
use eksform_core::cloud::CreateRequest;
use eksform_core::kinds::AccessEntry;

const ADMINS: &str = "arn:aws:iam::123456789012:role/platform-admins";
const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const VIEW_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";

fn scope(scope_type: &str, namespaces: &[&str]) -> Value {
    Value::Map(BTreeMap::from([
        ("namespaces".to_string(), strings(namespaces)),
        ("type".to_string(), Value::string(scope_type)),
    ]))
}

fn entry_attributes(policies: Vec<(&str, Value)>) -> Attributes {
    let mut attributes = Attributes::new();
    attributes.insert("cluster_name".into(), Value::string("prd"));
    attributes.insert("principal_arn".into(), Value::string(ADMINS));
    attributes.insert("type".into(), Value::string("STANDARD"));
    attributes.insert(
        "policies".into(),
        Value::Map(
            policies
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        ),
    );
    attributes.insert(
        "tags".into(),
        Value::Map(BTreeMap::from([
            ("eksform:stack".to_string(), Value::string("prd")),
            (
                "eksform:address".to_string(),
                Value::string(AccessEntry::address(ADMINS).as_str()),
            ),
        ])),
    );
    attributes
}

#[tokio::test]
async fn an_access_entry_is_created_with_its_mark_and_then_its_policies() {
    let create = mock!(Client::create_access_entry)
        .match_requests(|r| {
            r.cluster_name() == Some("prd")
                && r.principal_arn() == Some(ADMINS)
                && r.r#type() == Some("STANDARD")
                && r.tags()
                    .is_some_and(|t| t.get("eksform:stack").map(String::as_str) == Some("prd"))
                && r.client_request_token().is_some()
        })
        .then_output(|| CreateAccessEntryOutput::builder().build());
    let associate = mock!(Client::associate_access_policy)
        .match_requests(|r| {
            r.principal_arn() == Some(ADMINS)
                && r.policy_arn() == Some(ADMIN_POLICY)
                && r.access_scope().and_then(|s| s.r#type())
                    == Some(&aws_sdk_eks::types::AccessScopeType::Cluster)
                && r.access_scope().is_some_and(|s| s.namespaces().is_empty())
        })
        .then_output(|| AssociateAccessPolicyOutput::builder().build());
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&create, &associate]);
    let request = CreateRequest {
        stack: "prd".into(),
        address: AccessEntry::address(ADMINS),
        attributes: entry_attributes(vec![(ADMIN_POLICY, scope("cluster", &[]))]),
        token: "eksform-test".into(),
    };
    AccessEntry
        .create(&clients(eks), &request)
        .await
        .expect("created");
    assert_eq!((create.num_calls(), associate.num_calls()), (1, 1));
}

#[tokio::test]
async fn access_policies_change_in_place_by_association() {
    // Live: admin on the cluster. Wanted: view in two namespaces, admin gone.
    let associate = mock!(Client::associate_access_policy)
        .match_requests(|r| {
            r.policy_arn() == Some(VIEW_POLICY)
                && r.access_scope().and_then(|s| s.r#type())
                    == Some(&aws_sdk_eks::types::AccessScopeType::Namespace)
                && r.access_scope().map(|s| s.namespaces().to_vec())
                    == Some(vec!["apps".to_string(), "jobs".to_string()])
        })
        .then_output(|| AssociateAccessPolicyOutput::builder().build());
    let disassociate = mock!(Client::disassociate_access_policy)
        .match_requests(|r| {
            r.policy_arn() == Some(ADMIN_POLICY) && r.principal_arn() == Some(ADMINS)
        })
        .then_output(|| DisassociateAccessPolicyOutput::builder().build());
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&associate, &disassociate]);
    let live = LiveResource {
        address: AccessEntry::address(ADMINS),
        kind: "access_entry".into(),
        id: ADMINS.into(),
        attributes: entry_attributes(vec![(ADMIN_POLICY, scope("cluster", &[]))]),
        status: Status::Ready,
    };
    let desired = entry_attributes(vec![(VIEW_POLICY, scope("namespace", &["apps", "jobs"]))]);
    AccessEntry
        .update(&clients(eks), &live, &desired)
        .await
        .expect("updated");
    assert_eq!((associate.num_calls(), disassociate.num_calls()), (1, 1));
}

/// CreateAccessEntry refused because an entry for the principal exists: what
/// EKS answers when the spec lists the principal that created the cluster
/// (EKS gives it an admin entry of its own).
fn entry_in_use() -> aws_sdk_eks::operation::create_access_entry::CreateAccessEntryError {
    aws_sdk_eks::operation::create_access_entry::CreateAccessEntryError::ResourceInUseException(
        aws_sdk_eks::types::error::ResourceInUseException::builder()
            .message("The specified access entry resource is already in use on this cluster.")
            .meta(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("ResourceInUseException")
                    .build(),
            )
            .build(),
    )
}

fn existing_entry(
    tags: &[(&str, &str)],
) -> aws_sdk_eks::operation::describe_access_entry::DescribeAccessEntryOutput {
    let entry = aws_sdk_eks::types::AccessEntry::builder()
        .cluster_name("prd")
        .principal_arn(ADMINS)
        .r#type("STANDARD")
        .access_entry_arn("arn:aws:eks:us-east-1:123456789012:access-entry/prd/role/123456789012/platform-admins/ab")
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ))
        .build();
    aws_sdk_eks::operation::describe_access_entry::DescribeAccessEntryOutput::builder()
        .access_entry(entry)
        .build()
}

fn admin_on_the_cluster()
-> aws_sdk_eks::operation::list_associated_access_policies::ListAssociatedAccessPoliciesOutput {
    aws_sdk_eks::operation::list_associated_access_policies::ListAssociatedAccessPoliciesOutput::builder()
        .associated_access_policies(
            aws_sdk_eks::types::AssociatedAccessPolicy::builder()
                .policy_arn(ADMIN_POLICY)
                .access_scope(
                    AccessScope::builder()
                        .r#type(aws_sdk_eks::types::AccessScopeType::Cluster)
                        .build(),
                )
                .build(),
        )
        .build()
}

use aws_sdk_eks::types::AccessScope;

/// A create of the spec's entry (view in a namespace) that AWS refuses as in
/// use, the existing entry carrying `tags` and the admin policy: what the
/// create returns, and how many TagResource, AssociateAccessPolicy and
/// DisassociateAccessPolicy calls it made.
async fn create_over_an_existing_entry(
    tags: &'static [(&'static str, &'static str)],
) -> (
    Result<LiveResource, eksform_core::cloud::CloudError>,
    (usize, usize, usize),
) {
    let create = mock!(Client::create_access_entry).then_error(entry_in_use);
    let describe = mock!(Client::describe_access_entry).then_output(|| existing_entry(tags));
    let list = mock!(Client::list_associated_access_policies).then_output(admin_on_the_cluster);
    let tag = mock!(Client::tag_resource)
        .match_requests(|r| {
            r.resource_arn()
                .is_some_and(|arn| arn.contains(":access-entry/prd/"))
                && r.tags()
                    .is_some_and(|t| t.get("eksform:stack").map(String::as_str) == Some("prd"))
        })
        .then_output(|| aws_sdk_eks::operation::tag_resource::TagResourceOutput::builder().build());
    let associate = mock!(Client::associate_access_policy)
        .match_requests(|r| r.policy_arn() == Some(VIEW_POLICY))
        .then_output(|| AssociateAccessPolicyOutput::builder().build());
    let disassociate = mock!(Client::disassociate_access_policy)
        .match_requests(|r| r.policy_arn() == Some(ADMIN_POLICY))
        .then_output(|| DisassociateAccessPolicyOutput::builder().build());
    let eks = mock_client!(
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&create, &describe, &list, &tag, &associate, &disassociate]
    );
    let request = CreateRequest {
        stack: "prd".into(),
        address: AccessEntry::address(ADMINS),
        attributes: entry_attributes(vec![(VIEW_POLICY, scope("namespace", &["apps"]))]),
        token: "eksform-test".into(),
    };
    let result = AccessEntry.create(&clients(eks), &request).await;
    let calls = (
        tag.num_calls(),
        associate.num_calls(),
        disassociate.num_calls(),
    );
    (result, calls)
}

#[tokio::test]
async fn the_cluster_creators_own_entry_becomes_the_specs_entry_with_its_mark_and_policies() {
    // The spec lists the principal that created the cluster: EKS already gave
    // it an unmarked admin entry. The create takes that entry over: the
    // stack's mark, the spec's policies (view in a namespace), admin gone.
    let (result, calls) = create_over_an_existing_entry(&[]).await;
    let created = result.expect("the creator's entry is the spec's");
    assert_eq!(created.address, AccessEntry::address(ADMINS));
    assert_eq!(calls, (1, 1, 1));
}

#[tokio::test]
async fn an_entry_another_stack_marked_is_never_taken_over() {
    let (result, calls) =
        create_over_an_existing_entry(&[("eksform:stack", "other"), ("eksform:address", "x")])
            .await;
    let refused = result.expect_err("another stack's entry is not this stack's");
    assert_eq!(refused.code.as_deref(), Some("ResourceInUseException"));
    assert_eq!(
        calls,
        (0, 0, 0),
        "nothing of the other stack's entry changed"
    );
}

/// The plan's check before a create of the spec's entry, the cluster
/// standing: DescribeAccessEntry answering `existing` (`None`: no entry).
async fn taken_by(existing: Option<&'static [(&'static str, &'static str)]>) -> Option<String> {
    let describe = match existing {
        Some(tags) => mock!(Client::describe_access_entry).then_output(|| existing_entry(tags)),
        None => mock!(Client::describe_access_entry).then_error(|| {
            aws_sdk_eks::operation::describe_access_entry::DescribeAccessEntryError::ResourceNotFoundException(
                aws_sdk_eks::types::error::ResourceNotFoundException::builder()
                    .meta(
                        aws_smithy_types::error::ErrorMetadata::builder()
                            .code("ResourceNotFoundException")
                            .build(),
                    )
                    .build(),
            )
        }),
    };
    let list = mock!(Client::list_associated_access_policies).then_output(admin_on_the_cluster);
    // Only reads are answered: any change would fail the check.
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&describe, &list]);
    let mut desired =
        eksform_core::model::DesiredResource::new("access_entry", AccessEntry::address(ADMINS));
    desired.attributes = entry_attributes(vec![(VIEW_POLICY, scope("namespace", &["apps"]))]);
    AccessEntry
        .name_taken(&clients(eks), &desired)
        .await
        .expect("the check reads only")
}

#[tokio::test]
async fn an_entry_made_outside_eksform_in_a_standing_cluster_stops_the_plan_naming_its_adopt_entry()
{
    // Another team's admin entry for the principal the spec lists: a create
    // would take it over at apply and drop its cluster admin unseen.
    let taken = taken_by(Some(&[])).await.expect("the entry is in the way");
    assert!(taken.contains(ADMINS), "{taken}");
    assert!(taken.contains("AmazonEKSClusterAdminPolicy"), "{taken}");
    assert!(
        taken.contains(&format!(
            "adopt: [{{ address: {}, id: {ADMINS} }}]",
            AccessEntry::address(ADMINS)
        )),
        "{taken}"
    );

    let another = taken_by(Some(&[
        ("eksform:stack", "other"),
        ("eksform:address", "x"),
    ]))
    .await
    .expect("another stack's entry is in the way");
    assert!(another.contains("stack other's"), "{another}");

    assert_eq!(taken_by(None).await, None, "no entry: the create makes it");
    assert_eq!(
        taken_by(Some(&[("eksform:stack", "prd"), ("eksform:address", "x")])).await,
        None,
        "the stack's own is no stranger"
    );
}

// Add-ons: missing from the emulator too.

use aws_sdk_eks::operation::create_addon::CreateAddonOutput;
use aws_sdk_eks::operation::describe_addon_versions::DescribeAddonVersionsOutput;
use aws_sdk_eks::types::{AddonInfo, AddonVersionInfo};
use eksform_core::kinds::Addon;

/// DescribeCluster answering an active cluster `prd` on that Kubernetes version.
fn cluster_on_kubernetes(version: &'static str) -> aws_smithy_mocks::Rule {
    mock!(Client::describe_cluster).then_output(move || {
        DescribeClusterOutput::builder()
            .cluster(
                Cluster::builder()
                    .name("prd")
                    .version(version)
                    .status(ClusterStatus::Active)
                    .build(),
            )
            .build()
    })
}

/// DescribeAddonVersions answering these versions of an add-on.
fn offered(addon: &str, versions: &[&str]) -> DescribeAddonVersionsOutput {
    let mut info = AddonInfo::builder().addon_name(addon);
    for version in versions {
        info = info.addon_versions(AddonVersionInfo::builder().addon_version(*version).build());
    }
    DescribeAddonVersionsOutput::builder()
        .addons(info.build())
        .build()
}

#[tokio::test]
async fn latest_resolves_to_the_newest_version_for_the_clusters_kubernetes() {
    let cluster = cluster_on_kubernetes("1.31");
    let versions = mock!(Client::describe_addon_versions)
        .match_requests(|r| {
            r.addon_name() == Some("aws-ebs-csi-driver") && r.kubernetes_version() == Some("1.31")
        })
        .then_output(|| {
            offered(
                "aws-ebs-csi-driver",
                &[
                    "v1.9.0-eksbuild.1",
                    "v1.35.0-eksbuild.2",
                    "v1.35.0-eksbuild.10",
                ],
            )
        });
    let create = mock!(Client::create_addon)
        .match_requests(|r| {
            r.addon_version() == Some("v1.35.0-eksbuild.10")
                && r.service_account_role_arn()
                    == Some("arn:aws:iam::123456789012:role/eksform/prd/ebs")
                && r.resolve_conflicts() == Some(&aws_sdk_eks::types::ResolveConflicts::Overwrite)
                && r.tags().is_some_and(|t| t.contains_key("eksform:stack"))
        })
        .then_output(|| CreateAddonOutput::builder().build());
    let eks = mock_client!(
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&cluster, &versions, &create]
    );
    let mut attributes = Attributes::new();
    attributes.insert("cluster_name".into(), Value::string("prd"));
    attributes.insert("addon_name".into(), Value::string("aws-ebs-csi-driver"));
    attributes.insert("addon_version".into(), Value::string("latest"));
    attributes.insert(
        "service_account_role_arn".into(),
        Value::string("arn:aws:iam::123456789012:role/eksform/prd/ebs"),
    );
    attributes.insert(
        "tags".into(),
        Value::Map(BTreeMap::from([
            ("eksform:stack".to_string(), Value::string("prd")),
            (
                "eksform:address".to_string(),
                Value::string("addon.aws-ebs-csi-driver"),
            ),
        ])),
    );
    let request = CreateRequest {
        stack: "prd".into(),
        address: Addon::address("aws-ebs-csi-driver"),
        attributes,
        token: "eksform-test".into(),
    };
    let created = Addon
        .create(&clients(eks), &request)
        .await
        .expect("created");
    assert_eq!(create.num_calls(), 1);
    assert_eq!(
        created.status,
        Status::Pending,
        "the engine then waits for ACTIVE"
    );
}

#[tokio::test(start_paused = true)]
async fn an_upgrade_goes_one_minor_version_per_step_each_awaited() {
    let versions = Arc::new(Mutex::new(Vec::new()));
    let recorded = versions.clone();
    let upgrade = mock!(Client::update_cluster_version)
        .match_requests(move |r| {
            recorded
                .lock()
                .unwrap()
                .push(r.version().unwrap_or_default().to_string());
            true
        })
        .then_output(|| {
            aws_sdk_eks::operation::update_cluster_version::UpdateClusterVersionOutput::builder()
                .update(
                    Update::builder()
                        .id("upgrade")
                        .status(UpdateStatus::InProgress)
                        .build(),
                )
                .build()
        });
    let done = mock!(Client::describe_update).then_output(|| {
        DescribeUpdateOutput::builder()
            .update(
                Update::builder()
                    .id("upgrade")
                    .status(UpdateStatus::Successful)
                    .build(),
            )
            .build()
    });
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&upgrade, &done]);
    let mut live = live_cluster();
    live.attributes
        .insert("version".into(), Value::string("1.29"));
    let mut desired = live.attributes.clone();
    desired.insert("version".into(), Value::string("1.31"));
    EksCluster
        .update(&clients(eks), &live, &desired)
        .await
        .expect("upgraded");
    assert_eq!(
        *versions.lock().unwrap(),
        vec!["1.30", "1.31"],
        "one minor version per step"
    );
    assert_eq!(done.num_calls(), 2, "each step awaited before the next");
}

/// After an upgrade, an add-on on `latest` moves to the newest version for the
/// cluster's new Kubernetes version: the tag it carries names the version it
/// was resolved for. (The emulator has no add-on API.)
#[tokio::test(start_paused = true)]
async fn a_latest_add_on_follows_an_upgrade_to_the_newest_version_for_it() {
    let cluster = cluster_on_kubernetes("1.31");
    let versions = mock!(Client::describe_addon_versions)
        .match_requests(|r| {
            r.addon_name() == Some("coredns") && r.kubernetes_version() == Some("1.31")
        })
        .then_output(|| offered("coredns", &["v1.11.3-eksbuild.2", "v1.11.4-eksbuild.1"]));
    let update = mock!(Client::update_addon)
        .match_requests(|r| r.addon_version() == Some("v1.11.4-eksbuild.1"))
        .then_output(|| {
            aws_sdk_eks::operation::update_addon::UpdateAddonOutput::builder()
                .update(
                    Update::builder()
                        .id("addon-update")
                        .status(UpdateStatus::InProgress)
                        .build(),
                )
                .build()
        });
    let done = mock!(Client::describe_update)
        .match_requests(|r| {
            r.addon_name() == Some("coredns") && r.update_id() == Some("addon-update")
        })
        .then_output(|| {
            DescribeUpdateOutput::builder()
                .update(
                    Update::builder()
                        .id("addon-update")
                        .status(UpdateStatus::Successful)
                        .build(),
                )
                .build()
        });
    let tagged = mock!(Client::tag_resource)
        .match_requests(|r| {
            r.tags().is_some_and(|t| {
                t.get("eksform:kubernetes-version").map(String::as_str) == Some("1.31")
            })
        })
        .then_output(|| aws_sdk_eks::operation::tag_resource::TagResourceOutput::builder().build());
    let eks = mock_client!(
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&cluster, &versions, &update, &done, &tagged]
    );
    let tags = |kubernetes: &str| {
        Value::Map(BTreeMap::from([
            ("eksform:stack".to_string(), Value::string("prd")),
            (
                "eksform:address".to_string(),
                Value::string("addon.coredns"),
            ),
            (
                "eksform:kubernetes-version".to_string(),
                Value::string(kubernetes),
            ),
        ]))
    };
    let mut attributes = Attributes::new();
    attributes.insert("cluster_name".into(), Value::string("prd"));
    attributes.insert("addon_name".into(), Value::string("coredns"));
    attributes.insert("addon_version".into(), Value::string("v1.11.1-eksbuild.9"));
    attributes.insert(
        "arn".into(),
        Value::string("arn:aws:eks:us-east-1:123456789012:addon/prd/coredns/x"),
    );
    attributes.insert("tags".into(), tags("1.30"));
    let live = LiveResource {
        address: Addon::address("coredns"),
        kind: "addon".into(),
        id: "coredns".into(),
        attributes: attributes.clone(),
        status: Status::Ready,
    };
    let mut desired = attributes;
    desired.insert("addon_version".into(), Value::string("latest"));
    desired.insert("tags".into(), tags("1.31"));
    Addon
        .update(&clients(eks), &live, &desired)
        .await
        .expect("updated");
    assert_eq!(versions.num_calls(), 1, "resolved for the new version");
    assert_eq!(
        update.num_calls(),
        1,
        "moved to the newest version for 1.31"
    );
    assert_eq!(done.num_calls(), 1, "the update awaited");
    assert_eq!(tagged.num_calls(), 1, "the add-on now says 1.31");

    // Without an upgrade, `latest` leaves a running add-on as it is.
    let quiet = mock!(Client::update_addon)
        .then_output(|| aws_sdk_eks::operation::update_addon::UpdateAddonOutput::builder().build());
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&quiet]);
    let mut same = desired.clone();
    same.insert("tags".into(), tags("1.30"));
    Addon
        .update(&clients(eks), &live, &same)
        .await
        .expect("nothing to do");
    assert_eq!(quiet.num_calls(), 0);
}
