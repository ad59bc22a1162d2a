//! `kind = "dynamodb.count"`: count a table's items with a parallel scan.

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks, positive};
use crate::runbook::field::{Span, Spanned, Text, fields};

fields! {
    /// `kind = "dynamodb.count"`.
    pub struct DynamodbCount {
        /// Table to count.
        table: Text = req,
        /// Parallel scan segments (default 4).
        segments: Option<Spanned<u32>> = opt,
        /// Region.
        region: Option<Text> = opt,
    }
}

impl KindRules for DynamodbCount {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["items"]
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
            "dynamodb:Scan",
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

    fn cross_field_errors(&self, _step_span: Span, errors: &mut Vec<Error>) {
        positive(self.segments.as_ref(), errors);
    }

    fn check(&self, _step: &mut dyn StepChecks) {}
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "count"
kind = "dynamodb.count"
table = "t"
"#;
