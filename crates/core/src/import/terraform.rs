//! A Terraform state (format version 4, as `terraform state pull` prints it)
//! mapped to eksform: each managed resource instance becomes an `Imported`
//! at the address eksform's lowering gives it, goes with one (a route table
//! association, a role's policy attachment), or is listed as `Unmapped` with
//! the reason. Plain resource addresses and the terraform-aws-modules `vpc`
//! and `eks` modules' addresses are read alike: what decides a resource's
//! place is what it is attached to (the cluster's role, the node groups'
//! subnets, the tables' routes), and the module's resource names only where
//! nothing else tells (a `public` or `private` subnet of the `vpc` module).
//! Data sources are not resources and are skipped. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::{Draft, Imported, Unmapped};
use crate::kinds;
use crate::model::{Address, Attributes, Value};

/// What a state file held, mapped.
#[derive(Debug, Clone, PartialEq)]
pub struct TerraformImport {
    pub draft: Draft,
    /// Every managed resource instance of the state and what becomes of it,
    /// in the state's order.
    pub instances: Vec<StateInstance>,
}

/// One managed resource instance of the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateInstance {
    /// `module.vpc.aws_subnet.private[1]`, as `terraform state rm` takes it.
    pub address: String,
    /// The resource without its instance key (`module.vpc.aws_subnet.private`),
    /// as a `removed` block's `from` takes it.
    pub resource: String,
    /// The module path (`module.vpc`, `module.eks.module.kms`), empty at the root.
    pub module: String,
    pub resource_type: String,
    pub fate: Fate,
}

/// What becomes of a state's resource instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Taken over by eksform at this address.
    Adopted(Address),
    /// Part of an adopted resource in eksform's model (a route, a subnet
    /// association, a role's policy attachment, an access policy association,
    /// a security group rule): Terraform forgets it with its owner.
    GoesWith(Address),
    /// Left to Terraform. `forget_freely`: Terraform never deletes it anyway
    /// (the `aws_default_*` resources that come with a VPC), so forgetting it
    /// with the rest of its module loses nothing.
    Unmapped { forget_freely: bool },
}

impl Fate {
    pub fn leaves_terraform(&self) -> bool {
        matches!(self, Fate::Adopted(_) | Fate::GoesWith(_))
    }
}

/// Why a file is not a state eksform reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("not a Terraform state: {0}")]
    NotJson(String),
    #[error(
        "Terraform state format version {0} is not supported: eksform reads version 4, as `terraform state pull` prints it (Terraform 0.12 and later)"
    )]
    UnsupportedVersion(String),
    #[error("not a Terraform state: {0}")]
    Malformed(String),
}

/// Reads a state's JSON text and maps it (see the module doc).
pub fn import(text: &str, stack: &str) -> Result<TerraformImport, StateError> {
    let state: Json = serde_json::from_str(text).map_err(|e| StateError::NotJson(e.to_string()))?;
    let Some(object) = state.as_object() else {
        return Err(StateError::Malformed(
            "the file holds JSON, but not an object".into(),
        ));
    };
    match object.get("version") {
        Some(Json::Number(n)) if n.as_u64() == Some(4) => {}
        Some(other) => return Err(StateError::UnsupportedVersion(other.to_string())),
        None => {
            return Err(StateError::Malformed(
                "it has no `version` field (`terraform state pull` prints one)".into(),
            ));
        }
    }
    let resources = match object.get("resources") {
        Some(Json::Array(resources)) => resources.as_slice(),
        None => &[],
        Some(_) => {
            return Err(StateError::Malformed("`resources` is not a list".into()));
        }
    };
    let mut instances = Vec::new();
    for resource in resources {
        instances.extend(read_resource(resource)?);
    }
    Ok(Mapper::new(&instances).map(stack))
}

/// A managed resource instance as the state holds it.
#[derive(Debug, Clone)]
struct Instance {
    address: String,
    resource: String,
    module: String,
    rtype: String,
    /// The resource's name in its module (`this`, `private`).
    name: String,
    /// The instance key: `0`, `"default"`.
    key: Option<Json>,
    attrs: Json,
}

impl Instance {
    fn str(&self, name: &str) -> Option<&str> {
        text(&self.attrs, name)
    }

    fn id(&self) -> &str {
        self.str("id").unwrap_or_default()
    }

    /// The eks module's key of a node group or Fargate profile
    /// (`module.eks.module.eks_managed_node_group["default"]`), or the
    /// instance's own string key.
    fn key_name(&self) -> Option<String> {
        let from_module = self
            .module
            .rsplit_once("module.")
            .and_then(|(_, last)| last.split_once("[\""))
            .map(|(_, key)| key.trim_end_matches("\"]").to_string());
        from_module.or_else(|| match &self.key {
            Some(Json::String(key)) => Some(key.clone()),
            _ => None,
        })
    }
}

fn read_resource(resource: &Json) -> Result<Vec<Instance>, StateError> {
    let field = |name: &str| resource.get(name).and_then(Json::as_str);
    if field("mode") != Some("managed") {
        return Ok(Vec::new());
    }
    let (Some(rtype), Some(name)) = (field("type"), field("name")) else {
        return Err(StateError::Malformed(
            "a resource has no `type` or `name`".into(),
        ));
    };
    let module = field("module").unwrap_or_default().to_string();
    let resource_address = if module.is_empty() {
        format!("{rtype}.{name}")
    } else {
        format!("{module}.{rtype}.{name}")
    };
    let Some(instances) = resource.get("instances").and_then(Json::as_array) else {
        return Err(StateError::Malformed(format!(
            "{resource_address} has no `instances` list"
        )));
    };
    Ok(instances
        .iter()
        .map(|instance| {
            let key = instance.get("index_key").cloned();
            let address = match &key {
                Some(Json::Number(n)) => format!("{resource_address}[{n}]"),
                Some(Json::String(s)) => format!("{resource_address}[{}]", Json::from(s.clone())),
                _ => resource_address.clone(),
            };
            Instance {
                address,
                resource: resource_address.clone(),
                module: module.clone(),
                rtype: rtype.to_string(),
                name: name.to_string(),
                key,
                attrs: instance.get("attributes").cloned().unwrap_or(Json::Null),
            }
        })
        .collect())
}

fn text<'a>(attrs: &'a Json, name: &str) -> Option<&'a str> {
    attrs
        .get(name)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}

fn strings_of(attrs: &Json, name: &str) -> Vec<String> {
    let mut items: Vec<String> = attrs
        .get(name)
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    items.sort();
    items.dedup();
    items
}

/// The first (only) object of a nested block (`vpc_config`, `scaling_config`).
fn block<'a>(attrs: &'a Json, name: &str) -> Option<&'a Json> {
    attrs.get(name)?.as_array()?.first()
}

fn int_of(attrs: &Json, name: &str) -> Option<i64> {
    attrs.get(name).and_then(Json::as_i64)
}

fn bool_of(attrs: &Json, name: &str) -> Option<bool> {
    attrs.get(name).and_then(Json::as_bool)
}

