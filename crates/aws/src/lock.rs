//! The state bucket: one per account and region, made by `eksform bootstrap`
//! (versioned, encrypted, public access blocked). It holds the apply lock of
//! each stack (`locks/<stack>.json`, taken by a conditional write that only
//! one writer can win) and a history record of every apply and destroy
//! (`history/<stack>/<time>.json`). eksform keeps no state in it: the live
//! account stays the state.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use serde::{Deserialize, Serialize};

use crate::{AwsClients, error};
use eksform_core::cloud::CloudError;

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
    /// The kernel's boot id (`/proc/sys/kernel/random/boot_id`) of the
    /// holder's machine. Host names say nothing (pods share them); only a
    /// holder of this very boot can be looked for among this machine's
    /// processes. Absent in locks written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// The holder's pid namespace (`/proc/self/ns/pid`): containers of one
    /// machine share its boot id, not their pids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_namespace: Option<String>,
    /// The holder's start, in clock ticks after boot (field 22 of
    /// `/proc/<pid>/stat`): a pid reused by a later process starts later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_start: Option<u64>,
}

impl Holder {
    pub fn here(caller: &str, command: &str) -> Self {
        let machine = Machine::here();
        let pid = std::process::id();
        Self {
            caller: caller.into(),
            host: host_name(),
            pid,
            since: now(),
            command: command.into(),
            boot_id: machine.boot_id,
            pid_namespace: machine.pid_namespace,
            process_start: match process(pid) {
                Process::Running { started } => started,
                Process::Gone | Process::Unknown => None,
            },
        }
    }

    /// `user@host`: the last part of the caller's ARN (a user, or an
    /// assumed role's session) and the host.
    pub fn who(&self) -> String {
        let user = self.caller.rsplit('/').next().unwrap_or(&self.caller);
        format!("{user}@{}", self.host)
    }

    /// How long the lock has been held at `now` (seconds since the Unix
    /// epoch); `None` when the lock does not say since when.
    pub fn held_for(&self, now: u64) -> Option<Duration> {
        (self.since > 0).then(|| Duration::from_secs(now.saturating_sub(self.since)))
    }

    pub fn describe(&self) -> String {
        let held = match self.held_for(now()) {
            Some(age) => format!(
                "held since {} (for {})",
                crate::when::local(self.since),
                human(age)
            ),
            None => "held for an unknown time".into(),
        };
        format!(
            "{} ({}, pid {}), running `{}`, {held}",
            self.who(),
            self.caller,
            self.pid,
            self.command
        )
    }
}

/// A duration as people read it: `3h 2m`, `4m 5s`, `7s`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

/// The machine and pid namespace a process runs in, as far as /proc says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Machine {
    pub boot_id: Option<String>,
    pub pid_namespace: Option<String>,
}

impl Machine {
    pub fn here() -> Self {
        Self {
            boot_id: std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .ok()
                .map(|id| id.trim().to_string())
                .filter(|id| !id.is_empty()),
            pid_namespace: std::fs::read_link("/proc/self/ns/pid")
                .ok()
                .map(|link| link.to_string_lossy().into_owned()),
        }
    }
}

/// What this machine says about a pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    /// No such process, or one that has exited (a zombie).
    Gone,
    /// Running, since `started` clock ticks after boot when /proc says.
    Running { started: Option<u64> },
    /// Nothing can be said (no /proc).
    Unknown,
}

/// The process `pid` of this pid namespace, from `/proc/<pid>/stat`.
pub fn process(pid: u32) -> Process {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => parse_stat(&stat),
        // Only a working /proc tells that a process is gone.
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && std::path::Path::new("/proc/self/stat").exists() =>
        {
            Process::Gone
        }
        Err(_) => Process::Unknown,
    }
}

/// A `/proc/<pid>/stat` line: `pid (comm) state ...`, the start time being
/// field 22. The command name may hold spaces and parentheses, so fields
/// are counted after its last `)`.
fn parse_stat(stat: &str) -> Process {
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return Process::Running { started: None };
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the `)`: field 3 (the state) is the first, field 22 the 20th.
    if matches!(fields.first(), Some(&("Z" | "X" | "x"))) {
        return Process::Gone;
    }
    Process::Running {
        started: fields.get(19).and_then(|f| f.parse().ok()),
    }
}

