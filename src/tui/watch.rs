//! The console read-only, following a run another process drives
//! (`dr-drill watch`): the same run screen, timeline, outputs and RTO
//! clock, fed by a [`Follow`] source instead of an engine. A banner says
//! who drives; keys that would act (answer, confirm, skip, retry, abort,
//! rerun, start) are left out of the hints and the help and do nothing;
//! leaving never affects the run.
//!
//! It owns the watch's state ([`Watch`]), its keys, its banner and its
//! loop; it never sends anything to the run (there is nothing to send
//! to).

use std::process::ExitCode;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use jiff::{SignedDuration, Timestamp};
use ratatui::Frame;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::{App, Command, Layer, Msg, Screen};
use super::keymap::{Action, Context, Keypress};
use crate::engine::event::{EventKind, Question};
use crate::engine::journal::{JournalHeader, WorldRecord};
use crate::engine::plan::Plan;
use crate::engine::values::Values;
use crate::format::printable;
use crate::session::follow::{Follow, News};
use crate::session::{EXIT_OK, EXIT_USAGE};

/// What the console knows of the run it watches.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    /// The follower's news: driver, end, silence.
    pub news: News,
    /// Why the run cannot be followed any further, once it cannot.
    pub error: Option<String>,
}

/// A console on the run screen of the run `header` starts, watching it:
/// the runbook the header recorded, its plan, its parameters (secrets as
/// recorded: redacted). Refused, with why, when the recorded runbook does
/// not read.
pub fn app_for(header: &JournalHeader, journal: Option<String>) -> Result<App, String> {
    let checked = crate::runbook::read_recorded(&header.runbook_text);
    let Some(runbook) = checked.runbook else {
        return Err(format!(
            "run {}: the runbook its journal recorded does not read ({}); the run cannot be shown",
            printable(&header.run_id),
            checked
                .first_error()
                .map(|d| printable(&d.message).into_owned())
                .unwrap_or_else(|| "it does not parse".into())
        ));
    };
    let plan = Plan::new(&runbook, header.mode).map_err(|e| {
        format!(
            "run {}: its runbook has no plan ({e})",
            printable(&header.run_id)
        )
    })?;
    let mut app = App::new(
        Arc::new(runbook),
        crate::cloud::Identity::default(),
        &header.params,
        header.mode,
    );
    app.simulated_time = match &header.world {
        Some(WorldRecord::Sandbox { speed, .. }) => {
            Some(crate::format::SimulatedTime { speed: *speed })
        }
        _ => None,
    };
    app.started(
        &plan,
        header.mode,
        Some(header.t0),
        journal,
        Values {
            params: header.params.clone(),
            ..Values::default()
        },
    );
    app.watch = Some(Watch {
        news: News {
            driver: header.operator.clone(),
            ..News::default()
        },
        error: None,
    });
    Ok(app)
}

/// A key while watching: what it does instead, or `None` when it does
/// what it does anywhere (moving, tabs, search, help). Keys that would act
/// on the run do nothing but say so.
pub(crate) fn key(app: &mut App, layer: Layer, press: Keypress) -> Option<Vec<Command>> {
    app.watch.as_ref()?;
    let refuse = |app: &mut App, what: &str| {
        app.toast = Some((
            format!("read-only: {what}; q leaves (the run goes on)"),
            app.now + SignedDuration::from_secs(5),
        ));
        Some(Vec::new())
    };
    match (layer, press) {
        (_, Keypress::Act(Action::Interrupt)) => refuse(app, "only the driver can abort the run"),
        (Layer::Run, Keypress::Act(Action::Quit)) => Some(vec![Command::Quit]),
        (Layer::Run, Keypress::Act(a)) if acts(a) => {
            refuse(app, "questions are answered by the driver")
        }
        _ => None,
    }
}

/// Whether `action` acts on a run (answers, aborts, starts). Enter is
/// not one: on the run screen it reopens a question (`Reopen`, refused
/// here) or ends a search.
fn acts(action: Action) -> bool {
    matches!(
        action,
        Action::Interrupt
            | Action::Reopen
            | Action::StartRun
            | Action::ToggleMode
            | Action::Preflight
            | Action::PreflightFindings
            | Action::NextChoice
            | Action::PreviousChoice
    )
}

/// Whether the help lists `action` of `context`: while watching, only the
/// keys that look (the run screen's, the help's, the search's), never the
/// ones that act.
pub(crate) fn listed(app: &App, context: Context, action: Action) -> bool {
    if app.watch.is_none() {
        return true;
    }
    let looks = matches!(
        context,
        Context::Global | Context::Run | Context::Help | Context::Input
    );
    looks && !acts(action)
}

/// What `action` does, as the help says it while watching.
pub(crate) fn describe(app: &App, action: Action) -> &'static str {
    match (&app.watch, action) {
        (Some(_), Action::Quit) => "leave (the run goes on; watching never affects it)",
        _ => action.describe(),
    }
}

