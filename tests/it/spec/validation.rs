//! Data-driven tests of spec validation (docs/spec.md).
//!
//! Every file in `tests/specs/invalid` is one case. Its leading comments say what
//! `eksform validate` must report, one line per error:
//!
//! ```text
//! # expect: <line>:<column> <substring of the report>
//! ```
//!
//! A case passes when the run exits 1, every expected error is reported at exactly
//! that location with that text, and no error is reported anywhere else.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use eksform_core::diagnostics::{RenderedDiagnostic, SourceFile};
use proptest::prelude::*;
use proptest::sample::Index;

/// A full spec using every section (without `extends`), which must validate cleanly.
const VALID_SPEC: &str = r#"stack: prd
region: ap-northeast-1
account: "111122223333"
tags:
  env: prd
  team: platform
vpc:
  cidr: 10.20.0.0/16
  availabilityZones: [ap-northeast-1a, ap-northeast-1c, ap-northeast-1d]
  subnets:
    public:
      ap-northeast-1a: { cidr: 10.20.0.0/19 }
      ap-northeast-1c: { cidr: 10.20.32.0/19 }
      ap-northeast-1d: { cidr: 10.20.64.0/19 }
    private:
      ap-northeast-1a: { cidr: 10.20.128.0/19 }
      ap-northeast-1c: { cidr: 10.20.160.0/19 }
      ap-northeast-1d: { cidr: 10.20.192.0/19 }
  nat:
    gateway: Single
cluster:
  name: prd
  version: "1.31"
  endpoints:
    publicAccess: true
    privateAccess: true
  publicAccessCIDRs:
    - 198.51.100.7/32
    - { fromStack: dev-stg, output: natPublicIPs }
  logging:
    enableTypes: [api, audit, authenticator, controllerManager, scheduler]
    logRetentionInDays: 30
  addons:
    - name: vpc-cni
      version: latest
    - name: aws-ebs-csi-driver
      serviceAccount: kube-system/ebs-csi-controller-sa
  accessEntries:
    - principalARN: arn:aws:iam::111122223333:role/platform-admins
      accessPolicies:
        - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy
          accessScope: { type: cluster }
iam:
  withOIDC: true
  serviceAccounts:
    - metadata: { namespace: kube-system, name: cluster-autoscaler }
      wellKnownPolicies: { autoScaler: true }
    - metadata: { namespace: kube-system, name: external-dns }
      wellKnownPolicies: { externalDNS: true }
    - metadata: { namespace: kube-system, name: aws-load-balancer-controller }
      wellKnownPolicies: { awsLoadBalancerController: true }
    - metadata: { namespace: kube-system, name: ebs-csi-controller-sa }
      wellKnownPolicies: { ebsCSIController: true }
    - metadata: { namespace: external-secrets, name: external-secrets }
      attachPolicyARNs: [arn:aws:iam::aws:policy/SecretsManagerReadWrite]
      attachPolicy:
        Version: "2012-10-17"
        Statement:
          - { Effect: Allow, Action: ["kms:Decrypt"], Resource: "*" }
managedNodeGroups:
  - name: spot-general
    spot: true
    instanceTypes: [m5.large, m5a.large, m6i.large]
    minSize: 1
    maxSize: 10
    desiredCapacity: 2
    volumeSize: 50
    privateNetworking: true
    labels: { role: general }
    taints:
      - { key: dedicated, value: batch, effect: NoSchedule }
    updateConfig: { maxUnavailable: 1 }
fargateProfiles:
  - name: bots
    selectors:
      - namespace: infra-bot
        labels: { app: bot }
loadBalancers:
  - name: web
    scheme: internet-facing
    idleTimeoutSeconds: 300
    ingressCIDRs: [0.0.0.0/0]
    certificate:
      domain: "*.dev.example.com"
    httpsRedirect: true
    targetGroups:
      - name: nginx
        port: 80
        targetType: ip
        healthCheckPath: /nginx-health
    defaultTargetGroup: nginx
dns:
  zone: dev.example.com
  records:
    - name: "*.dev.example.com"
      alias: { loadBalancer: web }
    - name: status.dev.example.com
      type: CNAME
      ttl: 300
      values: [status.example.net]
"#;

const INVALID_DIR: &str = "tests/specs/invalid";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `eksform --no-color validate <files>`, run from the package root so that the
/// paths in its reports are the relative paths passed to it.
fn validate<P: AsRef<Path>>(files: &[P]) -> std::process::Output {
    let mut command = Command::cargo_bin("eksform").expect("the eksform binary is built");
    command
        .current_dir(manifest_dir())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .args(["--no-color", "validate"])
        .args(files.iter().map(AsRef::as_ref));
    command.output().expect("eksform runs")
}

