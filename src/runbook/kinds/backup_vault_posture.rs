//! `kind = "backup.vault-posture"`: describe a vault and assert its lock and
//! retention.

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks};
use crate::runbook::field::{Dur, Span, Spanned, Text, fields};

fields! {
    /// What a vault posture check expects.
    pub struct VaultExpectation {
        /// The vault lock is on.
        locked: Option<bool> = opt,
        /// The lock's minimum retention in days is at least this.
        min_retention_days: Option<u32> = opt,
        /// At least this many recovery points are in the vault.
        recovery_points_at_least: Option<u32> = opt,
        /// The newest recovery point is younger than this.
        newest_younger_than: Option<Spanned<Dur>> = opt,
    }
}

fields! {
    /// `kind = "backup.vault-posture"`.
    pub struct BackupVaultPosture {
        /// Vault to describe.
        backup_vault: Text = req,
        /// Region of the vault.
        region: Option<Text> = opt,
        /// Assertions on the vault.
        expect: Option<VaultExpectation> = opt,
    }
}

impl KindRules for BackupVaultPosture {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec![
            "locked",
            "min_retention_days",
            "max_retention_days",
            "lock_date",
            "recovery_points",
        ]
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
        let vault = Resource::Vault {
            name: &self.backup_vault,
            region: self.region.as_ref(),
        };
        let mut permissions = vec![Permission::new("backup:DescribeBackupVault", "backup_vault", vault.clone())];
        if self
            .expect
            .as_ref()
            .is_some_and(|e| e.newest_younger_than.is_some())
        {
            permissions.push(
                Permission::new("backup:ListRecoveryPointsByBackupVault", "backup_vault", vault)
                    .when("with `expect.newest_younger_than`"),
            );
        }
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
id = "posture"
kind = "backup.vault-posture"
backup_vault = "v"
expect = { newest_younger_than = "1h" }
"#;
