use std::sync::Mutex as StdMutex;

use super::*;
use crate::engine::event::Outcome;
use crate::engine::journal::{JOURNAL_FORMAT, JournalHeader};

/// A mirror that keeps what it is handed and acks as told.
struct Kept {
    lines: StdMutex<Vec<(u64, String)>>,
    ack: Mirrored,
}

impl Mirror for Kept {
    fn queue(&self, seq: u64, line: String) -> MirrorAck {
        self.lines.lock().unwrap().push((seq, line));
        Box::pin(std::future::ready(self.ack.clone()))
    }
}

fn kept(ack: Mirrored) -> Arc<Kept> {
    Arc::new(Kept {
        lines: StdMutex::new(Vec::new()),
        ack,
    })
}

fn journal(dir: &std::path::Path) -> JournalWriter {
    let header = JournalHeader {
        journal_format: JOURNAL_FORMAT,
        run_id: "r1".into(),
        runbook_path: "rb.toml".into(),
        runbook_sha256: crate::engine::journal::sha256_hex("x"),
        runbook_text: "x".into(),
        mode: crate::runbook::Mode::Drill,
        t0: jiff::Timestamp::now(),
        started_at: jiff::Timestamp::now(),
        operator: "me@here".into(),
        params: Default::default(),
        dr_drill_version: "0".into(),
        world: None,
        roles: Default::default(),
        driver: None,
    };
    JournalWriter::create(&dir.join("journal.jsonl"), &header).unwrap()
}

fn phase(name: &str) -> EventKind {
    EventKind::PhaseStarted { phase: name.into() }
}

#[tokio::test]
async fn the_mirror_gets_each_journal_line_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::new(Clock::start(), Some(journal(dir.path())), vec![]);
    let mirror = kept(Mirrored::Shared);
    assert!(recorder.set_mirror(mirror.clone()));
    recorder.record(phase("a")).await.unwrap();
    recorder
        .note(EventKind::StepQueued { step: "s".into() })
        .unwrap();
    recorder.record(phase("b")).await.unwrap();
    drop(recorder);
    let text = std::fs::read_to_string(dir.path().join("journal.jsonl")).unwrap();
    let journal: Vec<(u64, String)> = text
        .lines()
        .enumerate()
        .skip(1)
        .map(|(n, l)| (n as u64, l.to_string()))
        .collect();
    assert_eq!(*mirror.lines.lock().unwrap(), journal);
    assert_eq!(journal.len(), 3);
}

#[tokio::test]
async fn a_resumed_journal_is_numbered_on_from_its_line_count() {
    let recorder = Recorder::new(Clock::start(), None, vec![]).lines_from(7);
    let mirror = kept(Mirrored::Shared);
    recorder.set_mirror(mirror.clone());
    recorder.record(phase("a")).await.unwrap();
    assert_eq!(mirror.lines.lock().unwrap()[0].0, 7);
}

#[tokio::test]
async fn behind_is_told_once_and_the_run_goes_on() {
    let recorder = Recorder::new(Clock::start(), None, vec![]);
    let mut events = recorder.subscribe();
    recorder.set_mirror(kept(Mirrored::Behind {
        reason: "table team, TransactWriteItems: cannot reach DynamoDB".into(),
    }));
    recorder.record(phase("a")).await.unwrap();
    recorder.record(phase("b")).await.unwrap();
    drop(recorder);
    let mut kinds = Vec::new();
    while let Some(e) = events.recv().await {
        kinds.push(e.kind);
    }
    let told = kinds
        .iter()
        .filter(|k| matches!(k, EventKind::TeamBehind { .. }))
        .count();
    assert_eq!(told, 1, "{kinds:?}");
    assert!(
        matches!(kinds[1], EventKind::TeamBehind { .. }),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn a_fenced_line_is_an_error_the_engine_stops_on() {
    let recorder = Recorder::new(Clock::start(), None, vec![]);
    recorder.set_mirror(kept(Mirrored::Fenced {
        reason: "run r1: another process drives it now".into(),
    }));
    let err = recorder
        .record(EventKind::RunFinished {
            outcome: Outcome::Succeeded,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, JournalError::Fenced { .. }));
    assert!(
        err.to_string().contains("another process drives it now"),
        "{err}"
    );
}

/// A weak handle records while the run lives and never keeps its event
/// stream open: the stream closes once the run's own recorders are gone.
#[tokio::test]
async fn a_weak_recorder_does_not_keep_the_run_open() {
    let recorder = Recorder::new(Clock::start(), None, vec![]);
    let mut events = recorder.subscribe();
    let weak = recorder.downgrade();
    weak.upgrade()
        .expect("the run lives")
        .note(EventKind::TeamCaughtUp { lines: 3 })
        .unwrap();
    assert!(matches!(
        events.recv().await.unwrap().kind,
        EventKind::TeamCaughtUp { lines: 3 }
    ));
    drop(recorder);
    assert!(weak.upgrade().is_none());
    assert!(events.recv().await.is_none(), "the stream stayed open");
}
