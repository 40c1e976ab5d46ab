//! Preflight through the binary: mistakes that only the account can reveal
//! (a zone the region lacks, a misspelt instance type, a managed policy or an
//! access entry principal that does not exist, names other owners already
//! hold) stop `plan` and `apply` at the spec's `line:column` before anything
//! is created. The emulator answers every preflight read but EKS
//! DescribeClusterVersions (covered in `requests::preflight`), so the version
//! check is left out here.

use eksform_aws::AwsClients;
use eksform_core::diagnostics::SourceFile;
use eksform_core::kinds::IamRole;
use eksform_core::kinds::iam_role::role_name;
use eksform_testkit::assertions::{assert_nothing_marked, marked_by};
use eksform_testkit::emulator::{Emulator, write_spec};

use crate::EKSFORM;

const REGION: &str = "us-east-1";

/// Every mistake the emulator can reveal, each on its own line.
const MISTAKES: &str = r#"stack: crowd
region: us-east-1
vpc:
  cidr: 10.40.0.0/16
  availabilityZones: [us-east-1a, us-east-1z]
cluster:
  name: crowd-eks
  version: "1.31"
  accessEntries:
    - principalARN: arn:aws:iam::123456789012:role/no-such-admins
      accessPolicies:
        - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy
          accessScope: { type: cluster }
iam:
  serviceAccounts:
    - metadata: { namespace: apps, name: reader }
      attachPolicyARNs: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccesss]
managedNodeGroups:
  - name: general
    instanceTypes: [m5.largee]
loadBalancers:
  - name: web
"#;

/// `line:column: text` the plan reports for `MISTAKES`.
const EXPECTED: &[&str] = &[
    "5:35: availability zone `us-east-1z` does not exist in us-east-1",
    "7:3: iam_role.cluster: an IAM role named `crowd-us-east-1-iam-role-cluster` already exists",
    "7:9: eks_cluster.main: an EKS cluster named `crowd-eks` already exists",
    "10:21: cluster.accessEntries: principal `arn:aws:iam::123456789012:role/no-such-admins` does not exist",
    "17:26: iam.serviceAccounts: managed policy `arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccesss` does not exist",
    "20:21: managedNodeGroups.general: instance type `m5.largee` does not exist in us-east-1",
    "22:11: load_balancer.web: a load balancer named `crowd-web` already exists",
];

/// stderr with miette's gutters removed and whitespace collapsed, so that a
/// report wrapped over lines reads as one.
fn flat(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .replace(['│', '×', '╭', '╰', '─', '·', '┬', '├'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Someone else's cluster, role and load balancer, holding the names the
/// spec's resources would take.
async fn crowd_the_account(aws: &AwsClients) {
    aws.eks
        .create_cluster()
        .name("crowd-eks")
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
    let loaded = eksform_core::spec::parse(SourceFile::new("crowd.yaml", MISTAKES)).unwrap();
    let model = eksform_core::lower::model(&loaded.spec);
    aws.iam
        .create_role()
        .role_name(role_name(&model, &IamRole::address("cluster")))
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let vpc = aws
        .ec2
        .create_vpc()
        .cidr_block("10.90.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().and_then(|v| v.vpc_id()).unwrap();
    let mut subnets = Vec::new();
    for (zone, cidr) in [
        ("us-east-1a", "10.90.0.0/24"),
        ("us-east-1b", "10.90.1.0/24"),
    ] {
        let subnet = aws
            .ec2
            .create_subnet()
            .vpc_id(vpc)
            .cidr_block(cidr)
            .availability_zone(zone)
            .send()
            .await
            .unwrap();
        subnets.push(
            subnet
                .subnet()
                .and_then(|s| s.subnet_id())
                .unwrap()
                .to_string(),
        );
    }
    aws.elb
        .create_load_balancer()
        .name("crowd-web")
        .set_subnets(Some(subnets))
        .send()
        .await
        .unwrap();
}

/// Nothing of stack `crowd` exists: no marked network, no role under
/// eksform's path, no cluster or load balancer but the foreign ones.
async fn assert_nothing_created(aws: &AwsClients) {
    assert_nothing_marked(aws, "crowd").await;
    let roles = aws
        .iam
        .list_roles()
        .path_prefix("/eksform/")
        .send()
        .await
        .unwrap();
    assert!(roles.roles().is_empty(), "no role was created");
    let clusters = aws.eks.list_clusters().send().await.unwrap();
    assert_eq!(
        clusters.clusters(),
        ["crowd-eks"],
        "only the foreign cluster"
    );
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    assert_eq!(balancers.load_balancers().len(), 1, "only the foreign one");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_mistake_the_account_reveals_is_a_plan_error_at_its_line_and_nothing_is_created() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    crowd_the_account(&aws).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "crowd.yaml", MISTAKES);
    let path = spec.display().to_string();

    for command in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let output = emulator
            .eksform()
            .args(command)
            .arg(&spec)
            .output()
            .unwrap();
        let stderr = flat(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{command:?}: {stderr}");
        for expected in EXPECTED {
            assert!(
                stderr.contains(&format!("{path}:{expected}")),
                "{command:?} reports `{expected}`: {stderr}"
            );
        }
        assert!(
            stderr.contains("did you mean `m5.large`?")
                && stderr.contains("us-east-1 offers us-east-1a, us-east-1b, us-east-1c"),
            "{command:?} hints at the near misses: {stderr}"
        );
        assert!(
            stderr.contains(&format!(
                "{} problems between the spec and the live account; nothing was changed in AWS",
                EXPECTED.len()
            )),
            "{command:?}: {stderr}"
        );
    }
    assert_nothing_created(&aws).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_past_the_default_vpc_quota_warns_and_still_plans() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    // The default VPC and four more: the region is at the default quota of 5.
    for i in 0..4 {
        aws.ec2
            .create_vpc()
            .cidr_block(format!("10.{}.0.0/16", 100 + i))
            .send()
            .await
            .unwrap();
    }
    let vpcs = aws.ec2.describe_vpcs().send().await.unwrap();
    assert_eq!(vpcs.vpcs().len(), 5);
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "sixth.yaml",
        "stack: sixth\nregion: us-east-1\nvpc:\n  cidr: 10.50.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n",
    );
    let output = emulator.eksform().arg("plan").arg(&spec).output().unwrap();
    let stdout = flat(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", flat(&output.stderr));
    assert!(
        stdout.contains(&format!(
            "WARNING: {}:4:9: us-east-1 holds 5 VPCs; one more exceeds the default quota of 5 VPCs per region",
            spec.display()
        )),
        "{stdout}"
    );
    let marked = aws
        .ec2
        .describe_vpcs()
        .filters(marked_by("sixth"))
        .send()
        .await
        .unwrap();
    assert!(marked.vpcs().is_empty(), "a plan creates nothing");
}
