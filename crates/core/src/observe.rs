//! Observation: reads every kind's live resources at once, one list call per
//! kind where AWS has one, retried like any other call; reads that several
//! kinds need are made once (`cloud::shared::Reads`).

use std::sync::Arc;

use tokio::task::JoinSet;

use crate::cloud::shared::Reads;
use crate::cloud::{Cloud, CloudError, Scope};
use crate::kinds;
use crate::model::LiveResource;
use crate::retry::RetryPolicy;

/// Every live resource of the stack, all kinds concurrently.
pub async fn observe(
    cloud: Arc<dyn Cloud>,
    scope: &Scope,
    retry: RetryPolicy,
) -> Result<Vec<LiveResource>, CloudError> {
    // Reads several kinds make alike are made once in this pass (or once for
    // every stack a command plans, when its cloud shares them).
    let scope = &if scope.reads.is_shared() {
        scope.clone()
    } else {
        Scope {
            reads: Reads::shared(),
            ..scope.clone()
        }
    };
    let mut tasks = JoinSet::new();
    for (order, kind) in kinds::ALL.iter().copied().enumerate() {
        let cloud = cloud.clone();
        let scope = scope.clone();
        tasks.spawn(async move {
            let found = retry
                .run(
                    |_| cloud.observe(kind, &scope),
                    |error, attempt| tracing::info!(kind = kind.name(), attempt, %error, "observing again"),
                )
                .await;
            tracing::debug!(kind = kind.name(), found = found.as_ref().map_or(0, Vec::len), "observed");
            (order, found)
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (order, found) = joined
            .map_err(|e| CloudError::rejected(format!("internal error while observing: {e}")))?;
        results.push((order, found?));
    }
    // Kind order, then address: the same state reads the same way every time.
    results.sort_by_key(|(order, _)| *order);
    let observed: Vec<LiveResource> = results
        .into_iter()
        .flat_map(|(_, mut found)| {
            found.sort_by(|a, b| (&a.address, &a.id).cmp(&(&b.address, &b.id)));
            found
        })
        .collect();
    // IAM is global: another region's resources of the same stack are not ours here.
    let observed: Vec<LiveResource> = observed
        .into_iter()
        .filter(|r| {
            !kinds::by_name(&r.kind).is_some_and(|k| k.is_global())
                || scope.region.is_empty()
                || kinds::tags::in_region(r, &scope.region)
        })
        .collect();
    Ok(kinds::ControllerLeftover::in_stack_vpc(
        observed,
        scope.brought_vpc.as_deref(),
    ))
}
