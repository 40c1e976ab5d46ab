//! The benchmark at scale: the CPU and memory of a no-change plan of a
//! 500-resource stack, and 50 stacks applied by one process.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use eksform::ops;
use eksform_core::cloud::{Cloud, CloudError, CreateRequest, Scope};
use eksform_core::diagnostics::SourceFile;
use eksform_core::execute::{CallLimits, Cancellation, ExecuteOptions, NoEvents};
use eksform_core::kinds::Kind;
use eksform_core::model::{Attributes, DesiredResource, LiveResource};
use eksform_core::plan::{self, Action};
use eksform_core::{lower, spec};
use eksform_testkit::memory::MemoryCloud;

use crate::independent_floor;

/// The mode flag of the child process that measures `rss_mb_500`.
pub const RSS_MODE: &str = "--rss-500-nochange";

/// Parse, validate, lower and diff `text` against `live`, and check apply
/// could order the result: the CPU work of a plan once observation is done.
/// Fails unless every resource is unchanged.
pub fn plan_without_changes(text: &str, live: &[LiveResource]) -> Result<usize, String> {
    let loaded = spec::parse(SourceFile::new("big.yaml", text.to_string()))
        .map_err(|d| format!("the 500-resource spec is refused: {d:?}"))?;
    let model = lower::model(&loaded.spec);
    let desired = lower::desired(&model);
    let changes = plan::diff(&desired, live).map_err(|e| format!("diff: {e:?}"))?;
    if let Some(changed) = changes.iter().find(|c| c.action != Action::NoOp) {
        return Err(format!(
            "the 500-resource stack's plan against its own live state has a change: {:?} {}",
            changed.action, changed.address
        ));
    }
    let planned = plan::Plan {
        format_version: plan::PLAN_FORMAT_VERSION,
        eksform_version: String::new(),
        stack: model.stack.clone(),
        region: model.region.clone(),
        account: String::new(),
        fingerprint: String::new(),
        resources: changes,
    };
    eksform_core::execute::check_schedulable(&planned)?;
    Ok(planned.resources.len())
}

/// The live state of the 500-resource stack once applied (on the memory
/// cloud, on virtual time), as a plan observes it.
pub async fn applied_live(text: &str) -> Result<Vec<LiveResource>, String> {
    let cloud = Arc::new(MemoryCloud::new(crate::ACCOUNT));
    let loaded = spec::parse(SourceFile::new("big.yaml", text.to_string()))
        .map_err(|d| format!("the 500-resource spec is refused: {d:?}"))?;
    let mut stack = ops::Stack::lowered(loaded);
    let plan = crate::plan_on(cloud.clone(), &mut stack)
        .await
        .map_err(|e| e.to_string())?;
    let outcome = ops::apply(
        cloud.clone(),
        &plan,
        ExecuteOptions::default(),
        Arc::new(NoEvents),
        Cancellation::default(),
    )
    .await;
    if !outcome.succeeded() {
        return Err(format!(
            "the 500-resource apply failed: {:?}",
            outcome.failed
        ));
    }
    let again = crate::plan_on(cloud, &mut stack)
        .await
        .map_err(|e| e.to_string())?;
    if again.summary().has_changes() {
        return Err("the 500-resource stack's second plan has changes".into());
    }
    Ok(again.resources.into_iter().filter_map(|r| r.live).collect())
}

