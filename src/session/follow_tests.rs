use std::io::Write;
use std::sync::Mutex;

use super::*;
use crate::engine::event::Outcome;
use crate::engine::participant::Participant;
use crate::team::{Lease, LeaseRequest, RunEntry, RunRow, RunStatus, TeamAnswer};

fn header() -> JournalHeader {
    let text = "[runbook]\nformat = 1\nid = \"t\"\ntitle = \"T\"\n".to_string();
    JournalHeader {
        journal_format: 1,
        run_id: "t-1".into(),
        runbook_path: "t.toml".into(),
        runbook_sha256: journal::sha256_hex(&text),
        runbook_text: text,
        mode: crate::runbook::Mode::Drill,
        t0: Timestamp::UNIX_EPOCH,
        started_at: Timestamp::UNIX_EPOCH,
        operator: "alice@host".into(),
        params: Default::default(),
        dr_drill_version: "0".into(),
        world: None,
        roles: Default::default(),
        driver: None,
    }
}

fn line(kind: EventKind) -> String {
    serde_json::to_string(&RunEvent {
        at: Timestamp::UNIX_EPOCH,
        elapsed: Duration::ZERO,
        kind,
    })
    .unwrap()
}

fn progress(n: usize) -> String {
    line(EventKind::StepProgress {
        step: "s".into(),
        message: format!("m{n}"),
    })
}

