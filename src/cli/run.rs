//! `dr-drill run RUNBOOK` and `dr-drill resume RUN`: their flags, and which
//! front end they open: a dry run (the plan, nothing executed), a headless
//! run (questions answered from flags, one line per event) or the console.
//! Starting, running and ending a run is the session's (`crate::session`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use tokio::runtime::Runtime;

use super::archive::ArchiveFlags;
use super::cloud::CloudArgs;
use super::{EXIT_OK, EXIT_USAGE};
use crate::cloud::Cloud;
use crate::engine::event::Answer;
use crate::engine::headless::HeadlessAnswers;
use crate::engine::{self, DEFAULT_MAX_PARALLEL};
use crate::runbook::{Mode, Runbook};
use crate::session::dry_run::{self, DryRunError};
use crate::session::headless::{self, NewRun};
use crate::session::preflight::Gate;
use crate::session::recorded;
use crate::session::team;
use crate::session::{Refused, Resumed, Session};
use crate::team::archive::ArchiveRequest;

pub use crate::session::Output;

/// Arguments of `dr-drill run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The runbook to run.
    #[arg(value_name = "RUNBOOK")]
    pub runbook: PathBuf,
    /// Answer every question from the command line and print one line per
    /// event, instead of opening the console.
    #[arg(long)]
    pub headless: bool,
    /// Print the plan (order, parallel groups, resolved values, what each
    /// step changes) and run nothing.
    #[arg(long, conflicts_with = "headless")]
    pub dry_run: bool,
    /// Drill (T0 is now) or incident (give the outage start with --t0).
    #[arg(long, value_enum, default_value_t = ModeArg::Drill)]
    pub mode: ModeArg,
    /// T0 as RFC 3339: the declared outage start, required in incident
    /// mode; in a drill it defaults to the moment the run starts.
    #[arg(long, value_name = "TIME")]
    pub t0: Option<jiff::Timestamp>,
    /// Headless: do not run preflight first (programs the steps require
    /// are still checked).
    #[arg(long, conflicts_with = "force")]
    pub no_preflight: bool,
    /// Headless: start even when preflight finds a failed check; the
    /// journal and the report say the run was forced.
    #[arg(long)]
    pub force: bool,
    /// Give a role to a person, ROLE=WHO (repeatable; a role given again
    /// adds a person). WHO is an IAM/STS ARN or the principal's own name
    /// (`alice@example.com`), as GetCallerIdentity tells it.
    #[arg(long = "role", value_name = "ROLE=WHO")]
    pub roles: Vec<String>,
    /// Answers, parameters and output.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Flags shared by `run` and `resume`.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Parameters and the data directory.
    #[command(flatten)]
    pub given: GivenArgs,
    /// Confirm a destructive step by typing its confirm text, STEP=TEXT.
    #[arg(long = "confirm", value_name = "STEP=TEXT", value_parser = confirm_value)]
    pub confirms: Vec<(String, String)>,
    /// Answer a manual or approve step, STEP=VALUE (`approve` approves).
    #[arg(long = "answer", value_name = "STEP=VALUE", value_parser = key_value)]
    pub answers: Vec<(String, String)>,
    /// Lines for people, or JSON (JSON Lines of events; one document for a dry run).
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Steps run at once, at most.
    #[arg(long, default_value_t = DEFAULT_MAX_PARALLEL as u16, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_parallel: u16,
    /// Where AWS actions go.
    #[command(flatten)]
    pub cloud: CloudArgs,
    /// The evidence archive in S3, at the run's end.
    #[command(flatten)]
    pub archive: ArchiveFlags,
    /// The team's shared table.
    #[command(flatten)]
    pub team: TeamFlags,
}

/// `--team` and what goes with it (docs/team.md, "Running a team drill").
#[derive(Debug, Default, Args)]
pub struct TeamFlags {
    /// Share the run on the team's DynamoDB table (made with `dr-drill team
    /// init`), reached with --profile/--region/--endpoint-url; under
    /// --sandbox the steps act on the simulated world but the table is
    /// still DynamoDB, reached through the environment (AWS_PROFILE,
    /// AWS_REGION, AWS_ENDPOINT_URL).
    #[arg(long, value_name = "TABLE", env = "DR_DRILL_TEAM")]
    pub team: Option<String>,
    /// The name others see you by in a team run [default: user@host];
    /// who you are is what STS says of your credentials.
    #[arg(long = "as", value_name = "NAME", requires = "team")]
    pub display_name: Option<String>,
    /// How long this process's lease lasts without a heartbeat.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = lease_duration, hide = true)]
    pub lease_duration: std::time::Duration,
}

