//! Runs one attempt of one step. Each kind has its runner; they share the
//! step's context: its resolved values, the recorder and the human channel.

mod check;
mod manual;
mod shell;
mod wait;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use tokio::sync::{mpsc, oneshot};

use super::event::{Answer, EventKind, Question, Stream};
use super::human::{HumanReply, HumanRequest};
use super::journal::JournalError;
use super::recorder::Recorder;
use super::values::{Outputs, ResolveError, Values};
use crate::runbook::{Action, Runbook, Step};

/// Why an attempt did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The attempt failed; another attempt may succeed.
    #[error("{0}")]
    Failed(String),
    /// Trying again cannot help (a declined confirmation, a template with
    /// no value, a kind this build cannot run).
    #[error("{0}")]
    Fatal(String),
    /// The journal cannot record evidence: the whole run must stop.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl From<ResolveError> for StepError {
    fn from(e: ResolveError) -> Self {
        StepError::Fatal(e.to_string())
    }
}

/// What a step's attempt can use.
#[derive(Clone)]
pub struct StepCtx {
    /// The runbook.
    pub runbook: Arc<Runbook>,
    /// The step's index in `runbook.steps`.
    pub index: usize,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Where events go.
    pub recorder: Recorder,
    /// Where questions go.
    pub human: mpsc::Sender<HumanRequest>,
    /// Params, finished steps' outputs, run variables.
    pub values: Arc<RwLock<Values>>,
    /// The run's directory (downloads, step files).
    pub run_dir: PathBuf,
}

impl StepCtx {
    /// The step.
    pub fn step(&self) -> &Step {
        &self.runbook.steps[self.index]
    }

    /// The step's id.
    pub fn id(&self) -> &str {
        &self.step().id.value
    }

    fn values(&self) -> std::sync::RwLockReadGuard<'_, Values> {
        self.values
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `text` with its templates resolved.
    pub fn resolve(&self, text: &str) -> Result<String, StepError> {
        Ok(self.values().resolve(text)?)
    }

    /// `text` for `sh -c` and the environment carrying its values.
    pub fn shell_command(&self, text: &str) -> Result<(String, Vec<(String, String)>), StepError> {
        Ok(self.values().shell_command(text)?)
    }

    /// Records an event about this step.
    pub async fn record(&self, kind: EventKind) -> Result<(), StepError> {
        self.recorder.record(kind).await?;
        Ok(())
    }

    /// Records a line of output.
    pub async fn output(&self, stream: Stream, line: String) -> Result<(), StepError> {
        self.record(EventKind::StepOutput {
            step: self.id().to_owned(),
            stream,
            line,
        })
        .await
    }

    /// Asks a human and waits; question and answer are both journaled
    /// (durably) before the step acts on the answer.
    pub async fn ask(&self, question: Question) -> Result<HumanReply, StepError> {
        let step = self.id().to_owned();
        self.record(EventKind::HumanAsked {
            step: step.clone(),
            question: question.clone(),
        })
        .await?;
        let (reply, answer) = oneshot::channel();
        let request = HumanRequest {
            step: step.clone(),
            title: self.step().display_title().to_owned(),
            question,
            reply,
        };
        let no_one = || {
            StepError::Fatal("no one is there to answer this step's question (the console or the headless answers are gone)".into())
        };
        self.human.send(request).await.map_err(|_| no_one())?;
        let reply = answer.await.map_err(|_| no_one())?;
        self.record(EventKind::HumanAnswered {
            step,
            by: reply.by.clone(),
            note: reply.note.clone(),
            answer: reply.answer.clone(),
        })
        .await?;
        Ok(reply)
    }
}

/// Runs one attempt of the step's action.
pub async fn run(ctx: &StepCtx) -> Result<Outputs, StepError> {
    let runbook = ctx.runbook.clone();
    match &runbook.steps[ctx.index].action {
        Action::Shell(shell) => shell::run(ctx, shell).await,
        Action::Manual(manual) => manual::run(ctx, manual).await,
        Action::Approve(approve) => manual::approve(ctx, approve).await,
        Action::Wait(wait) => wait::run(ctx, wait).await,
        Action::Check(check) => check::run(ctx, check),
        other => Err(StepError::Fatal(format!(
            "`{}` steps run through the AWS integration, which this build does not have yet; \
             `dr-drill run --dry-run` shows what the step would do",
            other.kind()
        ))),
    }
}

/// Asks for the typed confirmation of a destructive step; `Ok` only when
/// the operator typed exactly `text`.
pub async fn confirm(ctx: &StepCtx, text: &str, action: String) -> Result<(), StepError> {
    let reply = ctx
        .ask(Question::Confirm {
            text: text.to_owned(),
            action,
        })
        .await?;
    match reply.answer {
        Answer::Confirmed { typed } if typed == text => Ok(()),
        Answer::Confirmed { typed } => Err(StepError::Fatal(format!(
            "the confirmation typed by {} (`{typed}`) is not `{text}`; nothing was changed",
            reply.by
        ))),
        _ => Err(StepError::Fatal(format!(
            "{} did not confirm; nothing was changed",
            reply.by
        ))),
    }
}
