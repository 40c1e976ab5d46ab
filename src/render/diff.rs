//! How a changed value reads in the human plan: maps key by key, lists
//! element by element, policy documents line by line, each showing what
//! changes and counting what it hides. Pure text: `human` places the lines.
//!
//! Every line it returns starts with a two-column gutter: a mark (`~`
//! changed, `+` added, `-` removed, or a space) and a space; `human` indents
//! them under the attribute.

use std::collections::BTreeMap;

use similar::{ChangeTag, TextDiff};

use eksform_core::model::{Value, sorted_json};
use eksform_core::plan::Note;

/// Lines of unchanged context kept around each changed part of a document.
pub const DOCUMENT_CONTEXT: usize = 3;

/// A line of a diff under an attribute.
fn line(mark: char, text: &str) -> String {
    format!("{mark} {text}")
}

/// What was left out, in Terraform's words.
fn hidden(count: usize, what: &str) -> Option<String> {
    match count {
        0 => None,
        1 => Some(line(' ', &format!("# (1 unchanged {what} hidden)"))),
        n => Some(line(' ', &format!("# ({n} unchanged {what}s hidden)"))),
    }
}

fn with_note(text: String, note: Option<&Note>) -> String {
    match note {
        Some(note) => format!("{text}  # {}", note.text),
        None => text,
    }
}

/// A map diffed key by key: changed, added and removed keys, aligned, then a
/// count of the unchanged ones. An unchanged key is shown when a note is
/// about it (the desired size the autoscaler keeps).
pub fn map(
    before: &BTreeMap<String, Value>,
    after: &BTreeMap<String, Value>,
    notes: &[Note],
) -> Vec<String> {
    let note_on = |key: &str| notes.iter().find(|n| n.element.as_deref() == Some(key));
    let mut shown: Vec<(char, &str, String)> = Vec::new();
    let mut unchanged = 0;
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for key in keys {
        match (before.get(key), after.get(key)) {
            (Some(old), Some(new)) if old == new => {
                if note_on(key).is_some() {
                    shown.push((' ', key, new.to_string()));
                } else {
                    unchanged += 1;
                }
            }
            (Some(old), Some(new)) => shown.push(('~', key, format!("{old} -> {new}"))),
            (None, Some(new)) => shown.push(('+', key, new.to_string())),
            (Some(old), None) => shown.push(('-', key, format!("{old} -> null"))),
            (None, None) => {}
        }
    }
    let width = shown.iter().map(|(_, k, _)| k.len()).max().unwrap_or(0);
    let mut lines: Vec<String> = shown
        .into_iter()
        .map(|(mark, key, text)| {
            line(
                mark,
                &with_note(format!("{key:width$} = {text}"), note_on(key)),
            )
        })
        .collect();
    lines.extend(hidden(unchanged, "element"));
    lines
}

/// A map in full (a created resource's), one key a line, aligned.
pub fn map_in_full(map: &BTreeMap<String, Value>) -> Vec<String> {
    let width = map.keys().map(String::len).max().unwrap_or(0);
    map.iter()
        .map(|(key, value)| line(' ', &format!("{key:width$} = {value}")))
        .collect()
}

/// A list diffed element by element, as a set (plans compare lists as sets):
/// removed and added elements, then a count of the unchanged ones.
pub fn list(before: &[Value], after: &[Value]) -> Vec<String> {
    let mut removed: Vec<&Value> = before.iter().filter(|v| !after.contains(v)).collect();
    let mut added: Vec<&Value> = after.iter().filter(|v| !before.contains(v)).collect();
    removed.sort();
    removed.dedup();
    added.sort();
    added.dedup();
    let unchanged = {
        let mut kept: Vec<&Value> = after.iter().filter(|v| before.contains(v)).collect();
        kept.sort();
        kept.dedup();
        kept.len()
    };
    let mut lines: Vec<String> = removed
        .into_iter()
        .map(|v| line('-', &format!("{v},")))
        .chain(added.into_iter().map(|v| line('+', &format!("{v},"))))
        .collect();
    lines.extend(hidden(unchanged, "element"));
    lines
}

/// A list in full (a created resource's), one element a line.
pub fn list_in_full(items: &[Value]) -> Vec<String> {
    items.iter().map(|v| line(' ', &format!("{v},"))).collect()
}

/// A policy document as indented JSON, keys sorted; `None` when it is not JSON.
pub fn pretty_document(document: &str) -> Option<String> {
    let parsed: serde_json::Value = serde_json::from_str(document).ok()?;
    serde_json::to_string_pretty(&sorted_json(parsed)).ok()
}

