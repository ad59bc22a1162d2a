//! A run on the team's shared table (`--team TABLE`, docs/team.md,
//! "Running a team drill"): reaching the table and who this process is
//! ([`connect`]), registering a new run and driving it ([`register`],
//! [`Driving`]), and rebuilding a run from the shared log on another
//! machine before `resume` goes on ([`rebuild`]).
//!
//! It decides nothing about steps: the engine runs them, the recorder
//! mirrors each journal line through [`SharedLog`], and the lease rules
//! are `team::lease`'s. What it owns: the order of things at a team run's
//! start and end (the lease, `DriverChanged`, the heartbeat, the release),
//! and the checks on a shared log read back before it becomes a local
//! journal. Every line read from the table is hostile: it goes through
//! the journal reader's own checks and caps.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::{Refused, World};
use crate::cloud::Cloud;
use crate::cloud::aws::{AwsCloud, AwsOptions};
use crate::engine::event::{EventKind, Outcome, RunEvent};
use crate::engine::journal::{self, MAX_JOURNAL_EVENTS, MAX_JOURNAL_LINE};
use crate::engine::ledger::RunLedger;
use crate::engine::participant::Participant;
use crate::engine::{self, Started};
use crate::team::lease::{Heartbeat, TakeOver, status_of, take_over};
use crate::team::log::{LogOptions, SharedLog};
use crate::team::{DynamoStore, Lease, LeaseRequest, RunEntry, RunState, TeamError, TeamStore};

/// The default lease: a driver silent this long may be taken over.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// Lines asked of the table per page when the shared log is read back.
const PAGE: usize = 500;

/// A team run's table and this process's place in it.
#[derive(Clone)]
pub struct Team {
    /// The shared table.
    pub store: Arc<dyn TeamStore>,
    /// Who this process is, as STS says, with its display name.
    pub me: Participant,
    /// `user@host pid N`.
    pub process: String,
    /// How long this process's lease lasts without a heartbeat.
    pub lease_duration: Duration,
}

impl Team {
    /// A team on `store` (tests build one over `MemoryStore`).
    pub fn new(store: Arc<dyn TeamStore>, me: Participant, lease_duration: Duration) -> Self {
        Self {
            store,
            me,
            process: format!("{} pid {}", engine::operator(), std::process::id()),
            lease_duration,
        }
    }

    fn request(&self) -> LeaseRequest {
        LeaseRequest {
            holder: self.me.clone(),
            process: self.process.clone(),
            duration: self.lease_duration,
        }
    }

    fn table(&self) -> &str {
        self.store.table()
    }
}

/// The AWS options the team table is reached with: the run's own, or,
/// in the sandbox (whose steps act on the simulated world), the
/// environment's (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`): the
/// team table is always DynamoDB.
fn team_aws(world: &World) -> AwsOptions {
    match world {
        World::Aws(options) => options.clone(),
        World::Sandbox(_) => AwsOptions::default(),
    }
}

