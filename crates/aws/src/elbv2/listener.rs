//! AWS calls for the listeners of a load balancer: port 80 answers 301 to HTTPS when
//! `httpsRedirect` (else forwards), port 443 terminates TLS with the
//! certificate under a current TLS policy and forwards to `defaultTargetGroup`,
//! or by weight to several groups (a `ForwardConfig`).
//! Everything but the load balancer changes in place.

use async_trait::async_trait;

use crate::elbv2::load_balancer::may_be_the_stacks;
use crate::elbv2::load_balancer::{
    elb_tags, region_load_balancers, stack_load_balancers, sync_elb_tags, to_elb_tags,
};
use crate::{Adapter, AwsClients, Finding, error, not_found_is_done};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, ForwardActionConfig, ProtocolEnum, RedirectActionConfig,
    RedirectActionStatusCodeEnum, TargetGroupTuple,
};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::listener::{Listener, int, weighted_target, weighted_targets};
use eksform_core::kinds::tags::{required, tags_of};
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value};

/// The listeners of one load balancer, every page.
async fn listeners_of(
    aws: &AwsClients,
    load_balancer_arn: &str,
) -> Result<Vec<aws_sdk_elasticloadbalancingv2::types::Listener>, CloudError> {
    aws.elb
        .describe_listeners()
        .load_balancer_arn(load_balancer_arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| error("DescribeListeners", e))
}

