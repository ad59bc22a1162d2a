//! The engine runs a checked runbook: it decides what runs when, measures
//! it, journals it, and asks humans through requests with reply channels.
//!
//! It knows nothing of the terminal: it reports through [`event::RunEvent`]s
//! that the journal, the headless printer, the console and the report all
//! consume, and it never blocks the async runtime.

pub mod approval;
pub mod clock;
pub mod event;
pub mod headless;
pub mod human;
pub mod journal;
pub mod ledger;
pub mod mirror;
pub mod output;
pub mod participant;
pub mod plan;
pub mod recorder;
pub mod redact;
pub mod resume;
mod runner;
mod scheduler;
pub mod timeline;
pub mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use crate::format::humanize;
pub use scheduler::{Progress, RunSummary};

use clock::Clock;
use event::{EventKind, RunEvent};
use human::HumanRequest;
use journal::{JournalError, JournalHeader, JournalWriter};
use plan::Plan;
use recorder::Recorder;
use runner::StepCtx;
use values::Values;

use crate::runbook::{Mode, Runbook};

/// Steps run at once when nothing else is said.
pub const DEFAULT_MAX_PARALLEL: usize = 8;

/// What a run needs to start.
#[derive(Debug, Clone)]
pub struct RunSetup {
    /// The checked runbook.
    pub runbook: Runbook,
    /// Its text, kept in the journal.
    pub runbook_text: String,
    /// Where it was read from.
    pub runbook_path: PathBuf,
    /// Drill or incident.
    pub mode: Mode,
    /// Parameter values given by the operator.
    pub params: BTreeMap<String, String>,
    /// The declared outage start (incident mode); the run's start otherwise.
    pub t0: Option<Timestamp>,
    /// `user@host`.
    pub operator: String,
    /// Where runs are kept (`<data>/runs/<run-id>/`).
    pub data_dir: PathBuf,
    /// Steps at once.
    pub max_parallel: usize,
    /// The world the run acts on, for its journal.
    pub world: Option<journal::WorldRecord>,
    /// Who holds each role (`--role`, the start form).
    pub roles: participant::Roles,
    /// Who drives the run (`session::people::driver`); `None` when the
    /// world told no identity.
    pub driver: Option<participant::Participant>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A parameter is missing, unknown or not one of its choices.
    #[error("{0}")]
    Params(String),
    /// The step graph is not runnable.
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    /// The journal could not be created.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// A run that is ready to go: subscribe to its events and answer its
/// questions, then call [`Engine::run`].
pub struct Engine {
    runbook: Arc<Runbook>,
    plan: Plan,
    recorder: Recorder,
    human: mpsc::Sender<HumanRequest>,
    values: Arc<RwLock<Values>>,
    cancel: CancellationToken,
    run_id: String,
    run_dir: PathBuf,
    journal_path: Option<PathBuf>,
    mode: Mode,
    t0: Timestamp,
    max_parallel: usize,
    prior: Progress,
    /// Set when resuming: the `RunResumed` event to record first.
    resumed: Option<EventKind>,
    /// AWS or the simulated world, for the steps that need it.
    cloud: Option<Arc<dyn crate::cloud::Cloud>>,
    /// A person answers at a console (not headless answers).
    at_console: bool,
    /// The driver, the run's roles, and whether it is a team run.
    people: Arc<approval::RunPeople>,
    /// The `PreflightRan` event to record before the first step.
    preflight: Option<EventKind>,
    /// Who drives (a team run's `DriverChanged`), recorded right after
    /// the run starts or resumes.
    driver: Option<EventKind>,
    /// Held for the life of the run.
    _lock: Option<journal::RunLock>,
}

/// The ends a caller holds on a run.
pub struct Started {
    /// The engine.
    pub engine: Engine,
    /// Every event of the run.
    pub events: mpsc::UnboundedReceiver<RunEvent>,
    /// The questions steps ask; answer each on its reply channel.
    pub questions: mpsc::Receiver<HumanRequest>,
}

/// The parameter values for a run: given ones, then defaults; an error
/// names every missing, unknown or invalid one.
pub fn resolve_params(
    runbook: &Runbook,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, StartError> {
    let mut values = BTreeMap::new();
    let mut problems = Vec::new();
    for name in given.keys() {
        if runbook.param(name).is_none() {
            let known: Vec<&str> = runbook
                .params
                .iter()
                .map(|p| p.name.value.as_str())
                .collect();
            problems.push(format!(
                "`{name}` is not a parameter of this runbook (it has: {})",
                known.join(", ")
            ));
        }
    }
    for p in &runbook.params {
        let name = &p.name.value;
        let value = given
            .get(name)
            .cloned()
            .or_else(|| p.default.as_ref().map(|d| d.value.clone()));
        match value {
            // An empty value given on purpose (`--param p=`) is a value.
            Some(v) if (!v.is_empty() || !p.required) && p.problem(&v).is_some() => {
                problems.extend(p.problem(&v))
            }
            Some(v) => {
                values.insert(name.clone(), v);
            }
            None if p.required => problems.push(format!(
                "`{name}` is required{}{}: give it with --param {name}=VALUE",
                p.description
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default(),
                if p.secret {
                    "; it is secret, so no journal keeps it and a resume needs it again"
                } else {
                    ""
                }
            )),
            None => {}
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(StartError::Params(format!(
            "the parameters are not right:\n  - {}",
            problems.join("\n  - ")
        )))
    }
}

/// Parameter values as the journal keeps them: secrets redacted.
pub fn redacted(runbook: &Runbook, params: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    params
        .iter()
        .map(|(k, v)| {
            let secret = runbook.param(k).is_some_and(|p| p.secret);
            (
                k.clone(),
                if secret {
                    journal::REDACTED.to_string()
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

/// The values of the secret parameters and of this process's AWS secret
/// variables, to keep out of every event.
pub fn secret_values(runbook: &Runbook, params: &BTreeMap<String, String>) -> Vec<String> {
    params
        .iter()
        .filter(|(k, _)| runbook.param(k).is_some_and(|p| p.secret))
        .map(|(_, v)| v.clone())
        // A shell step outside the sandbox sees this process's AWS
        // credentials; if it prints them, the journal must not keep them.
        .chain(
            [
                "AWS_SESSION_TOKEN",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SECURITY_TOKEN",
            ]
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .filter(|v| v.len() >= 8),
        )
        .collect()
}

/// `user@host` of whoever runs this process.
pub fn operator() -> String {
    let user = std::env::var("USER")
        .ok()
        .or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|u| u.name)
        })
        .unwrap_or_else(|| "unknown".into());
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown-host".into());
    format!("{user}@{host}")
}

/// The directory runs are kept in: `$DR_DRILL_DATA_DIR`, or the user's data
/// directory (`~/.local/share/dr-drill` on Linux).
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DR_DRILL_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "dr-drill")
        .map(|d| d.data_dir().to_owned())
        .unwrap_or_else(|| PathBuf::from(".dr-drill"))
}

/// Starts a new run: resolves parameters, creates the run's directory and
/// journal (its header durable before anything runs).
pub fn start(setup: RunSetup) -> Result<Started, StartError> {
    let params = resolve_params(&setup.runbook, &setup.params)?;
    let plan = Plan::new(&setup.runbook, setup.mode)?;
    let clock = Clock::start();
    let started_at = clock.now().0;
    let t0 = setup.t0.unwrap_or(started_at);
    let (run_id, run_dir) =
        new_run_dir(&setup.data_dir, &setup.runbook.runbook.id.value, started_at);
    let journal_path = run_dir.join("journal.jsonl");
    let header = JournalHeader {
        journal_format: journal::JOURNAL_FORMAT,
        run_id: run_id.clone(),
        runbook_path: setup.runbook_path.clone(),
        runbook_sha256: journal::sha256_hex(&setup.runbook_text),
        runbook_text: setup.runbook_text.clone(),
        mode: setup.mode,
        t0,
        started_at,
        operator: setup.operator.clone(),
        params: redacted(&setup.runbook, &params),
        dr_drill_version: env!("CARGO_PKG_VERSION").to_string(),
        world: setup.world.clone(),
        roles: setup.roles.clone(),
        driver: setup.driver.clone(),
    };
    let lock = journal::lock_run(&run_dir)?;
    let journal = JournalWriter::create(&journal_path, &header)?;
    let recorder = Recorder::new(clock, Some(journal), secret_values(&setup.runbook, &params));
    Ok(assemble(
        setup.runbook,
        plan,
        recorder,
        params,
        Assembly {
            run_id,
            run_dir,
            journal_path: Some(journal_path),
            mode: setup.mode,
            t0,
            operator: setup.operator,
            max_parallel: setup.max_parallel,
            prior: Progress::default(),
            lock: Some(lock),
            people: approval::RunPeople {
                driver: setup.driver,
                roles: setup.roles,
                team: false,
            },
        },
    ))
}

struct Assembly {
    run_id: String,
    run_dir: PathBuf,
    journal_path: Option<PathBuf>,
    mode: Mode,
    t0: Timestamp,
    operator: String,
    max_parallel: usize,
    prior: Progress,
    lock: Option<journal::RunLock>,
    /// The driver and the roles, from the setup or the journal's header;
    /// solo (the team part sets `team` with `Engine::with_people`).
    people: approval::RunPeople,
}

fn assemble(
    runbook: Runbook,
    plan: Plan,
    recorder: Recorder,
    params: BTreeMap<String, String>,
    a: Assembly,
) -> Started {
    let events = recorder.subscribe();
    let (human, questions) = mpsc::channel(16);
    let run = BTreeMap::from([
        ("id", a.run_id.clone()),
        ("mode", a.mode.as_str().to_string()),
        ("t0", a.t0.to_string()),
        ("dir", a.run_dir.display().to_string()),
        ("operator", a.operator),
    ]);
    let values = Arc::new(RwLock::new(Values {
        params,
        outputs: Default::default(),
        run,
    }));
    Started {
        engine: Engine {
            runbook: Arc::new(runbook),
            plan,
            recorder,
            human,
            values,
            cancel: CancellationToken::new(),
            run_id: a.run_id,
            run_dir: a.run_dir,
            journal_path: a.journal_path,
            mode: a.mode,
            t0: a.t0,
            max_parallel: a.max_parallel.max(1),
            prior: a.prior,
            resumed: None,
            cloud: None,
            at_console: false,
            people: Arc::new(a.people),
            preflight: None,
            driver: None,
            _lock: a.lock,
        },
        events,
        questions,
    }
}

/// `<runbook-id>-<UTC time>` and its directory, unique under `data_dir`.
fn new_run_dir(data_dir: &Path, runbook_id: &str, at: Timestamp) -> (String, PathBuf) {
    let stamp = at.strftime("%Y%m%dT%H%M%SZ").to_string();
    let runs = data_dir.join("runs");
    let mut run_id = format!("{runbook_id}-{stamp}");
    let mut n = 2;
    while runs.join(&run_id).exists() {
        run_id = format!("{runbook_id}-{stamp}-{n}");
        n += 1;
    }
    let dir = runs.join(&run_id);
    (run_id, dir)
}

impl Engine {
    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The run's directory.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The journal's path.
    pub fn journal_path(&self) -> Option<&Path> {
        self.journal_path.as_deref()
    }

    /// The plan the run follows.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The runbook.
    pub fn runbook(&self) -> &Runbook {
        &self.runbook
    }

    /// A copy of the values templates resolve to now.
    pub fn values(&self) -> Values {
        self.values
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Steps of the plan still to run (all of them for a new run).
    pub fn remaining(&self) -> Vec<usize> {
        self.plan
            .order
            .iter()
            .copied()
            .filter(|i| {
                !matches!(
                    self.prior.finished.get(i),
                    Some((event::Outcome::Succeeded | event::Outcome::Waived, _))
                )
            })
            .collect()
    }

    /// Steps that were running when the console died (resumed runs).
    pub fn interrupted(&self) -> Vec<usize> {
        let mut steps: Vec<usize> = self.prior.interrupted.iter().copied().collect();
        steps.sort_unstable();
        steps
    }

    /// The engine of a resumed run, which records `resumed` (a
    /// `RunResumed` event) when it starts.
    pub(crate) fn resumed_with(self, resumed: EventKind) -> Self {
        Self {
            resumed: Some(resumed),
            ..self
        }
    }

    /// The engine acting on `cloud` (AWS or the simulated world): AWS
    /// steps need one; its identity is journaled when the run starts.
    pub fn with_cloud(self, cloud: std::sync::Arc<dyn crate::cloud::Cloud>) -> Self {
        Self {
            cloud: Some(cloud),
            ..self
        }
    }

    /// The engine recording `driver` (who drives a team run, and how they
    /// came to) right after the run starts or resumes, before anything
    /// else happens.
    pub fn with_driver(self, driver: EventKind) -> Self {
        Self {
            driver: Some(driver),
            ..self
        }
    }

    /// The engine recording what preflight found (and whether the run was
    /// forced past a failed check) before its first step.
    pub fn with_preflight(self, preflight: crate::preflight::Preflight, forced: bool) -> Self {
        Self {
            preflight: Some(EventKind::PreflightRan {
                preflight: Box::new(preflight),
                forced,
            }),
            ..self
        }
    }

    /// The run's people: its driver, roles, and whether it is a team run.
    pub fn people(&self) -> &approval::RunPeople {
        &self.people
    }

    /// The engine run by `people.driver`, with the run's roles; a team
    /// run when `people.team` (the session sets it from `--team`).
    pub fn with_people(self, people: approval::RunPeople) -> Self {
        Self {
            people: Arc::new(people),
            ..self
        }
    }

    /// The engine answered by a person at a console: a pick with a
    /// policy shows the policy's choice for the operator to accept or
    /// change (headless runs keep the policy without asking).
    pub fn at_console(self) -> Self {
        Self {
            at_console: true,
            ..self
        }
    }

    /// The engine of a team run: every journal line goes to `mirror` (the
    /// team's shared log) too, from the next line on, and evidence waits
    /// for it as for the fsync (`engine/mirror.rs`).
    pub fn with_mirror(self, mirror: Arc<dyn mirror::Mirror>) -> Self {
        if !self.recorder.set_mirror(mirror) {
            tracing::warn!("a second mirror was ignored; the run keeps its first");
        }
        self
    }

    /// The run's recorder: for a session's own events (the shared log
    /// catching up) while the engine runs.
    pub fn recorder(&self) -> Recorder {
        self.recorder.clone()
    }

    /// A token that cancels the run (Ctrl-C): running steps are cancelled,
    /// their child processes killed, nothing new starts.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Runs to the end. An error means the journal could not record
    /// evidence; the run stopped at that point.
    pub async fn run(mut self) -> Result<RunSummary, JournalError> {
        // Credentials from a profile, SSO or a role are secrets too, not
        // only the `AWS_*` variables `secret_values` knows.
        if let Some(cloud) = &self.cloud {
            self.recorder.add_secrets(cloud.credential_secrets());
        }
        crate::fsx::create_private_dir_async(&self.run_dir)
            .await
            .map_err(|source| JournalError::Io {
                path: self.run_dir.clone(),
                source,
            })?;
        match self.resumed.clone() {
            None => {
                self.recorder
                    .record(EventKind::RunStarted {
                        run_id: self.run_id.clone(),
                        mode: self.mode,
                        t0: self.t0,
                    })
                    .await?;
                if let Some(driver) = self.driver.take() {
                    self.recorder.record(driver).await?;
                }
            }
            Some(resumed) => {
                self.recorder.record(resumed).await?;
                if let Some(driver) = self.driver.take() {
                    self.recorder.record(driver).await?;
                }
                // Close the attempts the crash cut short, so the timeline
                // shows where it happened; the operator decides what next.
                let mut interrupted: Vec<usize> = self.prior.interrupted.iter().copied().collect();
                interrupted.sort_unstable();
                for i in interrupted {
                    self.recorder
                        .record(EventKind::StepFinished {
                            step: self.runbook.steps[i].id.value.clone(),
                            outcome: event::Outcome::Interrupted,
                            outputs: Default::default(),
                            reason: Some("the console stopped while this step was running".into()),
                        })
                        .await?;
                }
            }
        }
        if let Some(cloud) = &self.cloud {
            cloud.attach_run_dir(&self.run_dir);
            self.recorder
                .record(EventKind::CloudConnected {
                    identity: cloud.identity(),
                })
                .await?;
        }
        if let Some(preflight) = self.preflight.take() {
            self.recorder.record(preflight).await?;
        }
        let base = StepCtx {
            runbook: self.runbook.clone(),
            index: 0,
            attempt: 1,
            recorder: self.recorder.clone(),
            human: self.human.clone(),
            values: self.values.clone(),
            run_dir: self.run_dir.clone(),
            cloud: self.cloud.clone(),
            at_console: self.at_console,
            people: self.people.clone(),
        };
        // Only step tasks hold the question channel from here, so the
        // answering side sees it close when the run is over.
        drop(self.human);
        let scheduler = scheduler::Scheduler {
            runbook: self.runbook,
            plan: self.plan,
            recorder: self.recorder,
            base,
            values: self.values,
            cancel: self.cancel,
            max_parallel: self.max_parallel,
            t0: self.t0,
        };
        scheduler.run(self.prior).await
    }
}

/// A run with no journal, for tests and benchmarks: `run_dir` must exist.
pub fn start_unjournaled(
    runbook: Runbook,
    mode: Mode,
    params: BTreeMap<String, String>,
    run_dir: PathBuf,
    max_parallel: usize,
) -> Result<Started, StartError> {
    let params = resolve_params(&runbook, &params)?;
    let plan = Plan::new(&runbook, mode)?;
    let clock = Clock::start();
    let t0 = clock.now().0;
    let recorder = Recorder::new(clock, None, secret_values(&runbook, &params));
    Ok(assemble(
        runbook,
        plan,
        recorder,
        params,
        Assembly {
            run_id: "test".into(),
            run_dir,
            journal_path: None,
            mode,
            t0,
            operator: "tester@test".into(),
            max_parallel,
            prior: Progress::default(),
            lock: None,
            people: approval::RunPeople::default(),
        },
    ))
}
