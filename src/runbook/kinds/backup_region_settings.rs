//! `kind = "backup.region-settings"`: read the region's AWS Backup settings
//! (service opt-in, full management) and assert them.

use toml_spanner::Error;

use super::{Effect, KindRules, Permission, StepChecks};
use crate::runbook::field::{Span, Spanned, Text, fields};

fields! {
    /// `kind = "backup.region-settings"`.
    pub struct BackupRegionSettings {
        /// Resource types that must be opted in to AWS Backup in the region
        /// (ResourceTypeOptInPreference), e.g. `["DynamoDB", "EFS"]`.
        #[serde(default)]
        expect_opt_in: Vec<Spanned<String>> = def,
        /// Resource types whose backups AWS Backup must fully manage
        /// (ResourceTypeManagementPreference); `DynamoDB` is the advanced
        /// DynamoDB backup features that cross-region copies need.
        #[serde(default)]
        expect_full_management: Vec<Spanned<String>> = def,
        /// Region whose settings are read.
        region: Option<Text> = opt,
    }
}

impl KindRules for BackupRegionSettings {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["opted_in", "fully_managed"]
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
        vec![Permission::any("backup:DescribeRegionSettings")]
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
id = "settings"
kind = "backup.region-settings"
"#;
