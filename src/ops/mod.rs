//! Operations behind the commands: prepare a stack from its spec, guard the
//! account, plan, apply, read outputs. The CLI is a thin layer over these.

use std::path::Path;
use std::sync::Arc;

use eksform_core::cloud::shared::SharedObservation;
use eksform_core::cloud::{Cloud, CloudError, Regions, Scope};
use eksform_core::diagnostics::Diagnostics;
use eksform_core::execute::{self, Cancellation, EventSink, ExecuteOptions, Outcome};
use eksform_core::kinds::{self, EksCluster};
use eksform_core::lower::{self, StackModel};
use eksform_core::model::{DesiredResource, LiveResource, Value};
use eksform_core::observe;
pub use eksform_core::outputs::Outputs;
use eksform_core::outputs::{self, KnownOutputs, ReferenceError};
use eksform_core::plan::{self, PLAN_FORMAT_VERSION, Plan, PlanError};
use eksform_core::retry::RetryPolicy;
use eksform_core::spec::{self, LoadedSpec};

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("the spec has errors")]
    Spec(Diagnostics),
    #[error("{0}")]
    Cloud(#[from] CloudError),
    #[error(
        "refusing to touch AWS: the spec is for account {expected}, but the credentials are for account {actual}"
    )]
    AccountMismatch { expected: String, actual: String },
    #[error("{0}")]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Refused(String),
}

/// A stack ready to plan: its spec, model and desired resources.
#[derive(Debug, Clone)]
pub struct Stack {
    pub loaded: LoadedSpec,
    pub model: StackModel,
    pub desired: Vec<DesiredResource>,
}

impl Stack {
    /// A read spec, lowered to its model and desired resources.
    pub fn lowered(loaded: LoadedSpec) -> Self {
        let model = lower::model(&loaded.spec);
        let desired = lower::desired(&model);
        Self {
            loaded,
            model,
            desired,
        }
    }

    pub fn scope(&self) -> Scope {
        scope_for(&self.model.stack, &self.model.region, &self.desired)
    }
}

pub fn scope_for(stack: &str, region: &str, desired: &[DesiredResource]) -> Scope {
    Scope {
        stack: stack.into(),
        region: region.into(),
        named: desired
            .iter()
            .filter_map(|d| {
                let attribute = kinds::by_name(&d.kind)?.looked_up_by()?;
                Some((
                    d.address.clone(),
                    d.attributes.get(attribute)?.as_str()?.to_string(),
                ))
            })
            .collect(),
        cluster: desired
            .iter()
            .find(|d| d.address == EksCluster::address())
            .and_then(|d| d.attributes.get("name")?.as_str().map(str::to_string)),
        destroying: false,
        // A VPC given by id shows as a plain `vpc_id`; a made one as a reference.
        brought_vpc: desired.iter().find_map(|d| {
            d.attributes
                .get("vpc_id")
                .and_then(Value::as_str)
                .map(str::to_string)
        }),
        reads: Default::default(),
    }
}

/// Reads, validates and lowers a spec. No AWS calls.
pub fn prepare(path: &Path) -> Result<Stack, OpsError> {
    Ok(Stack::lowered(spec::load(path).map_err(OpsError::Spec)?))
}

/// Resolves the stack's cross-stack references from the other stacks' live
/// outputs, then lowers it again with the values they stand for.
pub async fn resolve_references(
    stack: &mut Stack,
    regions: &dyn Regions,
    known: &KnownOutputs,
    retry: RetryPolicy,
) -> Result<(), OpsError> {
    let Some(cluster) = stack.model.cluster.as_mut() else {
        return Ok(());
    };
    if cluster.public_access_references.is_empty() {
        return Ok(());
    }
    let cidrs = outputs::resolve_cidrs(
        &cluster.public_access_references,
        "cluster.publicAccessCIDRs",
        &stack.model.region,
        regions,
        known,
        &stack.loaded.file,
        retry,
    )
    .await
    .map_err(|e| match e {
        ReferenceError::Unresolved(diagnostics) => OpsError::Spec(diagnostics),
        ReferenceError::Cloud(e) => OpsError::Cloud(e),
    })?;
    cluster.public_access_cidrs.extend(cidrs);
    cluster.public_access_cidrs.sort();
    cluster.public_access_cidrs.dedup();
    cluster.public_access_references.clear();
    stack.desired = lower::desired(&stack.model);
    Ok(())
}

