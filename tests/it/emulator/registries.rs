//! ECR repositories (`registries[]`) through the binary: created with their
//! mark, lifecycle rules and pull policy; re-planned to nothing; mutability,
//! lifecycle and the pull accounts changed in place; a repository removed
//! from the spec refused under `--auto-approve` alone and deleted with its
//! images under `--allow-destroy`; a same-named repository eksform does not
//! own refused at plan time and left alone; destroy leaves nothing marked.

use std::collections::BTreeMap;

use eksform_aws::AwsClients;
use eksform_testkit::emulator::{
    Emulator, apply, apply_allowing_destroy, destroy, plan_exit_code, write_spec,
};

use super::REGION;
use crate::EKSFORM;

const ACCOUNT: &str = "123456789012";

fn spec(stack: &str, registries: &str) -> String {
    format!("stack: {stack}\nregion: {REGION}\ntags:\n  team: platform\nregistries:\n{registries}")
}

const APP_V1: &str = r#"  - name: team/app
    lifecycle:
      keepLastTagged: [{ tagPrefixes: [v], count: 10 }]
      expireUntaggedAfterDays: 7
    pullAccounts: ["444455556666"]
"#;

const APP_V2: &str = r#"  - name: team/app
    immutableTags: true
    lifecycle:
      keepLastTagged: [{ tagPrefixes: [v], count: 20 }]
"#;

const TOOL: &str = "  - name: team/tool\n    scanOnPush: false\n";

