//! `eksform token` through the binary, as kubectl runs it: credentials from
//! the environment, no AWS call, an ExecCredential on stdout whose token
//! decodes to a presigned STS GetCallerIdentity URL for the cluster. (The
//! kubeconfig and `--role-arn` against the emulator: `emulator::access`.)

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, SystemTime};

use aws_smithy_types::date_time::{DateTime, Format};

use crate::EKSFORM;

/// A token's presigned URL: its host and its query, decoded.
pub struct TokenUrl {
    pub host: String,
    pub query: BTreeMap<String, String>,
}

impl TokenUrl {
    /// The access key the URL was signed with.
    pub fn access_key(&self) -> &str {
        self.query["X-Amz-Credential"]
            .split('/')
            .next()
            .unwrap_or_default()
    }

    /// When it was signed (`X-Amz-Date`).
    pub fn signed_at(&self) -> SystemTime {
        let d = &self.query["X-Amz-Date"];
        let rfc3339 = format!(
            "{}-{}-{}T{}:{}:{}Z",
            &d[0..4],
            &d[4..6],
            &d[6..8],
            &d[9..11],
            &d[11..13],
            &d[13..15]
        );
        SystemTime::try_from(DateTime::from_str(&rfc3339, Format::DateTime).unwrap()).unwrap()
    }
}

fn percent_decoded(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&value[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// An ExecCredential's token decoded as the API server decodes it: the
/// prefix stripped, unpadded base64url decoded, the URL parsed.
pub fn decoded_token(exec_credential: &serde_json::Value) -> TokenUrl {
    assert_eq!(exec_credential["kind"], "ExecCredential");
    assert_eq!(
        exec_credential["apiVersion"],
        "client.authentication.k8s.io/v1beta1"
    );
    assert_eq!(exec_credential["spec"], serde_json::json!({}));
    let token = exec_credential["status"]["token"].as_str().unwrap();
    let encoded = token
        .strip_prefix("k8s-aws-v1.")
        .unwrap_or_else(|| panic!("no k8s-aws-v1. prefix: {token}"));
    assert!(
        !encoded.contains(['=', '+', '/']),
        "not unpadded base64url: {encoded}"
    );
    let mut standard: String = encoded
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            other => other,
        })
        .collect();
    while !standard.len().is_multiple_of(4) {
        standard.push('=');
    }
    let url = String::from_utf8(aws_smithy_types::base64::decode(&standard).unwrap()).unwrap();
    let rest = url
        .strip_prefix("https://")
        .unwrap_or_else(|| panic!("not https: {url}"));
    let (host, query) = rest.split_once("/?").unwrap();
    TokenUrl {
        host: host.to_string(),
        query: query
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (k.to_string(), percent_decoded(v))
            })
            .collect(),
    }
}

/// The binary with only these credentials in its environment: no config
/// files, no instance metadata. The endpoint points at nothing: the token is
/// made without a call, and it must not move the presigned host.
fn with_keys(session_token: Option<&str>) -> Command {
    let mut command = Command::new(EKSFORM);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent/eksform-home")
        .env("AWS_CONFIG_FILE", "/nonexistent/eksform-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/eksform-test-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .env("NO_COLOR", "1");
    if let Some(token) = session_token {
        command.env("AWS_SESSION_TOKEN", token);
    }
    command
}

/// Whole seconds, as X-Amz-Date and expirationTimestamp carry them.
fn to_the_second(time: SystemTime) -> SystemTime {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

#[test]
fn token_prints_an_exec_credential_for_the_cluster_signed_with_the_environments_keys() {
    let before = to_the_second(SystemTime::now());
    let output = with_keys(Some("IQoJb3JpZ2luX2VjEXAMPLE/+="))
        .args(["token", "--cluster", "prd-eks", "--region", "eu-west-1"])
        .output()
        .unwrap();
    let after = SystemTime::now();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let url = decoded_token(&document);

    assert_eq!(url.host, "sts.eu-west-1.amazonaws.com");
    assert_eq!(url.query["Action"], "GetCallerIdentity");
    assert_eq!(url.query["Version"], "2011-06-15");
    assert_eq!(url.query["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(url.query["X-Amz-Expires"], "60");
    let signed: Vec<&str> = url.query["X-Amz-SignedHeaders"].split(';').collect();
    assert!(signed.contains(&"x-k8s-aws-id"), "{signed:?}");
    assert!(signed.contains(&"host"), "{signed:?}");
    assert_eq!(
        url.query["X-Amz-Security-Token"],
        "IQoJb3JpZ2luX2VjEXAMPLE/+="
    );
    assert_eq!(url.query["X-Amz-Signature"].len(), 64);

    let signed_at = url.signed_at();
    assert!(
        before <= signed_at && signed_at <= after,
        "signed at {signed_at:?}, run between {before:?} and {after:?}"
    );
    let day = &url.query["X-Amz-Date"][..8];
    assert_eq!(
        url.query["X-Amz-Credential"],
        format!("AKIAEXAMPLEKEY/{day}/eu-west-1/sts/aws4_request")
    );
    let expires = document["status"]["expirationTimestamp"].as_str().unwrap();
    assert!(expires.ends_with('Z'), "UTC: {expires}");
    let expires =
        SystemTime::try_from(DateTime::from_str(expires, Format::DateTime).unwrap()).unwrap();
    assert_eq!(expires, signed_at + Duration::from_secs(14 * 60));
}

#[test]
fn token_without_a_session_token_signs_none_and_each_cluster_gets_its_own() {
    let token_for = |cluster: &str| {
        let output = with_keys(None)
            .args(["token", "--cluster", cluster, "--region", "ap-southeast-2"])
            .output()
            .unwrap();
        assert!(output.status.success());
        decoded_token(&serde_json::from_slice(&output.stdout).unwrap())
    };
    let one = token_for("one");
    assert!(!one.query.contains_key("X-Amz-Security-Token"));
    assert_eq!(one.host, "sts.ap-southeast-2.amazonaws.com");
    assert!(one.query["X-Amz-Credential"].contains("/ap-southeast-2/sts/aws4_request"));
    let other = token_for("other");
    assert_ne!(one.query["X-Amz-Signature"], other.query["X-Amz-Signature"]);
}

#[test]
fn token_refuses_what_is_not_a_region_before_looking_for_credentials() {
    let output = Command::new(EKSFORM)
        .env_clear()
        .env("HOME", "/nonexistent/eksform-home")
        .env("NO_COLOR", "1")
        .args([
            "token",
            "--cluster",
            "prd-eks",
            "--region",
            "sts.evil.example",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`sts.evil.example` is not an AWS region"),
        "{stderr}"
    );
}

#[test]
fn token_without_credentials_says_where_it_looked() {
    let output = Command::new(EKSFORM)
        .env_clear()
        .env("HOME", "/nonexistent/eksform-home")
        .env("AWS_CONFIG_FILE", "/nonexistent/eksform-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/eksform-test-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .args(["token", "--cluster", "prd-eks", "--region", "eu-west-1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: no AWS credentials") && stderr.contains("AWS_ACCESS_KEY_ID"),
        "{stderr}"
    );
}
