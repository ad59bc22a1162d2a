//! AWS Backup steps: restore and copy jobs followed to the end, vault
//! posture checks, and the destructive vault-lock and recovery point
//! deletions of a teardown.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use super::{LastShown, StepCtx, StepError, poll, restore_encryption};
use crate::cloud::{
    Cloud, CloudError, CopyJobFilter, JobStatus, Notify, PointSource, RecoveryPoint,
    RestoreRequest, point_region, points,
};
use crate::engine::humanize;
use crate::engine::values::Outputs;
use crate::runbook::kinds::{
    BackupCopyJobs, BackupDeleteRecoveryPoint, BackupDeleteVaultLock, BackupRegionSettings,
    BackupRestore, BackupVaultPosture, CONTINUOUS_REFUSED,
};

/// Follows a job until it ends, recording each change of status.
pub(super) async fn follow<F, Fut>(
    ctx: &StepCtx,
    what: &str,
    mut describe: F,
) -> Result<JobStatus, StepError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<JobStatus, crate::cloud::CloudError>>,
{
    let last = LastShown::default();
    let status = poll(ctx, || {
        let job = describe();
        let last = &last;
        async move {
            let job = job.await?;
            let now = format!(
                "{what} {}: {}{}",
                job.job_id,
                job.status,
                job.percent_done
                    .as_deref()
                    .map(|p| format!(" ({}%)", p.trim_end_matches('%')))
                    .unwrap_or_default()
            );
            last.show(ctx, now).await?;
            Ok(job.is_finished().then_some(job))
        }
    })
    .await?;
    if status.succeeded() {
        Ok(status)
    } else {
        Err(StepError::Failed(format!(
            "{what} {} ended {}{}",
            status.job_id,
            status.status,
            status
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        )))
    }
}

pub async fn restore(ctx: &StepCtx, a: &BackupRestore) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let vault = ctx.resolve(&a.backup_vault.value)?;
    let point = ctx.resolve(&a.recovery_point.value)?;
    let region = point_region(ctx.resolve_opt(a.region.as_ref())?, &point);
    let region = region.as_deref();
    let recorded = cloud
        .restore_metadata(&vault, &point, region, &notify)
        .await?;
    let overrides: BTreeMap<String, String> = a
        .metadata
        .0
        .iter()
        .map(|(k, v)| Ok((k.value.clone(), ctx.resolve(&v.value)?)))
        .collect::<Result<_, StepError>>()?;
    let resource_type = ctx.resolve_opt(a.resource_type.as_ref())?;
    let (metadata, encryption) = restore_encryption::settle(
        &*cloud,
        &vault,
        &point,
        region,
        resource_type.as_deref(),
        recorded,
        overrides,
        &notify,
    )
    .await?;
    if let Some(d) = &encryption {
        ctx.progress(format!(
            "restored table encrypted with {}: {}",
            d.encryption.words(),
            d.why
        ))
        .await?;
    }
    let request = RestoreRequest {
        recovery_point_arn: point.clone(),
        iam_role_arn: ctx.resolve(&a.iam_role_arn.value)?,
        metadata,
        resource_type,
        // One job per attempt of this step in this run: run again after a
        // resume (attempts count from 1 again), the step follows the job
        // it started instead of starting a second one.
        idempotency_token: Some(format!(
            "dr-drill:{}:{}:{}",
            ctx.run_dir
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            ctx.id(),
            ctx.attempt
        )),
    };
    let shown: Vec<String> = request
        .metadata
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let job_id = cloud.start_restore(&request, region, &notify).await?;
    // Evidence: the job exists now, whatever happens to this console.
    ctx.progress(format!(
        "restore job {job_id} started from {point} with metadata {}",
        shown.join(", ")
    ))
    .await?;
    let status = follow(ctx, "restore job", || {
        cloud.restore_job(&job_id, region, &notify)
    })
    .await?;
    Ok(Outputs::from([
        ("job_id".to_string(), job_id),
        ("status".to_string(), status.status),
        (
            "created_resource_arn".to_string(),
            status.created_resource_arn.unwrap_or_default(),
        ),
        (
            "encryption".to_string(),
            encryption
                .map(|d| d.encryption.output())
                .unwrap_or_default(),
        ),
        (
            "completed_at".to_string(),
            status
                .completed_at
                .map(crate::format::timestamp)
                .unwrap_or_default(),
        ),
    ]))
}

