//! The cluster against the emulator: the control plane's lifecycle (in-place
//! updates keep the cluster and its subnets), log group adoption, a cluster
//! admitting another stack's NAT addresses (`fromStack`), and a whole EKS
//! stack applied, updated in place and destroyed.

use eksform_aws::AwsClients;
use eksform_testkit::assertions::assert_nothing_marked;
use eksform_testkit::emulator::{Emulator, apply, destroy, plan_exit_code, write_spec};
use eksform_testkit::proxy::{self, Hold};
use eksform_testkit::waiting::until_held;

use super::{REGION, assert_no_clusters, cluster_spec, network_spec};
use crate::EKSFORM;

#[tokio::test(flavor = "multi_thread")]
async fn cluster_control_plane_lifecycle() {
    let emulator = Emulator::start(EKSFORM);
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
    assert_eq!(
        arns,
        vec![
            "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController"
        ]
    );

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
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let plan = &document["stacks"][0];
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
    assert_nothing_marked(&aws, "cp").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unmarked_log_group_is_adopted_not_duplicated() {
    let emulator = Emulator::start(EKSFORM);
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
    let emulator = Emulator::start(EKSFORM);
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

/// The EKS layer's acceptance in one stack: cluster, spot node group, Fargate
/// profile, log retention and IRSA roles; in-place changes keep the cluster;
/// destroy leaves nothing with the stack's mark.
#[tokio::test(flavor = "multi_thread")]
async fn a_whole_eks_stack_applies_updates_in_place_and_destroys_cleanly() {
    let emulator = Emulator::start(EKSFORM);
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
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let plan = &document["stacks"][0];
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
    assert_nothing_marked(&aws, "all").await;
}

/// A stack of one node group `general` in cluster `sized-eks`, its bounds
/// and desiredCapacity as given.
fn sized_spec(min: u32, max: u32, desired: u32) -> String {
    format!(
        "stack: sized\nregion: {REGION}\nvpc:\n  cidr: 10.96.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat: {{ gateway: Disable }}\ncluster:\n  name: sized-eks\n  version: \"1.31\"\nmanagedNodeGroups:\n  - name: general\n    minSize: {min}\n    maxSize: {max}\n    desiredCapacity: {desired}\n"
    )
}

/// The one node group of `sized-eks` (its name carries a hash).
async fn sized_group(aws: &AwsClients) -> String {
    aws.eks
        .list_nodegroups()
        .cluster_name("sized-eks")
        .send()
        .await
        .unwrap()
        .nodegroups()[0]
        .clone()
}

/// (desired, min, max) of the group as EKS has it.
async fn scaling_of(aws: &AwsClients, group: &str) -> (Option<i32>, Option<i32>, Option<i32>) {
    let described = aws
        .eks
        .describe_nodegroup()
        .cluster_name("sized-eks")
        .nodegroup_name(group)
        .send()
        .await
        .unwrap();
    let config = described.nodegroup().unwrap().scaling_config().unwrap();
    (config.desired_size(), config.min_size(), config.max_size())
}

/// The group resized as the cluster autoscaler does: its desired size only.
async fn autoscale(aws: &AwsClients, group: &str, size: i32) {
    aws.eks
        .update_nodegroup_config()
        .cluster_name("sized-eks")
        .nodegroup_name(group)
        .scaling_config(
            aws_sdk_eks::types::NodegroupScalingConfig::builder()
                .desired_size(size)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// The size a node group runs (here set as the cluster autoscaler would) and
/// the plan: new bounds above it show the clamped size and why, and apply
/// sets exactly that size.
#[tokio::test(flavor = "multi_thread")]
async fn a_node_group_below_new_bounds_is_planned_and_set_to_the_clamped_size() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "sized.yaml", &sized_spec(2, 8, 2));
    apply(&emulator, &spec);
    let group = sized_group(&aws).await;
    autoscale(&aws, &group, 3).await;
    assert_eq!(
        scaling_of(&aws, &group).await,
        (Some(3), Some(2), Some(8)),
        "live 3/2/8"
    );

    let spec = write_spec(&dir, "sized.yaml", &sized_spec(4, 12, 5));
    let plan = emulator
        .eksform()
        .args(["plan", "--no-color"])
        .arg(&spec)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains(
            "desired_size = 3 -> 4  # clamped into [4, 12]; the cluster autoscaler owns the desired size"
        ),
        "the plan shows the size apply sets, and why:\n{text}"
    );
    assert!(
        !text.contains("-> 5"),
        "not the spec's desiredCapacity:\n{text}"
    );
    apply(&emulator, &spec);
    assert_eq!(
        scaling_of(&aws, &group).await,
        (Some(4), Some(4), Some(12)),
        "apply sets 4"
    );
    assert_eq!(plan_exit_code(&emulator, &spec), 0, "nothing left to do");

    destroy(&emulator, &spec);
    assert_no_clusters(&aws).await;
}

/// `apply` of `spec` through a proxy holding the node group's second
/// DescribeNodegroup (the first is the plan's): the cluster autoscaler
/// resizes the group to `size` after the plan read it, then apply goes on.
/// Returns apply's output.
async fn apply_while_the_autoscaler_resizes(
    emulator: &Emulator,
    aws: &AwsClients,
    spec: &std::path::Path,
    group: &str,
    size: i32,
) -> std::process::Output {
    // GET /clusters/<cluster>/node-groups/<group>; a test's string lives on.
    let path: &'static str = Box::leak(format!("/node-groups/{group}").into_boxed_str());
    let gate = proxy::holding(&emulator.endpoint, Hold::PathEndingFrom(path, 2)).await;
    let mut run = emulator
        .eksform_via(&gate.url)
        .args(["apply", "--auto-approve"])
        .arg(spec)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    until_held(&gate, &mut run, "the apply reaches the node group's update").await;
    autoscale(aws, group, size).await;
    gate.let_go();
    let output = run.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    output
}

/// New bounds change the bounds, and the size only where the group runs
/// outside them when apply sends the update. The cluster autoscaler resizes
/// the group after the plan read it (while apply is held at the proxy):
/// apply never sets the plan's size back, which would drain the nodes just
/// added, and clamps the size the group runs then, not the plan's.
#[tokio::test(flavor = "multi_thread")]
async fn new_bounds_never_set_back_a_size_the_autoscaler_chose_after_the_plan() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "sized.yaml", &sized_spec(2, 8, 2));
    apply(&emulator, &spec);
    let group = sized_group(&aws).await;
    autoscale(&aws, &group, 3).await;

    // Wider bounds: the plan keeps 3; the autoscaler goes to 6 meanwhile.
    let spec = write_spec(&dir, "sized.yaml", &sized_spec(1, 10, 2));
    let output = apply_while_the_autoscaler_resizes(&emulator, &aws, &spec, &group, 6).await;
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("stays 3, within [1, 10]"),
        "the plan said the size stays the autoscaler's: {output:?}"
    );
    assert_eq!(
        scaling_of(&aws, &group).await,
        (Some(6), Some(1), Some(10)),
        "the new bounds, and the autoscaler's 6 kept"
    );
    assert_eq!(plan_exit_code(&emulator, &spec), 0, "nothing left to do");

    // A lower maximum: the plan keeps 6; the autoscaler goes to 9 meanwhile,
    // so apply clamps 9, not the plan's 6, into [1, 7].
    let spec = write_spec(&dir, "sized.yaml", &sized_spec(1, 7, 2));
    apply_while_the_autoscaler_resizes(&emulator, &aws, &spec, &group, 9).await;
    assert_eq!(scaling_of(&aws, &group).await, (Some(7), Some(1), Some(7)));
    assert_eq!(plan_exit_code(&emulator, &spec), 0, "nothing left to do");

    destroy(&emulator, &spec);
    assert_no_clusters(&aws).await;
}