/// Reaches `table` the way `world` reaches AWS and asks STS who the
/// credentials are (`GetCallerIdentity`, through `cloud::aws`'s one STS
/// caller); `name` is the display name (`--as`, else `user@host`). The
/// table is read once (the runs index), so a table that cannot be
/// reached refuses the run before anything is written.
pub async fn connect(
    table: &str,
    world: &World,
    name: Option<String>,
    lease_duration: Duration,
) -> Result<Team, Refused> {
    let options = team_aws(world);
    let cloud = AwsCloud::connect(&options).await.map_err(|e| {
        Refused(format!(
            "team table {table}: cannot load AWS credentials ({e}); nothing was run"
        ))
    })?;
    let identity = cloud
        .caller_identity(&crate::cloud::quiet())
        .await
        .map_err(|e| {
            Refused(format!(
                "team table {table}: sts:GetCallerIdentity failed ({e}); the team needs to know who you are; nothing was run"
            ))
        })?;
    let store: Arc<dyn TeamStore> = Arc::new(DynamoStore::connect(&options, table).await);
    // A probe: DynamoDB Query on the runs index (what `dr-drill runs`
    // reads); refused before anything is written if the table is gone.
    store
        .runs(1)
        .await
        .map_err(|e| Refused(format!("{e}\nNothing was run.")))?;
    let name = name
        .map(|n| crate::format::printable(n.trim()).into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(engine::operator);
    Ok(Team::new(
        store,
        Participant::new(&identity, name),
        lease_duration,
    ))
}

/// A run this process drives on the team's table: its lease kept alive,
/// its lines mirrored. End it with [`Driving::finish`].
pub struct Driving {
    team: Team,
    run_id: String,
    log: Arc<SharedLog>,
    heartbeat: Heartbeat,
    ledger: Arc<Mutex<RunLedger>>,
    lost: mpsc::UnboundedReceiver<String>,
}

/// Registers a new run on the team's table, after its journal header is
/// written: the header as line 0, the runs index, the lease (token 1).
/// Then the mirror from line 1, `DriverChanged`, and the heartbeat.
pub async fn register(team: &Team, started: Started) -> Result<(Started, Driving), Refused> {
    let engine = &started.engine;
    let run_id = engine.run_id().to_owned();
    let journal_path = engine
        .journal_path()
        .ok_or_else(|| Refused("a team run needs a journal".into()))?
        .to_owned();
    let header = std::fs::read_to_string(&journal_path)
        .map_err(|e| Refused(format!("{}: {e}", journal_path.display())))?;
    let header = header.lines().next().unwrap_or_default().to_owned();
    let entry = RunEntry {
        run_id: run_id.clone(),
        runbook_id: engine.runbook().runbook.id.value.clone(),
        mode: engine.plan().mode.as_str().to_owned(),
        started_at: jiff::Timestamp::now(),
        driver: team.me.clone(),
    };
    let lease = team
        .store
        .create_run(&entry, &header, &team.request())
        .await
        .map_err(|e| {
            Refused(format!(
                "{e}\nNothing was run; the local journal {} holds only its header.",
                journal_path.display()
            ))
        })?;
    drive(team, started, lease, None).await
}

/// Attaches the shared log (from the recorder's next line, with `lease`'s
/// token) and the heartbeat to `started`, and records `DriverChanged`.
async fn drive(
    team: &Team,
    started: Started,
    lease: Lease,
    took_over: Option<String>,
) -> Result<(Started, Driving), Refused> {
    let run_id = started.engine.run_id().to_owned();
    let (log, mut notices) = SharedLog::start(
        team.store.clone(),
        run_id.clone(),
        lease.token,
        LogOptions::default(),
    );
    let log = Arc::new(log);
    // A team run: others answer from their own machines, and the driver
    // is who the team's credentials say (the identity the rules compare
    // inbox answers with).
    let mut people = started.engine.people().clone();
    people.team = true;
    people.driver = Some(team.me.clone());
    let engine = started.engine.with_people(people).with_mirror(log.clone());
    let recorder = engine.recorder();
    // The ledger the heartbeat reads its status from.
    let ledger = Arc::new(Mutex::new(RunLedger::new(engine.runbook())));
    let mut events = recorder.subscribe();
    let fold = ledger.clone();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            lock(&fold).apply(&event);
        }
    });
    // The shared log's own events (caught up) are journaled while the run
    // lives; the task holds the recorder weakly, so the run's event stream
    // still closes at its end.
    let weak = recorder.downgrade();
    tokio::spawn(async move {
        while let Some(kind) = notices.recv().await {
            let Some(recorder) = weak.upgrade() else {
                break;
            };
            if let Err(e) = recorder.note(kind) {
                tracing::warn!("team log: the caught-up event was not journaled: {e}");
            }
        }
    });
    // Recorded by the engine right after `run_started` (or
    // `run_resumed`), so the journal opens as every journal does.
    let engine = engine.with_driver(EventKind::DriverChanged {
        driver: team.me.clone(),
        process: team.process.clone(),
        token: lease.token,
        took_over,
    });
    let (lost_tx, lost) = mpsc::unbounded_channel();
    let status_ledger = ledger.clone();
    let heartbeat = Heartbeat::start(
        team.store.clone(),
        lease,
        Arc::new(move || status_of(&lock(&status_ledger))),
        engine.cancel_token(),
        lost_tx,
    );
    Ok((
        Started { engine, ..started },
        Driving {
            team: team.clone(),
            run_id,
            log,
            heartbeat,
            ledger,
            lost,
        },
    ))
}

fn lock(ledger: &Mutex<RunLedger>) -> std::sync::MutexGuard<'_, RunLedger> {
    ledger.lock().unwrap_or_else(|p| p.into_inner())
}

