//! The start screen's preflight panel on a TestBackend, fed scripted
//! findings as the loop would: it fills in as findings arrive, never holds
//! the form back, lists the failures and warnings (expanded by a key on a
//! small screen, beside the form on a large one), checks again on a key,
//! and a start with failed checks asks first, naming them. The loop
//! itself, with the sandbox's preflight: `the_console_fills_the_panel_*`.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dr_drill::preflight::{Area, Finding, Preflight, Verdict};
use dr_drill::tui::app::{App, Command, Layer, Msg, Screen};
use dr_drill::tui::preflight::PanelState;
use dr_drill::tui::run_app;
use dr_drill::tui::view::draw;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use super::tui_view::{app, at};

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| draw(f, app)).unwrap();
    terminal.backend().to_string()
}

fn press(app: &mut App, code: KeyCode, modifiers: KeyModifiers) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(code, modifiers)))
}

fn ctrl(app: &mut App, c: char) -> Vec<Command> {
    press(app, KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn plain(app: &mut App, code: KeyCode) -> Vec<Command> {
    press(app, code, KeyModifiers::NONE)
}

/// The generation of the preflight the console asked for.
fn asked(commands: &[Command]) -> u64 {
    match commands {
        [Command::Preflight { generation, .. }] => *generation,
        other => panic!("no preflight asked: {other:?}"),
    }
}

fn findings() -> Vec<Finding> {
    vec![
        Finding::new(
            Area::Identity,
            Verdict::Pass,
            "account 111122223333",
            "acting as sim-operator",
        ),
        Finding::new(
            Area::Permissions,
            Verdict::Fail,
            "iam:PassRole on arn:aws:iam::111122223333:role/cabal-backup-role",
            "explicitly denied by policy deny-passrole (inline)",
        )
        .step("restore")
        .fix("allow iam:PassRole on the role, or remove the deny"),
        Finding::new(
            Area::Permissions,
            Verdict::Pass,
            "backup:StartRestoreJob",
            "allowed",
        )
        .step("restore"),
        Finding::new(
            Area::Resources,
            Verdict::Warn,
            "vault cabal-backup (us-east-1)",
            "the vault is not locked\u{1b}[2J: a backup can be deleted before its time",
        )
        .step("pick")
        .fix("lock the vault (Backup Vault Lock)"),
        Finding::new(
            Area::Time,
            Verdict::Unchecked,
            "restore time",
            "no earlier drill of this runbook",
        ),
    ]
}

fn done(findings: Vec<Finding>) -> Result<Box<Preflight>, String> {
    let mut findings = findings;
    findings.sort_by_key(|f| f.area);
    Ok(Box::new(Preflight {
        findings,
        resources: Default::default(),
        time: None,
        cost: None,
        at: at(0),
        took: 1.25,
    }))
}

/// The app on its start screen, preflight asked, the findings `n` first
/// of [`findings`] arrived.
fn with_findings(n: usize) -> (App, u64) {
    let mut app = app();
    let generation = asked(&app.open());
    for f in findings().into_iter().take(n) {
        app.update(Msg::Preflight(generation, f));
    }
    (app, generation)
}

#[test]
fn the_panel_fills_in_while_preflight_runs_at_80x24() {
    let (app, _) = with_findings(3);
    let shown = screen(&app, 80, 24);
    insta::assert_snapshot!(shown);
    // Every area is on its line; the fields are all still in view.
    for area in [
        "identity",
        "permissions",
        "resources",
        "tools",
        "time",
        "cost",
    ] {
        assert!(shown.contains(area), "{area} missing:\n{shown}");
    }
    assert!(shown.contains("mode *"), "{shown}");
}

#[test]
fn mixed_verdicts_collapsed_at_80x24_and_listed_beside_the_form_at_160x48() {
    let (mut app, generation) = with_findings(0);
    app.update(Msg::PreflightDone(generation, done(findings())));
    let small = screen(&app, 80, 24);
    insta::assert_snapshot!("mixed_verdicts_80x24", small);
    assert!(!small.contains("explicitly denied"), "collapsed:\n{small}");
    let large = screen(&app, 160, 48);
    insta::assert_snapshot!("mixed_verdicts_160x48", large);
    assert!(large.contains("explicitly denied"), "{large}");
    assert!(large.contains("fix: allow iam:PassRole"), "{large}");
    // Text from outside reaches the screen without its escape sequence.
    assert!(!large.contains('\u{1b}'), "{large}");
    assert!(large.contains("the vault is not locked[2J"), "{large}");
    // Passes are counted, not listed; what to check by hand comes last.
    assert!(!large.contains("acting as sim-operator"), "{large}");
    let (fail, warn, unchecked) = (
        large.find("explicitly denied").unwrap(),
        large.find("the vault is not locked").unwrap(),
        large.find("no earlier drill of this runbook").unwrap(),
    );
    assert!(fail < warn && warn < unchecked, "{large}");
}

#[test]
fn ctrl_e_expands_and_ctrl_r_checks_the_changed_values_again() {
    let (mut app, first) = with_findings(0);
    app.update(Msg::PreflightDone(first, done(findings())));
    ctrl(&mut app, 'e');
    let expanded = screen(&app, 80, 24);
    assert!(expanded.contains("explicitly denied"), "{expanded}");
    // Scrolled down, the first finding goes out of view.
    for _ in 0..3 {
        press(&mut app, KeyCode::Down, KeyModifiers::CONTROL);
    }
    let scrolled = screen(&app, 80, 24);
    assert!(!scrolled.contains("iam:PassRole on arn"), "{scrolled}");
    ctrl(&mut app, 'e');
    assert!(!screen(&app, 80, 24).contains("explicitly denied"));

    // A changed value: the panel says so; ctrl-r checks the new values.
    for _ in 0..40 {
        plain(&mut app, KeyCode::Backspace);
    }
    for c in "other-vault".chars() {
        plain(&mut app, KeyCode::Char(c));
    }
    let stale = screen(&app, 80, 24);
    assert!(
        stale.contains("values changed: ctrl-r checks again"),
        "{stale}"
    );
    let commands = ctrl(&mut app, 'r');
    let [
        Command::Preflight {
            generation, params, ..
        },
    ] = &commands[..]
    else {
        panic!("{commands:?}")
    };
    assert!(*generation > first);
    assert_eq!(params["vault"], "other-vault");
    // The earlier preflight's late findings are dropped.
    app.update(Msg::Preflight(first, findings().remove(1)));
    let Screen::Start(form) = &app.screen else {
        panic!("not on the start screen")
    };
    assert!(form.preflight.findings.is_empty());
    assert_eq!(form.preflight.state, PanelState::Running);
    assert!(screen(&app, 80, 24).contains("checking"));
}

#[test]
fn a_running_preflight_never_holds_the_start_back() {
    let (mut app, _) = with_findings(1);
    let started = ctrl(&mut app, 's');
    assert!(
        matches!(started[..], [Command::StartRun { .. }]),
        "{started:?}"
    );
}

#[test]
fn starting_with_failed_checks_asks_first_and_names_them() {
    let (mut app, _) = with_findings(4);
    // Still running, one failure so far: the start asks.
    assert!(ctrl(&mut app, 's').is_empty());
    assert_eq!(app.layer(), Layer::StartDespite);
    let dialog = screen(&app, 80, 24);
    insta::assert_snapshot!("start_despite_failures", dialog);
    assert!(dialog.contains("iam:PassRole"), "{dialog}");
    assert!(dialog.contains("step restore"), "{dialog}");
    // A bare Enter starts nothing.
    assert!(plain(&mut app, KeyCode::Enter).is_empty());
    assert!(screen(&app, 80, 24).contains("nothing is chosen"));
    // Esc goes back to the form; nothing started.
    assert!(plain(&mut app, KeyCode::Esc).is_empty());
    assert_eq!(app.layer(), Layer::Start);
    // "start anyway", chosen, then Enter: the run starts.
    ctrl(&mut app, 's');
    plain(&mut app, KeyCode::Right);
    let started = plain(&mut app, KeyCode::Enter);
    assert!(
        matches!(started[..], [Command::StartRun { .. }]),
        "{started:?}"
    );
    assert!(app.start_forced, "the start is known to be forced");
    assert_eq!(app.layer(), Layer::Start);
    // "go back" chosen: nothing starts.
    ctrl(&mut app, 's');
    plain(&mut app, KeyCode::Right);
    plain(&mut app, KeyCode::Right);
    assert!(plain(&mut app, KeyCode::Enter).is_empty());
    assert_eq!(app.layer(), Layer::Start);
}

#[test]
fn parameters_that_do_not_resolve_are_said_in_the_panel() {
    let (mut app, generation) = with_findings(0);
    app.update(Msg::PreflightDone(
        generation,
        Err("the parameters do not resolve: `role_arn` is required\u{7}".into()),
    ));
    let shown = screen(&app, 80, 24);
    assert!(shown.contains("did not run"), "{shown}");
    assert!(shown.contains("`role_arn` is required"), "{shown}");
    assert!(!shown.contains('\u{7}'));
}

/// The real loop on the sandbox: the panel fills from the sandbox's
/// preflight as soon as the start screen opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_fills_the_panel_from_the_sandbox_as_the_start_screen_opens() {
    let data = tempfile::tempdir().unwrap();
    let text = include_str!("../../runbooks/cabal-addresses-restore.toml");
    let (session, mut app) = super::tui_app::console(text, data.path(), "echo reconfigured");
    let (tx, rx) = mpsc::unbounded_channel::<Msg>();
    let input = Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    }));
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let driver = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        tx.send(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)))
            .unwrap();
        tx.send(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)))
            .unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let outcome = tokio::time::timeout(
        Duration::from_secs(30),
        run_app(&mut terminal, &mut app, &session, None, input),
    )
    .await
    .expect("the console left within 30 s")
    .unwrap();
    driver.abort();
    assert_eq!(outcome, None);
    let Screen::Start(form) = &app.screen else {
        panic!("not on the start screen")
    };
    let PanelState::Done(found) = &form.preflight.state else {
        panic!("preflight did not finish: {:?}", form.preflight.state)
    };
    assert!(!found.findings.is_empty());
    assert_eq!(form.preflight.findings, found.findings);
}

