//! A crowded account: other teams' resources made straight through the SDK
//! clients (no eksform run), so that a plan can be shown not to read them.
//! Used by the benchmark (`plan_calls_crowded`) and by the emulator test that
//! holds a no-change plan's calls to the empty account's.
//!
//! Every name starts with `crowd-`, a prefix no test stack uses; half of what
//! can be tagged carries another eksform stack's mark (`crowd-team-<n>`), as
//! other teams using eksform would leave it, the rest a plain `team` tag.

use std::collections::BTreeMap;

use eksform_aws::AwsClients;
use futures_util::{StreamExt, TryStreamExt, stream};

/// How many of each kind of resource other teams hold.
#[derive(Debug, Clone, Copy, Default)]
pub struct Crowd {
    /// EKS clusters, each with `node_groups_each` node groups.
    pub clusters: usize,
    pub node_groups_each: usize,
    pub roles: usize,
    pub oidc_providers: usize,
    pub certificates: usize,
    /// Application load balancers, each with a target group and a listener.
    pub load_balancers: usize,
    pub hosted_zones: usize,
    /// VPCs, each with two subnets and a route table.
    pub vpcs: usize,
}

impl Crowd {
    /// The account of issue #17: tens of clusters, hundreds of roles and
    /// certificates, a hundred load balancers.
    pub fn issue_17() -> Self {
        Self {
            clusters: 20,
            node_groups_each: 2,
            roles: 300,
            oidc_providers: 5,
            certificates: 200,
            load_balancers: 100,
            hosted_zones: 50,
            vpcs: 30,
        }
    }

    /// `n` of each (one node group a cluster): a small crowd for tests.
    pub fn of_each(n: usize) -> Self {
        Self {
            clusters: n,
            node_groups_each: 1,
            roles: n,
            oidc_providers: n,
            certificates: n,
            load_balancers: n,
            hosted_zones: n,
            vpcs: n,
        }
    }
}

/// Calls made at once while filling: enough to be quick, few enough for the
/// emulator.
const AT_ONCE: usize = 16;

/// Makes `n` items, `make(i)` the `i`-th, at most `AT_ONCE` at a time; their
/// results in the order of `i` (the first VPC is the one the clusters use).
async fn make_each<T, Made>(n: usize, make: impl Fn(usize) -> Made) -> Result<Vec<T>, String>
where
    Made: Future<Output = Result<T, String>>,
{
    let mut made: Vec<(usize, T)> = stream::iter(0..n)
        .map(|i| {
            let made = make(i);
            async move { made.await.map(|item| (i, item)) }
        })
        .buffer_unordered(AT_ONCE)
        .try_collect()
        .await?;
    made.sort_by_key(|(i, _)| *i);
    Ok(made.into_iter().map(|(_, item)| item).collect())
}

fn failed(what: &str) -> impl Fn(String) -> String + '_ {
    move |e| format!("making the crowd's {what}: {e}")
}

/// The tags of the crowd's `i`-th resource: another eksform stack's mark on
/// even ones, a plain team tag on odd ones.
fn crowd_tags(i: usize) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::from([("team".to_string(), format!("team-{}", i % 7))]);
    if i.is_multiple_of(2) {
        tags.insert(
            eksform_core::model::STACK_TAG.to_string(),
            format!("crowd-team-{}", i % 7),
        );
    }
    tags
}

