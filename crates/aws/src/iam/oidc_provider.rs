//! AWS calls for the cluster's IAM OIDC provider (for IAM roles for service accounts), from
//! the cluster's issuer, with the client id `sts.amazonaws.com`.

use async_trait::async_trait;
use aws_sdk_iam::operation::get_open_id_connect_provider::GetOpenIdConnectProviderOutput;

use crate::sdk_tags::tag_map;
use crate::{Adapter, AwsClients, Finding, deleted, error, found};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::oidc_provider::OidcProvider;
use eksform_core::kinds::tags::{required, stack_of, tag_changes};
use eksform_core::model::{Attributes, DesiredResource, LiveResource, STACK_TAG, Status, Value};

/// What IAM answers for the provider of that ARN; `None` when there is none.
/// The cluster's provider (below) and GitHub's (`deploy_roles`) are read so.
pub(crate) async fn get_provider(
    aws: &AwsClients,
    arn: &str,
) -> Result<Option<GetOpenIdConnectProviderOutput>, CloudError> {
    found(
        "GetOpenIDConnectProvider",
        aws.iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await,
    )
}

/// Whether a provider's ARN is that of the issuer `url` (IAM names a
/// provider by its URL without the scheme).
fn of_issuer(arn: &str, url: &str) -> bool {
    arn.ends_with(&format!(
        ":oidc-provider/{}",
        url.trim_start_matches("https://").trim_end_matches('/')
    ))
}

/// The ARN of the account's provider of the issuer `url`, if any.
async fn provider_of_issuer(aws: &AwsClients, url: &str) -> Result<Option<String>, CloudError> {
    let list = aws
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .map_err(|e| error("ListOpenIDConnectProviders", e))?;
    Ok(list
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|entry| entry.arn())
        .find(|arn| of_issuer(arn, url))
        .map(str::to_string))
}

/// The provider of that ARN, as `finding` wants it.
async fn describe(
    kind: &OidcProvider,
    aws: &AwsClients,
    finding: Finding<'_>,
    arn: &str,
) -> Result<Option<LiveResource>, CloudError> {
    let Some(out) = get_provider(aws, arn).await? else {
        return Ok(None);
    };
    let tags = tag_map(out.tags());
    let url = out.url().unwrap_or_default();
    let mut attributes = Attributes::new();
    // IAM keeps the URL without its scheme; the issuer has it.
    attributes.insert(
        "url".into(),
        Value::string(if url.starts_with("https://") {
            url.to_string()
        } else {
            format!("https://{url}")
        }),
    );
    attributes.insert("client_ids".into(), Value::string_set(out.client_id_list()));
    attributes.insert("arn".into(), Value::string(arn));
    Ok(finding.live(kind.name(), arn, tags, attributes, Status::Ready))
}

/// Tags as IAM takes them (roles and OIDC providers).
pub(crate) fn iam_tags(
    tags: std::collections::BTreeMap<String, String>,
) -> Vec<aws_sdk_iam::types::Tag> {
    tags.into_iter()
        .filter_map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .ok()
        })
        .collect()
}

