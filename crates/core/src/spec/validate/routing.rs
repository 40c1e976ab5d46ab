//! The rules of traffic routing: a load balancer's weighted target groups
//! (blue/green behind one ALB) and Route53's weighted and failover records.

use std::collections::BTreeMap;

use super::Validator;
use crate::spec::model::{DnsRecord, Failover, LoadBalancer};

/// ELBv2's largest target group weight.
pub const MAX_TARGET_GROUP_WEIGHT: u16 = 999;
/// Route53's largest record weight.
pub const MAX_RECORD_WEIGHT: u16 = 255;
/// Longest `setIdentifier`: it goes into the companion record's first label.
pub const MAX_SET_IDENTIFIER: usize = 40;

/// Weights split the listeners' requests between target groups: either no
/// group has one, or every group has one, at least two groups and at least
/// one weight above zero; `defaultTargetGroup` then means nothing.
pub(super) fn validate_target_group_weights(v: &mut Validator, lb: &LoadBalancer) {
    let field = format!("loadBalancers.{}", lb.name.value);
    for group in &lb.target_groups {
        if let Some(weight) = &group.weight
            && weight.value > MAX_TARGET_GROUP_WEIGHT
        {
            v.error(
                weight.span,
                format!(
                    "{field}.targetGroups.{}: weight {} is out of range",
                    group.name.value, weight.value
                ),
                "0 to 999: each group gets weight / (sum of weights) of the requests",
            );
        }
    }
    let weighted: Vec<_> = lb
        .target_groups
        .iter()
        .filter_map(|g| g.weight.as_ref())
        .collect();
    let Some(first) = weighted.first() else {
        return;
    };
    for group in lb.target_groups.iter().filter(|g| g.weight.is_none()) {
        v.error(
            group.name.span,
            format!(
                "{field}.targetGroups.{}: has no weight while other groups of this load balancer have one",
                group.name.value
            ),
            "with weights the listeners forward to every group by its weight: give this one `weight: 0` to send it nothing",
        );
    }
    if lb.target_groups.len() < 2 {
        v.error(
            first.span,
            format!("{field}: a weight needs at least two target groups to split traffic between"),
            "with one group leave `weight` out: the listeners forward to it",
        );
    }
    if weighted.iter().all(|w| w.value == 0) {
        v.error(
            first.span,
            format!("{field}: every target group weight is 0, so no request would be served"),
            "give at least one group a weight above 0",
        );
    }
    if let Some(default) = &lb.default_target_group {
        v.error(
            default.span,
            format!("{field}: defaultTargetGroup and target group weights exclude each other"),
            "with weights the listeners forward to every group by its weight: drop defaultTargetGroup",
        );
    }
}

/// The key that tells records apart: name, type and set identifier.
pub(super) fn record_key(record: &DnsRecord, record_type: &str) -> String {
    match &record.set_identifier {
        Some(id) => format!("{} {record_type} ({})", record.name.value, id.value),
        None => format!("{} {record_type}", record.name.value),
    }
}

/// A routed record has a set identifier and exactly one routing policy
/// (`weight` or `failover`); records of one name and type are all routed by
/// the same policy or none is; a failover pair has one of each role.
pub(super) fn validate_record_routing(v: &mut Validator, records: &[(&DnsRecord, String)]) {
    for (record, _) in records {
        let name = &record.name.value;
        if let Some(id) = &record.set_identifier {
            let valid = !id.value.is_empty()
                && id.value.len() <= MAX_SET_IDENTIFIER
                && id
                    .value
                    .starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && id
                    .value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid {
                v.error(
                    id.span,
                    format!("dns.records.{name}: setIdentifier `{}` is not valid", id.value),
                    "1 to 40 lower-case letters, digits or '-', starting with a letter or digit (it names the record's ownership mark in DNS)",
                );
            }
            match (&record.weight, &record.failover) {
                (None, None) => v.error(
                    id.span,
                    format!("dns.records.{name}: setIdentifier without `weight` or `failover`"),
                    "a set identifier tells apart records routed by weight or by failover: give one of them",
                ),
                (Some(weight), Some(_)) => v.error(
                    weight.span,
                    format!("dns.records.{name}: give `weight` or `failover`, not both"),
                    "",
                ),
                _ => {}
            }
        } else {
            let routing = [
                record.weight.as_ref().map(|w| ("weight", w.span)),
                record.failover.as_ref().map(|f| ("failover", f.span)),
                record
                    .health_check_id
                    .as_ref()
                    .map(|h| ("healthCheckId", h.span)),
            ];
            for (field, span) in routing.into_iter().flatten() {
                v.error(
                    span,
                    format!("dns.records.{name}: `{field}` needs a `setIdentifier`"),
                    "records of one name and type routed by weight or failover are told apart by their setIdentifier",
                );
            }
        }
        if let Some(weight) = &record.weight
            && weight.value > MAX_RECORD_WEIGHT
        {
            v.error(
                weight.span,
                format!(
                    "dns.records.{name}: weight {} is out of range",
                    weight.value
                ),
                "0 to 255: each record gets weight / (sum of weights) of the answers",
            );
        }
    }
    // Route53 answers a name and type by one policy: simple, weighted or failover.
    let mut by_name: BTreeMap<(String, &str), Vec<&DnsRecord>> = BTreeMap::new();
    for (record, record_type) in records {
        by_name
            .entry((
                record.name.trim_end_matches('.').to_ascii_lowercase(),
                record_type.as_str(),
            ))
            .or_default()
            .push(record);
    }
    for ((name, record_type), group) in by_name {
        let policy = |r: &DnsRecord| match (&r.weight, &r.failover) {
            (Some(_), _) => "weighted",
            (None, Some(_)) => "failover",
            (None, None) => "simple",
        };
        let first = policy(group[0]);
        if let Some(other) = group.iter().find(|r| policy(r) != first) {
            v.error(
                other.name.span,
                format!(
                    "dns.records: `{name}` {record_type} is routed as {} here and as {first} by another record",
                    policy(other)
                ),
                "records of one name and type share one routing policy: all weighted, all failover, or one simple record",
            );
        }
        for role in [Failover::PRIMARY, Failover::SECONDARY] {
            let holders: Vec<_> = group
                .iter()
                .filter_map(|r| r.failover.as_ref())
                .filter(|f| f.value == role)
                .collect();
            if let Some(second) = holders.get(1) {
                v.error(
                    second.span,
                    format!(
                        "dns.records: `{name}` {record_type} has more than one {role:?} record"
                    ),
                    "a failover pair is one PRIMARY and one SECONDARY",
                );
            }
        }
    }
}
