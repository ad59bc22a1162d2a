//! The console's screens drawn on ratatui's TestBackend: a snapshot per
//! screen and dialog, and asserts on the styles that carry meaning (the
//! destructive confirmation in red, the RTO clock's colours).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dr_drill::cloud::{Identity, PointKind, PointSource, RecoveryPoint, points::Listing};
use dr_drill::engine::event::{EventKind, Question, RunEvent};
use dr_drill::engine::human::HumanRequest;
use dr_drill::engine::plan::Plan;
use dr_drill::runbook::{Mode, check_str};
use dr_drill::tui::app::{App, Msg};
use dr_drill::tui::theme::Theme;
use dr_drill::tui::view::{draw, rto_style};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

const T0: &str = "2026-11-24T03:00:00Z";

pub(super) fn at(secs: u64) -> Timestamp {
    T0.parse::<Timestamp>().unwrap() + Duration::from_secs(secs)
}

pub(super) fn app() -> App {
    app_of(include_str!("../../runbooks/cabal-addresses-restore.toml"))
}

fn app_of(text: &str) -> App {
    let runbook = check_str(text).runbook.unwrap();
    let identity = Identity {
        account: Some("111122223333".into()),
        principal: Some("sim-operator".into()),
        region: "us-east-1".into(),
        simulated: true,
        ..Identity::default()
    };
    let params = BTreeMap::from([(
        "role_arn".to_string(),
        "arn:aws:iam::111122223333:role/cabal-backup-role".to_string(),
    )]);
    let mut app = App::new(Arc::new(runbook), identity, &params, Mode::Drill);
    app.now = at(0);
    app
}

fn render(app: &App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(120, 32)).unwrap();
    terminal.draw(|f| draw(f, app)).unwrap();
    terminal
}

fn screen(app: &App) -> String {
    render(app).backend().to_string()
}

fn event(secs: u64, kind: EventKind) -> Msg {
    Msg::Engine(RunEvent {
        at: at(secs),
        elapsed: Duration::from_secs(secs),
        kind,
    })
}

pub(super) fn running_app() -> App {
    running_app_of(include_str!("../../runbooks/cabal-addresses-restore.toml"))
}

fn running_app_of(text: &str) -> App {
    let mut app = app_of(text);
    let plan = Plan::new(&app.runbook, Mode::Drill).unwrap();
    let values = dr_drill::engine::values::Values {
        params: BTreeMap::from([
            ("table".to_string(), "cabal-addresses".to_string()),
            (
                "restored".to_string(),
                "cabal-addresses-restored".to_string(),
            ),
            ("vault".to_string(), "cabal-backup".to_string()),
        ]),
        ..Default::default()
    };
    app.started(
        &plan,
        Mode::Drill,
        Some(at(0)),
        Some("/data/runs/r1/journal.jsonl".into()),
        values,
    );
    let step = |s: &str| s.to_string();
    for msg in [
        event(
            0,
            EventKind::RunStarted {
                run_id: "cabal-addresses-restore-20261124T030000Z".into(),
                mode: Mode::Drill,
                t0: at(0),
            },
        ),
        event(
            0,
            EventKind::PhaseStarted {
                phase: "assess".into(),
            },
        ),
        event(
            0,
            EventKind::StepStarted {
                step: step("pick"),
                attempt: 1,
            },
        ),
        event(
            0,
            EventKind::StepStarted {
                step: step("live-count"),
                attempt: 1,
            },
        ),
        event(
            2,
            EventKind::StepFinished {
                step: step("pick"),
                outcome: dr_drill::engine::event::Outcome::Succeeded,
                outputs: BTreeMap::from([("vault".to_string(), "cabal-backup".to_string())]),
                reason: None,
            },
        ),
        event(
            2,
            EventKind::RpoMeasured {
                step: step("pick"),
                point_time: at(0) - Duration::from_secs(3 * 3600),
                rpo: Duration::from_secs(3 * 3600),
            },
        ),
        event(
            3,
            EventKind::StepProgress {
                step: step("live-count"),
                message: "counted 2,048 items of cabal-addresses so far".into(),
            },
        ),
        event(
            4,
            EventKind::StepStarted {
                step: step("restore"),
                attempt: 1,
            },
        ),
        event(
            5,
            EventKind::StepProgress {
                step: step("restore"),
                message: "restore job 9F2C: RUNNING (40%)".into(),
            },
        ),
    ] {
        app.update(msg);
    }
    app.now = at(6);
    app
}

