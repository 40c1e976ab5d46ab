//! Deploy roles for CI through the binary: `bootstrap --github-repo` makes
//! the GitHub OIDC provider and the stack's plan and apply roles with the
//! right trust and policies, changes nothing on a second run, reuses a
//! provider another tool made without marking it, refuses bad names and
//! foreign roles before making anything; and `plan`, `outputs` and `history`
//! call nothing the read-only policy does not grant (every call recorded
//! by a proxy, mapped to its IAM action and evaluated against the policy).
//!
//! The emulator can check calls against the caller's policies
//! (`/moto-api/reset-auth`), but moto 5.2.5 then refuses the signature of
//! every EKS and Route 53 call (REST protocols; `SignatureDoesNotMatch`,
//! boto3's too), and every plan observes EKS: a plan cannot run under it, so
//! the recording above is the proof. (Where it works, EC2, IAM, Logs, ACM
//! and ELBv2, it checks actions, and resources only as `*`.)

use std::collections::{BTreeMap, BTreeSet};

use eksform_aws::AwsClients;
use eksform_core::iam_policy::is_read;
use eksform_testkit::emulator::{Emulator, apply, write_spec};
use eksform_testkit::proxy::{self, Behaviour, Recorded};
use serde_json::Value;

use crate::EKSFORM;

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
const PROVIDER: &str =
    "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";

fn spec(stack: &str) -> String {
    format!(
        "stack: {stack}\nregion: {REGION}\ntags:\n  team: platform\nvpc:\n  cidr: 10.30.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n"
    )
}

fn bootstrap(emulator: &Emulator, spec: &std::path::Path, flags: &[&str]) -> std::process::Output {
    emulator
        .eksform()
        .arg("bootstrap")
        .arg(spec)
        .args(flags)
        .output()
        .unwrap()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A role as IAM keeps it: ARN, path, trust policy (parsed), tags.
struct LiveRole {
    arn: String,
    path: String,
    trust: Value,
    tags: BTreeMap<String, String>,
}

async fn live_role(aws: &AwsClients, name: &str) -> Option<LiveRole> {
    let role = aws.iam.get_role().role_name(name).send().await.ok()?;
    let role = role.role()?.clone();
    let tags = aws
        .iam
        .list_role_tags()
        .role_name(name)
        .send()
        .await
        .unwrap();
    let trust = eksform_core::kinds::iam_role::url_decode(role.assume_role_policy_document()?);
    Some(LiveRole {
        arn: role.arn().to_string(),
        path: role.path().to_string(),
        trust: serde_json::from_str(&trust).unwrap(),
        tags: tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
    })
}

/// The statements of every managed policy attached to the role, in name order.
async fn attached_statements(aws: &AwsClients, name: &str) -> (Vec<String>, Vec<Value>) {
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .unwrap();
    let mut policies: Vec<(String, String)> = attached
        .attached_policies()
        .iter()
        .map(|p| {
            (
                p.policy_name().unwrap().to_string(),
                p.policy_arn().unwrap().to_string(),
            )
        })
        .collect();
    policies.sort();
    let mut statements = Vec::new();
    for (_, arn) in &policies {
        let policy = aws.iam.get_policy().policy_arn(arn).send().await.unwrap();
        let version = policy
            .policy()
            .unwrap()
            .default_version_id()
            .unwrap()
            .to_string();
        let document = aws
            .iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .unwrap();
        let text = eksform_core::kinds::iam_role::url_decode(
            document.policy_version().unwrap().document().unwrap(),
        );
        let document: Value = serde_json::from_str(&text).unwrap();
        statements.extend(document["Statement"].as_array().unwrap().clone());
    }
    (policies.into_iter().map(|(n, _)| n).collect(), statements)
}

/// What `eksform iam-policy [flags]` prints.
fn printed_policy(flags: &[&str]) -> Value {
    let output = assert_cmd::Command::cargo_bin("eksform")
        .unwrap()
        .arg("iam-policy")
        .args(flags)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn condition<'a>(trust: &'a Value, operator: &str, key: &str) -> &'a Value {
    let statement = &trust["Statement"][0];
    &statement["Condition"][operator][format!("token.actions.githubusercontent.com:{key}")]
}

