//! `kind = "backup.restore"`: start an AWS Backup restore job and follow it
//! to the end.

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks};
use crate::runbook::field::{Span, Text, TextMap, fields};

fields! {
    /// `kind = "backup.restore"`.
    pub struct BackupRestore {
        /// Vault holding the recovery point.
        backup_vault: Text = req,
        /// Recovery point ARN, usually `{{ steps.pick.arn }}`.
        recovery_point: Text = req,
        /// IAM role AWS Backup assumes for the restore.
        iam_role_arn: Text = req,
        /// Overrides merged over the point's restore metadata, e.g.
        /// `{ targetTableName = "..." }` or EFS `itemsToRestore`. For
        /// DynamoDB, `encryptionType` ("Default" or "KMS") and
        /// `kmsMasterKeyArn` here decide the restored table's encryption;
        /// without them it is the source table's as the point records it,
        /// never the backup's own (vault) key.
        #[serde(default)]
        metadata: TextMap = def,
        /// Resource type when AWS Backup cannot infer it.
        resource_type: Option<Text> = opt,
        /// Region of the vault; when absent, the region in the recovery
        /// point's ARN (a DR copy is restored in the DR region).
        region: Option<Text> = opt,
    }
}

impl KindRules for BackupRestore {
    fn effect(&self) -> Effect {
        Effect::Writes
    }

    fn outputs(&self) -> Vec<&str> {
        vec![
            "job_id",
            "status",
            "created_resource_arn",
            "encryption",
            "completed_at",
        ]
    }

    fn confirm_target(&self) -> Option<&Text> {
        None
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        Some("the restore job")
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
            Permission::new("backup:GetRecoveryPointRestoreMetadata", "recovery_point", point.clone()),
            Permission::new("backup:DescribeRecoveryPoint", "recovery_point", point.clone()),
            Permission::new("backup:StartRestoreJob", "recovery_point", point),
            Permission::any("backup:DescribeRestoreJob"),
            // AWS Backup assumes the role: the pass is to its service.
            Permission::pass_role("iam_role_arn", &self.iam_role_arn, "backup.amazonaws.com"),
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
id = "restore"
kind = "backup.restore"
backup_vault = "v"
recovery_point = "arn:p"
iam_role_arn = "arn:r"
"#;
