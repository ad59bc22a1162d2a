//! Timing derived from a run's events: per step (queued, started,
//! finished, attempts, human wait apart from machine time), per phase (span,
//! and the part on the critical path), per run (T0, RTO, RPO, gaps).
//!
//! Durations come from the events' monotonic `elapsed`, which keeps running
//! across a crash and resume; timestamps from their UTC `at`.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::event::{EventKind, Outcome, RunEvent};
use crate::runbook::Runbook;

/// One step's timing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StepTiming {
    /// The step id.
    pub step: String,
    /// Its phase.
    pub phase: Option<String>,
    /// When it became ready.
    pub queued_at: Option<Timestamp>,
    /// When its first attempt started.
    pub started_at: Option<Timestamp>,
    /// When it last ended.
    pub finished_at: Option<Timestamp>,
    /// Attempts started, across retries and resumes.
    pub attempts: u32,
    /// How it ended.
    pub outcome: Option<Outcome>,
    /// From its first activity (a question or an attempt) to its last end.
    #[serde(with = "super::event::seconds_opt")]
    pub duration: Option<Duration>,
    /// Time spent waiting for a person (confirmations, answers).
    #[serde(with = "super::event::seconds")]
    pub human_wait: Duration,
    /// `duration` minus `human_wait`.
    #[serde(with = "super::event::seconds_opt")]
    pub machine: Option<Duration>,
    #[serde(skip)]
    start_elapsed: Option<Duration>,
    #[serde(skip)]
    end_elapsed: Option<Duration>,
}

/// One phase's timing.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseTiming {
    /// The phase id.
    pub phase: String,
    /// First step start to last step end.
    #[serde(with = "super::event::seconds_opt")]
    pub span: Option<Duration>,
    /// Time of this phase's steps on the critical path.
    #[serde(with = "super::event::seconds")]
    pub on_critical_path: Duration,
    /// The phase's budget, if the runbook sets one.
    #[serde(with = "super::event::seconds_opt")]
    pub budget: Option<Duration>,
    /// When its first step started (wall clock).
    pub started_at: Option<Timestamp>,
    /// When its last step ended (wall clock).
    pub finished_at: Option<Timestamp>,
    /// Run time (monotonic `elapsed`) of its first step's start.
    #[serde(skip)]
    pub start_elapsed: Option<Duration>,
    /// Run time (monotonic `elapsed`) of its last step's end.
    #[serde(skip)]
    pub end_elapsed: Option<Duration>,
}

/// The timing of a whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// T0.
    pub t0: Option<Timestamp>,
    /// When the run ended.
    pub finished_at: Option<Timestamp>,
    /// RTO achieved (T0 to the `ends_rto` step's success).
    #[serde(with = "super::event::seconds_opt")]
    pub rto: Option<Duration>,
    /// RPO achieved (T0 minus the restore point's time).
    #[serde(with = "super::event::seconds_opt")]
    pub rpo: Option<Duration>,
    /// Gaps the run was not watched (crash and resume).
    #[serde(with = "super::event::seconds_vec")]
    pub gaps: Vec<Duration>,
    /// Steps in runbook order.
    pub steps: Vec<StepTiming>,
    /// Phases in runbook order.
    pub phases: Vec<PhaseTiming>,
    /// The chain of steps that set the RTO (or the run's end), first to last.
    pub critical_path: Vec<String>,
}

