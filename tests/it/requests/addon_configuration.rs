//! Add-on configuration requests, which the emulator cannot answer (it has no
//! add-on API: EMULATOR.md): the schema read for preflight
//! (DescribeAddonVersions for `latest`, then DescribeAddonConfiguration), and
//! `configurationValues` sent in CreateAddon and UpdateAddon as the JSON
//! string AWS takes. The EKS client is mocked to answer as AWS does.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_eks::Client;
use aws_sdk_eks::operation::create_addon::CreateAddonOutput;
use aws_sdk_eks::operation::describe_addon_configuration::DescribeAddonConfigurationOutput;
use aws_sdk_eks::operation::describe_addon_versions::DescribeAddonVersionsOutput;
use aws_sdk_eks::operation::describe_update::DescribeUpdateOutput;
use aws_sdk_eks::operation::update_addon::UpdateAddonOutput;
use aws_sdk_eks::types::{AddonInfo, AddonVersionInfo, Update, UpdateStatus};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use eksform_aws::{Adapter, AwsClients};
use eksform_core::cloud::CreateRequest;
use eksform_core::kinds::Addon;
use eksform_core::model::{Attributes, LiveResource, Status, Value};
use eksform_core::preflight::{AddonVersion, Questions};

const SCHEMA: &str = r#"{"type":"object","additionalProperties":false,"properties":{"computeType":{"type":"string"}}}"#;

fn clients(eks: Client) -> AwsClients {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let mut clients = AwsClients::from_config(&config);
    clients.eks = eks;
    clients
}

fn asking(addon: &str, version: &str, kubernetes: Option<&str>) -> Questions {
    Questions {
        addon_configurations: BTreeSet::from([AddonVersion {
            addon: addon.into(),
            version: version.into(),
            kubernetes: kubernetes.map(str::to_string),
        }]),
        ..Questions::default()
    }
}

#[tokio::test]
async fn latest_is_resolved_for_the_specs_kubernetes_before_its_schema_is_read() {
    let versions = mock!(Client::describe_addon_versions)
        .match_requests(|r| {
            r.addon_name() == Some("coredns") && r.kubernetes_version() == Some("1.31")
        })
        .then_output(|| {
            DescribeAddonVersionsOutput::builder()
                .addons(
                    AddonInfo::builder()
                        .addon_name("coredns")
                        .addon_versions(
                            AddonVersionInfo::builder()
                                .addon_version("v1.11.3-eksbuild.2")
                                .build(),
                        )
                        .addon_versions(
                            AddonVersionInfo::builder()
                                .addon_version("v1.11.3-eksbuild.10")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let schema = mock!(Client::describe_addon_configuration)
        .match_requests(|r| {
            r.addon_name() == Some("coredns") && r.addon_version() == Some("v1.11.3-eksbuild.10")
        })
        .then_output(|| {
            DescribeAddonConfigurationOutput::builder()
                .addon_name("coredns")
                .addon_version("v1.11.3-eksbuild.10")
                .configuration_schema(SCHEMA)
                .build()
        });
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&versions, &schema]);

    let facts =
        eksform_aws::preflight::facts(&clients(eks), &asking("coredns", "latest", Some("1.31")))
            .await
            .expect("the schema");

    let found = facts
        .addon_schemas
        .expect("asked")
        .remove("coredns")
        .expect("coredns's schema");
    assert_eq!(
        found.version, "v1.11.3-eksbuild.10",
        "the newest, by number"
    );
    assert_eq!(found.schema, SCHEMA);
    assert_eq!(versions.num_calls(), 1);
    assert_eq!(schema.num_calls(), 1);
}

#[tokio::test]
async fn an_exact_version_is_read_as_written() {
    let schema = mock!(Client::describe_addon_configuration)
        .match_requests(|r| r.addon_version() == Some("v1.19.0-eksbuild.1"))
        .then_output(|| {
            DescribeAddonConfigurationOutput::builder()
                .configuration_schema(SCHEMA)
                .build()
        });
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&schema]);
    let facts = eksform_aws::preflight::facts(
        &clients(eks),
        &asking("vpc-cni", "v1.19.0-eksbuild.1", None),
    )
    .await
    .expect("the schema");
    assert_eq!(
        facts.addon_schemas.expect("asked")["vpc-cni"].version,
        "v1.19.0-eksbuild.1"
    );
}