pub async fn posture(ctx: &StepCtx, a: &BackupVaultPosture) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let vault = ctx.resolve(&a.backup_vault.value)?;
    let region = ctx.resolve_opt(a.region.as_ref())?;
    let posture = cloud
        .vault_posture(&vault, region.as_deref(), &notify)
        .await?;
    let mut problems = Vec::new();
    if let Some(expect) = &a.expect {
        if let Some(locked) = expect.locked
            && posture.locked != locked
        {
            problems.push(format!(
                "the vault lock is {}, expected {}",
                on_off(posture.locked),
                on_off(locked)
            ));
        }
        if let Some(min) = expect.min_retention_days {
            match posture.min_retention_days {
                Some(actual) if actual >= i64::from(min) => {}
                actual => problems.push(format!(
                    "the lock's minimum retention is {}, expected at least {min} days",
                    actual.map_or_else(|| "not set".into(), |d| format!("{d} days"))
                )),
            }
        }
        if let Some(n) = expect.recovery_points_at_least
            && posture.recovery_points < i64::from(n)
        {
            problems.push(format!(
                "the vault holds {} recovery points, expected at least {n}",
                posture.recovery_points
            ));
        }
        if let Some(max_age) = &expect.newest_younger_than {
            let listed = vault_points(&cloud, &vault, region.as_deref(), &notify).await?;
            match points::latest(&listed, None) {
                Some(p) => {
                    let age = p.age(Timestamp::now());
                    if age > max_age.value.0 {
                        problems.push(format!(
                            "the newest completed recovery point ({}) is {} old, expected younger than {}",
                            p.id,
                            humanize(age),
                            humanize(max_age.value.0)
                        ));
                    }
                }
                None => problems.push("the vault holds no completed recovery point".into()),
            }
        }
    }
    ctx.progress(format!(
        "vault {} ({}): lock {}, retention {}–{} days, {}",
        posture.name,
        posture.arn,
        on_off(posture.locked),
        posture
            .min_retention_days
            .map_or_else(|| "-".into(), |d| d.to_string()),
        posture
            .max_retention_days
            .map_or_else(|| "-".into(), |d| d.to_string()),
        crate::format::count(
            u64::try_from(posture.recovery_points).unwrap_or(0),
            "recovery point"
        )
    ))
    .await?;
    if !problems.is_empty() {
        return Err(StepError::Failed(format!(
            "vault {vault} is not as expected: {}",
            problems.join("; ")
        )));
    }
    Ok(Outputs::from([
        ("locked".to_string(), posture.locked.to_string()),
        (
            "min_retention_days".to_string(),
            posture
                .min_retention_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
        (
            "max_retention_days".to_string(),
            posture
                .max_retention_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
        (
            "lock_date".to_string(),
            posture
                .lock_date
                .map(crate::format::timestamp)
                .unwrap_or_default(),
        ),
        (
            "recovery_points".to_string(),
            posture.recovery_points.to_string(),
        ),
    ]))
}

/// The value of `key` in an AWS map whose keys are resource types, read
/// without regard to case.
fn setting(map: &BTreeMap<String, bool>, key: &str) -> Option<bool> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| *v)
}

fn state_of(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "true",
        Some(false) => "false",
        None => "absent",
    }
}

