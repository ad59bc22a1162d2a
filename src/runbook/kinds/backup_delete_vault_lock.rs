//! `kind = "backup.delete-vault-lock"`: remove a vault lock (destructive).

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks, in_region};
use crate::runbook::field::{Span, Text, fields};

fields! {
    /// `kind = "backup.delete-vault-lock"`.
    pub struct BackupDeleteVaultLock {
        /// Vault whose lock is removed.
        backup_vault: Text = req,
        /// Region of the vault.
        region: Option<Text> = opt,
    }
}

impl KindRules for BackupDeleteVaultLock {
    fn effect(&self) -> Effect {
        Effect::Destructive
    }

    fn outputs(&self) -> Vec<&str> {
        vec![]
    }

    fn confirm_target(&self) -> Option<&Text> {
        Some(&self.backup_vault)
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        None
    }

    fn rpo_field(&self) -> Option<&'static str> {
        None
    }

    fn change(&self, show: &dyn Fn(&str) -> String, _description: Option<&str>) -> Option<String> {
        Some(format!(
            "the vault lock of {}{} is removed: its recovery points can then be deleted before their retention ends",
            show(&self.backup_vault.value),
            in_region(show, &self.region)
        ))
    }

    fn uses_aws(&self) -> bool {
        true
    }

    fn permissions(&self) -> Vec<Permission<'_>> {
        vec![Permission::new(
            "backup:DeleteBackupVaultLockConfiguration",
            "backup_vault",
            Resource::Vault {
                name: &self.backup_vault,
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
id = "unlock"
kind = "backup.delete-vault-lock"
backup_vault = "v"
"#;
