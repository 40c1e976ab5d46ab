//! `eksform iam-policy` stays true: the actions it lists are exactly the AWS
//! calls the adapter's source makes (`<client>.<operation>(` in `src/kinds`,
//! `src/cloud` and `src/lock.rs`), plus the permissions AWS checks implicitly.

use std::collections::BTreeSet;
use std::path::Path;

use eksform::iam_policy::{CALLED, IMPLIED, document};

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

/// `service:Action` (lower case, as IAM compares them) for every call.
fn calls_in_source() -> BTreeSet<String> {
    let mut texts = Vec::new();
    sources(Path::new("src/kinds"), &mut texts);
    sources(Path::new("src/cloud"), &mut texts);
    if Path::new("src/lock.rs").exists() {
        texts.push(std::fs::read_to_string("src/lock.rs").unwrap());
    }
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
    let listed: BTreeSet<String> = CALLED
        .iter()
        .flat_map(|(service, actions)| actions.iter().map(move |a| format!("{service}:{a}")))
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let missing: Vec<&String> = calls.difference(&listed).collect();
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
