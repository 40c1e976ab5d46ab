//! The state bucket: one per account and region, made by `eksform bootstrap`
//! (versioned, encrypted, public access blocked). It holds the apply lock of
//! each stack (`locks/<stack>.json`, taken by a conditional write that only
//! one writer can win) and a history record of every apply and destroy
//! (`history/<stack>/<time>.json`). eksform keeps no state in it: the live
//! account stays the state.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use serde::{Deserialize, Serialize};

use crate::cloud::CloudError;
use crate::cloud::aws::{AwsClients, error};

/// The state bucket of an account and region.
pub fn bucket_name(account: &str, region: &str) -> String {
    format!("eksform-state-{account}-{region}")
}

/// Who holds a lock, as written into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub caller: String,
    pub host: String,
    pub pid: u32,
    /// Seconds since the Unix epoch.
    pub since: u64,
    pub command: String,
}

impl Holder {
    pub fn here(caller: &str, command: &str) -> Self {
        Self {
            caller: caller.into(),
            host: host_name(),
            pid: std::process::id(),
            since: now(),
            command: command.into(),
        }
    }

    /// Whether the holder is a process of this host that is gone (killed
    /// without releasing): its lock is stale and may be taken over.
    pub fn is_dead_here(&self) -> bool {
        self.host == host_name()
            && self.pid != std::process::id()
            && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
            && std::path::Path::new("/proc/self").exists()
    }

    pub fn describe(&self) -> String {
        format!(
            "{} on host {} (pid {}), running `{}` since {} (Unix time)",
            self.caller, self.host, self.pid, self.command, self.since
        )
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("stack {stack} is locked by {}; wait for it, or if it is stale run `eksform unlock {stack} --region {region}`", holder.describe())]
    Held {
        stack: String,
        region: String,
        holder: Holder,
    },
    #[error("{0}")]
    Cloud(#[from] CloudError),
}

/// The state bucket of an account and region, through S3.
pub struct StateBucket {
    pub aws: AwsClients,
    pub name: String,
    pub region: String,
}

/// A lock this process holds; `release` lets it go.
#[derive(Debug)]
pub struct Held {
    key: String,
    version: Option<String>,
}

fn lock_key(stack: &str) -> String {
    format!("locks/{stack}.json")
}

impl StateBucket {
    pub fn new(aws: AwsClients, account: &str, region: &str) -> Self {
        Self {
            aws,
            name: bucket_name(account, region),
            region: region.into(),
        }
    }

    /// Creates the bucket (or keeps it) with versioning, default encryption
    /// and every public access blocked.
    pub async fn bootstrap(&self) -> Result<(), CloudError> {
        let mut create = self.aws.s3.create_bucket().bucket(&self.name);
        // us-east-1 is the one region that takes no location constraint.
        if self.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        if let Err(e) = create.send().await {
            let e = error("CreateBucket", e);
            if e.code.as_deref() != Some("BucketAlreadyOwnedByYou") {
                return Err(e);
            }
        }
        self.aws
            .s3
            .put_bucket_versioning()
            .bucket(&self.name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| error("PutBucketVersioning", e))?;
        let encryption = ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(
                        ServerSideEncryptionByDefault::builder()
                            .sse_algorithm(ServerSideEncryption::Aes256)
                            .build()
                            .map_err(|e| CloudError::rejected(format!("encryption: {e}")))?,
                    )
                    .build(),
            )
            .build()
            .map_err(|e| CloudError::rejected(format!("encryption: {e}")))?;
        self.aws
            .s3
            .put_bucket_encryption()
            .bucket(&self.name)
            .server_side_encryption_configuration(encryption)
            .send()
            .await
            .map_err(|e| error("PutBucketEncryption", e))?;
        self.aws
            .s3
            .put_public_access_block()
            .bucket(&self.name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| error("PutPublicAccessBlock", e))?;
        Ok(())
    }

