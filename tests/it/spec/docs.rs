//! The user documentation cannot go stale silently:
//!
//! - `docs/spec.md` documents exactly the fields of the committed JSON Schema,
//!   no more and no fewer, each as a table row whose first cell is the
//!   field's dotted path in backticks (the convention is stated at the top of
//!   that page: `[]` for list items, `<key>` for map keys);
//! - no Markdown file links outside the repository or to a file that does not
//!   exist, and no file mentions the directory beside the repository that
//!   other checkouts used to share.
//!
//! Only std and serde_json: these tests must run before anything else builds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

/// Directories that hold no documentation of ours: build output, version
/// control, the emulator's virtualenv, and installed JavaScript packages.
const SKIPPED_DIRECTORIES: &[&str] = &["target", ".git", ".venv", "node_modules"];

/// The page that documents every field, and the heading its field tables sit under.
const SPEC_PAGE: &str = "docs/spec.md";
const FIELDS_HEADING: &str = "## Fields";

/// A sibling directory some checkouts once linked into; nothing may refer to it.
/// Split in two so that this file does not trip its own check.
const FORBIDDEN_MENTION: [&str; 2] = ["../sha", "red"];

fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A path relative to the repository root, for messages.
fn shown(path: &Path) -> String {
    path.strip_prefix(repository_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

// ---------------------------------------------------------------------------
// The spec reference covers the schema.
// ---------------------------------------------------------------------------

/// Every dotted property path of the schema.
fn schema_paths(schema: &Value) -> BTreeSet<String> {
    let definitions = schema
        .get("definitions")
        .or_else(|| schema.get("$defs"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut paths = BTreeSet::new();
    let mut resolving = Vec::new();
    collect_paths(schema, "", &definitions, &mut resolving, &mut paths);
    paths
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Adds the paths under `node`, which stands at `path`. `resolving` holds the
/// definitions being expanded along the way down, so a recursive schema ends.
fn collect_paths(
    node: &Value,
    path: &str,
    definitions: &serde_json::Map<String, Value>,
    resolving: &mut Vec<String>,
    paths: &mut BTreeSet<String>,
) {
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let name = reference
            .strip_prefix("#/definitions/")
            .or_else(|| reference.strip_prefix("#/$defs/"))
            .unwrap_or_else(|| panic!("schema: unsupported $ref `{reference}` at `{path}`"));
        if resolving.iter().any(|seen| seen == name) {
            return;
        }
        let target = definitions
            .get(name)
            .unwrap_or_else(|| panic!("schema: `{reference}` at `{path}` names no definition"));
        resolving.push(name.to_string());
        collect_paths(target, path, definitions, resolving, paths);
        resolving.pop();
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        for alternative in node
            .get(combinator)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            collect_paths(alternative, path, definitions, resolving, paths);
        }
    }
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let property_path = join(path, name);
            paths.insert(property_path.clone());
            collect_paths(property, &property_path, definitions, resolving, paths);
        }
    }
    let item_path = format!("{path}[]");
    match node.get("items") {
        Some(Value::Array(tuple)) => {
            for item in tuple {
                collect_paths(item, &item_path, definitions, resolving, paths);
            }
        }
        Some(item @ Value::Object(_)) => {
            collect_paths(item, &item_path, definitions, resolving, paths)
        }
        _ => {}
    }
    if let Some(value @ Value::Object(_)) = node.get("additionalProperties") {
        collect_paths(value, &join(path, "<key>"), definitions, resolving, paths);
    }
}

/// The paths `docs/spec.md` documents, each with the lines it is on: the
/// first cell of every table row under `## Fields`, up to the next `## `
/// heading. Also returns rows whose first cell is not one backticked path.
fn documented_paths(text: &str) -> (BTreeMap<String, Vec<usize>>, Vec<String>) {
    let mut documented: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut malformed = Vec::new();
    let mut in_fields = false;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.starts_with("## ") {
            in_fields = line.trim_end() == FIELDS_HEADING;
            continue;
        }
        if !in_fields || !line.trim_start().starts_with('|') {
            continue;
        }
        let first_cell = line.trim_start()[1..]
            .split('|')
            .next()
            .unwrap_or("")
            .trim();
        if !first_cell.contains('`') {
            // A header or separator row.
            continue;
        }
        let path = first_cell
            .strip_prefix('`')
            .and_then(|rest| rest.strip_suffix('`'))
            .filter(|inner| !inner.is_empty() && !inner.contains('`'));
        match path {
            Some(path) => documented.entry(path.to_string()).or_default().push(number),
            None => malformed.push(format!(
                "{SPEC_PAGE}:{number}: the first cell `{first_cell}` is not one path in backticks"
            )),
        }
    }
    (documented, malformed)
}