fn addon_attributes(configuration: Option<&str>) -> Attributes {
    let mut attributes = Attributes::new();
    attributes.insert("cluster_name".into(), Value::string("prd"));
    attributes.insert("addon_name".into(), Value::string("coredns"));
    attributes.insert("addon_version".into(), Value::string("v1.11.3-eksbuild.2"));
    attributes.insert(
        "configuration_values".into(),
        configuration.map_or(Value::Null, Value::string),
    );
    attributes.insert(
        "tags".into(),
        Value::Map(BTreeMap::from([
            ("eksform:stack".to_string(), Value::string("prd")),
            (
                "eksform:address".to_string(),
                Value::string("addon.coredns"),
            ),
        ])),
    );
    attributes
}

#[tokio::test]
async fn create_sends_the_configuration_as_a_json_string() {
    let create = mock!(Client::create_addon)
        .match_requests(|r| r.configuration_values() == Some(r#"{"computeType":"Fargate"}"#))
        .then_output(|| CreateAddonOutput::builder().build());
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&create]);
    let request = CreateRequest {
        stack: "prd".into(),
        address: Addon::address("coredns"),
        attributes: addon_attributes(Some(r#"{"computeType":"Fargate"}"#)),
        token: "eksform-test".into(),
    };
    Addon
        .create(&clients(eks), &request)
        .await
        .expect("created");
    assert_eq!(create.num_calls(), 1);
}

fn live(configuration: Option<&str>) -> LiveResource {
    let mut attributes = addon_attributes(configuration);
    attributes.insert(
        "arn".into(),
        Value::string("arn:aws:eks:us-east-1:123456789012:addon/prd/coredns/x"),
    );
    LiveResource {
        address: Addon::address("coredns"),
        kind: "addon".into(),
        id: "coredns".into(),
        attributes,
        status: Status::Ready,
    }
}

#[tokio::test(start_paused = true)]
async fn a_configuration_change_is_one_update_sending_only_the_configuration_and_awaited() {
    let update = mock!(Client::update_addon)
        .match_requests(|r| {
            r.configuration_values() == Some(r#"{"computeType":"Fargate","replicaCount":3}"#)
                && r.addon_version().is_none()
        })
        .then_output(|| {
            UpdateAddonOutput::builder()
                .update(
                    Update::builder()
                        .id("configure")
                        .status(UpdateStatus::InProgress)
                        .build(),
                )
                .build()
        });
    let done = mock!(Client::describe_update)
        .match_requests(|r| r.update_id() == Some("configure"))
        .then_output(|| {
            DescribeUpdateOutput::builder()
                .update(
                    Update::builder()
                        .id("configure")
                        .status(UpdateStatus::Successful)
                        .build(),
                )
                .build()
        });
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&update, &done]);
    let before = live(Some(r#"{"computeType":"Fargate","replicaCount":2}"#));
    Addon
        .update(
            &clients(eks),
            &before,
            &addon_attributes(Some(r#"{"computeType":"Fargate","replicaCount":3}"#)),
        )
        .await
        .expect("updated");
    assert_eq!(update.num_calls(), 1);
    assert_eq!(done.num_calls(), 1, "the update is awaited");

    // The same values in another key order, or none in the spec: nothing sent.
    let quiet = mock!(Client::update_addon).then_output(|| UpdateAddonOutput::builder().build());
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&quiet]);
    let clients = clients(eks);
    for desired in [
        Some(r#"{ "replicaCount": 2, "computeType": "Fargate" }"#),
        None,
    ] {
        Addon
            .update(&clients, &before, &addon_attributes(desired))
            .await
            .expect("nothing to do");
    }
    assert_eq!(quiet.num_calls(), 0);
}