fn journal() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let mut text = serde_json::to_string(&header()).unwrap();
    text.push('\n');
    text.push_str(&progress(0));
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn messages(events: &[RunEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match &e.kind {
            EventKind::StepProgress { message, .. } => message.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn a_growing_journal_yields_its_new_events_in_order() {
    let (_dir, path) = journal();
    let mut follow = JournalFollower::open(&path).unwrap();
    assert_eq!(follow.header().run_id, "t-1");
    assert_eq!(messages(&follow.poll().await.unwrap()), ["m0"]);
    assert!(follow.poll().await.unwrap().is_empty());
    append(&path, &format!("{}\n{}\n", progress(1), progress(2)));
    assert_eq!(messages(&follow.poll().await.unwrap()), ["m1", "m2"]);
    assert_eq!(follow.news().driver, "alice@host");
    // Nobody holds run.lock: the watcher says so until the run ends.
    assert!(follow.news().quiet.unwrap().contains("run.lock is free"));
    append(
        &path,
        &format!(
            "{}\n",
            line(EventKind::RunFinished {
                outcome: Outcome::Succeeded
            })
        ),
    );
    assert_eq!(follow.poll().await.unwrap().len(), 1);
    assert_eq!(follow.news().ended.as_deref(), Some("succeeded"));
    assert_eq!(follow.news().quiet, None);
}

#[tokio::test]
async fn a_torn_last_line_waits_until_it_is_whole() {
    let (_dir, path) = journal();
    let mut follow = JournalFollower::open(&path).unwrap();
    follow.poll().await.unwrap();
    let next = progress(1);
    let (a, b) = next.split_at(10);
    append(&path, a);
    assert!(follow.poll().await.unwrap().is_empty());
    append(&path, &format!("{b}\n"));
    assert_eq!(messages(&follow.poll().await.unwrap()), ["m1"]);
}

#[tokio::test]
async fn a_journal_that_shrinks_or_changes_is_an_error_naming_it() {
    let (_dir, path) = journal();
    let mut follow = JournalFollower::open(&path).unwrap();
    follow.poll().await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    // The same length, one byte of the last event changed.
    let changed = text.replacen("m0", "m9", 1);
    std::fs::write(&path, &changed).unwrap();
    let e = follow.poll().await.unwrap_err().to_string();
    assert!(e.contains("bytes already read changed"), "{e}");
    assert!(e.contains(&path.display().to_string()), "{e}");
    let mut follow = {
        std::fs::write(&path, &text).unwrap();
        JournalFollower::open(&path).unwrap()
    };
    follow.poll().await.unwrap();
    std::fs::write(&path, &text[..text.len() - 5]).unwrap();
    let e = follow.poll().await.unwrap_err().to_string();
    assert!(e.contains("shrank"), "{e}");
    assert!(e.contains(&path.display().to_string()), "{e}");
}

#[tokio::test]
async fn a_damaged_line_names_the_file_and_line() {
    let (_dir, path) = journal();
    let mut follow = JournalFollower::open(&path).unwrap();
    append(&path, "{\"not\": \"an event\"}\n");
    let e = follow.poll().await.unwrap_err().to_string();
    assert!(e.contains("line 3"), "{e}");
    let empty = path.with_file_name("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let e = JournalFollower::open(&empty).err().unwrap().to_string();
    assert!(e.contains("empty"), "{e}");
}

/// Just enough of a shared table: its log and its lease.
struct FakeStore {
    log: Mutex<Vec<(u64, String)>>,
    lease: Mutex<Option<Lease>>,
}

fn err() -> TeamError {
    TeamError::Refused {
        table: "t".into(),
        action: "fake",
        message: "not in the fake".into(),
    }
}

#[async_trait]
impl TeamStore for FakeStore {
    fn table(&self) -> &str {
        "drills"
    }
    async fn create_run(
        &self,
        _: &RunEntry,
        _: &str,
        _: &LeaseRequest,
    ) -> Result<Lease, TeamError> {
        Err(err())
    }
    async fn append(&self, _: &str, _: u64, _: u64, _: &str) -> Result<(), TeamError> {
        Err(err())
    }
    async fn read_log(
        &self,
        _: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, TeamError> {
        let log = self.log.lock().unwrap();
        Ok(log
            .iter()
            .filter(|(s, _)| *s >= from)
            .take(limit)
            .cloned()
            .collect())
    }
    async fn lease(&self, _: &str) -> Result<Option<Lease>, TeamError> {
        Ok(self.lease.lock().unwrap().clone())
    }
    async fn take(&self, _: &str, _: &LeaseRequest, _: &Lease) -> Result<Lease, TeamError> {
        Err(err())
    }
    async fn heartbeat(&self, _: &Lease, _: &RunStatus) -> Result<Lease, TeamError> {
        Err(err())
    }
    async fn release(&self, _: &Lease, _: RunState, _: &RunStatus) -> Result<(), TeamError> {
        Err(err())
    }
    async fn post_answer(&self, _: &str, _: &TeamAnswer) -> Result<u64, TeamError> {
        Err(err())
    }
    async fn answers(&self, _: &str, _: u64) -> Result<Vec<(u64, TeamAnswer)>, TeamError> {
        Err(err())
    }
    async fn runs(&self, _: usize) -> Result<Vec<RunRow>, TeamError> {
        Err(err())
    }
}

fn lease(rvn: &str, state: RunState) -> Lease {
    Lease {
        run_id: "t-1".into(),
        token: 1,
        rvn: rvn.into(),
        holder: Participant {
            arn: "arn:aws:iam::1:user/bob".into(),
            account: "1".into(),
            name: "Bob".into(),
        },
        process: "bob@h pid 1".into(),
        duration: Duration::from_secs(30),
        heartbeat_at: Timestamp::UNIX_EPOCH,
        state,
        status: RunStatus {
            outcome: (state == RunState::Finished).then(|| "succeeded".into()),
            ..RunStatus::default()
        },
    }
}

#[tokio::test(start_paused = true)]
async fn the_team_follower_reads_lines_as_they_arrive_and_the_lease() {
    let store = FakeStore {
        log: Mutex::new(vec![(0, serde_json::to_string(&header()).unwrap())]),
        lease: Mutex::new(Some(lease("a", RunState::Driving))),
    };
    let mut follow = TeamFollower::open(&store, "t-1").await.unwrap();
    assert!(follow.poll().await.unwrap().is_empty());
    assert_eq!(follow.news().driver, "Bob (arn:aws:iam::1:user/bob)");
    // Line 2 before line 1: the gap waits.
    store.log.lock().unwrap().push((2, progress(2)));
    assert!(follow.poll().await.unwrap().is_empty());
    store.log.lock().unwrap().insert(1, (1, progress(1)));
    assert_eq!(messages(&follow.poll().await.unwrap()), ["m1", "m2"]);
    // The lease unchanged for 40 s: news stopped.
    tokio::time::advance(QUIET_AFTER).await;
    follow.poll().await.unwrap();
    let quiet = follow.news().quiet.unwrap();
    assert!(quiet.contains("last heartbeat at"), "{quiet}");
    *store.lease.lock().unwrap() = Some(lease("b", RunState::Finished));
    follow.poll().await.unwrap();
    assert_eq!(follow.news().ended.as_deref(), Some("succeeded"));
    assert_eq!(follow.news().quiet, None);
    // A damaged line is named by table, run and line.
    store.log.lock().unwrap().push((3, "{".into()));
    let e = follow.poll().await.unwrap_err().to_string();
    assert!(e.contains("table drills, run t-1, line 3"), "{e}");
}

#[tokio::test]
async fn a_team_run_without_a_header_is_no_run() {
    let store = FakeStore {
        log: Mutex::new(Vec::new()),
        lease: Mutex::new(None),
    };
    let e = TeamFollower::open(&store, "nope").await.err().unwrap();
    assert!(e.to_string().contains("holds no run nope"), "{e}");
}
