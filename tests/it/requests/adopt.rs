//! The requests of `adopt:` entries for what the emulator cannot answer
//! (EMULATOR.md): it has no add-on or access-entry API, and tags clusters
//! only, so a node group taken over cannot be marked there. Here the EKS
//! client is mocked with aws-smithy-mocks to answer as AWS does: each
//! lookup is one Describe call by the id the entry gives (and the cluster
//! the spec names, or the ARN's), an absent resource is `None`, and the
//! take-over marks the resource by its ARN.

use std::collections::BTreeMap;

use aws_sdk_eks::Client;
use aws_sdk_eks::operation::describe_access_entry::{
    DescribeAccessEntryError, DescribeAccessEntryOutput,
};
use aws_sdk_eks::operation::describe_addon::DescribeAddonOutput;
use aws_sdk_eks::operation::describe_nodegroup::DescribeNodegroupOutput;
use aws_sdk_eks::operation::list_associated_access_policies::ListAssociatedAccessPoliciesOutput;
use aws_sdk_eks::operation::tag_resource::TagResourceOutput;
use aws_sdk_eks::types::{
    AccessScope, AccessScopeType, AddonStatus, AssociatedAccessPolicy, NodegroupScalingConfig,
    NodegroupStatus,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use eksform_aws::{Adapter, AwsClients};
use eksform_core::kinds::{AccessEntry, Addon, EksCluster, NodeGroup};
use eksform_core::model::{Address, Attributes, DesiredResource, Value};

const ADMINS: &str = "arn:aws:iam::123456789012:role/platform-admins";
const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const ENTRY_ARN: &str =
    "arn:aws:eks:us-east-1:123456789012:access-entry/legacy/role/123456789012/platform-admins/ab";
const GROUP_ARN: &str = "arn:aws:eks:us-east-1:123456789012:nodegroup/legacy/legacy-general/cd";

fn clients(eks: Client) -> AwsClients {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let mut clients = AwsClients::from_config(&config);
    clients.eks = eks;
    clients
}

/// The desired resource at `address` with the spec's cluster as lowering
/// leaves it (observation resolves the reference before the lookup), and
/// the tags the plan's take-over gives it: the live ones (`team`) and the
/// stack's mark.
fn desired(kind: &str, address: &str, cluster: Value) -> DesiredResource {
    DesiredResource::new(kind, Address(address.into()))
        .with("cluster_name", cluster)
        .with(
            "tags",
            Value::Map(BTreeMap::from([
                ("eksform:stack".to_string(), Value::string("legacy")),
                ("eksform:address".to_string(), Value::string(address)),
                ("eksform:adopted".to_string(), Value::string("entry")),
                ("team".to_string(), Value::string("platform")),
            ])),
        )
}

fn admin_entry() -> DescribeAccessEntryOutput {
    DescribeAccessEntryOutput::builder()
        .access_entry(
            aws_sdk_eks::types::AccessEntry::builder()
                .cluster_name("legacy")
                .principal_arn(ADMINS)
                .r#type("STANDARD")
                .access_entry_arn(ENTRY_ARN)
                .tags("team", "platform")
                .build(),
        )
        .build()
}

fn admin_on_the_cluster() -> ListAssociatedAccessPoliciesOutput {
    ListAssociatedAccessPoliciesOutput::builder()
        .associated_access_policies(
            AssociatedAccessPolicy::builder()
                .policy_arn(ADMIN_POLICY)
                .access_scope(
                    AccessScope::builder()
                        .r#type(AccessScopeType::Cluster)
                        .build(),
                )
                .build(),
        )
        .build()
}

#[tokio::test]
async fn an_access_entry_is_found_by_its_principal_and_marked_by_its_arn() {
    let describe = mock!(Client::describe_access_entry)
        .match_requests(|r| r.cluster_name() == Some("legacy") && r.principal_arn() == Some(ADMINS))
        .then_output(admin_entry);
    let list = mock!(Client::list_associated_access_policies)
        .match_requests(|r| r.cluster_name() == Some("legacy") && r.principal_arn() == Some(ADMINS))
        .then_output(admin_on_the_cluster);
    let tag = mock!(Client::tag_resource)
        .match_requests(|r| {
            r.resource_arn() == Some(ENTRY_ARN)
                && r.tags().is_some_and(|t| {
                    t.get("eksform:stack").map(String::as_str) == Some("legacy")
                        && t.get("eksform:adopted").map(String::as_str) == Some("entry")
                        && !t.contains_key("team")
                })
        })
        .then_output(|| TagResourceOutput::builder().build());
    let associate = mock!(Client::associate_access_policy).then_output(|| {
        aws_sdk_eks::operation::associate_access_policy::AssociateAccessPolicyOutput::builder()
            .build()
    });
    let eks = mock_client!(
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&describe, &list, &tag, &associate]
    );
    let aws = clients(eks);
    let address = AccessEntry::address(ADMINS);
    let mut wanted = desired("access_entry", address.as_str(), Value::string("legacy"));
    wanted.attributes.insert(
        "policies".into(),
        Value::Map(BTreeMap::from([(
            ADMIN_POLICY.to_string(),
            Value::Map(BTreeMap::from([
                ("namespaces".to_string(), Value::List(vec![])),
                ("type".to_string(), Value::string("cluster")),
            ])),
        )])),
    );

    let found = AccessEntry
        .find_to_adopt(&aws, &wanted, ADMINS)
        .await
        .expect("looked up")
        .expect("found");
    assert_eq!(found.address, address);
    assert_eq!(found.id, ADMINS);
    assert_eq!(found.attributes["arn"], Value::string(ENTRY_ARN));
    assert_eq!(
        found.attributes["tags"],
        Value::Map(BTreeMap::from([(
            "team".to_string(),
            Value::string("platform")
        )])),
        "its live tags, unmarked"
    );
    assert_eq!(
        (describe.num_calls(), list.num_calls()),
        (1, 1),
        "one read of the entry and one of its policies"
    );

    // The take-over: the mark added by the entry's ARN; the policies as
    // they are, so no association.
    AccessEntry
        .update(&aws, &found, &wanted.attributes)
        .await
        .expect("taken over");
    assert_eq!((tag.num_calls(), associate.num_calls()), (1, 0));
}

