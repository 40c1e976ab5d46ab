//! Data-driven tests of `extends` (docs/spec.md): each directory in `tests/extends`
//! is a case whose entry point is `stack.yaml`.
//!
//! - A case whose `stack.yaml` starts with `# expect: <file>:<line>:<column> <text>`
//!   lines must fail with exactly those errors (the file relative to the case).
//! - Any other case must load, and the merged spec is snapshotted as JSON.

use std::path::{Path, PathBuf};

use eksform_core::{model, spec};

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir("tests/extends")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

fn expectations(case: &Path, stack: &str) -> Vec<(String, String)> {
    stack
        .lines()
        .filter_map(|line| line.strip_prefix("# expect: "))
        .map(|rest| {
            let (location, text) = rest.split_once(' ').expect("`<location> <text>`");
            (
                format!("{}/{location}", case.display()),
                text.trim().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_case_merges_or_fails_as_it_says() {
    let cases = cases();
    assert!(cases.len() >= 8, "the extends cases are found");
    let mut failures = Vec::new();
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let entry = case.join("stack.yaml");
        let expected = expectations(&case, &std::fs::read_to_string(&entry).unwrap());
        match (spec::load(&entry), expected.is_empty()) {
            (Ok(loaded), true) => {
                let merged = without_nulls(serde_json::to_value(&loaded.spec).unwrap());
                insta::assert_snapshot!(
                    name.as_str(),
                    serde_json::to_string_pretty(&model::sorted_json(merged)).unwrap()
                );
            }
            (Ok(_), false) => failures.push(format!("{name}: loaded, expected errors")),
            (Err(diagnostics), true) => {
                failures.push(format!("{name}: unexpected errors:\n{diagnostics}"))
            }
            (Err(diagnostics), false) => {
                let reported: Vec<(String, String)> = diagnostics
                    .iter()
                    .map(|d| (d.location().unwrap_or_default(), d.message.clone()))
                    .collect();
                for (location, text) in &expected {
                    if !reported
                        .iter()
                        .any(|(l, m)| l == location && m.contains(text.as_str()))
                    {
                        failures.push(format!(
                            "{name}: expected `{location}: {text}`, reported:\n{diagnostics}"
                        ));
                    }
                }
                if reported.len() != expected.len() {
                    failures.push(format!(
                        "{name}: {} errors reported, {} expected:\n{diagnostics}",
                        reported.len(),
                        expected.len()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Absent optional fields, dropped so the snapshot shows what the files say.
fn without_nulls(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k, without_nulls(v)))
            .collect(),
        serde_json::Value::Array(items) => items.into_iter().map(without_nulls).collect(),
        other => other,
    }
}
