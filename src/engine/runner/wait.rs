//! `wait`: a fixed time, or a probe command polled until it exits 0, with
//! an interval that grows by half after each failed probe (up to four
//! times the first). The step's `timeout` bounds the whole wait.

use std::process::Stdio;
use std::time::Duration;

use super::shell::spawn_sh;
use super::{StepCtx, StepError};
use crate::engine::event::EventKind;
use crate::engine::values::Outputs;
use crate::runbook::kinds::Wait;

/// Time between probes when the step sets no `interval`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);

pub async fn run(ctx: &StepCtx, wait: &Wait) -> Result<Outputs, StepError> {
    if let Some(duration) = &wait.duration {
        tokio::time::sleep(duration.value.0).await;
        return Ok(Outputs::from([("attempts".to_string(), "0".to_string())]));
    }
    let Some(probe) = &wait.run else {
        return Err(StepError::Fatal(
            "a wait step needs `run` or `duration`; run `dr-drill check`".into(),
        ));
    };
    let (command, env) = ctx.shell_command(&probe.value)?;
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
