//! AWS calls for the security group of a load balancer: HTTP and HTTPS in from
//! `ingressCIDRs`, everything out to the VPC (or anywhere, for a brought VPC
//! whose CIDR eksform does not know). Rules change in place.

use async_trait::async_trait;

use crate::ec2::{from_sdk, stack_filter, sync_tags, tag_specification};
use crate::{Adapter, AwsClients, Finding, deleted, error, none_if_not_found};
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::security_group::{Direction, SecurityGroup};
use eksform_core::kinds::tags::required;
use eksform_core::model::{Attributes, DesiredResource, LiveResource, Status, Value, string_list};
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
        let Some(permission) = permission(rule) else {
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

/// Brings the rules of one direction from `live` to `desired`.
async fn sync_rules(
    aws: &AwsClients,
    group: &str,
    direction: Direction,
    live: &[String],
    desired: &[String],
) -> Result<(), CloudError> {
    let live: BTreeSet<String> = live.iter().cloned().collect();
    let desired: BTreeSet<String> = desired.iter().cloned().collect();
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
    let rules = |permissions: &[IpPermission]| -> Vec<String> {
        permissions.iter().flat_map(rule_text).collect()
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
    attributes.insert(
        "ingress".into(),
        Value::string_set(&rules(group.ip_permissions())),
    );
    attributes.insert(
        "egress".into(),
        Value::string_set(&rules(group.ip_permissions_egress())),
    );
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
        match aws
            .ec2
            .describe_security_groups()
            .group_ids(id)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .security_groups()
                .iter()
                .find_map(|group| to_live(self, Finding::Adoption(&desired.address), group))),
            Err(e) => none_if_not_found(error("DescribeSecurityGroups", e)),
        }
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
                    &string_list(&live.attributes, name),
                    &string_list(desired, name),
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

/// A rule as eksform writes it: `tcp:<port>:<cidr>` or `all:<cidr>`.
pub fn rule_text(permission: &IpPermission) -> Vec<String> {
    let protocol = permission.ip_protocol().unwrap_or_default();
    permission
        .ip_ranges()
        .iter()
        .filter_map(|r| r.cidr_ip())
        .map(
            |cidr| match (protocol, permission.from_port(), permission.to_port()) {
                ("-1", _, _) => format!("all:{cidr}"),
                (protocol, Some(from), Some(to)) if from == to => {
                    format!("{protocol}:{from}:{cidr}")
                }
                (protocol, from, to) => {
                    format!(
                        "{protocol}:{}-{}:{cidr}",
                        from.unwrap_or(0),
                        to.unwrap_or(0)
                    )
                }
            },
        )
        .collect()
}

pub fn permission(rule: &str) -> Option<IpPermission> {
    let parts: Vec<&str> = rule.split(':').collect();
    let builder = match parts.as_slice() {
        ["all", cidr] => IpPermission::builder()
            .ip_protocol("-1")
            .ip_ranges(IpRange::builder().cidr_ip(*cidr).build()),
        [protocol, port, cidr] => {
            let (from, to) = port.split_once('-').unwrap_or((port, port));
            IpPermission::builder()
                .ip_protocol(*protocol)
                .from_port(from.parse().ok()?)
                .to_port(to.parse().ok()?)
                .ip_ranges(IpRange::builder().cidr_ip(*cidr).build())
        }
        _ => return None,
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
        ] {
            let permission = permission(rule).unwrap();
            assert_eq!(rule_text(&permission), vec![rule.to_string()]);
        }
    }
}
