use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::engine::participant::Participant;
use crate::team::memory::MemoryStore;
use crate::team::store::RunEntry;

fn person(name: &str) -> Participant {
    Participant {
        arn: format!("arn:aws:iam::123456789012:user/{name}"),
        account: "123456789012".into(),
        name: name.into(),
    }
}

fn request(name: &str, ms: u64) -> LeaseRequest {
    LeaseRequest {
        holder: person(name),
        process: format!("{name}@host pid 1"),
        duration: Duration::from_millis(ms),
    }
}

async fn new_run(store: &MemoryStore, ms: u64) -> Lease {
    let entry = RunEntry {
        run_id: "r1".into(),
        runbook_id: "rb".into(),
        mode: "drill".into(),
        started_at: Timestamp::now(),
        driver: person("alice"),
    };
    store
        .create_run(&entry, "H", &request("alice", ms))
        .await
        .unwrap()
}

fn quiet(_: String) {}

#[tokio::test]
async fn a_silent_lease_is_taken_after_one_duration_with_the_next_token() {
    let store = MemoryStore::new("team");
    new_run(&store, 200).await;
    let waited = std::time::Instant::now();
    let lease = take_over(
        &store,
        "r1",
        &request("bob", 200),
        &TakeOver::WaitForExpiry,
        &quiet,
    )
    .await
    .unwrap();
    assert!(waited.elapsed() >= Duration::from_millis(200));
    assert_eq!((lease.token, lease.holder.name.as_str()), (2, "bob"));
}

#[tokio::test]
async fn a_beating_holder_is_not_taken_over_unless_now() {
    let store = Arc::new(MemoryStore::new("team"));
    let alice = new_run(&store, 150).await;
    let (lost, mut lost_rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let beat = Heartbeat::start(
        store.clone(),
        alice,
        Arc::new(RunStatus::default),
        cancel.clone(),
        lost,
    );
    let held = take_over(
        &*store,
        "r1",
        &request("bob", 150),
        &TakeOver::WaitForExpiry,
        &quiet,
    )
    .await;
    assert!(matches!(held, Err(TeamError::Held { .. })), "{held:?}");
    let now = TakeOver::Now {
        reason: "alice's laptop is gone".into(),
    };
    let bob = take_over(&*store, "r1", &request("bob", 150), &now, &quiet)
        .await
        .unwrap();
    assert_eq!(bob.token, 2);
    // Alice's next beat is fenced: her run is cancelled and told why.
    let why = tokio::time::timeout(Duration::from_secs(2), lost_rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(why.contains("bob"), "{why}");
    assert!(cancel.is_cancelled());
    beat.stop();
}

#[tokio::test]
async fn released_is_taken_at_once_and_finished_is_refused() {
    let store = MemoryStore::new("team");
    let alice = new_run(&store, 60_000).await;
    store
        .release(&alice, RunState::Released, &RunStatus::default())
        .await
        .unwrap();
    let bob = take_over(
        &store,
        "r1",
        &request("bob", 60_000),
        &TakeOver::WaitForExpiry,
        &quiet,
    )
    .await
    .unwrap();
    store
        .release(&bob, RunState::Finished, &RunStatus::default())
        .await
        .unwrap();
    let now = TakeOver::Now {
        reason: "again".into(),
    };
    let done = take_over(&store, "r1", &request("carol", 1), &now, &quiet).await;
    assert!(matches!(done, Err(TeamError::Finished { .. })), "{done:?}");
    let none = take_over(&store, "nope", &request("carol", 1), &now, &quiet).await;
    assert!(matches!(none, Err(TeamError::NoRun { .. })), "{none:?}");
}
