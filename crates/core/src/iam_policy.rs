//! `eksform iam-policy`: the least-privilege IAM policy eksform itself needs:
//! exactly the actions its adapters call (`called`: each kind's
//! `iam_actions`, checked against the source by `tests/it/iam_policy.rs` and
//! `tests/it/registry.rs`) plus the ones AWS checks without a call of
//! that name (`IMPLIED`), each granted by the statements of `GRANTS` on no
//! more than eksform's own resources where AWS lets a policy say so:
//!
//! - IAM roles under eksform's path (`/eksform/...`), OIDC providers of EKS
//!   issuers, log groups under `/aws/eks/`, the state bucket of the account;
//! - `iam:PassRole` of eksform's roles to EKS only;
//! - EC2, EKS, ELBv2, ACM, ECR and EFS creates only with the stack tag in the request
//!   (`aws:RequestTag/eksform:stack`), changes and deletes only of resources
//!   that carry it (`aws:ResourceTag/eksform:stack`), tagging at create only
//!   through the create (`ec2:CreateAction`, `elasticloadbalancing:CreateAction`);
//! - the few calls on resources eksform does not own by design, each scoped by
//!   the tags those resources carry (see the statements' comments).
//!
//! The stack tag is asked to be present, not to name one stack: the policy is
//! one for every stack of the account. Reads stay on `*`: observing lists
//! everything and keeps what carries the mark, so no read can be scoped by it.

use std::collections::{BTreeMap, BTreeSet};

/// The calls eksform makes beyond its kinds' adapters: the account guard,
/// the plan's preflight reads (`preflight`), and the state bucket (`eksform
/// bootstrap`, the apply lock, the history).
pub const ENGINE_CALLS: &[&str] = &[
    "sts:GetCallerIdentity",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeInstanceTypeOfferings",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeAddresses",
    "ec2:DescribeNatGateways",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "eks:DescribeClusterVersions",
    "iam:GetPolicy",
    "iam:GetRole",
    "iam:GetUser",
    "s3:CreateBucket",
    "s3:DeleteObject",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutObject",
];

/// The actions eksform calls, by IAM service prefix: every registered
/// kind's `iam_actions` and the `ENGINE_CALLS`.
pub fn called() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let mut called: BTreeMap<&'static str, BTreeSet<&'static str>> = BTreeMap::new();
    let kinds = crate::kinds::ALL.iter().flat_map(|kind| kind.iam_actions());
    for action in kinds.chain(ENGINE_CALLS) {
        let (service, name) = action.split_once(':').unwrap_or(("", action));
        called.entry(service).or_default().insert(name);
    }
    called
}

/// Permissions AWS checks beyond the calls themselves, with the reason.
pub const IMPLIED: &[(&str, &str, &str)] = &[
    (
        "iam",
        "PassRole",
        "CreateCluster, CreateNodegroup, CreateFargateProfile, CreateAddon and CreatePodIdentityAssociation hand a role to EKS",
    ),
    (
        "iam",
        "CreateServiceLinkedRole",
        "the first cluster or load balancer of an account makes AWS's service-linked role",
    ),
    (
        "kms",
        "DescribeKey",
        "CreateCluster and AssociateEncryptionConfig read the secrets encryption key as the caller",
    ),
    (
        "kms",
        "CreateGrant",
        "CreateCluster and AssociateEncryptionConfig give EKS a grant on the secrets encryption key as the caller",
    ),
    (
        "ec2",
        "CreateNetworkInterface",
        "CreateMountTarget makes the mount target's network interface as the caller",
    ),
    (
        "ec2",
        "DescribeNetworkInterfaces",
        "CreateMountTarget reads the subnet's network interfaces as the caller",
    ),
    (
        "ec2",
        "DeleteNetworkInterface",
        "DeleteMountTarget deletes the mount target's network interface as the caller",
    ),
    (
        "ec2",
        "ModifyNetworkInterfaceAttribute",
        "ModifyMountTargetSecurityGroups changes the network interface's groups as the caller",
    ),
    (
        "s3",
        "DeleteObjectVersion",
        "releasing a lock deletes the version of the lock object it wrote",
    ),
];

/// One statement: `actions` on `resources` when every condition holds.
pub struct Grant {
    pub sid: &'static str,
    pub actions: &'static [&'static str],
    pub resources: &'static [&'static str],
    /// `(operator, key, values)`; several with one operator are merged.
    pub conditions: &'static [Condition],
}

pub type Condition = (&'static str, &'static str, &'static [&'static str]);

