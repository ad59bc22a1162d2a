//! A run remembers the world it acts on: the journal records it, `resume`
//! goes on in it (a sandbox run in the sandbox, with the world as it was
//! left; an AWS run only in its account), and the resume command printed
//! on leaving works as printed.

use std::path::{Path, PathBuf};
use std::process::{Command as Std, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

/// The answers the demo runbook needs headless.
const ANSWERS: &[&str] = &[
    "--answer",
    "approve-cutover=approve",
    "--confirm",
    "cutover=cabal-addresses",
    "--confirm",
    "drop-restored=cabal-addresses-restored",
    "--answer",
    "smoke=yes",
];

fn runbook() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/cabal-addresses-restore.toml")
}

fn only_run(data: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(data.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

fn journal(run: &Path) -> (Value, Vec<Value>) {
    let text = std::fs::read_to_string(run.join("journal.jsonl")).unwrap();
    let mut lines = text.lines().map(|l| serde_json::from_str(l).unwrap());
    let header = lines.next().unwrap();
    (header, lines.collect())
}

/// Waits until the run's journal holds `needle`.
fn wait_for(data: &Path, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = std::fs::read_dir(data.join("runs"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|run| {
                std::fs::read_to_string(run.path().join("journal.jsonl"))
                    .is_ok_and(|j| j.contains(needle))
            });
        if found {
            return;
        }
        assert!(Instant::now() < deadline, "the journal never held {needle}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The restore job ids the journal says were started.
fn restore_jobs(events: &[Value]) -> Vec<String> {
    let mut jobs: Vec<String> = events
        .iter()
        .filter(|e| e["step"] == "restore")
        .filter_map(|e| e["message"].as_str())
        .filter_map(|m| m.strip_prefix("restore job "))
        .filter_map(|m| m.split_once(" started from").map(|(id, _)| id.to_owned()))
        .collect();
    jobs.dedup();
    jobs
}

#[test]
fn a_sandbox_run_stopped_mid_restore_resumes_with_the_printed_command_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let child = Std::new(assert_cmd::cargo::cargo_bin("dr-drill"))
        .args(["run", "--headless", "--sandbox", "--speed", "120"])
        .arg(runbook())
        .args([
            "--param",
            "role_arn=arn:aws:iam::111122223333:role/cabal-backup-role",
            "--param",
            "reconfigure_cmd=echo reconfigured",
        ])
        .args(ANSWERS)
        .env("DR_DRILL_DATA_DIR", &data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Stopped while the restore job runs, as an operator's Ctrl-C would.
    wait_for(&data, "RUNNING (");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let printed = stderr
        .lines()
        .find_map(|l| l.strip_prefix("resume later with: "))
        .unwrap_or_else(|| panic!("no resume command in:\n{stderr}"));
    let run = only_run(&data);
    let (header, before) = journal(&run);
    assert_eq!(header["world"]["kind"], "sandbox", "{header}");
    assert_eq!(header["world"]["speed"], 120.0);
    assert!(!before.iter().any(|e| e["event"] == "step_finished"
        && e["step"] == "restore"
        && e["outcome"] == "succeeded"));
    let kept = run.join("sandbox-world.jsonl");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&kept).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the kept world is the operator's only");

    // The printed command, as printed (no world flags), with the answers.
    let words: Vec<&str> = printed.split_whitespace().collect();
    assert_eq!(words[..2], ["dr-drill", "resume"], "{printed}");
    let out = Command::cargo_bin("dr-drill")
        .unwrap()
        .args(&words[1..])
        .args(ANSWERS)
        .env("DR_DRILL_DATA_DIR", &data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("SIMULATED"), "{stdout}");
    assert!(stdout.contains("cutover: succeeded"), "{stdout}");
    let (_, events) = journal(&run);
    assert_eq!(
        restore_jobs(&events).len(),
        1,
        "the resumed step follows the job it started: {:?}",
        restore_jobs(&events)
    );
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "run_finished" && e["outcome"] == "succeeded")
    );
}

const SLOW_THEN_AWS: &str = r#"
[runbook]
id = "slow-then-aws"
title = "A slow step, then one that calls AWS"

[[step]]
id = "slow"
kind = "shell"
run = "sleep 30"

[[step]]
id = "count"
needs = ["slow"]
kind = "dynamodb.count"
table = "cabal-addresses"
"#;

struct Stopped {
    _dir: tempfile::TempDir,
    data: PathBuf,
    run: PathBuf,
}

impl Stopped {
    /// Starts `SLOW_THEN_AWS` headless with `world` flags and `env`, and
    /// kills it once its slow step runs.
    fn new(world: &[&str], env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let book = dir.path().join("slow.toml");
        std::fs::write(&book, SLOW_THEN_AWS).unwrap();
        let mut child = Std::new(assert_cmd::cargo::cargo_bin("dr-drill"))
            .args(["run", "--headless"])
            .args(world)
            .arg(&book)
            .envs(env.iter().copied())
            .env("DR_DRILL_DATA_DIR", &data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for(&data, "\"step_started\",\"step\":\"slow\"");
        child.kill().unwrap();
        child.wait().unwrap();
        let run = only_run(&data);
        Stopped {
            _dir: dir,
            data,
            run,
        }
    }

    fn resume(&self, flags: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::cargo_bin("dr-drill").unwrap();
        cmd.args(["resume", "--headless", "--interrupted", "done"])
            .arg(&self.run)
            .args(flags)
            .envs(env.iter().copied())
            .env("DR_DRILL_DATA_DIR", &self.data);
        cmd
    }
}

const ACCOUNT_111: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE000000001"),
    ("AWS_SECRET_ACCESS_KEY", "secret"),
    ("AWS_REGION", "eu-west-1"),
    ("AWS_ACCOUNT_ID", "111111111111"),
    ("AWS_PROFILE", ""),
];

#[test]
fn an_aws_run_is_recorded_and_resumes_only_in_its_account() {
    let stopped = Stopped::new(&[], ACCOUNT_111);
    let (header, _) = journal(&stopped.run);
    assert_eq!(header["world"]["kind"], "aws", "{header}");
    assert_eq!(header["world"]["account"], "111111111111");
    assert_eq!(header["world"]["region"], "eu-west-1");

    let mut other = ACCOUNT_111.to_vec();
    other.retain(|(k, _)| *k != "AWS_ACCOUNT_ID");
    other.push(("AWS_ACCOUNT_ID", "222222222222"));
    stopped
        .resume(&[], &other)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "acted on AWS account 111111111111, but these credentials are for account 222222222222",
        ))
        .stderr(predicate::str::contains("Nothing was run"));
    stopped
        .resume(&["--sandbox"], ACCOUNT_111)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "acted on AWS account 111111111111 in eu-west-1",
        ))
        .stderr(predicate::str::contains(
            "--sandbox would go on in a simulated world",
        ));
    stopped
        .resume(&["--region", "us-east-1"], ACCOUNT_111)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--region us-east-1 is not the region it ran in (eu-west-1)",
        ));
}

