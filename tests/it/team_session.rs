//! `--team` through the session (`session::team`): a run registered on
//! the shared table, rebuilt in an empty data dir on "another machine"
//! and finished there without rerunning what had ended; a local journal
//! behind the shared log brought up to it; disagreeing lines and finished
//! runs refused, nothing changed. In process over `MemoryStore`; the CLI
//! over moto is in `team_session_cli.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use dr_drill::engine::event::Answer;
use dr_drill::engine::human::HumanReply;
use dr_drill::engine::participant::Participant;
use dr_drill::engine::{self, RunSetup};
use dr_drill::runbook::{Mode, check_str};
use dr_drill::session::team::{self, Team};
use dr_drill::team::lease::TakeOver;
use dr_drill::team::memory::MemoryStore;
use dr_drill::team::{RunState, TeamStore};

fn person(name: &str) -> Participant {
    Participant {
        arn: format!("arn:aws:iam::123456789012:user/{name}"),
        account: "123456789012".into(),
        name: name.into(),
    }
}

fn member(store: &Arc<MemoryStore>, name: &str) -> Team {
    Team::new(store.clone(), person(name), Duration::from_secs(30))
}

/// A shell step that appends to `marker`, then a manual step.
fn runbook(marker: &Path) -> String {
    format!(
        r#"[runbook]
id = "team-session"
title = "Team session"

[[step]]
id = "first"
kind = "shell"
run = "echo first >> {}"

[[step]]
id = "check"
needs = ["first"]
kind = "manual"
instructions = "Look"
"#,
        marker.display()
    )
}

/// Alice starts the run in `data` and leaves it (Ctrl-C) at the manual
/// step: the first step has ended, the lease is released.
async fn alice_leaves_at_the_question(
    store: &Arc<MemoryStore>,
    data: &Path,
    marker: &Path,
) -> String {
    let text = runbook(marker);
    let started = engine::start(RunSetup {
        runbook: check_str(&text).runbook.expect("valid"),
        runbook_text: text,
        runbook_path: data.join("absent.toml"),
        mode: Mode::Drill,
        params: BTreeMap::new(),
        t0: None,
        operator: "alice@host".into(),
        data_dir: data.to_owned(),
        max_parallel: 2,
        world: None,
        roles: Default::default(),
        driver: None,
    })
    .unwrap();
    let (started, driving) = team::register(&member(store, "alice"), started)
        .await
        .unwrap();
    let run_id = started.engine.run_id().to_owned();
    let engine::Started {
        engine,
        mut questions,
        ..
    } = started;
    let cancel = engine.cancel_token();
    tokio::spawn(async move {
        if let Some(_q) = questions.recv().await {
            cancel.cancel();
        }
    });
    let _ = engine.run().await;
    assert_eq!(driving.finish(false).await, None);
    let lease = store.lease(&run_id).await.unwrap().unwrap();
    assert_eq!(lease.state, RunState::Released);
    run_id
}

fn journal_of(data: &Path, run: &str) -> PathBuf {
    data.join("runs").join(run).join("journal.jsonl")
}

fn lines(path: &Path) -> Vec<(u64, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(n, l)| (n as u64, l.to_owned()))
        .collect()
}

fn quiet() -> impl Fn(String) + Send + Sync {
    |_| {}
}