async fn providers(aws: &AwsClients) -> Vec<String> {
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
async fn bootstrap_makes_the_provider_and_both_roles_then_changes_nothing() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "ci.yaml", &spec("ci"));
    let first = bootstrap(&emulator, &spec, &["--github-repo", "octo-org/infra"]);
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    let text = stdout(&first);

    // The provider: GitHub's issuer for the STS audience, marked as eksform's.
    let provider = aws
        .iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(PROVIDER)
        .send()
        .await
        .expect("the GitHub provider exists");
    assert_eq!(provider.client_id_list(), ["sts.amazonaws.com"]);
    assert!(
        provider
            .tags()
            .iter()
            .any(|t| t.key() == "eksform:bootstrap" && t.value() == "github-actions")
    );
    assert!(
        !provider.tags().iter().any(|t| t.key() == "eksform:stack"),
        "no stack's plan may take the account's provider for its own"
    );
    assert!(
        text.contains(&format!("GitHub OIDC provider {PROVIDER}: created.")),
        "{text}"
    );

    // The plan role: any ref of the repository, the read-only policy.
    let plan = live_role(&aws, "eksform-ci-us-east-1-plan")
        .await
        .expect("plan role");
    assert_eq!(plan.path, "/eksform-deploy/");
    let statement = &plan.trust["Statement"][0];
    assert_eq!(statement["Principal"]["Federated"], PROVIDER);
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    assert_eq!(
        condition(&plan.trust, "StringEquals", "aud"),
        "sts.amazonaws.com"
    );
    assert_eq!(
        condition(&plan.trust, "StringLike", "sub"),
        "repo:octo-org/infra:*"
    );
    assert_eq!(plan.tags["eksform:stack"], "ci");
    assert_eq!(plan.tags["eksform:address"], "deploy_role.plan");
    assert_eq!(plan.tags["eksform:region"], REGION);
    assert_eq!(plan.tags["team"], "platform");
    let (plan_policies, statements) = attached_statements(&aws, "eksform-ci-us-east-1-plan").await;
    assert_eq!(plan_policies.len(), 1, "{plan_policies:?}");
    assert_eq!(
        Value::Array(statements),
        printed_policy(&["--read-only"])["Statement"]
    );

    // The apply role: the default branch only, the full policy in parts.
    let apply_role = live_role(&aws, "eksform-ci-us-east-1-apply")
        .await
        .expect("apply role");
    assert_eq!(apply_role.path, "/eksform-deploy/");
    assert_eq!(
        condition(&apply_role.trust, "StringEquals", "sub"),
        "repo:octo-org/infra:ref:refs/heads/main"
    );
    assert_eq!(
        condition(&apply_role.trust, "StringEquals", "aud"),
        "sts.amazonaws.com"
    );
    assert!(
        apply_role.trust["Statement"][0]["Condition"]
            .get("StringLike")
            .is_none()
    );
    assert_eq!(apply_role.tags["eksform:address"], "deploy_role.apply");
    let (apply_policies, statements) =
        attached_statements(&aws, "eksform-ci-us-east-1-apply").await;
    assert!(
        apply_policies.len() > 1,
        "the full policy is over one managed policy"
    );
    assert_eq!(Value::Array(statements), printed_policy(&[])["Statement"]);

    // The ARNs, as a workflow uses them; and the state bucket as before.
    assert!(
        text.contains(&format!("role-to-assume: {}", plan.arn)),
        "{text}"
    );
    assert!(
        text.contains(&format!("role-to-assume: {}", apply_role.arn)),
        "{text}"
    );
    assert!(text.contains("State bucket eksform-state-123456789012-us-east-1 is ready"));
    aws.s3
        .head_bucket()
        .bucket(format!("eksform-state-{ACCOUNT}-{REGION}"))
        .send()
        .await
        .expect("the state bucket exists");

    // A second run changes nothing and says so.
    let second = bootstrap(&emulator, &spec, &["--github-repo", "octo-org/infra"]);
    assert_eq!(second.status.code(), Some(0), "{second:?}");
    let text = stdout(&second);
    assert!(text.contains("Nothing changed"), "{text}");
    assert!(
        text.contains("unchanged (made by an earlier bootstrap)"),
        "{text}"
    );
    assert_eq!(text.matches(": unchanged; trusts").count(), 2, "{text}");
    assert_eq!(
        attached_statements(&aws, "eksform-ci-us-east-1-apply")
            .await
            .0,
        apply_policies
    );
    assert_eq!(providers(&aws).await, [PROVIDER]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_another_tool_made_is_reused_and_left_as_it_is() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    aws.iam
        .create_open_id_connect_provider()
        .url("https://token.actions.githubusercontent.com")
        .client_id_list("sts.amazonaws.com")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("owner")
                .value("terraform")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "ci.yaml", &spec("ci"));
    let output = bootstrap(&emulator, &spec, &["--github-repo", "octo/app"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    assert!(text.contains("reused: another tool made it"), "{text}");
    let provider = aws
        .iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(PROVIDER)
        .send()
        .await
        .unwrap();
    let tags: Vec<(&str, &str)> = provider
        .tags()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(tags, [("owner", "terraform")], "not marked as eksform's");
    let plan = live_role(&aws, "eksform-ci-us-east-1-plan").await.unwrap();
    assert_eq!(
        plan.trust["Statement"][0]["Principal"]["Federated"],
        PROVIDER
    );
    // Still reused, never taken over, on the next run.
    let again = bootstrap(&emulator, &spec, &["--github-repo", "octo/app"]);
    assert!(stdout(&again).contains("reused: another tool made it"));
    assert!(stdout(&again).contains("Nothing changed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_repository_name_is_refused_and_nothing_is_made() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "ci.yaml", &spec("ci"));
    for bad in [
        "octo",
        "octo/app/extra",
        "-octo/app",
        "octo/app name",
        "octo/*",
    ] {
        // `=`: a value may start with '-'.
        let output = bootstrap(&emulator, &spec, &[&format!("--github-repo={bad}")]);
        assert_eq!(output.status.code(), Some(1), "{bad}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("--github-repo `{bad}` is not a GitHub repository")),
            "{stderr}"
        );
    }
    let output = bootstrap(
        &emulator,
        &spec,
        &["--github-repo", "octo/app", "--github-branch", "bad branch"],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(providers(&aws).await.is_empty());
    assert!(live_role(&aws, "eksform-ci-us-east-1-plan").await.is_none());
    assert!(
        live_role(&aws, "eksform-ci-us-east-1-apply")
            .await
            .is_none()
    );
    assert!(
        aws.s3
            .list_buckets()
            .send()
            .await
            .unwrap()
            .buckets()
            .is_empty(),
        "no state bucket either"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_environment_or_another_repository_changes_the_trust_and_says_so() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "ci.yaml", &spec("ci"));
    let output = bootstrap(
        &emulator,
        &spec,
        &[
            "--github-repo",
            "octo/app",
            "--github-environment",
            "production",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let apply_role = live_role(&aws, "eksform-ci-us-east-1-apply").await.unwrap();
    assert_eq!(
        condition(&apply_role.trust, "StringEquals", "sub"),
        "repo:octo/app:environment:production"
    );
    let plan = live_role(&aws, "eksform-ci-us-east-1-plan").await.unwrap();
    assert_eq!(
        condition(&plan.trust, "StringLike", "sub"),
        "repo:octo/app:*"
    );

    // The repository moved: both roles now trust the new one, and say so.
    let moved = bootstrap(
        &emulator,
        &spec,
        &[
            "--github-repo",
            "octo/platform",
            "--github-branch",
            "release",
        ],
    );
    assert_eq!(moved.status.code(), Some(0), "{moved:?}");
    let text = stdout(&moved);
    assert_eq!(text.matches("trust policy updated").count(), 2, "{text}");
    assert!(!text.contains("Nothing changed"), "{text}");
    let apply_role = live_role(&aws, "eksform-ci-us-east-1-apply").await.unwrap();
    assert_eq!(
        condition(&apply_role.trust, "StringEquals", "sub"),
        "repo:octo/platform:ref:refs/heads/release"
    );
    let plan = live_role(&aws, "eksform-ci-us-east-1-plan").await.unwrap();
    assert_eq!(
        condition(&plan.trust, "StringLike", "sub"),
        "repo:octo/platform:*"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_same_named_role_that_is_not_eksforms_is_refused_and_nothing_is_made() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let foreign_trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    aws.iam
        .create_role()
        .role_name("eksform-ci-us-east-1-apply")
        .assume_role_policy_document(foreign_trust)
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "ci.yaml", &spec("ci"));
    let output = bootstrap(&emulator, &spec, &["--github-repo", "octo/app"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("an IAM role named `eksform-ci-us-east-1-apply` already exists")
            && stderr.contains("is not eksform's apply role of stack ci"),
        "{stderr}"
    );
    // Nothing made, the foreign role untouched.
    assert!(providers(&aws).await.is_empty());
    assert!(live_role(&aws, "eksform-ci-us-east-1-plan").await.is_none());
    let foreign = live_role(&aws, "eksform-ci-us-east-1-apply").await.unwrap();
    assert_eq!(
        foreign.trust["Statement"][0]["Principal"]["Service"],
        "ec2.amazonaws.com"
    );
    assert!(foreign.tags.is_empty());
    assert!(
        attached_statements(&aws, "eksform-ci-us-east-1-apply")
            .await
            .0
            .is_empty()
    );
}

/// A stack with a piece of every area whose reads the emulator answers:
/// network, cluster with logging and OIDC, node group, Fargate profile,
/// service account role, load balancer with certificate, DNS.
fn wide_spec(version: &str) -> String {
    format!(
        r#"stack: wide
region: {REGION}
vpc:
  cidr: 10.70.0.0/16
  availabilityZones: [us-east-1a, us-east-1b]
  nat: {{ gateway: Single }}
cluster:
  name: wide-eks
  version: "{version}"
  logging:
    enableTypes: [api, audit]
    logRetentionInDays: 30
iam:
  withOIDC: true
  serviceAccounts:
    - metadata: {{ namespace: kube-system, name: cluster-autoscaler }}
      wellKnownPolicies: {{ autoScaler: true }}
managedNodeGroups:
  - name: general
    instanceTypes: [m5.large]
    minSize: 1
    maxSize: 3
    desiredCapacity: 2
fargateProfiles:
  - name: bots
    selectors:
      - namespace: bots
loadBalancers:
  - name: web
    certificate: {{ domain: "*.wide.example.com" }}
    httpsRedirect: true
    targetGroups:
      - name: ingress
        port: 80
        targetType: ip
dns:
  zone: wide.example.com
  records:
    - name: "*.wide.example.com"
      alias: {{ loadBalancer: web }}
"#
    )
}

/// The IAM action a recorded call needs, and the resource it is checked on
/// (`*` where the read is granted on every resource whatever it names).
fn iam_action(call: &Recorded) -> Result<(String, String), String> {
    let segments: Vec<&str> = call.path.trim_matches('/').split('/').collect();
    let get = call.method == "GET";
    let rest = |name: &str| Ok((format!("{}:{name}", call.service), "*".to_string()));
    match call.service.as_str() {
        "eks" if get => match segments.as_slice() {
            ["clusters"] => rest("ListClusters"),
            ["clusters", _] => rest("DescribeCluster"),
            ["clusters", _, "node-groups"] => rest("ListNodegroups"),
            ["clusters", _, "node-groups", _] => rest("DescribeNodegroup"),
            ["clusters", _, "fargate-profiles"] => rest("ListFargateProfiles"),
            ["clusters", _, "fargate-profiles", _] => rest("DescribeFargateProfile"),
            ["clusters", _, "addons"] => rest("ListAddons"),
            ["clusters", _, "addons", _] => rest("DescribeAddon"),
            ["clusters", _, "access-entries"] => rest("ListAccessEntries"),
            ["clusters", _, "access-entries", _] => rest("DescribeAccessEntry"),
            ["clusters", _, "access-entries", _, "access-policies"] => {
                rest("ListAssociatedAccessPolicies")
            }
            ["clusters", _, "pod-identity-associations"] => rest("ListPodIdentityAssociations"),
            ["clusters", _, "pod-identity-associations", _] => {
                rest("DescribePodIdentityAssociation")
            }
            ["clusters", _, "updates", _] => rest("DescribeUpdate"),
            ["addons", "supported-versions"] => rest("DescribeAddonVersions"),
            ["cluster-versions"] => rest("DescribeClusterVersions"),
            _ => Err(format!("an EKS read the test does not know: {call:?}")),
        },
        "elasticfilesystem" if get => match segments.as_slice() {
            ["2015-02-01", "file-systems"] => rest("DescribeFileSystems"),
            ["2015-02-01", "file-systems", _, "lifecycle-configuration"] => {
                rest("DescribeLifecycleConfiguration")
            }
            ["2015-02-01", "file-systems", _, "backup-policy"] => rest("DescribeBackupPolicy"),
            ["2015-02-01", "mount-targets"] => rest("DescribeMountTargets"),
            ["2015-02-01", "mount-targets", _, "security-groups"] => {
                rest("DescribeMountTargetSecurityGroups")
            }
            ["2015-02-01", "access-points"] => rest("DescribeAccessPoints"),
            ["2015-02-01", "resource-tags", _] => rest("ListTagsForResource"),
            _ => Err(format!("an EFS read the test does not know: {call:?}")),
        },
        "route53" if get => match segments.as_slice() {
            ["2013-04-01", "hostedzone"] => rest("ListHostedZones"),
            ["2013-04-01", "hostedzonesbyname"] => rest("ListHostedZonesByName"),
            ["2013-04-01", "hostedzone", _] => rest("GetHostedZone"),
            ["2013-04-01", "hostedzone", _, "rrset"] => rest("ListResourceRecordSets"),
            ["2013-04-01", "change", _] => rest("GetChange"),
            _ => Err(format!("a Route 53 read the test does not know: {call:?}")),
        },
        "s3" if get || call.method == "HEAD" => {
            let bucket = format!("arn:aws:s3:::{}", segments[0]);
            let query: BTreeSet<&str> = call
                .query
                .split('&')
                .map(|p| p.split('=').next().unwrap_or_default())
                .collect();
            match segments.as_slice() {
                [_] if query.contains("versions") => Ok(("s3:ListBucketVersions".into(), bucket)),
                [_] => Ok(("s3:ListBucket".into(), bucket)),
                [_, key @ ..] if get => {
                    Ok(("s3:GetObject".into(), format!("{bucket}/{}", key.join("/"))))
                }
                _ => Err(format!("an S3 call the test does not know: {call:?}")),
            }
        }
        // Query and JSON protocols name the action in the request.
        "ec2" | "iam" | "sts" | "elasticloadbalancing" | "logs" | "acm" | "ecr"
            if !call.action.contains(' ') =>
        {
            rest(&call.action)
        }
        _ => Err(format!("a call that is no read: {call:?}")),
    }
}

/// Whether a statement of the policy without conditions (reads have none)
/// allows `action` on `resource`, matched as IAM matches wildcards.
fn allows(policy: &Value, action: &str, resource: &str) -> bool {
    let list = |v: &Value| match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap().to_string())
            .collect(),
        _ => vec![],
    };
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .any(|statement| {
            statement.get("Condition").is_none()
                && list(&statement["Action"])
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(action))
                && list(&statement["Resource"]).iter().any(|r| {
                    crate::iam_policy::glob(
                        &r.replace("${aws:PrincipalAccount}", ACCOUNT),
                        resource,
                    )
                })
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_outputs_and_history_call_only_what_the_read_only_policy_grants() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "wide.yaml", &wide_spec("1.31"));
    let recorder = proxy::start(&emulator.endpoint, Behaviour::default())
        .await
        .unwrap();
    let through_recorder = |args: &[&str], spec: &std::path::Path| {
        let output = emulator
            .eksform_via(&recorder.url)
            .args(args)
            .arg(spec)
            .output()
            .unwrap();
        assert!(
            matches!(output.status.code(), Some(0 | 2)),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    // A plan of an empty account (everything to create: preflight, taken names) ...
    through_recorder(&["plan", "--detailed-exitcode"], &spec);
    // ... then, with the stack live and recorded, a plan with no changes, one
    // with changes, the outputs and the history.
    let bootstrapped = bootstrap(&emulator, &spec, &[]);
    assert_eq!(bootstrapped.status.code(), Some(0));
    apply(&emulator, &spec);
    through_recorder(&["plan", "--detailed-exitcode"], &spec);
    let changed = write_spec(&dir, "changed.yaml", &wide_spec("1.32"));
    through_recorder(&["plan", "--detailed-exitcode"], &changed);
    through_recorder(&["outputs"], &spec);
    through_recorder(&["history"], &spec);

    let policy = printed_policy(&["--read-only"]);
    let calls = recorder.recorded();
    let mut actions = BTreeSet::new();
    let mut problems = Vec::new();
    for call in &calls {
        match iam_action(call) {
            Ok((action, resource)) => {
                if !is_read(&action) {
                    problems.push(format!("{action} writes ({call:?})"));
                } else if !allows(&policy, &action, &resource) {
                    problems.push(format!("{action} on {resource} is not granted"));
                }
                actions.insert(action);
            }
            Err(problem) => problems.push(problem),
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // The recording saw what it is meant to see: each area's reads.
    for expected in [
        "sts:GetCallerIdentity",
        "ec2:DescribeVpcs",
        "eks:DescribeCluster",
        "eks:DescribeNodegroup",
        "eks:DescribeFargateProfile",
        "iam:GetAccountAuthorizationDetails",
        "iam:GetOpenIDConnectProvider",
        "elasticloadbalancing:DescribeLoadBalancers",
        "acm:DescribeCertificate",
        "route53:ListResourceRecordSets",
        "logs:DescribeLogGroups",
        "s3:ListBucket",
        "s3:GetObject",
    ] {
        assert!(
            actions.contains(expected),
            "{expected} not among {actions:?}"
        );
    }
}

/// After an upgrade of eksform the policy changes: the role gets the new
/// managed policy, the older one eksform made is detached and deleted, and
/// a policy the user attached is left alone.
#[tokio::test(flavor = "multi_thread")]
async fn an_older_eksform_policy_is_replaced_and_one_the_user_attached_is_kept() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "ci.yaml", &spec("ci"));
    let first = bootstrap(&emulator, &spec, &["--github-repo", "octo/app"]);
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeVpcs","Resource":"*"}]}"#;
    let mut arns = Vec::new();
    for (name, path) in [
        ("eksform-ci-us-east-1-plan-1-0badc0de", "/eksform-deploy/"),
        ("users-own", "/"),
    ] {
        let policy = aws
            .iam
            .create_policy()
            .policy_name(name)
            .path(path)
            .policy_document(document)
            .send()
            .await
            .unwrap();
        let arn = policy.policy().unwrap().arn().unwrap().to_string();
        aws.iam
            .attach_role_policy()
            .role_name("eksform-ci-us-east-1-plan")
            .policy_arn(&arn)
            .send()
            .await
            .unwrap();
        arns.push(arn);
    }
    let again = bootstrap(&emulator, &spec, &["--github-repo", "octo/app"]);
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    let text = stdout(&again);
    assert!(
        text.contains("replaced and deleted eksform-ci-us-east-1-plan-1-0badc0de"),
        "{text}"
    );
    assert!(!text.contains("Nothing changed"), "{text}");
    let (names, statements) = attached_statements(&aws, "eksform-ci-us-east-1-plan").await;
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"users-own".to_string()), "{names:?}");
    assert!(
        aws.iam
            .get_policy()
            .policy_arn(&arns[0])
            .send()
            .await
            .is_err(),
        "deleted"
    );
    assert!(
        aws.iam
            .get_policy()
            .policy_arn(&arns[1])
            .send()
            .await
            .is_ok(),
        "kept"
    );
    let read_only = printed_policy(&["--read-only"]);
    for statement in read_only["Statement"].as_array().unwrap() {
        assert!(statements.contains(statement), "{statement}");
    }
}
