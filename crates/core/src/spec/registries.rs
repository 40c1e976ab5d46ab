//! The spec's `registries` section: ECR repositories, in eksform's own words
//! for the common lifecycle rules (keep the last N tagged images, expire
//! untagged ones) and for pulls by the estate's other accounts.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::located::Located;

/// One ECR repository.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Registry {
    /// The repository name as ECR spells it, for example `team/app`.
    pub name: Located<String>,
    /// Pushed tags cannot be overwritten (ECR's `IMMUTABLE`). Default false.
    #[serde(default)]
    pub immutable_tags: Option<bool>,
    /// Scan each image when it is pushed. Default true.
    #[serde(default)]
    pub scan_on_push: Option<bool>,
    /// How images are encrypted at rest. Default AES256. Set at creation.
    #[serde(default)]
    pub encryption: Option<Located<RegistryEncryption>>,
    /// Which images ECR expires.
    #[serde(default)]
    pub lifecycle: Option<Located<RegistryLifecycle>>,
    /// Accounts (12 digits) whose principals may pull from the repository.
    #[serde(default)]
    pub pull_accounts: Vec<Located<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryEncryption {
    /// AES256 (ECR's own keys) or KMS.
    #[serde(rename = "type")]
    pub encryption_type: EncryptionType,
    /// With KMS: the key's ARN. Omitted: ECR's AWS managed key `aws/ecr`.
    #[serde(default, rename = "kmsKeyARN")]
    pub kms_key_arn: Option<Located<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[allow(clippy::upper_case_acronyms)]
pub enum EncryptionType {
    AES256,
    KMS,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegistryLifecycle {
    /// Keep the newest `count` images whose tag starts with one of
    /// `tagPrefixes`; older ones expire.
    #[serde(default)]
    pub keep_last_tagged: Vec<Located<KeepLastTagged>>,
    /// Untagged images expire this many days after their push.
    #[serde(default)]
    pub expire_untagged_after_days: Option<Located<u32>>,
    /// A lifecycle policy as ECR takes it (JSON text), instead of the two
    /// fields above.
    #[serde(default, rename = "policyJSON")]
    pub policy_json: Option<Located<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeepLastTagged {
    pub tag_prefixes: Vec<Located<String>>,
    pub count: Located<u32>,
}
