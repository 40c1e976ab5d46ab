//! Records of `dns.records` in the stack's hosted zone, and the validation
//! records of certificates eksform requests there. Route53 records take no
//! tags: each managed record has a companion TXT record
//! (`_eksform-<type>.<name>`) that names the owning stack and address, written
//! in the same atomic change batch. A record without that mark is never
//! changed or deleted; one in the way of the spec is a plan error.
//! Weighted and failover records are told apart by their set identifier,
//! in their address (`dns_record.<name>.<type>@<set identifier>`) and in
//! their companion's name (`_eksform-<type>-<set identifier>.<name>`).

use super::certificate::Certificate;
use super::hosted_zone::{HostedZone, plain_name};
use super::load_balancer::LoadBalancer;
use super::tags::mark;
use super::{Attribute, Compare, Kind, ObservationFloor};
use crate::lower::{CertificateSource, LoadBalancerModel, StackModel};
use crate::model::{Address, DesiredResource, LiveResource, Value};

pub struct DnsRecord;

const COMPANION_PREFIX: &str = "_eksform-";
pub const COMPANION_TTL: i64 = 300;

impl DnsRecord {
    pub fn address(name: &str, record_type: &str) -> Address {
        Address::new(&["dns_record", name, record_type])
    }

    /// A weighted or failover record's address: its set identifier after the type.
    pub fn routed_address(name: &str, record_type: &str, set_identifier: &str) -> Address {
        Address::new(&[
            "dns_record",
            name,
            &format!("{record_type}@{set_identifier}"),
        ])
    }

    pub fn validation_address(load_balancer: &str) -> Address {
        Address::new(&["dns_record", "validation", load_balancer])
    }

    /// Whether `address` is a certificate validation record's.
    pub fn is_validation_address(address: &Address) -> bool {
        address.as_str().starts_with("dns_record.validation.")
    }

    /// Whether the validation record of a load balancer's requested
    /// certificate goes into the stack's zone (the domain is inside it).
    pub fn validates_in_stack(stack: &StackModel, lb: &LoadBalancerModel) -> bool {
        let (Some(dns), Some(CertificateSource::Request(domain))) = (&stack.dns, &lb.certificate)
        else {
            return false;
        };
        let domain = domain.strip_prefix("*.").unwrap_or(domain);
        domain == dns.zone || domain.ends_with(&format!(".{}", dns.zone))
    }

    /// The domain a requested certificate is validated for: ACM gives
    /// `*.example.com` and `example.com` one validation record, and every
    /// certificate of a domain in the account the same one.
    pub fn validated_domain(lb: &LoadBalancerModel) -> Option<String> {
        match &lb.certificate {
            Some(CertificateSource::Request(domain)) => Some(
                domain
                    .strip_prefix("*.")
                    .unwrap_or(domain)
                    .trim_end_matches('.')
                    .to_ascii_lowercase(),
            ),
            _ => None,
        }
    }

    /// The load balancer whose address the validation record of `lb`'s
    /// certificate takes: the first in the spec validated for the same
    /// domain. One record serves them all; Route 53 holds one record of a
    /// name, so a second would fail at apply.
    pub fn validation_holder<'a>(
        stack: &'a StackModel,
        lb: &LoadBalancerModel,
    ) -> Option<&'a LoadBalancerModel> {
        let domain = Self::validated_domain(lb)?;
        stack.load_balancers.iter().find(|other| {
            Self::validates_in_stack(stack, other)
                && Self::validated_domain(other).as_deref() == Some(domain.as_str())
        })
    }
}

/// The companion TXT record's name: `*` cannot stand inside a name, so a
/// wildcard label is written `_wildcard`.
pub fn companion_name(name: &str, record_type: &str) -> String {
    routed_companion_name(name, record_type, None)
}

