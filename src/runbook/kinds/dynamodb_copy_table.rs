//! `kind = "dynamodb.copy-table"`: copy every item of one table into another,
//! the cutover (destructive).

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks, in_region, positive};
use crate::runbook::diagnostic::Code;
use crate::runbook::field::{Span, Spanned, Text, custom, fields};
use crate::runbook::template;

fields! {
    /// `kind = "dynamodb.copy-table"`.
    pub struct DynamodbCopyTable {
        /// Table to read (usually the restored one).
        from: Text = req,
        /// Table to write into (usually the live one).
        to: Text = req,
        /// Parallel scan segments (default 4).
        segments: Option<Spanned<u32>> = opt,
        /// Region.
        region: Option<Text> = opt,
    }
}

impl KindRules for DynamodbCopyTable {
    fn effect(&self) -> Effect {
        Effect::Destructive
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["items_read", "items_written"]
    }

    fn confirm_target(&self) -> Option<&Text> {
        Some(&self.to)
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        None
    }

    fn rpo_field(&self) -> Option<&'static str> {
        None
    }

    fn change(&self, show: &dyn Fn(&str) -> String, _description: Option<&str>) -> Option<String> {
        let to = show(&self.to.value);
        Some(format!(
            "every item of table {} is written into table {to}{}; items of {to} with the same key are overwritten, others are kept",
            show(&self.from.value),
            in_region(show, &self.region),
        ))
    }

    fn uses_aws(&self) -> bool {
        true
    }

    fn permissions(&self) -> Vec<Permission<'_>> {
        let region = self.region.as_ref();
        let from = Resource::Table { name: &self.from, region };
        let to = Resource::Table { name: &self.to, region };
        vec![
            Permission::new("dynamodb:DescribeTable", "from", from.clone()),
            Permission::new("dynamodb:DescribeTable", "to", to.clone()),
            Permission::new("dynamodb:Scan", "from", from),
            Permission::new("dynamodb:BatchWriteItem", "to", to),
        ]
    }

    fn headless_answer_missing(&self, _id: &str, _given: Option<&str>) -> Option<String> {
        None
    }

    fn cross_field_errors(&self, _step_span: Span, errors: &mut Vec<Error>) {
        // The same text, or the same templates, name the same table.
        if template::same(&self.from.value, &self.to.value) {
            errors.push(custom(
                Code::Conflict,
                self.to.span,
                format!("`from` and `to` are the same table `{}`", self.to.value),
                "copy from the restored table into the live one, e.g. from = \"{{ params.restored }}\", to = \"{{ params.table }}\"",
            ));
        }
        positive(self.segments.as_ref(), errors);
    }

    fn check(&self, _step: &mut dyn StepChecks) {}
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "cutover"
kind = "dynamodb.copy-table"
from = "t1"
to = "t"
"#;
