//! Semantic checks of a parsed spec: the rules of docs/spec.md that a schema cannot
//! express (CIDR arithmetic, AZs in the region, sizes, names, references).
//! Every problem is collected; nothing stops at the first one.

mod registries;

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;

use super::located::Located;
use super::model::*;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::suggest::did_you_mean;

mod routing;
mod security_groups;
mod storage;

/// Retention values CloudWatch Logs accepts.
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Regions known when this was written; a region outside the list but of the
/// right shape is accepted (AWS opens new ones), a misspelt one gets a hint.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// Tags eksform sets itself; a user may not set these keys.
pub const RESERVED_TAG_PREFIXES: &[&str] = &["eksform:", "aws:"];

/// At most this many user tags: AWS allows 50 per resource and eksform adds up to five
/// (stack, address, Name, and two Kubernetes subnet tags).
pub const MAX_USER_TAGS: usize = 45;

struct Validator<'a> {
    file: &'a SourceFile,
    diagnostics: Diagnostics,
}

impl Validator<'_> {
    fn error(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        let help = help.into();
        let mut d = Diagnostic::error(message).at(self.file, span);
        if !help.is_empty() {
            d = d.with_help(help);
        }
        self.diagnostics.push(d);
    }

    fn warning(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        let d = Diagnostic::warning(message)
            .at(self.file, span)
            .with_help(help.into());
        self.diagnostics.push(d);
    }

    /// Reports every name that appears more than once in a list.
    fn unique<'n>(&mut self, what: &str, names: impl IntoIterator<Item = (&'n str, Span)>) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for (name, span) in names {
            if let Some(first) = seen.get(name) {
                self.error(
                    span,
                    format!("duplicate {what} `{name}`"),
                    format!("first defined at line {}; names must be unique", first.line),
                );
            } else {
                seen.insert(name, span);
            }
        }
    }

    /// Where `key` is written inside the mapping that starts at `mapping`: a
    /// mapping read as a map keeps one span for the whole, none per key. Falls
    /// back to the mapping's span when the key is not found as written.
    fn key_span(&self, mapping: Span, key: &str) -> Span {
        let file = self.file.holding(&mapping);
        let text = &*file.text;
        let Some(rest) = text.get(mapping.offset..).filter(|_| !key.is_empty()) else {
            return mapping;
        };
        let indent = |line: &str| line.len() - line.trim_start_matches(' ').len();
        let line_start = text[..mapping.offset].rfind('\n').map_or(0, |i| i + 1);
        let base_indent = indent(&text[line_start..]);
        let mut line_offset = mapping.offset;
        for (index, line) in rest.split_inclusive('\n').enumerate() {
            let trimmed = line.trim_start();
            if index > 0
                && !trimmed.is_empty()
                && !trimmed.starts_with('#')
                && indent(line) < base_indent
            {
                break;
            }
            for (at, _) in line.match_indices(key) {
                let before = line[..at].chars().next_back();
                let after = &line[at + key.len()..];
                let after = after.strip_prefix(['"', '\'']).unwrap_or(after);
                if matches!(before, None | Some(' ' | '{' | ',' | '"' | '\''))
                    && after.trim_start().starts_with(':')
                {
                    let offset = line_offset + at;
                    let (line, column) = file.line_column(offset);
                    return Span {
                        offset,
                        len: key.len(),
                        line,
                        column,
                        source: mapping.source,
                    };
                }
            }
            line_offset += line.len();
        }
        mapping
    }

    fn cidr(&mut self, field: &str, text: &Located<String>) -> Option<Ipv4Net> {
        match text.parse::<Ipv4Net>() {
            Ok(net) if net.trunc() == net => Some(net),
            Ok(net) => {
                self.error(
                    text.span,
                    format!("{field}: `{}` has host bits set", text.value),
                    format!("did you mean `{}`?", net.trunc()),
                );
                None
            }
            Err(_) => {
                self.error(
                    text.span,
                    format!("{field}: `{}` is not an IPv4 CIDR", text.value),
                    "write it as address/prefix, for example 10.20.0.0/16",
                );
                None
            }
        }
    }
}

/// Validates a parsed spec; returns errors and warnings, all at once.
pub fn validate(spec: &Spec, file: &SourceFile) -> Diagnostics {
    let mut v = Validator {
        file,
        diagnostics: Diagnostics::new(),
    };
    validate_identity(&mut v, spec);
    validate_tags(&mut v, spec);
    validate_vpc(&mut v, spec);
    validate_cluster(&mut v, spec);
    validate_compute(&mut v, spec);
    validate_iam(&mut v, spec);
    validate_edge(&mut v, spec);
    registries::validate_registries(&mut v, spec);
    security_groups::validate_security_groups(&mut v, spec);
    storage::validate_storage(&mut v, spec);
    validate_adopt(&mut v, spec);
    validate_text_references(&mut v, spec);
    v.diagnostics
}