pub(super) fn question(
    app: &mut App,
    step: &str,
    question: Question,
) -> tokio::sync::oneshot::Receiver<dr_drill::engine::human::HumanReply> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    app.update(Msg::Question(HumanRequest {
        step: step.into(),
        title: app
            .runbook
            .steps
            .iter()
            .find(|s| s.id.value == step)
            .unwrap()
            .display_title()
            .into(),
        question,
        attempt: 1,
        asked: None,
        reply,
    }));
    answer
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(key(KeyCode::Char(c)));
    }
}

#[test]
fn start_screen() {
    insta::assert_snapshot!(screen(&app()));
}

#[test]
fn run_screen_with_steps_running_side_by_side() {
    insta::assert_snapshot!(screen(&running_app()));
}

#[test]
fn timeline_tab() {
    let mut app = running_app();
    app.update(key(KeyCode::Tab));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn help_overlay() {
    let mut app = running_app();
    app.update(key(KeyCode::Char('?')));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn confirmation_dialog_is_red_and_only_the_exact_text_confirms() {
    let mut app = running_app();
    let mut answer = question(
        &mut app,
        "cutover",
        Question::Confirm {
            text: "cabal-addresses".into(),
            action: "Scan-copy the restored items into the live table (dynamodb.copy-table)".into(),
            change: "every item of table cabal-addresses-restored is written into table cabal-addresses; items of cabal-addresses with the same key are overwritten, others are kept".into(),
        },
    );
    insta::assert_snapshot!("confirmation_dialog", screen(&app));
    let terminal = render(&app);
    let buffer = terminal.backend().buffer();
    let title = (0..buffer.area.height)
        .flat_map(|y| (0..buffer.area.width).map(move |x| (x, y)))
        .find(|&(x, y)| {
            buffer[(x, y)].symbol() == "C"
                && buffer[(x + 1, y)].symbol() == "o"
                && buffer[(x + 8, y)].symbol() == "a"
        })
        .expect("the dialog title is on screen");
    assert_eq!(
        buffer[title].fg,
        Color::Red,
        "a destructive confirmation is drawn in red"
    );

    // Enter on empty text does nothing; nor does a wrong text.
    app.update(key(KeyCode::Enter));
    assert!(answer.try_recv().is_err());
    type_text(&mut app, "cabal-addresse");
    app.update(key(KeyCode::Enter));
    assert!(answer.try_recv().is_err());
    assert!(screen(&app).contains("`cabal-addresse` is not `cabal-addresses`"));
    // Esc leaves the step waiting; Enter on the run screen brings it back.
    app.update(key(KeyCode::Esc));
    assert!(!screen(&app).contains("Confirm a destructive step"));
    assert!(answer.try_recv().is_err());
    app.update(key(KeyCode::Enter));
    assert!(screen(&app).contains("Confirm a destructive step"));
    type_text(&mut app, "s");
    app.update(key(KeyCode::Enter));
    let reply = answer.try_recv().expect("the exact text confirms");
    assert_eq!(
        reply.answer,
        dr_drill::engine::event::Answer::Confirmed {
            typed: "cabal-addresses".into()
        }
    );
}

/// Each phase is listed once, even when a step of a later phase runs
/// between steps of an earlier one (CPAM's pg_verifybackup runs after the
/// extraction but belongs to the integrity checks).
#[test]
fn each_phase_is_listed_once() {
    let text = include_str!("../../runbooks/cpam-pitr-drill.toml");
    let runbook = check_str(text).runbook.unwrap();
    let mut app = App::new(
        Arc::new(runbook),
        Identity::default(),
        &BTreeMap::from([(
            "target_time".to_string(),
            "2026-11-24T10:00:00Z".to_string(),
        )]),
        Mode::Drill,
    );
    let plan = Plan::new(&app.runbook, Mode::Drill).unwrap();
    app.started(&plan, Mode::Drill, Some(at(0)), None, Default::default());
    let mut terminal = Terminal::new(TestBackend::new(120, 60)).unwrap();
    terminal.draw(|f| draw(f, &app)).unwrap();
    let shown = terminal.backend().to_string();
    for phase in [
        "DOWNLOAD",
        "INTEGRITY",
        "RESTORE",
        "VERIFY",
        "REPORT",
        "CLEANUP",
    ] {
        assert_eq!(
            shown.matches(&format!("│   {phase} ")).count(),
            1,
            "{phase} listed once:\n{shown}"
        );
    }
    let (integrity, verify_backup) = (
        shown.find("│   INTEGRITY").unwrap(),
        shown.find("verify-backup").unwrap(),
    );
    let restore = shown.find("│   RESTORE").unwrap();
    assert!(
        integrity < verify_backup && verify_backup < restore,
        "{shown}"
    );
}

/// A destructive shell step's change is its description and its command,
/// several lines: each is shown on its own line, none run together.
#[test]
fn a_multi_line_change_keeps_its_lines() {
    let mut app = running_app();
    let _answer = question(
        &mut app,
        "reconfigure",
        Question::Confirm {
            text: "leapmailr".into(),
            action: "Drop and recreate the database (shell)".into(),
            change: "The database is dropped.\nthe command runs:\nset -eu\ndropdb --if-exists leapmailr\ncreatedb leapmailr".into(),
        },
    );
    let shown = screen(&app);
    for line in [
        "change   The database is dropped.",
        "         the command runs:",
        "         set -eu",
        "         dropdb --if-exists leapmailr",
        "         createdb leapmailr",
    ] {
        assert!(shown.contains(line), "{line:?} not on screen:\n{shown}");
    }
    assert!(!shown.contains("set -eudropdb"), "{shown}");
}

#[test]
fn manual_step_with_choices() {
    let mut app = running_app();
    let mut answer = question(
        &mut app,
        "smoke",
        Question::Acknowledge {
            instructions:
                "Send a message to an address that existed before the incident.\n\n- one\n- two"
                    .into(),
            question: Some("Were both messages delivered?".into()),
            choices: vec!["yes".into(), "no".into()],
        },
    );
    insta::assert_snapshot!(screen(&app));
    // Nothing is chosen: Enter says what to do and answers nothing.
    app.update(key(KeyCode::Enter));
    assert!(answer.try_recv().is_err(), "a bare Enter answered");
    assert!(
        screen(&app).contains("nothing is chosen: pick `yes` or `no`"),
        "{}",
        screen(&app)
    );
    // Tab goes to the first, Right to the next.
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Right));
    app.update(key(KeyCode::Enter));
    assert_eq!(
        answer.try_recv().unwrap().answer,
        dr_drill::engine::event::Answer::Acknowledged {
            answer: Some("no".into())
        }
    );
}

