//! `kind = "backup.delete-recovery-point"`: delete one recovery point, or all
//! of a vault's (destructive).

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks, in_region};
use crate::runbook::diagnostic::Code;
use crate::runbook::field::{Span, Text, custom, fields};

fields! {
    /// `kind = "backup.delete-recovery-point"`.
    pub struct BackupDeleteRecoveryPoint {
        /// Vault holding the points.
        backup_vault: Text = req,
        /// One recovery point ARN.
        recovery_point: Option<Text> = opt,
        /// Every recovery point in the vault.
        #[serde(default)]
        all: bool = def,
        /// Region of the vault; with `recovery_point` and no `region`, the
        /// region in its ARN.
        region: Option<Text> = opt,
    }
}

impl KindRules for BackupDeleteRecoveryPoint {
    fn effect(&self) -> Effect {
        Effect::Destructive
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["deleted"]
    }

    fn confirm_target(&self) -> Option<&Text> {
        Some(self.recovery_point.as_ref().unwrap_or(&self.backup_vault))
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        None
    }

    fn rpo_field(&self) -> Option<&'static str> {
        None
    }

    fn change(&self, show: &dyn Fn(&str) -> String, _description: Option<&str>) -> Option<String> {
        let vault = show(&self.backup_vault.value);
        let region = in_region(show, &self.region);
        Some(match &self.recovery_point {
            Some(p) => format!(
                "recovery point {} in vault {vault}{region} is deleted for good",
                show(&p.value)
            ),
            None => format!("EVERY recovery point in vault {vault}{region} is deleted for good"),
        })
    }

    fn uses_aws(&self) -> bool {
        true
    }

    fn permissions(&self) -> Vec<Permission<'_>> {
        let region = self.region.as_ref();
        let vault = Resource::Vault {
            name: &self.backup_vault,
            region,
        };
        let mut permissions = Vec::new();
        match &self.recovery_point {
            Some(arn) => {
                let point = Resource::RecoveryPoint { arn, region };
                permissions.extend([
                    Permission::new("backup:DeleteRecoveryPoint", "recovery_point", point.clone()),
                    Permission::new("backup:DescribeRecoveryPoint", "recovery_point", point),
                ]);
            }
            // Every point of the vault: their ARNs come from the listing.
            None => permissions.extend([
                Permission::any("backup:DeleteRecoveryPoint"),
                Permission::any("backup:DescribeRecoveryPoint"),
            ]),
        }
        permissions.push(Permission::new("backup:DescribeBackupVault", "backup_vault", vault.clone()));
        if self.all {
            permissions.push(
                Permission::new("backup:ListRecoveryPointsByBackupVault", "backup_vault", vault)
                    .when("with `all`"),
            );
        }
        permissions
    }

    fn headless_answer_missing(&self, _id: &str, _given: Option<&str>) -> Option<String> {
        None
    }

    fn cross_field_errors(&self, _step_span: Span, errors: &mut Vec<Error>) {
        if self.recovery_point.is_some() == self.all {
            errors.push(custom(
                Code::Conflict,
                self.backup_vault.span,
                "give exactly one of `recovery_point` (one ARN) or `all = true` (every point in the vault)",
                "write `recovery_point = \"{{ steps.pick.arn }}\"` or `all = true`",
            ));
        }
    }

    fn check(&self, _step: &mut dyn StepChecks) {}
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "delete-points"
kind = "backup.delete-recovery-point"
backup_vault = "v"
all = true

[[step]]
id = "delete-point"
kind = "backup.delete-recovery-point"
backup_vault = "v"
recovery_point = "arn:p"
"#;