/// `adopt:` entries name resources of this spec, each once, and each live
/// resource once. Checked against the lowered spec, so only when the rest of
/// the spec is valid (lowering assumes it is).
fn validate_adopt(v: &mut Validator, spec: &Spec) {
    if spec.adopt.is_empty() {
        return;
    }
    v.unique(
        "adopt address",
        spec.adopt
            .iter()
            .map(|entry| (entry.address.value.as_str(), entry.address.span)),
    );
    let kind_and_id: Vec<(String, Span)> = spec
        .adopt
        .iter()
        .map(|entry| {
            let kind = entry.address.value.split('.').next().unwrap_or_default();
            (format!("{kind} {}", entry.id.value), entry.id.span)
        })
        .collect();
    v.unique(
        "adopted resource",
        kind_and_id.iter().map(|(k, s)| (k.as_str(), *s)),
    );
    for entry in &spec.adopt {
        if entry.id.value.trim().is_empty() {
            v.error(
                entry.id.span,
                "adopt: the id is empty",
                "give the live resource's id, ARN or name",
            );
        }
    }
    if v.diagnostics.has_errors() {
        return;
    }
    let desired = crate::lower::desired(&crate::lower::model(spec));
    let addresses: Vec<&str> = desired.iter().map(|d| d.address.as_str()).collect();
    for entry in &spec.adopt {
        let address = entry.address.value.as_str();
        if addresses.contains(&address) {
            continue;
        }
        let kind = address.split('.').next().unwrap_or_default();
        let same_kind: Vec<&str> = addresses
            .iter()
            .copied()
            .filter(|a| a.split('.').next() == Some(kind))
            .collect();
        let help = match did_you_mean(address, addresses.iter().copied()) {
            Some(hint) => format!("did you mean `{hint}`? `eksform plan` prints every address"),
            None if !same_kind.is_empty() => format!(
                "this spec's {kind} addresses: {}",
                same_kind
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "adopt only what the spec declares: add the resource to the spec first; `eksform plan` prints every address".into(),
        };
        v.error(
            entry.address.span,
            format!("adopt: this spec has no resource `{address}`"),
            help,
        );
    }
}

pub fn is_valid_stack_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 24
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn region_shape_ok(region: &str) -> bool {
    // <area>-<direction>-<n>, e.g. ap-northeast-1, us-gov-west-1.
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn validate_identity(v: &mut Validator, spec: &Spec) {
    if !is_valid_stack_name(&spec.stack) {
        v.error(
            spec.stack.span,
            format!("stack: `{}` is not a valid stack name", spec.stack.value),
            "a lowercase letter, then up to 23 lowercase letters, digits or '-' ([a-z][a-z0-9-]{0,23})",
        );
    }
    if !region_shape_ok(&spec.region) {
        let help = match did_you_mean(&spec.region, KNOWN_REGIONS.iter().copied()) {
            Some(close) => format!("did you mean `{close}`?"),
            None => "a region name such as us-east-1 or ap-northeast-1".into(),
        };
        v.error(
            spec.region.span,
            format!("region: `{}` is not an AWS region", spec.region.value),
            help,
        );
    } else if !KNOWN_REGIONS.contains(&spec.region.as_str()) {
        v.warning(
            spec.region.span,
            format!(
                "region: `{}` is not a region eksform knows",
                spec.region.value
            ),
            did_you_mean(&spec.region, KNOWN_REGIONS.iter().copied())
                .map(|c| format!("did you mean `{c}`?"))
                .unwrap_or_else(|| "it is used as written".into()),
        );
    }
    if let Some(account) = &spec.account
        && !(account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()))
    {
        v.error(
            account.span,
            format!("account: `{}` is not an AWS account id", account.value),
            "12 digits, quoted, for example \"111122223333\"",
        );
    }
}

fn validate_tags(v: &mut Validator, spec: &Spec) {
    let tags = &spec.tags;
    if tags.len() > MAX_USER_TAGS {
        v.error(
            tags.span,
            format!("tags: {} tags is too many", tags.len()),
            format!("at most {MAX_USER_TAGS}: AWS allows 50 per resource and eksform adds up to 5"),
        );
    }
    for (key, value) in tags.iter() {
        let span = v.key_span(tags.span, key);
        if let Some(prefix) = RESERVED_TAG_PREFIXES.iter().find(|p| key.starts_with(**p)) {
            v.error(
                span,
                format!("tags: the key `{key}` is reserved"),
                format!("keys starting with `{prefix}` are set by eksform or AWS"),
            );
        }
        if key.is_empty() || key.chars().count() > 128 {
            v.error(
                span,
                format!("tags: the key `{key}` must be 1 to 128 characters"),
                "a tag key is 1 to 128 characters",
            );
        }
        if value.chars().count() > 256 {
            v.error(
                span,
                format!("tags: the value of `{key}` is longer than 256 characters"),
                "at most 256 characters",
            );
        }
    }
}

fn az_in_region(az: &str, region: &str) -> bool {
    match az.strip_prefix(region) {
        // ap-northeast-1a, or a Local Zone such as us-west-2-lax-1a.
        Some(rest) => {
            (rest.len() == 1 && rest.chars().all(|c| c.is_ascii_lowercase()))
                || (rest.starts_with('-')
                    && rest.len() > 2
                    && rest.ends_with(|c: char| c.is_ascii_lowercase()))
        }
        None => false,
    }
}

/// The availability zones of a stack, in the order written: from
/// `vpc.availabilityZones`, or from the subnet keys of a brought VPC.
pub fn availability_zones(vpc: &Vpc) -> Vec<String> {
    if let Some(azs) = &vpc.availability_zones {
        return azs.iter().map(|az| az.value.clone()).collect();
    }
    let mut azs = BTreeSet::new();
    if let Some(subnets) = &vpc.subnets {
        azs.extend(subnets.public.keys().cloned());
        azs.extend(subnets.private.keys().cloned());
    }
    azs.into_iter().collect()
}

fn validate_vpc(v: &mut Validator, spec: &Spec) {
    let Some(vpc) = &spec.vpc else {
        if let Some(cluster) = &spec.cluster {
            v.error(
                cluster.span,
                "cluster: a cluster needs a `vpc` section",
                "add vpc.cidr and vpc.availabilityZones, or vpc.id with subnet ids",
            );
        }
        return;
    };
    let region = spec.region.as_str();

    if let Some(azs) = &vpc.availability_zones {
        v.unique(
            "availability zone",
            azs.iter().map(|az| (az.as_str(), az.span)),
        );
        for az in azs.iter() {
            if !az_in_region(az, region) {
                v.error(
                    az.span,
                    format!(
                        "vpc.availabilityZones: `{}` is not in region {region}",
                        az.value
                    ),
                    format!("zones of {region} are named {region}a, {region}b, ..."),
                );
            }
        }
        if spec.cluster.is_some() && azs.len() < 2 {
            v.error(
                azs.span,
                format!("vpc.availabilityZones: a cluster needs at least 2 availability zones, found {}", azs.len()),
                "EKS requires subnets in at least two zones",
            );
        }
    }

    match (&vpc.id, &vpc.cidr) {
        (Some(_), Some(cidr)) => v.error(
            cidr.span,
            "vpc.cidr: not allowed together with vpc.id",
            "a brought VPC keeps its own CIDR; remove vpc.cidr",
        ),
        (None, None) => v.error(
            spec.vpc.as_ref().map(|l| l.span).unwrap_or_default(),
            "vpc: needs `cidr` (eksform creates the VPC) or `id` (bring your own)",
            "",
        ),
        _ => {}
    }

    if let Some(id) = &vpc.id {
        validate_brought_vpc(v, spec, vpc, id);
        return;
    }

    let Some(vpc_net) = vpc.cidr.as_ref().and_then(|c| v.cidr("vpc.cidr", c)) else {
        return;
    };
    let Some(azs) = &vpc.availability_zones else {
        v.error(
            spec.vpc.as_ref().map(|l| l.span).unwrap_or_default(),
            "vpc: missing field `availabilityZones`",
            "list at least one availability zone, two or more for a cluster",
        );
        return;
    };
    if !(16..=28).contains(&vpc_net.prefix_len()) {
        v.error(
            vpc.cidr.as_ref().map(|c| c.span).unwrap_or_default(),
            format!(
                "vpc.cidr: a /{} network is outside what AWS allows",
                vpc_net.prefix_len()
            ),
            "a VPC CIDR is /16 to /28",
        );
    }

    if let Some(subnets) = &vpc.subnets {
        let az_names: Vec<&str> = azs.iter().map(|a| a.as_str()).collect();
        let mut nets: Vec<(Ipv4Net, Span, String)> = Vec::new();
        for (tier, map) in [("public", &subnets.public), ("private", &subnets.private)] {
            for (az, subnet) in map {
                let field = format!("vpc.subnets.{tier}.{az}");
                if !az_names.contains(&az.as_str()) {
                    let help = match did_you_mean(az, az_names.iter().copied()) {
                        Some(close) => {
                            format!("did you mean `{close}`? zones: {}", az_names.join(", "))
                        }
                        None => format!("zones: {}", az_names.join(", ")),
                    };
                    v.error(
                        subnet.span,
                        format!("{field}: `{az}` is not in vpc.availabilityZones"),
                        help,
                    );
                }
                if let Some(id) = &subnet.id {
                    v.error(
                        id.span,
                        format!("{field}.id: subnet ids are only for a brought VPC (vpc.id)"),
                        "give a cidr instead",
                    );
                }
                let Some(cidr) = &subnet.cidr else {
                    v.error(subnet.span, format!("{field}: missing field `cidr`"), "");
                    continue;
                };
                let Some(net) = v.cidr(&format!("{field}.cidr"), cidr) else {
                    continue;
                };
                if !vpc_net.contains(&net) {
                    v.error(
                        cidr.span,
                        format!("{field}.cidr: {net} is not inside the VPC CIDR {vpc_net}"),
                        format!("choose a block inside {vpc_net}"),
                    );
                    continue;
                }
                if net.prefix_len() > 28 {
                    v.error(
                        cidr.span,
                        format!(
                            "{field}.cidr: /{} is smaller than AWS allows",
                            net.prefix_len()
                        ),
                        "a subnet is /16 to /28",
                    );
                }
                if let Some((other, _, other_field)) = nets
                    .iter()
                    .find(|(o, _, _)| o.contains(&net) || net.contains(o))
                {
                    v.error(
                        cidr.span,
                        format!("{field}.cidr: {net} overlaps {other_field} ({other})"),
                        "subnets must not overlap",
                    );
                }
                nets.push((net, cidr.span, field));
            }
        }
        let nat_mode = nat_mode(vpc);
        for az in azs.iter() {
            if !subnets.private.contains_key(az.as_str()) {
                v.error(subnets_span(vpc), format!("vpc.subnets.private: no subnet for {}", az.value), "give every availability zone a private subnet, or omit vpc.subnets to split the CIDR automatically");
            }
            if !subnets.public.contains_key(az.as_str()) && nat_mode != NatMode::Disable {
                v.error(
                    subnets_span(vpc),
                    format!("vpc.subnets.public: no subnet for {}", az.value),
                    "NAT gateways and load balancers need a public subnet in every zone",
                );
            }
        }
    } else if !azs.is_empty() {
        let blocks = (2 * azs.len()).next_power_of_two();
        let bits = blocks.trailing_zeros() as u8;
        if vpc_net.prefix_len() + bits > 28 {
            v.error(
                vpc.cidr.as_ref().map(|c| c.span).unwrap_or_default(),
                format!("vpc.cidr: {vpc_net} is too small to split into {blocks} subnets"),
                "use a larger VPC CIDR or give vpc.subnets",
            );
        }
    }

    if let Some(nat) = &vpc.nat
        && let Some(tables) = &nat.private_route_tables
        && tables.value == PrivateRouteTables::Shared
        && nat_mode(vpc) == NatMode::HighlyAvailable
    {
        v.error(
            tables.span,
            "vpc.nat.privateRouteTables: Shared needs one NAT gateway, and HighlyAvailable has one per zone",
            "use PerZone with HighlyAvailable, or gateway: Single",
        );
    }

    if let Some(nat) = &vpc.nat
        && let Some(eips) = &nat.elastic_ips
    {
        v.unique("Elastic IP", eips.iter().map(|e| (e.as_str(), e.span)));
        for eip in eips.iter() {
            if !eip.starts_with("eipalloc-") {
                v.error(
                    eip.span,
                    format!(
                        "vpc.nat.elasticIPs: `{}` is not an allocation id",
                        eip.value
                    ),
                    "an Elastic IP allocation id such as eipalloc-0123456789abcdef0",
                );
            }
        }
        let needed = match nat_mode(vpc) {
            NatMode::Single => 1,
            NatMode::HighlyAvailable => azs.len(),
            NatMode::Disable => 0,
        };
        if eips.len() < needed {
            v.error(
                eips.span,
                format!(
                    "vpc.nat.elasticIPs: {} given, the NAT mode needs {needed}",
                    eips.len()
                ),
                "one Elastic IP per NAT gateway",
            );
        }
        if needed == 0 && !eips.is_empty() {
            v.error(
                eips.span,
                "vpc.nat.elasticIPs: not used when the NAT gateway is disabled",
                "remove them or enable a NAT mode",
            );
        } else if eips.len() > needed {
            // An address that would sit unused is a mistake, not something to ignore.
            v.error(
                eips.span,
                format!(
                    "vpc.nat.elasticIPs: {} given, the NAT mode uses {needed}",
                    eips.len()
                ),
                "give exactly one Elastic IP per NAT gateway",
            );
        }
    }
}

fn subnets_span(vpc: &Vpc) -> Span {
    vpc.subnets.as_ref().map(|s| s.span).unwrap_or_default()
}

pub fn nat_mode(vpc: &Vpc) -> NatMode {
    vpc.nat
        .as_ref()
        .and_then(|n| n.gateway.as_ref())
        .map(|g| g.value)
        .unwrap_or_default()
}

fn validate_brought_vpc(v: &mut Validator, spec: &Spec, vpc: &Vpc, id: &Located<TextSource>) {
    if let Some(text) = id.literal()
        && !text.starts_with("vpc-")
    {
        v.error(
            id.span,
            format!("vpc.id: `{text}` is not a VPC id"),
            "a VPC id such as vpc-0123456789abcdef0",
        );
    }
    if let Some(nat) = &vpc.nat {
        v.error(
            nat.span,
            "vpc.nat: not allowed with vpc.id",
            "a brought VPC keeps its own NAT; eksform creates no network resources in it",
        );
    }
    let Some(subnets) = &vpc.subnets else {
        v.error(
            id.span,
            "vpc.subnets: a brought VPC needs its subnets by id",
            "for example public: { us-east-1a: { id: subnet-... } }",
        );
        return;
    };
    for (tier, map) in [("public", &subnets.public), ("private", &subnets.private)] {
        for (az, subnet) in map {
            let field = format!("vpc.subnets.{tier}.{az}");
            if !az_in_region(az, &spec.region) {
                v.error(
                    subnet.span,
                    format!("{field}: `{az}` is not in region {}", spec.region.value),
                    "",
                );
            }
            if let Some(cidr) = &subnet.cidr {
                v.error(
                    cidr.span,
                    format!("{field}.cidr: not allowed with vpc.id"),
                    "give the subnet's id",
                );
            }
            match &subnet.id {
                Some(sid) if sid.literal().is_some_and(|t| !t.starts_with("subnet-")) => v.error(
                    sid.span,
                    format!("{field}.id: `{}` is not a subnet id", sid.text()),
                    "a subnet id such as subnet-0123456789abcdef0",
                ),
                Some(_) => {}
                None => v.error(
                    subnet.span,
                    format!("{field}: missing field `id`"),
                    "a brought VPC's subnets are given by id",
                ),
            }
        }
    }
    if spec.cluster.is_some() {
        let azs = availability_zones(vpc);
        if azs.len() < 2 {
            v.error(
                subnets.span,
                "vpc.subnets: a cluster needs subnets in at least 2 availability zones",
                "",
            );
        }
    }
}

fn valid_eks_name(name: &str, max: usize) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && name.len() <= max
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `arn:<partition>:kms:<region>:<account>:key/<id>` or `...:alias/<name>`,
/// in the cluster's region (EKS takes no key of another region).
fn validate_kms_key_arn(v: &mut Validator, arn: &Located<String>, region: &str) {
    let parts: Vec<&str> = arn.value.splitn(6, ':').collect();
    let well_formed = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && (parts[5]
            .strip_prefix("key/")
            .is_some_and(|id| !id.is_empty())
            || parts[5]
                .strip_prefix("alias/")
                .is_some_and(|n| !n.is_empty()));
    if !well_formed {
        v.error(
            arn.span,
            format!(
                "cluster.secretsEncryption.keyARN: `{}` is not a KMS key ARN",
                arn.value
            ),
            "arn:aws:kms:<region>:<account>:key/<key id> (or alias/<name>)",
        );
    } else if parts[3] != region {
        v.error(
            arn.span,
            format!(
                "cluster.secretsEncryption.keyARN: the key is in {}, the cluster in {region}",
                parts[3]
            ),
            "EKS encrypts secrets only with a key of the cluster's region",
        );
    }
}

fn validate_cluster(v: &mut Validator, spec: &Spec) {
    let Some(cluster) = &spec.cluster else { return };
    warn_open_endpoint(v, spec, cluster);
    if let Some(encryption) = &cluster.secrets_encryption {
        validate_kms_key_arn(v, &encryption.key_arn, &spec.region.value);
    }
    if let Some(endpoints) = &cluster.endpoints
        && endpoints.public_access == Some(false)
        && endpoints.private_access == Some(false)
    {
        v.error(
            endpoints.span,
            "cluster.endpoints: publicAccess and privateAccess are both false: nothing could reach the API",
            "keep one of them true (EKS refuses a cluster with neither)",
        );
    }
    if let Some(name) = &cluster.name
        && !valid_eks_name(name, 100)
    {
        v.error(
            name.span,
            format!("cluster.name: `{}` is not a valid cluster name", name.value),
            "1 to 100 letters, digits, '-' or '_', starting with a letter or digit",
        );
    }
    if let Some(version) = &cluster.version {
        let ok = version.split_once('.').is_some_and(|(a, b)| {
            a == "1" && !b.is_empty() && b.chars().all(|c| c.is_ascii_digit())
        });
        if !ok {
            v.error(
                version.span,
                format!(
                    "cluster.version: `{}` is not a Kubernetes version",
                    version.value
                ),
                "a string such as \"1.31\"",
            );
        }
    }
    if let Some(cidrs) = &cluster.public_access_cidrs {
        for cidr in cidrs.iter() {
            if let CidrSource::Literal(text) = &cidr.value
                && text.parse::<Ipv4Net>().is_err()
                && text.parse::<std::net::Ipv4Addr>().is_err()
            {
                v.error(
                    cidr.span,
                    format!("cluster.publicAccessCIDRs: `{text}` is not an IPv4 CIDR or address"),
                    "for example 198.51.100.7/32, or 198.51.100.7 for one address",
                );
            }
            if let CidrSource::FromStack(reference) = &cidr.value {
                validate_reference(
                    v,
                    spec,
                    "cluster.publicAccessCIDRs",
                    reference,
                    cidr.span,
                    ADDRESS_OUTPUTS,
                );
            }
        }
    }
    if let Some(logging) = &cluster.logging
        && let Some(days) = &logging.log_retention_in_days
        && !RETENTION_DAYS.contains(&days.value)
    {
        let nearest = RETENTION_DAYS
            .iter()
            .min_by_key(|d| d.abs_diff(days.value))
            .copied()
            .unwrap_or(30);
        v.error(
            days.span,
            format!(
                "cluster.logging.logRetentionInDays: {} is not a value CloudWatch Logs accepts",
                days.value
            ),
            format!(
                "the nearest is {nearest}; valid: {}",
                RETENTION_DAYS
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        );
    }
    v.unique(
        "add-on",
        cluster
            .addons
            .iter()
            .map(|a| (a.name.as_str(), a.name.span)),
    );
    let accounts: Vec<String> = service_account_keys(spec);
    for addon in &cluster.addons {
        if let Some(sa) = &addon.service_account
            && !accounts.contains(&sa.value)
        {
            let help = match did_you_mean(sa, accounts.iter().map(String::as_str)) {
                Some(close) => format!("did you mean `{close}`?"),
                None if accounts.is_empty() => "declare it in iam.serviceAccounts".into(),
                None => format!("declared: {}", accounts.join(", ")),
            };
            v.error(
                sa.span,
                format!(
                    "cluster.addons: serviceAccount `{}` is not in iam.serviceAccounts",
                    sa.value
                ),
                help,
            );
        }
        if let Some(values) = &addon.configuration_values
            && let Some(problem) = values.problem()
        {
            v.error(
                values.span(),
                format!(
                    "cluster.addons.{}.configurationValues: {problem}",
                    addon.name.value
                ),
                "write a mapping, or the JSON object AWS takes as a string",
            );
        }
    }
    v.unique(
        "access entry",
        cluster
            .access_entries
            .iter()
            .filter_map(|e| Some((e.principal_arn.literal()?, e.principal_arn.span))),
    );
    validate_access_entries(v, spec, cluster);
}

/// Access entries name IAM principals and EKS access policies by ARN; a bare
/// name is the usual slip, and EKS only refuses it half-way through apply.
fn validate_access_entries(v: &mut Validator, spec: &Spec, cluster: &Cluster) {
    let partition = crate::lower::partition(&spec.region);
    let account = spec
        .account
        .as_ref()
        .map_or("<account>", |a| a.value.as_str());
    for entry in &cluster.access_entries {
        let principal = &entry.principal_arn;
        if let Some(text) = principal.literal()
            && !is_principal_arn(text)
        {
            let name = text.rsplit(['/', ':']).next().unwrap_or_default();
            v.error(
                principal.span,
                format!(
                    "cluster.accessEntries: principalARN `{text}` is not the ARN of an IAM role or user"
                ),
                format!(
                    "write the role's ARN, `arn:{partition}:iam::{account}:role/{name}` (or `...:user/{name}` for a user)"
                ),
            );
        }
        for policy in &entry.access_policies {
            let arn = &policy.policy_arn;
            if !is_access_policy_arn(arn) {
                let name = arn.rsplit(['/', ':']).next().unwrap_or_default();
                v.error(
                    arn.span,
                    format!(
                        "cluster.accessEntries: policyARN `{}` is not the ARN of an EKS access policy",
                        arn.value
                    ),
                    format!("write `arn:{partition}:eks::aws:cluster-access-policy/{name}`"),
                );
            }
            let scope = &policy.access_scope;
            if scope.scope_type == AccessScopeType::Namespace && scope.namespaces.is_empty() {
                v.error(
                    scope.span,
                    "cluster.accessEntries: an access scope of type `namespace` lists no namespaces",
                    "add `namespaces: [...]`, or use `type: cluster` for the whole cluster",
                );
            }
        }
    }
}

/// A target group is eksform's (`port`, and optionally `targetType` and
/// `healthCheckPath`) or brought by `arn`, whose settings are its owner's.
fn validate_target_group_source(v: &mut Validator, balancer: &str, group: &Located<TargetGroup>) {
    let field = format!("loadBalancers.{balancer}.targetGroups.{}", group.name.value);
    match (&group.port, &group.arn) {
        (None, None) | (Some(_), Some(_)) => v.error(
            group.span,
            format!("{field}: give exactly one of `port` and `arn`"),
            "`port` for a group eksform makes; `arn` (or `arn: { fromStack: ... }`) for one made elsewhere",
        ),
        (None, Some(arn)) => {
            if let Some(text) = arn.literal()
                && !is_target_group_arn(text)
            {
                v.error(
                    arn.span,
                    format!("{field}: `{text}` is not the ARN of a target group"),
                    "arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>",
                );
            }
            let owners = [
                ("targetType", group.target_type.is_some()),
                ("healthCheckPath", group.health_check_path.is_some()),
            ];
            for (setting, given) in owners {
                if given {
                    v.error(
                        arn.span,
                        format!("{field}: `{setting}` cannot be set on a target group given by `arn`"),
                        "eksform does not change a group it did not make: set it where the group is made",
                    );
                }
            }
        }
        (Some(_), None) => {}
    }
}

/// `arn:<partition>:elasticloadbalancing:<region>:<12 digits>:targetgroup/<name>/<id>`.
fn is_target_group_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    let mut path = resource.split('/');
    *prefix == "arn"
        && partition.starts_with("aws")
        && *service == "elasticloadbalancing"
        && !region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && path.next() == Some("targetgroup")
        && path.next().is_some_and(|name| !name.is_empty())
        && path.next().is_some_and(|id| !id.is_empty())
        && path.next().is_none()
}

/// `arn:<partition>:iam::<12 digits>:role/...` or `...:user/...`.
fn is_principal_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:") else {
        return false;
    };
    let mut parts = rest.splitn(5, ':');
    let (Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let name = resource
        .strip_prefix("role/")
        .or_else(|| resource.strip_prefix("user/"));
    partition.starts_with("aws")
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && name.is_some_and(|n| !n.is_empty() && !n.ends_with('/'))
}

