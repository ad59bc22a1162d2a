//! A copy job's lifecycle in the simulated world, and the destination
//! vault lock that fails a copy outside its bounds. The moto extension
//! (`tests/support/moto_backup.py`, `copy_lock_failure`) follows the same
//! rule.

use super::{Vault, after, days_long};
use crate::cloud::{Lifecycle, RecoveryPoint};

/// Gives `copy` the lifecycle its copy job asked for. Without one the copy
/// keeps its source's retention (AWS Backup developer guide, "Creating
/// backup copies": "Copies retain their source configuration, including
/// creation dates and retention period"); with one, its dates count from
/// the source's creation date, which the copy keeps.
pub(super) fn apply_lifecycle(copy: &mut RecoveryPoint, lifecycle: Option<Lifecycle>) {
    let Some(l) = lifecycle else {
        return;
    };
    let at = |days: Option<i64>| {
        days.filter(|d| *d >= 0)
            .map(|d| after(copy.created_at, days_long(d)))
    };
    copy.delete_at = at(l.delete_after_days);
    copy.move_to_cold_at = at(l.move_to_cold_storage_after_days);
}

/// Why a copy job into `dest` fails, when the copy's retention (days from
/// its creation to its `DeleteAt`; none: kept indefinitely) is outside the
/// vault lock's bounds. Botocore backup 2018-11-15,
/// PutBackupVaultLockConfigurationInput.MinRetentionDays/MaxRetentionDays:
/// "any backup or copy job to the vault must have a lifecycle policy with
/// a retention period equal to or longer than the minimum retention period
/// [...] then the vault fails that backup or copy job" (and the same for
/// the maximum); AWS Backup developer guide, "AWS Backup Vault Lock". AWS
/// starts the job and fails it; its exact status message is not
/// documented.
pub(super) fn copy_lock_failure(dest: &Vault, copy: &RecoveryPoint) -> Option<String> {
    let lock = dest.lock?;
    let days = copy
        .delete_at
        .map(|at| (at.as_second() - copy.created_at.as_second() + 43_200).div_euclid(86_400));
    let too_short = days.is_some_and(|d| d < lock.min_retention_days);
    let too_long = lock
        .max_retention_days
        .is_some_and(|max| days.is_none_or(|d| d > max));
    if !(too_short || too_long) {
        return None;
    }
    let max = lock
        .max_retention_days
        .map_or_else(|| "none".into(), |d| format!("{d} days"));
    Some(format!(
        "Copy job failed: the copy's retention ({}) is outside the Vault Lock of backup vault {} (minimum {} days, maximum {max}); give the copy a Lifecycle within those bounds",
        days.map_or_else(|| "no retention end".into(), |d| format!("{d} days")),
        dest.name,
        lock.min_retention_days
    ))
}
