//! AWS calls for security groups (a load balancer's, those of
//! `securityGroups`). Rules change in place, one permission per call; a rule
//! whose peer is a group is a user-id/group pair, read back as the kind's
//! `{ group, rule }` value (`self` for the group itself).

use async_trait::async_trait;

use crate::ec2::{described_by_id, from_sdk, stack_filter, sync_tags, tag_specification};
use crate::{Adapter, AwsClients, Finding, deleted, error};
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, UserIdGroupPair};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::security_group::{Direction, SecurityGroup, group_rule};
use eksform_core::kinds::tags::required;
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value};
use std::collections::BTreeSet;

/// Authorizes or revokes rules one permission per call: the emulator's
/// answer lists only the last permission's rules when given several.
async fn change_rules(
    aws: &AwsClients,
    group: &str,
    direction: Direction,
    authorize: bool,
    rules: &BTreeSet<String>,
) -> Result<(), CloudError> {
    for rule in rules {
        let Some(permission) = permission(rule, group) else {
            continue;
        };
        let result = match (direction, authorize) {
            (Direction::Ingress, true) => aws
                .ec2
                .authorize_security_group_ingress()
                .group_id(group)
                .ip_permissions(permission)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| error("AuthorizeSecurityGroupIngress", e)),
            (Direction::Ingress, false) => aws
                .ec2
                .revoke_security_group_ingress()
                .group_id(group)
                .ip_permissions(permission)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| error("RevokeSecurityGroupIngress", e)),
            (Direction::Egress, true) => aws
                .ec2
                .authorize_security_group_egress()
                .group_id(group)
                .ip_permissions(permission)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| error("AuthorizeSecurityGroupEgress", e)),
            (Direction::Egress, false) => aws
                .ec2
                .revoke_security_group_egress()
                .group_id(group)
                .ip_permissions(permission)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| error("RevokeSecurityGroupEgress", e)),
        };
        match result {
            Ok(()) => {}
            // Already as wanted (a retried call): done.
            Err(e)
                if matches!(
                    e.code.as_deref(),
                    Some("InvalidPermission.Duplicate" | "InvalidPermission.NotFound")
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The rules of a list attribute as `<protocol>:<ports>:<peer>` (`all:<peer>`),
/// the peer a CIDR, a group id or `self`.
fn rule_keys(attributes: &Attributes, name: &str) -> BTreeSet<String> {
    attributes
        .get(name)
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(|rule| match rule {
            Value::String(text) => Some(text.clone()),
            Value::Map(map) => Some(format!(
                "{}:{}",
                map.get("rule")?.as_str()?,
                map.get("group")?.as_str()?
            )),
            _ => None,
        })
        .collect()
}

/// Brings the rules of one direction from `live` to `desired`.
async fn sync_rules(
    aws: &AwsClients,
    group: &str,
    direction: Direction,
    live: BTreeSet<String>,
    desired: BTreeSet<String>,
) -> Result<(), CloudError> {
    let missing = desired.difference(&live).cloned().collect();
    let extra = live.difference(&desired).cloned().collect();
    change_rules(aws, group, direction, true, &missing).await?;
    change_rules(aws, group, direction, false, &extra).await
}

fn to_live(
    kind: &SecurityGroup,
    finding: Finding,
    group: &aws_sdk_ec2::types::SecurityGroup,
) -> Option<LiveResource> {
    let own = group.group_id().unwrap_or_default();
    let rules = |permissions: &[IpPermission]| -> Value {
        let mut rules: Vec<Value> = permissions
            .iter()
            .flat_map(|p| rule_values(p, own))
            .collect();
        rules.sort();
        Value::List(rules)
    };
    let mut attributes = Attributes::new();
    attributes.insert(
        "name".into(),
        Value::string(group.group_name().unwrap_or_default()),
    );
    attributes.insert(
        "description".into(),
        Value::string(group.description().unwrap_or_default()),
    );
    attributes.insert(
        "vpc_id".into(),
        Value::string(group.vpc_id().unwrap_or_default()),
    );
    attributes.insert("ingress".into(), rules(group.ip_permissions()));
    attributes.insert("egress".into(), rules(group.ip_permissions_egress()));
    finding.live(
        kind.name(),
        group.group_id().unwrap_or_default(),
        from_sdk(group.tags()),
        attributes,
        Status::Ready,
    )
}

#[async_trait]
impl Adapter for SecurityGroup {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let groups = aws
            .ec2
            .describe_security_groups()
            .filters(stack_filter(&scope.stack))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("DescribeSecurityGroups", e))?;
        Ok(groups
            .iter()
            .filter_map(|group| to_live(self, Finding::Stack(&scope.stack), group))
            .collect())
    }

    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        described_by_id(
            "DescribeSecurityGroups",
            aws.ec2
                .describe_security_groups()
                .group_ids(id)
                .send()
                .await,
            |out| out.security_groups(),
            |group| to_live(self, Finding::Adoption(&desired.address), group),
        )
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let created = aws
            .ec2
            .create_security_group()
            .group_name(required(attributes, "name")?)
            .description(required(attributes, "description")?)
            .vpc_id(required(attributes, "vpc_id")?)
            .tag_specifications(tag_specification(ResourceType::SecurityGroup, attributes))
            .customize()
            .config_override(crate::sent_once!(aws_sdk_ec2))
            .send()
            .await
            .map_err(|e| error("CreateSecurityGroup", e))?;
        let id = created.group_id().unwrap_or_default().to_string();
        // A new group allows all egress; the desired rules replace that.
        let mut fresh = Attributes::new();
        fresh.insert(
            "egress".into(),
            Value::string_set(&["all:0.0.0.0/0".into()]),
        );
        let group = LiveResource {
            attributes: fresh,
            ..request.created(self.name(), id.clone(), Status::Ready)
        };
        self.update(aws, &group, attributes).await?;
        Ok(request.created(self.name(), id, Status::Ready))
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        for (name, direction) in [
            ("ingress", Direction::Ingress),
            ("egress", Direction::Egress),
        ] {
            if desired.contains_key(name) {
                sync_rules(
                    aws,
                    &live.id,
                    direction,
                    rule_keys(&live.attributes, name),
                    rule_keys(desired, name),
                )
                .await?;
            }
        }
        if desired.contains_key("tags") {
            sync_tags(&aws.ec2, &live.id, &live.attributes, desired).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        deleted(
            "DeleteSecurityGroup",
            aws.ec2
                .delete_security_group()
                .group_id(&live.id)
                .send()
                .await,
        )
    }
}