#[tokio::test]
async fn a_run_rebuilt_in_an_empty_data_dir_finishes_without_rerunning_finished_steps() {
    let store = Arc::new(MemoryStore::new("team"));
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let marker = a.path().join("marker");
    let run = alice_leaves_at_the_question(&store, a.path(), &marker).await;
    assert_eq!(lines(&journal_of(a.path(), &run)), store.lines(&run));

    let bob = member(&store, "bob");
    let rebuilt = team::rebuild(&bob, &run, b.path(), &TakeOver::WaitForExpiry, &quiet())
        .await
        .unwrap();
    assert_eq!(rebuilt.copied, store.lines(&run).len());
    assert_eq!(rebuilt.lease.holder.name, "bob");
    let mode = std::fs::metadata(&rebuilt.journal).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );

    let reopened = dr_drill::session::reopen(&run, b.path(), BTreeMap::new(), false, 2).unwrap();
    let (started, driving) = team::go_on(&bob, reopened.started, rebuilt.lease, None)
        .await
        .unwrap();
    let engine::Started {
        engine,
        mut questions,
        ..
    } = started;
    tokio::spawn(async move {
        while let Some(q) = questions.recv().await {
            let _ = q.reply.send(HumanReply::new(
                Answer::Acknowledged { answer: None },
                "bob@host",
            ));
        }
    });
    let summary = engine.run().await.unwrap();
    assert_eq!(summary.outcome, dr_drill::engine::event::Outcome::Succeeded);
    assert_eq!(driving.finish(false).await, None);

    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        "first\n",
        "first ran once"
    );
    let local = lines(&journal_of(b.path(), &run));
    assert_eq!(
        local,
        store.lines(&run),
        "the shared log equals bob's journal"
    );
    let bob_drives = local
        .iter()
        .filter(|(_, l)| l.contains("driver_changed") && l.contains("user/bob"))
        .count();
    assert_eq!(bob_drives, 1);
    let lease = store.lease(&run).await.unwrap().unwrap();
    assert_eq!(lease.state, RunState::Finished);

    // Alice's own data dir afterwards: refused, nothing changed.
    let before = std::fs::read(journal_of(a.path(), &run)).unwrap();
    let err = team::rebuild(
        &member(&store, "alice"),
        &run,
        a.path(),
        &TakeOver::WaitForExpiry,
        &quiet(),
    )
    .await
    .unwrap_err();
    assert!(err.0.contains("has finished"), "{err}");
    assert_eq!(std::fs::read(journal_of(a.path(), &run)).unwrap(), before);
}

#[tokio::test]
async fn a_local_journal_behind_the_shared_log_is_brought_up_to_it() {
    let store = Arc::new(MemoryStore::new("team"));
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = alice_leaves_at_the_question(&store, a.path(), &a.path().join("m")).await;
    let shared = store.lines(&run);
    let behind = journal_of(b.path(), &run);
    std::fs::create_dir_all(behind.parent().unwrap()).unwrap();
    let first: String = shared[..3].iter().map(|(_, l)| format!("{l}\n")).collect();
    std::fs::write(&behind, first).unwrap();

    let rebuilt = team::rebuild(
        &member(&store, "bob"),
        &run,
        b.path(),
        &TakeOver::Now {
            reason: "alice is asleep".into(),
        },
        &quiet(),
    )
    .await
    .unwrap();
    assert_eq!((rebuilt.copied, rebuilt.pushed), (shared.len() - 3, 0));
    assert_eq!(lines(&behind), shared);
}

#[tokio::test]
async fn local_lines_the_shared_log_lacks_are_written_to_it_with_the_new_token() {
    let store = Arc::new(MemoryStore::new("team"));
    let a = tempfile::tempdir().unwrap();
    let run = alice_leaves_at_the_question(&store, a.path(), &a.path().join("m")).await;
    let shared = store.lines(&run);
    // Alice's process degraded, wrote one more line locally, then died.
    let journal = journal_of(a.path(), &run);
    let extra = shared[1].1.clone();
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str(&extra);
    text.push('\n');
    std::fs::write(&journal, &text).unwrap();

    let rebuilt = team::rebuild(
        &member(&store, "alice"),
        &run,
        a.path(),
        &TakeOver::WaitForExpiry,
        &quiet(),
    )
    .await
    .unwrap();
    assert_eq!((rebuilt.copied, rebuilt.pushed), (0, 1));
    assert_eq!(store.lines(&run), lines(&journal));
}

#[tokio::test]
async fn a_local_journal_that_disagrees_with_the_shared_log_is_refused_naming_the_line() {
    let store = Arc::new(MemoryStore::new("team"));
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = alice_leaves_at_the_question(&store, a.path(), &a.path().join("m")).await;
    let shared = store.lines(&run);
    let other = journal_of(b.path(), &run);
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    // Line 3 (seq 2) is another valid event.
    let mut mine: Vec<String> = shared.iter().map(|(_, l)| l.clone()).collect();
    mine[2] = mine[1].clone();
    std::fs::write(&other, mine.join("\n") + "\n").unwrap();
    let before = std::fs::read(&other).unwrap();

    let err = team::rebuild(
        &member(&store, "bob"),
        &run,
        b.path(),
        &TakeOver::WaitForExpiry,
        &quiet(),
    )
    .await
    .unwrap_err();
    assert!(err.0.contains("line 3 of"), "{err}");
    assert!(err.0.contains("differs from the shared log"), "{err}");
    assert_eq!(std::fs::read(&other).unwrap(), before);
    let lease = store.lease(&run).await.unwrap().unwrap();
    assert_eq!(lease.holder.name, "alice", "the lease was not taken");
}