    /// Whether `bootstrap` made the bucket.
    pub async fn exists(&self) -> Result<bool, CloudError> {
        match self.aws.s3.head_bucket().bucket(&self.name).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = error("HeadBucket", e);
                if e.class == crate::cloud::ErrorClass::NotFound
                    || e.code.as_deref() == Some("NotFound")
                {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Takes the stack's lock: one conditional write (`If-None-Match: *`), which
    /// exactly one of several writers wins. A lock held by a process of this
    /// host that is gone is taken over; another holder is waited for up to
    /// `wait`, then named in the error.
    pub async fn lock(
        &self,
        stack: &str,
        holder: &Holder,
        wait: Duration,
    ) -> Result<Held, LockError> {
        let key = lock_key(stack);
        let body = serde_json::to_vec_pretty(holder).unwrap_or_default();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let written = self
                .aws
                .s3
                .put_object()
                .bucket(&self.name)
                .key(&key)
                .if_none_match("*")
                .content_type("application/json")
                .body(ByteStream::from(body.clone()))
                .send()
                .await;
            match written {
                Ok(out) => {
                    return Ok(Held {
                        key,
                        version: out.version_id().map(str::to_string),
                    });
                }
                Err(e) => {
                    let e = error("PutObject", e);
                    let taken = matches!(
                        e.code.as_deref(),
                        Some("PreconditionFailed" | "ConditionalRequestConflict")
                    );
                    if !taken {
                        return Err(e.into());
                    }
                }
            }
            let Some((current, version)) = self.holder_and_version(stack).await? else {
                continue; // released meanwhile: try again at once
            };
            if current.is_dead_here() {
                tracing::warn!(
                    "taking over the lock of stack {stack}: its holder ({}) is gone",
                    current.describe()
                );
                // Only the version that was read: a run that took the lock
                // over meanwhile keeps it, and this one tries again.
                self.delete_version(&lock_key(stack), version).await?;
                continue;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(LockError::Held {
                    stack: stack.into(),
                    region: self.region.clone(),
                    holder: current,
                });
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    /// Who holds the stack's lock, if anyone.
    pub async fn holder(&self, stack: &str) -> Result<Option<Holder>, CloudError> {
        Ok(self
            .holder_and_version(stack)
            .await?
            .map(|(holder, _)| holder))
    }

    /// The lock's holder and the version of the lock object naming it. A lock
    /// object that cannot be read still holds the lock, for an unknown holder.
    async fn holder_and_version(
        &self,
        stack: &str,
    ) -> Result<Option<(Holder, Option<String>)>, CloudError> {
        let Some((bytes, version)) = self.read_versioned(&lock_key(stack)).await? else {
            return Ok(None);
        };
        let holder = serde_json::from_slice(&bytes).unwrap_or_else(|_| Holder {
            caller: "an unknown holder (the lock object is not one eksform wrote)".into(),
            host: "unknown".into(),
            pid: 0,
            since: 0,
            command: "unknown".into(),
        });
        Ok(Some((holder, version)))
    }

    async fn delete_version(&self, key: &str, version: Option<String>) -> Result<(), CloudError> {
        self.aws
            .s3
            .delete_object()
            .bucket(&self.name)
            .key(key)
            .set_version_id(version)
            .send()
            .await
            .map_err(|e| error("DeleteObject", e))?;
        Ok(())
    }

    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, CloudError> {
        Ok(self.read_versioned(key).await?.map(|(bytes, _)| bytes))
    }

    async fn read_versioned(
        &self,
        key: &str,
    ) -> Result<Option<(Vec<u8>, Option<String>)>, CloudError> {
        match self
            .aws
            .s3
            .get_object()
            .bucket(&self.name)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let version = out.version_id().map(str::to_string);
                let bytes = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| CloudError::rejected(format!("GetObject {key}: {e}")))?;
                Ok(Some((bytes.into_bytes().to_vec(), version)))
            }
            Err(e) => crate::kinds::none_if_not_found(error("GetObject", e)),
        }
    }

    /// Lets go of a lock this process took.
    pub async fn release(&self, held: Held) -> Result<(), CloudError> {
        self.delete_version(&held.key, held.version).await
    }

    /// Breaks the stack's lock, whoever holds it (`eksform unlock`).
    pub async fn unlock(&self, stack: &str) -> Result<(), CloudError> {
        // Every version: a versioned bucket would otherwise keep the object
        // behind a delete marker, which the conditional write does not see
        // through on every S3 implementation.
        let versions = self
            .aws
            .s3
            .list_object_versions()
            .bucket(&self.name)
            .prefix(lock_key(stack))
            .send()
            .await
            .map_err(|e| error("ListObjectVersions", e))?;
        let key = lock_key(stack);
        let mut ids: Vec<Option<String>> = versions
            .versions()
            .iter()
            .filter(|v| v.key() == Some(key.as_str()))
            .map(|v| v.version_id().map(str::to_string))
            .collect();
        ids.extend(
            versions
                .delete_markers()
                .iter()
                .filter(|m| m.key() == Some(key.as_str()))
                .map(|m| m.version_id().map(str::to_string)),
        );
        if ids.is_empty() {
            ids.push(None);
        }
        for id in ids {
            self.aws
                .s3
                .delete_object()
                .bucket(&self.name)
                .key(&key)
                .set_version_id(id)
                .send()
                .await
                .map_err(|e| error("DeleteObject", e))?;
        }
        Ok(())
    }

    /// Keeps a record of an apply or destroy.
    pub async fn record(&self, stack: &str, entry: &HistoryEntry) -> Result<(), CloudError> {
        let key = format!(
            "history/{stack}/{:020}-{}.json",
            entry.finished, entry.who.pid
        );
        self.aws
            .s3
            .put_object()
            .bucket(&self.name)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(
                serde_json::to_vec_pretty(entry).unwrap_or_default(),
            ))
            .send()
            .await
            .map_err(|e| error("PutObject", e))?;
        Ok(())
    }