/// Makes the crowd in the clients' account and region.
pub async fn fill(aws: &AwsClients, crowd: &Crowd) -> Result<(), String> {
    // The network first: clusters and load balancers need subnets.
    let networks = vpcs(aws, crowd.vpcs.max(1)).await?;
    let (first_vpc, first_subnets) = networks[0].clone();
    let role = aws
        .iam
        .create_role()
        .role_name("crowd-eks-service")
        .path("/crowd/")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .map_err(|e| failed("cluster role")(e.to_string()))?
        .role()
        .map(|r| r.arn().to_string())
        .unwrap_or_default();
    tokio::try_join!(
        clusters(aws, crowd, &role, &first_subnets),
        roles(aws, crowd.roles),
        oidc_providers(aws, crowd.oidc_providers),
        certificates(aws, crowd.certificates),
        load_balancers(aws, crowd.load_balancers, &first_vpc, &first_subnets),
        hosted_zones(aws, crowd.hosted_zones),
    )?;
    Ok(())
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// `n` VPCs (10.200.0.0/16 onwards, overlapping after 50: VPCs may), each
/// with two subnets in two zones and a route table; their ids and subnets.
async fn vpcs(aws: &AwsClients, n: usize) -> Result<Vec<(String, Vec<String>)>, String> {
    make_each(n, |i| async move {
        let ec2_tags = |kind: aws_sdk_ec2::types::ResourceType| {
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(kind)
                .set_tags(Some(
                    crowd_tags(i)
                        .into_iter()
                        .chain([("Name".to_string(), format!("crowd-{i}"))])
                        .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
                        .collect(),
                ))
                .build()
        };
        let octet = 200 + i % 50;
        let vpc = aws
            .ec2
            .create_vpc()
            .cidr_block(format!("10.{octet}.0.0/16"))
            .tag_specifications(ec2_tags(aws_sdk_ec2::types::ResourceType::Vpc))
            .send()
            .await
            .map_err(|e| failed("VPCs")(e.to_string()))?
            .vpc()
            .and_then(|v| v.vpc_id())
            .unwrap_or_default()
            .to_string();
        let mut subnets = Vec::new();
        for (n, zone) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
            let subnet = aws
                .ec2
                .create_subnet()
                .vpc_id(&vpc)
                .cidr_block(format!("10.{octet}.{n}.0/24"))
                .availability_zone(*zone)
                .tag_specifications(ec2_tags(aws_sdk_ec2::types::ResourceType::Subnet))
                .send()
                .await
                .map_err(|e| failed("subnets")(e.to_string()))?;
            subnets.push(
                subnet
                    .subnet()
                    .and_then(|s| s.subnet_id())
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        aws.ec2
            .create_route_table()
            .vpc_id(&vpc)
            .tag_specifications(ec2_tags(aws_sdk_ec2::types::ResourceType::RouteTable))
            .send()
            .await
            .map_err(|e| failed("route tables")(e.to_string()))?;
        Ok::<_, String>((vpc, subnets))
    })
    .await
}

async fn clusters(
    aws: &AwsClients,
    crowd: &Crowd,
    role: &str,
    subnets: &[String],
) -> Result<(), String> {
    make_each(crowd.clusters, |i| async move {
        let name = format!("crowd-cluster-{i}");
        aws.eks
            .create_cluster()
            .name(&name)
            .role_arn(role)
            .resources_vpc_config(
                aws_sdk_eks::types::VpcConfigRequest::builder()
                    .set_subnet_ids(Some(subnets.to_vec()))
                    .build(),
            )
            .set_tags(Some(crowd_tags(i).into_iter().collect()))
            .send()
            .await
            .map_err(|e| failed("clusters")(e.to_string()))?;
        for group in 0..crowd.node_groups_each {
            aws.eks
                .create_nodegroup()
                .cluster_name(&name)
                .nodegroup_name(format!("crowd-group-{group}"))
                .node_role(role)
                .set_subnets(Some(subnets.to_vec()))
                .send()
                .await
                .map_err(|e| failed("node groups")(e.to_string()))?;
        }
        Ok::<_, String>(())
    })
    .await?;
    Ok(())
}

async fn roles(aws: &AwsClients, n: usize) -> Result<(), String> {
    make_each(n, |i| async move {
        aws.iam
            .create_role()
            .role_name(format!("crowd-role-{i}"))
            .path(format!("/crowd/team-{}/", i % 7))
            .assume_role_policy_document(TRUST)
            .set_tags(Some(
                crowd_tags(i)
                    .into_iter()
                    .filter_map(|(k, v)| {
                        aws_sdk_iam::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                            .ok()
                    })
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| failed("roles")(e.to_string()))
            .map(|_| ())
    })
    .await?;
    Ok(())
}

async fn oidc_providers(aws: &AwsClients, n: usize) -> Result<(), String> {
    make_each(n, |i| async move {
        aws.iam
            .create_open_id_connect_provider()
            .url(format!(
                "https://oidc.eks.us-east-1.amazonaws.com/id/CROWD{i:027X}"
            ))
            .client_id_list("sts.amazonaws.com")
            .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
            .send()
            .await
            .map_err(|e| failed("OIDC providers")(e.to_string()))
            .map(|_| ())
    })
    .await?;
    Ok(())
}

async fn certificates(aws: &AwsClients, n: usize) -> Result<(), String> {
    make_each(n, |i| async move {
        aws.acm
            .request_certificate()
            .domain_name(format!("*.svc-{i}.crowd-team-{}.example.org", i % 7))
            .validation_method(aws_sdk_acm::types::ValidationMethod::Dns)
            .set_tags(Some(
                crowd_tags(i)
                    .into_iter()
                    .filter_map(|(k, v)| {
                        aws_sdk_acm::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                            .ok()
                    })
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| failed("certificates")(e.to_string()))
            .map(|_| ())
    })
    .await?;
    Ok(())
}

async fn load_balancers(
    aws: &AwsClients,
    n: usize,
    vpc: &str,
    subnets: &[String],
) -> Result<(), String> {
    use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ProtocolEnum, Tag};
    make_each(n, |i| async move {
        let tags: Vec<Tag> = crowd_tags(i)
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        let balancer = aws
            .elb
            .create_load_balancer()
            .name(format!("crowd-lb-{i}"))
            .set_subnets(Some(subnets.to_vec()))
            .set_tags(Some(tags.clone()))
            .send()
            .await
            .map_err(|e| failed("load balancers")(e.to_string()))?;
        let balancer = balancer
            .load_balancers()
            .first()
            .and_then(|b| b.load_balancer_arn())
            .unwrap_or_default()
            .to_string();
        let group = aws
            .elb
            .create_target_group()
            .name(format!("crowd-tg-{i}"))
            .protocol(ProtocolEnum::Http)
            .port(80)
            .vpc_id(vpc)
            .set_tags(Some(tags.clone()))
            .send()
            .await
            .map_err(|e| failed("target groups")(e.to_string()))?;
        let group = group
            .target_groups()
            .first()
            .and_then(|g| g.target_group_arn())
            .unwrap_or_default()
            .to_string();
        aws.elb
            .create_listener()
            .load_balancer_arn(balancer)
            .protocol(ProtocolEnum::Http)
            .port(80)
            .default_actions(
                Action::builder()
                    .r#type(ActionTypeEnum::Forward)
                    .target_group_arn(group)
                    .build(),
            )
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| failed("listeners")(e.to_string()))
            .map(|_| ())
    })
    .await?;
    Ok(())
}

async fn hosted_zones(aws: &AwsClients, n: usize) -> Result<(), String> {
    make_each(n, |i| async move {
        aws.route53
            .create_hosted_zone()
            .name(format!("crowd-team-{i}.example.org"))
            .caller_reference(format!("crowd-{i}"))
            .send()
            .await
            .map_err(|e| failed("hosted zones")(e.to_string()))
            .map(|_| ())
    })
    .await?;
    Ok(())
}

/// Counts of what the crowd's account holds in each list AWS pages, for the
/// floor's pagination: (the list call, the items it lists, AWS's largest page).
pub async fn listed(aws: &AwsClients) -> Result<Vec<(&'static str, usize, usize)>, String> {
    let clusters = aws
        .eks
        .list_clusters()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| e.to_string())?
        .len();
    let roles: usize = aws
        .iam
        .get_account_authorization_details()
        .filter(aws_sdk_iam::types::EntityType::Role)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|page| page.role_detail_list().len())
        .sum();
    let certificates = aws
        .acm
        .list_certificates()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| e.to_string())?
        .len();
    let balancers = aws
        .elb
        .describe_load_balancers()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| e.to_string())?
        .len();
    let groups = aws
        .elb
        .describe_target_groups()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| e.to_string())?
        .len();
    let zones = aws
        .route53
        .list_hosted_zones()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| e.to_string())?
        .len();
    Ok(vec![
        ("ListClusters", clusters, 100),
        ("GetAccountAuthorizationDetails", roles, 1000),
        ("ListCertificates", certificates, 1000),
        ("DescribeLoadBalancers", balancers, 400),
        ("DescribeTargetGroups", groups, 400),
        ("ListHostedZones", zones, 100),
    ])
}

