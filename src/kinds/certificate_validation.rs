//! Waiting for a requested certificate to be ISSUED, as a resource of its own
//! (as Terraform's `aws_acm_certificate_validation`): the certificate, then its
//! validation record, then this wait, then the HTTPS listener. Nothing is made
//! in AWS; it exists once the certificate is issued.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_acm::types::CertificateStatus;

use super::certificate::{Certificate, stack_certificates};
use super::dns_record::DnsRecord;
use super::tags::{mark, required};
use super::{Kind, Timings};
use crate::cloud::aws::{AwsClients, error};
use crate::cloud::{CloudError, CreateRequest, Scope};
use crate::lower::{CertificateSource, StackModel};
use crate::model::{
    Address, Attributes, DesiredResource, LiveResource, Status, Value, WAITING_FOR,
};

pub struct CertificateValidation;

impl CertificateValidation {
    pub fn address(load_balancer: &str) -> Address {
        Address::new(&["certificate_validation", load_balancer])
    }
}

/// The state of the certificate behind `arn`: ready when issued, pending while
/// ACM validates (with what it waits for, when the record is not the
/// stack's to write), an error naming the record to create when it cannot be.
async fn status(
    aws: &AwsClients,
    arn: &str,
    records_in_stack: bool,
) -> Result<Option<(Status, Option<String>)>, CloudError> {
    let described = match aws
        .acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(described) => described,
        Err(e) => return super::none_if_not_found(error("DescribeCertificate", e)),
    };
    let Some(detail) = described.certificate() else {
        return Ok(None);
    };
    let record = detail
        .domain_validation_options()
        .iter()
        .find_map(|o| o.resource_record())
        .map(|r| format!("{} CNAME {}", r.name(), r.value()))
        .unwrap_or_else(|| "(not named by ACM yet)".into());
    match detail.status() {
        Some(CertificateStatus::Issued) => Ok(Some((Status::Ready, None))),
        Some(CertificateStatus::PendingValidation) => {
            let waiting_for = (!records_in_stack).then(|| {
                format!(
                    "the DNS record {record}, to be created in the zone of {} (outside this stack)",
                    detail.domain_name().unwrap_or_default()
                )
            });
            if let Some(waiting_for) = &waiting_for {
                tracing::warn!("certificate {arn} waits for {waiting_for}");
            }
            Ok(Some((Status::Pending, waiting_for)))
        }
        other => Err(CloudError::rejected(format!(
            "certificate {arn} is {}: ACM will not issue it; the validation record is {record}",
            other.map_or("in an unknown state", |s| s.as_str())
        ))),
    }
}

fn records_in_stack(attributes: &Attributes) -> bool {
    attributes
        .get("records_in_stack")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

#[async_trait]
impl Kind for CertificateValidation {
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
                let record = DnsRecord::validation_address(&lb.name);
                let in_stack = DnsRecord::validates_in_stack(stack, lb);
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

    fn satisfied(&self, attribute: &str, live: &Value, desired: &Value) -> bool {
        // Where the record lives does not change an issued certificate.
        attribute == "records_in_stack" || live == desired
    }

    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        Ok(stack_certificates(aws, scope)
            .await?
            .into_iter()
            .filter(|c| c.status == Some(CertificateStatus::Issued))
            .filter_map(|c| {
                let certificate = c.tags.get(crate::model::ADDRESS_TAG)?;
                let load_balancer = certificate.strip_prefix("certificate.")?;
                let address = Self::address(load_balancer);
                let mut values = Attributes::new();
                values.insert("certificate_arn".into(), Value::string(c.arn.clone()));
                // Not observable; `satisfied` ignores it.
                values.insert("records_in_stack".into(), Value::Bool(false));
                values.insert(
                    "tags".into(),
                    Value::string_map(&mark(&super::tags::stack_of_tags(&c.tags), &address)),
                );
                Some(LiveResource {
                    address,
                    kind: self.name().into(),
                    id: c.arn,
                    attributes: values,
                    status: Status::Ready,
                })
            })
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let arn = required(&request.attributes, "certificate_arn")?.to_string();
        let (status, waiting_for) = status(aws, &arn, records_in_stack(&request.attributes))
            .await?
            .ok_or_else(|| CloudError::rejected(format!("certificate {arn} is gone")))?;
        let mut created = request.created(self.name(), arn, status);
        if let Some(waiting_for) = waiting_for {
            created
                .attributes
                .insert(WAITING_FOR.into(), Value::string(waiting_for));
        }
        Ok(created)
    }

    async fn update(
        &self,
        _aws: &AwsClients,
        _live: &LiveResource,
        _desired: &Attributes,
    ) -> Result<(), CloudError> {
        Ok(())
    }

    async fn delete(&self, _aws: &AwsClients, _live: &LiveResource) -> Result<(), CloudError> {
        // Nothing of its own in AWS: the certificate kind deletes the certificate.
        Ok(())
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        Ok(status(aws, &live.id, records_in_stack(&live.attributes))
            .await?
            .map(|(status, waiting_for)| {
                let mut read = LiveResource {
                    status,
                    ..live.clone()
                };
                if let Some(waiting_for) = waiting_for {
                    read.attributes
                        .insert(WAITING_FOR.into(), Value::string(waiting_for));
                }
                read
            }))
    }
}
