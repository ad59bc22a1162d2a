//! `dr-drill check` as a user runs it: exit codes, colour rules, JSON.

use assert_cmd::Command;
use predicates::prelude::*;

fn dr_drill() -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR");
    cmd
}

#[test]
fn clean_runbooks_exit_zero() {
    dr_drill()
        .args(["check", "runbooks/"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "ok runbooks/cabal-addresses-restore.toml",
        ))
        .stdout(predicate::str::contains("0 errors, 0 warnings"));
}

#[test]
fn errors_exit_one_and_name_file_line_and_column() {
    dr_drill()
        .args(["check", "tests/fixtures/invalid/unknown-step.toml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "tests/fixtures/invalid/unknown-step.toml:14:10",
        ))
        .stdout(predicate::str::contains("did you mean `restore`?"));
}

#[test]
fn a_directory_is_searched_and_every_file_reported() {
    let out = dr_drill()
        .args(["check", "--format", "json", "tests/fixtures/invalid"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = report["files"].as_array().unwrap();
    let fixtures = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/invalid"
    ))
    .unwrap()
    .count();
    assert_eq!(files.len(), fixtures);
    assert!(files.iter().all(|f| f["ok"] == false));
    assert!(report["errors"].as_u64().unwrap() >= fixtures as u64);
}

#[test]
fn json_diagnostics_carry_code_position_and_help() {
    let out = dr_drill()
        .args([
            "check",
            "--format",
            "json",
            "tests/fixtures/invalid/unknown-field.toml",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &report["files"][0]["diagnostics"][0];
    assert_eq!(d["code"], "unknown-field");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["line"], 9);
    assert_eq!(d["column"], 1);
    assert_eq!(d["help"], "did you mean `timeout`?");
}

#[test]
fn warnings_fail_only_when_denied() {
    let file = "tests/fixtures/warnings/wait-without-timeout.toml";
    dr_drill()
        .args(["check", file])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("1 warning"));
    dr_drill()
        .args(["check", "--deny-warnings", file])
        .assert()
        .code(1);
}

#[test]
fn usage_errors_exit_two() {
    dr_drill().args(["check"]).assert().code(2);
    dr_drill()
        .args(["check", "--format", "yaml", "runbooks/"])
        .assert()
        .code(2);
    dr_drill()
        .args(["check", "no/such/runbook.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no such file or directory: no/such/runbook.toml",
        ));
    let empty = tempfile::tempdir().unwrap();
    dr_drill()
        .args(["check"])
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no runbooks (*.toml with a [runbook] table) found",
        ));
}

/// The NO_COLOR rule for terminals is unit-tested in `cli::tests`; here,
/// the flag and the default for a pipe.
#[test]
fn colour_follows_the_flag() {
    let file = "tests/fixtures/invalid/cycle.toml";
    // Not a terminal: no colour by default.
    dr_drill()
        .args(["check", file])
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
    dr_drill()
        .args(["check", "--color", "always", file])
        .assert()
        .stdout(predicate::str::contains("\x1b["));
    dr_drill()
        .args(["check", "--color", "never", file])
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn a_file_that_is_not_utf8_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("binary.toml");
    std::fs::write(&path, [0xff, 0xfe, 0x00, 0x01]).unwrap();
    dr_drill()
        .arg("check")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[io]: cannot read"));
}

#[test]
fn version_help_and_completions_work() {
    dr_drill()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("dr-drill "));
    dr_drill()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("check"));
    for shell in ["bash", "zsh", "fish"] {
        dr_drill()
            .args(["completions", shell])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("dr-drill"));
    }
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/runbook.schema.json"
    ))
    .unwrap();
    dr_drill().arg("schema").assert().code(0).stdout(committed);
}

#[test]
fn a_reader_that_goes_away_does_not_hide_the_verdict() {
    // Enough findings to fill the pipe, then the reader stops reading.
    let dir = tempfile::tempdir().unwrap();
    let broken = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/invalid/cycle.toml"
    ))
    .unwrap();
    for i in 0..300 {
        std::fs::write(dir.path().join(format!("r{i:03}.toml")), &broken).unwrap();
    }
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("dr-drill"))
        .arg("check")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

#[test]
fn directories_skip_toml_files_that_are_not_runbooks_and_files_count_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/runbooks/cabal-addresses-restore.toml"
        ),
        dir.path().join("restore.toml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
    let restore = dir.path().join("restore.toml");
    dr_drill()
        .arg("check")
        .arg(dir.path())
        .arg(&restore)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("checked 1 runbook: 0 errors"))
        .stdout(predicate::str::contains("skipped"))
        .stdout(predicate::str::contains("Cargo.toml (no [runbook] table)"));
}

#[test]
fn json_ok_follows_deny_warnings() {
    let file = "tests/fixtures/warnings/wait-without-timeout.toml";
    let ok = |args: &[&str]| {
        let out = dr_drill().args(args).output().unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["files"][0]["ok"].as_bool().unwrap()
    };
    assert!(ok(&["check", "--format", "json", file]));
    assert!(!ok(&["check", "--format", "json", "--deny-warnings", file]));
}

#[test]
fn json_carries_the_notes_human_output_shows() {
    let out = dr_drill()
        .args([
            "check",
            "--format",
            "json",
            "tests/fixtures/invalid/duplicate-id.toml",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let note = &report["files"][0]["diagnostics"][0]["notes"][0];
    assert_eq!(note["message"], "first declared here");
    assert_eq!(note["line"], 6);
}

#[test]
fn steps_that_poll_aws_without_a_timeout_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("polls.toml");
    std::fs::write(
        &file,
        r#"
[runbook]
id = "polls"
title = "Polls"

[[step]]
id = "active"
kind = "dynamodb.wait-active"
table = "cabal-addresses-restored"

[[step]]
id = "thawed"
kind = "wait"
until = { bucket = "b", key = "k" }

[[step]]
id = "bounded"
kind = "dynamodb.wait-active"
table = "t"
timeout = "30m"
"#,
    )
    .unwrap();
    let out = dr_drill()
        .args(["check", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warned: Vec<String> = doc["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "wait-without-timeout")
        .map(|d| d["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        warned,
        [
            "dynamodb.wait-active step `active` has no timeout",
            "wait step `thawed` has no timeout"
        ]
    );
}

#[test]
fn an_empty_confirm_is_an_error_at_its_line() {
    dr_drill()
        .args([
            "check",
            "tests/fixtures/invalid/invalid-value.empty-confirm.toml",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "invalid-value.empty-confirm.toml:11:11",
        ))
        .stdout(predicate::str::contains(
            "step `wipe` has an empty `confirm`",
        ));
}

#[test]
fn templates_the_shell_parses_twice_are_errors_with_the_safe_pattern() {
    dr_drill()
        .args(["check", "tests/fixtures/invalid/template.parsed-twice.toml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("template.parsed-twice.toml:22:14"))
        .stdout(predicate::str::contains(
            "`{{ steps.pick.key }}` stands where the shell parses its value a second time",
        ))
        .stdout(predicate::str::contains(
            "sh -c '… \"$1\"' _ {{ steps.pick.key }}",
        ))
        .stdout(predicate::str::contains("5 errors"));
}