#[test]
fn spec_reference_documents_every_schema_field_and_nothing_else() {
    let root = repository_root();
    let schema: Value = serde_json::from_str(&read(&root.join("schema/eksform.schema.json")))
        .expect("schema/eksform.schema.json is JSON");
    let in_schema = schema_paths(&schema);
    assert!(
        in_schema.len() > 50,
        "the schema walk found only {} paths: the walk is broken",
        in_schema.len()
    );
    let (documented, mut problems) = documented_paths(&read(&root.join(SPEC_PAGE)));

    for path in &in_schema {
        if !documented.contains_key(path) {
            problems.push(format!(
                "{SPEC_PAGE}: `{path}` is in the schema but has no row under `{FIELDS_HEADING}`"
            ));
        }
    }
    for (path, lines) in &documented {
        if !in_schema.contains(path) {
            problems.push(format!(
                "{SPEC_PAGE}:{}: `{path}` is documented but is not a field of the schema",
                lines[0]
            ));
        }
        if lines.len() > 1 {
            problems.push(format!(
                "{SPEC_PAGE}:{}: `{path}` is documented {} times (lines {lines:?}); once is enough",
                lines[1],
                lines.len()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/spec.md is out of step with schema/eksform.schema.json ({} problems):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------
// No link leaves the repository.
// ---------------------------------------------------------------------------

/// Every file of the repository outside the skipped directories.
fn repository_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![repository_root()];
    while let Some(directory) = pending.pop() {
        let entries = std::fs::read_dir(&directory)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", directory.display()));
        for entry in entries {
            let entry = entry.expect("a directory entry");
            let path = entry.path();
            let name = entry.file_name();
            let file_type = entry.file_type().expect("a file type");
            if file_type.is_dir() {
                if !SKIPPED_DIRECTORIES.iter().any(|skipped| name == *skipped) {
                    pending.push(path);
                }
            } else if file_type.is_file() && name != ".git" {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The text of a file, or None for a binary one (a NUL byte near the start).
fn text_of(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.iter().take(8000).any(|byte| *byte == 0) {
        return None;
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// A line without its inline code spans: a link written inside backticks is
/// an example, not a link.
fn without_code_spans(line: &str) -> String {
    let mut kept = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        kept.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|c| *c == '`').count();
        let fence = &rest[start..start + ticks];
        let after = &rest[start + ticks..];
        match after.find(fence) {
            Some(end) => rest = &after[end + ticks..],
            None => {
                // An unmatched backtick is plain text.
                kept.push_str(fence);
                rest = after;
            }
        }
    }
    kept.push_str(rest);
    kept
}

/// The link targets of one line of prose: inline links `[text](target)`,
/// images, reference definitions `[name]: target`, autolinks `<scheme:...>`
/// and bare web addresses (which renderers turn into links).
fn link_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let after = after.trim_start();
        let target = if let Some(bracketed) = after.strip_prefix('<') {
            bracketed.split('>').next().unwrap_or("")
        } else {
            after
                .split(|c: char| c == ')' || c.is_whitespace())
                .next()
                .unwrap_or("")
        };
        targets.push(target.to_string());
        rest = after;
    }
    let trimmed = line.trim_start();
    if trimmed.starts_with('[')
        && let Some(close) = trimmed.find("]:")
        && !trimmed[..close].contains("](")
        && let Some(target) = trimmed[close + 2..].split_whitespace().next()
    {
        targets.push(target.trim_matches(['<', '>']).to_string());
    }
    let mut rest = line;
    while let Some(at) = rest.find('<') {
        let after = &rest[at + 1..];
        let candidate = after.split('>').next().unwrap_or("");
        if has_scheme(candidate) && !candidate.contains(char::is_whitespace) {
            targets.push(candidate.to_string());
        }
        rest = after;
    }
    for scheme in ["http://", "https://"] {
        let mut rest = line;
        while let Some(at) = rest.find(scheme) {
            let address: String = rest[at..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, ')' | '>' | '"' | '\''))
                .collect();
            if !targets.contains(&address) {
                targets.push(address);
            }
            rest = &rest[at + scheme.len()..];
        }
    }
    targets
}

/// Whether a target starts with a URL scheme (`https:`, `mailto:`, `file:`).
fn has_scheme(target: &str) -> bool {
    let Some((scheme, _)) = target.split_once(':') else {
        return false;
    };
    let mut characters = scheme.chars();
    characters.next().is_some_and(|c| c.is_ascii_alphabetic())
        && characters.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `target` relative to `file`'s directory (or to the root when it starts
/// with `/`), normalised without touching the disk; None when it climbs out
/// of the repository.
fn resolve_inside(root: &Path, file: &Path, target: &str) -> Option<PathBuf> {
    let (base, relative) = match target.strip_prefix('/') {
        Some(from_root) => (root.to_path_buf(), from_root),
        None => (file.parent()?.to_path_buf(), target),
    };
    let base = base.strip_prefix(root).ok()?.to_path_buf();
    let mut parts: Vec<String> = base
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for component in Path::new(&relative.replace("%20", " ")).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(
        parts
            .iter()
            .fold(root.to_path_buf(), |path, part| path.join(part)),
    )
}

/// The anchors GitHub gives a Markdown file's headings: lower case, spaces to
/// dashes, punctuation other than `-` and `_` dropped, repeats numbered.
fn heading_anchors(text: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut in_fence = false;
    for line in text.lines() {
        if is_fence(line) {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if hashes == 0 || hashes > 6 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let slug: String = line[hashes..]
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let seen = counts.entry(slug.clone()).or_default();
        anchors.insert(if *seen == 0 {
            slug.clone()
        } else {
            format!("{slug}-{seen}")
        });
        *seen += 1;
    }
    anchors
}

fn is_fence(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.starts_with("```") || trimmed.starts_with("~~~")
}

/// The problems of one link target written in `file` at `line`.
fn check_link(root: &Path, file: &Path, line: usize, target: &str) -> Option<String> {
    let at = format!("{}:{line}", shown(file));
    if target.is_empty() {
        return Some(format!("{at}: a link with no target"));
    }
    if has_scheme(target) {
        return Some(format!(
            "{at}: `{target}` links outside the repository; name the thing in plain text instead"
        ));
    }
    let (path_part, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let path_part = path_part.split('?').next().unwrap_or("");
    let linked = if path_part.is_empty() {
        file.to_path_buf()
    } else {
        match resolve_inside(root, file, path_part) {
            Some(linked) => linked,
            None => {
                return Some(format!("{at}: `{target}` resolves outside the repository"));
            }
        }
    };
    if !linked.exists() {
        return Some(format!(
            "{at}: `{target}` names `{}`, which does not exist",
            shown(&linked)
        ));
    }
    let is_markdown = linked.extension().is_some_and(|e| e == "md");
    if let (Some(anchor), true) = (anchor.filter(|a| !a.is_empty()), is_markdown)
        && !heading_anchors(&read(&linked)).contains(anchor)
    {
        return Some(format!(
            "{at}: `{target}`: `{}` has no heading with the anchor `#{anchor}`",
            shown(&linked)
        ));
    }
    None
}

#[test]
fn documentation_links_stay_inside_the_repository() {
    let root = repository_root();
    let forbidden = FORBIDDEN_MENTION.concat();
    let mut problems = Vec::new();
    let mut markdown_files = 0;
    for file in repository_files() {
        let Some(text) = text_of(&file) else {
            continue;
        };
        for (index, line) in text.lines().enumerate() {
            if line.contains(&forbidden) {
                problems.push(format!(
                    "{}:{}: mentions `{forbidden}`, which is outside the repository",
                    shown(&file),
                    index + 1
                ));
            }
        }
        if file.extension().is_none_or(|e| e != "md") {
            continue;
        }
        markdown_files += 1;
        let mut in_fence = false;
        for (index, line) in text.lines().enumerate() {
            if is_fence(line) {
                in_fence = !in_fence;
                continue;
            }
            if in_fence {
                continue;
            }
            for target in link_targets(&without_code_spans(line)) {
                problems.extend(check_link(&root, &file, index + 1, &target));
            }
        }
    }
    assert!(
        markdown_files >= 5,
        "found only {markdown_files} Markdown files: the walk is broken"
    );
    assert!(
        problems.is_empty(),
        "{} link problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
