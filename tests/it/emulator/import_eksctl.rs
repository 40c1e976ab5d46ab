//! `eksform import eksctl` against the emulator: a cluster made the way
//! eksctl makes it, taken over without recreating anything.
//!
//! The emulator's CloudFormation makes the network and the roles of an
//! eksctl-style `eksctl-<cluster>-cluster` stack (logical ids as eksctl's
//! template names them) and the node role of an `eksctl-<cluster>-nodegroup-*`
//! stack, but it has no `AWS::EKS::*` (it skips them and lists an empty row),
//! so the cluster and its node group are made through the EKS API (with the
//! log group EKS makes for control-plane logging). It also ignores the VPC's
//! DNS settings and the subnets' MapPublicIpOnLaunch (EMULATOR.md), the
//! subnets' route table associations and the roles' ManagedPolicyArns
//! (checked when this test was written): those are made afterwards by the
//! EC2 and IAM APIs, as eksctl's template has them.
//!
//! The release itself (`--release-stacks` after the adoption is applied) is
//! not run here: the emulator's UpdateStack does not keep the resources of
//! such a template (with the Retain policies it fails part-way on the NAT
//! gateway's `Fn::GetAtt` and has by then made new security groups and
//! dropped the VPC from the stack), and its DeleteStack is not realistic
//! either. The calls of the release are checked against AWS's answers in
//! tests/it/requests/cloudformation.rs; here, the refusal before the
//! adoption is applied, which only reads.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::types::Capability;
use aws_sdk_ec2::types::AttributeBooleanValue;
use aws_sdk_eks::types::{NodegroupScalingConfig, VpcConfigRequest};
use eksform_aws::AwsClients;
use eksform_testkit::emulator::{Emulator, plan_exit_code};
use serde_json::{Value, json};

use super::REGION;
use crate::EKSFORM;

const CLUSTER: &str = "legacy";
const CLUSTER_STACK: &str = "eksctl-legacy-cluster";
const NODEGROUP_STACK: &str = "eksctl-legacy-nodegroup-ng-1";
const SERVICE_ACCOUNT_STACK: &str = "eksctl-legacy-addon-iamserviceaccount-kube-system-aws-node";
const ZONES: [(&str, &str); 2] = [("us-east-1a", "USEAST1A"), ("us-east-1b", "USEAST1B")];

fn tagged(name: &str) -> Value {
    json!([{ "Key": "Name", "Value": format!("{CLUSTER_STACK}/{name}") }])
}

fn trust(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": [service] },
            "Action": ["sts:AssumeRole"]
        }]
    })
}

