//! A run on the team's shared log, in one process over `MemoryStore`: the
//! engine's recorder mirrors every journal line in order through
//! `SharedLog`, evidence waits for it, an unreachable table degrades to
//! the local journal (said once) and catches up, and a fenced line stops
//! the engine before the next step acts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use dr_drill::engine::event::{Answer, EventKind, RunEvent};
use dr_drill::engine::human::HumanReply;
use dr_drill::engine::journal::JournalError;
use dr_drill::engine::participant::Participant;
use dr_drill::engine::{self, RunSetup};
use dr_drill::runbook::{Mode, check_str};
use dr_drill::team::log::{LogOptions, SharedLog};
use dr_drill::team::memory::MemoryStore;
use dr_drill::team::{LeaseRequest, RunEntry, TeamStore};

const HEADER: &str = "[runbook]\nid = \"team-test\"\ntitle = \"Team test\"\n\n";

fn person(name: &str) -> Participant {
    Participant {
        arn: format!("arn:aws:iam::123456789012:user/{name}"),
        account: "123456789012".into(),
        name: name.into(),
    }
}

fn request(name: &str) -> LeaseRequest {
    LeaseRequest {
        holder: person(name),
        process: format!("{name}@host pid 1"),
        duration: Duration::from_secs(30),
    }
}

fn quick() -> LogOptions {
    LogOptions {
        patience: Duration::from_millis(200),
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..LogOptions::default()
    }
}

/// A journaled run of `steps` registered on `store` with its mirror
/// attached from line 1.
struct TeamRun {
    started: engine::Started,
    log: Arc<SharedLog>,
    notices: tokio::sync::mpsc::UnboundedReceiver<EventKind>,
    lease: dr_drill::team::Lease,
    journal: std::path::PathBuf,
    run_id: String,
    _dir: tempfile::TempDir,
}

async fn team_run(store: &Arc<MemoryStore>, steps: &str) -> TeamRun {
    let text = format!("{HEADER}{steps}");
    let runbook = check_str(&text).runbook.expect("valid test runbook");
    let dir = tempfile::tempdir().unwrap();
    let started = engine::start(RunSetup {
        runbook,
        runbook_text: text,
        runbook_path: dir.path().join("rb.toml"),
        mode: Mode::Drill,
        params: BTreeMap::new(),
        t0: None,
        operator: "alice@host".into(),
        data_dir: dir.path().to_owned(),
        max_parallel: 4,
        world: None,
        roles: Default::default(),
        driver: None,
    })
    .unwrap();
    let journal = started.engine.journal_path().unwrap().to_owned();
    let run_id = started.engine.run_id().to_owned();
    let header = std::fs::read_to_string(&journal).unwrap();
    let entry = RunEntry {
        run_id: run_id.clone(),
        runbook_id: "team-test".into(),
        mode: "drill".into(),
        started_at: jiff::Timestamp::now(),
        driver: person("alice"),
    };
    let lease = store
        .create_run(&entry, header.trim_end(), &request("alice"))
        .await
        .unwrap();
    let (log, notices) = SharedLog::start(store.clone(), run_id.clone(), lease.token, quick());
    let log = Arc::new(log);
    let started = engine::Started {
        engine: started.engine.with_mirror(log.clone()),
        ..started
    };
    TeamRun {
        started,
        log,
        notices,
        lease,
        journal,
        run_id,
        _dir: dir,
    }
}

fn journal_lines(path: &std::path::Path) -> Vec<(u64, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(n, l)| (n as u64, l.to_string()))
        .collect()
}

fn drain(events: &mut tokio::sync::mpsc::UnboundedReceiver<RunEvent>) -> Vec<EventKind> {
    let mut all = Vec::new();
    while let Ok(e) = events.try_recv() {
        all.push(e.kind);
    }
    all
}

const TWO_SHELL_STEPS: &str = r#"
[[step]]
id = "first"
kind = "shell"
run = "echo one"

[[step]]
id = "second"
needs = ["first"]
kind = "shell"
run = "echo two"
"#;

#[tokio::test]
async fn a_team_run_mirrors_every_journal_line_in_order() {
    let store = Arc::new(MemoryStore::new("team"));
    let run = team_run(&store, TWO_SHELL_STEPS).await;
    run.started.engine.run().await.unwrap();
    run.log.settle(Duration::from_secs(5)).await.unwrap();
    let journal = journal_lines(&run.journal);
    assert!(journal.len() > 6, "{journal:?}");
    assert_eq!(store.lines(&run.run_id), journal);
}