/// The account guard: first call of every command that touches AWS.
pub async fn guard_account(
    cloud: &dyn Cloud,
    expected: Option<&str>,
    retry: RetryPolicy,
) -> Result<String, OpsError> {
    let actual = retry.run(|_| cloud.caller_account(), |_, _| {}).await?;
    if let Some(expected) = expected
        && expected != actual
    {
        return Err(OpsError::AccountMismatch {
            expected: expected.into(),
            actual,
        });
    }
    Ok(actual)
}

/// What a plan aims at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// The live account as the spec says.
    Apply,
    /// Nothing of the stack left.
    Destroy,
}

/// Observes the live account and plans the way to `desired` (or to nothing).
pub async fn plan(
    cloud: Arc<dyn Cloud>,
    model: &StackModel,
    desired: &[DesiredResource],
    goal: Goal,
    retry: RetryPolicy,
) -> Result<(Plan, Vec<LiveResource>), OpsError> {
    let account = guard_account(cloud.as_ref(), model.account.as_deref(), retry).await?;
    let observed = observe_for(cloud.clone(), model, desired, goal, retry).await?;
    let (plan, observed) = plan_observed(account, model, desired, goal, observed)?;
    refuse_taken_names(cloud, &plan, retry).await?;
    Ok((plan, observed))
}

/// `plan` for a stack whose spec may refer to other stacks: after the account
/// guard, the other stacks' outputs are read while this stack is observed.
pub async fn plan_stack(
    cloud: Arc<dyn Cloud>,
    regions: &dyn Regions,
    known: &KnownOutputs,
    stack: &mut Stack,
    goal: Goal,
    retry: RetryPolicy,
) -> Result<(Plan, Vec<LiveResource>), OpsError> {
    let account = guard_account(cloud.as_ref(), stack.model.account.as_deref(), retry).await?;
    // The references change CIDRs only, never what observation looks up.
    let (model, desired) = (stack.model.clone(), stack.desired.clone());
    let observing_cloud = cloud.clone();
    let observing =
        async move { observe_for(observing_cloud, &model, &desired, goal, retry).await };
    let (observed, resolved) = match goal {
        Goal::Apply => tokio::join!(observing, resolve_references(stack, regions, known, retry)),
        Goal::Destroy => (observing.await, Ok(())),
    };
    resolved?;
    let (plan, observed) = plan_observed(account, &stack.model, &stack.desired, goal, observed?)?;
    refuse_taken_names(cloud, &plan, retry).await?;
    Ok((plan, observed))
}

/// A plan error for every resource the plan creates whose name something
/// else in the account already holds (an unmarked cluster of the spec's name):
/// found before anything is created, not half-way through apply.
async fn refuse_taken_names(
    cloud: Arc<dyn Cloud>,
    plan: &Plan,
    retry: RetryPolicy,
) -> Result<(), OpsError> {
    // A replacement's new resource takes its old one's name or, made first, a
    // generated new one: only creates can meet a stranger's name.
    let creates = plan
        .resources
        .iter()
        .filter(|r| r.action == plan::Action::Create);
    let checks = creates.filter_map(|change| {
        let kind = kinds::by_name(&change.kind)?;
        let desired = change.desired.as_ref()?;
        let cloud = cloud.clone();
        Some(async move {
            let taken = retry
                .run(|_| cloud.name_taken(kind, desired), |_, _| {})
                .await?;
            Ok::<_, CloudError>(taken.map(|t| (change.address.clone(), t)))
        })
    });
    let taken: Vec<_> = futures_util::future::try_join_all(checks)
        .await?
        .into_iter()
        .flatten()
        .collect();
    // Every clash at once, the first by its address and the rest in its words.
    let mut taken = taken.into_iter();
    match taken.next() {
        Some((address, what)) => {
            let rest: Vec<String> = taken.map(|(a, w)| format!("; {a}: {w}")).collect();
            Err(plan::PlanError::Refused(address, format!("{what}{}", rest.concat())).into())
        }
        None => Ok(()),
    }
}

