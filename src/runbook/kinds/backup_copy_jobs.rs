//! `kind = "backup.copy-jobs"`: count the copy jobs of a recent window and
//! assert on them.

use toml_spanner::Error;

use super::{Effect, KindRules, Permission, StepChecks};
use crate::runbook::field::{Dur, Span, Spanned, Text, fields};

fields! {
    /// What `backup.copy-jobs` expects of the window's copy jobs.
    pub struct CopyJobsExpectation {
        /// At least this many completed.
        completed_at_least: Option<u32> = opt,
        /// At most this many failed (or ended partial, aborted or expired).
        failed_at_most: Option<u32> = opt,
    }
}

fields! {
    /// `kind = "backup.copy-jobs"`.
    pub struct BackupCopyJobs {
        /// How far back to look: jobs created within this long before now
        /// (default 24 hours).
        within: Option<Spanned<Dur>> = opt,
        /// Only jobs copying points of this resource type (`DynamoDB`, `EFS`, ...).
        resource_type: Option<Text> = opt,
        /// Only jobs into this vault (its ARN).
        destination_vault_arn: Option<Text> = opt,
        /// Region the jobs ran in (the source vault's).
        region: Option<Text> = opt,
        /// Assertions on the counts; without it the step only reports.
        expect: Option<CopyJobsExpectation> = opt,
    }
}

impl KindRules for BackupCopyJobs {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["total", "completed", "failed", "running", "newest_failure"]
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
        vec![Permission::any("backup:ListCopyJobs")]
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
id = "copy-jobs"
kind = "backup.copy-jobs"
"#;
