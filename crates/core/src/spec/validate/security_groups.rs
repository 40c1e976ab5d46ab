//! The rules of `securityGroups`: names, descriptions, each rule's peer
//! (a CIDR or a group that exists) and its protocol and ports.

use std::collections::{BTreeMap, BTreeSet};

use super::Validator;
use crate::lower::looks_like_cidr;
use crate::spec::{Located, RuleProtocol, SecurityGroupRule, Spec};
use crate::suggest::did_you_mean;

/// Names a rule's peer can use besides declared groups and load balancers.
const NAMED_GROUPS: &[&str] = &["cluster", "nodes"];

fn valid_group_name(name: &str) -> bool {
    let mut chars = name.chars();
    (1..=63).contains(&name.len())
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Characters AWS accepts in a VPC security group's description.
fn valid_description(text: &str) -> bool {
    text.len() <= 255
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c))
}

pub(super) fn validate_security_groups(v: &mut Validator, spec: &Spec) {
    let Some(groups) = &spec.security_groups else {
        return;
    };
    if spec.vpc.is_none() {
        v.error(groups.span, "securityGroups: needs a `vpc` section", "");
    }
    v.unique(
        "security group",
        groups.iter().map(|g| (g.name.as_str(), g.name.span)),
    );
    let declared: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    let balancers: Vec<String> = spec
        .load_balancers
        .iter()
        .flat_map(|l| l.iter())
        .map(|l| format!("loadBalancer.{}", l.name.value))
        .collect();
    // Which declared groups each group's rules name: a cycle cannot be
    // created, since a group is made with its rules.
    let mut names_groups: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for group in groups.iter() {
        let name = group.name.as_str();
        if !valid_group_name(name) || NAMED_GROUPS.contains(&name) {
            v.error(
                group.name.span,
                format!("securityGroups: `{name}` is not a valid security group name"),
                "1 to 63 lower-case letters, digits or '-', not `cluster` or `nodes` (rules use those for the cluster's group)",
            );
        }
        if let Some(description) = &group.description
            && !valid_description(description)
        {
            v.error(
                description.span,
                format!("securityGroups.{name}.description: AWS does not accept this description"),
                "at most 255 characters: letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*",
            );
        }
        let egress = group
            .egress
            .as_ref()
            .map(|e| e.value.as_slice())
            .unwrap_or_default();
        for (direction, rules, peer_field) in [
            ("ingress", group.ingress.as_slice(), "from"),
            ("egress", egress, "to"),
        ] {
            for rule in rules {
                let field = format!("securityGroups.{name}.{direction}");
                let (peer, other) = match direction {
                    "ingress" => (&rule.from, &rule.to),
                    _ => (&rule.to, &rule.from),
                };
                if let Some(other) = other {
                    v.error(
                        other.span,
                        format!("{field}: an {direction} rule names its peer with `{peer_field}`"),
                        format!("write `{peer_field}: {}`", other.value),
                    );
                }
                match peer {
                    None if other.is_none() => v.error(
                        rule.span,
                        format!("{field}: a rule needs `{peer_field}`"),
                        "a CIDR, a group of securityGroups, `cluster`, `nodes` or `loadBalancer.<name>`",
                    ),
                    None => {}
                    Some(peer) => {
                        if let Some(target) = check_peer(
                            v,
                            spec,
                            &field,
                            peer,
                            &declared,
                            &balancers,
                        ) && target != name
                        {
                            names_groups.entry(name).or_default().insert(target);
                        }
                    }
                }
                check_traffic(v, &field, rule);
            }
        }
    }
    if let Some((first, second)) = cycle(&names_groups) {
        let span = groups
            .iter()
            .find(|g| g.name.value == first)
            .map_or(groups.span, |g| g.name.span);
        v.error(
            span,
            format!("securityGroups: `{first}` and `{second}` name each other in their rules (directly or through other groups)"),
            "eksform makes a group with its rules, so groups that refer to each other cannot be ordered; let one of them admit a third group both use, or a CIDR",
        );
    }
}