/// Connections for an estate's plans: one per region, whose observation the
/// stacks share when there are several; references to stacks elsewhere
/// connect through `regions`.
struct EstateConnections<'a> {
    regions: &'a dyn Regions,
    share: bool,
    open: tokio::sync::Mutex<std::collections::BTreeMap<String, Arc<dyn Cloud>>>,
}

#[async_trait::async_trait]
impl Regions for EstateConnections<'_> {
    async fn cloud(&self, region: &str) -> Arc<dyn Cloud> {
        let mut open = self.open.lock().await;
        if let Some(cloud) = open.get(region) {
            return cloud.clone();
        }
        let cloud = self.regions.cloud(region).await;
        let cloud: Arc<dyn Cloud> = if self.share {
            Arc::new(SharedObservation::new(cloud))
        } else {
            cloud
        };
        open.insert(region.to_string(), cloud.clone());
        cloud
    }
}

/// Plans several stacks in the order given (referenced stacks first, see
/// `estate::order`): each later stack reads an earlier one's outputs from its
/// plan instead of observing it again, and stacks of one account and region
/// share what was observed (`cloud::shared::SharedObservation`).
pub async fn plan_estate(
    stacks: &mut [Stack],
    order: &[usize],
    regions: &dyn Regions,
    retry: RetryPolicy,
    mut planned: impl FnMut(&Stack),
) -> Result<Vec<(usize, Plan)>, OpsError> {
    let connections = EstateConnections {
        regions,
        share: order.len() > 1,
        open: Default::default(),
    };
    let mut known = KnownOutputs::new();
    let mut plans = Vec::new();
    for &i in order {
        let stack = &mut stacks[i];
        planned(stack);
        let region = stack.model.region.clone();
        let cloud = connections.cloud(&region).await;
        let (plan, observed) =
            plan_stack(cloud, &connections, &known, stack, Goal::Apply, retry).await?;
        // Stacks planned later that refer to this one read its outputs from here.
        known.insert(
            (stack.model.stack.clone(), region),
            (!observed.is_empty())
                .then(|| Outputs::from_observed(&observed, stack.model.network.as_ref())),
        );
        plans.push((i, plan));
    }
    Ok(plans)
}

async fn observe_for(
    cloud: Arc<dyn Cloud>,
    model: &StackModel,
    desired: &[DesiredResource],
    goal: Goal,
    retry: RetryPolicy,
) -> Result<Vec<LiveResource>, OpsError> {
    // A destroy still looks up what the spec names (a log group, brought subnets).
    let scope = Scope {
        destroying: goal == Goal::Destroy,
        ..scope_for(&model.stack, &model.region, desired)
    };
    Ok(observe::observe(cloud, &scope, retry).await?)
}

fn plan_observed(
    account: String,
    model: &StackModel,
    desired: &[DesiredResource],
    goal: Goal,
    observed: Vec<LiveResource>,
) -> Result<(Plan, Vec<LiveResource>), OpsError> {
    let mut target = match goal {
        Goal::Apply => desired.to_vec(),
        Goal::Destroy => Vec::new(),
    };
    lower::keep_what_exists(model, &mut target, &observed)
        .map_err(|(address, reason)| PlanError::Refused(address, reason))?;
    let resources = plan::diff(&target, &observed)?;
    let plan = Plan {
        format_version: PLAN_FORMAT_VERSION,
        eksform_version: env!("CARGO_PKG_VERSION").into(),
        stack: model.stack.clone(),
        region: model.region.clone(),
        account,
        fingerprint: plan::fingerprint(&observed),
        resources,
    };
    // A plan apply could not order is an error now, before anything is made.
    execute::check_schedulable(&plan).map_err(PlanError::Cycle)?;
    Ok((plan, observed))
}

