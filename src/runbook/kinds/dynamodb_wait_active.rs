//! `kind = "dynamodb.wait-active"`: wait until a table is ACTIVE.

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks};
use crate::runbook::field::{Span, Text, fields};

fields! {
    /// `kind = "dynamodb.wait-active"`.
    pub struct DynamodbWaitActive {
        /// Table to wait for.
        table: Text = req,
        /// Region.
        region: Option<Text> = opt,
    }
}

impl KindRules for DynamodbWaitActive {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["status", "item_count"]
    }

    fn confirm_target(&self) -> Option<&Text> {
        None
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        Some("the table")
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
            "dynamodb:DescribeTable",
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
id = "active"
kind = "dynamodb.wait-active"
table = "t"
"#;
