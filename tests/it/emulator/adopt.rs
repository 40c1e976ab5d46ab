//! `adopt:` entries against the emulator: an estate made outside eksform (as
//! Terraform or eksctl would have made it, with the SDK), beside another
//! team's look-alikes, taken over by the `eksform` binary without a create,
//! a replacement or a delete; and the entries that must fail (an id that
//! does not exist, one another stack owns, a VPC whose CIDR is not the
//! spec's) failing before anything changes.
//!
//! What the emulator cannot do is said where it matters: it tags EKS
//! clusters only (TagResource on a node group's ARN answers
//! ResourceNotFoundException), so the node group's and the Fargate
//! profile's take-overs are checked up to their plan here and the calls in
//! `requests/adopt.rs`; it has no add-on or access-entry API at all (same
//! file).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, IpPermission, IpRange, ResourceType, Tag, TagSpecification,
};
use aws_sdk_eks::types::{LogSetup, LogType, Logging, VpcConfigRequest};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, LoadBalancerSchemeEnum, ProtocolEnum, TargetTypeEnum,
};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use eksform_aws::AwsClients;
use eksform_core::kinds::iam_role::{canonical_policy, url_decode};
use eksform_testkit::assertions::{assert_nothing_marked, marked_by};
use eksform_testkit::emulator::{
    Emulator, apply, destroy, oidc_provider_made_outside_eksform, plan_exit_code, refused,
    write_spec,
};

use super::{REGION, tags};
use crate::EKSFORM;

/// eksform's trust policies, written as a person would (other key order,
/// spacing): the same documents.
const EKS_TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{ "Effect": "Allow", "Principal": { "Service": "eks.amazonaws.com" },
                  "Action": ["sts:AssumeRole", "sts:TagSession"] }]
}"#;
/// The cluster role's trust as older eksctl and Terraform wrote it, without
/// `sts:TagSession`: eksform's plan takes it as it is, and so must apply.
const EKS_TRUST_WITHOUT_TAG_SESSION: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{ "Effect": "Allow", "Principal": { "Service": "eks.amazonaws.com" },
                  "Action": "sts:AssumeRole" }]
}"#;
const FARGATE_TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{ "Effect": "Allow", "Principal": { "Service": "eks-fargate-pods.amazonaws.com" },
                  "Action": ["sts:AssumeRole", "sts:TagSession"] }]
}"#;
const EC2_TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{ "Effect": "Allow", "Principal": { "Service": "ec2.amazonaws.com" },
                  "Action": ["sts:AssumeRole", "sts:TagSession"] }]
}"#;

/// The estate the spec describes, made outside eksform: its ids.
struct Estate {
    vpc: String,
    internet_gateway: String,
    subnets: BTreeMap<&'static str, String>,
    allocation: String,
    public_ip: String,
    nat_gateway: String,
    route_tables: BTreeMap<&'static str, String>,
    cluster_role_arn: String,
    node_role: String,
    fargate_role: String,
    fargate_profile: String,
    cluster_arn: String,
    cluster_created_at: String,
    oidc_provider: String,
    security_group: String,
    load_balancer: String,
    target_group: String,
    listener: String,
    certificate: String,
    validation_record: String,
    https_listener: String,
    zone: String,
}

fn ec2_tags(pairs: &[(&str, &str)], resource: ResourceType) -> TagSpecification {
    pairs
        .iter()
        .fold(
            TagSpecification::builder().resource_type(resource),
            |b, (k, v)| b.tags(Tag::builder().key(*k).value(*v).build()),
        )
        .build()
}

const TERRAFORM: (&str, &str) = ("ManagedBy", "terraform");

async fn vpc(aws: &AwsClients, cidr: &str, name: &str, team: &str) -> String {
    let id = aws
        .ec2
        .create_vpc()
        .cidr_block(cidr)
        .tag_specifications(ec2_tags(
            &[("Name", name), ("team", team), TERRAFORM],
            ResourceType::Vpc,
        ))
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let on = || AttributeBooleanValue::builder().value(true).build();
    aws.ec2
        .modify_vpc_attribute()
        .vpc_id(&id)
        .enable_dns_support(on())
        .send()
        .await
        .unwrap();
    aws.ec2
        .modify_vpc_attribute()
        .vpc_id(&id)
        .enable_dns_hostnames(on())
        .send()
        .await
        .unwrap();
    id
}

