//! The interactive console: the only module (with `main` and `cli`) that
//! touches the terminal. One loop selects over terminal input, engine
//! events, questions, recovery point pages and a clock tick; it redraws
//! only when something changed, at most once a frame. The terminal is
//! restored on every way out, panics included.

pub mod app;
pub mod config;
pub mod help;
pub mod keymap;
pub mod layer;
mod listing;
mod markdown;
pub mod picker;
pub mod point_columns;
pub mod preflight;
pub mod prompt;
mod questions;
pub mod quit;
pub mod run_screen;
pub mod run_view;
pub mod start;
pub mod start_despite;
pub mod theme;
pub mod view;
pub mod watch;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::engine::event::Outcome;
use crate::engine::plan::Plan;
use crate::runbook::Mode;
use crate::session::{EXIT_USAGE, Ending};
use app::{App, Command, Msg};

pub use crate::session::{Resumed, Session};

/// Frames at most this often.
const FRAME: Duration = Duration::from_millis(16);
/// The clock tick (RTO clock, toasts, auto-refresh).
pub(crate) const TICK: Duration = Duration::from_millis(250);

/// Runs the console in this terminal, on `runtime`, until the operator
/// leaves. The exit code is the session's ([`Ending::exit_code`]), as for
/// `run --headless`: 0 success (or left before starting), 1 a step failed,
/// 3 stopped before the end (the run can be resumed).
pub fn run(
    runtime: &tokio::runtime::Runtime,
    session: Session,
    resumed: Option<Resumed>,
) -> color_eyre::Result<ExitCode> {
    let config = match config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "error: the console's config file cannot be used: {e}\nFix it, or move it away to start with the defaults."
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let prices = match crate::cost::prices::Prices::load() {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "error: the prices in the config file cannot be used: {e}\nFix them, or remove the [prices] table to use the shipped prices."
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let log = start_log();
    let mut terminal = ratatui::init();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    let result = runtime.block_on(async {
        let mut app = App::new(
            Arc::new(session.runbook.clone()),
            session.cloud.identity(),
            &session.params,
            session.mode,
        )
        .with_roles(&session.roles);
        app.simulated_time = session
            .cloud
            .simulation()
            .map(|o| crate::format::SimulatedTime { speed: o.speed });
        app.log_path = log.as_ref().map(|(p, _)| p.display().to_string());
        app.config_path = config::path().map(|p| p.display().to_string());
        app.keymap = config.keymap;
        app.prices = Some(prices);
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        app.theme = theme::Theme::new(if no_color {
            theme::ThemeName::Mono
        } else {
            config.theme
        });
        tracing::info!(runbook = %session.runbook.runbook.id.value, identity = %session.cloud.identity().describe(), "console opened");
        let input = EventStream::new().filter_map(|e| async move {
            match e {
                Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => Some(Msg::Key(k)),
                Ok(Event::Mouse(m)) => Some(Msg::Mouse(m)),
                Ok(Event::Resize(..)) => Some(Msg::Resize),
                _ => None,
            }
        });
        let outcome = run_app(&mut terminal, &mut app, &session, resumed, Box::pin(input)).await?;
        let started = matches!(app.screen, app::Screen::Run(_));
        let run_id = match &app.screen {
            app::Screen::Run(v) => v.run_id.clone(),
            app::Screen::Start(_) => None,
        };
        Ok::<_, color_eyre::Report>((started, outcome, app.report.clone(), run_id))
    });
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    let (started, outcome, report, run_id) = result?;
    match report {
        Some(Ok(path)) => println!("report: {path}"),
        Some(Err(e)) => eprintln!("warning: the report was not written: {e}"),
        None => {}
    }
    let ending = match outcome {
        Some(outcome) => Ending::Finished(outcome),
        // Left from the start screen: nothing ran, nothing to resume.
        None if !started => Ending::NotStarted,
        None => Ending::Stopped,
    };
    // Stopped before its end (left, or aborted): it can be resumed.
    if let (crate::session::EXIT_ABORTED, Some(id)) = (ending.exit_code(), run_id) {
        let run_dir = session.data_dir.join("runs").join(id);
        println!(
            "resume later with: {}",
            crate::session::recorded::resume_command(&run_dir, false)
        );
    }
    Ok(ExitCode::from(ending.exit_code()))
}

/// Logs go to `<state dir>/dr-drill.log`, never to the terminal.
fn start_log() -> Option<(PathBuf, tracing_appender::non_blocking::WorkerGuard)> {
    let dirs = directories::ProjectDirs::from("", "", "dr-drill")?;
    let dir = dirs.state_dir().unwrap_or(dirs.data_dir()).to_owned();
    crate::fsx::create_private_dir(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "dr-drill.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some((dir.join("dr-drill.log"), guard))
}

/// The console's loop on any backend, with `input` as the terminal's
/// events (scripted in tests). Returns how the run ended, if it started.
pub async fn run_app<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    session: &Session,
    resumed: Option<Resumed>,
    mut input: impl Stream<Item = Msg> + Unpin,
) -> color_eyre::Result<Option<Outcome>>
where
    B::Error: Send + Sync + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut cancel: Option<CancellationToken> = None;
    let mut listing = listing::Listing::default();
    let mut outcome = None;
    let mut running = false;
    let mut quitting = false;
    let mut input_closed = false;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    if let Some(resumed) = resumed {
        cancel = Some(resume(session, app, resumed, &tx).map_err(|e| color_eyre::eyre::eyre!(e))?);
        running = true;
    }
    // The start screen asks for preflight as it opens.
    let mut preflight: Option<tokio::task::JoinHandle<()>> = None;
    if let Some(Command::Preflight {
        generation,
        params,
        mode,
    }) = app.open().pop()
    {
        preflight = Some(start_preflight(session, generation, params, mode, &tx));
    }
    let mut dirty = true;
    let mut last_draw = tokio::time::Instant::now() - FRAME;
    loop {
        if dirty {
            let wait = FRAME.saturating_sub(last_draw.elapsed());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            terminal
                .draw(|f| view::draw(f, app))
                .map_err(|e| color_eyre::eyre::eyre!("cannot draw: {e}"))?;
            last_draw = tokio::time::Instant::now();
            dirty = false;
        }
        let mut msgs = Vec::new();
        tokio::select! {
            m = input.next(), if !input_closed => match m {
                Some(m) => msgs.push(m),
                // The terminal is gone: stop the run, keep the journal.
                None => {
                    input_closed = true;
                    quitting = true;
                    if let Some(c) = &cancel {
                        c.cancel();
                    }
                }
            },
            Some(m) = rx.recv() => msgs.push(m),
            _ = tick.tick() => msgs.push(Msg::Tick),
        }
        // Take everything already waiting before the next frame.
        while msgs.len() < 4096 {
            match rx.try_recv() {
                Ok(m) => msgs.push(m),
                Err(_) => break,
            }
        }
        for msg in msgs {
            if let Msg::RunEnded(r) = &msg {
                running = false;
                outcome = r.as_ref().ok().copied();
            }
            let commands = app.update(msg);
            dirty = true;
            for command in commands {
                match command {
                    Command::StartRun {
                        params,
                        mode,
                        t0,
                        roles,
                    } => {
                        match start(session, app, params, mode, t0, roles, &tx) {
                            Ok(token) => {
                                cancel = Some(token);
                                running = true;
                                // The panel is gone with the start screen.
                                if let Some(task) = preflight.take() {
                                    task.abort();
                                }
                            }
                            Err(e) => app.start_failed(e),
                        }
                    }
                    Command::ListPoints(generation, sources) => {
                        listing.start(session.cloud.clone(), generation, sources, &tx)
                    }
                    Command::StopListing => listing.stop(),
                    Command::CancelRun => {
                        if let Some(c) = &cancel {
                            c.cancel();
                        }
                    }
                    Command::Quit => quitting = true,
                    Command::Preflight {
                        generation,
                        params,
                        mode,
                    } => {
                        if let Some(task) = preflight.take() {
                            task.abort();
                        }
                        preflight = Some(start_preflight(session, generation, params, mode, &tx));
                    }
                }
            }
        }
        if quitting && !running {
            return Ok(outcome);
        }
    }
}

