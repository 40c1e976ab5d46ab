//! The requests of `import eksctl --release-stacks` for one stack. The
//! emulator's UpdateStack does not keep the resources of an eksctl-style
//! template (it fails part-way on a `Fn::GetAtt` and has by then made new
//! resources) and its DeleteStack is not realistic (EMULATOR.md), so
//! CloudFormation is mocked here to answer as AWS does: the template sent
//! back with every resource retained and the parameters as they were, the
//! waits by the stack's status, the delete only after the update is done,
//! and nothing deleted when the update fails.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::operation::describe_stacks::{
    DescribeStacksError, DescribeStacksOutput,
};
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::operation::update_stack::{UpdateStackError, UpdateStackOutput};
use aws_sdk_cloudformation::types::{Capability, Parameter, Stack, StackStatus, TemplateStage};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use eksform_aws::cloudformation::{StackWaits, release_stack, retain_template};

const STACK: &str = "eksctl-prod-cluster";

const TEMPLATE: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "VPC": { "Type": "AWS::EC2::VPC", "Properties": { "CidrBlock": "192.168.0.0/16" } },
    "NATIP": { "Type": "AWS::EC2::EIP", "Properties": { "Domain": "vpc" } },
    "ServiceRole": { "Type": "AWS::IAM::Role", "DeletionPolicy": "Delete", "Properties": {} }
  },
  "Outputs": { "VPC": { "Value": { "Ref": "VPC" } } }
}"#;

fn stack(status: StackStatus) -> DescribeStacksOutput {
    DescribeStacksOutput::builder()
        .stacks(
            Stack::builder()
                .stack_name(STACK)
                .stack_status(status)
                .parameters(
                    Parameter::builder()
                        .parameter_key("VpcCidr")
                        .parameter_value("192.168.0.0/16")
                        .build(),
                )
                .build(),
        )
        .build()
}

fn gone() -> DescribeStacksError {
    DescribeStacksError::generic(
        ErrorMetadata::builder()
            .code("ValidationError")
            .message(format!("Stack with id {STACK} does not exist"))
            .build(),
    )
}

/// The template as the release leaves it: every resource retained.
fn retained() -> String {
    retain_template(TEMPLATE).unwrap()
}

fn quick() -> StackWaits {
    StackWaits {
        every: Duration::from_secs(5),
        at_most: Duration::from_secs(600),
    }
}

#[tokio::test(start_paused = true)]
async fn a_stack_is_updated_with_every_resource_retained_then_deleted() {
    let order = Arc::new(Mutex::new(Vec::<&str>::new()));
    let sent = Arc::new(Mutex::new(None));
    let template = mock!(Client::get_template)
        .match_requests(|r| {
            r.stack_name() == Some(STACK) && r.template_stage() == Some(&TemplateStage::Original)
        })
        .sequence()
        .output(|| GetTemplateOutput::builder().template_body(TEMPLATE).build())
        .output(|| {
            GetTemplateOutput::builder()
                .template_body(retained())
                .build()
        })
        .build();
    let (seen, log) = (sent.clone(), order.clone());
    let update = mock!(Client::update_stack)
        .match_requests(move |r| {
            *seen.lock().unwrap() = Some(r.clone());
            log.lock().unwrap().push("update");
            true
        })
        .then_output(|| UpdateStackOutput::builder().stack_id("id").build());
    let log = order.clone();
    let delete = mock!(Client::delete_stack)
        .match_requests(move |r| {
            log.lock().unwrap().push("delete");
            r.stack_name() == Some(STACK)
        })
        .then_output(|| DeleteStackOutput::builder().build());
    // Read before the update, in progress, done; then deleting, then gone.
    let describe = mock!(Client::describe_stacks)
        .sequence()
        .output(|| stack(StackStatus::CreateComplete))
        .output(|| stack(StackStatus::UpdateInProgress))
        .output(|| stack(StackStatus::UpdateCompleteCleanupInProgress))
        .output(|| stack(StackStatus::UpdateComplete))
        .output(|| stack(StackStatus::DeleteInProgress))
        .error(gone)
        .build();
    let cf = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&template, &update, &delete, &describe]
    );

    release_stack(&cf, STACK, quick()).await.expect("released");

    assert_eq!(*order.lock().unwrap(), ["update", "delete"]);
    assert_eq!(describe.num_calls(), 6, "waited for each status in turn");
    let request = sent.lock().unwrap().clone().unwrap();
    assert_eq!(request.stack_name(), Some(STACK));
    let mut capabilities = request.capabilities().to_vec();
    capabilities.sort_by_key(|c| c.as_str().to_string());
    assert_eq!(
        capabilities,
        [Capability::CapabilityIam, Capability::CapabilityNamedIam]
    );
    let parameters = request.parameters();
    assert_eq!(parameters.len(), 1);
    assert_eq!(parameters[0].parameter_key(), Some("VpcCidr"));
    assert_eq!(parameters[0].use_previous_value(), Some(true));
    assert_eq!(parameters[0].parameter_value(), None);
    let body: serde_json::Value = serde_json::from_str(request.template_body().unwrap()).unwrap();
    for name in ["VPC", "NATIP", "ServiceRole"] {
        assert_eq!(
            body["Resources"][name]["DeletionPolicy"], "Retain",
            "{name}"
        );
        assert_eq!(
            body["Resources"][name]["UpdateReplacePolicy"], "Retain",
            "{name}"
        );
    }
    assert_eq!(
        body["Resources"]["VPC"]["Properties"]["CidrBlock"],
        "192.168.0.0/16"
    );
    assert_eq!(body["Outputs"]["VPC"]["Value"]["Ref"], "VPC");
}

