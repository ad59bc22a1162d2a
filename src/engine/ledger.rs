//! The one fold of a run's event stream. [`RunLedger::apply`] takes each
//! [`RunEvent`] in turn and keeps where the run stands: its identity and
//! clocks, each step's status, timing, outputs, failure reason, question and
//! answer, the failed attempts, the typed confirmations, the resumes, RTO
//! and RPO. The console, the report and the headless summary read it
//! ([`Timeline`](super::timeline::Timeline) is derived from it); none of
//! them interprets events on its own.
//!
//! This module owns the rules of that interpretation (the RPO across several
//! picks, a step started and never ended counts as interrupted, which
//! answers close a failure). It is fed events: it must not touch the
//! terminal, the cloud nor the journal's files.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

pub use self::people::{DriverChange, GivenAnswer, PeopleStep, RunPeopleRecord};
use super::event::{Answer, EventKind, Outcome, Question, RunEvent};
use super::output::OutputLeftOut;
use crate::cloud::Identity;
use crate::runbook::{Mode, Runbook};

/// Where a step stands while the run goes on.
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

/// Where a step stands when the record ends, as reports say it: how it
/// last ended, `interrupted` if it started and never ended, `not_run` if it
/// never started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalStatus {
    /// Did what it should.
    Succeeded,
    /// Failed after its retries.
    Failed,
    /// Not run: something it needs did not succeed, or the run stopped.
    Skipped,
    /// The operator chose to go on without it.
    Waived,
    /// Stopped by the operator or by an abort.
    Cancelled,
    /// Was running when the console died.
    Interrupted,
    /// The run stopped on purpose before its end.
    Aborted,
    /// Never started.
    NotRun,
}

impl FinalStatus {
    /// How a step that ended with `outcome` stands (`None`: never ended).
    pub fn of(outcome: Option<Outcome>) -> FinalStatus {
        match outcome {
            Some(Outcome::Succeeded) => FinalStatus::Succeeded,
            Some(Outcome::Failed) => FinalStatus::Failed,
            Some(Outcome::Skipped) => FinalStatus::Skipped,
            Some(Outcome::Waived) => FinalStatus::Waived,
            Some(Outcome::Cancelled) => FinalStatus::Cancelled,
            Some(Outcome::Interrupted) => FinalStatus::Interrupted,
            Some(Outcome::Aborted) => FinalStatus::Aborted,
            None => FinalStatus::NotRun,
        }
    }

    /// The outcome it stands for (`None`: never run).
    pub fn outcome(self) -> Option<Outcome> {
        match self {
            FinalStatus::Succeeded => Some(Outcome::Succeeded),
            FinalStatus::Failed => Some(Outcome::Failed),
            FinalStatus::Skipped => Some(Outcome::Skipped),
            FinalStatus::Waived => Some(Outcome::Waived),
            FinalStatus::Cancelled => Some(Outcome::Cancelled),
            FinalStatus::Interrupted => Some(Outcome::Interrupted),
            FinalStatus::Aborted => Some(Outcome::Aborted),
            FinalStatus::NotRun => None,
        }
    }

    /// The word reports use: the outcome's own ([`Outcome::word`]), or
    /// `not_run`.
    pub fn as_str(self) -> &'static str {
        self.outcome().map_or("not_run", Outcome::word)
    }

    /// The step did not do its work: failed, interrupted, cancelled or
    /// aborted (a failed test case in JUnit).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            FinalStatus::Failed
                | FinalStatus::Interrupted
                | FinalStatus::Cancelled
                | FinalStatus::Aborted
        )
    }

    /// The run went on without it: skipped, waived or never run (a skipped
    /// test case in JUnit).
    pub fn is_skip(self) -> bool {
        matches!(
            self,
            FinalStatus::Skipped | FinalStatus::Waived | FinalStatus::NotRun
        )
    }
}

impl std::fmt::Display for FinalStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for FinalStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// How a run ended, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunFinish {
    /// How.
    pub outcome: Outcome,
    /// When (wall clock).
    pub at: Timestamp,
}

/// An answer a person gave to a step's question (other than a typed
/// confirmation or a reply to a failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedAnswer {
    /// The answer.
    pub answer: Answer,
    /// Who answered.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// Free text given with it.
    pub note: Option<String>,
}

