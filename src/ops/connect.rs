//! How the operations reach AWS: the profile and endpoint of the run, its
//! credentials (resolved once, up front, for every region), and a connection
//! per region asked for.

use std::sync::Arc;
use std::time::Duration;

use eksform_aws::credentials::{Credentials, Keys, Missing};
use eksform_aws::{AwsClients, AwsCloud, Connection, Warnings};
use eksform_core::cloud::{Cloud, CloudError, Regions};

use super::OpsError;

/// How long the credential chain is given before the run says it has none.
/// Long enough for SSO or an assumed role over a slow network; the chain's
/// instance metadata lookup, the slow part off EC2, gives up much sooner.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(15);

/// How this run reaches AWS; the region comes from each stack.
#[derive(Debug, Clone, Default)]
pub struct AwsAccess {
    /// A profile of the shared config files.
    pub profile: Option<String>,
    /// An endpoint that takes every call (a local emulator).
    pub endpoint_url: Option<String>,
    /// Where the AWS side's warnings go.
    pub warnings: Warnings,
    /// The run's credentials, resolved by the first connection (shared by clones).
    credentials: Arc<tokio::sync::OnceCell<Credentials>>,
}

impl AwsAccess {
    pub fn new(profile: Option<String>, endpoint_url: Option<String>, warnings: Warnings) -> Self {
        Self {
            profile,
            endpoint_url,
            warnings,
            credentials: Arc::default(),
        }
    }

    pub async fn clients(&self, region: &str) -> AwsClients {
        let connection = self.connection(region);
        let credentials = self.credentials(&connection).await;
        AwsClients {
            warnings: self.warnings.clone(),
            ..AwsClients::connect(&connection, credentials).await
        }
    }

    /// The run's keys themselves, for what is signed without a call (an EKS
    /// token); `OpsError::NoCredentials` when the chain has none.
    pub async fn keys(&self, region: &str) -> Result<Keys, OpsError> {
        let connection = self.connection(region);
        self.credentials(&connection)
            .await
            .current()
            .await
            .map_err(OpsError::NoCredentials)
    }

    fn connection(&self, region: &str) -> Connection {
        Connection {
            region: region.into(),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
        }
    }

    async fn credentials(&self, connection: &Connection) -> &Credentials {
        self.credentials
            .get_or_init(|| async {
                match Credentials::resolve(connection, CREDENTIALS_TIMEOUT).await {
                    Ok(credentials) => credentials,
                    // Every call then fails at once with these words (see
                    // `eksform_aws::credentials`), the first being the
                    // account guard's: the run stops there.
                    Err(missing) => {
                        Credentials::unavailable(no_credentials(self.profile.as_deref(), &missing))
                    }
                }
            })
            .await
    }

    pub async fn connect(&self, region: &str) -> Arc<dyn Cloud> {
        Arc::new(AwsCloud {
            clients: self.clients(region).await,
        })
    }

    /// A connection to `region` under `role_arn`, assumed with the run's
    /// credentials (STS AssumeRole, session `REFERENCE_SESSION`): another
    /// account's stack, read for a reference's `roleARN`.
    pub async fn connect_as(
        &self,
        region: &str,
        role_arn: &str,
    ) -> Result<Arc<dyn Cloud>, CloudError> {
        let home = self.clients(region).await;
        let keys =
            eksform_aws::credentials::assume_role(&home.sts, role_arn, REFERENCE_SESSION).await?;
        let clients =
            AwsClients::connect(&self.connection(region), &Credentials::fixed(keys)).await;
        Ok(Arc::new(AwsCloud {
            clients: AwsClients {
                warnings: self.warnings.clone(),
                ..clients
            },
        }))
    }
}

/// The session name of a role assumed to read another account's stack: what
/// that account's CloudTrail shows.
pub const REFERENCE_SESSION: &str = "eksform-stack-reference";

/// What a run without credentials says: where the SDK's chain looked, in its
/// order, and how to choose a profile.
fn no_credentials(profile: Option<&str>, missing: &Missing) -> String {
    let profile = profile.unwrap_or("default");
    let missing = missing.to_string();
    let missing = missing.trim_end_matches('.');
    format!(
        "no AWS credentials: {missing}. Looked in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), \
         the shared config and credentials files (~/.aws/config, ~/.aws/credentials) for profile `{profile}` \
         (keys, SSO, an assumed role, credential_process), web identity (AWS_WEB_IDENTITY_TOKEN_FILE), \
         and the container and instance metadata. Sign in (e.g. `aws sso login --profile {profile}`), \
         or choose a profile with --profile or AWS_PROFILE"
    )
}

/// A new connection for each region asked for.
#[async_trait::async_trait]
impl Regions for AwsAccess {
    async fn cloud(&self, region: &str) -> Arc<dyn Cloud> {
        self.connect(region).await
    }

    async fn cloud_as(&self, region: &str, role_arn: &str) -> Result<Arc<dyn Cloud>, CloudError> {
        self.connect_as(region, role_arn).await
    }
}

/// Connections for references to stacks in other regions; the stack's own
/// region reuses its connection.
pub(super) struct FromHomeRegion<'a> {
    access: &'a AwsAccess,
    home_region: String,
    home: Arc<dyn Cloud>,
}

impl<'a> FromHomeRegion<'a> {
    pub(super) fn new(access: &'a AwsAccess, home_region: &str, home: Arc<dyn Cloud>) -> Self {
        Self {
            access,
            home_region: home_region.into(),
            home,
        }
    }
}

#[async_trait::async_trait]
impl Regions for FromHomeRegion<'_> {
    async fn cloud(&self, region: &str) -> Arc<dyn Cloud> {
        if region == self.home_region {
            self.home.clone()
        } else {
            self.access.connect(region).await
        }
    }

    async fn cloud_as(&self, region: &str, role_arn: &str) -> Result<Arc<dyn Cloud>, CloudError> {
        self.access.connect_as(region, role_arn).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_credentials_names_every_source_of_the_chain_and_the_profile() {
        let line = no_credentials(Some("prod"), &Missing::NotFound);
        assert!(!line.contains('\n'), "{line}");
        for source in [
            "AWS_ACCESS_KEY_ID",
            "~/.aws/credentials",
            "profile `prod`",
            "SSO",
            "web identity",
            "instance metadata",
            "--profile",
        ] {
            assert!(line.contains(source), "{source} missing from: {line}");
        }
    }
}