/// The question a step waits on, in a few words for the banner.
fn asks(question: &Question) -> String {
    match question {
        Question::Confirm { text, .. } => format!("typing `{}` to confirm", printable(text)),
        Question::Acknowledge {
            question: Some(q), ..
        } => format!("an answer to \"{}\"", printable(q)),
        Question::Acknowledge { .. } => "the instructions done".into(),
        Question::Approve { .. } => "an approval".into(),
        Question::Failure { .. } => "retry, skip or abort after a failure".into(),
        Question::Interrupted => "rerun, mark done or abort after an interruption".into(),
        Question::PickRecoveryPoint { .. } => "a recovery point picked".into(),
    }
}

/// Draws the banner at the top of `body` while watching; returns the
/// room left for the run screen (all of `body` otherwise).
pub(crate) fn banner(frame: &mut Frame, app: &App, body: Rect) -> Rect {
    let Some(watch) = &app.watch else {
        return body;
    };
    let theme = &app.theme;
    let [top, rest] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(body);
    let first = Line::from(vec![
        Span::styled(" WATCHING ", theme.warn.reversed()),
        Span::styled(
            format!("— read-only · driven by {}", printable(&watch.news.driver)),
            theme.title,
        ),
    ]);
    let waiting = match &app.screen {
        Screen::Run(view) => view
            .ledger
            .steps
            .iter()
            .filter(|s| s.status == crate::engine::ledger::StepStatus::Asking)
            .filter_map(|s| {
                let q = view.ledger.question(&s.id)?;
                Some(format!("`{}` waits for {}", printable(&s.id), asks(q)))
            })
            .collect::<Vec<_>>(),
        Screen::Start(_) => Vec::new(),
    };
    let second = if let Some(e) = &watch.error {
        Span::styled(format!("cannot follow the run any further: {e}"), theme.bad)
    } else if let Some(end) = &watch.news.ended {
        Span::styled(
            format!("the run has ended: {end}; press q to leave"),
            theme.good,
        )
    } else if let Some(quiet) = &watch.news.quiet {
        Span::styled(printable(quiet).into_owned(), theme.warn)
    } else if !waiting.is_empty() {
        Span::styled(
            format!("waiting for the driver: {}", waiting.join("; ")),
            theme.warn,
        )
    } else {
        Span::styled("following the run as it goes", theme.dim)
    };
    frame.render_widget(Paragraph::new(vec![first, Line::from(second)]), top);
    rest
}

/// Takes an event of the followed run into the console.
fn take(app: &mut App, event: crate::engine::event::RunEvent) {
    if let EventKind::CloudConnected { identity } = &event.kind {
        app.identity = identity.clone();
    }
    app.update(Msg::Engine(event));
}

/// The watch's loop on any backend, with `input` as the terminal's events
/// (scripted in tests): the follower is asked for news every
/// [`Follow::every`] until the run ends or cannot be followed; the console
/// stays until the user leaves.
pub async fn follow_app<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    follow: &mut dyn Follow,
    mut input: impl Stream<Item = Msg> + Unpin,
) -> color_eyre::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut poll = tokio::time::interval(follow.every());
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tick = tokio::time::interval(super::TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut following = true;
    loop {
        terminal
            .draw(|f| super::view::draw(f, app))
            .map_err(|e| color_eyre::eyre::eyre!("cannot draw: {e}"))?;
        tokio::select! {
            m = input.next() => {
                let Some(m) = m else { return Ok(()) };
                if app.update(m).contains(&Command::Quit) {
                    return Ok(());
                }
            }
            _ = poll.tick(), if following => {
                let result = follow.poll().await;
                let news = follow.news();
                let watch = app.watch.get_or_insert_with(Watch::default);
                watch.news = news;
                match result {
                    Ok(events) => {
                        for event in events {
                            take(app, event);
                        }
                    }
                    Err(e) => {
                        watch.error = Some(e.to_string());
                        following = false;
                    }
                }
                if app.watch.as_ref().is_some_and(|w| w.news.ended.is_some()) {
                    following = false;
                }
            }
            _ = tick.tick() => {
                app.update(Msg::Tick);
            }
        }
    }
}

/// Runs the watch in this terminal, on `runtime`, until the user leaves.
/// The follower is opened and the run's runbook read before the terminal
/// is taken, so errors are said plainly.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    mut follow: Box<dyn Follow + '_>,
    journal: Option<String>,
) -> color_eyre::Result<ExitCode> {
    let mut app = match app_for(follow.header(), journal) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let config = match super::config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "error: the console's config file cannot be used: {e}\nFix it, or move it away to start with the defaults."
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    app.keymap = config.keymap;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    app.theme = super::theme::Theme::new(if no_color {
        super::theme::ThemeName::Mono
    } else {
        config.theme
    });
    app.now = Timestamp::now();
    let mut terminal = ratatui::init();
    let result = runtime.block_on(async {
        use crossterm::event::{Event, EventStream, KeyEventKind};
        let input = EventStream::new().filter_map(|e| async move {
            match e {
                Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => Some(Msg::Key(k)),
                Ok(Event::Resize(..)) => Some(Msg::Resize),
                _ => None,
            }
        });
        follow_app(&mut terminal, &mut app, follow.as_mut(), Box::pin(input)).await
    });
    ratatui::restore();
    result?;
    if let Some(e) = app.watch.and_then(|w| w.error) {
        eprintln!("error: {e}");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    Ok(ExitCode::from(EXIT_OK))
}
