//! Building a [`DrillReport`] from a journal: the run's [`RunLedger`] gives
//! where everything stands; this module only puts it in the report's words
//! and shape (offsets from T0, verdicts against targets, the sections).
//!
//! It reads no event itself: the ledger folds them. It must not touch the
//! terminal nor the cloud.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use super::history::{compare, runbook_of};
use super::{
    AwsTarget, ChecklistItem, CleanupItem, Confirmation, DrillReport, Evidence, Failure, Objective,
    PhaseReport, REPORT_FORMAT, RecoveryPointUsed, ReportError, ResumeGap, RunbookInfo, StepReport,
    WorldTime, outcome_name,
};
use crate::engine::event::Question;
use crate::engine::journal::{JournalContents, WorldRecord};
use crate::engine::ledger::{AfterFailure, RunLedger};
use crate::engine::timeline::Timeline;
use crate::format::SimulatedTime;
use crate::runbook::{Runbook, StepAction};

/// Builds the report of a journal's `contents`, comparing with `history`
/// (earlier runs of the same runbook, oldest first).
pub fn build(
    path: &Path,
    contents: &JournalContents,
    history: &[JournalContents],
) -> Result<DrillReport, ReportError> {
    let (runbook, resumed_sha) = runbook_of(path, contents)?;
    let header = &contents.header;
    let ledger = RunLedger::from_journal(&runbook, contents);
    let timeline = ledger.timeline();
    let t0 = timeline.t0.unwrap_or(header.t0);
    // Elapsed counts from the run's start; offsets count from T0.
    let lead = Duration::try_from(header.started_at.duration_since(t0)).unwrap_or_default();
    let at = Offsets { lead };

    let steps = step_reports(&runbook, &ledger, &timeline, at);
    let simulated = ledger.identity.as_ref().is_some_and(|i| i.simulated);
    // A simulated run is judged in its world's time (`format::SimulatedTime`).
    let world_time = match &header.world {
        Some(WorldRecord::Sandbox { speed, .. }) => {
            let sim = SimulatedTime { speed: *speed };
            let elapsed = contents
                .events
                .last()
                .map(|e| e.elapsed)
                .unwrap_or_default();
            Some(WorldTime {
                speed: *speed,
                elapsed_seconds: elapsed,
                world_elapsed_seconds: sim.world(elapsed),
            })
        }
        _ => None,
    };
    let aws = ledger.identity.clone().map(|i| AwsTarget {
        account: i.account,
        region: i.region,
        endpoint: i.endpoint,
        profile: i.profile,
        principal: i.principal,
    });
    Ok(DrillReport {
        report_format: REPORT_FORMAT,
        run_id: header.run_id.clone(),
        runbook: RunbookInfo {
            id: runbook.runbook.id.value.clone(),
            title: runbook.runbook.title.value.clone(),
            sha256: header.runbook_sha256.clone(),
            resumed_with_sha256: resumed_sha,
            path: header.runbook_path.display().to_string(),
        },
        mode: header.mode.as_str().into(),
        simulated,
        world_time: world_time.clone(),
        operator: header.operator.clone(),
        aws,
        t0,
        started_at: header.started_at,
        finished_at: timeline.finished_at,
        outcome: ledger
            .last_end
            .map_or("unfinished", |e| outcome_name(Some(e.outcome)))
            .into(),
        rto: Objective::judged(
            timeline.rto,
            runbook.runbook.rto.as_ref().map(|r| r.value.0),
            world_time.as_ref().map(WorldTime::simulated),
        ),
        rpo: Objective::new(
            timeline.rpo,
            runbook.runbook.rpo.as_ref().map(|r| r.value.0),
        ),
        phases: phase_reports(
            &runbook,
            &timeline,
            at,
            world_time.as_ref().map(WorldTime::simulated),
        ),
        critical_path: timeline.critical_path.clone(),
        confirmations: confirmations(&ledger),
        recovery_point: recovery_point(&runbook, &ledger),
        evidence: evidence(&runbook, &ledger, &steps),
        failures: failures(&ledger),
        cleanup: cleanup(&steps),
        checklist: checklist(&runbook, &ledger),
        resumes: resumes(&ledger, at),
        comparison: compare(&timeline, history),
        cost: super::cost::cost_report(&runbook, &ledger, &header.params),
        preflight: ledger.preflight.clone().map(|ran| super::PreflightReport {
            forced: ran.forced,
            summary: super::preflight_counts(&ran.preflight),
            preflight: ran.preflight,
        }),
        participants: super::people::participants(&runbook, &ledger),
        steps,
    })
}

/// Run times (from the run's start) as offsets from T0.
#[derive(Clone, Copy)]
struct Offsets {
    /// T0 to the run's start.
    lead: Duration,
}

impl Offsets {
    fn of(self, d: Option<Duration>) -> Option<Duration> {
        d.map(|d| d + self.lead)
    }
}

fn step_reports(
    runbook: &Runbook,
    ledger: &RunLedger,
    timeline: &Timeline,
    at: Offsets,
) -> Vec<StepReport> {
    let critical: HashSet<&str> = timeline.critical_path.iter().map(String::as_str).collect();
    runbook
        .steps
        .iter()
        .zip(&ledger.steps)
        .zip(&timeline.steps)
        .map(|((s, l), t)| StepReport {
            id: s.id.value.clone(),
            title: s.title.clone(),
            phase: t.phase.clone(),
            kind: s.action.kind().into(),
            started_at: t.started_at,
            finished_at: t.finished_at,
            duration_seconds: t.duration,
            human_wait_seconds: t.human_wait,
            machine_seconds: t.machine,
            attempts: t.attempts,
            status: l.final_status(),
            reason: l.reason.clone(),
            critical: critical.contains(s.id.value.as_str()),
            cleanup: s.cleanup,
            start_offset_seconds: at.of(t.start_elapsed()),
            end_offset_seconds: at.of(t.end_elapsed()),
            output_left_out: l.output_left_out.clone(),
        })
        .collect()
}

