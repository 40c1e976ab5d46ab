//! Emulator tests in a crowded account: other teams' VPCs, load balancers,
//! security groups, a log group made before eksform, the same stack in
//! another region. Each builds that account first, then runs the `eksform`
//! binary as a user would and checks with the AWS SDK that nothing foreign
//! was touched.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use aws_sdk_elasticloadbalancingv2::types::Tag as ElbTag;
use eksform_aws::{Adapter, AwsClients};
use eksform_testkit::assertions::{assert_nothing_marked, marked_by};
use eksform_testkit::emulator::{
    Emulator, apply, apply_allowing_destroy, destroy, plan_exit_code, refused, write_spec,
};

use crate::EKSFORM;

const REGION: &str = "us-east-1";

fn cluster_spec(stack: &str, region: &str, zones: &[&str], retention: u32) -> String {
    format!(
        "stack: {stack}\nregion: {region}\nvpc:\n  cidr: 10.30.0.0/16\n  availabilityZones: [{}]\n  nat:\n    gateway: Single\ncluster:\n  name: {stack}-eks\n  version: \"1.31\"\n  logging:\n    enableTypes: [api, audit]\n    logRetentionInDays: {retention}\niam:\n  withOIDC: true\n  serviceAccounts:\n    - metadata: {{ namespace: kube-system, name: external-dns }}\n      wellKnownPolicies: {{ externalDNS: true }}\nmanagedNodeGroups:\n  - name: general\n    instanceTypes: [m5.large]\n    minSize: 1\n    maxSize: 3\n    desiredCapacity: 1\n",
        zones.join(", ")
    )
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

/// Another team's VPC with two subnets: returns (vpc, subnets).
async fn other_vpc(aws: &AwsClients, cidr: &str, zones: [&str; 2]) -> (String, Vec<String>) {
    let vpc = aws
        .ec2
        .create_vpc()
        .cidr_block(cidr)
        .tag_specifications(ec2_tags(&[("team", "payments")], ResourceType::Vpc))
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let net: ipnet::Ipv4Net = cidr.parse().unwrap();
    let mut subnets = Vec::new();
    for (zone, block) in zones.iter().zip(net.subnets(net.prefix_len() + 2).unwrap()) {
        subnets.push(
            aws.ec2
                .create_subnet()
                .vpc_id(&vpc)
                .cidr_block(block.to_string())
                .availability_zone(*zone)
                .send()
                .await
                .unwrap()
                .subnet()
                .unwrap()
                .subnet_id()
                .unwrap()
                .to_string(),
        );
    }
    (vpc, subnets)
}

async fn load_balancer(
    aws: &AwsClients,
    name: &str,
    subnets: &[String],
    tags: &[(&str, &str)],
) -> String {
    aws.elb
        .create_load_balancer()
        .name(name)
        .set_subnets(Some(subnets.to_vec()))
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| ElbTag::builder().key(*k).value(*v).build())
                .collect(),
        ))
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string()
}

async fn load_balancer_arns(aws: &AwsClients) -> Vec<String> {
    aws.elb
        .describe_load_balancers()
        .send()
        .await
        .unwrap()
        .load_balancers()
        .iter()
        .filter_map(|b| b.load_balancer_arn().map(str::to_string))
        .collect()
}

