//! The public hosted zone of `dns.zone`: created when no zone of that name
//! exists, adopted (used, never changed or deleted) when one does. Route53
//! zones take tags only after creation, so eksform's mark goes into the zone's
//! comment in the create call itself; the kind presents it as tags.

use super::tags::mark;
use super::{Attribute, Compare, Kind, ObservationFloor};
use crate::lower::StackModel;
use crate::model::{Address, DesiredResource, Value};

pub struct HostedZone;

impl HostedZone {
    pub fn address() -> Address {
        Address::new(&["hosted_zone", "main"])
    }
}

/// A zone id without the `/hostedzone/` prefix Route53 sometimes adds.
pub fn bare_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// A DNS name as eksform compares it: lower case, no trailing dot, `*` as written.
pub fn plain_name(name: &str) -> String {
    name.trim_end_matches('.')
        .replace("\\052", "*")
        .to_ascii_lowercase()
}

/// A zone found in the account: id, name and its mark, if eksform made it.
pub struct FoundZone {
    pub id: String,
    pub name: String,
    pub mark: Option<(String, Address)>,
    /// The region the mark names (`None`: made before marks named regions).
    pub region: Option<String>,
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::replaces("name"),
    Attribute::computed("name_servers"),
    // The mark is the comment written at creation; an adopted zone keeps its
    // own comment and tags.
    Attribute::tags().compared(Compare::Ignored),
];

impl Kind for HostedZone {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 1,
            if_any: 0,
            each: 1,
            each_of: None,
            how: "ListHostedZones + GetHostedZone a zone",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "route53:CreateHostedZone",
            "route53:DeleteHostedZone",
            "route53:GetHostedZone",
            "route53:ListHostedZones",
            "route53:UpdateHostedZoneComment",
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

    fn guarded(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "hosted_zone"
    }

    fn id_prefix(&self) -> &'static str {
        "Z"
    }

    fn looked_up_by(&self) -> Option<&'static str> {
        Some("name")
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(dns) = &stack.dns else {
            return vec![];
        };
        let address = Self::address();
        vec![
            DesiredResource::new(self.name(), address.clone())
                .with("name", Value::string(dns.zone.clone()))
                .with("tags", Value::string_map(&mark(&stack.stack, &address))),
        ]
    }
}
