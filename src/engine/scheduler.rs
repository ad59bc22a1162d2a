//! The ready-set loop: a step starts as soon as everything it needs has
//! succeeded, up to `max_parallel` at once; failures follow the step's
//! `on_failure`; cleanup steps run once every other step has ended. Every
//! step that starts ends with a `StepFinished` event, also when its task
//! panics or is cancelled, and every step that never starts gets one too.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::clock::between;
use super::event::{Answer, EventKind, Outcome, Question};
use super::journal::JournalError;
use super::plan::Plan;
use super::recorder::Recorder;
use super::runner::{self, StepCtx, StepError};
use super::values::{Outputs, Values};
use crate::format::humanize;
use crate::runbook::{OnFailure, Runbook, model::Retry};

/// How a step's task ended.
enum TaskEnd {
    Succeeded(Outputs),
    /// Failed after its retries (and after asking, with `on_failure = ask`).
    Failed(String),
    /// The operator chose to go on without it; steps that need it run.
    Waived(String),
    /// The operator chose to stop the run.
    Abort(String),
    Journal(JournalError),
}

/// What the scheduler knows of a run so far (empty for a new run).
#[derive(Debug, Default, Clone)]
pub struct Progress {
    /// Steps that ended before, with their outcome and outputs; succeeded
    /// and waived ones are not run again.
    pub finished: HashMap<usize, (Outcome, Outputs)>,
    /// Steps that were running when the console died.
    pub interrupted: HashSet<usize>,
    /// Phases already started.
    pub phases_started: HashSet<String>,
    /// Whether the RTO clock already stopped.
    pub rto_stopped: bool,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// How the run ended.
    pub outcome: Outcome,
    /// How each step of the plan ended, in plan order.
    pub steps: Vec<(String, Outcome)>,
}

pub(crate) struct Scheduler {
    pub runbook: Arc<Runbook>,
    pub plan: Plan,
    pub recorder: Recorder,
    pub base: StepCtx,
    pub values: Arc<RwLock<Values>>,
    pub cancel: CancellationToken,
    pub max_parallel: usize,
    pub t0: jiff::Timestamp,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Waiting,
    Running,
    Done(Outcome),
}

