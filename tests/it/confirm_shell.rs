//! Issue #14, items 1 and 2: an empty confirmation confirms nothing, and a
//! template never stands where the shell parses its value a second time.
//! The hostile inputs are in the tests: an empty parameter behind
//! `rm -rf "$X"/*`, a step output that is empty, `$(…)` in values that a
//! `trap`, `eval` or `sh -c` would run.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use dr_drill::engine::event::{Answer, EventKind, Outcome, RunEvent};
use dr_drill::engine::{self, RunSummary};
use dr_drill::runbook::{Mode, check_str};
use predicates::prelude::*;

const HEADER: &str = "[runbook]\nid = \"confirm-test\"\ntitle = \"Confirm test\"\n\n";

/// Runs `body` with `params`, answering every confirmation with a bare
/// Enter; returns the summary, the events and how many questions came.
async fn run_pressing_enter(
    body: &str,
    params: &[(&str, &str)],
) -> (RunSummary, Vec<RunEvent>, usize, tempfile::TempDir) {
    let text = format!("{HEADER}{body}");
    let checked = check_str(&text);
    let runbook = checked
        .runbook
        .unwrap_or_else(|| panic!("test runbook must be valid: {:?}", checked.diagnostics));
    let dir = tempfile::tempdir().unwrap();
    let params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let engine::Started {
        engine,
        mut events,
        mut questions,
    } = engine::start_unjournaled(runbook, Mode::Drill, params, dir.path().to_owned(), 4).unwrap();
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    tokio::spawn(async move {
        while let Some(q) = questions.recv().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let bare_enter = Answer::Confirmed {
                typed: String::new(),
            };
            let _ = q
                .reply
                .send(dr_drill::engine::human::HumanReply::new(bare_enter, "t@t"));
        }
    });
    let summary = engine.run().await.unwrap();
    let mut all = Vec::new();
    while let Ok(e) = events.try_recv() {
        all.push(e);
    }
    let asked = asked.load(Ordering::SeqCst);
    (summary, all, asked, dir)
}

fn finished_reason(events: &[RunEvent], step: &str) -> (Outcome, String) {
    events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::StepFinished {
                step: s,
                outcome,
                reason,
                ..
            } if s == step => Some((*outcome, reason.clone().unwrap_or_default())),
            _ => None,
        })
        .expect("the step finished")
}

fn started(events: &[RunEvent], step: &str) -> bool {
    events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::StepStarted { step: s, .. } if s == step))
}

/// The review's case: an empty default behind the confirm text and behind
/// `rm -rf "$X"/*`. A bare Enter used to confirm it.
#[tokio::test]
async fn a_confirm_text_that_resolves_to_empty_fails_the_step_before_it_asks_or_runs() {
    let body = r#"
[params]
scratch = { default = "" }

[[step]]
id = "wipe-scratch"
kind = "shell"
env = { X = "{{ params.scratch }}" }
run = 'ls "$X"/ > listed-instead-of-rm-rf'
destructive = true
confirm = "{{ params.scratch }}"
"#;
    let (summary, events, asked, dir) = run_pressing_enter(body, &[]).await;
    let (outcome, reason) = finished_reason(&events, "wipe-scratch");
    assert_eq!(outcome, Outcome::Failed);
    assert!(!started(&events, "wipe-scratch"), "the step never started");
    assert_eq!(asked, 0, "nothing was asked: a bare Enter cannot confirm");
    assert!(
        !dir.path().join("listed-instead-of-rm-rf").exists(),
        "the command never ran"
    );
    assert!(
        reason.contains("`{{ params.scratch }}` resolves to an empty text")
            && reason.contains("nothing was run"),
        "{reason}"
    );
    assert!(summary.steps.iter().all(|(_, o)| *o != Outcome::Succeeded));
}

/// A blank made of spaces is as empty as nothing.
#[tokio::test]
async fn a_confirm_text_of_spaces_is_empty_too() {
    let body = r#"
[params]
scratch = { default = "x" }

[[step]]
id = "wipe"
kind = "shell"
run = "touch ran"
destructive = true
confirm = "{{ params.scratch }}"
"#;
    let (_, events, asked, dir) = run_pressing_enter(body, &[("scratch", "   ")]).await;
    assert_eq!(finished_reason(&events, "wipe").0, Outcome::Failed);
    assert_eq!(asked, 0);
    assert!(!dir.path().join("ran").exists());
}

/// A destructive kind whose resource resolves to empty fails, even when its
/// confirm text is a literal the operator could type.
#[tokio::test]
async fn a_destructive_kind_whose_resource_resolves_to_empty_fails() {
    let body = r#"
[params]
restored = { default = "" }

[[step]]
id = "drop"
kind = "dynamodb.delete-table"
table = "{{ params.restored }}"
confirm = "drop it"
"#;
    let (_, events, asked, _dir) = run_pressing_enter(body, &[]).await;
    let (outcome, reason) = finished_reason(&events, "drop");
    assert_eq!(outcome, Outcome::Failed);
    assert!(!started(&events, "drop"));
    assert_eq!(asked, 0);
    assert!(
        reason.contains("dynamodb.delete-table")
            && reason.contains("`{{ params.restored }}`, resolves to an empty text"),
        "{reason}"
    );
}

