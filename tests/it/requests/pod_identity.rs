//! EKS Pod Identity association requests, which the emulator cannot answer
//! (it has no Pod Identity API: EMULATOR.md, 404). The EKS client is mocked
//! to answer as AWS does: the list read then each association described for
//! its tags (the mark), the create with the mark in its tags and an
//! idempotency token, the role changed in place, the delete by id.

use std::collections::BTreeMap;

use aws_sdk_eks::Client;
use aws_sdk_eks::operation::create_pod_identity_association::CreatePodIdentityAssociationOutput;
use aws_sdk_eks::operation::delete_pod_identity_association::DeletePodIdentityAssociationOutput;
use aws_sdk_eks::operation::describe_pod_identity_association::DescribePodIdentityAssociationOutput;
use aws_sdk_eks::operation::list_pod_identity_associations::ListPodIdentityAssociationsOutput;
use aws_sdk_eks::operation::update_pod_identity_association::UpdatePodIdentityAssociationOutput;
use aws_sdk_eks::types::{PodIdentityAssociation as Association, PodIdentityAssociationSummary};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use eksform_aws::{Adapter, AwsClients};
use eksform_core::cloud::{CreateRequest, Scope};
use eksform_core::kinds::PodIdentityAssociation;
use eksform_core::model::{Attributes, LiveResource, Status, Value};

const ROLE: &str = "arn:aws:iam::123456789012:role/eksform/us-east-1/prd/app-api";

fn clients(eks: Client) -> AwsClients {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let mut clients = AwsClients::from_config(&config);
    clients.eks = eks;
    clients
}

fn marked(stack: &str) -> std::collections::HashMap<String, String> {
    std::collections::HashMap::from([
        ("eksform:stack".to_string(), stack.to_string()),
        (
            "eksform:address".to_string(),
            "pod_identity_association.app.api".to_string(),
        ),
    ])
}

fn association(id: &str, stack: &str) -> Association {
    Association::builder()
        .cluster_name("prd")
        .namespace("app")
        .service_account("api")
        .role_arn(ROLE)
        .association_id(id)
        .association_arn(format!(
            "arn:aws:eks:us-east-1:123456789012:podidentityassociation/prd/{id}"
        ))
        .set_tags(Some(marked(stack)))
        .build()
}

#[tokio::test]
async fn observation_lists_the_clusters_associations_and_keeps_the_stacks() {
    let list = mock!(Client::list_pod_identity_associations)
        .match_requests(|r| r.cluster_name() == Some("prd"))
        .then_output(|| {
            ListPodIdentityAssociationsOutput::builder()
                .associations(
                    PodIdentityAssociationSummary::builder()
                        .association_id("a-ours")
                        .build(),
                )
                .associations(
                    PodIdentityAssociationSummary::builder()
                        .association_id("a-other")
                        .build(),
                )
                .build()
        });
    let ours = mock!(Client::describe_pod_identity_association)
        .match_requests(|r| r.association_id() == Some("a-ours"))
        .then_output(|| {
            DescribePodIdentityAssociationOutput::builder()
                .association(association("a-ours", "prd"))
                .build()
        });
    let other = mock!(Client::describe_pod_identity_association)
        .match_requests(|r| r.association_id() == Some("a-other"))
        .then_output(|| {
            DescribePodIdentityAssociationOutput::builder()
                .association(association("a-other", "someone-else"))
                .build()
        });
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&list, &ours, &other]);
    let scope = Scope {
        stack: "prd".into(),
        region: "us-east-1".into(),
        cluster: Some("prd".into()),
        ..Scope::default()
    };
    let found = PodIdentityAssociation
        .observe(&clients(eks), &scope)
        .await
        .expect("observed");
    assert_eq!(found.len(), 1, "only what carries the stack's mark");
    assert_eq!(found[0].id, "a-ours");
    assert_eq!(
        found[0].address.as_str(),
        "pod_identity_association.app.api"
    );
    assert_eq!(
        found[0].attributes.get("role_arn").and_then(Value::as_str),
        Some(ROLE)
    );
}

fn desired(role: &str) -> Attributes {
    let mut attributes = Attributes::new();
    attributes.insert("cluster_name".into(), Value::string("prd"));
    attributes.insert("namespace".into(), Value::string("app"));
    attributes.insert("service_account".into(), Value::string("api"));
    attributes.insert("role_arn".into(), Value::string(role));
    attributes.insert(
        "tags".into(),
        Value::Map(
            marked("prd")
                .into_iter()
                .map(|(k, v)| (k, Value::string(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    );
    attributes
}

#[tokio::test]
async fn create_sends_the_service_account_the_role_the_mark_and_a_token() {
    let create = mock!(Client::create_pod_identity_association)
        .match_requests(|r| {
            r.cluster_name() == Some("prd")
                && r.namespace() == Some("app")
                && r.service_account() == Some("api")
                && r.role_arn() == Some(ROLE)
                && r.client_request_token() == Some("eksform-test")
                && r.tags()
                    .is_some_and(|t| t.get("eksform:stack").map(String::as_str) == Some("prd"))
        })
        .then_output(|| {
            CreatePodIdentityAssociationOutput::builder()
                .association(association("a-new", "prd"))
                .build()
        });
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&create]);
    let request = CreateRequest {
        stack: "prd".into(),
        address: PodIdentityAssociation::address("app", "api"),
        attributes: desired(ROLE),
        token: "eksform-test".into(),
    };
    let created = PodIdentityAssociation
        .create(&clients(eks), &request)
        .await
        .expect("created");
    assert_eq!(create.num_calls(), 1);
    assert_eq!(created.id, "a-new");
    assert_eq!(created.status, Status::Ready);
}

fn live() -> LiveResource {
    let mut attributes = desired(ROLE);
    attributes.insert(
        "arn".into(),
        Value::string("arn:aws:eks:us-east-1:123456789012:podidentityassociation/prd/a-1"),
    );
    LiveResource {
        address: PodIdentityAssociation::address("app", "api"),
        kind: "pod_identity_association".into(),
        id: "a-1".into(),
        attributes,
        status: Status::Ready,
    }
}

#[tokio::test]
async fn a_new_role_is_one_update_of_the_association_and_delete_is_by_id() {
    let new_role = "arn:aws:iam::123456789012:role/app-api-v2";
    let update = mock!(Client::update_pod_identity_association)
        .match_requests(move |r| {
            r.cluster_name() == Some("prd")
                && r.association_id() == Some("a-1")
                && r.role_arn() == Some(new_role)
        })
        .then_output(|| UpdatePodIdentityAssociationOutput::builder().build());
    let delete = mock!(Client::delete_pod_identity_association)
        .match_requests(|r| r.cluster_name() == Some("prd") && r.association_id() == Some("a-1"))
        .then_output(|| DeletePodIdentityAssociationOutput::builder().build());
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&update, &delete]);
    let clients = clients(eks);
    PodIdentityAssociation
        .update(&clients, &live(), &desired(new_role))
        .await
        .expect("updated");
    assert_eq!(update.num_calls(), 1);
    // The same role: nothing to send.
    PodIdentityAssociation
        .update(&clients, &live(), &desired(ROLE))
        .await
        .expect("nothing to do");
    assert_eq!(update.num_calls(), 1);
    PodIdentityAssociation
        .delete(&clients, &live())
        .await
        .expect("deleted");
    assert_eq!(delete.num_calls(), 1);
}