/// The network and roles of eksctl's cluster stack, one NAT gateway (eksctl's
/// default), two zones.
fn cluster_template() -> String {
    let mut resources = serde_json::Map::new();
    let mut add = |name: &str, resource: Value| {
        resources.insert(name.to_string(), resource);
    };
    add(
        "VPC",
        json!({ "Type": "AWS::EC2::VPC", "Properties": {
            "CidrBlock": "192.168.0.0/16", "EnableDnsHostnames": true,
            "EnableDnsSupport": true, "Tags": tagged("VPC") } }),
    );
    add(
        "InternetGateway",
        json!({ "Type": "AWS::EC2::InternetGateway", "Properties": { "Tags": tagged("InternetGateway") } }),
    );
    add(
        "VPCGatewayAttachment",
        json!({ "Type": "AWS::EC2::VPCGatewayAttachment", "Properties": {
            "InternetGatewayId": { "Ref": "InternetGateway" }, "VpcId": { "Ref": "VPC" } } }),
    );
    add(
        "PublicRouteTable",
        json!({ "Type": "AWS::EC2::RouteTable", "Properties": {
            "VpcId": { "Ref": "VPC" }, "Tags": tagged("PublicRouteTable") } }),
    );
    add(
        "PublicSubnetRoute",
        json!({ "Type": "AWS::EC2::Route", "DependsOn": "VPCGatewayAttachment", "Properties": {
            "RouteTableId": { "Ref": "PublicRouteTable" }, "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": { "Ref": "InternetGateway" } } }),
    );
    add(
        "NATIP",
        json!({ "Type": "AWS::EC2::EIP", "DependsOn": "VPCGatewayAttachment", "Properties": {
            "Domain": "vpc", "Tags": tagged("NATIP") } }),
    );
    add(
        "NATGateway",
        json!({ "Type": "AWS::EC2::NatGateway", "Properties": {
            "AllocationId": { "Fn::GetAtt": ["NATIP", "AllocationId"] },
            "SubnetId": { "Ref": "SubnetPublicUSEAST1A" }, "Tags": tagged("NATGateway") } }),
    );
    for (i, (zone, suffix)) in ZONES.iter().enumerate() {
        for (tier, offset, role_tag) in [
            ("Public", 0, "kubernetes.io/role/elb"),
            ("Private", 2, "kubernetes.io/role/internal-elb"),
        ] {
            add(
                &format!("Subnet{tier}{suffix}"),
                json!({ "Type": "AWS::EC2::Subnet", "Properties": {
                    "AvailabilityZone": zone,
                    "CidrBlock": format!("192.168.{}.0/19", (i + offset) * 32),
                    "MapPublicIpOnLaunch": tier == "Public",
                    "VpcId": { "Ref": "VPC" },
                    "Tags": [
                        { "Key": role_tag, "Value": "1" },
                        { "Key": "Name", "Value": format!("{CLUSTER_STACK}/Subnet{tier}{suffix}") }
                    ] } }),
            );
            add(
                &format!("RouteTableAssociation{tier}{suffix}"),
                json!({ "Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {
                    "RouteTableId": { "Ref": if tier == "Public" { "PublicRouteTable".to_string() } else { format!("PrivateRouteTable{suffix}") } },
                    "SubnetId": { "Ref": format!("Subnet{tier}{suffix}") } } }),
            );
        }
        add(
            &format!("PrivateRouteTable{suffix}"),
            json!({ "Type": "AWS::EC2::RouteTable", "Properties": {
                "VpcId": { "Ref": "VPC" }, "Tags": tagged(&format!("PrivateRouteTable{suffix}")) } }),
        );
        add(
            &format!("NATPrivateSubnetRoute{suffix}"),
            json!({ "Type": "AWS::EC2::Route", "Properties": {
                "RouteTableId": { "Ref": format!("PrivateRouteTable{suffix}") },
                "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": { "Ref": "NATGateway" } } }),
        );
    }
    add(
        "ServiceRole",
        json!({ "Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": trust("eks.amazonaws.com"),
            "ManagedPolicyArns": [
                "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
                "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController"
            ],
            "Tags": tagged("ServiceRole") } }),
    );
    add(
        "ControlPlaneSecurityGroup",
        json!({ "Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "Communication between the control plane and worker nodegroups",
            "VpcId": { "Ref": "VPC" }, "Tags": tagged("ControlPlaneSecurityGroup") } }),
    );
    add(
        "ClusterSharedNodeSecurityGroup",
        json!({ "Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "Communication between all nodes in the cluster",
            "VpcId": { "Ref": "VPC" }, "Tags": tagged("ClusterSharedNodeSecurityGroup") } }),
    );
    // Skipped by the emulator; listed so the stack looks like eksctl's.
    add(
        "ControlPlane",
        json!({ "Type": "AWS::EKS::Cluster", "Properties": {
            "Name": CLUSTER, "Version": "1.31",
            "RoleArn": { "Fn::GetAtt": ["ServiceRole", "Arn"] },
            "ResourcesVpcConfig": { "SubnetIds": [
                { "Ref": "SubnetPrivateUSEAST1A" }, { "Ref": "SubnetPrivateUSEAST1B" } ] } } }),
    );
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "EKS cluster (dedicated VPC: true, dedicated IAM: true) [created and managed by eksctl]",
        "Resources": resources,
        "Outputs": {
            "VPC": { "Value": { "Ref": "VPC" } },
            "SubnetsPrivate": { "Value": { "Fn::Join": [",", [
                { "Ref": "SubnetPrivateUSEAST1A" }, { "Ref": "SubnetPrivateUSEAST1B" } ] ] } }
        }
    })
    .to_string()
}

