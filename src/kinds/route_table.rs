//! Route tables: one public table (default route to the internet gateway) and
//! one private table per zone (default route to that zone's NAT gateway, or the
//! single one, or none). Routes and subnet associations are attributes of the
//! table, changed in place, so switching NAT modes never touches subnets.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;

use super::deleted;
use super::internet_gateway::InternetGateway;
use super::nat_gateway::NatGateway;
use super::subnet::Subnet;
use super::tags::{from_sdk, live, required, stack_filter, sync_tags, tag_specification};
use super::vpc::Vpc;
use super::{Change, Kind, not_found_is_done, read_by_address};
use crate::cloud::aws::{AwsClients, error};
use crate::cloud::{CloudError, CreateRequest, Scope};
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{
    Address, Attributes, DesiredResource, LiveResource, Status, Value, ownership_tags, string_list,
    string_map,
};

pub struct RouteTable;

const DEFAULT_ROUTE: &str = "0.0.0.0/0";

impl RouteTable {
    pub fn public_address() -> Address {
        Address::new(&["route_table", "public"])
    }
    pub fn private_address(zone: &str) -> Address {
        Address::new(&["route_table", "private", zone])
    }
}

/// Creates or replaces a route to a target; the target's id says what it is.
async fn put_route(
    aws: &AwsClients,
    table: &str,
    destination: &str,
    target: &str,
    replace: bool,
) -> Result<(), CloudError> {
    let is_nat = target.starts_with("nat-");
    if replace {
        let request = aws
            .ec2
            .replace_route()
            .route_table_id(table)
            .destination_cidr_block(destination);
        let request = if is_nat {
            request.nat_gateway_id(target)
        } else {
            request.gateway_id(target)
        };
        request.send().await.map_err(|e| error("ReplaceRoute", e))?;
    } else {
        let request = aws
            .ec2
            .create_route()
            .route_table_id(table)
            .destination_cidr_block(destination);
        let request = if is_nat {
            request.nat_gateway_id(target)
        } else {
            request.gateway_id(target)
        };
        request.send().await.map_err(|e| error("CreateRoute", e))?;
    }
    Ok(())
}

/// Brings routes and associations from `before` to `after`.
async fn sync(
    aws: &AwsClients,
    table: &str,
    before: &Attributes,
    after: &Attributes,
) -> Result<(), CloudError> {
    let (old_routes, new_routes) = (string_map(before, "routes"), string_map(after, "routes"));
    for (destination, target) in &new_routes {
        match old_routes.get(destination) {
            Some(old) if old == target => {}
            Some(_) => put_route(aws, table, destination, target, true).await?,
            None => put_route(aws, table, destination, target, false).await?,
        }
    }
    for destination in old_routes.keys().filter(|d| !new_routes.contains_key(*d)) {
        if let Err(e) = aws
            .ec2
            .delete_route()
            .route_table_id(table)
            .destination_cidr_block(destination)
            .send()
            .await
        {
            not_found_is_done(error("DeleteRoute", e))?;
        }
    }
    let associations: BTreeMap<String, String> = before
        .get("associations")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let wanted = string_list(after, "subnet_ids");
    for subnet in &wanted {
        if !associations.contains_key(subnet) {
            aws.ec2
                .associate_route_table()
                .route_table_id(table)
                .subnet_id(subnet)
                .send()
                .await
                .map_err(|e| error("AssociateRouteTable", e))?;
        }
    }
    for (subnet, association) in &associations {
        if !wanted.contains(subnet) {
            disassociate(aws, association).await?;
        }
    }
    Ok(())
}

async fn disassociate(aws: &AwsClients, association: &str) -> Result<(), CloudError> {
    deleted(
        "DisassociateRouteTable",
        aws.ec2
            .disassociate_route_table()
            .association_id(association)
            .send()
            .await,
    )
}

#[async_trait]
impl Kind for RouteTable {
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

    fn change_of(&self, attribute: &str) -> Change {
        match attribute {
            "vpc_id" => Change::Replace,
            _ => Change::InPlace,
        }
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

    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let tables = aws
            .ec2
            .describe_route_tables()
            .filters(stack_filter(&scope.stack))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("DescribeRouteTables", e))?;
        Ok(tables
            .iter()
            .filter_map(|table| {
                let routes: BTreeMap<String, Value> = table
                    .routes()
                    .iter()
                    .filter_map(|route| {
                        let target = route.nat_gateway_id().or(route.gateway_id())?;
                        // The VPC's own `local` route is not ours to manage.
                        if target == "local" {
                            return None;
                        }
                        Some((
                            route.destination_cidr_block()?.to_string(),
                            Value::string(target),
                        ))
                    })
                    .collect();
                let mut associations = BTreeMap::new();
                for association in table.associations() {
                    if let (Some(subnet), Some(id)) = (
                        association.subnet_id(),
                        association.route_table_association_id(),
                    ) {
                        associations.insert(subnet.to_string(), Value::string(id));
                    }
                }
                let mut attributes = Attributes::new();
                attributes.insert(
                    "vpc_id".into(),
                    Value::string(table.vpc_id().unwrap_or_default()),
                );
                attributes.insert("routes".into(), Value::Map(routes));
                attributes.insert(
                    "subnet_ids".into(),
                    Value::List(
                        associations
                            .keys()
                            .map(|s| Value::string(s.clone()))
                            .collect(),
                    ),
                );
                attributes.insert("associations".into(), Value::Map(associations));
                let id = table.route_table_id().unwrap_or_default();
                live(
                    self.name(),
                    &scope.stack,
                    id,
                    from_sdk(table.tags()),
                    attributes,
                    Status::Ready,
                )
            })
            .collect())
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let out = aws
            .ec2
            .create_route_table()
            .vpc_id(required(attributes, "vpc_id")?)
            // A create retried after a lost answer gets the same table back.
            .client_token(&request.token)
            .tag_specifications(tag_specification(ResourceType::RouteTable, attributes))
            .send()
            .await
            .map_err(|e| error("CreateRouteTable", e))?;
        let id = out
            .route_table()
            .and_then(|t| t.route_table_id())
            .unwrap_or_default()
            .to_string();
        // Routes and associations after the table exists; a crash in between
        // leaves a marked table that the next plan updates in place.
        sync(aws, &id, &Attributes::new(), attributes).await?;
        Ok(request.created(self.name(), id, Status::Ready))
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        sync(aws, &live.id, &live.attributes, desired).await?;
        sync_tags(&aws.ec2, &live.id, &live.attributes, desired).await
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        if let Some(associations) = live.attributes.get("associations").and_then(Value::as_map) {
            for association in associations.values().filter_map(Value::as_str) {
                disassociate(aws, association).await?;
            }
        }
        deleted(
            "DeleteRouteTable",
            aws.ec2
                .delete_route_table()
                .route_table_id(&live.id)
                .send()
                .await,
        )
    }

    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        read_by_address(self, aws, live).await
    }
}