/// A confirmation typed for a destructive step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedConfirmation {
    /// The step.
    pub step: String,
    /// What the step was about to do (absent when not said).
    pub action: Option<String>,
    /// Exactly what was typed.
    pub typed: String,
    /// Who typed it.
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// What came after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    /// The next attempt started after this wait.
    RetriedAfter(Duration),
    /// The step ended so (failed, or interrupted by a crash).
    Ended(Outcome),
    /// A person answered the failure (or interrupted-step) question.
    Answered {
        /// The answer.
        answer: Answer,
        /// Who answered.
        by: String,
    },
}

/// A failed attempt of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedAttempt {
    /// The step.
    pub step: String,
    /// The attempt, when the event names it (a retry does); a step's end
    /// does not, and readers number it with the step's attempts.
    pub attempt: Option<u32>,
    /// When.
    pub at: Timestamp,
    /// The error.
    pub error: String,
    /// What happened next.
    pub then: AfterFailure,
    /// The attempt did not fail: the console stopped while it ran.
    pub interrupted: bool,
}

/// A team run as its journal tells it (docs/team.md).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamSight {
    /// Who drives the run now.
    pub driver: Option<crate::engine::participant::Participant>,
    /// Their process.
    pub process: Option<String>,
    /// Their fencing token.
    pub token: Option<u64>,
    /// Why the team cannot see the run now (the shared log is behind).
    pub behind: Option<String>,
}

/// A resume after a crash or a stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumption {
    /// When the run was resumed (wall clock).
    pub at: Timestamp,
    /// Run time (monotonic) when it was resumed.
    pub elapsed: Duration,
    /// How long it was not watched.
    pub gap: Duration,
    /// Who resumed.
    pub operator: String,
    /// Resumed with `--force` on a changed runbook.
    pub forced: bool,
}

/// One step as the events tell it, in the ledger's runbook order.
#[derive(Debug, Clone)]
pub struct StepState {
    /// The step id.
    pub id: String,
    /// Its phase.
    pub phase: Option<String>,
    /// Where it stands now.
    pub status: StepStatus,
    /// How it last ended (kept when a resume runs it again).
    pub outcome: Option<Outcome>,
    /// When it first became ready (wall clock).
    pub queued_at: Option<Timestamp>,
    /// When it first did something (wall clock): its first attempt, or
    /// the confirmation asked before it, so that start, end and duration
    /// agree.
    pub started_at: Option<Timestamp>,
    /// When it last ended (wall clock).
    pub finished_at: Option<Timestamp>,
    /// Attempts started, across retries and resumes.
    pub attempts: u32,
    /// Run time of its first attempt's start.
    pub first_attempt: Option<Duration>,
    /// Run time of its first activity: a question or its first attempt.
    pub first_activity: Option<Duration>,
    /// Run time of its last end.
    pub last_end: Option<Duration>,
    /// Time spent waiting for a person (confirmations, answers).
    pub human_wait: Duration,
    /// The latest progress message.
    pub progress: Option<String>,
    /// Why it last failed, was skipped or cancelled.
    pub reason: Option<String>,
    /// Its outputs, from the last end that gave some.
    pub outputs: BTreeMap<String, String>,
    /// Output its last attempt to print much left out of the journal.
    pub output_left_out: Option<OutputLeftOut>,
    /// The last answer to its questions, other than a typed confirmation
    /// or a reply to a failure.
    pub answer: Option<RecordedAnswer>,
    /// Run time of the question waiting for an answer.
    asked_at: Option<Duration>,
    /// Indexes of the steps it needs.
    pub(crate) needs: Vec<usize>,
    /// Its success stops the RTO clock.
    pub(crate) ends_rto: bool,
    /// A cleanup step.
    pub(crate) cleanup: bool,
}

impl StepState {
    /// How it stands when the record ends. Started and never ended: the
    /// console died while it ran.
    pub fn final_status(&self) -> FinalStatus {
        match self.outcome {
            None if self.attempts > 0 => FinalStatus::Interrupted,
            o => FinalStatus::of(o),
        }
    }

    /// First activity to last end.
    pub fn duration(&self) -> Option<Duration> {
        self.first_activity
            .zip(self.last_end)
            .map(|(a, b)| b.saturating_sub(a))
    }

    /// Whether it started and ended (skipped steps never start).
    pub fn ran(&self) -> bool {
        self.first_activity.is_some() && self.last_end.is_some()
    }
}

/// A phase of the runbook: its id and budget.
#[derive(Debug, Clone)]
pub(crate) struct PhaseBudget {
    pub(crate) id: String,
    pub(crate) budget: Option<Duration>,
}

