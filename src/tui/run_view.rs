//! The run screen's state: one row per step (status, timing, output) and
//! the header's clocks, folded from the engine's events.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use jiff::Timestamp;

use crate::engine::event::{EventKind, Outcome, RunEvent, Stream};
use crate::engine::plan::Plan;
use crate::engine::values::Values;
use crate::runbook::{Mode, Runbook};

/// Output lines kept per step; older ones are dropped (the journal has all).
pub const OUTPUT_LINES: usize = 2_000;

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    /// Waiting for what it needs.
    Pending,
    /// Ready, waiting for a slot.
    Queued,
    /// Running.
    Running,
    /// Waiting for a person.
    Asking,
    /// Ended.
    Done(Outcome),
}

/// A step as the console shows it.
#[derive(Debug, Clone)]
pub struct StepRow {
    /// Index in the runbook.
    pub index: usize,
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Phase id, if any.
    pub phase: Option<String>,
    /// Kind.
    pub kind: &'static str,
    /// Destroys something (confirmation needed).
    pub destructive: bool,
    /// The plan's parallel group.
    pub group: usize,
    /// Status.
    pub status: StepStatus,
    /// When it first started (run elapsed).
    pub started: Option<Duration>,
    /// When it ended (run elapsed).
    pub finished: Option<Duration>,
    /// Attempts so far.
    pub attempts: u32,
    /// The latest progress message.
    pub progress: Option<String>,
    /// Why it failed, was skipped or cancelled.
    pub reason: Option<String>,
    /// Outputs when it succeeded.
    pub outputs: BTreeMap<String, String>,
    /// Output and progress lines, newest last, at most [`OUTPUT_LINES`].
    pub output: VecDeque<(Stream, String)>,
}

/// Steps or timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// The step list with details and output.
    Steps,
    /// Bars over time.
    Timeline,
}

/// The run screen's state.
#[derive(Debug, Clone)]
pub struct RunView {
    /// Mode.
    pub mode: Mode,
    /// T0.
    pub t0: Option<Timestamp>,
    /// Run id, once started.
    pub run_id: Option<String>,
    /// Journal path, once started.
    pub journal: Option<String>,
    /// Steps of the plan, in plan order.
    pub steps: Vec<StepRow>,
    /// Selected step.
    pub selected: usize,
    /// Which tab.
    pub tab: Tab,
    /// Output lines scrolled back from the end (0 follows the output).
    pub scroll: usize,
    /// Output search: the text, and whether it is being typed.
    pub search: Option<(String, bool)>,
    /// The run's elapsed time at the last event.
    pub elapsed: Duration,
    /// Wall time of the last event.
    pub last_event_at: Option<Timestamp>,
    /// RTO when the clock stopped.
    pub rto: Option<Duration>,
    /// RPO of the chosen point.
    pub rpo: Option<Duration>,
    /// How the run ended.
    pub outcome: Option<Outcome>,
    /// Phase spans (start, end) by phase id.
    pub phases: BTreeMap<String, (Duration, Option<Duration>)>,
    /// Parameters (secrets redacted) and run variables, to show a step's
    /// fields resolved; outputs are taken from the steps as they finish.
    pub values: Values,
}

impl RunView {
    pub(crate) fn new(runbook: &Runbook, plan: &Plan, mode: Mode, t0: Option<Timestamp>) -> Self {
        let mut group_of = vec![0; runbook.steps.len()];
        for (g, group) in plan.groups.iter().enumerate() {
            for &i in group {
                group_of[i] = g;
            }
        }
        // Steps in the order they run, grouped by phase in the runbook's
        // order, so that each phase is shown once (a step that runs early
        // but belongs to a later phase is listed under that phase).
        let phase_position = |phase: &Option<String>| {
            phase
                .as_deref()
                .and_then(|p| runbook.phases.iter().position(|f| f.id.value == p))
                .unwrap_or(usize::MAX)
        };
        let mut steps: Vec<StepRow> = plan
            .order
            .iter()
            .map(|&i| {
                let s = &runbook.steps[i];
                StepRow {
                    index: i,
                    id: s.id.value.clone(),
                    title: s.display_title().to_owned(),
                    phase: s.phase.as_ref().map(|p| p.value.clone()),
                    kind: s.action.kind(),
                    destructive: s.is_destructive(),
                    group: group_of[i],
                    status: StepStatus::Pending,
                    started: None,
                    finished: None,
                    attempts: 0,
                    progress: None,
                    reason: None,
                    outputs: BTreeMap::new(),
                    output: VecDeque::new(),
                }
            })
            .collect();
        steps.sort_by_key(|s| phase_position(&s.phase));
        Self {
            mode,
            t0,
            run_id: None,
            journal: None,
            steps,
            selected: 0,
            tab: Tab::Steps,
            scroll: 0,
            search: None,
            elapsed: Duration::ZERO,
            last_event_at: None,
            rto: None,
            rpo: None,
            outcome: None,
            phases: BTreeMap::new(),
            values: Values::default(),
        }
    }

