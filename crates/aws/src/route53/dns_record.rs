//! AWS calls for Records of `dns.records` in the stack's hosted zone, and the validation
//! records of certificates eksform requests there. Route53 records take no
//! tags: each managed record has a companion TXT record
//! (`_eksform-<type>.<name>`) that names the owning stack and address, written
//! in the same atomic change batch. A record without that mark is never
//! changed or deleted; one in the way of the spec is a plan error.
//! Weighted and failover records are keyed by name, type and set identifier.

use async_trait::async_trait;

use crate::route53::hosted_zone::stack_zones;
use crate::route53::{mark_tags, mark_text_of};
use crate::{Adapter, AwsClients, error};
use aws_sdk_route53::types::{
    AliasTarget, Change as RecordChange, ChangeAction, ChangeBatch, ResourceRecord,
    ResourceRecordSet, ResourceRecordSetFailover, RrType,
};
use eksform_core::cloud::{CloudError, CreateRequest, ErrorClass, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::dns_record::{
    COMPANION_TTL, DnsRecord, companion_name, routed_companion_name, routed_companion_target,
    wire_value,
};
use eksform_core::kinds::hosted_zone::{bare_id, plain_name};
use eksform_core::kinds::tags::{mark, parse_mark, required, stack_of, tags_of};
use eksform_core::model::{
    ADDRESS_TAG, Address, Attributes, DesiredResource, LiveResource, REGION_TAG, STACK_TAG, Status,
    Value, string_list,
};
use std::collections::BTreeMap;

async fn change(
    aws: &AwsClients,
    zone_id: &str,
    changes: Vec<(ChangeAction, ResourceRecordSet)>,
) -> Result<(), CloudError> {
    let changes = changes
        .into_iter()
        .map(|(action, set)| {
            RecordChange::builder()
                .action(action)
                .resource_record_set(set)
                .build()
                .map_err(|e| CloudError::rejected(format!("record change: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let batch = ChangeBatch::builder()
        .set_changes(Some(changes))
        .build()
        .map_err(|e| CloudError::rejected(format!("change batch: {e}")))?;
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch)
        .customize()
        .config_override(crate::sent_once!(aws_sdk_route53))
        .send()
        .await
        .map_err(|e| error("ChangeResourceRecordSets", e))?;
    Ok(())
}

/// Every record set of a zone (the API pages by name and type).
async fn zone_records(
    aws: &AwsClients,
    zone_id: &str,
) -> Result<Vec<ResourceRecordSet>, CloudError> {
    let mut records = Vec::new();
    let mut start: Option<(String, RrType, Option<String>)> = None;
    loop {
        let mut request = aws
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id);
        if let Some((name, record_type, identifier)) = start.take() {
            request = request
                .start_record_name(name)
                .start_record_type(record_type)
                .set_start_record_identifier(identifier);
        }
        let page = request
            .send()
            .await
            .map_err(|e| error("ListResourceRecordSets", e))?;
        records.extend(page.resource_record_sets().iter().cloned());
        match (
            page.is_truncated(),
            page.next_record_name(),
            page.next_record_type(),
        ) {
            (true, Some(name), Some(record_type)) => {
                start = Some((
                    name.to_string(),
                    record_type.clone(),
                    page.next_record_identifier().map(str::to_string),
                ))
            }
            _ => return Ok(records),
        }
    }
}

/// A record set's identity in a zone: name, type and set identifier.
type RecordKey = (String, String, Option<String>);

/// A record's id: `<zone>/<name>/<type>`, then `/<set identifier>` when routed.
fn record_id_of(zone_id: &str, key: &RecordKey) -> String {
    match &key.2 {
        Some(set) => format!("{zone_id}/{}/{}/{set}", key.0, key.1),
        None => format!("{zone_id}/{}/{}", key.0, key.1),
    }
}

/// The stack's records in one zone (found by their companions), and the
/// unmarked records at the (name, type, set identifier) of `wanted` addresses.
/// With the plan's `region`, a wanted one another stack (or the stack in
/// another region) holds is an error: Route 53 would refuse the create
/// midway through an apply.
async fn records_in_zone(
    aws: &AwsClients,
    zone_id: &str,
    stack: &str,
    region: Option<&str>,
    wanted: &BTreeMap<RecordKey, Address>,
) -> Result<Vec<LiveResource>, CloudError> {
    let records = zone_records(aws, zone_id).await?;
    let by_key: BTreeMap<RecordKey, &ResourceRecordSet> = records
        .iter()
        .map(|r| {
            (
                (
                    plain_name(r.name()),
                    r.r#type().as_str().to_string(),
                    r.set_identifier().map(str::to_string),
                ),
                r,
            )
        })
        .collect();
    let live = |key: &RecordKey, address: &Address, tags: BTreeMap<String, String>| {
        let set = by_key.get(key)?;
        let mut values = attributes_of(zone_id, set);
        values.insert("tags".into(), Value::string_map(&tags));
        Some(LiveResource {
            address: address.clone(),
            kind: "dns_record".into(),
            id: record_id_of(zone_id, key),
            attributes: values,
            status: Status::Ready,
        })
    };
    let mut found = Vec::new();
    let mut claimed = Vec::new();
    for companion in records.iter().filter(|r| r.r#type() == &RrType::Txt) {
        let Some(target) = routed_companion_target(&plain_name(companion.name())) else {
            continue;
        };
        let Some((owner, address)) = companion
            .resource_records()
            .first()
            .and_then(|v| parse_mark(v.value()))
        else {
            continue;
        };
        claimed.push(target.clone());
        let tags = companion
            .resource_records()
            .first()
            .map(|v| mark_tags(v.value()))
            .unwrap_or_else(|| mark(&owner, &address));
        let other_region = tags
            .get(REGION_TAG)
            .filter(|r| region.is_some_and(|region| region != r.as_str()));
        if let Some(wanted_at) = wanted.get(&target)
            && region.is_some()
            && (owner != stack || other_region.is_some())
        {
            return Err(CloudError::rejected(format!(
                "{wanted_at}: the record `{} {}` in zone {zone_id} is eksform's {address} of stack {owner}{}: Route 53 keeps one record of a name and type, and eksform never changes another stack's: give the spec another name, or remove the record from that stack first",
                target.0,
                target.1,
                other_region.map(|r| format!(" in {r}")).unwrap_or_default(),
            )));
        }
        if owner == stack {
            found.extend(live(&target, &address, tags));
        }
    }
    for (key, address) in wanted {
        if !claimed.contains(key) {
            found.extend(live(key, address, BTreeMap::new()));
        }
    }
    Ok(found)
}

#[async_trait]
impl Adapter for DnsRecord {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        // Records the spec names, by (name, type): unmarked ones in the way are
        // reported at their address.
        let wanted: BTreeMap<RecordKey, Address> = scope
            .named
            .iter()
            .filter(|(address, _)| address.as_str().starts_with("dns_record."))
            .filter_map(|(address, name)| {
                let last = address.as_str().rsplit('.').next()?;
                let (record_type, set) = match last.split_once('@') {
                    Some((record_type, set)) => (record_type, Some(set.to_string())),
                    None => (last, None),
                };
                Some((
                    (plain_name(name), record_type.to_string(), set),
                    address.clone(),
                ))
            })
            .collect();
        // A destroy deletes only what is the stack's: no record is in its way.
        let planning = (!scope.destroying).then_some(scope.region.as_str());
        let zones = stack_zones(aws, scope).await?;
        let read = zones
            .iter()
            .map(|zone| records_in_zone(aws, &zone.id, &scope.stack, planning, &wanted));
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
        let zone_id = required(attributes, "zone_id")?;
        change(
            aws,
            zone_id,
            vec![
                (ChangeAction::Create, record_set(attributes)?),
                (
                    ChangeAction::Create,
                    companion_set(&request.stack, &request.address, attributes)?,
                ),
            ],
        )
        .await?;
        let id = record_id_of(
            zone_id,
            &(
                plain_name(required(attributes, "name")?),
                required(attributes, "type")?.to_string(),
                set_identifier(attributes).map(str::to_string),
            ),
        );
        Ok(request.created(self.name(), id, Status::Ready))
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let mut wanted = live.attributes.clone();
        wanted.extend(desired.clone());
        // An alias and plain values exclude each other: keep only what is wanted.
        if desired.contains_key("alias_dns_name") {
            wanted.remove("ttl");
            wanted.remove("values");
        } else if desired.contains_key("values") {
            wanted.remove("alias_dns_name");
            wanted.remove("alias_zone_id");
        }
        let stack = stack_of(desired);
        let address = eksform_core::kinds::tags::tags_of(desired)
            .get(ADDRESS_TAG)
            .map(|a| Address(a.clone()))
            .unwrap_or_else(|| live.address.clone());
        change(
            aws,
            required(&wanted, "zone_id")?,
            vec![
                (ChangeAction::Upsert, record_set(&wanted)?),
                (
                    ChangeAction::Upsert,
                    companion_set(&stack, &address, &wanted)?,
                ),
            ],
        )
        .await
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        let tags = eksform_core::kinds::tags::tags_of(&live.attributes);
        let (Some(stack), Some(address)) = (tags.get(STACK_TAG), tags.get(ADDRESS_TAG)) else {
            return Err(CloudError::rejected(
                "refusing to delete a record without eksform's mark",
            ));
        };
        let result = change(
            aws,
            required(&live.attributes, "zone_id")?,
            vec![
                (ChangeAction::Delete, record_set(&live.attributes)?),
                (
                    ChangeAction::Delete,
                    companion_set(stack, &Address(address.clone()), &live.attributes)?,
                ),
            ],
        )
        .await;
        match result {
            // Already gone (a retried delete): done.
            Err(e) if e.class == ErrorClass::Rejected && e.message.contains("not found") => Ok(()),
            other => other,
        }
    }

    /// By `<name> <type>` (`www.example.com A`) in the spec's zone, or by
    /// Terraform's import id `<zone id>_<name>_<type>`. Its companion TXT
    /// record, if any, says whose it is; the take-over writes one.
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let (zone_id, name, record_type) = record_id(desired, id)?;
        let Some(set) = record_at(aws, &zone_id, &name, &record_type).await? else {
            return Ok(None);
        };
        let companion =
            record_at(aws, &zone_id, &companion_name(&name, &record_type), "TXT").await?;
        let tags = companion
            .as_ref()
            .and_then(|c| c.resource_records().first())
            .map(|v| mark_tags(v.value()))
            .unwrap_or_default();
        let mut values = attributes_of(&zone_id, &set);
        values.insert("tags".into(), Value::string_map(&tags));
        Ok(Some(LiveResource {
            address: desired.address.clone(),
            kind: self.name().into(),
            id: format!("{zone_id}/{}/{record_type}", plain_name(&name)),
            attributes: values,
            status: Status::Ready,
        }))
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let zone_id = required(&live.attributes, "zone_id")?;
        let found = records_in_zone(
            aws,
            zone_id,
            &stack_of(&live.attributes),
            None,
            &BTreeMap::new(),
        )
        .await?;
        Ok(found.into_iter().find(|r| r.id == live.id))
    }
}

/// The zone, name and type an adopt entry gives for a record: `<name>
/// <type>` in the spec's zone (the desired `zone_id`, known once the zone is
/// observed), or Terraform's import id `<zone id>_<name>_<type>`.
fn record_id(desired: &DesiredResource, id: &str) -> Result<(String, String, String), CloudError> {
    let words: Vec<&str> = id.split_whitespace().collect();
    if let [name, record_type] = words.as_slice() {
        let zone_id = desired
            .attributes
            .get("zone_id")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                CloudError::rejected(format!(
                    "adopt: the hosted zone of {} is not known yet: adopt the zone too, or give the record as `<zone id>_<name>_<type>`",
                    desired.address
                ))
            })?;
        return Ok((
            zone_id.to_string(),
            plain_name(name),
            record_type.to_ascii_uppercase(),
        ));
    }
    if let Some((zone_id, rest)) = id.split_once('_')
        && let Some((name, record_type)) = rest.rsplit_once('_')
        && !zone_id.is_empty()
        && !name.is_empty()
    {
        return Ok((
            bare_id(zone_id).to_string(),
            plain_name(name),
            record_type.to_ascii_uppercase(),
        ));
    }
    Err(CloudError::rejected(format!(
        "adopt: `{id}` for {} names no record: give `<name> <type>` (`www.example.com A`) or `<zone id>_<name>_<type>`",
        desired.address
    )))
}