async fn log_group(
    aws: &AwsClients,
    name: &str,
) -> Option<(Option<i32>, BTreeMap<String, String>)> {
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .unwrap();
    let group = groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))?;
    let arn = group.arn().unwrap().trim_end_matches(":*").to_string();
    let tags = aws
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap()
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    Some((group.retention_in_days(), tags))
}

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crowded_account_keeps_everything_that_is_not_the_stacks() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let cluster = "crowd-eks";

    // Another team runs a cluster of the same name in its own VPC: its load
    // balancers carry both controllers' tags for that name, and so does its
    // security group.
    let (foreign_vpc, foreign_subnets) =
        other_vpc(&aws, "10.99.0.0/16", ["us-east-1a", "us-east-1b"]).await;
    let owned = format!("kubernetes.io/cluster/{cluster}");
    let foreign_alb = load_balancer(
        &aws,
        "k8s-payments-web-0a1b2c",
        &foreign_subnets,
        &[
            ("elbv2.k8s.aws/cluster", cluster),
            ("service.k8s.aws/stack", "payments/web"),
        ],
    )
    .await;
    let foreign_legacy = load_balancer(
        &aws,
        "a1b2c3d4e5f6-legacy",
        &foreign_subnets,
        &[(owned.as_str(), "owned"), ("team", cluster)],
    )
    .await;
    let foreign_group = aws
        .ec2
        .create_security_group()
        .group_name("k8s-elb-foreign")
        .description("Security group for Kubernetes ELB")
        .vpc_id(&foreign_vpc)
        .tag_specifications(ec2_tags(
            &[(owned.as_str(), "owned")],
            ResourceType::SecurityGroup,
        ))
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    // EKS made the control-plane log group before eksform (audit logs kept a year).
    let log_name = format!("/aws/eks/{cluster}/cluster");
    aws.logs
        .create_log_group()
        .log_group_name(&log_name)
        .send()
        .await
        .unwrap();
    aws.logs
        .put_retention_policy()
        .log_group_name(&log_name)
        .retention_in_days(365)
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "crowd.yaml",
        &cluster_spec("crowd", REGION, &["us-east-1a", "us-east-1b"], 30),
    );
    let plan = emulator.eksform().arg("plan").arg(&spec).output().unwrap();
    let text = stdout_of(&plan);
    assert!(
        text.contains("<= log_group.cluster") && text.contains("will be adopted"),
        "the plan shows the adoption: {text}"
    );
    assert!(
        text.contains("WARNING: retention cut from 365 to 30 days"),
        "the retention cut is a warning: {text}"
    );
    assert!(text.contains("1 to adopt"), "{text}");
    apply(&emulator, &spec);
    assert_eq!(plan_exit_code(&emulator, &spec), 0, "re-plan after apply");

    // A real leftover: an ALB the controller made in the stack's own public subnets.
    let public: Vec<String> = aws
        .ec2
        .describe_subnets()
        .filters(marked_by("crowd"))
        .send()
        .await
        .unwrap()
        .subnets()
        .iter()
        .filter(|s| s.map_public_ip_on_launch() == Some(true))
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect();
    assert_eq!(public.len(), 2);
    let leftover = load_balancer(
        &aws,
        "k8s-default-web-9z8y7x",
        &public,
        &[("elbv2.k8s.aws/cluster", cluster)],
    )
    .await;

    let destroy_plan = emulator
        .eksform()
        .args(["destroy", "--auto-approve"])
        .arg(&spec)
        .output()
        .unwrap();
    let text = stdout_of(&destroy_plan);
    assert!(
        destroy_plan.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&destroy_plan.stderr)
    );
    assert!(
        text.contains(&format!("tag elbv2.k8s.aws/cluster={cluster}")),
        "the plan names the tag that matched: {text}"
    );
    assert!(
        text.contains("=> log_group.cluster"),
        "the log group is released: {text}"
    );

    let left = load_balancer_arns(&aws).await;
    assert!(
        !left.contains(&leftover),
        "the stack's leftover ALB is deleted"
    );
    assert!(left.contains(&foreign_alb), "the other VPC's ALB survives");
    assert!(
        left.contains(&foreign_legacy),
        "the other VPC's legacy ELB survives"
    );
    let groups = aws
        .ec2
        .describe_security_groups()
        .group_ids(&foreign_group)
        .send()
        .await
        .unwrap();
    assert_eq!(
        groups.security_groups().len(),
        1,
        "the other VPC's group survives"
    );
    let vpcs = aws
        .ec2
        .describe_vpcs()
        .vpc_ids(&foreign_vpc)
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1, "the other VPC survives");
    let (retention, tags) = log_group(&aws, &log_name)
        .await
        .expect("the adopted log group survives destroy");
    assert_eq!(retention, Some(30), "it keeps what apply set");
    assert!(
        tags.keys().all(|k| !k.starts_with("eksform:")),
        "released: no eksform mark left: {tags:?}"
    );
    assert_nothing_marked(&aws, "crowd").await;
}

async fn roles_of(aws: &AwsClients, region: &str, stack: &str) -> Vec<(String, String)> {
    let roles = aws
        .iam
        .list_roles()
        .path_prefix(format!("/eksform/{region}/{stack}/"))
        .send()
        .await
        .unwrap();
    roles
        .roles()
        .iter()
        .map(|r| {
            (
                r.role_name().to_string(),
                eksform_core::kinds::IamRole::decode(
                    r.assume_role_policy_document().unwrap_or_default(),
                ),
            )
        })
        .collect()
}

/// A cluster as EKS describes it.
async fn cluster(aws: &AwsClients, name: &str) -> aws_sdk_eks::types::Cluster {
    aws.eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .unwrap()
        .cluster()
        .cloned()
        .unwrap_or_else(|| panic!("cluster {name}"))
}