impl Driving {
    /// Ends the drive once the run has ended (or stopped): `fenced` says
    /// the journal refused a line because another process drives the run.
    /// Writes what is left of the log, then releases the lease:
    /// `Finished` when the run succeeded (a finished run is not resumed,
    /// the rule `engine::resume` keeps), else `Released` so anyone may
    /// resume at once. Returns the line to print and exit 3 with when
    /// this process lost the run.
    pub async fn finish(self, fenced: bool) -> Option<String> {
        let Driving {
            team,
            run_id,
            log,
            heartbeat,
            ledger,
            mut lost,
        } = self;
        let lost = lost.try_recv().ok();
        let lease = heartbeat.stop();
        if fenced || lost.is_some() {
            return Some(lost_line(&team, &run_id).await);
        }
        let status = status_of(&lock(&ledger));
        let succeeded = lock(&ledger).outcome() == Some(Outcome::Succeeded);
        if let Err(why) = log.settle(Duration::from_secs(30)).await {
            let _ = writeln!(std::io::stderr(), "warning: {why}");
        }
        let state = if succeeded {
            RunState::Finished
        } else {
            RunState::Released
        };
        match team.store.release(&lease, state, &status).await {
            Ok(()) => None,
            Err(TeamError::Fenced { .. }) => Some(lost_line(&team, &run_id).await),
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: the run's lease was not released ({e}); others can take it over once it expires"
                );
                None
            }
        }
    }
}

/// "this process lost run RUN to NAME (ARN) at …", from the lease now.
async fn lost_line(team: &Team, run: &str) -> String {
    {
        let table = team.table();
        let (who, at) = match team.store.lease(run).await {
            Ok(Some(now)) => (now.holder.describe(), now.heartbeat_at.to_string()),
            _ => ("another process".into(), "an unknown time".into()),
        };
        let line = format!(
            "this process lost run {run} to {who} at {at}; it stops without acting; follow the run with `dr-drill watch {run} --team {table}`"
        );
        crate::format::printable(&line).into_owned()
    }
}

/// What [`rebuild`] did to the local journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Rebuilt {
    /// The local journal.
    pub journal: PathBuf,
    /// Lines copied from the shared log into it.
    pub copied: usize,
    /// Lines of the local journal the shared log lacked, written to it.
    pub pushed: usize,
    /// The lease this process now holds.
    pub lease: Lease,
}

/// Before `resume RUN --team`: checks the run is not finished, makes the
/// local journal under `data_dir` equal the shared log (written whole
/// when there is none, brought up to it when it is behind; refused,
/// naming the line, when they disagree), takes the lease as `mode` says
/// (`notify` hears what it waits for), and writes the lines the shared
/// log lacks (this process degraded, then died) with the new token.
pub async fn rebuild(
    team: &Team,
    run: &str,
    data_dir: &Path,
    mode: &TakeOver,
    notify: &(dyn Fn(String) + Send + Sync),
) -> Result<Rebuilt, Refused> {
    let table = team.table().to_owned();
    let finished = || {
        Refused(format!(
            "run {run} has finished; see `dr-drill report` (nothing was changed)"
        ))
    };
    match team.store.lease(run).await.map_err(Refused::because)? {
        None => {
            return Err(Refused::because(TeamError::NoRun {
                table,
                run: run.to_owned(),
            }));
        }
        Some(lease) if lease.state == RunState::Finished => return Err(finished()),
        Some(_) => {}
    }
    let journal = data_dir.join("runs").join(run).join("journal.jsonl");
    let shared = read_shared(team, run, &journal).await?;
    let local = read_local(&journal)?;
    for (n, (ours, theirs)) in local.iter().zip(&shared).enumerate() {
        if ours != theirs {
            return Err(Refused(format!(
                "run {run}: line {} of {} (seq {n}) differs from the shared log of table {table}; nothing was changed. Move the local run directory away to rebuild it from the shared log, or resume without --team",
                n + 1,
                journal.display()
            )));
        }
    }
    let copied = shared.len().saturating_sub(local.len());
    if copied > 0 {
        write_lines(&journal, &shared[local.len()..], local.is_empty())
            .map_err(|e| Refused(format!("{}: {e}; nothing was run", journal.display())))?;
    }
    let lease = take_over(team.store.as_ref(), run, &team.request(), mode, notify)
        .await
        .map_err(|e| match e {
            TeamError::Finished { .. } => finished(),
            e => Refused::because(e),
        })?;
    let extra = &local[shared.len().min(local.len())..];
    for (i, line) in extra.iter().enumerate() {
        let seq = (shared.len() + i) as u64;
        team.store
            .append(run, lease.token, seq, line)
            .await
            .map_err(|e| {
                Refused(format!(
                    "{e}\nline {} of {} could not be written to the shared log; nothing was run",
                    seq + 1,
                    journal.display()
                ))
            })?;
    }
    Ok(Rebuilt {
        journal,
        copied,
        pushed: extra.len(),
        lease,
    })
}

/// Goes on driving a reopened run with the lease [`rebuild`] took:
/// `DriverChanged` (with `took_over`'s reason), the mirror from the
/// journal's next line, the heartbeat.
pub async fn go_on(
    team: &Team,
    started: Started,
    lease: Lease,
    took_over: Option<String>,
) -> Result<(Started, Driving), Refused> {
    drive(team, started, lease, took_over).await
}