/// Runs preflight `generation` of `params` on its own task, through the
/// session; each finding, then the end, goes to the loop as a message. A
/// preflight that panics ends as a message too, never a spinner forever.
fn start_preflight(
    session: &Session,
    generation: u64,
    params: BTreeMap<String, String>,
    mode: Mode,
    tx: &mpsc::UnboundedSender<Msg>,
) -> tokio::task::JoinHandle<()> {
    use futures::FutureExt;
    let runbook = session.runbook.clone();
    let data_dir = session.data_dir.clone();
    // The world is asked only when a step calls AWS, or it is the sandbox.
    let needs_world =
        session.cloud.simulation().is_some() || runbook.steps.iter().any(|s| s.action.uses_aws());
    let cloud = needs_world.then(|| session.cloud.clone());
    let forward = tx.clone();
    tokio::spawn(async move {
        let params = match crate::engine::resolve_params(&runbook, &params) {
            Ok(p) => p,
            Err(e) => {
                let why = format!("the parameters do not resolve: {e}; fix them, then check again");
                let _ = forward.send(Msg::PreflightDone(generation, Err(why)));
                return;
            }
        };
        let (found_tx, mut found) = mpsc::unbounded_channel();
        let checks = std::panic::AssertUnwindSafe(crate::session::preflight::run_on(
            &runbook,
            mode,
            params,
            cloud,
            data_dir,
            Some(found_tx),
        ))
        .catch_unwind();
        let relay = async {
            while let Some(f) = found.recv().await {
                let _ = forward.send(Msg::Preflight(generation, f));
            }
        };
        let (result, ()) = tokio::join!(checks, relay);
        let result = result.map(Box::new).map_err(|_| {
            "preflight stopped on an internal error (see the log file); check again with the preflight key"
                .to_string()
        });
        let _ = forward.send(Msg::PreflightDone(generation, result));
    })
}