/// Whether a lock's holder still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    /// A process of this boot and pid namespace that is gone, or whose pid
    /// now belongs to a later process: its lock may be taken over.
    Dead,
    /// Another machine, container or boot, or a lock that does not say
    /// (written before eksform recorded boot ids): never taken over
    /// automatically.
    Unknown,
}

/// Whether `holder` runs, seen from `here`, `process` telling about a pid of
/// this pid namespace. Dead only when the holder says which boot and pid
/// namespace it ran in, both are ours, and its pid is gone or was reused.
pub fn liveness(holder: &Holder, here: &Machine, process: impl Fn(u32) -> Process) -> Liveness {
    let (Some(boot), Some(namespace), Some(start)) = (
        holder.boot_id.as_deref(),
        holder.pid_namespace.as_deref(),
        holder.process_start,
    ) else {
        return Liveness::Unknown;
    };
    if holder.pid == 0
        || here.boot_id.as_deref() != Some(boot)
        || here.pid_namespace.as_deref() != Some(namespace)
    {
        return Liveness::Unknown;
    }
    match process(holder.pid) {
        Process::Gone => Liveness::Dead,
        Process::Running { started: Some(s) } if s != start => Liveness::Dead,
        Process::Running { .. } => Liveness::Alive,
        Process::Unknown => Liveness::Unknown,
    }
}

/// When a run waiting for a lock says so: the first time, when the holder
/// changes, and every `every` after that.
#[derive(Debug)]
pub struct WaitReports {
    every: Duration,
    last: Option<(Holder, std::time::Instant)>,
    /// When the first report was asked for: the wait's start.
    since: Option<std::time::Instant>,
}

impl WaitReports {
    pub fn every(every: Duration) -> Self {
        Self {
            every,
            last: None,
            since: None,
        }
    }