/// `arn:<partition>:eks::aws:cluster-access-policy/<name>`.
fn is_access_policy_arn(arn: &str) -> bool {
    arn.strip_prefix("arn:")
        .and_then(|rest| rest.split_once(':'))
        .filter(|(partition, _)| partition.starts_with("aws"))
        .and_then(|(_, rest)| rest.strip_prefix("eks::aws:cluster-access-policy/"))
        .is_some_and(|name| !name.is_empty() && !name.contains(['/', ':']))
}

/// `arn:<partition>:iam::aws:policy/...` (AWS managed) or
/// `arn:<partition>:iam::<12 digits>:policy/...` (the account's own).
pub(crate) fn is_managed_policy_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:") else {
        return false;
    };
    let mut parts = rest.splitn(5, ':');
    let (Some(partition), Some("iam"), Some(""), Some(owner), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    partition.starts_with("aws")
        && (owner == "aws" || (owner.len() == 12 && owner.chars().all(|c| c.is_ascii_digit())))
        && resource
            .strip_prefix("policy/")
            .is_some_and(|n| !n.is_empty() && !n.ends_with('/'))
}

fn service_account_keys(spec: &Spec) -> Vec<String> {
    spec.iam
        .iter()
        .flat_map(|iam| iam.service_accounts.iter())
        .map(|sa| format!("{}/{}", sa.metadata.namespace.value, sa.metadata.name.value))
        .collect()
}

