//! `dr-drill watch` on ratatui's TestBackend: the read-only console fed
//! by a follower, with its banner, no acting hints or help lines, and keys
//! that would act doing nothing to the run.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dr_drill::engine::event::{EventKind, Outcome, Question, RunEvent};
use dr_drill::engine::journal::{JournalHeader, sha256_hex};
use dr_drill::runbook::Mode;
use dr_drill::session::follow::{Follow, FollowError, News};
use dr_drill::tui::app::{App, Command, Msg};
use dr_drill::tui::view::draw;
use dr_drill::tui::watch::{app_for, follow_app};
use futures::StreamExt;
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const T0: &str = "2026-11-24T03:00:00Z";

fn at(secs: u64) -> Timestamp {
    T0.parse::<Timestamp>().unwrap() + Duration::from_secs(secs)
}

fn header() -> JournalHeader {
    let text = include_str!("../../runbooks/cabal-addresses-restore.toml").to_string();
    JournalHeader {
        journal_format: 1,
        run_id: "cabal-addresses-restore-20261124T030000Z".into(),
        runbook_path: "runbooks/cabal-addresses-restore.toml".into(),
        runbook_sha256: sha256_hex(&text),
        runbook_text: text,
        mode: Mode::Drill,
        t0: at(0),
        started_at: at(0),
        operator: "alice@laptop".into(),
        params: BTreeMap::from([(
            "role_arn".to_string(),
            "arn:aws:iam::111122223333:role/cabal-backup-role".to_string(),
        )]),
        dr_drill_version: "0".into(),
        world: None,
        roles: Default::default(),
        driver: None,
    }
}

fn event(secs: u64, kind: EventKind) -> RunEvent {
    RunEvent {
        at: at(secs),
        elapsed: Duration::from_secs(secs),
        kind,
    }
}

/// The run so far: started, a step asking for an approval.
fn events(step: &str) -> Vec<RunEvent> {
    vec![
        event(
            0,
            EventKind::RunStarted {
                run_id: "cabal-addresses-restore-20261124T030000Z".into(),
                mode: Mode::Drill,
                t0: at(0),
            },
        ),
        event(
            1,
            EventKind::StepStarted {
                step: step.into(),
                attempt: 1,
            },
        ),
        event(
            2,
            EventKind::HumanAsked {
                step: step.into(),
                question: Question::Approve {
                    instructions: Some("go?".into()),
                    waiting_for: vec![],
                    have: 0,
                    required: 1,
                },
            },
        ),
    ]
}

fn first_step(app: &App) -> String {
    app.runbook.steps[0].id.value.clone()
}

fn screen(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(100, 24)).unwrap();
    terminal.draw(|f| draw(f, app)).unwrap();
    terminal.backend().to_string()
}

fn press(app: &mut App, code: KeyCode, modifiers: KeyModifiers) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(code, modifiers)))
}

#[test]
fn the_watch_screen_says_who_drives_and_what_waits_with_no_acting_hints() {
    let mut app = app_for(&header(), Some("/data/runs/x/journal.jsonl".into())).unwrap();
    app.now = at(5);
    let step = first_step(&app);
    for e in events(&step) {
        app.update(Msg::Engine(e));
    }
    let shown = screen(&app);
    assert!(
        shown.contains("WATCHING — read-only · driven by alice@laptop"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "waiting for the driver: `{step}` waits for an approval"
        )),
        "{shown}"
    );
    let hints = shown.lines().last().unwrap();
    for acting in ["abort", "answer", "start", "Enter"] {
        assert!(!hints.contains(acting), "{acting:?} hinted:\n{shown}");
    }
    assert!(!shown.contains("(Enter)"), "{shown}");
    insta::assert_snapshot!("watch_run_screen", shown);
}

#[test]
fn keys_that_would_act_do_nothing_and_the_help_leaves_them_out() {
    let mut app = app_for(&header(), None).unwrap();
    let step = first_step(&app);
    for e in events(&step) {
        app.update(Msg::Engine(e));
    }
    // Ctrl-C twice: no cancel; Enter: no question opens.
    for _ in 0..2 {
        assert!(press(&mut app, KeyCode::Char('c'), KeyModifiers::CONTROL).is_empty());
    }
    assert!(press(&mut app, KeyCode::Enter, KeyModifiers::NONE).is_empty());
    assert!(app.prompts.is_empty());
    assert!(app.toast.as_ref().unwrap().0.contains("read-only"));
    // The help lists the keys that look, not the ones that act.
    press(&mut app, KeyCode::F(1), KeyModifiers::NONE);
    let mut terminal = Terminal::new(TestBackend::new(100, 60)).unwrap();
    terminal.draw(|f| draw(f, &app)).unwrap();
    let help = terminal.backend().to_string();
    assert!(help.contains("steps or timeline"), "{help}");
    for acting in [
        "cancel running steps",
        "answer the question waiting",
        "start the run",
        "resume later",
    ] {
        assert!(!help.contains(acting), "{acting:?} in the help:\n{help}");
    }
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    // Leaving is at once, and never cancels the run.
    assert_eq!(
        press(&mut app, KeyCode::Char('q'), KeyModifiers::NONE),
        [Command::Quit]
    );
}

/// A run told in one go, then ended.
struct Scripted {
    header: JournalHeader,
    events: Vec<RunEvent>,
    polls: usize,
}

#[async_trait]
impl Follow for Scripted {
    fn header(&self) -> &JournalHeader {
        &self.header
    }
    fn every(&self) -> Duration {
        Duration::from_millis(250)
    }
    async fn poll(&mut self) -> Result<Vec<RunEvent>, FollowError> {
        self.polls += 1;
        Ok(std::mem::take(&mut self.events))
    }
    fn news(&self) -> News {
        News {
            driver: "alice@laptop".into(),
            ended: self.events.is_empty().then(|| "succeeded".into()),
            quiet: None,
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_loop_follows_the_run_to_its_end_and_stays_until_left() {
    let mut app = app_for(&header(), None).unwrap();
    let step = first_step(&app);
    let mut told = events(&step);
    told.push(event(
        3,
        EventKind::HumanAnswered {
            step: step.clone(),
            by: "alice@laptop".into(),
            note: None,
            who: None,
            answer: dr_drill::engine::event::Answer::Approved,
        },
    ));
    told.push(event(
        4,
        EventKind::RunFinished {
            outcome: Outcome::Succeeded,
        },
    ));
    let mut follow = Scripted {
        header: header(),
        events: told,
        polls: 0,
    };
    let keys = [
        (KeyCode::Char('c'), KeyModifiers::CONTROL),
        (KeyCode::Enter, KeyModifiers::NONE),
        (KeyCode::Char('q'), KeyModifiers::NONE),
    ];
    let input = futures::stream::iter(keys).then(|(code, modifiers)| async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        Msg::Key(KeyEvent::new(code, modifiers))
    });
    let mut terminal = Terminal::new(TestBackend::new(100, 24)).unwrap();
    follow_app(&mut terminal, &mut app, &mut follow, Box::pin(input))
        .await
        .unwrap();
    // The end stopped the polling; the console stayed until `q`.
    assert_eq!(follow.polls, 1);
    let shown = terminal.backend().to_string();
    assert!(
        shown.contains("the run has ended: succeeded; press q to leave"),
        "{shown}"
    );
    assert!(shown.contains("SUCCEEDED"), "{shown}");
}