/// The account's OIDC providers (IAM: the same from every region).
async fn oidc_provider_arns(aws: &AwsClients) -> Vec<String> {
    aws.iam
        .list_open_id_connect_providers()
        .send()
        .await
        .unwrap()
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_stack_name_in_two_regions_keeps_two_separate_sets_of_iam() {
    let emulator = Emulator::start(EKSFORM);
    let east = emulator.clients("us-east-1").await;
    let west = emulator.clients("eu-west-1").await;
    let dir = tempfile::tempdir().unwrap();
    let east_spec = write_spec(
        &dir,
        "east.yaml",
        &cluster_spec("twin", "us-east-1", &["us-east-1a", "us-east-1b"], 7),
    );
    let west_spec = write_spec(
        &dir,
        "west.yaml",
        &cluster_spec("twin", "eu-west-1", &["eu-west-1a", "eu-west-1b"], 7),
    );
    apply(&emulator, &east_spec);
    apply(&emulator, &west_spec);
    assert_eq!(plan_exit_code(&emulator, &east_spec), 0, "east re-plan");
    assert_eq!(plan_exit_code(&emulator, &west_spec), 0, "west re-plan");

    assert_eq!(
        oidc_provider_arns(&east).await.len(),
        2,
        "one OIDC provider per region"
    );
    let west_issuer = cluster(&west, "twin-eks")
        .await
        .identity()
        .and_then(|i| i.oidc()?.issuer().map(str::to_string))
        .unwrap();
    let west_host = west_issuer.trim_start_matches("https://").to_string();
    let west_roles = roles_of(&east, "eu-west-1", "twin").await;
    assert_eq!(
        west_roles.len(),
        3,
        "cluster, node and service-account roles: {west_roles:?}"
    );

    destroy(&emulator, &east_spec);

    assert!(
        roles_of(&east, "us-east-1", "twin").await.is_empty(),
        "east's roles are gone"
    );
    assert_eq!(
        roles_of(&east, "eu-west-1", "twin").await,
        west_roles,
        "west's roles are untouched"
    );
    let irsa = west_roles
        .iter()
        .find(|(name, _)| name.contains("external-dns"))
        .expect("west's service-account role");
    assert!(
        irsa.1.contains(&west_host),
        "it trusts its own region's issuer: {}",
        irsa.1
    );
    let providers = oidc_provider_arns(&west).await;
    assert_eq!(providers.len(), 1);
    assert!(
        providers[0].ends_with(&west_host),
        "west's provider is the one left"
    );
    let clusters = west.eks.list_clusters().send().await.unwrap();
    assert_eq!(clusters.clusters(), ["twin-eks"]);
    assert_eq!(
        plan_exit_code(&emulator, &west_spec),
        0,
        "west re-plan after east's destroy"
    );
}

fn network_spec(stack: &str, cidr: &str, team: &str) -> String {
    format!(
        "stack: {stack}\nregion: {REGION}\ntags:\n  team: {team}\nvpc:\n  cidr: {cidr}\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Disable\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_saved_plan_deletes_nothing_foreign() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let mine = write_spec(
        &dir,
        "mine.yaml",
        &network_spec("mine", "10.40.0.0/16", "a"),
    );
    let theirs = write_spec(
        &dir,
        "theirs.yaml",
        &network_spec("theirs", "10.41.0.0/16", "b"),
    );
    apply(&emulator, &mine);
    apply(&emulator, &theirs);
    let their_vpc = aws
        .ec2
        .describe_vpcs()
        .filters(marked_by("theirs"))
        .send()
        .await
        .unwrap()
        .vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();

    // A real change to save: a new tag value on every resource of `mine`.
    let changed = write_spec(
        &dir,
        "mine.yaml",
        &network_spec("mine", "10.40.0.0/16", "c"),
    );
    let plan_file = dir.path().join("mine.plan");
    emulator
        .eksform()
        .args(["plan", "--out"])
        .arg(&plan_file)
        .arg(&changed)
        .assert()
        .success();

    // Someone edits the file: a delete of the other stack's VPC, by its id.
    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    let resources = plan["resources"].as_array_mut().unwrap();
    let mut forged = resources
        .iter()
        .find(|r| r["address"] == "vpc.main")
        .unwrap()
        .clone();
    forged["action"] = "delete".into();
    forged["live"]["id"] = their_vpc.clone().into();
    forged["desired"] = serde_json::Value::Null;
    forged["changes"] = serde_json::json!([]);
    resources.push(forged);
    std::fs::write(&plan_file, serde_json::to_string(&plan).unwrap()).unwrap();

    let output = emulator
        .eksform()
        .args(["apply", "--auto-approve", "--allow-destroy"])
        .arg(&plan_file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "refused: {stderr}");
    assert!(
        stderr.contains("was it edited?") && stderr.contains(&their_vpc),
        "{stderr}"
    );
    let vpcs = aws
        .ec2
        .describe_vpcs()
        .vpc_ids(&their_vpc)
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1, "the other stack's VPC is untouched");
    assert_eq!(
        plan_exit_code(&emulator, &theirs),
        0,
        "the other stack is as it was"
    );
    // The untampered plan still applies.
    emulator
        .eksform()
        .args(["plan", "--out"])
        .arg(&plan_file)
        .arg(&changed)
        .assert()
        .success();
    emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&plan_file)
        .assert()
        .success();
    assert_eq!(plan_exit_code(&emulator, &changed), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unmarked_cluster_of_the_specs_name_is_a_plan_error_before_any_create() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    // Someone else's cluster (eksctl's, say) already has the name.
    aws.eks
        .create_cluster()
        .name("clash-eks")
        .role_arn("arn:aws:iam::123456789012:role/someone-else")
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids("subnet-00000001")
                .subnet_ids("subnet-00000002")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "clash.yaml",
        &cluster_spec("clash", REGION, &["us-east-1a", "us-east-1b"], 7),
    );
    for command in ["plan", "apply"] {
        let output = emulator
            .eksform()
            .args(
                [command, "--auto-approve"]
                    .iter()
                    .take(if command == "plan" { 1 } else { 2 }),
            )
            .arg(&spec)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{command}: {stderr}");
        assert!(
            stderr.contains("eks_cluster.main")
                && stderr.contains("clash-eks")
                && stderr.contains("rename"),
            "{command} names the clash and the way out: {stderr}"
        );
    }
    let vpcs = aws
        .ec2
        .describe_vpcs()
        .filters(marked_by("clash"))
        .send()
        .await
        .unwrap();
    assert!(vpcs.vpcs().is_empty(), "nothing was created");
    let roles = aws
        .iam
        .list_roles()
        .path_prefix("/eksform/")
        .send()
        .await
        .unwrap();
    assert!(roles.roles().is_empty(), "no role was created");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zone_added_to_a_stack_with_a_cluster_keeps_the_cluster_and_the_old_subnets() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "grow.yaml",
        &cluster_spec("grow", REGION, &["us-east-1a", "us-east-1b"], 7),
    );
    apply(&emulator, &spec);
    let subnets = |aws: AwsClients| async move {
        aws.ec2
            .describe_subnets()
            .filters(marked_by("grow"))
            .send()
            .await
            .unwrap()
            .subnets()
            .iter()
            .map(|s| {
                (
                    s.subnet_id().unwrap().to_string(),
                    (
                        s.availability_zone().unwrap().to_string(),
                        s.cidr_block().unwrap().to_string(),
                    ),
                )
            })
            .collect::<BTreeMap<String, (String, String)>>()
    };
    let cluster_arn =
        |aws: AwsClients| async move { cluster(&aws, "grow-eks").await.arn().unwrap().to_string() };
    let before = subnets(aws.clone()).await;
    let arn = cluster_arn(aws.clone()).await;
    assert_eq!(before.len(), 4);

    let spec = write_spec(
        &dir,
        "grow.yaml",
        &cluster_spec(
            "grow",
            REGION,
            &["us-east-1a", "us-east-1b", "us-east-1c"],
            7,
        ),
    );
    let plan = emulator.eksform().arg("plan").arg(&spec).output().unwrap();
    let text = stdout_of(&plan);
    assert!(
        plan.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    assert!(
        !text.contains("eks_cluster.main (eks_cluster"),
        "the cluster is not in the plan: {text}"
    );
    assert!(
        !text.contains("-/+ subnet."),
        "no subnet is replaced: {text}"
    );
    // The node group spans the new zone: replaced, the new one first.
    emulator
        .eksform()
        .args(["apply", "--auto-approve", "--allow-destroy"])
        .arg(&spec)
        .assert()
        .success();
    let after = subnets(aws.clone()).await;
    assert_eq!(cluster_arn(aws.clone()).await, arn, "the same cluster");
    for (id, place) in &before {
        assert_eq!(after.get(id), Some(place), "subnet {id} kept its place");
    }
    let new_zone: Vec<_> = after
        .values()
        .filter(|(zone, _)| zone == "us-east-1c")
        .collect();
    assert_eq!(
        new_zone.len(),
        2,
        "the new zone's public and private subnets: {after:?}"
    );
    assert_eq!(
        plan_exit_code(&emulator, &spec),
        0,
        "re-plan after adding the zone"
    );
}

