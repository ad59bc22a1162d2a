//! The report's "Participants and approvals" from a journal of a team
//! run: a 2-of-3 approval with the driver's own approval and a duplicate
//! refused, an owned manual step answered by the role's holder, and a
//! takeover; hostile display names escaped; older journals without it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dr_drill::engine::event::{Answer, EventKind, Outcome, Question, RunEvent};
use dr_drill::engine::journal::{JournalHeader, sha256_hex};
use dr_drill::engine::participant::{Participant, Roles};
use dr_drill::report::{self, Format};
use dr_drill::runbook::Mode;
use jiff::Timestamp;

const RUNBOOK: &str = r#"[runbook]
id = "people-report"
title = "People report"

[[step]]
id = "restore-check"
title = "DBA checks the restored rows"
kind = "manual"
owner = "dba"
instructions = "Count the restored rows."

[[step]]
id = "cutover"
title = "Cut over"
kind = "approve"
needs = ["restore-check"]
approvers = ["lead", "dba", "arn:aws:iam::123456789012:user/erin"]
required = 2
"#;

const T0: i64 = 1_795_000_000;

fn person(user: &str) -> Participant {
    Participant {
        arn: format!("arn:aws:iam::123456789012:user/{user}"),
        account: "123456789012".into(),
        name: user.into(),
    }
}

fn at(secs: u64, kind: EventKind) -> RunEvent {
    RunEvent {
        at: Timestamp::from_second(T0 + secs as i64).unwrap(),
        elapsed: Duration::from_secs(secs),
        kind,
    }
}

fn answer(secs: u64, step: &str, who: &Participant, answer: Answer) -> RunEvent {
    at(
        secs,
        EventKind::HumanAnswered {
            step: step.into(),
            by: format!("{}@laptop", who.name),
            who: Some(who.clone()),
            note: None,
            answer,
        },
    )
}

fn refused(secs: u64, step: &str, who: &Participant, reason: &str) -> RunEvent {
    at(
        secs,
        EventKind::AnswerRefused {
            step: step.into(),
            who: who.clone(),
            reason: reason.into(),
        },
    )
}

fn asked(secs: u64, step: &str, question: Question) -> RunEvent {
    at(
        secs,
        EventKind::HumanAsked {
            step: step.into(),
            question,
        },
    )
}

fn approve_question() -> Question {
    Question::Approve {
        instructions: None,
        waiting_for: vec!["lead".into(), "dba".into()],
        have: 0,
        required: 2,
    }
}

