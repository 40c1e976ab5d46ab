//! What the binary refuses before it changes anything: an apply with no
//! terminal and no approval, another account, a saved plan once the account
//! changed, a cluster replacement approved by `--auto-approve` alone.

use eksform_testkit::assertions::marked_by;
use eksform_testkit::emulator::{Emulator, apply, destroy, write_spec};

use super::{REGION, assert_no_clusters, cluster_spec, network_spec};
use crate::EKSFORM;

#[tokio::test(flavor = "multi_thread")]
async fn apply_without_terminal_or_approval_changes_nothing() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "ask.yaml", &network_spec("ask", "Single"));
    let output = emulator
        .eksform()
        .arg("apply")
        .arg(&spec)
        .write_stdin("yes\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no terminal") && stderr.contains("--auto-approve"),
        "{stderr}"
    );
    let aws = emulator.clients(REGION).await;
    assert!(
        aws.ec2
            .describe_vpcs()
            .filters(marked_by("ask"))
            .send()
            .await
            .unwrap()
            .vpcs()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn account_guard_refuses_another_account() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    let text = network_spec("guard", "Single").replace(
        "region: us-east-1\n",
        "region: us-east-1\naccount: \"111122223333\"\n",
    );
    let spec = write_spec(&dir, "guard.yaml", &text);
    let output = emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("111122223333") && stderr.contains("123456789012"),
        "{stderr}"
    );
    let aws = emulator.clients(REGION).await;
    assert!(
        aws.ec2
            .describe_vpcs()
            .filters(marked_by("guard"))
            .send()
            .await
            .unwrap()
            .vpcs()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_plan_applies_only_while_the_account_is_unchanged() {
    let emulator = Emulator::start(EKSFORM);
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "saved.yaml", &network_spec("saved", "Single"));
    let stale = dir.path().join("stale.plan.json");
    let fresh = dir.path().join("fresh.plan.json");
    emulator
        .eksform()
        .args(["plan", "--out"])
        .arg(&stale)
        .arg(&spec)
        .assert()
        .success();
    emulator
        .eksform()
        .args(["plan", "--out"])
        .arg(&fresh)
        .arg(&spec)
        .assert()
        .success();
    emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&fresh)
        .assert()
        .success();
    let output = emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&stale)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "a plan made before the apply is stale"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("changed since the plan was made"),
        "{stderr}"
    );
    let aws = emulator.clients(REGION).await;
    assert_eq!(
        aws.ec2
            .describe_vpcs()
            .filters(marked_by("saved"))
            .send()
            .await
            .unwrap()
            .vpcs()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_approve_alone_refuses_to_replace_the_cluster_and_leaves_it_untouched() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        &dir,
        "guard.yaml",
        &cluster_spec("guard", "198.51.100.7", 7),
    );
    apply(&emulator, &spec);
    let before = aws
        .eks
        .describe_cluster()
        .name("guard-eks")
        .send()
        .await
        .unwrap()
        .cluster()
        .unwrap()
        .clone();

    // A new cluster name cannot be changed in place: the cluster is replaced.
    let renamed = write_spec(
        &dir,
        "guard-renamed.yaml",
        &cluster_spec("guard", "198.51.100.7", 7).replace("name: guard-eks", "name: guard-eks2"),
    );
    let refused = emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&renamed)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&refused.stdout);
    assert!(
        stdout.contains("eks_cluster.main"),
        "the plan shows it:\n{stdout}"
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("eks_cluster.main")
            && stderr.contains("refusing to delete or replace")
            && stderr.contains("--allow-destroy"),
        "{stderr}"
    );

    let clusters = aws.eks.list_clusters().send().await.unwrap();
    assert_eq!(
        clusters.clusters(),
        ["guard-eks"],
        "no cluster made or deleted"
    );
    let after = aws
        .eks
        .describe_cluster()
        .name("guard-eks")
        .send()
        .await
        .unwrap()
        .cluster()
        .unwrap()
        .clone();
    assert_eq!(after.arn(), before.arn());
    assert_eq!(after.created_at(), before.created_at());
    assert_eq!(after.status(), before.status());
    destroy(&emulator, &spec);
    assert_no_clusters(&aws).await;
}