impl Scheduler {
    pub async fn run(self, prior: Progress) -> Result<RunSummary, JournalError> {
        let rb = self.runbook.clone();
        let plan = &self.plan;
        let n = rb.steps.len();
        let mut state = vec![State::Waiting; n];
        // Steps that count as done for their dependents.
        let mut satisfied = vec![false; n];
        let mut waiting: Vec<usize> = plan.needs.iter().map(Vec::len).collect();
        let mut phase_left: HashMap<&str, usize> = HashMap::new();
        for &i in &plan.order {
            if let Some(p) = &rb.steps[i].phase {
                *phase_left.entry(p.value.as_str()).or_default() += 1;
            }
        }
        let mut phases_started = prior.phases_started.clone();
        let mut rto_stopped = prior.rto_stopped;

        // Carry over what a previous process finished.
        for (&i, (outcome, outputs)) in &prior.finished {
            // Cleanup runs again at the end of a resumed run: the steps
            // before it may run again and need what it removed.
            if matches!(outcome, Outcome::Succeeded | Outcome::Waived)
                && plan.included[i]
                && !rb.steps[i].cleanup
            {
                state[i] = State::Done(*outcome);
                satisfied[i] = true;
                self.write_values()
                    .outputs
                    .insert(rb.steps[i].id.value.clone(), outputs.clone());
                for &d in &plan.dependents[i] {
                    waiting[d] -= 1;
                }
                if let Some(p) = &rb.steps[i].phase {
                    *phase_left.entry(p.value.as_str()).or_default() -= 1;
                }
            }
        }

        let mut ready: VecDeque<usize> = VecDeque::new();
        let queue_if_ready = |i: usize,
                              state: &[State],
                              waiting: &[usize],
                              ready: &mut VecDeque<usize>,
                              cleanup_phase: bool| {
            if state[i] == State::Waiting
                && waiting[i] == 0
                && rb.steps[i].cleanup == cleanup_phase
                && !ready.contains(&i)
            {
                ready.push_back(i);
            }
        };
        for &i in &plan.order {
            queue_if_ready(i, &state, &waiting, &mut ready, false);
        }
        for &i in &ready {
            self.recorder
                .record(EventKind::StepQueued {
                    step: rb.steps[i].id.value.clone(),
                })
                .await?;
        }

        let mut tasks: JoinSet<(usize, TaskEnd)> = JoinSet::new();
        let mut task_steps: HashMap<tokio::task::Id, usize> = HashMap::new();
        // `stopping`: start nothing new now; `halted`: a failure or an
        // abort stopped the main steps (cleanup may still run).
        let mut stopping = false;
        let mut halted = false;
        let mut aborted = false;
        let mut cancelled = false;
        let mut failed = false;
        let mut cleanup_phase = false;
        let mut journal_error: Option<JournalError> = None;

        loop {
            while !stopping && tasks.len() < self.max_parallel {
                let Some(i) = ready.pop_front() else { break };
                if let Some(p) = &rb.steps[i].phase
                    && phases_started.insert(p.value.clone())
                {
                    self.recorder
                        .record(EventKind::PhaseStarted {
                            phase: p.value.clone(),
                        })
                        .await?;
                }
                state[i] = State::Running;
                let ctx = StepCtx {
                    index: i,
                    ..self.base.clone()
                };
                let interrupted = prior.interrupted.contains(&i);
                let handle = tasks.spawn(async move { (i, run_step(ctx, interrupted).await) });
                task_steps.insert(handle.id(), i);
            }
            if tasks.is_empty() {
                if !cleanup_phase && !cancelled {
                    cleanup_phase = true;
                    for &i in &plan.order {
                        if rb.steps[i].cleanup && plan.needs[i].iter().all(|&d| satisfied[d]) {
                            queue_if_ready(i, &state, &waiting, &mut ready, true);
                        }
                    }
                    stopping = false;
                    if !ready.is_empty() {
                        for &i in &ready {
                            self.recorder
                                .record(EventKind::StepQueued {
                                    step: rb.steps[i].id.value.clone(),
                                })
                                .await?;
                        }
                        continue;
                    }
                }
                break;
            }
            let joined = tokio::select! {
                joined = tasks.join_next_with_id() => joined,
                () = self.cancel.cancelled(), if !cancelled => {
                    cancelled = true;
                    stopping = true;
                    aborted = true;
                    ready.clear();
                    tasks.abort_all();
                    continue;
                }
            };
            let Some(joined) = joined else { continue };
            let (i, end) = match joined {
                Ok((_, (i, end))) => (i, end),
                Err(e) => {
                    let Some(&i) = task_steps.get(&e.id()) else {
                        continue;
                    };
                    if e.is_cancelled() {
                        state[i] = State::Done(Outcome::Cancelled);
                        self.finish(
                            i,
                            Outcome::Cancelled,
                            Outputs::new(),
                            Some("cancelled by the operator".into()),
                            &mut phase_left,
                            &phases_started,
                        )
                        .await?;
                        continue;
                    }
                    (
                        i,
                        TaskEnd::Failed(format!("the step's task panicked: {}", panic_message(e))),
                    )
                }
            };
            let (outcome, outputs, reason) = match end {
                TaskEnd::Succeeded(outputs) => (Outcome::Succeeded, outputs, None),
                TaskEnd::Waived(reason) => (Outcome::Waived, Outputs::new(), Some(reason)),
                TaskEnd::Failed(reason) => {
                    failed = true;
                    // A failing cleanup step does not stop the other cleanup.
                    if rb.steps[i].on_failure != OnFailure::Continue && !cleanup_phase {
                        (stopping, halted) = (true, true);
                        ready.clear();
                    }
                    (Outcome::Failed, Outputs::new(), Some(reason))
                }
                TaskEnd::Abort(reason) => {
                    (failed, aborted, stopping, halted) = (true, true, true, true);
                    ready.clear();
                    (Outcome::Failed, Outputs::new(), Some(reason))
                }
                TaskEnd::Journal(e) => {
                    journal_error = Some(e);
                    self.cancel.cancel();
                    continue;
                }
            };
            state[i] = State::Done(outcome);
            satisfied[i] = matches!(outcome, Outcome::Succeeded | Outcome::Waived);
            self.finish(
                i,
                outcome,
                outputs.clone(),
                reason,
                &mut phase_left,
                &phases_started,
            )
            .await?;
            if outcome == Outcome::Succeeded {
                self.measure(i, &outputs, &mut rto_stopped).await?;
                self.write_values()
                    .outputs
                    .insert(rb.steps[i].id.value.clone(), outputs);
            }
            if satisfied[i] {
                for &d in &plan.dependents[i] {
                    waiting[d] -= 1;
                    let before = ready.len();
                    if !stopping || cleanup_phase {
                        queue_if_ready(d, &state, &waiting, &mut ready, cleanup_phase);
                    }
                    if ready.len() > before {
                        self.recorder
                            .record(EventKind::StepQueued {
                                step: rb.steps[d].id.value.clone(),
                            })
                            .await?;
                    }
                }
            }
        }
        if let Some(e) = journal_error {
            return Err(e);
        }

        // Every step of the plan that never ran gets its end too.
        for &i in &plan.order {
            if state[i] == State::Waiting {
                let reason = match plan.needs[i].iter().find(|&&d| !satisfied[d]) {
                    _ if cancelled => "the run was cancelled".to_string(),
                    Some(&d) => format!("needs `{}`, which did not succeed", rb.steps[d].id.value),
                    None if halted => "the run stopped before this step".to_string(),
                    None => "not reached".to_string(),
                };
                state[i] = State::Done(Outcome::Skipped);
                self.finish(
                    i,
                    Outcome::Skipped,
                    Outputs::new(),
                    Some(reason),
                    &mut phase_left,
                    &phases_started,
                )
                .await?;
            }
        }
        let outcome = if aborted {
            Outcome::Aborted
        } else if failed {
            Outcome::Failed
        } else {
            Outcome::Succeeded
        };
        self.recorder
            .record(EventKind::RunFinished { outcome })
            .await?;
        let steps = plan
            .order
            .iter()
            .map(|&i| {
                let outcome = match state[i] {
                    State::Done(o) => o,
                    State::Waiting | State::Running => Outcome::Skipped,
                };
                (rb.steps[i].id.value.clone(), outcome)
            })
            .collect();
        Ok(RunSummary { outcome, steps })
    }

