//! The executor: walks a plan as a dependency graph. An operation starts as
//! soon as what it depends on is done (creates in dependency order, deletes in
//! reverse), with bounded concurrency on AWS calls; it waits for AWS's
//! asynchronous states, retries what retrying can fix, and skips only what
//! depends on a failure. It emits events and never prints.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

pub use crate::cancel::Cancellation;
use crate::cloud::{Cloud, CloudError, CreateRequest, ErrorClass, Scope};
pub use crate::graph::Operation;
use crate::graph::{self, Node, build_graph, check_acyclic, dependants};
use crate::kinds::{self, Kind};
use crate::model::{Address, Attributes, DesiredResource, LiveResource, Status, Value};
use crate::plan::{self, Action, Plan};
use crate::retry::{NotFound, RetryPolicy};

#[derive(Debug, Clone)]
pub enum Event {
    Started {
        address: Address,
        operation: Operation,
    },
    Retrying {
        address: Address,
        operation: Operation,
        error: String,
        attempt: u32,
    },
    Waiting {
        address: Address,
        operation: Operation,
        status: String,
    },
    Finished {
        address: Address,
        operation: Operation,
        id: String,
        elapsed: Duration,
    },
    Failed {
        address: Address,
        operation: Operation,
        error: String,
    },
    Skipped {
        address: Address,
        operation: Operation,
        because: Address,
    },
    NotStarted {
        address: Address,
        operation: Operation,
    },
}

/// Where events go: a renderer, or a test's log.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: Event);
}

#[derive(Debug, Clone)]
pub struct ExecuteOptions {
    /// At most this many AWS calls in flight to each AWS service (waits do
    /// not count), fewer while the service throttles (`ServiceLimit`).
    pub parallelism: usize,
    pub retry: RetryPolicy,
    /// Waits added to the graph's own: every operation on the first address
    /// waits for every operation on the second. No command sets them; the
    /// benchmark adds a needless one to show that its independent floor of
    /// an apply (BENCHMARKS.md) does not move with the engine's graph.
    pub extra_waits: Vec<(Address, Address)>,
    /// Bounds shared with other applies of this process: several stacks
    /// applied at once then keep `parallelism` per service between them all,
    /// not each. `None`: this apply's own bounds, of `parallelism`.
    pub shared_limits: Option<Arc<CallLimits>>,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        Self {
            parallelism: 8,
            retry: RetryPolicy::default(),
            extra_waits: Vec::new(),
            shared_limits: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub completed: Vec<(Address, Operation)>,
    pub failed: Vec<(Address, Operation, CloudError)>,
    pub skipped: Vec<(Address, Operation)>,
    pub not_started: Vec<(Address, Operation)>,
    pub interrupted: bool,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.failed.is_empty()
            && self.skipped.is_empty()
            && self.not_started.is_empty()
            && !self.interrupted
    }
}

/// Whether the executor can order the plan's operations: the plan refuses
/// one it cannot (a cycle), naming the operations and the way out, so that no
/// apply starts and no rerun repeats the failure.
pub fn check_schedulable(plan: &Plan) -> Result<(), String> {
    build_graph(plan).map(|_| ()).map_err(|e| {
        format!(
            "{}; eksform cannot order these in one apply: split the change into two applies (for example, first give the spec only the new resources, then the rest)",
            e.message
                .trim_start_matches("the plan's operations form a cycle: ")
        )
    })
}