#[tokio::test(start_paused = true)]
async fn a_failed_update_deletes_nothing() {
    let template = mock!(Client::get_template)
        .then_output(|| GetTemplateOutput::builder().template_body(TEMPLATE).build());
    let update = mock!(Client::update_stack).then_output(|| UpdateStackOutput::builder().build());
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let describe = mock!(Client::describe_stacks)
        .sequence()
        .output(|| stack(StackStatus::CreateComplete))
        .output(|| stack(StackStatus::UpdateRollbackComplete))
        .build();
    let cf = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&template, &update, &delete, &describe]
    );

    let error = release_stack(&cf, STACK, quick()).await.unwrap_err();
    assert!(
        error.message.contains("UPDATE_ROLLBACK_COMPLETE"),
        "{error}"
    );
    assert_eq!(delete.num_calls(), 0, "the stack is not deleted");
}

#[tokio::test(start_paused = true)]
async fn a_stack_already_retained_is_deleted() {
    // A release that stopped after the update: CloudFormation has nothing to update.
    let template = mock!(Client::get_template).then_output(|| {
        GetTemplateOutput::builder()
            .template_body(retained())
            .build()
    });
    let update = mock!(Client::update_stack).then_error(|| {
        UpdateStackError::generic(
            ErrorMetadata::builder()
                .code("ValidationError")
                .message("No updates are to be performed.")
                .build(),
        )
    });
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let describe = mock!(Client::describe_stacks)
        .sequence()
        .output(|| stack(StackStatus::UpdateComplete))
        .error(gone)
        .build();
    let cf = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&template, &update, &delete, &describe]
    );

    release_stack(&cf, STACK, quick()).await.expect("released");
    assert_eq!(delete.num_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_yaml_template_is_refused_before_any_change() {
    let template = mock!(Client::get_template).then_output(|| {
        GetTemplateOutput::builder()
            .template_body("Resources:\n  VPC:\n    Type: AWS::EC2::VPC\n")
            .build()
    });
    let update = mock!(Client::update_stack).then_output(|| UpdateStackOutput::builder().build());
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let describe =
        mock!(Client::describe_stacks).then_output(|| stack(StackStatus::CreateComplete));
    let cf = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&template, &update, &delete, &describe]
    );

    let error = release_stack(&cf, STACK, quick()).await.unwrap_err();
    assert!(error.message.contains("not JSON"), "{error}");
    assert_eq!((update.num_calls(), delete.num_calls()), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn a_stack_whose_deployed_template_does_not_retain_everything_is_not_deleted() {
    // CloudFormation said there was nothing to update, yet what it holds
    // would delete the VPC with the stack: the release stops there.
    let template = mock!(Client::get_template)
        .then_output(|| GetTemplateOutput::builder().template_body(TEMPLATE).build());
    let update = mock!(Client::update_stack).then_error(|| {
        UpdateStackError::generic(
            ErrorMetadata::builder()
                .code("ValidationError")
                .message("No updates are to be performed.")
                .build(),
        )
    });
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let describe =
        mock!(Client::describe_stacks).then_output(|| stack(StackStatus::UpdateComplete));
    let cf = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&template, &update, &delete, &describe]
    );

    let error = release_stack(&cf, STACK, quick()).await.unwrap_err();
    assert!(error.message.contains("is not deleted"), "{error}");
    assert_eq!(delete.num_calls(), 0, "nothing is deleted");
}
