//! The plan's preflight (`eksform_core::preflight`): the account's answers to
//! what the plan creates or changes and the names already taken, read at once
//! after observation; errors refuse the plan at the spec's `file:line:column`
//! before anything is created, warnings go into the plan.

use std::sync::Arc;

use eksform_core::cloud::Cloud;
use eksform_core::plan::Plan;
use eksform_core::preflight::{self, Facts};
use eksform_core::retry::RetryPolicy;
use eksform_core::spec::LoadedSpec;

use super::OpsError;
use super::plan::taken_names;

/// `plan` checked against the account: refused with every preflight error,
/// or returned with the preflight warnings under the resources they concern.
pub(super) async fn preflight(
    cloud: Arc<dyn Cloud>,
    loaded: &LoadedSpec,
    mut plan: Plan,
    retry: RetryPolicy,
) -> Result<Plan, OpsError> {
    let questions = preflight::questions(&loaded.spec, &plan);
    let asking = async {
        if questions.is_empty() {
            return Ok(Facts::default());
        }
        retry
            .run(|_| cloud.preflight_facts(&questions), |_, _| {})
            .await
    };
    let (facts, taken) = tokio::try_join!(asking, taken_names(cloud.clone(), &plan, retry))?;
    let facts = Facts {
        taken_names: taken,
        ..facts
    };
    let findings = preflight::check(&loaded.spec, &loaded.file, &plan, &facts);
    let errors = findings.errors();
    if errors.has_errors() {
        return Err(OpsError::Live(errors));
    }
    findings.warn_in(&mut plan);
    Ok(plan)
}
