//! AWS calls for the public hosted zone of `dns.zone`: created when no zone of that name
//! exists, adopted (used, never changed or deleted) when one does. Route53
//! zones take tags only after creation, so eksform's mark goes into the zone's
//! comment in the create call itself; the kind presents it as tags.

use async_trait::async_trait;

use crate::route53::{mark_tags, mark_text_of};
use crate::{Adapter, AwsClients, error, not_found_is_done, observed_by_id};
use aws_sdk_route53::types::HostedZoneConfig;
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::hosted_zone::{FoundZone, HostedZone, bare_id, plain_name};
use eksform_core::kinds::tags::{mark, parse_mark, required, tags_of};
use eksform_core::model::{
    ADDRESS_TAG, Address, Attributes, DesiredResource, LiveResource, REGION_TAG, STACK_TAG, Status,
    Value,
};
use std::collections::BTreeMap;

/// The zones the stack owns (their comment carries its mark) and the zones
/// named in the spec, owned or not.
pub(crate) async fn stack_zones(
    aws: &AwsClients,
    scope: &Scope,
) -> Result<Vec<FoundZone>, CloudError> {
    // The account's zones, read once per observation.
    let zones = scope
        .reads
        .get_or_read("route53: hosted zones", || async {
            let zones: Result<Vec<_>, _> = aws
                .route53
                .list_hosted_zones()
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await;
            zones.map_err(|e| error("ListHostedZones", e))
        })
        .await?;
    let named: Vec<String> = scope
        .named
        .iter()
        .filter(|(address, _)| address.as_str().starts_with("hosted_zone."))
        .map(|(_, name)| plain_name(name))
        .collect();
    Ok(zones
        .iter()
        .filter(|z| z.config().is_none_or(|c| !c.private_zone()))
        .filter_map(|zone| {
            let comment = zone.config().and_then(|c| c.comment());
            let region = comment.and_then(|c| mark_tags(c).remove(REGION_TAG));
            // The same stack name's zone in another region is that stack's:
            // here it is found by its name only, used as it is.
            let here =
                scope.region.is_empty() || region.as_ref().is_none_or(|r| *r == scope.region);
            let mark = comment
                .and_then(parse_mark)
                .filter(|(stack, _)| stack == &scope.stack && here);
            let name = plain_name(zone.name());
            (mark.is_some() || named.contains(&name)).then(|| FoundZone {
                id: bare_id(zone.id()).to_string(),
                region: region.filter(|_| mark.is_some()),
                name,
                mark,
            })
        })
        .collect())
}