// ------------------------------------------------------------ the CLI

const HEADLESS: &str = r#"
[runbook]
id = "empty-confirm"
title = "Empty confirm"

[params]
scratch = { default = "" }

[[step]]
id = "probe"
kind = "shell"
run = "echo dir= >> \"$DR_DRILL_OUTPUT\""
outputs = ["dir"]

[[step]]
id = "wipe-known"
needs = ["probe"]
kind = "shell"
env = { X = "{{ params.scratch }}" }
run = 'ls "$X"/ > known-listed'
destructive = true
confirm = "{{ params.scratch }}"
"#;

const FROM_OUTPUT: &str = r#"
[runbook]
id = "empty-confirm-output"
title = "Empty confirm from an output"

[[step]]
id = "probe"
kind = "shell"
run = "echo dir= >> \"$DR_DRILL_OUTPUT\""
outputs = ["dir"]

[[step]]
id = "wipe"
needs = ["probe"]
kind = "shell"
env = { X = "{{ steps.probe.dir }}" }
run = 'ls "$X"/ > listed'
destructive = true
confirm = "{{ steps.probe.dir }}"
"#;

fn dr_drill(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.current_dir(dir)
        .env("DR_DRILL_DATA_DIR", dir.join("data"));
    cmd
}

fn runs(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("data/runs")).map_or(0, |rd| rd.count())
}

#[test]
fn an_empty_confirm_flag_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rb.toml");
    std::fs::write(&path, HEADLESS).unwrap();
    dr_drill(dir.path())
        .args(["run", "--headless", "--confirm", "wipe-known="])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`--confirm wipe-known=` gives no text",
        ));
    assert_eq!(runs(dir.path()), 0, "nothing ran");
}

#[test]
fn a_confirm_text_known_to_be_empty_refuses_the_headless_run_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rb.toml");
    std::fs::write(&path, HEADLESS).unwrap();
    dr_drill(dir.path())
        .args(["run", "--headless", "--confirm", "wipe-known=anything"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "destructive step `wipe-known` confirms with `{{ params.scratch }}`, which is empty for this run",
        ));
    assert_eq!(runs(dir.path()), 0, "nothing ran");
}

#[test]
fn a_confirm_text_from_an_empty_output_fails_the_step_in_a_real_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rb.toml");
    std::fs::write(&path, FROM_OUTPUT).unwrap();
    let out = dr_drill(dir.path())
        .args(["run", "--headless", "--sandbox", "--confirm", "wipe=/tmp"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("`{{ steps.probe.dir }}` resolves to an empty text"),
        "{stdout}"
    );
    let run_dir = std::fs::read_dir(dir.path().join("data/runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        !run_dir.join("listed").exists(),
        "the destructive command never ran"
    );
}

// ------------------------------------------------- parsed twice, `check`

fn errors(body: &str) -> Vec<String> {
    check_str(&format!("{HEADER}{body}"))
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect()
}

/// A command the operator gives is code by declaration, and a number
/// parameter is digits: both may stand where the shell parses twice. The
/// same templates of plain text parameters may not.
#[test]
fn command_and_number_parameters_may_stand_where_text_may_not() {
    let body = |kind: &str| {
        format!(
            r#"
[params]
reconfigure = {{ type = "{kind}", default = "true" }}
n = {{ type = "{kind}", default = "3" }}

[[step]]
id = "s"
kind = "shell"
run = "sh -c {{{{ params.reconfigure }}}}; echo $(( {{{{ params.n }}}} + 1 ))"
"#
        )
    };
    assert_eq!(
        errors(&body("text")).len(),
        2,
        "a text value runs as code in both places"
    );
    assert_eq!(errors(&body("command")), Vec::<String>::new());
    let number = errors(&body("number"));
    assert_eq!(number.len(), 1, "{number:?}");
    assert!(number[0].contains("params.reconfigure"), "{number:?}");
}

/// The review's hostile S3 key, through a real run: in `"$(…)"` the value
/// is one word, neither split nor globbed, and its `$(…)` does not run.
#[test]
fn a_value_inside_a_substitution_in_double_quotes_stays_one_word_in_a_real_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rb.toml");
    std::fs::write(
        &path,
        r#"
[runbook]
id = "substitution"
title = "Substitution"

[params]
key = { default = "dumps/a  b * $(touch pwned)" }

[[step]]
id = "name"
kind = "shell"
run = 'echo "name=$(printf %s {{ params.key }})" >> "$DR_DRILL_OUTPUT"'
outputs = ["name"]
"#,
    )
    .unwrap();
    let out = dr_drill(dir.path())
        .args(["run", "--headless", "--sandbox", "--output", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(r#""name":"dumps/a  b * $(touch pwned)""#),
        "{stdout}"
    );
    let pwned = walkdir(dir.path())
        .into_iter()
        .any(|p| p.ends_with("pwned"));
    assert!(!pwned, "the value's $(…) ran");
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        }
        out.push(p);
    }
    out
}
