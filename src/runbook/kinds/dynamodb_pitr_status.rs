//! `kind = "dynamodb.pitr-status"`: read a table's point-in-time recovery
//! status and window.

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks};
use crate::runbook::field::{Span, Text, fields};

fields! {
    /// `kind = "dynamodb.pitr-status"`.
    pub struct DynamodbPitrStatus {
        /// Table to inspect.
        table: Text = req,
        /// Fail unless PITR is enabled.
        #[serde(default)]
        expect_enabled: bool = def,
        /// Region.
        region: Option<Text> = opt,
    }
}

impl KindRules for DynamodbPitrStatus {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["status", "earliest_restorable", "latest_restorable"]
    }

    fn confirm_target(&self) -> Option<&Text> {
        None
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        None
    }

    fn rpo_field(&self) -> Option<&'static str> {
        None
    }

    fn change(&self, _show: &dyn Fn(&str) -> String, _description: Option<&str>) -> Option<String> {
        None
    }

    fn uses_aws(&self) -> bool {
        true
    }

    fn permissions(&self) -> Vec<Permission<'_>> {
        vec![Permission::new(
            "dynamodb:DescribeContinuousBackups",
            "table",
            Resource::Table {
                name: &self.table,
                region: self.region.as_ref(),
            },
        )]
    }

    fn headless_answer_missing(&self, _id: &str, _given: Option<&str>) -> Option<String> {
        None
    }

    fn cross_field_errors(&self, _step_span: Span, _errors: &mut Vec<Error>) {}

    fn check(&self, _step: &mut dyn StepChecks) {}
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "pitr-status"
kind = "dynamodb.pitr-status"
table = "t"
"#;