/// Writes a journal of the team run, `driver` named `driver_name`.
fn team_journal(dir: &Path, driver_name: &str) -> PathBuf {
    let dan = Participant {
        name: driver_name.into(),
        ..person("dan")
    };
    let (bob, alice) = (person("bob"), person("alice"));
    let header = JournalHeader {
        journal_format: 1,
        run_id: "people-report-20261112T090000Z".into(),
        runbook_path: "runbooks/people-report.toml".into(),
        runbook_sha256: sha256_hex(RUNBOOK),
        runbook_text: RUNBOOK.into(),
        mode: Mode::Drill,
        t0: Timestamp::from_second(T0).unwrap(),
        started_at: Timestamp::from_second(T0).unwrap(),
        operator: "dan@laptop".into(),
        params: BTreeMap::new(),
        dr_drill_version: "0.1.0".into(),
        world: None,
        roles: Roles::from([
            ("dba".to_string(), vec!["alice".to_string()]),
            (
                "lead".to_string(),
                vec!["dan".to_string(), "bob".to_string()],
            ),
        ]),
        driver: Some(dan.clone()),
    };
    let cut = "cutover";
    let events = vec![
        at(
            0,
            EventKind::RunStarted {
                run_id: header.run_id.clone(),
                mode: Mode::Drill,
                t0: header.t0,
            },
        ),
        at(
            0,
            EventKind::DriverChanged {
                driver: dan.clone(),
                process: "dan@laptop pid 4242".into(),
                token: 1,
                took_over: None,
            },
        ),
        at(
            1,
            EventKind::StepStarted {
                step: "restore-check".into(),
                attempt: 1,
            },
        ),
        asked(
            1,
            "restore-check",
            Question::Acknowledge {
                instructions: "Count the restored rows.".into(),
                question: None,
                choices: Vec::new(),
            },
        ),
        answer(
            60,
            "restore-check",
            &alice,
            Answer::Acknowledged { answer: None },
        ),
        at(
            60,
            EventKind::StepFinished {
                step: "restore-check".into(),
                outcome: Outcome::Succeeded,
                outputs: BTreeMap::new(),
                reason: None,
            },
        ),
        at(
            61,
            EventKind::StepStarted {
                step: cut.into(),
                attempt: 1,
            },
        ),
        asked(61, cut, approve_question()),
        answer(70, cut, &dan, Answer::Approved),
        refused(
            70,
            cut,
            &dan,
            "the driver cannot approve their own Cut over (allow_self = false)",
        ),
        asked(70, cut, approve_question()),
        answer(90, cut, &bob, Answer::Approved),
        asked(90, cut, approve_question()),
        answer(95, cut, &bob, Answer::Approved),
        refused(95, cut, &bob, "bob has already approved"),
        asked(95, cut, approve_question()),
        answer(120, cut, &alice, Answer::Approved),
        at(
            120,
            EventKind::StepFinished {
                step: cut.into(),
                outcome: Outcome::Succeeded,
                outputs: BTreeMap::new(),
                reason: None,
            },
        ),
        at(
            130,
            EventKind::DriverChanged {
                driver: bob.clone(),
                process: "bob@desk pid 77".into(),
                token: 2,
                took_over: Some("dan's laptop lost power".into()),
            },
        ),
        at(
            140,
            EventKind::RunFinished {
                outcome: Outcome::Succeeded,
            },
        ),
    ];
    let path = dir.join("runs").join(&header.run_id).join("journal.jsonl");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = serde_json::to_string(&header).unwrap();
    text.push('\n');
    for e in &events {
        text.push_str(&serde_json::to_string(e).unwrap());
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// The Markdown from its "Participants and approvals" heading to the next
/// section.
fn section(md: &str) -> &str {
    let start = md
        .find("## Participants and approvals")
        .expect("the report has the section");
    let rest = &md[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 4);
    &rest[..end]
}

#[test]
fn a_team_run_lists_its_driver_roles_takeover_and_every_answer() {
    let dir = tempfile::tempdir().unwrap();
    let journal = team_journal(dir.path(), "dan");
    let r = report::from_journal(&journal, Some(dir.path())).unwrap();
    let md = r.render(Format::Markdown);
    insta::assert_snapshot!("participants.md", section(&md));
    let json: serde_json::Value = serde_json::from_str(&r.render(Format::Json)).unwrap();
    insta::assert_snapshot!(
        "participants.json",
        serde_json::to_string_pretty(&json["participants"]).unwrap()
    );
    // The HTML says the same, with the approvals counted.
    let html = r.render(Format::Html);
    assert!(
        html.contains("<h2>Participants and approvals</h2>"),
        "{html}"
    );
    assert!(html.contains("2 of 2 approvals"), "{html}");
    assert!(html.contains("refused: bob has already approved"), "{html}");
}

#[test]
fn a_hostile_display_name_is_escaped_in_html_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let journal = team_journal(dir.path(), "<script>alert(1)</script>|dan");
    let r = report::from_journal(&journal, Some(dir.path())).unwrap();
    let html = r.render(Format::Html);
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    let md = r.render(Format::Markdown);
    let part = section(&md);
    assert!(!part.contains("<script>"), "{part}");
    // The pipe in the name does not open a column.
    for line in part.lines().filter(|l| l.contains("script")) {
        if line.starts_with('|') {
            assert_eq!(line.matches(" | ").count(), 4, "{line}");
        }
    }
}

#[test]
fn an_older_journal_has_no_participants_section() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journals/clean");
    let journal = fixtures.join("runs/cabal-addresses-restore-20261117T090000Z/journal.jsonl");
    let r = report::from_journal(&journal, Some(&fixtures)).unwrap();
    assert!(r.participants.is_none());
    assert!(!r.render(Format::Markdown).contains("Participants"));
    assert!(!r.render(Format::Html).contains("Participants"));
    let json: serde_json::Value = serde_json::from_str(&r.render(Format::Json)).unwrap();
    assert!(json.get("participants").is_none());
}

#[test]
fn every_participants_json_field_is_documented() {
    fn keys(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    out.push(k.clone());
                    keys(v, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let journal = team_journal(dir.path(), "dan");
    let r = report::from_journal(&journal, Some(dir.path())).unwrap();
    let json: serde_json::Value = serde_json::from_str(&r.render(Format::Json)).unwrap();
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/report-format.md"
    ))
    .unwrap();
    let mut all = vec!["participants".to_string()];
    keys(&json["participants"], &mut all);
    for key in all {
        assert!(
            doc.contains(&format!("`{key}`")),
            "docs/report-format.md does not mention `{key}`"
        );
    }
}
