//! The committed JSON Schema must be what the model types generate.

use std::path::Path;

#[test]
fn committed_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/runbook.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = dr_drill::runbook::schema::json_schema();
    assert!(
        committed == generated,
        "assets/runbook.schema.json is stale; regenerate it with:\n    cargo run -- schema > assets/runbook.schema.json"
    );
}

#[test]
fn schema_lists_every_kind() {
    let schema: serde_json::Value =
        serde_json::from_str(&dr_drill::runbook::schema::json_schema()).unwrap();
    let text = schema.to_string();
    for kind in dr_drill::runbook::KINDS {
        assert!(
            text.contains(&format!("\"const\":\"{kind}\"")),
            "schema lacks kind {kind}"
        );
    }
}
