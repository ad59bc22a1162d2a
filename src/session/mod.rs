//! The session: everything between "the operator asked for a run" and "the
//! process exits". It reaches the world a run acts on (the sandbox or AWS),
//! starts a run or reopens one from its journal, runs the engine on its own
//! task for one front end (the headless printer in [`headless`], or the
//! console), writes the report when the run ends, and owns the exit codes
//! and the outcome → exit code rule.
//!
//! It must not touch the terminal, and imports neither the command line
//! (`cli`) nor the console (`tui`): both call it. Words for outcomes and
//! answers live on the types (`Outcome::word`, `Answer::phrase`).

pub mod dry_run;
pub mod follow;
pub mod headless;
pub mod people;
pub mod preflight;
pub mod recorded;
pub mod team;
pub mod team_answers;
pub mod tools;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::cloud::aws::{AwsCloud, AwsOptions};
use crate::cloud::sim::{SimCloud, SimOptions};
use crate::cloud::{Cloud, CloudError};
use crate::engine::event::{Outcome, RunEvent};
use crate::engine::human::HumanRequest;
use crate::engine::journal::{JournalError, WorldRecord};
use crate::engine::{self, RunSetup, StartError, Started};
use crate::runbook::{Mode, Runbook};

pub use headless::Output;

/// Exit code: the command did what was asked and found nothing wrong.
pub const EXIT_OK: u8 = 0;
/// Exit code: a runbook has errors (or warnings under `--deny-warnings`),
/// or a step of the run failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: the command line itself is wrong (clap uses it too), or the
/// runbook is invalid, or the run could not start as asked.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the run was aborted (Ctrl-C, or an operator's answer), or
/// stopped before its end; it can be resumed.
pub const EXIT_ABORTED: u8 = 3;

/// How a session ended, as its exit code tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The operator left before starting a run: nothing ran, nothing to
    /// resume.
    NotStarted,
    /// The run reached its end with this outcome.
    Finished(Outcome),
    /// The run stopped before its end (the journal could not record, or
    /// the console was left while it ran); it can be resumed.
    Stopped,
}

impl Ending {
    /// The exit code: 0 success (or nothing started), 1 a step failed,
    /// 3 aborted or stopped before the end.
    pub fn exit_code(self) -> u8 {
        match self {
            Ending::NotStarted | Ending::Finished(Outcome::Succeeded) => EXIT_OK,
            Ending::Finished(Outcome::Aborted | Outcome::Cancelled | Outcome::Interrupted)
            | Ending::Stopped => EXIT_ABORTED,
            // The engine ends a run succeeded, failed or aborted; a step's
            // own outcomes are never a run's, and are not a success.
            Ending::Finished(Outcome::Failed | Outcome::Skipped | Outcome::Waived) => EXIT_FAILED,
        }
    }
}

/// Why a run was not started or not resumed; nothing was run. The command
/// line says it after `error:` and exits with [`EXIT_USAGE`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl Refused {
    fn because(e: impl std::fmt::Display) -> Self {
        Refused(e.to_string())
    }
}

/// The world a run acts on: the simulated one, or AWS.
#[derive(Debug, Clone)]
pub enum World {
    /// The simulated world: no credentials are read, every output says
    /// SIMULATED.
    Sandbox(SimOptions),
    /// AWS, through a profile, a region and perhaps another endpoint.
    Aws(AwsOptions),
}

impl World {
    /// The cloud of this world. Nothing is sent to AWS yet.
    pub async fn connect(&self) -> Result<Arc<dyn Cloud>, String> {
        match self {
            World::Sandbox(options) => SimCloud::builtin(options.clone())
                .map(|sim| Arc::new(sim) as Arc<dyn Cloud>)
                .map_err(|e| e.to_string()),
            World::Aws(options) => Ok(Arc::new(AwsCloud::connect(options).await?)),
        }
    }

    /// Connects and checks credentials, for commands about to act.
    pub async fn connect_checked(&self) -> Result<Arc<dyn Cloud>, String> {
        let cloud = self.connect().await?;
        cloud
            .verify_credentials()
            .await
            .map_err(|e: CloudError| e.to_string())?;
        Ok(cloud)
    }