fn string_map_of(value: Option<&Json>) -> BTreeMap<String, String> {
    value
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The tags AWS holds: `tags_all` (with the provider's default tags), else `tags`.
fn tags_value(attrs: &Json) -> Value {
    let all = string_map_of(attrs.get("tags_all"));
    Value::string_map(&if all.is_empty() {
        string_map_of(attrs.get("tags"))
    } else {
        all
    })
}

fn set(items: &[String]) -> Value {
    Value::string_set(items)
}

fn string_or_null(s: Option<&str>) -> Value {
    s.map_or(Value::Null, Value::string)
}

/// A name a spec accepts for a node group, Fargate profile or load balancer:
/// the first candidate that fits, else the last one cut to fit.
fn spec_name(candidates: &[Option<String>], max: usize, underscores: bool) -> String {
    let fits = |name: &str| {
        !name.is_empty()
            && name.len() <= max
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || (underscores && c == '_'))
    };
    let candidates: Vec<&String> = candidates.iter().flatten().collect();
    if let Some(name) = candidates.iter().find(|c| fits(c)) {
        return name.to_string();
    }
    let last = candidates.last().map(|s| s.as_str()).unwrap_or("imported");
    let cleaned: String = last
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let cleaned = cleaned.trim_matches('-');
    let cleaned = if cleaned.is_empty() {
        "imported"
    } else {
        cleaned
    };
    cleaned
        .chars()
        .take(max)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// The instances and what each becomes, built up kind by kind.
struct Mapper<'a> {
    instances: &'a [Instance],
    fates: Vec<Option<Fate>>,
    reasons: BTreeMap<usize, String>,
    resources: Vec<Imported>,
}

impl<'a> Mapper<'a> {
    fn new(instances: &'a [Instance]) -> Self {
        Self {
            instances,
            fates: vec![None; instances.len()],
            reasons: BTreeMap::new(),
            resources: Vec::new(),
        }
    }

    /// An instance, borrowed from the state rather than from the mapper.
    fn at(&self, index: usize) -> &'a Instance {
        let instances: &'a [Instance] = self.instances;
        &instances[index]
    }

    fn of_type(&self, rtype: &str) -> Vec<usize> {
        (0..self.instances.len())
            .filter(|&i| self.instances[i].rtype == rtype && self.fates[i].is_none())
            .collect()
    }

    fn adopt(
        &mut self,
        index: usize,
        kind: &str,
        address: Address,
        id: &str,
        attributes: Attributes,
    ) {
        let instance = self.at(index);
        self.fates[index] = Some(Fate::Adopted(address.clone()));
        self.resources.push(Imported {
            address,
            kind: kind.into(),
            id: id.into(),
            attributes,
            source: instance.address.clone(),
        });
    }

    fn goes_with(&mut self, index: usize, address: &Address) {
        self.fates[index] = Some(Fate::GoesWith(address.clone()));
    }

    fn leave(&mut self, index: usize, reason: impl Into<String>) {
        if self.fates[index].is_none() {
            self.fates[index] = Some(Fate::Unmapped {
                forget_freely: false,
            });
            self.reasons.insert(index, reason.into());
        }
    }

    fn adopted_at(&self, address: &Address) -> Option<&Imported> {
        self.resources.iter().find(|r| &r.address == address)
    }

    fn map(mut self, stack: &str) -> TerraformImport {
        let cluster = self.cluster();
        let network = self.network(cluster.as_ref());
        self.cluster_parts(cluster.as_ref(), &network);
        self.load_balancers(&network);
        self.dns();
        self.the_rest();

        let region = self.region();
        let instances: Vec<StateInstance> = self
            .instances
            .iter()
            .zip(&self.fates)
            .map(|(instance, fate)| StateInstance {
                address: instance.address.clone(),
                resource: instance.resource.clone(),
                module: instance.module.clone(),
                resource_type: instance.rtype.clone(),
                fate: fate.clone().unwrap_or(Fate::Unmapped {
                    forget_freely: false,
                }),
            })
            .collect();
        let unmapped = self
            .reasons
            .iter()
            .map(|(&index, reason)| Unmapped {
                source: self.instances[index].address.clone(),
                resource_type: self.instances[index].rtype.clone(),
                reason: reason.clone(),
            })
            .collect();
        TerraformImport {
            draft: Draft {
                stack: stack.to_string(),
                region,
                resources: self.resources,
                unmapped,
            },
            instances,
        }
    }

    /// The region of the first ARN or availability zone an instance holds.
    fn region(&self) -> String {
        for instance in self.instances {
            if let Some(arn) = instance.str("arn")
                && let Some(region) = arn.split(':').nth(3).filter(|r| !r.is_empty())
            {
                return region.to_string();
            }
        }
        for instance in self.instances {
            if let Some(zone) = instance.str("availability_zone") {
                return zone
                    .trim_end_matches(|c: char| c.is_ascii_lowercase())
                    .to_string();
            }
        }
        String::new()
    }

    fn cluster(&mut self) -> Option<ClusterFacts> {
        let clusters = self.of_type("aws_eks_cluster");
        let (&first, rest) = clusters.split_first()?;
        for &other in rest {
            self.leave(
                other,
                "a stack has one cluster: import this state once per cluster (several stacks)",
            );
        }
        let c = self.at(first);
        let a = &c.attrs;
        let vpc = block(a, "vpc_config").cloned().unwrap_or(Json::Null);
        let issuer = block(a, "identity")
            .and_then(|i| block(i, "oidc"))
            .and_then(|o| text(o, "issuer"))
            .unwrap_or_default()
            .to_string();
        let mut log_types = strings_of(a, "enabled_cluster_log_types");
        log_types.sort();
        let facts = ClusterFacts {
            name: c.str("name").unwrap_or_default().to_string(),
            role_arn: c.str("role_arn").unwrap_or_default().to_string(),
            vpc_id: text(&vpc, "vpc_id").unwrap_or_default().to_string(),
            issuer: issuer.clone(),
        };
        let mut attributes = Attributes::new();
        let mut put = |name: &str, value: Value| {
            attributes.insert(name.into(), value);
        };
        put("name", Value::string(&facts.name));
        put("version", string_or_null(c.str("version")));
        put("role_arn", Value::string(&facts.role_arn));
        put("subnet_ids", set(&strings_of(&vpc, "subnet_ids")));
        put(
            "endpoint_public_access",
            Value::Bool(bool_of(&vpc, "endpoint_public_access").unwrap_or(true)),
        );
        put(
            "endpoint_private_access",
            Value::Bool(bool_of(&vpc, "endpoint_private_access").unwrap_or(false)),
        );
        put(
            "public_access_cidrs",
            set(&strings_of(&vpc, "public_access_cidrs")),
        );
        put(
            "log_types",
            Value::List(log_types.into_iter().map(Value::String).collect()),
        );
        put("arn", Value::string(c.str("arn").unwrap_or_default()));
        put(
            "endpoint",
            Value::string(c.str("endpoint").unwrap_or_default()),
        );
        put("oidc_issuer", Value::string(issuer));
        put(
            "security_group_id",
            Value::string(text(&vpc, "cluster_security_group_id").unwrap_or_default()),
        );
        put(
            "certificate_authority_data",
            Value::string(
                block(a, "certificate_authority")
                    .and_then(|ca| text(ca, "data"))
                    .unwrap_or_default(),
            ),
        );
        put(
            "created_at",
            Value::string(c.str("created_at").unwrap_or_default()),
        );
        put("tags", tags_value(a));
        let name = facts.name.clone();
        self.adopt(
            first,
            "eks_cluster",
            kinds::EksCluster::address(),
            &name,
            attributes,
        );
        Some(facts)
    }

    fn network(&mut self, cluster: Option<&ClusterFacts>) -> Network {
        let mut network = Network::default();
        let vpcs = self.of_type("aws_vpc");
        let chosen = vpcs
            .iter()
            .copied()
            .find(|&i| cluster.is_some_and(|c| self.instances[i].id() == c.vpc_id))
            .or(vpcs.first().copied());
        for &other in &vpcs {
            if Some(other) != chosen {
                self.leave(
                    other,
                    "a stack has one VPC (the cluster's, else the first): import this state once per VPC",
                );
            }
        }
        let Some(vpc) = chosen else {
            return network;
        };
        let v = self.at(vpc);
        network.vpc_id = v.id().to_string();
        let mut attributes = Attributes::new();
        attributes.insert(
            "cidr_block".into(),
            Value::string(v.str("cidr_block").unwrap_or_default()),
        );
        attributes.insert(
            "enable_dns_support".into(),
            Value::Bool(bool_of(&v.attrs, "enable_dns_support").unwrap_or(true)),
        );
        attributes.insert(
            "enable_dns_hostnames".into(),
            Value::Bool(bool_of(&v.attrs, "enable_dns_hostnames").unwrap_or(false)),
        );
        attributes.insert("tags".into(), tags_value(&v.attrs));
        let id = network.vpc_id.clone();
        self.adopt(vpc, "vpc", kinds::Vpc::address(), &id, attributes);

        let tables = self.route_tables(&network.vpc_id);
        self.subnets(&mut network, &tables);
        self.internet_gateway(&network);
        self.nat_gateways(&mut network);
        self.place_route_tables(&network, tables);
        network
    }

    /// The VPC's route tables with their routes (inline and `aws_route`) and
    /// associations (`aws_route_table_association`).
    fn route_tables(&mut self, vpc_id: &str) -> Vec<TableFacts> {
        let mut tables: Vec<TableFacts> = self
            .of_type("aws_route_table")
            .into_iter()
            .filter(|&i| self.instances[i].str("vpc_id") == Some(vpc_id))
            .map(|index| {
                let t = self.at(index);
                let mut routes = BTreeMap::new();
                for route in t
                    .attrs
                    .get("route")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                {
                    add_route(&mut routes, route, "cidr_block");
                }
                TableFacts {
                    index,
                    id: t.id().to_string(),
                    routes,
                    associations: BTreeMap::new(),
                    parts: Vec::new(),
                }
            })
            .collect();
        let mut unmodelled_routes = Vec::new();
        for index in self.of_type("aws_route") {
            let route = self.at(index);
            if let Some(table) = tables
                .iter_mut()
                .find(|t| Some(t.id.as_str()) == route.str("route_table_id"))
            {
                if add_route(&mut table.routes, &route.attrs, "destination_cidr_block") {
                    table.parts.push(index);
                } else {
                    // Terraform keeps managing it: eksform never touches it.
                    unmodelled_routes.push(index);
                }
            }
        }
        for index in unmodelled_routes {
            self.leave(
                index,
                "a route eksform does not model (not to a NAT or internet gateway): Terraform keeps managing it",
            );
        }
        for index in self.of_type("aws_route_table_association") {
            let association = self.at(index);
            if let (Some(table), Some(subnet)) = (
                tables
                    .iter_mut()
                    .find(|t| Some(t.id.as_str()) == association.str("route_table_id")),
                association.str("subnet_id"),
            ) {
                table
                    .associations
                    .insert(subnet.to_string(), association.id().to_string());
                table.parts.push(index);
            }
        }
        tables
    }

    fn subnets(&mut self, network: &mut Network, tables: &[TableFacts]) {
        // zone -> tier -> instance
        let mut placed: BTreeMap<(String, &'static str), usize> = BTreeMap::new();
        for index in self.of_type("aws_subnet") {
            let s = self.at(index);
            if s.str("vpc_id") != Some(network.vpc_id.as_str()) {
                self.leave(index, "in another VPC than the stack's");
                continue;
            }
            let routes_to_internet = tables.iter().any(|t| {
                t.associations.contains_key(s.id())
                    && t.routes.values().any(|target| target.starts_with("igw-"))
            });
            let tier = match (s.module.is_empty(), s.name.as_str()) {
                (false, "public") => Some("public"),
                (false, "private") => Some("private"),
                (false, _) => None,
                (true, _) if routes_to_internet => Some("public"),
                (true, _) if bool_of(&s.attrs, "map_public_ip_on_launch") == Some(true) => {
                    Some("public")
                }
                (true, _) => Some("private"),
            };
            let Some(tier) = tier else {
                let name = s.name.clone();
                self.leave(
                    index,
                    format!(
                        "the module's `{name}` subnets: eksform models a public and a private subnet per zone"
                    ),
                );
                continue;
            };
            let zone = s.str("availability_zone").unwrap_or_default().to_string();
            if placed.contains_key(&(zone.clone(), tier)) {
                self.leave(
                    index,
                    format!("a second {tier} subnet in {zone}: eksform has one per zone and tier"),
                );
                continue;
            }
            placed.insert((zone, tier), index);
        }
        let private_zones: BTreeSet<String> = placed
            .keys()
            .filter(|(_, tier)| *tier == "private")
            .map(|(zone, _)| zone.clone())
            .collect();
        for ((zone, tier), index) in placed {
            if !private_zones.contains(&zone) {
                self.leave(
                    index,
                    format!(
                        "{zone} has no private subnet, and every zone of an eksform VPC has one"
                    ),
                );
                continue;
            }
            let s = self.at(index);
            let mut attributes = Attributes::new();
            attributes.insert("vpc_id".into(), Value::string(&network.vpc_id));
            attributes.insert(
                "cidr_block".into(),
                Value::string(s.str("cidr_block").unwrap_or_default()),
            );
            attributes.insert("availability_zone".into(), Value::string(&zone));
            attributes.insert(
                "map_public_ip_on_launch".into(),
                Value::Bool(bool_of(&s.attrs, "map_public_ip_on_launch").unwrap_or(false)),
            );
            attributes.insert("tags".into(), tags_value(&s.attrs));
            let id = s.id().to_string();
            network.subnets.push((tier, zone.clone(), id.clone()));
            self.adopt(
                index,
                "subnet",
                kinds::Subnet::address(tier, &zone),
                &id,
                attributes,
            );
        }
    }

    fn internet_gateway(&mut self, network: &Network) {
        let mut found = false;
        for index in self.of_type("aws_internet_gateway") {
            let g = self.at(index);
            if g.str("vpc_id") != Some(network.vpc_id.as_str()) {
                self.leave(index, "attached to another VPC than the stack's");
                continue;
            }
            if found || network.ids("public").is_empty() {
                self.leave(
                    index,
                    "eksform has an internet gateway only for the public subnets, one per VPC",
                );
                continue;
            }
            found = true;
            let mut attributes = Attributes::new();
            attributes.insert("vpc_id".into(), Value::string(&network.vpc_id));
            attributes.insert("tags".into(), tags_value(&g.attrs));
            let id = g.id().to_string();
            self.adopt(
                index,
                "internet_gateway",
                kinds::InternetGateway::address(),
                &id,
                attributes,
            );
        }
    }

    fn nat_gateways(&mut self, network: &mut Network) {
        let public = network.ids("public");
        let mut by_zone: BTreeMap<String, usize> = BTreeMap::new();
        for index in self.of_type("aws_nat_gateway") {
            let n = self.at(index);
            if n.str("connectivity_type") == Some("private") {
                self.leave(
                    index,
                    "a private NAT gateway: eksform's NAT gateways are public",
                );
                continue;
            }
            let zone = n.str("subnet_id").and_then(|s| public.get(s)).cloned();
            match zone {
                Some(zone) if !by_zone.contains_key(&zone) => {
                    by_zone.insert(zone, index);
                }
                Some(zone) => self.leave(
                    index,
                    format!("a second NAT gateway in {zone}: eksform has at most one per zone"),
                ),
                None => self.leave(index, "not in one of the stack's public subnets"),
            }
        }
        // One gateway, or one per zone with a public subnet: eksform's two modes.
        let public_zones = public.len();
        if by_zone.len() > 1 && by_zone.len() < public_zones {
            let extra: Vec<(String, usize)> = by_zone
                .iter()
                .skip(1)
                .map(|(z, i)| (z.clone(), *i))
                .collect();
            for (zone, index) in extra {
                by_zone.remove(&zone);
                self.leave(
                    index,
                    "eksform runs one NAT gateway or one in every zone with a public subnet, and this VPC has some zones without",
                );
            }
        }
        let eips = self.of_type("aws_eip");
        for (zone, index) in by_zone {
            let n = self.at(index);
            let id = n.id().to_string();
            let allocation = n.str("allocation_id").unwrap_or_default().to_string();
            let mut attributes = Attributes::new();
            attributes.insert(
                "subnet_id".into(),
                Value::string(n.str("subnet_id").unwrap_or_default()),
            );
            attributes.insert("allocation_id".into(), Value::string(&allocation));
            attributes.insert(
                "public_ip".into(),
                Value::string(n.str("public_ip").unwrap_or_default()),
            );
            attributes.insert("tags".into(), tags_value(&n.attrs));
            network.nat.insert(id.clone(), zone.clone());
            self.adopt(
                index,
                "nat_gateway",
                kinds::NatGateway::address(&zone),
                &id,
                attributes,
            );
            if let Some(&eip) = eips.iter().find(|&&e| {
                let e = self.at(e);
                e.str("allocation_id").or(e.str("id")) == Some(allocation.as_str())
            }) {
                let e = self.at(eip);
                let mut attributes = Attributes::new();
                attributes.insert(
                    "public_ip".into(),
                    Value::string(e.str("public_ip").unwrap_or_default()),
                );
                attributes.insert("tags".into(), tags_value(&e.attrs));
                self.adopt(
                    eip,
                    "elastic_ip",
                    kinds::ElasticIp::address(&zone),
                    &allocation,
                    attributes,
                );
            }
        }
    }

    fn place_route_tables(&mut self, network: &Network, tables: Vec<TableFacts>) {
        let public = network.ids("public");
        let private = network.ids("private");
        let mut public_done = false;
        let private_tables: Vec<&TableFacts> = tables
            .iter()
            .filter(|t| {
                !t.associations.is_empty() && t.associations.keys().all(|s| private.contains_key(s))
            })
            .collect();
        // One table for every zone's private subnets: the vpc module's
        // `single_nat_gateway` layout.
        let shared = private_tables.len() == 1
            && private.len() > 1
            && private_tables[0].associations.len() == private.len()
            && network.nat.len() <= 1;
        for table in &tables {
            let associated: Vec<&String> = table.associations.keys().collect();
            let place = if !associated.is_empty()
                && associated.iter().all(|s| public.contains_key(*s))
                && table.routes.values().any(|t| t.starts_with("igw-"))
            {
                (!public_done).then(kinds::RouteTable::public_address)
            } else if shared && private_tables[0].id == table.id {
                Some(kinds::RouteTable::shared_private_address())
            } else if !shared
                && associated.len() == 1
                && let Some(zone) = private.get(associated[0])
            {
                Some(kinds::RouteTable::private_address(zone))
            } else {
                None
            };
            let Some(address) = place else {
                let reason = if associated.is_empty() {
                    "no subnet of the stack uses it"
                } else if associated
                    .iter()
                    .all(|s| !public.contains_key(*s) && !private.contains_key(*s))
                {
                    "the subnets it routes stay with Terraform"
                } else if public_done && associated.iter().all(|s| public.contains_key(*s)) {
                    "a second public route table: eksform has one for every public subnet"
                } else {
                    "its subnets are not laid out as eksform's: one public table, and one private table per zone or one for every zone"
                };
                self.leave(table.index, reason);
                continue;
            };
            if address == kinds::RouteTable::public_address() {
                public_done = true;
            }
            let routes: BTreeMap<String, Value> = table
                .routes
                .iter()
                .map(|(cidr, target)| (cidr.clone(), Value::string(target)))
                .collect();
            let t = self.at(table.index);
            let mut attributes = Attributes::new();
            attributes.insert("vpc_id".into(), Value::string(&network.vpc_id));
            attributes.insert("routes".into(), Value::Map(routes));
            attributes.insert(
                "subnet_ids".into(),
                Value::List(
                    table
                        .associations
                        .keys()
                        .map(|s| Value::string(s.clone()))
                        .collect(),
                ),
            );
            attributes.insert(
                "associations".into(),
                Value::Map(
                    table
                        .associations
                        .iter()
                        .map(|(s, a)| (s.clone(), Value::string(a.clone())))
                        .collect(),
                ),
            );
            attributes.insert("tags".into(), tags_value(&t.attrs));
            self.adopt(
                table.index,
                "route_table",
                address.clone(),
                &table.id,
                attributes,
            );
            for &part in &table.parts {
                self.goes_with(part, &address);
            }
        }
    }

    /// Roles, node groups, Fargate profiles, the OIDC provider, add-ons,
    /// access entries and the log group of the cluster.
    fn cluster_parts(&mut self, cluster: Option<&ClusterFacts>, network: &Network) {
        let roles = self.role_facts();
        let Some(cluster) = cluster else {
            return;
        };
        let role_at = |arn: &str| roles.iter().find(|r| r.arn == arn);
        if let Some(role) = role_at(&cluster.role_arn) {
            self.adopt_role(role, IamRoleAddress::Fixed("cluster"));
        }
        let private: BTreeSet<String> = network.ids("private").into_keys().collect();
        let public: BTreeSet<String> = network.ids("public").into_keys().collect();

        // Node groups: one shared node role, in all private (or all public) subnets.
        let mut node_role: Option<String> = None;
        let mut group_names = BTreeSet::new();
        for index in self.of_type("aws_eks_node_group") {
            let g = self.at(index);
            if g.str("cluster_name") != Some(cluster.name.as_str()) {
                self.leave(index, "a node group of another cluster");
                continue;
            }
            let subnets: BTreeSet<String> =
                strings_of(&g.attrs, "subnet_ids").into_iter().collect();
            let role = g.str("node_role_arn").unwrap_or_default().to_string();
            let reason = if block(&g.attrs, "launch_template").is_some() {
                Some("it runs from a launch template, which eksform does not model (eksform's node groups set their disk and instance types themselves)".to_string())
            } else if subnets != private && subnets != public {
                Some("its subnets are not all the stack's private (or all its public) subnets, as eksform places a node group".to_string())
            } else if node_role.as_ref().is_some_and(|r| r != &role) {
                Some("its node role differs from the other node groups': eksform gives every node group one node role".to_string())
            } else {
                None
            };
            if let Some(reason) = reason {
                self.leave(index, reason);
                continue;
            }
            node_role = Some(role.clone());
            let name = spec_name(
                &[
                    g.key_name(),
                    Some(g.name.clone()),
                    g.str("node_group_name").map(str::to_string),
                ],
                63,
                true,
            );
            if !group_names.insert(name.clone()) {
                self.leave(index, format!("a second node group named {name}"));
                continue;
            }
            let a = &g.attrs;
            let scaling = block(a, "scaling_config");
            let update = block(a, "update_config");
            let positive = |v: Option<i64>| v.filter(|&n| n > 0).map_or(Value::Null, Value::Int);
            let mut attributes = Attributes::new();
            let mut put = |name: &str, value: Value| {
                attributes.insert(name.into(), value);
            };
            put("cluster_name", Value::string(&cluster.name));
            put(
                "nodegroup_name",
                Value::string(g.str("node_group_name").unwrap_or_default()),
            );
            put("node_role_arn", Value::string(&role));
            put("subnet_ids", set(&subnets.into_iter().collect::<Vec<_>>()));
            put(
                "capacity_type",
                Value::string(g.str("capacity_type").unwrap_or("ON_DEMAND")),
            );
            put("instance_types", set(&strings_of(a, "instance_types")));
            put("disk_size", positive(int_of(a, "disk_size")));
            put("version", string_or_null(g.str("version")));
            put("labels", Value::string_map(&string_map_of(a.get("labels"))));
            put(
                "taints",
                Value::List(
                    a.get("taint")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .map(|t| {
                            kinds::node_group::taint_value(
                                text(t, "key").unwrap_or_default(),
                                text(t, "value").unwrap_or_default(),
                                text(t, "effect").unwrap_or_default(),
                            )
                        })
                        .collect(),
                ),
            );
            let size = |name: &str| scaling.and_then(|s| int_of(s, name)).unwrap_or(0);
            put(
                "scaling",
                kinds::node_group::scaling_value(
                    size("min_size"),
                    size("max_size"),
                    size("desired_size"),
                ),
            );
            put(
                "max_unavailable",
                positive(update.and_then(|u| int_of(u, "max_unavailable"))),
            );
            put(
                "max_unavailable_percentage",
                positive(update.and_then(|u| int_of(u, "max_unavailable_percentage"))),
            );
            put("arn", Value::string(g.str("arn").unwrap_or_default()));
            put("tags", tags_value(a));
            let id = g.str("node_group_name").unwrap_or_default().to_string();
            self.adopt(
                index,
                "node_group",
                kinds::NodeGroup::address(&name),
                &id,
                attributes,
            );
        }
        if let Some(role) = node_role.as_deref().and_then(role_at) {
            self.adopt_role(role, IamRoleAddress::Fixed("node"));
        }

        // Fargate profiles: one shared pod execution role, in the private subnets.
        let mut pod_role: Option<String> = None;
        for index in self.of_type("aws_eks_fargate_profile") {
            let p = self.at(index);
            if p.str("cluster_name") != Some(cluster.name.as_str()) {
                self.leave(index, "a Fargate profile of another cluster");
                continue;
            }
            let subnets: BTreeSet<String> =
                strings_of(&p.attrs, "subnet_ids").into_iter().collect();
            let role = p
                .str("pod_execution_role_arn")
                .unwrap_or_default()
                .to_string();
            if subnets != private {
                self.leave(index, "its subnets are not the stack's private subnets, where eksform places a Fargate profile");
                continue;
            }
            if pod_role.as_ref().is_some_and(|r| r != &role) {
                self.leave(index, "its pod execution role differs from the other profiles': eksform gives every profile one role");
                continue;
            }
            pod_role = Some(role.clone());
            let profile_name = p
                .str("fargate_profile_name")
                .unwrap_or_default()
                .to_string();
            let name = spec_name(&[Some(profile_name.clone()), p.key_name()], 63, true);
            let selectors = p
                .attrs
                .get("selector")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .map(|s| {
                    kinds::fargate_profile::selector_value(
                        text(s, "namespace").unwrap_or_default(),
                        &string_map_of(s.get("labels")),
                    )
                })
                .collect();
            let mut attributes = Attributes::new();
            attributes.insert("cluster_name".into(), Value::string(&cluster.name));
            attributes.insert("name".into(), Value::string(&profile_name));
            attributes.insert("pod_execution_role_arn".into(), Value::string(&role));
            attributes.insert(
                "subnet_ids".into(),
                set(&subnets.into_iter().collect::<Vec<_>>()),
            );
            attributes.insert("selectors".into(), Value::List(selectors));
            attributes.insert(
                "arn".into(),
                Value::string(p.str("arn").unwrap_or_default()),
            );
            attributes.insert("tags".into(), tags_value(&p.attrs));
            self.adopt(
                index,
                "fargate_profile",
                kinds::FargateProfile::address(&name),
                &profile_name,
                attributes,
            );
        }
        if let Some(role) = pod_role.as_deref().and_then(role_at) {
            self.adopt_role(role, IamRoleAddress::Fixed("fargate"));
        }

        // The cluster's OIDC provider.
        let issuer_host = cluster.issuer.trim_start_matches("https://").to_string();
        let mut provider_arn = None;
        for index in self.of_type("aws_iam_openid_connect_provider") {
            let p = self.at(index);
            let url = p.str("url").unwrap_or_default();
            if issuer_host.is_empty()
                || url.trim_start_matches("https://") != issuer_host
                || provider_arn.is_some()
            {
                self.leave(index, "not the cluster's OIDC provider");
                continue;
            }
            let arn = p.str("arn").unwrap_or(p.id()).to_string();
            let mut attributes = Attributes::new();
            attributes.insert(
                "url".into(),
                Value::string(format!("https://{issuer_host}")),
            );
            attributes.insert(
                "client_ids".into(),
                set(&strings_of(&p.attrs, "client_id_list")),
            );
            attributes.insert("arn".into(), Value::string(&arn));
            attributes.insert("tags".into(), tags_value(&p.attrs));
            self.adopt(
                index,
                "oidc_provider",
                kinds::OidcProvider::address(),
                &arn,
                attributes,
            );
            provider_arn = Some(arn);
        }

        // Service accounts' roles (IRSA): their trust names one.
        let mut accounts = BTreeSet::new();
        for role in &roles {
            if self.fates[role.index].is_some() {
                continue;
            }
            let Some(trust) = kinds::iam_role::irsa_trust_of(&role.trust) else {
                continue;
            };
            let field = |k: &str| {
                trust
                    .as_map()
                    .and_then(|m| m.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let account = field("service_account");
            let issuer_of_role = field("issuer");
            if issuer_of_role.trim_start_matches("https://") != issuer_host {
                continue;
            }
            let Some((namespace, name)) = account.split_once('/') else {
                continue;
            };
            if !accounts.insert(account.clone()) {
                self.leave(
                    role.index,
                    format!("a second role for the service account {account}"),
                );
                continue;
            }
            self.adopt_role(
                role,
                IamRoleAddress::ServiceAccount(namespace.to_string(), name.to_string()),
            );
        }

        // Add-ons, access entries, the control plane's log group.
        for index in self.of_type("aws_eks_addon") {
            let a = self.at(index);
            if a.str("cluster_name") != Some(cluster.name.as_str()) {
                self.leave(index, "an add-on of another cluster");
                continue;
            }
            let name = a.str("addon_name").unwrap_or_default().to_string();
            let mut attributes = Attributes::new();
            attributes.insert("cluster_name".into(), Value::string(&cluster.name));
            attributes.insert("addon_name".into(), Value::string(&name));
            attributes.insert(
                "addon_version".into(),
                Value::string(a.str("addon_version").unwrap_or_default()),
            );
            attributes.insert(
                "service_account_role_arn".into(),
                string_or_null(a.str("service_account_role_arn")),
            );
            attributes.insert(
                "arn".into(),
                Value::string(a.str("arn").unwrap_or_default()),
            );
            attributes.insert("tags".into(), tags_value(&a.attrs));
            self.adopt(
                index,
                "addon",
                kinds::Addon::address(&name),
                &name,
                attributes,
            );
        }
        let associations = self.of_type("aws_eks_access_policy_association");
        for index in self.of_type("aws_eks_access_entry") {
            let e = self.at(index);
            if e.str("cluster_name") != Some(cluster.name.as_str()) {
                self.leave(index, "an access entry of another cluster");
                continue;
            }
            let entry_type = e.str("type").unwrap_or("STANDARD").to_string();
            if entry_type != "STANDARD" {
                self.leave(
                    index,
                    format!("a {entry_type} access entry: eksform's access entries are STANDARD"),
                );
                continue;
            }
            let principal = e.str("principal_arn").unwrap_or_default().to_string();
            let mine: Vec<usize> = associations
                .iter()
                .copied()
                .filter(|&a| {
                    let a = self.at(a);
                    a.str("principal_arn") == Some(principal.as_str())
                        && a.str("cluster_name") == Some(cluster.name.as_str())
                })
                .collect();
            let policies: BTreeMap<String, Value> = mine
                .iter()
                .filter_map(|&a| {
                    let a = self.at(a);
                    let scope = block(&a.attrs, "access_scope");
                    Some((
                        a.str("policy_arn")?.to_string(),
                        kinds::access_entry::policy_value(
                            scope.and_then(|s| text(s, "type")).unwrap_or("cluster"),
                            &scope
                                .map(|s| strings_of(s, "namespaces"))
                                .unwrap_or_default(),
                        ),
                    ))
                })
                .collect();
            let mut attributes = Attributes::new();
            attributes.insert("cluster_name".into(), Value::string(&cluster.name));
            attributes.insert("principal_arn".into(), Value::string(&principal));
            attributes.insert("type".into(), Value::string(&entry_type));
            attributes.insert("policies".into(), Value::Map(policies));
            attributes.insert(
                "arn".into(),
                Value::string(e.str("access_entry_arn").unwrap_or_default()),
            );
            attributes.insert("tags".into(), tags_value(&e.attrs));
            let address = kinds::AccessEntry::address(&principal);
            self.adopt(
                index,
                "access_entry",
                address.clone(),
                &principal,
                attributes,
            );
            for a in mine {
                self.goes_with(a, &address);
            }
        }
        let log_group_name = format!("/aws/eks/{}/cluster", cluster.name);
        for index in self.of_type("aws_cloudwatch_log_group") {
            let g = self.at(index);
            if g.str("name") != Some(log_group_name.as_str()) {
                self.leave(index, "not the cluster's control plane log group");
                continue;
            }
            let mut attributes = Attributes::new();
            attributes.insert("name".into(), Value::string(&log_group_name));
            attributes.insert(
                "arn".into(),
                Value::string(g.str("arn").unwrap_or_default()),
            );
            attributes.insert(
                "retention_in_days".into(),
                int_of(&g.attrs, "retention_in_days")
                    .filter(|&d| d > 0)
                    .map_or(Value::Null, Value::Int),
            );
            attributes.insert("tags".into(), tags_value(&g.attrs));
            self.adopt(
                index,
                "log_group",
                kinds::LogGroup::address(),
                &log_group_name,
                attributes,
            );
        }
    }

    /// Every role of the state with its policies, whatever it is for.
    fn role_facts(&self) -> Vec<RoleFacts> {
        self.of_type("aws_iam_role")
            .into_iter()
            .map(|index| {
                let r = self.at(index);
                let name = r.str("name").unwrap_or(r.id()).to_string();
                let mut managed: BTreeSet<String> = strings_of(&r.attrs, "managed_policy_arns")
                    .into_iter()
                    .collect();
                let mut inline: BTreeMap<String, String> = r
                    .attrs
                    .get("inline_policy")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| {
                        Some((text(p, "name")?.to_string(), text(p, "policy")?.to_string()))
                    })
                    .collect();
                let mut parts = Vec::new();
                for (i, other) in self.instances.iter().enumerate() {
                    if other.str("role") != Some(name.as_str()) {
                        continue;
                    }
                    match other.rtype.as_str() {
                        "aws_iam_role_policy_attachment" => {
                            if let Some(arn) = other.str("policy_arn") {
                                managed.insert(arn.to_string());
                            }
                            parts.push(i);
                        }
                        "aws_iam_role_policy" => {
                            if let (Some(policy_name), Some(policy)) =
                                (other.str("name"), other.str("policy"))
                            {
                                inline.insert(policy_name.to_string(), policy.to_string());
                            }
                            parts.push(i);
                        }
                        _ => {}
                    }
                }
                RoleFacts {
                    index,
                    name,
                    arn: r.str("arn").unwrap_or_default().to_string(),
                    trust: r.str("assume_role_policy").unwrap_or_default().to_string(),
                    managed: managed.into_iter().collect(),
                    inline,
                    parts,
                }
            })
            .collect()
    }

    fn adopt_role(&mut self, role: &RoleFacts, at: IamRoleAddress) {
        if self.fates[role.index].is_some() {
            return;
        }
        let address = match &at {
            IamRoleAddress::Fixed(name) => kinds::IamRole::address(name),
            IamRoleAddress::ServiceAccount(namespace, name) => {
                kinds::IamRole::address_of_service_account(namespace, name)
            }
        };
        if self.adopted_at(&address).is_some() {
            return;
        }
        let r = self.at(role.index);
        let mut attributes = Attributes::new();
        attributes.insert("name".into(), Value::string(&role.name));
        attributes.insert("path".into(), Value::string(r.str("path").unwrap_or("/")));
        attributes.insert("arn".into(), Value::string(&role.arn));
        if let Some(irsa) = kinds::iam_role::irsa_trust_of(&role.trust) {
            attributes.insert("irsa_trust".into(), irsa);
        }
        attributes.insert("assume_role_policy".into(), Value::string(&role.trust));
        attributes.insert(
            "inline_policies".into(),
            Value::Map(
                role.inline
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::string(v.clone())))
                    .collect(),
            ),
        );
        attributes.insert(
            "managed_policy_arns".into(),
            Value::List(
                role.managed
                    .iter()
                    .map(|a| Value::string(a.clone()))
                    .collect(),
            ),
        );
        attributes.insert("tags".into(), tags_value(&r.attrs));
        let name = role.name.clone();
        self.adopt(role.index, "iam_role", address.clone(), &name, attributes);
        for &part in &role.parts {
            self.goes_with(part, &address);
        }
    }

    fn load_balancers(&mut self, network: &Network) {
        let mut names = BTreeSet::new();
        for index in self
            .of_type("aws_lb")
            .into_iter()
            .chain(self.of_type("aws_alb"))
        {
            let lb = self.at(index);
            if lb.str("load_balancer_type").unwrap_or("application") != "application" {
                self.leave(
                    index,
                    "eksform's load balancers are application load balancers",
                );
                continue;
            }
            let subnets = strings_of(&lb.attrs, "subnets");
            let public = network.ids("public");
            let private = network.ids("private");
            if subnets.is_empty()
                || !subnets
                    .iter()
                    .all(|s| public.contains_key(s) || private.contains_key(s))
            {
                self.leave(index, "not in the stack's subnets");
                continue;
            }
            let name = spec_name(
                &[
                    Some(lb.name.replace('_', "-")),
                    lb.key_name(),
                    lb.str("name").map(str::to_string),
                ],
                20,
                false,
            );
            if !names.insert(name.clone()) {
                self.leave(index, format!("a second load balancer named {name}"));
                continue;
            }
            let arn = lb.str("arn").unwrap_or(lb.id()).to_string();
            let security_groups = strings_of(&lb.attrs, "security_groups");
            let mut attributes = Attributes::new();
            attributes.insert(
                "name".into(),
                Value::string(lb.str("name").unwrap_or_default()),
            );
            attributes.insert(
                "scheme".into(),
                Value::string(if bool_of(&lb.attrs, "internal") == Some(true) {
                    "internal"
                } else {
                    "internet-facing"
                }),
            );
            attributes.insert("subnet_ids".into(), set(&subnets));
            attributes.insert("security_group_ids".into(), set(&security_groups));
            attributes.insert(
                "idle_timeout_seconds".into(),
                int_of(&lb.attrs, "idle_timeout").map_or(Value::Null, Value::Int),
            );
            attributes.insert("arn".into(), Value::string(&arn));
            attributes.insert(
                "dns_name".into(),
                Value::string(lb.str("dns_name").unwrap_or_default()),
            );
            attributes.insert(
                "canonical_hosted_zone_id".into(),
                Value::string(lb.str("zone_id").unwrap_or_default()),
            );
            attributes.insert("tags".into(), tags_value(&lb.attrs));
            self.adopt(
                index,
                "load_balancer",
                kinds::LoadBalancer::address(&name),
                &arn,
                attributes,
            );
            self.load_balancer_parts(&name, &arn, &security_groups, &network.vpc_id);
        }
    }

    fn load_balancer_parts(
        &mut self,
        lb: &str,
        arn: &str,
        security_groups: &[String],
        vpc_id: &str,
    ) {
        // Its security group: the first of its groups the state made.
        if let Some(index) = self
            .of_type("aws_security_group")
            .into_iter()
            .find(|&i| security_groups.iter().any(|g| g == self.instances[i].id()))
        {
            let g = self.at(index);
            let rules = |direction: &str| {
                let mut rules: Vec<String> = g
                    .attrs
                    .get(direction)
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .flat_map(rule_texts)
                    .collect();
                rules.sort();
                rules.dedup();
                Value::List(rules.into_iter().map(Value::String).collect())
            };
            let mut attributes = Attributes::new();
            attributes.insert(
                "name".into(),
                Value::string(g.str("name").unwrap_or_default()),
            );
            attributes.insert(
                "description".into(),
                Value::string(g.str("description").unwrap_or_default()),
            );
            attributes.insert("vpc_id".into(), Value::string(vpc_id));
            attributes.insert("ingress".into(), rules("ingress"));
            attributes.insert("egress".into(), rules("egress"));
            attributes.insert("tags".into(), tags_value(&g.attrs));
            let id = g.id().to_string();
            let address = kinds::SecurityGroup::address(lb);
            self.adopt(index, "security_group", address.clone(), &id, attributes);
            for rule_type in [
                "aws_security_group_rule",
                "aws_vpc_security_group_ingress_rule",
                "aws_vpc_security_group_egress_rule",
            ] {
                for rule in self.of_type(rule_type) {
                    if self.instances[rule].str("security_group_id") != Some(id.as_str()) {
                        continue;
                    }
                    if models_rule(&self.instances[rule].attrs) {
                        self.goes_with(rule, &address);
                    } else {
                        self.leave(
                            rule,
                            "a rule eksform's security group does not model (a source group, IPv6 or a prefix list): Terraform keeps managing it",
                        );
                    }
                }
            }
        }
        // Its listeners on 80 (HTTP) and 443 (HTTPS), and the target groups they forward to.
        let mut forwarded = BTreeSet::new();
        for index in self
            .of_type("aws_lb_listener")
            .into_iter()
            .chain(self.of_type("aws_alb_listener"))
        {
            let l = self.at(index);
            if l.str("load_balancer_arn") != Some(arn) {
                continue;
            }
            let protocol = match (int_of(&l.attrs, "port"), l.str("protocol")) {
                (Some(80), Some("HTTP")) => "http",
                (Some(443), Some("HTTPS")) => "https",
                _ => {
                    self.leave(index, "eksform's listeners are HTTP on 80 and HTTPS on 443");
                    continue;
                }
            };
            let action = block(&l.attrs, "default_action");
            let redirect = action.and_then(|a| text(a, "type")) == Some("redirect");
            let target = action.and_then(|a| text(a, "target_group_arn"));
            if let Some(target) = target {
                forwarded.insert(target.to_string());
            }
            let listener_arn = l.str("arn").unwrap_or(l.id()).to_string();
            let mut attributes = Attributes::new();
            attributes.insert("load_balancer_arn".into(), Value::string(arn));
            attributes.insert(
                "port".into(),
                Value::Int(if protocol == "http" { 80 } else { 443 }),
            );
            attributes.insert(
                "protocol".into(),
                Value::string(protocol.to_ascii_uppercase()),
            );
            attributes.insert(
                "action".into(),
                Value::string(if redirect { "redirect" } else { "forward" }),
            );
            attributes.insert("target_group_arn".into(), string_or_null(target));
            if let Some(certificate) = l.str("certificate_arn") {
                attributes.insert("certificate_arn".into(), Value::string(certificate));
            }
            if let Some(policy) = l.str("ssl_policy") {
                attributes.insert("ssl_policy".into(), Value::string(policy));
            }
            attributes.insert("tags".into(), tags_value(&l.attrs));
            self.adopt(
                index,
                "listener",
                kinds::Listener::address(lb, protocol),
                &listener_arn,
                attributes,
            );
        }
        let mut names = BTreeSet::new();
        for index in self
            .of_type("aws_lb_target_group")
            .into_iter()
            .chain(self.of_type("aws_alb_target_group"))
        {
            let g = self.at(index);
            let group_arn = g.str("arn").unwrap_or(g.id()).to_string();
            if !forwarded.contains(&group_arn) {
                continue;
            }
            let name = spec_name(
                &[
                    Some(g.name.replace('_', "-")),
                    g.key_name(),
                    g.str("name").map(str::to_string),
                ],
                32,
                false,
            );
            if !names.insert(name.clone()) {
                self.leave(index, format!("a second target group named {name}"));
                continue;
            }
            let mut attributes = Attributes::new();
            attributes.insert(
                "name".into(),
                Value::string(g.str("name").unwrap_or_default()),
            );
            attributes.insert(
                "port".into(),
                Value::Int(int_of(&g.attrs, "port").unwrap_or_default()),
            );
            attributes.insert(
                "protocol".into(),
                Value::string(g.str("protocol").unwrap_or_default()),
            );
            attributes.insert(
                "target_type".into(),
                Value::string(g.str("target_type").unwrap_or("instance")),
            );
            attributes.insert(
                "vpc_id".into(),
                Value::string(g.str("vpc_id").unwrap_or_default()),
            );
            attributes.insert(
                "health_check_path".into(),
                Value::string(
                    block(&g.attrs, "health_check")
                        .and_then(|h| text(h, "path"))
                        .unwrap_or_default(),
                ),
            );
            attributes.insert("arn".into(), Value::string(&group_arn));
            attributes.insert("tags".into(), tags_value(&g.attrs));
            self.adopt(
                index,
                "target_group",
                kinds::TargetGroup::address(lb, &name),
                &group_arn,
                attributes,
            );
        }
    }

    fn dns(&mut self) {
        let zones: Vec<usize> = self.of_type("aws_route53_zone");
        let mut zone: Option<(String, String)> = None;
        for index in zones {
            let z = self.at(index);
            let private = z
                .attrs
                .get("vpc")
                .and_then(Json::as_array)
                .is_some_and(|v| !v.is_empty());
            if private {
                self.leave(index, "a private hosted zone: eksform's zone is public");
                continue;
            }
            if zone.is_some() {
                self.leave(index, "a stack has one hosted zone");
                continue;
            }
            let id = z
                .str("zone_id")
                .unwrap_or(z.id())
                .trim_start_matches("/hostedzone/")
                .to_string();
            let name = kinds::hosted_zone::plain_name(z.str("name").unwrap_or_default());
            let mut attributes = Attributes::new();
            attributes.insert("name".into(), Value::string(&name));
            attributes.insert(
                "name_servers".into(),
                Value::List(
                    z.attrs
                        .get("name_servers")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Json::as_str)
                        .map(Value::string)
                        .collect(),
                ),
            );
            // An unmarked zone's tags are not read: it is used as it is.
            attributes.insert("tags".into(), Value::Map(BTreeMap::new()));
            self.adopt(
                index,
                "hosted_zone",
                kinds::HostedZone::address(),
                &id,
                attributes,
            );
            zone = Some((id, name));
        }
        let Some((zone_id, zone_name)) = zone else {
            return;
        };
        let balancers: Vec<(String, Address)> = self
            .resources
            .iter()
            .filter(|r| r.kind == "load_balancer")
            .filter_map(|r| {
                Some((
                    kinds::hosted_zone::plain_name(r.attributes.get("dns_name")?.as_str()?),
                    r.address.clone(),
                ))
            })
            .collect();
        let mut seen = BTreeSet::new();
        for index in self.of_type("aws_route53_record") {
            let r = self.at(index);
            if r.str("zone_id") != Some(zone_id.as_str()) {
                self.leave(index, "a record of another hosted zone");
                continue;
            }
            let record_type = r.str("type").unwrap_or_default().to_string();
            let mut name = kinds::hosted_zone::plain_name(r.str("name").unwrap_or_default());
            if name != zone_name && !name.ends_with(&format!(".{zone_name}")) {
                name = format!("{name}.{zone_name}");
            }
            let alias = block(&r.attrs, "alias");
            let reason = if !["A", "AAAA", "CNAME", "TXT"].contains(&record_type.as_str()) {
                Some(format!(
                    "a {record_type} record: eksform's records are A, AAAA, CNAME or TXT"
                ))
            } else if r.str("set_identifier").is_some() {
                Some("a record with a routing policy, which eksform does not model".into())
            } else if name.starts_with('_') && record_type == "CNAME" {
                Some("a certificate's validation record: it stays with its certificate, in Terraform".into())
            } else if let Some(alias) = alias
                && !balancers.iter().any(|(dns, _)| {
                    let target =
                        kinds::hosted_zone::plain_name(text(alias, "name").unwrap_or_default());
                    target.strip_prefix("dualstack.").unwrap_or(&target) == dns
                })
            {
                Some("an alias to something other than one of the stack's load balancers".into())
            } else if !seen.insert((name.clone(), record_type.clone())) {
                Some("a second record of the same name and type".into())
            } else {
                None
            };
            if let Some(reason) = reason {
                self.leave(index, reason);
                continue;
            }
            let mut attributes = Attributes::new();
            attributes.insert("zone_id".into(), Value::string(&zone_id));
            attributes.insert("name".into(), Value::string(&name));
            attributes.insert("type".into(), Value::string(&record_type));
            match alias {
                Some(alias) => {
                    attributes.insert(
                        "alias_dns_name".into(),
                        Value::string(kinds::hosted_zone::plain_name(
                            text(alias, "name").unwrap_or_default(),
                        )),
                    );
                    attributes.insert(
                        "alias_zone_id".into(),
                        Value::string(text(alias, "zone_id").unwrap_or_default()),
                    );
                }
                None => {
                    attributes.insert(
                        "ttl".into(),
                        int_of(&r.attrs, "ttl").map_or(Value::Null, Value::Int),
                    );
                    let values: Vec<String> = strings_of(&r.attrs, "records")
                        .into_iter()
                        .map(|v| {
                            if record_type == "CNAME" {
                                kinds::hosted_zone::plain_name(&v)
                            } else {
                                v
                            }
                        })
                        .collect();
                    attributes.insert("values".into(), set(&values));
                }
            }
            attributes.insert("tags".into(), Value::Map(BTreeMap::new()));
            // Terraform's own import id, which an adopt entry takes too.
            let id = format!("{zone_id}_{name}_{record_type}");
            self.adopt(
                index,
                "dns_record",
                kinds::DnsRecord::address(&name, &record_type),
                &id,
                attributes,
            );
        }
    }

    /// What no kind took: companions of what stays, the VPC's defaults, and
    /// types eksform does not model.
    fn the_rest(&mut self) {
        for index in 0..self.instances.len() {
            if self.fates[index].is_some() {
                continue;
            }
            let rtype = self.instances[index].rtype.clone();
            let reason = match rtype.as_str() {
                t if t.starts_with("aws_default_") => {
                    self.fates[index] = Some(Fate::Unmapped {
                        forget_freely: true,
                    });
                    self.reasons.insert(
                        index,
                        "a VPC's default, which comes and goes with the VPC: nothing to adopt".into(),
                    );
                    continue;
                }
                "aws_iam_role" => "not the cluster's, node groups', Fargate profiles' or a service account's role".into(),
                "aws_iam_role_policy_attachment" | "aws_iam_role_policy" => {
                    "goes with its role, which stays with Terraform".into()
                }
                "aws_route" | "aws_route_table_association" => {
                    "goes with its route table, which stays with Terraform".into()
                }
                "aws_eks_access_policy_association" => {
                    "goes with its access entry, which stays with Terraform".into()
                }
                "aws_security_group" => {
                    "eksform models a load balancer's security group only".into()
                }
                "aws_security_group_rule"
                | "aws_vpc_security_group_ingress_rule"
                | "aws_vpc_security_group_egress_rule" => {
                    "goes with its security group, which stays with Terraform".into()
                }
                "aws_lb_target_group" | "aws_alb_target_group" => {
                    "no listener of the stack's load balancers forwards to it".into()
                }
                "aws_lb_listener" | "aws_alb_listener" => {
                    "a listener of a load balancer that stays with Terraform".into()
                }
                "aws_acm_certificate" | "aws_acm_certificate_validation" => {
                    "the spec uses the certificate by its ARN (`certificate.arn`); it stays with Terraform".into()
                }
                "aws_route_table" => "in another VPC than the stack's".into(),
                "aws_eip" => "not the Elastic IP of one of the stack's NAT gateways".into(),
                _ => format!("eksform does not model {rtype}"),
            };
            self.leave(index, reason);
        }
    }
}

