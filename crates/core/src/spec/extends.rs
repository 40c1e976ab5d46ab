//! `extends`: loads the chain of base files a spec names and merges the spec's
//! tree over them, by the rules of docs/spec.md. Works on the spanned tree before any
//! checks, so every later error still points into the file that holds the text
//! (each node's span carries the index of its file).
//!
//! Rules: maps merge key by key; scalars and plain lists are replaced; lists of
//! named things merge item by item on their key (`NAMED_LISTS`), and an item
//! with `$delete: true` removes the base's item of that key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::tree::{Node, NodeValue};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};

/// The key that removes a base's item from a named list.
const DELETE: &str = "$delete";

/// Lists of named things (by their path in the spec, `[]` for "an item of")
/// and how an item's key is read.
const NAMED_LISTS: &[(&str, ItemKey)] = &[
    ("managedNodeGroups", ItemKey::Name),
    ("fargateProfiles", ItemKey::Name),
    ("cluster.addons", ItemKey::Name),
    ("loadBalancers", ItemKey::Name),
    ("loadBalancers[].targetGroups", ItemKey::Name),
    ("securityGroups", ItemKey::Name),
    ("storage.efs", ItemKey::Name),
    ("storage.efs[].accessPoints", ItemKey::Name),
    ("iam.serviceAccounts", ItemKey::ServiceAccount),
    ("iam.podIdentityAssociations", ItemKey::PodIdentity),
    ("dns.records", ItemKey::Record),
    ("registries", ItemKey::Name),
];

#[derive(Clone, Copy)]
enum ItemKey {
    /// `name`
    Name,
    /// `metadata.namespace/metadata.name`
    ServiceAccount,
    /// `namespace/serviceAccountName`
    PodIdentity,
    /// `name` + `type` (an absent type is `A` for an alias, else `CNAME`, as
    /// validation reads it)
    Record,
}

/// A spec with its bases loaded and merged: the file (which knows its bases)
/// and the merged tree.
pub fn resolve(
    file: SourceFile,
    tree: Node,
    read_yaml: impl Fn(&SourceFile) -> Result<Node, Diagnostics>,
) -> Result<(SourceFile, Node), Diagnostics> {
    let mut bases: Vec<SourceFile> = Vec::new();
    let mut trees = vec![tree];
    let mut chain = vec![identity(Path::new(&file.path))];
    let with_bases = |bases: &[SourceFile]| SourceFile {
        bases: Arc::from(bases.to_vec()),
        ..file.clone()
    };
    loop {
        let current = trees.last().expect("the chain starts with the spec");
        let Some((relative, span)) = extends_of(current) else {
            break;
        };
        let holder = with_bases(&bases);
        let holder_path = &holder.holding(&span).path;
        let path = Path::new(holder_path)
            .parent()
            .unwrap_or(Path::new(""))
            .join(&relative);
        let fail = |message: String, help: &str| {
            let mut d = Diagnostics::new();
            d.push(Diagnostic::error(message).at(&holder, span).with_help(help));
            d
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            fail(
                format!("cannot read the base file {}: {e}", path.display()),
                "`extends` is a path relative to the file that names it",
            )
        })?;
        let id = identity(&path);
        if let Some(start) = chain.iter().position(|p| *p == id) {
            let mut names: Vec<String> = chain[start..]
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            names.push(path.display().to_string());
            return Err(fail(
                format!("`extends` makes a cycle: {}", names.join(" -> ")),
                "a base file must not extend, directly or not, a file that extends it",
            ));
        }
        chain.push(id);
        let base = SourceFile::new(path.display().to_string(), text);
        let mut base_tree = read_yaml(&base)?;
        mark_source(&mut base_tree, bases.len() + 1);
        bases.push(base);
        trees.push(base_tree);
    }
    let file = with_bases(&bases);
    let mut problems = Vec::new();
    let mut merged = trees.pop().expect("at least the spec");
    while let Some(overlay) = trees.pop() {
        merged = merge(merged, overlay, "", &mut problems);
    }
    if problems.is_empty() {
        Ok((file, merged))
    } else {
        let mut diagnostics = Diagnostics::new();
        for (span, message, help) in problems {
            diagnostics.push(Diagnostic::error(message).at(&file, span).with_help(help));
        }
        Err(diagnostics)
    }
}

/// A file's identity for cycle detection: its canonical path when it exists.
fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The `extends` string of a root mapping and where it is written. Any other
/// shape is left for the schema check to report.
pub(super) fn extends_of(tree: &Node) -> Option<(String, Span)> {
    let NodeValue::Mapping(entries) = &tree.value else {
        return None;
    };
    entries
        .iter()
        .find_map(|(key, value)| match (&key.value, &value.value) {
            (NodeValue::String(k), NodeValue::String(v)) if k == "extends" => {
                Some((v.clone(), value.span))
            }
            _ => None,
        })
}