/// The companion of a record that may have a set identifier: the identifier
/// follows the type in the first label (a type has no '-').
pub fn routed_companion_name(
    name: &str,
    record_type: &str,
    set_identifier: Option<&str>,
) -> String {
    let name = match name.strip_prefix("*.") {
        Some(rest) => format!("_wildcard.{rest}"),
        None => name.to_string(),
    };
    let set = set_identifier
        .map(|id| format!("-{id}"))
        .unwrap_or_default();
    format!(
        "{COMPANION_PREFIX}{}{set}.{name}",
        record_type.to_ascii_lowercase()
    )
}

/// The record a companion name stands for: (name, type).
pub fn companion_target(name: &str) -> Option<(String, String)> {
    routed_companion_target(name).map(|(name, record_type, _)| (name, record_type))
}

/// The record a companion name stands for: (name, type, set identifier).
pub fn routed_companion_target(name: &str) -> Option<(String, String, Option<String>)> {
    let rest = name.strip_prefix(COMPANION_PREFIX)?;
    let (label, name) = rest.split_once('.')?;
    let (record_type, set_identifier) = match label.split_once('-') {
        Some((record_type, id)) => (record_type, Some(id.to_string())),
        None => (label, None),
    };
    let name = match name.strip_prefix("_wildcard.") {
        Some(rest) => format!("*.{rest}"),
        None => name.to_string(),
    };
    Some((name, record_type.to_ascii_uppercase(), set_identifier))
}

/// TXT values are quoted strings on the wire; the spec may give them bare.
pub fn wire_value(record_type: &str, value: &str) -> String {
    if record_type == "TXT" && !value.starts_with('"') {
        format!("\"{value}\"")
    } else {
        value.to_string()
    }
}

/// Names compared as `plain_name` writes them: lower case, no final dot.
fn same_dns_name(live: &Value, desired: &Value) -> bool {
    match (live, desired) {
        (Value::String(l), Value::String(d)) => plain_name(l) == plain_name(d),
        _ => live == desired,
    }
}

/// Record values as a set of plain names (TXT quotes dropped).
fn same_dns_values(live: &Value, desired: &Value) -> bool {
    let (Value::List(l), Value::List(d)) = (live, desired) else {
        return live == desired;
    };
    let plain = |items: &[Value]| -> Vec<String> {
        let mut items: Vec<String> = items
            .iter()
            .filter_map(Value::as_str)
            .map(|v| plain_name(v.trim_matches('"')))
            .collect();
        items.sort();
        items
    };
    plain(l) == plain(d)
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::in_place("alias_dns_name").compared(Compare::Custom(same_dns_name)),
    Attribute::in_place("alias_zone_id"),
    Attribute::replaces("failover"),
    Attribute::in_place("health_check_id"),
    Attribute::replaces("name").compared(Compare::Custom(same_dns_name)),
    Attribute::replaces("set_identifier"),
    Attribute::tags(),
    Attribute::in_place("ttl"),
    Attribute::replaces("type"),
    Attribute::in_place("values").compared(Compare::Custom(same_dns_values)),
    Attribute::in_place("weight"),
    Attribute::replaces("zone_id"),
];

