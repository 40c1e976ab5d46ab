//! A stack's outputs, read from its live resources.

use std::sync::Arc;

use eksform_core::cloud::Cloud;
use eksform_core::kinds::tags;
use eksform_core::lower::StackModel;
use eksform_core::model::DesiredResource;
use eksform_core::observe;
use eksform_core::outputs::Outputs;
use eksform_core::retry::RetryPolicy;

use super::{AwsAccess, OpsError, Stack, guard_account, scope_for};

pub async fn outputs(
    cloud: Arc<dyn Cloud>,
    model: &StackModel,
    desired: &[DesiredResource],
    retry: RetryPolicy,
) -> Result<Outputs, OpsError> {
    guard_account(cloud.as_ref(), model.account.as_deref(), retry).await?;
    let scope = scope_for(&model.stack, &model.region, desired);
    let observed = observe::observe(cloud, &scope, retry).await?;
    // What the spec names but does not own (a brought VPC's subnets) is
    // observed too: only a resource with the stack's mark makes it live.
    if !observed
        .iter()
        .any(|live| tags::stack_of(&live.attributes) == model.stack)
    {
        return Err(OpsError::NothingLive {
            stack: model.stack.clone(),
            region: model.region.clone(),
        });
    }
    Ok(Outputs::from_observed(&observed, model.network.as_ref()))
}

/// `outputs` of a stack in its own region, through `access`.
pub async fn stack_outputs(access: &AwsAccess, stack: &Stack) -> Result<Outputs, OpsError> {
    let cloud = access.connect(&stack.model.region).await;
    outputs(cloud, &stack.model, &stack.desired, RetryPolicy::default()).await
}
