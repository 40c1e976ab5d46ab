//! An in-memory model of AWS for engine tests: creates and deletes that take
//! (virtual) time, idempotency tokens, dependency violations, throttling and
//! injected faults, and a crash after the k-th call. Run it under tokio's
//! paused clock and a twenty-minute apply takes milliseconds.
//!
//! It is generic over kinds: it reads each kind's metadata (id prefix,
//! timings, computed attributes, delete ordering), not its AWS calls.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{Cloud, CloudError, CreateRequest, ErrorClass, Scope};
use crate::kinds::Kind;
use crate::model::{ADDRESS_TAG, Address, Attributes, LiveResource, STACK_TAG, Status, Value};

/// A resource in the model account.
#[derive(Debug, Clone)]
pub struct StoredResource {
    pub kind: &'static str,
    pub id: String,
    pub attributes: Attributes,
    pub token: Option<String>,
    pub ready_at: Instant,
    pub deleting_until: Option<Instant>,
}

impl StoredResource {
    fn tag(&self, key: &str) -> Option<&str> {
        self.attributes.get("tags")?.as_map()?.get(key)?.as_str()
    }

    fn status(&self, now: Instant) -> Status {
        if self.deleting_until.is_some() {
            Status::Deleting
        } else if now < self.ready_at {
            Status::Pending
        } else {
            Status::Ready
        }
    }
}

/// Faults to inject.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Every call after the k-th fails as if the process died; the k-th call's
    /// effect happens but its answer is lost.
    pub crash_after: Option<u64>,
    /// Throttle this share of calls (0.0 to 1.0), decided by a seeded generator.
    pub throttle_ratio: f64,
    pub seed: u64,
    /// Creates of these addresses are refused.
    pub reject_create: Vec<Address>,
}

#[derive(Debug, Default)]
struct State {
    resources: Vec<StoredResource>,
    next_id: u64,
    calls: u64,
    in_flight: usize,
    max_in_flight: usize,
    random: u64,
}

pub struct MemoryCloud {
    account: String,
    /// Time one call takes.
    latency: Duration,
    faults: Mutex<Faults>,
    state: Mutex<State>,
}

impl MemoryCloud {
    pub fn new(account: &str) -> Self {
        Self {
            account: account.into(),
            latency: Duration::from_millis(50),
            faults: Mutex::new(Faults::default()),
            state: Mutex::new(State::default()),
        }
    }

    /// How long one call takes.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    pub fn set_faults(&self, faults: Faults) {
        let seed = faults.seed;
        *self.faults.lock().expect("faults lock") = faults;
        self.state.lock().expect("state lock").random =
            seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    }

    /// Every resource that exists (or is being deleted), whatever its marks.
    pub fn resources(&self) -> Vec<StoredResource> {
        self.state.lock().expect("state lock").resources.clone()
    }

    pub fn calls(&self) -> u64 {
        self.state.lock().expect("state lock").calls
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.lock().expect("state lock").max_in_flight
    }

    /// Adds a resource made outside eksform (a brought subnet, someone's VPC).
    pub fn insert(&self, kind: &'static str, id: &str, attributes: Attributes) {
        let mut state = self.state.lock().expect("state lock");
        state.resources.push(StoredResource {
            kind,
            id: id.into(),
            attributes,
            token: None,
            ready_at: Instant::now(),
            deleting_until: None,
        });
    }

    /// Counts the call, applies faults, and lets deletions that are due finish.
    /// Returns whether the answer of this call is lost to a crash.
    fn begin(&self) -> Result<bool, CloudError> {
        let faults = self.faults.lock().expect("faults lock").clone();
        let mut state = self.state.lock().expect("state lock");
        state.calls += 1;
        let now = Instant::now();
        state
            .resources
            .retain(|r| r.deleting_until.is_none_or(|until| now < until));
        if let Some(k) = faults.crash_after
            && state.calls > k
        {
            return Err(CloudError::new(
                ErrorClass::Crashed,
                None,
                "simulated crash",
            ));
        }
        if faults.throttle_ratio > 0.0 {
            state.random ^= state.random << 13;
            state.random ^= state.random >> 7;
            state.random ^= state.random << 17;
            if (state.random % 10_000) as f64 / 10_000.0 < faults.throttle_ratio {
                return Err(CloudError::new(
                    ErrorClass::Throttling,
                    Some("Throttling"),
                    "Rate exceeded",
                ));
            }
        }
        state.in_flight += 1;
        state.max_in_flight = state.max_in_flight.max(state.in_flight);
        Ok(faults.crash_after == Some(state.calls))
    }

    async fn call<T>(
        &self,
        effect: impl FnOnce(&mut State, Instant) -> Result<T, CloudError>,
    ) -> Result<T, CloudError> {
        let crash = self.begin()?;
        tokio::time::sleep(self.latency).await;
        let result = {
            let mut state = self.state.lock().expect("state lock");
            state.in_flight -= 1;
            effect(&mut state, Instant::now())
        };
        if crash {
            return Err(CloudError::new(
                ErrorClass::Crashed,
                None,
                "simulated crash (the call took effect)",
            ));
        }
        result
    }

    fn to_live(resource: &StoredResource, now: Instant) -> Option<LiveResource> {
        Some(LiveResource {
            address: Address(resource.tag(ADDRESS_TAG)?.to_string()),
            kind: resource.kind.into(),
            id: resource.id.clone(),
            attributes: resource.attributes.clone(),
            status: resource.status(now),
        })
    }
}