fn nodegroup_template() -> String {
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "EKS Managed Nodes (SSH access: false) [created by eksctl]",
        "Resources": {
            "NodeInstanceRole": { "Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": trust("ec2.amazonaws.com"),
                "ManagedPolicyArns": [
                    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
                    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
                ],
                "Path": "/" } },
            "ManagedNodeGroup": { "Type": "AWS::EKS::Nodegroup", "Properties": {
                "ClusterName": CLUSTER, "NodegroupName": "ng-1" } }
        }
    })
    .to_string()
}

async fn create_stack(aws: &AwsClients, name: &str, template: String) {
    create_stack_tagged(aws, name, template, &[]).await;
}

/// A stack with eksctl's cluster tag and `tags`.
async fn create_stack_tagged(
    aws: &AwsClients,
    name: &str,
    template: String,
    tags: &[(&str, &str)],
) {
    let tag = |key: &str, value: &str| {
        aws_sdk_cloudformation::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
    };
    let mut call = aws
        .cloudformation
        .create_stack()
        .stack_name(name)
        .template_body(template)
        .capabilities(Capability::CapabilityIam)
        .tags(tag("alpha.eksctl.io/cluster-name", CLUSTER));
    for (key, value) in tags {
        call = call.tags(tag(key, value));
    }
    call.send().await.unwrap();
}

/// eksctl's stack of an IRSA role (`iam.serviceAccounts`): the role trusting
/// the cluster's OIDC provider for one service account.
fn service_account_template(provider_arn: &str, issuer: &str) -> String {
    let host = issuer.trim_start_matches("https://");
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "IAM role for serviceaccount \"kube-system/aws-node\" [created and managed by eksctl]",
        "Resources": {
            "Role1": { "Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Action": ["sts:AssumeRoleWithWebIdentity"],
                        "Principal": { "Federated": provider_arn },
                        "Condition": { "StringEquals": {
                            format!("{host}:aud"): "sts.amazonaws.com",
                            format!("{host}:sub"): "system:serviceaccount:kube-system:aws-node"
                        } }
                    }]
                },
                "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"] } }
        },
        "Outputs": { "Role1": { "Value": { "Fn::GetAtt": ["Role1", "Arn"] } } }
    })
    .to_string()
}

/// Logical id -> physical id of a stack's resources.
async fn physical_ids(aws: &AwsClients, stack: &str) -> BTreeMap<String, String> {
    aws.cloudformation
        .list_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .unwrap()
        .stack_resource_summaries()
        .iter()
        .filter_map(|r| {
            Some((
                r.logical_resource_id()?.to_string(),
                r.physical_resource_id()?.to_string(),
            ))
        })
        .collect()
}