/// Checks a saved plan against the live account and returns the plan to
/// execute: made anew from a fresh observation and the desired resources the
/// file records, and refused unless it makes exactly the file's changes. The
/// file's live resources and ids are never acted on: every delete targets what
/// the fresh observation found carrying the stack's mark, so an edited plan
/// file cannot delete anything foreign.
pub async fn recheck_saved_plan(
    cloud: Arc<dyn Cloud>,
    saved: &Plan,
    retry: RetryPolicy,
) -> Result<Plan, OpsError> {
    if saved.format_version != PLAN_FORMAT_VERSION {
        return Err(OpsError::Refused(format!(
            "the plan file has format {} (made by eksform {}); this eksform reads format {PLAN_FORMAT_VERSION}",
            saved.format_version, saved.eksform_version
        )));
    }
    let account = guard_account(cloud.as_ref(), Some(&saved.account), retry).await?;
    let desired: Vec<DesiredResource> = saved
        .resources
        .iter()
        // A release is the end of an adoption, not something the spec wants.
        .filter(|r| r.action != plan::Action::Release)
        .filter_map(|r| r.desired.clone())
        .collect();
    let scope = scope_for(&saved.stack, &saved.region, &desired);
    let observed = observe::observe(cloud, &scope, retry).await?;
    let stale = |details: Vec<String>| {
        OpsError::Refused(format!(
            "the live state of stack {} in account {account} changed since the plan was made: {}; make a new plan",
            saved.stack,
            details.join("; ")
        ))
    };
    if plan::fingerprint(&observed) != saved.fingerprint {
        let before: Vec<LiveResource> = saved
            .resources
            .iter()
            .filter_map(|r| r.live.clone())
            .collect();
        let mut drift = plan::drift(&before, &observed);
        if drift.is_empty() {
            drift.push("the observed state differs".into());
        }
        return Err(stale(drift));
    }
    let fresh = Plan {
        format_version: PLAN_FORMAT_VERSION,
        eksform_version: env!("CARGO_PKG_VERSION").into(),
        stack: saved.stack.clone(),
        region: saved.region.clone(),
        account: account.clone(),
        fingerprint: plan::fingerprint(&observed),
        resources: plan::diff(&desired, &observed)?,
    };
    let differences = plan::differences(saved, &fresh);
    if !differences.is_empty() {
        return Err(OpsError::Refused(format!(
            "the plan file does not match what its own spec makes of the live state (was it edited?): {}; make a new plan",
            differences.join("; ")
        )));
    }
    Ok(fresh)
}

pub async fn apply(
    cloud: Arc<dyn Cloud>,
    plan: &Plan,
    options: ExecuteOptions,
    sink: Arc<dyn EventSink>,
    cancel: Cancellation,
) -> Outcome {
    let desired: Vec<DesiredResource> = plan
        .resources
        .iter()
        .filter_map(|r| r.desired.clone())
        .collect();
    let scope = scope_for(&plan.stack, &plan.region, &desired);
    execute::execute(plan, cloud, scope, options, sink, cancel).await
}

pub async fn outputs(
    cloud: Arc<dyn Cloud>,
    model: &StackModel,
    desired: &[DesiredResource],
    retry: RetryPolicy,
) -> Result<Outputs, OpsError> {
    guard_account(cloud.as_ref(), model.account.as_deref(), retry).await?;
    let scope = scope_for(&model.stack, &model.region, desired);
    let observed = observe::observe(cloud, &scope, retry).await?;
    Ok(Outputs::from_observed(&observed, model.network.as_ref()))
}