/// The preflight a run started with.
#[derive(Debug, Clone, PartialEq)]
pub struct RanPreflight {
    /// What it found.
    pub preflight: crate::preflight::Preflight,
    /// The run started although a check failed (`--force`).
    pub forced: bool,
}

/// Where a run stands, folded from its events.
#[derive(Debug, Clone)]
pub struct RunLedger {
    /// The run's id, once started.
    pub run_id: Option<String>,
    /// Drill or incident, once started.
    pub mode: Option<Mode>,
    /// T0, once started.
    pub t0: Option<Timestamp>,
    /// The identity the run acts on, as last connected.
    pub identity: Option<Identity>,
    /// The preflight the run started with (the first one recorded; a
    /// resume does not run another), `None` in older journals and runs
    /// started with `--no-preflight`.
    pub preflight: Option<RanPreflight>,
    /// RTO when the clock stopped.
    pub rto: Option<Duration>,
    /// RPO of the points chosen.
    pub rpo: Option<Duration>,
    /// Run time at the last event.
    pub elapsed: Duration,
    /// Wall time of the last event.
    pub last_event_at: Option<Timestamp>,
    /// How the run last ended; kept when it is resumed afterwards.
    pub last_end: Option<RunFinish>,
    /// Steps in runbook order.
    pub steps: Vec<StepState>,
    /// Phases as the engine announced them: (start, end) run time by id.
    pub phase_marks: BTreeMap<String, (Duration, Option<Duration>)>,
    /// Failed attempts, in order.
    pub failures: Vec<FailedAttempt>,
    /// Confirmations typed, in order.
    pub confirmations: Vec<TypedConfirmation>,
    /// Resumes, in order.
    pub resumes: Vec<Resumption>,
    /// The run on the team's shared log: who drives, whether the team
    /// sees it.
    pub team: TeamSight,
    /// Who took part: the driver and roles (from the journal's header,
    /// [`RunLedger::from_journal`]), drivers on the shared log, and every
    /// answer to an owned or approve step, counted or refused and why.
    pub people: RunPeopleRecord,
    /// Resumed since it last ended: it goes on.
    resumed_since_end: bool,
    /// The last question of each step, by id (steps a forced resume
    /// dropped from the runbook included).
    questions: HashMap<String, Question>,
    index: HashMap<String, usize>,
    pub(crate) phases: Vec<PhaseBudget>,
}