/// What a permission admits, as the kind writes it: `tcp:443`, `tcp:1024-2048`, `all`.
fn traffic(permission: &IpPermission) -> String {
    match (
        permission.ip_protocol().unwrap_or_default(),
        permission.from_port(),
        permission.to_port(),
    ) {
        ("-1", _, _) => "all".into(),
        (protocol, Some(from), Some(to)) if from == to => format!("{protocol}:{from}"),
        (protocol, from, to) => format!("{protocol}:{}-{}", from.unwrap_or(0), to.unwrap_or(0)),
    }
}

/// A permission's rules as the kind writes them: `<traffic>:<cidr>` for each
/// CIDR, `{ group, rule }` for each group (`self` when it is `own`).
pub fn rule_values(permission: &IpPermission, own: &str) -> Vec<Value> {
    let traffic = traffic(permission);
    let cidrs = permission
        .ip_ranges()
        .iter()
        .filter_map(|r| r.cidr_ip())
        .map(|cidr| Value::string(format!("{traffic}:{cidr}")));
    let groups = permission
        .user_id_group_pairs()
        .iter()
        .filter_map(|pair| pair.group_id())
        .map(|id| group_rule(&traffic, Value::string(if id == own { "self" } else { id })));
    cidrs.chain(groups).collect()
}

/// The permission of a rule `<protocol>:<ports>:<peer>` or `all:<peer>`, the
/// peer a CIDR, a group id (`sg-`) or `self` (the group `own`).
pub fn permission(rule: &str, own: &str) -> Option<IpPermission> {
    let parts: Vec<&str> = rule.split(':').collect();
    let (builder, peer) = match parts.as_slice() {
        ["all", peer] => (IpPermission::builder().ip_protocol("-1"), *peer),
        [protocol, port, peer] => {
            // ICMP's every type is -1, which is no range.
            let (from, to) = match *port {
                "-1" => ("-1", "-1"),
                port => port.split_once('-').unwrap_or((port, port)),
            };
            (
                IpPermission::builder()
                    .ip_protocol(*protocol)
                    .from_port(from.parse().ok()?)
                    .to_port(to.parse().ok()?),
                *peer,
            )
        }
        _ => return None,
    };
    let builder = match peer {
        "self" => builder.user_id_group_pairs(UserIdGroupPair::builder().group_id(own).build()),
        group if group.starts_with("sg-") => {
            builder.user_id_group_pairs(UserIdGroupPair::builder().group_id(group).build())
        }
        cidr => builder.ip_ranges(IpRange::builder().cidr_ip(cidr).build()),
    };
    Some(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_back_as_they_are_written() {
        for rule in [
            "tcp:443:10.0.0.0/8",
            "all:10.20.0.0/16",
            "tcp:1024-2048:0.0.0.0/0",
            "icmp:-1:10.0.0.0/8",
        ] {
            let permission = permission(rule, "sg-own").unwrap();
            assert_eq!(
                rule_values(&permission, "sg-own"),
                vec![Value::string(rule)]
            );
        }
    }

    #[test]
    fn group_rules_read_back_as_the_kind_writes_them() {
        for (rule, traffic, group) in [
            ("tcp:5432:sg-0abc", "tcp:5432", "sg-0abc"),
            ("udp:1024-2048:self", "udp:1024-2048", "self"),
            ("all:sg-0def", "all", "sg-0def"),
        ] {
            let permission = permission(rule, "sg-own").unwrap();
            assert_eq!(
                rule_values(&permission, "sg-own"),
                vec![group_rule(traffic, Value::string(group))]
            );
            let mut attributes = Attributes::new();
            attributes.insert(
                "ingress".into(),
                Value::List(rule_values(&permission, "sg-own")),
            );
            assert_eq!(
                rule_keys(&attributes, "ingress"),
                BTreeSet::from([rule.to_string()])
            );
        }
        let own = permission("tcp:80:self", "sg-own").unwrap();
        assert_eq!(own.user_id_group_pairs()[0].group_id(), Some("sg-own"));
    }
}
