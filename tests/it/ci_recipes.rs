//! The CI recipes in `examples/ci/`, as a team copies them: every file parses
//! as YAML of its CI's shape, every eksform command they run exists with the
//! flags they pass, credentials come by OIDC and never by keys, and the plain
//! shell script runs its plan, apply and drift jobs against the emulator.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eksform_testkit::emulator::Emulator;
use serde_json::Value;

use crate::EKSFORM;

const CI_DIR: &str = "examples/ci";
const SCRIPT: &str = "examples/ci/eksform-ci.sh";

/// Every file under `examples/ci`, recursively (dot files included: GitLab's
/// is `.gitlab-ci.yml`).
fn recipe_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a readable directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, files);
            } else {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(Path::new(CI_DIR), &mut files);
    files.sort();
    files
}

fn yaml_recipes() -> Vec<(PathBuf, Value)> {
    recipe_files()
        .into_iter()
        .filter(|path| {
            matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yml" | "yaml")
            )
        })
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a readable recipe");
            let value: Value = serde_saphyr::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
            assert!(
                value.is_object(),
                "{} is not a YAML mapping",
                path.display()
            );
            (path, value)
        })
        .collect()
}

fn github_workflows() -> Vec<(PathBuf, Value)> {
    yaml_recipes()
        .into_iter()
        .filter(|(path, _)| path.starts_with(Path::new(CI_DIR).join("github")))
        .collect()
}

/// The shell lines a recipe runs: GitHub's `run`, GitLab's `script`,
/// CircleCI's `command`, CodeBuild's `commands`, wherever they are nested.
fn shell_lines(value: &Value, lines: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("run" | "command", Value::String(text)) => {
                        lines.extend(text.lines().map(str::to_string));
                    }
                    ("script" | "before_script" | "commands", Value::Array(items)) => {
                        lines.extend(items.iter().filter_map(Value::as_str).map(str::to_string));
                    }
                    _ => shell_lines(value, lines),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| shell_lines(item, lines)),
        _ => {}
    }
}

/// The lines of the shell script that are commands (not comments).
fn script_lines() -> Vec<String> {
    std::fs::read_to_string(SCRIPT)
        .expect("the CI script")
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Each eksform invocation in `line`: the subcommand and the `--flags` after
/// it. The binary is `eksform` or the script's `"$EKSFORM"`; a bare
/// `eksform` at the end of a line is a crate name (`cargo install … eksform`).
fn invocations(line: &str) -> Vec<(String, Vec<String>)> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let mut found = Vec::new();
    for (at, token) in tokens.iter().enumerate() {
        if !matches!(*token, "eksform" | "\"$EKSFORM\"") {
            continue;
        }
        let Some(subcommand) = tokens.get(at + 1) else {
            continue;
        };
        let flags = tokens[at + 2..]
            .iter()
            .take_while(|t| !matches!(**t, ">" | "|" | "||" | "&&" | ";"))
            .filter(|t| t.starts_with("--"))
            .map(|t| t.split('=').next().unwrap_or(t).to_string())
            .collect();
        found.push((subcommand.to_string(), flags));
    }
    found
}

