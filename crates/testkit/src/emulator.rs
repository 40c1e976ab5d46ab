//! The AWS emulator for tests of the `eksform` binary: a moto server of its
//! own for each test, the binary pointed at it (the caller says where the
//! binary is: cargo tells integration tests, not this crate), the SDK
//! clients to check what it did, and the commands most tests run.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use eksform_aws::AwsClients;

use crate::waiting::NEVER;

/// A running moto server on a free loopback port, stopped on drop.
pub struct Emulator {
    child: Child,
    pub endpoint: String,
    /// The `eksform` binary the commands run.
    eksform: PathBuf,
}

fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("EKSFORM_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    // `scripts/emulator.sh install` puts it in the workspace's `.venv`.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1") && head.ends_with(b"200")
}

impl Emulator {
    /// Starts moto, or fails the test saying how to install it. Never skips.
    /// `eksform` is the binary under test (`env!("CARGO_BIN_EXE_eksform")`
    /// in the root package's integration tests).
    pub fn start(eksform: impl Into<PathBuf>) -> Self {
        let eksform = eksform.into();
        let server = moto_server();
        assert!(
            server.exists(),
            "the AWS emulator is not installed at {}: run `scripts/emulator.sh install` \
             (`scripts/test` does it before running the tests)",
            server.display()
        );
        for _attempt in 0..3 {
            let port = free_port();
            let child = Command::new(&server)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
                .env("MOTO_ACM_VALIDATION_WAIT", "0")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start the emulator {}: {e}", server.display()));
            let mut emulator = Emulator {
                child,
                endpoint: format!("http://127.0.0.1:{port}"),
                eksform: eksform.clone(),
            };
            // Generous: many tests start their own server at once, on a
            // machine that may be loaded; only a server that never answers
            // runs out of it.
            let deadline = Instant::now() + NEVER;
            while Instant::now() < deadline {
                if answers(port) {
                    return emulator;
                }
                if let Ok(Some(_)) = emulator.child.try_wait() {
                    break; // Lost the port race: try another.
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = emulator.child.kill();
        }
        panic!(
            "the AWS emulator ({}) did not start on loopback",
            server.display()
        );
    }

    /// The `eksform` binary with credentials and endpoint for this emulator only.
    pub fn eksform(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.eksform_via(&self.endpoint))
    }

    /// The `eksform` binary as a process to spawn, talking to `endpoint` (this
    /// emulator, or a proxy in front of it).
    pub fn eksform_via(&self, endpoint: &str) -> std::process::Command {
        let mut command = std::process::Command::new(&self.eksform);
        command
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_CONFIG_FILE", "/nonexistent/eksform-test-config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/eksform-test-credentials",
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env("NO_COLOR", "1")
            .arg("--no-color");
        command
    }

    /// SDK clients to check what the binary did.
    pub async fn clients(&self, region: &str) -> AwsClients {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                "test", "test", None, None, "static",
            ))
            .load()
            .await;
        AwsClients::from_config(&config)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An IAM OIDC provider of `issuer` made outside eksform, as `eksctl utils
/// associate-iam-oidc-provider` makes it: its ARN.
pub async fn oidc_provider_made_outside_eksform(aws: &AwsClients, issuer: &str) -> String {
    aws.iam
        .create_open_id_connect_provider()
        .url(issuer)
        .client_id_list("sts.amazonaws.com")
        .send()
        .await
        .unwrap()
        .open_id_connect_provider_arn()
        .unwrap()
        .to_string()
}

/// Writes a spec into a temporary directory and returns its path.
pub fn write_spec(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write spec");
    path
}

/// `plan --detailed-exitcode`'s exit code: 0 no changes, 2 changes, 1 error.
pub fn plan_exit_code(emulator: &Emulator, spec: &Path) -> i32 {
    let output = emulator
        .eksform()
        .args(["plan", "--detailed-exitcode"])
        .arg(spec)
        .output()
        .unwrap();
    output.status.code().unwrap_or(-1)
}

/// `apply --auto-approve`, which must succeed.
pub fn apply(emulator: &Emulator, spec: &Path) {
    emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(spec)
        .assert()
        .success();
}

/// `plan` and `apply --auto-approve` of a spec the plan refuses: each must
/// exit 1 saying every one of `expected`. Returns what apply said.
pub fn refused(emulator: &Emulator, spec: &Path, expected: &[&str]) -> String {
    let mut said = String::new();
    for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let output = emulator.eksform().args(args).arg(spec).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        for words in expected {
            assert!(stderr.contains(words), "{args:?} says `{words}`: {stderr}");
        }
        said = stderr;
    }
    said
}

/// `destroy --auto-approve`, which must succeed.
pub fn destroy(emulator: &Emulator, spec: &Path) {
    emulator
        .eksform()
        .args(["destroy", "--auto-approve"])
        .arg(spec)
        .assert()
        .success();
}

/// `apply --auto-approve --allow-destroy`, which must succeed.
pub fn apply_allowing_destroy(emulator: &Emulator, spec: &Path) {
    emulator
        .eksform()
        .args(["apply", "--auto-approve", "--allow-destroy"])
        .arg(spec)
        .assert()
        .success();
}
