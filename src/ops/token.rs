//! `eksform token`: an EKS API server's token for the run's credentials, or
//! for a role assumed with them first. The signing itself is
//! `eksform_aws::eks_token`; here are where the keys come from and the clock.

use std::time::SystemTime;

use eksform_aws::credentials::assume_role;
use eksform_aws::eks_token::{self, EksToken};

use super::{AwsAccess, OpsError};

/// The session name an assumed role carries (CloudTrail shows it, and an
/// access entry's username template may use it).
const SESSION_NAME: &str = "eksform-token";

/// The token for `cluster` in `region`: signed with the run's credentials, or
/// with `role_arn`'s after assuming it (through `--endpoint-url` when given;
/// the token itself always names the region's public STS endpoint).
pub async fn token(
    access: &AwsAccess,
    cluster: &str,
    region: &str,
    role_arn: Option<&str>,
) -> Result<EksToken, OpsError> {
    // Bad input is refused before any credential is looked for.
    eks_token::check_request(cluster, region)?;
    let keys = match role_arn {
        None => access.keys(region).await?,
        Some(role_arn) => {
            let clients = access.clients(region).await;
            assume_role(&clients.sts, role_arn, SESSION_NAME).await?
        }
    };
    Ok(eks_token::token(&keys, cluster, region, SystemTime::now())?)
}
