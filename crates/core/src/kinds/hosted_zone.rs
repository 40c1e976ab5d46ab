//! The public hosted zone of `dns.zone`: created when no zone of that name
//! exists, adopted (used, never changed or deleted) when one does. Route53
//! zones take tags only after creation, so eksform's mark goes into the zone's
//! comment in the create call itself; the kind presents it as tags.

use super::tags::mark;
use super::{Change, Kind};
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
}

impl Kind for HostedZone {
    fn service(&self) -> &'static str {
        "route53"
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

    fn computed(&self) -> &'static [&'static str] {
        &["name_servers"]
    }

    fn looked_up_by(&self) -> Option<&'static str> {
        Some("name")
    }

    fn change_of(&self, attribute: &str) -> Change {
        match attribute {
            "name" => Change::Replace,
            _ => Change::InPlace,
        }
    }

    fn satisfied(&self, attribute: &str, live: &Value, desired: &Value) -> bool {
        // The mark is the comment written at creation; an adopted zone keeps its
        // own comment and tags.
        attribute == "tags" || live == desired
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