// ---- The real binary over moto's DynamoDB ----

mod over_moto {
    use std::path::Path;
    use std::process::{Child, Command, Output, Stdio};
    use std::time::{Duration, Instant};

    use assert_cmd::prelude::*;

    use dr_drill::team::{DynamoStore, TeamStore};

    use crate::support::drill::run_dir;
    use crate::support::{moto, unique};

    fn dr_drill() -> Command {
        let mut cmd = Command::cargo_bin("dr-drill").unwrap();
        cmd.env_remove("AWS_PROFILE")
            .env_remove("DR_DRILL_TEAM")
            .envs(moto().env());
        cmd
    }

    /// A new team table, made by `dr-drill team init`.
    fn team_table() -> String {
        let table = unique("team-session");
        let out = dr_drill().args(["team", "init", &table]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        table
    }

    fn said(out: &Output) -> String {
        format!(
            "exit {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// Three shell steps; `b` sleeps `sleep` seconds; each appends its
    /// name to `marker`.
    fn write_runbook(dir: &Path, marker: &Path, sleep: u32) -> std::path::PathBuf {
        let m = marker.display();
        let text = format!(
            r#"[runbook]
id = "team-cli"
title = "Team CLI"

[[step]]
id = "a"
kind = "shell"
run = "echo a >> {m}"

[[step]]
id = "b"
needs = ["a"]
kind = "shell"
run = "echo b-start >> {m}; sleep {sleep}; echo b >> {m}"

[[step]]
id = "c"
needs = ["b"]
kind = "shell"
run = "echo c >> {m}"
"#
        );
        let path = dir.join("team-cli.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn shared_lines(table: &str, run: &str) -> Vec<(u64, String)> {
        crate::support::drill::block_on(async {
            let store = DynamoStore::new(&moto().sdk_config("us-east-1"), table);
            let mut all = Vec::new();
            loop {
                let page = store.read_log(run, all.len() as u64, 500).await.unwrap();
                let n = page.len();
                all.extend(page);
                if n < 500 {
                    return all;
                }
            }
        })
    }

    fn local_lines(journal: &Path) -> Vec<(u64, String)> {
        super::lines(journal)
    }

    fn count(marker: &Path, line: &str) -> usize {
        std::fs::read_to_string(marker)
            .unwrap_or_default()
            .lines()
            .filter(|l| *l == line)
            .count()
    }

    fn wait_for(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < within, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn start_driver(table: &str, runbook: &Path, data: &Path) -> Child {
        dr_drill()
            .args([
                "run",
                "--headless",
                "--sandbox",
                "--no-preflight",
                "--team",
                table,
            ])
            .args(["--lease-duration", "2s", "--data-dir"])
            .arg(data)
            .arg(runbook)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn signal(child: &Child, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }

    #[test]
    fn run_team_mirrors_every_journal_line_to_the_shared_log() {
        let table = team_table();
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("marker");
        let runbook = write_runbook(dir.path(), &marker, 0);
        let data = dir.path().join("data");
        let out = dr_drill()
            .args([
                "run",
                "--headless",
                "--sandbox",
                "--no-preflight",
                "--team",
                &table,
            ])
            .args(["--as", "Alice (lead)", "--data-dir"])
            .arg(&data)
            .arg(&runbook)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", said(&out));
        let run_dir = run_dir(&data);
        let run = run_dir.file_name().unwrap().to_str().unwrap().to_owned();
        let local = local_lines(&run_dir.join("journal.jsonl"));
        assert!(local.len() > 8, "{local:?}");
        assert_eq!(shared_lines(&table, &run), local);
        // The journal opens as every journal does; who drives comes next.
        assert!(local[1].1.contains("run_started"), "{}", local[1].1);
        assert!(local[2].1.contains("driver_changed"), "{}", local[2].1);
        assert!(local[2].1.contains("Alice (lead)"), "{}", local[2].1);
        let lease = crate::support::drill::block_on(async {
            DynamoStore::new(&moto().sdk_config("us-east-1"), &table)
                .lease(&run)
                .await
                .unwrap()
                .unwrap()
        });
        assert_eq!(lease.state, dr_drill::team::RunState::Finished);
    }

    #[test]
    fn an_unreachable_team_table_refuses_the_run_and_nothing_runs() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("marker");
        let runbook = write_runbook(dir.path(), &marker, 0);
        let out = dr_drill()
            .args(["run", "--headless", "--sandbox", "--no-preflight"])
            .env("DR_DRILL_TEAM", "no-such-team-table")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg(&runbook)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}", said(&out));
        assert!(err.contains("no-such-team-table"), "{err}");
        assert!(err.contains("dr-drill team init"), "{err}");
        assert!(!marker.exists(), "a step ran");
        assert!(!dir.path().join("data").join("runs").exists());
    }

    #[test]
    fn after_kill_9_another_machine_takes_over_once_the_lease_expires_and_no_step_runs_twice() {
        let table = team_table();
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("marker");
        let runbook = write_runbook(dir.path(), &marker, 3);
        let (first, second) = (dir.path().join("first"), dir.path().join("second"));
        let mut driver = start_driver(&table, &runbook, &first);
        wait_for("step b to start", Duration::from_secs(60), || {
            count(&marker, "b-start") == 1
        });
        signal(&driver, "-KILL");
        let _ = driver.wait();
        let run = run_dir(&first)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();

        let started = Instant::now();
        let out = dr_drill()
            .args(["resume", &run, "--headless", "--team", &table])
            .args([
                "--lease-duration",
                "2s",
                "--interrupted",
                "rerun",
                "--data-dir",
            ])
            .arg(&second)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", said(&out));
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "it waited for the lease"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("waiting"), "{err}");
        assert_eq!(count(&marker, "a"), 1, "a ran once");
        assert_eq!(count(&marker, "c"), 1, "c ran once");
        let journal = second.join("runs").join(&run).join("journal.jsonl");
        assert_eq!(shared_lines(&table, &run), local_lines(&journal));

        // The killed driver's machine afterwards: refused, nothing changed.
        let old = first.join("runs").join(&run).join("journal.jsonl");
        let before = std::fs::read(&old).unwrap();
        let out = dr_drill()
            .args(["resume", &run, "--headless", "--team", &table])
            .args(["--interrupted", "rerun", "--data-dir"])
            .arg(&first)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", said(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("has finished"),
            "{}",
            said(&out)
        );
        assert_eq!(
            std::fs::read(&old).unwrap(),
            before,
            "its journal is unchanged"
        );
        assert_eq!(count(&marker, "c"), 1);
    }

    #[test]
    fn take_over_takes_a_live_lease_at_once_and_the_stopped_driver_wakes_to_stop_without_acting() {
        let table = team_table();
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("marker");
        let runbook = write_runbook(dir.path(), &marker, 2);
        let (first, second) = (dir.path().join("first"), dir.path().join("second"));
        let driver = dr_drill()
            .args([
                "run",
                "--headless",
                "--sandbox",
                "--no-preflight",
                "--team",
                &table,
            ])
            .args(["--data-dir"])
            .arg(&first)
            .arg(&runbook)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for("step b to start", Duration::from_secs(60), || {
            count(&marker, "b-start") == 1
        });
        signal(&driver, "-STOP");
        let run = run_dir(&first)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();

        let started = Instant::now();
        let out = dr_drill()
            .args([
                "resume",
                &run,
                "--headless",
                "--team",
                &table,
                "--as",
                "Bob",
            ])
            .args([
                "--take-over",
                "alice's laptop froze",
                "--interrupted",
                "rerun",
            ])
            .arg("--data-dir")
            .arg(&second)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", said(&out));
        assert!(
            started.elapsed() < Duration::from_secs(25),
            "it did not wait the 30 s lease"
        );
        let journal = second.join("runs").join(&run).join("journal.jsonl");
        let taken = local_lines(&journal)
            .into_iter()
            .find(|(_, l)| l.contains("driver_changed") && l.contains("alice's laptop froze"))
            .expect("the journal records the takeover");
        assert!(taken.1.contains("\"Bob\""), "{}", taken.1);
        assert_eq!(count(&marker, "c"), 1);

        signal(&driver, "-CONT");
        let out = driver.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.contains(&format!("this process lost run {run} to Bob")),
            "{err}"
        );
        assert!(
            err.contains(&format!("dr-drill watch {run} --team {table}")),
            "{err}"
        );
        assert_eq!(
            count(&marker, "c"),
            1,
            "the stopped driver ran nothing after waking"
        );
        assert_eq!(count(&marker, "a"), 1);
    }
}
