//! A `Draft` written as an eksform spec: each section read back from the
//! imported resources' attributes (in the adapters' vocabulary), so that the
//! spec lowers to the same addresses with the same settings, then an
//! `adopt:` entry per resource and a comment listing what was not mapped.

use std::collections::{BTreeMap, BTreeSet};

use super::yaml::{self, Entry, MapBuilder, Node};
use super::{Draft, ImportError, Imported};
use crate::model::{Attributes, Value};

/// The spec YAML for a draft (see the module doc).
pub fn write_spec(draft: &Draft) -> Result<String, ImportError> {
    if !crate::spec::is_valid_stack_name(&draft.stack) {
        return Err(ImportError::InvalidStackName(draft.stack.clone()));
    }
    if draft.region.is_empty() {
        return Err(ImportError::NoRegion);
    }
    if draft.resources.is_empty() {
        return Err(ImportError::Empty);
    }
    let mut seen: BTreeMap<&str, &Imported> = BTreeMap::new();
    for resource in &draft.resources {
        if let Some(first) = seen.insert(resource.address.as_str(), resource) {
            return Err(ImportError::SameAddress {
                address: resource.address.to_string(),
                first: first.source.clone(),
                second: resource.source.clone(),
            });
        }
    }

    let mut root = MapBuilder::new();
    root.put("stack", Node::str(&draft.stack))
        .put("region", Node::str(&draft.region));
    let subnets = SubnetTiers::of(draft);
    root.put_opt("vpc", vpc(draft));
    root.put_opt("cluster", cluster(draft));
    root.put_opt("iam", iam(draft));
    root.put_nonempty("managedNodeGroups", node_groups(draft, &subnets));
    root.put_nonempty("fargateProfiles", fargate_profiles(draft));
    root.put_nonempty("loadBalancers", load_balancers(draft));
    root.put_opt("dns", dns(draft));
    root.put("adopt", adopt(draft));
    let Node::Map(entries) = root.build() else {
        unreachable!("a MapBuilder builds a map")
    };

    let mut out = String::new();
    out.push_str(&header(draft));
    out.push_str(&yaml::write(&entries));
    out.push_str(&unmapped_comment(draft));
    Ok(out)
}

fn header(draft: &Draft) -> String {
    format!(
        "# Written by `eksform import` from {} resources.\n\
         # Review it, then run `eksform plan`: every resource should show `<= adopt`\n\
         # and nothing should be created, replaced or deleted.\n",
        draft.resources.len()
    )
}

fn unmapped_comment(draft: &Draft) -> String {
    if draft.unmapped.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n# Not mapped: eksform does not manage these; they stay with the tool that made them.\n",
    );
    for unmapped in &draft.unmapped {
        out.push_str(&format!(
            "#   {} ({}): {}\n",
            unmapped.source, unmapped.resource_type, unmapped.reason
        ));
    }
    out
}

fn adopt(draft: &Draft) -> Node {
    let mut resources: Vec<&Imported> = draft.resources.iter().collect();
    resources.sort_by_key(|r| (kind_rank(&r.kind), r.address.to_string()));
    Node::List(
        resources
            .into_iter()
            .map(|r| {
                let mut entry = MapBuilder::new();
                entry
                    .put("address", Node::str(r.address.as_str()))
                    .put("id", Node::str(&r.id));
                (Some(r.source.clone()), entry.build())
            })
            .collect(),
    )
}

/// The kinds in the order of `kinds::ALL`, which is the order plans print.
fn kind_rank(kind: &str) -> usize {
    crate::kinds::ALL
        .iter()
        .position(|k| k.name() == kind)
        .unwrap_or(usize::MAX)
}

fn text<'a>(attributes: &'a Attributes, name: &str) -> Option<&'a str> {
    attributes.get(name).and_then(Value::as_str)
}

fn int(attributes: &Attributes, name: &str) -> Option<i64> {
    match attributes.get(name) {
        Some(Value::Int(i)) => Some(*i),
        _ => None,
    }
}

fn strings(attributes: &Attributes, name: &str) -> Vec<String> {
    crate::model::string_list(attributes, name)
}

