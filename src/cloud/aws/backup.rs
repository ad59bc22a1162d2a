//! AWS Backup: recovery points in vaults, restore and copy jobs (started
//! with an idempotency token), vault posture and locks, region settings.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_backup::types::RecoveryPointByBackupVault;
use aws_smithy_types::DateTime;
use jiff::Timestamp;
use tokio::sync::mpsc;

use super::{AwsCloud, sdk_time, ts};
use crate::cloud::{
    CloudError, CopyJobFilter, CopyJobSummary, CopyRequest, ErrorKind, JobStatus, Notify,
    PointKind, RecoveryPoint, RegionSettings, RestoreRequest, VaultPosture,
};

pub(super) async fn list_points(
    cloud: &AwsCloud,
    vault: &str,
    region: Option<&str>,
    resource_type: Option<&str>,
    resource_arn: Option<&str>,
    pages: &mpsc::Sender<Vec<RecoveryPoint>>,
    notify: Notify<'_>,
) -> Result<(), CloudError> {
    let (clients, region) = cloud.clients(region);
    let resource = format!("backup vault {vault} in {region}");
    let mut token: Option<String> = None;
    loop {
        let page = send!(
            cloud,
            notify,
            "ListRecoveryPointsByBackupVault",
            resource,
            clients
                .backup
                .list_recovery_points_by_backup_vault()
                .backup_vault_name(vault)
                .set_by_resource_type(resource_type.map(str::to_owned))
                .set_by_resource_arn(resource_arn.map(str::to_owned))
                .set_next_token(token.clone())
        )
        .await?;
        let now = Timestamp::now();
        let points: Vec<RecoveryPoint> = page
            .recovery_points()
            .iter()
            .filter_map(|p| backup_point(p, &region, now))
            .collect();
        if !cloud.send_page(pages, points).await {
            return Ok(());
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(()),
        }
    }
}