    /// `text` with what is known now filled in; the rest stays `<steps.ID.NAME>`.
    pub fn preview(&self, text: &str) -> String {
        let mut values = self.values.clone();
        for s in self.steps.iter().filter(|s| !s.outputs.is_empty()) {
            values.outputs.insert(s.id.clone(), s.outputs.clone());
        }
        values.preview(text)
    }

    pub(crate) fn step_mut(&mut self, id: &str) -> Option<&mut StepRow> {
        self.steps.iter_mut().find(|s| s.id == id)
    }

    /// The run's elapsed time at `now`.
    pub fn elapsed_at(&self, now: Timestamp) -> Duration {
        if self.outcome.is_some() {
            return self.elapsed;
        }
        match self.last_event_at {
            Some(at) => {
                self.elapsed + Duration::try_from(now.duration_since(at)).unwrap_or(Duration::ZERO)
            }
            None => Duration::ZERO,
        }
    }

    /// The RTO clock at `now`: T0 to now, or to the step that stopped it.
    pub fn rto_at(&self, now: Timestamp) -> Option<Duration> {
        self.rto.or_else(|| {
            self.t0
                .map(|t0| Duration::try_from(now.duration_since(t0)).unwrap_or(Duration::ZERO))
        })
    }

    pub(crate) fn apply(&mut self, event: &RunEvent) {
        self.elapsed = event.elapsed;
        self.last_event_at = Some(event.at);
        let at = event.elapsed;
        match &event.kind {
            EventKind::RunStarted { run_id, t0, .. } => {
                self.run_id = Some(run_id.clone());
                self.t0 = Some(*t0);
            }
            EventKind::RtoStopped { rto, .. } => self.rto = Some(*rto),
            // With several picks, the oldest point chosen bounds the data
            // lost (picks replayed forward do not measure it).
            EventKind::RpoMeasured { rpo, .. } => {
                self.rpo = Some(self.rpo.map_or(*rpo, |r| r.max(*rpo)))
            }
            EventKind::PhaseStarted { phase } => {
                self.phases.insert(phase.clone(), (at, None));
            }
            EventKind::PhaseFinished { phase } => {
                if let Some(span) = self.phases.get_mut(phase) {
                    span.1 = Some(at);
                }
            }
            EventKind::StepQueued { step } => {
                if let Some(s) = self.step_mut(step) {
                    s.status = StepStatus::Queued;
                }
            }
            EventKind::StepStarted { step, attempt } => {
                if let Some(s) = self.step_mut(step) {
                    s.status = StepStatus::Running;
                    s.started.get_or_insert(at);
                    s.attempts = *attempt;
                }
            }
            EventKind::StepOutput { step, stream, line } => {
                if let Some(s) = self.step_mut(step) {
                    push_line(s, *stream, line.clone());
                }
            }
            EventKind::StepProgress { step, message } => {
                if let Some(s) = self.step_mut(step) {
                    s.progress = Some(message.clone());
                    push_line(s, Stream::Stdout, format!("· {message}"));
                }
            }
            EventKind::StepRetrying {
                step,
                attempt,
                error,
                backoff,
            } => {
                if let Some(s) = self.step_mut(step) {
                    push_line(
                        s,
                        Stream::Stderr,
                        format!(
                            "attempt {attempt} failed: {error}; retrying in {}",
                            crate::engine::humanize(*backoff)
                        ),
                    );
                }
            }
            EventKind::StepFinished {
                step,
                outcome,
                outputs,
                reason,
            } => {
                if let Some(s) = self.step_mut(step) {
                    s.status = StepStatus::Done(*outcome);
                    s.finished = Some(at);
                    s.outputs = outputs.clone();
                    s.reason = reason.clone();
                }
            }
            EventKind::HumanAsked { step, .. } => {
                if let Some(s) = self.step_mut(step) {
                    s.status = StepStatus::Asking;
                }
            }
            EventKind::HumanAnswered { step, .. } => {
                if let Some(s) = self.step_mut(step)
                    && s.status == StepStatus::Asking
                {
                    s.status = StepStatus::Running;
                }
            }
            EventKind::RunFinished { outcome } => self.outcome = Some(*outcome),
            // The run goes on: an earlier stop no longer ends it.
            EventKind::RunResumed { .. } => self.outcome = None,
            EventKind::CloudConnected { .. } => {}
        }
    }

    /// Lines of the selected step's output matching the search, if any.
    pub fn shown_output(&self) -> Vec<&(Stream, String)> {
        let Some(step) = self.steps.get(self.selected) else {
            return Vec::new();
        };
        match &self.search {
            Some((needle, _)) if !needle.is_empty() => {
                let needle = needle.to_lowercase();
                step.output
                    .iter()
                    .filter(|(_, l)| l.to_lowercase().contains(&needle))
                    .collect()
            }
            _ => step.output.iter().collect(),
        }
    }
}

fn push_line(step: &mut StepRow, stream: Stream, line: String) {
    if step.output.len() == OUTPUT_LINES {
        step.output.pop_front();
    }
    step.output.push_back((stream, line));
}