/// The estate as eksctl leaves it: the stacks, then what the emulator's
/// CloudFormation cannot do, by the EC2 and EKS APIs.
async fn make_eksctl_estate(aws: &AwsClients, with_node_group: bool) -> BTreeMap<String, String> {
    create_stack(aws, CLUSTER_STACK, cluster_template()).await;
    let mut ids = physical_ids(aws, CLUSTER_STACK).await;
    if with_node_group {
        create_stack(aws, NODEGROUP_STACK, nodegroup_template()).await;
        let node_role = physical_ids(aws, NODEGROUP_STACK).await["NodeInstanceRole"].clone();
        ids.insert("NodeInstanceRole".into(), node_role);
    }

    let on = || AttributeBooleanValue::builder().value(true).build();
    for dns in [true, false] {
        let call = aws.ec2.modify_vpc_attribute().vpc_id(&ids["VPC"]);
        let call = if dns {
            call.enable_dns_support(on())
        } else {
            call.enable_dns_hostnames(on())
        };
        call.send().await.unwrap();
    }
    for (_, suffix) in ZONES {
        aws.ec2
            .modify_subnet_attribute()
            .subnet_id(&ids[&format!("SubnetPublic{suffix}")])
            .map_public_ip_on_launch(on())
            .send()
            .await
            .unwrap();
    }

    for (_, suffix) in ZONES {
        for (tier, table) in [
            ("Public", "PublicRouteTable".to_string()),
            ("Private", format!("PrivateRouteTable{suffix}")),
        ] {
            aws.ec2
                .associate_route_table()
                .route_table_id(&ids[&table])
                .subnet_id(&ids[&format!("Subnet{tier}{suffix}")])
                .send()
                .await
                .unwrap();
        }
    }
    for (role, policies) in [
        (
            "ServiceRole",
            &["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"][..],
        ),
        (
            "NodeInstanceRole",
            &[
                "AmazonEKSWorkerNodePolicy",
                "AmazonEKS_CNI_Policy",
                "AmazonEC2ContainerRegistryReadOnly",
            ][..],
        ),
    ] {
        if !ids.contains_key(role) {
            continue;
        }
        for policy in policies {
            aws.iam
                .attach_role_policy()
                .role_name(&ids[role])
                .policy_arn(format!("arn:aws:iam::aws:policy/{policy}"))
                .send()
                .await
                .unwrap();
        }
    }

    let role_arn = |name: &str| format!("arn:aws:iam::123456789012:role/{name}");
    let private: Vec<String> = ZONES
        .iter()
        .map(|(_, s)| ids[&format!("SubnetPrivate{s}")].clone())
        .collect();
    // eksctl's default: the control plane in the public and the private subnets.
    let public: Vec<String> = ZONES
        .iter()
        .map(|(_, s)| ids[&format!("SubnetPublic{s}")].clone())
        .collect();
    aws.eks
        .create_cluster()
        .name(CLUSTER)
        .version("1.31")
        .role_arn(role_arn(&ids["ServiceRole"]))
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some([public, private.clone()].concat()))
                .security_group_ids(&ids["ControlPlaneSecurityGroup"])
                .endpoint_public_access(true)
                .endpoint_private_access(false)
                .public_access_cidrs("0.0.0.0/0")
                .build(),
        )
        .logging(
            aws_sdk_eks::types::Logging::builder()
                .cluster_logging(
                    aws_sdk_eks::types::LogSetup::builder()
                        .types(aws_sdk_eks::types::LogType::Api)
                        .types(aws_sdk_eks::types::LogType::Audit)
                        .enabled(true)
                        .build(),
                )
                .build(),
        )
        .tags("alpha.eksctl.io/cluster-name", CLUSTER)
        .send()
        .await
        .unwrap();
    // eksctl's `iam.withOIDC`: the provider of the cluster's issuer, by the IAM API.
    let issuer = aws
        .eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap()
        .cluster()
        .and_then(|c| c.identity())
        .and_then(|i| i.oidc())
        .and_then(|o| o.issuer())
        .unwrap()
        .to_string();
    let provider = aws
        .iam
        .create_open_id_connect_provider()
        .url(&issuer)
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
        .send()
        .await
        .unwrap();
    let provider_arn = provider.open_id_connect_provider_arn().unwrap().to_string();
    create_stack_tagged(
        aws,
        SERVICE_ACCOUNT_STACK,
        service_account_template(&provider_arn, &issuer),
        &[(
            "alpha.eksctl.io/iamserviceaccount-name",
            "kube-system/aws-node",
        )],
    )
    .await;
    let irsa_role = physical_ids(aws, SERVICE_ACCOUNT_STACK).await["Role1"].clone();
    aws.iam
        .attach_role_policy()
        .role_name(&irsa_role)
        .policy_arn("arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy")
        .send()
        .await
        .unwrap();
    ids.insert("IrsaRole".into(), irsa_role);
    ids.insert("OIDCProvider".into(), provider_arn);
    // What EKS makes when control-plane logging is on (eksctl's
    // `cloudWatch.clusterLogging`), with eksctl's `logRetentionInDays`.
    let group = format!("/aws/eks/{CLUSTER}/cluster");
    aws.logs
        .create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    aws.logs
        .put_retention_policy()
        .log_group_name(&group)
        .retention_in_days(30)
        .send()
        .await
        .unwrap();
    if !with_node_group {
        return ids;
    }
    // `privateNetworking: true`.
    aws.eks
        .create_nodegroup()
        .cluster_name(CLUSTER)
        .nodegroup_name("ng-1")
        .version("1.31")
        .node_role(role_arn(&ids["NodeInstanceRole"]))
        .set_subnets(Some(private))
        .instance_types("m5.large")
        .disk_size(80)
        .scaling_config(
            NodegroupScalingConfig::builder()
                .min_size(1)
                .max_size(3)
                .desired_size(2)
                .build(),
        )
        .tags("alpha.eksctl.io/nodegroup-name", "ng-1")
        .send()
        .await
        .unwrap();
    ids
}