#[test]
fn an_approval_is_never_given_by_a_bare_enter() {
    let mut app = running_app();
    let mut answer = question(
        &mut app,
        "approve-cutover",
        Question::Approve {
            instructions: Some("Delete 1,460 recovery points.".into()),
            waiting_for: vec![],
            have: 0,
            required: 0,
        },
    );
    insta::assert_snapshot!("approve_dialog", screen(&app));
    app.update(key(KeyCode::Enter));
    assert!(answer.try_recv().is_err(), "a bare Enter approved");
    assert!(screen(&app).contains("nothing is chosen"));
    // Left from nothing goes to the last button; Right back to approve.
    app.update(key(KeyCode::Left));
    app.update(key(KeyCode::Enter));
    assert_eq!(
        answer.try_recv().unwrap().answer,
        dr_drill::engine::event::Answer::Declined
    );
    let mut answer = question(
        &mut app,
        "approve-cutover",
        Question::Approve {
            instructions: None,
            waiting_for: vec![],
            have: 0,
            required: 0,
        },
    );
    app.update(key(KeyCode::Right));
    app.update(key(KeyCode::Enter));
    assert_eq!(
        answer.try_recv().unwrap().answer,
        dr_drill::engine::event::Answer::Approved
    );
}

#[test]
fn a_failure_is_never_retried_skipped_or_aborted_by_a_bare_enter() {
    let mut app = running_app();
    for (question_asked, first) in [
        (
            Question::Failure {
                error: "restore job 9F2C FAILED: access denied".into(),
            },
            dr_drill::engine::event::Answer::Retry,
        ),
        (
            Question::Interrupted,
            dr_drill::engine::event::Answer::Rerun,
        ),
    ] {
        let mut answer = question(&mut app, "restore", question_asked);
        app.update(key(KeyCode::Enter));
        assert!(answer.try_recv().is_err(), "a bare Enter answered");
        assert!(screen(&app).contains("nothing is chosen"));
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Enter));
        assert_eq!(answer.try_recv().unwrap().answer, first);
    }
}

