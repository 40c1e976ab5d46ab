//! ACM certificates that `loadBalancers[].certificate.domain` requests,
//! validated by DNS. The create returns once ACM has named the validation
//! record (the DNS record kind writes it when the zone is in the stack);
//! waiting for ISSUED is `certificate_validation`'s job.

use super::{Change, Kind, Timings};
use crate::lower::{CertificateSource, StackModel, resource_name};
use crate::model::{Address, DesiredResource, Value, ownership_tags};
use std::time::Duration;

pub struct Certificate;

impl Certificate {
    pub fn address(load_balancer: &str) -> Address {
        Address::new(&["certificate", load_balancer])
    }
}

impl Kind for Certificate {
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

    fn computed(&self) -> &'static [&'static str] {
        &["arn", "validation_record_name", "validation_record_value"]
    }

    fn change_of(&self, attribute: &str) -> Change {
        match attribute {
            "domain" => Change::Replace,
            _ => Change::InPlace,
        }
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