/// Starts the run: journal first, then the engine on its own task.
fn start(
    session: &Session,
    app: &mut App,
    params: BTreeMap<String, String>,
    mode: Mode,
    t0: Option<jiff::Timestamp>,
    roles: crate::engine::participant::Roles,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Result<CancellationToken, String> {
    let plan = Plan::new(&session.runbook, mode).map_err(|e| e.to_string())?;
    // The preflight the panel finished, if it did, goes into the journal,
    // with whether the operator started despite its failures.
    let checked = match &app.screen {
        app::Screen::Start(form) => match &form.preflight.state {
            preflight::PanelState::Done(found) => Some((**found).clone()),
            _ => None,
        },
        _ => None,
    };
    let mut started = session
        .start(params, mode, t0, roles)
        .map_err(|e| e.to_string())?;
    if let Some(found) = checked {
        // The header shows the estimate beside the cost so far.
        app.cost_estimate = found.cost.as_ref().map(|c| c.total);
        started.engine = started.engine.with_preflight(found, app.start_forced);
    }
    tracing::info!(run = %started.engine.run_id(), ?mode, "run started");
    app.started(
        &plan,
        mode,
        t0,
        started
            .engine
            .journal_path()
            .map(|p| p.display().to_string()),
        started.engine.values(),
    );
    Ok(launch(session, started, tx))
}

/// Goes on with a run reopened from its journal: the screen shows what the
/// journal recorded, then the engine carries on.
fn resume(
    session: &Session,
    app: &mut App,
    resumed: Resumed,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Result<CancellationToken, String> {
    let engine = &resumed.started.engine;
    let mode = engine.plan().mode;
    tracing::info!(run = %engine.run_id(), "run resumed");
    app.started(
        engine.plan(),
        mode,
        None,
        engine.journal_path().map(|p| p.display().to_string()),
        engine.values(),
    );
    for event in resumed.past {
        app.update(Msg::Engine(event));
    }
    Ok(launch(session, resumed.started, tx))
}

/// Runs the engine through the session, its events, questions, report and
/// end forwarded to the loop.
fn launch(
    session: &Session,
    started: crate::engine::Started,
    tx: &mpsc::UnboundedSender<Msg>,
) -> CancellationToken {
    let crate::session::Running {
        mut events,
        mut questions,
        cancel,
        journal,
        end,
    } = session.launch(crate::engine::Started {
        engine: started.engine.at_console(),
        ..started
    });
    let forward = tx.clone();
    tokio::spawn(async move {
        while let Some(e) = events.recv().await {
            if forward.send(Msg::Engine(e)).is_err() {
                break;
            }
        }
    });
    let forward = tx.clone();
    tokio::spawn(async move {
        while let Some(q) = questions.recv().await {
            if forward.send(Msg::Question(q)).is_err() {
                break;
            }
        }
    });
    let forward = tx.clone();
    tokio::spawn(async move {
        // The session writes the report before the run counts as ended, so
        // leaving at once does not lose it; failing to write it is said,
        // nothing more.
        let result = match end.await {
            Ok(end) => {
                if let (Some(journal), Some(report)) = (&journal, end.report) {
                    let report = report.map(|p| p.display().to_string()).map_err(|e| {
                        format!(
                            "{e}; rebuild it with `dr-drill report {}`",
                            journal.display()
                        )
                    });
                    let _ = forward.send(Msg::ReportWritten(report));
                }
                end.outcome.map_err(|e| e.to_string())
            }
            Err(e) => Err(format!("the run's task failed: {e}")),
        };
        let _ = forward.send(Msg::RunEnded(result));
    });
    cancel
}