/// The request carries the stack tag: a create that marks what it makes.
const MARKING: Condition = ("Null", "aws:RequestTag/eksform:stack", &["false"]);
/// The resource carries the stack tag: one of eksform's (of any stack).
const MARKED: Condition = ("Null", "aws:ResourceTag/eksform:stack", &["false"]);
/// The resource was made by the AWS Load Balancer Controller, which tags
/// everything it makes with `elbv2.k8s.aws/cluster=<cluster>`.
const CONTROLLER_MADE: Condition = ("Null", "aws:ResourceTag/elbv2.k8s.aws/cluster", &["false"]);

/// The EC2 resource types eksform makes (and marks).
const EC2_MADE: &[&str] = &[
    "arn:*:ec2:*:*:vpc/*",
    "arn:*:ec2:*:*:subnet/*",
    "arn:*:ec2:*:*:internet-gateway/*",
    "arn:*:ec2:*:*:elastic-ip/*",
    "arn:*:ec2:*:*:natgateway/*",
    "arn:*:ec2:*:*:route-table/*",
    "arn:*:ec2:*:*:security-group/*",
];

/// The EC2 creates, as `ec2:CreateAction` names them (no service prefix).
const EC2_CREATES: &[&str] = &[
    "AllocateAddress",
    "CreateInternetGateway",
    "CreateNatGateway",
    "CreateRouteTable",
    "CreateSecurityGroup",
    "CreateSubnet",
    "CreateVpc",
];

/// The EKS resource types eksform makes (and marks).
const EKS_MADE: &[&str] = &[
    "arn:*:eks:*:*:cluster/*",
    "arn:*:eks:*:*:nodegroup/*",
    "arn:*:eks:*:*:fargateprofile/*",
    "arn:*:eks:*:*:addon/*",
    "arn:*:eks:*:*:access-entry/*",
    "arn:*:eks:*:*:podidentityassociation/*",
];

/// The ELBv2 resource types eksform makes (and marks).
const ELB_MADE: &[&str] = &[
    "arn:*:elasticloadbalancing:*:*:loadbalancer/app/*",
    "arn:*:elasticloadbalancing:*:*:loadbalancer/net/*",
    "arn:*:elasticloadbalancing:*:*:targetgroup/*",
    "arn:*:elasticloadbalancing:*:*:listener/app/*",
    "arn:*:elasticloadbalancing:*:*:listener/net/*",
];

/// ECR repositories (`registries`; their names are the user's, so only the
/// mark tells eksform's).
const ECR_REPOSITORIES: &[&str] = &["arn:*:ecr:*:*:repository/*"];

/// EFS file systems and access points (`storage.efs`): their ids are EFS's,
/// so only the mark tells eksform's.
const EFS_MADE: &[&str] = &[
    "arn:*:elasticfilesystem:*:*:file-system/*",
    "arn:*:elasticfilesystem:*:*:access-point/*",
];

/// eksform's roles: `/eksform/<region>/<stack>/` (earlier `/eksform/<stack>/`).
const ROLES: &[&str] = &["arn:*:iam::*:role/eksform/*"];

/// The state bucket of the caller's own account (`lock::bucket_name`:
/// `eksform-state-<account>-<region>`).
const STATE_BUCKET: &str = "arn:*:s3:::eksform-state-${aws:PrincipalAccount}-*";

/// Mutating actions granted on `Resource: "*"`, with the reason: AWS defines
/// no resource type for them, so no ARN can narrow them.
pub const UNSCOPED: &[(&str, &str)] = &[
    (
        "route53:CreateHostedZone",
        "Route 53 defines no resource type for it (the zone has no ARN before it exists) and takes no tags in the call; eksform marks the zone in its comment",
    ),
    (
        "acm:RequestCertificate",
        "ACM defines no resource type for it; granted only with the stack tag in the request",
    ),
];