    fn write_values(&self) -> std::sync::RwLockWriteGuard<'_, Values> {
        self.values
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn finish(
        &self,
        i: usize,
        outcome: Outcome,
        outputs: Outputs,
        reason: Option<String>,
        phase_left: &mut HashMap<&str, usize>,
        phases_started: &HashSet<String>,
    ) -> Result<(), JournalError> {
        let step = &self.runbook.steps[i];
        self.recorder
            .record(EventKind::StepFinished {
                step: step.id.value.clone(),
                outcome,
                outputs,
                reason,
            })
            .await?;
        if let Some(p) = &step.phase
            && let Some(left) = phase_left.get_mut(p.value.as_str())
        {
            *left -= 1;
            if *left == 0 && phases_started.contains(&p.value) {
                self.recorder
                    .record(EventKind::PhaseFinished {
                        phase: p.value.clone(),
                    })
                    .await?;
            }
        }
        Ok(())
    }

    /// The RTO stops when the `ends_rto` step succeeds; the RPO is known
    /// when a pick step reports its point's time.
    async fn measure(
        &self,
        i: usize,
        outputs: &Outputs,
        rto_stopped: &mut bool,
    ) -> Result<(), JournalError> {
        let step = &self.runbook.steps[i];
        let now = self.recorder.clock().now().0;
        if step.ends_rto && !*rto_stopped {
            *rto_stopped = true;
            self.recorder
                .record(EventKind::RtoStopped {
                    step: step.id.value.clone(),
                    rto: between(self.t0, now),
                })
                .await?;
        }
        // The recovery point's time: the point a pick chose, or the time a
        // point-in-time restore went back to.
        if let Some(point_time) = step
            .action
            .rpo_field()
            .and_then(|field| outputs.get(field))
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        {
            self.recorder
                .record(EventKind::RpoMeasured {
                    step: step.id.value.clone(),
                    point_time,
                    rpo: between(point_time, self.t0),
                })
                .await?;
        }
        Ok(())
    }
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into()),
        Err(e) => e.to_string(),
    }
}

