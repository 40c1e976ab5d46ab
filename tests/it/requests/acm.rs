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

/// ListCertificates answers RSA 1024 and 2048 certificates only unless asked
/// for other key types (the emulator lists every one whatever it is asked):
/// the stack's certificate of another key type, an EC one it adopted, is
/// still found once its adopt entry is gone.
#[tokio::test]
async fn certificates_of_every_key_type_are_listed() {
    use aws_sdk_acm::operation::list_certificates::ListCertificatesOutput;
    use aws_sdk_acm::operation::list_tags_for_certificate::ListTagsForCertificateOutput;
    use aws_sdk_acm::types::{CertificateSummary, KeyAlgorithm, Tag};
    const ARN: &str = "arn:aws:acm:us-east-1:123456789012:certificate/ec";
    let every_key_type = mock!(Client::list_certificates)
        .match_requests(|request| {
            let asked = request
                .includes()
                .map(|f| f.key_types().to_vec())
                .unwrap_or_default();
            [
                KeyAlgorithm::EcPrime256v1,
                KeyAlgorithm::Rsa4096,
                KeyAlgorithm::Rsa2048,
            ]
            .iter()
            .all(|k| asked.contains(k))
        })
        .then_output(|| {
            ListCertificatesOutput::builder()
                .certificate_summary_list(
                    CertificateSummary::builder()
                        .certificate_arn(ARN)
                        .domain_name("*.web.example.com")
                        .key_algorithm(KeyAlgorithm::EcPrime256v1)
                        .build(),
                )
                .build()
        });
    let tags = mock!(Client::list_tags_for_certificate).then_output(|| {
        ListTagsForCertificateOutput::builder()
            .tags(
                Tag::builder()
                    .key("eksform:stack")
                    .value("web")
                    .build()
                    .unwrap(),
            )
            .tags(
                Tag::builder()
                    .key("eksform:address")
                    .value("certificate.web")
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let described = mock!(Client::describe_certificate).then_output(|| {
        DescribeCertificateOutput::builder()
            .certificate(
                CertificateDetail::builder()
                    .certificate_arn(ARN)
                    .domain_name("*.web.example.com")
                    .status(CertificateStatus::Issued)
                    .build(),
            )
            .build()
    });
    let acm = mock_client!(
        aws_sdk_acm,
        RuleMode::MatchAny,
        [&every_key_type, &tags, &described]
    );
    let scope = eksform_core::cloud::Scope {
        stack: "web".into(),
        region: "us-east-1".into(),
        domains: Some(vec!["web.example.com".into()]),
        from_spec: true,
        ..Default::default()
    };
    let found = eksform_core::kinds::Certificate
        .observe(&clients(acm), &scope)
        .await
        .expect("listed with every key type");
    assert_eq!(
        found.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        [ARN]
    );
}