/// The statements of the policy. Every action of `CALLED` and `IMPLIED` is in
/// at least one; `tests/it/iam_policy.rs` checks that each call eksform makes is
/// allowed and that nothing mutating is on `*` outside `UNSCOPED`.
pub const GRANTS: &[Grant] = &[
    // Reads: observation lists what is there and keeps what carries the mark,
    // which no resource ARN or tag condition can express.
    Grant {
        sid: "Read",
        actions: &[
            "acm:DescribeCertificate",
            "acm:ListCertificates",
            "acm:ListTagsForCertificate",
            "ec2:DescribeAddresses",
            "ec2:DescribeAvailabilityZones",
            "ec2:DescribeInstanceTypeOfferings",
            "ec2:DescribeInstanceTypes",
            "ec2:DescribeInternetGateways",
            "ec2:DescribeNatGateways",
            // CreateMountTarget reads the subnet's network interfaces as the caller.
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeRouteTables",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcAttribute",
            "ec2:DescribeVpcs",
            "ecr:DescribeRepositories",
            "ecr:GetLifecyclePolicy",
            "ecr:GetRepositoryPolicy",
            "ecr:ListTagsForResource",
            "eks:DescribeAccessEntry",
            "eks:DescribeAddon",
            "eks:DescribeAddonConfiguration",
            "eks:DescribeAddonVersions",
            "eks:DescribeCluster",
            "eks:DescribeClusterVersions",
            "eks:DescribeFargateProfile",
            "eks:DescribeNodegroup",
            "eks:DescribePodIdentityAssociation",
            "eks:DescribeUpdate",
            "eks:ListAccessEntries",
            "eks:ListAddons",
            "eks:ListAssociatedAccessPolicies",
            "eks:ListClusters",
            "eks:ListFargateProfiles",
            "eks:ListNodegroups",
            "eks:ListPodIdentityAssociations",
            "elasticfilesystem:DescribeAccessPoints",
            "elasticfilesystem:DescribeBackupPolicy",
            "elasticfilesystem:DescribeFileSystems",
            "elasticfilesystem:DescribeLifecycleConfiguration",
            "elasticfilesystem:DescribeMountTargetSecurityGroups",
            "elasticfilesystem:DescribeMountTargets",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:DescribeTargetGroups",
            "iam:GetAccountAuthorizationDetails",
            "iam:GetOpenIDConnectProvider",
            // Preflight: the managed policies the spec attaches and the
            // access entries' principals exist (any role or user, any policy).
            "iam:GetPolicy",
            "iam:GetRole",
            "iam:GetUser",
            "iam:ListOpenIDConnectProviders",
            // A role's tags tell eksform's from another tool's: read on any
            // role, so that a name another tool holds is reported as such
            // rather than as access denied.
            "iam:ListRoleTags",
            "logs:DescribeLogGroups",
            "logs:ListTagsForResource",
            "route53:GetHostedZone",
            "route53:ListHostedZones",
            "route53:ListResourceRecordSets",
            "sts:GetCallerIdentity",
        ],
        resources: &["*"],
        conditions: &[],
    },
    // The state bucket: only the account's own, by the name eksform gives it.
    Grant {
        sid: "StateBucket",
        actions: &[
            "s3:CreateBucket",
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:PutBucketPublicAccessBlock",
            "s3:PutBucketVersioning",
            "s3:PutEncryptionConfiguration",
        ],
        resources: &[STATE_BUCKET],
        conditions: &[],
    },
    Grant {
        sid: "StateObjects",
        actions: &[
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:GetObject",
            "s3:PutObject",
        ],
        resources: &["arn:*:s3:::eksform-state-${aws:PrincipalAccount}-*/*"],
        conditions: &[],
    },
    // IAM roles: only under eksform's path.
    Grant {
        sid: "EksformRoles",
        actions: &[
            "iam:AttachRolePolicy",
            "iam:CreateRole",
            "iam:DeleteRole",
            "iam:DeleteRolePolicy",
            "iam:DetachRolePolicy",
            "iam:GetRolePolicy",
            "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies",
            "iam:PutRolePolicy",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:UpdateAssumeRolePolicy",
        ],
        resources: ROLES,
        conditions: &[],
    },
    // The cluster, node, Fargate and add-on roles go to EKS (CreateCluster,
    // CreateNodegroup, CreateFargateProfile, Create/UpdateAddon); to nothing else.
    Grant {
        sid: "PassEksformRolesToEks",
        actions: &["iam:PassRole"],
        resources: ROLES,
        conditions: &[(
            "StringEquals",
            "iam:PassedToService",
            &["eks.amazonaws.com"],
        )],
    },
    // A cluster's secrets encryption key: EKS reads it and takes a grant on
    // it as the caller, and only when the call comes through EKS.
    Grant {
        sid: "KmsForEksSecretsEncryption",
        actions: &["kms:CreateGrant", "kms:DescribeKey"],
        resources: &["arn:*:kms:*:*:key/*"],
        conditions: &[("StringLike", "kms:ViaService", &["eks.*.amazonaws.com"])],
    },
    // The first cluster, node group, Fargate profile, load balancer or EFS
    // file system of an account makes the service's linked role.
    Grant {
        sid: "ServiceLinkedRoles",
        actions: &["iam:CreateServiceLinkedRole"],
        resources: &["arn:*:iam::*:role/aws-service-role/*"],
        conditions: &[(
            "StringEquals",
            "iam:AWSServiceName",
            &[
                "eks.amazonaws.com",
                "eks-fargate.amazonaws.com",
                "eks-nodegroup.amazonaws.com",
                "elasticfilesystem.amazonaws.com",
                "elasticloadbalancing.amazonaws.com",
            ],
        )],
    },
    // OIDC providers: only of EKS issuers (`oidc.eks.<region>.amazonaws.com`,
    // `.com.cn` in China).
    Grant {
        sid: "EksOidcProviders",
        actions: &[
            "iam:CreateOpenIDConnectProvider",
            "iam:DeleteOpenIDConnectProvider",
            "iam:TagOpenIDConnectProvider",
            "iam:UntagOpenIDConnectProvider",
        ],
        resources: &[
            "arn:*:iam::*:oidc-provider/oidc.eks.*.amazonaws.com/id/*",
            "arn:*:iam::*:oidc-provider/oidc.eks.*.amazonaws.com.cn/id/*",
        ],
        conditions: &[],
    },
    // EC2: each create marks what it makes (one statement per create, so that
    // none of them reaches another's resource type) ...
    Grant {
        sid: "Ec2CreateVpc",
        actions: &["ec2:CreateVpc"],
        resources: &["arn:*:ec2:*:*:vpc/*"],
        conditions: &[MARKING],
    },
    Grant {
        sid: "Ec2CreateSubnet",
        actions: &["ec2:CreateSubnet"],
        resources: &["arn:*:ec2:*:*:subnet/*"],
        conditions: &[MARKING],
    },
    Grant {
        sid: "Ec2CreateInternetGateway",
        actions: &["ec2:CreateInternetGateway"],
        resources: &["arn:*:ec2:*:*:internet-gateway/*"],
        conditions: &[MARKING],
    },
    Grant {
        sid: "Ec2AllocateAddress",
        actions: &["ec2:AllocateAddress"],
        resources: &["arn:*:ec2:*:*:elastic-ip/*"],
        conditions: &[MARKING],
    },
    Grant {
        sid: "Ec2CreateNatGateway",
        actions: &["ec2:CreateNatGateway"],
        resources: &["arn:*:ec2:*:*:natgateway/*"],
        conditions: &[MARKING],
    },
    Grant {
        sid: "Ec2CreateRouteTable",
        actions: &["ec2:CreateRouteTable"],
        resources: &["arn:*:ec2:*:*:route-table/*"],
        conditions: &[MARKING],
    },
    Grant {
        sid: "Ec2CreateSecurityGroup",
        actions: &["ec2:CreateSecurityGroup"],
        resources: &["arn:*:ec2:*:*:security-group/*"],
        conditions: &[MARKING],
    },
    // ... tagging through the create only (CreateTags checked with the create's name) ...
    Grant {
        sid: "Ec2TagAtCreate",
        actions: &["ec2:CreateTags"],
        resources: EC2_MADE,
        conditions: &[MARKING, ("StringEquals", "ec2:CreateAction", EC2_CREATES)],
    },
    // ... and what it makes it in is the stack's own: subnets and route tables
    // in its VPC, a NAT gateway in its subnet with its address.
    Grant {
        sid: "Ec2CreateInMarked",
        actions: &[
            "ec2:CreateNatGateway",
            "ec2:CreateRouteTable",
            "ec2:CreateSubnet",
        ],
        resources: &[
            "arn:*:ec2:*:*:vpc/*",
            "arn:*:ec2:*:*:subnet/*",
            "arn:*:ec2:*:*:elastic-ip/*",
        ],
        conditions: &[MARKED],
    },
    // Security groups are made in a brought VPC too (`vpc.id`), which is not
    // eksform's and carries no mark: the group itself is marked (above).
    Grant {
        sid: "Ec2SecurityGroupInAnyVpc",
        actions: &["ec2:CreateSecurityGroup"],
        resources: &["arn:*:ec2:*:*:vpc/*"],
        conditions: &[],
    },
    // Changes and deletes: only of what carries the mark.
    Grant {
        sid: "Ec2ChangeMarked",
        actions: &[
            "ec2:AssociateRouteTable",
            "ec2:AttachInternetGateway",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:CreateRoute",
            "ec2:CreateTags",
            "ec2:DeleteInternetGateway",
            "ec2:DeleteNatGateway",
            "ec2:DeleteRoute",
            "ec2:DeleteRouteTable",
            "ec2:DeleteSecurityGroup",
            "ec2:DeleteSubnet",
            "ec2:DeleteTags",
            "ec2:DeleteVpc",
            "ec2:DetachInternetGateway",
            "ec2:DisassociateRouteTable",
            "ec2:ModifySubnetAttribute",
            "ec2:ModifyVpcAttribute",
            "ec2:ReleaseAddress",
            "ec2:ReplaceRoute",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
        ],
        resources: EC2_MADE,
        conditions: &[MARKED],
    },
    // A rule is a resource of its own that carries no tags; its group must be
    // marked (above) for the call to pass.
    Grant {
        sid: "Ec2RulesOfMarkedGroups",
        actions: &[
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
        ],
        resources: &["arn:*:ec2:*:*:security-group-rule/*"],
        conditions: &[],
    },
    // Not eksform's by design: a brought VPC's subnets get the tags EKS and
    // the load balancer controller look for (`subnet_tags`), and only those
    // keys, so that no foreign resource can be given the mark.
    Grant {
        sid: "Ec2KubernetesTagsOnSubnets",
        actions: &["ec2:CreateTags"],
        resources: &["arn:*:ec2:*:*:subnet/*"],
        conditions: &[
            (
                "ForAllValues:StringLike",
                "aws:TagKeys",
                &[
                    "kubernetes.io/cluster/*",
                    "kubernetes.io/role/elb",
                    "kubernetes.io/role/internal-elb",
                ],
            ),
            ("Null", "aws:TagKeys", &["false"]),
        ],
    },
    // Not eksform's by design: the security groups the AWS Load Balancer
    // Controller left in the stack's VPC, deleted by destroy
    // (`controller_leftover`). The controller's own tag is as tight as a
    // policy can say; the cluster it names is not known here.
    Grant {
        sid: "Ec2DeleteControllerGroups",
        actions: &["ec2:DeleteSecurityGroup"],
        resources: &["arn:*:ec2:*:*:security-group/*"],
        conditions: &[CONTROLLER_MADE],
    },
    // EKS: each create marks what it makes ...
    Grant {
        sid: "EksCreateCluster",
        actions: &["eks:CreateCluster"],
        resources: &["arn:*:eks:*:*:cluster/*"],
        conditions: &[MARKING],
    },
    Grant {
        sid: "EksCreateNodegroup",
        actions: &["eks:CreateNodegroup"],
        resources: &["arn:*:eks:*:*:nodegroup/*"],
        conditions: &[MARKING],
    },
    Grant {
        sid: "EksCreateFargateProfile",
        actions: &["eks:CreateFargateProfile"],
        resources: &["arn:*:eks:*:*:fargateprofile/*"],
        conditions: &[MARKING],
    },
    Grant {
        sid: "EksCreateAddon",
        actions: &["eks:CreateAddon"],
        resources: &["arn:*:eks:*:*:addon/*"],
        conditions: &[MARKING],
    },
    Grant {
        sid: "EksCreatePodIdentityAssociation",
        actions: &["eks:CreatePodIdentityAssociation"],
        resources: &["arn:*:eks:*:*:podidentityassociation/*"],
        conditions: &[MARKING],
    },
    Grant {
        sid: "EksCreateAccessEntry",
        actions: &["eks:CreateAccessEntry"],
        resources: &["arn:*:eks:*:*:access-entry/*"],
        conditions: &[MARKING],
    },
    // ... a node group, Fargate profile, add-on or access entry in the stack's
    // own cluster; changes and deletes only of what is marked.
    Grant {
        sid: "EksCreateInMarkedCluster",
        actions: &[
            "eks:CreateAccessEntry",
            "eks:CreateAddon",
            "eks:CreateFargateProfile",
            "eks:CreateNodegroup",
            "eks:CreatePodIdentityAssociation",
        ],
        resources: &["arn:*:eks:*:*:cluster/*"],
        conditions: &[MARKED],
    },
    Grant {
        sid: "EksChangeMarked",
        actions: &[
            "eks:AssociateAccessPolicy",
            "eks:AssociateEncryptionConfig",
            "eks:DeleteAccessEntry",
            "eks:DeleteAddon",
            "eks:DeleteCluster",
            "eks:DeleteFargateProfile",
            "eks:DeleteNodegroup",
            "eks:DeletePodIdentityAssociation",
            "eks:DisassociateAccessPolicy",
            "eks:TagResource",
            "eks:UntagResource",
            "eks:UpdateAddon",
            "eks:UpdateClusterConfig",
            "eks:UpdateClusterVersion",
            "eks:UpdateNodegroupConfig",
            "eks:UpdateNodegroupVersion",
            "eks:UpdatePodIdentityAssociation",
        ],
        resources: EKS_MADE,
        conditions: &[MARKED],
    },
    // Access policies are AWS's (`arn:aws:eks::aws:cluster-access-policy/...`)
    // and carry no tags; the access entry they go to must be marked (above).
    Grant {
        sid: "EksAccessPolicies",
        actions: &["eks:AssociateAccessPolicy", "eks:DisassociateAccessPolicy"],
        resources: &["arn:*:eks::aws:cluster-access-policy/*"],
        conditions: &[],
    },
    // ELBv2: each create marks what it makes ...
    Grant {
        sid: "ElbCreateLoadBalancer",
        actions: &["elasticloadbalancing:CreateLoadBalancer"],
        resources: &[
            "arn:*:elasticloadbalancing:*:*:loadbalancer/app/*",
            "arn:*:elasticloadbalancing:*:*:loadbalancer/net/*",
        ],
        conditions: &[MARKING],
    },
    Grant {
        sid: "ElbCreateTargetGroup",
        actions: &["elasticloadbalancing:CreateTargetGroup"],
        resources: &["arn:*:elasticloadbalancing:*:*:targetgroup/*"],
        conditions: &[MARKING],
    },
    Grant {
        sid: "ElbCreateListener",
        actions: &["elasticloadbalancing:CreateListener"],
        resources: &[
            "arn:*:elasticloadbalancing:*:*:listener/app/*",
            "arn:*:elasticloadbalancing:*:*:listener/net/*",
        ],
        conditions: &[MARKING],
    },
    // ... tagging through the create only ...
    Grant {
        sid: "ElbTagAtCreate",
        actions: &["elasticloadbalancing:AddTags"],
        resources: ELB_MADE,
        conditions: &[
            MARKING,
            (
                "StringEquals",
                "elasticloadbalancing:CreateAction",
                &["CreateListener", "CreateLoadBalancer", "CreateTargetGroup"],
            ),
        ],
    },
    // ... and a listener goes on the stack's load balancer, forwarding to its
    // target groups; changes and deletes only of what is marked.
    Grant {
        sid: "ElbChangeMarked",
        actions: &[
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:CreateListener",
            "elasticloadbalancing:DeleteListener",
            "elasticloadbalancing:DeleteLoadBalancer",
            "elasticloadbalancing:DeleteTargetGroup",
            "elasticloadbalancing:ModifyListener",
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:ModifyTargetGroup",
            "elasticloadbalancing:RemoveTags",
            "elasticloadbalancing:SetSecurityGroups",
            "elasticloadbalancing:SetSubnets",
        ],
        resources: ELB_MADE,
        conditions: &[MARKED],
    },
    // Not eksform's by design: the load balancers and target groups the AWS
    // Load Balancer Controller left, deleted by destroy (`controller_leftover`).
    Grant {
        sid: "ElbDeleteControllerLeftovers",
        actions: &[
            "elasticloadbalancing:DeleteLoadBalancer",
            "elasticloadbalancing:DeleteTargetGroup",
        ],
        resources: &[
            "arn:*:elasticloadbalancing:*:*:loadbalancer/*",
            "arn:*:elasticloadbalancing:*:*:targetgroup/*",
        ],
        conditions: &[CONTROLLER_MADE],
    },
    // ACM: a request marks the certificate; changes and deletes only of
    // marked certificates.
    Grant {
        sid: "AcmRequestMarked",
        actions: &["acm:RequestCertificate"],
        resources: &["*"],
        conditions: &[MARKING],
    },
    Grant {
        sid: "AcmChangeMarked",
        actions: &[
            "acm:AddTagsToCertificate",
            "acm:DeleteCertificate",
            "acm:RemoveTagsFromCertificate",
        ],
        resources: &["arn:*:acm:*:*:certificate/*"],
        conditions: &[MARKED],
    },
    // A request with tags is also checked as AddTagsToCertificate on the new,
    // still untagged certificate, and ACM has no condition key telling that
    // from a later tagging: the tags must carry the mark. (This lets an
    // unmarked certificate be given one; ACM offers nothing tighter.)
    Grant {
        sid: "AcmTagAtRequest",
        actions: &["acm:AddTagsToCertificate"],
        resources: &["arn:*:acm:*:*:certificate/*"],
        conditions: &[MARKING],
    },
    // Logs: the control-plane log groups, `/aws/eks/<cluster>/cluster`.
    Grant {
        sid: "EksLogGroups",
        actions: &[
            "logs:CreateLogGroup",
            "logs:DeleteLogGroup",
            "logs:DeleteRetentionPolicy",
            "logs:PutRetentionPolicy",
            "logs:TagResource",
            "logs:UntagResource",
        ],
        resources: &["arn:*:logs:*:*:log-group:/aws/eks/*"],
        conditions: &[],
    },
    // ECR: a create marks the repository (AWS checks the tags it carries as
    // TagResource on the new repository too); changes and deletes only of
    // marked repositories. Like ACM's, the tagging grant lets an unmarked
    // repository be given the mark (an adopt entry's take-over).
    Grant {
        sid: "EcrCreateMarked",
        actions: &["ecr:CreateRepository", "ecr:TagResource"],
        resources: ECR_REPOSITORIES,
        conditions: &[MARKING],
    },
    Grant {
        sid: "EcrChangeMarked",
        actions: &[
            "ecr:DeleteLifecyclePolicy",
            "ecr:DeleteRepository",
            "ecr:DeleteRepositoryPolicy",
            "ecr:PutImageScanningConfiguration",
            "ecr:PutImageTagMutability",
            "ecr:PutLifecyclePolicy",
            "ecr:SetRepositoryPolicy",
            "ecr:TagResource",
            "ecr:UntagResource",
        ],
        resources: ECR_REPOSITORIES,
        conditions: &[MARKED],
    },
    // EFS: creates mark the file system or access point (the tags in the
    // call are checked as TagResource too); changes and deletes only of
    // marked ones. Mount targets have no ARN of their own: EFS authorizes
    // their calls on their file system, so its mark scopes them.
    Grant {
        sid: "EfsCreateMarked",
        actions: &[
            "elasticfilesystem:CreateAccessPoint",
            "elasticfilesystem:CreateFileSystem",
            "elasticfilesystem:TagResource",
        ],
        resources: EFS_MADE,
        conditions: &[MARKING],
    },
    Grant {
        sid: "EfsChangeMarked",
        actions: &[
            "elasticfilesystem:CreateMountTarget",
            "elasticfilesystem:DeleteAccessPoint",
            "elasticfilesystem:DeleteFileSystem",
            "elasticfilesystem:DeleteMountTarget",
            "elasticfilesystem:ModifyMountTargetSecurityGroups",
            "elasticfilesystem:PutBackupPolicy",
            "elasticfilesystem:PutLifecycleConfiguration",
            "elasticfilesystem:TagResource",
            "elasticfilesystem:UntagResource",
            "elasticfilesystem:UpdateFileSystem",
        ],
        resources: EFS_MADE,
        conditions: &[MARKED],
    },
    // A mount target's network interface, which EFS makes, changes and
    // deletes with the caller's permissions. It carries no tags, so only
    // the resource types narrow it.
    Grant {
        sid: "EfsMountTargetInterfaces",
        actions: &[
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface",
            "ec2:ModifyNetworkInterfaceAttribute",
        ],
        resources: &[
            "arn:*:ec2:*:*:network-interface/*",
            "arn:*:ec2:*:*:subnet/*",
            "arn:*:ec2:*:*:security-group/*",
        ],
        conditions: &[],
    },
    // Route 53: zones have no tags usable in conditions; eksform writes
    // records into brought zones too, so only the resource type narrows it.
    Grant {
        sid: "HostedZones",
        actions: &[
            "route53:ChangeResourceRecordSets",
            "route53:DeleteHostedZone",
            "route53:UpdateHostedZoneComment",
        ],
        resources: &["arn:*:route53:::hostedzone/*"],
        conditions: &[],
    },
    Grant {
        sid: "CreateHostedZone",
        actions: &["route53:CreateHostedZone"],
        resources: &["*"],
        conditions: &[],
    },
];

