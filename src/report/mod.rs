//! The drill report: built from a run's journal alone, so it can be rebuilt
//! at any time, and written as Markdown, JSON, HTML, JUnit XML and
//! Prometheus text.
//!
//! This module owns the report's model ([`DrillReport`]) and its renderers.
//! It reads journals and never touches the terminal (no ratatui, no
//! crossterm) nor the cloud.

mod build;
pub mod cost;
pub(crate) mod history;
mod html;
mod junit;
mod markdown;
mod people;
mod prom;
mod scrub;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

pub use self::build::build;
pub(crate) use self::history::runbook_of;
pub use self::history::{data_dir_of, earlier_runs};
pub use self::people::{
    AnswerReport, DriverReport, ParticipantsReport, PersonReport, RoleReport, StepPeopleReport,
};
use crate::engine::event::Outcome;
use crate::engine::journal::{self, JournalError};
pub use crate::engine::ledger::FinalStatus;
use crate::format::SimulatedTime;

/// Differences under this many seconds count as no change.
pub(crate) const SAME_WITHIN: f64 = 0.05;

/// The version of the report's JSON schema (`docs/report-format.md`).
pub const REPORT_FORMAT: u32 = 1;

/// A format the report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Markdown, for a ticket or a wiki.
    Markdown,
    /// JSON, versioned by [`REPORT_FORMAT`].
    Json,
    /// One self-contained HTML page with an SVG timeline.
    Html,
    /// JUnit XML, one test case per step.
    Junit,
    /// Prometheus text format, for node_exporter's textfile collector.
    Prometheus,
}

impl Format {
    /// Every format, in the order they are written.
    pub const ALL: [Format; 5] = [
        Format::Markdown,
        Format::Json,
        Format::Html,
        Format::Junit,
        Format::Prometheus,
    ];

    /// The file name written next to the journal.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Markdown => "report.md",
            Format::Json => "report.json",
            Format::Html => "report.html",
            Format::Junit => "report.junit.xml",
            Format::Prometheus => "report.prom",
        }
    }

    /// Parses `md`, `json`, `html`, `junit` or `prom`.
    pub fn parse(name: &str) -> Option<Format> {
        Some(match name.trim() {
            "md" | "markdown" => Format::Markdown,
            "json" => Format::Json,
            "html" => Format::Html,
            "junit" | "xml" => Format::Junit,
            "prom" | "prometheus" => Format::Prometheus,
            _ => return None,
        })
    }
}

/// Why a report could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The journal cannot be read.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The runbook recorded in the journal no longer parses.
    #[error(
        "journal {path}: the runbook recorded in it cannot be read ({message}); the report needs it to name steps and phases"
    )]
    Runbook {
        /// The journal.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Writing a report file failed.
    #[error("cannot write the report {path}: {source}; check the directory exists and is writable")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Everything a drill report says about one run.
#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    /// Always [`REPORT_FORMAT`].
    pub report_format: u32,
    /// The run's id.
    pub run_id: String,
    /// The runbook run.
    pub runbook: RunbookInfo,
    /// `drill` or `incident`.
    pub mode: String,
    /// The run acted on the simulated world, not AWS.
    pub simulated: bool,
    /// For a simulated run at a known speed: its elapsed time in real and
    /// in world time (absent for AWS runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub world_time: Option<WorldTime>,
    /// `user@host` of whoever started the run.
    pub operator: String,
    /// The AWS identity the run acted on, if it used AWS.
    pub aws: Option<AwsTarget>,
    /// T0: drill start, or the declared outage start.
    pub t0: Timestamp,
    /// When the run started.
    pub started_at: Timestamp,
    /// When the run ended (absent if it never did: a crash not resumed).
    pub finished_at: Option<Timestamp>,
    /// How the run ended: `succeeded`, `failed`, `aborted`, ... or
    /// `unfinished`.
    pub outcome: String,
    /// RTO achieved against its target.
    pub rto: Objective,
    /// RPO achieved against its target.
    pub rpo: Objective,
    /// Phases in runbook order.
    pub phases: Vec<PhaseReport>,
    /// Steps in runbook order.
    pub steps: Vec<StepReport>,
    /// The chain of steps that set the RTO (or the run's end), first to last.
    pub critical_path: Vec<String>,
    /// Every confirmation typed for a destructive step.
    pub confirmations: Vec<Confirmation>,
    /// The recovery point restored from, if a step chose one.
    pub recovery_point: Option<RecoveryPointUsed>,
    /// Outputs of steps, as evidence (counts, checksums, job ids).
    pub evidence: Vec<Evidence>,
    /// Failed attempts, with their errors and what happened next.
    pub failures: Vec<Failure>,
    /// Cleanup steps: done, or left behind.
    pub cleanup: Vec<CleanupItem>,
    /// Manual and approval steps with their answers.
    pub checklist: Vec<ChecklistItem>,
    /// Crashes or stops and the resumes after them.
    pub resumes: Vec<ResumeGap>,
    /// Against the latest earlier run of the same runbook, if any.
    pub comparison: Option<Comparison>,
    /// What the drill cost in AWS charges, and what it left behind.
    pub cost: cost::CostReport,
    /// The preflight the run started with (absent in older journals and
    /// runs started with `--no-preflight`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preflight: Option<PreflightReport>,
    /// Who drove, took over, held roles and answered owned and approve
    /// steps (absent when the run has nothing to say about people).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participants: Option<ParticipantsReport>,
}