fn sized(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| draw(f, app)).unwrap();
    terminal.backend().to_string()
}

#[test]
fn the_help_scrolls_at_80x24_to_its_last_section() {
    let mut app = running_app();
    app.update(key(KeyCode::Char('?')));
    let first = sized(&app, 80, 24);
    assert!(first.contains("more lines below"), "{first}");
    assert!(!first.contains("answer the question waiting"), "{first}");
    app.update(key(KeyCode::End));
    let last = sized(&app, 80, 24);
    assert!(last.contains("Run screen, a question put aside"), "{last}");
    assert!(last.contains("answer the question waiting"), "{last}");
    assert!(!last.contains("more lines below"), "{last}");
    app.update(key(KeyCode::Home));
    assert_eq!(sized(&app, 80, 24), first);
}

#[test]
fn at_60x14_the_confirmation_keeps_its_prompt_and_input_and_long_text_scrolls() {
    let mut app = running_app();
    let _answer = question(
        &mut app,
        "cutover",
        Question::Confirm {
            text: "cabal-addresses".into(),
            action: "Scan-copy the restored items into the live table (dynamodb.copy-table)".into(),
            change: "every item of table cabal-addresses-restored is written into table cabal-addresses; items of cabal-addresses with the same key are overwritten, others are kept".into(),
        },
    );
    let shown = sized(&app, 60, 14);
    assert!(shown.contains("to confirm; Esc leaves"), "{shown}");
    assert!(shown.contains("> ▏"), "{shown}");
    assert!(shown.contains("more lines: PgDn"), "{shown}");
    let long = "a-value-far-longer-than-the-dialog-is-wide-so-it-must-scroll-END";
    type_text(&mut app, long);
    let shown = sized(&app, 60, 14);
    assert!(shown.contains("> …"), "{shown}");
    assert!(shown.contains("scroll-END▏"), "{shown}");
    // PgDn shows the rest of the explanation; the input stays.
    app.update(key(KeyCode::PageDown));
    app.update(key(KeyCode::PageDown));
    let shown = sized(&app, 60, 14);
    assert!(shown.contains("PgUp for the start"), "{shown}");
    assert!(shown.contains("scroll-END▏"), "{shown}");
    // The explanation's last line is reachable, not under the sign.
    assert!(shown.contains("as        SIMULATED"), "{shown}");
    app.update(key(KeyCode::PageUp));
    let shown = sized(&app, 60, 14);
    assert!(shown.contains("This step destroys"), "{shown}");
    assert!(shown.contains("more lines: PgDn"), "{shown}");
}

