//! AWS Backup steps: restore and copy jobs followed to the end, vault
//! posture checks, and the destructive vault-lock and recovery point
//! deletions of a teardown.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use super::{LastShown, StepCtx, StepError, poll};
use crate::cloud::{
    Cloud, CloudError, CopyRequest, JobStatus, Notify, PointSource, RecoveryPoint, RestoreRequest,
    points,
};
use crate::engine::humanize;
use crate::engine::values::Outputs;
use crate::runbook::kinds::{
    BackupCopy, BackupDeleteRecoveryPoint, BackupDeleteVaultLock, BackupRestore, BackupVaultPosture,
};

/// Follows a job until it ends, recording each change of status.
async fn follow<F, Fut>(ctx: &StepCtx, what: &str, mut describe: F) -> Result<JobStatus, StepError>
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
    let region = ctx.resolve_opt(a.region.as_ref())?;
    let region = region.as_deref();
    let mut metadata = cloud
        .restore_metadata(&vault, &point, region, &notify)
        .await?;
    let overrides: BTreeMap<String, String> = a
        .metadata
        .0
        .iter()
        .map(|(k, v)| Ok((k.value.clone(), ctx.resolve(&v.value)?)))
        .collect::<Result<_, StepError>>()?;
    metadata.extend(overrides);
    let request = RestoreRequest {
        recovery_point_arn: point.clone(),
        iam_role_arn: ctx.resolve(&a.iam_role_arn.value)?,
        metadata,
        resource_type: ctx.resolve_opt(a.resource_type.as_ref())?,
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
            "completed_at".to_string(),
            status
                .completed_at
                .map(|t| t.to_string())
                .unwrap_or_default(),
        ),
    ]))
}

pub async fn copy(ctx: &StepCtx, a: &BackupCopy) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let region = ctx.resolve_opt(a.region.as_ref())?;
    let region = region.as_deref();
    let request = CopyRequest {
        source_vault: ctx.resolve(&a.source_vault.value)?,
        recovery_point_arn: ctx.resolve(&a.recovery_point.value)?,
        destination_vault_arn: ctx.resolve(&a.destination_vault_arn.value)?,
        iam_role_arn: ctx.resolve(&a.iam_role_arn.value)?,
    };
    let job_id = cloud.start_copy(&request, region, &notify).await?;
    ctx.progress(format!(
        "copy job {job_id} started: {} from {} to {}",
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
        "vault {} ({}): lock {}, retention {}–{} days, {} recovery points",
        posture.name,
        posture.arn,
        on_off(posture.locked),
        posture
            .min_retention_days
            .map_or_else(|| "-".into(), |d| d.to_string()),
        posture
            .max_retention_days
            .map_or_else(|| "-".into(), |d| d.to_string()),
        posture.recovery_points
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
            posture.lock_date.map(|t| t.to_string()).unwrap_or_default(),
        ),
        (
            "recovery_points".to_string(),
            posture.recovery_points.to_string(),
        ),
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
    let region = ctx.resolve_opt(a.region.as_ref())?;
    let targets: Vec<String> = match ctx.resolve_opt(a.recovery_point.as_ref())? {
        Some(one) => vec![one],
        None => vault_points(&cloud, &vault, region.as_deref(), &notify)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect(),
    };
    let mut deleted = 0usize;
    let mut failures = Vec::new();
    for (n, arn) in targets.iter().enumerate() {
        match cloud
            .delete_recovery_point(&vault, arn, region.as_deref(), &notify)
            .await
        {
            Ok(()) => {
                deleted += 1;
                notify(format!("deleted {arn} ({} of {})", n + 1, targets.len()));
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    ctx.progress(format!(
        "deleted {deleted} of {} recovery points in {vault}",
        targets.len()
    ))
    .await?;
    if !failures.is_empty() {
        return Err(StepError::Failed(format!(
            "{} of {} deletions failed; the first: {}",
            failures.len(),
            targets.len(),
            failures[0]
        )));
    }
    Ok(Outputs::from([(
        "deleted".to_string(),
        deleted.to_string(),
    )]))
}
