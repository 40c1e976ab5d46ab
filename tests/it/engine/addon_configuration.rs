//! Add-on `configurationValues` on the memory cloud (the emulator has no
//! add-on API: EMULATOR.md): checked at plan time against the schema the
//! memory cloud publishes for the add-on (as DescribeAddonConfiguration
//! answers), errors at the offending key's line and column with nothing
//! touched; a change of one key shown key by key and made in place.

use std::sync::Arc;

use eksform::{ops, render};
use eksform_core::cloud::{Cloud, OneCloud};
use eksform_core::diagnostics::SourceFile;
use eksform_core::execute::{Cancellation, EventLog, ExecuteOptions};
use eksform_core::outputs::KnownOutputs;
use eksform_core::plan::{Action, Plan};
use eksform_core::retry::RetryPolicy;
use eksform_core::spec;
use eksform_testkit::memory::MemoryCloud;

use super::runs::{ACCOUNT, cluster_text};

/// A schema in the shape of CoreDNS's (additionalProperties false, typed
/// keys). The `enum` on computeType is this test's: it makes a misspelt value
/// an error the way a schema with choices does.
fn coredns_schema() -> serde_json::Value {
    serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "computeType": { "type": "string", "enum": ["Fargate", "EC2"] },
            "replicaCount": { "type": "integer" },
            "resources": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "limits": {
                        "type": "object",
                        "properties": { "memory": { "type": "string" } }
                    }
                }
            }
        }
    })
}

fn cloud() -> Arc<MemoryCloud> {
    let cloud = Arc::new(MemoryCloud::new(ACCOUNT));
    cloud.publish_addon_schema("coredns", coredns_schema());
    cloud
}

/// The engine spec with CoreDNS configured by `values` (YAML lines under
/// `configurationValues:`, indented by 8).
fn text(values: &str) -> String {
    cluster_text("1.31").replace(
        "  accessEntries:",
        &format!(
            "  addons:\n    - name: coredns\n      version: v1.11.3-eksbuild.2\n      configurationValues:\n{values}  accessEntries:"
        ),
    )
}

async fn plan(cloud: &Arc<MemoryCloud>, text: &str) -> Result<Plan, ops::OpsError> {
    let loaded = spec::parse(SourceFile::new("eng.yaml", text.to_string())).expect("valid spec");
    let mut stack = ops::Stack::lowered(loaded);
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let regions = OneCloud(dyn_cloud.clone());
    ops::plan_stack(
        dyn_cloud,
        &regions,
        &KnownOutputs::new(),
        &mut stack,
        ops::Goal::Apply,
        RetryPolicy::default(),
    )
    .await
    .map(|(plan, _)| plan)
}

async fn apply(cloud: &Arc<MemoryCloud>, plan: &Plan) {
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let outcome = ops::apply(
        dyn_cloud,
        plan,
        ExecuteOptions::default(),
        Arc::new(EventLog::default()),
        Cancellation::default(),
    )
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
}

/// The (line, column, message) of each diagnostic refusing the plan.
fn refusals(error: ops::OpsError) -> Vec<(usize, usize, String)> {
    match error {
        ops::OpsError::Live(diagnostics) => diagnostics
            .iter()
            .map(|d| {
                let span = d.span.expect("located");
                (span.line, span.column, d.message.clone())
            })
            .collect(),
        other => panic!("expected located plan errors, got {other}"),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("the line is in the spec")
        + 1
}

#[tokio::test(start_paused = true)]
async fn a_value_the_schema_refuses_stops_the_plan_at_its_key_with_nothing_touched() {
    let cloud = cloud();
    let spec = text("        computeType: Fargatee\n        replicas: 2\n");
    let errors = refusals(plan(&cloud, &spec).await.expect_err("refused"));
    let value_line = line_of(&spec, "computeType: Fargatee");
    let key_line = line_of(&spec, "replicas: 2");
    assert!(
        errors
            .iter()
            .any(|(line, column, message)| *line == value_line
                && *column == 22
                && message.contains("configurationValues.computeType")
                && message.contains("Fargatee")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|(line, column, message)| *line == key_line
                && *column == 9
                && message.contains("unknown field `replicas`")),
        "{errors:?}"
    );
    assert!(
        cloud
            .call_log()
            .iter()
            .all(|call| !["create", "update", "delete"]
                .iter()
                .any(|verb| call.action.starts_with(verb))),
        "nothing created or changed: {:?}",
        cloud.call_log()
    );
    assert!(cloud.resources().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_json_string_is_checked_too_and_located_at_the_string() {
    let cloud = cloud();
    let spec = cluster_text("1.31").replace(
        "  accessEntries:",
        "  addons:\n    - name: coredns\n      version: v1.11.3-eksbuild.2\n      configurationValues: '{\"computeType\": \"Fargatee\"}'\n  accessEntries:",
    );
    let errors = refusals(plan(&cloud, &spec).await.expect_err("refused"));
    let line = line_of(&spec, "configurationValues: '{");
    assert!(
        errors
            .iter()
            .any(|(l, c, m)| *l == line && *c == 28 && m.contains("Fargatee")),
        "{errors:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_change_of_one_key_shows_key_by_key_and_updates_in_place() {
    let cloud = cloud();
    let first = text(
        "        computeType: Fargate\n        replicaCount: 2\n        resources: { limits: { memory: 170Mi } }\n",
    );
    let created = plan(&cloud, &first).await.expect("plan");
    apply(&cloud, &created).await;
    let again = plan(&cloud, &first).await.expect("plan");
    assert!(!again.summary().has_changes(), "{:?}", again.summary());

    let changed = first.replace("replicaCount: 2", "replicaCount: 3");
    let plan = plan(&cloud, &changed).await.expect("plan");
    let addon = plan
        .resources
        .iter()
        .find(|r| r.address.as_str() == "addon.coredns")
        .expect("the add-on is in the plan");
    assert_eq!(addon.action, Action::Update, "in place");
    let rendered = render::human::plan(&plan, false);
    assert!(
        rendered.contains("~ replicaCount = 2 -> 3"),
        "key by key:\n{rendered}"
    );
    assert!(
        rendered.contains("(2 unchanged elements hidden)"),
        "the other keys are counted, not shown:\n{rendered}"
    );
    apply(&cloud, &plan).await;
    let live = cloud
        .resources()
        .into_iter()
        .find(|r| r.kind == "addon")
        .expect("the add-on");
    assert_eq!(
        live.attributes
            .get("configuration_values")
            .and_then(|v| v.as_str()),
        Some(
            r#"{"computeType":"Fargate","replicaCount":3,"resources":{"limits":{"memory":"170Mi"}}}"#
        ),
        "sent as canonical JSON"
    );
    let settled = plan_again(&cloud, &changed).await;
    assert!(!settled.summary().has_changes(), "{:?}", settled.summary());
}

async fn plan_again(cloud: &Arc<MemoryCloud>, text: &str) -> Plan {
    plan(cloud, text).await.expect("plan")
}
