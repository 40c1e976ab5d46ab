//! The bearer token an EKS API server takes (`eksform token`), made from
//! credentials and a clock alone, with no call to AWS: `k8s-aws-v1.` and the
//! unpadded base64url of an STS GetCallerIdentity URL presigned with SigV4,
//! whose signed headers hold `x-k8s-aws-id: <cluster>`. The API server sends
//! that URL to STS to learn who signed it; the cluster name in the signature
//! keeps a token made for one cluster from being replayed at another. Also
//! the `ExecCredential` document kubectl's exec plugins print.
//!
//! The URL always names the region's public STS endpoint: the API server
//! checks the host against STS's and calls it, so an emulator's endpoint
//! (`--endpoint-url`) would only make a token no cluster accepts.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_types::date_time::{DateTime, Format};
use serde::Serialize;

/// What every EKS token starts with.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";

/// The signed header that names the cluster the token is for.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";

/// The presigned URL's `X-Amz-Expires`, as the AWS CLI and
/// aws-iam-authenticator sign it. The API server does not read it: it takes a
/// token for 15 minutes from its `X-Amz-Date`.
pub const URL_EXPIRES: Duration = Duration::from_secs(60);

/// How long kubectl may reuse a token: a minute short of the API server's 15,
/// so that a token is never sent at the edge of its life.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);

/// The ExecCredential version kubeconfig's exec entries ask for.
pub const EXEC_CREDENTIAL_API_VERSION: &str = "client.authentication.k8s.io/v1beta1";

/// A token and when kubectl should ask for the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksToken {
    pub token: String,
    pub expires_at: SystemTime,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error(
        "`{0}` is not an AWS region (such as eu-west-1); the token is signed for the cluster's region"
    )]
    NotARegion(String),
    #[error("the cluster name is empty; give the EKS cluster's name with --cluster")]
    NoCluster,
    #[error("cannot sign the token: {0}")]
    Signing(String),
}

/// The host of a region's STS endpoint (China's regions have their own domain).
pub fn sts_host(region: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("sts.{region}.{domain}")
}

/// Whether `region` looks like an AWS region name (`us-east-1`,
/// `us-gov-west-1`): it becomes part of a host name and of the signature.
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
}

/// Checks what `token` checks, for callers that want to refuse bad input
/// before they fetch credentials (an assumed role).
pub fn check_request(cluster: &str, region: &str) -> Result<(), TokenError> {
    if cluster.trim().is_empty() {
        return Err(TokenError::NoCluster);
    }
    if !is_region(region) {
        return Err(TokenError::NotARegion(region.to_string()));
    }
    Ok(())
}

/// The GetCallerIdentity URL for `cluster` presigned with `credentials` at
/// `now` (a session token, when the credentials carry one, is signed in).
pub fn presigned_url(
    credentials: &Credentials,
    cluster: &str,
    region: &str,
    now: SystemTime,
) -> Result<String, TokenError> {
    check_request(cluster, region)?;
    let url = format!(
        "https://{}/?Action=GetCallerIdentity&Version=2011-06-15",
        sts_host(region)
    );
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(URL_EXPIRES);
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| TokenError::Signing(e.to_string()))?
        .into();
    let request = SignableRequest::new(
        "GET",
        &url,
        std::iter::once((CLUSTER_ID_HEADER, cluster)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| TokenError::Signing(e.to_string()))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| TokenError::Signing(e.to_string()))?
        .into_parts();
    let mut presigned = url;
    for (name, value) in instructions.params() {
        presigned.push('&');
        presigned.push_str(name);
        presigned.push('=');
        presigned.push_str(&query_escaped(value));
    }
    Ok(presigned)
}

/// The token for `cluster` in `region`, signed with `credentials` at `now`.
pub fn token(
    credentials: &Credentials,
    cluster: &str,
    region: &str,
    now: SystemTime,
) -> Result<EksToken, TokenError> {
    let url = presigned_url(credentials, cluster, region, now)?;
    Ok(EksToken {
        token: format!("{TOKEN_PREFIX}{}", base64url_unpadded(url.as_bytes())),
        expires_at: now + TOKEN_LIFETIME,
    })
}

impl EksToken {
    /// The `ExecCredential` kubectl reads from an exec plugin's stdout.
    pub fn exec_credential(&self) -> ExecCredential {
        ExecCredential {
            kind: "ExecCredential",
            api_version: EXEC_CREDENTIAL_API_VERSION,
            spec: ExecCredentialSpec {},
            status: ExecCredentialStatus {
                expiration_timestamp: rfc3339_seconds(self.expires_at),
                token: self.token.clone(),
            },
        }
    }
}

/// `client.authentication.k8s.io/v1beta1` `ExecCredential`, fields in the
/// order kubectl's own plugins print them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExecCredential {
    pub kind: &'static str,
    pub api_version: &'static str,
    pub spec: ExecCredentialSpec,
    pub status: ExecCredentialStatus,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExecCredentialSpec {}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExecCredentialStatus {
    pub expiration_timestamp: String,
    pub token: String,
}

