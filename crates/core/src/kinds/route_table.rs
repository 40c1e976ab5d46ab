//! Route tables: one public table (default route to the internet gateway) and
//! one private table per zone (default route to that zone's NAT gateway, or the
//! single one, or none), or one private table shared by every zone
//! (`vpc.nat.privateRouteTables: Shared`, as other tools lay out a VPC with one
//! NAT gateway). Routes and subnet associations are attributes of the
//! table, changed in place, so switching NAT modes never touches subnets.
//! eksform's own routes are its default routes to an internet or NAT gateway;
//! every other route on its tables (another team's VPN, Transit Gateway,
//! peering or endpoint route) is kept as it is (`routes_to_apply`).

use super::internet_gateway::InternetGateway;
use super::nat_gateway::NatGateway;
use super::subnet::Subnet;
use super::vpc::Vpc;
use super::{Attribute, Kind, ObservationFloor, Planned};
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{Address, Attributes, DesiredResource, LiveResource, Value, ownership_tags};
use crate::plan::Note;
use std::collections::BTreeMap;

pub struct RouteTable;

const DEFAULT_ROUTE: &str = "0.0.0.0/0";

impl RouteTable {
    pub fn public_address() -> Address {
        Address::new(&["route_table", "public"])
    }
    pub fn private_address(zone: &str) -> Address {
        Address::new(&["route_table", "private", zone])
    }
    /// The one private table of `vpc.nat.privateRouteTables: Shared`.
    pub fn shared_private_address() -> Address {
        Address::new(&["route_table", "private"])
    }
}

/// Whether a route on one of eksform's tables is eksform's own: a default
/// route to an internet or NAT gateway, the only routes it writes. Any other
/// was added outside eksform (a VPN, Transit Gateway, peering or endpoint
/// route, by hand or by Terraform): eksctl leaves such routes alone, and
/// deleting one would cut that team's traffic.
pub fn is_own_route(destination: &str, target: &str) -> bool {
    destination == DEFAULT_ROUTE && (target.starts_with("igw-") || target.starts_with("nat-"))
}