    /// The cloud for a headless run of `steps`: with credentials checked
    /// before anything runs when one of them calls AWS (or always in the
    /// sandbox); `None` when no step needs one.
    pub async fn for_steps(
        &self,
        runbook: &Runbook,
        steps: &[usize],
    ) -> Result<Option<Arc<dyn Cloud>>, Refused> {
        // A sandbox run always has its world, so its shell steps are fenced
        // off from real AWS credentials.
        let sandbox = matches!(self, World::Sandbox(_));
        if !sandbox && !steps.iter().any(|&i| runbook.steps[i].action.uses_aws()) {
            return Ok(None);
        }
        self.connect_checked()
            .await
            .map(Some)
            .map_err(|e| Refused(format!("{e}\nNothing was run.")))
    }

    /// The cloud for the console, which always has one: credentials are
    /// checked when a step of `runbook` calls AWS.
    pub async fn for_console(&self, runbook: &Runbook) -> Result<Arc<dyn Cloud>, Refused> {
        let cloud = if runbook.steps.iter().any(|s| s.action.uses_aws()) {
            self.connect_checked().await
        } else {
            self.connect().await
        };
        cloud.map_err(|e| Refused(format!("{e}\nNothing was run.")))
    }
}

/// A checked runbook ready to run in the console, and the cloud it acts
/// on: what the console starts a run from.
pub struct Session {
    /// The checked runbook.
    pub runbook: Runbook,
    /// Its text, for the journal.
    pub runbook_text: String,
    /// Where it was read from.
    pub runbook_path: PathBuf,
    /// AWS or the simulated world.
    pub cloud: Arc<dyn Cloud>,
    /// Parameter values given on the command line (the form starts with them).
    pub params: BTreeMap<String, String>,
    /// The mode the form starts in.
    pub mode: Mode,
    /// Where runs are kept.
    pub data_dir: PathBuf,
    /// Steps at once.
    pub max_parallel: usize,
    /// Who holds each role (`--role`; the form starts with them).
    pub roles: crate::engine::participant::Roles,
    /// Who drives the runs of this session (`people::driver_for`).
    pub driver: Option<crate::engine::participant::Participant>,
}

impl Session {
    /// Starts a run of this session's runbook with `params` in `mode` and
    /// `roles` (the start form's): its journal first. Launch it with
    /// [`Session::launch`].
    pub fn start(
        &self,
        params: BTreeMap<String, String>,
        mode: Mode,
        t0: Option<jiff::Timestamp>,
        roles: crate::engine::participant::Roles,
    ) -> Result<Started, StartError> {
        engine::start(RunSetup {
            runbook: self.runbook.clone(),
            runbook_text: self.runbook_text.clone(),
            runbook_path: self.runbook_path.clone(),
            mode,
            params,
            t0,
            operator: engine::operator(),
            data_dir: self.data_dir.clone(),
            max_parallel: self.max_parallel,
            world: Some(recorded::record(self.cloud.as_ref())),
            roles,
            driver: self.driver.clone(),
        })
    }

    /// Runs a started (or reopened) run on this session's cloud.
    pub fn launch(&self, started: Started) -> Running {
        launch(started, Some(self.cloud.clone()))
    }
}

/// A run reopened from its journal, to go on in the console.
pub struct Resumed {
    /// The engine and its channels, from `engine::resume::resume`.
    pub started: Started,
    /// What the journal recorded before, to show the run as it was.
    pub past: Vec<RunEvent>,
}

/// A run reopened from its journal.
pub struct Reopened {
    /// Its journal.
    pub journal: PathBuf,
    /// The engine and its channels.
    pub started: Started,
    /// The world its journal recorded (`None` in older journals).
    pub world: Option<WorldRecord>,
}

/// Reopens the run `target` names (its id, its directory or its journal)
/// under `data_dir`, with the secret parameters given again. A missing
/// journal is refused with the runs there are.
pub fn reopen(
    target: &str,
    data_dir: &Path,
    params: BTreeMap<String, String>,
    force: bool,
    max_parallel: usize,
) -> Result<Reopened, Refused> {
    let journal = engine::resume::locate(target, data_dir);
    if !journal.exists() {
        let runs: Vec<String> = std::fs::read_dir(data_dir.join("runs"))
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let known = if runs.is_empty() {
            format!(
                "there are no runs under {}",
                data_dir.join("runs").display()
            )
        } else {
            let mut runs = runs;
            runs.sort();
            format!(
                "the runs under {} are:\n  {}",
                data_dir.join("runs").display(),
                runs.join("\n  ")
            )
        };
        return Err(Refused(format!(
            "no journal at {}; {known}",
            journal.display()
        )));
    }
    let world = engine::journal::read(&journal)
        .map_err(Refused::because)?
        .header
        .world;
    let started =
        engine::resume::resume(&journal, params, force, max_parallel).map_err(Refused::because)?;
    Ok(Reopened {
        journal,
        started,
        world,
    })
}

