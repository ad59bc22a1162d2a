//! The start screen with scripted keys on a TestBackend: every field is
//! checked before a run starts, by the rules `run` applies; text that does
//! not fit scrolls or ends in "…"; a runbook's missing programs are named
//! before anything runs, in the console and headless.

use std::collections::BTreeMap;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dr_drill::cloud::Identity;
use dr_drill::runbook::{Mode, check_str};
use dr_drill::tui::app::{App, Command, Msg, Screen};
use dr_drill::tui::view::draw;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn app(text: &str) -> App {
    let runbook = check_str(text).runbook.unwrap();
    let identity = Identity {
        account: Some("111122223333".into()),
        region: "us-east-1".into(),
        simulated: true,
        ..Identity::default()
    };
    App::new(Arc::new(runbook), identity, &BTreeMap::new(), Mode::Drill)
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| draw(f, app)).unwrap();
    terminal.backend().to_string()
}

fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ctrl_s(app: &mut App) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    )))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn clear(app: &mut App) {
    for _ in 0..40 {
        press(app, KeyCode::Backspace);
    }
}

fn focused(app: &App) -> String {
    let Screen::Start(form) = &app.screen else {
        panic!("not on the start screen")
    };
    form.fields[form.focus].name.clone()
}

fn focus_on(app: &mut App, name: &str) {
    for _ in 0..20 {
        if focused(app) == name {
            return;
        }
        press(app, KeyCode::Tab);
    }
    panic!("no field {name}");
}

const PITR: &str = include_str!("../../runbooks/cabal-pitr-table-restore.toml");

#[test]
fn a_bad_time_is_named_in_place_and_ctrl_s_starts_nothing() {
    let mut app = app(PITR);
    focus_on(&mut app, "restore_to");
    clear(&mut app);
    type_text(&mut app, "yesterday");
    // Leaving the field shows what is wrong with it, in its row.
    press(&mut app, KeyCode::Tab);
    let shown = screen(&app, 160, 40);
    assert!(
        shown.contains("`restore_to`: `yesterday` is not an RFC 3339 time"),
        "{shown}"
    );
    // Ctrl-S elsewhere starts nothing and brings the focus back to it.
    focus_on(&mut app, "mode");
    assert!(ctrl_s(&mut app).is_empty(), "a bad time started a run");
    assert_eq!(focused(&app), "restore_to");
    // The documented shortcut and an RFC 3339 time both start the run.
    clear(&mut app);
    type_text(&mut app, "latest");
    assert!(matches!(ctrl_s(&mut app)[..], [Command::StartRun { .. }]));
    clear(&mut app);
    type_text(&mut app, "2026-11-21T03:00:00Z");
    let started = ctrl_s(&mut app);
    let [Command::StartRun { params, .. }] = &started[..] else {
        panic!("not started: {started:?}")
    };
    assert_eq!(params["restore_to"], "2026-11-21T03:00:00Z");
}

#[test]
fn a_long_problem_is_read_whole_at_80x24() {
    let mut app = app(PITR);
    focus_on(&mut app, "restore_to");
    clear(&mut app);
    type_text(&mut app, "yesterday");
    press(&mut app, KeyCode::Tab);
    focus_on(&mut app, "restore_to");
    let shown = screen(&app, 80, 24);
    // The field's box grows: the message ends with what to write.
    assert!(shown.contains("or `latest`"), "{shown}");
}

