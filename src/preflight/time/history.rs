//! The time area's history: this runbook's earlier runs in the data
//! directory (found by `report::earlier_runs`, the same runs a report
//! compares with), reduced to median and worst per phase and for the run.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Estimate, PhaseEstimate};
use crate::engine::event::Outcome;
use crate::engine::journal::WorldRecord;
use crate::engine::ledger::RunLedger;
use crate::format::SimulatedTime;
use crate::runbook::{Mode, Runbook};

/// One earlier run, as the time area reads it. Durations are judged the
/// way the report judges them: world time for a simulated run.
#[derive(Debug, Clone, PartialEq)]
pub struct PastRun {
    /// Its id.
    pub run_id: String,
    /// Drill or incident.
    pub mode: Mode,
    /// Whether it ended with every step done.
    pub succeeded: bool,
    /// The simulated world's speed, for a sandbox run.
    pub speed: Option<f64>,
    /// Start to end.
    pub run: Duration,
    /// T0 to the RTO end, when reached.
    pub rto: Option<Duration>,
    /// Each phase's span.
    pub phases: BTreeMap<String, Duration>,
    /// Each step's duration (first activity to last end).
    pub steps: BTreeMap<String, Duration>,
    /// Whether it ran another text of the runbook than the one checked now.
    pub changed: bool,
}

/// What the figures rest on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistorySummary {
    /// The mode of the runs used (`drill` or `incident`).
    pub mode: String,
    /// How many runs the figures rest on.
    pub runs: usize,
    /// Their ids, oldest first.
    pub run_ids: Vec<String>,
    /// Whether they are simulated runs, whose figures are world time.
    pub world_time: bool,
    /// Earlier runs left out: they failed, were stopped or never ended,
    /// or are of the other mode, or simulated beside real ones.
    pub left_out: usize,
    /// How many of the runs used ran another text of the runbook.
    pub changed_since: usize,
    /// Median of the runs' durations, seconds.
    pub run_median: f64,
    /// The longest, seconds.
    pub run_worst: f64,
    /// Median of T0 to the RTO end, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_median: Option<f64>,
    /// The longest T0 to the RTO end, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_worst: Option<f64>,
    /// Per phase: (id, median, worst), seconds.
    pub phases: Vec<(String, f64, f64)>,
    /// The step with the longest median: (id, median, worst), seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slowest_step: Option<(String, f64, f64)>,
}

impl HistorySummary {
    /// "median and worst of 3 earlier drills (world time of simulated
    /// runs; the runbook changed since 1 of them)".
    pub fn words(&self) -> String {
        let mut s = format!(
            "median and worst of {} before this one",
            crate::format::count(self.runs as u64, &self.mode)
        );
        if self.world_time {
            s.push_str(", in world time of simulated runs");
        }
        if self.changed_since > 0 {
            s.push_str(&format!(
                "; the runbook changed since {} of them",
                self.changed_since
            ));
        }
        s
    }
}

/// This runbook's earlier runs under `data_dir`, oldest first. Unreadable
/// journals are skipped (`report::earlier_runs`).
pub fn past_runs(data_dir: &Path, runbook: &Runbook) -> Vec<PastRun> {
    let id = &runbook.runbook.id.value;
    crate::report::earlier_runs(data_dir, id, "", jiff::Timestamp::MAX)
        .iter()
        .filter_map(|c| {
            let (rb, _) = crate::report::runbook_of(Path::new(""), c).ok()?;
            let ledger = RunLedger::from_events(&rb, &c.events);
            let t = ledger.timeline();
            let speed = match &c.header.world {
                Some(WorldRecord::Sandbox { speed, .. }) => Some(*speed),
                _ => None,
            };
            let sim = speed.map(|speed| SimulatedTime { speed });
            let judged = |d: Duration| SimulatedTime::judged(sim, d);
            let run = c.events.last().map(|e| e.elapsed).unwrap_or_default();
            Some(PastRun {
                run_id: c.header.run_id.clone(),
                mode: c.header.mode,
                succeeded: ledger.outcome() == Some(Outcome::Succeeded),
                speed,
                run: judged(run),
                rto: t.rto.map(judged),
                phases: t
                    .phases
                    .iter()
                    .filter_map(|p| Some((p.phase.clone(), judged(p.span?))))
                    .collect(),
                steps: t
                    .steps
                    .iter()
                    .filter_map(|s| Some((s.step.clone(), judged(s.duration?))))
                    .collect(),
                changed: rb != *runbook,
            })
        })
        .collect()
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[Duration]) -> Option<Duration> {
    let mut v = values.to_vec();
    v.sort();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        // Halves first: two durations from a hostile journal never overflow.
        _ => Some(v[n / 2 - 1] / 2 + v[n / 2] / 2),
    }
}

