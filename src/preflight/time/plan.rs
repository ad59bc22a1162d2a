//! The plan's schedule for the time area: each step as early as the
//! steps it needs allow, so steps side by side do not add up; the
//! critical path, and the estimate the AWS facts give.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Estimate, Figure, PhaseEstimate, StepEstimate};
use crate::runbook::Runbook;

/// The plan's schedule with every step as early as its needs allow:
/// steps in parallel do not add up.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Per step in runbook order: earliest finish, typical (unknown = 0).
    pub finish_typical: Vec<Option<Duration>>,
    /// The same with worst figures.
    pub finish_worst: Vec<Option<Duration>>,
    /// The step whose end is the run's end (the last to finish typically).
    pub end: Option<usize>,
    /// The step that ends the RTO, if it runs.
    pub rto_end: Option<usize>,
}

impl Plan {
    /// The schedule of `runbook`'s steps that have a figure (the others do
    /// not run in this mode).
    pub fn new(runbook: &Runbook, figures: &BTreeMap<String, Figure>) -> Plan {
        let n = runbook.steps.len();
        let index = runbook.step_index();
        let mut typical: Vec<Option<Duration>> = vec![None; n];
        let mut worst: Vec<Option<Duration>> = vec![None; n];
        // Validation refuses cycles; a pass per step settles any order.
        for _ in 0..n {
            let mut changed = false;
            for (i, step) in runbook.steps.iter().enumerate() {
                let Some(f) = figures.get(&step.id.value) else {
                    continue;
                };
                let needs: Vec<usize> = step
                    .needs
                    .iter()
                    .filter_map(|d| index.get(d.value.as_str()).copied())
                    .filter(|&d| figures.contains_key(&runbook.steps[d].id.value))
                    .collect();
                let start = |fin: &[Option<Duration>]| {
                    needs
                        .iter()
                        .map(|&d| fin[d])
                        .try_fold(Duration::ZERO, |acc, d| d.map(|d| acc.max(d)))
                };
                let t = start(&typical).map(|s| s.saturating_add(f.typical.unwrap_or_default()));
                let w = start(&worst)
                    .map(|s| s.saturating_add(f.worst.or(f.typical).unwrap_or_default()));
                if t != typical[i] || w != worst[i] {
                    typical[i] = t;
                    worst[i] = w;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let end = (0..n)
            .filter(|&i| !runbook.steps[i].cleanup)
            .filter(|&i| typical[i].is_some())
            .max_by_key(|&i| typical[i]);
        let rto_end = (0..n).find(|&i| runbook.steps[i].ends_rto && typical[i].is_some());
        Plan {
            finish_typical: typical,
            finish_worst: worst,
            end,
            rto_end,
        }
    }

    /// From a step that needs nothing to `last`, through the need that
    /// finishes last (typically).
    pub fn path_to(&self, runbook: &Runbook, last: usize) -> Vec<usize> {
        let index = runbook.step_index();
        let mut path = vec![last];
        let mut current = last;
        while let Some(prev) = runbook.steps[current]
            .needs
            .iter()
            .filter_map(|d| index.get(d.value.as_str()).copied())
            .filter(|&d| self.finish_typical[d].is_some())
            .max_by_key(|&d| self.finish_typical[d])
        {
            if path.contains(&prev) {
                break;
            }
            path.push(prev);
            current = prev;
        }
        path.reverse();
        path
    }

    pub(super) fn estimate(
        &self,
        runbook: &Runbook,
        figures: &BTreeMap<String, Figure>,
    ) -> Estimate {
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
        let path = self
            .end
            .map(|e| self.path_to(runbook, e))
            .unwrap_or_default();
        let ids = |p: &[usize]| -> Vec<String> {
            p.iter()
                .map(|&i| runbook.steps[i].id.value.clone())
                .collect()
        };
        let unknown_on = |p: &[usize]| -> Vec<String> {
            p.iter()
                .map(|&i| &runbook.steps[i].id.value)
                .filter(|id| figures.get(*id).is_some_and(|f| f.typical.is_none()))
                .cloned()
                .collect()
        };
        let mut not_estimated = unknown_on(&path);
        if let Some(r) = self.rto_end {
            for id in unknown_on(&self.path_to(runbook, r)) {
                if !not_estimated.contains(&id) {
                    not_estimated.push(id);
                }
            }
        }
        let phases = runbook
            .phases
            .iter()
            .map(|p| {
                let of_phase: Vec<usize> = (0..runbook.steps.len())
                    .filter(|&i| {
                        runbook.steps[i].phase.as_ref().map(|s| s.value.as_str())
                            == Some(p.id.value.as_str())
                    })
                    .filter(|&i| self.finish_typical[i].is_some())
                    .collect();
                let span = |fin: &[Option<Duration>], pick: fn(&Figure) -> Option<Duration>| {
                    let start = of_phase
                        .iter()
                        .filter_map(|&i| {
                            let f = figures.get(&runbook.steps[i].id.value)?;
                            Some(fin[i]?.saturating_sub(pick(f).unwrap_or_default()))
                        })
                        .min()?;
                    let end = of_phase.iter().filter_map(|&i| fin[i]).max()?;
                    Some(end.saturating_sub(start))
                };
                PhaseEstimate {
                    phase: p.id.value.clone(),
                    typical: secs(span(&self.finish_typical, |f| f.typical)),
                    worst: secs(span(&self.finish_worst, |f| f.worst.or(f.typical))),
                    budget: p.budget.as_ref().map(|b| b.value.0.as_secs_f64()),
                }
            })
            .collect();
        let max_of = |fin: &[Option<Duration>]| {
            (0..fin.len())
                .filter(|&i| !runbook.steps[i].cleanup)
                .filter_map(|i| fin[i])
                .max()
                .unwrap_or_default()
                .as_secs_f64()
        };
        Estimate {
            typical: max_of(&self.finish_typical),
            worst: max_of(&self.finish_worst),
            rto_typical: self.rto_end.and_then(|r| secs(self.finish_typical[r])),
            rto_worst: self.rto_end.and_then(|r| secs(self.finish_worst[r])),
            basis:
                "documented AWS durations and the runbook's own (no earlier run of this runbook)"
                    .into(),
            history: None,
            phases,
            steps: runbook
                .steps
                .iter()
                .filter_map(|s| {
                    let f = figures.get(&s.id.value)?;
                    Some(StepEstimate {
                        step: s.id.value.clone(),
                        typical: secs(f.typical),
                        worst: secs(f.worst),
                        basis: f.basis.clone(),
                    })
                })
                .collect(),
            critical_path: ids(&path),
            not_estimated,
        }
    }
}
