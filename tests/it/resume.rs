//! Crash and resume with real processes: a headless run killed with
//! SIGKILL in the middle of a step, a journal cut mid-line, a runbook edited
//! between the crash and the resume.

use std::path::{Path, PathBuf};
use std::process::{Command as Std, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

const RUNBOOK: &str = r#"
[runbook]
id = "crash-test"
title = "Crash test"

[[step]]
id = "first"
kind = "shell"
run = "echo first >> log"

[[step]]
id = "slow"
needs = ["first"]
kind = "shell"
run = "echo slow-start >> log; sleep 2; echo slow-end >> log"

[[step]]
id = "last"
needs = ["slow"]
kind = "shell"
run = "echo last >> log"
"#;

struct Fixture {
    dir: tempfile::TempDir,
    runbook: PathBuf,
}

impl Fixture {
    fn new(text: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let runbook = dir.path().join("crash.toml");
        std::fs::write(&runbook, text).unwrap();
        Self { dir, runbook }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("dr-drill").unwrap();
        cmd.env("DR_DRILL_DATA_DIR", self.data());
        cmd
    }

    fn run_dir(&self) -> PathBuf {
        let runs: Vec<PathBuf> = std::fs::read_dir(self.data().join("runs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(runs.len(), 1);
        runs[0].clone()
    }

    fn events(&self) -> Vec<Value> {
        journal_events(&self.run_dir().join("journal.jsonl"))
    }
}

fn journal_events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad journal line {l:?}: {e}")))
        .collect()
}

/// Whether a run's journal holds `needle` (the runs directory exists a
/// moment before the run's own).
fn journal_holds(f: &Fixture, needle: &str) -> bool {
    std::fs::read_dir(f.data().join("runs"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|run| {
            std::fs::read_to_string(run.path().join("journal.jsonl"))
                .is_ok_and(|j| j.contains(needle))
        })
}

/// Starts a headless run and kills it with SIGKILL once `step` started.
fn run_and_kill_during(f: &Fixture, step: &str) {
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("dr-drill"))
        .args(["run", "--headless"])
        .arg(&f.runbook)
        .env("DR_DRILL_DATA_DIR", f.data())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let needle = format!("\"event\":\"step_started\",\"step\":\"{step}\"");
    loop {
        if journal_holds(f, &needle) {
            break;
        }
        assert!(Instant::now() < deadline, "step {step} never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup, no final event
    child.wait().unwrap();
}

fn count(events: &[Value], event: &str, step: &str) -> usize {
    events
        .iter()
        .filter(|e| e["event"] == event && e["step"] == step)
        .count()
}

#[test]
fn a_run_killed_mid_step_resumes_and_runs_finished_steps_exactly_once() {
    let f = Fixture::new(RUNBOOK);
    run_and_kill_during(&f, "slow");
    let before = f.events();
    assert!(
        !before.iter().any(|e| e["event"] == "run_finished"),
        "the kill left the run unfinished"
    );

    // Without saying what to do with the interrupted step, nothing runs.
    f.cmd()
        .args(["resume", "--headless"])
        .arg(f.run_dir())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "step `slow` was running when the console died",
        ));

    let run_id = f
        .run_dir()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    f.cmd()
        .args(["resume", "--headless", "--interrupted", "rerun", &run_id])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("after a gap of"))
        .stdout(predicate::str::contains("run succeeded"));

    let events = f.events();
    assert_eq!(
        count(&events, "step_started", "first"),
        1,
        "`first` ran once across the crash"
    );
    assert_eq!(count(&events, "step_started", "last"), 1);
    let slow_ends: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "step_finished" && e["step"] == "slow")
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(slow_ends, ["interrupted", "succeeded"]);
    let resumed = events.iter().find(|e| e["event"] == "run_resumed").unwrap();
    assert!(resumed["gap"].as_f64().unwrap() >= 0.0);
    // Elapsed time keeps running through the gap: never goes backwards.
    let elapsed: Vec<f64> = events
        .iter()
        .map(|e| e["elapsed"].as_f64().unwrap())
        .collect();
    assert!(elapsed.windows(2).all(|w| w[0] <= w[1]), "{elapsed:?}");
    let log = std::fs::read_to_string(f.run_dir().join("log")).unwrap();
    assert_eq!(log.lines().filter(|l| *l == "first").count(), 1);
    assert_eq!(log.lines().filter(|l| *l == "last").count(), 1);
}

