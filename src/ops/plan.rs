//! Planning: the account guard, the observation of the live account, the
//! plan of one stack or of an estate (many stacks in reference order), and
//! saving a plan for a later apply.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use eksform_core::cloud::shared::SharedObservation;
use eksform_core::cloud::{Cloud, CloudError, Regions, Scope};
use eksform_core::execute;
use eksform_core::kinds;
use eksform_core::lower::{self, StackModel};
use eksform_core::model::{Address, DesiredResource, LiveResource};
use eksform_core::observe;
use eksform_core::outputs::{KnownOutputs, KnownStack};
use eksform_core::plan::{self, PLAN_FORMAT_VERSION, Plan, PlanError};
use eksform_core::retry::RetryPolicy;

use super::stack::stack_domains;
use super::{
    Estate, OpsError, Stack, Strictness, resolve_references, resolve_text_references, scope_for,
};

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

impl Goal {
    /// The command that pursues it, as the lock, the history and the
    /// messages name it.
    pub fn command(self) -> &'static str {
        match self {
            Goal::Apply => "apply",
            Goal::Destroy => "destroy",
        }
    }
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
    let strictness = match goal {
        Goal::Apply => Strictness::Every,
        Goal::Destroy => Strictness::WhatResolves,
    };
    resolve_text_references(stack, regions, known, retry, strictness).await?;
    // The CIDR references change CIDRs only, never what observation looks up.
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
    let plan = super::preflight::preflight(cloud, &stack.loaded, plan, retry).await?;
    Ok((plan, observed))
}

