//! `eksform iam-policy` stays true: the actions it lists are exactly the AWS
//! calls the adapter's source makes (`<client>.<operation>(` in `crates/aws/src`), plus the permissions AWS checks implicitly;
//! every one of them, made as eksform makes it (on its resources, with its
//! tags), is allowed by the printed policy, evaluated here the way IAM does;
//! the same calls on what is not eksform's are refused; and no mutating
//! action is granted on `*` unless AWS gives it no resource scope.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use eksform_core::iam_policy::{
    DEPLOY_ROLE_CALLS, IMPLIED, UNSCOPED, called, document, read_only_document,
};
use serde_json::Value;

/// The SDK client fields and the IAM service each one calls.
const CLIENTS: &[(&str, &str)] = &[
    ("ec2", "ec2"),
    ("eks", "eks"),
    ("iam", "iam"),
    ("logs", "logs"),
    ("sts", "sts"),
    ("elb", "elasticloadbalancing"),
    ("acm", "acm"),
    ("route53", "route53"),
    ("s3", "s3"),
    ("ecr", "ecr"),
    ("efs", "elasticfilesystem"),
];

/// S3 operations whose IAM action has another name.
const S3_ACTIONS: &[(&str, &str)] = &[
    ("list_objects_v2", "ListBucket"),
    ("head_bucket", "ListBucket"),
    ("put_bucket_encryption", "PutEncryptionConfiguration"),
    ("put_public_access_block", "PutBucketPublicAccessBlock"),
    ("list_object_versions", "ListBucketVersions"),
];

fn sources(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The bootstrap's deploy-role calls, which the policy does not grant.
const DEPLOY_ROLES_SOURCE: &str = "crates/aws/src/iam/deploy_roles.rs";

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Calls in `crates/aws/src` that eksform makes with a user's credentials
/// for that user, never under the policy it prints: `eksform token
/// --role-arn` assumes the user's own role (`credentials::assume_role`),
/// which that role's trust policy and the user's permissions decide.
const NOT_UNDER_THE_POLICY: &[&str] = &["sts:assumerole"];

/// `service:Action` (lower case, as IAM compares them) for every call.
fn calls_in_source() -> BTreeSet<String> {
    let mut texts = Vec::new();
    sources(Path::new("crates/aws/src"), &mut texts);
    calls_in(texts)
}

/// `service:Action` (lower case) for every call in these source texts.
fn calls_in(texts: Vec<String>) -> BTreeSet<String> {
    let mut calls = BTreeSet::new();
    for text in texts {
        // rustfmt breaks call chains over lines: read the text without whitespace.
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for (field, service) in CLIENTS {
            let needle = format!("{field}.");
            for (at, _) in text.match_indices(&needle) {
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &text[at + needle.len()..];
                let method: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if method.is_empty() || !rest[method.len()..].starts_with('(') {
                    continue;
                }
                let action = S3_ACTIONS
                    .iter()
                    .find(|(m, _)| *service == "s3" && *m == method)
                    .map_or_else(|| pascal(&method), |(_, a)| a.to_string());
                calls.insert(format!("{service}:{action}").to_ascii_lowercase());
            }
        }
    }
    calls.retain(|call| !NOT_UNDER_THE_POLICY.contains(&call.as_str()));
    calls
}

#[test]
fn the_policy_lists_exactly_the_calls_eksform_makes() {
    let calls = calls_in_source();
    assert!(
        calls.len() > 100,
        "the scan finds the calls ({})",
        calls.len()
    );
    let listed: BTreeSet<String> = called()
        .into_iter()
        .flat_map(|(service, actions)| actions.into_iter().map(move |a| format!("{service}:{a}")))
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let deploy_roles: BTreeSet<String> = DEPLOY_ROLE_CALLS
        .iter()
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let missing: Vec<&String> = calls
        .difference(&listed)
        .filter(|a| !deploy_roles.contains(*a))
        .collect();
    let unused: Vec<&String> = listed.difference(&calls).collect();
    assert!(
        missing.is_empty(),
        "called but not in the policy: {missing:?}"
    );
    assert!(
        unused.is_empty(),
        "in the policy but never called: {unused:?}"
    );
}

#[test]
fn the_printed_policy_is_the_list_plus_what_aws_implies() {
    let output = assert_cmd::Command::cargo_bin("eksform")
        .unwrap()
        .arg("iam-policy")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed, document());
    let actions: BTreeSet<String> = printed["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    for (service, action, _) in IMPLIED {
        assert!(actions.contains(&format!("{service}:{action}")));
    }
    assert!(actions.contains("eks:CreateCluster") && !actions.iter().any(|a| a.ends_with(":*")));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("AKIA") && !text.contains("secret"),
        "no credentials in output"
    );
}

/// A customer's key, as `cluster.secretsEncryption.keyARN` names it.
const KMS_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// The account the sample calls are made from.
const ACCOUNT: &str = "123456789012";

