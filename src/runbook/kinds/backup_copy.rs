//! `kind = "backup.copy"`: copy a recovery point to another vault, e.g. DR
//! back to primary.

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks};
use crate::runbook::field::{Span, Text, fields};

fields! {
    /// `kind = "backup.copy"`.
    pub struct BackupCopy {
        /// Vault holding the recovery point.
        source_vault: Text = req,
        /// Recovery point ARN to copy.
        recovery_point: Text = req,
        /// ARN of the destination vault.
        destination_vault_arn: Text = req,
        /// IAM role AWS Backup assumes for the copy.
        iam_role_arn: Text = req,
        /// Region of the source vault; when absent, the region in the
        /// recovery point's ARN.
        region: Option<Text> = opt,
    }
}

impl KindRules for BackupCopy {
    fn effect(&self) -> Effect {
        Effect::Writes
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["job_id", "status", "destination_recovery_point_arn"]
    }

    fn confirm_target(&self) -> Option<&Text> {
        None
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        Some("the copy job")
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
        let point = Resource::RecoveryPoint {
            arn: &self.recovery_point,
            region: self.region.as_ref(),
        };
        vec![
            Permission::new("backup:StartCopyJob", "recovery_point", point),
            Permission::any("backup:DescribeCopyJob"),
            Permission::new("iam:PassRole", "iam_role_arn", Resource::Role(&self.iam_role_arn)),
        ]
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
id = "copy"
kind = "backup.copy"
source_vault = "v"
recovery_point = "arn:p"
destination_vault_arn = "arn:v"
iam_role_arn = "arn:r"
"#;
