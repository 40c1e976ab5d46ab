//! AWS calls for ACM certificates that `loadBalancers[].certificate.domain` requests,
//! validated by DNS. The create returns once ACM has named the validation
//! record (the DNS record kind writes it when the zone is in the stack);
//! waiting for ISSUED is `certificate_validation`'s job.

use async_trait::async_trait;

use crate::{Adapter, AwsClients, Finding, error, not_found_is_done};
use aws_sdk_acm::types::{CertificateStatus, KeyAlgorithm, ValidationMethod};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::certificate::Certificate;
use eksform_core::kinds::hosted_zone::plain_name;
use eksform_core::kinds::tags::{required, tags_of};
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value};
use std::collections::BTreeMap;

async fn describe(aws: &AwsClients, arn: &str) -> Result<Option<Described>, CloudError> {
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
        .map(|r| (plain_name(r.name()), plain_name(r.value())));
    Ok(Some(Described {
        arn: arn.to_string(),
        domain: detail.domain_name().unwrap_or_default().to_string(),
        status: detail.status().cloned(),
        record,
        tags: BTreeMap::new(),
    }))
}

/// A certificate's tags; `None` when it does not exist.
async fn certificate_tags(
    aws: &AwsClients,
    arn: &str,
) -> Result<Option<BTreeMap<String, String>>, CloudError> {
    let tags = match aws
        .acm
        .list_tags_for_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(tags) => tags,
        Err(e) => return crate::none_if_not_found(error("ListTagsForCertificate", e)),
    };
    Ok(Some(
        tags.tags()
            .iter()
            .map(|t| {
                (
                    t.key().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
    ))
}

/// The certificates of the region that carry the stack's mark: ACM has no tag
/// filter, so the tags of each certificate within the stack's domains
/// (`Scope::domains`; every certificate when they are not known) are read (one
/// call per certificate, all at once), and eksform's are described. Read once
/// per observation.
pub(crate) async fn stack_certificates(
    aws: &AwsClients,
    scope: &Scope,
) -> Result<Vec<Described>, CloudError> {
    let domains = scope.domains.as_deref();
    let key = match domains {
        Some(domains) => format!("acm: marked certificates within {}", domains.join(" ")),
        None => "acm: marked certificates".to_string(),
    };
    let marked = scope
        .reads
        .get_or_read(&key, || marked_certificates(aws, domains))
        .await?;
    Ok(marked
        .iter()
        .filter(|c| {
            eksform_core::kinds::tags::marks_stack(
                c.tags.get(eksform_core::model::STACK_TAG),
                &scope.stack,
            )
        })
        .cloned()
        .collect())
}

/// Whether a certificate's domain is one of `domains` or a subdomain of one
/// (a `*.` ignored on both sides).
fn within(domain: &str, domains: &[String]) -> bool {
    let domain = domain
        .trim_start_matches("*.")
        .trim_end_matches('.')
        .to_ascii_lowercase();
    domains
        .iter()
        .any(|root| domain == *root || domain.ends_with(&format!(".{root}")))
}

/// Every certificate of the region within `domains` (all when `None`) that
/// carries any stack's mark.
async fn marked_certificates(
    aws: &AwsClients,
    domains: Option<&[String]>,
) -> Result<Vec<Described>, CloudError> {
    let summaries: Vec<_> = aws
        .acm
        .list_certificates()
        // ACM's largest page.
        .max_items(1000)
        // Without it ACM lists RSA 1024 and 2048 only: an adopted EC or
        // RSA 4096 certificate would be missed once its adopt entry is gone.
        .includes(
            aws_sdk_acm::types::Filters::builder()
                .set_key_types(Some(
                    KeyAlgorithm::values()
                        .iter()
                        .map(|k| KeyAlgorithm::from(*k))
                        .collect(),
                ))
                .build(),
        )
        .set_certificate_statuses(Some(vec![
            CertificateStatus::PendingValidation,
            CertificateStatus::Issued,
            CertificateStatus::Failed,
            CertificateStatus::Inactive,
            CertificateStatus::ValidationTimedOut,
        ]))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| error("ListCertificates", e))?;
    let read = summaries
        .iter()
        .filter(|summary| {
            domains.is_none_or(|domains| {
                summary
                    .domain_name()
                    .is_none_or(|domain| within(domain, domains))
            })
        })
        .filter_map(|summary| summary.certificate_arn())
        .map(|arn| async move {
            let Some(tags) = certificate_tags(aws, arn).await? else {
                // Deleted between the list and now.
                return Ok(None);
            };
            if !tags.contains_key(eksform_core::model::STACK_TAG) {
                return Ok(None);
            }
            Ok(describe(aws, arn).await?.map(|mut described| {
                described.tags = tags;
                described
            }))
        });
    Ok(futures_util::future::try_join_all(read)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

#[async_trait]
impl Adapter for Certificate {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        Ok(stack_certificates(aws, scope)
            .await?
            .into_iter()
            .filter_map(|d| to_live(self.name(), Finding::Stack(&scope.stack), d))
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let tags = tags_of(attributes)
            .into_iter()
            .map(|(k, v)| aws_sdk_acm::types::Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CloudError::rejected(format!("certificate tags: {e}")))?;
        // ACM's token: up to 32 word characters. A retry after a lost answer
        // gets the same certificate back.
        let token: String = request
            .token
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(32)
            .collect();
        let requested = aws
            .acm
            .request_certificate()
            .domain_name(required(attributes, "domain")?)
            .validation_method(ValidationMethod::Dns)
            .idempotency_token(token)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| error("RequestCertificate", e))?;
        let arn = requested.certificate_arn().unwrap_or_default().to_string();
        let mut live = request.created(self.name(), arn.clone(), Status::Pending);
        live.attributes.insert("arn".into(), Value::string(arn));
        Ok(live)
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let (set, removed) = eksform_core::kinds::tags::tag_changes(&live.attributes, desired);
        if desired.contains_key("tags") && !set.is_empty() {
            let tags = set
                .into_iter()
                .map(|(k, v)| aws_sdk_acm::types::Tag::builder().key(k).value(v).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| CloudError::rejected(format!("certificate tags: {e}")))?;
            aws.acm
                .add_tags_to_certificate()
                .certificate_arn(&live.id)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| error("AddTagsToCertificate", e))?;
        }
        if desired.contains_key("tags") && !removed.is_empty() {
            let tags = removed
                .into_iter()
                .map(|k| aws_sdk_acm::types::Tag::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| CloudError::rejected(format!("certificate tags: {e}")))?;
            aws.acm
                .remove_tags_from_certificate()
                .certificate_arn(&live.id)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| error("RemoveTagsFromCertificate", e))?;
        }
        Ok(())
    }

    /// By ARN.
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let (described, tags) = tokio::try_join!(describe(aws, id), certificate_tags(aws, id))?;
        Ok(described.zip(tags).and_then(|(mut described, tags)| {
            described.tags = tags;
            to_live(self.name(), Finding::Adoption(&desired.address), described)
        }))
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        match aws
            .acm
            .delete_certificate()
            .certificate_arn(&live.id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => not_found_is_done(error("DeleteCertificate", e)),
        }
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let stack = eksform_core::kinds::tags::stack_of(&live.attributes);
        Ok(describe(aws, &live.id).await?.and_then(|mut d| {
            d.tags = tags_of(&live.attributes);
            to_live(self.name(), Finding::Stack(&stack), d)
        }))
    }
}

