//! The command line's edges, as a user meets them: every argument has help,
//! a closed pipe ends the output quietly, no credentials is one line at
//! once, a declined prompt fails, commands that find nothing say what to
//! run, a Markdown plan and its saved plan come from one run. The binary
//! runs against the emulator where AWS is needed.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use clap::CommandFactory;
use eksform_testkit::emulator::{Emulator, apply, write_spec};

use crate::EKSFORM;

const REGION: &str = "us-east-1";

fn network_spec(stack: &str) -> String {
    format!(
        "stack: {stack}\nregion: {REGION}\nvpc:\n  cidr: 10.60.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Disable\n"
    )
}

/// Every argument and flag of every command, recursively, that has no help
/// text (clap's own --help and --version aside).
fn args_without_help(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
    let path = format!("{path} {}", command.get_name()).trim().to_string();
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if matches!(id, "help" | "version") {
            continue;
        }
        let help = arg.get_help().or(arg.get_long_help());
        if help.is_none_or(|h| h.to_string().trim().is_empty()) {
            missing.push(format!("{path} <{id}>"));
        }
    }
    for sub in command.get_subcommands() {
        if sub.get_name() != "help" {
            args_without_help(sub, &path, missing);
        }
    }
}

#[test]
fn every_argument_and_flag_has_help() {
    let mut missing = Vec::new();
    args_without_help(&eksform::cli::Cli::command(), "", &mut missing);
    assert!(
        missing.is_empty(),
        "arguments without help text:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn every_command_has_help() {
    let root = eksform::cli::Cli::command();
    let blank: Vec<&str> = root
        .get_subcommands()
        .filter(|c| c.get_about().is_none())
        .map(|c| c.get_name())
        .collect();
    assert!(blank.is_empty(), "commands without help: {blank:?}");
}

/// Runs `command` with its stdout a pipe nobody reads: closed before the
/// command writes anything, so that its first write meets a closed pipe.
fn with_stdout_closed(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

fn assert_ended_quietly(output: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked"),
        "{what} panicked on a closed pipe:\n{stderr}"
    );
    assert_ne!(output.status.code(), Some(101), "{what}: {stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        // Killed by SIGPIPE, as `cat` would be, or done before writing.
        assert!(
            output.status.signal() == Some(13) || output.status.success(),
            "{what} ended with {:?}:\n{stderr}",
            output.status
        );
    }
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    for command in ["iam-policy", "schema"] {
        let mut eksform = Command::new(EKSFORM);
        eksform.arg(command);
        assert_ended_quietly(&with_stdout_closed(eksform), command);
    }
}

#[test]
fn a_plan_into_a_closed_pipe_ends_quietly() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "pipe.yaml", &network_spec("pipe"));
    let mut plan = emulator.eksform_via(&emulator.endpoint);
    plan.arg("plan").arg(&spec);
    let output = with_stdout_closed(plan);
    assert_ended_quietly(&output, "plan");
}

#[test]
fn markdown_and_json_together_are_a_usage_error() {
    let output = Command::new(EKSFORM)
        .args([
            "plan",
            "--markdown",
            "--json",
            "examples/minimal-network.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--markdown") && stderr.contains("cannot be used with"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

/// A CI step's run: `plan --markdown --out P --detailed-exitcode` prints the
/// comment on stdout and saves the plan; after the apply, the same files
/// give the same marker line, so the step finds its comment again.
#[test]
fn a_markdown_plan_is_printed_and_its_plan_saved_in_one_run() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("net.plan.json");
    let spec = "examples/minimal-network.yaml";
    let output = emulator
        .eksform()
        .args(["plan", spec, "--markdown", "--detailed-exitcode", "--out"])
        .arg(&saved)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "changes: {stdout}{stderr}");
    let plan = eksform_core::plan::Plan::from_json(&std::fs::read_to_string(&saved).unwrap())
        .expect("the plan is saved");
    let creates = plan.summary().create;
    assert!(creates > 5, "a network to create: {creates}");
    let marker = stdout.lines().next().unwrap_or_default();
    assert!(marker.starts_with("<!-- eksform-plan estate="), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "| <code>net</code> | <code>{spec}</code> | {creates} | 0 | 0 | 0 | 0 |"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("<details><summary><code>+ vpc.main</code> (vpc) will be created"));
    assert!(
        !stdout.contains("Saved the plan"),
        "stdout is the comment only"
    );
    assert!(stderr.contains("Saved the plan to"), "{stderr}");

    emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&saved)
        .assert()
        .success();
    let again = emulator
        .eksform()
        .args(["plan", "--markdown", spec])
        .output()
        .unwrap();
    let again = String::from_utf8_lossy(&again.stdout);
    assert_eq!(again.lines().next(), Some(marker), "the same marker");
    assert!(
        again.contains(&format!(
            "| <code>net</code> | <code>{spec}</code> | no changes |"
        )),
        "{again}"
    );
}

/// `eksform` with no credentials anywhere: no AWS variables, an empty home
/// (no shared files), and the instance metadata as `imds` says.
fn without_credentials(home: &Path, imds: &[(&str, &str)]) -> Command {
    let mut command = Command::new(EKSFORM);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .envs(imds.iter().copied());
    command
}