/// Adds a route as the route table adapter observes it: a NAT gateway or
/// gateway target for an IPv4 destination, never the VPC's `local` route.
/// Adds a route eksform models (an IPv4 route to a NAT or internet
/// gateway); says whether it was one (or the VPC's `local` route).
fn add_route(routes: &mut BTreeMap<String, String>, route: &Json, cidr_field: &str) -> bool {
    let Some(cidr) = text(route, cidr_field) else {
        return false;
    };
    let Some(target) = text(route, "nat_gateway_id").or(text(route, "gateway_id")) else {
        return false;
    };
    if target == "local" {
        return true;
    }
    // Only what eksform writes is taken over; any other route stays with
    // Terraform, and eksform keeps it on the table (`is_own_route`).
    if !kinds::route_table::is_own_route(cidr, target) {
        return false;
    }
    routes.insert(cidr.to_string(), target.to_string());
    true
}

/// Whether eksform's security group models a rule resource: IPv4 CIDRs
/// only, no source group, IPv6 range or prefix list.
fn models_rule(rule: &Json) -> bool {
    let has = |field: &str| {
        rule.get(field).is_some_and(|v| match v {
            Json::Null => false,
            Json::String(s) => !s.is_empty(),
            Json::Array(items) => !items.is_empty(),
            _ => true,
        })
    };
    (has("cidr_blocks") || has("cidr_ipv4"))
        && ![
            "source_security_group_id",
            "referenced_security_group_id",
            "ipv6_cidr_blocks",
            "cidr_ipv6",
            "prefix_list_ids",
            "prefix_list_id",
        ]
        .iter()
        .any(|field| has(field))
}