    /// The stack's history, oldest first.
    pub async fn history(&self, stack: &str) -> Result<Vec<HistoryEntry>, CloudError> {
        let objects = self
            .aws
            .s3
            .list_objects_v2()
            .bucket(&self.name)
            .prefix(format!("history/{stack}/"))
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| error("ListObjectsV2", e))?;
        let mut keys: Vec<String> = objects
            .iter()
            .flat_map(|page| page.contents())
            .filter_map(|o| o.key().map(str::to_string))
            .collect();
        keys.sort();
        let mut entries = Vec::new();
        for key in keys {
            if let Some(bytes) = self.read(&key).await?
                && let Ok(entry) = serde_json::from_slice(&bytes)
            {
                entries.push(entry);
            }
        }
        Ok(entries)
    }
}

/// One apply or destroy, as the history keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub who: Holder,
    /// Seconds since the Unix epoch.
    pub finished: u64,
    /// `succeeded`, `failed` or `interrupted`.
    pub result: String,
    pub summary: crate::plan::Summary,
    pub plan: crate::plan::Plan,
}

impl HistoryEntry {
    pub fn new(who: Holder, result: &str, plan: &crate::plan::Plan) -> Self {
        Self {
            who,
            finished: now(),
            result: result.into(),
            summary: plan.summary(),
            plan: plan.clone(),
        }
    }
}

/// The lock of one stack for one command, with what releasing it records.
pub struct StackLock {
    bucket: StateBucket,
    held: Held,
    holder: Holder,
    stack: String,
}

/// The caller's account and ARN (STS GetCallerIdentity).
pub async fn caller(aws: &AwsClients) -> Result<(String, String), CloudError> {
    let identity = aws
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| error("GetCallerIdentity", e))?;
    Ok((
        identity.account().unwrap_or_default().to_string(),
        identity.arn().unwrap_or_default().to_string(),
    ))
}

impl StackLock {
    /// Takes the lock of `stack` in the account's state bucket; `None` when the
    /// account has no state bucket (`eksform bootstrap` was not run).
    pub async fn take(
        aws: &AwsClients,
        account: &str,
        caller_arn: &str,
        stack: &str,
        region: &str,
        command: &str,
        wait: Duration,
    ) -> Result<Option<Self>, LockError> {
        let bucket = StateBucket::new(aws.clone(), account, region);
        if !bucket.exists().await? {
            return Ok(None);
        }
        let holder = Holder::here(caller_arn, command);
        let held = bucket.lock(stack, &holder, wait).await?;
        Ok(Some(Self {
            bucket,
            held,
            holder,
            stack: stack.into(),
        }))
    }

    /// Records what was done (when something was) and lets the lock go.
    pub async fn release(self, done: Option<(&crate::plan::Plan, &str)>) -> Result<(), CloudError> {
        let recorded = match done {
            Some((plan, result)) => {
                let entry = HistoryEntry::new(self.holder.clone(), result, plan);
                self.bucket.record(&self.stack, &entry).await
            }
            None => Ok(()),
        };
        self.bucket.release(self.held).await?;
        recorded
    }
}
