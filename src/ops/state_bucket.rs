//! The state bucket as the commands use it (`bootstrap`, `unlock`,
//! `history`), reached only after the account guard. The lock taken by an
//! apply is in `apply`.

use eksform_aws::AwsClients;
use eksform_aws::lock::{self, StateBucket};
pub use eksform_aws::lock::{HistoryEntry, Holder};

use super::{AwsAccess, OpsError};

/// The caller's account and ARN, refused unless the account is `expected`
/// (when the spec names one).
pub(super) async fn caller_in_account(
    clients: &AwsClients,
    expected: Option<&str>,
) -> Result<(String, String), OpsError> {
    let (account, caller) = lock::caller(clients).await?;
    if let Some(expected) = expected
        && expected != account
    {
        return Err(OpsError::AccountMismatch {
            expected: expected.into(),
            actual: account,
        });
    }
    Ok((account, caller))
}

/// The state bucket of the caller's account in a region.
pub struct AccountState {
    bucket: StateBucket,
    account: String,
}

impl AccountState {
    /// The state bucket of `region`, after the account guard (`expected`:
    /// the account the spec names, if it does).
    pub async fn open(
        access: &AwsAccess,
        region: &str,
        expected: Option<&str>,
    ) -> Result<Self, OpsError> {
        let clients = access.clients(region).await;
        let (account, _) = caller_in_account(&clients, expected).await?;
        Ok(Self {
            bucket: StateBucket::new(clients, &account, region),
            account,
        })
    }

    pub fn bucket_name(&self) -> &str {
        &self.bucket.name
    }

    /// The account the credentials are for (after the guard).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The connection to the bucket's region.
    pub(super) fn clients(&self) -> &AwsClients {
        &self.bucket.aws
    }

    /// Makes the bucket (versioned, encrypted, public access blocked).
    pub async fn bootstrap(&self) -> Result<(), OpsError> {
        Ok(self.bucket.bootstrap().await?)
    }

    /// Who holds the apply lock of `stack`, if anyone.
    pub async fn lock_holder(&self, stack: &str) -> Result<Option<Holder>, OpsError> {
        Ok(self.bucket.holder(stack).await?)
    }

    /// Breaks the apply lock of `stack`, whoever holds it.
    pub async fn unlock(&self, stack: &str) -> Result<(), OpsError> {
        Ok(self.bucket.unlock(stack).await?)
    }

    /// The recorded applies and destroys of `stack`.
    pub async fn history(&self, stack: &str) -> Result<Vec<HistoryEntry>, OpsError> {
        match self.bucket.history(stack).await {
            Err(e) if e.code.as_deref() == Some("NoSuchBucket") => Err(OpsError::NoStateBucket {
                account: self.account.clone(),
                region: self.bucket.region.clone(),
            }),
            history => Ok(history?),
        }
    }
}