fn selected_step(app: &App) -> String {
    let dr_drill::tui::app::Screen::Run(view) = &app.screen else {
        panic!("not on the run screen")
    };
    view.steps[view.selected].id.clone()
}

#[test]
fn a_long_output_line_wraps_instead_of_being_cut() {
    let mut app = running_app();
    let step = selected_step(&app);
    let line = format!("{}END-OF-LINE", "0123456789".repeat(20));
    app.update(event(
        6,
        EventKind::StepOutput {
            step,
            stream: dr_drill::engine::event::Stream::Stdout,
            line,
        },
    ));
    // The pane is 68 wide: the line's end is on its fourth row.
    let shown = screen(&app);
    assert!(shown.contains("│OF-LINE "), "{shown}");
}

#[test]
fn the_detail_pane_follows_the_question_on_screen() {
    let mut app = running_app();
    let _first = question(
        &mut app,
        "approve-cutover",
        Question::Approve {
            instructions: None,
            waiting_for: vec![],
            have: 0,
            required: 0,
        },
    );
    assert_eq!(selected_step(&app), "approve-cutover");
    // A question behind it does not take the pane from the one on screen.
    let _second = question(
        &mut app,
        "smoke",
        Question::Acknowledge {
            instructions: "Send a message.".into(),
            question: Some("Delivered?".into()),
            choices: vec!["yes".into(), "no".into()],
        },
    );
    assert_eq!(selected_step(&app), "approve-cutover");
    app.update(key(KeyCode::Right));
    app.update(key(KeyCode::Enter));
    assert_eq!(selected_step(&app), "smoke");
}

#[test]
fn a_waiting_step_shows_why_it_waits_now_not_an_earlier_attempts_reason() {
    let mut app = running_app();
    let step = |s: &str| s.to_string();
    for msg in [
        event(
            7,
            EventKind::StepFinished {
                step: step("restore"),
                outcome: dr_drill::engine::event::Outcome::Failed,
                outputs: BTreeMap::new(),
                reason: Some("restore job 9F2C FAILED: access denied".into()),
            },
        ),
        event(
            7,
            EventKind::HumanAsked {
                step: step("restore"),
                question: Question::Failure {
                    error: "restore job 9F2C FAILED: access denied".into(),
                },
            },
        ),
    ] {
        app.update(msg);
    }
    let _answer = question(
        &mut app,
        "restore",
        Question::Failure {
            error: "restore job 9F2C FAILED: access denied".into(),
        },
    );
    app.update(key(KeyCode::Esc));
    let shown = screen(&app);
    assert_eq!(selected_step(&app), "restore");
    assert!(shown.contains("access denied"), "{shown}");
    assert!(shown.contains("failed; waits for you: retry"), "{shown}");
    for msg in [
        event(
            9,
            EventKind::HumanAnswered {
                who: None,
                step: step("restore"),
                by: "bob@host".into(),
                note: None,
                answer: dr_drill::engine::event::Answer::Retry,
            },
        ),
        event(
            9,
            EventKind::StepStarted {
                step: step("restore"),
                attempt: 2,
            },
        ),
        event(
            10,
            EventKind::StepProgress {
                step: step("restore"),
                message: "restore job 7A11: RUNNING (5%)".into(),
            },
        ),
    ] {
        app.update(msg);
    }
    let shown = screen(&app);
    assert!(!shown.contains("access denied"), "a stale reason:\n{shown}");
    assert!(
        shown.contains("now: restore job 7A11: RUNNING (5%)"),
        "{shown}"
    );
    // A step not yet ready says what it waits for.
    app.update(key(KeyCode::Down));
    let shown = screen(&app);
    assert!(shown.contains("waits for: restore"), "{shown}");
}