/// One node image serves a group, so its instance types share one
/// architecture (the x86 or ARM variant of `amiFamily` follows them).
fn validate_architecture(v: &mut Validator, group: &ManagedNodeGroup) {
    use crate::kinds::node_group::architecture_of;
    let mut known = group
        .instance_types
        .iter()
        .filter_map(|t| architecture_of(&t.value).map(|a| (t, a)));
    let Some((first, architecture)) = known.next() else {
        return;
    };
    for (other, other_architecture) in known {
        if other_architecture != architecture {
            v.error(
                other.span,
                format!(
                    "managedNodeGroups.{}: {} is {} but {} is {}: a group runs one node image, of one architecture",
                    group.name.value,
                    other.value,
                    other_architecture.describe(),
                    first.value,
                    architecture.describe()
                ),
                "put Graviton instance types (m7g, c7g, t4g, ...) in a group of their own",
            );
        }
    }
}

fn validate_compute(v: &mut Validator, spec: &Spec) {
    let groups = spec
        .managed_node_groups
        .as_ref()
        .map(|g| g.value.as_slice())
        .unwrap_or_default();
    let profiles = spec
        .fargate_profiles
        .as_ref()
        .map(|p| p.value.as_slice())
        .unwrap_or_default();
    if spec.cluster.is_none() {
        if let Some(g) = &spec.managed_node_groups {
            v.error(g.span, "managedNodeGroups: needs a `cluster` section", "");
        }
        if let Some(p) = &spec.fargate_profiles {
            v.error(p.span, "fargateProfiles: needs a `cluster` section", "");
        }
    }
    v.unique(
        "node group",
        groups.iter().map(|g| (g.name.as_str(), g.name.span)),
    );
    for group in groups {
        if !valid_eks_name(&group.name, 63) {
            v.error(
                group.name.span,
                format!(
                    "managedNodeGroups: `{}` is not a valid node group name",
                    group.name.value
                ),
                "1 to 63 letters, digits, '-' or '_', starting with a letter or digit",
            );
        }
        let min = group.min_size.as_ref().map(|m| m.value);
        let max = group.max_size.as_ref().map(|m| m.value);
        let desired = group.desired_capacity.as_ref();
        if let (Some(min_size), Some(max_size)) = (min, max)
            && min_size > max_size
        {
            v.error(
                group.min_size.as_ref().map(|m| m.span).unwrap_or_default(),
                format!(
                    "managedNodeGroups.{}: minSize {min_size} is larger than maxSize {max_size}",
                    group.name.value
                ),
                "minSize <= desiredCapacity <= maxSize",
            );
        }
        if let Some(d) = desired
            && (min.is_some_and(|m| d.value < m) || max.is_some_and(|m| d.value > m))
        {
            v.error(
                d.span,
                format!(
                    "managedNodeGroups.{}: desiredCapacity {} is outside [minSize, maxSize]",
                    group.name.value, d.value
                ),
                "minSize <= desiredCapacity <= maxSize",
            );
        }
        validate_architecture(v, group);
        if max == Some(0) {
            v.error(
                group.max_size.as_ref().map(|m| m.span).unwrap_or_default(),
                format!(
                    "managedNodeGroups.{}: maxSize must be at least 1",
                    group.name.value
                ),
                "",
            );
        }
        if let Some(size) = &group.volume_size
            && !(1..=16384).contains(&size.value)
        {
            v.error(
                size.span,
                format!(
                    "managedNodeGroups.{}: volumeSize {} GiB is out of range",
                    group.name.value, size.value
                ),
                "1 to 16384 GiB",
            );
        }
    }
    v.unique(
        "Fargate profile",
        profiles.iter().map(|p| (p.name.as_str(), p.name.span)),
    );
    for profile in profiles {
        if !valid_eks_name(&profile.name, 63) {
            v.error(
                profile.name.span,
                format!(
                    "fargateProfiles: `{}` is not a valid profile name",
                    profile.name.value
                ),
                "1 to 63 letters, digits, '-' or '_'",
            );
        }
        if profile.selectors.is_empty() || profile.selectors.len() > 5 {
            v.error(
                profile.name.span,
                format!(
                    "fargateProfiles.{}: needs 1 to 5 selectors",
                    profile.name.value
                ),
                "",
            );
        }
    }
}