impl RunLedger {
    /// An empty ledger for a run of `runbook`: every step pending.
    pub fn new(runbook: &Runbook) -> RunLedger {
        let index: HashMap<String, usize> = runbook
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.value.clone(), i))
            .collect();
        let steps = runbook
            .steps
            .iter()
            .map(|s| StepState {
                id: s.id.value.clone(),
                phase: s.phase.as_ref().map(|p| p.value.clone()),
                status: StepStatus::Pending,
                outcome: None,
                queued_at: None,
                started_at: None,
                finished_at: None,
                attempts: 0,
                first_attempt: None,
                first_activity: None,
                last_end: None,
                human_wait: Duration::ZERO,
                progress: None,
                reason: None,
                outputs: BTreeMap::new(),
                output_left_out: None,
                answer: None,
                asked_at: None,
                needs: s
                    .needs
                    .iter()
                    .filter_map(|n| index.get(n.value.as_str()).copied())
                    .collect(),
                ends_rto: s.ends_rto,
                cleanup: s.cleanup,
            })
            .collect();
        let phases = runbook
            .phases
            .iter()
            .map(|p| PhaseBudget {
                id: p.id.value.clone(),
                budget: p.budget.as_ref().map(|b| b.value.0),
            })
            .collect();
        RunLedger {
            run_id: None,
            mode: None,
            t0: None,
            identity: None,
            preflight: None,
            rto: None,
            rpo: None,
            elapsed: Duration::ZERO,
            last_event_at: None,
            last_end: None,
            steps,
            phase_marks: BTreeMap::new(),
            failures: Vec::new(),
            confirmations: Vec::new(),
            resumes: Vec::new(),
            team: TeamSight::default(),
            people: RunPeopleRecord::new(runbook),
            resumed_since_end: false,
            questions: HashMap::new(),
            index,
            phases,
        }
    }

    /// The ledger of `events` of a run of `runbook`.
    pub fn from_events(runbook: &Runbook, events: &[RunEvent]) -> RunLedger {
        let mut ledger = RunLedger::new(runbook);
        for e in events {
            ledger.apply(e);
        }
        ledger
    }

    /// The ledger of a journal's `contents` (header and events) of a run
    /// of `runbook`: [`RunLedger::from_events`] and the run's people as the
    /// header records them.
    pub fn from_journal(
        runbook: &Runbook,
        contents: &super::journal::JournalContents,
    ) -> RunLedger {
        let mut ledger = RunLedger::new(runbook);
        ledger.people.driver = contents.header.driver.clone();
        ledger.people.roles = contents.header.roles.clone();
        for e in &contents.events {
            ledger.apply(e);
        }
        ledger
    }

    /// How the run ended, or `None` while it goes on (a resume reopens it).
    pub fn outcome(&self) -> Option<Outcome> {
        self.last_end
            .filter(|_| !self.resumed_since_end)
            .map(|e| e.outcome)
    }

    /// Index of step `id` in runbook order.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The last question step `id` asked.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.get(id)
    }

    /// The step `id`.
    pub fn step(&self, id: &str) -> Option<&StepState> {
        self.position(id).map(|i| &self.steps[i])
    }

    /// Takes in the next event.
    pub fn apply(&mut self, e: &RunEvent) {
        self.elapsed = e.elapsed;
        self.last_event_at = Some(e.at);
        let at = e.elapsed;
        let i = e.kind.step().and_then(|s| self.position(s));
        match &e.kind {
            EventKind::RunStarted { run_id, mode, t0 } => {
                self.run_id = Some(run_id.clone());
                self.mode = Some(*mode);
                self.t0 = Some(*t0);
            }
            EventKind::RunResumed {
                gap,
                operator,
                runbook_text,
                ..
            } => {
                // The run goes on: an earlier stop no longer ends it.
                self.resumed_since_end = true;
                // What the resumed run does again waits again, as the
                // scheduler decides (`scheduler.rs`: only succeeded or
                // waived steps outside cleanup carry over); the console
                // must not show it skipped or cancelled. Its last outcome
                // stays for the report.
                for step in &mut self.steps {
                    if let StepStatus::Done(o) = step.status
                        && (step.cleanup || !matches!(o, Outcome::Succeeded | Outcome::Waived))
                    {
                        step.status = StepStatus::Pending;
                    }
                }
                self.resumes.push(Resumption {
                    at: e.at,
                    elapsed: e.elapsed,
                    gap: *gap,
                    operator: operator.clone(),
                    forced: runbook_text.is_some(),
                });
            }
            EventKind::CloudConnected { identity } => self.identity = Some(identity.clone()),
            EventKind::PreflightRan { preflight, forced } => {
                if self.preflight.is_none() {
                    self.preflight = Some(RanPreflight {
                        preflight: (**preflight).clone(),
                        forced: *forced,
                    });
                }
            }
            EventKind::RunFinished { outcome } => {
                self.last_end = Some(RunFinish {
                    outcome: *outcome,
                    at: e.at,
                });
                self.resumed_since_end = false;
            }
            EventKind::DriverChanged {
                driver,
                process,
                token,
                took_over,
            } => {
                self.team.driver = Some(driver.clone());
                self.team.process = Some(process.clone());
                self.team.token = Some(*token);
                self.people.drivers.push(DriverChange {
                    driver: driver.clone(),
                    process: process.clone(),
                    at: e.at,
                    took_over: took_over.clone(),
                });
            }
            EventKind::AnswerRefused { step, who, reason } => {
                self.people.refused(step, who, reason)
            }
            EventKind::TeamBehind { reason } => self.team.behind = Some(reason.clone()),
            EventKind::TeamCaughtUp { .. } => self.team.behind = None,
            EventKind::RtoStopped { rto, .. } => self.rto = Some(*rto),
            // With several picks, the oldest point chosen bounds the data
            // lost (picks replayed forward, `measures_rpo = false`, do not
            // send this event).
            EventKind::RpoMeasured { rpo, .. } => {
                self.rpo = Some(self.rpo.map_or(*rpo, |r| r.max(*rpo)))
            }
            EventKind::PhaseStarted { phase } => {
                self.phase_marks.insert(phase.clone(), (at, None));
            }
            EventKind::PhaseFinished { phase } => {
                if let Some(span) = self.phase_marks.get_mut(phase) {
                    span.1 = Some(at);
                }
            }
            EventKind::StepQueued { .. } => {
                if let Some(i) = i {
                    let s = &mut self.steps[i];
                    s.status = StepStatus::Queued;
                    s.queued_at.get_or_insert(e.at);
                }
            }
            EventKind::StepStarted { .. } => {
                if let Some(i) = i {
                    let s = &mut self.steps[i];
                    s.status = StepStatus::Running;
                    s.attempts += 1;
                    // A new attempt: an earlier one's failure and progress
                    // no longer say where it stands.
                    s.reason = None;
                    s.progress = None;
                    s.started_at.get_or_insert(e.at);
                    s.first_attempt.get_or_insert(at);
                    s.first_activity.get_or_insert(at);
                }
            }
            EventKind::StepOutput { .. } => {}
            EventKind::StepOutputLeftOut { left_out, .. } => {
                if let Some(i) = i {
                    self.steps[i].output_left_out = Some(left_out.clone());
                }
            }
            EventKind::StepProgress { message, .. } => {
                if let Some(i) = i {
                    self.steps[i].progress = Some(message.clone());
                }
            }
            EventKind::StepRetrying {
                step,
                attempt,
                error,
                backoff,
            } => self.failures.push(FailedAttempt {
                step: step.clone(),
                attempt: Some(*attempt),
                at: e.at,
                error: error.clone(),
                then: AfterFailure::RetriedAfter(*backoff),
                interrupted: false,
            }),
            EventKind::StepFinished {
                step,
                outcome,
                outputs,
                reason,
            } => {
                if let Some(i) = i {
                    let s = &mut self.steps[i];
                    s.status = StepStatus::Done(*outcome);
                    s.outcome = Some(*outcome);
                    s.finished_at = Some(e.at);
                    s.last_end = Some(at);
                    s.reason = reason.clone();
                    if !outputs.is_empty() {
                        s.outputs = outputs.clone();
                    }
                }
                if matches!(outcome, Outcome::Failed | Outcome::Interrupted) {
                    self.failures.push(FailedAttempt {
                        step: step.clone(),
                        attempt: None,
                        at: e.at,
                        error: reason.clone().unwrap_or_default(),
                        then: AfterFailure::Ended(*outcome),
                        interrupted: *outcome == Outcome::Interrupted,
                    });
                }
            }
            EventKind::HumanAsked { step, question } => {
                self.questions.insert(step.clone(), question.clone());
                if let Some(i) = i {
                    let s = &mut self.steps[i];
                    s.status = StepStatus::Asking;
                    s.asked_at = Some(at);
                    // A confirmation comes before the first attempt and is
                    // part of the step.
                    s.first_activity.get_or_insert(at);
                    s.started_at.get_or_insert(e.at);
                }
            }
            EventKind::HumanAnswered {
                step,
                by,
                who,
                note,
                answer,
            } => {
                // Answers to the step's own question (not a confirmation
                // nor a reply to a failure) say who acted on it.
                if let Some(Question::Acknowledge { .. } | Question::Approve { .. }) =
                    self.questions.get(step)
                {
                    self.people.answered(
                        step,
                        GivenAnswer {
                            who: who.clone(),
                            by: by.clone(),
                            at: e.at,
                            answer: answer.clone(),
                            refused: None,
                        },
                    );
                }
                self.answered(i, step, by, note, answer, e)
            }
        }
    }

    fn answered(
        &mut self,
        i: Option<usize>,
        step: &str,
        by: &str,
        note: &Option<String>,
        answer: &Answer,
        e: &RunEvent,
    ) {
        if let Some(i) = i {
            let s = &mut self.steps[i];
            if s.status == StepStatus::Asking {
                s.status = StepStatus::Running;
            }
            if let Some(from) = s.asked_at.take() {
                s.human_wait += e.elapsed.saturating_sub(from);
            }
        }
        match (self.questions.get(step), answer) {
            (Some(Question::Confirm { action, .. }), Answer::Confirmed { typed }) => {
                self.confirmations.push(TypedConfirmation {
                    step: step.to_owned(),
                    action: Some(action.clone()).filter(|a| !a.is_empty()),
                    typed: typed.clone(),
                    by: by.to_owned(),
                    at: e.at,
                })
            }
            (Some(Question::Failure { .. }) | Some(Question::Interrupted), answer) => {
                if let Some(f) = self.failures.iter_mut().rev().find(|f| f.step == step) {
                    f.then = AfterFailure::Answered {
                        answer: answer.clone(),
                        by: by.to_owned(),
                    };
                }
            }
            (_, answer) => {
                if let Some(i) = i {
                    self.steps[i].answer = Some(RecordedAnswer {
                        answer: answer.clone(),
                        by: by.to_owned(),
                        at: e.at,
                        note: note.clone(),
                    })
                }
            }
        }
    }
}

mod people;
#[cfg(test)]
mod tests;