#[test]
fn plan_without_credentials_is_one_line_within_seconds() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "nocreds.yaml", &network_spec("nocreds"));
    // A port nothing listens on: the metadata service refuses at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unreachable = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    for imds in [
        vec![("AWS_EC2_METADATA_DISABLED", "true")],
        vec![("AWS_EC2_METADATA_SERVICE_ENDPOINT", unreachable.as_str())],
    ] {
        let started = Instant::now();
        let output = without_credentials(home.path(), &imds)
            .arg("plan")
            .arg(&spec)
            .output()
            .unwrap();
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{imds:?}: {stderr}");
        assert!(
            took < Duration::from_secs(10),
            "{imds:?}: took {took:?}:\n{stderr}"
        );
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{imds:?}: one line:\n{stderr}");
        let line = lines[0];
        assert!(line.starts_with("error: no AWS credentials"), "{line}");
        for source in [
            "AWS_ACCESS_KEY_ID",
            "~/.aws/credentials",
            "profile `default`",
            "SSO",
            "web identity",
            "instance metadata",
            "--profile",
        ] {
            assert!(line.contains(source), "{source} missing: {line}");
        }
        assert!(
            !line.contains("DispatchFailure") && !line.contains("{"),
            "{line}"
        );
    }
}

#[test]
fn a_missing_profile_names_it() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "profile.yaml", &network_spec("profile"));
    let output = without_credentials(home.path(), &[("AWS_EC2_METADATA_DISABLED", "true")])
        .args(["--profile", "prod", "plan"])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("profile `prod`"), "{stderr}");
}

#[test]
fn outputs_of_a_stack_with_nothing_live_fails_and_says_to_apply() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "empty.yaml", &network_spec("empty"));
    let output = emulator
        .eksform()
        .arg("outputs")
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("stack empty has no live resources in us-east-1")
            && stderr.contains("eksform apply"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn history_says_to_bootstrap_then_shows_local_times_with_their_age() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "hist.yaml", &network_spec("hist"));
    let output = emulator
        .eksform()
        .arg("history")
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no state bucket") && stderr.contains("eksform bootstrap"),
        "{stderr}"
    );
    assert!(!stderr.contains("NoSuchBucket"), "{stderr}");

    emulator
        .eksform()
        .arg("bootstrap")
        .arg(&spec)
        .assert()
        .success();
    apply(&emulator, &spec);
    let output = emulator
        .eksform()
        .arg("history")
        .arg(&spec)
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().next().unwrap_or_default();
    // 2026-12-02T09:14:03+01:00 (just now)  apply ...
    let (time, rest) = line.split_at(line.find(' ').unwrap_or(0));
    let shape: String = time
        .char_indices()
        .map(|(i, c)| match c {
            '0'..='9' => 'd',
            '+' | '-' if i == 19 => 's',
            other => other,
        })
        .collect();
    assert_eq!(shape, "dddd-dd-ddTdd:dd:ddsdd:dd", "{line}");
    assert!(
        rest.starts_with(" (just now)") || rest.starts_with(" (") && rest.contains(" s ago)"),
        "{line}"
    );
    assert!(
        rest.contains("apply") && rest.contains("succeeded"),
        "{line}"
    );
}

/// `eksform` in a terminal (util-linux `script` gives it one), answering `answer`.
fn in_a_terminal(emulator: &Emulator, args: &[&str], spec: &Path, answer: &str) -> Output {
    let mut eksform = emulator.eksform_via(&emulator.endpoint);
    eksform.args(args).arg(spec);
    let quoted = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
    let line = std::iter::once(eksform.get_program())
        .chain(eksform.get_args())
        .map(quoted)
        .collect::<Vec<_>>()
        .join(" ");
    let mut script = Command::new("script");
    for (key, value) in eksform.get_envs() {
        match value {
            Some(value) => script.env(key, value),
            None => script.env_remove(key),
        };
    }
    script
        .args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = script
        .spawn()
        .expect("util-linux `script` runs the prompt tests");
    // Typed ahead: the terminal keeps it until the prompt reads it.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    drop(stdin);
    output
}

#[test]
fn declining_the_prompt_fails_and_says_so_in_the_commands_words() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "prompt.yaml", &network_spec("prompt"));

    let declined = in_a_terminal(&emulator, &["apply"], &spec, "no");
    let shown = String::from_utf8_lossy(&declined.stdout);
    assert_eq!(declined.status.code(), Some(1), "{shown}");
    assert!(shown.contains("Apply cancelled."), "{shown}");

    apply(&emulator, &spec);
    let declined = in_a_terminal(&emulator, &["destroy"], &spec, "nope");
    let shown = String::from_utf8_lossy(&declined.stdout);
    assert_eq!(declined.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("Destroy cancelled.")
            && shown.contains("destroy")
            && !shown.contains("apply --auto-approve")
            && !shown.contains("Apply cancelled"),
        "{shown}"
    );
    // Nothing was destroyed: the plan still has nothing to do.
    emulator
        .eksform()
        .args(["plan", "--detailed-exitcode"])
        .arg(&spec)
        .assert()
        .code(0);
}

/// Two files of one stack name in one region would delete each other's
/// resources: the estate is refused before any call (no emulator runs).
#[test]
fn one_stack_in_two_files_of_an_estate_is_refused_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let first = write_spec(&dir, "a.yaml", &network_spec("web"));
    let second = write_spec(&dir, "b.yaml", &network_spec("web"));
    let output = Command::new(EKSFORM)
        .args(["plan"])
        .arg(dir.path())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("stack `web` in us-east-1 is in both")
            && stderr.contains(&first.display().to_string())
            && stderr.contains(&second.display().to_string()),
        "{stderr}"
    );
}
