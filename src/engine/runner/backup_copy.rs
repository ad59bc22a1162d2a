//! `backup.copy`: a copy job followed to the end, with the lifecycle a
//! locked destination vault takes (the rule is `copy_retention` in the
//! kind's file; here only the reading of the lock and of the source).

use jiff::Timestamp;

use super::backup::follow;
use super::{StepCtx, StepError};
use crate::cloud::point_region;
use crate::cloud::{CopyRequest, Lifecycle, RecoveryPoint};
use crate::engine::values::Outputs;
use crate::runbook::kinds::{BackupCopy, CopyRetention, RetentionDays, copy_retention};

/// (region, name) of `arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME`.
fn vault_of(arn: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts[..] {
        ["arn", _, "backup", region, _, "backup-vault", name] if !name.is_empty() => {
            Some((region.to_owned(), name.to_owned()))
        }
        _ => None,
    }
}

/// Whole days from `from` to `to`, rounded to the nearest day.
fn days_between(from: Timestamp, to: Timestamp) -> i64 {
    (to.as_second() - from.as_second() + 43_200).div_euclid(86_400)
}

/// A point's lifecycle in days after its creation, from its
/// CalculatedLifecycle (DescribeRecoveryPoint).
fn retention_of(p: &RecoveryPoint) -> RetentionDays {
    RetentionDays {
        delete: p.delete_at.map(|at| days_between(p.created_at, at)),
        cold: p.move_to_cold_at.map(|at| days_between(p.created_at, at)),
    }
}

pub async fn copy(ctx: &StepCtx, a: &BackupCopy) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let recovery_point_arn = ctx.resolve(&a.recovery_point.value)?;
    let region = point_region(ctx.resolve_opt(a.region.as_ref())?, &recovery_point_arn);
    let region = region.as_deref();
    let mut request = CopyRequest {
        source_vault: ctx.resolve(&a.source_vault.value)?,
        recovery_point_arn,
        destination_vault_arn: ctx.resolve(&a.destination_vault_arn.value)?,
        iam_role_arn: ctx.resolve(&a.iam_role_arn.value)?,
        lifecycle: None,
    };
    let explicit = a.lifecycle.as_ref().map(|l| RetentionDays {
        delete: Some(i64::from(l.delete_after_days.value)),
        cold: l
            .move_to_cold_storage_after_days
            .as_ref()
            .map(|c| i64::from(c.value)),
    });
    // The destination's lock (DescribeBackupVault in its own region). A
    // lock that cannot be read (another account's vault, no permission)
    // is said, and the copy goes on as the step asks.
    let dest = vault_of(&request.destination_vault_arn);
    let (lock, unread) = match &dest {
        Some((dest_region, name)) => {
            match cloud.vault_posture(name, Some(dest_region), &notify).await {
                Ok(v) if v.locked => (Some((v.min_retention_days, v.max_retention_days)), None),
                Ok(_) => (None, None),
                Err(e) => (None, Some(e.to_string())),
            }
        }
        None => (None, None),
    };
    let source = match (explicit, lock) {
        (None, Some(_)) => cloud
            .describe_recovery_point(
                &request.source_vault,
                &request.recovery_point_arn,
                region,
                &notify,
            )
            .await
            .ok()
            .map(|p| retention_of(&p)),
        _ => None,
    };
    let shown = dest
        .as_ref()
        .map_or(request.destination_vault_arn.as_str(), |(_, n)| n.as_str());
    let why = match copy_retention(shown, explicit, source, lock) {
        CopyRetention::Refuse(why) => {
            return Err(StepError::Failed(format!(
                "copy of {} not started: {why}",
                request.recovery_point_arn
            )));
        }
        CopyRetention::KeepSource(why) => why,
        CopyRetention::Use(days, why) => {
            request.lifecycle = Some(Lifecycle {
                delete_after_days: days.delete,
                move_to_cold_storage_after_days: days.cold,
            });
            why
        }
    };
    let why = match unread {
        Some(e) => format!(
            "{}; the lock of the destination vault could not be read ({e}), and AWS Backup fails a copy whose retention is outside a lock's bounds",
            if explicit.is_some() {
                why.as_str()
            } else {
                "the copy keeps its source's retention"
            }
        ),
        None => why,
    };
    let job_id = cloud.start_copy(&request, region, &notify).await?;
    ctx.progress(format!(
        "copy job {job_id} started: {} from {} to {}; retention: {why}",
        request.recovery_point_arn, request.source_vault, request.destination_vault_arn
    ))
    .await?;
    let status = follow(ctx, "copy job", || cloud.copy_job(&job_id, region, &notify)).await?;
    Ok(Outputs::from([
        ("job_id".to_string(), job_id),
        ("status".to_string(), status.status),
        (
            "destination_recovery_point_arn".to_string(),
            status.destination_recovery_point_arn.unwrap_or_default(),
        ),
        (
            "delete_after_days".to_string(),
            request
                .lifecycle
                .and_then(|l| l.delete_after_days)
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
    ]))
}