#[test]
fn a_sandbox_run_resumes_in_the_sandbox_without_flags_and_refuses_aws_ones() {
    // Real-looking credentials the sandbox must never use.
    let env = &[
        ("AWS_ACCESS_KEY_ID", "AKIAREALREALREAL0000"),
        ("AWS_SECRET_ACCESS_KEY", "real-secret"),
    ];
    let stopped = Stopped::new(&["--sandbox", "--speed", "3600"], env);
    stopped
        .resume(&["--profile", "production"], env)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "acted on the sandbox (speed 3600); --profile would send it to AWS",
        ));
    stopped
        .resume(&["--sandbox", "--speed", "60"], env)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--speed 60 is not the speed it ran at (3600)",
        ));
    stopped
        .resume(&[], env)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("SIMULATED"))
        .stdout(predicate::str::contains("cabal-addresses holds"));
}

#[test]
fn a_journal_from_before_the_world_was_recorded_resumes_as_the_flags_say_with_a_note() {
    let stopped = Stopped::new(&["--sandbox", "--speed", "3600"], &[]);
    let path = stopped.run.join("journal.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    let mut header: Value = serde_json::from_str(first).unwrap();
    header.as_object_mut().unwrap().remove("world");
    std::fs::write(&path, format!("{header}\n{rest}")).unwrap();
    stopped
        .resume(&["--sandbox"], &[])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "does not record the world it acted on",
        ))
        .stdout(predicate::str::contains("SIMULATED"));
}
