//! DynamoDB steps: restores into new tables, waiting for ACTIVE, counts,
//! the PITR window, and the cutover scan-copy.

use super::pick::parse_time;
use super::{LastShown, StepCtx, StepError, poll};
use crate::cloud::{ErrorKind, TableState};
use crate::engine::values::Outputs;
use crate::runbook::kinds::{
    DynamodbCopyTable, DynamodbCount, DynamodbDeleteTable, DynamodbPitrStatus,
    DynamodbRestoreFromBackup, DynamodbRestoreToPointInTime, DynamodbWaitActive,
};

/// Scan segments when the step sets none.
const DEFAULT_SEGMENTS: u32 = 4;

fn created(table: TableState) -> Outputs {
    Outputs::from([
        ("table_name".to_string(), table.name),
        ("table_arn".to_string(), table.arn),
    ])
}

pub async fn restore_from_backup(
    ctx: &StepCtx,
    a: &DynamodbRestoreFromBackup,
) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let backup = ctx.resolve(&a.backup_arn.value)?;
    let target = ctx.resolve(&a.target_table.value)?;
    let region = ctx.resolve_opt(a.region.as_ref())?;
    let table = cloud
        .restore_table_from_backup(&backup, &target, region.as_deref(), &ctx.notifier())
        .await?;
    ctx.progress(format!(
        "restoring {backup} into {} ({}); status {}",
        table.name, table.arn, table.status
    ))
    .await?;
    Ok(created(table))
}

pub async fn restore_to_point_in_time(
    ctx: &StepCtx,
    a: &DynamodbRestoreToPointInTime,
) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let source = ctx.resolve(&a.source_table.value)?;
    let target = ctx.resolve(&a.target_table.value)?;
    let region = ctx.resolve_opt(a.region.as_ref())?;
    // Empty or `latest` (e.g. a parameter's default): the latest restorable time.
    let time = match &a.restore_time {
        Some(t) => match ctx.resolve(&t.value)?.trim() {
            "" | "latest" => None,
            text => Some(parse_time(text, "restore_time")?),
        },
        None => None,
    };
    let pitr = cloud
        .pitr_status(&source, region.as_deref(), &notify)
        .await?;
    if pitr.status != "ENABLED" {
        return Err(StepError::Fatal(format!(
            "point-in-time recovery is {} on {source}: there is no window to restore from",
            pitr.status
        )));
    }
    if let (Some(t), Some(earliest), Some(latest)) = (time, pitr.earliest, pitr.latest)
        && (t < earliest || t > latest)
    {
        return Err(StepError::Fatal(format!(
            "{t} is outside {source}'s restorable window, {earliest} to {latest}"
        )));
    }
    let table = cloud
        .restore_table_to_point_in_time(&source, &target, time, region.as_deref(), &notify)
        .await?;
    // The time AWS restored to is the answer's RestoreSummary; the window
    // read a moment ago has moved on since (LatestRestorableDateTime follows
    // the clock). Only an answer without one falls back to what was asked.
    let restore_time = table
        .restored_as_of
        .or(time)
        .or(pitr.latest)
        .map(|t| t.to_string())
        .unwrap_or_default();
    ctx.progress(format!(
        "restoring {source} as of {} into {} ({})",
        if time.is_some() {
            restore_time.clone()
        } else {
            format!("its latest restorable time ({restore_time})")
        },
        table.name,
        table.arn
    ))
    .await?;
    let mut outputs = created(table);
    outputs.insert("restore_time".into(), restore_time);
    Ok(outputs)
}

/// Table states that no amount of waiting turns into ACTIVE, with what to
/// do (botocore `dynamodb` 2012-08-10, `TableStatus`; DynamoDB developer
/// guide, "Encryption at rest: How it works" for an inaccessible key, and
/// "Archiving" for a table archived after its key stayed inaccessible).
fn never_active(status: &str) -> Option<&'static str> {
    match status {
        "INACCESSIBLE_ENCRYPTION_CREDENTIALS" => Some(
            "its AWS KMS key is disabled, scheduled for deletion or its grant revoked; restore access to the key (kms:EnableKey, or re-create the grant) within 7 days, or DynamoDB archives the table",
        ),
        "ARCHIVING" | "ARCHIVED" => Some(
            "DynamoDB archived it after its AWS KMS key stayed inaccessible for 7 days (it keeps a backup); restore that backup into a new table with an accessible key",
        ),
        _ => None,
    }
}