/// The `.yaml`/`.yml` files of a directory of the package, as paths relative to
/// the package root, sorted; none when the directory does not exist.
fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(manifest_dir().join(dir)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| {
            path.is_file()
                && matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml")
                )
        })
        .map(|path| Path::new(dir).join(path.file_name().expect("a file name")))
        .collect();
    files.sort();
    files
}

/// One `# expect: <line>:<column> <text>` line of a case.
#[derive(Debug)]
struct Expectation {
    line: usize,
    column: usize,
    text: String,
}

impl Expectation {
    fn location(&self, path: &str) -> String {
        format!("{path}:{}:{}: ", self.line, self.column)
    }
}

fn expectations(case: &str, source: &str) -> Vec<Expectation> {
    assert!(
        source.starts_with("# expect: "),
        "{case}: the first line must be an `# expect: <line>:<column> <text>` comment"
    );
    source
        .lines()
        .filter_map(|line| line.strip_prefix("# expect:"))
        .map(|rest| {
            parse_expectation(rest.trim())
                .unwrap_or_else(|| panic!("{case}: malformed expectation `# expect:{rest}`"))
        })
        .collect()
}

fn parse_expectation(rest: &str) -> Option<Expectation> {
    let (location, text) = rest.split_once(' ')?;
    let (line, column) = location.split_once(':')?;
    Some(Expectation {
        line: line.parse().ok()?,
        column: column.parse().ok()?,
        text: text.trim().to_string(),
    })
}

/// The reports of one run, each as its text from its `×` (error) or `⚠`
/// (warning) line to the next report.
fn reports(stderr: &str) -> Vec<String> {
    let mut reports: Vec<String> = Vec::new();
    for line in stderr.lines() {
        let start = line.trim_start();
        if start.starts_with('×') || start.starts_with('⚠') {
            reports.push(String::new());
        }
        if let Some(report) = reports.last_mut() {
            report.push_str(line);
            report.push('\n');
        }
    }
    reports
}

fn is_error(report: &str) -> bool {
    report.trim_start().starts_with('×')
}

/// What is wrong with one case's run; empty when it passed.
fn check_case(path: &str, expected: &[Expectation], output: &std::process::Output) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let reports = reports(&stderr);
    let mut problems = Vec::new();
    if output.status.code() != Some(1) {
        problems.push(format!("exit code {:?}, expected 1", output.status.code()));
    }
    if stderr.contains("panicked") {
        problems.push("eksform panicked".into());
    }
    for expectation in expected {
        let location = expectation.location(path);
        let at_location: Vec<&String> = reports
            .iter()
            .filter(|r| {
                r.lines()
                    .next()
                    .is_some_and(|first| first.contains(&location))
            })
            .collect();
        if at_location.is_empty() {
            problems.push(format!(
                "no error reported at {}",
                location.trim_end_matches(": ")
            ));
        } else if !at_location.iter().any(|r| r.contains(&expectation.text)) {
            problems.push(format!(
                "the report at {} does not contain `{}`",
                location.trim_end_matches(": "),
                expectation.text
            ));
        }
    }
    for report in reports.iter().filter(|r| is_error(r)) {
        let first = report.lines().next().unwrap_or_default();
        if !expected.iter().any(|e| first.contains(&e.location(path))) {
            problems.push(format!("unexpected error: {}", first.trim()));
        }
    }
    problems
}