/// A document shown whole (a created resource's, an added inline policy).
pub fn document_in_full(document: &str) -> Vec<String> {
    let text = pretty_document(document).unwrap_or_else(|| document.to_string());
    text.lines().map(|l| line(' ', l)).collect()
}

/// Two versions of a policy document diffed line by line as indented JSON:
/// the changed lines marked `-`/`+`, `context` unchanged lines around each
/// change, and a count of the unchanged lines hidden between.
pub fn document(before: &str, after: &str, context: usize) -> Vec<String> {
    let before = pretty_document(before).unwrap_or_else(|| before.to_string());
    let after = pretty_document(after).unwrap_or_else(|| after.to_string());
    let diff = TextDiff::from_lines(&before, &after);
    let total = before.lines().count();
    let mut lines = Vec::new();
    let mut shown_up_to = 0; // old lines before this index are shown or counted
    for group in diff.grouped_ops(context) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let start = first.old_range().start;
        lines.extend(hidden(start - shown_up_to, "line"));
        for op in &group {
            for change in diff.iter_changes(op) {
                let mark = match change.tag() {
                    ChangeTag::Equal => ' ',
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                };
                lines.push(line(mark, change.value().trim_end_matches('\n')));
            }
        }
        shown_up_to = last.old_range().end;
    }
    lines.extend(hidden(total.saturating_sub(shown_up_to), "line"));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(pairs: &[(&str, &str)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::string(*v)))
            .collect()
    }

    #[test]
    fn a_map_shows_only_the_keys_that_change_and_counts_the_rest() {
        let before = strings(&[
            ("Name", "a"),
            ("team", "platform"),
            ("old", "x"),
            ("z", "1"),
        ]);
        let after = strings(&[("Name", "a"), ("team", "infra"), ("new", "y"), ("z", "1")]);
        assert_eq!(
            map(&before, &after, &[]),
            [
                "+ new  = \"y\"",
                "- old  = \"x\" -> null",
                "~ team = \"platform\" -> \"infra\"",
                "  # (2 unchanged elements hidden)",
            ]
        );
    }

    #[test]
    fn an_unchanged_key_with_a_note_is_shown_with_it() {
        let scaling = |min, max, desired| {
            BTreeMap::from([
                ("desired_size".to_string(), Value::Int(desired)),
                ("max_size".to_string(), Value::Int(max)),
                ("min_size".to_string(), Value::Int(min)),
            ])
        };
        let note = Note::on_element("desired_size", "it stays 3");
        assert_eq!(
            map(&scaling(2, 8, 3), &scaling(1, 12, 3), &[note]),
            [
                "  desired_size = 3  # it stays 3",
                "~ max_size     = 8 -> 12",
                "~ min_size     = 2 -> 1",
            ]
        );
    }

    #[test]
    fn a_list_shows_what_goes_and_comes_as_a_set() {
        let list_of =
            |items: &[&str]| -> Vec<Value> { items.iter().map(|i| Value::string(*i)).collect() };
        assert_eq!(
            list(
                &list_of(&["audit", "api"]),
                &list_of(&["api", "scheduler", "audit", "authenticator"])
            ),
            [
                "+ \"authenticator\",",
                "+ \"scheduler\",",
                "  # (2 unchanged elements hidden)",
            ]
        );
        assert_eq!(
            list(&list_of(&["a"]), &list_of(&["b"])),
            ["- \"a\",", "+ \"b\","]
        );
    }

    #[test]
    fn a_document_diffs_line_by_line_with_context() {
        let actions: Vec<String> = (0..12).map(|i| format!("\"ec2:Describe{i:02}\"")).collect();
        let policy = |extra: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Resource":"*","Action":[{}{extra}]}}]}}"#,
                actions.join(",")
            )
        };
        let lines = document(&policy(""), &policy(r#","ec2:DescribeTags""#), 2);
        assert_eq!(
            lines,
            [
                "  # (13 unchanged lines hidden)",
                "          \"ec2:Describe09\",",
                "          \"ec2:Describe10\",",
                "-         \"ec2:Describe11\"",
                "+         \"ec2:Describe11\",",
                "+         \"ec2:DescribeTags\"",
                "        ],",
                "        \"Effect\": \"Allow\",",
                "  # (5 unchanged lines hidden)",
            ]
        );
    }

    #[test]
    fn a_document_reads_as_indented_json_with_sorted_keys() {
        assert_eq!(
            document_in_full(r#"{"b":1,"a":[true]}"#),
            [
                "  {",
                "    \"a\": [",
                "      true",
                "    ],",
                "    \"b\": 1",
                "  }"
            ]
        );
        // Not JSON: shown as it is.
        assert_eq!(document_in_full("not json"), ["  not json"]);
    }
}