pub async fn wait_active(ctx: &StepCtx, a: &DynamodbWaitActive) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let table = ctx.resolve(&a.table.value)?;
    let region = ctx.resolve_opt(a.region.as_ref())?;
    let last = LastShown::default();
    let state = poll(ctx, || {
        let (cloud, table, region, notify, last) = (&cloud, &table, &region, &notify, &last);
        async move {
            let status = match cloud.describe_table(table, region.as_deref(), notify).await {
                Ok(state) => state.status.clone(),
                // A restore may not have created the table yet.
                Err(e) if e.kind == ErrorKind::NotFound => "not created yet".into(),
                Err(e) => return Err(e.into()),
            };
            last.show(ctx, format!("table {table}: {status}")).await?;
            if let Some(why) = never_active(&status) {
                return Err(StepError::Fatal(format!(
                    "table {table} is {status}: {why}; waiting cannot make it ACTIVE"
                )));
            }
            if status == "ACTIVE" {
                return Ok(Some(
                    cloud
                        .describe_table(table, region.as_deref(), notify)
                        .await?,
                ));
            }
            Ok(None)
        }
    })
    .await?;
    Ok(Outputs::from([
        ("status".to_string(), state.status),
        (
            "item_count".to_string(),
            state.item_count.map(|n| n.to_string()).unwrap_or_default(),
        ),
    ]))
}

pub async fn count(ctx: &StepCtx, a: &DynamodbCount) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let table = ctx.resolve(&a.table.value)?;
    let region = ctx.resolve_opt(a.region.as_ref())?;
    let segments = a.segments.as_ref().map_or(DEFAULT_SEGMENTS, |s| s.value);
    let items = cloud
        .count_items(&table, segments, region.as_deref(), &ctx.notifier())
        .await?;
    ctx.progress(format!(
        "{table} holds {}",
        crate::format::count(items, "item")
    ))
    .await?;
    Ok(Outputs::from([("items".to_string(), items.to_string())]))
}

pub async fn pitr_status(ctx: &StepCtx, a: &DynamodbPitrStatus) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let table = ctx.resolve(&a.table.value)?;
    let region = ctx.resolve_opt(a.region.as_ref())?;
    let pitr = cloud
        .pitr_status(&table, region.as_deref(), &ctx.notifier())
        .await?;
    let show = |t: Option<jiff::Timestamp>| t.map(crate::format::timestamp).unwrap_or_default();
    ctx.progress(format!(
        "point-in-time recovery on {table}: {}{}",
        pitr.status,
        match (pitr.earliest, pitr.latest) {
            (Some(e), Some(l)) => format!(", restorable from {e} to {l}"),
            _ => String::new(),
        }
    ))
    .await?;
    if a.expect_enabled && pitr.status != "ENABLED" {
        return Err(StepError::Failed(format!(
            "point-in-time recovery is {} on {table}; enable it with `aws dynamodb update-continuous-backups --table-name {table} --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true`",
            pitr.status
        )));
    }
    Ok(Outputs::from([
        ("status".to_string(), pitr.status),
        ("earliest_restorable".to_string(), show(pitr.earliest)),
        ("latest_restorable".to_string(), show(pitr.latest)),
    ]))
}

pub async fn copy_table(ctx: &StepCtx, a: &DynamodbCopyTable) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let from = ctx.resolve(&a.from.value)?;
    let to = ctx.resolve(&a.to.value)?;
    if from == to {
        return Err(StepError::Fatal(format!(
            "`from` and `to` are both {from}: a table cannot be copied onto itself"
        )));
    }
    let region = ctx.resolve_opt(a.region.as_ref())?;
    let segments = a.segments.as_ref().map_or(DEFAULT_SEGMENTS, |s| s.value);
    let counts = cloud
        .copy_table(&from, &to, segments, region.as_deref(), &ctx.notifier())
        .await?;
    ctx.progress(format!(
        "copied {from} into {to}: {} items read, {} written",
        counts.read, counts.written
    ))
    .await?;
    Ok(Outputs::from([
        ("items_read".to_string(), counts.read.to_string()),
        ("items_written".to_string(), counts.written.to_string()),
    ]))
}

pub async fn delete_table(ctx: &StepCtx, a: &DynamodbDeleteTable) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let table = ctx.resolve(&a.table.value)?;
    let region = ctx.resolve_opt(a.region.as_ref())?;
    let state = cloud
        .delete_table(&table, region.as_deref(), &ctx.notifier())
        .await?;
    ctx.progress(format!(
        "deleting table {table} ({}): {}",
        state.arn, state.status
    ))
    .await?;
    Ok(Outputs::from([
        ("table_arn".to_string(), state.arn),
        ("status".to_string(), state.status),
    ]))
}