#[test]
fn a_journal_cut_mid_line_is_read_and_repaired_on_resume() {
    let f = Fixture::new(RUNBOOK);
    run_and_kill_during(&f, "slow");
    let journal = f.run_dir().join("journal.jsonl");
    // A write cut short by the crash.
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str("{\"at\":\"2026-11-22T03:1");
    std::fs::write(&journal, &text).unwrap();
    let contents = dr_drill::engine::journal::read(&journal).unwrap();
    assert!(contents.torn_tail);

    f.cmd()
        .args(["resume", "--headless", "--interrupted", "done"])
        .arg(&journal)
        .assert()
        .code(0);
    // Every line parses again; the torn one is gone, the run is complete.
    let events = journal_events(&journal);
    assert_eq!(events.last().unwrap()["event"], "run_finished");
    let waived = events
        .iter()
        .find(|e| e["event"] == "step_finished" && e["step"] == "slow" && e["outcome"] == "waived");
    assert!(waived.is_some(), "marked done by the operator");
}

#[test]
fn a_changed_runbook_is_refused_unless_forced_and_the_change_is_named() {
    let f = Fixture::new(RUNBOOK);
    run_and_kill_during(&f, "slow");
    std::fs::write(
        &f.runbook,
        RUNBOOK.replace("echo last >> log", "echo LAST >> log"),
    )
    .unwrap();
    f.cmd()
        .args(["resume", "--headless", "--interrupted", "rerun"])
        .arg(f.run_dir())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("changed since this run started"))
        .stderr(predicate::str::contains("step `last` was edited"));
    f.cmd()
        .args(["resume", "--headless", "--interrupted", "rerun", "--force"])
        .arg(f.run_dir())
        .assert()
        .code(0);
    let log = std::fs::read_to_string(f.run_dir().join("log")).unwrap();
    assert!(log.contains("LAST"), "the new version ran");
    // The journal says which version ran from the resume on.
    let events = f.events();
    let resumed = events.iter().find(|e| e["event"] == "run_resumed").unwrap();
    assert!(
        resumed["runbook_text"]
            .as_str()
            .unwrap()
            .contains("echo LAST")
    );
    assert_eq!(resumed["runbook_sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn a_finished_run_has_nothing_to_resume() {
    let f = Fixture::new(RUNBOOK);
    f.cmd()
        .args(["run", "--headless"])
        .arg(&f.runbook)
        .assert()
        .code(0);
    f.cmd()
        .args(["resume", "--headless"])
        .arg(f.run_dir())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already finished successfully"));
}

#[test]
fn a_run_that_is_still_going_cannot_be_resumed_by_a_second_process() {
    let f = Fixture::new(&RUNBOOK.replace("sleep 2", "sleep 5"));
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("dr-drill"))
        .args(["run", "--headless"])
        .arg(&f.runbook)
        .env("DR_DRILL_DATA_DIR", f.data())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !journal_holds(&f, "\"step\":\"slow\"") {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    f.cmd()
        .args(["resume", "--headless", "--interrupted", "rerun"])
        .arg(f.run_dir())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is in use by another dr-drill process",
        ));
    assert!(
        child.wait().unwrap().success(),
        "the first process finishes undisturbed"
    );
}

#[test]
fn an_unknown_run_id_lists_the_runs_there_are() {
    let f = Fixture::new(RUNBOOK);
    f.cmd()
        .args(["run", "--headless"])
        .arg(&f.runbook)
        .assert()
        .code(0);
    f.cmd()
        .args(["resume", "--headless", "no-such-run"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no journal at"))
        .stderr(predicate::str::contains("crash-test-"));
}