fn lease_duration(s: &str) -> Result<std::time::Duration, String> {
    let d = crate::runbook::model::Dur::parse(s)
        .map(|d| d.0)
        .map_err(|(m, h)| format!("{m}: {h}"))?;
    if d < std::time::Duration::from_secs(1) || d > crate::team::lease::MAX_WAIT {
        return Err("a lease lasts from 1s to 15m".into());
    }
    Ok(d)
}

impl TeamFlags {
    /// Reaches the team's table, when `--team` is given.
    fn connect(
        &self,
        runtime: &Runtime,
        world: &crate::session::World,
    ) -> Result<Option<team::Team>, Refused> {
        let Some(table) = &self.team else {
            return Ok(None);
        };
        runtime
            .block_on(team::connect(
                table,
                world,
                self.display_name.clone(),
                self.lease_duration,
            ))
            .map(Some)
    }
}

/// The parameters and where runs are kept: flags of `run`, `resume` and
/// `preflight`.
#[derive(Debug, Default, Args)]
pub struct GivenArgs {
    /// A parameter value, NAME=VALUE, or NAME=@env:VAR to read it from an
    /// environment variable (repeatable). Give secrets with @env:, a
    /// --param-file or the prompt: `ps` shows command lines.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = key_value)]
    pub params: Vec<(String, String)>,
    /// Parameter values from a TOML file of `NAME = "value"` lines, readable
    /// by its owner only (chmod 600); --param wins over it (repeatable).
    #[arg(long = "param-file", value_name = "FILE")]
    pub param_files: Vec<PathBuf>,
    /// Where runs are kept [default: $DR_DRILL_DATA_DIR, or the user's data directory].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl GivenArgs {
    /// Absolute, so paths handed to shell steps (`DR_DRILL_OUTPUT`) hold
    /// whatever directory the step runs in.
    pub(super) fn data_dir(&self) -> PathBuf {
        let dir = self
            .data_dir
            .clone()
            .unwrap_or_else(engine::default_data_dir);
        std::path::absolute(&dir).unwrap_or(dir)
    }

    /// The parameter values given by flags and files.
    pub(super) fn params(&self) -> Result<BTreeMap<String, String>, String> {
        super::params::gather(&self.param_files, &self.params)
    }
}

impl CommonArgs {
    fn data_dir(&self) -> PathBuf {
        self.given.data_dir()
    }

    fn params(&self) -> Result<BTreeMap<String, String>, String> {
        self.given.params()
    }

    fn answers(&self, interrupted: Option<Answer>) -> HeadlessAnswers {
        HeadlessAnswers {
            confirms: self.confirms.iter().cloned().collect(),
            answers: self.answers.iter().cloned().collect(),
            interrupted,
            operator: engine::operator(),
        }
    }
}

/// Arguments of `dr-drill resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run: its id, its directory, or its journal file.
    #[arg(value_name = "RUN-ID|PATH")]
    pub run: String,
    /// Answer every question from the command line instead of the console.
    #[arg(long)]
    pub headless: bool,
    /// Resume although the runbook file changed since the run started.
    #[arg(long)]
    pub force: bool,
    /// What to do with a step that was running when the console died.
    #[arg(long, value_enum)]
    pub interrupted: Option<InterruptedArg>,
    /// With --team: take the run's lease at once, before it expires; the
    /// journal records who and why.
    #[arg(long, value_name = "REASON", requires = "team")]
    pub take_over: Option<String>,
    /// Answers, parameters (secret ones again) and output.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `--interrupted`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InterruptedArg {
    /// Run the step again.
    Rerun,
    /// It was finished by hand: go on.
    Done,
    /// Stop the run.
    Abort,
}

/// `--mode`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// A planned drill.
    Drill,
    /// A real incident.
    Incident,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Drill => Mode::Drill,
            ModeArg::Incident => Mode::Incident,
        }
    }
}

pub(super) fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

/// `--confirm STEP=TEXT`: an empty TEXT would confirm an empty confirm
/// text, which is refused at run time, so it is refused here.
fn confirm_value(s: &str) -> Result<(String, String), String> {
    let (step, text) = key_value(s)?;
    if text.trim().is_empty() {
        return Err(format!(
            "`--confirm {step}=` gives no text: a destructive step is confirmed by typing what it destroys, e.g. --confirm {step}=TABLE-NAME"
        ));
    }
    Ok((step, text))
}

