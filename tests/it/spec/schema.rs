//! The published JSON Schema (schema/eksform.schema.json) is what `eksform
//! schema` prints: editors validate specs with it, so it must stay fresh.
//! Regenerate with `cargo run -- schema > schema/eksform.schema.json`.

#[test]
fn committed_schema_is_fresh() {
    let output = assert_cmd::Command::cargo_bin("eksform")
        .unwrap()
        .arg("schema")
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("schema/eksform.schema.json")
            .expect("schema/eksform.schema.json is committed"),
    )
    .unwrap();
    assert_eq!(
        printed, committed,
        "the committed schema is stale: run `cargo run -- schema > schema/eksform.schema.json`"
    );
    assert_eq!(
        printed["$schema"],
        "http://json-schema.org/draft-07/schema#"
    );
    assert!(printed["properties"]["vpc"].is_object());
}