fn validate_iam(v: &mut Validator, spec: &Spec) {
    let Some(iam) = &spec.iam else { return };
    if spec.cluster.is_none() {
        v.error(
            iam.span,
            "iam: needs a `cluster` section",
            "IRSA roles are bound to a cluster's OIDC provider",
        );
    }
    validate_pod_identities(v, iam);
    let keys: Vec<(String, Span)> = iam
        .service_accounts
        .iter()
        .map(|sa| {
            (
                format!("{}/{}", sa.metadata.namespace.value, sa.metadata.name.value),
                sa.metadata.name.span,
            )
        })
        .collect();
    v.unique(
        "service account",
        keys.iter().map(|(k, s)| (k.as_str(), *s)),
    );
    let partition = crate::lower::partition(&spec.region);
    for arn in iam
        .service_accounts
        .iter()
        .flat_map(|sa| &sa.attach_policy_arns)
    {
        let Some(text) = arn.literal() else {
            continue;
        };
        if !is_managed_policy_arn(text) {
            let name = text.rsplit(['/', ':']).next().unwrap_or_default();
            v.error(
                arn.span,
                format!(
                    "iam.serviceAccounts: attachPolicyARNs entry `{text}` is not the ARN of a managed policy"
                ),
                format!(
                    "an AWS managed policy is `arn:{partition}:iam::aws:policy/{name}`, one of the account's `arn:{partition}:iam::<account>:policy/{name}`"
                ),
            );
        }
    }
}