/// The address's parts after the kind: `subnet.public.eu-west-1a` -> [public, eu-west-1a].
fn parts(resource: &Imported) -> Vec<&str> {
    resource.address.as_str().split('.').skip(1).collect()
}

/// Subnet ids by tier, to tell which tier a node group runs in.
struct SubnetTiers {
    public: BTreeSet<String>,
}

impl SubnetTiers {
    fn of(draft: &Draft) -> Self {
        let public = draft
            .of_kind("subnet")
            .into_iter()
            .filter(|s| parts(s).first() == Some(&"public"))
            .map(|s| s.id.clone())
            .collect();
        SubnetTiers { public }
    }

    fn all_public(&self, ids: &[String]) -> bool {
        !ids.is_empty() && ids.iter().all(|id| self.public.contains(id))
    }
}

fn vpc(draft: &Draft) -> Option<Node> {
    let vpc = draft.at(&crate::kinds::Vpc::address())?;
    let mut out = MapBuilder::new();
    out.put_opt("cidr", text(&vpc.attributes, "cidr_block").map(Node::str));

    // zone -> tier -> cidr
    let mut zones: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for subnet in draft.of_kind("subnet") {
        let [tier, zone] = parts(subnet)[..] else {
            continue;
        };
        if let Some(cidr) = text(&subnet.attributes, "cidr_block") {
            zones
                .entry(zone.to_string())
                .or_default()
                .insert(tier.to_string(), cidr.to_string());
        }
    }
    let nat_zones: Vec<String> = draft
        .of_kind("nat_gateway")
        .iter()
        .filter_map(|n| parts(n).first().map(|z| z.to_string()))
        .collect();
    let public_zones = zones.values().filter(|t| t.contains_key("public")).count();
    let mode = match nat_zones.len() {
        0 => "Disable",
        1 if public_zones > 1 => "Single",
        _ => "HighlyAvailable",
    };
    // A single NAT gateway lives in the first zone with a public subnet.
    let mut zone_order: Vec<String> = zones.keys().cloned().collect();
    if mode == "Single"
        && let Some(position) = zone_order.iter().position(|z| z == &nat_zones[0])
    {
        let nat_zone = zone_order.remove(position);
        zone_order.insert(0, nat_zone);
    }
    out.put_nonempty("availabilityZones", Node::strings(&zone_order));

    let mut subnets = MapBuilder::new();
    for tier in ["public", "private"] {
        let mut by_zone = MapBuilder::new();
        for (zone, tiers) in &zones {
            if let Some(cidr) = tiers.get(tier) {
                let mut subnet = MapBuilder::new();
                subnet.put("cidr", Node::str(cidr));
                by_zone.put(zone, subnet.build());
            }
        }
        if !by_zone.is_empty() {
            subnets.put(tier, by_zone.build());
        }
    }
    if !subnets.is_empty() {
        out.put("subnets", subnets.build());
    }

    let mut nat = MapBuilder::new();
    nat.put("gateway", Node::str(mode));
    if draft
        .at(&crate::kinds::RouteTable::shared_private_address())
        .is_some()
    {
        nat.put("privateRouteTables", Node::str("Shared"));
    }
    out.put("nat", nat.build());
    Some(out.build())
}

