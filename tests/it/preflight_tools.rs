//! Issue #16, item 5: the tools area. Fake programs on a temporary `PATH`
//! answer `--version` as real ones do, too old, not at all, or never; a
//! fake `pg_isready` says where it found no server. The same checks refuse
//! a headless run (exit 2, nothing run).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use dr_drill::preflight::tools::{Status, check_all};
use dr_drill::preflight::{Area, Verdict};
use predicates::prelude::*;

/// A runbook whose one shell step requires `requires` (a TOML array).
fn runbook_text(requires: &str) -> String {
    format!(
        r#"
[runbook]
format = 1
id = "tools"
title = "Tools"

[[step]]
id = "first"
kind = "shell"
run = "echo first step ran"

[[step]]
id = "restore"
kind = "shell"
run = "echo restored"
requires = {requires}
needs = ["first"]
"#
    )
}

fn runbook(requires: &str) -> dr_drill::runbook::Runbook {
    dr_drill::runbook::check_str(&runbook_text(requires))
        .runbook
        .expect("the test runbook checks")
}

/// An executable `name` in `dir` running `script` with `/bin/sh`.
fn fake(dir: &Path, name: &str, script: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn each_program_is_present_too_old_or_unreadable_with_what_it_printed() {
    let dir = tempfile::tempdir().unwrap();
    fake(
        dir.path(),
        "pg_restore",
        "echo 'pg_restore (PostgreSQL) 13.2 (Debian 13.2-1)'",
    );
    fake(dir.path(), "jq", "echo jq-1.6");
    // Hostile output: an escape sequence, and no number.
    fake(
        dir.path(),
        "psql",
        "printf '\\033]0;owned\\007psql (PostgreSQL) devel\\n'",
    );
    fake(dir.path(), "createdb", "exit 0");
    let path = std::env::join_paths([dir.path()]).unwrap();
    let rb = runbook(r#"["pg_restore>=15", "jq>=1.6", "psql=16", "createdb", "dropdb"]"#);

    let checked = check_all(&rb, Some(&path));
    let by_name = |name: &str| {
        checked
            .iter()
            .find(|c| c.need.requirement.name == name)
            .unwrap_or_else(|| panic!("no check of {name}"))
    };

    let old = by_name("pg_restore").finding();
    assert_eq!(old.area, Area::Tools);
    assert_eq!(old.verdict, Verdict::Fail);
    assert_eq!(old.subject, "pg_restore>=15");
    assert_eq!(old.step.as_deref(), Some("restore"));
    assert!(old.detail.starts_with("13.2 at "), "{}", old.detail);
    assert!(
        old.detail.ends_with("but step restore needs 15 or later"),
        "{}",
        old.detail
    );
    assert_eq!(
        old.fix.as_deref(),
        Some("install `pg_restore` 15 or later, or put one first on PATH")
    );

    let jq = by_name("jq").finding();
    assert_eq!(jq.verdict, Verdict::Pass);
    assert!(jq.detail.starts_with("1.6 at "), "{}", jq.detail);

    let psql = by_name("psql").finding();
    assert_eq!(psql.verdict, Verdict::Unchecked);
    assert!(
        psql.detail
            .contains("--version` printed no version number: \"]0;ownedpsql (PostgreSQL) devel\""),
        "{}",
        psql.detail
    );
    assert!(!psql.detail.contains('\u{1b}'));
    assert_eq!(psql.fix.as_deref(), Some("check by hand that `psql` is 16"));

    // No version asked: found, never run.
    let createdb = by_name("createdb");
    assert!(matches!(
        &createdb.status,
        Status::Present { version: None, .. }
    ));
    assert_eq!(by_name("dropdb").finding().verdict, Verdict::Fail);
    assert_eq!(
        by_name("dropdb").finding().detail,
        "missing from PATH; needed by step restore"
    );
}

#[test]
fn a_program_that_never_answers_is_stopped_with_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("sleep.pid");
    fake(
        dir.path(),
        "pg_restore",
        &format!("/bin/sleep 30 &\necho $! > '{}'\nwait", pid_file.display()),
    );
    let path = std::env::join_paths([dir.path()]).unwrap();
    let rb = runbook(r#"["pg_restore>=15"]"#);

    let started = Instant::now();
    let checked = check_all(&rb, Some(&path));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert!(took >= Duration::from_secs(2), "took {took:?}");
    let finding = checked[0].finding();
    assert_eq!(finding.verdict, Verdict::Unchecked);
    assert!(
        finding
            .detail
            .contains("--version` did not finish within 2 s and was stopped"),
        "{}",
        finding.detail
    );
    // The program's own child went with it (one process group).
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let gone = (0..100).any(|_| {
        let dead = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map_or(true, |s| s.contains(") Z "));
        if !dead {
            std::thread::sleep(Duration::from_millis(20));
        }
        dead
    });
    assert!(gone, "sleep {pid} outlived the check");
}

#[test]
fn output_past_the_cap_is_not_read_and_the_program_does_not_block() {
    let dir = tempfile::tempdir().unwrap();
    // 1 MiB of noise, then the version: beyond the 4 KiB read.
    fake(
        dir.path(),
        "jq",
        "/usr/bin/head -c 1048576 /dev/zero | /usr/bin/tr '\\0' x; echo; echo jq-1.7",
    );
    let path = std::env::join_paths([dir.path()]).unwrap();
    let started = Instant::now();
    let checked = check_all(&runbook(r#"["jq>=1.6"]"#), Some(&path));
    assert!(started.elapsed() < Duration::from_secs(3));
    let finding = checked[0].finding();
    assert_eq!(finding.verdict, Verdict::Unchecked, "{finding:?}");
    assert!(finding.detail.contains("xxxx…"), "{}", finding.detail);
    assert!(finding.detail.len() < 600, "{}", finding.detail.len());
}

#[test]
fn the_server_check_names_where_pg_isready_looked() {
    let dir = tempfile::tempdir().unwrap();
    fake(
        dir.path(),
        "pg_isready",
        "echo \"/tmp/nowhere:$PGPORT - no response\"; exit 2",
    );
    let path = std::env::join_paths([dir.path()]).unwrap();
    let checked = check_all(&runbook(r#"["postgres-server"]"#), Some(&path));
    let finding = checked[0].finding();
    assert_eq!(finding.verdict, Verdict::Fail);
    assert!(
        finding
            .detail
            .starts_with("no PostgreSQL server accepts connections at PGHOST="),
        "{}",
        finding.detail
    );
    assert!(
        finding.detail.contains("(pg_isready: \"/tmp/nowhere:"),
        "{}",
        finding.detail
    );
    assert!(
        finding.detail.contains(" - no response\")"),
        "{}",
        finding.detail
    );

    let empty = tempfile::tempdir().unwrap();
    let path = std::env::join_paths([empty.path()]).unwrap();
    let checked = check_all(&runbook(r#"["postgres-server"]"#), Some(&path));
    assert_eq!(checked[0].status, Status::NoPgIsready);
    assert_eq!(checked[0].finding().verdict, Verdict::Fail);
}

/// The start refusal reads the same checks: a program too old stops a
/// headless run before its first step, naming the version it found.
#[test]
fn a_headless_run_refuses_a_program_too_old() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    fake(&bin, "pg_restore", "echo 'pg_restore (PostgreSQL) 13.2'");
    let file = dir.path().join("tools.toml");
    std::fs::write(&file, runbook_text(r#"["pg_restore>=15"]"#)).unwrap();
    let path =
        std::env::join_paths([bin.as_path(), Path::new("/usr/bin"), Path::new("/bin")]).unwrap();
    Command::cargo_bin("dr-drill")
        .unwrap()
        .args(["run", file.to_str().unwrap(), "--headless", "--sandbox"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("PATH", path)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2)
        .stdout(predicate::str::contains("first step ran").not())
        .stderr(predicate::str::contains(
            "this machine has other versions of programs than the runbook's steps need",
        ))
        .stderr(predicate::str::contains("`pg_restore>=15` (step restore):"))
        .stderr(predicate::str::contains("pg_restore is 13.2"))
        .stderr(predicate::str::contains("Nothing was run."));
}

/// Every shipped runbook still checks, every `requires` entry reads, and
/// the PostgreSQL runbooks ask for the versions their plans need.
#[test]
fn the_shipped_runbooks_require_versions_where_their_plans_name_them() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let mut asked: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let checked = dr_drill::runbook::check_str(&text);
        let rb = checked.runbook.unwrap_or_else(|| {
            panic!(
                "{} does not check: {:?}",
                path.display(),
                checked.diagnostics.len()
            )
        });
        for step in &rb.steps {
            if let dr_drill::runbook::StepAction::Shell(shell) = &step.action {
                assert_eq!(
                    shell.requirements().len(),
                    shell.requires.len(),
                    "{}",
                    path.display()
                );
            }
        }
        let id = &rb.runbook.id.value;
        asked.extend(
            dr_drill::preflight::tools::needs(&rb)
                .into_iter()
                .filter(|n| n.requirement.constraint.is_some())
                .map(|n| format!("{id}: {}", n.requirement)),
        );
    }
    asked.sort();
    assert_eq!(
        asked,
        [
            "cpam-pitr-drill: pg_ctl>=12",
            "cpam-pitr-drill: pg_verifybackup>=13",
            "leapmailr-quarterly-drill: pg_restore>=14",
        ]
    );
}