/// The routes apply leaves a table with: the spec's, plus every live route
/// that is not eksform's own. Only a default route of another target gives
/// way to the spec's, and a note says what it replaces. The plan shows this
/// value and the adapter sends it.
pub fn routes_to_apply(live: &Value, desired: &Value) -> Planned {
    let mut routes = desired.as_map().cloned().unwrap_or_default();
    let mut note = None;
    for (destination, target) in live.as_map().into_iter().flatten() {
        let text = target.as_str().unwrap_or_default();
        match routes.get(destination) {
            Some(wanted) if wanted != target && !is_own_route(destination, text) => {
                note = Some(Note::on_element(
                    destination,
                    format!("replaces the route to {text}, which was made outside eksform"),
                ));
            }
            None if !is_own_route(destination, text) => {
                routes.insert(destination.clone(), target.clone());
            }
            _ => {}
        }
    }
    let value = Value::Map(routes);
    Planned {
        changes: &value != live,
        value,
        note,
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::in_place("routes"),
    Attribute::in_place("subnet_ids"),
    Attribute::tags(),
    Attribute::replaces("vpc_id"),
];

impl Kind for RouteTable {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor::list(1, "DescribeRouteTables")
    }

    fn planned(
        &self,
        attribute: &str,
        live: &Attributes,
        desired: &Value,
        _desired_attributes: &Attributes,
    ) -> Option<Planned> {
        match attribute {
            "routes" => Some(routes_to_apply(live.get("routes")?, desired)),
            _ => None,
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "ec2:AssociateRouteTable",
            "ec2:CreateRoute",
            "ec2:CreateRouteTable",
            "ec2:CreateTags",
            "ec2:DeleteRoute",
            "ec2:DeleteRouteTable",
            "ec2:DeleteTags",
            "ec2:DescribeRouteTables",
            "ec2:DisassociateRouteTable",
            "ec2:ReplaceRoute",
        ]
    }

    fn service(&self) -> &'static str {
        "ec2"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "route_table"
    }

    fn id_prefix(&self) -> &'static str {
        "rtb"
    }

    /// A subnet has one route table: a new private table (the shared one, or
    /// a zone's) associates subnets an old private table being deleted still
    /// holds, which AWS refuses until that table is gone.
    fn in_the_way(&self, desired: &DesiredResource, live: &LiveResource) -> bool {
        let private = |address: &Address| address.as_str().starts_with("route_table.private");
        private(&desired.address) && private(&live.address)
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(Network::Created(network)) = &stack.network else {
            return vec![];
        };
        let table = |address: Address, routes: BTreeMap<String, Value>, subnets: Vec<Value>| {
            let name = resource_name(&stack.stack, &address);
            DesiredResource::new(self.name(), address.clone())
                .with("vpc_id", Value::reference(&Vpc::address(), "id"))
                .with("routes", Value::Map(routes))
                .with("subnet_ids", Value::List(subnets))
                .with(
                    "tags",
                    Value::string_map(&ownership_tags(&stack.stack, &address, &name, &stack.tags)),
                )
        };
        let mut out = Vec::new();
        let public_subnets: Vec<Value> = network
            .zones
            .iter()
            .filter(|z| z.public.is_some())
            .map(|z| Value::reference(&Subnet::address("public", &z.name), "id"))
            .collect();
        if !public_subnets.is_empty() {
            let routes = BTreeMap::from([(
                DEFAULT_ROUTE.to_string(),
                Value::reference(&InternetGateway::address(), "id"),
            )]);
            out.push(table(Self::public_address(), routes, public_subnets));
        }
        if network.shared_private_route_table {
            let mut routes = BTreeMap::new();
            if let Some(nat_zone) = network.nat_zones().first() {
                routes.insert(
                    DEFAULT_ROUTE.to_string(),
                    Value::reference(&NatGateway::address(&nat_zone.name), "id"),
                );
            }
            let subnets = network
                .zones
                .iter()
                .map(|zone| Value::reference(&Subnet::address("private", &zone.name), "id"))
                .collect();
            out.push(table(Self::shared_private_address(), routes, subnets));
            return out;
        }
        for zone in &network.zones {
            let mut routes = BTreeMap::new();
            if let Some(nat_zone) = network.nat_zone_for(&zone.name) {
                routes.insert(
                    DEFAULT_ROUTE.to_string(),
                    Value::reference(&NatGateway::address(&nat_zone.name), "id"),
                );
            }
            let subnets = vec![Value::reference(
                &Subnet::address("private", &zone.name),
                "id",
            )];
            out.push(table(Self::private_address(&zone.name), routes, subnets));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SourceFile;

    fn desired(nat: &str) -> Vec<DesiredResource> {
        let text = format!(
            "stack: dev\nregion: us-east-1\nvpc:\n  cidr: 10.0.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b, us-east-1c]\n  nat:\n{nat}"
        );
        let loaded = crate::spec::parse(SourceFile::new("t.yaml", text)).unwrap();
        RouteTable.lower(&crate::lower::model(&loaded.spec))
    }

    #[test]
    fn routes_made_outside_eksform_are_kept_and_only_its_own_are_removed() {
        let routes = |pairs: &[(&str, &str)]| {
            Value::Map(
                pairs
                    .iter()
                    .map(|(d, t)| (d.to_string(), Value::string(*t)))
                    .collect(),
            )
        };
        let live = routes(&[
            ("0.0.0.0/0", "nat-1"),
            ("10.50.0.0/16", "vgw-1"),
            ("10.60.0.0/16", "tgw-1"),
        ]);
        // NAT off: its default route goes, the VPN and Transit Gateway stay.
        let off = routes_to_apply(&live, &routes(&[]));
        assert_eq!(
            off.value,
            routes(&[("10.50.0.0/16", "vgw-1"), ("10.60.0.0/16", "tgw-1")])
        );
        assert!(off.changes);
        // Nothing of eksform's changes: no change, whatever else is there.
        let same = routes_to_apply(&live, &routes(&[("0.0.0.0/0", "nat-1")]));
        assert!(!same.changes && same.note.is_none());
        // A default route another team pointed at its Transit Gateway gives
        // way to the spec's NAT gateway, and the plan says so.
        let foreign_default = routes(&[("0.0.0.0/0", "tgw-1")]);
        let nat = routes_to_apply(&foreign_default, &routes(&[("0.0.0.0/0", "nat-2")]));
        assert_eq!(nat.value, routes(&[("0.0.0.0/0", "nat-2")]));
        assert!(nat.note.unwrap().text.contains("tgw-1"));
        // ...and is kept when the spec wants no default route.
        assert!(!routes_to_apply(&foreign_default, &routes(&[])).changes);
        // A route to an internet gateway elsewhere than the default is not eksform's.
        assert!(!is_own_route("203.0.113.0/24", "igw-1"));
        assert!(is_own_route("0.0.0.0/0", "igw-1"));
    }

    #[test]
    fn a_shared_private_table_holds_every_zone_s_subnet_and_routes_to_the_single_nat() {
        let tables = desired("    gateway: Single\n    privateRouteTables: Shared\n");
        let addresses: Vec<&str> = tables.iter().map(|t| t.address.as_str()).collect();
        assert_eq!(addresses, ["route_table.public", "route_table.private"]);
        let shared = &tables[1];
        assert_eq!(
            shared.attributes.get("subnet_ids"),
            Some(&Value::List(
                ["us-east-1a", "us-east-1b", "us-east-1c"]
                    .iter()
                    .map(|z| Value::reference(&Subnet::address("private", z), "id"))
                    .collect()
            ))
        );
        assert_eq!(
            shared.attributes.get("routes"),
            Some(&Value::Map(BTreeMap::from([(
                DEFAULT_ROUTE.to_string(),
                Value::reference(&NatGateway::address("us-east-1a"), "id")
            )])))
        );
        // Without a NAT gateway the shared table has no default route.
        let disabled = desired("    gateway: Disable\n    privateRouteTables: Shared\n");
        assert_eq!(
            disabled[1].attributes.get("routes"),
            Some(&Value::Map(BTreeMap::new()))
        );
        // The default stays one table per zone.
        let per_zone = desired("    gateway: Single\n");
        assert_eq!(per_zone.len(), 4);
        // Switching layouts: the new private tables wait for the old ones'
        // deletes, which free their subnets; the public table waits for nothing.
        let live = |address: &Address| LiveResource {
            address: address.clone(),
            kind: "route_table".into(),
            id: "rtb-1".into(),
            attributes: Default::default(),
            status: crate::model::Status::Ready,
        };
        let old = live(&RouteTable::private_address("us-east-1a"));
        assert!(RouteTable.in_the_way(shared, &old));
        assert!(RouteTable.in_the_way(&per_zone[1], &live(&RouteTable::shared_private_address())));
        assert!(!RouteTable.in_the_way(&per_zone[0], &old));
    }
}