/// The create request the engine would send for the stack's cluster role.
fn cluster_role_request(stack: &str) -> eksform_core::cloud::CreateRequest {
    let text = cluster_spec(stack, REGION, &["us-east-1a", "us-east-1b"], 7);
    let loaded = eksform_core::spec::parse(eksform_core::diagnostics::SourceFile::new(
        format!("{stack}.yaml"),
        text,
    ))
    .expect("valid spec");
    let model = eksform_core::lower::model(&loaded.spec);
    let role = eksform_core::lower::desired(&model)
        .into_iter()
        .find(|d| d.address.as_str() == "iam_role.cluster")
        .expect("the cluster role");
    eksform_core::cloud::CreateRequest {
        stack: stack.into(),
        address: role.address,
        attributes: role.attributes,
        token: "test".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_a_lost_attempt_made_is_finished_and_a_foreign_one_refused() {
    use eksform_core::kinds::IamRole;
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    // IAM's lists lag behind its creates (the emulator's do not): a retried
    // create can meet the role its lost first attempt made. Made here by the
    // first attempt itself; the second must take it, not fail or duplicate.
    let request = cluster_role_request("lost");
    let desired = |request: &eksform_core::cloud::CreateRequest| {
        eksform_core::model::DesiredResource::new("iam_role", request.address.clone())
            .with("name", request.attributes["name"].clone())
            .with("tags", request.attributes["tags"].clone())
    };
    let first = IamRole.create(&aws, &request).await.expect("first attempt");
    // Nor is the plan refused for it: it is no stranger's name.
    assert_eq!(
        IamRole.name_taken(&aws, &desired(&request)).await.unwrap(),
        None
    );
    let again = IamRole
        .create(&aws, &request)
        .await
        .expect("the retry finds its own role");
    assert_eq!(again.id, first.id);
    assert_eq!(again.attributes.get("arn"), first.attributes.get("arn"));
    let roles = aws
        .iam
        .list_roles()
        .path_prefix("/eksform/")
        .send()
        .await
        .unwrap();
    assert_eq!(roles.roles().len(), 1);

    // A role of that name someone else made is never taken over.
    let foreign = cluster_role_request("other");
    aws.iam
        .create_role()
        .role_name(foreign.attributes["name"].as_str().unwrap())
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap();
    let taken = IamRole.name_taken(&aws, &desired(&foreign)).await.unwrap();
    assert!(taken.is_some_and(|t| t.contains("not this stack's")));
    let refused = IamRole
        .create(&aws, &foreign)
        .await
        .expect_err("a foreign role of the name");
    assert!(refused.message.contains("not this stack's"), "{refused}");
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(foreign.attributes["name"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        attached.attached_policies().is_empty(),
        "the foreign role is untouched"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_load_balancer_name_another_team_holds_is_a_plan_error() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let (_, subnets) = other_vpc(&aws, "10.98.0.0/16", ["us-east-1a", "us-east-1b"]).await;
    let theirs = load_balancer(&aws, "lbc-web", &subnets, &[("team", "payments")]).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "lbc.yaml",
        &format!(
            "stack: lbc\nregion: {REGION}\nvpc:\n  cidr: 10.70.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat: {{ gateway: Disable }}\nloadBalancers:\n  - name: web\n    targetGroups:\n      - name: app\n        port: 80\n    defaultTargetGroup: app\n"
        ),
    );
    let output = emulator.eksform().arg("plan").arg(&spec).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("load_balancer.web") && stderr.contains("`lbc-web` already exists"),
        "{stderr}"
    );
    assert_eq!(
        load_balancer_arns(&aws).await,
        [theirs],
        "theirs is untouched"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reference_to_a_stack_in_another_region_still_resolves() {
    let emulator = Emulator::start(EKSFORM);
    let east = emulator.clients("us-east-1").await;
    let west = emulator.clients("eu-west-1").await;
    let dir = tempfile::tempdir().unwrap();
    let ops = write_spec(
        &dir,
        "ops.yaml",
        "stack: ops\nregion: eu-west-1\nvpc:\n  cidr: 10.50.0.0/16\n  availabilityZones: [eu-west-1a, eu-west-1b]\n  nat: { gateway: Single }\n",
    );
    apply(&emulator, &ops);
    let nat: Vec<String> = west
        .ec2
        .describe_addresses()
        .filters(marked_by("ops"))
        .send()
        .await
        .unwrap()
        .addresses()
        .iter()
        .filter_map(|a| a.public_ip().map(|ip| format!("{ip}/32")))
        .collect();
    assert_eq!(nat.len(), 1);
    let prd = write_spec(
        &dir,
        "prd.yaml",
        &format!(
            "stack: prd\nregion: {REGION}\nvpc:\n  cidr: 10.40.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat: {{ gateway: Disable }}\ncluster:\n  name: prd-eks\n  version: \"1.31\"\n  publicAccessCIDRs:\n    - {{ fromStack: ops, output: natPublicIPs, region: eu-west-1 }}\niam:\n  withOIDC: true\n"
        ),
    );
    apply(&emulator, &prd);
    let cidrs: Vec<String> = cluster(&east, "prd-eks")
        .await
        .resources_vpc_config()
        .map(|v| v.public_access_cidrs().to_vec())
        .unwrap_or_default();
    assert_eq!(
        cidrs, nat,
        "the endpoint admits the other region's NAT address"
    );
    assert_eq!(plan_exit_code(&emulator, &prd), 0);
    assert_eq!(plan_exit_code(&emulator, &ops), 0);
}

/// Another team's public zone made by hand (`ListHostedZones` gives ids as
/// `/hostedzone/<id>`): its id.
async fn someone_elses_zone(aws: &AwsClients, name: &str, reference: &str) -> String {
    let zone = aws
        .route53
        .create_hosted_zone()
        .name(name)
        .caller_reference(reference)
        .send()
        .await
        .unwrap();
    zone.hosted_zone().unwrap().id().to_string()
}

async fn zone_ids(aws: &AwsClients, name: &str) -> Vec<String> {
    let mut ids: Vec<String> = aws
        .route53
        .list_hosted_zones()
        .send()
        .await
        .unwrap()
        .hosted_zones()
        .iter()
        .filter(|z| z.name().trim_end_matches('.') == name)
        .map(|z| z.id().to_string())
        .collect();
    ids.sort();
    ids
}

/// Route 53 lets many public zones share a name. One another team makes
/// beside the stack's own is neither deleted as a duplicate nor taken for the
/// stack's; two that are not the stack's are a plan error, as which of them
/// the spec means is not eksform's to guess.
#[tokio::test(flavor = "multi_thread")]
async fn a_zone_of_the_same_name_another_team_makes_is_never_the_stacks_nor_deleted() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "names.yaml",
        &format!("stack: names\nregion: {REGION}\ndns:\n  zone: shared.example.com\n"),
    );
    apply(&emulator, &spec);
    let own = zone_ids(&aws, "shared.example.com").await;
    assert_eq!(own.len(), 1);
    let other = someone_elses_zone(&aws, "shared.example.com", "other-team").await;
    assert_eq!(
        plan_exit_code(&emulator, &spec),
        0,
        "the stack's own zone kept"
    );
    apply(&emulator, &spec);
    destroy(&emulator, &spec);
    assert_eq!(
        zone_ids(&aws, "shared.example.com").await,
        [other],
        "the stack's zone went, the other team's stayed"
    );

    // Two zones of the name, neither the stack's.
    let mut twins = vec![
        someone_elses_zone(&aws, "twin.example.com", "team-a").await,
        someone_elses_zone(&aws, "twin.example.com", "team-b").await,
    ];
    twins.sort();
    let spec = write_spec(
        &dir,
        "twin.yaml",
        &format!("stack: twin\nregion: {REGION}\ndns:\n  zone: twin.example.com\n"),
    );
    let output = emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("both answer to it") && stderr.contains("adopt"),
        "{stderr}"
    );
    assert_eq!(zone_ids(&aws, "twin.example.com").await, twins);
}

/// A cluster stack in the network stack's VPC, its cluster named `cluster`.
fn tenant_spec(stack: &str, cluster: &str) -> String {
    let subnet = |kind: &str, zone: &str| {
        format!(
            "      {zone}: {{ id: {{ fromStack: network, output: {kind}SubnetIds, key: {zone} }} }}\n"
        )
    };
    format!(
        "stack: {stack}\nregion: {REGION}\nvpc:\n  id: {{ fromStack: network, output: vpcId }}\n  subnets:\n    public:\n{}{}    private:\n{}{}cluster:\n  name: {cluster}\n  version: \"1.31\"\n  logging:\n    enableTypes: [api, audit]\n    logRetentionInDays: 90\n",
        subnet("public", "us-east-1a"),
        subnet("public", "us-east-1b"),
        subnet("private", "us-east-1a"),
        subnet("private", "us-east-1b"),
    )
}

/// A spec copied from another stack's keeps its cluster name: the cluster is
/// not this stack's, so destroying the copy deletes neither the load
/// balancers that cluster's controller made in the shared VPC nor its
/// control-plane log group.
#[tokio::test(flavor = "multi_thread")]
async fn destroying_a_stack_that_names_another_stacks_cluster_leaves_that_clusters_things() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let network = write_spec(
        &dir,
        "network.yaml",
        &format!(
            "stack: network\nregion: {REGION}\nvpc:\n  cidr: 10.60.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Disable\n"
        ),
    );
    let blue = write_spec(&dir, "blue.yaml", &tenant_spec("blue", "prod-eks"));
    let green = write_spec(&dir, "green.yaml", &tenant_spec("green", "prod-eks"));
    apply(&emulator, &network);
    apply(&emulator, &blue);

    // blue's AWS Load Balancer Controller made an ingress ALB in the VPC.
    let subnets: Vec<String> = aws
        .ec2
        .describe_subnets()
        .filters(marked_by("network"))
        .send()
        .await
        .unwrap()
        .subnets()
        .iter()
        .filter(|s| s.map_public_ip_on_launch() == Some(true))
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect();
    let ingress = load_balancer(
        &aws,
        "k8s-shop-web-4d5e6f",
        &subnets,
        &[("elbv2.k8s.aws/cluster", "prod-eks")],
    )
    .await;

    let output = emulator
        .eksform()
        .args(["destroy", "--auto-approve"])
        .arg(&green)
        .output()
        .unwrap();
    let said = stdout_of(&output);
    assert!(
        output.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !said.contains("k8s-shop-web") && !said.contains("/aws/eks/prod-eks"),
        "green's destroy plans to delete blue's: {said}"
    );
    assert!(load_balancer_arns(&aws).await.contains(&ingress));
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/eks/prod-eks/")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups().len(), 1, "blue's log group stays");
    assert_eq!(plan_exit_code(&emulator, &blue), 0, "blue is whole");
}