fn help(args: &[&str]) -> String {
    let output = Command::new(EKSFORM)
        .args(args)
        .arg("--help")
        .output()
        .expect("eksform runs");
    assert!(output.status.success(), "eksform {args:?} --help failed");
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn every_recipe_parses_and_every_eksform_command_it_runs_exists_with_its_flags() {
    let recipes = yaml_recipes();
    assert!(
        recipes.len() >= 5,
        "expected the GitHub, GitLab, CircleCI and CodeBuild recipes, found {recipes:?}"
    );
    let mut lines = Vec::new();
    for (_, recipe) in &recipes {
        shell_lines(recipe, &mut lines);
    }
    lines.extend(script_lines());

    let top = help(&[]);
    let mut usages = std::collections::BTreeMap::new();
    let mut checked = BTreeSet::new();
    for line in &lines {
        for (subcommand, flags) in invocations(line) {
            assert!(
                top.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{subcommand} "))),
                "`{line}` runs `eksform {subcommand}`, which `eksform --help` does not list"
            );
            let usage = usages
                .entry(subcommand.clone())
                .or_insert_with(|| help(&[&subcommand]));
            for flag in flags {
                assert!(
                    usage.contains(&flag),
                    "`{line}` passes {flag}, which `eksform {subcommand} --help` does not list"
                );
                checked.insert(format!("{subcommand} {flag}"));
            }
        }
    }
    // The recipes' point: a Markdown plan saved for apply, a drift check.
    for needed in [
        "plan --markdown",
        "plan --out",
        "plan --detailed-exitcode",
        "apply --auto-approve",
    ] {
        assert!(
            checked.contains(needed),
            "no recipe runs `eksform {needed}`; checked: {checked:?}"
        );
    }
    // Every call of the shared script names one of its jobs.
    for line in lines.iter().filter(|l| l.contains("eksform-ci.sh")) {
        let job = line
            .split_whitespace()
            .skip_while(|t| !t.ends_with("eksform-ci.sh"))
            .nth(1)
            .unwrap_or_default();
        assert!(
            matches!(job, "plan" | "apply" | "drift" | "\"$EKSFORM_JOB\""),
            "`{line}` calls eksform-ci.sh with {job:?}, not plan, apply or drift"
        );
    }
}

#[test]
fn github_workflows_have_the_shape_actions_runs_and_use_oidc_not_keys() {
    let workflows = github_workflows();
    let names: BTreeSet<String> = workflows
        .iter()
        .filter_map(|(path, _)| path.file_name()?.to_str().map(str::to_string))
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "eksform-apply.yml".to_string(),
            "eksform-drift.yml".to_string(),
            "eksform-plan.yml".to_string()
        ])
    );
    for (path, workflow) in &workflows {
        let file = path.display();
        // `on` stays a key: a YAML 1.1 reader would turn it into `true`.
        let on = workflow
            .get("on")
            .unwrap_or_else(|| panic!("{file}: no `on`"));
        assert!(on.is_object(), "{file}: `on` is not a mapping of events");
        assert_eq!(
            workflow.pointer("/permissions/id-token"),
            Some(&Value::from("write")),
            "{file}: the OIDC token needs `permissions: id-token: write`"
        );
        let jobs = workflow
            .get("jobs")
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{file}: no jobs"));
        let mut assumes_a_role = false;
        for (name, job) in jobs {
            assert!(
                job.get("runs-on").is_some(),
                "{file}: job {name} has no runs-on"
            );
            let steps = job
                .get("steps")
                .and_then(Value::as_array)
                .filter(|steps| !steps.is_empty())
                .unwrap_or_else(|| panic!("{file}: job {name} has no steps"));
            for step in steps {
                assert!(
                    step.get("uses").is_some() != step.get("run").is_some(),
                    "{file}: a step of {name} must have exactly one of `uses` and `run`: {step}"
                );
                let uses = step.get("uses").and_then(Value::as_str).unwrap_or_default();
                if let Some(action) = uses.strip_prefix("aws-actions/configure-aws-credentials@") {
                    assert!(!action.is_empty(), "{file}: pin the action's version");
                    let with = step.get("with").cloned().unwrap_or_default();
                    assert!(
                        with.get("role-to-assume").is_some() && with.get("aws-region").is_some(),
                        "{file}: configure-aws-credentials needs role-to-assume and aws-region"
                    );
                    assumes_a_role = true;
                }
            }
        }
        assert!(assumes_a_role, "{file}: no step assumes a role by OIDC");
        let text = std::fs::read_to_string(path).expect("a readable workflow");
        for key in [
            "aws-access-key-id",
            "aws-secret-access-key",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(!text.contains(key), "{file} uses long-lived keys ({key})");
        }
    }
    // Plan and drift read; apply writes: each assumes the role made for it.
    let role = |name: &str| {
        std::fs::read_to_string(Path::new(CI_DIR).join("github").join(name))
            .expect("a workflow")
            .lines()
            .find(|l| l.contains("role-to-assume:"))
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert!(role("eksform-plan.yml").contains("EKSFORM_PLAN_ROLE_ARN"));
    assert!(role("eksform-drift.yml").contains("EKSFORM_PLAN_ROLE_ARN"));
    assert!(role("eksform-apply.yml").contains("EKSFORM_APPLY_ROLE_ARN"));
}

