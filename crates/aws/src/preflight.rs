//! AWS calls for preflight (`eksform_core::preflight`): read-only answers to a
//! plan's questions, all asked at once, each only when the plan needs it. An
//! endpoint that does not implement one of these APIs (it answers without an
//! error code, as the emulator does) leaves that check out, said at `-v`;
//! AWS itself answers them all.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{Filter, LocationType, UsageClassType};
use eksform_core::cloud::{CloudError, ErrorClass};
use eksform_core::preflight::{Facts, InstanceTypeFacts, Questions, VersionFact, ZoneFact};

use crate::{AwsClients, error};

/// The facts for `questions`, read concurrently.
pub async fn facts(aws: &AwsClients, questions: &Questions) -> Result<Facts, CloudError> {
    let (zones, cluster_versions, instance_types, spot) = tokio::try_join!(
        asked(questions.zones, "DescribeAvailabilityZones", || zones(aws)),
        asked(
            questions.cluster_versions,
            "DescribeClusterVersions",
            || cluster_versions(aws)
        ),
        asked(
            !questions.instance_types.is_empty(),
            "DescribeInstanceTypeOfferings",
            || instance_types(aws, &questions.instance_types, &questions.instance_zones)
        ),
        asked(
            !questions.spot_types.is_empty(),
            "DescribeInstanceTypes",
            || spot_capable(aws, &questions.spot_types)
        ),
    )?;
    let addon_schemas = asked(
        !questions.addon_configurations.is_empty(),
        "DescribeAddonConfiguration",
        || crate::eks::addon::configuration_schemas(aws, &questions.addon_configurations),
    );
    let target_groups = asked(
        !questions.brought_target_groups.is_empty(),
        "DescribeTargetGroups",
        || brought_target_groups(aws, &questions.brought_target_groups),
    );
    let (
        managed_policies,
        principals,
        vpcs,
        elastic_ips,
        nat_gateways,
        addon_schemas,
        target_groups,
    ) = tokio::try_join!(
        asked(!questions.managed_policies.is_empty(), "GetPolicy", || {
            policies(aws, &questions.managed_policies)
        }),
        asked(!questions.principals.is_empty(), "GetRole/GetUser", || {
            principals(aws, &questions.principals)
        }),
        asked(questions.vpcs, "DescribeVpcs", || vpc_count(aws)),
        asked(questions.elastic_ips, "DescribeAddresses", || {
            elastic_ip_count(aws)
        }),
        asked(questions.nat_gateways, "DescribeNatGateways", || {
            nat_gateways_by_zone(aws)
        }),
        addon_schemas,
        target_groups,
    )?;
    Ok(Facts {
        zones,
        cluster_versions,
        instance_types,
        spot,
        managed_policies,
        principals,
        vpcs,
        elastic_ips,
        nat_gateways,
        addon_schemas,
        target_groups,
        taken_names: Vec::new(),
    })
}

/// The answer when the question is asked; `None` when it is not, or when the
/// endpoint does not implement the API.
async fn asked<T, F, Fut>(ask: bool, operation: &str, read: F) -> Result<Option<T>, CloudError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, CloudError>>,
{
    if !ask {
        return Ok(None);
    }
    match read().await {
        Ok(answer) => Ok(Some(answer)),
        Err(e) if not_implemented(&e) => {
            tracing::info!(
                "this endpoint does not answer {operation}; that preflight check is skipped ({e})"
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// An endpoint that lacks an API answers with an HTML 404 or 500, which
/// carries no AWS error code; AWS always sends one.
pub fn not_implemented(e: &CloudError) -> bool {
    e.code.is_none() && e.class == ErrorClass::Rejected
}

async fn zones(aws: &AwsClients) -> Result<Vec<ZoneFact>, CloudError> {
    // Without AllAvailabilityZones, only the zones offered to the account
    // (opted in, for Local Zones).
    let out = aws
        .ec2
        .describe_availability_zones()
        .send()
        .await
        .map_err(|e| error("DescribeAvailabilityZones", e))?;
    Ok(out
        .availability_zones()
        .iter()
        .filter_map(|z| {
            Some(ZoneFact {
                name: z.zone_name()?.to_string(),
                state: z.state().map_or("available", |s| s.as_str()).to_string(),
            })
        })
        .collect())
}

async fn cluster_versions(aws: &AwsClients) -> Result<Vec<VersionFact>, CloudError> {
    let mut versions = Vec::new();
    let mut token = None;
    loop {
        let out = aws
            .eks
            .describe_cluster_versions()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| error("DescribeClusterVersions", e))?;
        versions.extend(out.cluster_versions().iter().filter_map(|v| {
            Some(VersionFact {
                version: v.cluster_version()?.to_string(),
                status: v
                    .version_status()
                    .map_or("STANDARD_SUPPORT", |s| s.as_str())
                    .to_string(),
            })
        }));
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(versions);
        }
    }
}

fn filter(name: &str, values: &BTreeSet<String>) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().cloned().collect()))
        .build()
}

