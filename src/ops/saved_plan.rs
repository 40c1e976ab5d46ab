//! A plan saved by `plan --out`: telling it from a spec, reading it, and the
//! recheck against a fresh observation that decides what an apply of it
//! really does (no id written in the file is acted on).

use std::path::Path;
use std::sync::Arc;

use eksform_core::cloud::Cloud;
use eksform_core::model::{DesiredResource, LiveResource};
use eksform_core::observe;
use eksform_core::plan::{self, PLAN_FORMAT_VERSION, Plan};
use eksform_core::retry::RetryPolicy;

use super::{OpsError, guard_account, scope_for};

/// The saved plan in `file`; `None` when the file is not one (a saved plan
/// is JSON with a format version; a spec is YAML).
pub fn read_saved_plan(file: &Path) -> Option<Result<Plan, OpsError>> {
    let text = std::fs::read_to_string(file).ok()?;
    if !text.trim_start().starts_with('{') {
        return None;
    }
    Some(
        Plan::from_json(&text).map_err(|reason| OpsError::UnreadablePlanFile {
            path: file.to_path_buf(),
            reason,
        }),
    )
}

/// A plan made while another stack's outputs it uses were known only after
/// that stack's apply (an estate planned before its first apply, a NAT
/// address about to change) cannot be applied as saved: the values it needs
/// exist only now. Refused before anything is read or changed, naming the
/// stacks, so that an apply never stops half-way at the first resource
/// that needs one.
fn refuse_values_of_other_stacks(saved: &Plan) -> Result<(), OpsError> {
    let mut stacks: Vec<String> = saved
        .resources
        .iter()
        .filter_map(|r| r.desired.as_ref())
        .flat_map(|desired| desired.attributes.values())
        .flat_map(|value| {
            value
                .references()
                .into_iter()
                .filter_map(|reference| reference.address.other_stack_name())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    stacks.sort();
    stacks.dedup();
    if stacks.is_empty() {
        return Ok(());
    }
    let many = stacks.len() > 1;
    Err(OpsError::Refused(format!(
        "the plan of stack {} uses outputs of stack{} {} that were known only after {} apply; nothing was changed. Once {} applied, make a new plan of this stack (eksform plan FILE --out PLANFILE) and apply that",
        saved.stack,
        if many { "s" } else { "" },
        stacks.join(", "),
        if many { "their" } else { "its" },
        if many { "they are" } else { "it is" },
    )))
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
    refuse_values_of_other_stacks(saved)?;
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
