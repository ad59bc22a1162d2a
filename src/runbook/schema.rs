//! The JSON Schema of the runbook format, generated from the model types.
//! `assets/runbook.schema.json` is this output; a test keeps it current.

use schemars::Schema;
use schemars::transform::{Transform, transform_subschemas};
use serde_json::Value;

use super::model::Runbook;

/// The schema as pretty-printed JSON with a trailing newline.
pub fn json_schema() -> String {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .with_transform(NoNull)
        .into_generator();
    let schema = generator.into_root_schema_for::<Runbook>();
    // Sorted keys: serde_json's map keeps insertion order when any crate
    // in the build enables `preserve_order` (the AWS SDK's test support
    // does), so only a sorted form is the same in every build.
    let sorted: std::collections::BTreeMap<String, Value> = schema
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), sort_keys(v))).collect())
        .unwrap_or_default();
    let mut text =
        serde_json::to_string_pretty(&sorted).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// `value` with every object's keys in sorted order, whatever the map type.
fn sort_keys(value: &Value) -> Value {
    match value {
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sort_keys(&o[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// TOML has no null: an absent field is written by leaving it out, so
/// `Option<T>` is described as `T` (and is simply not required).
#[derive(Clone)]
struct NoNull;

impl Transform for NoNull {
    fn transform(&mut self, schema: &mut Schema) {
        transform_subschemas(self, schema);
        let Some(object) = schema.as_object_mut() else {
            return;
        };
        if let Some(Value::Array(types)) = object.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types.remove(0);
                object.insert("type".into(), only);
            }
        }
        if let Some(Value::Array(any_of)) = object.get("anyOf") {
            let rest: Vec<Value> = any_of
                .iter()
                .filter(|s| s.get("type").is_none_or(|t| t != "null"))
                .cloned()
                .collect();
            if rest.len() == 1 {
                object.remove("anyOf");
                if let Value::Object(only) = &rest[0] {
                    for (k, v) in only {
                        object.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        if object.get("default").is_some_and(Value::is_null) {
            object.remove("default");
        }
    }
}
