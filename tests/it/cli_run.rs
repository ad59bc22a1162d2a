//! `dr-drill run` as a scheduled job runs it: headless answers, exit codes,
//! the journal on disk, and the dry-run plan.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const RUNBOOK: &str = r#"
[runbook]
id = "headless-test"
title = "Headless test"
rto = "10m"

[params]
table = { default = "cabal-addresses" }
note = { default = "$(touch injected) `touch injected` ; touch injected" }

[[step]]
id = "prepare"
kind = "shell"
run = "echo rows=7 >> \"$DR_DRILL_OUTPUT\"; printf '%s\n' {{ params.note }}"
outputs = ["rows"]

[[step]]
id = "cutover"
needs = ["prepare"]
kind = "shell"
run = "echo {{ steps.prepare.rows }} > cutover-done"
destructive = true
confirm = "{{ params.table }}"

[[step]]
id = "smoke"
needs = ["cutover"]
kind = "manual"
instructions = "Send a message."
question = "Delivered?"
choices = ["yes", "no"]

[[step]]
id = "passed"
needs = ["smoke"]
kind = "check"
assert = [{ value = "{{ steps.smoke.answer }}", equals = "yes" }]
ends_rto = true
"#;

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runbook.toml");
    std::fs::write(&path, RUNBOOK).unwrap();
    (dir, path)
}

fn dr_drill(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.current_dir(dir)
        .env("DR_DRILL_DATA_DIR", dir.join("data"));
    cmd
}

fn run_dirs(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir.join("data/runs"))
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

#[test]
fn headless_refuses_to_start_without_the_confirmation_and_runs_nothing() {
    let (dir, path) = setup();
    dr_drill(dir.path())
        .args(["run", "--headless", "--answer", "smoke=yes"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "destructive step `cutover` needs --confirm cutover='cabal-addresses'",
        ));
    assert!(run_dirs(dir.path()).is_empty(), "no run was started");
}

#[test]
fn headless_run_succeeds_journals_and_keeps_values_inert() {
    let (dir, path) = setup();
    let out = dr_drill(dir.path())
        .args([
            "run",
            "--headless",
            "--output",
            "json",
            "--confirm",
            "cutover=cabal-addresses",
            "--answer",
            "smoke=yes",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.first().unwrap()["event"], "run_started");
    assert_eq!(events.last().unwrap()["event"], "run_finished");
    assert!(events.iter().any(|e| e["event"] == "rto_stopped"));
    // The hostile parameter was printed, not executed.
    assert!(
        events
            .iter()
            .any(|e| e["line"] == "$(touch injected) `touch injected` ; touch injected")
    );
    let runs = run_dirs(dir.path());
    assert_eq!(runs.len(), 1);
    assert!(!runs[0].join("injected").exists() && !dir.path().join("injected").exists());
    assert_eq!(
        std::fs::read_to_string(runs[0].join("cutover-done"))
            .unwrap()
            .trim(),
        "7"
    );
    // The journal holds the header and every event.
    let journal = std::fs::read_to_string(runs[0].join("journal.jsonl")).unwrap();
    let header: serde_json::Value = serde_json::from_str(journal.lines().next().unwrap()).unwrap();
    assert_eq!(header["runbook_text"], RUNBOOK);
    assert_eq!(header["params"]["table"], "cabal-addresses");
    // The journal holds exactly the stream, in the same order.
    let journaled: Vec<serde_json::Value> = journal
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(journaled, events);
}

#[test]
fn a_failed_step_exits_one() {
    let (dir, path) = setup();
    dr_drill(dir.path())
        .args([
            "run",
            "--headless",
            "--confirm",
            "cutover=cabal-addresses",
            "--answer",
            "smoke=no",
        ])
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "passed: FAILED (expected `yes`, got `no`)",
        ))
        .stdout(predicate::str::contains("run FAILED"));
}

#[test]
fn a_wrong_confirmation_known_in_advance_is_refused_before_anything_runs() {
    let (dir, path) = setup();
    dr_drill(dir.path())
        .args([
            "run",
            "--headless",
            "--confirm",
            "cutover=cabal-addresses-restored",
            "--answer",
            "smoke=yes",
        ])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "does not match; the step is confirmed by typing 'cabal-addresses'",
        ));
    assert!(run_dirs(dir.path()).is_empty(), "nothing ran");
}

#[test]
fn an_answer_outside_the_choices_is_refused_before_anything_runs() {
    let (dir, path) = setup();
    dr_drill(dir.path())
        .args([
            "run",
            "--headless",
            "--confirm",
            "cutover=cabal-addresses",
            "--answer",
            "smoke=maybe",
        ])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--answer smoke=maybe is not one of: yes, no",
        ));
}

#[test]
fn secrets_appear_in_no_output_and_no_journal_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.toml");
    std::fs::write(
        &path,
        r#"
[runbook]
id = "secret-test"
title = "Secret test"

[params]
vault_key = { secret = true, required = true }

[[step]]
id = "use"
kind = "shell"
run = "echo key is {{ params.vault_key }}; echo token={{ params.vault_key }} >> \"$DR_DRILL_OUTPUT\"; echo {{ params.vault_key }} >&2"
outputs = ["token"]

[[step]]
id = "look"
needs = ["use"]
kind = "manual"
instructions = "The key ends in {{ steps.use.token }}"

[[step]]
id = "compare"
needs = ["look"]
kind = "check"
assert = [{ value = "{{ params.vault_key }}", equals = "something else" }]
"#,
    )
    .unwrap();
    let secret = "hunter2-s3cr3t";
    let out = dr_drill(dir.path())
        .args([
            "run",
            "--headless",
            "--param",
            &format!("vault_key={secret}"),
            "--answer",
            "look=done",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the check fails: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("[redacted]"), "{stdout}");
    assert!(!stdout.contains(secret), "{stdout}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(secret));
    let journal = std::fs::read_to_string(run_dirs(dir.path())[0].join("journal.jsonl")).unwrap();
    assert!(!journal.contains(secret), "the secret is in the journal");
}

#[test]
fn dry_run_prints_the_plan_and_runs_nothing() {
    let (dir, path) = setup();
    dr_drill(dir.path())
        .args(["run", "--dry-run"])
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "cutover [shell, destructive, confirm by typing `cabal-addresses`]",
        ))
        .stdout(predicate::str::contains("<steps.prepare.rows>"));
    assert!(run_dirs(dir.path()).is_empty());
}

#[test]
fn an_invalid_runbook_exits_two_and_shows_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(
        &path,
        "[runbook]\nid = \"x\"\ntitle = \"x\"\n\n[[step]]\nid = \"a\"\nkind = \"shel\"\n",
    )
    .unwrap();
    dr_drill(dir.path())
        .args(["run", "--headless"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown step kind `shel`"))
        .stderr(predicate::str::contains("nothing was run"));
}

#[test]
fn a_relative_data_dir_still_reaches_shell_steps_that_change_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("elsewhere")).unwrap();
    std::fs::write(
        dir.path().join("out.toml"),
        r#"
[runbook]
id = "relative"
title = "Outputs from a step in another directory"

[[step]]
id = "out"
kind = "shell"
cwd = "/"
run = "echo answer=42 >> \"$DR_DRILL_OUTPUT\""
outputs = ["answer"]
"#,
    )
    .unwrap();
    Command::cargo_bin("dr-drill")
        .unwrap()
        .current_dir(dir.path())
        .args(["run", "out.toml", "--headless", "--data-dir", "data"])
        .assert()
        .success()
        .stdout(predicates::str::contains("answer=42"));
}