/// `iam.podIdentityAssociations`: one per service account, either the
/// user's `roleARN` or the policies of a role eksform makes, and a service
/// account is either IRSA's or Pod Identity's: moving it from one list to
/// the other is one change, in which the new credentials exist before the
/// old ones go (see `kinds::pod_identity_association`).
fn validate_pod_identities(v: &mut Validator, iam: &crate::spec::Iam) {
    let keys: Vec<(String, Span)> = iam
        .pod_identity_associations
        .iter()
        .map(|a| {
            (
                format!("{}/{}", a.namespace.value, a.service_account_name.value),
                a.service_account_name.span,
            )
        })
        .collect();
    v.unique(
        "pod identity association",
        keys.iter().map(|(k, s)| (k.as_str(), *s)),
    );
    let irsa: Vec<String> = iam
        .service_accounts
        .iter()
        .map(|sa| format!("{}/{}", sa.metadata.namespace.value, sa.metadata.name.value))
        .collect();
    for ((key, span), association) in keys.iter().zip(&iam.pod_identity_associations) {
        let what = format!("iam.podIdentityAssociations.{key}");
        if irsa.contains(key) {
            v.error(
                *span,
                format!("{what}: the service account is also in iam.serviceAccounts"),
                "give it IRSA or Pod Identity, not both; moving it from one list to the other is one change: the new role exists before the old one is removed",
            );
        }
        for (name, text) in [
            ("namespace", &association.namespace),
            ("serviceAccountName", &association.service_account_name),
        ] {
            if text.value.is_empty()
                || text.value.len() > 253
                || !text
                    .value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
                || (name == "namespace" && text.value.contains('.'))
            {
                v.error(
                    text.span,
                    format!("{what}: {name} `{}` is not a Kubernetes name", text.value),
                    "lower-case letters, digits and `-` (and `.` in a service account's name)",
                );
            }
        }
        let policies = association.well_known_policies.is_some()
            || !association.permission_policy_arns.is_empty()
            || association.permission_policy.is_some();
        match &association.role_arn {
            Some(arn) if policies || association.role_name.is_some() => v.error(
                arn.span,
                format!("{what}: roleARN brings a role of your own; eksform then makes none"),
                "remove roleARN, or remove roleName, wellKnownPolicies, permissionPolicyARNs and permissionPolicy",
            ),
            Some(arn)
                if !(arn.value.starts_with("arn:aws") && arn.value.contains(":iam::")
                    && arn.value.contains(":role/")) =>
            {
                v.error(
                    arn.span,
                    format!("{what}: roleARN `{}` is not the ARN of an IAM role", arn.value),
                    "arn:aws:iam::<account>:role/<name>",
                )
            }
            Some(_) => {}
            None if !policies => v.error(
                *span,
                format!("{what}: the role has no permissions"),
                "give roleARN (a role of your own), or wellKnownPolicies, permissionPolicyARNs or permissionPolicy",
            ),
            None => {}
        }
        if let Some(name) = &association.role_name
            && (name.value.is_empty()
                || name.value.len() > 64
                || !name
                    .value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)))
        {
            v.error(
                name.span,
                format!(
                    "{what}: roleName `{}` is not a valid IAM role name",
                    name.value
                ),
                "1 to 64 letters, digits and +=,.@_-",
            );
        }
        for arn in &association.permission_policy_arns {
            if !is_managed_policy_arn(arn) {
                v.error(
                    arn.span,
                    format!(
                        "{what}: permissionPolicyARNs entry `{}` is not the ARN of a managed policy",
                        arn.value
                    ),
                    "arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>",
                );
            }
        }
    }
}