pub(super) fn point(n: i64, vault: &str, region: &str) -> RecoveryPoint {
    let mut p = RecoveryPoint::new(
        format!("arn:aws:backup:{region}:111122223333:recovery-point:{n:04}"),
        PointKind::Backup,
        at(0) - Duration::from_secs(3 * 3600 + n as u64 * 86_400),
        region.into(),
    );
    p.vault = Some(vault.into());
    p.resource_name = Some("cabal-addresses".into());
    p.resource_type = Some("DynamoDB".into());
    p.size_bytes = Some(1_153_434);
    p.storage_class = Some("WARM".into());
    if region != "us-east-1" {
        p.copied_from =
            Some("arn:aws:backup:us-east-1:111122223333:backup-vault:cabal-backup".into());
    }
    p
}

#[test]
fn recovery_point_picker_fills_page_by_page_and_explains_the_choice() {
    let mut app = running_app();
    let sources = vec![
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
    ];
    let mut answer = question(
        &mut app,
        "pick",
        Question::PickRecoveryPoint {
            sources,
            restorable: 0,
            newest: None,
        },
    );
    let generation = 1;
    app.update(Msg::Listing(
        generation,
        Listing::Page {
            source: 0,
            points: (0..5)
                .map(|n| point(n, "cabal-backup", "us-east-1"))
                .collect(),
        },
    ));
    insta::assert_snapshot!("picker_loading", screen(&app));
    app.update(Msg::Listing(
        generation,
        Listing::Page {
            source: 1,
            points: (0..5)
                .map(|n| point(n, "cabal-backup-dr", "us-west-2"))
                .collect(),
        },
    ));
    for source in 0..2 {
        app.update(Msg::Listing(
            generation,
            Listing::Done {
                source,
                result: Ok(()),
            },
        ));
    }
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Enter));
    insta::assert_snapshot!("picker_choice", screen(&app));
    app.update(key(KeyCode::Enter));
    let reply = answer.try_recv().unwrap();
    assert_eq!(
        reply.answer,
        dr_drill::engine::event::Answer::Picked {
            point: "arn:aws:backup:us-west-2:111122223333:recovery-point:0001".into()
        }
    );
}

#[test]
fn the_rto_clock_changes_colour_as_it_nears_and_passes_the_target() {
    let theme = Theme::default();
    let target = Some(Duration::from_secs(2 * 3600));
    let minutes = |m: u64| Duration::from_secs(m * 60);
    assert_eq!(
        rto_style(&theme, minutes(30), target).fg,
        Some(Color::Green)
    );
    assert_eq!(
        rto_style(&theme, minutes(95), target).fg,
        Some(Color::Yellow)
    );
    assert_eq!(rto_style(&theme, minutes(121), target).fg, Some(Color::Red));
    // And on screen: 1h 40m into a 2h target the header turns yellow.
    let mut app = running_app();
    app.now = at(100 * 60);
    let terminal = render(&app);
    let buffer = terminal.backend().buffer();
    let rto = (0..buffer.area.width)
        .find(|&x| buffer[(x, 1)].symbol() == "R" && buffer[(x + 1, 1)].symbol() == "T")
        .unwrap();
    assert_eq!(buffer[(rto, 1)].fg, Color::Yellow);
}

#[test]
fn at_60_columns_a_step_id_too_long_for_the_list_ends_in_an_ellipsis() {
    let app = running_app();
    let shown = sized(&app, 60, 20);
    let dr_drill::tui::app::Screen::Run(view) = &app.screen else {
        panic!("not on the run screen")
    };
    let mut cut = 0;
    for step in view.steps.iter().take(8) {
        if shown.contains(&format!("  {} ", step.id))
            || shown.contains(&format!("  {}\u{a0}", step.id))
        {
            continue;
        }
        // Cut: some prefix of it, then "…".
        let prefix = (3..step.id.len())
            .rev()
            .find(|&n| shown.contains(&format!("  {}…", &step.id[..n])));
        assert!(prefix.is_some(), "{} cut without a sign:\n{shown}", step.id);
        cut += 1;
    }
    assert!(cut > 0, "nothing was cut at 60 columns:\n{shown}");
}