impl Kind for DnsRecord {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    /// A validation record may take the name another one being deleted still
    /// holds (a certificate's domain moved to another load balancer, whose
    /// record then serves it): Route 53 refuses the create until that delete.
    fn in_the_way(&self, desired: &DesiredResource, live: &LiveResource) -> bool {
        Self::is_validation_address(&desired.address) && Self::is_validation_address(&live.address)
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 0,
            if_any: 0,
            each: 0,
            each_of: Some("hosted_zone"),
            how: "ListResourceRecordSets a zone",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "route53:ChangeResourceRecordSets",
            "route53:ListHostedZones",
            "route53:ListResourceRecordSets",
        ]
    }

    fn service(&self) -> &'static str {
        "route53"
    }

    /// Route 53 is account-wide: one stack name in two regions keeps two
    /// sets of records apart by the region in their marks.
    fn is_global(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "dns_record"
    }

    fn id_prefix(&self) -> &'static str {
        "record"
    }

    fn looked_up_by(&self) -> Option<&'static str> {
        Some("name")
    }

    fn adopts_unmarked(&self) -> bool {
        false
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(dns) = &stack.dns else {
            return vec![];
        };
        let zone = Value::reference(&HostedZone::address(), "id");
        let mut desired = Vec::new();
        for record in &dns.records {
            let address = match &record.routing {
                Some(routing) => {
                    Self::routed_address(&record.name, &record.record_type, &routing.set_identifier)
                }
                None => Self::address(&record.name, &record.record_type),
            };
            let mut resource = DesiredResource::new(self.name(), address.clone())
                .with("zone_id", zone.clone())
                .with("name", Value::string(record.name.clone()))
                .with("type", Value::string(record.record_type.clone()))
                .with("tags", Value::string_map(&mark(&stack.stack, &address)));
            // Routing attributes only on routed records: a simple record's
            // plan is as it always was.
            if let Some(routing) = &record.routing {
                resource = resource
                    .with(
                        "set_identifier",
                        Value::string(routing.set_identifier.clone()),
                    )
                    .with(
                        "weight",
                        routing.weight.map_or(Value::Null, |w| Value::Int(w.into())),
                    )
                    .with(
                        "failover",
                        routing.failover.clone().map_or(Value::Null, Value::String),
                    )
                    .with(
                        "health_check_id",
                        routing
                            .health_check_id
                            .clone()
                            .map_or(Value::Null, Value::String),
                    );
            }
            resource = match &record.alias {
                Some(lb) => {
                    let target = LoadBalancer::address(lb);
                    resource
                        .with("alias_dns_name", Value::reference(&target, "dns_name"))
                        .with(
                            "alias_zone_id",
                            Value::reference(&target, "canonical_hosted_zone_id"),
                        )
                }
                None => resource
                    .with("ttl", Value::Int(record.ttl.into()))
                    .with("values", Value::string_set(&record.values)),
            };
            desired.push(resource);
        }
        for lb in &stack.load_balancers {
            // One record a domain, at its first load balancer's address.
            let holds = Self::validation_holder(stack, lb).is_some_and(|h| h.name == lb.name);
            if !Self::validates_in_stack(stack, lb) || !holds {
                continue;
            }
            let address = Self::validation_address(&lb.name);
            let certificate = Certificate::address(&lb.name);
            desired.push(
                DesiredResource::new(self.name(), address.clone())
                    .with("zone_id", zone.clone())
                    .with(
                        "name",
                        Value::reference(&certificate, "validation_record_name"),
                    )
                    .with("type", Value::string("CNAME"))
                    .with("ttl", Value::Int(300))
                    .with(
                        "values",
                        Value::List(vec![Value::reference(
                            &certificate,
                            "validation_record_value",
                        )]),
                    )
                    .with("tags", Value::string_map(&mark(&stack.stack, &address))),
            );
        }
        desired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companion_names_read_back() {
        for (name, record_type) in [("*.dev.example.com", "A"), ("status.example.com", "CNAME")] {
            let companion = companion_name(name, record_type);
            assert!(!companion[1..].contains('*'), "{companion}");
            assert_eq!(
                companion_target(&companion),
                Some((name.to_string(), record_type.to_string()))
            );
        }
    }

    #[test]
    fn routed_companion_names_carry_the_set_identifier() {
        let companion = routed_companion_name("www.example.com", "A", Some("blue-1"));
        assert_eq!(companion, "_eksform-a-blue-1.www.example.com");
        assert_eq!(
            routed_companion_target(&companion),
            Some(("www.example.com".into(), "A".into(), Some("blue-1".into())))
        );
        assert_eq!(
            routed_companion_target("_eksform-cname.www.example.com"),
            Some(("www.example.com".into(), "CNAME".into(), None))
        );
    }
}
