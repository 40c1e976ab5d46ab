//! `iam.serviceAccounts[].wellKnownPolicies`: a managed policy where AWS
//! publishes one for the job, else a least-privilege inline document of ours.
//! Inline documents are ours, written from what each controller calls; IAM
//! limits a role's inline policies to 10,240 characters, which a test checks.

use crate::spec::WellKnownPolicies;

pub enum WellKnown {
    /// A path under `arn:<partition>:iam::aws:policy/`.
    Managed(&'static str),
    /// An inline policy: its name on the role and its document.
    Inline(&'static str, &'static str),
}

/// The controller versions whose published IAM policies eksform's documents
/// grant every action of (checked by this module's tests; named in docs/spec.md).
pub const LOAD_BALANCER_CONTROLLER_VERSION: &str = "v3.5.0";
pub const AUTOSCALER_VERSION: &str = "1.36.1";
pub const EXTERNAL_DNS_VERSION: &str = "v0.22.0";

/// Cluster Autoscaler: read the groups and instance types, and scale only the
/// groups that carry the autoscaler's tag.
const AUTOSCALER: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations",
        "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceTypesFromInstanceRequirements",
        "eks:DescribeNodegroup"
      ],
      "Resource": "*"
    },
    {
      "Effect": "Allow",
      "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
      "Resource": "*",
      "Condition": { "StringEquals": { "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true" } }
    }
  ]
}"#;

/// ExternalDNS: change records in hosted zones and list what is there.
const EXTERNAL_DNS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    { "Effect": "Allow", "Action": ["route53:ChangeResourceRecordSets"], "Resource": "arn:aws:route53:::hostedzone/*" },
    {
      "Effect": "Allow",
      "Action": ["route53:ListHostedZones", "route53:ListResourceRecordSets", "route53:ListTagsForResource", "route53:ListTagsForResources"],
      "Resource": "*"
    }
  ]
}"#;

/// cert-manager's DNS-01 solver: write the challenge records and follow the change.
const CERT_MANAGER: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    { "Effect": "Allow", "Action": "route53:GetChange", "Resource": "arn:aws:route53:::change/*" },
    {
      "Effect": "Allow",
      "Action": ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
      "Resource": "arn:aws:route53:::hostedzone/*"
    },
    { "Effect": "Allow", "Action": "route53:ListHostedZonesByName", "Resource": "*" }
  ]
}"#;

