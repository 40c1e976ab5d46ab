//! AWS calls for route tables: one public table (default route to the internet gateway) and
//! one private table per zone (default route to that zone's NAT gateway, or the
//! single one, or none). Routes and subnet associations are attributes of the
//! table, changed in place, so switching NAT modes never touches subnets.

use async_trait::async_trait;

use crate::ec2::{described_by_id, from_sdk, stack_filter, sync_tags, tag_specification};
use crate::{Adapter, AwsClients, Finding, deleted, error, not_found_is_done};
use aws_sdk_ec2::types::{ResourceType, RouteOrigin};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::route_table::{RouteTable, is_own_route};
use eksform_core::kinds::tags::required;
use eksform_core::model::{
    Attributes, DesiredResource, LiveResource, STACK_TAG, Status, Value, string_list, string_map,
};
use std::collections::BTreeMap;

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
    // Only eksform's own routes are ever written: the others `after` keeps
    // are as the plan read them, and never put back.
    let own = new_routes
        .iter()
        .filter(|(d, target)| is_own_route(d, target));
    for (destination, target) in own {
        match old_routes.get(destination) {
            Some(old) if old == target => {}
            Some(_) => put_route(aws, table, destination, target, true).await?,
            None => put_route(aws, table, destination, target, false).await?,
        }
    }
    // Only eksform's own routes are ever deleted, whatever `after` holds.
    let gone = old_routes
        .iter()
        .filter(|(d, target)| !new_routes.contains_key(*d) && is_own_route(d, target))
        .map(|(d, _)| d);
    for destination in gone {
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

/// A table with its routes and its subnet associations. Left out: the VPC's
/// own `local` route, routes a virtual private gateway propagates (BGP's,
/// neither made nor deleted by a route call), and routes to a prefix list or
/// an IPv6 range (eksform writes neither, and keeps every route it did not
/// make). Every target a route can have is read, so a default route another
/// team pointed elsewhere is seen, not created over.
fn to_live(
    kind: &RouteTable,
    finding: Finding,
    table: &aws_sdk_ec2::types::RouteTable,
) -> Option<LiveResource> {
    let routes: BTreeMap<String, Value> = table
        .routes()
        .iter()
        .filter(|route| route.origin() != Some(&RouteOrigin::EnableVgwRoutePropagation))
        .filter_map(|route| {
            let target = route
                .nat_gateway_id()
                .or(route.gateway_id())
                .or(route.transit_gateway_id())
                .or(route.vpc_peering_connection_id())
                .or(route.network_interface_id())
                .or(route.instance_id())
                .or(route.local_gateway_id())
                .or(route.carrier_gateway_id())
                .or(route.core_network_arn())?;
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
    finding.live(
        kind.name(),
        table.route_table_id().unwrap_or_default(),
        from_sdk(table.tags()),
        attributes,
        Status::Ready,
    )
}

#[async_trait]
impl Adapter for RouteTable {
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
            .filter_map(|table| to_live(self, Finding::Stack(&scope.stack), table))
            .collect())
    }

    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        described_by_id(
            "DescribeRouteTables",
            aws.ec2
                .describe_route_tables()
                .route_table_ids(id)
                .send()
                .await,
            |out| out.route_tables(),
            |table| to_live(self, Finding::Adoption(&desired.address), table),
        )
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

    /// A subnet has one route table. One the new table is to hold that is
    /// already associated with a table not of this stack (Terraform's, left
    /// behind when the VPC and subnets were adopted) would make AWS refuse
    /// the association (`Resource.AlreadyAssociated`) half-way through apply;
    /// the plan stops instead, naming the table. Moving the subnet would
    /// change another tool's table, which the spec did not ask for.
    async fn name_taken(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        // Subnets the same apply makes are known only then: they hold nothing.
        let subnets: Vec<String> = string_list(&desired.attributes, "subnet_ids")
            .into_iter()
            .filter(|id| id.starts_with("subnet-"))
            .collect();
        if subnets.is_empty() {
            return Ok(None);
        }
        let out = aws
            .ec2
            .describe_route_tables()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("association.subnet-id")
                    .set_values(Some(subnets.clone()))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| error("DescribeRouteTables", e))?;
        let stack = eksform_core::kinds::tags::stack_of(&desired.attributes);
        for table in out.route_tables() {
            let tags = from_sdk(table.tags());
            if tags.get(STACK_TAG) == Some(&stack) {
                // The stack's own (an old table `in_the_way` lets go first).
                continue;
            }
            let held = table
                .associations()
                .iter()
                .filter_map(|a| a.subnet_id())
                .find(|subnet| subnets.iter().any(|s| s == subnet));
            let (Some(subnet), Some(id)) = (held, table.route_table_id()) else {
                continue;
            };
            let held_by = format!(
                "subnet {subnet} is associated with route table {id}; a subnet has one route table and AWS refuses a second association"
            );
            return Ok(Some(match (tags.get(STACK_TAG), tags.get("Name")) {
                (Some(owner), _) => {
                    format!(
                        "{held_by}: the table is stack {owner}'s, and eksform never takes another stack's"
                    )
                }
                (None, name) => format!(
                    "{held_by}: the table{} was made outside eksform; take it over with `adopt: [{{ address: {}, id: {id} }}]`, or disassociate the subnet from it first",
                    name.map(|n| format!(" (`{n}`)")).unwrap_or_default(),
                    desired.address
                ),
            }));
        }
        Ok(None)
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
}