#[test]
fn every_invalid_case_reports_its_errors_at_their_locations() {
    let cases = yaml_files(INVALID_DIR);
    assert!(
        cases.len() >= 30,
        "expected the invalid cases in {INVALID_DIR}, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let path = case.to_str().expect("a UTF-8 path").to_string();
        let source = fs::read_to_string(manifest_dir().join(case)).expect("a readable case");
        let expected = expectations(&path, &source);
        let output = validate(&[case]);
        let problems = check_case(&path, &expected, &output);
        if !problems.is_empty() {
            failures.push(format!(
                "case {}:\n  - {}\nstderr:\n{}",
                case.file_stem().unwrap_or_default().to_string_lossy(),
                problems.join("\n  - "),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn one_case_proves_that_all_errors_are_reported_at_once() {
    let many = yaml_files(INVALID_DIR)
        .into_iter()
        .filter(|case| {
            let source = fs::read_to_string(manifest_dir().join(case)).unwrap_or_default();
            source
                .lines()
                .filter(|l| l.starts_with("# expect:"))
                .count()
                >= 3
        })
        .count();
    assert!(
        many >= 1,
        "no case in {INVALID_DIR} expects 3 or more errors"
    );
}

#[test]
fn examples_and_stacks_are_valid() {
    // `stacks/` holds a base file that is not a stack on its own: validated as
    // the directory, its base is checked through the stacks that extend it.
    let mut files: Vec<PathBuf> = yaml_files("examples");
    files.push(PathBuf::from("stacks"));
    // An estate whose stacks refer to each other: validated as a directory too.
    files.extend(yaml_files("examples/bluegreen"));
    files.push(PathBuf::from("examples/bluegreen"));
    for file in &files {
        let output = validate(&[file]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{} does not validate:\n{}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stacks = String::from_utf8_lossy(&validate(&["stacks"]).stderr).to_string();
    assert!(
        stacks.contains("stacks/prd.yaml: valid")
            && stacks.contains("stacks/dev-stg.yaml: valid")
            && !stacks.contains("base.yaml: valid"),
        "{stacks}"
    );
}

#[test]
fn a_valid_spec_exits_0() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("prd.yaml");
    fs::write(&path, VALID_SPEC).expect("the spec is written");
    let output = validate(&[&path]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(
        stderr.contains(&format!("{}: valid", path.display())),
        "stderr:\n{stderr}"
    );
    assert!(
        reports(&stderr).is_empty(),
        "a valid spec gave reports:\n{stderr}"
    );
}

#[test]
fn a_valid_spec_parses_without_warnings() {
    match eksform_core::spec::parse(SourceFile::new("prd.yaml", VALID_SPEC)) {
        Ok(loaded) => assert!(loaded.warnings.is_empty(), "warnings:\n{}", loaded.warnings),
        Err(diagnostics) => panic!("the valid spec was rejected:\n{diagnostics}"),
    }
}

#[test]
fn validating_several_files_reports_each_and_fails_when_one_is_invalid() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let valid = dir.path().join("prd.yaml");
    fs::write(&valid, VALID_SPEC).expect("the spec is written");
    let invalid = Path::new(INVALID_DIR).join("stack-name-pattern.yaml");
    let output = validate(&[valid.as_path(), invalid.as_path()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(
        stderr.contains(&format!("{}: valid", valid.display())),
        "stderr:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}:2:8: ", invalid.display())),
        "stderr:\n{stderr}"
    );
}

/// The complete rendering of a file with many errors: message, location,
/// snippet and help of each, in source order.
#[test]
fn multi_error_report_rendering() {
    let output = validate(&[Path::new(INVALID_DIR).join("many-errors.yaml")]);
    assert_eq!(output.status.code(), Some(1));
    let root = format!("{}/", manifest_dir().display());
    let stderr = String::from_utf8(output.stderr)
        .expect("UTF-8 output")
        .replace(&root, "");
    insta::assert_snapshot!("many_errors_stderr", stderr);
}

/// Parses `text` and renders every diagnostic as the CLI does; panics (fails
/// the property) only when eksform itself panics or breaks an invariant.
fn parse_and_render(text: String) {
    let diagnostics = match eksform_core::spec::parse(SourceFile::new("fuzz.yaml", text)) {
        Ok(loaded) => loaded.warnings,
        Err(diagnostics) => {
            assert!(
                diagnostics.has_errors(),
                "rejected without an error: {diagnostics}"
            );
            diagnostics
        }
    };
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    for diagnostic in diagnostics.iter() {
        let mut rendered = String::new();
        let _ = handler.render_report(&mut rendered, &RenderedDiagnostic::from(diagnostic));
        let _ = diagnostic.to_string();
    }
}

/// Characters that make up YAML structure, so that random text often parses.
const YAML_ALPHABET: &str = "[a-z0-9:{}\\[\\],#\"'&*!|>./ \n-]{0,300}";

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn parse_never_panics_on_arbitrary_text(text in any::<String>()) {
        parse_and_render(text);
    }

    #[test]
    fn parse_never_panics_on_yaml_like_text(text in YAML_ALPHABET) {
        parse_and_render(text);
    }

    #[test]
    fn parse_never_panics_on_a_mutated_valid_spec(
        flips in prop::collection::vec((any::<Index>(), 1..=255u8), 0..8),
        truncate_at in prop::option::of(any::<Index>()),
    ) {
        let mut bytes = VALID_SPEC.as_bytes().to_vec();
        for (at, mask) in flips {
            let at = at.index(bytes.len());
            bytes[at] ^= mask;
        }
        if let Some(at) = truncate_at {
            bytes.truncate(at.index(bytes.len() + 1));
        }
        parse_and_render(String::from_utf8_lossy(&bytes).into_owned());
    }
}