/// A security group rule of the state as the adapter writes rules:
/// `tcp:<port>:<cidr>`, `tcp:<from>-<to>:<cidr>` or `all:<cidr>`.
fn rule_texts(rule: &Json) -> Vec<String> {
    let protocol = text(rule, "protocol").unwrap_or("-1");
    let (from, to) = (int_of(rule, "from_port"), int_of(rule, "to_port"));
    strings_of(rule, "cidr_blocks")
        .into_iter()
        .map(|cidr| match (protocol, from, to) {
            ("-1" | "all", _, _) => format!("all:{cidr}"),
            (protocol, Some(from), Some(to)) if from == to => format!("{protocol}:{from}:{cidr}"),
            (protocol, from, to) => {
                format!(
                    "{protocol}:{}-{}:{cidr}",
                    from.unwrap_or(0),
                    to.unwrap_or(0)
                )
            }
        })
        .collect()
}

#[derive(Debug, Clone)]
struct ClusterFacts {
    name: String,
    role_arn: String,
    vpc_id: String,
    issuer: String,
}

#[derive(Debug, Default)]
struct Network {
    vpc_id: String,
    /// (tier, zone, subnet id) of the mapped subnets.
    subnets: Vec<(&'static str, String, String)>,
    /// NAT gateway id -> zone.
    nat: BTreeMap<String, String>,
}

impl Network {
    /// The mapped subnets of a tier: id -> zone.
    fn ids(&self, tier: &str) -> BTreeMap<String, String> {
        self.subnets
            .iter()
            .filter(|(t, _, _)| *t == tier)
            .map(|(_, zone, id)| (id.clone(), zone.clone()))
            .collect()
    }
}

#[derive(Debug)]
struct TableFacts {
    index: usize,
    id: String,
    /// destination -> target
    routes: BTreeMap<String, String>,
    /// subnet -> association id
    associations: BTreeMap<String, String>,
    /// The `aws_route` and `aws_route_table_association` instances that go with it.
    parts: Vec<usize>,
}

#[derive(Debug)]
struct RoleFacts {
    index: usize,
    name: String,
    arn: String,
    trust: String,
    managed: Vec<String>,
    inline: BTreeMap<String, String>,
    /// Its policy attachments and inline policy resources.
    parts: Vec<usize>,
}

enum IamRoleAddress {
    Fixed(&'static str),
    ServiceAccount(String, String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state(resources: Json) -> String {
        json!({ "version": 4, "terraform_version": "1.9.8", "serial": 1, "lineage": "x", "outputs": {}, "resources": resources })
            .to_string()
    }

    fn resource(rtype: &str, name: &str, instances: Json) -> Json {
        json!({ "mode": "managed", "type": rtype, "name": name, "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": instances })
    }

    fn fate_of<'a>(import: &'a TerraformImport, address: &str) -> &'a Fate {
        &import
            .instances
            .iter()
            .find(|i| i.address == address)
            .unwrap_or_else(|| panic!("{address} is in the state"))
            .fate
    }

