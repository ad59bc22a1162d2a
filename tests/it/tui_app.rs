//! The whole console driven by scripted keys on a TestBackend: the shipped
//! cabal-addresses drill in the simulated world, from the start screen to
//! the finished run, answering each question as the journal shows it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dr_drill::cloud::sim::{SimCloud, SimOptions};
use dr_drill::engine::event::Outcome;
use dr_drill::runbook::{Mode, check_str};
use dr_drill::tui::app::{App, Msg};
use dr_drill::tui::{Session, run_app};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

const RUNBOOK: &str = include_str!("../../runbooks/cabal-addresses-restore.toml");

pub(super) fn journal(data: &Path) -> String {
    let Ok(runs) = std::fs::read_dir(data.join("runs")) else {
        return String::new();
    };
    runs.filter_map(|r| r.ok())
        .filter_map(|r| std::fs::read_to_string(r.path().join("journal.jsonl")).ok())
        .collect()
}

/// Waits until the journal holds `needle` (at most 30 s). A question is
/// journaled just before it reaches the console, so give the console a
/// moment to open it before keys are sent.
async fn journal_shows(data: &Path, needle: &str) {
    for _ in 0..600 {
        if journal(data).contains(needle) {
            tokio::time::sleep(Duration::from_millis(300)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the journal never showed {needle}:\n{}", journal(data));
}

pub(super) fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub(super) fn send_text(tx: &mpsc::UnboundedSender<Msg>, text: &str) {
    for c in text.chars() {
        tx.send(key(KeyCode::Char(c))).unwrap();
    }
    tx.send(key(KeyCode::Enter)).unwrap();
}

/// The demo runbook `text` in the console on the sandbox at 3600x, with
/// the demo's role and `reconfigure_cmd`: its session and the app on its
/// start form, journaling under `data`.
pub(super) fn console(text: &str, data: &Path, reconfigure_cmd: &str) -> (Session, App) {
    let runbook = check_str(text).runbook.unwrap();
    let cloud = Arc::new(
        SimCloud::builtin(SimOptions {
            speed: 3600.0,
            ..SimOptions::default()
        })
        .unwrap(),
    );
    let params = BTreeMap::from([
        (
            "role_arn".to_string(),
            "arn:aws:iam::111122223333:role/cabal-backup-role".to_string(),
        ),
        ("reconfigure_cmd".to_string(), reconfigure_cmd.to_string()),
    ]);
    let session = Session {
        runbook: runbook.clone(),
        runbook_text: text.to_string(),
        runbook_path: "runbooks/cabal-addresses-restore.toml".into(),
        cloud: cloud.clone(),
        params: params.clone(),
        mode: Mode::Drill,
        data_dir: data.to_owned(),
        max_parallel: 8,
        roles: Default::default(),
        driver: None,
    };
    let app = App::new(
        Arc::new(runbook),
        dr_drill::cloud::Cloud::identity(cloud.as_ref()),
        &params,
        Mode::Drill,
    );
    (session, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_drill_from_the_start_screen_to_the_end() {
    let data = tempfile::tempdir().unwrap();
    let (session, mut app) = console(RUNBOOK, data.path(), "echo reconfigured");
    let (tx, rx) = mpsc::unbounded_channel();
    let input = Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    }));
    let dir = data.path().to_owned();
    let driver = tokio::spawn(async move {
        tx.send(Msg::Key(KeyEvent::new(
            KeyCode::Char('s'),
            KeyModifiers::CONTROL,
        )))
        .unwrap();
        // The pick shows the picker, the policy's point preselected:
        // Enter takes it, Enter restores from it.
        journal_shows(&dir, r#""step":"pick","request":"pick_recovery_point""#).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        tx.send(key(KeyCode::Enter)).unwrap();
        tx.send(key(KeyCode::Enter)).unwrap();
        journal_shows(&dir, r#""step":"approve-cutover","request":"approve""#).await;
        // A bare Enter approves nothing; Right goes to "approve".
        tx.send(key(KeyCode::Enter)).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!journal(&dir).contains(r#""step":"approve-cutover","by""#));
        tx.send(key(KeyCode::Right)).unwrap();
        tx.send(key(KeyCode::Enter)).unwrap();
        journal_shows(&dir, r#""step":"cutover","request":"confirm""#).await;
        // Enter alone does nothing: the step must still be waiting after it.
        tx.send(key(KeyCode::Enter)).unwrap();
        send_text(&tx, "cabal-addresses");
        journal_shows(&dir, r#""step":"smoke","request":"acknowledge""#).await;
        // A bare Enter records no smoke test nobody ran.
        tx.send(key(KeyCode::Enter)).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!journal(&dir).contains(r#""step":"smoke","by""#));
        tx.send(key(KeyCode::Tab)).unwrap();
        tx.send(key(KeyCode::Enter)).unwrap();
        journal_shows(&dir, r#""step":"drop-restored","request":"confirm""#).await;
        send_text(&tx, "cabal-addresses-restored");
        journal_shows(&dir, r#""event":"run_finished""#).await;
        tx.send(key(KeyCode::Char('q'))).unwrap();
        tx.send(key(KeyCode::Enter)).unwrap();
        // Keep the input open until the console has left.
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let mut terminal = Terminal::new(TestBackend::new(140, 40)).unwrap();
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        run_app(&mut terminal, &mut app, &session, None, input),
    )
    .await
    .expect("the console finished within a minute")
    .unwrap();
    driver.abort();
    assert_eq!(outcome, Some(Outcome::Succeeded));
    let screen = terminal.backend().to_string();
    assert!(screen.contains("SUCCEEDED"), "{screen}");
    assert!(screen.contains("RTO"), "{screen}");
    // The run's end wrote the report next to the journal before the
    // console let the operator leave.
    let report = app.report.clone().expect("the report was written").unwrap();
    assert!(report.ends_with("report.md"), "{report}");
    let md = std::fs::read_to_string(&report).unwrap();
    assert!(md.contains("**Outcome: SUCCEEDED**"), "{md}");
    assert!(Path::new(&report).with_file_name("report.html").is_file());
    let journal = journal(data.path());
    assert!(journal.contains(r#""reply":"confirmed","typed":"cabal-addresses""#));
    assert!(journal.contains(r#""step":"smoke","by":"#));
    assert!(journal.contains(r#""outcome":"succeeded""#));
    // One confirmation each: the bare Enter was not taken as one.
    assert_eq!(
        journal
            .matches(r#""step":"cutover","request":"confirm""#)
            .count(),
        1
    );
}