pub async fn region_settings(
    ctx: &StepCtx,
    a: &BackupRegionSettings,
) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let region = ctx
        .resolve_opt(a.region.as_ref())?
        .filter(|r| !r.is_empty());
    let settings = cloud.region_settings(region.as_deref(), &notify).await?;
    let shown = region.clone().unwrap_or_else(|| cloud.identity().region);
    let on = |m: &BTreeMap<String, bool>| {
        m.iter()
            .filter(|(_, v)| **v)
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let (opted_in, fully_managed) = (on(&settings.opt_in), on(&settings.full_management));
    let or_none = |s: &str| {
        if s.is_empty() {
            "none".to_owned()
        } else {
            s.to_owned()
        }
    };
    ctx.progress(format!(
        "AWS Backup in {shown}: opted in for {}; full AWS Backup management for {}",
        or_none(&opted_in),
        or_none(&fully_managed)
    ))
    .await?;
    let mut problems = Vec::new();
    for t in &a.expect_opt_in {
        let v = setting(&settings.opt_in, &t.value);
        if v != Some(true) {
            problems.push(format!(
                "{t} is not opted in (ResourceTypeOptInPreference {t}={}); turn it on with `aws backup update-region-settings --resource-type-opt-in-preference {t}=true --region {shown}`",
                state_of(v),
                t = t.value
            ));
        }
    }
    for t in &a.expect_full_management {
        let v = setting(&settings.full_management, &t.value);
        if v != Some(true) {
            problems.push(format!(
                "{t} backups are not fully managed by AWS Backup (ResourceTypeManagementPreference {t}={}); turn it on with `aws backup update-region-settings --resource-type-management-preference {t}=true --region {shown}`",
                state_of(v),
                t = t.value
            ));
        }
    }
    if !problems.is_empty() {
        return Err(StepError::Failed(format!(
            "the AWS Backup settings of {shown} are not as expected: {}",
            problems.join("; ")
        )));
    }
    Ok(Outputs::from([
        ("opted_in".to_string(), opted_in),
        ("fully_managed".to_string(), fully_managed),
    ]))
}

/// A copy job that ended without a complete copy.
fn ended_badly(state: &str) -> bool {
    matches!(state, "FAILED" | "ABORTED" | "EXPIRED" | "PARTIAL")
}

pub async fn copy_jobs(ctx: &StepCtx, a: &BackupCopyJobs) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let region = ctx
        .resolve_opt(a.region.as_ref())?
        .filter(|r| !r.is_empty());
    let filter = CopyJobFilter {
        within: a
            .within
            .as_ref()
            .map_or(std::time::Duration::from_secs(24 * 3600), |w| w.value.0),
        resource_type: ctx
            .resolve_opt(a.resource_type.as_ref())?
            .filter(|t| !t.is_empty()),
        destination_vault_arn: ctx
            .resolve_opt(a.destination_vault_arn.as_ref())?
            .filter(|t| !t.is_empty()),
    };
    let jobs = cloud
        .list_copy_jobs(&filter, region.as_deref(), &notify)
        .await?;
    let shown = region.clone().unwrap_or_else(|| cloud.identity().region);
    let completed = jobs.iter().filter(|j| j.state == "COMPLETED").count();
    let failed: Vec<_> = jobs.iter().filter(|j| ended_badly(&j.state)).collect();
    let running = jobs.len() - completed - failed.len();
    let newest_failure = failed
        .first()
        .map(|j| {
            format!(
                "{} {}: {}",
                j.job_id,
                j.state,
                j.message.as_deref().unwrap_or("no message")
            )
        })
        .unwrap_or_default();
    let mut what = format!(
        "copy jobs in {shown} over the last {}",
        humanize(filter.within)
    );
    if let Some(t) = &filter.resource_type {
        what.push_str(&format!(" of {t} points"));
    }
    if let Some(d) = &filter.destination_vault_arn {
        what.push_str(&format!(" into {d}"));
    }
    ctx.progress(format!(
        "{what}: {completed} completed, {} failed, {running} still running",
        failed.len()
    ))
    .await?;
    let mut problems = Vec::new();
    if let Some(expect) = &a.expect {
        if let Some(n) = expect.completed_at_least
            && completed < n as usize
        {
            problems.push(format!("{completed} completed, expected at least {n}"));
        }
        if let Some(n) = expect.failed_at_most
            && failed.len() > n as usize
        {
            problems.push(format!(
                "{} failed, expected at most {n} (the newest: {newest_failure})",
                failed.len()
            ));
        }
    }
    if !problems.is_empty() {
        return Err(StepError::Failed(format!(
            "{what} are not as expected: {}",
            problems.join("; ")
        )));
    }
    Ok(Outputs::from([
        ("total".to_string(), jobs.len().to_string()),
        ("completed".to_string(), completed.to_string()),
        ("failed".to_string(), failed.len().to_string()),
        ("running".to_string(), running.to_string()),
        ("newest_failure".to_string(), newest_failure),
    ]))
}