pub(super) async fn restore_metadata(
    cloud: &AwsCloud,
    vault: &str,
    point_arn: &str,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<BTreeMap<String, String>, CloudError> {
    let (c, _) = cloud.clients(region);
    let out = send!(
        cloud,
        notify,
        "GetRecoveryPointRestoreMetadata",
        point_arn,
        c.backup
            .get_recovery_point_restore_metadata()
            .backup_vault_name(vault)
            .recovery_point_arn(point_arn)
    )
    .await?;
    Ok(out
        .restore_metadata()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

pub(super) async fn start_restore(
    cloud: &AwsCloud,
    request: &RestoreRequest,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<String, CloudError> {
    let (c, _) = cloud.clients(region);
    let metadata: HashMap<String, String> = request.metadata.clone().into_iter().collect();
    let token = request
        .idempotency_token
        .clone()
        .unwrap_or_else(idempotency_token);
    let out = send!(
        cloud,
        notify,
        "StartRestoreJob",
        &request.recovery_point_arn,
        c.backup
            .start_restore_job()
            .idempotency_token(&token)
            .recovery_point_arn(&request.recovery_point_arn)
            .iam_role_arn(&request.iam_role_arn)
            .set_metadata(Some(metadata.clone()))
            .set_resource_type(request.resource_type.clone())
    )
    .await?;
    out.restore_job_id().map(str::to_owned).ok_or_else(|| {
        CloudError::new(
            "StartRestoreJob",
            &request.recovery_point_arn,
            ErrorKind::Other,
            "the answer has no restore job id",
        )
    })
}

pub(super) async fn restore_job(
    cloud: &AwsCloud,
    job_id: &str,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<JobStatus, CloudError> {
    let (c, _) = cloud.clients(region);
    let resource = format!("restore job {job_id}");
    let out = send!(
        cloud,
        notify,
        "DescribeRestoreJob",
        resource,
        c.backup.describe_restore_job().restore_job_id(job_id)
    )
    .await?;
    let mut status = job_status(
        job_id,
        out.status().map(|s| s.as_str()),
        out.percent_done(),
        out.status_message(),
        out.completion_date(),
    );
    status.created_resource_arn = out.created_resource_arn().map(str::to_owned);
    if let Some(arn) = &status.created_resource_arn {
        cloud.saw_arn(arn);
    }
    Ok(status)
}

pub(super) async fn start_copy(
    cloud: &AwsCloud,
    request: &CopyRequest,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<String, CloudError> {
    let (c, _) = cloud.clients(region);
    let token = idempotency_token();
    let out = send!(
        cloud,
        notify,
        "StartCopyJob",
        &request.recovery_point_arn,
        c.backup
            .start_copy_job()
            .idempotency_token(&token)
            .recovery_point_arn(&request.recovery_point_arn)
            .source_backup_vault_name(&request.source_vault)
            .destination_backup_vault_arn(&request.destination_vault_arn)
            .iam_role_arn(&request.iam_role_arn)
            .set_lifecycle(request.lifecycle.map(sdk_lifecycle))
    )
    .await?;
    out.copy_job_id().map(str::to_owned).ok_or_else(|| {
        CloudError::new(
            "StartCopyJob",
            &request.recovery_point_arn,
            ErrorKind::Other,
            "the answer has no copy job id",
        )
    })
}

/// A copy's lifecycle as StartCopyJob takes it (botocore backup
/// 2018-11-15, `Lifecycle`).
fn sdk_lifecycle(l: crate::cloud::Lifecycle) -> aws_sdk_backup::types::Lifecycle {
    aws_sdk_backup::types::Lifecycle::builder()
        .set_delete_after_days(l.delete_after_days)
        .set_move_to_cold_storage_after_days(l.move_to_cold_storage_after_days)
        .build()
}

pub(super) async fn copy_job(
    cloud: &AwsCloud,
    job_id: &str,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<JobStatus, CloudError> {
    let (c, _) = cloud.clients(region);
    let resource = format!("copy job {job_id}");
    let out = send!(
        cloud,
        notify,
        "DescribeCopyJob",
        resource,
        c.backup.describe_copy_job().copy_job_id(job_id)
    )
    .await?;
    let Some(job) = out.copy_job() else {
        return Err(CloudError::new(
            "DescribeCopyJob",
            resource,
            ErrorKind::NotFound,
            "the answer has no copy job",
        ));
    };
    let mut status = job_status(
        job_id,
        job.state().map(|s| s.as_str()),
        None,
        job.status_message(),
        job.completion_date(),
    );
    status.destination_recovery_point_arn = job.destination_recovery_point_arn().map(str::to_owned);
    Ok(status)
}

pub(super) async fn vault_posture(
    cloud: &AwsCloud,
    vault: &str,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<VaultPosture, CloudError> {
    let (c, region) = cloud.clients(region);
    let resource = format!("backup vault {vault} in {region}");
    let out = send!(
        cloud,
        notify,
        "DescribeBackupVault",
        resource,
        c.backup.describe_backup_vault().backup_vault_name(vault)
    )
    .await?;
    let arn = out.backup_vault_arn().unwrap_or_default().to_owned();
    cloud.saw_arn(&arn);
    Ok(VaultPosture {
        name: out.backup_vault_name().unwrap_or(vault).to_owned(),
        arn,
        locked: out.locked().unwrap_or(false),
        min_retention_days: out.min_retention_days(),
        max_retention_days: out.max_retention_days(),
        lock_date: out.lock_date().and_then(ts),
        recovery_points: out.number_of_recovery_points(),
        encryption_key_arn: out.encryption_key_arn().map(str::to_owned),
    })
}

pub(super) async fn region_settings(
    cloud: &AwsCloud,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<RegionSettings, CloudError> {
    let (c, region) = cloud.clients(region);
    let resource = format!("AWS Backup settings of {region}");
    let out = send!(
        cloud,
        notify,
        "DescribeRegionSettings",
        resource,
        c.backup.describe_region_settings()
    )
    .await?;
    let map = |m: Option<&HashMap<String, bool>>| -> BTreeMap<String, bool> {
        m.map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    };
    Ok(RegionSettings {
        opt_in: map(out.resource_type_opt_in_preference()),
        full_management: map(out.resource_type_management_preference()),
    })
}

pub(super) async fn list_copy_jobs(
    cloud: &AwsCloud,
    filter: &CopyJobFilter,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<Vec<CopyJobSummary>, CloudError> {
    let (c, region) = cloud.clients(region);
    let resource = format!("copy jobs in {region}");
    let since = Timestamp::now()
        .checked_sub(
            jiff::SignedDuration::try_from(filter.within).unwrap_or(jiff::SignedDuration::MAX),
        )
        .unwrap_or(Timestamp::MIN);
    let mut jobs = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = send!(
            cloud,
            notify,
            "ListCopyJobs",
            resource,
            c.backup
                .list_copy_jobs()
                .by_created_after(sdk_time(since))
                .set_by_resource_type(filter.resource_type.clone())
                .set_by_destination_vault_arn(filter.destination_vault_arn.clone())
                .set_next_token(token.clone())
        )
        .await?;
        for j in out.copy_jobs() {
            let Some(created_at) = j.creation_date().and_then(ts) else {
                continue;
            };
            jobs.push(CopyJobSummary {
                job_id: j.copy_job_id().unwrap_or_default().to_owned(),
                state: j.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                created_at,
                completed_at: j.completion_date().and_then(ts),
                resource_type: j.resource_type().map(str::to_owned),
                source_recovery_point_arn: j.source_recovery_point_arn().map(str::to_owned),
                destination_vault_arn: j.destination_backup_vault_arn().map(str::to_owned),
                message: j.status_message().map(str::to_owned),
            });
        }
        token = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    jobs.sort_by_key(|j| std::cmp::Reverse(j.created_at));
    Ok(jobs)
}

pub(super) async fn delete_vault_lock(
    cloud: &AwsCloud,
    vault: &str,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<(), CloudError> {
    let (c, region) = cloud.clients(region);
    let resource = format!("backup vault {vault} in {region}");
    send!(
        cloud,
        notify,
        "DeleteBackupVaultLockConfiguration",
        resource,
        c.backup
            .delete_backup_vault_lock_configuration()
            .backup_vault_name(vault)
    )
    .await?;
    Ok(())
}

pub(super) async fn delete_recovery_point(
    cloud: &AwsCloud,
    vault: &str,
    point_arn: &str,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<(), CloudError> {
    let (c, _) = cloud.clients(region);
    send!(
        cloud,
        notify,
        "DeleteRecoveryPoint",
        point_arn,
        c.backup
            .delete_recovery_point()
            .backup_vault_name(vault)
            .recovery_point_arn(point_arn)
    )
    .await?;
    Ok(())
}

pub(super) async fn describe_recovery_point(
    cloud: &AwsCloud,
    vault: &str,
    point_arn: &str,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<RecoveryPoint, CloudError> {
    let (c, region) = cloud.clients(region);
    let out = send!(
        cloud,
        notify,
        "DescribeRecoveryPoint",
        point_arn,
        c.backup
            .describe_recovery_point()
            .backup_vault_name(vault)
            .recovery_point_arn(point_arn)
    )
    .await?;
    let created = out
        .creation_date()
        .and_then(ts)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let mut point = RecoveryPoint::new(
        out.recovery_point_arn().unwrap_or(point_arn).to_owned(),
        PointKind::Backup,
        created,
        region,
    );
    point.completed_at = out.completion_date().and_then(ts);
    point.status = out
        .status()
        .map_or_else(|| "UNKNOWN".into(), |s| s.as_str().to_owned());
    // DescribeRecoveryPointOutput carries StorageClass (WARM, COLD, DELETED).
    point.storage_class = out.storage_class().map(|s| s.as_str().to_owned());
    point.resource_arn = out.resource_arn().map(str::to_owned);
    point.resource_type = out.resource_type().map(str::to_owned);
    point.vault = out.backup_vault_name().map(str::to_owned);
    // The key that encrypts the backup (its vault's), not the table's:
    // backup.restore keeps it off a restored table.
    point.encryption_key_arn = out.encryption_key_arn().map(str::to_owned);
    if let Some(l) = out.calculated_lifecycle() {
        point.move_to_cold_at = l.move_to_cold_storage_at().and_then(ts);
        point.delete_at = l.delete_at().and_then(ts);
    }
    Ok(point)
}

/// A fresh idempotency token for one job start, sent with every retry of
/// it: when an answer is lost and the call is retried, AWS Backup answers
/// with the job the first call started instead of starting a second one.
/// (The SDK would draw a new token for each attempt.)
fn idempotency_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let half = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u64(salt);
        h.write_u32(std::process::id());
        h.finish()
    };
    format!("dr-drill-{:016x}{:016x}", half(1), half(2))
}

fn backup_point(
    p: &RecoveryPointByBackupVault,
    region: &str,
    now: Timestamp,
) -> Option<RecoveryPoint> {
    let arn = p.recovery_point_arn()?;
    let created = p.creation_date().and_then(ts)?;
    let mut point = RecoveryPoint::new(
        arn.to_owned(),
        PointKind::Backup,
        created,
        region.to_owned(),
    );
    point.completed_at = p.completion_date().and_then(ts);
    point.status = p
        .status()
        .map_or_else(|| "UNKNOWN".into(), |s| s.as_str().to_owned());
    point.size_bytes = p.backup_size_in_bytes().and_then(|s| u64::try_from(s).ok());
    point.resource_arn = p.resource_arn().map(str::to_owned);
    point.resource_name = p.resource_name().map(str::to_owned);
    point.resource_type = p.resource_type().map(str::to_owned);
    point.vault = p.backup_vault_name().map(str::to_owned);
    point.copied_from = p.source_backup_vault_arn().map(str::to_owned);
    point.encryption_key_arn = p.encryption_key_arn().map(str::to_owned);
    if let Some(l) = p.calculated_lifecycle() {
        point.move_to_cold_at = l.move_to_cold_storage_at().and_then(ts);
        point.delete_at = l.delete_at().and_then(ts);
    }
    // The listing does not carry the storage class; the lifecycle tells it.
    point.storage_class = Some(
        if point.move_to_cold_at.is_some_and(|t| t <= now) {
            "COLD"
        } else {
            "WARM"
        }
        .into(),
    );
    Some(point)
}

fn job_status(
    job_id: &str,
    status: Option<&str>,
    percent: Option<&str>,
    message: Option<&str>,
    completed: Option<&DateTime>,
) -> JobStatus {
    JobStatus {
        job_id: job_id.to_owned(),
        status: status.unwrap_or("UNKNOWN").to_owned(),
        percent_done: percent.map(str::to_owned),
        message: message.filter(|m| !m.is_empty()).map(str::to_owned),
        created_resource_arn: None,
        destination_recovery_point_arn: None,
        completed_at: completed.and_then(ts),
    }
}
