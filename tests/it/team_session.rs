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