/// Reopens a run for the console: what its journal recorded goes along,
/// to show the run as it was.
pub fn reopen_for_console(journal: &Path, started: Started) -> Result<Resumed, Refused> {
    let past = engine::journal::read(journal)
        .map_err(Refused::because)?
        .events;
    Ok(Resumed { started, past })
}

/// A run going on, for a front end to follow.
pub struct Running {
    /// Every event of the run, in order.
    pub events: mpsc::UnboundedReceiver<RunEvent>,
    /// The questions its steps ask; answer each on its reply channel.
    pub questions: mpsc::Receiver<HumanRequest>,
    /// Cancels the run: running steps are killed, nothing new starts.
    pub cancel: CancellationToken,
    /// Its journal.
    pub journal: Option<PathBuf>,
    /// Resolves once the run has ended and its report is written.
    pub end: JoinHandle<RunEnd>,
}

/// How a run ended: its outcome, and the report written next to its
/// journal.
#[derive(Debug)]
pub struct RunEnd {
    /// The run's outcome, or the journal error that stopped it (its
    /// running steps killed).
    pub outcome: Result<Outcome, JournalError>,
    /// Where the report was written (its Markdown file), or why it was
    /// not; `None` when the run stopped on a journal error or keeps no
    /// journal.
    pub report: Option<Result<PathBuf, String>>,
}

impl RunEnd {
    /// How the session ended, for its exit code.
    pub fn ending(&self) -> Ending {
        match &self.outcome {
            Ok(outcome) => Ending::Finished(*outcome),
            Err(_) => Ending::Stopped,
        }
    }
}

/// Runs a started engine to its end on its own task, acting on `cloud` if
/// one is given. The report is written next to the journal before the end
/// is told, so a front end that leaves at once does not lose it; failing
/// to write it does not change how the run went.
pub fn launch(started: Started, cloud: Option<Arc<dyn Cloud>>) -> Running {
    let Started {
        mut engine,
        events,
        questions,
    } = started;
    let world = cloud.clone();
    if let Some(cloud) = cloud {
        engine = engine.with_cloud(cloud);
    }
    let cancel = engine.cancel_token();
    let journal = engine.journal_path().map(Path::to_owned);
    let report_next_to = journal.clone();
    let end = tokio::spawn(async move {
        let outcome = engine.run().await.map(|summary| summary.outcome);
        // However the run ended, the world is kept as it is now.
        if let Some(world) = &world {
            world.close_run();
        }
        let report = match (report_next_to, &outcome) {
            (Some(journal), Ok(_)) => Some(
                tokio::task::spawn_blocking(move || {
                    crate::report::write_next_to(&journal).map_err(|e| e.to_string())
                })
                .await
                .unwrap_or_else(|e| Err(format!("the report writer failed: {e}"))),
            ),
            _ => None,
        };
        RunEnd { outcome, report }
    });
    Running {
        events,
        questions,
        cancel,
        journal,
        end,
    }
}

/// Archives a finished run's evidence (`--archive`): its journal, the
/// report files written next to it, then the manifest, to S3 through
/// `request`'s AWS options (`crate::team::archive`). The one call at a
/// run's end, after its report is written; it never changes how the run
/// went: what failed is in the answer, for the front end to say loudly.
pub async fn archive(
    journal: &Path,
    request: &crate::team::archive::ArchiveRequest,
) -> crate::team::archive::Archived {
    match AwsCloud::connect(&request.aws).await {
        Ok(cloud) => crate::team::archive::upload(&cloud, request, journal).await,
        Err(e) => crate::team::archive::Archived {
            url: request.target.to_string(),
            failure: Some(format!("cannot reach S3: {e}")),
            not_uploaded: vec!["every file".into()],
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One rule for the console and the headless run alike.
    #[test]
    fn a_run_exits_by_how_it_ended() {
        assert_eq!(Ending::NotStarted.exit_code(), EXIT_OK);
        assert_eq!(Ending::Finished(Outcome::Succeeded).exit_code(), EXIT_OK);
        assert_eq!(Ending::Finished(Outcome::Failed).exit_code(), EXIT_FAILED);
        assert_eq!(Ending::Finished(Outcome::Aborted).exit_code(), EXIT_ABORTED);
        assert_eq!(
            Ending::Finished(Outcome::Cancelled).exit_code(),
            EXIT_ABORTED
        );
        assert_eq!(Ending::Stopped.exit_code(), EXIT_ABORTED);
    }
}
