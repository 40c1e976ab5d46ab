//! The plan as people read it, Terraform-style.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use owo_colors::OwoColorize;

use eksform_core::kinds::Compare;
use eksform_core::model::Value;
use eksform_core::plan::{Action, AttributeChange, Plan, ResourceChange, Summary, Upgrade};

use super::diff;

pub fn summary_line(summary: &Summary) -> String {
    let mut line = format!(
        "Plan: {} to create, {} to update, {} to replace, {} to delete",
        summary.create, summary.update, summary.replace, summary.delete
    );
    // Only stacks that take over or let go of something say so.
    if summary.adopt + summary.release > 0 {
        line.push_str(&format!(
            ", {} to adopt, {} to release",
            summary.adopt, summary.release
        ));
    }
    line.push('.');
    line
}

fn paint(action: Action, text: &str, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    match action {
        Action::Create => text.green().to_string(),
        Action::Update => text.yellow().to_string(),
        Action::Replace => text.magenta().to_string(),
        Action::Delete => text.red().to_string(),
        Action::Adopt | Action::Release => text.cyan().to_string(),
        Action::NoOp => text.to_string(),
    }
}

/// How long a value may be on one line before it is shown a part a line.
const LINE_WIDTH: usize = 100;

/// How an attribute's value reads: by its kind's comparison (policy
/// documents), its shape (maps, lists) and its length.
fn compare_of(kind: &str, attribute: &str) -> Option<Compare> {
    eksform_core::kinds::by_name(kind)
        .and_then(|k| k.attribute(attribute))
        .map(|a| a.compare)
}

/// `lines` from `diff` under an attribute, indented `indent` columns.
fn push_lines(out: &mut String, indent: usize, lines: &[String]) {
    for line in lines {
        let _ = writeln!(out, "{:indent$}{line}", "");
    }
}

/// A value on one line: `before -> after`, or the one there is.
fn one_line(change: &AttributeChange) -> String {
    match (&change.before, &change.after) {
        (None, Some(after)) => after.to_string(),
        (Some(before), Some(after)) => format!("{before} -> {after}"),
        (Some(before), None) => format!("{before} -> null"),
        (None, None) => String::new(),
    }
}

/// Notes on the whole value and the replacement mark, after the value.
fn trailer(change: &AttributeChange) -> String {
    let mut text = String::new();
    for note in change.notes.iter().filter(|n| n.element.is_none()) {
        let _ = write!(text, "  # {}", note.text);
    }
    if change.forces_replacement {
        text.push_str("  # forces replacement");
    }
    text
}

/// A map of policy documents (inline policies) diffed name by name, each
/// changed document line by line.
fn documents_lines(
    before: &BTreeMap<String, Value>,
    after: &BTreeMap<String, Value>,
) -> Vec<String> {
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    };
    let mut lines = Vec::new();
    let mut unchanged = 0;
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for name in names {
        let nested = |lines: &mut Vec<String>, inner: Vec<String>| {
            lines.extend(inner.into_iter().map(|l| format!("    {l}")));
        };
        match (before.get(name), after.get(name)) {
            (Some(old), Some(new)) if old == new || Compare::PolicyDocument.satisfied(old, new) => {
                unchanged += 1;
            }
            (Some(old), Some(new)) => {
                lines.push(format!("~ {name} = policy document:"));
                nested(
                    &mut lines,
                    diff::document(&text(old), &text(new), diff::DOCUMENT_CONTEXT),
                );
            }
            (None, Some(new)) => {
                lines.push(format!("+ {name} = policy document:"));
                nested(&mut lines, diff::document_in_full(&text(new)));
            }
            (Some(_), None) => lines.push(format!("- {name} -> null")),
            (None, None) => {}
        }
    }
    match unchanged {
        0 => {}
        1 => lines.push("  # (1 unchanged element hidden)".into()),
        n => lines.push(format!("  # ({n} unchanged elements hidden)")),
    }
    lines
}