/// The record set of that name and type, if the zone has it: one page of
/// one, from that name and type on.
async fn record_at(
    aws: &AwsClients,
    zone_id: &str,
    name: &str,
    record_type: &str,
) -> Result<Option<ResourceRecordSet>, CloudError> {
    let page = match aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .start_record_name(name)
        .start_record_type(RrType::from(record_type))
        .max_items(1)
        .send()
        .await
    {
        Ok(page) => page,
        Err(e) => return crate::none_if_not_found(error("ListResourceRecordSets", e)),
    };
    Ok(page
        .resource_record_sets()
        .iter()
        .find(|r| plain_name(r.name()) == plain_name(name) && r.r#type().as_str() == record_type)
        .cloned())
}

/// A routed record's set identifier.
fn set_identifier(attributes: &Attributes) -> Option<&str> {
    attributes.get("set_identifier").and_then(Value::as_str)
}

pub fn record_set(attributes: &Attributes) -> Result<ResourceRecordSet, CloudError> {
    let record_type = required(attributes, "type")?;
    let mut builder = ResourceRecordSet::builder()
        .name(required(attributes, "name")?)
        .r#type(RrType::from(record_type));
    if let Some(set) = set_identifier(attributes) {
        builder = builder
            .set_identifier(set)
            .set_weight(match attributes.get("weight") {
                Some(Value::Int(weight)) => Some(*weight),
                _ => None,
            })
            .set_failover(
                attributes
                    .get("failover")
                    .and_then(Value::as_str)
                    .map(ResourceRecordSetFailover::from),
            )
            .set_health_check_id(
                attributes
                    .get("health_check_id")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            );
    }
    if let Some(dns_name) = attributes.get("alias_dns_name").and_then(Value::as_str) {
        builder = builder.alias_target(
            AliasTarget::builder()
                .dns_name(dns_name)
                .hosted_zone_id(required(attributes, "alias_zone_id")?)
                .evaluate_target_health(false)
                .build()
                .map_err(|e| CloudError::rejected(format!("alias target: {e}")))?,
        );
    } else {
        let ttl = match attributes.get("ttl") {
            Some(Value::Int(ttl)) => *ttl,
            _ => 300,
        };
        builder = builder.ttl(ttl);
        for value in string_list(attributes, "values") {
            builder = builder.resource_records(
                ResourceRecord::builder()
                    .value(wire_value(record_type, &value))
                    .build()
                    .map_err(|e| CloudError::rejected(format!("record value: {e}")))?,
            );
        }
    }
    builder
        .build()
        .map_err(|e| CloudError::rejected(format!("record set: {e}")))
}

pub fn companion_set(
    stack: &str,
    address: &Address,
    attributes: &Attributes,
) -> Result<ResourceRecordSet, CloudError> {
    ResourceRecordSet::builder()
        .name(routed_companion_name(
            required(attributes, "name")?,
            required(attributes, "type")?,
            set_identifier(attributes),
        ))
        .r#type(RrType::Txt)
        .ttl(COMPANION_TTL)
        .resource_records(
            ResourceRecord::builder()
                .value(format!(
                    "\"{}\"",
                    mark_text_of(stack, address, &tags_of(attributes))
                ))
                .build()
                .map_err(|e| CloudError::rejected(format!("record value: {e}")))?,
        )
        .build()
        .map_err(|e| CloudError::rejected(format!("record set: {e}")))
}

pub fn attributes_of(zone_id: &str, set: &ResourceRecordSet) -> Attributes {
    let record_type = set.r#type().as_str().to_string();
    let mut values = Attributes::new();
    values.insert("zone_id".into(), Value::string(zone_id));
    values.insert("name".into(), Value::string(plain_name(set.name())));
    values.insert("type".into(), Value::string(record_type.clone()));
    if let Some(id) = set.set_identifier() {
        let text = |s: Option<&str>| s.map_or(Value::Null, Value::string);
        values.insert("set_identifier".into(), Value::string(id));
        values.insert(
            "weight".into(),
            set.weight().map_or(Value::Null, Value::Int),
        );
        values.insert(
            "failover".into(),
            text(set.failover().map(ResourceRecordSetFailover::as_str)),
        );
        values.insert("health_check_id".into(), text(set.health_check_id()));
    }
    match set.alias_target() {
        Some(alias) => {
            values.insert(
                "alias_dns_name".into(),
                Value::string(plain_name(alias.dns_name())),
            );
            values.insert(
                "alias_zone_id".into(),
                Value::string(alias.hosted_zone_id()),
            );
        }
        None => {
            values.insert("ttl".into(), set.ttl().map_or(Value::Null, Value::Int));
            let records: Vec<String> = set
                .resource_records()
                .iter()
                .map(|r| match record_type.as_str() {
                    "CNAME" => plain_name(r.value()),
                    _ => r.value().to_string(),
                })
                .collect();
            values.insert("values".into(), Value::string_set(&records));
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> DesiredResource {
        DesiredResource::new("dns_record", Address("dns_record.www.example.com.A".into()))
            .with("zone_id", Value::string("Z0123"))
    }

    #[test]
    fn an_adopt_entry_names_a_record_by_name_and_type_or_by_terraforms_id() {
        assert_eq!(
            record_id(&record(), "WWW.example.com. a").unwrap(),
            ("Z0123".into(), "www.example.com".into(), "A".into())
        );
        // Terraform's import id, whose names may hold underscores.
        assert_eq!(
            record_id(&record(), "Z0999_acme_challenge.example.com_TXT").unwrap(),
            (
                "Z0999".into(),
                "acme_challenge.example.com".into(),
                "TXT".into()
            )
        );
        let unknown_zone = DesiredResource::new("dns_record", record().address);
        assert!(
            record_id(&unknown_zone, "www.example.com A")
                .unwrap_err()
                .message
                .contains("zone")
        );
        assert!(
            record_id(&record(), "www.example.com")
                .unwrap_err()
                .message
                .contains("<name> <type>")
        );
    }
}