/// (type, location) of every offering matching the filters.
async fn offerings(
    aws: &AwsClients,
    location: LocationType,
    filters: Vec<Filter>,
) -> Result<Vec<(String, String)>, CloudError> {
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let out = aws
            .ec2
            .describe_instance_type_offerings()
            .location_type(location.clone())
            .set_filters(Some(filters.clone()))
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| error("DescribeInstanceTypeOfferings", e))?;
        found.extend(out.instance_type_offerings().iter().filter_map(|o| {
            Some((
                o.instance_type()?.as_str().to_string(),
                o.location().unwrap_or_default().to_string(),
            ))
        }));
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(found);
        }
    }
}

async fn instance_types(
    aws: &AwsClients,
    types: &BTreeSet<String>,
    zones: &BTreeSet<String>,
) -> Result<InstanceTypeFacts, CloudError> {
    let mut offered: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let asked = if zones.is_empty() {
        offerings(
            aws,
            LocationType::Region,
            vec![filter("instance-type", types)],
        )
        .await?
    } else {
        offerings(
            aws,
            LocationType::AvailabilityZone,
            vec![filter("instance-type", types), filter("location", zones)],
        )
        .await?
    };
    for (instance_type, location) in asked {
        let zones_of = offered.entry(instance_type).or_default();
        if !zones.is_empty() {
            zones_of.insert(location);
        }
    }
    // A type offered nowhere asked: a typo, or a type the region has elsewhere.
    let in_region = if types.iter().any(|t| !offered.contains_key(t)) {
        let all = offerings(aws, LocationType::Region, Vec::new()).await?;
        Some(all.into_iter().map(|(t, _)| t).collect())
    } else {
        None
    };
    Ok(InstanceTypeFacts { offered, in_region })
}

async fn spot_capable(
    aws: &AwsClients,
    types: &BTreeSet<String>,
) -> Result<BTreeMap<String, bool>, CloudError> {
    // A filter, not InstanceTypes: a type that does not exist is left out
    // (the offerings check names it) instead of failing the whole call.
    let mut capable = BTreeMap::new();
    let mut token = None;
    loop {
        let out = aws
            .ec2
            .describe_instance_types()
            .filters(filter("instance-type", types))
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| error("DescribeInstanceTypes", e))?;
        for info in out.instance_types() {
            if let Some(name) = info.instance_type() {
                capable.insert(
                    name.as_str().to_string(),
                    info.supported_usage_classes()
                        .contains(&UsageClassType::Spot),
                );
            }
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(capable);
        }
    }
}

/// Whether a read found its subject: "not found" is `false`.
fn exists<T>(result: Result<T, CloudError>) -> Result<bool, CloudError> {
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.class == ErrorClass::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

async fn policies(
    aws: &AwsClients,
    arns: &BTreeSet<String>,
) -> Result<BTreeMap<String, bool>, CloudError> {
    let reads = arns.iter().map(|arn| async move {
        let found = aws
            .iam
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| error("GetPolicy", e));
        Ok::<_, CloudError>((arn.clone(), exists(found)?))
    });
    Ok(futures_util::future::try_join_all(reads)
        .await?
        .into_iter()
        .collect())
}

