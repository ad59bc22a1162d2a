//! `kind = "dynamodb.restore-to-point-in-time"`: point-in-time restore into a
//! new table; the time it goes back to measures the run's RPO.

use toml_spanner::Error;

use super::{Permission, Resource, restore_target, Effect, KindRules, StepChecks};
use crate::runbook::field::{Scalar, Span, Text, fields};

fields! {
    /// `kind = "dynamodb.restore-to-point-in-time"`.
    pub struct DynamodbRestoreToPointInTime {
        /// Table with PITR enabled.
        source_table: Text = req,
        /// New table to create.
        target_table: Text = req,
        /// Time to restore to: an RFC 3339 date-time (quoted or not) or a
        /// template; the latest restorable time if absent, empty or `latest`.
        restore_time: Option<Scalar> = opt,
        /// Region.
        region: Option<Text> = opt,
    }
}

impl KindRules for DynamodbRestoreToPointInTime {
    fn effect(&self) -> Effect {
        Effect::Writes
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["table_name", "table_arn", "restore_time"]
    }

    fn confirm_target(&self) -> Option<&Text> {
        Some(&self.target_table)
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        None
    }

    fn rpo_field(&self) -> Option<&'static str> {
        Some("restore_time")
    }

    fn change(&self, show: &dyn Fn(&str) -> String, _description: Option<&str>) -> Option<String> {
        Some(format!(
            "a new table {} is created",
            show(&self.target_table.value)
        ))
    }

    fn uses_aws(&self) -> bool {
        true
    }

    fn permissions(&self) -> Vec<Permission<'_>> {
        let region = self.region.as_ref();
        let source = Resource::Table {
            name: &self.source_table,
            region,
        };
        let mut permissions = vec![
            Permission::new("dynamodb:DescribeContinuousBackups", "source_table", source.clone()),
            Permission::new("dynamodb:RestoreTableToPointInTime", "source_table", source),
        ];
        permissions.extend(restore_target(&self.target_table, region));
        permissions
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
id = "pitr"
kind = "dynamodb.restore-to-point-in-time"
source_table = "t"
target_table = "t2"
"#;