/// The header's second line (the RTO clock's).
fn rto_line(app: &App) -> String {
    let terminal = render(app);
    let buffer = terminal.backend().buffer();
    (0..buffer.area.width)
        .map(|x| buffer[(x, 1)].symbol())
        .collect::<String>()
        .trim()
        .to_owned()
}

#[test]
fn the_rto_clock_stops_when_the_run_ends_and_says_how() {
    use dr_drill::engine::event::Outcome;
    for (outcome, words) in [
        (
            Outcome::Failed,
            "RTO 00:12:03 (run failed; no RTO end reached) / 2h",
        ),
        (
            Outcome::Aborted,
            "RTO 00:12:03 (run stopped; no RTO end reached) / 2h",
        ),
    ] {
        let mut app = running_app();
        app.update(event(723, EventKind::RunFinished { outcome }));
        // An hour later the clock still says when the run ended.
        app.now = at(723 + 3600);
        let line = rto_line(&app);
        assert!(line.starts_with(words), "{line}");
    }
    // The step that ends the RTO succeeded: the clock says it was reached.
    let mut app = running_app();
    app.update(event(
        600,
        EventKind::RtoStopped {
            step: "restore".into(),
            rto: Duration::from_secs(600),
        },
    ));
    app.now = at(5000);
    assert!(rto_line(&app).starts_with("RTO 00:10:00 (reached) / 2h"));
}

#[test]
fn a_simulated_run_states_the_rto_in_real_and_world_time_and_judges_it_in_world_time() {
    let mut app = running_app();
    app.simulated_time = Some(dr_drill::format::SimulatedTime { speed: 60.0 });
    app.update(event(
        600,
        EventKind::RtoStopped {
            step: "restore".into(),
            rto: Duration::from_secs(600),
        },
    ));
    app.now = at(660);
    let line = rto_line(&app);
    assert!(
        line.starts_with("RTO 00:10:00 real = 10h simulated at 60× (reached) / 2h"),
        "{line}"
    );
    assert!(
        line.contains("elapsed 00:11:00 real = 11h simulated at 60×"),
        "{line}"
    );
    // 10 real minutes are 10 world hours: over the 2h target.
    let terminal = render(&app);
    assert_eq!(
        terminal.backend().buffer()[(0, 1)].fg,
        app.theme.bad.fg.unwrap()
    );
}

#[test]
fn a_runbook_without_an_rto_end_shows_no_ticking_rto() {
    let text = include_str!("../../runbooks/cabal-backup-posture.toml");
    let runbook = check_str(text).runbook.unwrap();
    let mut app = App::new(
        Arc::new(runbook),
        Identity::default(),
        &BTreeMap::new(),
        Mode::Drill,
    );
    let plan = Plan::new(&app.runbook, Mode::Drill).unwrap();
    app.started(&plan, Mode::Drill, Some(at(0)), None, Default::default());
    app.update(event(
        0,
        EventKind::RunStarted {
            run_id: "posture".into(),
            mode: Mode::Drill,
            t0: at(0),
        },
    ));
    app.now = at(90);
    let line = rto_line(&app);
    assert!(
        line.starts_with("RTO: no RTO end in this runbook"),
        "{line}"
    );
    assert!(line.contains("elapsed 00:01:30"), "{line}");
}

