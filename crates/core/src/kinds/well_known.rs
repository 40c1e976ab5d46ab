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
      "Action": ["route53:ListHostedZones", "route53:ListResourceRecordSets", "route53:ListTagsForResource"],
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
/// no tag conditions because the controller creates them before it tags them.
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
        "ec2:GetCoipPoolUsage", "ec2:GetSecurityGroupsForVpc",
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
        "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup"
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
        "elasticloadbalancing:DeleteRule", "elasticloadbalancing:ModifyRule"
      ],
      "Resource": "*"
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
}