async fn subnet(aws: &AwsClients, vpc: &str, cidr: &str, zone: &str, public: bool) -> String {
    let name = format!(
        "legacy-{}-{zone}",
        if public { "public" } else { "private" }
    );
    let id = aws
        .ec2
        .create_subnet()
        .vpc_id(vpc)
        .cidr_block(cidr)
        .availability_zone(zone)
        .tag_specifications(ec2_tags(
            &[("Name", &name), TERRAFORM],
            ResourceType::Subnet,
        ))
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string();
    if public {
        aws.ec2
            .modify_subnet_attribute()
            .subnet_id(&id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
            .send()
            .await
            .unwrap();
    }
    id
}

async fn route_table(aws: &AwsClients, vpc: &str, name: &str, subnets: &[&String]) -> String {
    let id = aws
        .ec2
        .create_route_table()
        .vpc_id(vpc)
        .tag_specifications(ec2_tags(
            &[("Name", name), TERRAFORM],
            ResourceType::RouteTable,
        ))
        .send()
        .await
        .unwrap()
        .route_table()
        .unwrap()
        .route_table_id()
        .unwrap()
        .to_string();
    for subnet in subnets {
        aws.ec2
            .associate_route_table()
            .route_table_id(&id)
            .subnet_id(*subnet)
            .send()
            .await
            .unwrap();
    }
    id
}

async fn role(aws: &AwsClients, name: &str, trust: &str, policies: &[&str]) -> String {
    let arn = aws
        .iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key(TERRAFORM.0)
                .value(TERRAFORM.1)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string();
    for policy in policies {
        aws.iam
            .attach_role_policy()
            .role_name(name)
            .policy_arn(format!("arn:aws:iam::aws:policy/{policy}"))
            .send()
            .await
            .unwrap();
    }
    arn
}

fn permission(protocol: &str, port: Option<i32>, cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol(protocol)
        .set_from_port(port)
        .set_to_port(port)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

fn record(name: &str, record_type: RrType, value: &str) -> Change {
    Change::builder()
        .action(ChangeAction::Create)
        .resource_record_set(
            ResourceRecordSet::builder()
                .name(name)
                .r#type(record_type)
                .ttl(300)
                .resource_records(ResourceRecord::builder().value(value).build().unwrap())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

/// The estate of the spec, made with the SDK as Terraform would have made
/// it: every setting as the spec asks, names and tags of its own.
/// The estate's network as Terraform made it: the VPC, its four subnets by
/// `<tier>.<zone>`, and its attached internet gateway.
async fn legacy_network(aws: &AwsClients) -> (String, BTreeMap<&'static str, String>, String) {
    let vpc = vpc(aws, "10.40.0.0/16", "legacy-vpc", "platform").await;
    let mut subnets = BTreeMap::new();
    for (key, cidr, zone, public) in [
        ("public.us-east-1a", "10.40.0.0/20", "us-east-1a", true),
        ("public.us-east-1b", "10.40.16.0/20", "us-east-1b", true),
        ("private.us-east-1a", "10.40.128.0/20", "us-east-1a", false),
        ("private.us-east-1b", "10.40.144.0/20", "us-east-1b", false),
    ] {
        subnets.insert(key, subnet(aws, &vpc, cidr, zone, public).await);
    }
    let internet_gateway = aws
        .ec2
        .create_internet_gateway()
        .tag_specifications(ec2_tags(
            &[("Name", "legacy-igw"), TERRAFORM],
            ResourceType::InternetGateway,
        ))
        .send()
        .await
        .unwrap()
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_string();
    aws.ec2
        .attach_internet_gateway()
        .internet_gateway_id(&internet_gateway)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    (vpc, subnets, internet_gateway)
}

async fn build_estate(aws: &AwsClients) -> Estate {
    let (vpc, subnets, internet_gateway) = legacy_network(aws).await;
    let address = aws
        .ec2
        .allocate_address()
        .domain(DomainType::Vpc)
        .tag_specifications(ec2_tags(
            &[("Name", "legacy-nat"), TERRAFORM],
            ResourceType::ElasticIp,
        ))
        .send()
        .await
        .unwrap();
    let allocation = address.allocation_id().unwrap().to_string();
    let public_ip = address.public_ip().unwrap().to_string();
    let nat_gateway = aws
        .ec2
        .create_nat_gateway()
        .subnet_id(&subnets["public.us-east-1a"])
        .allocation_id(&allocation)
        .tag_specifications(ec2_tags(
            &[("Name", "legacy-nat"), TERRAFORM],
            ResourceType::Natgateway,
        ))
        .send()
        .await
        .unwrap()
        .nat_gateway()
        .unwrap()
        .nat_gateway_id()
        .unwrap()
        .to_string();
    let mut route_tables = BTreeMap::new();
    let public = route_table(
        aws,
        &vpc,
        "legacy-public",
        &[&subnets["public.us-east-1a"], &subnets["public.us-east-1b"]],
    )
    .await;
    aws.ec2
        .create_route()
        .route_table_id(&public)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&internet_gateway)
        .send()
        .await
        .unwrap();
    route_tables.insert("public", public);
    for zone in ["us-east-1a", "us-east-1b"] {
        let key = if zone == "us-east-1a" {
            "private.us-east-1a"
        } else {
            "private.us-east-1b"
        };
        let table = route_table(
            aws,
            &vpc,
            &format!("legacy-private-{zone}"),
            &[&subnets[key]],
        )
        .await;
        aws.ec2
            .create_route()
            .route_table_id(&table)
            .destination_cidr_block("0.0.0.0/0")
            .nat_gateway_id(&nat_gateway)
            .send()
            .await
            .unwrap();
        route_tables.insert(key, table);
    }
    let cluster_role_arn = role(
        aws,
        "legacy-eks-cluster",
        EKS_TRUST_WITHOUT_TAG_SESSION,
        &["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"],
    )
    .await;
    let node_role = "legacy-eks-node".to_string();
    let node_role_arn = role(
        aws,
        &node_role,
        EC2_TRUST,
        &[
            "AmazonEKSWorkerNodePolicy",
            "AmazonEKS_CNI_Policy",
            "AmazonEC2ContainerRegistryReadOnly",
        ],
    )
    .await;
    aws.logs
        .create_log_group()
        .log_group_name("/aws/eks/legacy-eks/cluster")
        .tags(TERRAFORM.0, TERRAFORM.1)
        .send()
        .await
        .unwrap();
    aws.logs
        .put_retention_policy()
        .log_group_name("/aws/eks/legacy-eks/cluster")
        .retention_in_days(30)
        .send()
        .await
        .unwrap();
    let cluster = aws
        .eks
        .create_cluster()
        .name("legacy-eks")
        .version("1.31")
        .role_arn(&cluster_role_arn)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .subnet_ids(&subnets["private.us-east-1a"])
                .subnet_ids(&subnets["private.us-east-1b"])
                .endpoint_public_access(true)
                .endpoint_private_access(true)
                .public_access_cidrs("0.0.0.0/0")
                .build(),
        )
        .logging(
            Logging::builder()
                .cluster_logging(
                    LogSetup::builder()
                        .types(LogType::Api)
                        .types(LogType::Audit)
                        .enabled(true)
                        .build(),
                )
                .build(),
        )
        .tags(TERRAFORM.0, TERRAFORM.1)
        .send()
        .await
        .unwrap();
    let cluster = cluster.cluster().unwrap();
    let issuer = cluster
        .identity()
        .unwrap()
        .oidc()
        .unwrap()
        .issuer()
        .unwrap();
    let oidc_provider = oidc_provider_made_outside_eksform(aws, issuer).await;
    aws.eks
        .create_nodegroup()
        .cluster_name("legacy-eks")
        .nodegroup_name("legacy-general")
        .node_role(&node_role_arn)
        .subnets(&subnets["private.us-east-1a"])
        .subnets(&subnets["private.us-east-1b"])
        .instance_types("m5.large")
        .capacity_type(aws_sdk_eks::types::CapacityTypes::OnDemand)
        .disk_size(20)
        .version("1.31")
        .scaling_config(
            aws_sdk_eks::types::NodegroupScalingConfig::builder()
                .min_size(1)
                .max_size(3)
                .desired_size(2)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let fargate_role = "legacy-eks-fargate".to_string();
    let fargate_role_arn = role(
        aws,
        &fargate_role,
        FARGATE_TRUST,
        &["AmazonEKSFargatePodExecutionRolePolicy"],
    )
    .await;
    let fargate_profile = aws
        .eks
        .create_fargate_profile()
        .cluster_name("legacy-eks")
        .fargate_profile_name("apps")
        .pod_execution_role_arn(&fargate_role_arn)
        .subnets(&subnets["private.us-east-1a"])
        .subnets(&subnets["private.us-east-1b"])
        .selectors(
            aws_sdk_eks::types::FargateProfileSelector::builder()
                .namespace("apps")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .fargate_profile()
        .unwrap()
        .fargate_profile_arn()
        .unwrap()
        .to_string();
    let security_group = aws
        .ec2
        .create_security_group()
        .group_name("edge-alb")
        .description("the edge ALB")
        .vpc_id(&vpc)
        .tag_specifications(ec2_tags(&[TERRAFORM], ResourceType::SecurityGroup))
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    for port in [80, 443] {
        aws.ec2
            .authorize_security_group_ingress()
            .group_id(&security_group)
            .ip_permissions(permission("tcp", Some(port), "0.0.0.0/0"))
            .send()
            .await
            .unwrap();
    }
    aws.ec2
        .revoke_security_group_egress()
        .group_id(&security_group)
        .ip_permissions(permission("-1", None, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    aws.ec2
        .authorize_security_group_egress()
        .group_id(&security_group)
        .ip_permissions(permission("-1", None, "10.40.0.0/16"))
        .send()
        .await
        .unwrap();
    let load_balancer = aws
        .elb
        .create_load_balancer()
        .name("edge-alb")
        .scheme(LoadBalancerSchemeEnum::InternetFacing)
        .subnets(&subnets["public.us-east-1a"])
        .subnets(&subnets["public.us-east-1b"])
        .security_groups(&security_group)
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    // Terraform sets the idle timeout (the emulator has no default for it).
    aws.elb
        .modify_load_balancer_attributes()
        .load_balancer_arn(&load_balancer)
        .attributes(
            aws_sdk_elasticloadbalancingv2::types::LoadBalancerAttribute::builder()
                .key("idle_timeout.timeout_seconds")
                .value("60")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let target_group = aws
        .elb
        .create_target_group()
        .name("edge-app")
        .protocol(ProtocolEnum::Http)
        .port(80)
        .vpc_id(&vpc)
        .target_type(TargetTypeEnum::Ip)
        .health_check_path("/healthz")
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let listener = aws
        .elb
        .create_listener()
        .load_balancer_arn(&load_balancer)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(&target_group)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .listeners()[0]
        .listener_arn()
        .unwrap()
        .to_string();
    let zone = aws
        .route53
        .create_hosted_zone()
        .name("legacy.example.com")
        .caller_reference("terraform-legacy")
        .hosted_zone_config(
            aws_sdk_route53::types::HostedZoneConfig::builder()
                .comment("Managed by Terraform")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .hosted_zone()
        .unwrap()
        .id()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(record(
                    "status.legacy.example.com",
                    RrType::Cname,
                    "status.example.net",
                ))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // The certificate, its validation record in the zone (as Terraform's
    // aws_route53_record does it) and the HTTPS listener with it.
    let certificate = aws
        .acm
        .request_certificate()
        .domain_name("app.legacy.example.com")
        .validation_method(aws_sdk_acm::types::ValidationMethod::Dns)
        .send()
        .await
        .unwrap()
        .certificate_arn()
        .unwrap()
        .to_string();
    let described = aws
        .acm
        .describe_certificate()
        .certificate_arn(&certificate)
        .send()
        .await
        .unwrap();
    let validation = described.certificate().unwrap().domain_validation_options()[0]
        .resource_record()
        .unwrap()
        .clone();
    let validation_record = validation.name().trim_end_matches('.').to_string();
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(record(
                    &validation_record,
                    RrType::Cname,
                    validation.value(),
                ))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let https_listener = aws
        .elb
        .create_listener()
        .load_balancer_arn(&load_balancer)
        .protocol(ProtocolEnum::Https)
        .port(443)
        .certificates(
            aws_sdk_elasticloadbalancingv2::types::Certificate::builder()
                .certificate_arn(&certificate)
                .build(),
        )
        .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(&target_group)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .listeners()[0]
        .listener_arn()
        .unwrap()
        .to_string();
    Estate {
        certificate,
        validation_record,
        fargate_role,
        fargate_profile,
        https_listener,
        vpc,
        internet_gateway,
        subnets,
        allocation,
        public_ip,
        nat_gateway,
        route_tables,
        cluster_role_arn,
        node_role,
        cluster_arn: cluster.arn().unwrap().to_string(),
        cluster_created_at: cluster.created_at().unwrap().to_string(),
        oidc_provider,
        security_group,
        load_balancer,
        target_group,
        listener,
        zone,
    }
}

/// Another team's look-alikes in the same account: a VPC of a similar name,
/// a cluster with a role of a similar name, a record in the same zone.
struct OtherTeam {
    vpc: String,
    cluster: &'static str,
    role: &'static str,
    record: &'static str,
}

async fn other_team(aws: &AwsClients, zone: &str) -> OtherTeam {
    let other = OtherTeam {
        vpc: vpc(aws, "10.41.0.0/16", "legacy-vpc-old", "payments").await,
        cluster: "legacy-eks-old",
        role: "legacy-eks-cluster-old",
        record: "api.legacy.example.com",
    };
    let a = subnet(aws, &other.vpc, "10.41.0.0/20", "us-east-1a", false).await;
    let b = subnet(aws, &other.vpc, "10.41.16.0/20", "us-east-1b", false).await;
    let role_arn = role(aws, other.role, EKS_TRUST, &["AmazonEKSClusterPolicy"]).await;
    aws.eks
        .create_cluster()
        .name(other.cluster)
        .version("1.31")
        .role_arn(role_arn)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .subnet_ids(a)
                .subnet_ids(b)
                .build(),
        )
        .tags("team", "payments")
        .send()
        .await
        .unwrap();
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(record(other.record, RrType::A, "192.0.2.10"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    other
}

/// What the other team's resources look like: compared before and after.
async fn other_team_state(aws: &AwsClients, other: &OtherTeam, zone: &str) -> String {
    let vpc = aws
        .ec2
        .describe_vpcs()
        .vpc_ids(&other.vpc)
        .send()
        .await
        .unwrap();
    let subnets = aws
        .ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&other.vpc)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let cluster = aws
        .eks
        .describe_cluster()
        .name(other.cluster)
        .send()
        .await
        .unwrap();
    let cluster = cluster.cluster().unwrap();
    let role_tags = aws
        .iam
        .list_role_tags()
        .role_name(other.role)
        .send()
        .await
        .unwrap();
    let records = aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    let record: Vec<String> = records
        .resource_record_sets()
        .iter()
        .filter(|r| r.name().contains(other.record))
        .map(|r| format!("{r:?}"))
        .collect();
    format!(
        "vpc {:?}\nsubnets {:?}\ncluster {:?} {:?} {:?} {:?}\nrole {:?}\nrecords {record:?}",
        tags(vpc.vpcs()[0].tags()),
        subnets
            .subnets()
            .iter()
            .map(|s| (s.subnet_id(), tags(s.tags())))
            .collect::<Vec<_>>(),
        cluster.arn(),
        cluster.created_at(),
        cluster.tags(),
        cluster.resources_vpc_config().map(|v| v.subnet_ids()),
        role_tags.tags(),
    )
}

const SPEC: &str = r#"stack: legacy
region: us-east-1
vpc:
  cidr: 10.40.0.0/16
  availabilityZones: [us-east-1a, us-east-1b]
  subnets:
    public:
      us-east-1a: { cidr: 10.40.0.0/20 }
      us-east-1b: { cidr: 10.40.16.0/20 }
    private:
      us-east-1a: { cidr: 10.40.128.0/20 }
      us-east-1b: { cidr: 10.40.144.0/20 }
  nat: { gateway: Single }
cluster:
  name: legacy-eks
  version: "1.31"
  publicAccessCIDRs: [0.0.0.0/0]
  logging:
    enableTypes: [api, audit]
    logRetentionInDays: 30
iam:
  withOIDC: true
"#;

const NODE_GROUP: &str = r#"managedNodeGroups:
  - name: general
    instanceTypes: [m5.large]
    minSize: 1
    maxSize: 3
    desiredCapacity: 2
fargateProfiles:
  - name: apps
    selectors: [{ namespace: apps }]
"#;

const EDGE: &str = r#"loadBalancers:
  - name: web
    scheme: internet-facing
    ingressCIDRs: [0.0.0.0/0]
    certificate: { domain: app.legacy.example.com }
    targetGroups:
      - name: app
        port: 80
        targetType: ip
        healthCheckPath: /healthz
    defaultTargetGroup: app
dns:
  zone: legacy.example.com
  records:
    - name: status.legacy.example.com
      type: CNAME
      ttl: 300
      values: [status.example.net]
"#;

/// The adopt entries for every resource of `SPEC` + `EDGE`, each id in a
/// form users have at hand (an Elastic IP by its address, a role by name or
/// ARN, a zone with `/hostedzone/`, a record as `<name> <type>`, a target
/// group by name).
/// The adopt entries of the legacy network's subnets.
fn subnet_entries(subnets: &BTreeMap<&'static str, String>) -> Vec<(&'static str, String)> {
    subnets
        .iter()
        .map(|(key, id)| {
            let address: &'static str = match *key {
                "public.us-east-1a" => "subnet.public.us-east-1a",
                "public.us-east-1b" => "subnet.public.us-east-1b",
                "private.us-east-1a" => "subnet.private.us-east-1a",
                _ => "subnet.private.us-east-1b",
            };
            (address, id.clone())
        })
        .collect()
}

fn entries(estate: &Estate) -> Vec<(&'static str, String)> {
    let mut entries = vec![
        ("vpc.main", estate.vpc.clone()),
        ("internet_gateway.main", estate.internet_gateway.clone()),
        ("elastic_ip.nat.us-east-1a", estate.public_ip.clone()),
        ("nat_gateway.us-east-1a", estate.nat_gateway.clone()),
        ("route_table.public", estate.route_tables["public"].clone()),
        ("iam_role.cluster", estate.cluster_role_arn.clone()),
        ("log_group.cluster", "/aws/eks/legacy-eks/cluster".into()),
        ("eks_cluster.main", "legacy-eks".into()),
        ("oidc_provider.main", estate.oidc_provider.clone()),
        (
            "security_group.load_balancer.web",
            estate.security_group.clone(),
        ),
        ("load_balancer.web", estate.load_balancer.clone()),
        ("target_group.web.app", "edge-app".into()),
        ("listener.web.http", estate.listener.clone()),
        ("listener.web.https", estate.https_listener.clone()),
        ("certificate.web", estate.certificate.clone()),
        (
            "dns_record.validation.web",
            format!("{} CNAME", estate.validation_record),
        ),
        ("hosted_zone.main", format!("/hostedzone/{}", estate.zone)),
        (
            "dns_record.status.legacy.example.com.CNAME",
            "status.legacy.example.com CNAME".into(),
        ),
    ];
    entries.extend(subnet_entries(&estate.subnets));
    for zone in ["us-east-1a", "us-east-1b"] {
        let (address, key) = if zone == "us-east-1a" {
            ("route_table.private.us-east-1a", "private.us-east-1a")
        } else {
            ("route_table.private.us-east-1b", "private.us-east-1b")
        };
        entries.push((address, estate.route_tables[key].clone()));
    }
    entries
}

fn adopt_section(entries: &[(&str, String)]) -> String {
    if entries.is_empty() {
        return String::new();
    }
    let mut text = "adopt:\n".to_string();
    for (address, id) in entries {
        text.push_str(&format!("  - {{ address: {address}, id: \"{id}\" }}\n"));
    }
    text
}

fn plan_json(emulator: &Emulator, spec: &std::path::Path) -> serde_json::Value {
    let output = emulator
        .eksform()
        .args(["plan", "--json"])
        .arg(spec)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "plan --json: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    document["stacks"][0].clone()
}

/// The address -> (action, id) of a plan's changes.
fn actions(plan: &serde_json::Value) -> BTreeMap<String, (String, String)> {
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_string(),
                (
                    r["action"].as_str().unwrap().to_string(),
                    r["id"].as_str().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect()
}

/// The marks a take-over leaves, as a tag map has them.
fn assert_taken_over(what: &str, tags: &BTreeMap<String, String>, address: &str) {
    assert_eq!(
        tags.get("eksform:stack").map(String::as_str),
        Some("legacy"),
        "{what}: {tags:?}"
    );
    assert_eq!(
        tags.get("eksform:address").map(String::as_str),
        Some(address),
        "{what}: {tags:?}"
    );
    assert_eq!(
        tags.get("eksform:adopted").map(String::as_str),
        Some("entry"),
        "{what}: {tags:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_estate_made_outside_eksform_is_taken_over_without_a_create_replace_or_delete() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let estate = build_estate(&aws).await;
    let other = other_team(&aws, &estate.zone).await;
    let other_before = other_team_state(&aws, &other, &estate.zone).await;
    let dir = tempfile::tempdir().unwrap();
    let entries = entries(&estate);
    let spec = write_spec(
        &dir,
        "legacy.yaml",
        &format!("{SPEC}{EDGE}{}", adopt_section(&entries)),
    );

    // The plan adopts every resource and does nothing else.
    let first = emulator
        .eksform()
        .args(["plan", "--detailed-exitcode"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(
        first.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let plan = plan_json(&emulator, &spec);
    for count in ["create", "update", "replace", "delete", "release"] {
        assert_eq!(plan["summary"][count], 0, "{count}: {plan}");
    }
    assert_eq!(plan["summary"]["adopt"], entries.len(), "{plan}");
    let planned = actions(&plan);
    for (address, _) in &entries {
        let (action, _) = &planned[*address];
        assert_eq!(action, "adopt", "{address}: {plan}");
    }
    // Each is the resource the entry names, whatever form the id took.
    assert_eq!(planned["elastic_ip.nat.us-east-1a"].1, estate.allocation);
    assert_eq!(planned["iam_role.cluster"].1, "legacy-eks-cluster");
    assert_eq!(planned["hosted_zone.main"].1, estate.zone);
    assert_eq!(planned["target_group.web.app"].1, estate.target_group);
    // Taking over only adds tags: no setting changes, so nothing is guarded.
    for change in plan["resource_changes"].as_array().unwrap() {
        assert_eq!(change["destructive"], false, "{change}");
        for attribute in change["attributes"].as_array().unwrap() {
            assert_eq!(attribute["name"], "tags", "{change}");
        }
    }

    apply(&emulator, &spec);

    // Every resource is the one it was, marked as the stack's.
    let vpc = aws
        .ec2
        .describe_vpcs()
        .vpc_ids(&estate.vpc)
        .send()
        .await
        .unwrap();
    let vpc_tags = tags(vpc.vpcs()[0].tags());
    assert_taken_over("VPC", &vpc_tags, "vpc.main");
    assert_eq!(vpc_tags["Name"], "legacy-vpc", "its name is kept");
    assert_eq!(vpc_tags["ManagedBy"], "terraform", "its tags are kept");
    for (key, id) in &estate.subnets {
        let subnet = aws
            .ec2
            .describe_subnets()
            .subnet_ids(id)
            .send()
            .await
            .unwrap();
        assert_taken_over(
            id,
            &tags(subnet.subnets()[0].tags()),
            &format!("subnet.{key}"),
        );
    }
    let address = aws
        .ec2
        .describe_addresses()
        .allocation_ids(&estate.allocation)
        .send()
        .await
        .unwrap();
    let address = &address.addresses()[0];
    assert_eq!(
        address.public_ip(),
        Some(estate.public_ip.as_str()),
        "the Elastic IP keeps its address"
    );
    assert_taken_over(
        "Elastic IP",
        &tags(address.tags()),
        "elastic_ip.nat.us-east-1a",
    );
    let nat = aws
        .ec2
        .describe_nat_gateways()
        .nat_gateway_ids(&estate.nat_gateway)
        .send()
        .await
        .unwrap();
    assert_taken_over(
        "NAT gateway",
        &tags(nat.nat_gateways()[0].tags()),
        "nat_gateway.us-east-1a",
    );
    let gateways = aws
        .ec2
        .describe_internet_gateways()
        .filters(marked_by("legacy"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        gateways
            .internet_gateways()
            .iter()
            .filter_map(|g| g.internet_gateway_id())
            .collect::<Vec<_>>(),
        [estate.internet_gateway.as_str()]
    );
    let tables = aws
        .ec2
        .describe_route_tables()
        .filters(marked_by("legacy"))
        .send()
        .await
        .unwrap();
    let mut marked: Vec<&str> = tables
        .route_tables()
        .iter()
        .filter_map(|t| t.route_table_id())
        .collect();
    marked.sort();
    let mut made: Vec<&str> = estate.route_tables.values().map(String::as_str).collect();
    made.sort();
    assert_eq!(marked, made, "the three tables, no new one");
    let cluster = aws
        .eks
        .describe_cluster()
        .name("legacy-eks")
        .send()
        .await
        .unwrap();
    let cluster = cluster.cluster().unwrap();
    assert_eq!(cluster.arn(), Some(estate.cluster_arn.as_str()));
    assert_eq!(
        cluster.created_at().unwrap().to_string(),
        estate.cluster_created_at,
        "the cluster was never recreated"
    );
    let cluster_tags: BTreeMap<String, String> = cluster
        .tags()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_taken_over("cluster", &cluster_tags, "eks_cluster.main");
    for (name, address) in [("legacy-eks-cluster", "iam_role.cluster")] {
        let role = aws.iam.get_role().role_name(name).send().await.unwrap();
        assert_eq!(role.role().unwrap().path(), "/", "{name} keeps its path");
        let trust = role.role().unwrap().assume_role_policy_document().unwrap();
        assert_eq!(
            canonical_policy(&url_decode(trust)),
            canonical_policy(EKS_TRUST_WITHOUT_TAG_SESSION),
            "{name} keeps its trust: the plan showed no change to it"
        );
        let role_tags = aws
            .iam
            .list_role_tags()
            .role_name(name)
            .send()
            .await
            .unwrap();
        let role_tags = role_tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        assert_taken_over(name, &role_tags, address);
    }
    let roles = aws
        .iam
        .list_roles()
        .path_prefix("/eksform/")
        .send()
        .await
        .unwrap();
    assert!(roles.roles().is_empty(), "no role was made");
    let providers = aws
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .unwrap();
    assert_eq!(
        providers.open_id_connect_provider_list().len(),
        1,
        "no second provider"
    );
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    assert_eq!(
        balancers
            .load_balancers()
            .iter()
            .filter_map(|b| b.load_balancer_arn())
            .collect::<Vec<_>>(),
        [estate.load_balancer.as_str()]
    );
    let elb_tags = aws
        .elb
        .describe_tags()
        .resource_arns(&estate.load_balancer)
        .resource_arns(&estate.target_group)
        .resource_arns(&estate.listener)
        .send()
        .await
        .unwrap();
    for (description, address) in elb_tags.tag_descriptions().iter().zip([
        "load_balancer.web",
        "target_group.web.app",
        "listener.web.http",
    ]) {
        let marks = description
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect();
        assert_taken_over(address, &marks, address);
    }
    let certificate_tags = aws
        .acm
        .list_tags_for_certificate()
        .certificate_arn(&estate.certificate)
        .send()
        .await
        .unwrap();
    let certificate_tags = certificate_tags
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_taken_over("certificate", &certificate_tags, "certificate.web");
    let certificates = aws.acm.list_certificates().send().await.unwrap();
    assert_eq!(
        certificates.certificate_summary_list().len(),
        1,
        "no certificate was requested"
    );
    let groups = aws
        .ec2
        .describe_security_groups()
        .filters(marked_by("legacy"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        groups
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id())
            .collect::<Vec<_>>(),
        [estate.security_group.as_str()]
    );
    let zone = aws
        .route53
        .get_hosted_zone()
        .id(&estate.zone)
        .send()
        .await
        .unwrap();
    let comment = zone
        .hosted_zone()
        .unwrap()
        .config()
        .unwrap()
        .comment()
        .unwrap();
    assert!(
        comment.starts_with("Managed by Terraform ")
            && comment.contains("eksform:stack=legacy eksform:address=hosted_zone.main"),
        "the zone's comment keeps its words and gets the mark: {comment}"
    );
    let records = aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(&estate.zone)
        .send()
        .await
        .unwrap();
    let companion = records
        .resource_record_sets()
        .iter()
        .find(|r| {
            r.name()
                .starts_with("_eksform-cname.status.legacy.example.com")
        })
        .expect("the record's companion TXT record");
    assert_eq!(
        companion.resource_records()[0].value(),
        "\"eksform:stack=legacy eksform:address=dns_record.status.legacy.example.com.CNAME eksform:region=us-east-1 eksform:adopted=entry\""
    );

    // Nothing more to do; and the entries may go, but for the roles outside
    // eksform's path, which are found by their entries only.
    assert_eq!(plan_exit_code(&emulator, &spec), 0);
    let roles_only: Vec<(&str, String)> = entries
        .iter()
        .filter(|(address, _)| address.starts_with("iam_role."))
        .cloned()
        .collect();
    let without = write_spec(
        &dir,
        "without-entries.yaml",
        &format!("{SPEC}{EDGE}{}", adopt_section(&roles_only)),
    );
    assert_eq!(plan_exit_code(&emulator, &without), 0);

    // The node group, the Fargate profile and their roles (a spec has those
    // roles only with them): found by the group's name in the spec's
    // cluster, the profile's ARN and the roles' names, and planned as
    // take-overs, nothing else changing. (Their apply tags them with
    // TagResource, which the emulator answers for clusters only: see
    // `requests/adopt.rs`.)
    let with_nodes = write_spec(
        &dir,
        "with-nodes.yaml",
        &format!(
            "{SPEC}{NODE_GROUP}{EDGE}{}",
            adopt_section(
                &[
                    roles_only.clone(),
                    vec![
                        ("node_group.general", "legacy-general".to_string()),
                        ("iam_role.node", estate.node_role.clone()),
                        ("fargate_profile.apps", estate.fargate_profile.clone()),
                        ("iam_role.fargate", estate.fargate_role.clone()),
                    ]
                ]
                .concat()
            )
        ),
    );
    let plan = plan_json(&emulator, &with_nodes);
    assert_eq!(
        actions(&plan)["node_group.general"],
        ("adopt".to_string(), "legacy-general".to_string()),
        "{plan}"
    );
    assert_eq!(
        actions(&plan)["iam_role.node"],
        ("adopt".to_string(), estate.node_role.clone()),
        "{plan}"
    );
    for count in ["create", "update", "replace", "delete"] {
        assert_eq!(plan["summary"][count], 0, "{count}: {plan}");
    }
    assert_eq!(
        actions(&plan)["fargate_profile.apps"],
        ("adopt".to_string(), "apps".to_string()),
        "{plan}"
    );
    assert_eq!(plan["summary"]["adopt"], 4, "{plan}");

    // Removing what was taken over is guarded like any delete of those kinds.
    let without_edge = write_spec(
        &dir,
        "without-edge.yaml",
        &format!("{SPEC}{}", adopt_section(&roles_only)),
    );
    let refused = emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&without_edge)
        .output()
        .unwrap();
    assert_eq!(
        refused.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--allow-destroy"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(plan_exit_code(&emulator, &spec), 0, "nothing was deleted");

    assert_eq!(
        other_team_state(&aws, &other, &estate.zone).await,
        other_before,
        "the other team's resources are untouched"
    );
}

fn vpc_spec(stack: &str, cidr: &str, adopt: &str) -> String {
    format!(
        "stack: {stack}\nregion: {REGION}\nvpc:\n  cidr: {cidr}\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat: {{ gateway: Disable }}\n{adopt}"
    )
}

/// Runs `plan` and `apply --auto-approve`: both must fail with exit 1 and
/// say `expected`; returns plan's words.
#[tokio::test(flavor = "multi_thread")]
async fn an_adopt_entry_whose_id_does_not_exist_fails_and_changes_nothing() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "missing.yaml",
        &vpc_spec(
            "missing",
            "10.42.0.0/16",
            "adopt:\n  - { address: vpc.main, id: vpc-0123456789abcdef0 }\n",
        ),
    );
    refused(
        &emulator,
        &spec,
        &["vpc.main", "vpc-0123456789abcdef0", "check the id"],
    );
    assert_nothing_marked(&aws, "missing").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_adopt_entry_for_what_another_stack_owns_is_refused() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let owner = write_spec(&dir, "owner.yaml", &vpc_spec("owner", "10.43.0.0/16", ""));
    apply(&emulator, &owner);
    let owned = aws
        .ec2
        .describe_vpcs()
        .filters(marked_by("owner"))
        .send()
        .await
        .unwrap();
    let owned = owned.vpcs()[0].clone();
    let thief = write_spec(
        &dir,
        "thief.yaml",
        &vpc_spec(
            "thief",
            "10.43.0.0/16",
            &format!(
                "adopt:\n  - {{ address: vpc.main, id: {} }}\n",
                owned.vpc_id().unwrap()
            ),
        ),
    );
    refused(&emulator, &thief, &["stack owner", "never takes"]);
    let after = aws
        .ec2
        .describe_vpcs()
        .vpc_ids(owned.vpc_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags(after.vpcs()[0].tags()),
        tags(owned.tags()),
        "its tags are as they were"
    );
    assert_nothing_marked(&aws, "thief").await;
    assert_eq!(plan_exit_code(&emulator, &owner), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_adopted_vpc_of_another_cidr_is_a_plan_error_naming_the_cidr_that_would_match() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let theirs = vpc(&aws, "10.44.0.0/16", "theirs", "platform").await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "cidr.yaml",
        &vpc_spec(
            "cidr",
            "10.45.0.0/16",
            &format!("adopt:\n  - {{ address: vpc.main, id: {theirs} }}\n"),
        ),
    );
    refused(
        &emulator,
        &spec,
        &["vpc.main", "cidr", "10.44.0.0/16", "never replaced"],
    );
    let after = aws
        .ec2
        .describe_vpcs()
        .vpc_ids(&theirs)
        .send()
        .await
        .unwrap();
    assert!(
        !tags(after.vpcs()[0].tags()).contains_key("eksform:stack"),
        "the VPC is not marked"
    );
    assert_nothing_marked(&aws, "cidr").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hosted_zone_another_stack_owns_is_never_taken_by_its_name() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let zone = |stack: &str, adopt: &str| {
        format!("stack: {stack}\nregion: {REGION}\ndns:\n  zone: shared.example.com\n{adopt}")
    };
    let owner = write_spec(&dir, "dns.yaml", &zone("dns", ""));
    apply(&emulator, &owner);
    let comment = |zones: aws_sdk_route53::operation::list_hosted_zones::ListHostedZonesOutput| {
        zones.hosted_zones()[0]
            .config()
            .and_then(|c| c.comment())
            .unwrap_or_default()
            .to_string()
    };
    let zones = aws.route53.list_hosted_zones().send().await.unwrap();
    let id = zones.hosted_zones()[0].id().to_string();
    let before = comment(zones);
    assert!(before.contains("dns"), "{before}");

    // The app stack finds the zone by its name too (`dns.zone`); its entry
    // must not let it rewrite the dns stack's mark.
    let app = write_spec(
        &dir,
        "app.yaml",
        &zone(
            "app",
            &format!("adopt:\n  - {{ address: hosted_zone.main, id: \"{id}\" }}\n"),
        ),
    );
    refused(&emulator, &app, &["hosted_zone.main", "stack dns"]);
    let after = comment(aws.route53.list_hosted_zones().send().await.unwrap());
    assert_eq!(after, before, "the dns stack's mark is unchanged");
    assert_eq!(plan_exit_code(&emulator, &owner), 0);
}

/// The OIDC providers of an issuer: (ARN, tags).
async fn issuer_providers(
    aws: &AwsClients,
    issuer: &str,
) -> Vec<(String, BTreeMap<String, String>)> {
    let issuer = issuer.trim_start_matches("https://");
    let list = aws
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .unwrap();
    let mut found = Vec::new();
    for arn in list
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .filter(|arn| arn.ends_with(&format!(":oidc-provider/{issuer}")))
    {
        let provider = aws
            .iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .unwrap();
        let tags = provider
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        found.push((arn.to_string(), tags));
    }
    found
}

/// `eksctl utils associate-iam-oidc-provider` (the load balancer
/// controller's install guide runs it) makes the cluster's provider outside
/// eksform. Turning on `withOIDC` then must not plan a create that IAM
/// refuses midway through apply: the plan stops, naming the provider and the
/// adopt entry that takes it over; with that entry, apply takes it over
/// (one provider still), and it is the stack's from then on.
#[tokio::test(flavor = "multi_thread")]
async fn an_oidc_provider_made_outside_eksform_for_the_clusters_issuer_is_named_then_taken_over() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let base = "stack: tenant\nregion: us-east-1\nvpc:\n  cidr: 10.40.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Single\ncluster:\n  name: tenant-eks\n  version: \"1.31\"\n";
    let spec = write_spec(&dir, "tenant.yaml", base);
    apply(&emulator, &spec);

    let described = aws
        .eks
        .describe_cluster()
        .name("tenant-eks")
        .send()
        .await
        .unwrap();
    let issuer = described
        .cluster()
        .and_then(|c| c.identity()?.oidc()?.issuer())
        .unwrap()
        .to_string();
    let arn = oidc_provider_made_outside_eksform(&aws, &issuer).await;

    let with_oidc = format!("{base}iam:\n  withOIDC: true\n");
    let spec = write_spec(&dir, "tenant.yaml", &with_oidc);
    // The plan and apply both stop, naming the provider and the adopt entry.
    refused(&emulator, &spec, &[&arn, "adopt"]);
    assert_eq!(
        issuer_providers(&aws, &issuer).await,
        [(arn.clone(), BTreeMap::new())],
        "the provider as it was made"
    );

    let adopting =
        format!("{with_oidc}adopt:\n  - {{ address: oidc_provider.main, id: \"{arn}\" }}\n");
    let spec = write_spec(&dir, "tenant.yaml", &adopting);
    assert_eq!(plan_exit_code(&emulator, &spec), 2);
    apply(&emulator, &spec);
    assert_eq!(plan_exit_code(&emulator, &spec), 0);
    let providers = issuer_providers(&aws, &issuer).await;
    assert_eq!(providers.len(), 1, "{providers:?}");
    assert_eq!(providers[0].0, arn, "taken over, not made again");
    assert_eq!(
        providers[0].1.get("eksform:stack").map(String::as_str),
        Some("tenant")
    );

    destroy(&emulator, &spec);
    assert_eq!(
        issuer_providers(&aws, &issuer).await,
        [],
        "the stack's since its adopt entry: gone with its cluster"
    );
}

/// The VPC, its subnets and its internet gateway are taken over, but the
/// public route table is left with Terraform. Its association holds the
/// public subnets, and AWS refuses a second association: the plan stops
/// before anything is made, naming the table and the adopt entry, and with
/// that entry the table is taken over, associations kept.
#[tokio::test(flavor = "multi_thread")]
async fn a_subnet_another_tools_route_table_holds_is_a_plan_error_naming_it() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let (vpc, subnets, gateway) = legacy_network(&aws).await;
    let mut entries = vec![
        ("vpc.main", vpc.clone()),
        ("internet_gateway.main", gateway.clone()),
    ];
    entries.extend(subnet_entries(&subnets));
    let public = [
        subnets["public.us-east-1a"].clone(),
        subnets["public.us-east-1b"].clone(),
    ];
    let table = route_table(&aws, &vpc, "legacy-public", &[&public[0], &public[1]]).await;
    aws.ec2
        .create_route()
        .route_table_id(&table)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&gateway)
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "partial.yaml",
        &vpc_spec("partial", "10.40.0.0/16", &adopt_section(&entries)),
    );
    refused(
        &emulator,
        &spec,
        &[
            &format!("is associated with route table {table}"),
            "`legacy-public`",
            &format!("adopt: [{{ address: route_table.public, id: {table} }}]"),
        ],
    );
    let made = aws
        .ec2
        .describe_route_tables()
        .filters(marked_by("partial"))
        .send()
        .await
        .unwrap();
    assert!(
        made.route_tables().is_empty(),
        "no table was made: {made:?}"
    );

    entries.push(("route_table.public", table.clone()));
    let spec = write_spec(
        &dir,
        "partial.yaml",
        &vpc_spec("partial", "10.40.0.0/16", &adopt_section(&entries)),
    );
    apply(&emulator, &spec);
    assert_eq!(plan_exit_code(&emulator, &spec), 0);
    let associated: BTreeSet<String> = aws
        .ec2
        .describe_route_tables()
        .route_table_ids(&table)
        .send()
        .await
        .unwrap()
        .route_tables()[0]
        .associations()
        .iter()
        .filter_map(|a| a.subnet_id().map(str::to_string))
        .collect();
    assert_eq!(
        associated,
        public.into_iter().collect(),
        "kept as they were"
    );
    destroy(&emulator, &spec);
    assert_nothing_marked(&aws, "partial").await;
}