    #[test]
    fn refuses_other_versions_and_what_is_not_a_state() {
        assert_eq!(
            import(r#"{"version": 3, "modules": []}"#, "s"),
            Err(StateError::UnsupportedVersion("3".into()))
        );
        assert!(matches!(import("{", "s"), Err(StateError::NotJson(_))));
        assert!(matches!(import("[1]", "s"), Err(StateError::Malformed(_))));
        assert!(matches!(
            import(r#"{"resources": []}"#, "s"),
            Err(StateError::Malformed(_))
        ));
    }

    #[test]
    fn data_sources_are_skipped_and_unknown_types_listed() {
        let text = state(json!([
            { "mode": "data", "type": "aws_caller_identity", "name": "current", "instances": [{ "attributes": { "id": "1" } }] },
            resource("aws_sqs_queue", "jobs", json!([{ "attributes": { "id": "q", "arn": "arn:aws:sqs:eu-west-1:1:jobs" } }])),
        ]));
        let imported = import(&text, "s").unwrap();
        assert_eq!(imported.instances.len(), 1);
        assert_eq!(imported.draft.unmapped.len(), 1);
        assert_eq!(imported.draft.unmapped[0].source, "aws_sqs_queue.jobs");
        assert_eq!(imported.draft.region, "eu-west-1");
    }

    #[test]
    fn a_node_group_from_a_launch_template_stays_with_its_role() {
        let subnets = json!(["subnet-a", "subnet-b"]);
        let text = state(json!([
            resource(
                "aws_vpc",
                "main",
                json!([{ "attributes": { "id": "vpc-1", "cidr_block": "10.0.0.0/16" } }])
            ),
            resource(
                "aws_subnet",
                "private",
                json!([
                    { "index_key": 0, "attributes": { "id": "subnet-a", "vpc_id": "vpc-1", "cidr_block": "10.0.1.0/24", "availability_zone": "eu-west-1a" } },
                    { "index_key": 1, "attributes": { "id": "subnet-b", "vpc_id": "vpc-1", "cidr_block": "10.0.2.0/24", "availability_zone": "eu-west-1b" } },
                ])
            ),
            resource(
                "aws_eks_cluster",
                "main",
                json!([{ "attributes": {
                "id": "c", "name": "c", "arn": "arn:aws:eks:eu-west-1:1:cluster/c", "role_arn": "arn:aws:iam::1:role/cr",
                "vpc_config": [{ "vpc_id": "vpc-1", "subnet_ids": subnets }] } }])
            ),
            resource(
                "aws_iam_role",
                "nodes",
                json!([{ "attributes": { "id": "nr", "name": "nr", "arn": "arn:aws:iam::1:role/nr", "assume_role_policy": "{}" } }])
            ),
            resource(
                "aws_eks_node_group",
                "lt",
                json!([{ "attributes": {
                "cluster_name": "c", "node_group_name": "lt", "node_role_arn": "arn:aws:iam::1:role/nr", "subnet_ids": subnets,
                "launch_template": [{ "id": "lt-1", "version": "1" }] } }])
            ),
            resource(
                "aws_eks_node_group",
                "plain",
                json!([{ "attributes": {
                "cluster_name": "c", "node_group_name": "plain", "node_role_arn": "arn:aws:iam::1:role/nr", "subnet_ids": ["subnet-a"],
                "launch_template": [] } }])
            ),
        ]));
        let imported = import(&text, "s").unwrap();
        assert_eq!(
            *fate_of(&imported, "aws_eks_cluster.main"),
            Fate::Adopted(Address("eks_cluster.main".into()))
        );
        for group in [
            "aws_eks_node_group.lt",
            "aws_eks_node_group.plain",
            "aws_iam_role.nodes",
        ] {
            assert!(
                !fate_of(&imported, group).leaves_terraform(),
                "{group} stays"
            );
        }
        let reasons: Vec<&str> = imported
            .draft
            .unmapped
            .iter()
            .map(|u| u.reason.as_str())
            .collect();
        assert!(
            reasons.iter().any(|r| r.contains("launch template")),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("not all the stack's private")),
            "{reasons:?}"
        );
    }

    #[test]
    fn the_cluster_s_vpc_is_the_stack_s_and_private_tables_keep_their_layout() {
        let vpc = |id: &str| json!({ "attributes": { "id": id, "cidr_block": "10.0.0.0/16" } });
        let subnet = |id: &str, zone: &str| json!({ "index_key": 0, "attributes": { "id": id, "vpc_id": "vpc-2", "cidr_block": "10.0.1.0/24", "availability_zone": zone } });
        let text = state(json!([
            resource("aws_vpc", "other", json!([vpc("vpc-1")])),
            resource("aws_vpc", "main", json!([vpc("vpc-2")])),
            resource("aws_subnet", "a", json!([subnet("subnet-a", "eu-west-1a")])),
            resource("aws_subnet", "b", json!([subnet("subnet-b", "eu-west-1b")])),
            resource(
                "aws_route_table",
                "a",
                json!([{ "attributes": { "id": "rtb-a", "vpc_id": "vpc-2", "route": [] } }])
            ),
            resource(
                "aws_route_table",
                "b",
                json!([{ "attributes": { "id": "rtb-b", "vpc_id": "vpc-2", "route": [] } }])
            ),
            resource(
                "aws_route_table_association",
                "a",
                json!([{ "attributes": { "id": "rtbassoc-a", "route_table_id": "rtb-a", "subnet_id": "subnet-a" } }])
            ),
            resource(
                "aws_route_table_association",
                "b",
                json!([{ "attributes": { "id": "rtbassoc-b", "route_table_id": "rtb-b", "subnet_id": "subnet-b" } }])
            ),
            resource(
                "aws_eks_cluster",
                "main",
                json!([{ "attributes": {
                "id": "c", "name": "c", "vpc_config": [{ "vpc_id": "vpc-2", "subnet_ids": ["subnet-a", "subnet-b"] }] } }])
            ),
        ]));
        let imported = import(&text, "s").unwrap();
        assert_eq!(
            *fate_of(&imported, "aws_vpc.main"),
            Fate::Adopted(Address("vpc.main".into()))
        );
        assert!(!fate_of(&imported, "aws_vpc.other").leaves_terraform());
        assert_eq!(
            *fate_of(&imported, "aws_route_table.b"),
            Fate::Adopted(Address("route_table.private.eu-west-1b".into()))
        );
        assert_eq!(
            *fate_of(&imported, "aws_route_table_association.b"),
            Fate::GoesWith(Address("route_table.private.eu-west-1b".into()))
        );
        let table = imported
            .draft
            .at(&Address("route_table.private.eu-west-1a".into()))
            .unwrap();
        assert_eq!(
            table.attributes.get("associations"),
            Some(&Value::Map(BTreeMap::from([(
                "subnet-a".to_string(),
                Value::string("rtbassoc-a")
            )])))
        );
    }
}