/// Everything the account holds, one line per resource with what identifies
/// it (and, for EC2, its tags), by kind: compared before and after a run, it
/// shows that nothing of the crowd went, changed its tags, or was left over.
pub async fn inventory(aws: &AwsClients) -> Result<BTreeMap<&'static str, Vec<String>>, String> {
    fn tags(tags: &[aws_sdk_ec2::types::Tag]) -> String {
        let sorted: BTreeMap<_, _> = tags.iter().map(|t| (t.key(), t.value())).collect();
        format!("{sorted:?}")
    }
    let text = |e: &dyn std::fmt::Display| e.to_string();
    let mut held: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let clusters: Vec<String> = aws
        .eks
        .list_clusters()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| text(&e))?;
    for cluster in &clusters {
        let groups: Vec<String> = aws
            .eks
            .list_nodegroups()
            .cluster_name(cluster)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| text(&e))?;
        held.entry("node groups")
            .or_default()
            .extend(groups.iter().map(|g| format!("{cluster}/{g}")));
    }
    held.insert("clusters", clusters);
    let roles: Vec<_> = aws
        .iam
        .list_roles()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| text(&e))?;
    held.insert(
        "roles",
        roles
            .iter()
            .map(|r| format!("{}{}", r.path(), r.role_name()))
            .collect(),
    );
    let providers = aws
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .map_err(|e| text(&e))?;
    held.insert(
        "oidc providers",
        providers
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|p| p.arn().map(str::to_string))
            .collect(),
    );
    let certificates: Vec<_> = aws
        .acm
        .list_certificates()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| text(&e))?;
    held.insert(
        "certificates",
        certificates
            .iter()
            .map(|c| format!("{:?} {:?}", c.certificate_arn(), c.domain_name()))
            .collect(),
    );
    let balancers: Vec<_> = aws
        .elb
        .describe_load_balancers()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| text(&e))?;
    held.insert(
        "load balancers",
        balancers
            .iter()
            .filter_map(|b| b.load_balancer_arn().map(str::to_string))
            .collect(),
    );
    let groups: Vec<_> = aws
        .elb
        .describe_target_groups()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| text(&e))?;
    held.insert(
        "target groups",
        groups
            .iter()
            .filter_map(|g| g.target_group_arn().map(str::to_string))
            .collect(),
    );
    let zones: Vec<_> = aws
        .route53
        .list_hosted_zones()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| text(&e))?;
    held.insert(
        "hosted zones",
        zones
            .iter()
            .map(|z| format!("{} {}", z.id(), z.name()))
            .collect(),
    );
    let vpcs: Vec<_> = aws
        .ec2
        .describe_vpcs()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| text(&e))?;
    held.insert(
        "vpcs",
        vpcs.iter()
            .map(|v| format!("{:?} {}", v.vpc_id(), tags(v.tags())))
            .collect(),
    );
    let subnets: Vec<_> = aws
        .ec2
        .describe_subnets()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| text(&e))?;
    held.insert(
        "subnets",
        subnets
            .iter()
            .map(|s| format!("{:?} {}", s.subnet_id(), tags(s.tags())))
            .collect(),
    );
    let tables: Vec<_> = aws
        .ec2
        .describe_route_tables()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| text(&e))?;
    held.insert(
        "route tables",
        tables
            .iter()
            .map(|t| format!("{:?} {}", t.route_table_id(), tags(t.tags())))
            .collect(),
    );
    for list in held.values_mut() {
        list.sort();
    }
    Ok(held)
}