/// Whether an action only reads (IAM's Read and List access levels): its
/// name starts with Describe, Get, List or Head. Every action eksform calls
/// is named that way or is a write.
pub fn is_read(action: &str) -> bool {
    let name = action.rsplit(':').next().unwrap_or(action);
    ["Describe", "Get", "List", "Head"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// The policy document, as `eksform iam-policy` prints it.
pub fn document() -> serde_json::Value {
    document_of(GRANTS.iter().map(|grant| (grant, grant.actions.to_vec())))
}

/// `eksform iam-policy --read-only`: what `plan`, `outputs`, `history` and
/// `validate` need, which only read. It is `document` cut to its reads
/// (`is_read`), each on the resources and under the conditions its statement
/// gives it there: the reads of observation and preflight on `*`, the state
/// bucket's list and its objects' reads (history, the lock's holder), the
/// reads of eksform's roles (a taken name's check). No plan-time lock exists,
/// so nothing in the bucket is written.
pub fn read_only_document() -> serde_json::Value {
    document_of(GRANTS.iter().filter_map(|grant| {
        let reads: Vec<&str> = grant
            .actions
            .iter()
            .copied()
            .filter(|a| is_read(a))
            .collect();
        (!reads.is_empty()).then_some((grant, reads))
    }))
}

/// The calls `eksform bootstrap --github-repo` makes for the CI deploy roles
/// (`deploy_roles`), which neither policy grants beyond what it grants
/// already: making roles that CI assumes is an administrator's step, and a
/// role allowed to make them could give itself anything.
pub const DEPLOY_ROLE_CALLS: &[&str] = &[
    "iam:AttachRolePolicy",
    "iam:CreateOpenIDConnectProvider",
    "iam:CreatePolicy",
    "iam:CreateRole",
    "iam:DeletePolicy",
    "iam:DetachRolePolicy",
    "iam:GetOpenIDConnectProvider",
    "iam:GetRole",
    "iam:ListAttachedRolePolicies",
    "iam:ListRoleTags",
    "iam:UpdateAssumeRolePolicy",
];

/// The most characters IAM takes in one customer managed policy (white space
/// not counted).
pub const MANAGED_POLICY_LIMIT: usize = 6_144;

/// A policy document cut into documents of at most `limit` characters (as
/// compact JSON, which has no white space outside strings), statement by
/// statement in order: what a role gets as several managed policies. A single
/// statement over the limit cannot be cut and is an error naming it.
pub fn split(document: &serde_json::Value, limit: usize) -> Result<Vec<serde_json::Value>, String> {
    let version = document["Version"].clone();
    let wrap = |statements: &[serde_json::Value]| serde_json::json!({ "Version": version, "Statement": statements });
    let size = |statements: &[serde_json::Value]| wrap(statements).to_string().len();
    let mut parts: Vec<Vec<serde_json::Value>> = Vec::new();
    for statement in document["Statement"].as_array().into_iter().flatten() {
        if size(std::slice::from_ref(statement)) > limit {
            return Err(format!(
                "statement {} alone is over {limit} characters",
                statement["Sid"]
            ));
        }
        match parts.last_mut() {
            Some(part)
                if size(&[part.as_slice(), std::slice::from_ref(statement)].concat()) <= limit =>
            {
                part.push(statement.clone())
            }
            _ => parts.push(vec![statement.clone()]),
        }
    }
    Ok(parts
        .iter()
        .map(|part| crate::model::sorted_json(wrap(part)))
        .collect())
}

/// The document of some of `GRANTS`' statements, each with the given actions.
fn document_of<'a>(grants: impl Iterator<Item = (&'a Grant, Vec<&'a str>)>) -> serde_json::Value {
    let statements: Vec<serde_json::Value> = grants
        .map(|(grant, mut actions)| {
            actions.sort_unstable();
            let mut statement = serde_json::json!({
                "Sid": grant.sid,
                "Effect": "Allow",
                "Action": actions,
                "Resource": if grant.resources == ["*"] {
                    serde_json::json!("*")
                } else {
                    serde_json::json!(grant.resources)
                },
            });
            if !grant.conditions.is_empty() {
                let mut condition = serde_json::Map::new();
                for (operator, key, values) in grant.conditions {
                    let entry = condition
                        .entry(operator.to_string())
                        .or_insert_with(|| serde_json::json!({}));
                    entry[*key] = serde_json::json!(values);
                }
                statement["Condition"] = serde_json::Value::Object(condition);
            }
            statement
        })
        .collect();
    crate::model::sorted_json(serde_json::json!({
        "Version": "2012-10-17",
        "Statement": statements,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(document: &serde_json::Value) -> Vec<String> {
        document["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().clone())
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn the_read_only_policy_is_every_read_of_the_full_one_and_nothing_else() {
        let full = actions(&document());
        let read_only = actions(&read_only_document());
        assert!(read_only.iter().all(|a| is_read(a)), "{read_only:?}");
        let mut reads: Vec<String> = full.into_iter().filter(|a| is_read(a)).collect();
        let mut granted = read_only.clone();
        reads.sort();
        reads.dedup();
        granted.sort();
        granted.dedup();
        assert_eq!(granted, reads);
        assert!(read_only.contains(&"s3:GetObject".to_string()));
        assert!(
            !read_only
                .iter()
                .any(|a| a == "s3:PutObject" || a == "s3:DeleteObject")
        );
    }

    #[test]
    fn a_read_keeps_the_resources_and_conditions_of_its_statement() {
        let read_only = read_only_document();
        let full = document();
        for statement in read_only["Statement"].as_array().unwrap() {
            let source = full["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["Sid"] == statement["Sid"])
                .unwrap();
            assert_eq!(statement["Resource"], source["Resource"]);
            assert_eq!(statement.get("Condition"), source.get("Condition"));
        }
    }

    #[test]
    fn a_policy_splits_by_statement_within_the_limit() {
        let full = document();
        let parts = split(&full, MANAGED_POLICY_LIMIT).unwrap();
        assert!(
            parts.len() > 1,
            "the full policy is over one managed policy"
        );
        for part in &parts {
            assert!(part.to_string().len() <= MANAGED_POLICY_LIMIT);
        }
        let rejoined: Vec<serde_json::Value> = parts
            .iter()
            .flat_map(|p| p["Statement"].as_array().unwrap().clone())
            .collect();
        assert_eq!(serde_json::Value::Array(rejoined), full["Statement"]);
        assert_eq!(
            split(&read_only_document(), MANAGED_POLICY_LIMIT)
                .unwrap()
                .len(),
            1
        );
        assert!(split(&full, 100).unwrap_err().contains("alone is over 100"));
    }
}