fn validate_edge(v: &mut Validator, spec: &Spec) {
    let balancers = spec
        .load_balancers
        .as_ref()
        .map(|l| l.value.as_slice())
        .unwrap_or_default();
    if let Some(lbs) = &spec.load_balancers
        && spec.vpc.is_none()
    {
        v.error(lbs.span, "loadBalancers: needs a `vpc` section", "");
    }
    v.unique(
        "load balancer",
        balancers.iter().map(|l| (l.name.as_str(), l.name.span)),
    );
    for lb in balancers {
        if !valid_eks_name(&lb.name, 20) || lb.name.contains('_') {
            v.error(
                lb.name.span,
                format!(
                    "loadBalancers: `{}` is not a valid load balancer name",
                    lb.name.value
                ),
                "1 to 20 letters, digits or '-' (eksform prefixes the stack name)",
            );
        }
        for cidr in &lb.ingress_cidrs {
            v.cidr(
                &format!("loadBalancers.{}.ingressCIDRs", lb.name.value),
                cidr,
            );
        }
        if let Some(timeout) = &lb.idle_timeout_seconds
            && !(1..=4000).contains(&timeout.value)
        {
            v.error(
                timeout.span,
                format!(
                    "loadBalancers.{}: idleTimeoutSeconds {} is out of range",
                    lb.name.value, timeout.value
                ),
                "1 to 4000 seconds",
            );
        }
        if let Some(cert) = &lb.certificate
            && cert.domain.is_some() == cert.arn.is_some()
        {
            v.error(
                cert.span,
                format!(
                    "loadBalancers.{}.certificate: give exactly one of `domain` and `arn`",
                    lb.name.value
                ),
                "",
            );
        }
        v.unique(
            "target group",
            lb.target_groups
                .iter()
                .map(|t| (t.name.as_str(), t.name.span)),
        );
        for group in &lb.target_groups {
            validate_target_group_source(v, &lb.name.value, group);
        }
        if let Some(default) = &lb.default_target_group
            && !lb
                .target_groups
                .iter()
                .any(|t| t.name.value == default.value)
        {
            let names: Vec<&str> = lb.target_groups.iter().map(|t| t.name.as_str()).collect();
            let help = did_you_mean(default, names.iter().copied()).map_or_else(
                || format!("target groups: {}", names.join(", ")),
                |c| format!("did you mean `{c}`?"),
            );
            v.error(
                default.span,
                format!(
                    "loadBalancers.{}: defaultTargetGroup `{}` is not one of its targetGroups",
                    lb.name.value, default.value
                ),
                help,
            );
        }
        routing::validate_target_group_weights(v, lb);
    }
    if let Some(dns) = &spec.dns {
        let zone = dns.zone.trim_end_matches('.');
        let typed: Vec<(&DnsRecord, String)> = dns
            .records
            .iter()
            .map(|r| {
                let record_type = r.record_type.unwrap_or(if r.alias.is_some() {
                    RecordType::A
                } else {
                    RecordType::CNAME
                });
                (&r.value, format!("{record_type:?}"))
            })
            .collect();
        let keys: Vec<(String, Span)> = typed
            .iter()
            .map(|(r, record_type)| (routing::record_key(r, record_type), r.name.span))
            .collect();
        v.unique("DNS record", keys.iter().map(|(k, s)| (k.as_str(), *s)));
        routing::validate_record_routing(v, &typed);
        for record in &dns.records {
            let name = record.name.trim_end_matches('.');
            if name != zone && !name.ends_with(&format!(".{zone}")) {
                v.error(
                    record.name.span,
                    format!(
                        "dns.records: `{}` is not inside the zone {zone}",
                        record.name.value
                    ),
                    "",
                );
            }
            match (&record.alias, record.values.is_empty()) {
                (Some(alias), _) => {
                    if !balancers
                        .iter()
                        .any(|l| l.name.value == alias.load_balancer.value)
                    {
                        let names: Vec<&str> = balancers.iter().map(|l| l.name.as_str()).collect();
                        let help = did_you_mean(&alias.load_balancer, names.iter().copied())
                            .map_or_else(
                                || "declare it in loadBalancers".to_string(),
                                |c| format!("did you mean `{c}`?"),
                            );
                        v.error(
                            alias.load_balancer.span,
                            format!(
                                "dns.records: alias loadBalancer `{}` is not in loadBalancers",
                                alias.load_balancer.value
                            ),
                            help,
                        );
                    }
                    if !record.values.is_empty() {
                        v.error(
                            record.name.span,
                            "dns.records: give `alias` or `values`, not both",
                            "",
                        );
                    }
                }
                (None, true) => v.error(
                    record.name.span,
                    format!(
                        "dns.records: `{}` needs `values` or `alias`",
                        record.name.value
                    ),
                    "",
                ),
                (None, false) => {}
            }
        }
    }
}

