//! The run's AWS credentials: the SDK's default chain (the environment, the
//! shared files and their profile: keys, SSO, assumed roles,
//! `credential_process`; web identity; the container's and the instance's
//! metadata), resolved once up front so that a missing or expired credential
//! is told at once, then shared by the clients of every region. When the
//! chain has none, the clients get credentials that fail every call at once
//! with the caller's words (`Credentials::unavailable`), which `crate::error`
//! reports under the code `NO_CREDENTIALS`, never retried.

use std::error::Error;
use std::sync::Mutex;
use std::time::Duration;

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::identity::IdentityCache;
use aws_config::{ConfigLoader, Region};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{self, ProvideCredentials, SharedCredentialsProvider, future};
use aws_smithy_runtime_api::client::identity::SharedIdentityCache;

use crate::Connection;

/// Keys themselves (access key, secret, session token), as the SDK holds them.
pub use aws_credential_types::Credentials as Keys;

/// The error code of a call made without credentials.
pub const NO_CREDENTIALS: &str = "NoCredentials";

/// How long the instance metadata service is given per request. Off EC2 it
/// never answers, and the SDK's defaults (several attempts) held a run
/// without credentials silent for many seconds before it failed.
const IMDS_TIMEOUT: Duration = Duration::from_secs(1);

/// The credentials every client of a run uses, with one cache: a profile
/// that assumes a role assumes it once, whatever the regions.
#[derive(Clone, Debug)]
pub struct Credentials {
    provider: SharedCredentialsProvider,
    cache: SharedIdentityCache,
}

/// Why the chain gave no credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    /// No source of the chain holds any.
    #[error("none was found")]
    NotFound,
    /// A source holds some but could not give them (an expired SSO
    /// session, a profile that does not exist, a failing
    /// `credential_process`), in the SDK's words.
    #[error("{0}")]
    Failed(String),
    #[error("looking for them timed out after {}s", .0.as_secs())]
    TimedOut(Duration),
}

impl Credentials {
    /// The default chain for the connection's profile and region, resolved
    /// within `within`.
    pub async fn resolve(connection: &Connection, within: Duration) -> Result<Self, Missing> {
        let imds = aws_config::imds::Client::builder()
            .connect_timeout(IMDS_TIMEOUT)
            .read_timeout(IMDS_TIMEOUT)
            .max_attempts(1)
            .build();
        let mut chain = DefaultCredentialsChain::builder()
            .region(Region::new(connection.region.clone()))
            .imds_client(imds);
        if let Some(profile) = &connection.profile {
            chain = chain.profile_name(profile);
        }
        let resolving = async {
            let chain = chain.build().await;
            let first = chain.provide_credentials().await;
            (chain, first)
        };
        let (chain, first) = tokio::time::timeout(within, resolving)
            .await
            .map_err(|_| Missing::TimedOut(within))?;
        let first = first.map_err(|e| match e {
            CredentialsError::CredentialsNotLoaded(_) => Missing::NotFound,
            other => Missing::Failed(one_line(&other)),
        })?;
        Ok(Self::from_provider(FirstThenChain {
            first: Mutex::new(Some(first)),
            chain,
        }))
    }

    /// Credentials that fail every call at once, with `message`.
    pub fn unavailable(message: String) -> Self {
        Self::from_provider(Unavailable(message))
    }

    /// Fixed credentials (tests, emulators).
    pub fn fixed(credentials: aws_credential_types::Credentials) -> Self {
        Self::from_provider(credentials)
    }

    fn from_provider(provider: impl ProvideCredentials + 'static) -> Self {
        Self {
            provider: SharedCredentialsProvider::new(provider),
            cache: IdentityCache::lazy().build(),
        }
    }

    /// The keys themselves, for what signs without the SDK (an EKS token):
    /// the caller's words when there are none, as every call would say them.
    pub async fn current(&self) -> Result<Keys, String> {
        self.provider.provide_credentials().await.map_err(|e| {
            missing_in(&e).unwrap_or_else(|| format!("no usable AWS credentials: {}", one_line(&e)))
        })
    }

