//! Data-driven tests of `eksform import terraform`: for each directory in
//! tests/imports/terraform, the state file `state.json` is imported; the spec
//! and `removed.tf` are snapshots, and the spec, planned against the imported
//! resources taken as the live account, shows only adoptions.

use std::path::{Path, PathBuf};

use eksform_core::diagnostics::SourceFile;
use eksform_core::import::{removed_tf, terraform, write_spec};
use eksform_core::model::{LiveResource, Status, Value};
use eksform_core::observe::FOUND_BY_ADOPT;
use eksform_core::plan::{self, Action};
use eksform_core::{lower, spec};

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir("tests/imports/terraform")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("state.json").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "the import cases are found");
    cases
}

fn name(case: &Path) -> String {
    case.file_name().unwrap().to_string_lossy().to_string()
}

/// The case's state imported as stack `imported`.
fn import(case: &Path) -> terraform::TerraformImport {
    let text = std::fs::read_to_string(case.join("state.json")).unwrap();
    terraform::import(&text, "imported").unwrap_or_else(|e| panic!("{}: {e}", name(case)))
}

#[test]
fn specs_and_removed_blocks_of_every_case_match_their_snapshots() {
    for case in cases() {
        let imported = import(&case);
        let spec = write_spec(&imported.draft).unwrap_or_else(|e| panic!("{}: {e}", name(&case)));
        insta::assert_snapshot!(format!("{}-spec", name(&case)), spec);
        insta::assert_snapshot!(
            format!("{}-removed-tf", name(&case)),
            removed_tf::removed_blocks(&imported)
        );
    }
}

#[test]
fn the_spec_of_every_case_plans_only_adoptions_of_what_the_state_holds() {
    for case in cases() {
        let case_name = name(&case);
        let imported = import(&case);
        let text = write_spec(&imported.draft).unwrap();
        let loaded = spec::parse(SourceFile::new(format!("{case_name}.yaml"), text.clone()))
            .unwrap_or_else(|d| panic!("{case_name}: the spec loads:\n{d:?}\n{text}"));
        let model = lower::model(&loaded.spec);
        let desired = lower::desired(&model);
        // The imported resources as observation finds adopt entries: unmarked,
        // found by their entry.
        let live: Vec<LiveResource> = imported
            .draft
            .resources
            .iter()
            .map(|r| {
                let mut attributes = r.attributes.clone();
                attributes.insert("found_by".into(), Value::string(FOUND_BY_ADOPT));
                LiveResource {
                    address: r.address.clone(),
                    kind: r.kind.clone(),
                    id: r.id.clone(),
                    attributes,
                    status: Status::Ready,
                }
            })
            .collect();
        let changes = plan::diff(&desired, &live)
            .unwrap_or_else(|e| panic!("{case_name}: the plan is refused: {e}\n{text}"));
        let not_adopted: Vec<String> = changes
            .iter()
            .filter(|c| c.action != Action::Adopt)
            .map(|c| format!("{:?} {}", c.action, c.address))
            .collect();
        assert!(
            not_adopted.is_empty(),
            "{case_name}: only adoptions, not {not_adopted:?}\n{text}"
        );
        assert_eq!(
            changes.len(),
            imported.draft.resources.len(),
            "{case_name}: every imported resource is adopted"
        );
        for change in &changes {
            let live = live.iter().find(|l| l.address == change.address).unwrap();
            assert_eq!(
                change.live.as_ref().map(|l| &l.id),
                Some(&live.id),
                "{case_name}: {} keeps its id",
                change.address
            );
        }
    }
}

#[test]
fn unknown_types_are_listed_never_dropped() {
    let imported = import(Path::new("tests/imports/terraform/unknown-types"));
    let listed: Vec<&str> = imported
        .draft
        .unmapped
        .iter()
        .map(|u| u.source.as_str())
        .collect();
    for source in [
        "aws_sqs_queue.jobs",
        "aws_s3_bucket.artifacts",
        "aws_iam_role.worker",
    ] {
        assert!(listed.contains(&source), "{source} is listed: {listed:?}");
    }
    // Every managed instance is adopted, goes with one, or is listed.
    for instance in &imported.instances {
        let accounted =
            instance.fate.leaves_terraform() || listed.contains(&instance.address.as_str());
        assert!(accounted, "{} is accounted for", instance.address);
    }
    let spec = write_spec(&imported.draft).unwrap();
    assert!(
        spec.contains("aws_sqs_queue.jobs (aws_sqs_queue): eksform does not model aws_sqs_queue")
    );
}