/// One attribute: on one line when it reads well there; otherwise a block
/// under the name: maps key by key, long lists element by element, policy
/// documents line by line (only what changes, with a count of the rest).
fn attribute_lines(out: &mut String, kind: &str, change: &AttributeChange, width: usize) {
    let name = format!("{:width$}", change.name);
    let compare = compare_of(kind, &change.name);
    let trailer = trailer(change);
    let string = |v: &Option<Value>| v.as_ref().and_then(|v| v.as_str().map(str::to_string));
    let map = |v: &Option<Value>| v.as_ref().and_then(|v| v.as_map().cloned());
    let list = |v: &Option<Value>| v.as_ref().and_then(|v| v.as_list().map(<[Value]>::to_vec));
    let block = |out: &mut String, opening: &str, lines: Vec<String>, closing: Option<&str>| {
        let _ = writeln!(out, "      {name} = {opening}{trailer}");
        push_lines(out, 8, &lines);
        if let Some(closing) = closing {
            let _ = writeln!(out, "      {closing}");
        }
    };
    match (compare, &change.before, &change.after) {
        (Some(Compare::PolicyDocument | Compare::TrustPolicy), _, Some(Value::String(after))) => {
            let lines = match string(&change.before) {
                Some(before) => diff::document(&before, after, diff::DOCUMENT_CONTEXT),
                None => diff::document_in_full(after),
            };
            block(out, "policy document:", lines, None);
            return;
        }
        (Some(Compare::PolicyDocuments), _, Some(Value::Map(after))) => {
            let before = map(&change.before).unwrap_or_default();
            block(out, "{", documents_lines(&before, after), Some("}"));
            return;
        }
        // Settings as JSON (an add-on's configuration): key by key, as dotted paths.
        (Some(Compare::JsonSettings), _, Some(Value::String(after))) => {
            let settings = |text: &str| eksform_core::kinds::flattened_json_settings(text);
            if let Some(after) = settings(after) {
                let lines = match string(&change.before).map(|b| settings(&b)) {
                    Some(Some(before)) => diff::map(&before, &after, &change.notes),
                    _ => diff::map_in_full(&after),
                };
                block(out, "{", lines, Some("}"));
                return;
            }
        }
        _ => {}
    }
    let one = one_line(change);
    match (map(&change.before), map(&change.after)) {
        (Some(before), Some(after)) => {
            block(
                out,
                "{",
                diff::map(&before, &after, &change.notes),
                Some("}"),
            );
            return;
        }
        // A new map of several keys reads one key a line, as Terraform shows it.
        (None, Some(after))
            if change.before.is_none() && (after.len() > 1 || one.len() > LINE_WIDTH) =>
        {
            block(out, "{", diff::map_in_full(&after), Some("}"));
            return;
        }
        _ => {}
    }
    if one.len() > LINE_WIDTH {
        match (list(&change.before), list(&change.after)) {
            (Some(before), Some(after)) => {
                block(out, "[", diff::list(&before, &after), Some("]"));
                return;
            }
            (None, Some(after)) if change.before.is_none() => {
                block(out, "[", diff::list_in_full(&after), Some("]"));
                return;
            }
            _ => {}
        }
    }
    let _ = writeln!(out, "      {name} = {one}{trailer}");
}

/// What the plan says of a guarded delete or replacement: apply's rule
/// (docs/ownership.md), or destroy's, which deletes them when asked.
const GUARDED_IN_APPLY: &str = "# DESTRUCTIVE: apply --auto-approve needs --allow-destroy for this";
const GUARDED_IN_DESTROY: &str = "# DESTRUCTIVE: a guarded resource; this destroy deletes it";

/// What a change does to its resource, in the plan's words.
pub fn verb(action: Action) -> &'static str {
    match action {
        Action::Create => "will be created",
        Action::Update => "will be updated in place",
        Action::Replace => "must be replaced",
        Action::Delete => "will be deleted",
        Action::Adopt => "will be adopted",
        Action::Release => "will be released (kept, no longer managed)",
        Action::NoOp => "is up to date",
    }
}

/// One resource's block of the plan as `plan` prints it (apply's words for
/// guarded changes): its header line, notes and attribute diffs. The
/// terminal plan and the Markdown plan (`render::markdown`) both show this.
pub fn resource_change(resource: &ResourceChange, color: bool) -> String {
    let mut out = String::new();
    resource_block(&mut out, resource, color, GUARDED_IN_APPLY);
    out
}

/// Whether a plan shows this resource: every change, and an unchanged
/// resource only when there is something to say (an adopted hosted zone).
pub fn shown(resource: &ResourceChange) -> bool {
    resource.action != Action::NoOp
        || resource.reason.is_some()
        || !resource.warnings.is_empty()
        || !resource.notes.is_empty()
}

/// What a plan without changes says instead of a list of changes.
pub fn no_changes(plan: &Plan) -> &'static str {
    if plan.resources.iter().any(|r| !r.notes.is_empty()) {
        "No changes. Apply would change nothing; the notes below say where the live resources differ from the spec and why."
    } else {
        "No changes. The live resources match the spec."
    }
}

/// The order of the plan's Kubernetes upgrade, when it has one.
pub fn upgrade_order(plan: &Plan) -> Option<String> {
    let upgrade = eksform_core::plan::upgrade(&plan.resources)?;
    let mut out = String::new();
    upgrade_section(&mut out, &upgrade);
    Some(out.trim_start_matches('\n').to_string())
}