/// The zone of `dns.zone` and a record `<record>` with one value, for stack
/// `web` in `region`.
fn dns_spec(region: &str, record: &str, value: &str) -> String {
    format!(
        "stack: web\nregion: {region}\ndns:\n  zone: web.example.com\n  records:\n    - name: {record}.web.example.com\n      type: A\n      values: [\"{value}\"]\n"
    )
}

/// The zone's A records: (name without the final dot, values).
async fn a_records(aws: &AwsClients, zone: &str) -> Vec<(String, Vec<String>)> {
    aws.route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap()
        .resource_record_sets()
        .iter()
        .filter(|r| r.r#type().as_str() == "A")
        .map(|r| {
            (
                r.name().trim_end_matches('.').to_string(),
                r.resource_records()
                    .iter()
                    .map(|v| v.value().to_string())
                    .collect(),
            )
        })
        .collect()
}

async fn record_names(aws: &AwsClients, zone: &str) -> Vec<String> {
    let mut names: Vec<String> = a_records(aws, zone)
        .await
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    names.sort();
    names
}

/// Route 53 is account-wide like IAM: one stack name in two regions, each
/// with records in one zone, keeps each region's records apart. The second
/// region uses the first's zone as it is, plans no delete of the first's
/// records, and its destroy leaves them and the zone.
#[tokio::test(flavor = "multi_thread")]
async fn one_stack_name_in_two_regions_keeps_each_regions_records() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let east = write_spec(
        &dir,
        "east.yaml",
        &dns_spec("us-east-1", "east", "192.0.2.10"),
    );
    let west = write_spec(
        &dir,
        "west.yaml",
        &dns_spec("eu-west-1", "west", "192.0.2.20"),
    );
    apply(&emulator, &east);
    let zones = zone_ids(&aws, "web.example.com").await;
    assert_eq!(zones.len(), 1);

    let output = emulator
        .eksform()
        .args(["plan"])
        .arg(&west)
        .output()
        .unwrap();
    let plan = stdout_of(&output);
    assert!(output.status.success(), "{plan}");
    assert!(
        !plan.contains("will be deleted") && !plan.contains("must be replaced"),
        "eu-west-1's plan takes us-east-1's for its own: {plan}"
    );
    apply(&emulator, &west);
    assert_eq!(zone_ids(&aws, "web.example.com").await, zones, "one zone");
    assert_eq!(
        record_names(&aws, &zones[0]).await,
        ["east.web.example.com", "west.web.example.com"]
    );
    assert_eq!(plan_exit_code(&emulator, &east), 0);
    assert_eq!(plan_exit_code(&emulator, &west), 0);

    destroy(&emulator, &west);
    assert_eq!(zone_ids(&aws, "web.example.com").await, zones);
    assert_eq!(
        record_names(&aws, &zones[0]).await,
        ["east.web.example.com"]
    );
    assert_eq!(plan_exit_code(&emulator, &east), 0, "us-east-1 whole");
}