fn cluster(draft: &Draft) -> Option<Node> {
    let cluster = draft.at(&crate::kinds::EksCluster::address())?;
    let a = &cluster.attributes;
    let mut out = MapBuilder::new();
    out.put_opt("name", text(a, "name").map(Node::str));
    out.put_opt("version", text(a, "version").map(Node::str));
    let mut endpoints = MapBuilder::new();
    endpoints
        .put_opt(
            "publicAccess",
            a.get("endpoint_public_access")
                .and_then(Value::as_bool)
                .map(Node::Bool),
        )
        .put_opt(
            "privateAccess",
            a.get("endpoint_private_access")
                .and_then(Value::as_bool)
                .map(Node::Bool),
        );
    if !endpoints.is_empty() {
        out.put("endpoints", endpoints.build());
    }
    let cidrs = strings(a, "public_access_cidrs");
    if !cidrs.is_empty() {
        out.put("publicAccessCIDRs", Node::strings(&cidrs));
    }
    let log_types = strings(a, "log_types");
    let retention = draft
        .at(&crate::kinds::LogGroup::address())
        .and_then(|g| int(&g.attributes, "retention_in_days"));
    if !log_types.is_empty() || retention.is_some() {
        let mut logging = MapBuilder::new();
        logging.put_nonempty("enableTypes", Node::strings(&log_types));
        logging.put_opt("logRetentionInDays", retention.map(Node::Int));
        out.put("logging", logging.build());
    }

    let role_accounts = service_account_of_role(draft);
    let addons: Vec<Node> = draft
        .of_kind("addon")
        .into_iter()
        .map(|addon| {
            let mut entry = MapBuilder::new();
            entry.put_opt("name", text(&addon.attributes, "addon_name").map(Node::str));
            entry.put_opt(
                "version",
                text(&addon.attributes, "addon_version").map(Node::str),
            );
            entry.put_opt(
                "serviceAccount",
                text(&addon.attributes, "service_account_role_arn")
                    .and_then(|arn| role_accounts.get(arn))
                    .map(Node::str),
            );
            entry.build()
        })
        .collect();
    out.put_nonempty("addons", Node::list(addons));

    let entries: Vec<Node> = draft
        .of_kind("access_entry")
        .into_iter()
        .map(|entry| {
            let mut out = MapBuilder::new();
            out.put_opt(
                "principalARN",
                text(&entry.attributes, "principal_arn").map(Node::str),
            );
            let policies: Vec<Node> = crate::kinds::access_entry::policies(&entry.attributes)
                .into_iter()
                .map(|(arn, (scope_type, namespaces))| {
                    let mut scope = MapBuilder::new();
                    scope.put("type", Node::str(scope_type));
                    scope.put_nonempty("namespaces", Node::strings(&namespaces));
                    let mut policy = MapBuilder::new();
                    policy
                        .put("policyARN", Node::str(arn))
                        .put("accessScope", scope.build());
                    policy.build()
                })
                .collect();
            out.put_nonempty("accessPolicies", Node::list(policies));
            out.build()
        })
        .collect();
    out.put_nonempty("accessEntries", Node::list(entries));
    Some(out.build())
}

/// IRSA roles' ARNs -> `namespace/name` of their service account.
fn service_account_of_role(draft: &Draft) -> BTreeMap<String, String> {
    draft
        .of_kind("iam_role")
        .into_iter()
        .filter_map(|role| {
            let account = irsa_account(role)?;
            let arn = text(&role.attributes, "arn")?;
            Some((arn.to_string(), format!("{}/{}", account.0, account.1)))
        })
        .collect()
}

/// (namespace, name) of an `iam_role.irsa.<namespace>.<name>` role.
fn irsa_account(role: &Imported) -> Option<(String, String)> {
    // A namespace has no dot; a service account's name may.
    let (namespace, name) = role
        .address
        .as_str()
        .strip_prefix("iam_role.irsa.")?
        .split_once('.')?;
    Some((namespace.to_string(), name.to_string()))
}

fn iam(draft: &Draft) -> Option<Node> {
    let with_oidc = draft.at(&crate::kinds::OidcProvider::address()).is_some();
    let accounts: Vec<Node> = draft
        .of_kind("iam_role")
        .into_iter()
        .filter_map(|role| {
            let (namespace, name) = irsa_account(role)?;
            let mut metadata = MapBuilder::new();
            metadata
                .put("namespace", Node::str(namespace))
                .put("name", Node::str(name));
            let mut account = MapBuilder::new();
            account.put("metadata", metadata.build());
            account.put_nonempty(
                "attachPolicyARNs",
                Node::strings(strings(&role.attributes, "managed_policy_arns")),
            );
            account.put_opt("attachPolicy", inline_policy(&role.attributes));
            Some(account.build())
        })
        .collect();
    if !with_oidc && accounts.is_empty() {
        return None;
    }
    let mut out = MapBuilder::new();
    out.put("withOIDC", Node::Bool(with_oidc));
    out.put_nonempty("serviceAccounts", Node::list(accounts));
    Some(out.build())
}

