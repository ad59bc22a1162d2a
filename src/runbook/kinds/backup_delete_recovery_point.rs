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
        /// Also delete continuous (point-in-time) recovery points. Deleting
        /// one stops future continuous backups of its resource, so `all`
        /// skips them and a single continuous point is refused unless this
        /// is true.
        #[serde(default)]
        include_continuous: bool = def,
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
        vec!["deleted", "skipped", "skipped_continuous"]
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
            Some(p) if self.include_continuous => format!(
                "recovery point {} in vault {vault}{region} is deleted for good; if it is a continuous backup's, that backup stops",
                show(&p.value)
            ),
            Some(p) => format!(
                "recovery point {} in vault {vault}{region} is deleted for good",
                show(&p.value)
            ),
            None if self.include_continuous => format!(
                "EVERY recovery point in vault {vault}{region} is deleted for good, continuous ones included: their continuous backups stop"
            ),
            None => format!(
                "EVERY recovery point in vault {vault}{region} is deleted for good, except continuous (point-in-time) points, which are kept"
            ),
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
        if let Some(point) = &self.recovery_point
            && !self.include_continuous
            && !point.value.contains("{{")
            && crate::cloud::is_continuous_arn(&point.value)
        {
            errors.push(custom(
                Code::Conflict,
                point.span,
                CONTINUOUS_REFUSED,
                "add `include_continuous = true` to stop that continuous backup, or call DisassociateRecoveryPoint to hand it back to its service without stopping it",
            ));
        }
    }

    fn check(&self, _step: &mut dyn StepChecks) {}
}

/// Why a continuous point is not deleted without `include_continuous`
/// (botocore backup 2018-11-15, DeleteRecoveryPoint: deleting a
/// continuous backup's point "stops future continuous backup").
pub const CONTINUOUS_REFUSED: &str = "this is a continuous backup's recovery point: deleting it stops future continuous backups of its resource";

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

#[cfg(test)]
mod tests {
    use crate::runbook::check_str;

    fn step(fields: &str) -> String {
        format!(
            "[runbook]\nid = \"t\"\ntitle = \"t\"\n\n[[step]]\nid = \"delete\"\nkind = \"backup.delete-recovery-point\"\nbackup_vault = \"v\"\n{fields}"
        )
    }

    const CONTINUOUS: &str = "arn:aws:backup:us-east-1:123456789012:recovery-point:continuous:db-1";

    #[test]
    fn a_written_continuous_point_needs_include_continuous() {
        let text = step(&format!("recovery_point = \"{CONTINUOUS}\"\n"));
        let checked = check_str(&text);
        assert!(checked.runbook.is_none());
        let d = &checked.diagnostics[0];
        assert!(d.message.contains("continuous backup"), "{}", d.message);
        let help = d.help.as_deref().unwrap_or_default();
        assert!(help.contains("include_continuous = true"), "{help}");
        assert!(help.contains("DisassociateRecoveryPoint"), "{help}");
        let span = d.span.unwrap();
        assert_eq!(&text[span.start as usize..span.end as usize], format!("\"{CONTINUOUS}\""));

        for ok in [
            format!("recovery_point = \"{CONTINUOUS}\"\ninclude_continuous = true\n"),
            "recovery_point = \"arn:aws:backup:us-east-1:1:recovery-point:abc\"\n".to_owned(),
            "recovery_point = \"{{ params.p }}\"\n".to_owned(),
            "all = true\ninclude_continuous = true\n".to_owned(),
        ] {
            let text = step(&ok).replace("[[step]]", "[params]\np = { required = true }\n\n[[step]]");
            let checked = check_str(&text);
            assert!(checked.runbook.is_some(), "{ok}: {:#?}", checked.diagnostics);
        }
    }

    #[test]
    fn the_confirmation_says_whether_continuous_points_are_kept() {
        let change = |fields: &str| {
            let checked = check_str(&step(fields));
            let runbook = checked.runbook.expect("valid");
            runbook.steps[0].action.change(&|s| s.to_owned(), None)
        };
        let kept = change("all = true\n");
        assert!(kept.contains("continuous (point-in-time) points, which are kept"), "{kept}");
        let gone = change("all = true\ninclude_continuous = true\n");
        assert!(gone.contains("their continuous backups stop"), "{gone}");
    }

    #[test]
    fn include_continuous_is_a_boolean() {
        let checked = check_str(&step("all = true\ninclude_continuous = \"yes\"\n"));
        assert!(checked.runbook.is_none());
        let d = &checked.diagnostics[0];
        assert!(
            d.message.contains("bool") || d.message.contains("boolean"),
            "{}",
            d.message
        );
    }
}