/// The preflight a run started with, as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PreflightReport {
    /// The run started although a check failed (`--force`).
    pub forced: bool,
    /// In words: `3 ok, 0 warnings, 0 unchecked, 1 failed`.
    pub summary: String,
    /// Everything it found.
    #[serde(flatten)]
    pub preflight: crate::preflight::Preflight,
}

/// A preflight's findings counted by verdict, in words: `3 ok, 1 warning,
/// 0 unchecked, 1 failed` (the report and the command line say it alike).
pub fn preflight_counts(p: &crate::preflight::Preflight) -> String {
    use crate::preflight::Verdict;
    let warnings = p.count(Verdict::Warn);
    format!(
        "{} ok, {warnings} warning{}, {} unchecked, {} failed",
        p.count(Verdict::Pass),
        if warnings == 1 { "" } else { "s" },
        p.count(Verdict::Unchecked),
        p.count(Verdict::Fail),
    )
}

impl PreflightReport {
    /// `preflight: 3 ok, ...`, and whether the run was forced past it.
    pub(crate) fn words(&self) -> String {
        format!(
            "{}{}",
            self.summary,
            if self.forced {
                "; the run was FORCED past a failed check (--force)"
            } else {
                ""
            }
        )
    }
}

/// A simulated run's time, in real and in world time side by side.
#[derive(Debug, Clone, Serialize)]
pub struct WorldTime {
    /// How many times faster than real time the world ran.
    pub speed: f64,
    /// From the run's start to its end (or its last event), real time.
    #[serde(serialize_with = "secs")]
    pub elapsed_seconds: Duration,
    /// The same, in world time (`elapsed_seconds × speed`).
    #[serde(serialize_with = "secs")]
    pub world_elapsed_seconds: Duration,
}

impl WorldTime {
    /// The rule for reading this run's times.
    pub fn simulated(&self) -> SimulatedTime {
        SimulatedTime { speed: self.speed }
    }
}

impl DrillReport {
    /// For a simulated run, how its time reads: `1m 30s real = 1d 13h
    /// simulated at 3600×; the RTO is judged in world time, ...`.
    pub fn world_time_words(&self) -> Option<String> {
        self.world_time.as_ref().map(|w| {
            format!(
                "{}; the RTO is judged in world time, timestamps from the simulated world are world time",
                w.simulated().side_by_side(w.elapsed_seconds)
            )
        })
    }

    /// ` (world time)` after a simulated run's output that is a moment:
    /// the simulated world wrote it, on its own clock.
    pub fn world_time_label(&self, output: &str) -> &'static str {
        if self.world_time.is_some() && output.parse::<Timestamp>().is_ok() {
            " (world time)"
        } else {
            ""
        }
    }
}

/// Which runbook, exactly.
#[derive(Debug, Clone, Serialize)]
pub struct RunbookInfo {
    /// Its stable id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// SHA-256 of the text the run started with.
    pub sha256: String,
    /// SHA-256 of the text a forced resume switched to, if any.
    pub resumed_with_sha256: Option<String>,
    /// Where it was read from.
    pub path: String,
}

/// The AWS identity a run acted on.
#[derive(Debug, Clone, Serialize)]
pub struct AwsTarget {
    /// The account, when known.
    pub account: Option<String>,
    /// The default region.
    pub region: String,
    /// The endpoint, when not AWS's own.
    pub endpoint: Option<String>,
    /// The named profile, if any.
    pub profile: Option<String>,
    /// The masked access key id or simulated principal.
    pub principal: Option<String>,
}