#[tokio::test]
async fn an_access_entry_that_does_not_exist_is_not_found() {
    let describe = mock!(Client::describe_access_entry).then_error(|| {
        DescribeAccessEntryError::ResourceNotFoundException(
            aws_sdk_eks::types::error::ResourceNotFoundException::builder()
                .message("The specified access entry resource could not be found.")
                .meta(
                    aws_smithy_types::error::ErrorMetadata::builder()
                        .code("ResourceNotFoundException")
                        .build(),
                )
                .build(),
        )
    });
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&describe]);
    let wanted = desired(
        "access_entry",
        AccessEntry::address(ADMINS).as_str(),
        Value::string("legacy"),
    );
    let found = AccessEntry
        .find_to_adopt(&clients(eks), &wanted, ADMINS)
        .await
        .expect("looked up");
    assert!(found.is_none());
}

#[tokio::test]
async fn an_add_on_is_found_by_name_in_the_specs_cluster_or_by_its_arn() {
    let describe = mock!(Client::describe_addon)
        .match_requests(|r| r.cluster_name() == Some("legacy") && r.addon_name() == Some("vpc-cni"))
        .then_output(|| {
            DescribeAddonOutput::builder()
                .addon(
                    aws_sdk_eks::types::Addon::builder()
                        .cluster_name("legacy")
                        .addon_name("vpc-cni")
                        .addon_version("v1.18.3-eksbuild.1")
                        .addon_arn("arn:aws:eks:us-east-1:123456789012:addon/legacy/vpc-cni/ef")
                        .status(AddonStatus::Active)
                        .build(),
                )
                .build()
        });
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&describe]);
    let aws = clients(eks);
    let by_name = desired("addon", "addon.vpc-cni", Value::string("legacy"));
    // Before the cluster is known the reference stays: the ARN names it.
    let by_arn = desired(
        "addon",
        "addon.vpc-cni",
        Value::reference(&EksCluster::address(), "name"),
    );
    for (wanted, id) in [
        (&by_name, "vpc-cni"),
        (
            &by_arn,
            "arn:aws:eks:us-east-1:123456789012:addon/legacy/vpc-cni/ef",
        ),
    ] {
        let found = Addon
            .find_to_adopt(&aws, wanted, id)
            .await
            .expect("looked up")
            .expect("found");
        assert_eq!(found.address, Address("addon.vpc-cni".into()));
        assert_eq!(found.id, "vpc-cni");
        assert_eq!(
            found.attributes["addon_version"],
            Value::string("v1.18.3-eksbuild.1")
        );
    }
    assert_eq!(describe.num_calls(), 2, "one DescribeAddon a lookup");
    let unknown = Addon.find_to_adopt(&aws, &by_arn, "vpc-cni").await;
    assert!(
        unknown.is_err_and(|e| e.message.contains("cluster")),
        "a name without a known cluster says so"
    );
}