pub(super) fn usage(message: impl std::fmt::Display) -> color_eyre::Result<ExitCode> {
    let _ = writeln!(std::io::stderr(), "error: {message}");
    Ok(ExitCode::from(EXIT_USAGE))
}

pub(super) fn run(args: &RunArgs, runtime: &Runtime) -> color_eyre::Result<ExitCode> {
    let file = crate::runbook::check_file(&args.runbook);
    let Some(runbook) = file.checked.runbook.clone() else {
        let _ = write!(std::io::stderr(), "{}", file.render(false));
        return usage(format!("{} has errors; nothing was run", file.name));
    };
    let mode = Mode::from(args.mode);
    if mode == Mode::Incident && args.t0.is_none() && !args.dry_run {
        return usage(
            "an incident run needs --t0, the declared outage start (RFC 3339, e.g. 2026-11-22T03:10:00Z)",
        );
    }
    let mut given = match args.common.params() {
        Ok(given) => given,
        Err(e) => return usage(e),
    };
    let roles =
        match crate::session::people::read_roles(args.roles.iter().map(String::as_str), "--role") {
            Ok(roles) => roles,
            Err(e) => return usage(e),
        };
    if args.dry_run {
        return match dry_run::print(&runbook, mode, &given, args.common.output) {
            Ok(()) => Ok(ExitCode::from(EXIT_OK)),
            Err(DryRunError::Refused(e)) => usage(e),
            Err(DryRunError::Io(e)) => Err(e.into()),
        };
    }
    if !args.headless && args.common.team.team.is_some() {
        return usage(TEAM_CONSOLE);
    }
    if !args.headless {
        let console = ConsoleRunbook {
            runbook,
            text: file.source.clone(),
            path: args.runbook.clone(),
            mode,
            params: given,
            roles,
        };
        return interactive(runtime, console, &args.common, None);
    }
    // Secrets not given are asked for without echo (the console's start
    // form masks them instead).
    match super::params::ask_secrets(&super::params::missing_secrets(&runbook, &given, &[])) {
        Ok(asked) => given.extend(asked),
        Err(e) => return usage(e),
    }
    let answers = args.common.answers(None);
    // The team's table is reached before anything is written.
    let world = args.common.cloud.world();
    let team = match args.common.team.connect(runtime, &world) {
        Ok(team) => team,
        Err(e) => return usage(e),
    };
    let new_run = NewRun {
        runbook,
        runbook_text: file.source.clone(),
        // Absolute, so a resume from another directory finds it to compare.
        runbook_path: std::path::absolute(&args.runbook).unwrap_or_else(|_| args.runbook.clone()),
        mode,
        params: given,
        t0: args.t0,
        data_dir: args.common.data_dir(),
        max_parallel: usize::from(args.common.max_parallel),
        world,
        preflight: if args.no_preflight {
            Gate::Skip
        } else if args.force {
            Gate::Force
        } else {
            Gate::Stop
        },
        output: args.common.output,
        // A team run's steps may wait for answers from the team's inbox.
        team_inbox: team.is_some(),
        roles,
        team_driver: team.as_ref().map(|t| t.me.clone()),
    };
    let archive = args
        .common
        .archive
        .request(&new_run.world, args.common.cloud.region.as_deref());
    runtime.block_on(async {
        match headless::start(new_run, &answers).await {
            Ok((started, cloud)) => {
                let journal = started.engine.journal_path().map(Path::to_owned);
                let code = match &team {
                    Some(team) => match team::register(team, started).await {
                        Ok((started, driving)) => {
                            team::run_headless(started, cloud, answers, args.common.output, driving)
                                .await
                        }
                        Err(e) => return usage(e),
                    },
                    None => headless::run(started, cloud, answers, args.common.output).await,
                };
                archive_at_end(journal.as_deref(), archive.as_ref()).await;
                Ok(code)
            }
            Err(e) => usage(e),
        }
    })
}

/// Said when --team is asked of the console.
const TEAM_CONSOLE: &str = "--team runs headless for now (add --headless); the console does not drive team runs yet; nothing was run";

/// At a headless run's end, after its report: the archive, if asked.
/// Whatever happens to it, the exit code stays the run's.
async fn archive_at_end(journal: Option<&Path>, archive: Option<&ArchiveRequest>) {
    if let (Some(journal), Some(request)) = (journal, archive) {
        super::archive::archive_and_say(journal, request).await;
    }
}

