//! `kind = "backup.copy"`: copy a recovery point to another vault, e.g. DR
//! back to primary.

use toml_spanner::Error;

use super::{Effect, KindRules, Permission, Resource, StepChecks};
use crate::runbook::field::{Span, Spanned, Text, fields, invalid};

/// Days a point must stay in cold storage before it is deleted: a
/// lifecycle's `DeleteAfterDays` is at least `MoveToColdStorageAfterDays`
/// + 90 (botocore backup 2018-11-15, shape `Lifecycle`).
pub const COLD_STORAGE_MIN_DAYS: u32 = 90;

fields! {
    /// The copy's lifecycle, in days after the source point's creation
    /// (StartCopyJob `Lifecycle`).
    pub struct CopyLifecycle {
        /// Days after creation that the copy is deleted.
        delete_after_days: Spanned<u32> = req,
        /// Days after creation that the copy moves to cold storage
        /// (DynamoDB and EFS only; at least 90 days before deletion).
        move_to_cold_storage_after_days: Option<Spanned<u32>> = opt,
    }
}

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
        /// The copy's lifecycle; when absent, the copy keeps its source's
        /// retention, or, when the destination vault is locked and that
        /// retention is outside the lock's bounds, the nearest bound.
        lifecycle: Option<CopyLifecycle> = opt,
    }
}

impl KindRules for BackupCopy {
    fn effect(&self) -> Effect {
        Effect::Writes
    }

