//! The kind registry holds together: every kind has a definition, an
//! adapter, IAM actions the printed policy grants, an observation floor and
//! an attribute schema covering what it lowers; names and id prefixes are
//! unique; every ordering rule names a real kind. A kind added without one of
//! these fails here (and the conformance suite runs it: `engine::conformance`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use eksform_core::iam_policy;
use eksform_core::kinds;
use eksform_core::{lower, spec};

fn kind_names() -> BTreeSet<&'static str> {
    kinds::ALL.iter().map(|k| k.name()).collect()
}

#[test]
fn names_and_id_prefixes_are_unique() {
    let mut names = BTreeMap::new();
    let mut prefixes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for kind in kinds::ALL {
        *names.entry(kind.name()).or_insert(0) += 1;
        prefixes
            .entry(kind.id_prefix())
            .or_default()
            .push(kind.name());
    }
    let twice: Vec<_> = names.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "kinds registered twice: {twice:?}");
    // Kinds that stand for the same AWS resource share its prefix; others may not.
    const SAME_RESOURCE: &[&[&str]] = &[&["subnet", "subnet_tags"]];
    for (prefix, holders) in prefixes {
        assert!(
            holders.len() == 1 || SAME_RESOURCE.contains(&holders.as_slice()),
            "id prefix `{prefix}` is claimed by {holders:?}"
        );
    }
}

#[test]
fn every_ordering_rule_names_a_registered_kind() {
    let names = kind_names();
    for kind in kinds::ALL {
        let floor = kind.observation_floor();
        let named = kind
            .delete_after()
            .iter()
            .chain(kind.delete_refused_while())
            .chain(floor.each_of.iter());
        for other in named {
            assert!(
                names.contains(other),
                "{} names `{other}`, which is no registered kind",
                kind.name()
            );
        }
    }
}

#[test]
fn every_kind_has_an_adapter_and_every_adapter_a_kind() {
    for kind in kinds::ALL {
        let adapter =
            eksform_aws::adapter(*kind).unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
        assert_eq!(adapter.name(), kind.name());
    }
    let names = kind_names();
    for adapter in eksform_aws::ADAPTERS {
        assert!(
            names.contains(adapter.name()),
            "adapter of `{}`, which is no registered kind",
            adapter.name()
        );
    }
    assert_eq!(eksform_aws::ADAPTERS.len(), kinds::ALL.len());
}

#[test]
fn every_kinds_iam_actions_are_granted_by_the_printed_policy() {
    let document = iam_policy::document();
    let granted: BTreeSet<String> = document["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .flat_map(|statement| match &statement["Action"] {
            serde_json::Value::String(action) => vec![action.clone()],
            serde_json::Value::Array(actions) => actions
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        })
        .map(|action| action.to_ascii_lowercase())
        .collect();
    for kind in kinds::ALL {
        assert!(
            !kind.iam_actions().is_empty(),
            "{} lists no IAM actions",
            kind.name()
        );
        for action in kind.iam_actions() {
            assert!(
                granted.contains(&action.to_ascii_lowercase()),
                "{}: `{action}` is not in `eksform iam-policy`",
                kind.name()
            );
        }
    }
}

#[test]
fn every_kind_has_an_observation_floor() {
    for kind in kinds::ALL {
        let floor = kind.observation_floor();
        assert!(
            !floor.how.is_empty(),
            "{}: the floor says no calls",
            kind.name()
        );
        // One resource of the kind (and of what it is counted by) costs the floor's calls.
        let one = |_: &str| 1;
        assert_eq!(
            floor.calls(one, kind.name()),
            floor.always + floor.if_any + floor.each + usize::from(floor.each_of.is_some()),
            "{}",
            kind.name()
        );
    }
}

/// Every attribute any example or stack lowers to is in its kind's schema, so
/// that generic code (diff, conformance, the memory cloud) knows how it
/// changes; and every schema entry is lowered or computed somewhere.
#[test]
fn attribute_schemas_cover_what_the_kinds_lower() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut lowered: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for dir in ["examples", "examples/bluegreen", "stacks"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("a directory") {
            let path = entry.expect("an entry").path();
            let Ok(loaded) = spec::load(&path) else {
                continue; // a base file, not a stack
            };
            let model = lower::model(&loaded.spec);
            for resource in lower::desired(&model) {
                lowered
                    .entry(resource.kind.clone())
                    .or_default()
                    .extend(resource.attributes.keys().cloned());
            }
        }
    }
    let mut missing = Vec::new();
    for kind in kinds::ALL {
        for name in lowered.get(kind.name()).into_iter().flatten() {
            if kind.attribute(name).is_none() {
                missing.push(format!("{}.{name}", kind.name()));
            }
        }
        let declared: BTreeSet<&str> = kind.attributes().iter().map(|a| a.name).collect();
        assert_eq!(
            declared.len(),
            kind.attributes().len(),
            "{} declares an attribute twice",
            kind.name()
        );
    }
    assert!(
        missing.is_empty(),
        "attributes lowered but not in their kind's schema: {missing:?}"
    );
}

/// Each adapter's source calls only what its kind lists (itself or through
/// its service's shared code), so the per-kind lists stay true; the union is
/// checked against all the calls in `iam_policy`.
#[test]
fn each_adapter_calls_only_its_kinds_iam_actions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/aws/src");
    for kind in kinds::ALL {
        let service = match kind.service() {
            "elasticloadbalancing" => "elbv2",
            "elasticfilesystem" => "efs",
            other => other,
        };
        let path = root.join(service).join(format!("{}.rs", kind.name()));
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: no adapter file {}: {e}", kind.name(), path.display()));
        let source: String = source.chars().filter(|c| !c.is_whitespace()).collect();
        let listed: BTreeSet<String> = kind
            .iam_actions()
            .iter()
            .map(|a| a.to_ascii_lowercase())
            .collect();
        for (client, prefix) in [
            ("ec2", "ec2"),
            ("eks", "eks"),
            ("iam", "iam"),
            ("logs", "logs"),
            ("elb", "elasticloadbalancing"),
            ("acm", "acm"),
            ("route53", "route53"),
            ("ecr", "ecr"),
            ("efs", "elasticfilesystem"),
        ] {
            let needle = format!("{client}.");
            for (at, _) in source.match_indices(&needle) {
                let call: String = source[at + needle.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !source[at + needle.len() + call.len()..].starts_with("()") {
                    continue;
                }
                let action = format!("{prefix}:{}", call.replace('_', ""));
                assert!(
                    listed.contains(&action),
                    "{} calls `{client}.{call}()` but its iam_actions lack `{action}`",
                    kind.name()
                );
            }
        }
    }
}