    /// The line to print now about waiting for `stack`'s lock, held by
    /// `holder`, `left` before giving up; `None` when it was said recently.
    pub fn report(
        &mut self,
        stack: &str,
        holder: &Holder,
        left: Duration,
        at: std::time::Instant,
    ) -> Option<String> {
        let waited = at.duration_since(*self.since.get_or_insert(at));
        let due = match &self.last {
            None => true,
            Some((said, when)) => said != holder || at.duration_since(*when) >= self.every,
        };
        if !due {
            return None;
        }
        self.last = Some((holder.clone(), at));
        Some(format!(
            "Waiting for the lock of stack {stack}: held by {}; waited {}, giving up in {}.",
            holder.describe(),
            human(waited),
            human(left)
        ))
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

use crate::when::now;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("stack {stack} is locked by {}; wait for it, or if it is stale run `eksform unlock {stack} --region {region}`", holder.describe())]
    Held {
        stack: String,
        region: String,
        holder: Holder,
    },
    #[error(
        "the lock of stack {stack} in {region} could not be read although writing it was refused, several times over; the state bucket may hold a deleted lock it still counts: `eksform unlock {stack} --region {region}` clears every version of it"
    )]
    Vanished { stack: String, region: String },
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
        let head = |_| async {
            match self.aws.s3.head_bucket().bucket(&self.name).send().await {
                Ok(_) => Ok(true),
                Err(e) => {
                    // A bare 503 (S3's SlowDown to a HEAD) is throttling (`classify`).
                    let e = error("HeadBucket", e);
                    if e.class == eksform_core::cloud::ErrorClass::NotFound
                        || e.code.as_deref() == Some("NotFound")
                    {
                        Ok(false)
                    } else {
                        Err(e)
                    }
                }
            }
        };
        eksform_core::retry::RetryPolicy::default()
            .run(head, |_, _| {})
            .await
    }

    /// Takes the stack's lock: one conditional write (`If-None-Match: *`), which
    /// exactly one of several writers wins. A lock whose holder is dead (see
    /// `liveness`) is taken over; another holder is waited for up to `wait`,
    /// `waiting` hearing who holds it before each pause, then named in the
    /// error.
    pub async fn lock(
        &self,
        stack: &str,
        holder: &Holder,
        wait: Duration,
        waiting: &mut (dyn FnMut(&Holder, Duration) + Send),
    ) -> Result<Held, LockError> {
        let here = Machine::here();
        let rules = Acquisition {
            stack,
            region: &self.region,
            wait,
            pause: LOCK_PAUSE,
            liveness: &|current: &Holder| liveness(current, &here, process),
        };
        acquire(self, &rules, holder, waiting).await
    }

    /// Who holds the stack's lock, if anyone.
    pub async fn holder(&self, stack: &str) -> Result<Option<Holder>, CloudError> {
        Ok(holder_in(self, &lock_key(stack))
            .await?
            .map(|(holder, _)| holder))
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
            Err(e) => crate::none_if_not_found(error("GetObject", e)),
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

/// The pause between two tries of a held lock.
const LOCK_PAUSE: Duration = Duration::from_secs(2);

/// How many times in a row a lock object may be missing right after the
/// conditional write found it, before the bucket is called inconsistent.
const VANISHED_TRIES: u32 = 3;

/// How many dead holders one acquisition takes the lock over from, before
/// treating the next one as a live holder (a delete that does not take
/// would otherwise loop).
const TAKEOVERS: u32 = 3;

/// The outcome of a conditional write.
enum Put {
    /// Written, as this version.
    Written(Option<String>),
    /// Someone else's object is there.
    Taken,
}

/// What the acquisition needs of a bucket: a trait so that its loop is
/// tested on its own, with fabricated answers.
trait LockStore {
    /// Writes `body` at `key` unless an object is there.
    async fn put_if_absent(&self, key: &str, body: &[u8]) -> Result<Put, CloudError>;
    /// The object at `key` and its version, if any.
    async fn read_versioned(
        &self,
        key: &str,
    ) -> Result<Option<(Vec<u8>, Option<String>)>, CloudError>;
    async fn delete_version(&self, key: &str, version: Option<String>) -> Result<(), CloudError>;
    /// Tells the user something worth a warning.
    fn warn(&self, message: String);
}

impl LockStore for StateBucket {
    async fn put_if_absent(&self, key: &str, body: &[u8]) -> Result<Put, CloudError> {
        let written = self
            .aws
            .s3
            .put_object()
            .bucket(&self.name)
            .key(key)
            .if_none_match("*")
            .content_type("application/json")
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await;
        match written {
            Ok(out) => Ok(Put::Written(out.version_id().map(str::to_string))),
            Err(e) => {
                let e = error("PutObject", e);
                if matches!(
                    e.code.as_deref(),
                    Some("PreconditionFailed" | "ConditionalRequestConflict")
                ) {
                    Ok(Put::Taken)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn read_versioned(
        &self,
        key: &str,
    ) -> Result<Option<(Vec<u8>, Option<String>)>, CloudError> {
        StateBucket::read_versioned(self, key).await
    }

    async fn delete_version(&self, key: &str, version: Option<String>) -> Result<(), CloudError> {
        StateBucket::delete_version(self, key, version).await
    }

    fn warn(&self, message: String) {
        self.aws.warnings.warn(message);
    }
}

/// How one acquisition goes.
struct Acquisition<'a> {
    stack: &'a str,
    region: &'a str,
    wait: Duration,
    pause: Duration,
    liveness: &'a (dyn Fn(&Holder) -> Liveness + Sync),
}

async fn acquire(
    store: &impl LockStore,
    rules: &Acquisition<'_>,
    holder: &Holder,
    waiting: &mut (dyn FnMut(&Holder, Duration) + Send),
) -> Result<Held, LockError> {
    let key = lock_key(rules.stack);
    let body = serde_json::to_vec_pretty(holder).unwrap_or_default();
    let deadline = tokio::time::Instant::now() + rules.wait;
    let (mut vanished, mut takeovers) = (0, 0);
    loop {
        if let Put::Written(version) = store.put_if_absent(&key, &body).await? {
            return Ok(Held { key, version });
        }
        let Some((current, version)) = holder_in(store, &key).await? else {
            // Released between the write and the read: the next write
            // likely wins, so the first retry is at once. Missing again and
            // again is a bucket whose conditional writes see an object its
            // reads do not (a delete marker on some S3 implementations):
            // paused, bounded, then reported; never a hot loop.
            vanished += 1;
            if vanished > VANISHED_TRIES {
                return Err(LockError::Vanished {
                    stack: rules.stack.into(),
                    region: rules.region.into(),
                });
            }
            if vanished > 1 {
                tokio::time::sleep(rules.pause).await;
            }
            continue;
        };
        vanished = 0;
        if takeovers < TAKEOVERS && (rules.liveness)(&current) == Liveness::Dead {
            takeovers += 1;
            store.warn(format!(
                "taking over the lock of stack {}: its holder ({}) is gone",
                rules.stack,
                current.describe()
            ));
            // Only the version that was read: a run that took the lock
            // over meanwhile keeps it, and this one tries again.
            store.delete_version(&key, version).await?;
            continue;
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(LockError::Held {
                stack: rules.stack.into(),
                region: rules.region.into(),
                holder: current,
            });
        }
        waiting(&current, deadline - now);
        tokio::time::sleep(rules.pause.min(deadline - now)).await;
    }
}

/// The lock's holder and the version of the lock object naming it. A lock
/// object that cannot be read still holds the lock, for an unknown holder.
async fn holder_in(
    store: &impl LockStore,
    key: &str,
) -> Result<Option<(Holder, Option<String>)>, CloudError> {
    let Some((bytes, version)) = store.read_versioned(key).await? else {
        return Ok(None);
    };
    let holder = serde_json::from_slice(&bytes).unwrap_or_else(|_| Holder {
        caller: "an unknown holder (the lock object is not one eksform wrote)".into(),
        host: "unknown".into(),
        pid: 0,
        since: 0,
        command: "unknown".into(),
        boot_id: None,
        pid_namespace: None,
        process_start: None,
    });
    Ok(Some((holder, version)))
}

/// One apply or destroy, as the history keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub who: Holder,
    /// Seconds since the Unix epoch.
    pub finished: u64,
    /// `succeeded`, `failed` or `interrupted`.
    pub result: String,
    pub summary: eksform_core::plan::Summary,
    pub plan: eksform_core::plan::Plan,
}

impl HistoryEntry {
    pub fn new(who: Holder, result: &str, plan: &eksform_core::plan::Plan) -> Self {
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
    /// `waiting` hears who holds it, and how long is left, while it waits.
    #[allow(clippy::too_many_arguments)]
    pub async fn take(
        aws: &AwsClients,
        account: &str,
        caller_arn: &str,
        stack: &str,
        region: &str,
        command: &str,
        wait: Duration,
        waiting: &mut (dyn FnMut(&Holder, Duration) + Send),
    ) -> Result<Option<Self>, LockError> {
        let bucket = StateBucket::new(aws.clone(), account, region);
        if !bucket.exists().await? {
            return Ok(None);
        }
        let holder = Holder::here(caller_arn, command);
        let held = bucket.lock(stack, &holder, wait, waiting).await?;
        Ok(Some(Self {
            bucket,
            held,
            holder,
            stack: stack.into(),
        }))
    }

    /// Records what was done (when something was) and lets the lock go.
    pub async fn release(
        self,
        done: Option<(&eksform_core::plan::Plan, &str)>,
    ) -> Result<(), CloudError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    const PAUSE: Duration = Duration::from_secs(2);

    /// A bucket in memory, with the misbehaviours the acquisition must survive.
    #[derive(Default)]
    struct Fake {
        object: Mutex<Option<(Vec<u8>, Option<String>)>>,
        /// Conditional writes refused while reads find nothing (a delete
        /// marker some S3 implementations count as an object).
        phantom: bool,
        /// The holder lets go just before the first read.
        released_before_read: bool,
        /// Deletes answer success and change nothing.
        sticky: bool,
        puts: AtomicU32,
        reads: AtomicU32,
        deletes: AtomicU32,
        warned: Mutex<Vec<String>>,
    }

    impl Fake {
        fn held_by(holder: &Holder) -> Self {
            Self {
                object: Mutex::new(Some((
                    serde_json::to_vec(holder).unwrap(),
                    Some("v0".into()),
                ))),
                ..Self::default()
            }
        }
    }

    impl LockStore for Fake {
        async fn put_if_absent(&self, _key: &str, body: &[u8]) -> Result<Put, CloudError> {
            let n = self.puts.fetch_add(1, Ordering::SeqCst) + 1;
            let mut object = self.object.lock().unwrap();
            if self.phantom || object.is_some() {
                return Ok(Put::Taken);
            }
            let version = Some(format!("v{n}"));
            *object = Some((body.to_vec(), version.clone()));
            Ok(Put::Written(version))
        }

        async fn read_versioned(
            &self,
            _key: &str,
        ) -> Result<Option<(Vec<u8>, Option<String>)>, CloudError> {
            let first = self.reads.fetch_add(1, Ordering::SeqCst) == 0;
            let mut object = self.object.lock().unwrap();
            if self.phantom || (first && self.released_before_read) {
                *object = None;
                return Ok(None);
            }
            Ok(object.clone())
        }

        async fn delete_version(
            &self,
            _key: &str,
            version: Option<String>,
        ) -> Result<(), CloudError> {
            self.deletes.fetch_add(1, Ordering::SeqCst);
            let mut object = self.object.lock().unwrap();
            if !self.sticky && object.as_ref().map(|o| &o.1) == Some(&version) {
                *object = None;
            }
            Ok(())
        }

        fn warn(&self, message: String) {
            self.warned.lock().unwrap().push(message);
        }
    }

    fn someone(pid: u32) -> Holder {
        Holder {
            caller: "arn:aws:iam::123456789012:user/ci".into(),
            host: "runner-7".into(),
            pid,
            since: 1,
            command: "apply".into(),
            boot_id: Some("boot-a".into()),
            pid_namespace: Some("pid:[4026531836]".into()),
            process_start: Some(1000),
        }
    }

    fn me() -> Holder {
        Holder {
            caller: "arn:aws:iam::123456789012:user/me".into(),
            pid: 7,
            ..someone(7)
        }
    }

    /// Acquires from `store` with every holder judged `judged`; the wait
    /// reports heard are returned with the outcome.
    async fn acquire_with(
        store: &Fake,
        wait: Duration,
        judged: Liveness,
    ) -> (Result<Held, LockError>, Vec<Duration>) {
        let rules = Acquisition {
            stack: "web",
            region: "us-east-1",
            wait,
            pause: PAUSE,
            liveness: &move |_: &Holder| judged,
        };
        let mut heard = Vec::new();
        let outcome = acquire(store, &rules, &me(), &mut |_: &Holder, left| {
            heard.push(left)
        })
        .await;
        (outcome, heard)
    }

    #[tokio::test(start_paused = true)]
    async fn a_lock_that_reads_back_missing_again_and_again_is_retried_with_pauses_then_reported() {
        let store = Fake {
            phantom: true,
            ..Fake::default()
        };
        let started = tokio::time::Instant::now();
        let (outcome, heard) =
            acquire_with(&store, Duration::from_secs(600), Liveness::Alive).await;
        assert!(
            matches!(outcome, Err(LockError::Vanished { ref stack, .. }) if stack == "web"),
            "{outcome:?}"
        );
        assert_eq!(store.puts.load(Ordering::SeqCst), VANISHED_TRIES + 1);
        // The first retry at once, the others after the normal pause.
        assert_eq!(started.elapsed(), PAUSE * (VANISHED_TRIES - 1));
        assert!(heard.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_lock_released_between_the_write_and_the_read_is_taken_at_once() {
        let store = Fake {
            released_before_read: true,
            ..Fake::held_by(&someone(42))
        };
        let started = tokio::time::Instant::now();
        let (outcome, _) = acquire_with(&store, Duration::ZERO, Liveness::Alive).await;
        assert_eq!(outcome.unwrap().version.as_deref(), Some("v2"));
        assert_eq!(store.puts.load(Ordering::SeqCst), 2);
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dead_holder_is_taken_over_and_an_unknown_one_is_named() {
        let store = Fake::held_by(&someone(42));
        let (outcome, _) = acquire_with(&store, Duration::ZERO, Liveness::Dead).await;
        assert!(outcome.is_ok(), "{outcome:?}");
        assert_eq!(store.deletes.load(Ordering::SeqCst), 1);
        let warned = store.warned.lock().unwrap().clone();
        assert!(
            matches!(&warned[..], [w] if w.contains("taking over") && w.contains("pid 42")),
            "the takeover is told: {warned:?}"
        );
        let written = store.object.lock().unwrap().clone().unwrap();
        assert_eq!(serde_json::from_slice::<Holder>(&written.0).unwrap(), me());

        let store = Fake::held_by(&someone(42));
        let (outcome, heard) = acquire_with(&store, Duration::ZERO, Liveness::Unknown).await;
        match outcome {
            Err(LockError::Held { holder, .. }) => assert_eq!(holder, someone(42)),
            other => panic!("{other:?}"),
        }
        assert_eq!(store.deletes.load(Ordering::SeqCst), 0);
        assert_eq!(store.puts.load(Ordering::SeqCst), 1);
        assert!(heard.is_empty(), "no wait asked, none reported");
    }

    #[tokio::test(start_paused = true)]
    async fn a_takeover_that_does_not_take_is_bounded() {
        let store = Fake {
            sticky: true,
            ..Fake::held_by(&someone(42))
        };
        let (outcome, _) = acquire_with(&store, Duration::ZERO, Liveness::Dead).await;
        assert!(
            matches!(outcome, Err(LockError::Held { .. })),
            "{outcome:?}"
        );
        assert_eq!(store.deletes.load(Ordering::SeqCst), TAKEOVERS);
    }

    #[tokio::test(start_paused = true)]
    async fn a_live_holder_is_waited_for_and_reported_until_the_deadline() {
        let store = Fake::held_by(&someone(42));
        let started = tokio::time::Instant::now();
        let (outcome, heard) = acquire_with(&store, Duration::from_secs(5), Liveness::Alive).await;
        assert!(
            matches!(outcome, Err(LockError::Held { .. })),
            "{outcome:?}"
        );
        assert_eq!(
            heard,
            [5, 3, 1].map(Duration::from_secs).to_vec(),
            "before each pause, with the time left"
        );
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_lock_released_while_waiting_is_taken() {
        let store = std::sync::Arc::new(Fake::held_by(&someone(42)));
        let releaser = {
            let store = store.clone();
            tokio::spawn(async move {
                // Released once the waiter has been told (observed, not timed).
                while store.reads.load(Ordering::SeqCst) == 0 {
                    tokio::task::yield_now().await;
                }
                *store.object.lock().unwrap() = None;
            })
        };
        let (outcome, heard) = acquire_with(&store, Duration::from_secs(60), Liveness::Alive).await;
        releaser.await.unwrap();
        assert!(outcome.is_ok(), "{outcome:?}");
        assert_eq!(heard.len(), 1);
    }

    fn machine() -> Machine {
        Machine {
            boot_id: Some("boot-a".into()),
            pid_namespace: Some("pid:[4026531836]".into()),
        }
    }

    #[test]
    fn a_holder_is_dead_only_in_this_boot_and_namespace_when_its_pid_is_gone_or_reused() {
        let holder = someone(42);
        let gone = |_| Process::Gone;
        let same = |_| Process::Running {
            started: Some(1000),
        };
        let reused = |_| Process::Running {
            started: Some(5000),
        };
        let running_unknown_start = |_| Process::Running { started: None };
        assert_eq!(liveness(&holder, &machine(), gone), Liveness::Dead);
        assert_eq!(liveness(&holder, &machine(), reused), Liveness::Dead);
        assert_eq!(liveness(&holder, &machine(), same), Liveness::Alive);
        assert_eq!(
            liveness(&holder, &machine(), running_unknown_start),
            Liveness::Alive
        );
        assert_eq!(
            liveness(&holder, &machine(), |_| Process::Unknown),
            Liveness::Unknown
        );

        // Another machine (or boot) with the same host name: never judged.
        let elsewhere = Machine {
            boot_id: Some("boot-b".into()),
            ..machine()
        };
        assert_eq!(liveness(&holder, &elsewhere, gone), Liveness::Unknown);
        // Another container of this machine: its pids are not ours.
        let container = Machine {
            pid_namespace: Some("pid:[4026532999]".into()),
            ..machine()
        };
        assert_eq!(liveness(&holder, &container, gone), Liveness::Unknown);
        // A machine whose /proc says nothing.
        assert_eq!(
            liveness(&holder, &Machine::default(), gone),
            Liveness::Unknown
        );
        // A lock of an unknown holder.
        let nobody = Holder {
            pid: 0,
            ..someone(0)
        };
        assert_eq!(liveness(&nobody, &machine(), gone), Liveness::Unknown);
    }

    #[test]
    fn a_lock_written_before_boot_ids_were_recorded_is_read_and_never_taken_over() {
        let old = r#"{"caller": "arn:aws:iam::123456789012:user/ci", "host": "runner-7",
            "pid": 4242, "since": 1, "command": "apply"}"#;
        let holder: Holder = serde_json::from_str(old).unwrap();
        assert_eq!((holder.pid, holder.boot_id.as_deref()), (4242, None));
        assert_eq!(
            liveness(&holder, &machine(), |_| Process::Gone),
            Liveness::Unknown
        );
        // And a new lock is read by the same type, its fields kept.
        let new = serde_json::to_string(&someone(42)).unwrap();
        assert_eq!(serde_json::from_str::<Holder>(&new).unwrap(), someone(42));
    }

    #[test]
    fn proc_stat_gives_the_start_and_tells_zombies_from_the_living() {
        // Field 22 is the start; the command name holds `) (` and spaces.
        let line = "4242 (a) (b c) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 10000 200 18446744073709551615";
        assert_eq!(
            parse_stat(line),
            Process::Running {
                started: Some(987_654)
            }
        );
        let zombie = line.replace(") S ", ") Z ");
        assert_eq!(parse_stat(&zombie), Process::Gone);
    }

    #[test]
    fn on_this_machine_this_process_is_alive_and_an_exited_child_is_dead() {
        let here = Holder::here("arn:aws:iam::123456789012:user/me", "apply");
        let machine = Machine::here();
        assert!(
            here.boot_id.is_some() && here.pid_namespace.is_some() && here.process_start.is_some(),
            "this test runs on Linux with /proc: {here:?}"
        );
        assert_eq!(liveness(&here, &machine, process), Liveness::Alive);
        // The same pid with another start: a later process that reused it.
        let earlier = Holder {
            process_start: here.process_start.map(|s| s + 1),
            ..here.clone()
        };
        assert_eq!(liveness(&earlier, &machine, process), Liveness::Dead);
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let exited = Holder {
            pid: child.id(),
            ..here.clone()
        };
        child.wait().unwrap();
        assert_eq!(liveness(&exited, &machine, process), Liveness::Dead);
    }

    #[test]
    fn waiting_is_reported_at_first_on_a_new_holder_and_every_so_often() {
        let mut reports = WaitReports::every(Duration::from_secs(30));
        let start = std::time::Instant::now();
        let left = Duration::from_secs(100);
        let first = reports.report("web", &someone(42), left, start).unwrap();
        assert!(
            first.contains("stack web")
                && first.contains("ci@runner-7")
                && first.contains("pid 42")
                && first.contains("`apply`")
                && first.contains("held since ")
                && first.contains(" (for ")
                && first.contains("waited 0s, giving up in 1m 40s"),
            "{first}"
        );
        let later = |s| start + Duration::from_secs(s);
        assert!(
            reports
                .report("web", &someone(42), left, later(10))
                .is_none()
        );
        assert!(
            reports
                .report("web", &someone(43), left, later(11))
                .is_some()
        );
        assert!(
            reports
                .report("web", &someone(43), left, later(40))
                .is_none()
        );
        let again = reports
            .report("web", &someone(43), left, later(41))
            .unwrap();
        assert!(again.contains("waited 41s"), "{again}");
    }

    #[test]
    fn how_long_a_lock_is_held_reads_as_people_say_it() {
        assert_eq!(human(Duration::from_secs(7)), "7s");
        assert_eq!(human(Duration::from_secs(245)), "4m 5s");
        assert_eq!(human(Duration::from_secs(3 * 3600 + 125)), "3h 2m");
        assert_eq!(someone(42).held_for(61), Some(Duration::from_secs(60)));
        assert_eq!(
            Holder {
                since: 0,
                ..someone(42)
            }
            .held_for(61),
            None
        );
    }
}
