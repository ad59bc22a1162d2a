use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::engine::participant::Participant;
use crate::team::memory::MemoryStore;
use crate::team::store::{LeaseRequest, RunEntry};

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

async fn new_run(store: &MemoryStore) -> crate::team::store::Lease {
    let entry = RunEntry {
        run_id: "r1".into(),
        runbook_id: "rb".into(),
        mode: "drill".into(),
        started_at: Timestamp::now(),
        driver: person("alice"),
    };
    store
        .create_run(&entry, "H", &request("alice"))
        .await
        .unwrap()
}

fn quick() -> LogOptions {
    LogOptions {
        patience: Duration::from_millis(150),
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        cap_bytes: 1024,
    }
}

#[tokio::test]
async fn lines_are_written_in_order_and_acked_shared() {
    let store = Arc::new(MemoryStore::new("team"));
    let lease = new_run(&store).await;
    let (log, _notices) = SharedLog::start(store.clone(), "r1".into(), lease.token, quick());
    let first = log.queue(1, "one".into());
    let second = log.queue(2, "two".into());
    assert_eq!(second.await, Mirrored::Shared);
    assert_eq!(first.await, Mirrored::Shared);
    let lines: Vec<u64> = store.lines("r1").iter().map(|l| l.0).collect();
    assert_eq!(lines, [0, 1, 2]);
}

#[tokio::test]
async fn an_unreachable_table_acks_behind_then_catches_up_in_order() {
    let store = Arc::new(MemoryStore::new("team"));
    let lease = new_run(&store).await;
    let (log, mut notices) = SharedLog::start(store.clone(), "r1".into(), lease.token, quick());
    store.set_reachable(false);
    let waited = std::time::Instant::now();
    let Mirrored::Behind { reason } = log.queue(1, "one".into()).await else {
        panic!("not behind")
    };
    assert!(
        waited.elapsed() >= Duration::from_millis(150),
        "acked before the patience"
    );
    assert!(
        reason.contains("table team") && reason.contains("TransactWriteItems"),
        "{reason}"
    );
    // Later lines are kept and acked at once.
    let at_once = std::time::Instant::now();
    assert!(matches!(
        log.queue(2, "two".into()).await,
        Mirrored::Behind { .. }
    ));
    assert!(at_once.elapsed() < Duration::from_millis(100));
    drop(log.queue(3, "three".into()));
    store.set_reachable(true);
    let caught = tokio::time::timeout(Duration::from_secs(5), notices.recv())
        .await
        .unwrap();
    assert_eq!(caught, Some(EventKind::TeamCaughtUp { lines: 3 }));
    let lines: Vec<(u64, String)> = store.lines("r1");
    assert_eq!(
        lines.iter().map(|l| l.1.as_str()).collect::<Vec<_>>(),
        ["H", "one", "two", "three"]
    );
    // Caught up: evidence waits for the table again.
    assert_eq!(log.queue(4, "four".into()).await, Mirrored::Shared);
    log.settle(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn a_fenced_append_fences_that_line_and_every_later_one() {
    let store = Arc::new(MemoryStore::new("team"));
    let lease = new_run(&store).await;
    let (log, _notices) = SharedLog::start(store.clone(), "r1".into(), lease.token, quick());
    assert_eq!(log.queue(1, "one".into()).await, Mirrored::Shared);
    store.take("r1", &request("bob"), &lease).await.unwrap();
    let Mirrored::Fenced { reason } = log.queue(2, "two".into()).await else {
        panic!("not fenced")
    };
    assert!(
        reason.contains("bob") && reason.contains("stops without acting"),
        "{reason}"
    );
    assert!(matches!(
        log.queue(3, "three".into()).await,
        Mirrored::Fenced { .. }
    ));
    assert_eq!(
        store.lines("r1").len(),
        2,
        "nothing written after the fence"
    );
    assert!(log.settle(Duration::from_millis(10)).await.is_err());
}

#[tokio::test]
async fn past_the_cap_the_shared_log_stops_and_says_so() {
    let store = Arc::new(MemoryStore::new("team"));
    let lease = new_run(&store).await;
    let (log, _notices) = SharedLog::start(store.clone(), "r1".into(), lease.token, quick());
    store.set_reachable(false);
    let big = "x".repeat(700);
    assert!(matches!(
        log.queue(1, big.clone()).await,
        Mirrored::Behind { .. }
    ));
    let Mirrored::Behind { reason } = log.queue(2, big).await else {
        panic!("not behind")
    };
    assert!(reason.contains("stops at line 2 for good"), "{reason}");
}
