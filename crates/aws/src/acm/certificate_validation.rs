//! AWS calls for waiting for a requested certificate to be ISSUED, as a resource of its own
//! (as Terraform's `aws_acm_certificate_validation`): the certificate, then its
//! validation record, then this wait, then the HTTPS listener. Nothing is made
//! in AWS; it exists once the certificate is issued.

use async_trait::async_trait;

use crate::acm::certificate::stack_certificates;
use crate::{Adapter, AwsClients, error};
use aws_sdk_acm::types::CertificateStatus;
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::certificate::Certificate;
use eksform_core::kinds::certificate_validation::{CertificateValidation, records_in_stack};
use eksform_core::kinds::tags::{mark, required};
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value, WAITING_FOR};

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
        Err(e) => return crate::none_if_not_found(error("DescribeCertificate", e)),
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
                aws.warnings
                    .warn(format!("certificate {arn} waits for {waiting_for}"));
            }
            Ok(Some((Status::Pending, waiting_for)))
        }
        other => Err(CloudError::rejected(format!(
            "certificate {arn} is {}: ACM will not issue it; the validation record is {record}",
            other.map_or("in an unknown state", |s| s.as_str())
        ))),
    }
}

/// The validation of a load balancer's issued certificate, done.
fn validated(
    kind: &CertificateValidation,
    stack: &str,
    load_balancer: &str,
    arn: &str,
) -> LiveResource {
    let address = CertificateValidation::address(load_balancer);
    let mut values = Attributes::new();
    values.insert("certificate_arn".into(), Value::string(arn));
    // Not observable; `satisfied` ignores it.
    values.insert("records_in_stack".into(), Value::Bool(false));
    values.insert("tags".into(), Value::string_map(&mark(stack, &address)));
    LiveResource {
        address,
        kind: kind.name().into(),
        id: arn.to_string(),
        attributes: values,
        status: Status::Ready,
    }
}

#[async_trait]
impl Adapter for CertificateValidation {
    async fn find_to_adopt(
        &self,
        _aws: &AwsClients,
        _desired: &DesiredResource,
        _id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        Err(crate::not_adoptable(
            self.name(),
            "it is a wait for the certificate to be issued, not a resource; adopt the certificate (and its validation record) instead",
        ))
    }

    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        // A certificate an adopt entry takes over is not the stack's yet, but
        // once issued its validation is done all the same: nothing to wait for.
        // (Each stack's entries, for every stack's read.)
        let adopted = scope
            .served()
            .into_iter()
            .flat_map(|stack| {
                stack
                    .adopt
                    .iter()
                    .filter(|d| d.kind == Certificate.name())
                    .filter_map(move |d| {
                        Some((
                            stack.stack.as_str(),
                            d.address.as_str().strip_prefix("certificate.")?,
                            d.adopt.as_deref()?,
                        ))
                    })
            })
            .map(|(stack, load_balancer, arn)| async move {
                let issued = status(aws, arn, true)
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|(status, _)| status == Status::Ready);
                Ok::<_, CloudError>(issued.then(|| validated(self, stack, load_balancer, arn)))
            });
        let mut found: Vec<LiveResource> = futures_util::future::try_join_all(adopted)
            .await?
            .into_iter()
            .flatten()
            .collect();
        found.extend(
            stack_certificates(aws, scope)
                .await?
                .into_iter()
                .filter(|c| c.status == Some(CertificateStatus::Issued))
                .filter_map(|c| {
                    let certificate = c.tags.get(eksform_core::model::ADDRESS_TAG)?;
                    let load_balancer = certificate.strip_prefix("certificate.")?;
                    if found.iter().any(|f| f.id == c.arn) {
                        return None;
                    }
                    Some(validated(
                        self,
                        &eksform_core::kinds::tags::stack_of_tags(&c.tags),
                        load_balancer,
                        &c.arn,
                    ))
                })
                .collect::<Vec<_>>(),
        );
        Ok(found)
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