/// AWS Load Balancer Controller: reads everywhere; creates load balancers,
/// target groups and security groups only when tagged with a cluster, and
/// changes or deletes only what carries such a tag. Listeners and rules have
/// no tag conditions because the controller creates them before it tags them
/// (and, since v2.8, tags them itself: hence their own tagging statement).
const LOAD_BALANCER_CONTROLLER: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Discover",
      "Effect": "Allow",
      "Action": [
        "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections",
        "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances",
        "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:DescribeCoipPools",
        "ec2:GetCoipPoolUsage", "ec2:GetSecurityGroupsForVpc", "ec2:DescribeIpamPools",
        "ec2:DescribeRouteTables",
        "elasticloadbalancing:Describe*",
        "acm:ListCertificates", "acm:DescribeCertificate",
        "iam:ListServerCertificates", "iam:GetServerCertificate",
        "cognito-idp:DescribeUserPoolClient",
        "waf-regional:GetWebACL", "waf-regional:GetWebACLForResource",
        "wafv2:GetWebACL", "wafv2:GetWebACLForResource",
        "shield:GetSubscriptionState", "shield:DescribeProtection"
      ],
      "Resource": "*"
    },
    {
      "Sid": "ServiceLinkedRole",
      "Effect": "Allow",
      "Action": "iam:CreateServiceLinkedRole",
      "Resource": "*",
      "Condition": { "StringEquals": { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } }
    },
    {
      "Sid": "Protection",
      "Effect": "Allow",
      "Action": [
        "waf-regional:AssociateWebACL", "waf-regional:DisassociateWebACL",
        "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
        "shield:CreateProtection", "shield:DeleteProtection",
        "elasticloadbalancing:SetWebAcl"
      ],
      "Resource": "*"
    },
    {
      "Sid": "SecurityGroups",
      "Effect": "Allow",
      "Action": ["ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
      "Resource": "*"
    },
    {
      "Sid": "TagNewSecurityGroups",
      "Effect": "Allow",
      "Action": "ec2:CreateTags",
      "Resource": "arn:aws:ec2:*:*:security-group/*",
      "Condition": {
        "StringEquals": { "ec2:CreateAction": "CreateSecurityGroup" },
        "Null": { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" }
      }
    },
    {
      "Sid": "OwnedSecurityGroups",
      "Effect": "Allow",
      "Action": ["ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteSecurityGroup"],
      "Resource": "arn:aws:ec2:*:*:security-group/*",
      "Condition": { "Null": { "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" } }
    },
    {
      "Sid": "CreateTaggedLoadBalancers",
      "Effect": "Allow",
      "Action": ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
      "Resource": "*",
      "Condition": { "Null": { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" } }
    },
    {
      "Sid": "TagOnCreate",
      "Effect": "Allow",
      "Action": "elasticloadbalancing:AddTags",
      "Resource": [
        "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
        "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
        "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*"
      ],
      "Condition": {
        "StringEquals": { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"] },
        "Null": { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" }
      }
    },
    {
      "Sid": "OwnedLoadBalancers",
      "Effect": "Allow",
      "Action": [
        "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
        "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType",
        "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
        "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:ModifyListenerAttributes", "elasticloadbalancing:ModifyCapacityReservation",
        "elasticloadbalancing:ModifyIpPools"
      ],
      "Resource": "*",
      "Condition": { "Null": { "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" } }
    },
    {
      "Sid": "Targets",
      "Effect": "Allow",
      "Action": ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
      "Resource": "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*"
    },
    {
      "Sid": "ListenersAndRules",
      "Effect": "Allow",
      "Action": [
        "elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
        "elasticloadbalancing:ModifyListener", "elasticloadbalancing:AddListenerCertificates",
        "elasticloadbalancing:RemoveListenerCertificates", "elasticloadbalancing:CreateRule",
        "elasticloadbalancing:DeleteRule", "elasticloadbalancing:ModifyRule",
        "elasticloadbalancing:SetRulePriorities"
      ],
      "Resource": "*"
    },
    {
      "Sid": "TagListenersAndRules",
      "Effect": "Allow",
      "Action": ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
      "Resource": [
        "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*",
        "arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*",
        "arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
        "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*"
      ]
    }
  ]
}"#;

/// Each well-known policy with whether the service account asks for it.
pub fn well_known_policies(wanted: &WellKnownPolicies) -> Vec<(bool, WellKnown)> {
    vec![
        (
            wanted.auto_scaler,
            WellKnown::Inline("eksform-autoscaler", AUTOSCALER),
        ),
        (
            wanted.external_dns,
            WellKnown::Inline("eksform-external-dns", EXTERNAL_DNS),
        ),
        (
            wanted.aws_load_balancer_controller,
            WellKnown::Inline("eksform-load-balancer-controller", LOAD_BALANCER_CONTROLLER),
        ),
        (
            wanted.cert_manager,
            WellKnown::Inline("eksform-cert-manager", CERT_MANAGER),
        ),
        (
            wanted.ebs_csi_controller,
            WellKnown::Managed("service-role/AmazonEBSCSIDriverPolicy"),
        ),
        (
            wanted.efs_csi_controller,
            WellKnown::Managed("service-role/AmazonEFSCSIDriverPolicy"),
        ),
        (
            wanted.image_builder,
            WellKnown::Managed("AmazonEC2ContainerRegistryPowerUser"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_documents_are_valid_json() {
        for (_, policy) in well_known_policies(&WellKnownPolicies::default()) {
            if let WellKnown::Inline(name, document) = policy {
                let parsed: serde_json::Value =
                    serde_json::from_str(document).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(parsed["Version"], "2012-10-17", "{name}");
            }
        }
    }

    /// IAM counts a role's inline policies together, without whitespace.
    #[test]
    fn all_inline_documents_fit_on_one_role() {
        let every = WellKnownPolicies {
            auto_scaler: true,
            external_dns: true,
            aws_load_balancer_controller: true,
            ebs_csi_controller: true,
            efs_csi_controller: true,
            cert_manager: true,
            image_builder: true,
        };
        let total: usize = well_known_policies(&every)
            .into_iter()
            .filter_map(|(_, policy)| match policy {
                WellKnown::Inline(_, document) => Some(document),
                WellKnown::Managed(_) => None,
            })
            .map(|document| document.chars().filter(|c| !c.is_whitespace()).count())
            .sum();
        assert!(total <= 10_240, "{total} characters");
    }

    /// Whether an IAM action pattern (`elasticloadbalancing:Describe*`) covers
    /// `action`; IAM compares actions without regard to case.
    fn covers(pattern: &str, action: &str) -> bool {
        let (pattern, action) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
        match pattern.split_once('*') {
            None => pattern == action,
            Some((start, end)) => {
                action.len() >= start.len() + end.len()
                    && action.starts_with(start)
                    && action.ends_with(end)
            }
        }
    }

    /// The actions an inline document allows, as written (patterns kept).
    fn allowed(document: &str) -> Vec<String> {
        let parsed: serde_json::Value = serde_json::from_str(document).expect("valid JSON");
        let mut actions = Vec::new();
        for statement in parsed["Statement"].as_array().expect("statements") {
            if statement["Effect"] != "Allow" {
                continue;
            }
            match &statement["Action"] {
                serde_json::Value::String(action) => actions.push(action.clone()),
                serde_json::Value::Array(list) => {
                    actions.extend(list.iter().filter_map(|a| a.as_str().map(str::to_string)))
                }
                other => panic!("unexpected Action {other}"),
            }
        }
        actions
    }

    fn document(name: &str) -> &'static str {
        let every = WellKnownPolicies {
            auto_scaler: true,
            external_dns: true,
            aws_load_balancer_controller: true,
            ..WellKnownPolicies::default()
        };
        well_known_policies(&every)
            .into_iter()
            .find_map(|(_, policy)| match policy {
                WellKnown::Inline(n, document) if n == name => Some(document),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no inline policy {name}"))
    }

    fn assert_grants_all(name: &str, published: &str, required: &[&str]) {
        let allowed = allowed(document(name));
        let missing: Vec<&&str> = required
            .iter()
            .filter(|action| !allowed.iter().any(|pattern| covers(pattern, action)))
            .collect();
        assert!(
            missing.is_empty(),
            "{name} lacks actions of {published}: {missing:?}"
        );
    }

    /// The actions of the AWS Load Balancer Controller's published policy
    /// (docs/install/iam_policy.json at the tag `v3.5.0`), listed here from
    /// that file.
    #[test]
    fn load_balancer_controller_policy_grants_what_v3_5_0_publishes() {
        assert_eq!(LOAD_BALANCER_CONTROLLER_VERSION, "v3.5.0");
        let elb = |action: &str| format!("elasticloadbalancing:{action}");
        let mut required: Vec<String> = [
            "acm:DescribeCertificate",
            "acm:ListCertificates",
            "cognito-idp:DescribeUserPoolClient",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:CreateSecurityGroup",
            "ec2:CreateTags",
            "ec2:DeleteSecurityGroup",
            "ec2:DeleteTags",
            "ec2:DescribeAccountAttributes",
            "ec2:DescribeAddresses",
            "ec2:DescribeAvailabilityZones",
            "ec2:DescribeCoipPools",
            "ec2:DescribeInstances",
            "ec2:DescribeInternetGateways",
            "ec2:DescribeIpamPools",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeRouteTables",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeTags",
            "ec2:DescribeVpcPeeringConnections",
            "ec2:DescribeVpcs",
            "ec2:GetCoipPoolUsage",
            "ec2:GetSecurityGroupsForVpc",
            "ec2:RevokeSecurityGroupIngress",
            "iam:CreateServiceLinkedRole",
            "iam:GetServerCertificate",
            "iam:ListServerCertificates",
            "shield:CreateProtection",
            "shield:DeleteProtection",
            "shield:DescribeProtection",
            "shield:GetSubscriptionState",
            "waf-regional:AssociateWebACL",
            "waf-regional:DisassociateWebACL",
            "waf-regional:GetWebACL",
            "waf-regional:GetWebACLForResource",
            "wafv2:AssociateWebACL",
            "wafv2:DisassociateWebACL",
            "wafv2:GetWebACL",
            "wafv2:GetWebACLForResource",
        ]
        .map(str::to_string)
        .to_vec();
        required.extend(
            [
                "AddListenerCertificates",
                "AddTags",
                "CreateListener",
                "CreateLoadBalancer",
                "CreateRule",
                "CreateTargetGroup",
                "DeleteListener",
                "DeleteLoadBalancer",
                "DeleteRule",
                "DeleteTargetGroup",
                "DeregisterTargets",
                "DescribeCapacityReservation",
                "DescribeListenerAttributes",
                "DescribeListenerCertificates",
                "DescribeListeners",
                "DescribeLoadBalancerAttributes",
                "DescribeLoadBalancers",
                "DescribeRules",
                "DescribeSSLPolicies",
                "DescribeTags",
                "DescribeTargetGroupAttributes",
                "DescribeTargetGroups",
                "DescribeTargetHealth",
                "DescribeTrustStores",
                "ModifyCapacityReservation",
                "ModifyIpPools",
                "ModifyListener",
                "ModifyListenerAttributes",
                "ModifyLoadBalancerAttributes",
                "ModifyRule",
                "ModifyTargetGroup",
                "ModifyTargetGroupAttributes",
                "RegisterTargets",
                "RemoveListenerCertificates",
                "RemoveTags",
                "SetIpAddressType",
                "SetRulePriorities",
                "SetSecurityGroups",
                "SetSubnets",
                "SetWebAcl",
            ]
            .map(elb),
        );
        let required: Vec<&str> = required.iter().map(String::as_str).collect();
        assert_grants_all(
            "eksform-load-balancer-controller",
            "AWS Load Balancer Controller v3.5.0",
            &required,
        );
    }

    /// The controller tags its listeners and rules: the tagging calls must be
    /// allowed on their ARNs, not only on load balancers and target groups.
    #[test]
    fn load_balancer_controller_may_tag_listeners_and_rules() {
        let parsed: serde_json::Value =
            serde_json::from_str(document("eksform-load-balancer-controller")).expect("JSON");
        let statements = parsed["Statement"].as_array().expect("statements");
        for kind in [
            "listener/app",
            "listener/net",
            "listener-rule/app",
            "listener-rule/net",
        ] {
            for action in [
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
            ] {
                assert!(
                    statements.iter().any(|s| {
                        let actions = s["Action"].to_string();
                        let resources = s["Resource"].to_string();
                        s["Effect"] == "Allow"
                            && actions.contains(action)
                            && (resources == "\"*\"" || resources.contains(&format!(":{kind}/")))
                    }),
                    "{action} on {kind}"
                );
            }
        }
    }

    /// The Cluster Autoscaler's "full features" policy
    /// (cluster-autoscaler/cloudprovider/aws/README.md at `cluster-autoscaler-1.36.1`).
    #[test]
    fn autoscaler_policy_grants_what_1_36_1_publishes() {
        assert_eq!(AUTOSCALER_VERSION, "1.36.1");
        assert_grants_all(
            "eksform-autoscaler",
            "Cluster Autoscaler 1.36.1",
            &[
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:SetDesiredCapacity",
                "autoscaling:TerminateInstanceInAutoScalingGroup",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
                "eks:DescribeNodegroup",
            ],
        );
    }

    /// ExternalDNS's policy (docs/tutorials/aws.md at `v0.22.0`): note the
    /// plural `ListTagsForResources`.
    #[test]
    fn external_dns_policy_grants_what_v0_22_0_publishes() {
        assert_eq!(EXTERNAL_DNS_VERSION, "v0.22.0");
        assert_grants_all(
            "eksform-external-dns",
            "ExternalDNS v0.22.0",
            &[
                "route53:ChangeResourceRecordSets",
                "route53:ListHostedZones",
                "route53:ListResourceRecordSets",
                "route53:ListTagsForResources",
            ],
        );
    }

    /// The check itself: a pattern covers only what it names.
    #[test]
    fn action_patterns_cover_only_what_they_name() {
        assert!(covers(
            "elasticloadbalancing:Describe*",
            "elasticloadbalancing:DescribeRules"
        ));
        assert!(covers("ec2:describevpcs", "ec2:DescribeVpcs"));
        assert!(!covers(
            "elasticloadbalancing:Describe*",
            "elasticloadbalancing:ModifyRule"
        ));
        assert!(!covers(
            "route53:ListTagsForResource",
            "route53:ListTagsForResources"
        ));
    }

    /// docs/spec.md names the versions the policies match.
    #[test]
    fn docs_name_the_controller_versions() {
        let docs = include_str!("../../../../docs/spec.md");
        for version in [
            format!("AWS Load Balancer Controller {LOAD_BALANCER_CONTROLLER_VERSION}"),
            format!("Cluster Autoscaler {AUTOSCALER_VERSION}"),
            format!("ExternalDNS {EXTERNAL_DNS_VERSION}"),
        ] {
            assert!(
                docs.contains(&version),
                "docs/spec.md does not name {version}"
            );
        }
    }
}
