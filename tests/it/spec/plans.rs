//! Data-driven plan tests: for each directory in tests/plans, apply `live.yaml`
//! (if any) on the in-memory cloud, plan `spec.yaml` against it, and snapshot
//! the human and JSON renderings.

use std::path::Path;
use std::sync::Arc;

use eksform::{ops, render};
use eksform_core::cloud::Cloud;
use eksform_core::diagnostics::SourceFile;
use eksform_core::execute::{Cancellation, ExecuteOptions, NoEvents};
use eksform_core::plan::Plan;
use eksform_core::retry::RetryPolicy;
use eksform_core::{lower, spec};
use eksform_testkit::memory::MemoryCloud;

async fn plan(cloud: &Arc<MemoryCloud>, path: &Path) -> Plan {
    let text = std::fs::read_to_string(path).unwrap();
    let loaded =
        spec::parse(SourceFile::new(path.display().to_string(), text)).expect("valid spec");
    let model = lower::model(&loaded.spec);
    let desired = lower::desired(&model);
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    ops::plan(
        dyn_cloud,
        &model,
        &desired,
        ops::Goal::Apply,
        RetryPolicy::default(),
    )
    .await
    .expect("plan")
    .0
}

/// The plan of a case: `live.yaml` (if any) applied on a fresh in-memory
/// cloud, then `spec.yaml` planned against it.
pub(super) async fn plan_of_case(case: &Path) -> Plan {
    let name = case.file_name().unwrap().to_string_lossy().to_string();
    let cloud = Arc::new(MemoryCloud::new("123456789012"));
    let live = case.join("live.yaml");
    if live.exists() {
        let before = plan(&cloud, &live).await;
        let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
        let outcome = ops::apply(
            dyn_cloud,
            &before,
            ExecuteOptions::default(),
            Arc::new(NoEvents),
            Cancellation::default(),
        )
        .await;
        assert!(outcome.succeeded(), "{name}: live.yaml applies");
    }
    plan(&cloud, &case.join("spec.yaml")).await
}

#[tokio::test(start_paused = true)]
async fn plans_of_every_case_match_their_snapshots() {
    let mut cases: Vec<_> = std::fs::read_dir("tests/plans")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "the plan cases are found");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let plan = plan_of_case(&case).await;
        insta::assert_snapshot!(format!("{name}-human"), render::human::plan(&plan, false));
        insta::assert_json_snapshot!(format!("{name}-json"), render::json::plan(&plan), {
            ".eksform_version" => "[version]"
        });
    }
}
