//! What `cargo install eksform` ships: the `eksform` binary and what it
//! needs, never the test machinery (tokio's `test-util`, an HTTP server, the
//! memory cloud of `eksform-testkit`); and one version of each Smithy
//! runtime crate, so the SDK clients share one HTTP stack.

use std::collections::BTreeMap;
use std::process::Command;

/// The `eksform` package's normal dependency tree with each crate's features.
fn shipped_tree() -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["tree", "--offline", "-p", "eksform", "-e", "normal"])
        .args(["--prefix", "none", "-f", "{p} {f}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn the_shipped_binary_carries_no_test_machinery() {
    let tree = shipped_tree();
    let features = |name: &str| -> Vec<String> {
        tree.lines()
            .filter(|line| line.starts_with(&format!("{name} v")))
            .flat_map(|line| line.split_whitespace().nth(2).unwrap_or("").split(','))
            .map(str::to_string)
            .collect()
    };
    assert!(!features("tokio").is_empty(), "tokio is in the tree");
    assert!(
        !features("tokio").iter().any(|f| f == "test-util"),
        "tokio's test-util is shipped"
    );
    assert!(
        !features("hyper").iter().any(|f| f == "server"),
        "an HTTP server is shipped"
    );
    for test_only in ["eksform-testkit", "eksform-bench"] {
        assert!(
            !tree
                .lines()
                .any(|line| line.starts_with(&format!("{test_only} v"))),
            "{test_only} is shipped"
        );
    }
}

#[test]
fn one_version_of_each_smithy_runtime_crate() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"))
        .expect("Cargo.lock");
    let mut versions: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(value) = line.strip_prefix("name = ") {
            name = Some(value.trim_matches('"'));
        } else if let (Some(value), Some(current)) = (line.strip_prefix("version = "), name) {
            if current.starts_with("aws-smithy-") {
                versions
                    .entry(current)
                    .or_default()
                    .push(value.trim_matches('"'));
            }
            name = None;
        }
    }
    let twice: Vec<_> = versions.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(!versions.is_empty(), "Smithy crates are locked");
    assert!(twice.is_empty(), "several versions of: {twice:?}");
}