/// The longest chain of a plan's operations, each weighing what `weight`
/// says (of its kind and operation): the least time any schedule can take.
/// Operations of a kind AWS changes one at a time (`Kind::one_at_a_time`)
/// count one after another, as AWS makes them wait. Returns the total and
/// the chain.
pub fn critical_path(
    plan: &Plan,
    weight: impl Fn(&'static dyn Kind, Operation) -> Duration,
) -> Result<(Duration, Vec<(Address, Operation)>), CloudError> {
    let mut graph = build_graph(plan)?;
    graph::one_at_a_time(&mut graph);
    let nodes = graph.nodes;
    check_acyclic(&nodes)?;
    let dependants = dependants(&nodes);
    let mut remaining: Vec<usize> = nodes.iter().map(|n| n.dependencies.len()).collect();
    let mut queue: VecDeque<usize> = (0..nodes.len()).filter(|i| remaining[*i] == 0).collect();
    // finish[i]: the earliest node i can end; via[i]: the dependency it waited for.
    let mut finish = vec![Duration::ZERO; nodes.len()];
    let mut via: Vec<Option<usize>> = vec![None; nodes.len()];
    while let Some(i) = queue.pop_front() {
        let start = match nodes[i].dependencies.iter().map(|&d| (finish[d], d)).max() {
            Some((end, d)) => {
                via[i] = Some(d);
                end
            }
            None => Duration::ZERO,
        };
        finish[i] = start + weight(nodes[i].kind, nodes[i].operation);
        for &d in &dependants[i] {
            remaining[d] -= 1;
            if remaining[d] == 0 {
                queue.push_back(d);
            }
        }
    }
    let Some(last) = (0..nodes.len()).max_by_key(|&i| finish[i]) else {
        return Ok((Duration::ZERO, Vec::new()));
    };
    let mut chain = vec![last];
    let mut at = last;
    while let Some(before) = via[at] {
        chain.push(before);
        at = before;
    }
    chain.reverse();
    Ok((
        finish[last],
        chain
            .into_iter()
            .map(|i| (nodes[i].address.clone(), nodes[i].operation))
            .collect(),
    ))
}

/// An idempotency token from the run, stack, address and inputs: a create
/// retried within a run (after a timeout whose answer was lost) asks AWS for the
/// same resource. A later run needs no token to find it (the resource carries
/// its address tag), and must not get one: AWS would answer a token used before
/// with the resource it made then, even if that one was deleted since.
pub fn idempotency_token(
    run: &str,
    stack: &str,
    address: &Address,
    attributes: &Attributes,
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(run.as_bytes());
    hasher.update([0]);
    hasher.update(stack.as_bytes());
    hasher.update([0]);
    hasher.update(address.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(attributes).unwrap_or_default());
    let digest = hasher.finalize();
    format!(
        "eksform-{}",
        digest
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    if let Ok(since) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(since.as_nanos());
    }
    format!("{:016x}", hasher.finish())
}

/// How many calls may be in flight to one AWS service: the configured bound
/// at first, halved when the service throttles, and one more after every
/// `CALM` calls it answered without throttling, up to the bound again
/// (additive increase, multiplicative decrease).
struct ServiceLimit {
    semaphore: Semaphore,
    bound: usize,
    state: Mutex<LimitState>,
}

#[derive(Default)]
struct LimitState {
    limit: usize,
    /// Permits to take back as calls in flight return them.
    debt: usize,
    /// Calls answered without throttling since the limit last changed.
    calm: usize,
}

const CALM: usize = 10;

impl ServiceLimit {
    fn new(bound: usize) -> Self {
        let bound = bound.max(1);
        Self {
            semaphore: Semaphore::new(bound),
            bound,
            state: Mutex::new(LimitState {
                limit: bound,
                ..LimitState::default()
            }),
        }
    }

    /// Returns a call's permit, adapting the limit to how the call went.
    fn release(&self, permit: tokio::sync::SemaphorePermit<'_>, throttled: bool) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if throttled {
            let lower = (state.limit / 2).max(1);
            let cut = state.limit - lower;
            state.limit = lower;
            state.calm = 0;
            let taken = self.semaphore.forget_permits(cut);
            state.debt += cut - taken;
        } else {
            state.calm += 1;
            if state.calm >= CALM && state.limit < self.bound {
                state.limit += 1;
                state.calm = 0;
                if state.debt > 0 {
                    state.debt -= 1;
                } else {
                    self.semaphore.add_permits(1);
                }
            }
        }
        if state.debt > 0 {
            state.debt -= 1;
            permit.forget();
        }
    }

    #[cfg(test)]
    fn limit(&self) -> usize {
        self.state.lock().map(|s| s.limit).unwrap_or_default()
    }
}

/// The bounds on calls in flight, one per AWS service. An apply makes its own
/// unless `ExecuteOptions::shared_limits` gives one to share.
pub struct CallLimits {
    services: BTreeMap<&'static str, ServiceLimit>,
}

