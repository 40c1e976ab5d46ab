//! `iam.serviceAccounts[].wellKnownPolicies`: a managed policy where AWS
//! publishes one for the job, else a least-privilege inline document of ours.
//! (`awsLoadBalancerController` is refused by `plan` until its policy lands.)

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
}
