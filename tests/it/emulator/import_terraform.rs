//! `eksform import terraform` against the emulator: an estate made outside
//! eksform (with the SDK, as Terraform would have made it: the network under
//! the vpc module's addresses with one NAT gateway and one private route
//! table for every zone, the cluster's parts as plain resources) and
//! described by a Terraform state file; the binary imports the state, plans
//! only adoptions, applies them, and every resource keeps its id.
//!
//! The emulator tags EKS clusters only (TagResource on a node group's ARN
//! answers ResourceNotFoundException; `emulator/adopt.rs` says the same), so
//! the node group is imported and planned here, and the apply runs on the
//! state without it.

use std::collections::BTreeMap;
use std::path::Path;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, IpPermission, IpRange, ResourceType, Tag, TagSpecification,
};
use aws_sdk_eks::types::{LogSetup, LogType, Logging, VpcConfigRequest};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, LoadBalancerAttribute, LoadBalancerSchemeEnum, ProtocolEnum,
    TargetTypeEnum,
};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use eksform_aws::AwsClients;
use eksform_core::model::STACK_TAG;
use eksform_testkit::assertions::marked_by;
use eksform_testkit::emulator::{
    Emulator, apply, oidc_provider_made_outside_eksform, plan_exit_code,
};
use serde_json::{Value as Json, json};

use super::{REGION, tags};
use crate::EKSFORM;

const STACK: &str = "tfimport";
const CIDR: &str = "10.70.0.0/16";
const CLUSTER: &str = "tf-eks";
const ZONE_NAME: &str = "tf.example.com";

/// eksform's trust policies, as the Terraform configuration wrote them.
const EKS_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;
const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;

fn ec2_tags(name: &str, resource: ResourceType) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource)
        .tags(Tag::builder().key("Name").value(name).build())
        .tags(Tag::builder().key("ManagedBy").value("terraform").build())
        .build()
}

/// The Terraform state's tag attributes of a resource tagged as `ec2_tags`.
fn tf_tags(name: Option<&str>) -> (Json, Json) {
    let mut tags = serde_json::Map::new();
    if let Some(name) = name {
        tags.insert("Name".into(), json!(name));
    }
    tags.insert("ManagedBy".into(), json!("terraform"));
    (Json::Object(tags.clone()), Json::Object(tags))
}

/// One instance of a managed resource as `terraform state pull` prints it.
fn resource(module: Option<&str>, rtype: &str, name: &str, instances: Vec<(Json, Json)>) -> Json {
    let mut resource = json!({
        "mode": "managed",
        "type": rtype,
        "name": name,
        "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
        "instances": instances
            .into_iter()
            .map(|(key, mut attributes)| {
                if let Some((tags, all)) = attributes.get("__tags").cloned().and_then(|t| {
                    Some((t.get(0)?.clone(), t.get(1)?.clone()))
                }) {
                    attributes["tags"] = tags;
                    attributes["tags_all"] = all;
                    attributes.as_object_mut().unwrap().remove("__tags");
                }
                let mut instance = json!({ "schema_version": 0, "attributes": attributes, "sensitive_attributes": [] });
                if !key.is_null() {
                    instance["index_key"] = key;
                }
                instance
            })
            .collect::<Vec<_>>(),
    });
    if let Some(module) = module {
        resource["module"] = json!(module);
    }
    resource
}

fn with_tags(mut attributes: Json, name: Option<&str>) -> Json {
    let (tags, all) = tf_tags(name);
    attributes["__tags"] = json!([tags, all]);
    attributes
}

