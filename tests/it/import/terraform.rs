//! Data-driven tests of `eksform import terraform`: for each directory in
//! tests/imports/terraform, the state file `state.json` is imported; the spec
//! and `removed.tf` are snapshots, and the spec, planned against the imported
//! resources taken as the live account, shows only adoptions.

use std::path::{Path, PathBuf};

use std::process::Command;

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

/// `eksform import terraform` run as a user runs it, in `dir`.
fn import_command(dir: &Path, state: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(crate::EKSFORM)
        .current_dir(dir)
        .args(["import", "terraform", "--state"])
        .arg(std::fs::canonicalize(state).unwrap_or_else(|_| state.to_path_buf()))
        .args(["--stack", "prod"])
        .args(extra)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn import_terraform_writes_the_spec_and_removed_tf_and_never_overwrites_them() {
    let dir = tempfile::tempdir().unwrap();
    let state = Path::new("tests/imports/terraform/eks-module/state.json");
    let output = import_command(dir.path(), state, &["--out", "prod.yaml"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(output.stdout.is_empty(), "the spec goes to the file");

    let spec = std::fs::read_to_string(dir.path().join("prod.yaml")).unwrap();
    let expected = {
        let text = std::fs::read_to_string(state).unwrap();
        write_spec(&terraform::import(&text, "prod").unwrap().draft).unwrap()
    };
    assert_eq!(spec, expected);
    let removed = std::fs::read_to_string(dir.path().join("removed.tf")).unwrap();
    assert!(
        removed.contains("removed {\n  from = module.vpc\n"),
        "{removed}"
    );
    // What stays with Terraform is said, and how Terraform forgets the rest.
    assert!(
        stderr.contains("not imported: module.eks.time_sleep.this[0] (time_sleep)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("terraform state rm 'module.eks.aws_eks_cluster.this[0]'"),
        "{stderr}"
    );
    // The written spec is one `eksform validate` accepts.
    let validate = Command::new(crate::EKSFORM)
        .current_dir(dir.path())
        .args(["validate", "prod.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        validate.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&validate.stderr)
    );

    // A second run refuses to overwrite what may have been edited since.
    std::fs::write(dir.path().join("prod.yaml"), "# edited\n").unwrap();
    let again = import_command(dir.path(), state, &["--out", "prod.yaml"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("refusing to overwrite prod.yaml and removed.tf")
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("prod.yaml")).unwrap(),
        "# edited\n"
    );
    let forced = import_command(dir.path(), state, &["--out", "prod.yaml", "--force"]);
    assert_eq!(forced.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("prod.yaml")).unwrap(),
        expected
    );
}

#[test]
fn import_terraform_without_out_prints_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let output = import_command(
        dir.path(),
        Path::new("tests/imports/terraform/plain/state.json"),
        &[],
    );
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("stack: prod\nregion: eu-west-1\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  - address: eks_cluster.main\n    id: legacy\n"),
        "{stdout}"
    );
    assert!(!dir.path().join("removed.tf").exists());
}

#[test]
fn import_terraform_refuses_bad_input_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "terraform output here\n").unwrap();
    let cases: [(&Path, &str); 3] = [
        (
            Path::new("tests/imports/terraform-invalid/state-v3.json"),
            "Terraform state format version 3 is not supported: eksform reads version 4",
        ),
        (
            &dir.path().join("missing.json"),
            "cannot read the state file",
        ),
        (&dir.path().join("notes.txt"), "not a Terraform state"),
    ];
    for (state, message) in cases {
        let output = import_command(dir.path(), state, &["--out", "prod.yaml"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(message), "{message} in: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!dir.path().join("prod.yaml").exists(), "nothing is written");
    }
    let output = Command::new(crate::EKSFORM)
        .args(["import", "terraform", "--stack", "Prod_1", "--state"])
        .arg(dir.path().join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("--stack: `Prod_1` is not a valid stack name"),
        "the name is refused before the file is read"
    );
}

#[test]
fn a_state_holding_part_of_an_estate_gives_a_spec_to_complete_and_says_so() {
    // A cluster whose VPC another configuration made: the spec has a cluster
    // and no network, which `validate` refuses.
    let dir = tempfile::tempdir().unwrap();
    let state = serde_json::json!({
        "version": 4, "terraform_version": "1.9.8", "serial": 1, "lineage": "x", "outputs": {},
        "resources": [{
            "mode": "managed", "type": "aws_eks_cluster", "name": "main",
            "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
            "instances": [{ "schema_version": 0, "attributes": {
                "id": "apps", "name": "apps", "version": "1.31",
                "arn": "arn:aws:eks:eu-west-1:111122223333:cluster/apps",
                "role_arn": "arn:aws:iam::111122223333:role/apps-cluster",
                "vpc_config": [{ "vpc_id": "vpc-0elsewhere", "subnet_ids": ["subnet-0a", "subnet-0b"] }]
            } }]
        }]
    });
    let path = dir.path().join("state.json");
    std::fs::write(&path, state.to_string()).unwrap();
    let output = import_command(dir.path(), &path, &["--out", "apps.yaml"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("the spec needs editing:"), "{stderr}");
    assert!(
        dir.path().join("apps.yaml").exists(),
        "the spec is written, to be completed"
    );
}
