//! Diff and plan: desired resources against live ones, per resource create /
//! update / replace / delete / no-op with attribute-level before -> after.
//! Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::kinds;
use crate::model::{Address, DesiredResource, LiveResource, Status, Value};

/// Bumped when the JSON shape of a plan changes incompatibly.
pub const PLAN_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    Replace,
    Delete,
    /// Take over an existing resource eksform did not make: add the mark (with
    /// `eksform:adopted`) and make the in-place changes the spec asks for.
    Adopt,
    /// Let go of an adopted resource: remove eksform's mark, never delete it.
    Release,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::Adopt => "<=",
            Action::Release => "=>",
        }
    }
}

/// The tag that says eksform adopted a resource rather than made it. Found
/// by name (a log group, a hosted zone: value `true`), such a resource is
/// released (its mark removed), never deleted. Taken over by an `adopt:`
/// entry (value `ADOPTED_BY_ENTRY`), it is eksform's like any other, deleted
/// by destroy under the usual guards; the tag keeps the names eksform did not
/// choose (`Kind::adopted_identity`).
pub const ADOPTED_TAG: &str = "eksform:adopted";

/// `ADOPTED_TAG`'s value on what an `adopt:` entry took over.
pub const ADOPTED_BY_ENTRY: &str = "entry";

/// A word the plan puts beside a value: why apply sets what it sets, or what
/// eksform leaves to others (the cluster autoscaler owns a node group's size).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The key of a map value the note is about (`desired_size` of a node
    /// group's `scaling`); none: the whole value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    pub text: String,
}

impl Note {
    /// A note on the whole value.
    pub fn on_value(text: impl Into<String>) -> Self {
        Self {
            element: None,
            text: text.into(),
        }
    }