#[async_trait]
impl Adapter for OidcProvider {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        // The stack's provider is its cluster's issuer: with the cluster read
        // (shared with the cluster's observation, at the same time as the
        // list), only that provider is read; for every stack's read, those of
        // each stack's cluster. Without one (no cluster yet, or gone before
        // its provider) or outside a plan's observation (`Scope::from_spec`),
        // every provider is.
        let list = async {
            aws.iam
                .list_open_id_connect_providers()
                .send()
                .await
                .map_err(|e| error("ListOpenIDConnectProviders", e))
        };
        let issuers = async {
            let clusters: Option<Vec<&String>> = scope
                .served()
                .into_iter()
                .map(|stack| stack.cluster.as_ref().filter(|_| stack.from_spec))
                .collect();
            let Some(clusters) = clusters.filter(|c| !c.is_empty()) else {
                return Ok::<_, CloudError>(None);
            };
            let described = futures_util::future::try_join_all(
                clusters
                    .into_iter()
                    .map(|name| crate::eks::eks_cluster::described_cluster(aws, scope, name)),
            )
            .await?;
            Ok(described
                .iter()
                .map(|cluster| {
                    cluster
                        .as_ref()
                        .as_ref()
                        .and_then(|c| c.identity()?.oidc()?.issuer().map(str::to_string))
                })
                .collect::<Option<Vec<String>>>())
        };
        let (list, issuers) = tokio::try_join!(list, issuers)?;
        // An adopt entry's provider (by ARN or URL) is the stack's too.
        let adopted = |arn: &str| {
            scope.admits(|stack| {
                stack
                    .adopt
                    .iter()
                    .filter(|d| d.kind == self.name())
                    .filter_map(|d| d.adopt.as_deref())
                    .any(|id| id == arn || of_issuer(arn, id))
            })
        };
        let issued = |arn: &&str| match &issuers {
            Some(issuers) => issuers.iter().any(|issuer| of_issuer(arn, issuer)) || adopted(arn),
            None => true,
        };
        // Tags come only with Get: one call per provider read, all at once.
        let read = list
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|entry| entry.arn())
            .filter(issued)
            .map(|arn| describe(self, aws, Finding::Stack(&scope.stack), arn));
        Ok(futures_util::future::try_join_all(read)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let clients = eksform_core::model::string_list(attributes, "client_ids");
        let out = aws
            .iam
            .create_open_id_connect_provider()
            .url(required(attributes, "url")?)
            .set_client_id_list(Some(clients))
            .set_tags(Some(iam_tags(eksform_core::kinds::tags::tags_of(
                attributes,
            ))))
            .customize()
            .config_override(crate::sent_once!(aws_sdk_iam))
            .send()
            .await
            .map_err(|e| error("CreateOpenIDConnectProvider", e))?;
        let arn = out
            .open_id_connect_provider_arn()
            .unwrap_or_default()
            .to_string();
        let mut created = request.created(self.name(), arn.clone(), Status::Ready);
        created.attributes.insert("arn".into(), Value::string(arn));
        Ok(created)
    }

    /// IAM keeps one provider per issuer: one made outside eksform for the
    /// cluster's (`eksctl utils associate-iam-oidc-provider`, Terraform) is a
    /// plan error naming the adopt entry that takes it over, not a create
    /// that fails midway through apply.
    async fn name_taken(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        // Unknown until the cluster stands: a new cluster's issuer is new.
        let Some(url) = desired.attributes.get("url").and_then(Value::as_str) else {
            return Ok(None);
        };
        let Some(arn) = provider_of_issuer(aws, url).await? else {
            return Ok(None);
        };
        let Some(provider) = get_provider(aws, &arn).await? else {
            return Ok(None);
        };
        let owner = tag_map(provider.tags()).remove(STACK_TAG);
        // The stack's own that its observation did not show: no stranger's.
        if owner.as_deref() == Some(stack_of(&desired.attributes).as_str()) {
            return Ok(None);
        }
        Ok(Some(match owner {
            Some(owner) => format!(
                "the OIDC provider of the cluster's issuer ({arn}) is stack {owner}'s: IAM keeps one per issuer, and eksform never takes another stack's"
            ),
            None => format!(
                "an OIDC provider of the cluster's issuer already exists ({arn}), made outside eksform (eksctl utils associate-iam-oidc-provider makes one): IAM keeps one per issuer; take it over with `adopt: [{{ address: {}, id: {arn} }}]`",
                desired.address
            ),
        }))
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let (set, removed) = tag_changes(&live.attributes, desired);
        if !set.is_empty() {
            aws.iam
                .tag_open_id_connect_provider()
                .open_id_connect_provider_arn(&live.id)
                .set_tags(Some(iam_tags(set)))
                .send()
                .await
                .map_err(|e| error("TagOpenIDConnectProvider", e))?;
        }
        if !removed.is_empty() {
            aws.iam
                .untag_open_id_connect_provider()
                .open_id_connect_provider_arn(&live.id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| error("UntagOpenIDConnectProvider", e))?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        deleted(
            "DeleteOpenIDConnectProvider",
            aws.iam
                .delete_open_id_connect_provider()
                .open_id_connect_provider_arn(&live.id)
                .send()
                .await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let stack = eksform_core::kinds::tags::stack_of(&live.attributes);
        describe(self, aws, Finding::Stack(&stack), &live.id).await
    }

    /// By ARN, or by the issuer URL (`https://oidc.eks...`): the provider's
    /// ARN ends with the URL without its scheme.
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let arn = if id.starts_with("arn:") {
            id.to_string()
        } else {
            match provider_of_issuer(aws, id).await? {
                Some(arn) => arn,
                None => return Ok(None),
            }
        };
        describe(self, aws, Finding::Adoption(&desired.address), &arn).await
    }
}
