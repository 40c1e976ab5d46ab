//! Route tables: one public table (default route to the internet gateway) and
//! one private table per zone (default route to that zone's NAT gateway, or the
//! single one, or none), or one private table shared by every zone
//! (`vpc.nat.privateRouteTables: Shared`, as other tools lay out a VPC with one
//! NAT gateway). Routes and subnet associations are attributes of the
//! table, changed in place, so switching NAT modes never touches subnets.

use super::internet_gateway::InternetGateway;
use super::nat_gateway::NatGateway;
use super::subnet::Subnet;
use super::vpc::Vpc;
use super::{Attribute, Kind, ObservationFloor};
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{Address, DesiredResource, Value, ownership_tags};
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