/// A console run is not archived at its end yet: said after the console
/// closes, with the command that archives it.
fn console_not_archived(common: &CommonArgs) {
    if let Some(target) = &common.archive.archive {
        let _ = writeln!(
            std::io::stderr(),
            "note: --archive archives headless runs; archive this console run with: dr-drill archive RUN --to {target} (RUN under {})",
            common.data_dir().join("runs").display()
        );
    }
}

pub(super) fn resume(args: &ResumeArgs, runtime: &Runtime) -> color_eyre::Result<ExitCode> {
    let data_dir = args.common.data_dir();
    let mut given = match args.common.params() {
        Ok(given) => given,
        Err(e) => return usage(e),
    };
    if !args.headless && args.common.team.team.is_some() {
        return usage(TEAM_CONSOLE);
    }
    // A team run: the local journal made equal to the shared log and the
    // lease taken before the journal is read to go on.
    let team = match rebuild_from_team(args, runtime, &data_dir) {
        Ok(team) => team,
        Err(e) => return usage(e),
    };
    // The journal keeps no secret: those the run had are asked for again.
    let journal = engine::resume::locate(&args.run, &data_dir);
    if let Ok(contents) = engine::journal::read(&journal)
        && let Some(runbook) = crate::runbook::check_str(&contents.header.runbook_text).runbook
    {
        let again: Vec<String> = contents
            .header
            .params
            .iter()
            .filter(|(_, v)| v.as_str() == engine::journal::REDACTED)
            .map(|(k, _)| k.clone())
            .collect();
        match super::params::ask_secrets(&super::params::missing_secrets(&runbook, &given, &again))
        {
            Ok(asked) => given.extend(asked),
            Err(e) => return usage(e),
        }
    }
    let reopened = match crate::session::reopen(
        &args.run,
        &data_dir,
        given,
        args.force,
        usize::from(args.common.max_parallel),
    ) {
        Ok(reopened) => reopened,
        Err(e) => return usage(e),
    };
    let run_id = reopened.started.engine.run_id().to_owned();
    // The world the run started in, not the one the flags would choose.
    let world = match recorded::resume_world(
        &run_id,
        reopened.world.as_ref(),
        &args.common.cloud.flags(),
    ) {
        Ok((world, note)) => {
            if let Some(note) = note {
                let _ = writeln!(std::io::stderr(), "{note}");
            }
            world
        }
        Err(e) => return usage(e),
    };
    let started = reopened.started;
    if !args.headless {
        if let Some(refused) = no_terminal() {
            return refused;
        }
        let runbook = started.engine.runbook().clone();
        let mode = started.engine.plan().mode;
        let resumed = match crate::session::reopen_for_console(&reopened.journal, started) {
            Ok(resumed) => resumed,
            Err(e) => return usage(e),
        };
        let console = ConsoleRunbook {
            runbook,
            text: String::new(),
            path: reopened.journal,
            mode,
            params: BTreeMap::new(),
            roles: Default::default(),
        };
        let cloud = match runtime.block_on(async {
            let cloud = world.for_console(&console.runbook).await?;
            recorded::same_account(&run_id, reopened.world.as_ref(), cloud.as_ref())?;
            Ok::<_, Refused>(cloud)
        }) {
            Ok(cloud) => cloud,
            Err(Refused(e)) => return usage(e),
        };
        return open_console(runtime, console, cloud, &args.common, Some(resumed));
    }
    let interrupted = args.interrupted.map(|i| match i {
        InterruptedArg::Rerun => Answer::Rerun,
        InterruptedArg::Done => Answer::MarkDone,
        InterruptedArg::Abort => Answer::Abort,
    });
    let answers = args.common.answers(interrupted);
    let archive = args
        .common
        .archive
        .request(&world, args.common.cloud.region.as_deref());
    runtime.block_on(async {
        let team_inbox = team.is_some();
        match headless::go_on(
            started,
            &answers,
            &world,
            reopened.world.as_ref(),
            team_inbox,
        )
        .await
        {
            Ok((started, cloud)) => {
                let journal = started.engine.journal_path().map(Path::to_owned);
                let code = match team {
                    Some((team, lease)) => {
                        match team::go_on(&team, started, lease, args.take_over.clone()).await {
                            Ok((started, driving)) => {
                                team::run_headless(
                                    started,
                                    cloud,
                                    answers,
                                    args.common.output,
                                    driving,
                                )
                                .await
                            }
                            Err(e) => return usage(e),
                        }
                    }
                    None => headless::run(started, cloud, answers, args.common.output).await,
                };
                archive_at_end(journal.as_deref(), archive.as_ref()).await;
                Ok(code)
            }
            Err(e) => usage(e),
        }
    })
}

