//! `kind = "dynamodb.restore-from-backup"`: restore an on-demand backup into
//! a new table.

use toml_spanner::Error;

use super::{Permission, Resource, restore_target, Effect, KindRules, StepChecks};
use crate::runbook::field::{Span, Text, fields};

fields! {
    /// `kind = "dynamodb.restore-from-backup"`.
    pub struct DynamodbRestoreFromBackup {
        /// DynamoDB backup ARN.
        backup_arn: Text = req,
        /// New table to create.
        target_table: Text = req,
        /// Region.
        region: Option<Text> = opt,
    }
}

impl KindRules for DynamodbRestoreFromBackup {
    fn effect(&self) -> Effect {
        Effect::Writes
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["table_name", "table_arn"]
    }

    fn confirm_target(&self) -> Option<&Text> {
        Some(&self.target_table)
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        None
    }

    fn rpo_field(&self) -> Option<&'static str> {
        None
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
        let mut permissions = vec![Permission::new(
            "dynamodb:RestoreTableFromBackup",
            "backup_arn",
            Resource::TableBackup {
                arn: &self.backup_arn,
                region,
            },
        )];
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
id = "from-backup"
kind = "dynamodb.restore-from-backup"
backup_arn = "arn:b"
target_table = "t1"
"#;
