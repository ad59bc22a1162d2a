//! The one event stream of a run. The journal, the headless printer, the
//! console and the report are all consumers of these events.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::output::OutputLeftOut;
use crate::runbook::Mode;

/// Something that happened during a run, when it happened on the UTC wall
/// clock, and how long after the run started by the monotonic clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEvent {
    /// UTC wall-clock time (RFC 3339 in JSON).
    pub at: Timestamp,
    /// Time since the run started; keeps running across a crash and resume.
    #[serde(with = "seconds")]
    pub elapsed: Duration,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// How a step or a run ended, or where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Did what it should.
    Succeeded,
    /// Failed after its retries.
    Failed,
    /// Not run: something it needs did not succeed, or the run stopped.
    Skipped,
    /// The operator chose to go on without it (skipped after a failure, or
    /// marked done by hand after a crash); what needs it runs.
    Waived,
    /// Stopped by the operator or by an abort.
    Cancelled,
    /// Was running when the console died.
    Interrupted,
    /// The run stopped on purpose before its end.
    Aborted,
}

impl Outcome {
    /// The outcome in one lowercase word, as reports record it:
    /// `succeeded`, `failed`, `skipped`, `waived`, `cancelled`,
    /// `interrupted`, `aborted`.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
            Outcome::Waived => "waived",
            Outcome::Cancelled => "cancelled",
            Outcome::Interrupted => "interrupted",
            Outcome::Aborted => "aborted",
        }
    }

    /// The word a line people read as it scrolls by uses: [`Outcome::word`],
    /// but a failure and an abort in capitals (`FAILED`, `ABORTED`), so they
    /// stand out.
    pub fn loud_word(self) -> &'static str {
        match self {
            Outcome::Failed => "FAILED",
            Outcome::Aborted => "ABORTED",
            other => other.word(),
        }
    }
}

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// What a human was asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Question {
    /// Type `text` to let a destructive step run.
    Confirm {
        /// What the operator must type.
        text: String,
        /// What the step will do, in words.
        action: String,
        /// What will change, with the resources named (templates resolved).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        change: String,
    },
    /// Do what the instructions say; answer the question if there is one.
    Acknowledge {
        /// The instructions, templates resolved.
        instructions: String,
        /// The question, if any.
        question: Option<String>,
        /// Allowed answers, if restricted.
        choices: Vec<String>,
    },
    /// Approve the run going on.
    Approve {
        /// What is being approved.
        instructions: Option<String>,
        /// Who it still waits for (approvers not yet heard from); empty
        /// when the driver approves a solo run.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        waiting_for: Vec<String>,
        /// Approvals counted so far.
        #[serde(default, skip_serializing_if = "is_zero")]
        have: usize,
        /// Approvals needed; 0 when the driver approves a solo run.
        #[serde(default, skip_serializing_if = "is_zero")]
        required: usize,
    },
    /// A step failed: retry, skip or abort.
    Failure {
        /// The error.
        error: String,
    },
    /// A step was running when the console died: rerun, mark done, or abort.
    Interrupted,
    /// Choose the recovery point to restore from.
    PickRecoveryPoint {
        /// Where the points were listed from.
        sources: Vec<crate::cloud::PointSource>,
        /// How many restorable points were found.
        restorable: usize,
        /// The newest restorable one, as a suggestion.
        newest: Option<String>,
    },
}

/// What a human answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Answer {
    /// Typed the confirmation text (kept as evidence).
    Confirmed {
        /// Exactly what was typed.
        typed: String,
    },
    /// Did the manual step; the answer to its question, if any.
    Acknowledged {
        /// The answer.
        answer: Option<String>,
    },
    /// Approved.
    Approved,
    /// Declined a confirmation or an approval.
    Declined,
    /// Try the failed step again.
    Retry,
    /// Go on without this step; steps that need it still run.
    Skip,
    /// Stop the run.
    Abort,
    /// Run the interrupted step again.
    Rerun,
    /// The interrupted step was finished by hand; go on.
    MarkDone,
    /// The recovery point chosen, by its id (ARN, `s3://...`, `pitr:...`).
    Picked {
        /// The point's id.
        point: String,
    },
}