/// A role's inline policies as one document: eksform keeps one inline policy
/// per service account (`attachPolicy`), so several are merged statement by
/// statement.
fn inline_policy(attributes: &Attributes) -> Option<Node> {
    let documents: Vec<serde_json::Value> = attributes
        .get("inline_policies")
        .and_then(Value::as_map)?
        .values()
        .filter_map(Value::as_str)
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect();
    match documents.as_slice() {
        [] => None,
        [one] => Some(Node::from_json(one)),
        many => {
            let statements: Vec<serde_json::Value> = many
                .iter()
                .flat_map(|d| match d.get("Statement") {
                    Some(serde_json::Value::Array(items)) => items.clone(),
                    Some(one) => vec![one.clone()],
                    None => vec![],
                })
                .collect();
            Some(Node::from_json(&serde_json::json!({
                "Version": "2012-10-17",
                "Statement": statements,
            })))
        }
    }
}

fn node_groups(draft: &Draft, subnets: &SubnetTiers) -> Node {
    Node::list(draft.of_kind("node_group").into_iter().map(|group| {
        let a = &group.attributes;
        let mut out = MapBuilder::new();
        out.put("name", Node::str(parts(group).join(".")));
        if text(a, "capacity_type") == Some("SPOT") {
            out.put("spot", Node::Bool(true));
        }
        out.put_nonempty("instanceTypes", Node::strings(strings(a, "instance_types")));
        let (min, max, desired) = crate::kinds::node_group::scaling(a.get("scaling"));
        if a.get("scaling").is_some() {
            out.put("minSize", Node::Int(min))
                .put("maxSize", Node::Int(max))
                .put("desiredCapacity", Node::Int(desired));
        }
        out.put_opt("volumeSize", int(a, "disk_size").map(Node::Int));
        if subnets.all_public(&strings(a, "subnet_ids")) {
            out.put("privateNetworking", Node::Bool(false));
        }
        if let Some(labels) = a.get("labels").and_then(Value::as_map) {
            out.put_nonempty("labels", string_map_node(labels));
        }
        let taints: Vec<Node> = a
            .get("taints")
            .and_then(Value::as_list)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_map)
            .map(|taint| {
                let field = |k: &str| taint.get(k).and_then(Value::as_str).unwrap_or_default();
                let mut out = MapBuilder::new();
                out.put("key", Node::str(field("key")));
                if !field("value").is_empty() {
                    out.put("value", Node::str(field("value")));
                }
                out.put("effect", Node::str(taint_effect(field("effect"))));
                out.build()
            })
            .collect();
        out.put_nonempty("taints", Node::list(taints));
        let mut update = MapBuilder::new();
        update
            .put_opt("maxUnavailable", int(a, "max_unavailable").map(Node::Int))
            .put_opt(
                "maxUnavailablePercentage",
                int(a, "max_unavailable_percentage").map(Node::Int),
            );
        if !update.is_empty() {
            out.put("updateConfig", update.build());
        }
        out.build()
    }))
}

/// AWS's taint effect as the spec writes it.
fn taint_effect(aws: &str) -> &str {
    match aws {
        "NO_SCHEDULE" => "NoSchedule",
        "PREFER_NO_SCHEDULE" => "PreferNoSchedule",
        "NO_EXECUTE" => "NoExecute",
        other => other,
    }
}

fn string_map_node(map: &BTreeMap<String, Value>) -> Node {
    Node::Map(
        map.iter()
            .filter_map(|(k, v)| {
                Some(Entry {
                    key: k.clone(),
                    value: Node::str(v.as_str()?),
                })
            })
            .collect(),
    )
}

fn fargate_profiles(draft: &Draft) -> Node {
    Node::list(draft.of_kind("fargate_profile").into_iter().map(|profile| {
        let mut out = MapBuilder::new();
        out.put("name", Node::str(parts(profile).join(".")));
        let selectors: Vec<Node> = profile
            .attributes
            .get("selectors")
            .and_then(Value::as_list)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_map)
            .map(|selector| {
                let mut out = MapBuilder::new();
                out.put(
                    "namespace",
                    Node::str(
                        selector
                            .get("namespace")
                            .and_then(Value::as_str)
                            .unwrap_or_default(),
                    ),
                );
                if let Some(labels) = selector.get("labels").and_then(Value::as_map) {
                    out.put_nonempty("labels", string_map_node(labels));
                }
                out.build()
            })
            .collect();
        out.put("selectors", Node::list(selectors));
        out.build()
    }))
}

