//! Runs one attempt of one step. Each kind has its runner; they share the
//! step's context: its resolved values, the recorder and the human channel.

mod backup;
mod backup_copy;
mod check;
mod dynamodb;
mod file;
mod manual;
mod paths;
mod pick;
mod restore_encryption;
mod s3;
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
use crate::cloud::{Cloud, CloudError, ErrorKind};
use crate::runbook::model::Text;
use crate::runbook::{Runbook, Step, StepAction};

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

impl From<CloudError> for StepError {
    fn from(e: CloudError) -> Self {
        match e.kind {
            // Another attempt (the step's `retry`) may get through.
            ErrorKind::Throttled | ErrorKind::Unavailable | ErrorKind::Other => {
                StepError::Failed(e.to_string())
            }
            _ => StepError::Fatal(e.to_string()),
        }
    }
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
    /// AWS, or the simulated world; `None` when the run has neither.
    pub cloud: Option<Arc<dyn Cloud>>,
    /// A person answers at a console (headless answers otherwise).
    pub at_console: bool,
    /// The driver, the run's roles, and whether other participants can
    /// answer (a team run); solo by default.
    pub people: Arc<crate::engine::approval::RunPeople>,
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

    /// An optional field with its templates resolved.
    pub fn resolve_opt(&self, text: Option<&Text>) -> Result<Option<String>, StepError> {
        text.map(|t| self.resolve(&t.value)).transpose()
    }

    /// The cloud the step acts on.
    pub fn cloud(&self) -> Result<Arc<dyn Cloud>, StepError> {
        self.cloud.clone().ok_or_else(|| {
            StepError::Fatal(format!(
                "`{}` steps need AWS or the simulated world, and this run has neither",
                self.step().action.kind()
            ))
        })
    }

    /// How long `d` of the run's world lasts in real time: `d` against AWS,
    /// `d / speed` in the sandbox, whose clock runs `speed` times faster.
    /// The one place a runbook's world durations (a retry's backoff, a
    /// fixed `wait`, an `until` poll interval) meet the simulated speed.
    pub fn real_time(&self, d: std::time::Duration) -> std::time::Duration {
        match self.cloud.as_ref().and_then(|c| c.simulation()) {
            Some(sim) if sim.speed.is_finite() && sim.speed > 0.0 => d.div_f64(sim.speed),
            _ => d,
        }
    }