impl CallLimits {
    /// At most `parallelism` calls in flight to each service of every kind.
    pub fn new(parallelism: usize) -> Self {
        Self {
            services: kinds::ALL
                .iter()
                .map(|k| (k.service(), ServiceLimit::new(parallelism)))
                .collect(),
        }
    }
}

impl std::fmt::Debug for CallLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.services
                    .iter()
                    .map(|(service, limit)| (service, limit.bound)),
            )
            .finish()
    }
}

/// Everything a running operation shares with the others.
struct Shared {
    /// Unique to this run of the executor.
    run: String,
    /// Kinds AWS lets change one at a time: held for a whole operation, waits included.
    one_at_a_time: BTreeMap<&'static str, tokio::sync::Mutex<()>>,
    cloud: Arc<dyn Cloud>,
    scope: Scope,
    options: ExecuteOptions,
    sink: Arc<dyn EventSink>,
    cancel: Cancellation,
    /// Calls in flight, bounded per AWS service.
    limits: Arc<CallLimits>,
    state: Mutex<BTreeMap<Address, LiveResource>>,
}

impl Shared {
    /// One AWS call under its service's bound, retried per the policy.
    async fn call<T, F, Fut>(
        &self,
        kind: &'static dyn Kind,
        address: &Address,
        operation: Operation,
        mut call: F,
    ) -> Result<T, CloudError>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<T, CloudError>>,
    {
        // A create or update refers to resources that may have been made
        // moments ago; AWS may not know their ids yet.
        let not_found = match operation {
            Operation::Create | Operation::Update | Operation::Release => NotFound::MayBeLag,
            Operation::Delete | Operation::Wait => NotFound::IsFinal,
        };
        self.options
            .retry
            .run_with(
                |attempt| {
                    let future = call(attempt);
                    async {
                        let limit = self
                            .limits
                            .services
                            .get(kind.service())
                            .ok_or_else(|| CloudError::rejected("no bound for the service"))?;
                        let permit = limit
                            .semaphore
                            .acquire()
                            .await
                            .map_err(|_| CloudError::rejected("executor closed"))?;
                        let result = future.await;
                        limit.release(
                            permit,
                            matches!(&result, Err(e) if e.class == ErrorClass::Throttling),
                        );
                        result
                    }
                },
                |error, attempt| {
                    self.sink.emit(Event::Retrying {
                        address: address.clone(),
                        operation,
                        error: error.to_string(),
                        attempt,
                    })
                },
                not_found,
                &self.cancel,
            )
            .await
    }

    fn resolve(&self, desired: &DesiredResource) -> Result<Attributes, CloudError> {
        let state = self
            .state
            .lock()
            .map_err(|_| CloudError::rejected("state lock poisoned"))?;
        let mut resolved = Attributes::new();
        for (name, value) in &desired.attributes {
            let value = plan::resolve(value, &state);
            if let Some(reference) = value.references().first() {
                return Err(CloudError::rejected(format!(
                    "`{}` needs {}.{}, which is not known",
                    desired.address, reference.address, reference.attribute
                )));
            }
            resolved.insert(name.clone(), value);
        }
        Ok(resolved)
    }

    /// The desired attributes without what is known only after apply: list
    /// items and map entries that are unknown are left out, an unknown value is null.
    fn resolve_known(&self, desired: &DesiredResource) -> Result<Attributes, CloudError> {
        fn strip(value: Value) -> Value {
            match value {
                Value::Ref(_) => Value::Null,
                Value::List(items) => Value::List(
                    items
                        .into_iter()
                        .filter(|i| !matches!(i, Value::Ref(_)))
                        .map(strip)
                        .collect(),
                ),
                Value::Map(map) => Value::Map(
                    map.into_iter()
                        .filter(|(_, v)| !matches!(v, Value::Ref(_)))
                        .map(|(k, v)| (k, strip(v)))
                        .collect(),
                ),
                other => other,
            }
        }
        let state = self
            .state
            .lock()
            .map_err(|_| CloudError::rejected("state lock poisoned"))?;
        Ok(desired
            .attributes
            .iter()
            .map(|(name, value)| (name.clone(), strip(plan::resolve(value, &state))))
            .collect())
    }