/// Every recovery point in `vault`.
async fn vault_points(
    cloud: &Arc<dyn Cloud>,
    vault: &str,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<Vec<RecoveryPoint>, CloudError> {
    let source = PointSource::Vault {
        vault: vault.to_owned(),
        region: region.map(str::to_owned),
        resource_type: None,
        resource_arn: None,
    };
    points::collect(cloud.clone(), vec![source], notify).await
}

/// Whether a point DeleteRecoveryPoint answered OK for is really going:
/// described again, it is gone, DELETING or of storage class DELETED.
/// AWS answers 200 and leaves the point EXPIRED when the caller lacks the
/// permissions (botocore backup 2018-11-15, DeleteRecoveryPoint; AWS
/// Backup developer guide, "Troubleshooting manual deletions").
async fn gone_after_delete(
    cloud: &Arc<dyn Cloud>,
    vault: &str,
    arn: &str,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<(), String> {
    match cloud
        .describe_recovery_point(vault, arn, region, notify)
        .await
    {
        Err(e) if e.kind == crate::cloud::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!(
            "DeleteRecoveryPoint on {arn} answered OK, but whether the point is gone is unknown: {e}"
        )),
        Ok(p) if p.status == "DELETING" || p.storage_class.as_deref() == Some("DELETED") => Ok(()),
        Ok(p) => Err(format!(
            "DeleteRecoveryPoint on {arn} answered OK, but the point is still there, {}: AWS Backup leaves a point EXPIRED when the caller lacks the permissions to delete it. Give the role iam:CreateServiceLinkedRole (AWSServiceRoleForBackup) as https://docs.aws.amazon.com/aws-backup/latest/devguide/deleting-backups.html#deleting-backups-troubleshooting says, then run the step again",
            p.status
        )),
    }
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

pub async fn delete_lock(ctx: &StepCtx, a: &BackupDeleteVaultLock) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let vault = ctx.resolve(&a.backup_vault.value)?;
    let region = ctx.resolve_opt(a.region.as_ref())?;
    cloud
        .delete_vault_lock(&vault, region.as_deref(), &ctx.notifier())
        .await?;
    ctx.progress(format!("removed the vault lock of {vault}"))
        .await?;
    Ok(Outputs::new())
}

pub async fn delete_points(
    ctx: &StepCtx,
    a: &BackupDeleteRecoveryPoint,
) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let vault = ctx.resolve(&a.backup_vault.value)?;
    let one = ctx.resolve_opt(a.recovery_point.as_ref())?;
    let given = ctx.resolve_opt(a.region.as_ref())?;
    let region = match &one {
        Some(arn) => point_region(given, arn),
        None => given,
    };
    if let Some(arn) = &one {
        refuse_continuous(a, &vault, arn)?;
    }
    let listed: Vec<RecoveryPoint> = match &one {
        Some(_) => Vec::new(),
        None => vault_points(&cloud, &vault, region.as_deref(), &notify).await?,
    };
    let skipped = continuous_skipped(a, &listed);
    if !skipped.is_empty() {
        ctx.progress(skipped_notice(&vault, &skipped)).await?;
    }
    let targets: Vec<String> = match one {
        Some(one) => vec![one],
        None => listed
            .iter()
            .map(|p| p.id.clone())
            .filter(|id| !skipped.contains(id))
            .collect(),
    };
    let mut deleted = 0usize;
    let mut failures = Vec::new();
    let mut refused = Vec::new();
    for (n, arn) in targets.iter().enumerate() {
        match cloud
            .delete_recovery_point(&vault, arn, region.as_deref(), &notify)
            .await
        {
            Ok(()) => {
                match gone_after_delete(&cloud, &vault, arn, region.as_deref(), &notify).await {
                    Ok(()) => {
                        deleted += 1;
                        notify(format!("deleted {arn} ({} of {})", n + 1, targets.len()));
                    }
                    Err(why) => failures.push(why),
                }
            }
            Err(e) => {
                if e.kind == crate::cloud::ErrorKind::Invalid {
                    refused.push(arn.as_str());
                }
                failures.push(e.to_string());
            }
        }
    }
    ctx.progress(format!(
        "deleted {deleted} of {} recovery points in {vault}",
        targets.len()
    ))
    .await?;
    if !failures.is_empty() {
        let kept = if refused.is_empty() {
            String::new()
        } else {
            let when = |arn: &str| listed.iter().find(|p| p.id == arn).map(|p| p.delete_at);
            let mut dates = Vec::new();
            for arn in &refused {
                let at = match when(arn) {
                    Some(at) => at,
                    None => cloud
                        .describe_recovery_point(&vault, arn, region.as_deref(), &notify)
                        .await
                        .ok()
                        .and_then(|p| p.delete_at),
                };
                dates.push((*arn, at));
            }
            locked_vault_keeps(&cloud, &vault, region.as_deref(), &notify, &dates).await
        };
        return Err(StepError::Failed(format!(
            "{} of {} deletions failed{kept}; the first: {}",
            failures.len(),
            targets.len(),
            failures[0]
        )));
    }
    Ok(Outputs::from([
        ("deleted".to_string(), deleted.to_string()),
        ("skipped".to_string(), skipped.len().to_string()),
        ("skipped_continuous".to_string(), skipped.join(" ")),
    ]))
}