    pub(crate) fn configure(&self, loader: ConfigLoader) -> ConfigLoader {
        loader
            .credentials_provider(self.provider.clone())
            .identity_cache(self.cache.clone())
    }
}

/// The keys of `role_arn` assumed through `sts` (STS AssumeRole) under the
/// session name `session`.
pub async fn assume_role(
    sts: &aws_sdk_sts::Client,
    role_arn: &str,
    session: &str,
) -> Result<Keys, eksform_core::cloud::CloudError> {
    let out = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session)
        .send()
        .await
        .map_err(|e| crate::error("AssumeRole", e))?;
    let keys = out.credentials().ok_or_else(|| {
        eksform_core::cloud::CloudError::rejected(format!(
            "AssumeRole of {role_arn} returned no credentials"
        ))
    })?;
    Ok(Keys::new(
        keys.access_key_id(),
        keys.secret_access_key(),
        Some(keys.session_token().to_string()),
        std::time::SystemTime::try_from(*keys.expiration()).ok(),
        "AssumeRole",
    ))
}

/// The credentials resolved up front, then the chain once they expire: the
/// chain's sources are not asked twice for the first ones (a
/// `credential_process` may prompt).
#[derive(Debug)]
struct FirstThenChain {
    first: Mutex<Option<aws_credential_types::Credentials>>,
    chain: DefaultCredentialsChain,
}

impl ProvideCredentials for FirstThenChain {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        match self.first.lock().ok().and_then(|mut first| first.take()) {
            Some(first) => future::ProvideCredentials::ready(Ok(first)),
            None => self.chain.provide_credentials(),
        }
    }
}

/// No credentials, and the words that say so.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
struct Unavailable(String);

impl ProvideCredentials for Unavailable {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let failed: provider::Result = Err(CredentialsError::provider_error(self.clone()));
        future::ProvideCredentials::ready(failed)
    }
}

/// When `error` (an SDK error) is a call that had no credentials: what to
/// say about it.
pub(crate) fn missing_in(error: &(dyn Error + 'static)) -> Option<String> {
    if let Some(unavailable) = causes(error).find_map(|e| e.downcast_ref::<Unavailable>()) {
        return Some(unavailable.0.clone());
    }
    causes(error)
        .find(|e| e.downcast_ref::<CredentialsError>().is_some())
        .map(|e| format!("no usable AWS credentials: {}", one_line(e)))
}

/// An error, then its source, then that one's, and so on.
fn causes<'a>(error: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(error), |e: &&'a (dyn Error + 'static)| (*e).source())
}

/// An error and its sources in one line, each said once: never the Debug
/// dump that `DisplayErrorContext` appends.
pub fn one_line(error: &(dyn Error + 'static)) -> String {
    let mut said: Vec<String> = Vec::new();
    for e in causes(error) {
        let text = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() && !said.iter().any(|s| s.contains(&text)) {
            said.push(text);
        }
    }
    said.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("dispatch failure")]
    struct Outer(#[source] CredentialsError);

    #[test]
    fn one_line_says_each_cause_once_without_a_debug_dump() {
        let error = Outer(CredentialsError::provider_error(
            "the SSO session has expired",
        ));
        assert_eq!(
            one_line(&error),
            "dispatch failure: an error occurred while loading credentials: the SSO session has expired"
        );
    }

    #[test]
    fn a_call_without_credentials_says_what_the_caller_said() {
        let error = Outer(CredentialsError::provider_error(Unavailable(
            "no AWS credentials; see --profile".into(),
        )));
        assert_eq!(
            missing_in(&error).as_deref(),
            Some("no AWS credentials; see --profile")
        );
        let other = Outer(CredentialsError::provider_error("expired"));
        assert_eq!(
            missing_in(&other).as_deref(),
            Some("no usable AWS credentials: an error occurred while loading credentials: expired")
        );
    }
}