async fn record_values(aws: &AwsClients, zone: &str, name: &str) -> Vec<String> {
    a_records(aws, zone)
        .await
        .into_iter()
        .filter(|(record, _)| record == name)
        .flat_map(|(_, values)| values)
        .collect()
}

/// Route 53 keeps one simple record of a name and type in a zone. Where the
/// one the spec wants is already another stack's, or the same stack's in
/// another region, the plan says so and stops: a plan that shows a create
/// apply cannot make (it would fail midway, after other changes) is a plan
/// that lies. The other's record is neither changed nor taken.
#[tokio::test(flavor = "multi_thread")]
async fn a_record_another_stack_or_region_holds_is_a_plan_error_not_an_apply_failure() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let east = write_spec(
        &dir,
        "east.yaml",
        &dns_spec("us-east-1", "www", "192.0.2.10"),
    );
    apply(&emulator, &east);
    let zones = zone_ids(&aws, "web.example.com").await;
    assert_eq!(zones.len(), 1);

    // The same stack in another region wants the same record.
    let west = write_spec(
        &dir,
        "west.yaml",
        &dns_spec("eu-west-1", "www", "192.0.2.20"),
    );
    refused(
        &emulator,
        &west,
        &["www.web.example.com", "of stack web in us-east-1"],
    );

    // Another stack in the same region wanting that record in that zone.
    let api = write_spec(
        &dir,
        "api.yaml",
        "stack: api\nregion: us-east-1\ndns:\n  zone: web.example.com\n  records:\n    - name: www.web.example.com\n      type: A\n      values: [\"192.0.2.30\"]\n",
    );
    let output = emulator.eksform().arg("plan").arg(&api).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("www.web.example.com") && stderr.contains("of stack web:"),
        "{stderr}"
    );

    assert_eq!(zone_ids(&aws, "web.example.com").await, zones, "one zone");
    assert_eq!(
        record_values(&aws, &zones[0], "www.web.example.com").await,
        ["192.0.2.10"],
        "us-east-1's record as it was"
    );
    assert_eq!(plan_exit_code(&emulator, &east), 0, "us-east-1 whole");
}