    /// Polls until the resource is ready (or gone, when `until_gone`), bounded
    /// by the kind's timeout, and cut short by Ctrl-C.
    async fn wait(
        &self,
        node: &Node,
        live: &LiveResource,
        until_gone: bool,
    ) -> Result<Option<LiveResource>, CloudError> {
        let timings = node.kind.timings();
        let deadline = Instant::now() + timings.timeout;
        let mut current = live.clone();
        // A first look soon (many operations finish quickly), then the kind's pace.
        let mut pause = timings.poll.min(Duration::from_secs(1));
        let mut unseen = 0;
        loop {
            if !until_gone && current.status == Status::Ready {
                return Ok(Some(current));
            }
            self.sink.emit(Event::Waiting {
                address: node.address.clone(),
                operation: node.operation,
                status: if until_gone {
                    "deleting".into()
                } else {
                    format!("{:?}", current.status).to_lowercase()
                },
            });
            if Instant::now() >= deadline {
                let waiting_for = current
                    .attributes
                    .get(crate::model::WAITING_FOR)
                    .and_then(Value::as_str)
                    .map(|what| format!(": it waits for {what}"))
                    .unwrap_or_default();
                return Err(CloudError::rejected(format!(
                    "timed out after {}s waiting for {} to be {}{waiting_for}",
                    timings.timeout.as_secs(),
                    node.address,
                    if until_gone { "deleted" } else { "available" }
                )));
            }
            if self.cancel.sleep(pause).await {
                return Err(CloudError::new(
                    ErrorClass::Interrupted,
                    None,
                    format!(
                        "interrupted while waiting for {}; the next apply goes on from here",
                        node.address
                    ),
                ));
            }
            pause = timings.poll;
            let kind = node.kind;
            match self
                .call(node.kind, &node.address, node.operation, |_| {
                    self.cloud.read(kind, &current)
                })
                .await?
            {
                None if until_gone => return Ok(None),
                // Just created, not listed yet: AWS's lists lag behind its creates.
                None if unseen < 3 => unseen += 1,
                None => {
                    return Err(CloudError::rejected(format!(
                        "{} disappeared while it was being created (AWS marked it failed or deleted)",
                        node.address
                    )));
                }
                // AWS gave up on it: waiting would never end. The next plan
                // replaces it.
                Some(next) if !until_gone && next.status == Status::Failed => {
                    let health = next.health().map(|h| format!(" ({h})")).unwrap_or_default();
                    return Err(CloudError::rejected(format!(
                        "AWS reports {} failed{health}; the next plan replaces it",
                        node.address
                    )));
                }
                Some(next) if !until_gone && next.status == Status::Deleting => {
                    return Err(CloudError::rejected(format!(
                        "{} is being deleted by someone else",
                        node.address
                    )));
                }
                Some(next) => current = next,
            }
        }
    }

    /// An update, retried from what a failed attempt left rather than from the
    /// plan's view (a route created before the association was throttled).
    async fn update(
        &self,
        node: &Node,
        live: &LiveResource,
        attributes: &Attributes,
    ) -> Result<(), CloudError> {
        let kind = node.kind;
        self.call(
            node.kind,
            &node.address,
            node.operation,
            |attempt| async move {
                let current = if attempt > 1 {
                    self.cloud
                        .read(kind, live)
                        .await?
                        .unwrap_or_else(|| live.clone())
                } else {
                    live.clone()
                };
                self.cloud.update(kind, &current, attributes).await
            },
        )
        .await
    }

