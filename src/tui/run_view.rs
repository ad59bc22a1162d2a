//! The run screen's state: the run's [`RunLedger`], fed every event, and
//! what only the console keeps (rows in plan order with their output ring
//! buffer, the selection, tabs, scroll, search, values for previews).
//!
//! Where the run and each step stand is interpreted once, by the ledger:
//! the rows' and the header's fields below are copied from it after each
//! event so the views read them as before. This module draws nothing.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use jiff::Timestamp;

use crate::engine::event::{EventKind, Outcome, RunEvent, Stream};
pub use crate::engine::ledger::StepStatus;
use crate::engine::ledger::{RunLedger, StepState};
use crate::engine::plan::Plan;
use crate::engine::values::Values;
use crate::runbook::template::Var;
use crate::runbook::{Mode, Runbook};

/// Output lines kept per step; older ones are dropped (the journal has all).
pub const OUTPUT_LINES: usize = 2_000;

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
    /// Status (from the ledger).
    pub status: StepStatus,
    /// When its first attempt started (run elapsed; from the ledger).
    pub started: Option<Duration>,
    /// When it ended (run elapsed; from the ledger).
    pub finished: Option<Duration>,
    /// Attempts so far (from the ledger).
    pub attempts: u32,
    /// The latest progress message (from the ledger).
    pub progress: Option<String>,
    /// Why it failed, was skipped or cancelled (from the ledger).
    pub reason: Option<String>,
    /// Outputs when it succeeded (from the ledger).
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
    /// Where the run stands: every event goes through it.
    pub ledger: RunLedger,
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
    /// The step pane shows each templated field's raw `{{ ... }}` beside
    /// its value (off: the values only).
    pub show_templates: bool,
    /// The run's elapsed time at the last event (from the ledger).
    pub elapsed: Duration,
    /// Wall time of the last event (from the ledger).
    pub last_event_at: Option<Timestamp>,
    /// RTO when the clock stopped (from the ledger).
    pub rto: Option<Duration>,
    /// RPO of the chosen points (from the ledger).
    pub rpo: Option<Duration>,
    /// How the run ended (from the ledger).
    pub outcome: Option<Outcome>,
    /// Phase spans (start, end) by phase id (from the ledger).
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
            ledger: RunLedger::new(runbook),
            mode,
            t0,
            run_id: None,
            journal: None,
            steps,
            selected: 0,
            tab: Tab::Steps,
            scroll: 0,
            search: None,
            show_templates: false,
            elapsed: Duration::ZERO,
            last_event_at: None,
            rto: None,
            rpo: None,
            outcome: None,
            phases: BTreeMap::new(),
            values: Values::default(),
        }
    }

    /// `text` with what is known now filled in; what is not yet known
    /// says so in words (`(job_id: known once restore has run)`), never as
    /// a raw `<steps.ID.NAME>` placeholder.
    pub fn preview(&self, text: &str) -> String {
        let mut values = self.values.clone();
        for s in self.steps.iter().filter(|s| !s.outputs.is_empty()) {
            values.outputs.insert(s.id.clone(), s.outputs.clone());
        }
        values.preview_or(text, |var| match var {
            Var::StepOutput { step, output } => {
                format!("({output}: known once {step} has run)")
            }
            Var::Param(name) => format!("({name}: not given)"),
            Var::Run(name) => format!("({name}: known once the run starts)"),
        })
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

    /// Takes in an engine event: the ledger folds it, then the console's
    /// copies and the step's output lines follow.
    pub(crate) fn apply(&mut self, event: &RunEvent) {
        self.ledger.apply(event);
        let ledger = &self.ledger;
        self.elapsed = ledger.elapsed;
        self.last_event_at = ledger.last_event_at;
        if ledger.t0.is_some() {
            self.t0 = ledger.t0;
        }
        if ledger.run_id.is_some() {
            self.run_id.clone_from(&ledger.run_id);
        }
        self.rto = ledger.rto;
        self.rpo = ledger.rpo;
        self.outcome = ledger.outcome();
        if matches!(
            event.kind,
            EventKind::PhaseStarted { .. } | EventKind::PhaseFinished { .. }
        ) {
            self.phases.clone_from(&ledger.phase_marks);
        }
        let Some(step) = event.kind.step() else {
            return;
        };
        let Some(state) = ledger.step(step) else {
            return;
        };
        let Some(row) = self.steps.iter_mut().find(|s| s.id == step) else {
            return;
        };
        row.copy_from(state);
        // The output pane's lines: console-only.
        match &event.kind {
            EventKind::StepOutput { stream, line, .. } => push_line(row, *stream, line.clone()),
            EventKind::StepOutputLeftOut { left_out, .. } => {
                push_line(row, Stream::Stderr, format!("… {}", left_out.phrase()))
            }
            EventKind::StepProgress { message, .. } => {
                push_line(row, Stream::Stdout, format!("· {message}"))
            }
            EventKind::StepRetrying {
                attempt,
                error,
                backoff,
                ..
            } => push_line(
                row,
                Stream::Stderr,
                format!(
                    "attempt {attempt} failed: {error}; retrying in {}",
                    crate::engine::humanize(*backoff)
                ),
            ),
            _ => {}
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

impl StepRow {
    /// Takes the ledger's view of this step.
    fn copy_from(&mut self, state: &StepState) {
        self.status = state.status;
        self.started = state.first_attempt;
        self.finished = state.last_end;
        self.attempts = state.attempts;
        self.progress.clone_from(&state.progress);
        self.reason.clone_from(&state.reason);
        self.outputs.clone_from(&state.outputs);
    }
}

fn push_line(step: &mut StepRow, stream: Stream, line: String) {
    if step.output.len() == OUTPUT_LINES {
        step.output.pop_front();
    }
    step.output.push_back((stream, line));
}
