//! ACM certificates that `loadBalancers[].certificate.domain` requests,
//! validated by DNS. The create returns once ACM has named the validation
//! record (the DNS record kind writes it when the zone is in the stack);
//! waiting for ISSUED is `certificate_validation`'s job.

use super::{Attribute, Kind, ObservationFloor, Timings};
use crate::lower::{CertificateSource, StackModel, resource_name};
use crate::model::{Address, DesiredResource, Value, ownership_tags};
use std::time::Duration;

pub struct Certificate;

impl Certificate {
    pub fn address(load_balancer: &str) -> Address {
        Address::new(&["certificate", load_balancer])
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::computed("arn"),
    Attribute::replaces("domain"),
    Attribute::tags(),
    Attribute::computed("validation_record_name"),
    Attribute::computed("validation_record_value"),
];

impl Kind for Certificate {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 1,
            if_any: 0,
            each: 2,
            each_of: None,
            how: "ListCertificates + (tags + describe) a certificate",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "acm:AddTagsToCertificate",
            "acm:DeleteCertificate",
            "acm:DescribeCertificate",
            "acm:ListCertificates",
            "acm:ListTagsForCertificate",
            "acm:RemoveTagsFromCertificate",
            "acm:RequestCertificate",
        ]
    }

    fn service(&self) -> &'static str {
        "acm"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "certificate"
    }

    fn id_prefix(&self) -> &'static str {
        "arn:aws:acm"
    }

    fn timings(&self) -> Timings {
        Timings {
            // ACM names the validation record within seconds.
            create: Duration::from_secs(5),
            delete: Duration::ZERO,
            update: Duration::ZERO,
            poll: Duration::from_secs(3),
            timeout: Duration::from_secs(5 * 60),
        }
    }

    fn create_before_destroy(&self) -> bool {
        // A listener keeps using the old certificate until the new one is issued.
        true
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        stack
            .load_balancers
            .iter()
            .filter_map(|lb| match &lb.certificate {
                Some(CertificateSource::Request(domain)) => Some((lb, domain)),
                _ => None,
            })
            .map(|(lb, domain)| {
                let address = Self::address(&lb.name);
                let name = resource_name(&stack.stack, &address);
                DesiredResource::new(self.name(), address.clone())
                    .with("domain", Value::string(domain.clone()))
                    .with(
                        "tags",
                        Value::string_map(&ownership_tags(
                            &stack.stack,
                            &address,
                            &name,
                            &stack.tags,
                        )),
                    )
            })
            .collect()
    }
}
