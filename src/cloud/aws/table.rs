//! DynamoDB: backups and the PITR window as recovery points, restores into
//! new tables, counts and the cutover scan-copy.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, BackupTypeFilter, PutRequest, Select, WriteRequest};
use futures::future::try_join_all;
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use tokio::sync::mpsc;

use super::{AwsCloud, sdk_time, ts};
use crate::cloud::points::pitr_point;
use crate::cloud::{
    CloudError, CopyCounts, ErrorKind, Notify, PitrStatus, PointKind, RecoveryPoint, TableState,
};

type Item = HashMap<String, AttributeValue>;

/// Items a `BatchWriteItem` takes at most.
const BATCH: usize = 25;
/// Batch writes in flight per scan segment.
const WRITES_IN_FLIGHT: usize = 4;
/// Progress is reported at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

pub(super) async fn list_points(
    cloud: &AwsCloud,
    table: &str,
    region: Option<&str>,
    pages: &mpsc::Sender<Vec<RecoveryPoint>>,
    notify: Notify<'_>,
) -> Result<(), CloudError> {
    let (c, region) = cloud.clients(region);
    // The PITR window first: it is usually the point with the best RPO.
    let pitr = pitr(cloud, table, Some(&region), notify).await?;
    let mut table_arn = describe(cloud, table, Some(&region), notify)
        .await
        .ok()
        .map(|t| t.arn)
        .filter(|a| !a.is_empty());
    if let (Some(latest), "ENABLED") = (pitr.latest, pitr.status.as_str()) {
        let arn = table_arn.clone().unwrap_or_else(|| table.to_owned());
        let p = pitr_point(table, &arn, &region, pitr.earliest, latest);
        if !cloud.send_page(pages, vec![p]).await {
            return Ok(());
        }
    }
    let mut start: Option<String> = None;
    loop {
        // ListBackups lists only USER backups unless told otherwise; ALL
        // adds SYSTEM ones. It never lists what AWS Backup made (botocore
        // dynamodb 2012-08-10, ListBackups: "weren't made with Amazon Web
        // Services Backup"; BackupTypeFilter ALL: "USER and SYSTEM"):
        // those come from ListRecoveryPointsByResource below.
        let out = send!(
            cloud,
            notify,
            "ListBackups",
            table,
            c.dynamodb
                .list_backups()
                .table_name(table)
                .backup_type(BackupTypeFilter::All)
                .set_exclusive_start_backup_arn(start.clone())
        )
        .await?;
        if table_arn.is_none() {
            table_arn = out
                .backup_summaries()
                .iter()
                .find_map(|b| b.table_arn().filter(|a| !a.is_empty()).map(str::to_owned));
        }
        let points: Vec<RecoveryPoint> = out
            .backup_summaries()
            .iter()
            .filter_map(|b| {
                let created = b.backup_creation_date_time().and_then(ts)?;
                let mut p = RecoveryPoint::new(
                    b.backup_arn()?.to_owned(),
                    PointKind::DynamodbBackup,
                    created,
                    region.clone(),
                );
                p.status = b
                    .backup_status()
                    .map_or_else(|| "UNKNOWN".into(), |s| s.as_str().to_owned());
                p.size_bytes = b.backup_size_bytes().and_then(|s| u64::try_from(s).ok());
                p.resource_arn = b.table_arn().map(str::to_owned);
                p.resource_name = b.table_name().map(str::to_owned);
                p.resource_type = Some("DynamoDB".into());
                p.storage_class = b.backup_type().map(|t| t.as_str().to_owned());
                p.delete_at = b.backup_expiry_date_time().and_then(ts);
                Some(p)
            })
            .collect();
        if !cloud.send_page(pages, points).await {
            return Ok(());
        }
        match out.last_evaluated_backup_arn() {
            Some(arn) if !arn.is_empty() => start = Some(arn.to_owned()),
            _ => break,
        }
    }
    let arn = table_arn.or_else(|| {
        let account = crate::cloud::Cloud::identity(cloud).account?;
        Some(format!("arn:aws:dynamodb:{region}:{account}:table/{table}"))
    });
    match arn {
        Some(arn) => aws_backup_points(cloud, table, &arn, &region, pages, notify).await,
        None => {
            notify(format!(
                "AWS Backup's recovery points of table {table} are not listed: its ARN is unknown (DescribeTable failed and no backup names it)"
            ));
            Ok(())
        }
    }
}

