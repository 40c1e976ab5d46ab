//! What runs on the cluster, against the emulator: a spot node group (in
//! place or replaced create-before-destroy), Fargate profiles with a private
//! endpoint, service account roles (their trust, managed and inline
//! policies).

use eksform_aws::AwsClients;
use eksform_testkit::emulator::{Emulator, apply, destroy, plan_exit_code, write_spec};

use super::{REGION, assert_no_clusters};
use crate::EKSFORM;

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
    let emulator = Emulator::start(EKSFORM);
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
    let emulator = Emulator::start(EKSFORM);
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
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let plan = &document["stacks"][0];
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
    let emulator = Emulator::start(EKSFORM);
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
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let plan = &document["stacks"][0];
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