async fn tags_of(aws: &AwsClients, arn: &str) -> BTreeMap<String, String> {
    aws.ecr
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// Every repository of the region with the stack's mark, by name.
async fn marked_repositories(aws: &AwsClients, stack: &str) -> Vec<String> {
    let mut marked = Vec::new();
    for repository in aws
        .ecr
        .describe_repositories()
        .send()
        .await
        .unwrap()
        .repositories()
    {
        let tags = tags_of(aws, repository.repository_arn().unwrap()).await;
        if tags.get("eksform:stack").map(String::as_str) == Some(stack) {
            marked.push(repository.repository_name().unwrap().to_string());
        }
    }
    marked.sort();
    marked
}

async fn lifecycle_rules(aws: &AwsClients, name: &str) -> Vec<serde_json::Value> {
    let text = aws
        .ecr
        .get_lifecycle_policy()
        .repository_name(name)
        .send()
        .await
        .unwrap()
        .lifecycle_policy_text()
        .unwrap()
        .to_string();
    let policy: serde_json::Value = serde_json::from_str(&text).unwrap();
    policy["rules"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn registries_are_created_changed_in_place_guarded_and_destroyed() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();

    // Someone else's repository in the account: never touched.
    aws.ecr
        .create_repository()
        .repository_name("other/foreign")
        .send()
        .await
        .unwrap();

    let first = write_spec(&dir, "reg.yaml", &spec("reg", &format!("{APP_V1}{TOOL}")));
    apply(&emulator, &first);
    let described = aws
        .ecr
        .describe_repositories()
        .repository_names("team/app")
        .repository_names("team/tool")
        .send()
        .await
        .unwrap();
    let by_name: BTreeMap<&str, &aws_sdk_ecr::types::Repository> = described
        .repositories()
        .iter()
        .map(|r| (r.repository_name().unwrap(), r))
        .collect();
    let app = by_name["team/app"];
    assert_eq!(app.image_tag_mutability().unwrap().as_str(), "MUTABLE");
    assert!(app.image_scanning_configuration().unwrap().scan_on_push());
    assert!(
        !by_name["team/tool"]
            .image_scanning_configuration()
            .unwrap()
            .scan_on_push()
    );
    let tags = tags_of(&aws, app.repository_arn().unwrap()).await;
    assert_eq!(tags["eksform:stack"], "reg");
    assert_eq!(tags["eksform:address"], "ecr_repository.team/app");
    assert_eq!(tags["team"], "platform");
    // eksform's words as ECR's rules: untagged first, then the kept prefix.
    let rules = lifecycle_rules(&aws, "team/app").await;
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0]["rulePriority"], 1);
    assert_eq!(rules[0]["selection"]["tagStatus"], "untagged");
    assert_eq!(rules[0]["selection"]["countNumber"], 7);
    assert_eq!(
        rules[1]["selection"]["tagPrefixList"],
        serde_json::json!(["v"])
    );
    assert_eq!(rules[1]["selection"]["countNumber"], 10);
    let policy = aws
        .ecr
        .get_repository_policy()
        .repository_name("team/app")
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy_text().unwrap()).unwrap();
    let statement = &policy["Statement"][0];
    assert!(
        statement["Principal"]["AWS"]
            .to_string()
            .contains("arn:aws:iam::444455556666:root"),
        "{policy}"
    );
    assert!(
        statement["Action"]
            .to_string()
            .contains("ecr:BatchGetImage")
    );
    assert_eq!(plan_exit_code(&emulator, &first), 0, "a re-plan is clean");

    let outputs = emulator
        .eksform()
        .args(["outputs", "--json"])
        .arg(&first)
        .output()
        .unwrap();
    let outputs: serde_json::Value = serde_json::from_slice(&outputs.stdout).unwrap();
    assert_eq!(
        outputs["registryURIs"]["team/app"],
        format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/team/app")
    );
    assert_eq!(
        outputs["registryURIs"]["team/tool"],
        app.repository_uri()
            .unwrap()
            .replace("team/app", "team/tool")
    );

    // In place: immutable tags, another count, no untagged rule, no pull
    // accounts (the repository policy goes). The same repository.
    let second = write_spec(&dir, "reg.yaml", &spec("reg", &format!("{APP_V2}{TOOL}")));
    apply(&emulator, &second);
    let after = aws
        .ecr
        .describe_repositories()
        .repository_names("team/app")
        .send()
        .await
        .unwrap();
    let after = &after.repositories()[0];
    assert_eq!(after.created_at(), app.created_at(), "not replaced");
    assert_eq!(after.image_tag_mutability().unwrap().as_str(), "IMMUTABLE");
    let rules = lifecycle_rules(&aws, "team/app").await;
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["selection"]["countNumber"], 20);
    let gone = aws
        .ecr
        .get_repository_policy()
        .repository_name("team/app")
        .send()
        .await;
    assert!(gone.is_err(), "the pull policy is deleted: {gone:?}");
    assert_eq!(plan_exit_code(&emulator, &second), 0);

    // A repository with an image, removed from the spec: refused under
    // --auto-approve alone, nothing deleted.
    aws.ecr
        .put_image()
        .repository_name("team/tool")
        .image_tag("v1")
        .image_manifest(
            r#"{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {}, "layers": []}"#,
        )
        .send()
        .await
        .unwrap();
    let without_tool = write_spec(&dir, "reg.yaml", &spec("reg", APP_V2));
    let refused = emulator
        .eksform()
        .args(["apply", "--auto-approve"])
        .arg(&without_tool)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("ecr_repository.team/tool") && stderr.contains("--allow-destroy"),
        "{stderr}"
    );
    assert_eq!(
        marked_repositories(&aws, "reg").await,
        ["team/app", "team/tool"]
    );
    // Allowed: deleted with its image.
    apply_allowing_destroy(&emulator, &without_tool);
    assert_eq!(marked_repositories(&aws, "reg").await, ["team/app"]);

    // The foreign repository's name in the spec: a plan error, nothing made.
    let clash = write_spec(
        &dir,
        "clash.yaml",
        &spec("clash", "  - name: other/foreign\n"),
    );
    let planned = emulator.eksform().arg("plan").arg(&clash).output().unwrap();
    assert_eq!(planned.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&planned.stderr);
    assert!(
        stderr.contains("other/foreign") && stderr.contains("already exists"),
        "{stderr}"
    );

    destroy(&emulator, &without_tool);
    assert!(marked_repositories(&aws, "reg").await.is_empty());
    let left = aws.ecr.describe_repositories().send().await.unwrap();
    let names: Vec<&str> = left
        .repositories()
        .iter()
        .filter_map(|r| r.repository_name())
        .collect();
    assert_eq!(names, ["other/foreign"], "the foreign repository stays");
}