/// The table's recovery points in every AWS Backup vault of the region:
/// ListRecoveryPointsByResource for its ARN (botocore backup 2018-11-15;
/// the answer is `RecoveryPointByResource`, which names the vault but not
/// the resource). Points with advanced DynamoDB backup features have
/// `arn:aws:backup:` ARNs and restore through `backup.restore` (AWS Backup
/// calls `dynamodb:RestoreTableFromAwsBackup`); older ones are DynamoDB
/// backup ARNs.
async fn aws_backup_points(
    cloud: &AwsCloud,
    table: &str,
    table_arn: &str,
    region: &str,
    pages: &mpsc::Sender<Vec<RecoveryPoint>>,
    notify: Notify<'_>,
) -> Result<(), CloudError> {
    let (c, _) = cloud.clients(Some(region));
    let mut token: Option<String> = None;
    loop {
        let out = send!(
            cloud,
            notify,
            "ListRecoveryPointsByResource",
            table_arn,
            c.backup
                .list_recovery_points_by_resource()
                .resource_arn(table_arn)
                .set_next_token(token.clone())
        )
        .await;
        let out = match out {
            Ok(out) => out,
            Err(e) if e.kind == ErrorKind::AccessDenied => {
                notify(format!(
                    "AWS Backup's recovery points of table {table} are not listed: {e}. Grant backup:ListRecoveryPointsByResource to see them"
                ));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let points: Vec<RecoveryPoint> = out
            .recovery_points()
            .iter()
            .filter_map(|r| {
                let arn = r.recovery_point_arn()?;
                let created = r.creation_date().and_then(ts)?;
                let kind = if arn.starts_with("arn:aws:dynamodb:") {
                    PointKind::DynamodbBackup
                } else {
                    PointKind::Backup
                };
                let mut p = RecoveryPoint::new(arn.to_owned(), kind, created, region.to_owned());
                p.status = r
                    .status()
                    .map_or_else(|| "UNKNOWN".into(), |s| s.as_str().to_owned());
                p.size_bytes = r.backup_size_bytes().and_then(|s| u64::try_from(s).ok());
                p.resource_arn = Some(table_arn.to_owned());
                p.resource_name = Some(r.resource_name().unwrap_or(table).to_owned());
                p.resource_type = Some("DynamoDB".into());
                p.vault = r.backup_vault_name().map(str::to_owned);
                p.encryption_key_arn = r.encryption_key_arn().map(str::to_owned);
                Some(p)
            })
            .collect();
        if !cloud.send_page(pages, points).await {
            return Ok(());
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(()),
        }
    }
}

fn table_state(d: &aws_sdk_dynamodb::types::TableDescription, name: &str) -> TableState {
    TableState {
        name: d.table_name().unwrap_or(name).to_owned(),
        arn: d.table_arn().unwrap_or_default().to_owned(),
        status: d
            .table_status()
            .map_or_else(|| "UNKNOWN".into(), |s| s.as_str().to_owned()),
        item_count: d.item_count(),
        size_bytes: d.table_size_bytes().and_then(|b| u64::try_from(b).ok()),
        restored_as_of: d
            .restore_summary()
            .map(|r| r.restore_date_time())
            .and_then(ts),
    }
}

pub(super) async fn restore_from_backup(
    cloud: &AwsCloud,
    backup_arn: &str,
    target: &str,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<TableState, CloudError> {
    let (c, _) = cloud.clients(region);
    let out = send!(
        cloud,
        notify,
        "RestoreTableFromBackup",
        backup_arn,
        c.dynamodb
            .restore_table_from_backup()
            .backup_arn(backup_arn)
            .target_table_name(target)
    )
    .await?;
    described(out.table_description(), target, "RestoreTableFromBackup")
}

pub(super) async fn restore_to_point_in_time(
    cloud: &AwsCloud,
    source: &str,
    target: &str,
    time: Option<Timestamp>,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<TableState, CloudError> {
    let (c, _) = cloud.clients(region);
    let out = send!(cloud, notify, "RestoreTableToPointInTime", source, {
        let r = c
            .dynamodb
            .restore_table_to_point_in_time()
            .source_table_name(source)
            .target_table_name(target);
        match time {
            Some(t) => r.restore_date_time(sdk_time(t)),
            None => r.use_latest_restorable_time(true),
        }
    })
    .await?;
    described(out.table_description(), target, "RestoreTableToPointInTime")
}

fn described(
    d: Option<&aws_sdk_dynamodb::types::TableDescription>,
    target: &str,
    action: &str,
) -> Result<TableState, CloudError> {
    d.map(|d| table_state(d, target)).ok_or_else(|| {
        CloudError::new(
            action,
            target,
            ErrorKind::Other,
            "the answer has no table description",
        )
    })
}

pub(super) async fn describe(
    cloud: &AwsCloud,
    table: &str,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<TableState, CloudError> {
    let (c, _) = cloud.clients(region);
    let out = send!(
        cloud,
        notify,
        "DescribeTable",
        table,
        c.dynamodb.describe_table().table_name(table)
    )
    .await?;
    let state = described(out.table(), table, "DescribeTable")?;
    cloud.saw_arn(&state.arn);
    Ok(state)
}

pub(super) async fn delete(
    cloud: &AwsCloud,
    table: &str,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<TableState, CloudError> {
    let (c, _) = cloud.clients(region);
    let out = send!(
        cloud,
        notify,
        "DeleteTable",
        table,
        c.dynamodb.delete_table().table_name(table)
    )
    .await?;
    described(out.table_description(), table, "DeleteTable")
}

pub(super) async fn pitr(
    cloud: &AwsCloud,
    table: &str,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<PitrStatus, CloudError> {
    let (c, _) = cloud.clients(region);
    let out = send!(
        cloud,
        notify,
        "DescribeContinuousBackups",
        table,
        c.dynamodb.describe_continuous_backups().table_name(table)
    )
    .await?;
    let pitr = out
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description());
    Ok(PitrStatus {
        status: pitr
            .and_then(|p| p.point_in_time_recovery_status())
            .map_or_else(|| "DISABLED".into(), |s| s.as_str().to_owned()),
        earliest: pitr
            .and_then(|p| p.earliest_restorable_date_time())
            .and_then(ts),
        latest: pitr
            .and_then(|p| p.latest_restorable_date_time())
            .and_then(ts),
    })
}

/// One segment of a parallel scan.
struct Segment<'a> {
    table: &'a str,
    segment: u32,
    of: u32,
    /// Items counted, not returned.
    count_only: bool,
}

/// One page of a segment's scan: its items, their count, and where the
/// next page starts.
async fn scan_page(
    cloud: &AwsCloud,
    c: &super::Clients,
    s: &Segment<'_>,
    start: Option<Item>,
    notify: Notify<'_>,
) -> Result<(Vec<Item>, i32, Option<Item>), CloudError> {
    let table = s.table;
    let out = send!(
        cloud,
        notify,
        "Scan",
        table,
        c.dynamodb
            .scan()
            .table_name(table)
            .segment(s.segment as i32)
            .total_segments(s.of as i32)
            .set_select(s.count_only.then_some(Select::Count))
            .set_exclusive_start_key(start.clone())
    )
    .await?;
    let next = out.last_evaluated_key().filter(|k| !k.is_empty()).cloned();
    let count = out.count();
    Ok((out.items.unwrap_or_default(), count, next))
}

pub(super) async fn count(
    cloud: &AwsCloud,
    table: &str,
    segments: u32,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<u64, CloudError> {
    let (c, _) = cloud.clients(region);
    let segments = segments.max(1);
    let total = AtomicU64::new(0);
    let progress = Progress::new(notify);
    try_join_all((0..segments).map(|segment| {
        let (c, total, progress) = (&c, &total, &progress);
        async move {
            let s = Segment {
                table,
                segment,
                of: segments,
                count_only: true,
            };
            let mut start = None;
            loop {
                let (_, n, next) = scan_page(cloud, c, &s, start, notify).await?;
                let sum = total.fetch_add(n.max(0) as u64, Ordering::Relaxed) + n.max(0) as u64;
                progress.tick(|| format!("counted {sum} items of {table} so far"));
                match next {
                    Some(k) => start = Some(k),
                    None => return Ok::<(), CloudError>(()),
                }
            }
        }
    }))
    .await?;
    Ok(total.into_inner())
}

/// Says how far a long scan got, at most every [`PROGRESS_EVERY`].
struct Progress<'a> {
    notify: Notify<'a>,
    last: std::sync::Mutex<tokio::time::Instant>,
}

impl<'a> Progress<'a> {
    fn new(notify: Notify<'a>) -> Self {
        Self {
            notify,
            last: std::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    fn tick(&self, message: impl FnOnce() -> String) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= PROGRESS_EVERY {
            *last = tokio::time::Instant::now();
            (self.notify)(message());
        }
    }
}

pub(super) async fn copy(
    cloud: &AwsCloud,
    from: &str,
    to: &str,
    segments: u32,
    region: Option<&str>,
    notify: Notify<'_>,
) -> Result<CopyCounts, CloudError> {
    if from == to {
        return Err(CloudError::new(
            "Scan",
            from,
            ErrorKind::Invalid,
            "refusing to copy a table onto itself",
        ));
    }
    let (c, _) = cloud.clients(region);
    // Both tables must exist before the first write: a missing target is
    // not created by BatchWriteItem, and the error is clearer here.
    describe(cloud, from, region, notify).await?;
    describe(cloud, to, region, notify).await?;
    let segments = segments.max(1);
    let read = AtomicU64::new(0);
    let written = AtomicU64::new(0);
    let progress = Progress::new(notify);
    try_join_all((0..segments).map(|segment| {
        let (c, read, written, progress) = (&c, &read, &written, &progress);
        async move {
            let s = Segment {
                table: from,
                segment,
                of: segments,
                count_only: false,
            };
            let mut start = None;
            loop {
                let (items, _, next) = scan_page(cloud, c, &s, start, notify).await?;
                read.fetch_add(items.len() as u64, Ordering::Relaxed);
                let mut items = items.into_iter().peekable();
                let mut batches = Vec::new();
                while items.peek().is_some() {
                    batches.push(items.by_ref().take(BATCH).collect::<Vec<Item>>());
                }
                futures::stream::iter(batches.into_iter().map(|batch| async move {
                    let n = batch.len() as u64;
                    write_batch(cloud, c, to, batch, notify).await?;
                    Ok::<u64, CloudError>(n)
                }))
                .buffer_unordered(WRITES_IN_FLIGHT)
                .try_for_each(|n| {
                    let w = written.fetch_add(n, Ordering::Relaxed) + n;
                    progress.tick(|| {
                        format!(
                            "copied {w} items from {from} to {to} ({} read)",
                            read.load(Ordering::Relaxed)
                        )
                    });
                    futures::future::ready(Ok(()))
                })
                .await?;
                match next {
                    Some(k) => start = Some(k),
                    None => return Ok::<(), CloudError>(()),
                }
            }
        }
    }))
    .await?;
    Ok(CopyCounts {
        read: read.into_inner(),
        written: written.into_inner(),
    })
}

/// Writes up to 25 items, retrying what DynamoDB leaves unprocessed with
/// backoff until all are written or the retry policy is spent.
async fn write_batch(
    cloud: &AwsCloud,
    c: &super::Clients,
    table: &str,
    items: Vec<Item>,
    notify: Notify<'_>,
) -> Result<(), CloudError> {
    let mut pending: Vec<WriteRequest> = items
        .into_iter()
        .map(|item| {
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map(|put| WriteRequest::builder().put_request(put).build())
                .map_err(|e| {
                    CloudError::new("BatchWriteItem", table, ErrorKind::Other, e.to_string())
                })
        })
        .collect::<Result<_, _>>()?;
    let mut backoff = cloud.retry.base;
    let mut rounds = 0;
    while !pending.is_empty() {
        let out = send!(
            cloud,
            notify,
            "BatchWriteItem",
            table,
            c.dynamodb
                .batch_write_item()
                .request_items(table, pending.clone())
        )
        .await?;
        pending = out
            .unprocessed_items
            .and_then(|mut u| u.remove(table))
            .unwrap_or_default();
        if pending.is_empty() {
            break;
        }
        rounds += 1;
        if rounds >= cloud.retry.attempts {
            return Err(CloudError::new(
                "BatchWriteItem",
                table,
                ErrorKind::Throttled,
                format!(
                    "{} items stayed unprocessed after {rounds} rounds",
                    pending.len()
                ),
            ));
        }
        notify(format!(
            "BatchWriteItem on {table}: {} items unprocessed (throughput); retrying in {:.1}s",
            pending.len(),
            backoff.as_secs_f64()
        ));
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(cloud.retry.max);
    }
    Ok(())
}