fn phase_reports(
    runbook: &Runbook,
    timeline: &Timeline,
    at: Offsets,
    sim: Option<SimulatedTime>,
) -> Vec<PhaseReport> {
    runbook
        .phases
        .iter()
        .zip(&timeline.phases)
        .map(|(p, t)| PhaseReport {
            id: t.phase.clone(),
            title: p.title.clone(),
            started_at: t.started_at,
            finished_at: t.finished_at,
            duration_seconds: t.span,
            world_duration_seconds: sim.and(t.span).map(|s| SimulatedTime::judged(sim, s)),
            budget_seconds: t.budget,
            over_budget: t
                .span
                .zip(t.budget)
                .is_some_and(|(s, b)| SimulatedTime::judged(sim, s) > b),
            critical_path_seconds: t.on_critical_path,
            start_offset_seconds: at.of(t.start_elapsed),
            end_offset_seconds: at.of(t.end_elapsed),
        })
        .collect()
}

fn confirmations(ledger: &RunLedger) -> Vec<Confirmation> {
    ledger
        .confirmations
        .iter()
        .map(|c| Confirmation {
            step: c.step.clone(),
            action: c.action.clone(),
            typed: c.typed.clone(),
            by: c.by.clone(),
            at: c.at,
        })
        .collect()
}

/// The point the first pick that gave outputs chose.
fn recovery_point(runbook: &Runbook, ledger: &RunLedger) -> Option<RecoveryPointUsed> {
    runbook
        .steps
        .iter()
        .zip(&ledger.steps)
        .filter(|(s, _)| matches!(s.action, StepAction::PickRecoveryPoint(_)))
        .find_map(|(s, l)| {
            let out = Some(&l.outputs).filter(|o| !o.is_empty())?;
            let get = |k: &str| out.get(k).filter(|v| !v.is_empty()).cloned();
            Some(RecoveryPointUsed {
                step: s.id.value.clone(),
                arn: get("arn"),
                created_at: get("created_at"),
                vault: get("vault"),
                region: get("region"),
            })
        })
}

/// Outputs of the steps that did something, and every check that ran.
fn evidence(runbook: &Runbook, ledger: &RunLedger, steps: &[StepReport]) -> Vec<Evidence> {
    runbook
        .steps
        .iter()
        .zip(&ledger.steps)
        .zip(steps)
        .filter(|((s, _), _)| {
            !matches!(
                s.action,
                StepAction::Manual(_) | StepAction::Approve(_) | StepAction::PickRecoveryPoint(_)
            )
        })
        .filter(|((s, l), r)| {
            !l.outputs.is_empty() || (matches!(s.action, StepAction::Check(_)) && r.attempts > 0)
        })
        .map(|((s, l), r)| Evidence {
            step: s.id.value.clone(),
            kind: r.kind.clone(),
            status: r.status,
            outputs: l.outputs.clone(),
        })
        .collect()
}

fn failures(ledger: &RunLedger) -> Vec<Failure> {
    ledger
        .failures
        .iter()
        .map(|f| Failure {
            step: f.step.clone(),
            // A step's end names no attempt: it is the step's count.
            attempt: f
                .attempt
                .unwrap_or_else(|| ledger.step(&f.step).map_or(0, |s| s.attempts)),
            at: f.at,
            error: f.error.clone(),
            then: match &f.then {
                AfterFailure::RetriedAfter(backoff) => {
                    format!("retried after {}", crate::engine::humanize(*backoff))
                }
                AfterFailure::Ended(o) => outcome_name(Some(*o)).into(),
                AfterFailure::Answered { answer, by } => {
                    format!("{} ({by})", answer.word())
                }
            },
            interrupted: f.interrupted,
        })
        .collect()
}

fn cleanup(steps: &[StepReport]) -> Vec<CleanupItem> {
    steps
        .iter()
        .filter(|s| s.cleanup)
        .map(|s| CleanupItem {
            step: s.id.clone(),
            title: s.title.clone(),
            done: s.status == crate::engine::ledger::FinalStatus::Succeeded,
            status: s.status,
            reason: s.reason.clone(),
        })
        .collect()
}

/// Manual and approval steps with the question asked and its answer.
fn checklist(runbook: &Runbook, ledger: &RunLedger) -> Vec<ChecklistItem> {
    runbook
        .steps
        .iter()
        .zip(&ledger.steps)
        .filter(|(s, _)| matches!(s.action, StepAction::Manual(_) | StepAction::Approve(_)))
        .map(|(s, l)| {
            let id = &s.id.value;
            let question = match ledger.question(id) {
                Some(Question::Acknowledge { question, .. }) => question.clone(),
                _ => match &s.action {
                    StepAction::Manual(m) => m.question.as_ref().map(|q| q.value.clone()),
                    _ => None,
                },
            };
            let answered = l.answer.as_ref();
            ChecklistItem {
                step: id.clone(),
                title: s.title.clone(),
                question,
                answer: answered.map(|a| a.answer.word()),
                by: answered.map(|a| a.by.clone()),
                at: answered.map(|a| a.at),
                note: answered.and_then(|a| a.note.clone()),
            }
        })
        .collect()
}

fn resumes(ledger: &RunLedger, at: Offsets) -> Vec<ResumeGap> {
    ledger
        .resumes
        .iter()
        .map(|r| ResumeGap {
            at: r.at,
            gap_seconds: r.gap,
            operator: r.operator.clone(),
            forced: r.forced,
            offset_seconds: r.elapsed + at.lead,
        })
        .collect()
}