/// What a user relies on keeping: every id (and the NAT address) as eksctl made them.
async fn live_identity(aws: &AwsClients, ids: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    let vpc = aws
        .ec2
        .describe_vpcs()
        .vpc_ids(&ids["VPC"])
        .send()
        .await
        .unwrap();
    out.push(format!("vpc {}", vpc.vpcs()[0].vpc_id().unwrap()));
    let subnets = aws
        .ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&ids["VPC"])
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut subnet_ids: Vec<String> = subnets
        .subnets()
        .iter()
        .map(|s| format!("subnet {}", s.subnet_id().unwrap()))
        .collect();
    subnet_ids.sort();
    out.extend(subnet_ids);
    let gateways = aws
        .ec2
        .describe_nat_gateways()
        .nat_gateway_ids(&ids["NATGateway"])
        .send()
        .await
        .unwrap();
    let gateway = &gateways.nat_gateways()[0];
    out.push(format!(
        "nat {} {:?} {}",
        gateway.nat_gateway_id().unwrap(),
        gateway.state(),
        gateway.nat_gateway_addresses()[0].public_ip().unwrap()
    ));
    let tables = aws
        .ec2
        .describe_route_tables()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&ids["VPC"])
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut table_ids: Vec<String> = tables
        .route_tables()
        .iter()
        .map(|t| format!("route table {}", t.route_table_id().unwrap()))
        .collect();
    table_ids.sort();
    out.extend(table_ids);
    for role in ["ServiceRole", "NodeInstanceRole", "IrsaRole"] {
        if !ids.contains_key(role) {
            continue;
        }
        let got = aws
            .iam
            .get_role()
            .role_name(&ids[role])
            .send()
            .await
            .unwrap();
        out.push(format!("role {}", got.role().unwrap().arn()));
    }
    let cluster = aws
        .eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap();
    let cluster = cluster.cluster().unwrap();
    out.push(format!(
        "cluster {} {:?}",
        cluster.arn().unwrap(),
        cluster.created_at()
    ));
    let groups = aws
        .eks
        .list_nodegroups()
        .cluster_name(CLUSTER)
        .send()
        .await
        .unwrap();
    for name in groups.nodegroups() {
        let group = aws
            .eks
            .describe_nodegroup()
            .cluster_name(CLUSTER)
            .nodegroup_name(name)
            .send()
            .await
            .unwrap();
        out.push(format!(
            "node group {}",
            group.nodegroup().unwrap().nodegroup_arn().unwrap()
        ));
    }
    out
}

/// The imported spec without the node group and its node role (a spec has
/// a node role only with node groups): its section and both adopt entries.
fn spec_without_node_group(spec: &str) -> String {
    let mut out = Vec::new();
    let mut lines = spec.lines().peekable();
    let mut in_groups = false;
    while let Some(line) = lines.next() {
        if line.starts_with("managedNodeGroups:") {
            in_groups = true;
            continue;
        }
        if in_groups && !line.starts_with(' ') {
            in_groups = false;
        }
        if in_groups {
            continue;
        }
        // An adopt entry: its comment (where it came from), address and id.
        if line
            .trim_start()
            .starts_with("# eksctl-legacy-nodegroup-ng-1/")
        {
            lines.next();
            lines.next();
            continue;
        }
        out.push(line);
    }
    let out = out.join("\n") + "\n";
    assert!(
        !out.contains("node_group.") && !out.contains("iam_role.node"),
        "{out}"
    );
    out
}