#[test]
fn with_many_parameters_at_80x24_the_focused_field_stays_in_view_above_the_panel() {
    let text = include_str!("../../runbooks/penguinmails-vault-restore-test.toml");
    let runbook = dr_drill::runbook::check_str(text).runbook.unwrap();
    let mut app = App::new(
        std::sync::Arc::new(runbook),
        dr_drill::cloud::Identity::default(),
        &Default::default(),
        dr_drill::runbook::Mode::Drill,
    );
    app.open();
    let Screen::Start(form) = &app.screen else {
        panic!("not on the start screen")
    };
    let n = form.fields.len();
    assert!(n >= 10, "{n} fields");
    // To the last parameter (mode and T0 come after it).
    let last = form.fields[n - 3].name.clone();
    for _ in 0..n {
        let Screen::Start(form) = &app.screen else {
            panic!("not on the start screen")
        };
        if form.fields[form.focus].name == last {
            break;
        }
        plain(&mut app, KeyCode::Tab);
    }
    let shown = screen(&app, 80, 24);
    let row = shown
        .lines()
        .find(|l| l.starts_with(&format!("\"│{last} ")))
        .unwrap_or_else(|| panic!("{last} is not in view:\n{shown}"));
    assert!(row.contains('▏'), "the cursor is not on {last}:\n{shown}");
    assert!(shown.contains("┌ Preflight"), "{shown}");
}