    /// Environment for the commands of a run in the simulated world: no
    /// AWS credentials, config or profile reach them (the operator's other
    /// `AWS_*` variables are removed when the command starts), and the AWS
    /// endpoint is a closed local port, so an `aws` command in a shell step
    /// fails instead of acting on a real account. Empty for real AWS.
    pub fn sandbox_env(&self) -> Vec<(String, String)> {
        if !self.cloud.as_ref().is_some_and(|c| c.identity().simulated) {
            return Vec::new();
        }
        [
            (shell::SANDBOX_VAR, "1"),
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", ""),
            ("AWS_SESSION_TOKEN", ""),
            ("AWS_PROFILE", "dr-drill-sandbox"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// A callback that records progress notices (retries, counts) as this
    /// step's progress events, without waiting.
    pub fn notifier(&self) -> impl Fn(String) + Send + Sync + use<> {
        let recorder = self.recorder.clone();
        let step = self.id().to_owned();
        move |message| {
            // A journal that fails is reported by the next evidence write.
            let _ = recorder.note(EventKind::StepProgress {
                step: step.clone(),
                message,
            });
        }
    }

    /// Records a progress message.
    pub async fn progress(&self, message: String) -> Result<(), StepError> {
        self.record(EventKind::StepProgress {
            step: self.id().to_owned(),
            message,
        })
        .await
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
        let (_, asked) = self
            .recorder
            .record_numbered(EventKind::HumanAsked {
                step: step.clone(),
                question: question.clone(),
            })
            .await?;
        let (reply, answer) = oneshot::channel();
        let request = HumanRequest {
            step: step.clone(),
            title: self.step().display_title().to_owned(),
            question,
            attempt: self.attempt,
            asked,
            reply,
        };
        let no_one = || {
            StepError::Fatal("no one is there to answer this step's question (the console or the headless answers are gone)".into())
        };
        self.human.send(request).await.map_err(|_| no_one())?;
        let mut reply = answer.await.map_err(|_| no_one())?;
        // The console's and headless answers are the driver's.
        if reply.who.is_none() {
            reply.who = self.people.driver.clone();
        }
        self.record(EventKind::HumanAnswered {
            step,
            who: reply.who.clone(),
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
        StepAction::Shell(shell) => shell::run(ctx, shell).await,
        StepAction::Manual(manual) => manual::run(ctx, manual).await,
        StepAction::Approve(approve) => manual::approve(ctx, approve).await,
        StepAction::Wait(wait) => wait::run(ctx, wait).await,
        StepAction::Check(check) => check::run(ctx, check),
        StepAction::PickRecoveryPoint(p) => pick::run(ctx, p).await,
        StepAction::BackupRestore(a) => backup::restore(ctx, a).await,
        StepAction::BackupCopy(a) => backup_copy::copy(ctx, a).await,
        StepAction::BackupVaultPosture(a) => backup::posture(ctx, a).await,
        StepAction::BackupRegionSettings(a) => backup::region_settings(ctx, a).await,
        StepAction::BackupCopyJobs(a) => backup::copy_jobs(ctx, a).await,
        StepAction::BackupDeleteVaultLock(a) => backup::delete_lock(ctx, a).await,
        StepAction::BackupDeleteRecoveryPoint(a) => backup::delete_points(ctx, a).await,
        StepAction::DynamodbRestoreFromBackup(a) => dynamodb::restore_from_backup(ctx, a).await,
        StepAction::DynamodbRestoreToPointInTime(a) => {
            dynamodb::restore_to_point_in_time(ctx, a).await
        }
        StepAction::DynamodbWaitActive(a) => dynamodb::wait_active(ctx, a).await,
        StepAction::DynamodbCount(a) => dynamodb::count(ctx, a).await,
        StepAction::DynamodbPitrStatus(a) => dynamodb::pitr_status(ctx, a).await,
        StepAction::DynamodbCopyTable(a) => dynamodb::copy_table(ctx, a).await,
        StepAction::DynamodbDeleteTable(a) => dynamodb::delete_table(ctx, a).await,
        StepAction::S3Head(a) => s3::head(ctx, a).await,
        StepAction::S3RestoreObject(a) => s3::restore_object(ctx, a).await,
        StepAction::S3Download(a) => s3::download(ctx, a).await,
        StepAction::S3VerifyChecksum(a) => s3::verify_checksum(ctx, a).await,
        StepAction::FileDecrypt(a) => file::decrypt(ctx, a).await,
    }
}

/// Remembers the last status line shown, so a poll records a change only.
#[derive(Default)]
pub(crate) struct LastShown(std::sync::Mutex<String>);

impl LastShown {
    /// Records `line` as this step's progress if it differs from the last.
    pub async fn show(&self, ctx: &StepCtx, line: String) -> Result<(), StepError> {
        let changed = {
            let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
            let changed = *last != line;
            if changed {
                last.clone_from(&line);
            }
            changed
        };
        if changed {
            ctx.progress(line).await?;
        }
        Ok(())
    }
}

/// Polls `probe` until it says the wait is over, with an interval that
/// starts at `first` (else the cloud's poll interval) and grows by half up
/// to four times it; `probe` returns `Some(outputs)` when done. The step's
/// `timeout` bounds the whole wait.
pub(crate) async fn poll_every<T, F, Fut>(
    ctx: &StepCtx,
    first: Option<std::time::Duration>,
    mut probe: F,
) -> Result<T, StepError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, StepError>>,
{
    let first = match first {
        Some(f) => ctx.real_time(f),
        None => ctx.cloud()?.poll_interval(),
    };
    let mut interval = first;
    loop {
        if let Some(done) = probe().await? {
            return Ok(done);
        }
        tokio::time::sleep(interval).await;
        interval = (interval + interval / 2).min(first * 4);
    }
}

/// [`poll_every`] at the cloud's poll interval.
pub(crate) async fn poll<T, F, Fut>(ctx: &StepCtx, probe: F) -> Result<T, StepError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, StepError>>,
{
    poll_every(ctx, None, probe).await
}

/// What a destructive step will change, in words (its kind writes them),
/// with its resources resolved as far as they can be (unresolvable ones
/// stay as templates).
fn change(ctx: &StepCtx) -> String {
    let show = |text: &str| ctx.resolve(text).unwrap_or_else(|_| text.to_owned());
    let step = ctx.step();
    step.action.change(&show, step.description.as_deref())
}

/// Asks for the typed confirmation of a destructive step; `Ok` only when
/// the operator typed exactly `text`. A blank `text` confirms nothing (a
/// bare Enter would match it), and a destructive kind whose resource
/// resolves to blank would act on nothing it can name: both fail the step
/// before anything is asked or run.
pub async fn confirm(ctx: &StepCtx, text: &str, action: String) -> Result<(), StepError> {
    let step = ctx.step();
    if text.trim().is_empty() {
        let written = step
            .confirm_text()
            .map_or_else(|| step.id.value.clone(), |t| t.value.clone());
        return Err(StepError::Fatal(format!(
            "destructive step `{}`: its confirm text `{written}` resolves to an empty text, which a bare Enter would confirm; nothing was run. Give what it names a value, or set `confirm` to the name of what the step destroys",
            step.id.value
        )));
    }
    if let Some(target) = step.action.confirm_target() {
        let resource = ctx.resolve(&target.value)?;
        if resource.trim().is_empty() {
            return Err(StepError::Fatal(format!(
                "destructive step `{}` ({}): the resource it acts on, `{}`, resolves to an empty text; nothing was run. Give what it names a value",
                step.id.value,
                step.action.kind(),
                target.value
            )));
        }
    }
    let reply = ctx
        .ask(Question::Confirm {
            text: text.to_owned(),
            action,
            change: change(ctx),
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