/// Ids that point at resources which do not exist: AWS answers NotFound.
fn check_references(
    state: &State,
    kind: &dyn Kind,
    attributes: &Attributes,
) -> Result<(), CloudError> {
    for (name, value) in attributes {
        if name == "tags" {
            continue;
        }
        let mut ids = Vec::new();
        collect_strings(value, &mut ids);
        for id in ids {
            let looks_like_id = crate::kinds::ALL.iter().any(|k| {
                id.strip_prefix(&format!("{}-", k.id_prefix()))
                    .is_some_and(|rest| {
                        rest.len() >= 8 && rest.chars().all(|c| c.is_ascii_hexdigit())
                    })
            });
            let exists = state
                .resources
                .iter()
                .any(|r| r.id == id && r.deleting_until.is_none());
            if looks_like_id
                && !exists
                && !(kind.is_brought()
                    && name == "id"
                    && state.resources.iter().any(|r| r.id == id))
            {
                return Err(CloudError::new(
                    ErrorClass::NotFound,
                    Some("InvalidID.NotFound"),
                    format!("{name}: {id} does not exist"),
                ));
            }
        }
    }
    Ok(())
}

/// For kinds AWS changes one at a time (Fargate profiles of a cluster): another
/// of the kind in the same cluster still being created or deleted makes AWS
/// refuse, as ResourceInUseException.
fn busy(
    state: &State,
    kind: &dyn Kind,
    attributes: &Attributes,
    now: Instant,
) -> Result<(), CloudError> {
    if !kind.one_at_a_time() {
        return Ok(());
    }
    let cluster = attributes.get("cluster_name");
    match state.resources.iter().find(|r| {
        r.kind == kind.name()
            && r.attributes.get("cluster_name") == cluster
            && r.status(now) != Status::Ready
    }) {
        Some(other) => Err(CloudError::new(
            ErrorClass::DependencyViolation,
            Some("ResourceInUseException"),
            format!("{} is still being changed", other.id),
        )),
        None => Ok(()),
    }
}