fn network_spec(stack: &str, cidr: &str) -> String {
    format!(
        "stack: {stack}\nregion: us-east-1\nvpc:\n  cidr: {cidr}\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Disable\n"
    )
}

/// Runs the CI script's `job` in `dir` with the emulator's endpoint and
/// credentials, as a CI job would with its role.
fn ci_job(emulator: &Emulator, dir: &Path, job: &str) -> Output {
    let eksform = emulator.eksform_via(&emulator.endpoint);
    let mut command = Command::new("bash");
    command
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(SCRIPT))
        .arg(job)
        .current_dir(dir)
        .env("EKSFORM", EKSFORM)
        .env("STACKS_DIR", "stacks");
    for (key, value) in eksform.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command.output().expect("bash runs the CI script")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ci_script_plans_saves_applies_the_saved_plans_and_finds_no_drift() {
    let emulator = Emulator::start(EKSFORM);
    let work = tempfile::tempdir().expect("a temporary directory");
    let stacks = work.path().join("stacks");
    std::fs::create_dir(&stacks).expect("the stacks directory");
    let in_stacks = |name: &str, text: &str| std::fs::write(stacks.join(name), text);
    in_stacks("blue.yaml", &network_spec("ci-blue", "10.71.0.0/16")).expect("a spec");
    in_stacks("green.yaml", &network_spec("ci-green", "10.72.0.0/16")).expect("a spec");

    let plan = ci_job(&emulator, work.path(), "plan");
    let stderr = String::from_utf8_lossy(&plan.stderr);
    assert_eq!(plan.status.code(), Some(2), "changes are exit 2:\n{stderr}");
    let markdown = std::fs::read_to_string(work.path().join("plan.md")).expect("plan.md");
    assert!(
        markdown.starts_with("<!--"),
        "the marker comes first:\n{markdown}"
    );
    assert!(
        markdown.contains("ci-blue") && markdown.contains("ci-green"),
        "both stacks are in the comment:\n{markdown}"
    );
    let mut plans: Vec<String> = std::fs::read_dir(work.path().join("plans"))
        .expect("the plans directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .to_string()
        })
        .collect();
    plans.sort();
    assert_eq!(
        plans.len(),
        2,
        "one plan file per stack with changes: {plans:?}"
    );
    assert!(plans.iter().all(|p| p.ends_with(".plan")), "{plans:?}");

    // Plan files left from an earlier run are never mixed with new ones.
    let again = emulator
        .eksform()
        .current_dir(work.path())
        .args(["plan", "stacks", "--out", "plans"])
        .output()
        .expect("eksform runs");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("already holds plan files"), "{stderr}");

    let apply = ci_job(&emulator, work.path(), "apply");
    assert!(
        apply.status.success(),
        "the saved plans apply:\n{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    let aws = emulator.clients("us-east-1").await;
    let vpcs = aws.ec2.describe_vpcs().send().await.expect("DescribeVpcs");
    let cidrs: BTreeSet<&str> = vpcs.vpcs().iter().filter_map(|v| v.cidr_block()).collect();
    assert!(
        cidrs.contains("10.71.0.0/16") && cidrs.contains("10.72.0.0/16"),
        "both stacks' VPCs exist: {cidrs:?}"
    );

    // A stack without changes gets no plan file: there is nothing to apply.
    let unchanged = emulator
        .eksform()
        .current_dir(work.path())
        .args(["plan", "stacks", "--out", "after"])
        .output()
        .expect("eksform runs");
    assert_eq!(
        unchanged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&unchanged.stderr)
    );
    let left = std::fs::read_dir(work.path().join("after"))
        .expect("the directory is made")
        .count();
    assert_eq!(left, 0, "no plan file for stacks without changes");

    let drift = ci_job(&emulator, work.path(), "drift");
    assert_eq!(
        drift.status.code(),
        Some(0),
        "no drift right after the apply:\n{}",
        String::from_utf8_lossy(&drift.stderr)
    );
}