#[tokio::test]
async fn an_unreachable_table_is_told_once_the_run_finishes_and_the_log_catches_up() {
    let store = Arc::new(MemoryStore::new("team"));
    let mut run = team_run(&store, TWO_SHELL_STEPS).await;
    let recorder = run.started.engine.recorder();
    let mut events = run.started.events;
    store.set_reachable(false);
    let summary = run.started.engine.run().await.unwrap();
    assert_eq!(summary.outcome, dr_drill::engine::event::Outcome::Succeeded);
    let kinds = drain(&mut events);
    let told = kinds
        .iter()
        .filter(|k| matches!(k, EventKind::TeamBehind { .. }))
        .count();
    assert_eq!(told, 1, "{kinds:?}");
    assert_eq!(
        store.lines(&run.run_id).len(),
        1,
        "only the header is shared"
    );
    store.set_reachable(true);
    let caught = tokio::time::timeout(Duration::from_secs(5), run.notices.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(caught, EventKind::TeamCaughtUp { .. }),
        "{caught:?}"
    );
    recorder.note(caught).unwrap();
    drop(recorder);
    run.log.settle(Duration::from_secs(5)).await.unwrap();
    let journal = journal_lines(&run.journal);
    assert!(journal.last().unwrap().1.contains("team_caught_up"));
    assert_eq!(store.lines(&run.run_id), journal);
}

#[tokio::test]
async fn a_fenced_driver_stops_before_the_next_step_acts() {
    let store = Arc::new(MemoryStore::new("team"));
    let steps = r#"
[[step]]
id = "check"
kind = "manual"
instructions = "Look"

[[step]]
id = "cutover"
needs = ["check"]
kind = "shell"
run = "touch cutover-ran"
"#;
    let run = team_run(&store, steps).await;
    let dir = run.started.engine.run_dir().to_owned();
    let engine::Started {
        engine,
        mut questions,
        ..
    } = run.started;
    let taker = store.clone();
    let (run_id, lease) = (run.run_id.clone(), run.lease.clone());
    tokio::spawn(async move {
        while let Some(q) = questions.recv().await {
            // Bob takes the run over while Alice's console waits.
            taker.take(&run_id, &request("bob"), &lease).await.unwrap();
            let _ = q.reply.send(HumanReply::new(
                Answer::Acknowledged { answer: None },
                "alice@host",
            ));
        }
    });
    let err = engine.run().await.unwrap_err();
    assert!(matches!(err, JournalError::Fenced { .. }), "{err}");
    assert!(err.to_string().contains("bob"), "{err}");
    assert!(
        !dir.join("cutover-ran").exists(),
        "the step ran after the fence"
    );
    let shared = store.lines(&run.run_id);
    assert!(
        shared.iter().all(|(_, l)| !l.contains("human_answered")),
        "the fenced line is not shared"
    );
}

#[tokio::test]
async fn a_second_create_of_the_same_run_is_refused() {
    let store = Arc::new(MemoryStore::new("team"));
    let run = team_run(&store, TWO_SHELL_STEPS).await;
    let entry = RunEntry {
        run_id: run.run_id.clone(),
        runbook_id: "team-test".into(),
        mode: "drill".into(),
        started_at: jiff::Timestamp::now(),
        driver: person("bob"),
    };
    let err = store
        .create_run(&entry, "other header", &request("bob"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("holds a run"), "{err}");
    assert_eq!(store.lines(&run.run_id).len(), 1);
}

/// The console's header says so while the team cannot see the run, in
/// place of the run's line, and goes back once the shared log caught up.
#[test]
fn the_console_says_when_the_team_cannot_see_the_run() {
    use dr_drill::tui::app::Msg;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    let screen = |app: &dr_drill::tui::app::App| {
        let mut terminal = Terminal::new(TestBackend::new(120, 32)).unwrap();
        terminal
            .draw(|f| dr_drill::tui::view::draw(f, app))
            .unwrap();
        terminal.backend().to_string()
    };
    let event = |secs: u64, kind: EventKind| {
        Msg::Engine(RunEvent {
            at: crate::tui_view::at(secs),
            elapsed: Duration::from_secs(secs),
            kind,
        })
    };
    let mut app = crate::tui_view::running_app();
    assert!(!screen(&app).contains("TEAM CANNOT SEE"));
    app.update(event(
        5,
        EventKind::TeamBehind {
            reason: "table team, TransactWriteItems: cannot reach DynamoDB\x1b[2J".into(),
        },
    ));
    let behind = screen(&app);
    assert!(
        behind.contains("TEAM CANNOT SEE THIS RUN: table team, TransactWriteItems"),
        "{behind}"
    );
    assert!(
        !behind.contains('\x1b'),
        "outside text reaches the terminal raw"
    );
    app.update(event(9, EventKind::TeamCaughtUp { lines: 12 }));
    assert!(!screen(&app).contains("TEAM CANNOT SEE"));
}