/// Median and worst of the runs that succeeded, of `mode` when there are
/// any (else of the other mode, said so), real runs before simulated ones.
/// `None` when no earlier run succeeded.
pub fn summarize(past: &[PastRun], mode: Mode) -> Option<HistorySummary> {
    let done: Vec<&PastRun> = past.iter().filter(|r| r.succeeded).collect();
    let of_mode: Vec<&PastRun> = done.iter().copied().filter(|r| r.mode == mode).collect();
    let chosen = if of_mode.is_empty() { done } else { of_mode };
    let real: Vec<&PastRun> = chosen
        .iter()
        .copied()
        .filter(|r| r.speed.is_none())
        .collect();
    let used = if real.is_empty() { chosen } else { real };
    let first = used.first()?;
    let runs: Vec<Duration> = used.iter().map(|r| r.run).collect();
    let rtos: Vec<Duration> = used.iter().filter_map(|r| r.rto).collect();
    let mut phase_ids: Vec<&String> = Vec::new();
    for r in &used {
        for id in r.phases.keys() {
            if !phase_ids.contains(&id) {
                phase_ids.push(id);
            }
        }
    }
    let secs = |d: Duration| d.as_secs_f64();
    let spread = |of: &dyn Fn(&PastRun) -> Option<Duration>| {
        let v: Vec<Duration> = used.iter().filter_map(|r| of(r)).collect();
        Some((median(&v)?, v.iter().copied().max()?))
    };
    let mut step_ids: Vec<&String> = used.iter().flat_map(|r| r.steps.keys()).collect();
    step_ids.sort();
    step_ids.dedup();
    let slowest_step = step_ids
        .into_iter()
        .filter_map(|id| Some((id, spread(&|r| r.steps.get(id).copied())?)))
        .max_by_key(|(_, (m, _))| *m)
        .map(|(id, (m, w))| (id.clone(), secs(m), secs(w)));
    Some(HistorySummary {
        mode: first.mode.as_str().to_owned(),
        runs: used.len(),
        run_ids: used.iter().map(|r| r.run_id.clone()).collect(),
        world_time: first.speed.is_some(),
        left_out: past.len() - used.len(),
        changed_since: used.iter().filter(|r| r.changed).count(),
        run_median: secs(median(&runs)?),
        run_worst: secs(runs.iter().copied().max()?),
        rto_median: median(&rtos).map(secs),
        rto_worst: rtos.iter().copied().max().map(secs),
        phases: phase_ids
            .into_iter()
            .filter_map(|id| {
                let spans: Vec<Duration> = used
                    .iter()
                    .filter_map(|r| r.phases.get(id).copied())
                    .collect();
                Some((
                    id.clone(),
                    secs(median(&spans)?),
                    secs(spans.iter().copied().max()?),
                ))
            })
            .collect(),
        slowest_step,
    })
}

/// The estimate a history gives, with `runbook`'s phase budgets.
pub fn estimate(runbook: &Runbook, h: &HistorySummary) -> Estimate {
    Estimate {
        typical: h.run_median,
        worst: h.run_worst,
        rto_typical: h.rto_median,
        rto_worst: h.rto_worst,
        basis: h.words(),
        history: Some(h.clone()),
        phases: runbook
            .phases
            .iter()
            .map(|p| {
                let found = h.phases.iter().find(|(id, ..)| *id == p.id.value);
                PhaseEstimate {
                    phase: p.id.value.clone(),
                    typical: found.map(|f| f.1),
                    worst: found.map(|f| f.2),
                    budget: p.budget.as_ref().map(|b| b.value.0.as_secs_f64()),
                }
            })
            .collect(),
        steps: Vec::new(),
        critical_path: Vec::new(),
        not_estimated: Vec::new(),
    }
}