async fn stack_exists(aws: &AwsClients, name: &str) -> bool {
    match aws
        .cloudformation
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
    {
        Ok(out) => out
            .stacks()
            .iter()
            .any(|s| s.stack_status().map(|s| s.as_str()) != Some("DELETE_COMPLETE")),
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_eksctl_cluster_is_imported_and_adopted_with_nothing_recreated() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let ids = make_eksctl_estate(&aws, true).await;
    let before = live_identity(&aws, &ids).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("legacy.yaml");

    let imported = emulator
        .eksform()
        .args([
            "import",
            "eksctl",
            "--cluster",
            CLUSTER,
            "--region",
            REGION,
            "--out",
        ])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&imported.stderr);
    assert!(imported.status.success(), "{stderr}");
    // What eksform does not model is named, and said to stay with CloudFormation.
    assert!(stderr.contains("stay with CloudFormation"), "{stderr}");
    for unmodelled in [
        "eksctl-legacy-cluster/ControlPlaneSecurityGroup (AWS::EC2::SecurityGroup)",
        "eksctl-legacy-cluster/ClusterSharedNodeSecurityGroup (AWS::EC2::SecurityGroup)",
    ] {
        assert!(stderr.contains(unmodelled), "{unmodelled} in {stderr}");
    }
    let text = std::fs::read_to_string(&spec).unwrap();
    // The control plane stays where eksctl put it.
    assert!(
        text.contains("controlPlaneSubnets: PublicAndPrivate"),
        "{text}"
    );

    let plan = emulator
        .eksform()
        .args(["plan", "--json"])
        .arg(&spec)
        .output()
        .unwrap();
    assert!(
        plan.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
    let plan = &plan["stacks"][0];
    for action in ["create", "replace", "delete"] {
        assert_eq!(plan["summary"][action], 0, "{action}: {plan:#}\n{text}");
    }
    // Taking over changes only marks: eksctl's roles trust their service
    // without sts:TagSession, which eksform's would add on a create but does
    // not need, so nothing of theirs changes and no guard applies.
    let mut settings: Vec<String> = Vec::new();
    for change in plan["resource_changes"].as_array().unwrap() {
        for attribute in change["attributes"].as_array().unwrap() {
            if attribute["name"] != "tags" {
                settings.push(format!(
                    "{} {}",
                    change["address"].as_str().unwrap(),
                    attribute["name"].as_str().unwrap()
                ));
            }
        }
    }
    assert!(
        settings.is_empty(),
        "only marks change: {settings:?}\n{plan:#}"
    );
    let mut adopted: Vec<String> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "adopt")
        .map(|c| {
            format!(
                "{} {}",
                c["address"].as_str().unwrap(),
                c["id"].as_str().unwrap()
            )
        })
        .collect();
    adopted.sort();
    let mut expected = vec![
        format!("vpc.main {}", ids["VPC"]),
        format!("internet_gateway.main {}", ids["InternetGateway"]),
        format!("route_table.public {}", ids["PublicRouteTable"]),
        format!("nat_gateway.us-east-1a {}", ids["NATGateway"]),
        format!("iam_role.cluster {}", ids["ServiceRole"]),
        format!("iam_role.node {}", ids["NodeInstanceRole"]),
        format!("eks_cluster.main {CLUSTER}"),
        "node_group.ng-1 ng-1".to_string(),
        format!("log_group.cluster /aws/eks/{CLUSTER}/cluster"),
        format!("oidc_provider.main {}", ids["OIDCProvider"]),
        format!("iam_role.irsa.kube-system.aws-node {}", ids["IrsaRole"]),
    ];
    for (zone, suffix) in ZONES {
        expected.push(format!(
            "subnet.public.{zone} {}",
            ids[&format!("SubnetPublic{suffix}")]
        ));
        expected.push(format!(
            "subnet.private.{zone} {}",
            ids[&format!("SubnetPrivate{suffix}")]
        ));
        expected.push(format!(
            "route_table.private.{zone} {}",
            ids[&format!("PrivateRouteTable{suffix}")]
        ));
    }
    let allocation = aws
        .ec2
        .describe_addresses()
        .public_ips(&ids["NATIP"])
        .send()
        .await
        .unwrap();
    expected.push(format!(
        "elastic_ip.nat.us-east-1a {}",
        allocation.addresses()[0].allocation_id().unwrap()
    ));
    expected.sort();
    assert_eq!(adopted, expected, "{text}");

    // Before the adoption is applied, the stacks are not released, and nothing changes.
    let early = emulator
        .eksform()
        .args([
            "import",
            "eksctl",
            "--cluster",
            CLUSTER,
            "--region",
            REGION,
            "--release-stacks",
            "--auto-approve",
        ])
        .output()
        .unwrap();
    let early_err = String::from_utf8_lossy(&early.stderr);
    assert_eq!(early.status.code(), Some(1), "{early_err}");
    assert!(early_err.contains("not yet adopted"), "{early_err}");
    assert!(early_err.contains("vpc.main"), "{early_err}");
    assert!(stack_exists(&aws, CLUSTER_STACK).await);
    assert!(stack_exists(&aws, NODEGROUP_STACK).await);

    // The emulator tags clusters only (TagResource on a node group's ARN
    // answers ResourceNotFoundException), so the node group's take-over is
    // checked up to its plan above (its calls are in requests/eks.rs) and the
    // spec applied here is the import without it and its node role.
    let without_node_group = spec_without_node_group(&text);
    let applied = dir.path().join("legacy-applied.yaml");
    std::fs::write(&applied, &without_node_group).unwrap();
    emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&applied)
        .assert()
        .success();
    assert_eq!(live_identity(&aws, &ids).await, before);
    assert_eq!(
        plan_exit_code(&emulator, &applied),
        0,
        "nothing left to change once adopted"
    );

    // Still refused while what eksform models of the node group's stack is
    // not adopted, naming exactly that.
    let late = emulator
        .eksform()
        .args([
            "import",
            "eksctl",
            "--cluster",
            CLUSTER,
            "--region",
            REGION,
            "--release-stacks",
            "--auto-approve",
        ])
        .output()
        .unwrap();
    let late_err = String::from_utf8_lossy(&late.stderr);
    assert_eq!(late.status.code(), Some(1), "{late_err}");
    let refused = late_err
        .split("not yet adopted")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(refused.contains("iam_role.node"), "{late_err}");
    assert!(refused.contains("node_group.ng-1"), "{late_err}");
    assert!(!refused.contains("vpc.main"), "{late_err}");
    assert!(stack_exists(&aws, CLUSTER_STACK).await);

    let vpc = aws
        .ec2
        .describe_vpcs()
        .vpc_ids(&ids["VPC"])
        .send()
        .await
        .unwrap();
    let tags = super::tags(vpc.vpcs()[0].tags());
    assert_eq!(tags.get("eksform:stack").map(String::as_str), Some(CLUSTER));
    assert_eq!(
        tags.get("aws:cloudformation:stack-name")
            .map(String::as_str),
        Some(CLUSTER_STACK),
        "CloudFormation's own tags are kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn once_everything_is_adopted_the_release_asks_and_refuses_without_a_terminal() {
    // A cluster without node groups: everything its stack holds that eksform
    // models can be adopted on the emulator.
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let ids = make_eksctl_estate(&aws, false).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("legacy.yaml");
    emulator
        .eksform()
        .args([
            "import",
            "eksctl",
            "--cluster",
            CLUSTER,
            "--region",
            REGION,
            "--out",
        ])
        .arg(&spec)
        .assert()
        .success();
    // A spec already there (perhaps edited) is never overwritten by mistake.
    let written = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, format!("{written}# edited\n")).unwrap();
    let again = emulator
        .eksform()
        .args([
            "import",
            "eksctl",
            "--cluster",
            CLUSTER,
            "--region",
            REGION,
            "--out",
        ])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("--force"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        std::fs::read_to_string(&spec)
            .unwrap()
            .ends_with("# edited\n")
    );
    emulator
        .eksform()
        .args([
            "import",
            "eksctl",
            "--cluster",
            CLUSTER,
            "--region",
            REGION,
            "--force",
            "--out",
        ])
        .arg(&spec)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), written);
    emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&spec)
        .assert()
        .success();
    let before = live_identity(&aws, &ids).await;

    // stdin is not a terminal here: no one to say yes.
    let release = emulator
        .eksform()
        .args([
            "import",
            "eksctl",
            "--cluster",
            CLUSTER,
            "--region",
            REGION,
            "--release-stacks",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&release.stderr);
    assert_eq!(release.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("not yet adopted"), "{stderr}");
    assert!(
        stderr.contains(&format!("  {CLUSTER_STACK}")),
        "the stack is named: {stderr}"
    );
    assert!(stderr.contains("no terminal to ask"), "{stderr}");
    assert!(stderr.contains("--auto-approve"), "{stderr}");
    assert!(stack_exists(&aws, CLUSTER_STACK).await);
    assert_eq!(live_identity(&aws, &ids).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_without_eksctl_stacks_is_refused() {
    let emulator = Emulator::start(EKSFORM);
    let out = emulator
        .eksform()
        .args(["import", "eksctl", "--cluster", "nope", "--region", REGION])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no eksctl stack for cluster nope"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}