/// Outputs a `fromStack` reference can name in a list of CIDRs: the ones that
/// hold addresses.
pub const ADDRESS_OUTPUTS: &[&str] = &["natPublicIPs"];

/// The `fromStack` references of the spec's text fields (ids, ARNs, names):
/// any output may be named, with a key where it has keys.
fn validate_text_references(v: &mut Validator, spec: &Spec) {
    for found in super::references::text_references(spec) {
        validate_reference(
            v,
            spec,
            &found.field,
            &found.reference,
            found.reference.span,
            crate::outputs::OUTPUT_NAMES,
        );
    }
}

/// Checks a reference: not this stack, a stack name, an output among
/// `outputs`, a key where (and only where) the output has keys, a role ARN.
fn validate_reference(
    v: &mut Validator,
    spec: &Spec,
    field: &str,
    reference: &StackReference,
    span: Span,
    outputs: &[&str],
) {
    validate_reference_key(v, field, reference, span);
    if let Some(role) = &reference.role_arn
        && !is_role_arn(role)
    {
        v.error(
            span,
            format!("{field}: roleARN `{role}` is not an IAM role ARN"),
            "arn:aws:iam::<account>:role/<name>, a role of the other stack's account",
        );
    }
    if reference.from_stack == spec.stack.value
        && reference.role_arn.is_none()
        && reference
            .region
            .as_deref()
            .is_none_or(|r| r == spec.region.value)
    {
        v.error(
            span,
            format!(
                "{field}: `fromStack: {}` names this stack itself",
                reference.from_stack
            ),
            "a stack can read the outputs of other stacks only",
        );
    }
    if !is_valid_stack_name(&reference.from_stack) {
        v.error(
            span,
            format!("{field}: `{}` is not a stack name", reference.from_stack),
            "[a-z][a-z0-9-]{0,23}, as in the other stack's `stack:`",
        );
    }
    if !outputs.contains(&reference.output.as_str()) {
        let (what, listed) = if outputs == ADDRESS_OUTPUTS {
            ("does not hold IP addresses", "outputs that hold addresses")
        } else {
            ("is not an output", "outputs")
        };
        let help = match did_you_mean(&reference.output, outputs.iter().copied()) {
            Some(close) => format!("did you mean `{close}`? {listed}: {}", outputs.join(", ")),
            None => format!("{listed}: {}", outputs.join(", ")),
        };
        v.error(
            span,
            format!(
                "{field}: output `{}` of stack `{}` {what}",
                reference.output, reference.from_stack
            ),
            &help,
        );
    }
}

/// A key on a map output (required), a zone on a subnet list (optional),
/// nothing on the others; keys of two parts where the output's have two.
fn validate_reference_key(v: &mut Validator, field: &str, reference: &StackReference, span: Span) {
    use crate::outputs::KeyUse;
    let output = reference.output.as_str();
    match (crate::outputs::key_use(output), &reference.key) {
        (Some(KeyUse::Entry), None) => v.error(
            span,
            format!("{field}: output `{output}` is a map and needs `key`"),
            "the entry's name, as `eksform outputs` on that stack shows it",
        ),
        (Some(KeyUse::None), Some(key)) => v.error(
            span,
            format!("{field}: unknown key `{key}`: output `{output}` has no keys"),
            "remove `key`",
        ),
        (Some(KeyUse::Entry), Some(key))
            if matches!(
                output,
                "targetGroupARNs" | "serviceAccountRoleARNs" | "podIdentityRoleARNs"
            ) && key.split('/').filter(|part| !part.is_empty()).count() != 2 =>
        {
            let shape = if output == "targetGroupARNs" {
                "<load balancer>/<target group>"
            } else {
                "<namespace>/<service account>"
            };
            v.error(
                span,
                format!("{field}: unknown key `{key}` of output `{output}`"),
                format!("its keys are {shape}"),
            )
        }
        (Some(KeyUse::Zone), Some(zone)) if zone.is_empty() => v.error(
            span,
            format!("{field}: unknown key `` of output `{output}`"),
            "the zone of the subnet, such as us-east-1a",
        ),
        _ => {}
    }
}

fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|name| !name.is_empty()))
}

/// A public API endpoint open to the whole internet is legal, and common in
/// development, but on production or without a private endpoint it is worth a
/// second look.
fn warn_open_endpoint(v: &mut Validator, spec: &Spec, cluster: &Located<Cluster>) {
    let endpoints = cluster.endpoints.as_ref();
    if endpoints.and_then(|e| e.public_access) == Some(false) {
        return;
    }
    let open = match &cluster.public_access_cidrs {
        None => true,
        Some(cidrs) => cidrs
            .iter()
            .any(|c| matches!(&c.value, CidrSource::Literal(text) if text == "0.0.0.0/0")),
    };
    let production = spec.tags.get("env").is_some_and(|env| env == "prd");
    let private_off = endpoints.and_then(|e| e.private_access) == Some(false);
    if open && (production || private_off) {
        let why = if production {
            "on a stack tagged env: prd"
        } else {
            "with the private endpoint off"
        };
        let span = cluster
            .public_access_cidrs
            .as_ref()
            .map_or(cluster.span, |c| c.span);
        v.warning(
            span,
            format!("cluster.publicAccessCIDRs: the API endpoint is open to 0.0.0.0/0 {why}"),
            "list the addresses that need it (a deploy tool's NAT address: `{ fromStack: <stack>, output: natPublicIPs }`)",
        );
    }
}
