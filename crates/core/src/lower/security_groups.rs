//! `securityGroups` with their defaults applied: each rule's protocol and
//! ports in eksform's rule text, and its peer (a CIDR or a group).

use super::normalize_cidr;
use crate::spec::{self, RuleProtocol, Spec};

/// A group of `securityGroups`.
#[derive(Debug, Clone)]
pub struct SecurityGroupModel {
    pub name: String,
    pub description: String,
    pub ingress: Vec<RuleModel>,
    pub egress: Vec<RuleModel>,
}

/// One rule: what it admits (`tcp:5432`, `udp:1024-2048`, `icmp:-1`, `all`)
/// and from or to where.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleModel {
    pub traffic: String,
    pub peer: Peer,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Peer {
    /// Normalised.
    Cidr(String),
    Group(GroupName),
}

/// A group a rule names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum GroupName {
    /// The cluster security group (`cluster`, and `nodes`: managed node
    /// groups and Fargate pods use the cluster security group).
    Cluster,
    /// The group of a load balancer of `loadBalancers`.
    LoadBalancer(String),
    /// A group of `securityGroups`.
    Declared(String),
}

impl GroupName {
    /// The group a rule's `from`/`to` names, when it is not a CIDR. Validation
    /// has checked that it exists.
    pub fn parse(text: &str) -> Option<GroupName> {
        match text {
            "cluster" | "nodes" => Some(GroupName::Cluster),
            _ => match text.strip_prefix("loadBalancer.") {
                Some(name) => Some(GroupName::LoadBalancer(name.to_string())),
                None if looks_like_cidr(text) => None,
                None => Some(GroupName::Declared(text.to_string())),
            },
        }
    }
}

/// Whether a rule's peer is written as an address (`10.0.0.0/8`, `10.1.2.3`)
/// rather than a group's name: group names cannot hold '/' or '.'.
pub fn looks_like_cidr(text: &str) -> bool {
    text.contains('/') || text.contains('.') || text.contains(':')
}

/// The rule text of a rule's protocol and ports (validated).
pub fn traffic(rule: &spec::SecurityGroupRule) -> String {
    let protocol = rule
        .protocol
        .as_ref()
        .map_or(RuleProtocol::Tcp, |p| p.value);
    let ports = match (&rule.port, &rule.ports) {
        (Some(port), _) => port.value.to_string(),
        (None, Some(range)) => {
            let (from, to) = range.split_once('-').unwrap_or((range, range));
            let (from, to) = (from.trim(), to.trim());
            if from == to {
                from.to_string()
            } else {
                format!("{from}-{to}")
            }
        }
        (None, None) => String::new(),
    };
    match protocol {
        RuleProtocol::All => "all".into(),
        RuleProtocol::Icmp => "icmp:-1".into(),
        RuleProtocol::Tcp => format!("tcp:{ports}"),
        RuleProtocol::Udp => format!("udp:{ports}"),
    }
}

fn rule(rule: &spec::SecurityGroupRule, peer: &str) -> RuleModel {
    RuleModel {
        traffic: traffic(rule),
        peer: match GroupName::parse(peer) {
            Some(group) => Peer::Group(group),
            None => Peer::Cidr(normalize_cidr(peer)),
        },
    }
}

pub fn security_groups(spec: &Spec) -> Vec<SecurityGroupModel> {
    let Some(groups) = &spec.security_groups else {
        return vec![];
    };
    groups
        .iter()
        .map(|group| {
            let mut ingress: Vec<RuleModel> = group
                .ingress
                .iter()
                .filter_map(|r| Some(rule(r, r.from.as_ref()?)))
                .collect();
            let mut egress: Vec<RuleModel> = match &group.egress {
                None => vec![RuleModel {
                    traffic: "all".into(),
                    peer: Peer::Cidr("0.0.0.0/0".into()),
                }],
                Some(rules) => rules
                    .iter()
                    .filter_map(|r| Some(rule(r, r.to.as_ref()?)))
                    .collect(),
            };
            for rules in [&mut ingress, &mut egress] {
                rules.sort();
                rules.dedup();
            }
            SecurityGroupModel {
                name: group.name.value.clone(),
                description: group.description.as_ref().map_or_else(
                    || {
                        format!(
                            "Security group {} of stack {}",
                            group.name.value, spec.stack.value
                        )
                    },
                    |d| d.value.clone(),
                ),
                ingress,
                egress,
            }
        })
        .collect()
}
