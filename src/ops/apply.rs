//! Apply and destroy, and the policy they keep: the account guard, the
//! stack's lock (taken before the plan, released after the last call, with a
//! history record of what was carried out), the plan or the recheck of a
//! saved plan, the approval rules, and how a run ended. What the user sees
//! and answers on the way goes through an `ApplyFrontEnd`.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eksform_aws::AwsCloud;
use eksform_aws::lock::{self, StackLock};
use eksform_core::cloud::{Cloud, CloudError};
use eksform_core::execute::{self, Cancellation, EventSink, ExecuteOptions, Outcome};
use eksform_core::model::DesiredResource;
use eksform_core::outputs::KnownOutputs;
use eksform_core::plan::{Plan, ResourceChange};
use eksform_core::retry::RetryPolicy;

use super::connect::FromHomeRegion;
use super::state_bucket::{Holder, caller_in_account};
use super::{
    AwsAccess, Goal, OpsError, Stack, plan_stack, prepare, read_saved_plan, recheck_saved_plan,
    scope_for,
};

/// Carries out a plan as it is: no lock, no approval, no recheck.
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

/// What the user approved up front.
#[derive(Debug, Clone, Copy)]
pub struct Approval {
    /// Carry out the plan without asking.
    pub auto_approve: bool,
    /// With `auto_approve`: also the guarded changes (deletes and
    /// replacements of the kinds that say `Kind::guarded`).
    pub allow_destroy: bool,
}

impl Approval {
    /// A destroy's: `destroy` is the explicit request to delete everything.
    pub fn destroy(auto_approve: bool) -> Self {
        Self {
            auto_approve,
            allow_destroy: true,
        }
    }
}

/// What an apply or destroy carries out.
pub enum ApplyTarget {
    /// A plan saved by `plan --out`, rechecked against the live state.
    Saved(Plan),
    /// A spec, planned now.
    Spec(Box<Stack>),
}

impl ApplyTarget {
    /// The target in `file`: a saved plan or a spec. A destroy always reads
    /// a spec.
    pub fn read(file: &Path, goal: Goal) -> Result<Self, OpsError> {
        match (goal, read_saved_plan(file)) {
            (Goal::Apply, Some(saved)) => Ok(Self::Saved(saved?)),
            _ => Ok(Self::Spec(Box::new(prepare(file)?))),
        }
    }

    /// The stack, its region and the account it must be in (when known).
    fn stack_region_account(&self) -> (String, String, Option<String>) {
        match self {
            Self::Saved(plan) => (
                plan.stack.clone(),
                plan.region.clone(),
                Some(plan.account.clone()),
            ),
            Self::Spec(stack) => (
                stack.model.stack.clone(),
                stack.model.region.clone(),
                stack.model.account.clone(),
            ),
        }
    }
}

/// An apply or destroy to run.
pub struct ApplyRequest {
    pub target: ApplyTarget,
    pub goal: Goal,
    pub approval: Approval,
    /// At most this many calls at once to each AWS service.
    pub parallelism: usize,
    /// How long to wait for another run's lock of the stack.
    pub lock_wait: Duration,
}

/// The user's answer when asked to approve a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    Approved,
    Declined,
    /// There is no one to ask (no terminal).
    CannotAsk,
}

/// Ctrl-C as a run hears it, from when it holds the lock: `cancel` stops
/// new work; `quit` ends when the user asks to abandon the calls in flight.
/// Dropping `quit` stops listening.
pub struct Interrupts {
    pub cancel: Cancellation,
    pub quit: Pin<Box<dyn Future<Output = ()> + Send>>,
}

/// What a run shows and asks on the way (the CLI's terminal).
#[async_trait::async_trait]
pub trait ApplyFrontEnd: Sync {
    /// Another run holds the stack's lock: said when first seen, when the
    /// holder changes and every half minute.
    fn waiting_for_lock(&self, report: &str);
    /// The account has no state bucket: the run is neither locked nor recorded.
    fn not_locked(&self, account: &str, region: &str, goal: Goal);
    /// Starts listening for Ctrl-C; called once the lock is held, so that
    /// no interrupt leaves the lock behind.
    fn listen_for_interrupts(&self) -> Interrupts;
    /// The plan about to be approved and carried out.
    fn show_plan(&self, plan: &Plan);
    /// The plan's guarded changes, before the approval.
    fn show_guarded(&self, changes: &[&ResourceChange]);
    /// Asks the user to approve the plan shown.
    async fn confirm(&self, goal: Goal) -> Confirmation;
    /// Where the run's progress goes.
    fn progress(&self) -> Arc<dyn EventSink>;
}

