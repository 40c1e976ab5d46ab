//! Cluster access against the emulator: `eksform kubeconfig` merging a live
//! cluster into a kubeconfig that holds other entries, its refusals, and
//! `eksform token --role-arn` signing with the role it assumed.

use std::os::unix::fs::PermissionsExt;

use eksform_testkit::emulator::{Emulator, apply, write_spec};

use super::{REGION, cluster_spec, network_spec};
use crate::EKSFORM;
use crate::access::decoded_token;

/// A kubeconfig with someone else's cluster, user, context and preferences.
const OTHER: &str = "\
apiVersion: v1
kind: Config
preferences:
  colors: true
clusters:
- name: kind-dev
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: AAAA
contexts:
- name: kind-dev
  context:
    cluster: kind-dev
    user: kind-dev
    namespace: web
current-context: kind-dev
users:
- name: kind-dev
  user:
    client-certificate-data: BBBB
";

fn yaml(path: &std::path::Path) -> serde_json::Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn named<'a>(config: &'a serde_json::Value, list: &str, name: &str) -> &'a serde_json::Value {
    config[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list}: {config}"))
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {list}: {config}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn kubeconfig_merges_the_live_cluster_beside_other_entries() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "ka.yaml", &cluster_spec("ka", "0.0.0.0/0", 30));
    apply(&emulator, &spec);
    let live = aws
        .eks
        .describe_cluster()
        .name("ka-eks")
        .send()
        .await
        .unwrap();
    let live = live.cluster().unwrap();
    let arn = live.arn().unwrap();
    let ca = live.certificate_authority().unwrap().data().unwrap();

    // The outputs carry what the kubeconfig is made of.
    let outputs = emulator
        .eksform()
        .args(["outputs", "--json"])
        .arg(&spec)
        .output()
        .unwrap();
    let outputs: serde_json::Value = serde_json::from_slice(&outputs.stdout).unwrap();
    assert_eq!(outputs["clusterArn"], arn);
    assert_eq!(outputs["certificateAuthorityData"], ca);

    let kubeconfig = dir.path().join("kube").join("config");
    std::fs::create_dir_all(kubeconfig.parent().unwrap()).unwrap();
    std::fs::write(&kubeconfig, OTHER).unwrap();
    std::fs::set_permissions(&kubeconfig, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = |extra: &[&str]| {
        emulator
            .eksform()
            .arg("kubeconfig")
            .arg(&spec)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(extra)
            .assert()
            .success()
    };
    let said = run(&[]);
    let said = String::from_utf8_lossy(&said.get_output().stdout).to_string();
    assert!(said.contains("ka-eks") && said.contains(arn), "{said}");

    let config = yaml(&kubeconfig);
    assert_eq!(
        named(&config, "clusters", arn)["cluster"],
        serde_json::json!({
            "server": live.endpoint().unwrap(),
            "certificate-authority-data": ca,
        })
    );
    assert_eq!(
        named(&config, "users", arn)["user"]["exec"],
        serde_json::json!({
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "eksform",
            "args": ["token", "--cluster", "ka-eks", "--region", REGION],
            "interactiveMode": "Never",
        })
    );
    assert_eq!(
        named(&config, "contexts", arn)["context"],
        serde_json::json!({ "cluster": arn, "user": arn })
    );
    assert_eq!(config["current-context"], arn);
    // Someone else's entries and preferences are still there, as they were.
    let other: serde_json::Value = serde_saphyr::from_str(OTHER).unwrap();
    for list in ["clusters", "contexts", "users"] {
        assert_eq!(
            named(&config, list, "kind-dev"),
            named(&other, list, "kind-dev")
        );
        assert_eq!(config[list].as_array().unwrap().len(), 2, "{list}");
    }
    assert_eq!(config["preferences"], other["preferences"]);
    let mode = std::fs::metadata(&kubeconfig).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");

    // Again: the same file, byte for byte.
    let first = std::fs::read(&kubeconfig).unwrap();
    run(&[]);
    assert_eq!(std::fs::read(&kubeconfig).unwrap(), first);

    // An alias names the context; the cluster and user entries stay one each;
    // the profile the run used is the token's.
    let aws_config = dir.path().join("aws-config");
    std::fs::write(
        &aws_config,
        "[profile ops]\naws_access_key_id = test\naws_secret_access_key = test\n",
    )
    .unwrap();
    emulator
        .eksform()
        .env("AWS_CONFIG_FILE", &aws_config)
        .arg("--profile")
        .arg("ops")
        .arg("kubeconfig")
        .arg(&spec)
        .args(["--alias", "ka"])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .assert()
        .success();
    let config = yaml(&kubeconfig);
    assert_eq!(config["current-context"], "ka");
    assert_eq!(
        named(&config, "contexts", "ka")["context"],
        serde_json::json!({ "cluster": arn, "user": arn })
    );
    assert_eq!(config["contexts"].as_array().unwrap().len(), 3);
    assert_eq!(config["clusters"].as_array().unwrap().len(), 2);
    assert_eq!(config["users"].as_array().unwrap().len(), 2);
    assert_eq!(
        named(&config, "users", arn)["user"]["exec"]["args"],
        serde_json::json!([
            "token",
            "--cluster",
            "ka-eks",
            "--region",
            REGION,
            "--profile",
            "ops"
        ])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kubeconfig_refuses_a_stack_without_a_cluster_and_a_file_that_is_not_a_kubeconfig() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "net.yaml", &network_spec("net", "Disable"));

    // Pointed at the spec itself by mistake: refused before AWS is asked.
    let original = std::fs::read(&spec).unwrap();
    let refused = emulator
        .eksform()
        .arg("kubeconfig")
        .arg(&spec)
        .arg("--kubeconfig")
        .arg(&spec)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(
        stderr.contains("it is not a kubeconfig") && stderr.contains("net.yaml"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&spec).unwrap(), original);

    // A stack with a network and no cluster: nothing to write.
    apply(&emulator, &spec);
    let kubeconfig = dir.path().join("config");
    std::fs::write(&kubeconfig, OTHER).unwrap();
    let refused = emulator
        .eksform()
        .arg("kubeconfig")
        .arg(&spec)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(
        stderr.contains("stack net has no live EKS cluster in us-east-1"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&kubeconfig).unwrap(), OTHER);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_with_a_role_signs_with_the_keys_it_assumed() {
    let emulator = Emulator::start(EKSFORM);
    let role = "arn:aws:iam::123456789012:role/ci-deployer";
    let output = emulator
        .eksform()
        .args(["token", "--cluster", "ka-eks", "--region", REGION])
        .args(["--role-arn", role])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let url = decoded_token(&serde_json::from_slice(&output.stdout).unwrap());
    // The endpoint took the AssumeRole call, never the token's host.
    assert_eq!(url.host, "sts.us-east-1.amazonaws.com");
    let key = url.access_key().to_string();
    assert_ne!(key, "test", "signed with the caller's keys, not the role's");
    assert!(url.query.contains_key("X-Amz-Security-Token"));

    // The emulator knows the key: the role's, under eksform's session name.
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(&emulator.endpoint)
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            key,
            "unused",
            Some(url.query["X-Amz-Security-Token"].clone()),
            None,
            "from the token",
        ))
        .load()
        .await;
    let caller = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        caller.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/ci-deployer/eksform-token")
    );
}
