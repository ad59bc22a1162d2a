//! Every pick in the console shows the recovery point picker with the
//! policy's choice preselected: the default demo runbook driven by
//! scripted keys in the simulated world, Enter taking the policy's point,
//! the operator taking an older one, and `confirm_pick = false` asking
//! nothing.

use std::path::Path;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dr_drill::engine::event::Outcome;
use dr_drill::tui::app::Msg;
use dr_drill::tui::run_app;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;
use tokio::sync::mpsc;

use super::tui_app::{console, journal, key, send_text};

/// The default demo runbook (`dr-drill demo`).
const RUNBOOK: &str = include_str!("../../runbooks/cabal-addresses-restore.toml");

fn events(data: &Path) -> Vec<Value> {
    journal(data)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Waits until the journal holds `needle` (at most 30 s), then gives the
/// console a moment (the pick's listing too) before keys are sent.
async fn journal_shows(data: &Path, needle: &str) {
    for _ in 0..600 {
        if journal(data).contains(needle) {
            tokio::time::sleep(Duration::from_millis(800)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the journal never showed {needle}:\n{}", journal(data));
}

/// Approves the cutover (the approve dialog's keys, in one place).
fn approve(tx: &mpsc::UnboundedSender<Msg>) {
    // Nothing is preselected: Right goes to "approve".
    tx.send(key(KeyCode::Right)).unwrap();
    tx.send(key(KeyCode::Enter)).unwrap();
}

/// How the operator answers the pick, if it is asked.
#[derive(Clone, Copy)]
enum PickKeys {
    /// Enter: the preselected point; Enter: restore from it.
    Accept,
    /// Only the primary vault's points, one row down (an older point),
    /// Enter, Enter.
    Older,
    /// The pick is not asked.
    NotAsked,
}

/// Drives the demo runbook (`text`) in the console to its end; returns
/// the journal's events.
async fn drill(text: &str, pick: PickKeys) -> Vec<Value> {
    let data = tempfile::tempdir().unwrap();
    let (session, mut app) = console(text, data.path(), "true");
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
        match pick {
            PickKeys::Accept => {
                journal_shows(&dir, r#""request":"pick_recovery_point""#).await;
                tx.send(key(KeyCode::Enter)).unwrap();
                tx.send(key(KeyCode::Enter)).unwrap();
            }
            PickKeys::Older => {
                journal_shows(&dir, r#""request":"pick_recovery_point""#).await;
                tx.send(key(KeyCode::Char('/'))).unwrap();
                send_text(&tx, "cabal-backup@us-east-1");
                tx.send(key(KeyCode::Down)).unwrap();
                tx.send(key(KeyCode::Enter)).unwrap();
                tx.send(key(KeyCode::Enter)).unwrap();
            }
            PickKeys::NotAsked => {}
        }
        journal_shows(&dir, r#""request":"approve""#).await;
        approve(&tx);
        journal_shows(&dir, r#""step":"cutover","request":"confirm""#).await;
        send_text(&tx, "cabal-addresses");
        journal_shows(&dir, r#""request":"acknowledge""#).await;
        // The smoke test's "yes" is chosen, never preselected.
        tx.send(key(KeyCode::Right)).unwrap();
        tx.send(key(KeyCode::Enter)).unwrap();
        journal_shows(&dir, r#""step":"drop-restored","request":"confirm""#).await;
        send_text(&tx, "cabal-addresses-restored");
        journal_shows(&dir, r#""event":"run_finished""#).await;
        tx.send(key(KeyCode::Char('q'))).unwrap();
        tx.send(key(KeyCode::Enter)).unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let outcome = tokio::time::timeout(
        Duration::from_secs(90),
        run_app(&mut terminal, &mut app, &session, None, input),
    )
    .await
    .expect("the console finished within 90 s")
    .unwrap();
    driver.abort();
    let events = events(data.path());
    assert_eq!(
        outcome,
        Some(Outcome::Succeeded),
        "{}",
        journal(data.path())
    );
    events
}

/// The pick's question (its suggestion) and the point answered.
fn pick_question_and_answer(events: &[Value]) -> (Option<String>, Option<String>) {
    let asked = events
        .iter()
        .find(|e| e["event"] == "human_asked" && e["step"] == "pick")
        .map(|e| e["newest"].as_str().unwrap_or_default().to_owned());
    let picked = events
        .iter()
        .find(|e| e["event"] == "human_answered" && e["step"] == "pick")
        .map(|e| e["point"].as_str().unwrap_or_default().to_owned());
    (asked, picked)
}

/// The recovery point the restore job started from.
fn restored_from(events: &[Value]) -> String {
    let all = events
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let at = all
        .find("started from ")
        .unwrap_or_else(|| panic!("no restore job started:\n{all}"));
    all[at + "started from ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_pick_asks_and_enter_takes_the_policys_choice() {
    let events = drill(RUNBOOK, PickKeys::Accept).await;
    let (suggested, picked) = pick_question_and_answer(&events);
    let suggested = suggested.expect("the console asked about the pick");
    assert!(
        !suggested.is_empty(),
        "the question suggests the policy's point"
    );
    assert_eq!(picked.as_deref(), Some(suggested.as_str()));
    assert_eq!(restored_from(&events), suggested);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_picks_an_older_point_and_the_run_restores_it() {
    // An older point is over the step's 26 h guard: the guard is the
    // runbook's; here the operator may go back further.
    let text = RUNBOOK.replacen("max_age = \"26h\"\n", "", 1);
    let events = drill(&text, PickKeys::Older).await;
    let (suggested, picked) = pick_question_and_answer(&events);
    let (suggested, picked) = (suggested.unwrap(), picked.unwrap());
    assert_ne!(picked, suggested, "the operator chose another point");
    assert!(picked.contains("us-east-1"), "{picked}");
    assert_eq!(restored_from(&events), picked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_pick_false_keeps_the_policy_without_asking() {
    let text = RUNBOOK.replacen(
        "policy = \"latest\"\n",
        "policy = \"latest\"\nconfirm_pick = false\n",
        1,
    );
    let events = drill(&text, PickKeys::NotAsked).await;
    assert_eq!(pick_question_and_answer(&events), (None, None));
    assert!(restored_from(&events).starts_with("arn:"));
}

// The picker as drawn: the policy's choice preselected, the columns that
// tell points apart at 80 and 160 columns, rows over the RPO target
// marked, and a reload that says so.

mod view {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use dr_drill::cloud::points::Listing;
    use dr_drill::cloud::{PointSource, RecoveryPoint};
    use dr_drill::engine::event::{Answer, Question};
    use dr_drill::tui::app::{App, Msg};
    use dr_drill::tui::view::draw;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::style::Color;

    use super::super::tui_view::{at, point, question, running_app};

    fn sources() -> Vec<PointSource> {
        vec![
            PointSource::Vault {
                vault: "cabal-backup".into(),
                region: None,
                resource_type: Some("DynamoDB".into()),
                resource_arn: None,
            },
            PointSource::Vault {
                vault: "cabal-backup-dr".into(),
                region: Some("us-west-2".into()),
                resource_type: Some("DynamoDB".into()),
                resource_arn: None,
            },
        ]
    }

    /// Points of two tables in both vaults: the resource differs, type,
    /// size and tier are the same on every row.
    fn points(vault: &str, region: &str) -> Vec<RecoveryPoint> {
        (0..4)
            .map(|n| {
                let mut p = point(n, vault, region);
                if n % 2 == 1 {
                    p.resource_name = Some("cabal-mailstore-index".into());
                }
                p
            })
            .collect()
    }

    fn key(code: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    /// The picker of the demo's pick, both vaults listed, the policy's
    /// choice being the primary vault's newest point.
    fn listed(
        app: &mut App,
    ) -> tokio::sync::oneshot::Receiver<dr_drill::engine::human::HumanReply> {
        let answer = question(
            app,
            "pick",
            Question::PickRecoveryPoint {
                sources: sources(),
                restorable: 8,
                newest: Some(point(0, "cabal-backup", "us-east-1").id),
            },
        );
        for (source, (vault, region)) in [
            ("cabal-backup-dr", "us-west-2"),
            ("cabal-backup", "us-east-1"),
        ]
        .into_iter()
        .enumerate()
        {
            app.update(Msg::Listing(
                1,
                Listing::Page {
                    source,
                    points: points(vault, region),
                },
            ));
            app.update(Msg::Listing(
                1,
                Listing::Done {
                    source,
                    result: Ok(()),
                },
            ));
        }
        answer
    }

    fn render(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| draw(f, app)).unwrap();
        terminal
    }

    fn screen(app: &App, width: u16, height: u16) -> String {
        render(app, width, height).backend().to_string()
    }

    #[test]
    fn the_policys_choice_is_preselected_and_enter_takes_it() {
        let mut app = running_app();
        let mut answer = listed(&mut app);
        let screen = screen(&app, 160, 24);
        assert!(
            screen.contains(
                "preselected: the runbook's choice (policy latest), 2026-11-24 00:00:00Z, RPO 3h"
            ),
            "{screen}"
        );
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::Enter));
        assert_eq!(
            answer.try_recv().unwrap().answer,
            Answer::Picked {
                point: point(0, "cabal-backup", "us-east-1").id
            }
        );
    }

    #[test]
    fn at_160_columns_every_column_fits() {
        let mut app = running_app();
        let _answer = listed(&mut app);
        insta::assert_snapshot!("picker_160", screen(&app, 160, 20));
    }

    #[test]
    fn at_80_columns_the_resource_stays_and_constant_columns_go() {
        let mut app = running_app();
        let _answer = listed(&mut app);
        let screen = screen(&app, 80, 20);
        insta::assert_snapshot!("picker_80", screen);
        assert!(screen.contains("cabal-mailstore-index"), "{screen}");
        assert!(screen.contains("2026-11-23 00:00:00Z"), "{screen}");
        for constant in ["DynamoDB ", "WARM", "1.1 MiB"] {
            assert!(
                !screen.contains(constant),
                "{constant} on every row:\n{screen}"
            );
        }
        assert!(screen.contains("enter"), "the Enter hint stays:\n{screen}");
    }

    #[test]
    fn rows_older_than_the_rpo_target_are_marked() {
        let mut app = running_app();
        let _answer = listed(&mut app);
        let terminal = render(&app, 160, 20);
        let screen = terminal.backend().to_string();
        // T0 is 03:00; the target 26h: a point of 2026-11-23 00:00 is 27h.
        let row = screen
            .lines()
            .find(|l| l.contains("2026-11-23 00:00:00Z"))
            .unwrap();
        assert!(row.contains("27h ⚠"), "{row}");
        let newest = screen
            .lines()
            .find(|l| l.contains("2026-11-24 00:00:00Z"))
            .unwrap();
        assert!(!newest.contains('⚠'), "{newest}");
    }

    #[test]
    fn a_pick_that_does_not_measure_rpo_shows_no_red_rpo() {
        let text = include_str!("../../runbooks/cabal-addresses-restore.toml").replacen(
            "policy = \"latest\"\n",
            "policy = \"latest\"\nmeasures_rpo = false\n",
            1,
        );
        let runbook = dr_drill::runbook::check_str(&text).runbook.unwrap();
        let mut app = running_app();
        app.runbook = std::sync::Arc::new(runbook);
        let _answer = listed(&mut app);
        let screen = screen(&app, 160, 24);
        assert!(!screen.contains('⚠'), "{screen}");
        // An older point chosen: its confirmation holds it to no target.
        app.update(key(KeyCode::Down));
        app.update(key(KeyCode::Down));
        app.update(key(KeyCode::Down));
        app.update(key(KeyCode::Enter));
        let terminal = render(&app, 160, 40);
        let screen = terminal.backend().to_string();
        assert!(screen.contains("Use this recovery point?"), "{screen}");
        assert!(!screen.contains("against a target"), "{screen}");
        let buf = terminal.backend().buffer();
        let (y, line) = screen
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains("│RPO      "))
            .unwrap();
        let x = line.chars().position(|c| c == 'R').unwrap() as u16;
        for dx in 0..20 {
            let cell = &buf[(x + dx, y as u16)];
            assert_ne!(cell.fg, Color::Red, "the RPO is red:\n{line}");
        }
    }

    #[test]
    fn one_point_is_one_point_not_one_points() {
        let mut app = running_app();
        let _answer = question(
            &mut app,
            "pick",
            Question::PickRecoveryPoint {
                sources: sources(),
                restorable: 1,
                newest: Some(point(0, "cabal-backup", "us-east-1").id),
            },
        );
        for (source, points) in [
            (0, Vec::new()),
            (1, vec![point(0, "cabal-backup", "us-east-1")]),
        ] {
            app.update(Msg::Listing(1, Listing::Page { source, points }));
            app.update(Msg::Listing(
                1,
                Listing::Done {
                    source,
                    result: Ok(()),
                },
            ));
        }
        let screen = screen(&app, 160, 20);
        assert!(screen.contains("1 point, listed"), "{screen}");
        assert!(!screen.contains("1 points"), "{screen}");
    }

    #[test]
    fn r_says_it_reloads_and_when_the_list_was_listed() {
        let mut app = running_app();
        let _answer = listed(&mut app);
        app.now = at(18);
        let before = screen(&app, 160, 20);
        assert!(
            before.contains("8 points, listed 03:00:06Z (12s ago)"),
            "{before}"
        );
        app.update(key(KeyCode::Char('r')));
        let during = screen(&app, 160, 20);
        assert!(
            during.contains("reloading… 0 so far; the last list was listed 03:00:06Z (12s ago)"),
            "{during}"
        );
        assert!(
            during.contains("— reloading…"),
            "the title says it:\n{during}"
        );
    }
}
