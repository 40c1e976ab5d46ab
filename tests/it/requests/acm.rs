//! ACM answers the emulator cannot give (moto issues certificates on a timer,
//! `MOTO_ACM_VALIDATION_WAIT`, without looking at DNS): a certificate whose
//! validation record belongs in a zone outside the stack, read as AWS answers
//! it, with the SDK client mocked by aws-smithy-mocks.

use std::collections::BTreeMap;

use aws_sdk_acm::Client;
use aws_sdk_acm::operation::describe_certificate::DescribeCertificateOutput;
use aws_sdk_acm::types::{
    CertificateDetail, CertificateStatus, DomainValidation, RecordType, ResourceRecord,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use eksform_aws::{Adapter, AwsClients};
use eksform_core::kinds::CertificateValidation;
use eksform_core::model::{Address, Attributes, LiveResource, Status, Value, WAITING_FOR};

fn clients(acm: Client) -> AwsClients {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let mut clients = AwsClients::from_config(&config);
    clients.acm = acm;
    clients
}

#[tokio::test]
async fn a_pending_certificate_outside_the_stacks_zone_names_the_record_to_create() {
    let pending = mock!(Client::describe_certificate).then_output(|| {
        DescribeCertificateOutput::builder()
            .certificate(
                CertificateDetail::builder()
                    .certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/c")
                    .domain_name("*.apps.example.org")
                    .status(CertificateStatus::PendingValidation)
                    .domain_validation_options(
                        DomainValidation::builder()
                            .domain_name("*.apps.example.org")
                            .resource_record(
                                ResourceRecord::builder()
                                    .name("_x1.apps.example.org.")
                                    .r#type(RecordType::Cname)
                                    .value("_y2.acm-validations.aws.")
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build()
    });
    let acm = mock_client!(aws_sdk_acm, RuleMode::MatchAny, [&pending]);
    let mut attributes = Attributes::new();
    attributes.insert(
        "certificate_arn".into(),
        Value::string("arn:aws:acm:us-east-1:123456789012:certificate/c"),
    );
    attributes.insert("records_in_stack".into(), Value::Bool(false));
    attributes.insert("tags".into(), Value::Map(BTreeMap::new()));
    let live = LiveResource {
        address: Address("certificate_validation.web".into()),
        kind: "certificate_validation".into(),
        id: "arn:aws:acm:us-east-1:123456789012:certificate/c".into(),
        attributes,
        status: Status::Pending,
    };
    let read = CertificateValidation
        .read(&clients(acm), &live)
        .await
        .expect("read")
        .expect("still there");
    assert_eq!(read.status, Status::Pending);
    let waiting_for = read
        .attributes
        .get(WAITING_FOR)
        .and_then(Value::as_str)
        .expect("what it waits for, in words");
    assert!(
        waiting_for.contains("_x1.apps.example.org. CNAME _y2.acm-validations.aws.")
            && waiting_for.contains("outside this stack"),
        "{waiting_for}"
    );
}