/// The whole shared log of `run`, checked as the journal reader checks a
/// journal: the header (line 0) parsed and its runbook hash verified, and
/// for the same run; every later line an event; lines in order with no
/// gap; at most [`MAX_JOURNAL_EVENTS`] events and [`MAX_JOURNAL_LINE`]
/// bytes a line.
async fn read_shared(team: &Team, run: &str, path: &Path) -> Result<Vec<String>, Refused> {
    let table = team.table();
    let mut lines: Vec<String> = Vec::new();
    loop {
        let from = lines.len() as u64;
        let page = team
            .store
            .read_log(run, from, PAGE)
            .await
            .map_err(Refused::because)?;
        let got = page.len();
        for (seq, line) in page {
            let at = lines.len() as u64;
            let damaged = |why: String| {
                Refused(format!(
                    "table {table}, run {run}, line seq {seq}: {why}; the shared log is not used and nothing was run"
                ))
            };
            if seq != at {
                return Err(damaged(format!("expected line seq {at}")));
            }
            if line.len() > MAX_JOURNAL_LINE || line.contains('\n') {
                return Err(damaged("longer than a journal line may be".into()));
            }
            if at as usize > MAX_JOURNAL_EVENTS {
                return Err(damaged(format!(
                    "more than {MAX_JOURNAL_EVENTS} events, more than a journal holds"
                )));
            }
            if seq == 0 {
                let header =
                    journal::read_header(path, &line).map_err(|e| damaged(e.to_string()))?;
                if header.run_id != run {
                    return Err(damaged(format!(
                        "its header is for another run ({})",
                        crate::format::printable(&header.run_id)
                    )));
                }
            } else {
                serde_json::from_str::<RunEvent>(&line)
                    .map_err(|e| damaged(format!("not a journal event ({e})")))?;
            }
            lines.push(line);
        }
        if got < PAGE {
            break;
        }
    }
    if lines.is_empty() {
        return Err(Refused::because(TeamError::NoRun {
            table: table.to_owned(),
            run: run.to_owned(),
        }));
    }
    Ok(lines)
}

/// The local journal's complete lines (none when there is no journal).
/// It is read as `resume` reads it, so a damaged one is refused here.
fn read_local(path: &Path) -> Result<Vec<String>, Refused> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    // The reader's checks (header, events, caps); its lines as written.
    journal::read(path).map_err(Refused::because)?;
    let text =
        std::fs::read_to_string(path).map_err(|e| Refused(format!("{}: {e}", path.display())))?;
    // A half-written last line (the process died mid-write) is not a line.
    let complete = text.ends_with('\n');
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if !complete {
        lines.pop();
    }
    Ok(lines)
}

/// Writes `lines` to the journal at `path`: a new file (0600, in a 0700
/// directory) when `new`, else appended; fsync'd before it returns.
fn write_lines(path: &Path, lines: &[String], new: bool) -> std::io::Result<()> {
    let mut file = if new {
        if let Some(dir) = path.parent() {
            crate::fsx::create_private_dir(dir)?;
        }
        crate::fsx::create_new_private_file(path)?
    } else {
        // Drop a half-written last line before appending whole ones.
        let text = std::fs::read(path)?;
        let keep = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.set_len(keep as u64)?;
        drop(file);
        crate::fsx::append_private_file(path)?
    };
    let mut buf = String::new();
    for line in lines {
        buf.push_str(line);
        buf.push('\n');
    }
    file.write_all(buf.as_bytes())?;
    file.sync_all()?;
    if new && let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Runs a team run headless to its end (`super::headless::run`), then
/// ends the drive: the lease released, or, when this process lost the
/// run, one line saying to whom, and exit 3.
pub async fn run_headless(
    started: Started,
    cloud: Option<Arc<dyn Cloud>>,
    answers: crate::engine::headless::HeadlessAnswers,
    output: super::Output,
    driving: Driving,
) -> std::process::ExitCode {
    // Questions go to the flags and to the run's inbox at once.
    let relay = super::team_answers::Relay {
        store: driving.team.store.clone(),
        run: driving.run_id.clone(),
        front: super::team_answers::FrontEnd::Headless(answers.clone()),
        people: started.engine.people().clone(),
        poll: super::team_answers::POLL,
    };
    let mut started = started;
    started.questions = relay.start(started.engine.runbook(), started.questions);
    let (code, fenced) = super::headless::run_to_end(started, cloud, answers, output).await;
    match driving.finish(fenced).await {
        Some(line) => {
            let _ = writeln!(std::io::stderr(), "error: {line}");
            std::process::ExitCode::from(super::EXIT_ABORTED)
        }
        None => code,
    }
}