    /// A note on one key of a map value.
    pub fn on_element(element: &str, text: impl Into<String>) -> Self {
        Self {
            element: Some(element.to_string()),
            text: text.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeChange {
    pub name: String,
    /// `None` when the resource does not exist yet.
    pub before: Option<Value>,
    /// `None` when the resource goes away; a `Ref` value is known only after apply.
    pub after: Option<Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forces_replacement: bool,
    /// Why `after` is not the spec's value as written (`Kind::planned`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: Address,
    pub kind: String,
    pub action: Action,
    /// Why, when the attributes alone do not say (a duplicate, a resource being deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What the change loses that users may rely on, though it is allowed (a
    /// log retention cut deletes older events).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// What apply does or leaves alone that no attribute change shows (the
    /// spec's desiredCapacity, which only a create uses; a resource still
    /// being created, which apply waits for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub changes: Vec<AttributeChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<DesiredResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveResource>,
}

impl ResourceChange {
    /// Whether this change deletes or replaces something users rely on.
    pub fn is_guarded(&self) -> bool {
        if self.action == Action::Adopt {
            return self.adoption_changes_settings();
        }
        matches!(self.action, Action::Delete | Action::Replace)
            && kinds::by_name(&self.kind).is_some_and(|k| k.guarded())
    }

    /// Whether taking the resource over by its `adopt:` entry changes more
    /// than its tags: a setting of something people already run on. Apply
    /// with `--auto-approve` then needs `--allow-destroy`, as for a delete.
    /// (A log group adopted by name gets its retention without this guard:
    /// that is what the spec's retention is for.)
    pub fn adoption_changes_settings(&self) -> bool {
        self.action == Action::Adopt
            && self.desired.as_ref().is_some_and(|d| d.adopt.is_some())
            && self.changes.iter().any(|c| c.name != "tags")
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    #[serde(default)]
    pub adopt: usize,
    #[serde(default)]
    pub release: usize,
}

impl Summary {
    pub fn has_changes(&self) -> bool {
        self.create + self.update + self.replace + self.delete + self.adopt + self.release > 0
    }
}

/// What `apply` would do, and what it was computed from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub eksform_version: String,
    pub stack: String,
    pub region: String,
    pub account: String,
    /// Hash of everything observed: `apply PLANFILE` refuses when it changed.
    pub fingerprint: String,
    pub resources: Vec<ResourceChange>,
}

impl Plan {
    /// Reads a plan file saved by `plan --out`. Never panics, whatever the bytes.
    pub fn from_json(text: &str) -> Result<Plan, String> {
        serde_json::from_str::<Plan>(text).map_err(|e| e.to_string())
    }

    /// Deletes and replacements of guarded kinds (`Kind::guarded`).
    pub fn guarded(&self) -> Vec<&ResourceChange> {
        self.resources.iter().filter(|r| r.is_guarded()).collect()
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for r in &self.resources {
            match r.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
                Action::Adopt => s.adopt += 1,
                Action::Release => s.release += 1,
                Action::NoOp => {}
            }
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("dependency cycle between {0}")]
    Cycle(String),
    #[error("`{0}` depends on `{1}`, which the stack does not declare")]
    MissingDependency(Address, Address),
    #[error("unknown resource kind `{0}`")]
    UnknownKind(String),
    #[error("{0}: {1}")]
    Refused(Address, String),
}

/// A stable hash of observed state.
pub fn fingerprint(observed: &[LiveResource]) -> String {
    let mut sorted: Vec<&LiveResource> = observed.iter().collect();
    sorted.sort_by(|a, b| (&a.address, &a.id).cmp(&(&b.address, &b.id)));
    let bytes = serde_json::to_vec(&sorted).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Desired resources in an order where every resource comes after what it refers to.
pub fn topological_order(desired: &[DesiredResource]) -> Result<Vec<&DesiredResource>, PlanError> {
    let by_address: BTreeMap<&Address, &DesiredResource> =
        desired.iter().map(|d| (&d.address, d)).collect();
    let mut order = Vec::with_capacity(desired.len());
    let mut state: BTreeMap<&Address, u8> = BTreeMap::new(); // 1 = visiting, 2 = done

    fn visit<'a>(
        resource: &'a DesiredResource,
        by_address: &BTreeMap<&Address, &'a DesiredResource>,
        state: &mut BTreeMap<&'a Address, u8>,
        order: &mut Vec<&'a DesiredResource>,
        path: &mut Vec<String>,
    ) -> Result<(), PlanError> {
        match state.get(&resource.address) {
            Some(2) => return Ok(()),
            Some(_) => {
                path.push(resource.address.to_string());
                return Err(PlanError::Cycle(path.join(" -> ")));
            }
            None => {}
        }
        state.insert(&resource.address, 1);
        path.push(resource.address.to_string());
        for dependency in resource.dependencies() {
            let target = by_address.get(&dependency).ok_or_else(|| {
                PlanError::MissingDependency(resource.address.clone(), dependency.clone())
            })?;
            visit(target, by_address, state, order, path)?;
        }
        path.pop();
        state.insert(&resource.address, 2);
        order.push(resource);
        Ok(())
    }

    for resource in desired {
        visit(
            resource,
            &by_address,
            &mut state,
            &mut order,
            &mut Vec::new(),
        )?;
    }
    Ok(order)
}

/// Lists compare as sets: AWS returns them in its own order.
fn normalized(value: &Value) -> Value {
    match value {
        Value::List(items) => {
            let mut items: Vec<Value> = items.iter().map(normalized).collect();
            items.sort();
            Value::List(items)
        }
        Value::Map(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), normalized(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Resolves references against live resources that stay; a reference to
/// something created or replaced stays a `Ref` (known after apply).
pub fn resolve(value: &Value, known: &BTreeMap<Address, LiveResource>) -> Value {
    match value {
        Value::Ref(reference) => known
            .get(&reference.address)
            .and_then(|live| live.value_of(&reference.attribute))
            .unwrap_or_else(|| value.clone()),
        Value::List(items) => Value::List(items.iter().map(|i| resolve(i, known)).collect()),
        Value::Map(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, known)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn contains_unknown(value: &Value) -> bool {
    !value.references().is_empty()
}

/// How well a live resource matches a desired one: the keeper among duplicates.
fn match_score(
    desired: Option<&DesiredResource>,
    live: &LiveResource,
) -> (bool, usize, std::cmp::Reverse<String>) {
    let matching = desired.map_or(0, |d| {
        d.attributes
            .iter()
            .filter(|(name, value)| live.attributes.get(*name) == Some(value))
            .count()
    });
    (
        live.status != Status::Deleting,
        matching,
        std::cmp::Reverse(live.id.clone()),
    )
}

/// Compares desired resources with live ones.
pub fn diff(
    desired: &[DesiredResource],
    observed: &[LiveResource],
) -> Result<Vec<ResourceChange>, PlanError> {
    let ordered = topological_order(desired)?;
    let desired_by_address: BTreeMap<&Address, &DesiredResource> =
        desired.iter().map(|d| (&d.address, d)).collect();

    // One live resource per address is kept; any other of the stack's own is a
    // duplicate to delete (left by a create whose response was lost). One the
    // stack does not own (found by its name: a zone of the spec's name another
    // team made too) is never deleted, nor kept over the stack's own.
    let mut by_address: BTreeMap<&Address, Vec<&LiveResource>> = BTreeMap::new();
    for live in observed {
        by_address.entry(&live.address).or_default().push(live);
    }
    let mut kept: BTreeMap<Address, LiveResource> = BTreeMap::new();
    let mut changes = Vec::new();
    for (address, mut candidates) in by_address {
        let wanted = desired_by_address.get(address).copied();
        candidates.sort_by_key(|c| {
            (
                std::cmp::Reverse(is_own(c)),
                std::cmp::Reverse(match_score(wanted, c)),
            )
        });
        let mut rest = candidates.into_iter();
        let Some(first) = rest.next() else {
            continue;
        };
        kept.insert(address.clone(), first.clone());
        for other in rest {
            if is_own(other) {
                changes.push(delete_change(
                    other,
                    Some("duplicate of the same address".into()),
                ));
            } else if !is_own(first) {
                // Which of two the spec means is not for eksform to guess.
                return Err(PlanError::Refused(
                    address.clone(),
                    format!(
                        "`{}` and `{}` both answer to it, and neither is this stack's: name the one to use with an `adopt:` entry",
                        first.id, other.id
                    ),
                ));
            }
        }
    }

    // Resources that stay as they are (possibly updated): their values are known.
    let mut known: BTreeMap<Address, LiveResource> = BTreeMap::new();
    let mut ordered_changes = Vec::new();
    for resource in ordered {
        let kind = kinds::by_name(&resource.kind)
            .ok_or_else(|| PlanError::UnknownKind(resource.kind.clone()))?;
        let Some(live) = kept.remove(&resource.address) else {
            ordered_changes.push(ResourceChange {
                address: resource.address.clone(),
                kind: resource.kind.clone(),
                action: Action::Create,
                reason: None,
                warnings: kind.warn_create(resource, &|address| known.contains_key(address)),
                notes: Vec::new(),
                changes: resource
                    .attributes
                    .iter()
                    .map(|(name, value)| AttributeChange {
                        name: name.clone(),
                        before: None,
                        after: Some(resolve(value, &known)),
                        forces_replacement: false,
                        notes: Vec::new(),
                    })
                    .collect(),
                desired: Some(resource.clone()),
                live: None,
            });
            continue;
        };
        // An adopted resource keeps the tag that says so; one being adopted
        // gets it. An `adopt:` entry takes over even what its kind never
        // adopts by name (a DNS record).
        // Found by name without a mark (a log group, a hosted zone, a record
        // in the way) where an entry names it: taken over by that entry.
        let by_entry = live.attributes.get("found_by").and_then(Value::as_str)
            == Some(crate::observe::FOUND_BY_ADOPT)
            || (resource.adopt.is_some() && !is_marked(&live) && !kind.is_brought());
        let adopting =
            !is_marked(&live) && !kind.is_brought() && (by_entry || kind.adopts_unmarked());
        let resource = &if by_entry || adopted_by_entry(&live) || resource.adopt.is_some() {
            taken_over(kind, resource, &live)
        } else if adopting || is_adopted(&live) {
            with_adopted_tag(resource, &live)
        } else {
            resource.clone()
        };
        // A failed resource, or one being deleted, is made again from the spec
        // as written; so is a replacement. Otherwise apply updates it in place,
        // and the kind says what it then sets (`Kind::planned`).
        let failing = matches!(live.status, Status::Deleting | Status::Failed);
        let mut compared = compare_attributes(kind, resource, &live, &known, !failing)?;
        if !failing && compared.changes.iter().any(|c| c.forces_replacement) {
            compared = compare_attributes(kind, resource, &live, &known, false)?;
        }
        let Compared {
            changes: attribute_changes,
            mut warnings,
            mut notes,
            planned,
        } = compared;
        let mut reason = None;
        if !is_marked(&live) && !kind.is_brought() && !adopting {
            return Err(PlanError::Refused(
                resource.address.clone(),
                "an existing record of that name and type carries no eksform mark (it may belong to ExternalDNS or a person); eksform never changes it: remove it, or give the spec another name".into(),
            ));
        }
        if adopting && by_entry {
            reason = Some(
                "taken over by its adopt entry: eksform's from now on, never recreated".into(),
            );
        } else if adopting {
            reason = Some(if attribute_changes.is_empty() {
                "an existing resource eksform did not make: used as it is, never changed or deleted"
                    .into()
            } else {
                "adopts an existing resource that carries no eksform mark: destroy releases it, never deletes it".into()
            });
        }
        let health = live.health().map(str::to_string);
        let action = if live.status == Status::Deleting {
            reason = Some("the live resource is being deleted".into());
            Action::Replace
        } else if live.status == Status::Failed {
            // Waiting on it would never end: AWS has given up on it.
            reason = Some(format!(
                "AWS reports it failed{}: it is deleted and made again",
                health
                    .as_deref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default()
            ));
            Action::Replace
        } else if attribute_changes.iter().any(|c| c.forces_replacement) {
            if adopting || is_adopted(&live) || adopted_by_entry(&live) {
                let forced: Vec<String> = attribute_changes
                    .iter()
                    .filter(|c| c.forces_replacement)
                    .map(|c| match &c.before {
                        Some(before) => format!("{} (set it to {before} to keep it)", c.name),
                        None => c.name.clone(),
                    })
                    .collect();
                return Err(PlanError::Refused(
                    resource.address.clone(),
                    format!(
                        "an adopted resource is never replaced, and {} cannot change in place",
                        forced.join(", ")
                    ),
                ));
            }
            Action::Replace
        } else if adopting && (by_entry || !attribute_changes.is_empty()) {
            Action::Adopt
        } else if !attribute_changes.is_empty() {
            Action::Update
        } else {
            Action::NoOp
        };
        if action == Action::Adopt && by_entry && attribute_changes.iter().any(|c| c.name != "tags")
        {
            warnings.push(
                "taking it over changes its settings, not only its tags: `apply --auto-approve` needs `--allow-destroy`".into(),
            );
        }
        if let (Some(health), Status::Ready) = (&health, live.status) {
            warnings.push(format!("AWS reports it {health}"));
        }
        if action == Action::NoOp && live.status == Status::Pending {
            notes.push("AWS is still making it ready: apply waits for it".into());
        }
        // Apply sends what the plan shows: the planned values replace the
        // spec's in what an update is given (never in what a create is given).
        let mut resource = resource.clone();
        if action != Action::Replace {
            resource.attributes.extend(planned);
        }
        if matches!(action, Action::NoOp | Action::Update | Action::Adopt) {
            // What refers to it sees the values the update gives it: a value
            // known only after apply stays unknown for the referrer too (a
            // listener follows its certificate's validation to the new one).
            let mut updated = live.clone();
            for change in &attribute_changes {
                match &change.after {
                    Some(after) if !contains_unknown(after) => {
                        updated
                            .attributes
                            .insert(change.name.clone(), after.clone());
                    }
                    _ => {
                        updated.attributes.remove(&change.name);
                    }
                }
            }
            known.insert(resource.address.clone(), updated);
        }
        ordered_changes.push(ResourceChange {
            address: resource.address.clone(),
            kind: resource.kind.clone(),
            action,
            reason,
            warnings,
            notes,
            changes: attribute_changes,
            desired: Some(resource),
            live: Some(live),
        });
    }

    // Live resources the spec no longer declares. Brought resources are never deleted.
    for live in kept.into_values() {
        if kinds::by_name(&live.kind).is_some_and(|k| k.is_brought()) || !is_marked(&live) {
            continue;
        }
        if is_adopted(&live) {
            changes.push(release_change(&live));
            continue;
        }
        // What eksform did not make but deletes (a controller's leftover) says why.
        let found_by = live
            .attributes
            .get("found_by")
            .and_then(Value::as_str)
            .map(str::to_string);
        changes.push(delete_change(&live, found_by));
    }

    // Creates and updates in dependency order, then deletes.
    ordered_changes.extend(changes);
    Ok(ordered_changes)
}

/// How a resource that stays compares with the spec.
struct Compared {
    changes: Vec<AttributeChange>,
    warnings: Vec<String>,
    /// Notes of attributes that do not change (the resource's notes).
    notes: Vec<String>,
    /// The values `Kind::planned` gave, which apply sends instead of the spec's.
    planned: Vec<(String, Value)>,
}

/// The attribute changes of a resource that stays, by its kind's schema;
/// with `in_place`, as an update makes them (`Kind::planned`).
fn compare_attributes(
    kind: &dyn kinds::Kind,
    resource: &DesiredResource,
    live: &LiveResource,
    known: &BTreeMap<Address, LiveResource>,
    in_place: bool,
) -> Result<Compared, PlanError> {
    let mut compared = Compared {
        changes: Vec::new(),
        warnings: Vec::new(),
        notes: Vec::new(),
        planned: Vec::new(),
    };
    for (name, value) in &resource.attributes {
        let wanted = resolve(value, known);
        let before = live.attributes.get(name).cloned();
        let planned = match &before {
            Some(_) if in_place => {
                kind.planned(name, &live.attributes, &wanted, &resource.attributes)
            }
            _ => None,
        };
        let (after, same, note) = match planned {
            Some(planned) => {
                compared.planned.push((name.clone(), planned.value.clone()));
                (planned.value, !planned.changes, planned.note)
            }
            None => {
                let same = !contains_unknown(&wanted)
                    && before.as_ref().is_some_and(|b| {
                        kind.satisfied(name, &normalized(b), &normalized(&wanted))
                    });
                (wanted, same, None)
            }
        };
        if same {
            compared.notes.extend(note.map(|n| n.text));
            continue;
        }
        if let (Some(before), false) = (&before, contains_unknown(&after)) {
            kind.check_change(name, before, &after)
                .map_err(|reason| PlanError::Refused(resource.address.clone(), reason))?;
        }
        if let Some(before) = &before {
            compared
                .warnings
                .extend(kind.warn_change(name, before, &after));
        }
        compared.changes.push(AttributeChange {
            name: name.clone(),
            forces_replacement: kind.change_of(name) == kinds::Change::Replace,
            before,
            after: Some(after),
            notes: note.into_iter().collect(),
        });
    }
    Ok(compared)
}

/// Whether a live resource carries eksform's mark: only such are ever deleted.
/// Whether the resource is the stack's own to delete: marked, not adopted by
/// name, not of a brought kind.
fn is_own(live: &LiveResource) -> bool {
    is_marked(live)
        && !is_adopted(live)
        && !kinds::by_name(&live.kind).is_some_and(|k| k.is_brought())
}

fn is_marked(live: &LiveResource) -> bool {
    live.attributes
        .get("tags")
        .and_then(Value::as_map)
        .is_some_and(|tags| tags.contains_key(crate::model::STACK_TAG))
}

/// Whether eksform adopted the resource by name (then it is released, never
/// deleted).
fn is_adopted(live: &LiveResource) -> bool {
    adopted_tag(live).is_some_and(|value| value != ADOPTED_BY_ENTRY)
}

/// Whether an `adopt:` entry took the resource over (it is then eksform's).
fn adopted_by_entry(live: &LiveResource) -> bool {
    adopted_tag(live) == Some(ADOPTED_BY_ENTRY)
}

fn adopted_tag(live: &LiveResource) -> Option<&str> {
    live.attributes
        .get("tags")
        .and_then(Value::as_map)?
        .get(ADOPTED_TAG)?
        .as_str()
}

/// The desired resource as an `adopt:` entry takes the live one over: the
/// names eksform would have chosen give way to the live ones
/// (`Kind::adopted_identity`: a role's name and path), the live tags stay
/// (its `Name` too: the console keeps showing what people know it by), and
/// the tag that says it was taken over is added.
fn taken_over(
    kind: &dyn kinds::Kind,
    resource: &DesiredResource,
    live: &LiveResource,
) -> DesiredResource {
    let mut resource = resource.clone();
    for attribute in kind.adopted_identity() {
        if let Some(value) = live.attributes.get(*attribute) {
            resource
                .attributes
                .insert((*attribute).into(), value.clone());
        }
    }
    adopted_tags(&mut resource, live, ADOPTED_BY_ENTRY, true);
    resource
}

/// The desired resource with the tag that marks it adopted, keeping the tags
/// its owners gave it: eksform adds and changes tags on an adopted resource,
/// never removes one it did not set.
fn with_adopted_tag(resource: &DesiredResource, live: &LiveResource) -> DesiredResource {
    let mut resource = resource.clone();
    adopted_tags(&mut resource, live, "true", false);
    resource
}

/// The desired tags of an adopted resource: its live tags kept (eksform's
/// own aside), the spec's added, and `ADOPTED_TAG` set to `adopted`. With
/// `their_name`, the live `Name` tag stays too.
fn adopted_tags(
    resource: &mut DesiredResource,
    live: &LiveResource,
    adopted: &str,
    their_name: bool,
) {
    let theirs = live.attributes.get("tags").and_then(Value::as_map);
    if let Some(Value::Map(tags)) = resource.attributes.get_mut("tags") {
        for (key, value) in theirs.into_iter().flatten() {
            if their_name && key == "Name" {
                tags.insert(key.clone(), value.clone());
            } else if !key.starts_with("eksform:") {
                tags.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
        tags.insert(ADOPTED_TAG.into(), Value::string(adopted));
    }
}

/// Letting go of an adopted resource: every `eksform:` tag removed, the rest
/// (its own tags, its settings) left as they are.
fn release_change(live: &LiveResource) -> ResourceChange {
    let mut released = live.attributes.clone();
    let before = live.attributes.get("tags").cloned();
    let after = before.as_ref().and_then(Value::as_map).map(|tags| {
        Value::Map(
            tags.iter()
                .filter(|(k, _)| !k.starts_with("eksform:"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    });
    if let Some(after) = &after {
        released.insert("tags".into(), after.clone());
    }
    ResourceChange {
        address: live.address.clone(),
        kind: live.kind.clone(),
        action: Action::Release,
        reason: Some(
            "adopted, not made by eksform: its mark is removed and it is left in place".into(),
        ),
        warnings: Vec::new(),
        notes: Vec::new(),
        changes: vec![AttributeChange {
            name: "tags".into(),
            before,
            after,
            forces_replacement: false,
            notes: Vec::new(),
        }],
        desired: Some(DesiredResource {
            kind: live.kind.clone(),
            address: live.address.clone(),
            attributes: released,
            depends_on: Vec::new(),
            adopt: None,
        }),
        live: Some(live.clone()),
    }
}

fn delete_change(live: &LiveResource, reason: Option<String>) -> ResourceChange {
    ResourceChange {
        address: live.address.clone(),
        kind: live.kind.clone(),
        action: Action::Delete,
        reason,
        warnings: Vec::new(),
        notes: kinds::by_name(&live.kind).map_or_else(Vec::new, |k| k.delete_notes(live)),
        changes: Vec::new(),
        desired: None,
        live: Some(live.clone()),
    }
}

/// A Kubernetes upgrade in a plan, in the order apply makes it: the control
/// plane one minor version per step (`eks_cluster::upgrade_steps`), then the
/// node groups (each after the control plane), then the add-ons (those that
/// run pods on nodes after the node groups; the node-level daemons only after
/// the control plane, so alongside the node groups).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    pub cluster: Address,
    pub from: String,
    pub to: String,
    /// The versions the control plane passes through, `to` last.
    pub control_plane: Vec<String>,
    pub node_groups: Vec<Address>,
    pub addons_with_node_groups: Vec<Address>,
    pub addons_after_node_groups: Vec<Address>,
}

/// The upgrade a plan makes, if its cluster's version changes in place.
pub fn upgrade(resources: &[ResourceChange]) -> Option<Upgrade> {
    let in_place = |r: &ResourceChange| matches!(r.action, Action::Update | Action::Adopt);
    let changes = |r: &ResourceChange, attribute: &str| {
        in_place(r) && r.changes.iter().any(|c| c.name == attribute)
    };
    let cluster = resources
        .iter()
        .find(|r| r.kind == "eks_cluster" && changes(r, "version"))?;
    let version = cluster.changes.iter().find(|c| c.name == "version")?;
    let from = version.before.as_ref()?.as_str()?.to_string();
    let to = version.after.as_ref()?.as_str()?.to_string();
    let control_plane = kinds::eks_cluster::upgrade_steps(&from, &to);
    if control_plane.is_empty() {
        return None;
    }
    let node_groups: Vec<Address> = resources
        .iter()
        .filter(|r| r.kind == "node_group" && changes(r, "version"))
        .map(|r| r.address.clone())
        .collect();
    let (after, with): (Vec<&ResourceChange>, Vec<&ResourceChange>) = resources
        .iter()
        .filter(|r| r.kind == "addon" && changes(r, "addon_version"))
        .partition(|r| {
            r.desired.as_ref().is_some_and(|d| {
                d.depends_on.iter().any(|a| {
                    a.as_str().starts_with("node_group.")
                        || a.as_str().starts_with("fargate_profile.")
                })
            })
        });
    Some(Upgrade {
        cluster: cluster.address.clone(),
        from,
        to,
        control_plane,
        node_groups,
        addons_with_node_groups: with.into_iter().map(|r| r.address.clone()).collect(),
        addons_after_node_groups: after.into_iter().map(|r| r.address.clone()).collect(),
    })
}

/// How two plans of the same stack differ in what they would do: per
/// address, the action, the live id it acts on, the desired resource and the
/// attribute changes. Empty when they make the same changes.
pub fn differences(a: &Plan, b: &Plan) -> Vec<String> {
    let key = |r: &ResourceChange| {
        (
            r.address.clone(),
            r.action,
            r.live.as_ref().map(|l| l.id.clone()),
        )
    };
    let index = |plan: &Plan| -> BTreeMap<_, serde_json::Value> {
        plan.resources
            .iter()
            .map(|r| {
                (
                    key(r),
                    serde_json::json!({ "desired": r.desired, "changes": r.changes, "kind": r.kind }),
                )
            })
            .collect()
    };
    let (a, b) = (index(a), index(b));
    let keys: BTreeSet<_> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|(address, action, id)| {
            let key = (address.clone(), *action, id.clone());
            let what = match (a.contains_key(&key), b.contains_key(&key)) {
                (true, false) => "is in the file but not what the live state calls for",
                (false, true) => "is what the live state calls for but not in the file",
                _ => "differs from the file",
            };
            let id = id.as_deref().map(|i| format!(" ({i})")).unwrap_or_default();
            format!("{action:?} {address}{id} {what}")
        })
        .collect()
}

/// Addresses whose live state differs between two observations: what made a saved plan stale.
pub fn drift(before: &[LiveResource], after: &[LiveResource]) -> Vec<String> {
    let index = |resources: &[LiveResource]| -> BTreeMap<(Address, String), LiveResource> {
        resources
            .iter()
            .map(|r| ((r.address.clone(), r.id.clone()), r.clone()))
            .collect()
    };
    let (a, b) = (index(before), index(after));
    let keys: BTreeSet<&(Address, String)> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|(address, id)| {
            match (
                a.contains_key(&(address.clone(), id.clone())),
                b.contains_key(&(address.clone(), id.clone())),
            ) {
                (true, false) => format!("{address} ({id}) is gone"),
                (false, true) => format!("{address} ({id}) appeared"),
                _ => format!("{address} ({id}) changed"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Attributes;
    use proptest::prelude::*;

    fn saved_plan() -> String {
        let plan = Plan {
            format_version: PLAN_FORMAT_VERSION,
            eksform_version: "0.1.0".into(),
            stack: "dev".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            fingerprint: "abc".into(),
            resources: vec![delete_change(
                &LiveResource {
                    address: Address("vpc.main".into()),
                    kind: "vpc".into(),
                    id: "vpc-1".into(),
                    attributes: Attributes::new(),
                    status: Status::Ready,
                },
                None,
            )],
        };
        serde_json::to_string(&plan).unwrap()
    }

    fn tags_value(pairs: &[(&str, &str)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::string(*v)))
                .collect(),
        )
    }

    fn log_group(live_tags: &[(&str, &str)], retention: i64) -> (DesiredResource, LiveResource) {
        let address = Address("log_group.cluster".into());
        let desired = DesiredResource::new("log_group", address.clone())
            .with("name", Value::string("/aws/eks/dev/cluster"))
            .with("retention_in_days", Value::Int(30))
            .with(
                "tags",
                tags_value(&[
                    ("eksform:stack", "dev"),
                    ("eksform:address", "log_group.cluster"),
                ]),
            );
        let live = LiveResource {
            address,
            kind: "log_group".into(),
            id: "/aws/eks/dev/cluster".into(),
            attributes: Attributes::from([
                ("name".to_string(), Value::string("/aws/eks/dev/cluster")),
                ("retention_in_days".to_string(), Value::Int(retention)),
                ("tags".to_string(), tags_value(live_tags)),
            ]),
            status: Status::Ready,
        };
        (desired, live)
    }

    /// The log group at `id`, as `log_group` makes it, with `tags`.
    fn log_group_at(id: &str, live_tags: &[(&str, &str)]) -> LiveResource {
        let (_, mut live) = log_group(live_tags, 30);
        live.id = id.into();
        live
    }

    const OWN: &[(&str, &str)] = &[
        ("eksform:stack", "dev"),
        ("eksform:address", "log_group.cluster"),
    ];

    #[test]
    fn only_the_stacks_own_duplicates_are_deleted_and_a_foreign_one_never_kept_over_them() {
        let (desired, _) = log_group(&[], 30);
        let lost_create = diff(
            std::slice::from_ref(&desired),
            &[log_group_at("a", OWN), log_group_at("b", OWN)],
        )
        .unwrap();
        let deleted: Vec<&str> = lost_create
            .iter()
            .filter(|c| c.action == Action::Delete)
            .filter_map(|c| c.live.as_ref().map(|l| l.id.as_str()))
            .collect();
        assert_eq!(deleted.len(), 1, "one of the stack's two goes");

        // Another team's of the same name sorts first by id, and matches as
        // well: the stack's own is kept, the other never deleted.
        let beside = diff(
            std::slice::from_ref(&desired),
            &[
                log_group_at("a-other-team", &[("team", "audit")]),
                log_group_at("b", OWN),
            ],
        )
        .unwrap();
        assert!(
            beside.iter().all(|c| c.action == Action::NoOp),
            "{beside:?}"
        );
        assert_eq!(beside[0].live.as_ref().unwrap().id, "b");
    }

    #[test]
    fn two_that_answer_to_one_address_and_neither_the_stacks_are_a_plan_error() {
        let (desired, _) = log_group(&[], 30);
        let error = diff(
            std::slice::from_ref(&desired),
            &[
                log_group_at("a", &[("team", "audit")]),
                log_group_at("b", &[("team", "search")]),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("`a` and `b` both answer to it") && error.contains("adopt"),
            "{error}"
        );
    }

    #[test]
    fn an_unmarked_log_group_is_adopted_with_a_warning_and_released_by_destroy() {
        let (desired, live) = log_group(&[("owner", "audit")], 365);
        let plan = diff(std::slice::from_ref(&desired), std::slice::from_ref(&live)).unwrap();
        assert_eq!(plan[0].action, Action::Adopt);
        assert!(
            plan[0].warnings[0].contains("365 to 30"),
            "{:?}",
            plan[0].warnings
        );
        let tags = plan[0].desired.as_ref().unwrap().attributes["tags"].clone();
        let tags = tags.as_map().unwrap();
        assert_eq!(tags.get(ADOPTED_TAG), Some(&Value::string("true")));
        assert_eq!(
            tags.get("owner"),
            Some(&Value::string("audit")),
            "its owners' tags stay"
        );
        // Once adopted it stays adopted, and a destroy lets go of it.
        let (_, adopted) = log_group(
            &[
                ("eksform:stack", "dev"),
                ("eksform:address", "log_group.cluster"),
                (ADOPTED_TAG, "true"),
                ("owner", "audit"),
            ],
            30,
        );
        let again = diff(
            std::slice::from_ref(&desired),
            std::slice::from_ref(&adopted),
        )
        .unwrap();
        assert_eq!(again[0].action, Action::NoOp);
        let destroy = diff(&[], std::slice::from_ref(&adopted)).unwrap();
        assert_eq!(destroy[0].action, Action::Release);
        let after = destroy[0].changes[0]
            .after
            .as_ref()
            .unwrap()
            .as_map()
            .unwrap();
        assert_eq!(after.keys().collect::<Vec<_>>(), ["owner"]);
    }

    #[test]
    fn an_add_on_made_in_a_cluster_that_already_runs_warns_that_eks_overwrites_its_fields() {
        let cluster = crate::kinds::EksCluster::address();
        let tags = tags_value(&[("eksform:stack", "dev")]);
        let desired = vec![
            DesiredResource::new("eks_cluster", cluster.clone())
                .with("name", Value::string("dev"))
                .with("tags", tags.clone()),
            DesiredResource::new("addon", Address("addon.vpc-cni".into()))
                .with("addon_name", Value::string("vpc-cni"))
                .with("cluster_name", Value::reference(&cluster, "name"))
                .with("tags", tags.clone()),
        ];
        let standing = LiveResource {
            address: cluster.clone(),
            kind: "eks_cluster".into(),
            id: "dev".into(),
            attributes: desired[0].attributes.clone(),
            status: Status::Ready,
        };
        let into_standing = diff(&desired, std::slice::from_ref(&standing)).unwrap();
        let addon = into_standing
            .iter()
            .find(|c| c.kind == "addon")
            .expect("the add-on is made");
        assert_eq!(addon.action, Action::Create);
        assert!(
            addon.warnings.len() == 1
                && addon.warnings[0].contains("self-managed vpc-cni")
                && addon.warnings[0].contains("OVERWRITE"),
            "{:?}",
            addon.warnings
        );
        // With its new cluster nothing is installed yet to overwrite.
        let with_its_cluster = diff(&desired, &[]).unwrap();
        assert!(with_its_cluster.iter().all(|c| c.warnings.is_empty()));
    }

    #[test]
    fn a_failed_resource_is_replaced_and_a_degraded_one_warns() {
        let address = Address("node_group.general".into());
        let desired = DesiredResource::new("node_group", address.clone())
            .with("tags", tags_value(&[("eksform:stack", "dev")]));
        let live = |status, health: &str| LiveResource {
            address: address.clone(),
            kind: "node_group".into(),
            id: "dev-general".into(),
            attributes: Attributes::from([
                ("tags".to_string(), tags_value(&[("eksform:stack", "dev")])),
                (crate::model::HEALTH.to_string(), Value::string(health)),
            ]),
            status,
        };
        let failed = diff(
            std::slice::from_ref(&desired),
            &[live(Status::Failed, "CREATE_FAILED: no capacity")],
        )
        .unwrap();
        assert_eq!(failed[0].action, Action::Replace);
        assert!(failed[0].reason.as_ref().unwrap().contains("no capacity"));
        let degraded = diff(
            std::slice::from_ref(&desired),
            &[live(Status::Ready, "DEGRADED: AsgInstanceLaunchFailures")],
        )
        .unwrap();
        assert_eq!(degraded[0].action, Action::NoOp);
        assert!(degraded[0].warnings[0].contains("DEGRADED"));
    }

    #[test]
    fn plans_that_act_on_another_id_differ() {
        let plan: Plan = Plan::from_json(&saved_plan()).unwrap();
        let mut forged = plan.clone();
        assert!(differences(&plan, &forged).is_empty());
        forged.resources[0].live.as_mut().unwrap().id = "vpc-foreign".into();
        let found = differences(&plan, &forged);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().any(|d| d.contains("vpc-foreign")));
    }

    #[test]
    fn a_saved_plan_reads_back() {
        let plan = Plan::from_json(&saved_plan()).unwrap();
        assert_eq!(plan.resources[0].address.as_str(), "vpc.main");
    }

    proptest! {
        #[test]
        fn the_plan_file_reader_never_panics_on_arbitrary_text(text in any::<String>()) {
            let _ = Plan::from_json(&text);
        }

        #[test]
        fn the_plan_file_reader_never_panics_on_a_damaged_plan(
            cut in 0usize..2000,
            byte in any::<u8>(),
            at in 0usize..2000,
        ) {
            let mut bytes = saved_plan().into_bytes();
            if !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] = byte;
                bytes.truncate(cut.max(1).min(bytes.len()));
            }
            let _ = Plan::from_json(&String::from_utf8_lossy(&bytes));
        }
    }
}
