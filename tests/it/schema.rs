//! The committed JSON Schema is what the model types generate, and the
//! hand-written readers accept exactly the fields the schema describes.

use std::collections::BTreeSet;
use std::path::Path;

use dr_drill::runbook::model::{Param, Runbook, step_fields};
use dr_drill::runbook::{KINDS, StepAction};
use serde_json::Value;

fn schema() -> Value {
    serde_json::from_str(&dr_drill::runbook::schema::json_schema()).unwrap()
}

fn properties(schema: &Value) -> BTreeSet<String> {
    schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn set(fields: &[&str]) -> BTreeSet<String> {
    fields.iter().map(|f| f.to_string()).collect()
}

#[test]
fn committed_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/runbook.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == dr_drill::runbook::schema::json_schema(),
        "assets/runbook.schema.json is stale; regenerate it with:\n    cargo run -- schema > assets/runbook.schema.json"
    );
}

#[test]
fn readers_and_schema_name_the_same_fields() {
    let schema = schema();
    let defs = &schema["$defs"];
    assert_eq!(properties(&schema), set(Runbook::FIELDS));
    assert_eq!(properties(&defs["Param"]), set(Param::FIELDS));
    let mut step = properties(&defs["Step"]);
    step.insert("kind".into());
    assert_eq!(step, set(step_fields()));
    // Each kind's variant lists `kind` plus exactly the fields its reader takes.
    for variant in defs["Step"]["oneOf"].as_array().unwrap() {
        let kind = variant["properties"]["kind"]["const"].as_str().unwrap();
        let mut fields = properties(variant);
        fields.remove("kind");
        assert_eq!(
            fields,
            set(StepAction::fields_of(kind).unwrap()),
            "fields of {kind}"
        );
    }
    assert_eq!(defs["Step"]["oneOf"].as_array().unwrap().len(), KINDS.len());
}
