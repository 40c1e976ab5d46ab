//! ECR repositories (`registries[]`): tag mutability, scan on push, the
//! lifecycle policy and the repository policy (pulls by other accounts)
//! change in place; the encryption cannot, so a change replaces the
//! repository. Deleting one deletes its images: the kind is guarded.

use super::tags::named_after_address;
use super::{Attribute, Compare, Kind, ObservationFloor};
use crate::lower::{StackModel, partition};
use crate::model::{Address, DesiredResource, Value};

pub struct EcrRepository;

impl EcrRepository {
    pub fn address(name: &str) -> Address {
        Address::new(&["ecr_repository", name])
    }
}

/// The actions a pulling account's principals need: the image manifest, the
/// layers' download URLs and their presence.
pub const PULL_ACTIONS: &[&str] = &[
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
];

/// The repository policy letting `accounts` pull, or `None` for no policy.
/// The accounts' roots as principals: each account's IAM then decides which
/// of its roles (nodes, CI) may pull.
pub fn pull_policy(partition: &str, accounts: &[String]) -> Option<String> {
    if accounts.is_empty() {
        return None;
    }
    let principals: Vec<String> = accounts
        .iter()
        .map(|account| format!("arn:{partition}:iam::{account}:root"))
        .collect();
    let document = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EksformPull",
            "Effect": "Allow",
            "Principal": { "AWS": principals },
            "Action": PULL_ACTIONS,
        }],
    });
    Some(crate::model::sorted_json(document).to_string())
}

/// A desired KMS key left out (ECR's AWS managed key) is satisfied by the
/// key ECR chose.
fn kms_key_satisfied(live: &Value, desired: &Value) -> bool {
    matches!(desired, Value::Null) || live == desired
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::computed("arn"),
    Attribute::replaces("encryption_type"),
    Attribute::in_place("image_tag_mutability"),
    Attribute::replaces("kms_key").compared(Compare::Custom(kms_key_satisfied)),
    Attribute::in_place("lifecycle_policy").compared(Compare::PolicyDocument),
    Attribute::replaces("name"),
    Attribute::in_place("repository_policy").compared(Compare::PolicyDocument),
    Attribute::in_place("scan_on_push"),
    Attribute::tags(),
    Attribute::computed("uri"),
];

impl Kind for EcrRepository {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            always: 1,
            if_any: 0,
            each: 3,
            each_of: None,
            how: "DescribeRepositories + per repository ListTagsForResource (every repository of the region: ECR has no batch tag read), then GetLifecyclePolicy and GetRepositoryPolicy of the stack's",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "ecr:CreateRepository",
            "ecr:DeleteLifecyclePolicy",
            "ecr:DeleteRepository",
            "ecr:DeleteRepositoryPolicy",
            "ecr:DescribeRepositories",
            "ecr:GetLifecyclePolicy",
            "ecr:GetRepositoryPolicy",
            "ecr:ListTagsForResource",
            "ecr:PutImageScanningConfiguration",
            "ecr:PutImageTagMutability",
            "ecr:PutLifecyclePolicy",
            "ecr:SetRepositoryPolicy",
            "ecr:TagResource",
            "ecr:UntagResource",
        ]
    }

    fn service(&self) -> &'static str {
        "ecr"
    }

    fn name(&self) -> &'static str {
        "ecr_repository"
    }

    fn id_prefix(&self) -> &'static str {
        "ecr-repository"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn guarded(&self) -> bool {
        // A delete (or a replacement) deletes every image in the repository.
        true
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let partition = partition(&stack.region);
        stack
            .registries
            .iter()
            .map(|registry| {
                let address = Self::address(&registry.name);
                let optional = |text: &Option<String>| {
                    text.as_ref()
                        .map_or(Value::Null, |t| Value::string(t.clone()))
                };
                DesiredResource::new(self.name(), address.clone())
                    .with("name", Value::string(registry.name.clone()))
                    .with(
                        "image_tag_mutability",
                        Value::string(if registry.immutable_tags {
                            "IMMUTABLE"
                        } else {
                            "MUTABLE"
                        }),
                    )
                    .with("scan_on_push", Value::Bool(registry.scan_on_push))
                    .with(
                        "encryption_type",
                        Value::string(registry.encryption_type.clone()),
                    )
                    .with("kms_key", optional(&registry.kms_key))
                    .with("lifecycle_policy", optional(&registry.lifecycle_policy))
                    .with(
                        "repository_policy",
                        optional(&pull_policy(partition, &registry.pull_accounts)),
                    )
                    .with("tags", named_after_address(stack, &address))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_names_each_accounts_root_and_only_pull_actions() {
        let policy =
            pull_policy("aws", &["111122223333".into(), "444455556666".into()]).expect("a policy");
        let parsed: serde_json::Value = serde_json::from_str(&policy).expect("JSON");
        let statement = &parsed["Statement"][0];
        assert_eq!(
            statement["Principal"]["AWS"],
            serde_json::json!([
                "arn:aws:iam::111122223333:root",
                "arn:aws:iam::444455556666:root"
            ])
        );
        assert_eq!(statement["Action"], serde_json::json!(PULL_ACTIONS));
        assert_eq!(pull_policy("aws", &[]), None);
    }

    #[test]
    fn an_omitted_kms_key_is_satisfied_by_ecrs_choice() {
        let chosen = Value::string("arn:aws:kms:us-east-1:1:key/abc");
        assert!(kms_key_satisfied(&chosen, &Value::Null));
        assert!(!kms_key_satisfied(
            &chosen,
            &Value::string("arn:aws:kms:us-east-1:1:key/other")
        ));
    }
}