async fn principals(
    aws: &AwsClients,
    arns: &BTreeSet<String>,
) -> Result<BTreeMap<String, bool>, CloudError> {
    let reads = arns.iter().map(|arn| async move {
        // `arn:aws:iam::<account>:role/<path>/<name>`: IAM reads take the name.
        let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
        let name = resource.rsplit('/').next().unwrap_or_default();
        let found = if resource.starts_with("user/") {
            let read = aws.iam.get_user().user_name(name).send().await;
            exists(read.map_err(|e| error("GetUser", e)))?
        } else {
            let read = aws.iam.get_role().role_name(name).send().await;
            exists(read.map_err(|e| error("GetRole", e)))?
        };
        Ok::<_, CloudError>((arn.clone(), found))
    });
    Ok(futures_util::future::try_join_all(reads)
        .await?
        .into_iter()
        .collect())
}

/// Each group's load balancers, or `None` when there is no such group. One
/// read a group: DescribeTargetGroups fails as a whole when one is missing.
async fn brought_target_groups(
    aws: &AwsClients,
    arns: &BTreeSet<String>,
) -> Result<BTreeMap<String, Option<Vec<String>>>, CloudError> {
    let reads = arns.iter().map(|arn| async move {
        let read = aws
            .elb
            .describe_target_groups()
            .target_group_arns(arn)
            .send()
            .await;
        let balancers = match read {
            Ok(out) => Some(
                out.target_groups()
                    .iter()
                    .flat_map(|g| g.load_balancer_arns())
                    .cloned()
                    .collect(),
            ),
            Err(e) => {
                let e = error("DescribeTargetGroups", e);
                if e.code.as_deref() == Some("TargetGroupNotFound") {
                    None
                } else {
                    return Err(e);
                }
            }
        };
        Ok::<_, CloudError>((arn.clone(), balancers))
    });
    Ok(futures_util::future::try_join_all(reads)
        .await?
        .into_iter()
        .collect())
}

async fn vpc_count(aws: &AwsClients) -> Result<usize, CloudError> {
    let mut count = 0;
    let mut token = None;
    loop {
        let out = aws
            .ec2
            .describe_vpcs()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| error("DescribeVpcs", e))?;
        count += out.vpcs().len();
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(count);
        }
    }
}

async fn elastic_ip_count(aws: &AwsClients) -> Result<usize, CloudError> {
    let out = aws
        .ec2
        .describe_addresses()
        .send()
        .await
        .map_err(|e| error("DescribeAddresses", e))?;
    Ok(out.addresses().len())
}

async fn nat_gateways_by_zone(aws: &AwsClients) -> Result<BTreeMap<String, usize>, CloudError> {
    let mut subnets = Vec::new();
    let mut token = None;
    loop {
        let out = aws
            .ec2
            .describe_nat_gateways()
            .filter(
                Filter::builder()
                    .name("state")
                    .values("pending")
                    .values("available")
                    .build(),
            )
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| error("DescribeNatGateways", e))?;
        subnets.extend(
            out.nat_gateways()
                .iter()
                .filter_map(|n| n.subnet_id().map(str::to_string)),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let mut by_zone = BTreeMap::new();
    if subnets.is_empty() {
        return Ok(by_zone);
    }
    let unique: BTreeSet<String> = subnets.iter().cloned().collect();
    let out = aws
        .ec2
        .describe_subnets()
        .filters(filter("subnet-id", &unique))
        .send()
        .await
        .map_err(|e| error("DescribeSubnets", e))?;
    let zone_of: BTreeMap<&str, &str> = out
        .subnets()
        .iter()
        .filter_map(|s| Some((s.subnet_id()?, s.availability_zone()?)))
        .collect();
    for subnet in &subnets {
        if let Some(zone) = zone_of.get(subnet.as_str()) {
            *by_zone.entry(zone.to_string()).or_insert(0) += 1;
        }
    }
    Ok(by_zone)
}