/// One step from start to end: the interrupted-step question after a
/// crash, the typed confirmation of a destructive step, the attempts with
/// their timeout and backoff, and the failure question.
async fn run_step(mut ctx: StepCtx, interrupted: bool) -> TaskEnd {
    match run_step_inner(&mut ctx, interrupted).await {
        Ok(end) => end,
        Err(StepError::Journal(e)) => TaskEnd::Journal(e),
        Err(e) => TaskEnd::Failed(e.to_string()),
    }
}

async fn run_step_inner(ctx: &mut StepCtx, interrupted: bool) -> Result<TaskEnd, StepError> {
    let step = ctx.runbook.steps[ctx.index].clone();
    let id = step.id.value.clone();
    if interrupted {
        let reply = ctx.ask(Question::Interrupted).await?;
        match reply.answer {
            Answer::Rerun => {}
            Answer::MarkDone => {
                return Ok(TaskEnd::Waived(format!(
                    "marked done by {} after the console was interrupted{}",
                    reply.by,
                    reply.note.map(|n| format!(": {n}")).unwrap_or_default()
                )));
            }
            _ => {
                return Ok(TaskEnd::Abort(format!(
                    "{} stopped the run at the interrupted step",
                    reply.by
                )));
            }
        }
    }
    if step.is_destructive() {
        let text = match step.confirm_text() {
            Some(text) => ctx.resolve(&text.value)?,
            None => id.clone(),
        };
        let action = format!("{} ({})", step.display_title(), step.action.kind());
        if let Err(e) = runner::confirm(ctx, &text, action).await {
            return match e {
                StepError::Journal(e) => Err(StepError::Journal(e)),
                other => Ok(TaskEnd::Failed(other.to_string())),
            };
        }
    }
    let attempts = step.retry.as_ref().map_or(1, |r| r.attempts.value.max(1));
    let first_backoff = step
        .retry
        .as_ref()
        .and_then(|r| r.backoff)
        .map_or(Retry::DEFAULT_BACKOFF, |b| b.0);
    let max_backoff = step
        .retry
        .as_ref()
        .and_then(|r| r.max_backoff)
        .map_or(Duration::MAX, |b| b.0);
    let timeout = step.timeout.as_ref().map(|t| t.value.0);
    let mut attempt = 0;
    loop {
        let mut backoff = first_backoff;
        let mut error = String::new();
        for round in 1..=attempts {
            attempt += 1;
            ctx.attempt = attempt;
            ctx.record(EventKind::StepStarted {
                step: id.clone(),
                attempt,
            })
            .await?;
            let result = match timeout {
                Some(limit) => tokio::time::timeout(limit, runner::run(ctx))
                    .await
                    .unwrap_or_else(|_| {
                        Err(StepError::Failed(format!(
                            "timed out after {}",
                            humanize(limit)
                        )))
                    }),
                None => runner::run(ctx).await,
            };
            match result {
                Ok(outputs) => return Ok(TaskEnd::Succeeded(outputs)),
                Err(StepError::Journal(e)) => return Err(StepError::Journal(e)),
                Err(StepError::Fatal(message)) => {
                    error = message;
                    break;
                }
                Err(StepError::Failed(message)) => {
                    error = message;
                    if round < attempts {
                        ctx.record(EventKind::StepRetrying {
                            step: id.clone(),
                            attempt,
                            error: error.clone(),
                            backoff,
                        })
                        .await?;
                        tokio::time::sleep(ctx.real_time(backoff)).await;
                        backoff = backoff.saturating_mul(2).min(max_backoff);
                    }
                }
            }
        }
        if step.on_failure != OnFailure::Ask {
            return Ok(TaskEnd::Failed(error));
        }
        let reply = ctx
            .ask(Question::Failure {
                error: error.clone(),
            })
            .await?;
        let note = reply.note.map(|n| format!(": {n}")).unwrap_or_default();
        match reply.answer {
            Answer::Retry => continue,
            Answer::Skip => {
                return Ok(TaskEnd::Waived(format!(
                    "skipped by {} after: {error}{note}",
                    reply.by
                )));
            }
            // The step failed and the operator chose to stop: the run failed
            // (as with on_failure = "abort"); it was not cancelled.
            _ => {
                return Ok(TaskEnd::Failed(format!(
                    "{error} (the run was stopped by {}{note})",
                    reply.by
                )));
            }
        }
    }
}
