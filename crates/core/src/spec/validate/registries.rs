//! The rules of `registries[]`: ECR's repository name syntax, unique names,
//! 12-digit pull accounts, a KMS key only with KMS, lifecycle counts and days
//! of at least 1, and `policyJSON` alone and valid.

use super::Validator;
use crate::spec::{EncryptionType, Spec};

/// ECR's repository name: 2 to 256 characters, `/`-separated parts of
/// lowercase letters and digits joined by single `.`, `_` or `-`.
pub fn is_valid_repository_name(name: &str) -> bool {
    (2..=256).contains(&name.len())
        && name.split('/').all(|part| {
            !part.is_empty()
                && part.split(['.', '_', '-']).all(|word| {
                    !word.is_empty()
                        && word
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                })
        })
}

pub(super) fn validate_registries(v: &mut Validator, spec: &Spec) {
    let Some(registries) = &spec.registries else {
        return;
    };
    v.unique(
        "registry",
        registries.iter().map(|r| (r.name.as_str(), r.name.span)),
    );
    for registry in registries.iter() {
        let name = registry.name.as_str();
        if !is_valid_repository_name(name) {
            v.error(
                registry.name.span,
                format!("registries: `{name}` is not a valid ECR repository name"),
                "2 to 256 characters: lowercase letters and digits, parts separated by `/`, words joined by one `.`, `_` or `-` (for example team/app)",
            );
        }
        v.unique(
            "pull account",
            registry.pull_accounts.iter().map(|a| (a.as_str(), a.span)),
        );
        for account in &registry.pull_accounts {
            if !(account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())) {
                v.error(
                    account.span,
                    format!(
                        "registries.{name}.pullAccounts: `{}` is not an AWS account id",
                        account.value
                    ),
                    "12 digits, quoted, for example \"111122223333\"",
                );
            }
        }
        if let Some(encryption) = &registry.encryption
            && let Some(key) = &encryption.kms_key_arn
        {
            if encryption.encryption_type != EncryptionType::KMS {
                v.error(
                    key.span,
                    format!("registries.{name}.encryption: `kmsKeyARN` needs `type: KMS`"),
                    "AES256 uses ECR's own keys; set `type: KMS` or remove the key",
                );
            } else if !(key.starts_with("arn:") && key.contains(":kms:")) {
                v.error(
                    key.span,
                    format!(
                        "registries.{name}.encryption.kmsKeyARN: `{}` is not a KMS key ARN",
                        key.value
                    ),
                    "arn:aws:kms:<region>:<account>:key/<key id>",
                );
            }
        }
        let Some(lifecycle) = &registry.lifecycle else {
            continue;
        };
        if let Some(policy) = &lifecycle.policy_json {
            if !lifecycle.keep_last_tagged.is_empty()
                || lifecycle.expire_untagged_after_days.is_some()
            {
                v.error(
                    policy.span,
                    format!(
                        "registries.{name}.lifecycle: `policyJSON` cannot be combined with `keepLastTagged` or `expireUntaggedAfterDays`"
                    ),
                    "write every rule in the JSON, or use the two fields without it",
                );
            }
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(policy);
            match parsed {
                Ok(document) if document.get("rules").is_some_and(|r| r.is_array()) => {}
                Ok(_) => v.error(
                    policy.span,
                    format!("registries.{name}.lifecycle.policyJSON: no `rules` list"),
                    "an ECR lifecycle policy: {\"rules\": [{\"rulePriority\": 1, \"selection\": {...}, \"action\": {\"type\": \"expire\"}}]}",
                ),
                Err(e) => v.error(
                    policy.span,
                    format!("registries.{name}.lifecycle.policyJSON: not JSON: {e}"),
                    "the lifecycle policy as ECR takes it, as a string",
                ),
            }
        }
        if let Some(days) = &lifecycle.expire_untagged_after_days
            && days.value < 1
        {
            v.error(
                days.span,
                format!("registries.{name}.lifecycle.expireUntaggedAfterDays: must be at least 1"),
                "",
            );
        }
        for keep in &lifecycle.keep_last_tagged {
            if keep.count.value < 1 {
                v.error(
                    keep.count.span,
                    format!("registries.{name}.lifecycle.keepLastTagged: count must be at least 1"),
                    "",
                );
            }
            if keep.tag_prefixes.is_empty() {
                v.error(
                    keep.span,
                    format!("registries.{name}.lifecycle.keepLastTagged: no tag prefix"),
                    "give at least one, for example tagPrefixes: [v]",
                );
            }
            for prefix in keep.tag_prefixes.iter().filter(|p| p.is_empty()) {
                v.error(
                    prefix.span,
                    format!("registries.{name}.lifecycle.keepLastTagged: an empty tag prefix"),
                    "a prefix has at least one character",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid_repository_name;

    #[test]
    fn repository_names_follow_ecr() {
        for good in ["team/app", "app", "a.b-c_d/e2", "ab"] {
            assert!(is_valid_repository_name(good), "{good}");
        }
        for bad in ["Team/app", "a", "/app", "app/", "a//b", "a..b", "-a", "a b"] {
            assert!(!is_valid_repository_name(bad), "{bad}");
        }
    }
}