/// A resource of the same kind in the same VPC whose `cidr_block` overlaps:
/// AWS refuses two subnets that share addresses.
fn overlapping(state: &State, kind: &dyn Kind, attributes: &Attributes) -> Option<String> {
    let cidr = |a: &Attributes| {
        a.get("cidr_block")?
            .as_str()?
            .parse::<ipnet::Ipv4Net>()
            .ok()
    };
    let vpc = |a: &Attributes| a.get("vpc_id").cloned();
    let wanted = cidr(attributes)?;
    vpc(attributes)?;
    state
        .resources
        .iter()
        .filter(|r| r.kind == kind.name() && vpc(&r.attributes) == vpc(attributes))
        .find(|r| cidr(&r.attributes).is_some_and(|c| c.contains(&wanted) || wanted.contains(&c)))
        .map(|r| r.id.clone())
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::List(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Map(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

#[async_trait]
impl Cloud for MemoryCloud {
    async fn caller_account(&self) -> Result<String, CloudError> {
        let account = self.account.clone();
        self.call(|_, _| Ok(account)).await
    }

    async fn observe(
        &self,
        kind: &'static dyn Kind,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        self.call(|state, now| {
            Ok(state
                .resources
                .iter()
                .filter(|r| r.kind == kind.name())
                .filter_map(|r| {
                    if kind.is_brought() {
                        let (address, _) = scope.named.iter().find(|(_, id)| **id == r.id)?;
                        let mut live = Self::to_live(r, now).unwrap_or(LiveResource {
                            address: address.clone(),
                            kind: kind.name().into(),
                            id: r.id.clone(),
                            attributes: r.attributes.clone(),
                            status: Status::Ready,
                        });
                        live.address = address.clone();
                        return Some(live);
                    }
                    let stack = r.tag(STACK_TAG).map(str::to_string);
                    if !crate::kinds::tags::marks_stack(stack.as_ref(), &scope.stack) {
                        return None;
                    }
                    Self::to_live(r, now)
                })
                .collect())
        })
        .await
    }

    async fn name_taken(
        &self,
        kind: &'static dyn Kind,
        desired: &crate::model::DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        // Names are unique per kind here, as AWS's are for the kinds that
        // check. Not counted as a call: fault schedules count apply's calls.
        let Some(name) = desired.attributes.get("name") else {
            return Ok(None);
        };
        let state = self.state.lock().expect("state lock");
        Ok(state
            .resources
            .iter()
            .find(|r| {
                r.kind == kind.name()
                    && r.deleting_until.is_none()
                    && r.attributes.get("name") == Some(name)
                    && r.tag(STACK_TAG).is_none()
            })
            .map(|r| format!("{} named {name} already exists ({})", kind.name(), r.id)))
    }

    async fn create(
        &self,
        kind: &'static dyn Kind,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let rejected = self
            .faults
            .lock()
            .expect("faults lock")
            .reject_create
            .contains(&request.address);
        self.call(|state, now| {
            if rejected {
                return Err(CloudError::new(
                    ErrorClass::Rejected,
                    Some("InvalidParameterValue"),
                    format!("injected failure creating {}", request.address),
                ));
            }
            if kind.is_brought() {
                let resource = state
                    .resources
                    .iter_mut()
                    .find(|r| {
                        Some(r.id.as_str()) == request.attributes.get("id").and_then(Value::as_str)
                    })
                    .ok_or_else(|| {
                        CloudError::new(
                            ErrorClass::NotFound,
                            Some("InvalidSubnetID.NotFound"),
                            "no such subnet",
                        )
                    })?;
                merge_tags(&mut resource.attributes, &request.attributes);
                return Ok(LiveResource {
                    address: request.address.clone(),
                    kind: kind.name().into(),
                    id: resource.id.clone(),
                    attributes: resource.attributes.clone(),
                    status: Status::Ready,
                });
            }
            // An idempotency token repeats the original answer, as AWS does.
            if let Some(existing) = state.resources.iter().find(|r| {
                r.token.as_deref() == Some(request.token.as_str()) && r.kind == kind.name()
            }) {
                return Self::to_live(existing, now)
                    .ok_or_else(|| CloudError::rejected("token reused"));
            }
            check_references(state, kind, &request.attributes)?;
            busy(state, kind, &request.attributes, now)?;
            if let Some(clash) = overlapping(state, kind, &request.attributes) {
                return Err(CloudError::new(
                    ErrorClass::Rejected,
                    Some("InvalidSubnet.Conflict"),
                    format!("the CIDR conflicts with {clash}"),
                ));
            }
            state.next_id += 1;
            let id = format!("{}-{:017x}", kind.id_prefix(), state.next_id);
            let mut attributes = request.attributes.clone();
            for computed in kind.computed() {
                let value = match *computed {
                    "public_ip" => format!("203.0.113.{}", state.next_id % 250),
                    "oidc_issuer" => format!("https://oidc.eks.memory.example/id/{id}"),
                    "endpoint" => format!("https://{id}.eks.memory.example"),
                    other => format!("memory:{other}:{id}"),
                };
                attributes.insert((*computed).into(), Value::string(value));
            }
            let resource = StoredResource {
                kind: kind.name(),
                id,
                attributes,
                token: Some(request.token.clone()),
                ready_at: now + kind.timings().create,
                deleting_until: None,
            };
            let live = Self::to_live(&resource, now)
                .ok_or_else(|| CloudError::rejected("created resource has no address tag"))?;
            state.resources.push(resource);
            Ok(live)
        })
        .await
    }

    async fn update(
        &self,
        kind: &'static dyn Kind,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let took = self
            .call(|state, _| {
                check_references(state, kind, desired)?;
                let resource = state
                    .resources
                    .iter_mut()
                    .find(|r| r.id == live.id && r.deleting_until.is_none())
                    .ok_or_else(|| {
                        CloudError::new(
                            ErrorClass::NotFound,
                            Some("NotFound"),
                            format!("{} does not exist", live.id),
                        )
                    })?;
                let took = update_time(kind, &resource.attributes, desired);
                if kind.is_brought() {
                    merge_tags(&mut resource.attributes, desired);
                } else {
                    for (name, value) in desired {
                        resource.attributes.insert(name.clone(), value.clone());
                    }
                }
                Ok(took)
            })
            .await?;
        // The adapter awaits AWS's update before it returns; so does this.
        tokio::time::sleep(took).await;
        Ok(())
    }

    async fn delete(&self, kind: &'static dyn Kind, live: &LiveResource) -> Result<(), CloudError> {
        self.call(|state, now| {
            let Some(index) = state.resources.iter().position(|r| r.id == live.id) else {
                return Ok(()); // Already gone.
            };
            if state.resources[index].deleting_until.is_some() {
                return Ok(());
            }
            let stack = state.resources[index].tag(STACK_TAG).map(str::to_string);
            // Something else still holds this resource's id.
            let stored = &state.resources[index];
            let mut identifiers = vec![stored.id.clone()];
            identifiers.extend(
                stored
                    .attributes
                    .get("arn")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            );
            if let Some(holder) = state.resources.iter().find(|r| {
                r.id != live.id
                    && r.attributes
                        .iter()
                        .any(|(n, v)| n != "tags" && identifiers.iter().any(|id| v.mentions(id)))
            }) {
                return Err(CloudError::new(
                    ErrorClass::DependencyViolation,
                    Some("DependencyViolation"),
                    format!("{} is still used by {}", live.id, holder.id),
                ));
            }
            if let Some(blocker) = state.resources.iter().find(|r| {
                kind.delete_refused_while().contains(&r.kind)
                    && r.tag(STACK_TAG).map(str::to_string) == stack
            }) {
                return Err(CloudError::new(
                    ErrorClass::DependencyViolation,
                    Some("DependencyViolation"),
                    format!("{} cannot go while {} exists", live.id, blocker.id),
                ));
            }
            let attributes = state.resources[index].attributes.clone();
            busy(state, kind, &attributes, now)?;
            let delay = kind.timings().delete;
            if delay.is_zero() {
                state.resources.remove(index);
            } else {
                state.resources[index].deleting_until = Some(now + delay);
            }
            Ok(())
        })
        .await
    }

    async fn read(
        &self,
        _kind: &'static dyn Kind,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        self.call(|state, now| {
            Ok(state.resources.iter().find(|r| r.id == live.id).map(|r| {
                let mut found = Self::to_live(r, now).unwrap_or_else(|| live.clone());
                found.status = r.status(now);
                found
            }))
        })
        .await
    }
}

/// How long AWS takes to carry out an update: the kind's update time when
/// anything but tags changes, once per minor version of a version change.
fn update_time(kind: &dyn Kind, live: &Attributes, desired: &Attributes) -> Duration {
    let minor = |a: &Attributes| crate::kinds::minor_of(a.get("version")?.as_str()?);
    let steps = match (minor(live), minor(desired)) {
        (Some(from), Some(to)) if to > from => to - from,
        _ => u32::from(
            desired
                .iter()
                .any(|(name, value)| name != "tags" && live.get(name) != Some(value)),
        ),
    };
    kind.timings().update * steps
}

fn merge_tags(target: &mut Attributes, source: &Attributes) {
    let mut tags: BTreeMap<String, Value> = target
        .get("tags")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    if let Some(extra) = source.get("tags").and_then(Value::as_map) {
        tags.extend(extra.clone());
    }
    target.insert("tags".into(), Value::Map(tags));
}