fn mark_source(node: &mut Node, source: usize) {
    node.span.source = source;
    match &mut node.value {
        NodeValue::Sequence(items) => items.iter_mut().for_each(|n| mark_source(n, source)),
        NodeValue::Mapping(entries) => entries.iter_mut().for_each(|(k, v)| {
            mark_source(k, source);
            mark_source(v, source);
        }),
        _ => {}
    }
}

type Problem = (Span, String, &'static str);

/// `overlay` merged over `base`; `path` is where they are in the spec.
fn merge(base: Node, overlay: Node, path: &str, problems: &mut Vec<Problem>) -> Node {
    let value = match (base.value, overlay.value) {
        (NodeValue::Mapping(mut entries), NodeValue::Mapping(over)) => {
            for (key, value) in over {
                let name = string(&key).map(str::to_string);
                match entries
                    .iter()
                    .position(|(k, _)| name.is_some() && string(k) == name.as_deref())
                {
                    Some(i) => {
                        let child = join(path, name.as_deref().unwrap_or_default());
                        let (_, old) = entries.remove(i);
                        entries.insert(i, (key, merge(old, value, &child, problems)));
                    }
                    None => entries.push((key, value)),
                }
            }
            NodeValue::Mapping(entries)
        }
        (NodeValue::Sequence(items), NodeValue::Sequence(over)) => {
            match NAMED_LISTS.iter().find(|(p, _)| *p == path) {
                Some((_, item_key)) => {
                    NodeValue::Sequence(merge_named(items, over, path, *item_key, problems))
                }
                None => NodeValue::Sequence(over),
            }
        }
        (_, over) => over,
    };
    Node {
        value,
        span: overlay.span,
    }
}

fn merge_named(
    mut items: Vec<Node>,
    over: Vec<Node>,
    path: &str,
    item_key: ItemKey,
    problems: &mut Vec<Problem>,
) -> Vec<Node> {
    let item_path = format!("{path}[]");
    for mut item in over {
        let delete = take_delete(&mut item);
        let Some(key) = key_of(&item, item_key) else {
            // No key to merge on: the schema check reports what is missing.
            items.push(item);
            continue;
        };
        let existing = items
            .iter()
            .position(|i| key_of(i, item_key).as_ref() == Some(&key));
        match (existing, delete) {
            (Some(i), Some(_)) => {
                items.remove(i);
            }
            (None, Some(span)) => problems.push((
                span,
                format!("`$delete` of {key} in {path}, but no base file has that item"),
                "remove the item, or fix its key to match the base's",
            )),
            (Some(i), None) => {
                let old = items.remove(i);
                items.insert(i, merge(old, item, &item_path, problems));
            }
            (None, None) => items.push(item),
        }
    }
    items
}

/// Removes `$delete` from an item; `Some(where)` when it asked for deletion.
fn take_delete(item: &mut Node) -> Option<Span> {
    let NodeValue::Mapping(entries) = &mut item.value else {
        return None;
    };
    let i = entries
        .iter()
        .position(|(k, _)| string(k) == Some(DELETE))?;
    let (key, value) = entries.remove(i);
    match value.value {
        NodeValue::Bool(true) => Some(key.span),
        // `$delete: false` keeps the item; anything else is put back for the
        // schema check to report as an unknown field.
        NodeValue::Bool(false) => None,
        _ => {
            entries.insert(i, (key, value));
            None
        }
    }
}

fn key_of(item: &Node, item_key: ItemKey) -> Option<String> {
    let field = |node: &Node, name: &str| -> Option<String> {
        let NodeValue::Mapping(entries) = &node.value else {
            return None;
        };
        entries
            .iter()
            .find(|(k, _)| string(k) == Some(name))
            .and_then(|(_, v)| string(v).map(str::to_string))
    };
    let child = |node: &Node, name: &str| -> Option<Node> {
        let NodeValue::Mapping(entries) = &node.value else {
            return None;
        };
        entries
            .iter()
            .find(|(k, _)| string(k) == Some(name))
            .map(|(_, v)| v.clone())
    };
    match item_key {
        ItemKey::Name => field(item, "name").map(|n| format!("`{n}`")),
        ItemKey::ServiceAccount => {
            let metadata = child(item, "metadata")?;
            Some(format!(
                "`{}/{}`",
                field(&metadata, "namespace")?,
                field(&metadata, "name")?
            ))
        }
        ItemKey::PodIdentity => Some(format!(
            "`{}/{}`",
            field(item, "namespace")?,
            field(item, "serviceAccountName")?
        )),
        ItemKey::Record => {
            let name = field(item, "name")?;
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            let record_type = field(item, "type").unwrap_or_else(|| {
                if child(item, "alias").is_some() {
                    "A"
                } else {
                    "CNAME"
                }
                .into()
            });
            Some(format!("`{name}` ({record_type})"))
        }
    }
}

fn string(node: &Node) -> Option<&str> {
    match &node.value {
        NodeValue::String(s) => Some(s),
        _ => None,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}