/// Checks a rule's peer; returns the declared group it names, if any.
fn check_peer(
    v: &mut Validator,
    spec: &Spec,
    field: &str,
    peer: &Located<String>,
    declared: &[&str],
    balancers: &[String],
) -> Option<String> {
    let text = peer.as_str();
    if looks_like_cidr(text) && !text.starts_with("loadBalancer.") {
        v.cidr(field, peer);
        return None;
    }
    if NAMED_GROUPS.contains(&text) {
        if spec.cluster.is_none() {
            v.error(
                peer.span,
                format!("{field}: `{text}` names the cluster's security group, but the stack has no `cluster`"),
                "",
            );
        }
        return None;
    }
    if text.starts_with("loadBalancer.") {
        if !balancers.iter().any(|b| b == text) {
            let help = did_you_mean(text, balancers.iter().map(String::as_str)).map_or_else(
                || "declare it in loadBalancers".to_string(),
                |c| format!("did you mean `{c}`?"),
            );
            v.error(
                peer.span,
                format!("{field}: `{text}` is not a load balancer of this stack"),
                help,
            );
        }
        return None;
    }
    if declared.contains(&text) {
        return Some(text.to_string());
    }
    let candidates = declared
        .iter()
        .copied()
        .chain(NAMED_GROUPS.iter().copied())
        .chain(balancers.iter().map(String::as_str));
    let help = did_you_mean(text, candidates).map_or_else(
        || {
            "a CIDR, a group of securityGroups, `cluster`, `nodes` or `loadBalancer.<name>`"
                .to_string()
        },
        |c| format!("did you mean `{c}`?"),
    );
    v.error(
        peer.span,
        format!("{field}: `{text}` is not a security group of this stack"),
        help,
    );
    None
}

/// Checks a rule's protocol against its ports.
fn check_traffic(v: &mut Validator, field: &str, rule: &Located<SecurityGroupRule>) {
    let protocol = rule
        .protocol
        .as_ref()
        .map_or(RuleProtocol::Tcp, |p| p.value);
    match protocol {
        RuleProtocol::Tcp | RuleProtocol::Udp => match (&rule.port, &rule.ports) {
            (Some(_), Some(ports)) => v.error(
                ports.span,
                format!("{field}: give `port` or `ports`, not both"),
                "",
            ),
            (None, None) => v.error(
                rule.span,
                format!("{field}: a tcp or udp rule needs `port` or `ports`"),
                "for example `port: 5432` or `ports: \"1024-2048\"`; `protocol: all` admits every port",
            ),
            (Some(_), None) => {}
            (None, Some(ports)) => {
                let range = ports
                    .split_once('-')
                    .map_or((ports.as_str(), ports.as_str()), |(from, to)| (from, to));
                let parsed = (range.0.trim().parse::<u16>(), range.1.trim().parse::<u16>());
                if !matches!(parsed, (Ok(from), Ok(to)) if from <= to) {
                    v.error(
                        ports.span,
                        format!("{field}: `{}` is not a port range", ports.value),
                        "write `from-to` with from <= to, for example \"1024-2048\"",
                    );
                }
            }
        },
        RuleProtocol::Icmp | RuleProtocol::All => {
            if let Some(span) = rule
                .port
                .as_ref()
                .map(|p| p.span)
                .or(rule.ports.as_ref().map(|p| p.span))
            {
                v.error(
                    span,
                    format!("{field}: an icmp or all rule takes no ports"),
                    "icmp admits every ICMP type; all admits every protocol and port",
                );
            }
        }
    }
}

/// Two groups on a cycle of `names` (group -> the groups its rules name).
fn cycle(names: &BTreeMap<&str, BTreeSet<String>>) -> Option<(String, String)> {
    fn reaches(
        names: &BTreeMap<&str, BTreeSet<String>>,
        from: &str,
        target: &str,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        names.get(from).into_iter().flatten().any(|next| {
            next == target || (seen.insert(next.clone()) && reaches(names, next, target, seen))
        })
    }
    names.iter().find_map(|(group, named)| {
        named.iter().find_map(|next| {
            reaches(names, next, group, &mut BTreeSet::new())
                .then(|| (group.to_string(), next.clone()))
        })
    })
}