#[test]
fn required_fields_numbers_and_an_incident_t0_are_checked_before_the_run() {
    let mut app = app(r#"
[runbook]
format = 1
id = "pitr"
title = "PITR"

[params]
target_time = { required = true, type = "time", description = "Moment to recover to" }
restore_port = { default = "5439", type = "number", description = "Port" }

[[step]]
id = "s"
kind = "manual"
instructions = "do it"
"#);
    // target_time is required and empty: Ctrl-S goes there and says so.
    focus_on(&mut app, "mode");
    assert!(ctrl_s(&mut app).is_empty());
    assert_eq!(focused(&app), "target_time");
    assert!(screen(&app, 160, 40).contains("`target_time` is required"));
    type_text(&mut app, "2026-11-24T11:45:00Z");
    focus_on(&mut app, "restore_port");
    clear(&mut app);
    type_text(&mut app, "54x9");
    assert!(ctrl_s(&mut app).is_empty());
    assert_eq!(focused(&app), "restore_port");
    assert!(screen(&app, 160, 40).contains("`restore_port` must be a whole number, not `54x9`"));
    clear(&mut app);
    type_text(&mut app, "5439");
    // An incident needs a T0 the engine's parser reads.
    focus_on(&mut app, "mode");
    press(&mut app, KeyCode::Right);
    focus_on(&mut app, "t0");
    type_text(&mut app, "11:45");
    assert!(ctrl_s(&mut app).is_empty());
    assert_eq!(focused(&app), "t0");
    assert!(screen(&app, 160, 40).contains("T0 `11:45` is not an RFC 3339 time"));
    clear(&mut app);
    type_text(&mut app, "2026-11-24T12:00:00Z");
    let started = ctrl_s(&mut app);
    assert!(
        matches!(
            started[..],
            [Command::StartRun {
                mode: Mode::Incident,
                t0: Some(_),
                ..
            }]
        ),
        "{started:?}"
    );
}

#[test]
fn a_bad_parameter_is_refused_headless_before_a_run_exists() {
    let data = tempfile::tempdir().unwrap();
    let output = assert_cmd::Command::cargo_bin("dr-drill")
        .unwrap()
        .args([
            "run",
            "runbooks/cabal-pitr-table-restore.toml",
            "--headless",
            "--sandbox",
        ])
        .args(["--param", "restore_to=yesterday", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`restore_to`: `yesterday` is not an RFC 3339 time"),
        "{stderr}"
    );
    assert!(!data.path().join("runs").exists(), "a run was created");
}

#[test]
fn the_description_scrolls_to_its_plan_at_80x24() {
    let mut app = app(include_str!("../../runbooks/cabal-addresses-restore.toml"));
    let first = screen(&app, 80, 24);
    let end = "the restored table is dropped at the end.";
    assert!(!first.contains(end), "{first}");
    assert!(first.contains("pgdn: more"), "{first}");
    let mut seen = false;
    for _ in 0..10 {
        press(&mut app, KeyCode::PageDown);
        seen |= screen(&app, 80, 24).contains(end);
    }
    assert!(seen, "the end of the description never came into view");
    for _ in 0..10 {
        press(&mut app, KeyCode::PageUp);
    }
    assert_eq!(screen(&app, 80, 24), first);
}

#[test]
fn long_descriptions_end_in_an_ellipsis_and_long_values_keep_the_cursor_in_view() {
    let mut app = app(PITR);
    focus_on(&mut app, "reconfigure_cmd");
    let shown = screen(&app, 80, 24);
    assert!(shown.contains('…'), "{shown}");
    // The focused field's description in full, below the table.
    assert!(
        shown.contains("Command that makes the mail tier pick up the restored data"),
        "{shown}"
    );
    clear(&mut app);
    type_text(&mut app, &format!("{}END", "x".repeat(120)));
    let shown = screen(&app, 80, 24);
    assert!(shown.contains("xxEND▏"), "{shown}");
}

const NEEDS_A_TOOL: &str = r#"
[runbook]
format = 1
id = "needs-a-tool"
title = "Needs a tool"

[[step]]
id = "approve"
kind = "approve"

[[step]]
id = "restore"
kind = "shell"
needs = ["approve"]
run = "dr-drill-no-such-tool --version"
requires = ["dr-drill-no-such-tool"]
"#;

#[test]
fn missing_programs_are_named_on_the_start_screen_and_nothing_starts() {
    let mut app = app(NEEDS_A_TOOL);
    let shown = screen(&app, 120, 30);
    assert!(
        shown.contains("this machine lacks a program that the runbook's steps need"),
        "{shown}"
    );
    assert!(
        shown.contains("`dr-drill-no-such-tool` (step restore)"),
        "{shown}"
    );
    assert!(
        ctrl_s(&mut app).is_empty(),
        "a run started without its program"
    );
}

#[test]
fn missing_programs_refuse_a_headless_run_before_its_first_step() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("needs.toml");
    std::fs::write(&runbook, NEEDS_A_TOOL).unwrap();
    let output = assert_cmd::Command::cargo_bin("dr-drill")
        .unwrap()
        .args(["run", runbook.to_str().unwrap(), "--headless", "--sandbox"])
        .args(["--answer", "approve=yes", "--data-dir"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`dr-drill-no-such-tool` (step restore)"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("data").join("runs").exists(),
        "a run was created"
    );
}

const OWNED: &str = "[runbook]\nid = \"own\"\ntitle = \"Own\"\n\n[[step]]\nid = \"restore\"\nkind = \"manual\"\nowner = \"dba\"\ninstructions = \"Restore.\"\n";

#[test]
fn the_roles_field_is_checked_in_place_and_starts_the_run_with_its_roles() {
    // A runbook without owners or approvers shows no roles field.
    let mut plain = app(PITR);
    plain = plain.with_roles(&Default::default());
    let Screen::Start(form) = &plain.screen else {
        panic!("not on the start screen")
    };
    assert!(form.fields.iter().all(|f| f.name != "roles"));

    let given = dr_drill::engine::participant::Roles::from([(
        "dba".to_string(),
        vec!["alice@example.com".to_string()],
    )]);
    let mut app = app(OWNED).with_roles(&given);
    focus_on(&mut app, "roles");
    let shown = screen(&app, 160, 30);
    assert!(shown.contains("dba=alice@example.com"), "{shown}");
    clear(&mut app);
    type_text(&mut app, "dba=alice@example.com, Lead");
    press(&mut app, KeyCode::Tab);
    let shown = screen(&app, 160, 30);
    assert!(shown.contains("roles `Lead` is not ROLE=WHO"), "{shown}");
    assert!(ctrl_s(&mut app).is_empty(), "a bad role started a run");
    assert_eq!(focused(&app), "roles");
    clear(&mut app);
    type_text(&mut app, "dba=alice@example.com, lead=bob");
    let started = ctrl_s(&mut app);
    let [Command::StartRun { roles, params, .. }] = &started[..] else {
        panic!("not started: {started:?}")
    };
    assert!(params.is_empty(), "{params:?}");
    assert_eq!(roles["dba"], vec!["alice@example.com"]);
    assert_eq!(roles["lead"], vec!["bob"]);
}