/// A recovery objective: achieved against target.
#[derive(Debug, Clone, Serialize)]
pub struct Objective {
    /// Achieved, in seconds (absent when not measured).
    #[serde(serialize_with = "secs_opt")]
    pub achieved_seconds: Option<Duration>,
    /// Target, in seconds (absent when the runbook sets none).
    #[serde(serialize_with = "secs_opt")]
    pub target_seconds: Option<Duration>,
    /// `pass`, `fail`, `not_measured`, `no_target` or `not_tracked`; for
    /// a simulated run's RTO, judged on `world_achieved_seconds`.
    pub verdict: Verdict,
    /// For a simulated run's RTO: what `achieved_seconds` (real time) is
    /// worth in the simulated world, at `world_speed` (absent otherwise).
    #[serde(serialize_with = "secs_opt", skip_serializing_if = "Option::is_none")]
    pub world_achieved_seconds: Option<Duration>,
    /// How many times faster than real time the simulated world ran, when
    /// the objective was judged in world time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub world_speed: Option<f64>,
}

/// Whether an objective was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Achieved within target.
    Pass,
    /// Achieved over target.
    Fail,
    /// Has a target but was not measured (the run did not get there).
    NotMeasured,
    /// Measured, but the runbook sets no target.
    NoTarget,
    /// Neither measured nor targeted: the runbook does not track it.
    NotTracked,
}

impl Objective {
    fn new(achieved: Option<Duration>, target: Option<Duration>) -> Objective {
        Objective::judged(achieved, target, None)
    }

    /// Judged in world time when the run was simulated at a known speed:
    /// `achieved` stays real time, the verdict compares its world time.
    pub(crate) fn judged(
        achieved: Option<Duration>,
        target: Option<Duration>,
        simulated: Option<SimulatedTime>,
    ) -> Objective {
        let world = simulated.and_then(|sim| achieved.map(|a| sim.world(a)));
        let judged = achieved.map(|a| SimulatedTime::judged(simulated, a));
        let verdict = match (judged, target) {
            (Some(a), Some(t)) if a <= t => Verdict::Pass,
            (Some(_), Some(_)) => Verdict::Fail,
            (None, Some(_)) => Verdict::NotMeasured,
            (None, None) => Verdict::NotTracked,
            (Some(_), None) => Verdict::NoTarget,
        };
        Objective {
            achieved_seconds: achieved,
            target_seconds: target,
            verdict,
            world_achieved_seconds: world,
            world_speed: simulated.filter(|_| world.is_some()).map(|sim| sim.speed),
        }
    }
}

/// A phase's or step's duration as the reports show it: with the world
/// time it stands for in a simulated run, `1m real = 1h simulated`.
pub(crate) fn world_duration(real: Option<Duration>, world: Option<Duration>) -> String {
    match (real, world) {
        (Some(real), Some(world)) => format!(
            "{} real = {} simulated",
            crate::format::humanize(real),
            crate::format::humanize(world)
        ),
        (Some(real), None) => crate::format::humanize(real),
        (None, _) => "—".into(),
    }
}

/// One phase's timing.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    /// The phase id.
    pub id: String,
    /// Its title.
    pub title: Option<String>,
    /// When its first step started.
    pub started_at: Option<Timestamp>,
    /// When its last step ended.
    pub finished_at: Option<Timestamp>,
    /// First step start to last step end.
    #[serde(serialize_with = "secs_opt")]
    pub duration_seconds: Option<Duration>,
    /// In a simulated run, the world time its duration stands for
    /// (`format::SimulatedTime`); the budget is judged against it.
    #[serde(serialize_with = "secs_opt", skip_serializing_if = "Option::is_none")]
    pub world_duration_seconds: Option<Duration>,
    /// Its budget, if any.
    #[serde(serialize_with = "secs_opt")]
    pub budget_seconds: Option<Duration>,
    /// Over its budget (in world time for a simulated run).
    pub over_budget: bool,
    /// Time of its steps on the critical path.
    #[serde(serialize_with = "secs")]
    pub critical_path_seconds: Duration,
    /// Start, seconds after T0 (for timelines).
    #[serde(serialize_with = "secs_opt")]
    pub start_offset_seconds: Option<Duration>,
    /// End, seconds after T0.
    #[serde(serialize_with = "secs_opt")]
    pub end_offset_seconds: Option<Duration>,
}