/// A single continuous point is deleted only when the step says
/// `include_continuous = true`: deleting it stops future continuous
/// backups (botocore backup 2018-11-15, DeleteRecoveryPoint). Refused
/// before any call.
fn refuse_continuous(
    a: &BackupDeleteRecoveryPoint,
    vault: &str,
    arn: &str,
) -> Result<(), StepError> {
    if a.include_continuous || !crate::cloud::is_continuous_arn(arn) {
        return Ok(());
    }
    Err(StepError::Failed(format!(
        "recovery point {arn} in vault {vault} was not deleted: {CONTINUOUS_REFUSED}. Set `include_continuous = true` on the step to delete it and stop that continuous backup, or release it to its source service without stopping it with DisassociateRecoveryPoint (aws backup disassociate-recovery-point)"
    )))
}

/// The continuous points `all = true` leaves alone unless the step sets
/// `include_continuous = true`.
fn continuous_skipped(a: &BackupDeleteRecoveryPoint, listed: &[RecoveryPoint]) -> Vec<String> {
    if a.include_continuous {
        return Vec::new();
    }
    listed
        .iter()
        .filter(|p| p.is_continuous())
        .map(|p| p.id.clone())
        .collect()
}

/// What `all = true` kept, and why.
fn skipped_notice(vault: &str, skipped: &[String]) -> String {
    let shown: Vec<&str> = skipped
        .iter()
        .take(KEPT_SHOWN)
        .map(String::as_str)
        .collect();
    let more = skipped.len().saturating_sub(KEPT_SHOWN);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "kept {} continuous recovery point(s) in {vault}: {}{more}. Deleting one stops future continuous backups of its resource; set `include_continuous = true` to delete them, or use DisassociateRecoveryPoint to release them to their source service",
        skipped.len(),
        shown.join(", ")
    )
}

/// Most points a refusal names one by one.
const KEPT_SHOWN: usize = 5;

/// When `vault` is locked: which of the refused points it keeps, and when
/// each can go. A locked vault refuses every delete, root included, until
/// the point's CalculatedLifecycle.DeleteAt (botocore backup 2018-11-15,
/// PutBackupVaultLockConfiguration; the Vault Lock guide); AWS Backup's
/// lifecycle deletes the point then. Empty when the vault is not locked.
async fn locked_vault_keeps(
    cloud: &Arc<dyn Cloud>,
    vault: &str,
    region: Option<&str>,
    notify: Notify<'_>,
    refused: &[(&str, Option<Timestamp>)],
) -> String {
    let lock = match cloud.vault_posture(vault, region, notify).await {
        Ok(p) if p.locked => p,
        _ => return String::new(),
    };
    let mut order: Vec<_> = refused.to_vec();
    order.sort_by_key(|(_, at)| at.map_or(i64::MAX, |t| t.as_second()));
    let shown: Vec<String> = order
        .iter()
        .take(KEPT_SHOWN)
        .map(|(arn, at)| match at {
            Some(at) => format!("{arn} can go after {at}"),
            None => format!("{arn} has no retention end and stays while the lock does"),
        })
        .collect();
    let more = order.len().saturating_sub(KEPT_SHOWN);
    let more = if more > 0 {
        format!("; and {more} more")
    } else {
        String::new()
    };
    let compliance = match lock.lock_date {
        Some(d) => format!(" (compliance mode: the lock can be removed only before {d})"),
        None => String::new(),
    };
    format!(
        ": backup vault {vault} is locked{compliance}, and a locked vault keeps every point until its retention ends (CalculatedLifecycle.DeleteAt), root included; remove the lock with a backup.delete-vault-lock step first, or wait: {}{more}",
        shown.join("; ")
    )
}
