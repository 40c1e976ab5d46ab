//! Waiting for a requested certificate to be ISSUED, as a resource of its own
//! (as Terraform's `aws_acm_certificate_validation`): the certificate, then its
//! validation record, then this wait, then the HTTPS listener. Nothing is made
//! in AWS; it exists once the certificate is issued.

use super::certificate::Certificate;
use super::dns_record::DnsRecord;
use super::tags::mark;
use super::{Attribute, Compare, Kind, ObservationFloor, Timings};
use crate::lower::{CertificateSource, StackModel};
use crate::model::{Address, Attributes, DesiredResource, Value};
use std::time::Duration;

pub struct CertificateValidation;

impl CertificateValidation {
    pub fn address(load_balancer: &str) -> Address {
        Address::new(&["certificate_validation", load_balancer])
    }
}

pub fn records_in_stack(attributes: &Attributes) -> bool {
    attributes
        .get("records_in_stack")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::in_place("certificate_arn"),
    // Where the record lives does not change an issued certificate.
    Attribute::in_place("records_in_stack").compared(Compare::Ignored),
    Attribute::tags(),
];

impl Kind for CertificateValidation {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor::list(0, "the certificate's reads, shared")
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "acm:DescribeCertificate",
            "acm:ListCertificates",
            "acm:ListTagsForCertificate",
        ]
    }

    fn service(&self) -> &'static str {
        "acm"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "certificate_validation"
    }

    fn id_prefix(&self) -> &'static str {
        "arn:aws:acm:validation"
    }

    fn timings(&self) -> Timings {
        Timings {
            // DNS validation usually takes minutes; ACM gives up after 72 hours,
            // eksform after 45 minutes, naming the record it waited for.
            create: Duration::from_secs(3 * 60),
            delete: Duration::ZERO,
            update: Duration::ZERO,
            poll: Duration::from_secs(15),
            timeout: Duration::from_secs(45 * 60),
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        stack
            .load_balancers
            .iter()
            .filter(|lb| matches!(lb.certificate, Some(CertificateSource::Request(_))))
            .map(|lb| {
                let address = Self::address(&lb.name);
                let in_stack = DnsRecord::validates_in_stack(stack, lb);
                let holder = DnsRecord::validation_holder(stack, lb).map_or(&lb.name, |h| &h.name);
                let record = DnsRecord::validation_address(holder);
                let mut resource = DesiredResource::new(self.name(), address.clone())
                    .with(
                        "certificate_arn",
                        Value::reference(&Certificate::address(&lb.name), "arn"),
                    )
                    .with("records_in_stack", Value::Bool(in_stack))
                    .with("tags", Value::string_map(&mark(&stack.stack, &address)));
                if in_stack {
                    resource = resource.after(&record);
                }
                resource
            })
            .collect()
    }
}