/// One step's timing and status.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// The step id.
    pub id: String,
    /// Its title.
    pub title: Option<String>,
    /// Its phase.
    pub phase: Option<String>,
    /// Its kind (`shell`, `backup.restore`, ...).
    pub kind: String,
    /// When its first attempt started.
    pub started_at: Option<Timestamp>,
    /// When it last ended.
    pub finished_at: Option<Timestamp>,
    /// First activity to last end.
    #[serde(serialize_with = "secs_opt")]
    pub duration_seconds: Option<Duration>,
    /// Waiting for a person.
    #[serde(serialize_with = "secs")]
    pub human_wait_seconds: Duration,
    /// Duration minus human wait.
    #[serde(serialize_with = "secs_opt")]
    pub machine_seconds: Option<Duration>,
    /// Attempts started.
    pub attempts: u32,
    /// `succeeded`, `failed`, `skipped`, `waived`, `cancelled`,
    /// `interrupted`, `aborted`, or `not_run`.
    pub status: FinalStatus,
    /// Why it failed, was skipped or cancelled.
    pub reason: Option<String>,
    /// On the critical path.
    pub critical: bool,
    /// A cleanup step.
    pub cleanup: bool,
    /// Start, seconds after T0 (for timelines).
    #[serde(serialize_with = "secs_opt")]
    pub start_offset_seconds: Option<Duration>,
    /// End, seconds after T0.
    #[serde(serialize_with = "secs_opt")]
    pub end_offset_seconds: Option<Duration>,
    /// Output its last attempt printed beyond the journal's cap: how much
    /// was left out, and the file holding it all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_left_out: Option<crate::engine::output::OutputLeftOut>,
}

/// A confirmation typed for a destructive step.
#[derive(Debug, Clone, Serialize)]
pub struct Confirmation {
    /// The step.
    pub step: String,
    /// What the step was about to do.
    pub action: Option<String>,
    /// Exactly what was typed.
    pub typed: String,
    /// Who typed it.
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// The recovery point a run restored from.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryPointUsed {
    /// The step that chose it.
    pub step: String,
    /// Its ARN or id.
    pub arn: Option<String>,
    /// When it was taken.
    pub created_at: Option<String>,
    /// Its vault.
    pub vault: Option<String>,
    /// Its region.
    pub region: Option<String>,
}

/// What a step produced.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// The step.
    pub step: String,
    /// Its kind.
    pub kind: String,
    /// Its status.
    pub status: FinalStatus,
    /// Its outputs.
    pub outputs: BTreeMap<String, String>,
}

/// A failed attempt.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// The step.
    pub step: String,
    /// The attempt (1-based; 0 when unknown).
    pub attempt: u32,
    /// When.
    pub at: Timestamp,
    /// The error.
    pub error: String,
    /// What happened next: `retried after ...`, `failed`, `interrupted`,
    /// or the operator's answer (`retry`, `skip`, `abort`, `rerun`, ...).
    pub then: String,
    /// The attempt did not fail: the console stopped while it ran.
    pub interrupted: bool,
}

/// A cleanup step's fate.
#[derive(Debug, Clone, Serialize)]
pub struct CleanupItem {
    /// The step.
    pub step: String,
    /// Its title.
    pub title: Option<String>,
    /// It succeeded.
    pub done: bool,
    /// Its status.
    pub status: FinalStatus,
    /// Why not, if it did not.
    pub reason: Option<String>,
}

/// A manual or approval step and its answer.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistItem {
    /// The step.
    pub step: String,
    /// Its title.
    pub title: Option<String>,
    /// The question asked, if any.
    pub question: Option<String>,
    /// The answer (`approved`, `declined`, `done`, or the answer typed).
    pub answer: Option<String>,
    /// Who answered.
    pub by: Option<String>,
    /// When.
    pub at: Option<Timestamp>,
    /// A note given with the answer.
    pub note: Option<String>,
}

/// A resume after a crash or a stop.
#[derive(Debug, Clone, Serialize)]
pub struct ResumeGap {
    /// When the run was resumed.
    pub at: Timestamp,
    /// How long it was not watched.
    #[serde(serialize_with = "secs")]
    pub gap_seconds: Duration,
    /// Who resumed.
    pub operator: String,
    /// Resumed with `--force` on a changed runbook.
    pub forced: bool,
    /// When it was resumed, seconds after T0 (the gap ends here).
    #[serde(serialize_with = "secs")]
    pub offset_seconds: Duration,
}

/// This run against earlier runs of the same runbook.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The run compared with (the latest earlier one).
    pub previous_run_id: String,
    /// When it started.
    pub previous_started_at: Timestamp,
    /// This RTO minus the previous one, seconds (negative: faster).
    pub rto_delta_seconds: Option<f64>,
    /// Phase by phase.
    pub phases: Vec<PhaseDelta>,
    /// Every earlier run found, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// One phase against the previous run.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseDelta {
    /// The phase id.
    pub phase: String,
    /// This run, seconds.
    #[serde(serialize_with = "secs_opt")]
    pub this_seconds: Option<Duration>,
    /// The previous run, seconds.
    #[serde(serialize_with = "secs_opt")]
    pub previous_seconds: Option<Duration>,
    /// This minus previous, seconds (negative: faster).
    pub delta_seconds: Option<f64>,
    /// `faster`, `slower`, `same` or `not_comparable`.
    pub trend: String,
}