#[async_trait]
impl Adapter for HostedZone {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let zones = stack_zones(aws, scope).await?;
        // Name servers come only with GetHostedZone: one call per zone, all at once.
        let read = zones.iter().map(|zone| async move {
            aws.route53
                .get_hosted_zone()
                .id(&zone.id)
                .send()
                .await
                .map_err(|e| error("GetHostedZone", e))
        });
        let read = futures_util::future::try_join_all(read).await?;
        let mut found = Vec::new();
        for (zone, servers) in zones.into_iter().zip(read) {
            let (address, tags) = match &zone.mark {
                Some((stack, address)) => {
                    let mut tags = mark(stack, address);
                    tags.extend(zone.region.clone().map(|r| (REGION_TAG.to_string(), r)));
                    (address.clone(), tags)
                }
                // Unmarked, found by its name: adopted, never deleted.
                None => (Self::address(), BTreeMap::new()),
            };
            let servers: Vec<String> = servers
                .delegation_set()
                .map(|d| d.name_servers().to_vec())
                .unwrap_or_default();
            let mut values = Attributes::new();
            values.insert("name".into(), Value::string(zone.name));
            values.insert(
                "name_servers".into(),
                Value::List(servers.into_iter().map(Value::String).collect()),
            );
            values.insert("tags".into(), Value::string_map(&tags));
            found.push(LiveResource {
                address,
                kind: self.name().into(),
                id: zone.id,
                attributes: values,
                status: Status::Ready,
            });
        }
        Ok(found)
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let name = required(&request.attributes, "name")?;
        // The caller reference makes a retried create return the same zone.
        let reference: String = request.token.chars().take(128).collect();
        let created = aws
            .route53
            .create_hosted_zone()
            .name(name)
            .caller_reference(reference)
            .hosted_zone_config(
                HostedZoneConfig::builder()
                    .comment(mark_text_of(
                        &request.stack,
                        &request.address,
                        &tags_of(&request.attributes),
                    ))
                    .build(),
            )
            .customize()
            .config_override(crate::sent_once!(aws_sdk_route53))
            .send()
            .await
            .map_err(|e| error("CreateHostedZone", e))?;
        let zone = created
            .hosted_zone()
            .ok_or_else(|| CloudError::rejected("CreateHostedZone returned no zone"))?;
        let servers: Vec<Value> = created
            .delegation_set()
            .map(|d| {
                d.name_servers()
                    .iter()
                    .cloned()
                    .map(Value::String)
                    .collect()
            })
            .unwrap_or_default();
        let mut live = request.created(self.name(), bare_id(zone.id()).to_string(), Status::Ready);
        live.attributes
            .insert("name_servers".into(), Value::List(servers));
        Ok(live)
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        // Nothing of a zone changes in place: its name replaces it, its mark is
        // written once: in the create call, or when an adopt entry takes the
        // zone over (then after what its comment said).
        let wanted = tags_of(desired);
        let (Some(stack), Some(address)) = (wanted.get(STACK_TAG), wanted.get(ADDRESS_TAG)) else {
            return Ok(());
        };
        if tags_of(&live.attributes).contains_key(STACK_TAG) {
            return Ok(());
        }
        let zone = aws
            .route53
            .get_hosted_zone()
            .id(&live.id)
            .send()
            .await
            .map_err(|e| error("GetHostedZone", e))?;
        let before = zone
            .hosted_zone()
            .and_then(|z| z.config())
            .and_then(|c| c.comment())
            .unwrap_or_default();
        let kept: Vec<&str> = before
            .split_whitespace()
            .filter(|word| !word.starts_with("eksform:"))
            .collect();
        let mark = mark_text_of(stack, &Address(address.clone()), &wanted);
        let comment = if kept.is_empty() {
            mark
        } else {
            format!("{} {mark}", kept.join(" "))
        };
        aws.route53
            .update_hosted_zone_comment()
            .id(&live.id)
            .comment(comment)
            .send()
            .await
            .map_err(|e| error("UpdateHostedZoneComment", e))?;
        Ok(())
    }

    /// By id, with or without `/hostedzone/`. A public zone only: the
    /// spec's zone is public.
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let out = match aws.route53.get_hosted_zone().id(bare_id(id)).send().await {
            Ok(out) => out,
            Err(e) => return crate::none_if_not_found(error("GetHostedZone", e)),
        };
        let Some(zone) = out.hosted_zone() else {
            return Ok(None);
        };
        let config = zone.config();
        if config.is_some_and(|c| c.private_zone()) {
            return Err(CloudError::rejected(format!(
                "adopt: `{id}` for {} is a private hosted zone; the spec's zone (`dns.zone`) is public",
                desired.address
            )));
        }
        let servers: Vec<Value> = out
            .delegation_set()
            .map(|d| {
                d.name_servers()
                    .iter()
                    .cloned()
                    .map(Value::String)
                    .collect()
            })
            .unwrap_or_default();
        let mut values = Attributes::new();
        values.insert("name".into(), Value::string(plain_name(zone.name())));
        values.insert("name_servers".into(), Value::List(servers));
        let tags = mark_tags(config.and_then(|c| c.comment()).unwrap_or_default());
        values.insert("tags".into(), Value::string_map(&tags));
        Ok(Some(LiveResource {
            address: desired.address.clone(),
            kind: self.name().into(),
            id: bare_id(zone.id()).to_string(),
            attributes: values,
            status: Status::Ready,
        }))
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        match aws.route53.delete_hosted_zone().id(&live.id).send().await {
            Ok(_) => Ok(()),
            Err(e) => not_found_is_done(error("DeleteHostedZone", e)),
        }
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let scope = Scope {
            stack: eksform_core::kinds::tags::stack_of(&live.attributes),
            named: [(
                live.address.clone(),
                live.attributes
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            )]
            .into(),
            ..Scope::default()
        };
        observed_by_id(self, aws, &scope, &live.id).await
    }
}