#[test]
fn the_step_pane_shows_resolved_values_and_the_templates_only_on_request() {
    let mut app = running_app();
    // `approve-cutover`: its instructions need a count not taken yet.
    let selected = |app: &App| match &app.screen {
        dr_drill::tui::app::Screen::Run(view) => view.steps[view.selected].id.clone(),
        _ => String::new(),
    };
    while selected(&app) != "approve-cutover" {
        app.update(key(KeyCode::Down));
    }
    let text = screen(&app);
    assert!(!text.contains("<steps."), "{text}");
    assert!(!text.contains("{{"), "{text}");
    assert!(
        text.contains("(items: known once restored-count has run)"),
        "{text}"
    );
    // `v` shows each field's template beside its value; again hides it.
    app.update(key(KeyCode::Up));
    app.update(key(KeyCode::Char('v')));
    let text = screen(&app);
    assert!(
        text.contains("{{ steps.restored-count.items }} →"),
        "{text}"
    );
    app.update(key(KeyCode::Char('v')));
    assert!(!screen(&app).contains("{{"));
}

#[test]
fn the_timeline_axis_fits_the_run_not_a_far_target() {
    let mut app = running_app();
    app.now = at(90);
    app.update(key(KeyCode::Tab));
    let text = screen(&app);
    // A 90 s run against a 2 h target: the axis is the run's, the target
    // named off the scale.
    assert!(
        text.contains("Timeline  0 → 1m 30s   RTO target 2h (off this scale) →"),
        "{text}"
    );
    // Once the run nears the target, the target is drawn on the axis.
    app.now = at(3600);
    let text = screen(&app);
    assert!(
        text.contains("Timeline  0 → 2h   ┊ RTO target 2h"),
        "{text}"
    );
}

#[test]
fn a_search_that_finds_one_line_says_one_line() {
    let mut app = running_app();
    let step = selected_step(&app);
    for (secs, line) in [(6, "restoring alpha"), (7, "restored beta")] {
        app.update(event(
            secs,
            EventKind::StepOutput {
                step: step.clone(),
                stream: dr_drill::engine::event::Stream::Stdout,
                line: line.into(),
            },
        ));
    }
    app.update(key(KeyCode::Char('/')));
    type_text(&mut app, "beta");
    app.update(key(KeyCode::Enter));
    let shown = screen(&app);
    assert!(shown.contains("/beta  (1 line)"), "{shown}");
    assert!(!shown.contains("1 lines"), "{shown}");
}

#[test]
fn an_m_of_n_approval_says_what_it_still_waits_for() {
    let mut app = running_app();
    let _answer = question(
        &mut app,
        "approve-cutover",
        Question::Approve {
            instructions: None,
            waiting_for: vec!["lead".into(), "dba".into()],
            have: 1,
            required: 3,
        },
    );
    let shown = screen(&app);
    assert!(
        shown.contains("1 of 3 needed: waits for lead, dba"),
        "{shown}"
    );
}

#[test]
fn each_step_row_shows_its_owner_role() {
    let text = include_str!("../../runbooks/cabal-addresses-restore.toml")
        .replace(
            "id = \"approve-cutover\"",
            "id = \"approve-cutover\"\nowner = \"lead\"",
        )
        .replace(
            "[[step]]\nid = \"restore\"",
            "[[step]]\nid = \"restore\"\nowner = \"dba\"",
        );
    let app = running_app_of(&text);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| draw(f, &app)).unwrap();
    let rows: String = terminal
        .backend()
        .to_string()
        .lines()
        .filter(|l| l.contains("[lead]") || l.contains("[dba]"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(rows);
}

/// A question a participant answered through the team's inbox (its reply
/// channel closed by the relay) leaves the screen at the next tick: a
/// dialog whose answer would go nowhere never stays up.
#[test]
fn a_question_answered_elsewhere_leaves_the_screen() {
    let mut app = running_app();
    let answer = question(
        &mut app,
        "approve-cutover",
        Question::Approve {
            instructions: Some("Cut over.".into()),
            waiting_for: vec![],
            have: 0,
            required: 0,
        },
    );
    assert!(app.prompt_open());
    drop(answer);
    app.update(Msg::Tick);
    assert!(!app.prompt_open(), "the dialog stayed up");
    assert!(
        screen(&app).contains("answered elsewhere (see the timeline): approve-cutover"),
        "{}",
        screen(&app)
    );
}