/// `resume --team`: reaches the table (in the world the flags choose, or
/// the environment's under --sandbox), makes the local journal equal to
/// the shared log and takes the lease. `None` without --team.
fn rebuild_from_team(
    args: &ResumeArgs,
    runtime: &Runtime,
    data_dir: &Path,
) -> Result<Option<(team::Team, crate::team::Lease)>, Refused> {
    let Some(team) = args
        .common
        .team
        .connect(runtime, &args.common.cloud.world())?
    else {
        return Ok(None);
    };
    let mode = match &args.take_over {
        Some(reason) => crate::team::lease::TakeOver::Now {
            reason: reason.clone(),
        },
        None => crate::team::lease::TakeOver::WaitForExpiry,
    };
    let say = |line: String| {
        let _ = writeln!(std::io::stderr(), "{}", crate::format::printable(&line));
    };
    let rebuilt = runtime.block_on(team::rebuild(&team, &args.run, data_dir, &mode, &say))?;
    if rebuilt.copied > 0 || rebuilt.pushed > 0 {
        say(format!(
            "journal {}: {} lines copied from the shared log, {} lines written to it",
            rebuilt.journal.display(),
            rebuilt.copied,
            rebuilt.pushed
        ));
    }
    Ok(Some((team, rebuilt.lease)))
}

/// A runbook to open in the console, before its cloud is connected.
pub(super) struct ConsoleRunbook {
    /// The checked runbook.
    pub runbook: Runbook,
    /// Its text, for the journal (empty for a reopened run).
    pub text: String,
    /// Where it was read from (the journal, for a reopened run).
    pub path: PathBuf,
    /// The mode the form starts in.
    pub mode: Mode,
    /// Parameter values the form starts with.
    pub params: BTreeMap<String, String>,
    /// Roles the form starts with (`--role`).
    pub roles: crate::engine::participant::Roles,
}

/// Opens the console on `runbook` (stdout must be a terminal).
pub(super) fn interactive(
    runtime: &Runtime,
    console: ConsoleRunbook,
    common: &CommonArgs,
    resumed: Option<Resumed>,
) -> color_eyre::Result<ExitCode> {
    if let Some(refused) = no_terminal() {
        return refused;
    }
    let cloud = match runtime.block_on(common.cloud.world().for_console(&console.runbook)) {
        Ok(cloud) => cloud,
        Err(Refused(e)) => return usage(e),
    };
    open_console(runtime, console, cloud, common, resumed)
}

/// Refuses the console when stdin or stdout is not a terminal.
fn no_terminal() -> Option<color_eyre::Result<ExitCode>> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Some(usage(
            "the console needs a terminal: run it in one, or use --headless (answers from flags) or --dry-run",
        ));
    }
    None
}

/// Opens the console on `console`, acting on `cloud`.
fn open_console(
    runtime: &Runtime,
    console: ConsoleRunbook,
    cloud: Arc<dyn Cloud>,
    common: &CommonArgs,
    resumed: Option<Resumed>,
) -> color_eyre::Result<ExitCode> {
    if let Some(refused) = no_terminal() {
        return refused;
    }
    let ConsoleRunbook {
        runbook,
        text,
        path,
        mode,
        params,
        roles,
    } = console;
    // Who drives: refused here when a step needs it and the world told no
    // identity; otherwise said once.
    // A reopened run keeps the driver and roles its journal recorded.
    let driver = match resumed.is_some() {
        true => Ok((None, Vec::new())),
        false => runtime.block_on(crate::session::people::people_for_start(
            cloud.as_ref(),
            &engine::operator(),
            &runbook,
            &roles,
        )),
    };
    let driver = match driver {
        Ok((driver, lines)) => {
            for line in lines {
                let _ = writeln!(std::io::stderr(), "{line}");
            }
            driver
        }
        Err(Refused(e)) => return usage(e),
    };
    let code = crate::tui::run(
        runtime,
        Session {
            runbook,
            runbook_text: text,
            runbook_path: std::path::absolute(&path).unwrap_or(path),
            cloud,
            params,
            mode,
            data_dir: common.data_dir(),
            max_parallel: usize::from(common.max_parallel),
            roles,
            driver,
        },
        resumed,
    );
    console_not_archived(common);
    code
}