impl Answer {
    /// The answer as a report records it: `confirmed (TEXT)`, the answer
    /// given or `done`, `approved`, `retry`, `marked done`, `picked POINT`.
    pub fn word(&self) -> String {
        match self {
            Answer::Confirmed { typed } => format!("confirmed ({typed})"),
            Answer::Acknowledged { answer: Some(a) } => a.clone(),
            Answer::Acknowledged { answer: None } => "done".into(),
            Answer::Approved => "approved".into(),
            Answer::Declined => "declined".into(),
            Answer::Retry => "retry".into(),
            Answer::Skip => "skip".into(),
            Answer::Abort => "abort".into(),
            Answer::Rerun => "rerun".into(),
            Answer::MarkDone => "marked done".into(),
            Answer::Picked { point } => format!("picked {point}"),
        }
    }

    /// The answer as a line of the run says it, before `by OPERATOR`:
    /// `confirmed by typing `TEXT``, `answered `A``, `retry chosen`,
    /// `chose POINT`.
    pub fn phrase(&self) -> String {
        match self {
            Answer::Confirmed { typed } => format!("confirmed by typing `{typed}`"),
            Answer::Acknowledged { answer: Some(a) } => format!("answered `{a}`"),
            Answer::Acknowledged { answer: None } => "acknowledged".into(),
            Answer::Approved => "approved".into(),
            Answer::Declined => "declined".into(),
            Answer::Retry => "retry chosen".into(),
            Answer::Skip => "skip chosen".into(),
            Answer::Abort => "abort chosen".into(),
            Answer::Rerun => "rerun chosen".into(),
            Answer::MarkDone => "marked done".into(),
            Answer::Picked { point } => format!("chose {point}"),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The run started (or resumed, see `RunResumed`).
    RunStarted {
        /// The run's id.
        run_id: String,
        /// Drill or incident.
        mode: Mode,
        /// T0: drill start, or the declared outage start.
        t0: Timestamp,
    },
    /// The console came back after a crash or a deliberate stop.
    RunResumed {
        /// Wall-clock time the run was not watched.
        #[serde(with = "seconds")]
        gap: Duration,
        /// Who resumed.
        #[serde(default)]
        operator: String,
        /// Parameters given again (secrets redacted).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        params: BTreeMap<String, String>,
        /// With `--force`: the runbook text that runs from here on, and its
        /// SHA-256.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        runbook_text: Option<String>,
        /// SHA-256 of `runbook_text`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        runbook_sha256: Option<String>,
    },
    /// The run acts on this AWS identity (or the simulated world); recorded
    /// when the run starts and again when it resumes.
    CloudConnected {
        /// Account, principal, region, profile, endpoint, or SIMULATED.
        identity: crate::cloud::Identity,
    },
    /// What preflight found before the first step, and whether the run
    /// started despite a failed check (`--force`). Recorded once, after
    /// `cloud_connected`; older journals have none.
    PreflightRan {
        /// Every finding, with the estimates.
        preflight: Box<crate::preflight::Preflight>,
        /// Started with `--force` although a check failed.
        #[serde(default)]
        forced: bool,
    },
    /// The RTO clock stopped: the `ends_rto` step succeeded.
    RtoStopped {
        /// The step.
        step: String,
        /// T0 to now.
        #[serde(with = "seconds")]
        rto: Duration,
    },
    /// The restore point is known: T0 minus its time.
    RpoMeasured {
        /// The step that chose it.
        step: String,
        /// The restore point's time.
        point_time: Timestamp,
        /// T0 minus the point's time.
        #[serde(with = "seconds")]
        rpo: Duration,
    },
    /// The first step of a phase started.
    PhaseStarted {
        /// The phase id.
        phase: String,
    },
    /// Every step of a phase has ended.
    PhaseFinished {
        /// The phase id.
        phase: String,
    },
    /// Everything a step needs has succeeded; it waits for a slot.
    StepQueued {
        /// The step id.
        step: String,
    },
    /// An attempt of a step started.
    StepStarted {
        /// The step id.
        step: String,
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// A line of a step's output.
    StepOutput {
        /// The step id.
        step: String,
        /// Which stream.
        stream: Stream,
        /// The line, without its newline.
        line: String,
    },
    /// Output of a step attempt the journal left out, over its cap
    /// (recorded when the attempt's output ends, before the kept tail).
    StepOutputLeftOut {
        /// The step id.
        step: String,
        /// What was left out, and where the full output is.
        #[serde(flatten)]
        left_out: OutputLeftOut,
    },
    /// A step's progress, in words.
    StepProgress {
        /// The step id.
        step: String,
        /// What is going on.
        message: String,
    },
    /// An attempt failed; the next starts after `backoff`.
    StepRetrying {
        /// The step id.
        step: String,
        /// The attempt that failed.
        attempt: u32,
        /// Why.
        error: String,
        /// Wait before the next attempt.
        #[serde(with = "seconds")]
        backoff: Duration,
    },
    /// A step ended.
    StepFinished {
        /// The step id.
        step: String,
        /// How.
        outcome: Outcome,
        /// Its outputs (succeeded steps).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        outputs: BTreeMap<String, String>,
        /// Why it failed, was skipped or cancelled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A human was asked something; the step waits.
    HumanAsked {
        /// The step id.
        step: String,
        /// The question.
        #[serde(flatten)]
        question: Question,
    },
    /// A human answered.
    HumanAnswered {
        /// The step id.
        step: String,
        /// Who answered (user@host, or `headless` with the flag).
        by: String,
        /// Who answered, by AWS identity (team runs, and solo runs whose
        /// world told the driver's); absent in older journals.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        who: Option<crate::engine::participant::Participant>,
        /// Free text given with the answer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// The answer.
        #[serde(flatten)]
        answer: Answer,
    },
    /// The run ended.
    RunFinished {
        /// How.
        outcome: Outcome,
    },
    /// A process drives the run on the team's shared log from here: when
    /// a team run starts, and at each takeover (docs/team.md).
    DriverChanged {
        /// Who drives, as their credentials prove them.
        driver: crate::engine::participant::Participant,
        /// Their process (`user@host pid N`).
        process: String,
        /// The lease's fencing token this process writes with.
        token: u64,
        /// With `--take-over`: why the lease was taken before it expired.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        took_over: Option<String>,
    },
    /// The team's shared log cannot be reached: the run goes on on its
    /// local journal and the team no longer sees it (recorded once, the
    /// first time the mirror falls behind).
    TeamBehind {
        /// Why, naming the table and the DynamoDB action.
        reason: String,
    },
    /// The shared log holds every line again after being behind.
    TeamCaughtUp {
        /// Lines written while catching up.
        lines: u64,
    },
    /// The last answer recorded for this step did not count: its sender
    /// may not answer or approve it (`engine/approval.rs`). Recorded after
    /// that `human_answered` and the step's progress line saying why, so
    /// the report can say who was refused and why without reading
    /// progress text.
    AnswerRefused {
        /// The step id.
        step: String,
        /// Who sent the refused answer.
        who: crate::engine::participant::Participant,
        /// Why it did not count ("bob has already approved").
        reason: String,
    },
}

impl EventKind {
    /// Whether losing this event would lose evidence: it is made durable
    /// (fsync'd) before the engine acts on it.
    pub fn is_evidence(&self) -> bool {
        !matches!(
            self,
            EventKind::StepOutput { .. }
                | EventKind::StepProgress { .. }
                | EventKind::StepQueued { .. }
                | EventKind::TeamBehind { .. }
                | EventKind::TeamCaughtUp { .. }
        )
    }

    /// The step this event is about, if any.
    pub fn step(&self) -> Option<&str> {
        match self {
            EventKind::StepQueued { step }
            | EventKind::StepStarted { step, .. }
            | EventKind::StepOutput { step, .. }
            | EventKind::StepOutputLeftOut { step, .. }
            | EventKind::StepProgress { step, .. }
            | EventKind::StepRetrying { step, .. }
            | EventKind::StepFinished { step, .. }
            | EventKind::HumanAsked { step, .. }
            | EventKind::HumanAnswered { step, .. }
            | EventKind::AnswerRefused { step, .. }
            | EventKind::RtoStopped { step, .. }
            | EventKind::RpoMeasured { step, .. } => Some(step),
            _ => None,
        }
    }
}

/// Durations as fractional seconds in JSON.
pub(crate) mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

/// Optional durations as fractional seconds (or null) in JSON.
pub(crate) mod seconds_opt {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_f64(d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}

/// Lists of durations as fractional seconds in JSON.
pub(crate) mod seconds_vec {
    use std::time::Duration;

    use serde::Serializer;
    use serde::ser::SerializeSeq;

    pub fn serialize<S: Serializer>(d: &[Duration], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(d.len()))?;
        for d in d {
            seq.serialize_element(&d.as_secs_f64())?;
        }
        seq.end()
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Question {
    /// What an M-of-N approval still waits for: "1 of 2 needed: waits
    /// for dba"; `None` for other questions and a solo run's plain gate.
    pub fn approval_progress(&self) -> Option<String> {
        match self {
            Question::Approve {
                waiting_for,
                have,
                required,
                ..
            } if *required > 0 => Some(format!(
                "{have} of {required} needed: waits for {}",
                waiting_for.join(", ")
            )),
            _ => None,
        }
    }
}
