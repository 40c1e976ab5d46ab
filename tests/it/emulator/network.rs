//! The network against the emulator: the NAT-mode lifecycle (Single ->
//! HighlyAvailable -> Single -> Disable -> destroy), a brought VPC, brought
//! Elastic IPs.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, NatGatewayState};
use eksform_aws::AwsClients;
use eksform_testkit::assertions::{assert_nothing_marked, marked_by};
use eksform_testkit::emulator::{
    Emulator, apply, apply_allowing_destroy, destroy, plan_exit_code, write_spec,
};

use super::{REGION, ZONES, network_spec, tags};
use crate::EKSFORM;

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
        .filters(marked_by(stack))
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
        .filters(marked_by(stack))
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
        .filters(marked_by(stack))
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
        .filters(marked_by(stack))
        .send()
        .await
        .unwrap();

    let tables = aws
        .ec2
        .describe_route_tables()
        .filters(marked_by(stack))
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

#[tokio::test(flavor = "multi_thread")]
async fn network_lifecycle_through_every_nat_mode() {
    let emulator = Emulator::start(EKSFORM);
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
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let plan = &document["stacks"][0];
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
    assert_nothing_marked(&aws, stack).await;
    assert_eq!(
        plan_exit_code(&emulator, &spec),
        2,
        "after destroy the stack would be created again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_brought_vpc_only_gets_its_subnets_tagged() {
    let emulator = Emulator::start(EKSFORM);
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
    // Its subnets carry their team's name and the tag of the other team's
    // cluster already running in them.
    let theirs = [
        ("Name", "their-subnet"),
        ("kubernetes.io/cluster/their-eks", "shared"),
    ];
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
            .tag_specifications(
                theirs
                    .iter()
                    .fold(
                        aws_sdk_ec2::types::TagSpecification::builder()
                            .resource_type(aws_sdk_ec2::types::ResourceType::Subnet),
                        |spec, (k, v)| {
                            spec.tags(aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build())
                        },
                    )
                    .build(),
            )
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
    // The plan shows the tags apply adds, and none of the subnets' own as
    // removed: apply only adds.
    let plan = emulator.eksform().arg("plan").arg(&spec).output().unwrap();
    let shown = String::from_utf8_lossy(&plan.stdout);
    assert!(
        shown.contains("kubernetes.io/role/elb")
            && shown.contains("kubernetes.io/role/internal-elb"),
        "{shown}"
    );
    assert!(
        !shown.contains("their-subnet") && !shown.contains("their-eks"),
        "the subnets' other tags are no change:\n{shown}"
    );
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
        for (key, value) in theirs {
            assert_eq!(tags.get(key).map(String::as_str), Some(value), "kept");
        }
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
    let emulator = Emulator::start(EKSFORM);
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

/// Another stack's cluster runs in eksform's subnets (its `vpc.id` from this
/// stack's outputs) and tags them. A change of the stack's own tags shows
/// and sets only those: the plan never shows the other cluster's tag as
/// removed, and apply keeps it.
#[tokio::test(flavor = "multi_thread")]
async fn another_clusters_tag_on_eksforms_subnet_is_neither_shown_removed_nor_removed() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "tagged.yaml", &network_spec("tagged", "Disable"));
    apply(&emulator, &spec);
    let subnet = aws
        .ec2
        .describe_subnets()
        .filters(marked_by("tagged"))
        .send()
        .await
        .unwrap()
        .subnets()[0]
        .subnet_id()
        .unwrap()
        .to_string();
    aws.ec2
        .create_tags()
        .resources(&subnet)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("kubernetes.io/cluster/their-eks")
                .value("shared")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(plan_exit_code(&emulator, &spec), 0, "no change");

    let retagged = network_spec("tagged", "Disable").replace("team: platform", "team: web");
    let spec = write_spec(&dir, "tagged.yaml", &retagged);
    let plan = emulator.eksform().arg("plan").arg(&spec).output().unwrap();
    let shown = String::from_utf8_lossy(&plan.stdout);
    assert!(shown.contains("\"web\""), "{shown}");
    assert!(
        !shown.contains("their-eks"),
        "the other cluster's tag is no change:\n{shown}"
    );
    apply(&emulator, &spec);
    let described = aws
        .ec2
        .describe_subnets()
        .subnet_ids(&subnet)
        .send()
        .await
        .unwrap();
    let kept = tags(described.subnets()[0].tags());
    assert_eq!(kept.get("team").map(String::as_str), Some("web"));
    assert_eq!(
        kept.get("kubernetes.io/cluster/their-eks")
            .map(String::as_str),
        Some("shared")
    );
    assert_eq!(plan_exit_code(&emulator, &spec), 0);
    destroy(&emulator, &spec);
}
