//! `dr-drill runs` and `dr-drill watch` from the command line: the runs
//! of a data dir (finished, stopped, damaged) and the watch's errors,
//! said before the terminal is taken.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const RUNBOOK: &str = r#"
[runbook]
id = "watched"
title = "Watched"
rto = "10m"

[[step]]
id = "hello"
kind = "shell"
run = "echo hello"
ends_rto = true
"#;

fn dr_drill(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.current_dir(dir)
        .env("DR_DRILL_DATA_DIR", dir.join("data"));
    cmd
}

/// A data dir with a finished run, a stopped one and a damaged one.
fn three_runs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("watched.toml"), RUNBOOK).unwrap();
    dr_drill(dir.path())
        .args(["run", "watched.toml", "--headless", "--sandbox"])
        .assert()
        .success();
    let runs = dir.path().join("data/runs");
    let finished = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // The same run, cut after its start and renamed: stopped.
    let text = std::fs::read_to_string(finished.join("journal.jsonl")).unwrap();
    let mut lines = text.lines();
    let mut header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    header["run_id"] = "watched-stopped".into();
    let stopped = runs.join("watched-stopped");
    std::fs::create_dir_all(&stopped).unwrap();
    std::fs::write(
        stopped.join("journal.jsonl"),
        format!("{header}\n{}\n", lines.next().unwrap()),
    )
    .unwrap();
    let damaged = runs.join("watched-damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    std::fs::write(damaged.join("journal.jsonl"), "not a journal\n").unwrap();
    dir
}

#[test]
fn runs_lists_finished_stopped_and_damaged_runs_without_failing() {
    let dir = three_runs();
    let out = dr_drill(dir.path()).arg("runs").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("RUN") && header.contains("STATE") && header.contains("DRIVER"),
        "{text}"
    );
    let row = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("no row {id}:\n{text}"))
            .to_owned()
    };
    let stopped = row("watched-stopped");
    assert!(stopped.contains(" stopped "), "{stopped}");
    let damaged = row("watched-damaged");
    assert!(damaged.contains("damaged: journal"), "{damaged}");
    assert!(damaged.contains("line 1"), "{damaged}");
    let finished = text
        .lines()
        .find(|l| l.contains("finished: succeeded"))
        .unwrap_or_else(|| panic!("no finished run:\n{text}"));
    assert!(finished.contains("watched  drill"), "{finished}");
    assert!(finished.contains("(reached)"), "{finished}");
}

#[test]
fn runs_as_json_gives_every_row() {
    let dir = three_runs();
    let out = dr_drill(dir.path())
        .args(["runs", "--output", "json"])
        .assert()
        .success();
    let rows: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let states: Vec<&str> = rows.iter().map(|r| r["state"].as_str().unwrap()).collect();
    assert!(states.contains(&"finished: succeeded"), "{states:?}");
    assert!(states.contains(&"stopped"), "{states:?}");
    assert!(
        states.iter().any(|s| s.starts_with("damaged: ")),
        "{states:?}"
    );
}

#[test]
fn watch_says_a_missing_or_damaged_run_before_taking_the_terminal() {
    let dir = three_runs();
    dr_drill(dir.path())
        .args(["watch", "nope"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("error: no journal at"))
        .stderr(predicate::str::contains("dr-drill runs"));
    dr_drill(dir.path())
        .args(["watch", "watched-damaged"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "watched-damaged/journal.jsonl, line 1",
        ));
}
