//! Observation: reads every kind's live resources at once, one list call per
//! kind where AWS has one, retried like any other call; reads that several
//! kinds need are made once (`cloud::shared::Reads`).

use std::sync::Arc;

use tokio::task::JoinSet;

use crate::cloud::shared::Reads;
use crate::cloud::{Cloud, CloudError, Scope};
use crate::kinds;
use crate::model::{ADDRESS_TAG, LiveResource, STACK_TAG, Value};
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
    let mut observed =
        kinds::ControllerLeftover::in_stack_vpc(observed, scope.brought_vpc.as_deref());
    let found = adopted(cloud, scope, &observed, retry).await?;
    // Found by name too (a record in the way, a log group): the entry's
    // finding stands for it, never a duplicate at its address.
    observed.retain(|live| {
        !found
            .iter()
            .any(|f| f.address == live.address && f.id == live.id)
    });
    observed.extend(found);
    Ok(observed)
}

/// What a live resource found for an adoption carries to say so: the plan
/// then adopts it, whatever its kind's rule for unmarked resources.
pub const FOUND_BY_ADOPT: &str = "adopt entry";

/// The live resources `adopt:` entries name that the stack's observation did
/// not find at their address, looked up by id, concurrently. An entry whose
/// address already holds the stack's resource is a no-op when the ids agree
/// (the resource was adopted before) and an error when they do not; a
/// resource another stack, or another address, already owns is never taken.
async fn adopted(
    cloud: Arc<dyn Cloud>,
    scope: &Scope,
    observed: &[LiveResource],
    retry: RetryPolicy,
) -> Result<Vec<LiveResource>, CloudError> {
    let mut tasks = JoinSet::new();
    // What the lookups' references stand for, read once for every entry.
    let known = known_values(observed, scope);
    for desired in &scope.adopt {
        let Some(id) = desired.adopt.clone() else {
            continue;
        };
        let Some(kind) = kinds::by_name(&desired.kind) else {
            continue;
        };
        let at_address = observed.iter().find(|live| live.address == desired.address);
        // Already the stack's at this address: the entry is a no-op. What was
        // found only by name (a zone, a log group) is looked up, so that its
        // owner is checked like any other's.
        if at_address.is_some_and(|live| owned_here(live, scope) && same_resource(live, &id)) {
            continue;
        }
        let holder = at_address.map(|live| live.id.clone());
        let cloud = cloud.clone();
        let desired = known_references(desired, &known);
        tasks.spawn(async move {
            let found = retry
                .run(
                    |_| cloud.find_to_adopt(kind, &desired, &id),
                    |error, attempt| tracing::info!(address = %desired.address, attempt, %error, "looking up again"),
                )
                .await;
            (kind, desired, id, holder, found)
        });
    }
    let mut found = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (kind, desired, id, holder, result) = joined
            .map_err(|e| CloudError::rejected(format!("internal error while observing: {e}")))?;
        let address = &desired.address;
        let Some(mut live) = result? else {
            // A destroy that deleted it already (and was interrupted) goes on.
            if scope.destroying {
                continue;
            }
            return Err(CloudError::new(
                crate::cloud::ErrorClass::Rejected,
                None,
                format!(
                    "adopt: no {} `{id}` exists for {address} in this account and region: check the id, or remove the entry to let eksform create it",
                    desired.kind
                ),
            ));
        };
        if let Some(holder) = holder
            && holder != live.id
        {
            return Err(CloudError::rejected(format!(
                "adopt: {address} already is {holder} in this stack, not `{id}`: remove the adopt entry, or destroy {holder} first"
            )));
        }
        let tags = kinds::tags::tags_of(&live.attributes);
        if let Some(owner) = tags.get(STACK_TAG) {
            let owner_address = tags.get(ADDRESS_TAG).map_or("", String::as_str);
            // IAM is global: a stack of the same name in another region is
            // another stack.
            let other_region = !scope.region.is_empty()
                && kind.is_global()
                && !kinds::tags::in_region(&live, &scope.region);
            if *owner != scope.stack || owner_address != address.as_str() || other_region {
                return Err(CloudError::rejected(format!(
                    "adopt: `{id}` for {address} is eksform's {owner_address} of stack {owner}{}: eksform never takes what another stack or address owns",
                    tags.get(crate::model::REGION_TAG)
                        .map(|region| format!(" in {region}"))
                        .unwrap_or_default()
                )));
            }
        }
        live.address = address.clone();
        live.attributes
            .insert("found_by".into(), Value::string(FOUND_BY_ADOPT));
        found.push(live);
    }
    found.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(found)
}

/// The values a lookup's references may need that are known before apply:
/// what the stack's observation found (its attributes), and the stack's
/// cluster's name (a node group's `cluster_name`), which the spec gives.
fn known_values(
    observed: &[LiveResource],
    scope: &Scope,
) -> std::collections::BTreeMap<crate::model::Address, LiveResource> {
    let mut known: std::collections::BTreeMap<crate::model::Address, LiveResource> = observed
        .iter()
        .map(|live| (live.address.clone(), live.clone()))
        .collect();
    if let Some(cluster) = &scope.cluster {
        let address = kinds::EksCluster::address();
        known
            .entry(address.clone())
            .or_insert_with(|| LiveResource {
                address,
                kind: "eks_cluster".into(),
                id: cluster.clone(),
                attributes: [("name".to_string(), Value::string(cluster.clone()))].into(),
                status: crate::model::Status::Ready,
            });
    }
    known
}

/// The desired resource with its references resolved from `known_values`.
fn known_references(
    desired: &crate::model::DesiredResource,
    known: &std::collections::BTreeMap<crate::model::Address, LiveResource>,
) -> crate::model::DesiredResource {
    let mut desired = desired.clone();
    for value in desired.attributes.values_mut() {
        *value = crate::plan::resolve(value, known);
    }
    desired
}

/// Whether the live resource carries this stack's mark at its own address.
fn owned_here(live: &LiveResource, scope: &Scope) -> bool {
    let tags = kinds::tags::tags_of(&live.attributes);
    tags.get(STACK_TAG) == Some(&scope.stack)
        && tags.get(ADDRESS_TAG).map(String::as_str) == Some(live.address.as_str())
}

/// Whether `id`, as an adopt entry gives it, names this live resource: its
/// id, its ARN, its name or public address, or a name its id or ARN ends
/// with.
fn same_resource(live: &LiveResource, id: &str) -> bool {
    let arn = live.attributes.get("arn").and_then(Value::as_str);
    let named =
        |attribute: &str| live.attributes.get(attribute).and_then(Value::as_str) == Some(id);
    live.id == id
        || arn == Some(id)
        // A target group by its name, an Elastic IP by its address.
        || named("name")
        || named("public_ip")
        || id.rsplit(['/', ':']).next() == Some(live.id.as_str())
        || live.id.rsplit(['/', ':']).next() == Some(id)
        || arn.is_some_and(|arn| arn.rsplit(['/', ':']).next() == Some(id))
}