/// `cpu_ms_500_nochange` (median of `runs`) and the number of resources.
pub fn cpu_nochange(
    text: &str,
    live: &[LiveResource],
    runs: usize,
) -> Result<(f64, usize), String> {
    let mut times = Vec::new();
    let mut resources = 0;
    for _ in 0..runs {
        let started = Instant::now();
        resources = plan_without_changes(text, live)?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok((times[times.len() / 2].as_secs_f64() * 1000.0, resources))
}

/// The child process's part of `rss_mb_500`: reads the live state from
/// `path`, plans, and prints its peak resident memory (VmHWM) in MB.
pub fn rss_child(path: &Path) -> Result<(), String> {
    let live: Vec<LiveResource> = serde_json::from_str(
        &std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
    )
    .map_err(|e| e.to_string())?;
    plan_without_changes(&crate::large_spec(), &live)?;
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or("no VmHWM in /proc/self/status")?;
    println!("{}", kb as f64 / 1024.0);
    Ok(())
}

/// `rss_mb_500`: the peak memory of a no-change plan of the 500-resource
/// stack, in a child process of this binary, so that nothing this process
/// did before counts.
pub fn rss_in_child(live: &[LiveResource]) -> Result<f64, String> {
    let path = std::env::temp_dir().join(format!("eksform-bench-live-{}.json", std::process::id()));
    std::fs::write(
        &path,
        serde_json::to_string(live).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = std::process::Command::new(me)
        .arg(RSS_MODE)
        .arg(&path)
        .output()
        .map_err(|e| e.to_string());
    let _ = std::fs::remove_file(&path);
    let output = output?;
    if !output.status.success() {
        return Err(format!(
            "the rss child failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("the rss child's answer: {e}"))
}

/// A cloud that counts, per AWS service, the calls an apply has in flight
/// (creates, updates and deletes: what `ExecuteOptions::parallelism` bounds;
/// the polls of waits do not count).
pub struct CallsInFlight {
    inner: Arc<dyn Cloud>,
    counts: Mutex<BTreeMap<&'static str, (usize, usize)>>,
}

impl CallsInFlight {
    pub fn new(inner: Arc<dyn Cloud>) -> Self {
        Self {
            inner,
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    /// The most calls to one service that were in flight at once.
    pub fn most(&self) -> usize {
        let counts = self.counts.lock().expect("counts lock");
        counts.values().map(|(_, most)| *most).max().unwrap_or(0)
    }

    async fn counted<T>(
        &self,
        kind: &'static dyn Kind,
        call: impl std::future::Future<Output = T>,
    ) -> T {
        {
            let mut counts = self.counts.lock().expect("counts lock");
            let (now, most) = counts.entry(kind.service()).or_default();
            *now += 1;
            *most = (*most).max(*now);
        }
        let result = call.await;
        let mut counts = self.counts.lock().expect("counts lock");
        if let Some((now, _)) = counts.get_mut(kind.service()) {
            *now -= 1;
        }
        result
    }
}

#[async_trait]
impl Cloud for CallsInFlight {
    async fn caller_account(&self) -> Result<String, CloudError> {
        self.inner.caller_account().await
    }
    async fn observe(
        &self,
        kind: &'static dyn Kind,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        self.inner.observe(kind, scope).await
    }
    async fn create(
        &self,
        kind: &'static dyn Kind,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        self.counted(kind, self.inner.create(kind, request)).await
    }
    async fn update(
        &self,
        kind: &'static dyn Kind,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        self.counted(kind, self.inner.update(kind, live, desired))
            .await
    }
    async fn delete(&self, kind: &'static dyn Kind, live: &LiveResource) -> Result<(), CloudError> {
        self.counted(kind, self.inner.delete(kind, live)).await
    }
    async fn name_taken(
        &self,
        kind: &'static dyn Kind,
        desired: &DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        self.inner.name_taken(kind, desired).await
    }
    async fn read(
        &self,
        kind: &'static dyn Kind,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        self.inner.read(kind, live).await
    }
    async fn find_to_adopt(
        &self,
        kind: &'static dyn Kind,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        self.inner.find_to_adopt(kind, desired, id).await
    }
    async fn preflight_facts(
        &self,
        questions: &eksform_core::preflight::Questions,
    ) -> Result<eksform_core::preflight::Facts, CloudError> {
        self.inner.preflight_facts(questions).await
    }
}

/// What `estate_apply` measured.
pub struct EstateApply {
    pub makespan: Duration,
    /// The longest stack's independent floor.
    pub independent: Duration,
    /// The most calls the applies together had in flight to one service.
    pub most_in_flight: usize,
}

/// `size` stacks of `stack_text` planned, then applied at once by this
/// process (one apply each, as concurrent `eksform apply` runs of one
/// process would), on one in-memory account, on virtual time.
pub async fn estate_apply(
    size: usize,
    stack_text: impl Fn(usize) -> String,
) -> Result<EstateApply, String> {
    let cloud = Arc::new(MemoryCloud::new(crate::ACCOUNT));
    // Beyond AWS's default quotas of a region (5 VPCs, 5 Elastic IPs), as an
    // account holding such an estate has asked for.
    cloud.raise_quota("vpc", size);
    cloud.raise_quota("elastic_ip", 3 * size);
    let mut plans = Vec::new();
    let mut independent = Duration::ZERO;
    for i in 0..size {
        let mut stack = crate::stack_from_text(&stack_text(i));
        let plan = crate::plan_on(cloud.clone(), &mut stack)
            .await
            .map_err(|e| e.to_string())?;
        independent =
            independent.max(independent_floor::critical_path(&plan, cloud.latency())?.duration);
        plans.push(plan);
    }
    let started = tokio::time::Instant::now();
    let mut applies = tokio::task::JoinSet::new();
    // One process: its applies share the per-service bounds, and the count
    // of calls in flight is of all of them together.
    let options = ExecuteOptions::default();
    let limits = Arc::new(CallLimits::new(options.parallelism));
    let counted = Arc::new(CallsInFlight::new(cloud.clone()));
    for plan in plans {
        let counted = counted.clone();
        let options = ExecuteOptions {
            shared_limits: Some(limits.clone()),
            ..options.clone()
        };
        applies.spawn(async move {
            ops::apply(
                counted,
                &plan,
                options,
                Arc::new(NoEvents),
                Cancellation::default(),
            )
            .await
        });
    }
    while let Some(outcome) = applies.join_next().await {
        match outcome {
            Ok(outcome) if outcome.succeeded() => {}
            Ok(outcome) => return Err(format!("an estate apply failed: {:?}", outcome.failed)),
            Err(e) => return Err(format!("an estate apply did not finish: {e}")),
        }
    }
    Ok(EstateApply {
        makespan: started.elapsed(),
        independent,
        most_in_flight: counted.most(),
    })
}
