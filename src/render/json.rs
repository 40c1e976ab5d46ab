//! The plan as versioned JSON (`plan --json`): plain values, references shown
//! as `{"known_after_apply": "address.attribute"}`.

use serde_json::{Value as Json, json};

use eksform_core::model::{Value, sorted_json};
use eksform_core::plan::Plan;

pub fn value(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::String(s) => json!(s),
        Value::List(items) => Json::Array(items.iter().map(self::value).collect()),
        Value::Map(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), self::value(v)))
                .collect(),
        ),
        Value::Ref(r) => json!({ "known_after_apply": format!("{}.{}", r.address, r.attribute) }),
    }
}

/// Bumped when the shape of the `plan --json` document changes
/// incompatibly (2: one document with a list of stacks, whatever was given).
pub const PLAN_DOCUMENT_VERSION: u32 = 2;

/// What `plan --json` prints: one document, the same shape for one stack or
/// many, with the plans in the order they were made (referenced stacks first).
pub fn plan_document(plans: &[&Plan]) -> Json {
    let has_changes = plans.iter().any(|p| p.summary().has_changes());
    sorted_json(json!({
        "format_version": PLAN_DOCUMENT_VERSION,
        "has_changes": has_changes,
        "stacks": plans.iter().map(|p| plan_unsorted(p)).collect::<Vec<_>>(),
    }))
}

/// One stack's plan.
pub fn plan(plan: &Plan) -> Json {
    sorted_json(plan_unsorted(plan))
}

fn plan_unsorted(plan: &Plan) -> Json {
    let summary = plan.summary();
    json!({
        "format_version": plan.format_version,
        "eksform_version": plan.eksform_version,
        "stack": plan.stack,
        "region": plan.region,
        "account": plan.account,
        "summary": {
            "create": summary.create,
            "update": summary.update,
            "replace": summary.replace,
            "delete": summary.delete,
            "adopt": summary.adopt,
            "release": summary.release,
        },
        "resource_changes": plan.resources.iter().map(|r| json!({
            "address": r.address.to_string(),
            "kind": r.kind,
            "action": r.action,
            "id": r.live.as_ref().map(|l| l.id.clone()),
            "reason": r.reason,
            "warnings": r.warnings,
            "destructive": r.is_guarded(),
            "attributes": r.changes.iter().map(|c| json!({
                "name": c.name,
                "before": c.before.as_ref().map(value),
                "after": c.after.as_ref().map(value),
                "forces_replacement": c.forces_replacement,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
