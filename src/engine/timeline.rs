//! Timing read from a run's [`RunLedger`]: per step (queued, started,
//! finished, attempts, human wait apart from machine time), per phase (span,
//! and the part on the critical path), per run (T0, RTO, RPO, gaps).
//!
//! Durations come from the events' monotonic `elapsed`, which keeps running
//! across a crash and resume; timestamps from their UTC `at`. This module
//! does not read events itself: the ledger folds them.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::event::{Outcome, RunEvent};
use super::ledger::RunLedger;
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
    /// When it first did something: its first attempt, or the confirmation
    /// asked before it (so start, end and duration agree).
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

/// A timeline's axis: from T0 to `span`, with the RTO target on it when it
/// is not far beyond the run (a target far beyond would squash the run's
/// bars into a sliver; it is then named, off the scale). The one rule for
/// the console's timeline and the report's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Axis {
    /// Where the axis ends.
    pub span: Duration,
    /// The RTO target, when it is drawn on the axis.
    pub target_on_axis: Option<Duration>,
}

impl Axis {
    /// The axis of a run that went on for `run` against `target`.
    pub fn fit(run: Duration, target: Option<Duration>) -> Axis {
        let run = run.max(Duration::from_secs(1));
        let target_on_axis = target.filter(|&t| t <= run.saturating_mul(3));
        Axis {
            span: target_on_axis.unwrap_or_default().max(run),
            target_on_axis,
        }
    }
}

/// Where the RTO clock stands: the one rule the console's header and the
/// summaries follow. It stops when the RTO end succeeds, or when the run
/// ends without reaching it; it never ticks for a runbook without an RTO end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtoClock {
    /// The run has not started.
    NotStarted,
    /// No step of the runbook ends the RTO: there is nothing to measure.
    NoEnd,
    /// Going on: T0 to now.
    Running(Duration),
    /// The step that ends the RTO succeeded: T0 to its end.
    Reached(Duration),
    /// The run ended (how) before any RTO end: T0 to the run's end.
    EndedWithout(Duration, Outcome),
}

impl RunLedger {
    /// The RTO clock at wall time `now`.
    pub fn rto_clock(&self, now: Timestamp) -> RtoClock {
        let since_t0 = |at: Timestamp| {
            self.t0
                .map_or(Duration::ZERO, |t0| super::clock::between(t0, at))
        };
        if let Some(rto) = self.rto {
            return RtoClock::Reached(rto);
        }
        if !self.steps.iter().any(|s| s.ends_rto) {
            return RtoClock::NoEnd;
        }
        match (self.t0, self.outcome(), self.last_end) {
            (None, ..) => RtoClock::NotStarted,
            (Some(_), Some(outcome), Some(end)) => {
                RtoClock::EndedWithout(since_t0(end.at), outcome)
            }
            (Some(_), ..) => RtoClock::Running(since_t0(now)),
        }
    }
}

impl Timeline {
    /// The timeline of `events` of a run of `runbook`.
    pub fn new(runbook: &Runbook, events: &[RunEvent]) -> Timeline {
        RunLedger::from_events(runbook, events).timeline()
    }
}

impl RunLedger {
    /// The run's timing as it stands: steps and phases in runbook order,
    /// and the critical path.
    pub fn timeline(&self) -> Timeline {
        let steps: Vec<StepTiming> = self
            .steps
            .iter()
            .map(|s| {
                let duration = s.duration();
                StepTiming {
                    step: s.id.clone(),
                    phase: s.phase.clone(),
                    queued_at: s.queued_at,
                    started_at: s.started_at,
                    finished_at: s.finished_at,
                    attempts: s.attempts,
                    outcome: s.outcome,
                    duration,
                    human_wait: s.human_wait,
                    machine: duration.map(|d| d.saturating_sub(s.human_wait)),
                    start_elapsed: s.first_activity,
                    end_elapsed: s.last_end,
                }
            })
            .collect();
        let critical_path = self.critical_path();
        let phases = self
            .phases
            .iter()
            .map(|p| {
                let of_phase = || {
                    steps
                        .iter()
                        .filter(|s| s.phase.as_deref() == Some(p.id.as_str()))
                };
                let start = of_phase().filter_map(|s| s.start_elapsed).min();
                let end = of_phase().filter_map(|s| s.end_elapsed).max();
                let started_at = of_phase().filter_map(|s| s.started_at).min();
                let finished_at = of_phase().filter_map(|s| s.finished_at).max();
                let on_critical_path = critical_path
                    .iter()
                    .filter_map(|id| self.position(id).map(|i| &steps[i]))
                    .filter(|s| s.phase.as_deref() == Some(p.id.as_str()))
                    .filter_map(|s| s.duration)
                    .sum();
                PhaseTiming {
                    phase: p.id.clone(),
                    span: start.zip(end).map(|(a, b)| b.saturating_sub(a)),
                    on_critical_path,
                    budget: p.budget,
                    started_at,
                    finished_at,
                    start_elapsed: start,
                    end_elapsed: end,
                }
            })
            .collect();
        Timeline {
            t0: self.t0,
            finished_at: self.last_end.map(|e| e.at),
            rto: self.rto,
            rpo: self.rpo,
            gaps: self.resumes.iter().map(|r| r.gap).collect(),
            steps,
            phases,
            critical_path,
        }
    }

    /// From the step that ends the RTO (or the last to finish), back
    /// through the need that finished last, to a step that needs nothing.
    fn critical_path(&self) -> Vec<String> {
        let steps = &self.steps;
        let end = steps
            .iter()
            .position(|s| s.ends_rto)
            .filter(|&i| steps[i].ran())
            .or_else(|| {
                (0..steps.len())
                    .filter(|&i| steps[i].ran() && !steps[i].cleanup)
                    .max_by_key(|&i| steps[i].last_end)
            });
        let mut path = Vec::new();
        let mut current = end;
        while let Some(i) = current {
            path.push(steps[i].id.clone());
            current = steps[i]
                .needs
                .iter()
                .copied()
                .filter(|&d| steps[d].ran())
                .max_by_key(|&d| steps[d].last_end);
        }
        path.reverse();
        path
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
