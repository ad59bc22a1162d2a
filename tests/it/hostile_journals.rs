//! Issue #14, items 7 and 8: a journal is read as hostile input. An edited
//! `runbook_text` (its recorded SHA-256 left as it was) is refused by
//! `resume` and `report` before anything runs; `elapsed` of 1.8e19 seconds
//! makes a report, not a panic.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

const RUNBOOK: &str = r#"
[runbook]
id = "hostile-journal"
title = "A journal edited after the run"
rto = "1h"

[[step]]
id = "a"
kind = "shell"
run = "echo hi"

[[step]]
id = "b"
needs = ["a"]
kind = "shell"
run = "exit 3"
"#;

fn dr_drill(data: &Path) -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.env("DR_DRILL_DATA_DIR", data);
    cmd
}

/// A failed run's journal (step `b` fails, so `resume` would run it again).
fn failed_run(dir: &Path) -> PathBuf {
    let runbook = dir.join("hostile.toml");
    std::fs::write(&runbook, RUNBOOK).unwrap();
    let data = dir.join("data");
    dr_drill(&data)
        .args(["run", runbook.to_str().unwrap(), "--headless"])
        .assert()
        .code(1);
    crate::support::drill::run_dir(&data).join("journal.jsonl")
}

/// Rewrites every line of `journal` with `edit`.
fn edit_lines(journal: &Path, edit: impl Fn(usize, &mut serde_json::Value)) {
    let text = std::fs::read_to_string(journal).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
        edit(i, &mut value);
        out.push_str(&serde_json::to_string(&value).unwrap());
        out.push('\n');
    }
    std::fs::write(journal, out).unwrap();
}

#[test]
fn an_edited_runbook_text_in_the_journal_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let journal = failed_run(tmp.path());
    let planted = tmp.path().join("planted");
    // The runbook file on disk is unchanged, and the recorded hash is its
    // hash: only the text the journal holds runs a planted command.
    edit_lines(&journal, |i, v| {
        if i == 0 {
            let text = v["runbook_text"]
                .as_str()
                .unwrap()
                .replace("exit 3", &format!("touch {}", planted.display()));
            v["runbook_text"] = text.into();
        }
    });
    let data = tmp.path().join("data");
    for args in [
        vec!["resume", "--headless", journal.to_str().unwrap()],
        vec!["report", journal.to_str().unwrap()],
    ] {
        let out = dr_drill(&data).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("journal {}, line 1", journal.display()))
                && stderr.contains("does not match its recorded SHA-256")
                && stderr.contains("start a new run"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(!planted.exists(), "the planted command did not run");
}

#[test]
fn an_elapsed_of_1_8e19_seconds_makes_a_report_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let journal = failed_run(tmp.path());
    edit_lines(&journal, |i, v| {
        if i > 0 {
            v["elapsed"] = 1.8e19.into();
        }
    });
    let data = tmp.path().join("data");
    let out = dr_drill(&data)
        .args(["report", journal.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let md = std::fs::read_to_string(journal.with_file_name("report.md")).unwrap();
    assert!(md.contains("hostile-journal"), "{md}");
    // Past what a duration holds: a clean error naming the line.
    edit_lines(&journal, |i, v| {
        if i == 1 {
            v["elapsed"] = 1e300.into();
        }
    });
    let out = dr_drill(&data)
        .args(["report", journal.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A run recorded before a rule on templates tightened (here: `eval` of a
/// text parameter, refused since issue #14) still gets its report, since
/// the run has happened; `resume` refuses to run that text again.
#[test]
fn a_journal_recorded_before_a_template_rule_tightened_reports_but_does_not_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let journal = failed_run(tmp.path());
    edit_lines(&journal, |i, v| {
        if i == 0 {
            let text = v["runbook_text"]
                .as_str()
                .unwrap()
                .replace(
                    "rto = \"1h\"",
                    "rto = \"1h\"\n\n[params]\nx = { default = \"hi\" }",
                )
                .replace(
                    "run = \"echo hi\"",
                    "run = \"eval \\\"echo {{ params.x }}\\\"\"",
                );
            v["runbook_sha256"] = dr_drill::engine::journal::sha256_hex(&text).into();
            // The file on disk is the runbook as it was run.
            std::fs::write(v["runbook_path"].as_str().unwrap(), &text).unwrap();
            v["runbook_text"] = text.into();
        }
    });
    let data = tmp.path().join("data");
    let report = dr_drill(&data)
        .args([
            "report",
            journal.to_str().unwrap(),
            "--format",
            "md",
            "--out",
        ])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&report.stderr);
    assert_eq!(report.status.code(), Some(0), "report: {stderr}");
    assert!(tmp.path().join("out/report.md").exists());
    let resume = dr_drill(&data)
        .args(["resume", "--headless", journal.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&resume.stderr);
    assert_eq!(resume.status.code(), Some(2), "resume: {stderr}");
    assert!(
        stderr.contains("eval"),
        "resume names the refused place: {stderr}"
    );
}