impl Timeline {
    /// The timeline of `events` of a run of `runbook`.
    pub fn new(runbook: &Runbook, events: &[RunEvent]) -> Timeline {
        let index = runbook.step_index();
        let mut steps: Vec<StepTiming> = runbook
            .steps
            .iter()
            .map(|s| StepTiming {
                step: s.id.value.clone(),
                phase: s.phase.as_ref().map(|p| p.value.clone()),
                ..StepTiming::default()
            })
            .collect();
        let mut asked: HashMap<usize, Duration> = HashMap::new();
        let mut timeline = Timeline {
            t0: None,
            finished_at: None,
            rto: None,
            rpo: None,
            gaps: Vec::new(),
            steps: Vec::new(),
            phases: Vec::new(),
            critical_path: Vec::new(),
        };
        for e in events {
            let step = e.kind.step().and_then(|s| index.get(s).copied());
            match (&e.kind, step) {
                (EventKind::RunStarted { t0, .. }, _) => timeline.t0 = Some(*t0),
                (EventKind::RunResumed { gap, .. }, _) => timeline.gaps.push(*gap),
                (EventKind::RunFinished { .. }, _) => timeline.finished_at = Some(e.at),
                (EventKind::RtoStopped { rto, .. }, _) => timeline.rto = Some(*rto),
                // With several picks, the oldest point chosen bounds the
                // data lost (picks replayed forward do not measure it).
                (EventKind::RpoMeasured { rpo, .. }, _) => {
                    timeline.rpo = Some(timeline.rpo.map_or(*rpo, |r| r.max(*rpo)))
                }
                (EventKind::StepQueued { .. }, Some(i)) => {
                    steps[i].queued_at.get_or_insert(e.at);
                }
                (EventKind::StepStarted { .. }, Some(i)) => {
                    let s = &mut steps[i];
                    s.attempts += 1;
                    s.started_at.get_or_insert(e.at);
                    s.start_elapsed.get_or_insert(e.elapsed);
                }
                (EventKind::StepFinished { outcome, .. }, Some(i)) => {
                    let s = &mut steps[i];
                    s.outcome = Some(*outcome);
                    s.finished_at = Some(e.at);
                    s.end_elapsed = Some(e.elapsed);
                }
                (EventKind::HumanAsked { .. }, Some(i)) => {
                    asked.insert(i, e.elapsed);
                    // A confirmation comes before the first attempt and is
                    // part of the step.
                    steps[i].start_elapsed.get_or_insert(e.elapsed);
                }
                (EventKind::HumanAnswered { .. }, Some(i)) => {
                    if let Some(from) = asked.remove(&i) {
                        steps[i].human_wait += e.elapsed.saturating_sub(from);
                    }
                }
                _ => {}
            }
        }
        for s in &mut steps {
            s.duration = s
                .start_elapsed
                .zip(s.end_elapsed)
                .map(|(a, b)| b.saturating_sub(a));
            s.machine = s.duration.map(|d| d.saturating_sub(s.human_wait));
        }
        timeline.critical_path = critical_path(runbook, &steps, &index);
        timeline.phases = runbook
            .phases
            .iter()
            .map(|p| {
                let of_phase = || {
                    steps
                        .iter()
                        .filter(|s| s.phase.as_deref() == Some(p.id.value.as_str()))
                };
                let start = of_phase().filter_map(|s| s.start_elapsed).min();
                let end = of_phase().filter_map(|s| s.end_elapsed).max();
                let started_at = of_phase().filter_map(|s| s.started_at).min();
                let finished_at = of_phase().filter_map(|s| s.finished_at).max();
                let on_critical_path = timeline
                    .critical_path
                    .iter()
                    .filter_map(|id| index.get(id.as_str()).map(|&i| &steps[i]))
                    .filter(|s| s.phase.as_deref() == Some(p.id.value.as_str()))
                    .filter_map(|s| s.duration)
                    .sum();
                PhaseTiming {
                    phase: p.id.value.clone(),
                    span: start.zip(end).map(|(a, b)| b.saturating_sub(a)),
                    on_critical_path,
                    budget: p.budget.as_ref().map(|b| b.value.0),
                    started_at,
                    finished_at,
                    start_elapsed: start,
                    end_elapsed: end,
                }
            })
            .collect();
        timeline.steps = steps;
        timeline
    }
}

impl StepTiming {
    /// Run time (monotonic `elapsed`) of its first activity: a question or
    /// its first attempt.
    pub fn start_elapsed(&self) -> Option<Duration> {
        self.start_elapsed
    }

    /// Run time (monotonic `elapsed`) of its last end.
    pub fn end_elapsed(&self) -> Option<Duration> {
        self.end_elapsed
    }
}

/// Whether a step started and ended (skipped steps never started).
fn ran(s: &StepTiming) -> bool {
    s.start_elapsed.is_some() && s.end_elapsed.is_some()
}

/// From the step that ends the RTO (or the last to finish), back through
/// the need that finished last, to a step that needs nothing.
fn critical_path(
    runbook: &Runbook,
    steps: &[StepTiming],
    index: &HashMap<&str, usize>,
) -> Vec<String> {
    let end = runbook
        .steps
        .iter()
        .position(|s| s.ends_rto)
        .filter(|&i| ran(&steps[i]))
        .or_else(|| {
            (0..steps.len())
                .filter(|&i| ran(&steps[i]) && !runbook.steps[i].cleanup)
                .max_by_key(|&i| steps[i].end_elapsed)
        });
    let mut path = Vec::new();
    let mut current = end;
    while let Some(i) = current {
        path.push(steps[i].step.clone());
        current = runbook.steps[i]
            .needs
            .iter()
            .filter_map(|n| index.get(n.value.as_str()).copied())
            .filter(|&d| ran(&steps[d]))
            .max_by_key(|&d| steps[d].end_elapsed);
    }
    path.reverse();
    path
}
