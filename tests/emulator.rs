//! Emulator tests: the `eksform` binary against a local moto server, checked
//! with the AWS SDK, as a user would run it. Each test starts its own server.

mod support;

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, NatGatewayState};
use eksform_aws::AwsClients;
use support::{Emulator, apply, apply_allowing_destroy, destroy, plan_exit_code, write_spec};

const REGION: &str = "us-east-1";
const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

fn network_spec(stack: &str, nat: &str) -> String {
    format!(
        "stack: {stack}\nregion: {REGION}\ntags:\n  team: platform\nvpc:\n  cidr: 10.30.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b, us-east-1c]\n  nat:\n    gateway: {nat}\n"
    )
}

fn stack_filter(stack: &str) -> Filter {
    Filter::builder()
        .name("tag:eksform:stack")
        .values(stack)
        .build()
}

fn tags(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The live network of a stack, as the SDK sees it.
#[derive(Debug)]
struct Network {
    vpc_id: String,
    /// (tier, zone) -> subnet id
    subnets: BTreeMap<(String, String), String>,
    /// zone -> NAT gateway id (available ones only)
    nats: BTreeMap<String, String>,
    elastic_ips: usize,
    /// route table address tag -> (default route target, associated subnet ids)
    route_tables: BTreeMap<String, (Option<String>, Vec<String>)>,
    internet_gateway_attached_to: Option<String>,
}

async fn read_network(aws: &AwsClients, stack: &str) -> Network {
    let vpcs = aws
        .ec2
        .describe_vpcs()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    assert_eq!(
        vpcs.vpcs().len(),
        1,
        "exactly one VPC carries the stack's mark"
    );
    let vpc = &vpcs.vpcs()[0];
    assert_eq!(vpc.cidr_block(), Some("10.30.0.0/16"));
    let vpc_id = vpc.vpc_id().unwrap().to_string();
    for attribute in [
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport,
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames,
    ] {
        let out = aws
            .ec2
            .describe_vpc_attribute()
            .vpc_id(&vpc_id)
            .attribute(attribute.clone())
            .send()
            .await
            .unwrap();
        let on = out
            .enable_dns_support()
            .or(out.enable_dns_hostnames())
            .and_then(|v| v.value());
        assert_eq!(on, Some(true), "{attribute:?} is on");
    }

    let subnets = aws
        .ec2
        .describe_subnets()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    let mut by_place = BTreeMap::new();
    for subnet in subnets.subnets() {
        let tags = tags(subnet.tags());
        let address = tags["eksform:address"].clone();
        let parts: Vec<&str> = address.split('.').collect();
        let (tier, zone) = (parts[1].to_string(), parts[2].to_string());
        assert_eq!(subnet.vpc_id(), Some(vpc_id.as_str()));
        assert_eq!(subnet.availability_zone(), Some(zone.as_str()));
        assert_eq!(tags["team"], "platform", "stack tags on {address}");
        assert_eq!(tags["eksform:stack"], stack);
        let role = if tier == "public" {
            "kubernetes.io/role/elb"
        } else {
            "kubernetes.io/role/internal-elb"
        };
        assert_eq!(
            tags.get(role).map(String::as_str),
            Some("1"),
            "{role} on {address}"
        );
        assert_eq!(
            subnet.map_public_ip_on_launch(),
            Some(tier == "public"),
            "public IPs on {address}"
        );
        by_place.insert((tier, zone), subnet.subnet_id().unwrap().to_string());
    }
    assert_eq!(by_place.len(), 6, "a public and a private subnet per zone");

    let gateways = aws
        .ec2
        .describe_internet_gateways()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    assert_eq!(gateways.internet_gateways().len(), 1);
    let internet_gateway_attached_to = gateways.internet_gateways()[0]
        .attachments()
        .first()
        .and_then(|a| a.vpc_id())
        .map(str::to_string);

    // The emulator ignores tag filters on NAT gateways: filter by VPC and check tags.
    let nat_gateways = aws
        .ec2
        .describe_nat_gateways()
        .filter(Filter::builder().name("vpc-id").values(&vpc_id).build())
        .send()
        .await
        .unwrap();
    let mut nats = BTreeMap::new();
    for nat in nat_gateways.nat_gateways() {
        if nat.state() != Some(&NatGatewayState::Available) {
            continue;
        }
        let tags = tags(nat.tags());
        assert_eq!(tags["eksform:stack"], stack);
        let zone = tags["eksform:address"]
            .trim_start_matches("nat_gateway.")
            .to_string();
        assert_eq!(
            nat.subnet_id(),
            Some(by_place[&("public".to_string(), zone.clone())].as_str()),
            "NAT in its zone's public subnet"
        );
        assert!(
            nats.insert(zone, nat.nat_gateway_id().unwrap().to_string())
                .is_none(),
            "one NAT per zone"
        );
    }
    let addresses = aws
        .ec2
        .describe_addresses()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();

    let tables = aws
        .ec2
        .describe_route_tables()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    let mut route_tables = BTreeMap::new();
    for table in tables.route_tables() {
        let address = tags(table.tags())["eksform:address"].clone();
        let default = table
            .routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
            .and_then(|r| r.nat_gateway_id().or(r.gateway_id()))
            .map(str::to_string);
        let mut associated: Vec<String> = table
            .associations()
            .iter()
            .filter_map(|a| a.subnet_id().map(str::to_string))
            .collect();
        associated.sort();
        route_tables.insert(address, (default, associated));
    }
    Network {
        vpc_id,
        subnets: by_place,
        nats,
        elastic_ips: addresses.addresses().len(),
        route_tables,
        internet_gateway_attached_to,
    }
}

/// Checks routes: public through the internet gateway, each zone's private
/// subnet through `nat_for(zone)` (or no default route).
fn check_routes(network: &Network, nat_for: impl Fn(&str) -> Option<String>) {
    let mut public: Vec<String> = ZONES
        .iter()
        .map(|z| network.subnets[&("public".into(), z.to_string())].clone())
        .collect();
    public.sort();
    let (target, associated) = &network.route_tables["route_table.public"];
    assert!(
        target.as_deref().is_some_and(|t| t.starts_with("igw-")),
        "public default route to the internet gateway"
    );
    assert_eq!(associated, &public);
    for zone in ZONES {
        let (target, associated) = &network.route_tables[&format!("route_table.private.{zone}")];
        assert_eq!(
            associated,
            &vec![network.subnets[&("private".into(), zone.to_string())].clone()]
        );
        assert_eq!(target, &nat_for(zone), "private default route of {zone}");
    }
}

async fn assert_no_clusters(aws: &AwsClients) {
    let clusters = aws.eks.list_clusters().send().await.unwrap();
    assert!(
        clusters.clusters().is_empty(),
        "clusters left: {:?}",
        clusters.clusters()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn network_lifecycle_through_every_nat_mode() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let aws = emulator.clients(REGION).await;
    let stack = "life";

    // Single NAT.
    let spec = write_spec(&dir, "life.yaml", &network_spec(stack, "Single"));
    apply(&emulator, &spec);
    let first = read_network(&aws, stack).await;
    assert_eq!(
        first.internet_gateway_attached_to.as_deref(),
        Some(first.vpc_id.as_str())
    );
    assert_eq!(first.nats.keys().collect::<Vec<_>>(), vec!["us-east-1a"]);
    assert_eq!(first.elastic_ips, 1);
    let single = first.nats["us-east-1a"].clone();
    check_routes(&first, |_| Some(single.clone()));
    assert_eq!(
        plan_exit_code(&emulator, &spec),
        0,
        "a second plan finds nothing to do"
    );

    let outputs = emulator
        .eksform()
        .args(["outputs", "--json"])
        .arg(&spec)
        .output()
        .unwrap();
    let outputs: serde_json::Value = serde_json::from_slice(&outputs.stdout).unwrap();
    assert_eq!(outputs["vpcId"], first.vpc_id.as_str());
    assert_eq!(outputs["natPublicIPs"].as_array().map(Vec::len), Some(1));

    // Highly available: a NAT per zone; the VPC and subnets are neither replaced nor touched.
    let spec = write_spec(&dir, "life.yaml", &network_spec(stack, "HighlyAvailable"));
    assert_eq!(
        plan_exit_code(&emulator, &spec),
        2,
        "switching NAT mode is a change"
    );
    let plan = emulator
        .eksform()
        .args(["plan", "--json"])
        .arg(&spec)
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    for change in plan["resource_changes"].as_array().unwrap() {
        if matches!(
            change["kind"].as_str(),
            Some("vpc" | "subnet" | "internet_gateway")
        ) {
            assert_eq!(
                change["action"], "no_op",
                "{} stays as it is",
                change["address"]
            );
        }
    }
    apply(&emulator, &spec);
    let ha = read_network(&aws, stack).await;
    assert_eq!(ha.vpc_id, first.vpc_id, "same VPC");
    assert_eq!(ha.subnets, first.subnets, "same subnets");
    assert_eq!(ha.nats.len(), 3);
    assert_eq!(
        ha.nats["us-east-1a"], single,
        "the first zone keeps its NAT"
    );
    assert_eq!(ha.elastic_ips, 3);
    check_routes(&ha, |zone| Some(ha.nats[zone].clone()));
    assert_eq!(plan_exit_code(&emulator, &spec), 0);

    // Back to one NAT: releasing Elastic IPs is guarded (partners allow-list
    // them), so `--auto-approve` alone refuses and changes nothing.
    let spec = write_spec(&dir, "life.yaml", &network_spec(stack, "Single"));
    emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&spec)
        .assert()
        .code(1);
    assert_eq!(read_network(&aws, stack).await.elastic_ips, 3);
    apply_allowing_destroy(&emulator, &spec);
    let back = read_network(&aws, stack).await;
    assert_eq!(back.nats.keys().collect::<Vec<_>>(), vec!["us-east-1a"]);
    assert_eq!(
        back.elastic_ips, 1,
        "the other zones' addresses are released"
    );
    check_routes(&back, |_| Some(single.clone()));
    assert_eq!(plan_exit_code(&emulator, &spec), 0);

    // No NAT at all.
    let spec = write_spec(&dir, "life.yaml", &network_spec(stack, "Disable"));
    apply_allowing_destroy(&emulator, &spec);
    let none = read_network(&aws, stack).await;
    assert!(none.nats.is_empty());
    assert_eq!(none.elastic_ips, 0);
    check_routes(&none, |_| None);
    assert_eq!(none.subnets, first.subnets);
    assert_eq!(plan_exit_code(&emulator, &spec), 0);

    // Destroy leaves nothing with the stack's mark.
    destroy(&emulator, &spec);
    let ec2 = &aws.ec2;
    assert!(
        ec2.describe_vpcs()
            .filters(stack_filter(stack))
            .send()
            .await
            .unwrap()
            .vpcs()
            .is_empty()
    );
    assert!(
        ec2.describe_subnets()
            .filters(stack_filter(stack))
            .send()
            .await
            .unwrap()
            .subnets()
            .is_empty()
    );
    assert!(
        ec2.describe_internet_gateways()
            .filters(stack_filter(stack))
            .send()
            .await
            .unwrap()
            .internet_gateways()
            .is_empty()
    );
    assert!(
        ec2.describe_route_tables()
            .filters(stack_filter(stack))
            .send()
            .await
            .unwrap()
            .route_tables()
            .is_empty()
    );
    assert!(
        ec2.describe_addresses()
            .filters(stack_filter(stack))
            .send()
            .await
            .unwrap()
            .addresses()
            .is_empty()
    );
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    assert!(
        nats.nat_gateways()
            .iter()
            .all(|n| n.state() == Some(&NatGatewayState::Deleted))
    );
    assert_eq!(
        plan_exit_code(&emulator, &spec),
        2,
        "after destroy the stack would be created again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_without_terminal_or_approval_changes_nothing() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "ask.yaml", &network_spec("ask", "Single"));
    let output = emulator
        .eksform()
        .arg("apply")
        .arg(&spec)
        .write_stdin("yes\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no terminal") && stderr.contains("--auto-approve"),
        "{stderr}"
    );
    let aws = emulator.clients(REGION).await;
    assert!(
        aws.ec2
            .describe_vpcs()
            .filters(stack_filter("ask"))
            .send()
            .await
            .unwrap()
            .vpcs()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn account_guard_refuses_another_account() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let text = network_spec("guard", "Single").replace(
        "region: us-east-1\n",
        "region: us-east-1\naccount: \"111122223333\"\n",
    );
    let spec = write_spec(&dir, "guard.yaml", &text);
    let output = emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("111122223333") && stderr.contains("123456789012"),
        "{stderr}"
    );
    let aws = emulator.clients(REGION).await;
    assert!(
        aws.ec2
            .describe_vpcs()
            .filters(stack_filter("guard"))
            .send()
            .await
            .unwrap()
            .vpcs()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_plan_applies_only_while_the_account_is_unchanged() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "saved.yaml", &network_spec("saved", "Single"));
    let stale = dir.path().join("stale.plan.json");
    let fresh = dir.path().join("fresh.plan.json");
    emulator
        .eksform()
        .args(["plan", "--out"])
        .arg(&stale)
        .arg(&spec)
        .assert()
        .success();
    emulator
        .eksform()
        .args(["plan", "--out"])
        .arg(&fresh)
        .arg(&spec)
        .assert()
        .success();
    emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&fresh)
        .assert()
        .success();
    let output = emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&stale)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "a plan made before the apply is stale"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("changed since the plan was made"),
        "{stderr}"
    );
    let aws = emulator.clients(REGION).await;
    assert_eq!(
        aws.ec2
            .describe_vpcs()
            .filters(stack_filter("saved"))
            .send()
            .await
            .unwrap()
            .vpcs()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_brought_vpc_only_gets_its_subnets_tagged() {
    let emulator = Emulator::start();
    let aws = emulator.clients(REGION).await;
    // Someone else's VPC, made outside eksform.
    let vpc = aws
        .ec2
        .create_vpc()
        .cidr_block("10.60.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc_id = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let mut ids = Vec::new();
    for (cidr, zone) in [
        ("10.60.0.0/20", "us-east-1a"),
        ("10.60.16.0/20", "us-east-1b"),
        ("10.60.128.0/20", "us-east-1a"),
        ("10.60.144.0/20", "us-east-1b"),
    ] {
        let subnet = aws
            .ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(cidr)
            .availability_zone(zone)
            .send()
            .await
            .unwrap();
        ids.push(subnet.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "stack: byo\nregion: us-east-1\nvpc:\n  id: {vpc_id}\n  subnets:\n    public:\n      us-east-1a: {{ id: {} }}\n      us-east-1b: {{ id: {} }}\n    private:\n      us-east-1a: {{ id: {} }}\n      us-east-1b: {{ id: {} }}\n",
        ids[0], ids[1], ids[2], ids[3]
    );
    let spec = write_spec(&dir, "byo.yaml", &text);
    apply(&emulator, &spec);
    let subnets = aws
        .ec2
        .describe_subnets()
        .set_subnet_ids(Some(ids.clone()))
        .send()
        .await
        .unwrap();
    for subnet in subnets.subnets() {
        let tags = tags(subnet.tags());
        let public = ids[..2].contains(&subnet.subnet_id().unwrap().to_string());
        let role = if public {
            "kubernetes.io/role/elb"
        } else {
            "kubernetes.io/role/internal-elb"
        };
        assert_eq!(
            tags.get(role).map(String::as_str),
            Some("1"),
            "{role} on {:?}",
            subnet.subnet_id()
        );
        assert!(
            !tags.contains_key("eksform:stack"),
            "a brought subnet is not marked as eksform's"
        );
    }
    assert_eq!(plan_exit_code(&emulator, &spec), 0);
    // Nothing was created, so destroy deletes nothing of the user's.
    destroy(&emulator, &spec);
    let left = aws
        .ec2
        .describe_subnets()
        .set_subnet_ids(Some(ids.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(left.subnets().len(), 4);
    assert_eq!(
        aws.ec2
            .describe_vpcs()
            .vpc_ids(&vpc_id)
            .send()
            .await
            .unwrap()
            .vpcs()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn brought_elastic_ips_are_used_and_never_released() {
    let emulator = Emulator::start();
    let aws = emulator.clients(REGION).await;
    let allocated = aws
        .ec2
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .unwrap();
    let allocation = allocated.allocation_id().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let text = network_spec("eips", "Single").replace(
        "    gateway: Single\n",
        &format!("    gateway: Single\n    elasticIPs: [{allocation}]\n"),
    );
    let spec = write_spec(&dir, "eips.yaml", &text);
    apply(&emulator, &spec);
    let network = read_network(&aws, "eips").await;
    assert_eq!(
        network.elastic_ips, 0,
        "eksform allocated no address of its own"
    );
    let nat = aws
        .ec2
        .describe_nat_gateways()
        .nat_gateway_ids(&network.nats["us-east-1a"])
        .send()
        .await
        .unwrap();
    let used = nat.nat_gateways()[0].nat_gateway_addresses()[0]
        .allocation_id()
        .map(str::to_string);
    assert_eq!(
        used,
        Some(allocation.clone()),
        "the NAT gateway uses the brought address"
    );
    assert_eq!(plan_exit_code(&emulator, &spec), 0);
    destroy(&emulator, &spec);
    let left = aws
        .ec2
        .describe_addresses()
        .allocation_ids(&allocation)
        .send()
        .await
        .unwrap();
    assert_eq!(
        left.addresses().len(),
        1,
        "the brought address is not released"
    );
}

fn cluster_spec(stack: &str, cidrs: &str, retention: u32) -> String {
    format!(
        "stack: {stack}\nregion: {REGION}\ntags:\n  team: platform\nvpc:\n  cidr: 10.30.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Single\ncluster:\n  name: {stack}-eks\n  version: \"1.31\"\n  publicAccessCIDRs: [{cidrs}]\n  logging:\n    enableTypes: [api, audit]\n    logRetentionInDays: {retention}\niam:\n  withOIDC: true\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_control_plane_lifecycle() {
    let emulator = Emulator::start();
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "cp.yaml",
        &cluster_spec("cp", "198.51.100.7, 203.0.113.0/24", 30),
    );
    apply(&emulator, &spec);

    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/eks/cp-eks/cluster")
        .send()
        .await
        .unwrap();
    let group = &groups.log_groups()[0];
    assert_eq!(group.retention_in_days(), Some(30));
    let cluster = aws
        .eks
        .describe_cluster()
        .name("cp-eks")
        .send()
        .await
        .unwrap();
    let cluster = cluster.cluster().unwrap().clone();
    let vpc = cluster.resources_vpc_config().unwrap();
    let mut cidrs = vpc.public_access_cidrs().to_vec();
    cidrs.sort();
    assert_eq!(
        cidrs,
        vec!["198.51.100.7/32", "203.0.113.0/24"],
        "a bare IP is a /32"
    );
    assert_eq!(vpc.subnet_ids().len(), 2, "the private subnets");
    assert_eq!(cluster.version(), Some("1.31"));
    let enabled: Vec<String> = cluster
        .logging()
        .unwrap()
        .cluster_logging()
        .iter()
        .filter(|s| s.enabled() == Some(true))
        .flat_map(|s| s.types().iter().map(|t| t.as_str().to_string()))
        .collect();
    assert_eq!(enabled, vec!["api", "audit"]);
    assert_eq!(
        cluster
            .tags()
            .unwrap()
            .get("eksform:stack")
            .map(String::as_str),
        Some("cp")
    );

    let role_name = cluster
        .role_arn()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let role = aws
        .iam
        .get_role()
        .role_name(&role_name)
        .send()
        .await
        .unwrap();
    let trust = eksform_core::kinds::IamRole::decode(
        role.role().unwrap().assume_role_policy_document().unwrap(),
    );
    assert!(trust.contains("eks.amazonaws.com"), "{trust}");
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(&role_name)
        .send()
        .await
        .unwrap();
    let arns: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(arns, vec!["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]);

    let issuer = cluster
        .identity()
        .unwrap()
        .oidc()
        .unwrap()
        .issuer()
        .unwrap()
        .to_string();
    let providers = aws
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .unwrap();
    assert_eq!(providers.open_id_connect_provider_list().len(), 1);
    let provider = aws
        .iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(providers.open_id_connect_provider_list()[0].arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        format!(
            "https://{}",
            provider.url().unwrap().trim_start_matches("https://")
        ),
        issuer
    );
    assert_eq!(provider.client_id_list(), ["sts.amazonaws.com"]);
    assert_eq!(plan_exit_code(&emulator, &spec), 0);
    let outputs = emulator
        .eksform()
        .args(["outputs", "--json"])
        .arg(&spec)
        .output()
        .unwrap();
    let outputs: serde_json::Value = serde_json::from_slice(&outputs.stdout).unwrap();
    assert_eq!(outputs["clusterName"], "cp-eks");
    assert_eq!(outputs["oidcIssuer"], issuer.as_str());
    assert_eq!(
        outputs["oidcProviderARN"],
        providers.open_id_connect_provider_list()[0].arn().unwrap()
    );
    assert_eq!(outputs["clusterEndpoint"], cluster.endpoint().unwrap());

    // New CIDRs and retention: updates in place, the same cluster, its subnets intact.
    let spec = write_spec(&dir, "cp.yaml", &cluster_spec("cp", "198.51.100.8", 90));
    let plan = emulator
        .eksform()
        .args(["plan", "--json"])
        .arg(&spec)
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(plan["summary"]["update"], 2, "{plan}");
    assert_eq!(plan["summary"]["replace"], 0);
    assert_eq!(plan["summary"]["create"], 0);
    apply(&emulator, &spec);
    let after = aws
        .eks
        .describe_cluster()
        .name("cp-eks")
        .send()
        .await
        .unwrap();
    let after = after.cluster().unwrap();
    assert_eq!(after.arn(), cluster.arn());
    assert_eq!(after.created_at(), cluster.created_at());
    let vpc_after = after.resources_vpc_config().unwrap();
    assert_eq!(vpc_after.public_access_cidrs(), ["198.51.100.8/32"]);
    let sorted = |ids: &[String]| {
        let mut ids = ids.to_vec();
        ids.sort();
        ids
    };
    assert_eq!(
        sorted(vpc_after.subnet_ids()),
        sorted(vpc.subnet_ids()),
        "subnets intact"
    );
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/eks/cp-eks/cluster")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(90));
    assert_eq!(plan_exit_code(&emulator, &spec), 0);

    // Destroy leaves nothing: cluster, role, log group, OIDC provider, network.
    destroy(&emulator, &spec);
    assert_no_clusters(&aws).await;
    assert!(
        aws.iam
            .get_role()
            .role_name(&role_name)
            .send()
            .await
            .is_err()
    );
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/eks/cp-eks/")
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty());
    assert!(
        aws.iam
            .list_open_id_connect_providers()
            .send()
            .await
            .unwrap()
            .open_id_connect_provider_list()
            .is_empty()
    );
    assert!(
        aws.ec2
            .describe_vpcs()
            .filters(stack_filter("cp"))
            .send()
            .await
            .unwrap()
            .vpcs()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unmarked_log_group_is_adopted_not_duplicated() {
    let emulator = Emulator::start();
    let aws = emulator.clients(REGION).await;
    // EKS made this one (infinite retention) before eksform managed the cluster.
    aws.logs
        .create_log_group()
        .log_group_name("/aws/eks/adopt-eks/cluster")
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "adopt.yaml",
        &cluster_spec("adopt", "198.51.100.7", 14),
    );
    let plan = emulator.eksform().arg("plan").arg(&spec).output().unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains("log_group.cluster") && text.contains("adopts an existing resource"),
        "{text}"
    );
    apply(&emulator, &spec);
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/eks/adopt-eks/cluster")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups().len(), 1);
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(14));
    let arn = groups.log_groups()[0]
        .arn()
        .unwrap()
        .trim_end_matches(":*")
        .to_string();
    let tags = aws
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags()
            .unwrap()
            .get("eksform:stack")
            .map(String::as_str),
        Some("adopt")
    );
    assert_eq!(plan_exit_code(&emulator, &spec), 0);
}

fn admitting_spec(reference: &str) -> String {
    format!(
        "stack: prd\nregion: {REGION}\nvpc:\n  cidr: 10.40.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat: {{ gateway: Disable }}\ncluster:\n  name: prd-eks\n  version: \"1.31\"\n  publicAccessCIDRs:\n    - 198.51.100.7\n    - {reference}\n"
    )
}

async fn public_access_cidrs(aws: &AwsClients, cluster: &str) -> Vec<String> {
    let described = aws
        .eks
        .describe_cluster()
        .name(cluster)
        .send()
        .await
        .unwrap();
    let mut cidrs = described
        .cluster()
        .and_then(|c| c.resources_vpc_config())
        .map(|v| v.public_access_cidrs().to_vec())
        .unwrap_or_default();
    cidrs.sort();
    cidrs
}

fn nat_ips(emulator: &Emulator, spec: &std::path::Path) -> Vec<String> {
    let output = emulator
        .eksform()
        .args(["outputs", "--json"])
        .arg(spec)
        .output()
        .unwrap();
    let outputs: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    outputs["natPublicIPs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ip| format!("{}/32", ip.as_str().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_admits_another_stacks_nat_address_through_from_stack() {
    let emulator = Emulator::start();
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    // File names sort against the reference order, which the estate plan must follow.
    let prd = write_spec(
        &dir,
        "1-prd.yaml",
        &admitting_spec("{ fromStack: ops, output: natPublicIPs }"),
    );

    // The other stack does not exist yet: a plan error naming both, at the reference.
    let output = emulator.eksform().arg("plan").arg(&prd).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("prd.yaml:12:7")
            && stderr.contains("stack `ops`")
            && stderr.contains("natPublicIPs"),
        "{stderr}"
    );
    assert_no_clusters(&aws).await;

    let ops = write_spec(&dir, "2-ops.yaml", &network_spec("ops", "Single"));
    apply(&emulator, &ops);
    let nat = nat_ips(&emulator, &ops);
    assert_eq!(nat.len(), 1);
    apply(&emulator, &prd);
    let mut expected = vec!["198.51.100.7/32".to_string(), nat[0].clone()];
    expected.sort();
    assert_eq!(public_access_cidrs(&aws, "prd-eks").await, expected);
    assert_eq!(
        plan_exit_code(&emulator, &prd),
        0,
        "resolved the same way again"
    );

    // The other stack gains NAT gateways: the reference follows on the next apply.
    let ops = write_spec(&dir, "2-ops.yaml", &network_spec("ops", "HighlyAvailable"));
    apply(&emulator, &ops);
    let nat = nat_ips(&emulator, &ops);
    assert_eq!(nat.len(), 3);
    assert_eq!(plan_exit_code(&emulator, &prd), 2);
    apply(&emulator, &prd);
    let mut expected: Vec<String> = nat.into_iter().chain(["198.51.100.7/32".into()]).collect();
    expected.sort();
    assert_eq!(public_access_cidrs(&aws, "prd-eks").await, expected);
    assert_eq!(plan_exit_code(&emulator, &prd), 0);

    // Both stacks in one command, given as their directory.
    let output = emulator
        .eksform()
        .args(["plan", "--detailed-exitcode"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (ops_at, prd_at) = (
        stdout.find("Stack ops").expect("ops planned"),
        stdout.find("Stack prd").expect("prd planned"),
    );
    assert!(ops_at < prd_at, "the referenced stack first:\n{stdout}");
    assert!(stdout.contains("  prd: Plan: 0 to create"), "{stdout}");

    destroy(&emulator, &prd);
    destroy(&emulator, &ops);
    assert_no_clusters(&aws).await;
}

fn node_group_spec(instance_types: &str, labels: &str, max: u32) -> String {
    format!(
        "stack: ng\nregion: {REGION}\nvpc:\n  cidr: 10.80.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Single\ncluster:\n  name: ng-eks\n  version: \"1.31\"\nmanagedNodeGroups:\n  - name: spot-general\n    spot: true\n    instanceTypes: [{instance_types}]\n    minSize: 1\n    maxSize: {max}\n    desiredCapacity: 2\n    volumeSize: 50\n    labels: {{ {labels} }}\n    taints:\n      - {{ key: dedicated, value: batch, effect: NoSchedule }}\n"
    )
}

async fn node_groups(aws: &AwsClients) -> Vec<aws_sdk_eks::types::Nodegroup> {
    let names = aws
        .eks
        .list_nodegroups()
        .cluster_name("ng-eks")
        .send()
        .await
        .unwrap();
    let mut groups = Vec::new();
    for name in names.nodegroups() {
        let out = aws
            .eks
            .describe_nodegroup()
            .cluster_name("ng-eks")
            .nodegroup_name(name)
            .send()
            .await
            .unwrap();
        groups.push(out.nodegroup().unwrap().clone());
    }
    groups
}

#[tokio::test(flavor = "multi_thread")]
async fn spot_node_group_lifecycle() {
    let emulator = Emulator::start();
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "ng.yaml",
        &node_group_spec("m5.large, m5a.large", "role: general", 4),
    );
    apply(&emulator, &spec);
    let groups = node_groups(&aws).await;
    assert_eq!(groups.len(), 1);
    let group = &groups[0];
    assert_eq!(
        group.capacity_type(),
        Some(&aws_sdk_eks::types::CapacityTypes::Spot)
    );
    assert_eq!(group.instance_types(), ["m5.large", "m5a.large"]);
    assert_eq!(group.disk_size(), Some(50));
    let scaling = group.scaling_config().unwrap();
    assert_eq!(
        (
            scaling.min_size(),
            scaling.max_size(),
            scaling.desired_size()
        ),
        (Some(1), Some(4), Some(2))
    );
    assert_eq!(
        group.labels().unwrap().get("role").map(String::as_str),
        Some("general")
    );
    assert_eq!(group.taints()[0].key(), Some("dedicated"));
    assert_eq!(
        group.taints()[0].effect(),
        Some(&aws_sdk_eks::types::TaintEffect::NoSchedule)
    );
    assert_eq!(group.subnets().len(), 2, "the private subnets");
    let role = group
        .node_role()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(&role)
        .send()
        .await
        .unwrap();
    let mut policies: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    policies.sort();
    assert_eq!(
        policies,
        vec![
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
            "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
            "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        ]
    );
    assert_eq!(plan_exit_code(&emulator, &spec), 0);
    let first_name = group.nodegroup_name().unwrap().to_string();

    // Labels and the maximum change in place: the same group.
    let spec = write_spec(
        &dir,
        "ng.yaml",
        &node_group_spec("m5.large, m5a.large", "role: batch, team: data", 6),
    );
    apply(&emulator, &spec);
    let groups = node_groups(&aws).await;
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].nodegroup_name(), Some(first_name.as_str()));
    let labels = groups[0].labels().unwrap();
    assert_eq!(
        (
            labels.get("role").map(String::as_str),
            labels.get("team").map(String::as_str)
        ),
        (Some("batch"), Some("data"))
    );
    assert_eq!(groups[0].scaling_config().unwrap().max_size(), Some(6));
    assert_eq!(plan_exit_code(&emulator, &spec), 0);

    // New instance types: a new group under a new name, then the old one goes.
    let spec = write_spec(
        &dir,
        "ng.yaml",
        &node_group_spec("m6i.large", "role: batch, team: data", 6),
    );
    let plan = emulator.eksform().arg("plan").arg(&spec).output().unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains("created before the old one is deleted") && text.contains("DESTRUCTIVE"),
        "{text}"
    );
    // Replacing a node group is guarded: --auto-approve alone refuses, naming it.
    let refused = emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("node_group.spot-general") && stderr.contains("--allow-destroy"),
        "{stderr}"
    );
    assert_eq!(
        node_groups(&aws).await[0].nodegroup_name(),
        Some(first_name.as_str())
    );
    emulator
        .eksform()
        .args(["apply", "--auto-approve", "--allow-destroy"])
        .arg(&spec)
        .assert()
        .success();
    let groups = node_groups(&aws).await;
    assert_eq!(groups.len(), 1);
    assert_ne!(groups[0].nodegroup_name(), Some(first_name.as_str()));
    assert_eq!(groups[0].instance_types(), ["m6i.large"]);
    assert_eq!(plan_exit_code(&emulator, &spec), 0);

    destroy(&emulator, &spec);
    assert_no_clusters(&aws).await;
    assert!(
        aws.iam.get_role().role_name(&role).send().await.is_err(),
        "the node role is gone"
    );
}

fn fargate_spec(bot_labels: &str) -> String {
    format!(
        "stack: fg\nregion: {REGION}\nvpc:\n  cidr: 10.90.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Single\ncluster:\n  name: fg-eks\n  version: \"1.31\"\n  endpoints:\n    publicAccess: false\n    privateAccess: true\nfargateProfiles:\n  - name: bots\n    selectors:\n      - namespace: infra-bot\n        labels: {{ {bot_labels} }}\n  - name: system\n    selectors:\n      - namespace: kube-system\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn fargate_profiles_lifecycle() {
    let emulator = Emulator::start();
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "fg.yaml", &fargate_spec("app: bot"));
    apply(&emulator, &spec);
    let cluster = aws
        .eks
        .describe_cluster()
        .name("fg-eks")
        .send()
        .await
        .unwrap();
    let vpc = cluster
        .cluster()
        .unwrap()
        .resources_vpc_config()
        .unwrap()
        .clone();
    assert!(
        !vpc.endpoint_public_access() && vpc.endpoint_private_access(),
        "a private endpoint"
    );
    let profile = aws
        .eks
        .describe_fargate_profile()
        .cluster_name("fg-eks")
        .fargate_profile_name("bots")
        .send()
        .await
        .unwrap();
    let profile = profile.fargate_profile().unwrap();
    assert_eq!(profile.selectors()[0].namespace(), Some("infra-bot"));
    assert_eq!(
        profile.selectors()[0]
            .labels()
            .unwrap()
            .get("app")
            .map(String::as_str),
        Some("bot")
    );
    let mut subnets = profile.subnets().to_vec();
    subnets.sort();
    let mut private = vpc.subnet_ids().to_vec();
    private.sort();
    assert_eq!(subnets, private, "the private subnets");
    let role = profile
        .pod_execution_role_arn()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(&role)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some("arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy")
    );
    assert_eq!(plan_exit_code(&emulator, &spec), 0);

    // A selector change replaces that profile only.
    let spec = write_spec(&dir, "fg.yaml", &fargate_spec("app: bot, tier: batch"));
    let plan = emulator
        .eksform()
        .args(["plan", "--json"])
        .arg(&spec)
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(plan["summary"]["replace"], 1, "{plan}");
    apply(&emulator, &spec);
    let profile = aws
        .eks
        .describe_fargate_profile()
        .cluster_name("fg-eks")
        .fargate_profile_name("bots")
        .send()
        .await
        .unwrap();
    assert_eq!(
        profile.fargate_profile().unwrap().selectors()[0]
            .labels()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(plan_exit_code(&emulator, &spec), 0);

    destroy(&emulator, &spec);
    assert_no_clusters(&aws).await;
    assert!(
        aws.iam.get_role().role_name(&role).send().await.is_err(),
        "the pod execution role is gone"
    );
}

fn irsa_spec(inline_action: &str) -> String {
    format!(
        "stack: irsa\nregion: {REGION}\nvpc:\n  cidr: 10.91.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat: {{ gateway: Disable }}\ncluster:\n  name: irsa-eks\n  version: \"1.31\"\niam:\n  serviceAccounts:\n    - metadata: {{ namespace: kube-system, name: cluster-autoscaler }}\n      wellKnownPolicies: {{ autoScaler: true }}\n    - metadata: {{ namespace: kube-system, name: ebs-csi-controller-sa }}\n      wellKnownPolicies: {{ ebsCSIController: true }}\n    - metadata: {{ namespace: kube-system, name: aws-load-balancer-controller }}\n      wellKnownPolicies: {{ awsLoadBalancerController: true }}\n    - metadata: {{ namespace: external-secrets, name: external-secrets }}\n      attachPolicyARNs: [arn:aws:iam::aws:policy/SecretsManagerReadWrite]\n      attachPolicy:\n        Version: \"2012-10-17\"\n        Statement:\n          - {{ Effect: Allow, Action: [\"{inline_action}\"], Resource: \"*\" }}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn service_account_roles_trust_exactly_their_service_account() {
    let emulator = Emulator::start();
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "irsa.yaml", &irsa_spec("kms:Decrypt"));
    apply(&emulator, &spec);
    let outputs = emulator
        .eksform()
        .args(["outputs", "--json"])
        .arg(&spec)
        .output()
        .unwrap();
    let outputs: serde_json::Value = serde_json::from_slice(&outputs.stdout).unwrap();
    let roles = outputs["serviceAccountRoleARNs"]
        .as_object()
        .expect("role ARNs in outputs")
        .clone();
    assert_eq!(roles.len(), 4);
    let provider_arn = outputs["oidcProviderARN"].as_str().unwrap().to_string();
    let issuer_host = outputs["oidcIssuer"]
        .as_str()
        .unwrap()
        .trim_start_matches("https://")
        .to_string();

    let role_of = |key: &str| {
        roles[key]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string()
    };
    for (key, subject) in [
        (
            "kube-system/cluster-autoscaler",
            "system:serviceaccount:kube-system:cluster-autoscaler",
        ),
        (
            "external-secrets/external-secrets",
            "system:serviceaccount:external-secrets:external-secrets",
        ),
    ] {
        let role = aws
            .iam
            .get_role()
            .role_name(role_of(key))
            .send()
            .await
            .unwrap();
        let trust: serde_json::Value = serde_json::from_str(&eksform_core::kinds::IamRole::decode(
            role.role().unwrap().assume_role_policy_document().unwrap(),
        ))
        .unwrap();
        let statement = &trust["Statement"][0];
        assert_eq!(
            statement["Principal"]["Federated"],
            provider_arn.as_str(),
            "{key}"
        );
        assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
        let equals = &statement["Condition"]["StringEquals"];
        assert_eq!(
            equals[format!("{issuer_host}:sub")],
            subject,
            "{key}: {trust}"
        );
        assert_eq!(
            equals[format!("{issuer_host}:aud")],
            "sts.amazonaws.com",
            "{key}"
        );
        assert_eq!(
            equals.as_object().unwrap().len(),
            2,
            "no wider than one service account"
        );
    }
    let autoscaler = aws
        .iam
        .list_role_policies()
        .role_name(role_of("kube-system/cluster-autoscaler"))
        .send()
        .await
        .unwrap();
    assert_eq!(autoscaler.policy_names(), ["eksform-autoscaler"]);
    let controller = aws
        .iam
        .get_role_policy()
        .role_name(role_of("kube-system/aws-load-balancer-controller"))
        .policy_name("eksform-load-balancer-controller")
        .send()
        .await
        .unwrap();
    let controller = eksform_core::kinds::IamRole::decode(controller.policy_document());
    assert!(
        controller.contains("elasticloadbalancing:CreateLoadBalancer")
            && controller.contains("aws:RequestTag/elbv2.k8s.aws/cluster"),
        "{controller}"
    );
    let ebs = aws
        .iam
        .list_attached_role_policies()
        .role_name(role_of("kube-system/ebs-csi-controller-sa"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ebs.attached_policies()[0].policy_arn(),
        Some("arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy")
    );
    let secrets = role_of("external-secrets/external-secrets");
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(&secrets)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some("arn:aws:iam::aws:policy/SecretsManagerReadWrite")
    );
    let inline = aws
        .iam
        .get_role_policy()
        .role_name(&secrets)
        .policy_name("eksform-inline")
        .send()
        .await
        .unwrap();
    assert!(eksform_core::kinds::IamRole::decode(inline.policy_document()).contains("kms:Decrypt"));
    assert_eq!(
        plan_exit_code(&emulator, &spec),
        0,
        "policies compare by meaning, not by text"
    );

    // A changed inline policy is updated in place.
    let spec = write_spec(&dir, "irsa.yaml", &irsa_spec("kms:Encrypt"));
    let plan = emulator
        .eksform()
        .args(["plan", "--json"])
        .arg(&spec)
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(
        (
            plan["summary"]["update"].as_u64(),
            plan["summary"]["replace"].as_u64()
        ),
        (Some(1), Some(0)),
        "{plan}"
    );
    apply(&emulator, &spec);
    let inline = aws
        .iam
        .get_role_policy()
        .role_name(&secrets)
        .policy_name("eksform-inline")
        .send()
        .await
        .unwrap();
    assert!(eksform_core::kinds::IamRole::decode(inline.policy_document()).contains("kms:Encrypt"));
    assert_eq!(plan_exit_code(&emulator, &spec), 0);

    destroy(&emulator, &spec);
    for key in roles.keys() {
        assert!(
            aws.iam
                .get_role()
                .role_name(role_of(key))
                .send()
                .await
                .is_err(),
            "{key}'s role is gone"
        );
    }
}

/// The EKS layer's acceptance in one stack: cluster, spot node group, Fargate
/// profile, log retention and IRSA roles; in-place changes keep the cluster;
/// destroy leaves nothing with the stack's mark.
#[tokio::test(flavor = "multi_thread")]
async fn a_whole_eks_stack_applies_updates_in_place_and_destroys_cleanly() {
    let emulator = Emulator::start();
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec_text = |cidr: &str, retention: u32| {
        format!(
            "stack: all\nregion: {REGION}\nvpc:\n  cidr: 10.95.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat: {{ gateway: Single }}\ncluster:\n  name: all-eks\n  version: \"1.31\"\n  publicAccessCIDRs: [{cidr}]\n  logging:\n    enableTypes: [api]\n    logRetentionInDays: {retention}\niam:\n  serviceAccounts:\n    - metadata: {{ namespace: kube-system, name: external-dns }}\n      wellKnownPolicies: {{ externalDNS: true }}\nmanagedNodeGroups:\n  - name: spot\n    spot: true\n    instanceTypes: [m5.large]\n    minSize: 1\n    maxSize: 3\n    labels: {{ lifecycle: spot }}\nfargateProfiles:\n  - name: bots\n    selectors:\n      - namespace: infra-bot\n"
        )
    };
    let spec = write_spec(&dir, "all.yaml", &spec_text("198.51.100.7", 30));
    apply(&emulator, &spec);
    let before = aws
        .eks
        .describe_cluster()
        .name("all-eks")
        .send()
        .await
        .unwrap()
        .cluster()
        .unwrap()
        .clone();
    assert_eq!(
        before.resources_vpc_config().unwrap().public_access_cidrs(),
        ["198.51.100.7/32"]
    );
    let groups = aws
        .eks
        .list_nodegroups()
        .cluster_name("all-eks")
        .send()
        .await
        .unwrap();
    let group = aws
        .eks
        .describe_nodegroup()
        .cluster_name("all-eks")
        .nodegroup_name(&groups.nodegroups()[0])
        .send()
        .await
        .unwrap();
    assert_eq!(
        group.nodegroup().unwrap().capacity_type(),
        Some(&aws_sdk_eks::types::CapacityTypes::Spot)
    );
    assert_eq!(
        group
            .nodegroup()
            .unwrap()
            .labels()
            .unwrap()
            .get("lifecycle")
            .map(String::as_str),
        Some("spot")
    );
    let profiles = aws
        .eks
        .list_fargate_profiles()
        .cluster_name("all-eks")
        .send()
        .await
        .unwrap();
    assert_eq!(profiles.fargate_profile_names(), ["bots"]);
    let logs = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/eks/all-eks/cluster")
        .send()
        .await
        .unwrap();
    assert_eq!(logs.log_groups()[0].retention_in_days(), Some(30));
    let providers = aws
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .unwrap();
    assert_eq!(
        providers.open_id_connect_provider_list().len(),
        1,
        "the OIDC provider the IRSA role needs"
    );
    let roles = aws
        .iam
        .list_roles()
        .path_prefix("/eksform/us-east-1/all/")
        .send()
        .await
        .unwrap();
    assert_eq!(
        roles.roles().len(),
        4,
        "cluster, node, Fargate and one service account role"
    );
    assert_eq!(plan_exit_code(&emulator, &spec), 0);

    let spec = write_spec(&dir, "all.yaml", &spec_text("203.0.113.9", 90));
    let plan = emulator
        .eksform()
        .args(["plan", "--json"])
        .arg(&spec)
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(
        (
            plan["summary"]["update"].as_u64(),
            plan["summary"]["replace"].as_u64(),
            plan["summary"]["create"].as_u64(),
            plan["summary"]["delete"].as_u64()
        ),
        (Some(2), Some(0), Some(0), Some(0)),
        "only updates in place: {plan}"
    );
    apply(&emulator, &spec);
    let after = aws
        .eks
        .describe_cluster()
        .name("all-eks")
        .send()
        .await
        .unwrap()
        .cluster()
        .unwrap()
        .clone();
    assert_eq!(
        (after.arn(), after.created_at()),
        (before.arn(), before.created_at()),
        "the same cluster"
    );
    let mut subnets_before = before.resources_vpc_config().unwrap().subnet_ids().to_vec();
    let mut subnets_after = after.resources_vpc_config().unwrap().subnet_ids().to_vec();
    subnets_before.sort();
    subnets_after.sort();
    assert_eq!(subnets_after, subnets_before, "its subnets intact");
    assert_eq!(plan_exit_code(&emulator, &spec), 0);

    destroy(&emulator, &spec);
    assert_no_clusters(&aws).await;
    assert!(
        aws.iam
            .list_roles()
            .path_prefix("/eksform/us-east-1/all/")
            .send()
            .await
            .unwrap()
            .roles()
            .is_empty(),
        "roles gone"
    );
    assert!(
        aws.iam
            .list_open_id_connect_providers()
            .send()
            .await
            .unwrap()
            .open_id_connect_provider_list()
            .is_empty()
    );
    let logs = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/eks/all-eks/")
        .send()
        .await
        .unwrap();
    assert!(logs.log_groups().is_empty(), "log group gone");
    assert!(
        aws.ec2
            .describe_vpcs()
            .filters(stack_filter("all"))
            .send()
            .await
            .unwrap()
            .vpcs()
            .is_empty()
    );
}

/// The load balancer's listener on `port`.
async fn listener_on(
    aws: &AwsClients,
    load_balancer_arn: &str,
    port: i32,
) -> aws_sdk_elasticloadbalancingv2::types::Listener {
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(load_balancer_arn)
        .send()
        .await
        .unwrap();
    listeners
        .listeners()
        .iter()
        .find(|l| l.port() == Some(port))
        .cloned()
        .unwrap_or_else(|| panic!("a listener on {port}"))
}

fn edge_spec(extra_record: &str) -> String {
    format!(
        r#"stack: edge
region: {REGION}
vpc:
  cidr: 10.60.0.0/16
  availabilityZones: [us-east-1a, us-east-1b]
  nat: {{ gateway: Disable }}
loadBalancers:
  - name: web
    scheme: internet-facing
    idleTimeoutSeconds: 300
    ingressCIDRs: [0.0.0.0/0]
    certificate: {{ domain: "*.dev.example.com" }}
    httpsRedirect: true
    targetGroups:
      - name: nginx
        port: 80
        targetType: ip
        healthCheckPath: /nginx-health
    defaultTargetGroup: nginx
dns:
  zone: dev.example.com
  records:
    - name: "*.dev.example.com"
      alias: {{ loadBalancer: web }}
    - name: status.dev.example.com
      type: CNAME
      ttl: 300
      values: [status.example.net]
{extra_record}"#
    )
}

async fn zone_records(
    aws: &AwsClients,
    zone: &str,
) -> Vec<aws_sdk_route53::types::ResourceRecordSet> {
    aws.route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap()
        .resource_record_sets()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alb_with_https_certificate_and_dns_in_an_adopted_zone() {
    use aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum;
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
    };
    let emulator = Emulator::start();
    let aws = emulator.clients(REGION).await;
    // Someone else's zone, with someone else's record in it.
    let zone = aws
        .route53
        .create_hosted_zone()
        .name("dev.example.com")
        .caller_reference("made-by-hand")
        .send()
        .await
        .unwrap();
    let zone_id = zone
        .hosted_zone()
        .unwrap()
        .id()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let foreign = ResourceRecordSet::builder()
        .name("legacy.dev.example.com")
        .r#type(RrType::A)
        .ttl(60)
        .resource_records(
            ResourceRecord::builder()
                .value("192.0.2.1")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Create)
                        .resource_record_set(foreign)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "edge.yaml", &edge_spec(""));
    let plan = emulator
        .eksform()
        .args(["plan"])
        .arg(&spec)
        .output()
        .unwrap();
    let plan_text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        plan_text.contains("eksform did not make: used as it is"),
        "{plan_text}"
    );
    apply(&emulator, &spec);

    // The load balancer, its attribute, listeners, certificate and target group.
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    assert_eq!(balancers.load_balancers().len(), 1);
    let balancer = &balancers.load_balancers()[0];
    let lb_arn = balancer.load_balancer_arn().unwrap();
    assert_eq!(balancer.availability_zones().len(), 2, "the public subnets");
    let attributes = aws
        .elb
        .describe_load_balancer_attributes()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .unwrap();
    assert!(
        attributes
            .attributes()
            .iter()
            .any(|a| a.key() == Some("idle_timeout.timeout_seconds") && a.value() == Some("300"))
    );
    let groups = aws.elb.describe_target_groups().send().await.unwrap();
    assert_eq!(groups.target_groups().len(), 1);
    let group = &groups.target_groups()[0];
    assert_eq!(group.port(), Some(80));
    assert_eq!(group.target_type().map(|t| t.as_str()), Some("ip"));
    assert_eq!(group.health_check_path(), Some("/nginx-health"));
    let http = listener_on(&aws, lb_arn, 80).await.default_actions()[0].clone();
    assert_eq!(http.r#type(), Some(&ActionTypeEnum::Redirect));
    let redirect = http.redirect_config().unwrap();
    assert_eq!(
        (redirect.protocol(), redirect.port()),
        (Some("HTTPS"), Some("443"))
    );
    assert_eq!(redirect.status_code().map(|c| c.as_str()), Some("HTTP_301"));
    let https = listener_on(&aws, lb_arn, 443).await;
    assert_eq!(
        https.default_actions()[0].target_group_arn(),
        group.target_group_arn()
    );
    assert_eq!(https.ssl_policy(), Some(eksform_core::kinds::TLS_POLICY));
    let certificate_arn = https.certificates()[0].certificate_arn().unwrap();
    let certificate = aws
        .acm
        .describe_certificate()
        .certificate_arn(certificate_arn)
        .send()
        .await
        .unwrap();
    let certificate = certificate.certificate().unwrap();
    assert_eq!(certificate.domain_name(), Some("*.dev.example.com"));
    assert_eq!(certificate.status().map(|s| s.as_str()), Some("ISSUED"));

    // The zone was adopted, not duplicated; the alias points at the ALB.
    let zones = aws.route53.list_hosted_zones().send().await.unwrap();
    assert_eq!(zones.hosted_zones().len(), 1, "the zone is not duplicated");
    let records = zone_records(&aws, &zone_id).await;
    let named = |name: &str, kind: RrType| {
        records
            .iter()
            .find(|r| r.name().replace("\\052", "*") == name && r.r#type() == &kind)
            .cloned()
    };
    let alias = named("*.dev.example.com.", RrType::A).expect("the wildcard alias record");
    let target = alias.alias_target().unwrap();
    assert_eq!(
        target.dns_name().trim_end_matches('.'),
        balancer.dns_name().unwrap()
    );
    assert_eq!(
        target.hosted_zone_id(),
        balancer.canonical_hosted_zone_id().unwrap()
    );
    let cname = named("status.dev.example.com.", RrType::Cname).expect("the CNAME record");
    assert_eq!(
        cname.resource_records()[0].value().trim_end_matches('.'),
        "status.example.net"
    );
    let validation = certificate.domain_validation_options()[0]
        .resource_record()
        .unwrap();
    assert!(
        named(validation.name(), RrType::Cname).is_some(),
        "the validation record is in the zone"
    );
    let companion = named("_eksform-a._wildcard.dev.example.com.", RrType::Txt)
        .expect("the ownership companion");
    assert!(
        companion.resource_records()[0]
            .value()
            .contains("eksform:stack=edge")
    );
    assert!(named("legacy.dev.example.com.", RrType::A).is_some());

    let outputs = emulator
        .eksform()
        .args(["outputs", "--json"])
        .arg(&spec)
        .output()
        .unwrap();
    let outputs: serde_json::Value = serde_json::from_slice(&outputs.stdout).unwrap();
    assert_eq!(
        outputs["loadBalancerDNSNames"]["web"],
        balancer.dns_name().unwrap()
    );
    assert_eq!(
        outputs["targetGroupARNs"]["web/nginx"],
        group.target_group_arn().unwrap()
    );
    assert_eq!(outputs["hostedZoneId"], zone_id.as_str());
    let replan = emulator
        .eksform()
        .args(["plan", "--detailed-exitcode"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(
        replan.status.code(),
        Some(0),
        "re-plan has no changes:\n{}",
        String::from_utf8_lossy(&replan.stdout)
    );

    // A new port replaces the target group create-before-destroy: the HTTPS
    // listener moves to the new group, the old one goes.
    let moved = write_spec(
        &dir,
        "edge.yaml",
        &edge_spec("").replace("port: 80", "port: 8080"),
    );
    apply(&emulator, &moved);
    let groups = aws.elb.describe_target_groups().send().await.unwrap();
    assert_eq!(groups.target_groups().len(), 1, "the old group is gone");
    let new_group = &groups.target_groups()[0];
    assert_eq!(new_group.port(), Some(8080));
    assert_ne!(new_group.target_group_name(), group.target_group_name());
    let https = listener_on(&aws, lb_arn, 443).await;
    assert_eq!(
        https.default_actions()[0].target_group_arn(),
        new_group.target_group_arn()
    );
    assert_eq!(plan_exit_code(&emulator, &moved), 0);

    // Idle timeout, health check, the port-80 action and who may connect all
    // change in place: the same load balancer and target group, changed.
    let changed = write_spec(
        &dir,
        "edge.yaml",
        &edge_spec("")
            .replace("port: 80", "port: 8080")
            .replace("idleTimeoutSeconds: 300", "idleTimeoutSeconds: 120")
            .replace(
                "healthCheckPath: /nginx-health",
                "healthCheckPath: /healthz",
            )
            .replace("httpsRedirect: true", "httpsRedirect: false")
            .replace(
                "ingressCIDRs: [0.0.0.0/0]",
                "ingressCIDRs: [198.51.100.0/24]",
            ),
    );
    let plan = emulator
        .eksform()
        .args(["plan", "--json"])
        .arg(&changed)
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let actions: Vec<&str> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .filter(|a| *a != "no_op")
        .collect();
    assert!(
        !actions.is_empty() && actions.iter().all(|a| *a == "update"),
        "in place only: {actions:?}"
    );
    apply(&emulator, &changed);
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    assert_eq!(balancers.load_balancers().len(), 1);
    let balancer = &balancers.load_balancers()[0];
    assert_eq!(balancer.load_balancer_arn(), Some(lb_arn), "the same ALB");
    let attributes = aws
        .elb
        .describe_load_balancer_attributes()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .unwrap();
    let idle = attributes
        .attributes()
        .iter()
        .find(|a| a.key() == Some("idle_timeout.timeout_seconds"))
        .and_then(|a| a.value());
    assert_eq!(idle, Some("120"));
    let groups = aws.elb.describe_target_groups().send().await.unwrap();
    assert_eq!(groups.target_groups().len(), 1);
    assert_eq!(
        groups.target_groups()[0].target_group_arn(),
        new_group.target_group_arn(),
        "the same target group"
    );
    assert_eq!(
        groups.target_groups()[0].health_check_path(),
        Some("/healthz")
    );
    let http = listener_on(&aws, lb_arn, 80).await;
    assert_eq!(
        http.default_actions()[0].r#type(),
        Some(&aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward),
        "port 80 forwards once the redirect is off"
    );
    let security_group = balancer.security_groups()[0].clone();
    let groups = aws
        .ec2
        .describe_security_groups()
        .group_ids(&security_group)
        .send()
        .await
        .unwrap();
    let ingress: Vec<(i32, String)> = groups.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            p.ip_ranges().iter().map(move |r| {
                (
                    p.from_port().unwrap_or_default(),
                    r.cidr_ip().unwrap_or_default().to_string(),
                )
            })
        })
        .collect();
    assert!(
        ingress.contains(&(80, "198.51.100.0/24".into()))
            && ingress.contains(&(443, "198.51.100.0/24".into()))
            && !ingress.iter().any(|(_, cidr)| cidr == "0.0.0.0/0"),
        "{ingress:?}"
    );
    assert_eq!(plan_exit_code(&emulator, &changed), 0);

    // A record in the way that eksform does not own is a plan error, never overwritten.
    let clash = write_spec(
        &dir,
        "clash.yaml",
        &edge_spec(
            "    - name: legacy.dev.example.com\n      type: A\n      values: [192.0.2.99]\n",
        ),
    );
    let output = emulator.eksform().arg("plan").arg(&clash).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("carries no eksform mark"));

    destroy(&emulator, &spec);
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    assert!(balancers.load_balancers().is_empty(), "the ALB is gone");
    assert!(
        aws.elb
            .describe_target_groups()
            .send()
            .await
            .unwrap()
            .target_groups()
            .is_empty()
    );
    let left: Vec<String> = zone_records(&aws, &zone_id)
        .await
        .iter()
        .filter(|r| !matches!(r.r#type(), RrType::Ns | RrType::Soa))
        .map(|r| r.name().to_string())
        .collect();
    assert_eq!(
        left,
        vec!["legacy.dev.example.com."],
        "only the foreign record is left"
    );
    let zones = aws.route53.list_hosted_zones().send().await.unwrap();
    assert_eq!(zones.hosted_zones().len(), 1, "the adopted zone stays");
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_removes_what_the_load_balancer_controller_left_in_the_vpc() {
    let emulator = Emulator::start();
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "left.yaml", &cluster_spec("left", "198.51.100.7", 7));
    apply(&emulator, &spec);

    // What the AWS Load Balancer Controller makes for an Ingress: a security
    // group, an ALB in the public subnets and a target group, tagged with the cluster.
    let vpc = aws
        .ec2
        .describe_vpcs()
        .filters(stack_filter("left"))
        .send()
        .await
        .unwrap()
        .vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    let public: Vec<String> = aws
        .ec2
        .describe_subnets()
        .filters(stack_filter("left"))
        .send()
        .await
        .unwrap()
        .subnets()
        .iter()
        .filter(|s| s.map_public_ip_on_launch() == Some(true))
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect();
    let cluster_tag = |builder: aws_sdk_ec2::types::builders::TagSpecificationBuilder| {
        builder
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key("elbv2.k8s.aws/cluster")
                    .value("left-eks")
                    .build(),
            )
            .build()
    };
    let group = aws
        .ec2
        .create_security_group()
        .group_name("k8s-default-web-1a2b3c")
        .description("[k8s] Managed SecurityGroup for LoadBalancer")
        .vpc_id(&vpc)
        .tag_specifications(cluster_tag(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup),
        ))
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    let elb_tag = aws_sdk_elasticloadbalancingv2::types::Tag::builder()
        .key("elbv2.k8s.aws/cluster")
        .value("left-eks")
        .build();
    // A Service of type LoadBalancer (the in-tree provider) tags its group
    // `kubernetes.io/cluster/<cluster>=owned` instead.
    let legacy_group = aws
        .ec2
        .create_security_group()
        .group_name("k8s-elb-a1b2c3")
        .description("Security group for Kubernetes ELB")
        .vpc_id(&vpc)
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key("kubernetes.io/cluster/left-eks")
                        .value("owned")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    let balancer = aws
        .elb
        .create_load_balancer()
        .name("k8s-default-web-1a2b3c")
        .set_subnets(Some(public))
        .security_groups(&group)
        .tags(elb_tag.clone())
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let target_group = aws
        .elb
        .create_target_group()
        .name("k8s-default-web-4d5e6f")
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .vpc_id(&vpc)
        .target_type(aws_sdk_elasticloadbalancingv2::types::TargetTypeEnum::Ip)
        .tags(elb_tag)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    // The Ingress's listener forwards to the target group: AWS refuses to
    // delete the target group while it stands (ResourceInUse).
    aws.elb
        .create_listener()
        .load_balancer_arn(&balancer)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .default_actions(
            aws_sdk_elasticloadbalancingv2::types::Action::builder()
                .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
                .target_group_arn(&target_group)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let output = emulator
        .eksform()
        .args(["destroy", "--auto-approve"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan = String::from_utf8_lossy(&output.stdout);
    for leftover in [
        "controller_leftover.load_balancer.k8s-default-web-1a2b3c",
        "controller_leftover.target_group.k8s-default-web-4d5e6f",
        &format!("controller_leftover.security_group.{group}"),
        &format!("controller_leftover.security_group.{legacy_group}"),
    ] {
        assert!(
            plan.contains(&format!("- {leftover}")),
            "{leftover} in:\n{plan}"
        );
    }
    // After the cluster (whose controller would make them again), before the
    // subnets (which AWS will not delete under a load balancer).
    let progress = String::from_utf8_lossy(&output.stderr);
    let at = |needle: &str| {
        progress
            .find(needle)
            .unwrap_or_else(|| panic!("`{needle}` in:\n{progress}"))
    };
    let balancer_gone = at("controller_leftover.load_balancer.k8s-default-web-1a2b3c: deleted");
    assert!(
        at("eks_cluster.main: deleted")
            < at("controller_leftover.load_balancer.k8s-default-web-1a2b3c: deleting")
    );
    assert!(balancer_gone < at("subnet.public.us-east-1a: deleting"));
    assert!(
        balancer_gone < at("controller_leftover.target_group.k8s-default-web-4d5e6f: deleting"),
        "the load balancer (and its listener) goes before the target group it forwards to"
    );
    assert!(
        aws.elb
            .describe_load_balancers()
            .send()
            .await
            .unwrap()
            .load_balancers()
            .is_empty()
    );
    assert!(
        aws.elb
            .describe_target_groups()
            .send()
            .await
            .unwrap()
            .target_groups()
            .is_empty()
    );
    for group in [&group, &legacy_group] {
        assert!(
            aws.ec2
                .describe_security_groups()
                .group_ids(group)
                .send()
                .await
                .is_err(),
            "{group} is gone"
        );
    }
    assert!(
        aws.ec2
            .describe_vpcs()
            .filters(stack_filter("left"))
            .send()
            .await
            .unwrap()
            .vpcs()
            .is_empty(),
        "the VPC is gone"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_approve_alone_refuses_to_replace_the_cluster_and_leaves_it_untouched() {
    let emulator = Emulator::start();
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "guard.yaml",
        &cluster_spec("guard", "198.51.100.7", 7),
    );
    apply(&emulator, &spec);
    let before = aws
        .eks
        .describe_cluster()
        .name("guard-eks")
        .send()
        .await
        .unwrap()
        .cluster()
        .unwrap()
        .clone();

    // A new cluster name cannot be changed in place: the cluster is replaced.
    let renamed = write_spec(
        &dir,
        "guard-renamed.yaml",
        &cluster_spec("guard", "198.51.100.7", 7).replace("name: guard-eks", "name: guard-eks2"),
    );
    let refused = emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&renamed)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&refused.stdout);
    assert!(
        stdout.contains("eks_cluster.main"),
        "the plan shows it:\n{stdout}"
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("eks_cluster.main")
            && stderr.contains("refusing to delete or replace")
            && stderr.contains("--allow-destroy"),
        "{stderr}"
    );

    let clusters = aws.eks.list_clusters().send().await.unwrap();
    assert_eq!(
        clusters.clusters(),
        ["guard-eks"],
        "no cluster made or deleted"
    );
    let after = aws
        .eks
        .describe_cluster()
        .name("guard-eks")
        .send()
        .await
        .unwrap()
        .cluster()
        .unwrap()
        .clone();
    assert_eq!(after.arn(), before.arn());
    assert_eq!(after.created_at(), before.created_at());
    assert_eq!(after.status(), before.status());
    destroy(&emulator, &spec);
    assert_no_clusters(&aws).await;
}
