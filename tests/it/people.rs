//! Roles given at the start and the driver known by identity, through the
//! binary in the sandbox: `--role ROLE=WHO`, an owned manual step
//! answered by its role's holder, refused at once in a solo run when the
//! role is someone else's, a resume that keeps the roles, and the report
//! that lists the driver and who answered.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The sandbox's operator: `arn:aws:sts::…:assumed-role/…/sim-operator`.
const SIM_PRINCIPAL: &str = "sim-operator";

const OWNED: &str = r#"[runbook]
id = "owned"
title = "Owned"

[[step]]
id = "gate"
kind = "shell"
run = "test -e \"$GATE_FILE\""

[[step]]
id = "restore"
kind = "manual"
owner = "dba"
needs = ["gate"]
instructions = "Restore the table."
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        std::fs::write(root.join("owned.toml"), OWNED).unwrap();
        Self { _dir: dir, root }
    }

    fn gate_open(&self) {
        std::fs::write(self.root.join("gate"), "").unwrap();
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("dr-drill").unwrap();
        cmd.current_dir(&self.root)
            .env("DR_DRILL_DATA_DIR", self.root.join("data"))
            .env("GATE_FILE", self.root.join("gate"))
            .env_remove("AWS_PROFILE");
        cmd
    }

    fn run(&self, roles: &[&str]) -> std::process::Output {
        let mut cmd = self.cmd();
        cmd.args([
            "run",
            "owned.toml",
            "--headless",
            "--sandbox",
            "--no-preflight",
        ]);
        for role in roles {
            cmd.args(["--role", role]);
        }
        cmd.args(["--answer", "restore=done", "--output", "json"])
            .output()
            .unwrap()
    }

    fn run_dir(&self) -> PathBuf {
        let runs = self.root.join("data/runs");
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(runs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dirs.sort();
        dirs.pop().unwrap()
    }
}

fn journal(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_role_holder_answers_an_owned_step_and_the_journal_records_who() {
    let f = Fixture::new();
    f.gate_open();
    let out = f.run(&[&format!("dba={SIM_PRINCIPAL}")]);
    assert!(out.status.success(), "{}", text(&out));
    let lines = journal(&f.run_dir());
    let header = &lines[0];
    assert_eq!(header["roles"]["dba"][0], SIM_PRINCIPAL);
    let driver_arn = header["driver"]["arn"].as_str().unwrap();
    assert!(driver_arn.ends_with("/sim-operator"), "{driver_arn}");
    let answered = lines
        .iter()
        .find(|e| e["event"] == "human_answered" && e["step"] == "restore")
        .expect("the owned step was answered");
    assert_eq!(answered["who"]["arn"], driver_arn);
}

#[test]
fn an_owned_step_whose_role_is_someone_else_fails_at_once_with_advice() {
    let f = Fixture::new();
    f.gate_open();
    let out = f.run(&["dba=alice@example.com"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("held by alice@example.com") && said.contains("--team TABLE"),
        "{said}"
    );
    // Failed before asking: no question, no answer.
    let lines = journal(&f.run_dir());
    assert!(
        !lines
            .iter()
            .any(|e| e["event"] == "human_answered" || e["event"] == "human_asked"),
        "{lines:#?}"
    );
}

#[test]
fn a_bad_role_is_refused_naming_the_flag_and_an_unnamed_role_is_a_warning() {
    let f = Fixture::new();
    let out = f.run(&["dba"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("--role `dba` is not ROLE=WHO"),
        "{}",
        text(&out)
    );
    f.gate_open();
    let out = f.run(&[&format!("dba={SIM_PRINCIPAL}"), "lead=bob"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("warning: the role `lead` is given but no step names it"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_resume_keeps_the_roles_the_run_started_with() {
    let f = Fixture::new();
    // The gate fails first: the run stops before the owned step.
    let out = f.run(&["dba=alice@example.com"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let dir = f.run_dir();
    assert!(
        !journal(&dir)
            .iter()
            .any(|e| e["step"] == "restore" && e["event"] == "human_answered")
    );
    f.gate_open();
    let out = f
        .cmd()
        .args(["resume", "--headless", "--sandbox"])
        .arg(&dir)
        .args(["--answer", "restore=done", "--output", "json"])
        .output()
        .unwrap();
    // Without the roles the driver would answer; with them the step is
    // alice's, so this solo resume fails with the advice.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("held by alice@example.com"),
        "{}",
        text(&out)
    );
}