fn to_live(
    kind: &Listener,
    finding: Finding,
    listener: &aws_sdk_elasticloadbalancingv2::types::Listener,
    tags: std::collections::BTreeMap<String, String>,
) -> Option<LiveResource> {
    let arn = listener.listener_arn()?.to_string();
    let action = listener.default_actions().first();
    let mut values = Attributes::new();
    let text = |s: Option<&str>| s.map_or(Value::Null, Value::string);
    values.insert(
        "load_balancer_arn".into(),
        text(listener.load_balancer_arn()),
    );
    values.insert(
        "port".into(),
        Value::Int(listener.port().unwrap_or_default().into()),
    );
    values.insert(
        "protocol".into(),
        text(listener.protocol().map(ProtocolEnum::as_str)),
    );
    let redirect = action.and_then(|a| a.r#type()) == Some(&ActionTypeEnum::Redirect);
    values.insert(
        "action".into(),
        Value::string(if redirect { "redirect" } else { "forward" }),
    );
    values.insert(
        "target_group_arn".into(),
        text(action.and_then(|a| a.target_group_arn())),
    );
    // A forward to several groups names none alone: it is read as weights.
    if let Some(forward) = action
        .filter(|a| a.target_group_arn().is_none())
        .and_then(|a| a.forward_config())
        .filter(|f| !f.target_groups().is_empty())
    {
        let targets = forward
            .target_groups()
            .iter()
            .map(|tuple| {
                weighted_target(
                    text(tuple.target_group_arn()),
                    tuple.weight().unwrap_or(1).into(),
                )
            })
            .collect();
        values.insert("forward_weights".into(), Value::List(targets));
    }
    if let Some(certificate) = listener.certificates().first() {
        values.insert(
            "certificate_arn".into(),
            text(certificate.certificate_arn()),
        );
    }
    if let Some(policy) = listener.ssl_policy() {
        values.insert("ssl_policy".into(), Value::string(policy));
    }
    finding.live(kind.name(), &arn, tags, values, Status::Ready)
}

#[async_trait]
impl Adapter for Listener {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        // Listeners are listed per load balancer: no batch read across them.
        // They are read while the load balancers' tags are, for every load
        // balancer whose name may be the stack's, so as not to wait for the
        // tags; then for the stack's others (taken over by an adopt entry
        // under their own names).
        let balancers = region_load_balancers(aws, scope).await?;
        let candidates: Vec<&str> = balancers
            .iter()
            .filter(|b| may_be_the_stacks(b, scope))
            .filter_map(|b| b.load_balancer_arn())
            .collect();
        let (mut described, ours) = tokio::try_join!(
            futures_util::future::try_join_all(candidates.iter().map(|arn| listeners_of(aws, arn))),
            stack_load_balancers(aws, scope)
        )?;
        let ours: std::collections::BTreeSet<&str> = ours
            .iter()
            .filter_map(|(b, _)| b.load_balancer_arn())
            .collect();
        let others = ours.iter().filter(|arn| !candidates.contains(arn));
        described.extend(
            futures_util::future::try_join_all(others.map(|arn| listeners_of(aws, arn))).await?,
        );
        let listeners: Vec<_> = described
            .into_iter()
            .flatten()
            .filter(|l| l.load_balancer_arn().is_some_and(|arn| ours.contains(arn)))
            .collect();
        let arns: Vec<String> = listeners
            .iter()
            .filter_map(|l| l.listener_arn().map(str::to_string))
            .collect();
        let mut tags = elb_tags(aws, &arns).await?;
        Ok(listeners
            .iter()
            .filter_map(|listener| {
                let tags = tags.remove(listener.listener_arn()?).unwrap_or_default();
                to_live(self, Finding::Stack(&scope.stack), listener, tags)
            })
            .collect())
    }

    /// By ARN.
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let described = match aws.elb.describe_listeners().listener_arns(id).send().await {
            Ok(out) => out,
            Err(e) => return crate::none_if_not_found(error("DescribeListeners", e)),
        };
        let Some(listener) = described.listeners().first() else {
            return Ok(None);
        };
        let mut tags = elb_tags(aws, &[id.to_string()]).await?;
        Ok(to_live(
            self,
            Finding::Adoption(&desired.address),
            listener,
            tags.remove(id).unwrap_or_default(),
        ))
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let created = aws
            .elb
            .create_listener()
            .load_balancer_arn(required(attributes, "load_balancer_arn")?)
            .set_port(int(attributes, "port"))
            .protocol(ProtocolEnum::from(required(attributes, "protocol")?))
            .set_certificates(certificates(attributes))
            .set_ssl_policy(
                attributes
                    .get("ssl_policy")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            )
            .default_actions(action(attributes)?)
            .set_tags(Some(to_elb_tags(&tags_of(attributes))))
            .send()
            .await
            .map_err(|e| error("CreateListener", e))?;
        let arn = created
            .listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .ok_or_else(|| CloudError::rejected("CreateListener returned no listener"))?;
        Ok(request.created(self.name(), arn.to_string(), Status::Ready))
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let differs = [
            "port",
            "protocol",
            "action",
            "target_group_arn",
            "forward_weights",
            "certificate_arn",
            "ssl_policy",
        ]
        .iter()
        .any(|name| {
            desired.contains_key(*name) && desired.get(*name) != live.attributes.get(*name)
        });
        if differs {
            let mut wanted = live.attributes.clone();
            wanted.extend(desired.clone());
            aws.elb
                .modify_listener()
                .listener_arn(&live.id)
                .set_port(int(&wanted, "port"))
                .protocol(ProtocolEnum::from(required(&wanted, "protocol")?))
                .set_certificates(certificates(&wanted))
                .set_ssl_policy(
                    wanted
                        .get("ssl_policy")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                )
                .default_actions(action(&wanted)?)
                .send()
                .await
                .map_err(|e| error("ModifyListener", e))?;
        }
        if desired.contains_key("tags") {
            sync_elb_tags(aws, &live.id, &live.attributes, desired).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        match aws
            .elb
            .delete_listener()
            .listener_arn(&live.id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => not_found_is_done(error("DeleteListener", e)),
        }
    }
}

pub fn action(attributes: &Attributes) -> Result<Action, CloudError> {
    match attributes.get("action").and_then(Value::as_str) {
        Some("redirect") => Ok(Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .status_code(RedirectActionStatusCodeEnum::Http301)
                    .build(),
            )
            .build()),
        // One group named alone, or else the weighted groups.
        _ => match (
            attributes.get("target_group_arn").and_then(Value::as_str),
            attributes.get("forward_weights"),
        ) {
            (None, Some(weights)) => {
                let groups = weighted_targets(weights)
                    .into_iter()
                    .map(|(arn, weight)| {
                        TargetGroupTuple::builder()
                            .target_group_arn(arn)
                            .weight(weight as i32)
                            .build()
                    })
                    .collect();
                Ok(Action::builder()
                    .r#type(ActionTypeEnum::Forward)
                    .forward_config(
                        ForwardActionConfig::builder()
                            .set_target_groups(Some(groups))
                            .build(),
                    )
                    .build())
            }
            _ => Ok(Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(required(attributes, "target_group_arn")?)
                .build()),
        },
    }
}

pub fn certificates(attributes: &Attributes) -> Option<Vec<Certificate>> {
    attributes
        .get("certificate_arn")
        .and_then(Value::as_str)
        .map(|arn| vec![Certificate::builder().certificate_arn(arn).build()])
}