/// An earlier run of the same runbook.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// Its id.
    pub run_id: String,
    /// When it started.
    pub started_at: Timestamp,
    /// How it ended.
    pub outcome: String,
    /// When it ended.
    pub finished_at: Option<Timestamp>,
    /// Its RTO, seconds.
    #[serde(serialize_with = "secs_opt")]
    pub rto_seconds: Option<Duration>,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round3(d.as_secs_f64()))
}

fn secs_opt<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => secs(d, s),
        None => s.serialize_none(),
    }
}

/// Seconds to the millisecond, so reports do not show float noise.
pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Outcome words as the report writes them (`None`: `not_run`).
pub fn outcome_name(o: Option<Outcome>) -> &'static str {
    FinalStatus::of(o).as_str()
}

/// Reads the journal at `path` and builds its report, comparing with
/// earlier runs under `data_dir` (by default the data directory the
/// journal lives in).
pub fn from_journal(path: &Path, data_dir: Option<&Path>) -> Result<DrillReport, ReportError> {
    let contents = journal::read(path)?;
    let (runbook, _) = history::runbook_of(path, &contents)?;
    let data_dir = data_dir.map(Path::to_owned).or_else(|| data_dir_of(path));
    let history = data_dir
        .map(|d| {
            earlier_runs(
                &d,
                &runbook.runbook.id.value,
                &contents.header.run_id,
                contents.header.started_at,
            )
        })
        .unwrap_or_default();
    build(path, &contents, &history)
}

impl DrillReport {
    /// The report in `format`, with anything that looks like a credential
    /// removed.
    pub fn render(&self, format: Format) -> String {
        let text = match format {
            Format::Markdown => markdown::render(self),
            Format::Json => {
                let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
                s.push('\n');
                s
            }
            Format::Html => html::render(self),
            Format::Junit => junit::render(self),
            Format::Prometheus => prom::render(self),
        };
        scrub::scrub(&text)
    }

    /// Writes `formats` into `dir`; returns the files written.
    pub fn write(&self, dir: &Path, formats: &[Format]) -> Result<Vec<PathBuf>, ReportError> {
        let mut written = Vec::new();
        for &f in formats {
            let path = dir.join(f.file_name());
            let tmp = dir.join(format!(".{}.tmp", f.file_name()));
            crate::fsx::write_private(&tmp, self.render(f))
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|source| ReportError::Write {
                    path: path.clone(),
                    source,
                })?;
            written.push(path);
        }
        Ok(written)
    }

    /// One line: outcome, RTO and RPO verdicts.
    pub fn headline(&self) -> String {
        format!(
            "{} {}: {}; RTO {}; RPO {}",
            self.mode_label(),
            self.runbook.id,
            self.outcome,
            objective_words(&self.rto),
            objective_words(&self.rpo)
        )
    }

    /// `drill`, `incident`, or `SIMULATED drill`.
    pub fn mode_label(&self) -> String {
        if self.simulated {
            format!("SIMULATED {}", self.mode)
        } else {
            self.mode.clone()
        }
    }
}

/// `12m 3s against 15m: PASS`, for people.
pub(crate) fn objective_words(o: &Objective) -> String {
    let h = crate::engine::humanize;
    let sim = o.world_speed.map(|speed| SimulatedTime { speed });
    let achieved = |a: Duration| match sim {
        Some(sim) => sim.side_by_side(a),
        None => h(a),
    };
    let judged = if sim.is_some() {
        " (judged in world time)"
    } else {
        ""
    };
    match (o.achieved_seconds, o.target_seconds) {
        (Some(a), Some(t)) => format!(
            "{} against {}{judged}: {}",
            achieved(a),
            h(t),
            if o.verdict == Verdict::Pass {
                "PASS"
            } else {
                "FAIL"
            }
        ),
        (Some(a), None) => format!("{} (no target)", achieved(a)),
        (None, Some(t)) => format!("not measured (target {}): FAIL", h(t)),
        (None, None) => "not tracked".into(),
    }
}

/// Builds the report of the journal at `journal` and writes every format
/// next to it, as a run does when it ends. Returns the Markdown report's
/// path.
pub fn write_next_to(journal: &Path) -> Result<PathBuf, ReportError> {
    let report = from_journal(journal, None)?;
    let dir = journal.parent().unwrap_or(Path::new("."));
    report.write(dir, &Format::ALL)?;
    Ok(dir.join(Format::Markdown.file_name()))
}