/// eksform's route table at `address` of `stack`.
async fn eksform_table(
    aws: &AwsClients,
    stack: &str,
    address: &str,
) -> aws_sdk_ec2::types::RouteTable {
    let filter = |key: &str, value: &str| {
        aws_sdk_ec2::types::Filter::builder()
            .name(format!("tag:{key}"))
            .values(value)
            .build()
    };
    let tables = aws
        .ec2
        .describe_route_tables()
        .filters(filter(eksform_core::model::STACK_TAG, stack))
        .filters(filter(eksform_core::model::ADDRESS_TAG, address))
        .send()
        .await
        .unwrap();
    let [table] = tables.route_tables() else {
        panic!("one table at {address}: {tables:?}");
    };
    table.clone()
}

/// The routes of eksform's table at `address` (destination -> target).
async fn routes_of(aws: &AwsClients, stack: &str, address: &str) -> BTreeMap<String, String> {
    eksform_table(aws, stack, address)
        .await
        .routes()
        .iter()
        .filter_map(|r| {
            let target = r
                .nat_gateway_id()
                .or(r.gateway_id())
                .or(r.transit_gateway_id())?;
            Some((r.destination_cidr_block()?.to_string(), target.to_string()))
        })
        .filter(|(_, target)| target != "local")
        .collect()
}