/// How an apply or destroy ended.
#[derive(Debug)]
pub enum ApplyOutcome {
    /// The plan has no changes; nothing was done.
    NoChanges,
    /// Every operation of the plan was done.
    Complete { operations: usize },
    /// Some operations failed, were skipped or never started (Ctrl-C); the
    /// next run resumes from the live state.
    Incomplete(Outcome),
    /// Ctrl-C came before anything was changed.
    InterruptedBeforeChanges,
    /// The user did not approve the plan.
    Declined,
    /// A second Ctrl-C: the calls in flight were abandoned.
    Abandoned,
}

/// How a carried-out plan ended, as the history records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordedResult {
    Succeeded,
    Failed,
    Interrupted,
}

impl RecordedResult {
    /// The word the history keeps (`HistoryEntry::result`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}

impl ApplyOutcome {
    /// What the history records of a run that carried out its plan; `None`
    /// when nothing was carried out (or it was abandoned mid-way: the next
    /// run's record says what happened).
    pub fn recorded_result(&self) -> Option<RecordedResult> {
        match self {
            Self::Complete { .. } => Some(RecordedResult::Succeeded),
            Self::Incomplete(outcome) if outcome.interrupted => Some(RecordedResult::Interrupted),
            Self::Incomplete(_) => Some(RecordedResult::Failed),
            Self::NoChanges | Self::InterruptedBeforeChanges | Self::Declined | Self::Abandoned => {
                None
            }
        }
    }
}

/// The lock could not be released or the history not written after a run;
/// reported, never fatal (the run is over).
#[derive(Debug, thiserror::Error)]
#[error("could not release the lock of stack {stack} or record the history: {source}")]
pub struct ReleaseFailure {
    pub stack: String,
    pub source: CloudError,
}

/// How a run ended, and whether letting go of its lock failed.
#[derive(Debug)]
pub struct ApplyReport {
    pub result: Result<ApplyOutcome, OpsError>,
    pub release_failure: Option<ReleaseFailure>,
}

impl From<OpsError> for ApplyReport {
    fn from(error: OpsError) -> Self {
        Self {
            result: Err(error),
            release_failure: None,
        }
    }
}

/// Runs an apply or destroy: the account guard, then the stack's lock,
/// held from before the plan to after the last call; then the plan (or the
/// recheck of a saved plan), the approval, the execution; then the history
/// record and the lock's release, whatever happened in between.
pub async fn run_apply(
    access: &AwsAccess,
    request: ApplyRequest,
    front_end: &dyn ApplyFrontEnd,
) -> ApplyReport {
    let (stack_name, region, expected_account) = request.target.stack_region_account();
    let clients = access.clients(&region).await;
    let cloud: Arc<dyn Cloud> = Arc::new(AwsCloud {
        clients: clients.clone(),
    });
    let (account, caller) = match caller_in_account(&clients, expected_account.as_deref()).await {
        Ok(identity) => identity,
        Err(error) => return error.into(),
    };
    let command = request.goal.command();
    // Whoever waits for a lock is told once who holds it, then every half
    // minute or when the holder changes: never silent, never a flood.
    let mut reports = lock::WaitReports::every(Duration::from_secs(30));
    let mut waiting = |holder: &Holder, left: Duration| {
        if let Some(line) = reports.report(&stack_name, holder, left, Instant::now()) {
            front_end.waiting_for_lock(&line);
        }
    };
    let stack_lock = match StackLock::take(
        &clients,
        &account,
        &caller,
        &stack_name,
        &region,
        command,
        request.lock_wait,
        &mut waiting,
    )
    .await
    {
        Ok(stack_lock) => stack_lock,
        Err(error) => return OpsError::from(error).into(),
    };
    if stack_lock.is_none() {
        front_end.not_locked(&account, &region, request.goal);
    }
    // From here on Ctrl-C never leaves the lock behind: the first stops new
    // work (before the apply starts, nothing is changed), the second abandons
    // the calls in flight; either way the lock is released below.
    let interrupts = front_end.listen_for_interrupts();
    let cancel = interrupts.cancel;
    let (result, carried_out) = tokio::select! {
        ended = plan_and_apply(access, cloud, request, front_end, cancel) => ended,
        _ = interrupts.quit => (Ok(ApplyOutcome::Abandoned), None),
    };
    let mut release_failure = None;
    if let Some(stack_lock) = stack_lock {
        let recorded = result.as_ref().ok().and_then(ApplyOutcome::recorded_result);
        let done = carried_out
            .as_ref()
            .zip(recorded)
            .map(|(plan, recorded)| (plan, recorded.as_str()));
        if let Err(source) = stack_lock.release(done).await {
            release_failure = Some(ReleaseFailure {
                stack: stack_name,
                source,
            });
        }
    }
    ApplyReport {
        result,
        release_failure,
    }
}

/// How a run ended, with the plan when it was carried out (for the history).
type Ended = (Result<ApplyOutcome, OpsError>, Option<Plan>);

/// Plans (or rechecks a saved plan), asks, applies.
async fn plan_and_apply(
    access: &AwsAccess,
    cloud: Arc<dyn Cloud>,
    request: ApplyRequest,
    front_end: &dyn ApplyFrontEnd,
    cancel: Cancellation,
) -> Ended {
    let retry = RetryPolicy::default();
    let destroy = request.goal == Goal::Destroy;
    let plan = match request.target {
        // The plan executed is made anew from the live state; the file only
        // says what it must be.
        ApplyTarget::Saved(saved) => match recheck_saved_plan(cloud.clone(), &saved, retry).await {
            Ok(fresh) => fresh,
            Err(error) => return (Err(error), None),
        },
        ApplyTarget::Spec(mut stack) => {
            let regions = FromHomeRegion::new(access, &stack.model.region, cloud.clone());
            match plan_stack(
                cloud.clone(),
                &regions,
                &KnownOutputs::new(),
                &mut stack,
                request.goal,
                retry,
            )
            .await
            {
                Ok((plan, _)) => plan,
                Err(error) => return (Err(error), None),
            }
        }
    };
    if cancel.is_cancelled() {
        return (Ok(ApplyOutcome::InterruptedBeforeChanges), None);
    }
    front_end.show_plan(&plan);
    if !plan.summary().has_changes() {
        return (Ok(ApplyOutcome::NoChanges), None);
    }
    // Deleting or replacing a guarded resource takes more than
    // --auto-approve; a destroy asks for exactly that.
    let guarded = plan.guarded();
    if !destroy && !guarded.is_empty() {
        front_end.show_guarded(&guarded);
        if request.approval.auto_approve && !request.approval.allow_destroy {
            return (Err(OpsError::GuardedChangesNeedAllowDestroy), None);
        }
    }
    if !request.approval.auto_approve {
        match front_end.confirm(request.goal).await {
            Confirmation::Approved => {}
            Confirmation::Declined => return (Ok(ApplyOutcome::Declined), None),
            Confirmation::CannotAsk => {
                return (Err(OpsError::NoOneToConfirm { goal: request.goal }), None);
            }
        }
    }
    if cancel.is_cancelled() {
        return (Ok(ApplyOutcome::InterruptedBeforeChanges), None);
    }
    let options = ExecuteOptions {
        parallelism: request.parallelism,
        ..ExecuteOptions::default()
    };
    let outcome = apply(cloud, &plan, options, front_end.progress(), cancel).await;
    let outcome = if outcome.succeeded() {
        ApplyOutcome::Complete {
            operations: outcome.completed.len(),
        }
    } else {
        ApplyOutcome::Incomplete(outcome)
    };
    (Ok(outcome), Some(plan))
}
