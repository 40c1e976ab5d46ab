//! `eksform iam-policy`: the least-privilege IAM policy eksform itself needs,
//! one statement per service with exactly the actions its adapter calls
//! (`tests/iam_policy.rs` checks this list against the calls in the source).

/// The actions eksform calls, by IAM service prefix.
pub const CALLED: &[(&str, &[&str])] = &[
    ("sts", &["GetCallerIdentity"]),
    (
        "ec2",
        &[
            "AllocateAddress",
            "AssociateRouteTable",
            "AttachInternetGateway",
            "AuthorizeSecurityGroupEgress",
            "AuthorizeSecurityGroupIngress",
            "CreateInternetGateway",
            "CreateNatGateway",
            "CreateRoute",
            "CreateRouteTable",
            "CreateSecurityGroup",
            "CreateSubnet",
            "CreateTags",
            "CreateVpc",
            "DeleteInternetGateway",
            "DeleteNatGateway",
            "DeleteRoute",
            "DeleteRouteTable",
            "DeleteSecurityGroup",
            "DeleteSubnet",
            "DeleteTags",
            "DeleteVpc",
            "DescribeAddresses",
            "DescribeInternetGateways",
            "DescribeNatGateways",
            "DescribeRouteTables",
            "DescribeSecurityGroups",
            "DescribeSubnets",
            "DescribeVpcAttribute",
            "DescribeVpcs",
            "DetachInternetGateway",
            "DisassociateRouteTable",
            "ModifySubnetAttribute",
            "ModifyVpcAttribute",
            "ReleaseAddress",
            "ReplaceRoute",
            "RevokeSecurityGroupEgress",
            "RevokeSecurityGroupIngress",
        ],
    ),
    (
        "iam",
        &[
            "AttachRolePolicy",
            "CreateOpenIDConnectProvider",
            "CreateRole",
            "DeleteOpenIDConnectProvider",
            "DeleteRole",
            "DeleteRolePolicy",
            "DetachRolePolicy",
            "GetAccountAuthorizationDetails",
            "GetOpenIDConnectProvider",
            "GetRole",
            "GetRolePolicy",
            "ListAttachedRolePolicies",
            "ListOpenIDConnectProviders",
            "ListRolePolicies",
            "ListRoleTags",
            "PutRolePolicy",
            "TagOpenIDConnectProvider",
            "TagRole",
            "UntagOpenIDConnectProvider",
            "UntagRole",
            "UpdateAssumeRolePolicy",
        ],
    ),
    (
        "logs",
        &[
            "CreateLogGroup",
            "DeleteLogGroup",
            "DeleteRetentionPolicy",
            "DescribeLogGroups",
            "ListTagsForResource",
            "PutRetentionPolicy",
            "TagResource",
            "UntagResource",
        ],
    ),
    (
        "eks",
        &[
            "AssociateAccessPolicy",
            "CreateAccessEntry",
            "CreateAddon",
            "CreateCluster",
            "CreateFargateProfile",
            "CreateNodegroup",
            "DeleteAccessEntry",
            "DeleteAddon",
            "DeleteCluster",
            "DeleteFargateProfile",
            "DeleteNodegroup",
            "DescribeAccessEntry",
            "DescribeAddon",
            "DescribeAddonVersions",
            "DescribeCluster",
            "DescribeFargateProfile",
            "DescribeNodegroup",
            "DescribeUpdate",
            "DisassociateAccessPolicy",
            "ListAccessEntries",
            "ListAddons",
            "ListAssociatedAccessPolicies",
            "ListClusters",
            "ListFargateProfiles",
            "ListNodegroups",
            "TagResource",
            "UntagResource",
            "UpdateAddon",
            "UpdateClusterConfig",
            "UpdateClusterVersion",
            "UpdateNodegroupConfig",
            "UpdateNodegroupVersion",
        ],
    ),
    (
        "elasticloadbalancing",
        &[
            "AddTags",
            "CreateListener",
            "CreateLoadBalancer",
            "CreateTargetGroup",
            "DeleteListener",
            "DeleteLoadBalancer",
            "DeleteTargetGroup",
            "DescribeListeners",
            "DescribeLoadBalancerAttributes",
            "DescribeLoadBalancers",
            "DescribeTags",
            "DescribeTargetGroups",
            "ModifyListener",
            "ModifyLoadBalancerAttributes",
            "ModifyTargetGroup",
            "RemoveTags",
            "SetSecurityGroups",
            "SetSubnets",
        ],
    ),
    (
        "acm",
        &[
            "AddTagsToCertificate",
            "DeleteCertificate",
            "DescribeCertificate",
            "ListCertificates",
            "ListTagsForCertificate",
            "RemoveTagsFromCertificate",
            "RequestCertificate",
        ],
    ),
    (
        "s3",
        &[
            "CreateBucket",
            "DeleteObject",
            "GetObject",
            "ListBucket",
            "ListBucketVersions",
            "PutBucketPublicAccessBlock",
            "PutBucketVersioning",
            "PutEncryptionConfiguration",
            "PutObject",
        ],
    ),
    (
        "route53",
        &[
            "ChangeResourceRecordSets",
            "CreateHostedZone",
            "DeleteHostedZone",
            "GetHostedZone",
            "ListHostedZones",
            "ListResourceRecordSets",
        ],
    ),
];

/// Permissions AWS checks beyond the calls themselves, with the reason.
pub const IMPLIED: &[(&str, &str, &str)] = &[
    (
        "iam",
        "PassRole",
        "CreateCluster, CreateNodegroup, CreateFargateProfile and CreateAddon hand a role to EKS",
    ),
    (
        "iam",
        "CreateServiceLinkedRole",
        "the first cluster or load balancer of an account makes AWS's service-linked role",
    ),
    (
        "s3",
        "DeleteObjectVersion",
        "releasing a lock deletes the version of the lock object it wrote",
    ),
];

/// The policy document, as `eksform iam-policy` prints it.
pub fn document() -> serde_json::Value {
    let mut statements = Vec::new();
    for (service, actions) in CALLED {
        let mut names: Vec<String> = actions.iter().map(|a| format!("{service}:{a}")).collect();
        names.extend(
            IMPLIED
                .iter()
                .filter(|(s, _, _)| s == service)
                .map(|(s, a, _)| format!("{s}:{a}")),
        );
        names.sort();
        statements.push(serde_json::json!({
            "Sid": service.replace(['-', ':'], ""),
            "Effect": "Allow",
            "Action": names,
            "Resource": "*",
        }));
    }
    crate::model::sorted_json(serde_json::json!({
        "Version": "2012-10-17",
        "Statement": statements,
    }))
}