/// Another team routes its VPN and Transit Gateway through eksform's private
/// table (by hand, or with Terraform's aws_route). eksform's plan shows no
/// change for them, and turning the NAT gateway off removes only eksform's
/// own default route. A default route the other team points at its Transit
/// Gateway is kept while the spec wants none, and replaced, with a note
/// saying so, when the spec turns a NAT gateway on.
#[tokio::test(flavor = "multi_thread")]
async fn routes_another_team_adds_to_eksforms_tables_are_kept() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec_with = |nat: &str| {
        format!(
            "stack: routed\nregion: {REGION}\nvpc:\n  cidr: 10.30.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: {nat}\n"
        )
    };
    let spec = write_spec(&dir, "routed.yaml", &spec_with("Single"));
    apply(&emulator, &spec);
    let table = "route_table.private.us-east-1a";
    let private = routes_of(&aws, "routed", table).await;
    let made = eksform_table(&aws, "routed", table).await;
    let (table_id, vpc) = (
        made.route_table_id().unwrap().to_string(),
        made.vpc_id().unwrap().to_string(),
    );
    let vgw = aws
        .ec2
        .create_vpn_gateway()
        .r#type(aws_sdk_ec2::types::GatewayType::Ipsec1)
        .send()
        .await
        .unwrap()
        .vpn_gateway()
        .unwrap()
        .vpn_gateway_id()
        .unwrap()
        .to_string();
    aws.ec2
        .attach_vpn_gateway()
        .vpn_gateway_id(&vgw)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let tgw = aws
        .ec2
        .create_transit_gateway()
        .send()
        .await
        .unwrap()
        .transit_gateway()
        .unwrap()
        .transit_gateway_id()
        .unwrap()
        .to_string();
    let route = |destination: &'static str| {
        aws.ec2
            .create_route()
            .route_table_id(&table_id)
            .destination_cidr_block(destination)
    };
    route("10.50.0.0/16").gateway_id(&vgw).send().await.unwrap();
    route("10.60.0.0/16")
        .transit_gateway_id(&tgw)
        .send()
        .await
        .unwrap();
    let mut expected = private.clone();
    expected.insert("10.50.0.0/16".into(), vgw.clone());
    expected.insert("10.60.0.0/16".into(), tgw.clone());
    assert_eq!(routes_of(&aws, "routed", table).await, expected);
    assert_eq!(
        plan_exit_code(&emulator, &spec),
        0,
        "the other team's routes are no change"
    );

    // NAT off: only eksform's default route goes.
    let spec = write_spec(&dir, "routed.yaml", &spec_with("Disable"));
    let plan = emulator
        .eksform()
        .args(["plan"])
        .arg(&spec)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        !text.contains(&vgw) && !text.contains(&tgw),
        "the plan shows no change to the other team's routes:\n{text}"
    );
    apply_allowing_destroy(&emulator, &spec);
    let kept = BTreeMap::from([
        ("10.50.0.0/16".to_string(), vgw.clone()),
        ("10.60.0.0/16".to_string(), tgw.clone()),
    ]);
    assert_eq!(routes_of(&aws, "routed", table).await, kept);
    assert_eq!(plan_exit_code(&emulator, &spec), 0);

    // The other team sends the zone's default traffic to its Transit Gateway:
    // kept while the spec wants no NAT, replaced when it wants one again.
    route("0.0.0.0/0")
        .transit_gateway_id(&tgw)
        .send()
        .await
        .unwrap();
    assert_eq!(plan_exit_code(&emulator, &spec), 0, "kept");
    let spec = write_spec(&dir, "routed.yaml", &spec_with("Single"));
    let plan = emulator
        .eksform()
        .args(["plan"])
        .arg(&spec)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains(&format!(
            "replaces the route to {tgw}, which was made outside eksform"
        )),
        "the plan says the default route is taken back:\n{text}"
    );
    apply(&emulator, &spec);
    let routes = routes_of(&aws, "routed", table).await;
    assert!(
        routes["0.0.0.0/0"].starts_with("nat-"),
        "the default route is the NAT gateway's: {routes:?}"
    );
    assert_eq!(routes["10.50.0.0/16"], vgw);
    assert_eq!(routes["10.60.0.0/16"], tgw);
    assert_eq!(plan_exit_code(&emulator, &spec), 0);

    // The VPN gateway attached to the VPC would keep it (DependencyViolation):
    // its team takes it away first.
    aws.ec2
        .detach_vpn_gateway()
        .vpn_gateway_id(&vgw)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    destroy(&emulator, &spec);
    assert_nothing_marked(&aws, "routed").await;
}