    async fn run(&self, node: &Node) -> Result<Option<LiveResource>, CloudError> {
        let _turn = match self.one_at_a_time.get(node.kind.name()) {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        tracing::info!(address = %node.address, operation = %node.operation, "starting");
        // Started once it really starts (after its turn, for one-at-a-time kinds).
        self.sink.emit(Event::Started {
            address: node.address.clone(),
            operation: node.operation,
        });
        let kind = node.kind;
        match node.operation {
            Operation::Create => {
                let desired = node
                    .desired
                    .as_ref()
                    .ok_or_else(|| CloudError::rejected("create without desired state"))?;
                let attributes = self.resolve(desired)?;
                let request = CreateRequest {
                    stack: self.scope.stack.clone(),
                    address: node.address.clone(),
                    token: idempotency_token(
                        &self.run,
                        &self.scope.stack,
                        &node.address,
                        &attributes,
                    ),
                    attributes,
                };
                let created = self
                    .call(node.kind, &node.address, node.operation, |attempt| {
                        let request = &request;
                        async move {
                            // A retried create first looks for what the lost attempt
                            // may have made: the APIs without tokens would duplicate it.
                            if attempt > 1 {
                                let found = self.cloud.observe(kind, &self.scope).await?;
                                if let Some(mut existing) = found.into_iter().find(|r| {
                                    r.address == request.address && r.status != Status::Deleting
                                }) {
                                    // A create of several calls may have stopped half way
                                    // (a route table without its routes): finish it.
                                    self.cloud
                                        .update(kind, &existing, &request.attributes)
                                        .await?;
                                    existing.attributes.extend(request.attributes.clone());
                                    return Ok(existing);
                                }
                            }
                            self.cloud.create(kind, request).await
                        }
                    })
                    .await?;
                self.wait(node, &created, false).await
            }
            Operation::Update | Operation::Release => {
                let desired = node
                    .desired
                    .as_ref()
                    .ok_or_else(|| CloudError::rejected("update without desired state"))?;
                // After a release the live state is the released one.
                let fresh = self
                    .state
                    .lock()
                    .ok()
                    .and_then(|s| s.get(&node.address).cloned());
                let live = fresh
                    .as_ref()
                    .or(node.live.as_ref())
                    .ok_or_else(|| CloudError::rejected("update without live state"))?;
                if node.operation == Operation::Release {
                    let attributes = self.resolve_known(desired)?;
                    self.update(node, live, &attributes).await?;
                    let reread = self
                        .call(node.kind, &node.address, node.operation, |_| {
                            self.cloud.read(kind, live)
                        })
                        .await?;
                    return Ok(Some(reread.unwrap_or_else(|| live.clone())));
                }
                let attributes = self.resolve(desired)?;
                self.update(node, live, &attributes).await?;
                let mut updated = live.clone();
                updated.attributes.extend(attributes);
                // Found pending (an interrupted create) and changed: still wait for it.
                self.wait(node, &updated, false).await
            }
            Operation::Delete => {
                let live = node
                    .live
                    .as_ref()
                    .ok_or_else(|| CloudError::rejected("delete without live state"))?;
                if kind.is_brought() {
                    return Ok(None);
                }
                self.call(node.kind, &node.address, node.operation, |_| {
                    self.cloud.delete(kind, live)
                })
                .await?;
                if !kind.timings().delete.is_zero() || live.status == Status::Deleting {
                    self.wait(node, live, true).await?;
                }
                Ok(None)
            }
            Operation::Wait => {
                let live = node
                    .live
                    .as_ref()
                    .ok_or_else(|| CloudError::rejected("wait without live state"))?;
                self.wait(node, live, false).await
            }
        }
    }
}

/// The graph with the caller's `ExecuteOptions::extra_waits`; refused when
/// they close a cycle.
fn with_extra_waits(
    mut graph: graph::Graph,
    options: &ExecuteOptions,
) -> Result<graph::Graph, CloudError> {
    if options.extra_waits.is_empty() {
        return Ok(graph);
    }
    for (waiting, awaited) in &options.extra_waits {
        let awaited: Vec<usize> = (0..graph.nodes.len())
            .filter(|&i| &graph.nodes[i].address == awaited)
            .collect();
        for node in graph.nodes.iter_mut().filter(|n| &n.address == waiting) {
            node.dependencies.extend(awaited.iter().copied());
            node.dependencies.sort();
            node.dependencies.dedup();
        }
    }
    check_acyclic(&graph.nodes)?;
    Ok(graph)
}

/// Applies a plan. Never panics on cloud errors; reports every operation's fate.
pub async fn execute(
    plan: &Plan,
    cloud: Arc<dyn Cloud>,
    scope: Scope,
    options: ExecuteOptions,
    sink: Arc<dyn EventSink>,
    cancel: Cancellation,
) -> Outcome {
    let mut outcome = Outcome::default();
    let nodes = match build_graph(plan).and_then(|graph| with_extra_waits(graph, &options)) {
        Ok(graph) => Arc::new(graph.nodes),
        Err(error) => {
            outcome
                .failed
                .push((Address(plan.stack.clone()), Operation::Create, error));
            return outcome;
        }
    };
    let known: BTreeMap<Address, LiveResource> = plan
        .resources
        .iter()
        .filter(|r| matches!(r.action, Action::NoOp | Action::Update | Action::Adopt))
        .filter_map(|r| r.live.clone().map(|l| (r.address.clone(), l)))
        .collect();
    let shared = Arc::new(Shared {
        run: run_id(),
        one_at_a_time: kinds::ALL
            .iter()
            .filter(|k| k.one_at_a_time())
            .map(|k| (k.name(), tokio::sync::Mutex::new(())))
            .collect(),
        cloud,
        scope,
        limits: options
            .shared_limits
            .clone()
            .unwrap_or_else(|| Arc::new(CallLimits::new(options.parallelism))),
        options,
        sink: sink.clone(),
        cancel: cancel.clone(),
        state: Mutex::new(known),
    });

    let dependants = dependants(&nodes);
    let mut waiting_on: Vec<usize> = nodes.iter().map(|n| n.dependencies.len()).collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Fate {
        Pending,
        Running,
        Done,
        Failed,
        Skipped,
    }
    let mut fate = vec![Fate::Pending; nodes.len()];
    let mut ready: VecDeque<usize> = (0..nodes.len()).filter(|i| waiting_on[*i] == 0).collect();
    let mut running: JoinSet<(usize, Duration, Result<Option<LiveResource>, CloudError>)> =
        JoinSet::new();

    loop {
        while !cancel.is_cancelled() {
            let Some(index) = ready.pop_front() else {
                break;
            };
            fate[index] = Fate::Running;
            let shared = shared.clone();
            let nodes = nodes.clone();
            running.spawn(async move {
                let started = Instant::now();
                let result = shared.run(&nodes[index]).await;
                (index, started.elapsed(), result)
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (index, elapsed, result) = match joined {
            Ok(value) => value,
            Err(join_error) => {
                // A task that panicked: report it rather than take the process down.
                outcome.failed.push((
                    Address("executor".into()),
                    Operation::Create,
                    CloudError::rejected(format!("internal error: {join_error}")),
                ));
                cancel.cancel();
                continue;
            }
        };
        let node = &nodes[index];
        match result {
            Ok(live) => {
                fate[index] = Fate::Done;
                if let Ok(mut state) = shared.state.lock() {
                    match &live {
                        Some(live) => {
                            state.insert(node.address.clone(), live.clone());
                        }
                        None if node.operation == Operation::Delete
                            && node.replaced_by.is_none() =>
                        {
                            state.remove(&node.address);
                        }
                        None => {}
                    }
                }
                let id = live
                    .as_ref()
                    .or(node.live.as_ref())
                    .map(|l| l.id.clone())
                    .unwrap_or_default();
                sink.emit(Event::Finished {
                    address: node.address.clone(),
                    operation: node.operation,
                    id,
                    elapsed,
                });
                outcome
                    .completed
                    .push((node.address.clone(), node.operation));
                for &dependant in &dependants[index] {
                    waiting_on[dependant] -= 1;
                    if waiting_on[dependant] == 0 && fate[dependant] == Fate::Pending {
                        ready.push_back(dependant);
                    }
                }
            }
            Err(error) => {
                fate[index] = Fate::Failed;
                if matches!(error.class, ErrorClass::Crashed | ErrorClass::Interrupted) {
                    outcome.interrupted = true;
                    cancel.cancel();
                }
                sink.emit(Event::Failed {
                    address: node.address.clone(),
                    operation: node.operation,
                    error: error.to_string(),
                });
                outcome
                    .failed
                    .push((node.address.clone(), node.operation, error));
                // Everything that depends on it, directly or not, is skipped.
                let mut stack = dependants[index].clone();
                while let Some(dependant) = stack.pop() {
                    if fate[dependant] == Fate::Pending {
                        fate[dependant] = Fate::Skipped;
                        sink.emit(Event::Skipped {
                            address: nodes[dependant].address.clone(),
                            operation: nodes[dependant].operation,
                            because: node.address.clone(),
                        });
                        outcome
                            .skipped
                            .push((nodes[dependant].address.clone(), nodes[dependant].operation));
                        stack.extend(dependants[dependant].iter().copied());
                    }
                }
            }
        }
    }
    if cancel.is_cancelled() {
        outcome.interrupted = true;
    }
    for (index, node) in nodes.iter().enumerate() {
        if fate[index] == Fate::Pending {
            sink.emit(Event::NotStarted {
                address: node.address.clone(),
                operation: node.operation,
            });
            outcome
                .not_started
                .push((node.address.clone(), node.operation));
        }
    }
    outcome
}

/// Discards events.
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: Event) {}
}

/// Collects events, for tests and for reports.
#[derive(Default)]
pub struct EventLog(pub Mutex<Vec<Event>>);

impl EventSink for EventLog {
    fn emit(&self, event: Event) {
        if let Ok(mut events) = self.0.lock() {
            events.push(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_whose_operations_cycle_is_refused_with_the_way_out() {
        // Two deletes, each of a resource whose live attributes hold the
        // other's id: each must wait for the other.
        let live = |address: &str, id: &str, holds: &str| LiveResource {
            address: Address(address.into()),
            kind: "route_table".into(),
            id: id.into(),
            attributes: crate::model::Attributes::from([(
                "held".to_string(),
                Value::string(holds),
            )]),
            status: Status::Ready,
        };
        let delete = |live: LiveResource| crate::plan::ResourceChange {
            address: live.address.clone(),
            kind: live.kind.clone(),
            action: Action::Delete,
            reason: None,
            warnings: Vec::new(),
            notes: Vec::new(),
            changes: Vec::new(),
            desired: None,
            live: Some(live),
        };
        let plan = Plan {
            format_version: crate::plan::PLAN_FORMAT_VERSION,
            eksform_version: "test".into(),
            stack: "dev".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            fingerprint: String::new(),
            resources: vec![
                delete(live("route_table.a", "rtb-a", "rtb-b")),
                delete(live("route_table.b", "rtb-b", "rtb-a")),
            ],
        };
        let refused = check_schedulable(&plan).expect_err("a cycle");
        assert!(
            refused.contains("route_table.a")
                && refused.contains("route_table.b")
                && refused.contains("split the change"),
            "{refused}"
        );
        let mut one = plan.clone();
        one.resources.pop();
        assert!(check_schedulable(&one).is_ok());
    }

    #[tokio::test]
    async fn a_service_that_throttles_gets_fewer_calls_then_more_again() {
        let limit = ServiceLimit::new(8);
        let permit = limit.semaphore.acquire().await.unwrap();
        limit.release(permit, true);
        assert_eq!(limit.limit(), 4, "halved");
        assert_eq!(limit.semaphore.available_permits(), 4);
        for _ in 0..3 {
            let permit = limit.semaphore.acquire().await.unwrap();
            limit.release(permit, true);
        }
        assert_eq!(limit.limit(), 1, "never below one call");
        assert_eq!(limit.semaphore.available_permits(), 1);
        for _ in 0..CALM * 20 {
            let permit = limit.semaphore.acquire().await.unwrap();
            limit.release(permit, false);
        }
        assert_eq!(limit.limit(), 8, "back to the bound, not past it");
        assert_eq!(limit.semaphore.available_permits(), 8);
    }

    #[tokio::test]
    async fn permits_held_while_the_limit_falls_are_taken_back_as_they_return() {
        let limit = ServiceLimit::new(4);
        let held: Vec<_> =
            futures_util::future::join_all((0..4).map(|_| limit.semaphore.acquire()))
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
        let mut held = held.into_iter();
        limit.release(held.next().unwrap(), true);
        assert_eq!(limit.limit(), 2);
        for permit in held {
            limit.release(permit, false);
        }
        assert_eq!(
            limit.semaphore.available_permits(),
            2,
            "two in flight at most now"
        );
    }
}