fn resource_block(out: &mut String, resource: &ResourceChange, color: bool, guarded: &str) {
    let id = resource
        .live
        .as_ref()
        .map(|l| format!(", {}", l.id))
        .unwrap_or_default();
    let header = format!(
        "{:>3} {} ({}{id}) {}",
        resource.action.symbol(),
        resource.address,
        resource.kind,
        verb(resource.action)
    );
    let _ = writeln!(out, "{}", paint(resource.action, &header, color));
    if resource.is_guarded() {
        let _ = writeln!(out, "      {guarded}");
    }
    if let Some(reason) = &resource.reason {
        let _ = writeln!(out, "      # {reason}");
    }
    for warning in &resource.warnings {
        let _ = writeln!(out, "      # WARNING: {warning}");
    }
    for note in &resource.notes {
        let _ = writeln!(out, "      # {note}");
    }
    if resource.action == Action::Replace {
        let forced: Vec<&str> = resource
            .changes
            .iter()
            .filter(|c| c.forces_replacement)
            .map(|c| c.name.as_str())
            .collect();
        if !forced.is_empty() {
            let _ = writeln!(
                out,
                "      # replaced because {} cannot change in place",
                forced.join(", ")
            );
        }
        if eksform_core::kinds::by_name(&resource.kind).is_some_and(|k| k.create_before_destroy()) {
            let _ = writeln!(
                out,
                "      # the new one is created before the old one is deleted"
            );
        }
    }
    let width = resource
        .changes
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for change in &resource.changes {
        attribute_lines(out, &resource.kind, change, width);
    }
}

/// The order of a Kubernetes upgrade: each control-plane step, then the node
/// groups, then the add-ons, as apply takes them.
fn upgrade_section(out: &mut String, upgrade: &Upgrade) {
    let _ = writeln!(
        out,
        "\nKubernetes {} -> {}, in this order (each step awaited):",
        upgrade.from, upgrade.to
    );
    let mut step = 0;
    let mut previous = upgrade.from.as_str();
    for version in &upgrade.control_plane {
        step += 1;
        let _ = writeln!(
            out,
            "  {step}. control plane {previous} -> {version} ({})",
            upgrade.cluster
        );
        previous = version;
    }
    let names = |addresses: &[eksform_core::model::Address]| {
        addresses
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !upgrade.node_groups.is_empty() || !upgrade.addons_with_node_groups.is_empty() {
        step += 1;
        if upgrade.node_groups.is_empty() {
            let _ = writeln!(
                out,
                "  {step}. add-ons every node runs: {}",
                names(&upgrade.addons_with_node_groups)
            );
        } else {
            let _ = writeln!(
                out,
                "  {step}. node groups to {}: {}",
                upgrade.to,
                names(&upgrade.node_groups)
            );
            if !upgrade.addons_with_node_groups.is_empty() {
                let _ = writeln!(
                    out,
                    "     with them, the add-ons every node runs: {}",
                    names(&upgrade.addons_with_node_groups)
                );
            }
        }
    }
    if !upgrade.addons_after_node_groups.is_empty() {
        step += 1;
        let _ = writeln!(
            out,
            "  {step}. add-ons{}: {}",
            if upgrade.node_groups.is_empty() {
                ""
            } else {
                ", once the node groups are done"
            },
            names(&upgrade.addons_after_node_groups)
        );
    }
}

/// The whole plan: one block per change, then the summary line.
pub fn plan(plan: &Plan, color: bool) -> String {
    render_plan(plan, color, GUARDED_IN_APPLY)
}

/// A destroy's plan, as `plan` shows it, in destroy's words.
pub fn destroy_plan(plan: &Plan, color: bool) -> String {
    render_plan(plan, color, GUARDED_IN_DESTROY)
}

fn render_plan(plan: &Plan, color: bool, guarded: &str) -> String {
    let mut out = String::new();
    let summary = plan.summary();
    let _ = writeln!(
        out,
        "Stack {} in {} (account {})",
        plan.stack, plan.region, plan.account
    );
    if !summary.has_changes() {
        let _ = writeln!(out, "\n{}", no_changes(plan));
    }
    if let Some(upgrade) = eksform_core::plan::upgrade(&plan.resources) {
        upgrade_section(&mut out, &upgrade);
    }
    if plan.resources.iter().any(shown) {
        out.push('\n');
        for resource in plan.resources.iter().filter(|r| shown(r)) {
            resource_block(&mut out, resource, color, guarded);
            out.push('\n');
        }
    }
    let _ = writeln!(out, "{}", summary_line(&summary));
    out
}