#[tokio::test]
async fn a_node_group_taken_over_keeps_its_settings_and_is_marked_by_its_arn() {
    let describe = mock!(Client::describe_nodegroup)
        .match_requests(|r| {
            r.cluster_name() == Some("legacy") && r.nodegroup_name() == Some("legacy-general")
        })
        .then_output(|| {
            DescribeNodegroupOutput::builder()
                .nodegroup(
                    aws_sdk_eks::types::Nodegroup::builder()
                        .cluster_name("legacy")
                        .nodegroup_name("legacy-general")
                        .nodegroup_arn(GROUP_ARN)
                        .status(NodegroupStatus::Active)
                        .instance_types("m5.large")
                        .scaling_config(
                            NodegroupScalingConfig::builder()
                                .min_size(1)
                                .max_size(3)
                                .desired_size(2)
                                .build(),
                        )
                        .tags("team", "platform")
                        .build(),
                )
                .build()
        });
    let tag = mock!(Client::tag_resource)
        .match_requests(|r| {
            r.resource_arn() == Some(GROUP_ARN)
                && r.tags().is_some_and(|t| {
                    t.get("eksform:address").map(String::as_str) == Some("node_group.general")
                })
        })
        .then_output(|| TagResourceOutput::builder().build());
    let config = mock!(Client::update_nodegroup_config).then_output(|| {
        aws_sdk_eks::operation::update_nodegroup_config::UpdateNodegroupConfigOutput::builder()
            .build()
    });
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&describe, &tag, &config]);
    let aws = clients(eks);
    let wanted = desired("node_group", "node_group.general", Value::string("legacy"));
    let found = NodeGroup
        .find_to_adopt(&aws, &wanted, "legacy-general")
        .await
        .expect("looked up")
        .expect("found");
    assert_eq!(found.address, Address("node_group.general".into()));
    assert_eq!(found.attributes["arn"], Value::string(GROUP_ARN));
    // By ARN: the cluster is the ARN's.
    let again = NodeGroup
        .find_to_adopt(&aws, &wanted, GROUP_ARN)
        .await
        .expect("looked up");
    assert_eq!(again.map(|g| g.id), Some("legacy-general".to_string()));

    // The plan's take-over sends the tags only: the scaling as it is.
    let mut taken: Attributes = wanted.attributes.clone();
    taken.insert("scaling".into(), found.attributes["scaling"].clone());
    NodeGroup
        .update(&aws, &found, &taken)
        .await
        .expect("taken over");
    assert_eq!((tag.num_calls(), config.num_calls()), (1, 0));
}

#[tokio::test]
async fn what_is_not_a_resource_of_its_own_cannot_be_adopted_and_says_why() {
    // No call is made: a client that answers nothing would fail the test.
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, []);
    let aws = clients(eks);
    for (kind, address, instead) in [
        (
            &eksform_core::kinds::SubnetTags as &dyn Adapter,
            "subnet_tags.private.us-east-1a",
            "brought subnet",
        ),
        (
            &eksform_core::kinds::CertificateValidation,
            "certificate_validation.web",
            "adopt the certificate",
        ),
        (
            &eksform_core::kinds::ControllerLeftover,
            "controller_leftover.x",
            "destroy",
        ),
    ] {
        let wanted = DesiredResource::new(kind.name(), Address(address.into()));
        let refused = kind
            .find_to_adopt(&aws, &wanted, "anything")
            .await
            .expect_err("not adoptable");
        assert!(
            refused.message.contains("cannot be adopted")
                && refused.message.contains(instead)
                && refused.message.contains("remove its adopt entry"),
            "{}: {}",
            kind.name(),
            refused.message
        );
    }
}