/// RFC 3339 in UTC to the second (`2024-05-06T07:22:09Z`).
fn rfc3339_seconds(time: SystemTime) -> String {
    let seconds = DateTime::from(time).secs();
    DateTime::from_secs(seconds)
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

/// Base64url without padding (RFC 4648 section 5), the token's encoding.
fn base64url_unpadded(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(bytes)
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect()
}

/// A query value percent-encoded: everything but RFC 3986's unreserved characters.
fn query_escaped(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            escaped.push(byte as char);
        } else {
            escaped.push_str(&format!("%{byte:02X}"));
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// 2024-05-06T07:08:09Z.
    fn at() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_979_289)
    }

    fn keys(session_token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token.map(str::to_string),
            None,
            "test",
        )
    }

    /// The token's URL, decoded the way the API server does.
    fn decoded(token: &str) -> String {
        let encoded = token
            .strip_prefix(TOKEN_PREFIX)
            .unwrap_or_else(|| panic!("no prefix: {token}"));
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
        String::from_utf8(aws_smithy_types::base64::decode(&standard).unwrap()).unwrap()
    }

    fn unescaped(value: &str) -> String {
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

    fn query(url: &str) -> BTreeMap<String, String> {
        let (_, query) = url.split_once('?').unwrap();
        query
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (k.to_string(), unescaped(v))
            })
            .collect()
    }

    // The signatures below were computed independently with botocore's
    // SigV4QueryAuth (what `aws eks get-token` uses) for the same keys, time,
    // region, cluster header and URL.

    #[test]
    fn the_url_is_signed_as_botocore_signs_it() {
        let url = presigned_url(&keys(None), "prod-eks", "eu-west-1", at()).unwrap();
        let query = query(&url);
        assert!(
            url.starts_with(
                "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"
            ),
            "{url}"
        );
        assert_eq!(query["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
        assert_eq!(
            query["X-Amz-Credential"],
            "AKIDEXAMPLE/20240506/eu-west-1/sts/aws4_request"
        );
        assert_eq!(query["X-Amz-Date"], "20240506T070809Z");
        assert_eq!(query["X-Amz-Expires"], "60");
        assert_eq!(query["X-Amz-SignedHeaders"], "host;x-k8s-aws-id");
        assert!(!query.contains_key("X-Amz-Security-Token"));
        assert_eq!(
            query["X-Amz-Signature"],
            "bf01682df6a8b92e41fbba388468a8db2071347e4623f0436d679abc52ed5d9f"
        );
    }

    #[test]
    fn a_session_token_is_signed_into_the_url() {
        let url = presigned_url(
            &keys(Some("FwoGZXIvYXdzEBYaDEXAMPLE/TOKEN+=")),
            "prod-eks",
            "eu-west-1",
            at(),
        )
        .unwrap();
        let query = query(&url);
        assert_eq!(
            query["X-Amz-Security-Token"],
            "FwoGZXIvYXdzEBYaDEXAMPLE/TOKEN+="
        );
        assert_eq!(
            query["X-Amz-Signature"],
            "9b9e02d9c903eb72d27b5e165a3cb51129e64fb3387cd5359759f4c761590ac3"
        );
    }

    #[test]
    fn another_cluster_gets_another_signature() {
        let one = query(&presigned_url(&keys(None), "prod-eks", "eu-west-1", at()).unwrap());
        let other = query(&presigned_url(&keys(None), "dev-eks", "eu-west-1", at()).unwrap());
        assert_ne!(one["X-Amz-Signature"], other["X-Amz-Signature"]);
    }

    #[test]
    fn the_token_is_the_prefixed_base64url_of_the_url_and_lives_14_minutes() {
        let token = token(&keys(Some("a/b+c=")), "prod-eks", "eu-west-1", at()).unwrap();
        let url = presigned_url(&keys(Some("a/b+c=")), "prod-eks", "eu-west-1", at()).unwrap();
        assert_eq!(decoded(&token.token), url);
        assert_eq!(token.expires_at, at() + Duration::from_secs(14 * 60));
        let document = serde_json::to_value(token.exec_credential()).unwrap();
        assert_eq!(
            document,
            serde_json::json!({
                "kind": "ExecCredential",
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "spec": {},
                "status": {
                    "expirationTimestamp": "2024-05-06T07:22:09Z",
                    "token": token.token,
                }
            })
        );
    }

    #[test]
    fn china_regions_use_their_own_sts_domain() {
        assert_eq!(sts_host("cn-north-1"), "sts.cn-north-1.amazonaws.com.cn");
        assert_eq!(sts_host("us-gov-west-1"), "sts.us-gov-west-1.amazonaws.com");
        let url = presigned_url(&keys(None), "c", "cn-north-1", at()).unwrap();
        assert!(url.starts_with("https://sts.cn-north-1.amazonaws.com.cn/?"));
    }

    #[test]
    fn a_region_that_is_not_one_or_an_empty_cluster_is_refused() {
        for region in [
            "",
            "eu-west",
            "EU-WEST-1",
            "eu-west-1.evil.com",
            "eu_west_1",
            "1-2-3",
        ] {
            assert_eq!(
                presigned_url(&keys(None), "c", region, at()),
                Err(TokenError::NotARegion(region.into())),
                "{region}"
            );
        }
        assert_eq!(
            token(&keys(None), " ", "eu-west-1", at()),
            Err(TokenError::NoCluster)
        );
        for region in [
            "us-east-1",
            "ap-southeast-3",
            "us-gov-west-1",
            "cn-northwest-1",
        ] {
            assert!(check_request("c", region).is_ok(), "{region}");
        }
    }
}
