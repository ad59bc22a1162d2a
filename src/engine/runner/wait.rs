//! `wait`: a fixed time, a probe command polled until it exits 0, or an
//! AWS resource polled until it reaches a state (`until`), with an interval
//! that grows by half after each probe (up to four times the first). The
//! step's `timeout` bounds the whole wait.

use std::process::Stdio;
use std::time::Duration;

use super::shell::spawn_sh;
use super::{LastShown, StepCtx, StepError, poll_every};
use crate::cloud::{ArchiveState, ErrorKind, ObjectRef};
use crate::engine::event::EventKind;
use crate::engine::values::Outputs;
use crate::runbook::kinds::{Wait, WaitUntil};

/// Time between probes when the step sets no `interval`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);

pub async fn run(ctx: &StepCtx, wait: &Wait) -> Result<Outputs, StepError> {
    if let Some(duration) = &wait.duration {
        tokio::time::sleep(ctx.real_time(duration.value.0)).await;
        return Ok(Outputs::from([("attempts".to_string(), "0".to_string())]));
    }
    if let Some(until) = &wait.until {
        return aws(ctx, until, wait.interval.as_ref().map(|i| i.value.0)).await;
    }
    let Some(probe) = &wait.run else {
        return Err(StepError::Fatal(
            "a wait step needs `run`, `duration` or `until`; run `dr-drill check`".into(),
        ));
    };
    let (command, mut env) = ctx.shell_command(&probe.value)?;
    env.extend(ctx.sandbox_env());
    let first = wait
        .interval
        .as_ref()
        .map_or(DEFAULT_INTERVAL, |i| i.value.0);
    let mut interval = first;
    for attempt in 1u64.. {
        let (mut child, _group) = spawn_sh(&command, &ctx.run_dir, env.clone(), Stdio::null)?;
        let status = child
            .wait()
            .await
            .map_err(|e| StepError::Failed(format!("lost the probe: {e}")))?;
        if status.success() {
            return Ok(Outputs::from([(
                "attempts".to_string(),
                attempt.to_string(),
            )]));
        }
        ctx.record(EventKind::StepProgress {
            step: ctx.id().to_owned(),
            message: format!(
                "probe {attempt} not yet true; next in {}s",
                interval.as_secs_f64()
            ),
        })
        .await?;
        tokio::time::sleep(interval).await;
        interval = (interval + interval / 2).min(first * 4);
    }
    unreachable!("the probe loop only ends by returning")
}

/// Polls the resource of `until` until it reaches its state; a job that
/// ends any other way fails the wait.
async fn aws(
    ctx: &StepCtx,
    until: &WaitUntil,
    interval: Option<Duration>,
) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let region = ctx.resolve_opt(until.region.as_ref())?;
    let region = region.as_deref();
    let table = ctx.resolve_opt(until.table.as_ref())?;
    let status = ctx
        .resolve_opt(until.status.as_ref())?
        .unwrap_or_else(|| "ACTIVE".into());
    let restore_job = ctx.resolve_opt(until.restore_job.as_ref())?;
    let copy_job = ctx.resolve_opt(until.copy_job.as_ref())?;
    let object = match (
        ctx.resolve_opt(until.bucket.as_ref())?,
        ctx.resolve_opt(until.key.as_ref())?,
    ) {
        (Some(bucket), Some(key)) => Some(ObjectRef {
            bucket,
            key,
            version_id: None,
            region: region.map(str::to_owned),
        }),
        _ => None,
    };
    let last = LastShown::default();
    let mut probes = 0u64;
    poll_every(ctx, interval, || {
        probes += 1;
        let (cloud, notify, last) = (&cloud, &notify, &last);
        let (table, status, restore_job, copy_job, object) =
            (&table, &status, &restore_job, &copy_job, &object);
        let attempts = probes;
        async move {
            let (line, done) = if let Some(table) = table {
                let now = match cloud.describe_table(table, region, notify).await {
                    Ok(t) => t.status,
                    Err(e) if e.kind == ErrorKind::NotFound => "not created yet".into(),
                    Err(e) => return Err(e.into()),
                };
                (format!("table {table}: {now}"), now == *status)
            } else if let Some(job) = restore_job.as_ref().or(copy_job.as_ref()) {
                let what = if restore_job.is_some() {
                    "restore job"
                } else {
                    "copy job"
                };
                let job = if restore_job.is_some() {
                    cloud.restore_job(job, region, notify).await?
                } else {
                    cloud.copy_job(job, region, notify).await?
                };
                if job.is_finished() && !job.succeeded() {
                    return Err(StepError::Failed(format!(
                        "{what} {} ended {}{}",
                        job.job_id,
                        job.status,
                        job.message.map(|m| format!(": {m}")).unwrap_or_default()
                    )));
                }
                (
                    format!("{what} {}: {}", job.job_id, job.status),
                    job.succeeded(),
                )
            } else if let Some(object) = object {
                let head = cloud.head_object(object, notify).await?;
                if head.archive == Some(ArchiveState::Needed) {
                    // Nothing will change until someone asks S3 for a restore.
                    return Err(StepError::Fatal(format!(
                        "{object} is archived in {} and no restore was requested, so waiting cannot end; request one first with an `s3.restore-object` step (it waits for the restore itself)",
                        head.storage_class
                    )));
                }
                let done = matches!(head.archive, None | Some(ArchiveState::Ready { .. }));
                (
                    format!(
                        "{object}: {}",
                        match head.archive {
                            None => "not archived".to_string(),
                            Some(ArchiveState::Needed) => "archived, no restore requested".into(),
                            Some(ArchiveState::Ongoing) => "restore in progress".into(),
                            Some(ArchiveState::Ready { .. }) => "restored".into(),
                        }
                    ),
                    done,
                )
            } else {
                return Err(StepError::Fatal(
                    "`until` names no resource; run `dr-drill check`".into(),
                ));
            };
            last.show(ctx, line).await?;
            Ok(done.then(|| Outputs::from([("attempts".to_string(), attempts.to_string())])))
        }
    })
    .await
}