/// A certificate as ACM describes it.
#[derive(Clone)]
pub struct Described {
    pub arn: String,
    pub domain: String,
    pub status: Option<CertificateStatus>,
    /// The validation CNAME: name and value, once ACM has made them.
    pub record: Option<(String, String)>,
    pub tags: BTreeMap<String, String>,
}

pub fn to_live(kind: &str, finding: Finding, described: Described) -> Option<LiveResource> {
    let mut values = Attributes::new();
    values.insert("domain".into(), Value::string(described.domain));
    values.insert("arn".into(), Value::string(described.arn.clone()));
    let (name, value) = described.record.clone().unzip();
    values.insert(
        "validation_record_name".into(),
        name.map_or(Value::Null, Value::string),
    );
    values.insert(
        "validation_record_value".into(),
        value.map_or(Value::Null, Value::string),
    );
    values.insert(
        "status".into(),
        Value::string(described.status.as_ref().map_or("", |s| s.as_str())),
    );
    // Usable by the DNS record kind once ACM has named the validation record.
    let status = if described.record.is_some() {
        Status::Ready
    } else {
        Status::Pending
    };
    finding.live(kind, &described.arn, described.tags, values, status)
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn a_certificate_is_within_the_stacks_domains_and_their_subdomains_only() {
        let domains = vec!["ref.example.com".to_string()];
        assert!(within("*.ref.example.com", &domains));
        assert!(within("api.ref.example.com.", &domains));
        assert!(within("REF.example.com", &domains));
        assert!(!within("*.svc-1.crowd-team-1.example.org", &domains));
        assert!(
            !within("pref.example.com", &domains),
            "a suffix is not a subdomain"
        );
        assert!(!within("example.com", &domains));
    }
}
