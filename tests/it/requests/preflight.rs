//! The preflight read the emulator lacks: EKS DescribeClusterVersions (moto
//! answers it with an HTML 404). Here the EKS client is mocked to answer as
//! AWS does, page by page, and the facts are checked to carry every version
//! with its support status; an endpoint without the API leaves the check out.

use std::sync::{Arc, Mutex};

use aws_sdk_eks::Client;
use aws_sdk_eks::operation::describe_cluster_versions::DescribeClusterVersionsOutput;
use aws_sdk_eks::types::{ClusterVersionInformation, VersionStatus};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use eksform_aws::AwsClients;
use eksform_core::preflight::{Questions, VersionFact};

fn clients(eks: Client) -> AwsClients {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let mut clients = AwsClients::from_config(&config);
    clients.eks = eks;
    clients
}

fn version(number: &str, status: VersionStatus) -> ClusterVersionInformation {
    ClusterVersionInformation::builder()
        .cluster_version(number)
        .version_status(status)
        .build()
}

fn asking_versions() -> Questions {
    Questions {
        cluster_versions: true,
        ..Questions::default()
    }
}

#[tokio::test]
async fn the_versions_eks_offers_are_read_page_by_page_with_their_support_status() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    let versions = mock!(Client::describe_cluster_versions)
        .match_requests(move |request| {
            recorded.lock().unwrap().push((
                request.next_token().map(str::to_string),
                request.cluster_versions().len(),
            ));
            true
        })
        .sequence()
        .output(|| {
            DescribeClusterVersionsOutput::builder()
                .cluster_versions(version("1.33", VersionStatus::StandardSupport))
                .cluster_versions(version("1.32", VersionStatus::StandardSupport))
                .next_token("page-2")
                .build()
        })
        .output(|| {
            DescribeClusterVersionsOutput::builder()
                .cluster_versions(version("1.29", VersionStatus::ExtendedSupport))
                .build()
        })
        .build();
    let eks = mock_client!(aws_sdk_eks, RuleMode::Sequential, [&versions]);

    let facts = eksform_aws::preflight::facts(&clients(eks), &asking_versions())
        .await
        .expect("the versions");

    let fact = |v: &str, status: &str| VersionFact {
        version: v.into(),
        status: status.into(),
    };
    assert_eq!(
        facts.cluster_versions,
        Some(vec![
            fact("1.33", "STANDARD_SUPPORT"),
            fact("1.32", "STANDARD_SUPPORT"),
            fact("1.29", "EXTENDED_SUPPORT"),
        ])
    );
    // Every version asked for (no filter), the second page by the first's token.
    assert_eq!(
        *seen.lock().unwrap(),
        [(None, 0), (Some("page-2".to_string()), 0)]
    );
    assert!(
        facts.zones.is_none() && facts.instance_types.is_none(),
        "only what was asked"
    );
}

#[tokio::test]
async fn an_endpoint_without_the_api_leaves_the_version_check_out() {
    // What the emulator answers: an HTML 404 with no AWS error code.
    let missing = mock!(Client::describe_cluster_versions).then_http_response(|| {
        HttpResponse::new(
            StatusCode::try_from(404).unwrap(),
            SdkBody::from("<!doctype html><title>404 Not Found</title>"),
        )
    });
    let eks = mock_client!(aws_sdk_eks, [&missing]);

    let facts = eksform_aws::preflight::facts(&clients(eks), &asking_versions())
        .await
        .expect("no error: the check is skipped");

    assert_eq!(missing.num_calls(), 1);
    assert!(facts.cluster_versions.is_none());
}

#[tokio::test]
async fn an_error_aws_names_is_not_mistaken_for_a_missing_api() {
    let denied = mock!(Client::describe_cluster_versions).then_http_response(|| {
        let mut response = HttpResponse::new(
            StatusCode::try_from(403).unwrap(),
            SdkBody::from(r#"{"message":"not authorized to perform eks:DescribeClusterVersions"}"#),
        );
        response
            .headers_mut()
            .insert("x-amzn-errortype", "AccessDeniedException");
        response
    });
    let eks = mock_client!(aws_sdk_eks, [&denied]);

    let error = eksform_aws::preflight::facts(&clients(eks), &asking_versions())
        .await
        .expect_err("a refusal stops the plan");
    assert_eq!(error.code.as_deref(), Some("AccessDeniedException"));
}