fn permission(protocol: &str, port: Option<i32>, cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol(protocol)
        .set_from_port(port)
        .set_to_port(port)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

/// What the estate's ids are, to compare after the apply.
#[derive(Debug, Clone, PartialEq)]
struct Ids {
    vpc: String,
    subnets: BTreeMap<String, String>,
    internet_gateway: String,
    allocation: String,
    public_ip: String,
    nat_gateway: String,
    public_table: String,
    private_table: String,
    cluster_arn: String,
    cluster_created_at: String,
    oidc_provider: String,
    security_group: String,
    load_balancer: String,
    target_group: String,
    listener: String,
    zone: String,
}

/// Makes the estate with the SDK and returns its ids and the Terraform state
/// describing it, node group and node role included.
async fn build_estate(aws: &AwsClients) -> (Ids, Json) {
    let ec2 = &aws.ec2;
    let vpc = ec2
        .create_vpc()
        .cidr_block(CIDR)
        .tag_specifications(ec2_tags("tf-vpc", ResourceType::Vpc))
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let on = || AttributeBooleanValue::builder().value(true).build();
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc)
        .enable_dns_support(on())
        .send()
        .await
        .unwrap();
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc)
        .enable_dns_hostnames(on())
        .send()
        .await
        .unwrap();
    let mut subnets = BTreeMap::new();
    let layout = [
        ("public", 0, "us-east-1a", "10.70.101.0/24"),
        ("public", 1, "us-east-1b", "10.70.102.0/24"),
        ("private", 0, "us-east-1a", "10.70.1.0/24"),
        ("private", 1, "us-east-1b", "10.70.2.0/24"),
    ];
    for (tier, _, zone, cidr) in layout {
        let id = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(zone)
            .tag_specifications(ec2_tags(&format!("tf-{tier}-{zone}"), ResourceType::Subnet))
            .send()
            .await
            .unwrap()
            .subnet()
            .unwrap()
            .subnet_id()
            .unwrap()
            .to_string();
        if tier == "public" {
            ec2.modify_subnet_attribute()
                .subnet_id(&id)
                .map_public_ip_on_launch(on())
                .send()
                .await
                .unwrap();
        }
        subnets.insert(format!("{tier}.{zone}"), id);
    }
    let internet_gateway = ec2
        .create_internet_gateway()
        .tag_specifications(ec2_tags("tf-igw", ResourceType::InternetGateway))
        .send()
        .await
        .unwrap()
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_string();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&internet_gateway)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let address = ec2
        .allocate_address()
        .domain(DomainType::Vpc)
        .tag_specifications(ec2_tags("tf-nat", ResourceType::ElasticIp))
        .send()
        .await
        .unwrap();
    let allocation = address.allocation_id().unwrap().to_string();
    let public_ip = address.public_ip().unwrap().to_string();
    let nat_gateway = ec2
        .create_nat_gateway()
        .subnet_id(&subnets["public.us-east-1a"])
        .allocation_id(&allocation)
        .tag_specifications(ec2_tags("tf-nat", ResourceType::Natgateway))
        .send()
        .await
        .unwrap()
        .nat_gateway()
        .unwrap()
        .nat_gateway_id()
        .unwrap()
        .to_string();
    let mut associations: BTreeMap<String, String> = BTreeMap::new();
    let table = |name: &'static str| {
        let ec2 = ec2.clone();
        let vpc = vpc.clone();
        async move {
            ec2.create_route_table()
                .vpc_id(&vpc)
                .tag_specifications(ec2_tags(name, ResourceType::RouteTable))
                .send()
                .await
                .unwrap()
                .route_table()
                .unwrap()
                .route_table_id()
                .unwrap()
                .to_string()
        }
    };
    let public_table = table("tf-public").await;
    let private_table = table("tf-private").await;
    ec2.create_route()
        .route_table_id(&public_table)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&internet_gateway)
        .send()
        .await
        .unwrap();
    ec2.create_route()
        .route_table_id(&private_table)
        .destination_cidr_block("0.0.0.0/0")
        .nat_gateway_id(&nat_gateway)
        .send()
        .await
        .unwrap();
    for (key, subnet) in &subnets {
        let table = if key.starts_with("public") {
            &public_table
        } else {
            &private_table
        };
        let association = ec2
            .associate_route_table()
            .route_table_id(table)
            .subnet_id(subnet)
            .send()
            .await
            .unwrap()
            .association_id()
            .unwrap()
            .to_string();
        associations.insert(key.clone(), association);
    }

    let role = |name: &'static str, trust: &'static str, policies: &'static [&'static str]| {
        let iam = aws.iam.clone();
        async move {
            let arn = iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(trust)
                .send()
                .await
                .unwrap()
                .role()
                .unwrap()
                .arn()
                .to_string();
            for policy in policies {
                iam.attach_role_policy()
                    .role_name(name)
                    .policy_arn(format!("arn:aws:iam::aws:policy/{policy}"))
                    .send()
                    .await
                    .unwrap();
            }
            arn
        }
    };
    let cluster_role = role(
        "tf-eks-cluster",
        EKS_TRUST,
        &["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"],
    )
    .await;
    let node_policies: &'static [&'static str] = &[
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
    ];
    let node_role = role("tf-eks-node", EC2_TRUST, node_policies).await;
    let log_group = format!("/aws/eks/{CLUSTER}/cluster");
    aws.logs
        .create_log_group()
        .log_group_name(&log_group)
        .send()
        .await
        .unwrap();
    aws.logs
        .put_retention_policy()
        .log_group_name(&log_group)
        .retention_in_days(30)
        .send()
        .await
        .unwrap();
    let private = [
        &subnets["private.us-east-1a"],
        &subnets["private.us-east-1b"],
    ];
    let created = aws
        .eks
        .create_cluster()
        .name(CLUSTER)
        .version("1.31")
        .role_arn(&cluster_role)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .subnet_ids(private[0])
                .subnet_ids(private[1])
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
        .send()
        .await
        .unwrap();
    let cluster = created.cluster().unwrap();
    let issuer = cluster
        .identity()
        .and_then(|i| i.oidc())
        .and_then(|o| o.issuer())
        .unwrap()
        .to_string();
    let oidc_provider = oidc_provider_made_outside_eksform(aws, &issuer).await;
    let node_group = aws
        .eks
        .create_nodegroup()
        .cluster_name(CLUSTER)
        .nodegroup_name("tf-general")
        .node_role(&node_role)
        .subnets(private[0])
        .subnets(private[1])
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
    let node_group_arn = node_group
        .nodegroup()
        .and_then(|g| g.nodegroup_arn())
        .unwrap_or_default()
        .to_string();

    let security_group = ec2
        .create_security_group()
        .group_name("tf-alb")
        .description("the web ALB")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    for port in [80, 443] {
        ec2.authorize_security_group_ingress()
            .group_id(&security_group)
            .ip_permissions(permission("tcp", Some(port), "0.0.0.0/0"))
            .send()
            .await
            .unwrap();
    }
    ec2.revoke_security_group_egress()
        .group_id(&security_group)
        .ip_permissions(permission("-1", None, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    ec2.authorize_security_group_egress()
        .group_id(&security_group)
        .ip_permissions(permission("-1", None, CIDR))
        .send()
        .await
        .unwrap();
    let public = [&subnets["public.us-east-1a"], &subnets["public.us-east-1b"]];
    let balancer = aws
        .elb
        .create_load_balancer()
        .name("tf-web")
        .scheme(LoadBalancerSchemeEnum::InternetFacing)
        .subnets(public[0])
        .subnets(public[1])
        .security_groups(&security_group)
        .send()
        .await
        .unwrap();
    let balancer = &balancer.load_balancers()[0];
    let load_balancer = balancer.load_balancer_arn().unwrap().to_string();
    let dns_name = balancer.dns_name().unwrap_or_default().to_string();
    let lb_zone = balancer
        .canonical_hosted_zone_id()
        .unwrap_or_default()
        .to_string();
    aws.elb
        .modify_load_balancer_attributes()
        .load_balancer_arn(&load_balancer)
        .attributes(
            LoadBalancerAttribute::builder()
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
        .name("tf-app")
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
        .name(ZONE_NAME)
        .caller_reference("terraform-tf")
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
                .changes(
                    Change::builder()
                        .action(ChangeAction::Create)
                        .resource_record_set(
                            ResourceRecordSet::builder()
                                .name(format!("status.{ZONE_NAME}"))
                                .r#type(RrType::Cname)
                                .ttl(300)
                                .resource_records(
                                    ResourceRecord::builder()
                                        .value("status.example.net")
                                        .build()
                                        .unwrap(),
                                )
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // The state Terraform would hold for all of it.
    let vpc_module = Some("module.vpc");
    let subnet_instances = |tier: &str| {
        layout
            .iter()
            .filter(|(t, ..)| *t == tier)
            .map(|(t, index, zone, cidr)| {
                let id = &subnets[&format!("{t}.{zone}")];
                (
                    json!(index),
                    with_tags(
                        json!({ "id": id, "vpc_id": vpc, "cidr_block": cidr, "availability_zone": zone,
                                "map_public_ip_on_launch": tier == "public",
                                "arn": format!("arn:aws:ec2:{REGION}:123456789012:subnet/{id}") }),
                        Some(&format!("tf-{t}-{zone}")),
                    ),
                )
            })
            .collect::<Vec<_>>()
    };
    let route = |cidr: &str, gateway: &str, nat: &str| {
        json!({ "cidr_block": cidr, "gateway_id": gateway, "nat_gateway_id": nat, "ipv6_cidr_block": "",
                "destination_prefix_list_id": "", "transit_gateway_id": "", "vpc_endpoint_id": "",
                "vpc_peering_connection_id": "", "network_interface_id": "", "egress_only_gateway_id": "",
                "carrier_gateway_id": "", "core_network_arn": "", "local_gateway_id": "" })
    };
    let association_instances = |tier: &str, table: &str| {
        layout
            .iter()
            .filter(|(t, ..)| *t == tier)
            .map(|(t, index, zone, _)| {
                let key = format!("{t}.{zone}");
                (
                    json!(index),
                    json!({ "id": associations[&key], "route_table_id": table, "subnet_id": subnets[&key], "gateway_id": "" }),
                )
            })
            .collect::<Vec<_>>()
    };
    let attachment = |role: &str, policy: &str| json!({ "id": format!("{role}-2024"), "role": role, "policy_arn": format!("arn:aws:iam::aws:policy/{policy}") });
    let role_attributes = |name: &str, arn: &str, trust: &str, policies: &[&str]| {
        json!({ "id": name, "name": name, "arn": arn, "path": "/", "assume_role_policy": trust,
                "managed_policy_arns": policies.iter().map(|p| format!("arn:aws:iam::aws:policy/{p}")).collect::<Vec<_>>(),
                "inline_policy": [], "tags": {}, "tags_all": {} })
    };
    let none = Json::Null;
    let ingress: Vec<Json> = [80, 443]
        .iter()
        .map(|port| {
            json!({ "protocol": "tcp", "from_port": port, "to_port": port, "cidr_blocks": ["0.0.0.0/0"],
                    "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false, "description": "" })
        })
        .collect();
    let resources = vec![
        json!({ "mode": "data", "type": "aws_availability_zones", "name": "available", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
                "instances": [{ "schema_version": 0, "attributes": { "id": REGION, "names": ["us-east-1a", "us-east-1b"] } }] }),
        resource(
            vpc_module,
            "aws_vpc",
            "this",
            vec![(
                json!(0),
                with_tags(
                    json!({
            "id": vpc, "arn": format!("arn:aws:ec2:{REGION}:123456789012:vpc/{vpc}"), "cidr_block": CIDR,
            "enable_dns_support": true, "enable_dns_hostnames": true }),
                    Some("tf-vpc"),
                ),
            )],
        ),
        resource(
            vpc_module,
            "aws_subnet",
            "public",
            subnet_instances("public"),
        ),
        resource(
            vpc_module,
            "aws_subnet",
            "private",
            subnet_instances("private"),
        ),
        resource(
            vpc_module,
            "aws_internet_gateway",
            "this",
            vec![(
                json!(0),
                with_tags(
                    json!({
            "id": internet_gateway, "vpc_id": vpc }),
                    Some("tf-igw"),
                ),
            )],
        ),
        resource(
            vpc_module,
            "aws_eip",
            "nat",
            vec![(
                json!(0),
                with_tags(
                    json!({
            "id": allocation, "allocation_id": allocation, "public_ip": public_ip, "domain": "vpc" }),
                    Some("tf-nat"),
                ),
            )],
        ),
        resource(
            vpc_module,
            "aws_nat_gateway",
            "this",
            vec![(
                json!(0),
                with_tags(
                    json!({
            "id": nat_gateway, "allocation_id": allocation, "subnet_id": subnets["public.us-east-1a"],
            "public_ip": public_ip, "connectivity_type": "public" }),
                    Some("tf-nat"),
                ),
            )],
        ),
        resource(
            vpc_module,
            "aws_route_table",
            "public",
            vec![(
                json!(0),
                with_tags(
                    json!({
            "id": public_table, "vpc_id": vpc, "route": [route("0.0.0.0/0", &internet_gateway, "")] }),
                    Some("tf-public"),
                ),
            )],
        ),
        resource(
            vpc_module,
            "aws_route_table",
            "private",
            vec![(
                json!(0),
                with_tags(
                    json!({
            "id": private_table, "vpc_id": vpc, "route": [route("0.0.0.0/0", "", &nat_gateway)] }),
                    Some("tf-private"),
                ),
            )],
        ),
        resource(
            vpc_module,
            "aws_route",
            "public_internet_gateway",
            vec![(
                json!(0),
                json!({
            "id": format!("r-{public_table}1080289494"), "route_table_id": public_table,
            "destination_cidr_block": "0.0.0.0/0", "gateway_id": internet_gateway, "nat_gateway_id": "" }),
            )],
        ),
        resource(
            vpc_module,
            "aws_route",
            "private_nat_gateway",
            vec![(
                json!(0),
                json!({
            "id": format!("r-{private_table}1080289494"), "route_table_id": private_table,
            "destination_cidr_block": "0.0.0.0/0", "gateway_id": "", "nat_gateway_id": nat_gateway }),
            )],
        ),
        resource(
            vpc_module,
            "aws_route_table_association",
            "public",
            association_instances("public", &public_table),
        ),
        resource(
            vpc_module,
            "aws_route_table_association",
            "private",
            association_instances("private", &private_table),
        ),
        resource(
            None,
            "aws_iam_role",
            "cluster",
            vec![(
                none.clone(),
                role_attributes(
                    "tf-eks-cluster",
                    &cluster_role,
                    EKS_TRUST,
                    &["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"],
                ),
            )],
        ),
        resource(
            None,
            "aws_iam_role_policy_attachment",
            "cluster",
            vec![
                (
                    json!("AmazonEKSClusterPolicy"),
                    attachment("tf-eks-cluster", "AmazonEKSClusterPolicy"),
                ),
                (
                    json!("AmazonEKSVPCResourceController"),
                    attachment("tf-eks-cluster", "AmazonEKSVPCResourceController"),
                ),
            ],
        ),
        resource(
            None,
            "aws_cloudwatch_log_group",
            "cluster",
            vec![(
                none.clone(),
                json!({
            "id": log_group, "name": log_group, "retention_in_days": 30, "tags": {}, "tags_all": {},
            "arn": format!("arn:aws:logs:{REGION}:123456789012:log-group:{log_group}") }),
            )],
        ),
        resource(
            None,
            "aws_eks_cluster",
            "main",
            vec![(
                none.clone(),
                json!({
            "id": CLUSTER, "name": CLUSTER, "arn": cluster.arn(), "version": "1.31", "role_arn": cluster_role,
            "created_at": cluster.created_at().map(|t| t.to_string()), "endpoint": cluster.endpoint(),
            "enabled_cluster_log_types": ["api", "audit"],
            "identity": [{ "oidc": [{ "issuer": issuer }] }],
            "certificate_authority": [{ "data": cluster.certificate_authority().and_then(|c| c.data()) }],
            "vpc_config": [{ "vpc_id": vpc, "subnet_ids": private, "endpoint_public_access": true,
                             "endpoint_private_access": true, "public_access_cidrs": ["0.0.0.0/0"],
                             "cluster_security_group_id": "" }],
            "tags": {}, "tags_all": {} }),
            )],
        ),
        resource(
            None,
            "aws_iam_openid_connect_provider",
            "cluster",
            vec![(
                none.clone(),
                json!({
            "id": oidc_provider, "arn": oidc_provider, "url": issuer.trim_start_matches("https://"),
            "client_id_list": ["sts.amazonaws.com"], "tags": {}, "tags_all": {} }),
            )],
        ),
        resource(
            None,
            "aws_security_group",
            "alb",
            vec![(
                none.clone(),
                json!({
            "id": security_group, "name": "tf-alb", "description": "the web ALB", "vpc_id": vpc,
            "ingress": ingress,
            "egress": [{ "protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": [CIDR],
                "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false, "description": "" }],
            "tags": {}, "tags_all": {} }),
            )],
        ),
        resource(
            None,
            "aws_lb",
            "web",
            vec![(
                none.clone(),
                json!({
            "id": load_balancer, "arn": load_balancer, "name": "tf-web", "internal": false,
            "load_balancer_type": "application", "subnets": public, "security_groups": [security_group],
            "idle_timeout": 60, "dns_name": dns_name, "zone_id": lb_zone, "tags": {}, "tags_all": {} }),
            )],
        ),
        resource(
            None,
            "aws_lb_target_group",
            "app",
            vec![(
                none.clone(),
                json!({
            "id": target_group, "arn": target_group, "name": "tf-app", "port": 80, "protocol": "HTTP",
            "target_type": "ip", "vpc_id": vpc, "health_check": [{ "path": "/healthz" }], "tags": {}, "tags_all": {} }),
            )],
        ),
        resource(
            None,
            "aws_lb_listener",
            "http",
            vec![(
                none.clone(),
                json!({
            "id": listener, "arn": listener, "load_balancer_arn": load_balancer, "port": 80, "protocol": "HTTP",
            "ssl_policy": "", "certificate_arn": "",
            "default_action": [{ "type": "forward", "target_group_arn": target_group }], "tags": {}, "tags_all": {} }),
            )],
        ),
        resource(
            None,
            "aws_route53_zone",
            "main",
            vec![(
                none.clone(),
                json!({
            "id": zone, "zone_id": zone, "name": ZONE_NAME, "name_servers": [], "vpc": [], "tags": {}, "tags_all": {} }),
            )],
        ),
        resource(
            None,
            "aws_route53_record",
            "status",
            vec![(
                none.clone(),
                json!({
            "id": format!("{zone}_status.{ZONE_NAME}_CNAME"), "zone_id": zone, "name": format!("status.{ZONE_NAME}"),
            "type": "CNAME", "ttl": 300, "records": ["status.example.net"], "alias": [], "set_identifier": "" }),
            )],
        ),
        resource(
            None,
            "aws_sqs_queue",
            "jobs",
            vec![(
                none.clone(),
                json!({
            "id": format!("https://sqs.{REGION}.amazonaws.com/123456789012/jobs"), "name": "jobs" }),
            )],
        ),
        // The node group and its role: dropped from the state for the apply
        // (see the module doc).
        resource(
            None,
            "aws_iam_role",
            "node",
            vec![(
                none.clone(),
                role_attributes("tf-eks-node", &node_role, EC2_TRUST, node_policies),
            )],
        ),
        resource(
            None,
            "aws_eks_node_group",
            "general",
            vec![(
                none.clone(),
                json!({
            "id": format!("{CLUSTER}:tf-general"), "arn": node_group_arn, "cluster_name": CLUSTER,
            "node_group_name": "tf-general", "node_role_arn": node_role, "subnet_ids": private,
            "instance_types": ["m5.large"], "capacity_type": "ON_DEMAND", "disk_size": 20, "version": "1.31",
            "labels": {}, "taint": [], "launch_template": [],
            "scaling_config": [{ "min_size": 1, "max_size": 3, "desired_size": 2 }],
            // The emulator reports no update config (EKS reports one node).
            "update_config": [],
            "tags": {}, "tags_all": {} }),
            )],
        ),
    ];
    let state = json!({ "version": 4, "terraform_version": "1.9.8", "serial": 42,
                        "lineage": "1d2c3b4a-0000-1111-2222-333344445555", "outputs": {}, "resources": resources });
    let ids = Ids {
        vpc,
        subnets,
        internet_gateway,
        allocation,
        public_ip,
        nat_gateway,
        public_table,
        private_table,
        cluster_arn: cluster.arn().unwrap().to_string(),
        cluster_created_at: cluster.created_at().unwrap().to_string(),
        oidc_provider,
        security_group,
        load_balancer,
        target_group,
        listener,
        zone,
    };
    (ids, state)
}

/// The estate's ids as the emulator reports them after the apply: what
/// carries the stack's mark, and the only resource of kinds eksform would
/// have made a second one of.
async fn live_ids(aws: &AwsClients) -> Ids {
    let ec2 = &aws.ec2;
    let vpcs = ec2
        .describe_vpcs()
        .filters(marked_by(STACK))
        .send()
        .await
        .unwrap();
    let subnets = ec2
        .describe_subnets()
        .filters(marked_by(STACK))
        .send()
        .await
        .unwrap();
    let gateways = ec2
        .describe_internet_gateways()
        .filters(marked_by(STACK))
        .send()
        .await
        .unwrap();
    let addresses = ec2
        .describe_addresses()
        .filters(marked_by(STACK))
        .send()
        .await
        .unwrap();
    // moto ignores tag filters on NAT gateways: the live ones are matched here.
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    let nats: Vec<_> = nats
        .nat_gateways()
        .iter()
        .filter(|n| tags(n.tags()).get(STACK_TAG).map(String::as_str) == Some(STACK))
        .collect();
    let tables = ec2
        .describe_route_tables()
        .filters(marked_by(STACK))
        .send()
        .await
        .unwrap();
    let table = |address: &str| {
        tables
            .route_tables()
            .iter()
            .find(|t| tags(t.tags()).get("eksform:address").map(String::as_str) == Some(address))
            .and_then(|t| t.route_table_id())
            .unwrap_or_default()
            .to_string()
    };
    let groups = ec2
        .describe_security_groups()
        .filters(marked_by(STACK))
        .send()
        .await
        .unwrap();
    let cluster = aws
        .eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap();
    let cluster = cluster.cluster().unwrap();
    let providers = aws
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .unwrap();
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    let target_groups = aws.elb.describe_target_groups().send().await.unwrap();
    let load_balancer = balancers.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(&load_balancer)
        .send()
        .await
        .unwrap();
    let zones = aws.route53.list_hosted_zones().send().await.unwrap();
    let only = |ids: Vec<&str>, what: &str| {
        assert_eq!(ids.len(), 1, "one {what}: {ids:?}");
        ids[0].to_string()
    };
    Ids {
        vpc: only(
            vpcs.vpcs().iter().filter_map(|v| v.vpc_id()).collect(),
            "VPC",
        ),
        subnets: subnets
            .subnets()
            .iter()
            .filter_map(|s| {
                let address = tags(s.tags()).get("eksform:address")?.clone();
                Some((
                    address.strip_prefix("subnet.")?.to_string(),
                    s.subnet_id()?.to_string(),
                ))
            })
            .collect(),
        internet_gateway: only(
            gateways
                .internet_gateways()
                .iter()
                .filter_map(|g| g.internet_gateway_id())
                .collect(),
            "internet gateway",
        ),
        allocation: only(
            addresses
                .addresses()
                .iter()
                .filter_map(|a| a.allocation_id())
                .collect(),
            "Elastic IP",
        ),
        public_ip: only(
            addresses
                .addresses()
                .iter()
                .filter_map(|a| a.public_ip())
                .collect(),
            "Elastic IP",
        ),
        nat_gateway: only(
            nats.iter().filter_map(|n| n.nat_gateway_id()).collect(),
            "NAT gateway",
        ),
        public_table: table("route_table.public"),
        private_table: table("route_table.private"),
        cluster_arn: cluster.arn().unwrap().to_string(),
        cluster_created_at: cluster.created_at().unwrap().to_string(),
        oidc_provider: only(
            providers
                .open_id_connect_provider_list()
                .iter()
                .filter_map(|p| p.arn())
                .collect(),
            "OIDC provider",
        ),
        security_group: only(
            groups
                .security_groups()
                .iter()
                .filter_map(|g| g.group_id())
                .collect(),
            "load balancer security group",
        ),
        load_balancer: only(
            balancers
                .load_balancers()
                .iter()
                .filter_map(|b| b.load_balancer_arn())
                .collect(),
            "load balancer",
        ),
        target_group: only(
            target_groups
                .target_groups()
                .iter()
                .filter_map(|g| g.target_group_arn())
                .collect(),
            "target group",
        ),
        listener: only(
            listeners
                .listeners()
                .iter()
                .filter_map(|l| l.listener_arn())
                .collect(),
            "listener",
        ),
        zone: only(
            zones
                .hosted_zones()
                .iter()
                .map(|z| z.id().rsplit('/').next().unwrap_or_default())
                .collect(),
            "hosted zone",
        ),
    }
}

fn import(emulator: &Emulator, dir: &Path, state: &Json, name: &str) -> std::path::PathBuf {
    let state_file = dir.join(format!("{name}.json"));
    std::fs::write(&state_file, serde_json::to_string_pretty(state).unwrap()).unwrap();
    let spec = dir.join(format!("{name}.yaml"));
    let output = emulator
        .eksform()
        .args(["import", "terraform", "--stack", "tfimport", "--state"])
        .arg(&state_file)
        .arg("--out")
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("not imported: aws_sqs_queue.jobs (aws_sqs_queue)"),
        "{stderr}"
    );
    spec
}

fn plan_json(emulator: &Emulator, spec: &Path) -> Json {
    let output = emulator
        .eksform()
        .args(["plan", "--json"])
        .arg(spec)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "plan --json: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        std::fs::read_to_string(spec).unwrap()
    );
    let document: Json = serde_json::from_slice(&output.stdout).unwrap();
    document["stacks"][0].clone()
}

/// The plan of an imported spec adopts every entry and does nothing else.
fn assert_only_adoptions(plan: &Json, spec: &Path) {
    let text = std::fs::read_to_string(spec).unwrap();
    let entries = text.matches("  - address: ").count();
    for count in ["create", "update", "replace", "delete", "release"] {
        assert_eq!(plan["summary"][count], 0, "{count}: {plan}\n{text}");
    }
    assert_eq!(plan["summary"]["adopt"], entries, "{plan}");
    for change in plan["resource_changes"].as_array().unwrap() {
        assert_eq!(change["action"], "adopt", "{change}");
        // The imported settings are the live ones: only the marks change.
        for attribute in change["attributes"].as_array().unwrap() {
            assert_eq!(attribute["name"], "tags", "{change}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_terraform_estate_is_imported_adopted_and_keeps_every_id() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let (ids, state) = build_estate(&aws).await;
    let dir = tempfile::tempdir().unwrap();

    // With the node group: imported and planned as adoptions only.
    let full = import(&emulator, dir.path(), &state, "full");
    assert!(dir.path().join("removed.tf").exists());
    let text = std::fs::read_to_string(&full).unwrap();
    assert!(text.contains("privateRouteTables: Shared"), "{text}");
    assert!(text.contains("address: node_group.general"), "{text}");
    assert_eq!(plan_exit_code(&emulator, &full), 2);
    assert_only_adoptions(&plan_json(&emulator, &full), &full);

    // Without it (the emulator cannot tag a node group): applied.
    let mut without = state.clone();
    without["resources"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["type"] != "aws_eks_node_group" && r["name"] != "node");
    std::fs::remove_file(dir.path().join("removed.tf")).unwrap();
    let spec = import(&emulator, dir.path(), &without, "estate");
    assert_only_adoptions(&plan_json(&emulator, &spec), &spec);
    apply(&emulator, &spec);
    assert_eq!(plan_exit_code(&emulator, &spec), 0, "nothing left to do");

    // Every resource is the one Terraform made (the Elastic IP keeps its
    // address, the cluster its creation time), now marked as the stack's.
    assert_eq!(live_ids(&aws).await, ids);
    let vpc = aws
        .ec2
        .describe_vpcs()
        .vpc_ids(&ids.vpc)
        .send()
        .await
        .unwrap();
    let vpc_tags = tags(vpc.vpcs()[0].tags());
    assert_eq!(vpc_tags["eksform:stack"], "tfimport");
    assert_eq!(vpc_tags["eksform:adopted"], "entry");
    assert_eq!(vpc_tags["Name"], "tf-vpc", "its own name is kept");
    let tables = aws
        .ec2
        .describe_route_tables()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&ids.vpc)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let marked: Vec<(String, String)> = tables
        .route_tables()
        .iter()
        .filter_map(|t| {
            let tags = tags(t.tags());
            Some((
                tags.get("eksform:address")?.clone(),
                t.route_table_id()?.to_string(),
            ))
        })
        .collect();
    assert_eq!(
        marked.into_iter().collect::<BTreeMap<_, _>>(),
        BTreeMap::from([
            ("route_table.private".to_string(), ids.private_table.clone()),
            ("route_table.public".to_string(), ids.public_table.clone()),
        ]),
        "the shared private table is kept, no table is made"
    );
    let roles = aws
        .iam
        .list_roles()
        .path_prefix("/eksform/")
        .send()
        .await
        .unwrap();
    assert!(roles.roles().is_empty(), "no role was made");
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    assert_eq!(balancers.load_balancers().len(), 1, "no balancer was made");
}