    fn outputs(&self) -> Vec<&str> {
        vec![
            "job_id",
            "status",
            "destination_recovery_point_arn",
            "delete_after_days",
        ]
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
            Permission::new("backup:StartCopyJob", "recovery_point", point.clone()),
            Permission::any("backup:DescribeCopyJob"),
            Permission::new(
                "backup:DescribeBackupVault",
                "destination_vault_arn",
                Resource::VaultArn(&self.destination_vault_arn),
            ),
            Permission::new("backup:DescribeRecoveryPoint", "recovery_point", point.clone()),
            // AWS Backup assumes the role: the pass is to its service.
            Permission::pass_role("iam_role_arn", &self.iam_role_arn, "backup.amazonaws.com"),
        ]
    }

    fn headless_answer_missing(&self, _id: &str, _given: Option<&str>) -> Option<String> {
        None
    }

    fn cross_field_errors(&self, _step_span: Span, errors: &mut Vec<Error>) {
        let Some(l) = &self.lifecycle else {
            return;
        };
        let delete = l.delete_after_days.value;
        if delete == 0 {
            errors.push(invalid(
                l.delete_after_days.span,
                "`lifecycle.delete_after_days` must be at least 1 day",
                "write e.g. lifecycle = { delete_after_days = 35 }; leave `lifecycle` out to keep the source's retention",
            ));
        }
        if let Some(cold) = &l.move_to_cold_storage_after_days
            && u64::from(cold.value) + u64::from(COLD_STORAGE_MIN_DAYS) > u64::from(delete)
        {
            errors.push(invalid(
                cold.span,
                format!(
                    "`lifecycle.move_to_cold_storage_after_days` is {}, but a point stays in cold storage at least {COLD_STORAGE_MIN_DAYS} days, so `delete_after_days` ({delete}) must be at least {}",
                    cold.value,
                    u64::from(cold.value) + u64::from(COLD_STORAGE_MIN_DAYS)
                ),
                "raise delete_after_days, lower move_to_cold_storage_after_days, or leave it out (AWS Backup, Lifecycle: DeleteAfterDays ≥ MoveToColdStorageAfterDays + 90)",
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
id = "copy"
kind = "backup.copy"
source_vault = "v"
recovery_point = "arn:p"
destination_vault_arn = "arn:v"
iam_role_arn = "arn:r"
lifecycle = { delete_after_days = 120, move_to_cold_storage_after_days = 30 }
"#;

/// A lifecycle in days after the point's creation: `delete` `None` keeps
/// the point until someone deletes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionDays {
    /// DeleteAfterDays.
    pub delete: Option<i64>,
    /// MoveToColdStorageAfterDays.
    pub cold: Option<i64>,
}

/// What a copy into a vault is given, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyRetention {
    /// Send no lifecycle: the copy keeps its source's retention.
    KeepSource(String),
    /// Send this lifecycle.
    Use(RetentionDays, String),
    /// Do not start the copy: AWS would fail it.
    Refuse(String),
}

/// The lock's bounds in words: "30–365 days", "at least 30 days".
fn bounds(min: Option<i64>, max: Option<i64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("{a}–{b} days"),
        (Some(a), None) => format!("at least {a} days"),
        (None, Some(b)) => format!("at most {b} days"),
        (None, None) => "any retention".into(),
    }
}

/// The lifecycle a copy into `vault` gets. A copy keeps its source's
/// retention unless StartCopyJob carries a `Lifecycle` (AWS Backup
/// developer guide, "Creating backup copies": "Copies retain their source
/// configuration, including creation dates and retention period"). A
/// vault lock fails every copy job whose retention is outside
/// [MinRetentionDays, MaxRetentionDays] (botocore backup 2018-11-15,
/// PutBackupVaultLockConfigurationInput.MinRetentionDays/MaxRetentionDays:
/// "the vault fails the backup or copy job"). So: a step's own lifecycle
/// outside the lock is refused before the request; without one, the
/// source's retention is kept when it fits, else the nearest bound is
/// chosen, keeping the source's cold transition only while it leaves the
/// 90 days of cold storage. `lock` is the destination's (min, max) when it
/// is locked; `source` is `None` when the source point could not be read.
pub fn copy_retention(
    vault: &str,
    explicit: Option<RetentionDays>,
    source: Option<RetentionDays>,
    lock: Option<(Option<i64>, Option<i64>)>,
) -> CopyRetention {
    let fits = |d: Option<i64>, (min, max): (Option<i64>, Option<i64>)| match d {
        None => max.is_none(),
        Some(d) => min.is_none_or(|m| d >= m) && max.is_none_or(|m| d <= m),
    };
    let days = |d: Option<i64>| d.map_or_else(|| "no retention end".into(), |d| format!("{d} days"));
    match (explicit, lock) {
        (Some(l), Some(lock)) if !fits(l.delete, lock) => CopyRetention::Refuse(format!(
            "`lifecycle.delete_after_days` ({}) is outside the Vault Lock of the destination vault {vault}, which takes {}; AWS Backup would fail the copy job. Set delete_after_days within those bounds",
            days(l.delete),
            bounds(lock.0, lock.1)
        )),
        (Some(l), _) => CopyRetention::Use(l, format!("the step's lifecycle: {}", days(l.delete))),
        (None, None) => CopyRetention::KeepSource(
            "the copy keeps its source's retention (the destination vault has no lock)".into(),
        ),
        (None, Some((None, None))) => CopyRetention::KeepSource(
            "the copy keeps its source's retention (the destination's lock sets no bounds)".into(),
        ),
        (None, Some(lock)) => {
            let Some(src) = source else {
                return CopyRetention::Refuse(format!(
                    "the destination vault {vault} is locked ({}) and the source point's retention could not be read, so a copy that keeps it may fail; give the step a `lifecycle` within those bounds",
                    bounds(lock.0, lock.1)
                ));
            };
            if fits(src.delete, lock) {
                return CopyRetention::KeepSource(format!(
                    "the copy keeps its source's retention ({}), within the lock of {vault} ({})",
                    days(src.delete),
                    bounds(lock.0, lock.1)
                ));
            }
            // Outside the bounds: below the minimum, or above (or without
            // an end under) the maximum; a lock with no maximum always
            // takes a retention at or past its minimum.
            let chosen = match (src.delete, lock) {
                (Some(d), (Some(min), _)) if d < min => min,
                (_, (_, Some(max))) => max,
                (_, (min, None)) => min.unwrap_or(1),
            };
            let cold = src
                .cold
                .filter(|c| c + i64::from(COLD_STORAGE_MIN_DAYS) <= chosen);
            let cold_note = match (src.cold, cold) {
                (Some(c), None) => format!(
                    "; the source's move to cold storage after {c} days is dropped, as it would leave less than {COLD_STORAGE_MIN_DAYS} days in cold storage"
                ),
                _ => String::new(),
            };
            CopyRetention::Use(
                RetentionDays {
                    delete: Some(chosen),
                    cold,
                },
                format!(
                    "the source's retention ({}) is outside the lock of {vault} ({}), so the copy is kept {chosen} days, the nearest bound{cold_note}",
                    days(src.delete),
                    bounds(lock.0, lock.1)
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CopyRetention, RetentionDays, copy_retention};
    use crate::runbook::check_str;

    const HEAD: &str = "[runbook]\nid = \"r\"\ntitle = \"R\"\n\n[[step]]\nid = \"copy\"\nkind = \"backup.copy\"\nsource_vault = \"v\"\nrecovery_point = \"arn:p\"\ndestination_vault_arn = \"arn:v\"\niam_role_arn = \"arn:r\"\n";

    #[test]
    fn check_holds_a_copys_lifecycle_to_the_cold_storage_rule_at_its_field() {
        let ok = format!("{HEAD}lifecycle = {{ delete_after_days = 120, move_to_cold_storage_after_days = 30 }}\n");
        let checked = check_str(&ok);
        assert!(checked.runbook.is_some(), "{:#?}", checked.diagnostics);
        for (lifecycle, want, field) in [
            (
                "{ delete_after_days = 100, move_to_cold_storage_after_days = 30 }",
                "so `delete_after_days` (100) must be at least 120",
                "30 }",
            ),
            (
                "{ delete_after_days = 0 }",
                "`lifecycle.delete_after_days` must be at least 1 day",
                "0 }",
            ),
            ("{ delete_after_days = -5 }", "", "-5 }"),
            ("{ move_to_cold_storage_after_days = 5 }", "delete_after_days", "{"),
        ] {
            let text = format!("{HEAD}lifecycle = {lifecycle}\n");
            let checked = check_str(&text);
            assert!(checked.runbook.is_none(), "{text}");
            let first = checked.first_error().unwrap();
            assert!(first.message.contains(want), "{text}\n{first:#?}");
            // The error points at the field's value, on the lifecycle's line.
            let span = first.span.unwrap();
            let at = &text[span.start as usize..];
            let line = text[..span.start as usize].lines().count();
            assert_eq!(line, 12, "{text}\n{first:#?}");
            assert!(at.starts_with(field), "{at}\n{first:#?}");
        }
    }

    const fn days(delete: Option<i64>, cold: Option<i64>) -> RetentionDays {
        RetentionDays { delete, cold }
    }

    #[test]
    fn a_copy_keeps_its_sources_retention_when_it_fits_the_lock_else_the_nearest_bound() {
        let lock = Some((Some(30), Some(365)));
        let keep = |r: &CopyRetention| matches!(r, CopyRetention::KeepSource(_));
        // No lock: the source's retention, whatever it is.
        assert!(keep(&copy_retention("v", None, Some(days(Some(7), None)), None)));
        // Within the lock: kept, and said.
        let r = copy_retention("v", None, Some(days(Some(35), None)), lock);
        let CopyRetention::KeepSource(why) = r else { panic!("{r:?}") };
        assert!(why.contains("35 days") && why.contains("30–365 days"), "{why}");
        // Below the minimum: the minimum; the cold move that leaves less
        // than 90 days in cold storage is dropped.
        let r = copy_retention("v", None, Some(days(Some(7), Some(1))), lock);
        let CopyRetention::Use(chosen, why) = r else { panic!("{r:?}") };
        assert_eq!(chosen, days(Some(30), None));
        assert!(why.contains("kept 30 days") && why.contains("cold storage"), "{why}");
        // Above the maximum, or kept indefinitely: the maximum, with the
        // cold move kept when it fits.
        let r = copy_retention("v", None, Some(days(Some(4000), Some(10))), lock);
        assert_eq!(r, CopyRetention::Use(days(Some(365), Some(10)), match &r { CopyRetention::Use(_, w) => w.clone(), _ => String::new() }));
        let r = copy_retention("v", None, Some(days(None, None)), lock);
        assert!(matches!(r, CopyRetention::Use(d, _) if d.delete == Some(365)), "{r:?}");
        // Indefinite under a lock with only a minimum fits.
        assert!(keep(&copy_retention("v", None, Some(days(None, None)), Some((Some(30), None)))));
        // The source unread under a lock: refused, naming the bounds.
        let r = copy_retention("v", None, None, lock);
        assert!(matches!(&r, CopyRetention::Refuse(w) if w.contains("30–365 days")), "{r:?}");
        // The step's own lifecycle: used when it fits, refused when not.
        let given = Some(days(Some(400), None));
        assert!(matches!(copy_retention("v", given, None, None), CopyRetention::Use(..)));
        let r = copy_retention("v", given, None, lock);
        assert!(matches!(&r, CopyRetention::Refuse(w) if w.contains("`lifecycle.delete_after_days` (400 days)")), "{r:?}");
    }
}