fn load_balancers(draft: &Draft) -> Node {
    Node::list(draft.of_kind("load_balancer").into_iter().map(|lb| {
        let name = parts(lb).join(".");
        let a = &lb.attributes;
        let mut out = MapBuilder::new();
        out.put("name", Node::str(&name));
        if text(a, "scheme") == Some("internal") {
            out.put("scheme", Node::str("internal"));
        }
        out.put_opt(
            "idleTimeoutSeconds",
            int(a, "idle_timeout_seconds").map(Node::Int),
        );
        let group = crate::kinds::SecurityGroup::address(&name);
        if let Some(group) = draft.at(&group) {
            let mut cidrs: Vec<String> = strings(&group.attributes, "ingress")
                .iter()
                .filter_map(|rule| {
                    let mut fields = rule.splitn(3, ':');
                    let (_, port, cidr) = (fields.next()?, fields.next()?, fields.next()?);
                    (port == "80" || port == "443").then(|| cidr.to_string())
                })
                .collect();
            cidrs.sort();
            cidrs.dedup();
            if cidrs != ["0.0.0.0/0"] {
                out.put_nonempty("ingressCIDRs", Node::strings(&cidrs));
            }
        }
        let listener = |protocol: &str| draft.at(&crate::kinds::Listener::address(&name, protocol));
        if let Some(https) = listener("https")
            && let Some(arn) = text(&https.attributes, "certificate_arn")
        {
            let mut certificate = MapBuilder::new();
            certificate.put("arn", Node::str(arn));
            out.put("certificate", certificate.build());
            if listener("http").and_then(|l| text(&l.attributes, "action")) == Some("redirect") {
                out.put("httpsRedirect", Node::Bool(true));
            }
        }
        let groups = draft
            .of_kind("target_group")
            .into_iter()
            .filter(|g| parts(g).first() == Some(&name.as_str()))
            .collect::<Vec<_>>();
        let target_groups: Vec<Node> = groups
            .iter()
            .map(|g| {
                let mut out = MapBuilder::new();
                out.put("name", Node::str(parts(g)[1..].join(".")));
                out.put_opt("port", int(&g.attributes, "port").map(Node::Int));
                out.put_opt(
                    "targetType",
                    text(&g.attributes, "target_type").map(Node::str),
                );
                out.put_opt(
                    "healthCheckPath",
                    text(&g.attributes, "health_check_path").map(Node::str),
                );
                out.build()
            })
            .collect();
        out.put_nonempty("targetGroups", Node::list(target_groups));
        // Where the listeners forward, when it is not the first group.
        let forwarded = ["https", "http"]
            .iter()
            .filter_map(|p| listener(p))
            .find_map(|l| text(&l.attributes, "target_group_arn"))
            .and_then(|arn| {
                groups
                    .iter()
                    .find(|g| text(&g.attributes, "arn") == Some(arn) || g.id == arn)
            });
        if let Some(forwarded) = forwarded
            && groups.first().map(|g| &g.address) != Some(&forwarded.address)
        {
            out.put(
                "defaultTargetGroup",
                Node::str(parts(forwarded)[1..].join(".")),
            );
        }
        out.build()
    }))
}

