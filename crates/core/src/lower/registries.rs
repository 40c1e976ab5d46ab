//! `registries[]` lowered: defaults applied, and eksform's lifecycle words
//! (`keepLastTagged`, `expireUntaggedAfterDays`) turned into the lifecycle
//! policy ECR takes. Pure.

use crate::spec::{EncryptionType, RegistryLifecycle, Spec};

/// An ECR repository with its defaults applied.
#[derive(Debug, Clone)]
pub struct RegistryModel {
    pub name: String,
    pub immutable_tags: bool,
    pub scan_on_push: bool,
    /// `AES256` or `KMS`, as ECR names them.
    pub encryption_type: String,
    /// With KMS: the key given (none: ECR's AWS managed key).
    pub kms_key: Option<String>,
    /// The lifecycle policy as ECR takes it (compact JSON); none: no policy.
    pub lifecycle_policy: Option<String>,
    /// Accounts allowed to pull; sorted, without duplicates.
    pub pull_accounts: Vec<String>,
}

pub fn registries(spec: &Spec) -> Vec<RegistryModel> {
    let Some(registries) = &spec.registries else {
        return Vec::new();
    };
    registries
        .iter()
        .map(|registry| {
            let encryption = registry.encryption.as_ref();
            let mut pull_accounts: Vec<String> = registry
                .pull_accounts
                .iter()
                .map(|a| a.value.clone())
                .collect();
            pull_accounts.sort();
            pull_accounts.dedup();
            RegistryModel {
                name: registry.name.value.clone(),
                immutable_tags: registry.immutable_tags.unwrap_or(false),
                scan_on_push: registry.scan_on_push.unwrap_or(true),
                encryption_type: match encryption.map(|e| e.encryption_type) {
                    Some(EncryptionType::KMS) => "KMS".into(),
                    Some(EncryptionType::AES256) | None => "AES256".into(),
                },
                kms_key: encryption
                    .and_then(|e| e.kms_key_arn.as_ref())
                    .map(|k| k.value.clone()),
                lifecycle_policy: registry
                    .lifecycle
                    .as_ref()
                    .and_then(|l| lifecycle_policy(l)),
                pull_accounts,
            }
        })
        .collect()
}

/// ECR's lifecycle policy for the spec's words: untagged images expire first
/// (priority 1), then one rule per `keepLastTagged` entry in the order
/// written. `policyJSON` is taken as it is (keys sorted). None: no rule.
pub fn lifecycle_policy(lifecycle: &RegistryLifecycle) -> Option<String> {
    if let Some(text) = &lifecycle.policy_json {
        let parsed: serde_json::Value = serde_json::from_str(text).ok()?;
        return Some(crate::model::sorted_json(parsed).to_string());
    }
    let mut rules = Vec::new();
    if let Some(days) = &lifecycle.expire_untagged_after_days {
        rules.push(serde_json::json!({
            "description": format!("expire untagged images {} days after push", days.value),
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": days.value,
            },
            "action": { "type": "expire" },
        }));
    }
    for keep in &lifecycle.keep_last_tagged {
        let prefixes: Vec<&str> = keep.tag_prefixes.iter().map(|p| p.as_str()).collect();
        rules.push(serde_json::json!({
            "description": format!(
                "keep the last {} images tagged {}",
                keep.count.value,
                prefixes.iter().map(|p| format!("{p}*")).collect::<Vec<_>>().join(", ")
            ),
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": prefixes,
                "countType": "imageCountMoreThan",
                "countNumber": keep.count.value,
            },
            "action": { "type": "expire" },
        }));
    }
    if rules.is_empty() {
        return None;
    }
    for (priority, rule) in rules.iter_mut().enumerate() {
        rule["rulePriority"] = serde_json::json!(priority + 1);
    }
    Some(crate::model::sorted_json(serde_json::json!({ "rules": rules })).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Span;
    use crate::spec::{KeepLastTagged, Located};

    fn located<T>(value: T) -> Located<T> {
        Located::new(value, Span::default())
    }

    #[test]
    fn untagged_expiry_comes_first_then_each_kept_prefix_in_order() {
        let lifecycle = RegistryLifecycle {
            keep_last_tagged: vec![
                located(KeepLastTagged {
                    tag_prefixes: vec![located("v".to_string())],
                    count: located(30),
                }),
                located(KeepLastTagged {
                    tag_prefixes: vec![located("dev-".to_string()), located("pr-".to_string())],
                    count: located(5),
                }),
            ],
            expire_untagged_after_days: Some(located(14)),
            policy_json: None,
        };
        let policy: serde_json::Value =
            serde_json::from_str(&lifecycle_policy(&lifecycle).expect("a policy")).expect("JSON");
        let rules = policy["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0]["rulePriority"], 1);
        assert_eq!(rules[0]["selection"]["tagStatus"], "untagged");
        assert_eq!(rules[0]["selection"]["countType"], "sinceImagePushed");
        assert_eq!(rules[0]["selection"]["countNumber"], 14);
        assert_eq!(rules[1]["rulePriority"], 2);
        assert_eq!(
            rules[1]["selection"]["tagPrefixList"],
            serde_json::json!(["v"])
        );
        assert_eq!(rules[1]["selection"]["countType"], "imageCountMoreThan");
        assert_eq!(rules[1]["selection"]["countNumber"], 30);
        assert_eq!(rules[2]["rulePriority"], 3);
        assert_eq!(
            rules[2]["selection"]["tagPrefixList"],
            serde_json::json!(["dev-", "pr-"])
        );
        assert!(rules.iter().all(|r| r["action"]["type"] == "expire"));
    }

    #[test]
    fn no_rule_is_no_policy_and_raw_json_is_kept() {
        let empty = RegistryLifecycle {
            keep_last_tagged: vec![],
            expire_untagged_after_days: None,
            policy_json: None,
        };
        assert_eq!(lifecycle_policy(&empty), None);
        let raw = RegistryLifecycle {
            policy_json: Some(located(
                r#"{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 100}, "action": {"type": "expire"}}]}"#
                    .to_string(),
            )),
            ..empty
        };
        let policy: serde_json::Value =
            serde_json::from_str(&lifecycle_policy(&raw).expect("a policy")).expect("JSON");
        assert_eq!(policy["rules"][0]["selection"]["countNumber"], 100);
    }
}
