//! The plan as people read it, Terraform-style.

use std::fmt::Write;

use owo_colors::OwoColorize;

use eksform_core::plan::{Action, AttributeChange, Plan, ResourceChange, Summary};

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

fn attribute_line(out: &mut String, change: &AttributeChange, width: usize) {
    let name = format!("{:width$}", change.name, width = width);
    let text = match (&change.before, &change.after) {
        (None, Some(after)) => format!("{name} = {after}"),
        (Some(before), Some(after)) => format!("{name} = {before} -> {after}"),
        (Some(before), None) => format!("{name} = {before} -> null"),
        (None, None) => name,
    };
    let _ = write!(out, "      {text}");
    if change.forces_replacement {
        let _ = write!(out, "  # forces replacement");
    }
    out.push('\n');
}

/// What the plan says of a guarded delete or replacement: apply's rule
/// (docs/ownership.md), or destroy's, which deletes them when asked.
const GUARDED_IN_APPLY: &str = "# DESTRUCTIVE: apply --auto-approve needs --allow-destroy for this";
const GUARDED_IN_DESTROY: &str = "# DESTRUCTIVE: a guarded resource; this destroy deletes it";

fn resource_block(out: &mut String, resource: &ResourceChange, color: bool, guarded: &str) {
    let id = resource
        .live
        .as_ref()
        .map(|l| format!(", {}", l.id))
        .unwrap_or_default();
    let verb = match resource.action {
        Action::Create => "will be created",
        Action::Update => "will be updated in place",
        Action::Replace => "must be replaced",
        Action::Delete => "will be deleted",
        Action::Adopt => "will be adopted",
        Action::Release => "will be released (kept, no longer managed)",
        Action::NoOp => "is up to date",
    };
    let header = format!(
        "{:>3} {} ({}{id}) {verb}",
        resource.action.symbol(),
        resource.address,
        resource.kind
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
        attribute_line(out, change, width);
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
    // Unchanged resources are shown only when there is something to say (an
    // adopted hosted zone).
    let shown = |r: &&ResourceChange| {
        r.action != Action::NoOp || r.reason.is_some() || !r.warnings.is_empty()
    };
    if !summary.has_changes() {
        let _ = writeln!(out, "\nNo changes. The live resources match the spec.");
    }
    if plan.resources.iter().any(|r| shown(&r)) {
        out.push('\n');
        for resource in plan.resources.iter().filter(shown) {
            resource_block(&mut out, resource, color, guarded);
            out.push('\n');
        }
    }
    let _ = writeln!(out, "{}", summary_line(&summary));
    out
}