/// A plan error for every resource the plan creates whose name something
/// else in the account already holds (an unmarked cluster of the spec's name):
/// found before anything is created, not half-way through apply. (A plan of a
/// spec file says so at the spec's lines: see `preflight`.)
async fn refuse_taken_names(
    cloud: Arc<dyn Cloud>,
    plan: &Plan,
    retry: RetryPolicy,
) -> Result<(), OpsError> {
    let taken = taken_names(cloud, plan, retry).await?;
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

/// For each resource the plan creates, what already holds its name without
/// the stack's mark (`Cloud::name_taken`), in words.
pub(super) async fn taken_names(
    cloud: Arc<dyn Cloud>,
    plan: &Plan,
    retry: RetryPolicy,
) -> Result<Vec<(Address, String)>, CloudError> {
    // A replacement's new resource takes its old one's name or, made first, a
    // generated new one: only creates can meet a stranger's name.
    let creates = plan
        .resources
        .iter()
        .filter(|r| r.action == plan::Action::Create);
    let checks = creates.filter_map(|change| {
        let kind = kinds::by_name(&change.kind)?;
        // With the values the plan resolved (an OIDC provider's issuer is
        // its cluster's, known once the cluster stands).
        let mut desired = change.desired.clone()?;
        for attribute in &change.changes {
            if let Some(after) = &attribute.after {
                desired
                    .attributes
                    .insert(attribute.name.clone(), after.clone());
            }
        }
        let cloud = cloud.clone();
        Some(async move {
            let desired = &desired;
            let taken = retry
                .run(|_| cloud.name_taken(kind, desired), |_, _| {})
                .await?;
            Ok::<_, CloudError>(taken.map(|t| (change.address.clone(), t)))
        })
    });
    Ok(futures_util::future::try_join_all(checks)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// Connections for an estate's plans: one per region, whose observation the
/// stacks share when there are several; references to stacks elsewhere
/// connect through `regions`.
struct EstateConnections<'a> {
    regions: &'a dyn Regions,
    share: bool,
    /// By region, the plan scopes of the stacks planned there: what a read
    /// shared by them must cover.
    members: std::collections::BTreeMap<String, Vec<Scope>>,
    open: tokio::sync::Mutex<std::collections::BTreeMap<String, Arc<dyn Cloud>>>,
}

impl<'a> EstateConnections<'a> {
    fn new(regions: &'a dyn Regions, stacks: &[Stack], order: &[usize]) -> Self {
        let mut members = std::collections::BTreeMap::<String, Vec<Scope>>::new();
        for stack in order.iter().map(|&i| &stacks[i]) {
            members
                .entry(stack.model.region.clone())
                .or_default()
                .push(plan_scope(&stack.model, &stack.desired, Goal::Apply));
        }
        Self {
            regions,
            share: order.len() > 1,
            members,
            open: Default::default(),
        }
    }
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
            let members = self.members.get(region).cloned().unwrap_or_default();
            Arc::new(SharedObservation::new(cloud, members))
        } else {
            cloud
        };
        open.insert(region.to_string(), cloud.clone());
        cloud
    }

    /// Another account's connections are never shared: its observation is not this one's.
    async fn cloud_as(&self, region: &str, role_arn: &str) -> Result<Arc<dyn Cloud>, CloudError> {
        self.regions.cloud_as(region, role_arn).await
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
    let connections = EstateConnections::new(regions, stacks, order);
    let mut known = KnownOutputs::new();
    let mut plans = Vec::new();
    for &i in order {
        let stack = &mut stacks[i];
        planned(stack);
        let region = stack.model.region.clone();
        let cloud = connections.cloud(&region).await;
        let (plan, observed) =
            plan_stack(cloud, &connections, &known, stack, Goal::Apply, retry).await?;
        // Stacks planned later that refer to this one read its outputs from
        // here: those its plan changes are known only after its apply.
        known.insert(
            (stack.model.stack.clone(), region),
            KnownStack::planned(&observed, stack.model.network.as_ref(), &plan),
        );
        plans.push((i, plan));
    }
    Ok(plans)
}

/// Plans the stacks of `files` (see `stack_files`) as `plan_estate` does,
/// each with its file. Every file is read and checked before anything is
/// sent to AWS, and the problems of all of them come back at once.
/// `planned` hears of each stack as its planning begins.
pub async fn plan_files(
    files: &[PathBuf],
    regions: &dyn Regions,
    retry: RetryPolicy,
    planned: impl FnMut(&Stack),
) -> Result<Vec<(PathBuf, Plan)>, OpsError> {
    let mut estate = Estate::read(files)?;
    Ok(
        plan_estate(&mut estate.stacks, &estate.order, regions, retry, planned)
            .await?
            .into_iter()
            .map(|(i, plan)| (estate.files[i].clone(), plan))
            .collect(),
    )
}

/// Writes a plan for `apply PLANFILE` (see `recheck_saved_plan`).
pub fn save_plan(path: &Path, plan: &Plan) -> Result<(), OpsError> {
    let text = serde_json::to_string_pretty(plan).unwrap_or_default();
    std::fs::write(path, text).map_err(|source| OpsError::PlanNotSaved {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes the plans of an estate into `dir` for `apply PLANFILE`, one file
/// per stack with changes, named `<position>-<stack>.plan` so that a sorted
/// listing applies each stack after the stacks it refers to (the order of
/// `plans`). A stack without changes gets no file: there is nothing to apply.
/// Refuses a directory that already holds plan files, so that a plan left
/// from an earlier run is never applied by mistake.
pub fn save_plans(dir: &Path, plans: &[(PathBuf, Plan)]) -> Result<Vec<PathBuf>, OpsError> {
    let not_saved = |source| OpsError::PlanNotSaved {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(not_saved)?;
    let earlier: Vec<String> = std::fs::read_dir(dir)
        .map_err(not_saved)?
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().to_string())
        .filter(|name| name.ends_with(".plan"))
        .collect();
    if !earlier.is_empty() {
        return Err(OpsError::PlanDirectoryInUse {
            path: dir.to_path_buf(),
            files: earlier,
        });
    }
    let width = plans.len().to_string().len().max(2);
    let mut saved = Vec::new();
    for (position, (_, plan)) in plans.iter().enumerate() {
        if !plan.summary().has_changes() {
            continue;
        }
        let path = dir.join(format!("{:0width$}-{}.plan", position + 1, plan.stack));
        save_plan(&path, plan)?;
        saved.push(path);
    }
    Ok(saved)
}

async fn observe_for(
    cloud: Arc<dyn Cloud>,
    model: &StackModel,
    desired: &[DesiredResource],
    goal: Goal,
    retry: RetryPolicy,
) -> Result<Vec<LiveResource>, OpsError> {
    let scope = plan_scope(model, desired, goal);
    Ok(observe::observe(cloud, &scope, retry).await?)
}

/// The scope of a plan's observation. A destroy still looks up what the spec
/// names (a log group, brought subnets). The plan's observation knows the
/// whole spec: kinds without a tag filter read only what may be the stack's
/// (`Scope::from_spec`).
fn plan_scope(model: &StackModel, desired: &[DesiredResource], goal: Goal) -> Scope {
    Scope {
        destroying: goal == Goal::Destroy,
        domains: stack_domains(desired),
        from_spec: true,
        ..scope_for(&model.stack, &model.region, desired)
    }
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
