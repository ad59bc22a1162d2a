use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::engine::event::Answer;
use crate::engine::participant::Participant;

fn person(name: &str) -> Participant {
    Participant {
        arn: format!("arn:aws:iam::123456789012:user/{name}"),
        account: "123456789012".into(),
        name: name.into(),
    }
}

fn request(name: &str) -> LeaseRequest {
    LeaseRequest {
        holder: person(name),
        process: format!("{name}@host pid 1"),
        duration: Duration::from_secs(2),
    }
}

fn entry(run: &str, ms: i64) -> RunEntry {
    RunEntry {
        run_id: run.into(),
        runbook_id: "rb".into(),
        mode: "drill".into(),
        started_at: Timestamp::from_millisecond(ms).unwrap(),
        driver: person("alice"),
    }
}

#[tokio::test]
async fn a_run_is_created_once_with_its_header_as_line_zero_and_token_one() {
    let store = MemoryStore::new("team");
    let lease = store
        .create_run(&entry("r1", 1), "HEADER", &request("alice"))
        .await
        .unwrap();
    assert_eq!(lease.token, 1);
    assert_eq!(lease.state, RunState::Driving);
    assert_eq!(
        store.read_log("r1", 0, 10).await.unwrap(),
        vec![(0, "HEADER".to_string())]
    );
    let again = store
        .create_run(&entry("r1", 2), "OTHER", &request("bob"))
        .await;
    assert!(matches!(again, Err(TeamError::Exists { .. })), "{again:?}");
    assert_eq!(store.lines("r1"), vec![(0, "HEADER".to_string())]);
}

#[tokio::test]
async fn appends_need_the_current_token_and_a_free_line() {
    let store = MemoryStore::new("team");
    let lease = store
        .create_run(&entry("r1", 1), "H", &request("alice"))
        .await
        .unwrap();
    store.append("r1", 1, 1, "one").await.unwrap();
    let taken = store.append("r1", 1, 1, "other").await;
    assert!(matches!(taken, Err(TeamError::Fenced { .. })), "{taken:?}");
    let stale = store.append("r1", 7, 2, "two").await;
    assert!(
        matches!(
            stale,
            Err(TeamError::Fenced {
                current: 1,
                ours: 7,
                ..
            })
        ),
        "{stale:?}"
    );
    let unknown = store.append("nope", 1, 1, "x").await;
    assert!(
        matches!(unknown, Err(TeamError::NoRun { .. })),
        "{unknown:?}"
    );
    // A takeover moves the token: the old holder is fenced from then on.
    let new = store.take("r1", &request("bob"), &lease).await.unwrap();
    assert_eq!(new.token, 2);
    let old = store.append("r1", 1, 2, "late").await;
    assert!(
        matches!(
            old,
            Err(TeamError::Fenced {
                current: 2,
                ours: 1,
                ..
            })
        ),
        "{old:?}"
    );
    assert!(
        store
            .heartbeat(&lease, &RunStatus::default())
            .await
            .is_err()
    );
    store.append("r1", 2, 2, "two").await.unwrap();
    let log = store.read_log("r1", 1, 10).await.unwrap();
    assert_eq!(log, vec![(1, "one".to_string()), (2, "two".to_string())]);
    assert_eq!(store.read_log("r1", 0, 1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_take_needs_the_observed_version_and_a_run_not_finished() {
    let store = MemoryStore::new("team");
    let first = store
        .create_run(&entry("r1", 1), "H", &request("alice"))
        .await
        .unwrap();
    let beat = store
        .heartbeat(&first, &RunStatus::default())
        .await
        .unwrap();
    assert_ne!(
        beat.rvn, first.rvn,
        "every write of the lease is a new version"
    );
    // The holder beat since we looked: not gone, the take is refused.
    let stale = store.take("r1", &request("bob"), &first).await;
    assert!(matches!(stale, Err(TeamError::Fenced { .. })), "{stale:?}");
    let status = RunStatus {
        steps_done: 3,
        ..RunStatus::default()
    };
    store
        .release(&beat, RunState::Finished, &status)
        .await
        .unwrap();
    let ended = store.lease("r1").await.unwrap().unwrap();
    assert_eq!(
        (ended.state, ended.status.steps_done),
        (RunState::Finished, 3)
    );
    let late = store.take("r1", &request("bob"), &ended).await;
    assert!(matches!(late, Err(TeamError::Finished { .. })), "{late:?}");
}

#[tokio::test]
async fn answers_are_numbered_from_one_and_runs_listed_newest_first() {
    let store = MemoryStore::new("team");
    for (run, ms) in [("old", 1_000), ("new", 3_000), ("mid", 2_000)] {
        store
            .create_run(&entry(run, ms), "H", &request("alice"))
            .await
            .unwrap();
    }
    let runs: Vec<String> = store
        .runs(2)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry.run_id)
        .collect();
    assert_eq!(runs, ["new", "mid"]);
    let answer = TeamAnswer {
        step: "s".into(),
        asked: 4,
        answer: Answer::Approved,
        note: None,
        by: person("bob"),
        at: Timestamp::now(),
    };
    assert_eq!(store.post_answer("mid", &answer).await.unwrap(), 1);
    assert_eq!(store.post_answer("mid", &answer).await.unwrap(), 2);
    assert!(store.post_answer("ghost", &answer).await.is_err());
    let after_one: Vec<u64> = store
        .answers("mid", 1)
        .await
        .unwrap()
        .iter()
        .map(|a| a.0)
        .collect();
    assert_eq!(after_one, [2]);
    assert!(store.answers("new", 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unreachable_table_fails_every_call_as_transient() {
    let store = MemoryStore::new("team");
    store.set_reachable(false);
    let err = store
        .create_run(&entry("r1", 1), "H", &request("alice"))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(err.to_string().contains("table team"), "{err}");
    assert!(store.lease("r1").await.unwrap_err().is_transient());
    store.set_reachable(true);
    store
        .create_run(&entry("r1", 1), "H", &request("alice"))
        .await
        .unwrap();
}