fn dns(draft: &Draft) -> Option<Node> {
    let zone = draft.at(&crate::kinds::HostedZone::address())?;
    let mut out = MapBuilder::new();
    out.put_opt(
        "zone",
        text(&zone.attributes, "name").map(|n| Node::str(n.trim_end_matches('.'))),
    );
    let balancer_of = |dns_name: &str| {
        let wanted = dns_name.trim_end_matches('.').to_ascii_lowercase();
        let wanted = wanted
            .strip_prefix("dualstack.")
            .unwrap_or(&wanted)
            .to_string();
        draft.of_kind("load_balancer").into_iter().find(|lb| {
            text(&lb.attributes, "dns_name")
                .is_some_and(|n| n.trim_end_matches('.').eq_ignore_ascii_case(&wanted))
        })
    };
    let records: Vec<Node> = draft
        .of_kind("dns_record")
        .into_iter()
        .filter(|r| parts(r).first() != Some(&"validation"))
        .map(|record| {
            let a = &record.attributes;
            let mut out = MapBuilder::new();
            out.put_opt(
                "name",
                text(a, "name").map(|n| Node::str(n.trim_end_matches('.'))),
            );
            out.put_opt("type", text(a, "type").map(Node::str));
            match text(a, "alias_dns_name").and_then(balancer_of) {
                Some(lb) => {
                    let mut alias = MapBuilder::new();
                    alias.put("loadBalancer", Node::str(parts(lb).join(".")));
                    out.put("alias", alias.build());
                }
                None => {
                    out.put_opt("ttl", int(a, "ttl").map(Node::Int));
                    out.put_nonempty("values", Node::strings(strings(a, "values")));
                }
            }
            out.build()
        })
        .collect();
    out.put_nonempty("records", Node::list(records));
    Some(out.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Address;

    fn resource(address: &str, id: &str, attributes: &[(&str, Value)]) -> Imported {
        Imported {
            address: Address(address.into()),
            kind: address.split('.').next().unwrap().into(),
            id: id.into(),
            attributes: attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            source: format!("test.{address}"),
        }
    }

    fn network(shared: bool) -> Draft {
        let mut resources = vec![
            resource(
                "vpc.main",
                "vpc-1",
                &[("cidr_block", Value::string("10.0.0.0/16"))],
            ),
            resource(
                "nat_gateway.eu-west-1b",
                "nat-1",
                &[("subnet_id", Value::string("subnet-pb"))],
            ),
        ];
        for (tier, zone, cidr) in [
            ("public", "eu-west-1a", "10.0.101.0/24"),
            ("public", "eu-west-1b", "10.0.102.0/24"),
            ("private", "eu-west-1a", "10.0.1.0/24"),
            ("private", "eu-west-1b", "10.0.2.0/24"),
        ] {
            resources.push(resource(
                &format!("subnet.{tier}.{zone}"),
                &format!("subnet-{tier}-{zone}"),
                &[("cidr_block", Value::string(cidr))],
            ));
        }
        if shared {
            resources.push(resource("route_table.private", "rtb-1", &[]));
        }
        Draft {
            stack: "legacy".into(),
            region: "eu-west-1".into(),
            resources,
            unmapped: vec![super::super::Unmapped {
                source: "aws_sqs_queue.jobs".into(),
                resource_type: "aws_sqs_queue".into(),
                reason: "eksform does not model SQS queues".into(),
            }],
        }
    }

    #[test]
    fn a_single_nat_gateway_puts_its_zone_first_and_a_shared_table_is_kept() {
        let text = write_spec(&network(true)).unwrap();
        let loaded =
            crate::spec::parse(crate::diagnostics::SourceFile::new("t.yaml", text.clone()))
                .unwrap_or_else(|d| panic!("{d:?}\n{text}"));
        let model = crate::lower::model(&loaded.spec);
        let desired = crate::lower::desired(&model);
        let addresses: Vec<&str> = desired.iter().map(|d| d.address.as_str()).collect();
        assert!(
            addresses.contains(&"nat_gateway.eu-west-1b"),
            "{addresses:?}"
        );
        assert!(addresses.contains(&"route_table.private"), "{addresses:?}");
        assert!(!addresses.contains(&"route_table.private.eu-west-1a"));
        assert!(
            text.contains(
                "#   aws_sqs_queue.jobs (aws_sqs_queue): eksform does not model SQS queues"
            )
        );
        // Every adopt entry names an address the spec lowers to.
        for resource in &network(true).resources {
            assert_eq!(
                desired
                    .iter()
                    .find(|d| d.address == resource.address)
                    .and_then(|d| d.adopt.as_deref()),
                Some(resource.id.as_str()),
                "{}",
                resource.address
            );
        }
    }

    #[test]
    fn refuses_two_resources_at_one_address() {
        let mut draft = network(false);
        draft.resources.push(resource("vpc.main", "vpc-2", &[]));
        assert!(matches!(
            write_spec(&draft),
            Err(ImportError::SameAddress { .. })
        ));
        draft.stack = "Not A Stack".into();
        assert!(matches!(
            write_spec(&draft),
            Err(ImportError::InvalidStackName(_))
        ));
    }
}
