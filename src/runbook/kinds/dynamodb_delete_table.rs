//! `kind = "dynamodb.delete-table"`: delete a table, e.g. the restored one
//! after a drill (destructive).

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks, in_region};
use crate::runbook::field::{Span, Text, fields};

fields! {
    /// `kind = "dynamodb.delete-table"`.
    pub struct DynamodbDeleteTable {
        /// Table to delete.
        table: Text = req,
        /// Region.
        region: Option<Text> = opt,
    }
}

impl KindRules for DynamodbDeleteTable {
    fn effect(&self) -> Effect {
        Effect::Destructive
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["table_arn", "status"]
    }

    fn confirm_target(&self) -> Option<&Text> {
        Some(&self.table)
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        None
    }

    fn rpo_field(&self) -> Option<&'static str> {
        None
    }

    fn change(&self, show: &dyn Fn(&str) -> String, _description: Option<&str>) -> Option<String> {
        Some(format!(
            "table {}{} and all its items are deleted",
            show(&self.table.value),
            in_region(show, &self.region)
        ))
    }

    fn uses_aws(&self) -> bool {
        true
    }

    fn permissions(&self) -> Vec<Permission<'_>> {
        vec![Permission::new(
            "dynamodb:DeleteTable",
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
id = "drop"
kind = "dynamodb.delete-table"
table = "t1"
"#;