#[test]
fn the_deploy_role_calls_are_exactly_what_the_bootstrap_calls() {
    let text = std::fs::read_to_string(DEPLOY_ROLES_SOURCE).unwrap();
    let mut calls = calls_in(vec![text]);
    // Through the role adapter's `get_role` and `attached_policies` and the
    // OIDC provider adapter's `get_provider`, shared.
    calls.insert("iam:getrole".into());
    calls.insert("iam:listattachedrolepolicies".into());
    calls.insert("iam:getopenidconnectprovider".into());
    let listed: BTreeSet<String> = DEPLOY_ROLE_CALLS
        .iter()
        .map(|a| a.to_ascii_lowercase())
        .collect();
    assert_eq!(calls, listed);
}

#[test]
fn the_printed_read_only_policy_reads_and_never_writes() {
    let output = assert_cmd::Command::cargo_bin("eksform")
        .unwrap()
        .args(["iam-policy", "--read-only"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed, read_only_document());
    let actions: BTreeSet<String> = printed["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| strings(&s["Action"]))
        .collect();
    assert!(actions.contains("ec2:DescribeVpcs") && actions.contains("s3:GetObject"));
    let writes: Vec<&String> = actions.iter().filter(|a| !is_read(a)).collect();
    assert!(
        writes.is_empty(),
        "writes in the read-only policy: {writes:?}"
    );
    // Every read the full policy grants, on the same resources.
    for call in eksform_calls().iter().filter(|c| is_read(c.action)) {
        if let Err(arn) = evaluate(&printed, call) {
            panic!(
                "{} on {arn} is refused by the read-only policy",
                call.action
            );
        }
    }
    for call in eksform_calls().iter().filter(|c| !is_read(c.action)) {
        if let Ok(sids) = evaluate(&printed, call) {
            panic!(
                "{} is allowed by {sids:?} of the read-only policy",
                call.action
            );
        }
    }
}

/// The apply role holds the full policy: it must not reach the deploy roles,
/// their policies or GitHub's provider (it could give itself anything).
#[test]
fn the_full_policy_cannot_change_the_deploy_roles() {
    let policy = document();
    let deploy_role = role("eksform-deploy/eksform-dev-us-east-1-apply");
    let managed = format!(
        "arn:aws:iam::{ACCOUNT}:policy/eksform-deploy/eksform-dev-us-east-1-apply-1-0a1b2c3d"
    );
    let github =
        format!("arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com");
    let mut refused = Vec::new();
    for action in [
        "iam:AttachRolePolicy",
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:DetachRolePolicy",
        "iam:PutRolePolicy",
        "iam:TagRole",
        "iam:UpdateAssumeRolePolicy",
    ] {
        refused.push(Call::new(action).at(deploy_role.clone()));
    }
    for action in [
        "iam:CreatePolicy",
        "iam:DeletePolicy",
        "iam:CreatePolicyVersion",
    ] {
        refused.push(Call::new(action).at(managed.clone()));
    }
    for action in [
        "iam:CreateOpenIDConnectProvider",
        "iam:DeleteOpenIDConnectProvider",
        "iam:TagOpenIDConnectProvider",
    ] {
        refused.push(Call::new(action).at(github.clone()));
    }
    for call in refused {
        if let Ok(sids) = evaluate(&policy, &call) {
            panic!(
                "{} on a deploy resource is allowed by {sids:?}",
                call.action
            );
        }
    }
}

/// One authorization AWS makes for a call: the action, each resource it
/// checks with that resource's tags, and the request's own context.
struct Call {
    action: &'static str,
    resources: Vec<(String, BTreeMap<String, String>)>,
    context: BTreeMap<String, Vec<String>>,
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The mark every resource eksform makes carries.
fn marked() -> BTreeMap<String, String> {
    tags(&[
        ("eksform:stack", "web"),
        ("eksform:address", "vpc.main"),
        ("Name", "web-vpc"),
    ])
}

fn unmarked() -> BTreeMap<String, String> {
    tags(&[("Name", "someone-elses")])
}

fn ec2(kind: &str) -> String {
    format!("arn:aws:ec2:us-east-1:{ACCOUNT}:{kind}/{kind}-0abc")
}
fn eks(path: &str) -> String {
    format!("arn:aws:eks:us-east-1:{ACCOUNT}:{path}")
}
fn elb(path: &str) -> String {
    format!("arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:{path}")
}
fn role(path: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{path}")
}
const EKS_ROLE: &str = "eksform/us-east-1/web/web-cluster";
const CLUSTER: &str = "cluster/web";
const NODEGROUP: &str = "nodegroup/web/general/8ec4";
const CERTIFICATE: &str = "certificate/1f2e";
const ISSUER: &str = "oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABCD";

impl Call {
    fn new(action: &'static str) -> Self {
        let mut context = BTreeMap::new();
        context.insert("aws:PrincipalAccount".into(), vec![ACCOUNT.into()]);
        Self {
            action,
            resources: vec![],
            context,
        }
    }

    /// A resource the call acts on, with its tags.
    fn on(mut self, arn: impl Into<String>, tags: BTreeMap<String, String>) -> Self {
        self.resources.push((arn.into(), tags));
        self
    }

    /// A resource without tags (IAM, S3, Route 53, log groups, new ones).
    fn at(self, arn: impl Into<String>) -> Self {
        self.on(arn, BTreeMap::new())
    }

    /// Tags sent in the request.
    fn tagging(mut self, tags: BTreeMap<String, String>) -> Self {
        for (k, v) in &tags {
            self.context
                .insert(format!("aws:RequestTag/{k}"), vec![v.clone()]);
        }
        self.context
            .insert("aws:TagKeys".into(), tags.keys().cloned().collect());
        self
    }

    fn with(mut self, key: &str, value: &str) -> Self {
        self.context.insert(key.into(), vec![value.into()]);
        self
    }

    /// A create with the mark: the new resource is checked with the request's tags.
    fn creating(self, arn: impl Into<String>) -> Self {
        self.at(arn).tagging(marked())
    }
}

/// Every call eksform makes, as it makes it: on its own resources, carrying
/// its mark, and on the foreign resources it touches by design.
fn eksform_calls() -> Vec<Call> {
    let mut calls = vec![Call::new("sts:GetCallerIdentity").at("*")];
    // Reads: on anything, marked or not (observation filters by the mark).
    for (service, actions) in called() {
        for action in actions {
            if is_read(action) && !matches!(service, "s3" | "iam") {
                let name: &'static str = Box::leak(format!("{service}:{action}").into_boxed_str());
                calls.push(Call::new(name).on(ec2("vpc"), unmarked()));
            }
        }
    }
    // The state bucket.
    let bucket = format!("arn:aws:s3:::eksform-state-{ACCOUNT}-us-east-1");
    for action in [
        "s3:CreateBucket",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration",
    ] {
        calls.push(Call::new(action).at(bucket.clone()));
    }
    for action in [
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
    ] {
        calls.push(Call::new(action).at(format!("{bucket}/locks/web.json")));
    }
    // IAM: roles under the path, today's and the earlier one.
    for (_, actions) in called().into_iter().filter(|(s, _)| *s == "iam") {
        for action in actions.into_iter().filter(|a| a.contains("Role")) {
            let name: &'static str = Box::leak(format!("iam:{action}").into_boxed_str());
            calls.push(Call::new(name).at(role(EKS_ROLE)));
            calls.push(Call::new(name).at(role("eksform/web/web-node")));
        }
    }
    calls.push(
        Call::new("iam:PassRole")
            .at(role(EKS_ROLE))
            .with("iam:PassedToService", "eks.amazonaws.com"),
    );
    // Secrets encryption: EKS reads the key and takes a grant as the caller.
    for action in ["kms:DescribeKey", "kms:CreateGrant"] {
        calls.push(
            Call::new(action)
                .at(KMS_KEY)
                .with("kms:ViaService", "eks.us-east-1.amazonaws.com"),
        );
    }
    for service in [
        "eks.amazonaws.com",
        "eks-nodegroup.amazonaws.com",
        "eks-fargate.amazonaws.com",
        "elasticfilesystem.amazonaws.com",
        "elasticloadbalancing.amazonaws.com",
    ] {
        calls.push(
            Call::new("iam:CreateServiceLinkedRole")
                .at(role(&format!("aws-service-role/{service}/AWSServiceRole")))
                .with("iam:AWSServiceName", service),
        );
    }
    for action in [
        "iam:CreateOpenIDConnectProvider",
        "iam:DeleteOpenIDConnectProvider",
        "iam:GetOpenIDConnectProvider",
        "iam:TagOpenIDConnectProvider",
        "iam:UntagOpenIDConnectProvider",
    ] {
        calls.push(Call::new(action).at(format!("arn:aws:iam::{ACCOUNT}:{ISSUER}")));
        calls.push(Call::new(action).at(format!(
            "arn:aws-cn:iam::{ACCOUNT}:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABCD"
        )));
    }
    for action in [
        "iam:GetAccountAuthorizationDetails",
        "iam:ListOpenIDConnectProviders",
    ] {
        calls.push(Call::new(action).at("*"));
    }
    // EC2 creates: the new resource with the mark, tagged through the create,
    // in the stack's own VPC / subnet / address.
    for (action, kind, parents) in [
        ("ec2:CreateVpc", "vpc", &[][..]),
        ("ec2:CreateSubnet", "subnet", &["vpc"][..]),
        ("ec2:CreateInternetGateway", "internet-gateway", &[][..]),
        ("ec2:AllocateAddress", "elastic-ip", &[][..]),
        (
            "ec2:CreateNatGateway",
            "natgateway",
            &["subnet", "elastic-ip"][..],
        ),
        ("ec2:CreateRouteTable", "route-table", &["vpc"][..]),
        ("ec2:CreateSecurityGroup", "security-group", &["vpc"][..]),
    ] {
        let mut call = Call::new(action).creating(ec2(kind));
        for parent in parents {
            call = call.on(ec2(parent), marked());
        }
        calls.push(call);
        calls.push(
            Call::new("ec2:CreateTags")
                .creating(ec2(kind))
                .with("ec2:CreateAction", action.trim_start_matches("ec2:")),
        );
    }
    // Preflight: any managed policy the spec attaches, any principal an
    // access entry names, whoever made them.
    calls.push(Call::new("iam:GetPolicy").at("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"));
    calls.push(Call::new("iam:GetPolicy").at(format!("arn:aws:iam::{ACCOUNT}:policy/apps-read")));
    calls.push(Call::new("iam:GetRole").at(role("platform-admins")));
    calls.push(Call::new("iam:GetUser").at(format!("arn:aws:iam::{ACCOUNT}:user/alice")));
    // A security group in a brought VPC.
    calls.push(
        Call::new("ec2:CreateSecurityGroup")
            .creating(ec2("security-group"))
            .on(ec2("vpc"), unmarked()),
    );
    // EC2 changes and deletes of the stack's resources.
    for (action, kinds) in [
        ("ec2:AssociateRouteTable", &["route-table", "subnet"][..]),
        (
            "ec2:AttachInternetGateway",
            &["internet-gateway", "vpc"][..],
        ),
        (
            "ec2:DetachInternetGateway",
            &["internet-gateway", "vpc"][..],
        ),
        ("ec2:DisassociateRouteTable", &["route-table", "subnet"][..]),
        ("ec2:CreateRoute", &["route-table", "natgateway"][..]),
        ("ec2:ReplaceRoute", &["route-table", "internet-gateway"][..]),
        ("ec2:DeleteRoute", &["route-table"][..]),
        ("ec2:ModifySubnetAttribute", &["subnet"][..]),
        ("ec2:ModifyVpcAttribute", &["vpc"][..]),
        ("ec2:DeleteVpc", &["vpc"][..]),
        ("ec2:DeleteSubnet", &["subnet"][..]),
        ("ec2:DeleteInternetGateway", &["internet-gateway"][..]),
        ("ec2:DeleteNatGateway", &["natgateway"][..]),
        ("ec2:DeleteRouteTable", &["route-table"][..]),
        ("ec2:DeleteSecurityGroup", &["security-group"][..]),
        ("ec2:ReleaseAddress", &["elastic-ip"][..]),
        ("ec2:DeleteTags", &["vpc", "subnet", "natgateway"][..]),
    ] {
        let mut call = Call::new(action);
        for kind in kinds {
            call = call.on(ec2(kind), marked());
        }
        calls.push(call);
    }
    calls.push(
        Call::new("ec2:CreateTags")
            .on(ec2("route-table"), marked())
            .tagging(tags(&[("team", "edge")])),
    );
    for action in [
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
    ] {
        calls.push(
            Call::new(action)
                .on(ec2("security-group"), marked())
                .at(ec2("security-group-rule")),
        );
    }
    // A brought VPC's subnets get the Kubernetes tags.
    calls.push(
        Call::new("ec2:CreateTags")
            .on(ec2("subnet"), unmarked())
            .tagging(tags(&[
                ("kubernetes.io/role/internal-elb", "1"),
                ("kubernetes.io/cluster/web", "shared"),
            ])),
    );
    // The controller's leftovers, deleted by destroy.
    let controller = tags(&[
        ("elbv2.k8s.aws/cluster", "web"),
        ("service.k8s.aws/stack", "app/front"),
    ]);
    calls.push(Call::new("ec2:DeleteSecurityGroup").on(ec2("security-group"), controller.clone()));
    calls.push(Call::new("elasticloadbalancing:DeleteLoadBalancer").on(
        elb("loadbalancer/app/k8s-app-front/50dc"),
        controller.clone(),
    ));
    calls.push(
        Call::new("elasticloadbalancing:DeleteTargetGroup")
            .on(elb("targetgroup/k8s-app-front/73e2"), controller),
    );
    // EKS.
    for (action, new) in [
        ("eks:CreateCluster", CLUSTER),
        ("eks:CreateNodegroup", NODEGROUP),
        (
            "eks:CreateFargateProfile",
            "fargateprofile/web/default/9a1c",
        ),
        ("eks:CreateAddon", "addon/web/vpc-cni/3c2b"),
        (
            "eks:CreatePodIdentityAssociation",
            "podidentityassociation/web/a-1",
        ),
        (
            "eks:CreateAccessEntry",
            "access-entry/web/role/123456789012/ci/7d4e",
        ),
    ] {
        let mut call = Call::new(action).creating(eks(new));
        if new != CLUSTER {
            call = call.on(eks(CLUSTER), marked());
        }
        calls.push(call);
    }
    for (action, on) in [
        ("eks:DeleteCluster", CLUSTER),
        ("eks:UpdateClusterConfig", CLUSTER),
        ("eks:AssociateEncryptionConfig", CLUSTER),
        ("eks:UpdateClusterVersion", CLUSTER),
        ("eks:TagResource", CLUSTER),
        ("eks:UntagResource", NODEGROUP),
        ("eks:DeleteNodegroup", NODEGROUP),
        ("eks:UpdateNodegroupConfig", NODEGROUP),
        ("eks:UpdateNodegroupVersion", NODEGROUP),
        (
            "eks:DeleteFargateProfile",
            "fargateprofile/web/default/9a1c",
        ),
        ("eks:DeleteAddon", "addon/web/vpc-cni/3c2b"),
        ("eks:UpdateAddon", "addon/web/vpc-cni/3c2b"),
        (
            "eks:DeletePodIdentityAssociation",
            "podidentityassociation/web/a-1",
        ),
        (
            "eks:UpdatePodIdentityAssociation",
            "podidentityassociation/web/a-1",
        ),
        (
            "eks:DeleteAccessEntry",
            "access-entry/web/role/123456789012/ci/7d4e",
        ),
    ] {
        calls.push(Call::new(action).on(eks(on), marked()));
    }
    for action in ["eks:AssociateAccessPolicy", "eks:DisassociateAccessPolicy"] {
        calls.push(
            Call::new(action)
                .on(eks("access-entry/web/role/123456789012/ci/7d4e"), marked())
                .at("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"),
        );
    }
    // ELBv2.
    for (action, new) in [
        ("CreateLoadBalancer", "loadbalancer/app/web-front/50dc"),
        ("CreateTargetGroup", "targetgroup/web-blue/73e2"),
        ("CreateListener", "listener/app/web-front/50dc/9f1a"),
    ] {
        let name: &'static str =
            Box::leak(format!("elasticloadbalancing:{action}").into_boxed_str());
        let mut call = Call::new(name).creating(elb(new));
        if action == "CreateListener" {
            call = call
                .on(elb("loadbalancer/app/web-front/50dc"), marked())
                .on(elb("targetgroup/web-blue/73e2"), marked());
        }
        calls.push(call);
        calls.push(
            Call::new("elasticloadbalancing:AddTags")
                .creating(elb(new))
                .with("elasticloadbalancing:CreateAction", action),
        );
    }
    for (action, on) in [
        ("AddTags", "loadbalancer/app/web-front/50dc"),
        ("RemoveTags", "targetgroup/web-blue/73e2"),
        ("DeleteLoadBalancer", "loadbalancer/app/web-front/50dc"),
        ("DeleteTargetGroup", "targetgroup/web-blue/73e2"),
        ("DeleteListener", "listener/app/web-front/50dc/9f1a"),
        ("ModifyListener", "listener/app/web-front/50dc/9f1a"),
        (
            "ModifyLoadBalancerAttributes",
            "loadbalancer/app/web-front/50dc",
        ),
        ("ModifyTargetGroup", "targetgroup/web-blue/73e2"),
        ("SetSecurityGroups", "loadbalancer/app/web-front/50dc"),
        ("SetSubnets", "loadbalancer/app/web-front/50dc"),
    ] {
        let name: &'static str =
            Box::leak(format!("elasticloadbalancing:{action}").into_boxed_str());
        calls.push(Call::new(name).on(elb(on), marked()));
    }
    // ACM.
    let certificate = format!("arn:aws:acm:us-east-1:{ACCOUNT}:{CERTIFICATE}");
    calls.push(Call::new("acm:RequestCertificate").creating("*"));
    calls.push(Call::new("acm:AddTagsToCertificate").creating(certificate.clone()));
    for action in [
        "acm:AddTagsToCertificate",
        "acm:RemoveTagsFromCertificate",
        "acm:DeleteCertificate",
    ] {
        calls.push(Call::new(action).on(certificate.clone(), marked()));
    }
    // Logs.
    for action in [
        "logs:CreateLogGroup",
        "logs:DeleteLogGroup",
        "logs:DeleteRetentionPolicy",
        "logs:PutRetentionPolicy",
        "logs:TagResource",
        "logs:UntagResource",
    ] {
        calls.push(Call::new(action).at(format!(
            "arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/eks/web/cluster:*"
        )));
    }
    // ECR: a repository created with the mark; changes of marked ones.
    let repository = format!("arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team/app");
    calls.push(Call::new("ecr:CreateRepository").creating(repository.clone()));
    calls.push(Call::new("ecr:TagResource").creating(repository.clone()));
    for action in [
        "ecr:DeleteLifecyclePolicy",
        "ecr:DeleteRepository",
        "ecr:DeleteRepositoryPolicy",
        "ecr:PutImageScanningConfiguration",
        "ecr:PutImageTagMutability",
        "ecr:PutLifecyclePolicy",
        "ecr:SetRepositoryPolicy",
        "ecr:TagResource",
        "ecr:UntagResource",
    ] {
        calls.push(Call::new(action).on(repository.clone(), marked()));
    }
    // EFS: a file system and an access point created with the mark; changes
    // of marked ones, mount targets' calls on their file system; the mount
    // targets' network interfaces.
    let file_system = format!("arn:aws:elasticfilesystem:us-east-1:{ACCOUNT}:file-system/fs-0123");
    let access_point =
        format!("arn:aws:elasticfilesystem:us-east-1:{ACCOUNT}:access-point/fsap-0123");
    for action in [
        "elasticfilesystem:CreateFileSystem",
        "elasticfilesystem:TagResource",
    ] {
        calls.push(Call::new(action).creating(file_system.clone()));
    }
    calls.push(Call::new("elasticfilesystem:CreateAccessPoint").creating(access_point.clone()));
    for action in [
        "elasticfilesystem:CreateMountTarget",
        "elasticfilesystem:DeleteFileSystem",
        "elasticfilesystem:DeleteMountTarget",
        "elasticfilesystem:ModifyMountTargetSecurityGroups",
        "elasticfilesystem:PutBackupPolicy",
        "elasticfilesystem:PutLifecycleConfiguration",
        "elasticfilesystem:TagResource",
        "elasticfilesystem:UntagResource",
        "elasticfilesystem:UpdateFileSystem",
    ] {
        calls.push(Call::new(action).on(file_system.clone(), marked()));
    }
    for action in [
        "elasticfilesystem:DeleteAccessPoint",
        "elasticfilesystem:TagResource",
        "elasticfilesystem:UntagResource",
    ] {
        calls.push(Call::new(action).on(access_point.clone(), marked()));
    }
    calls.push(
        Call::new("ec2:CreateNetworkInterface")
            .at(ec2("network-interface"))
            .at(ec2("subnet"))
            .at(ec2("security-group")),
    );
    calls.push(Call::new("ec2:DescribeNetworkInterfaces").at("*"));
    for action in [
        "ec2:DeleteNetworkInterface",
        "ec2:ModifyNetworkInterfaceAttribute",
    ] {
        calls.push(Call::new(action).at(ec2("network-interface")));
    }
    // Route 53: the zone eksform made, or one the spec brought.
    calls.push(Call::new("route53:CreateHostedZone").at("*"));
    for action in [
        "route53:ChangeResourceRecordSets",
        "route53:DeleteHostedZone",
        "route53:UpdateHostedZoneComment",
    ] {
        calls.push(Call::new(action).at("arn:aws:route53:::hostedzone/Z0123"));
    }
    calls
}

/// The same calls on what is not eksform's, or beyond what it needs: each
/// must be refused.
fn refused_calls() -> Vec<(&'static str, Call)> {
    let foreign_bucket = "arn:aws:s3:::company-data";
    vec![
        (
            "an ECR repository without the mark deleted",
            Call::new("ecr:DeleteRepository").on(
                format!("arn:aws:ecr:us-east-1:{ACCOUNT}:repository/someone/else"),
                unmarked(),
            ),
        ),
        (
            "an ECR repository created without the mark",
            Call::new("ecr:CreateRepository")
                .at(format!(
                    "arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team/app"
                ))
                .tagging(tags(&[("Name", "x")])),
        ),
        (
            "an ECR repository's policy set without the mark",
            Call::new("ecr:SetRepositoryPolicy").on(
                format!("arn:aws:ecr:us-east-1:{ACCOUNT}:repository/someone/else"),
                unmarked(),
            ),
        ),
        (
            "an EFS file system without the mark deleted",
            Call::new("elasticfilesystem:DeleteFileSystem").on(
                format!("arn:aws:elasticfilesystem:us-east-1:{ACCOUNT}:file-system/fs-other"),
                unmarked(),
            ),
        ),
        (
            "a mount target added to an EFS file system without the mark",
            Call::new("elasticfilesystem:CreateMountTarget").on(
                format!("arn:aws:elasticfilesystem:us-east-1:{ACCOUNT}:file-system/fs-other"),
                unmarked(),
            ),
        ),
        (
            "an EFS file system created without the mark",
            Call::new("elasticfilesystem:CreateFileSystem")
                .at(format!(
                    "arn:aws:elasticfilesystem:us-east-1:{ACCOUNT}:file-system/fs-new"
                ))
                .tagging(tags(&[("Name", "x")])),
        ),
        (
            "a VPC without the mark deleted",
            Call::new("ec2:DeleteVpc").on(ec2("vpc"), unmarked()),
        ),
        (
            "a security group without the mark deleted",
            Call::new("ec2:DeleteSecurityGroup").on(ec2("security-group"), unmarked()),
        ),
        (
            "an ingress rule added to a group without the mark",
            Call::new("ec2:AuthorizeSecurityGroupIngress")
                .on(ec2("security-group"), unmarked())
                .at(ec2("security-group-rule")),
        ),
        (
            "a VPC created without the mark",
            Call::new("ec2:CreateVpc")
                .at(ec2("vpc"))
                .tagging(tags(&[("Name", "x")])),
        ),
        (
            "a subnet created in a VPC without the mark",
            Call::new("ec2:CreateSubnet")
                .creating(ec2("subnet"))
                .on(ec2("vpc"), unmarked()),
        ),
        (
            "the mark put on a foreign subnet",
            Call::new("ec2:CreateTags")
                .on(ec2("subnet"), unmarked())
                .tagging(tags(&[("eksform:stack", "web")])),
        ),
        (
            "the mark put on a foreign VPC with Kubernetes tags",
            Call::new("ec2:CreateTags")
                .on(ec2("vpc"), unmarked())
                .tagging(tags(&[
                    ("kubernetes.io/role/elb", "1"),
                    ("eksform:stack", "web"),
                ])),
        ),
        (
            "a tag removed from a foreign subnet",
            Call::new("ec2:DeleteTags").on(ec2("subnet"), unmarked()),
        ),
        (
            "a role outside eksform's path created",
            Call::new("iam:CreateRole").at(role("admin")),
        ),
        (
            "a policy attached to a role outside eksform's path",
            Call::new("iam:AttachRolePolicy").at(role("OrganizationAccountAccessRole")),
        ),
        (
            "eksform's role passed to EC2",
            Call::new("iam:PassRole")
                .at(role(EKS_ROLE))
                .with("iam:PassedToService", "ec2.amazonaws.com"),
        ),
        (
            "a grant on a KMS key made directly, not through EKS",
            Call::new("kms:CreateGrant").at(KMS_KEY),
        ),
        (
            "a foreign role passed to EKS",
            Call::new("iam:PassRole")
                .at(role("admin"))
                .with("iam:PassedToService", "eks.amazonaws.com"),
        ),
        (
            "a service-linked role of another service",
            Call::new("iam:CreateServiceLinkedRole")
                .at(role(
                    "aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS",
                ))
                .with("iam:AWSServiceName", "rds.amazonaws.com"),
        ),
        (
            "a non-EKS OIDC provider deleted",
            Call::new("iam:DeleteOpenIDConnectProvider").at(format!(
                "arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
            )),
        ),
        (
            "an object of another bucket written",
            Call::new("s3:PutObject").at(format!("{foreign_bucket}/x")),
        ),
        (
            "another account's state bucket read",
            Call::new("s3:GetObject").at("arn:aws:s3:::eksform-state-999999999999-us-east-1/x"),
        ),
        (
            "another bucket's versioning changed",
            Call::new("s3:PutBucketVersioning").at(foreign_bucket),
        ),
        (
            "a cluster without the mark deleted",
            Call::new("eks:DeleteCluster").on(eks("cluster/prod"), unmarked()),
        ),
        (
            "a cluster created without the mark",
            Call::new("eks:CreateCluster").at(eks("cluster/prod")),
        ),
        (
            "a node group added to a cluster without the mark",
            Call::new("eks:CreateNodegroup")
                .creating(eks("nodegroup/prod/x/1"))
                .on(eks("cluster/prod"), unmarked()),
        ),
        (
            "a load balancer neither eksform's nor the controller's deleted",
            Call::new("elasticloadbalancing:DeleteLoadBalancer")
                .on(elb("loadbalancer/app/prod/1"), unmarked()),
        ),
        (
            "a listener added to a foreign load balancer",
            Call::new("elasticloadbalancing:CreateListener")
                .creating(elb("listener/app/prod/1/2"))
                .on(elb("loadbalancer/app/prod/1"), unmarked()),
        ),
        (
            "a foreign load balancer tagged",
            Call::new("elasticloadbalancing:AddTags")
                .on(elb("loadbalancer/app/prod/1"), unmarked())
                .tagging(tags(&[("eksform:stack", "web")])),
        ),
        (
            "a certificate without the mark deleted",
            Call::new("acm:DeleteCertificate").on(
                format!("arn:aws:acm:us-east-1:{ACCOUNT}:certificate/9"),
                unmarked(),
            ),
        ),
        (
            "a log group outside /aws/eks deleted",
            Call::new("logs:DeleteLogGroup").at(format!(
                "arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app/prod:*"
            )),
        ),
    ]
}

fn is_read(action: &str) -> bool {
    eksform_core::iam_policy::is_read(action)
}

/// IAM's wildcard match: `*` any run of characters, `?` one.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap().to_string())
            .collect(),
        other => panic!("not a string or list: {other}"),
    }
}

/// Whether one condition block holds in `context`; an operator this
/// evaluator does not know fails the test rather than passing silently.
fn condition_holds(
    operator: &str,
    key: &str,
    wanted: &[String],
    context: &BTreeMap<String, Vec<String>>,
) -> bool {
    let present = context.get(key);
    match operator {
        "Null" => match wanted {
            [w] if w == "false" => present.is_some(),
            [w] if w == "true" => present.is_none(),
            _ => panic!("Null takes true or false"),
        },
        "StringEquals" => present.is_some_and(|vs| vs.iter().any(|v| wanted.contains(v))),
        "StringLike" => {
            present.is_some_and(|vs| vs.iter().any(|v| wanted.iter().any(|w| glob(w, v))))
        }
        "ForAllValues:StringLike" => {
            present.is_none_or(|vs| vs.iter().all(|v| wanted.iter().any(|w| glob(w, v))))
        }
        other => panic!("the evaluator does not know the operator {other}"),
    }
}

/// The Sid of the first statement allowing `action` on `resource` in `context`.
fn allowing(
    policy: &Value,
    action: &str,
    resource: &str,
    context: &BTreeMap<String, Vec<String>>,
) -> Option<String> {
    let account = &context["aws:PrincipalAccount"][0];
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|statement| {
            assert_eq!(statement["Effect"], "Allow");
            let acts = strings(&statement["Action"]);
            if !acts
                .iter()
                .any(|a| glob(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
            {
                return None;
            }
            let on = strings(&statement["Resource"])
                .iter()
                .any(|r| glob(&r.replace("${aws:PrincipalAccount}", account), resource));
            if !on {
                return None;
            }
            let conditions = statement.get("Condition").and_then(Value::as_object);
            let holds =
                conditions.into_iter().flatten().all(|(operator, block)| {
                    block.as_object().unwrap().iter().all(|(key, values)| {
                        condition_holds(operator, key, &strings(values), context)
                    })
                });
            holds.then(|| statement["Sid"].as_str().unwrap().to_string())
        })
}

/// The statements allowing a call (one per resource AWS checks), or the
/// first resource none allows.
fn evaluate(policy: &Value, call: &Call) -> Result<Vec<String>, String> {
    assert!(
        !call.resources.is_empty(),
        "{} names a resource",
        call.action
    );
    call.resources
        .iter()
        .map(|(arn, resource_tags)| {
            let mut context = call.context.clone();
            for (k, v) in resource_tags {
                context.insert(format!("aws:ResourceTag/{k}"), vec![v.clone()]);
            }
            allowing(policy, call.action, arn, &context).ok_or_else(|| arn.clone())
        })
        .collect()
}

#[test]
fn every_call_eksform_makes_is_allowed_and_says_by_which_statement() {
    let policy = document();
    let calls = eksform_calls();
    let mut by_action: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for call in &calls {
        match evaluate(&policy, call) {
            Ok(sids) => by_action
                .entry(call.action.to_ascii_lowercase())
                .or_default()
                .extend(sids),
            Err(arn) => panic!("{} on {arn} is refused by the policy", call.action),
        }
    }
    // Every action the source calls, and every one AWS implies, is among the
    // calls made here.
    // The bootstrap's deploy-role calls the engine never makes are not
    // granted, by design (`the_full_policy_cannot_change_the_deploy_roles`).
    let granted: BTreeSet<String> = called()
        .into_iter()
        .flat_map(|(service, actions)| actions.into_iter().map(move |a| format!("{service}:{a}")))
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let deploy_only: BTreeSet<String> = DEPLOY_ROLE_CALLS
        .iter()
        .map(|a| a.to_ascii_lowercase())
        .filter(|a| !granted.contains(a))
        .collect();
    let mut needed = calls_in_source();
    needed.extend(
        IMPLIED
            .iter()
            .map(|(s, a, _)| format!("{s}:{a}").to_ascii_lowercase()),
    );
    let untried: Vec<&String> = needed
        .iter()
        .filter(|a| !by_action.contains_key(*a))
        .filter(|a| !deploy_only.contains(*a))
        .collect();
    assert!(untried.is_empty(), "no sample call for {untried:?}");
    // What allows what, for a reader of the test's output.
    for (action, sids) in &by_action {
        println!("{action}: {sids:?}");
    }
}

#[test]
fn the_same_calls_on_what_is_not_eksforms_are_refused() {
    let policy = document();
    for (what, call) in refused_calls() {
        if let Ok(sids) = evaluate(&policy, &call) {
            panic!("{what} ({}) is allowed by {sids:?}", call.action);
        }
    }
}

#[test]
fn nothing_mutating_is_granted_on_every_resource_unless_aws_offers_no_scope() {
    let policy = document();
    let mut unscoped_used = BTreeSet::new();
    for statement in policy["Statement"].as_array().unwrap() {
        let resources = strings(&statement["Resource"]);
        if !resources.iter().any(|r| r == "*") {
            assert!(
                resources.iter().all(|r| r.starts_with("arn:")),
                "{statement}"
            );
            continue;
        }
        for action in strings(&statement["Action"]) {
            if is_read(&action) {
                continue;
            }
            assert!(
                UNSCOPED.iter().any(|(a, _)| *a == action),
                "{action} is granted on \"*\" in {} but is not on the list of actions AWS gives no resource scope",
                statement["Sid"]
            );
            unscoped_used.insert(action);
        }
    }
    for (action, reason) in UNSCOPED {
        assert!(!reason.is_empty());
        assert!(
            unscoped_used.contains(*action),
            "{action} is listed as unscoped but no statement grants it on \"*\""
        );
    }
}

#[test]
fn the_policy_grants_exactly_the_listed_and_implied_actions() {
    let policy = document();
    let granted: BTreeSet<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| strings(&s["Action"]))
        .collect();
    let mut wanted: BTreeSet<String> = called()
        .into_iter()
        .flat_map(|(service, actions)| actions.into_iter().map(move |a| format!("{service}:{a}")))
        .collect();
    wanted.extend(IMPLIED.iter().map(|(s, a, _)| format!("{s}:{a}")));
    assert_eq!(granted, wanted);
    let sids: Vec<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        sids.iter().collect::<BTreeSet<_>>().len(),
        sids.len(),
        "Sids are unique"
    );
    assert!(
        sids.iter()
            .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric())),
        "IAM takes only letters and digits in a Sid: {sids:?}"
    );
}
