//! Hostile journals fed to `report` and to `resume`'s reading path:
//! arbitrary mutations of a valid journal (truncation, byte flips, huge
//! numbers, deep nesting, long strings, wrong types) give an error or a
//! report, never a panic, and reading stays bounded (an over-long line is
//! refused, not held). 256 cases from a fixed seed: the same every run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use dr_drill::engine::journal::{self, JournalError, MAX_JOURNAL_LINE};

const RUNBOOK: &str = r#"
[runbook]
id = "fuzzed"
title = "Fuzzed"
rto = "10m"

[[step]]
id = "prepare"
kind = "shell"
run = "echo rows=7 >> \"$DR_DRILL_OUTPUT\"; echo one; echo two >&2"
outputs = ["rows"]

[[step]]
id = "hold"
needs = ["prepare"]
kind = "wait"
duration = "1s"
ends_rto = true
"#;

/// A valid journal of a finished sandbox run, written once.
fn valid_journal() -> &'static (tempfile::TempDir, Vec<u8>) {
    static JOURNAL: OnceLock<(tempfile::TempDir, Vec<u8>)> = OnceLock::new();
    JOURNAL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runbook.toml");
        std::fs::write(&path, RUNBOOK).unwrap();
        let data = dir.path().join("data");
        Command::cargo_bin("dr-drill")
            .unwrap()
            .env("DR_DRILL_DATA_DIR", &data)
            .args(["run", "--headless", "--sandbox", "--speed", "1000"])
            .arg(&path)
            .assert()
            .success();
        let run = std::fs::read_dir(data.join("runs"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let bytes = std::fs::read(run.join("journal.jsonl")).unwrap();
        (dir, bytes)
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, String),
    Replace(usize, usize, String),
}

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1.8e19".to_string()),
        Just("-1".to_string()),
        Just("1e400".to_string()),
        Just("18446744073709551616".to_string()),
        Just("NaN".to_string()),
        (1usize..200_000).prop_map(|n| "[".repeat(n)),
        (1usize..2_000).prop_map(|n| "{\"a\":".repeat(n)),
        (1usize..300_000).prop_map(|n| format!("\"{}\"", "x".repeat(n))),
        Just("{}".to_string()),
        Just("[]".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("\"\"".to_string()),
        Just("\n".to_string()),
        Just("\u{0}\u{1b}]2;x\u{7}".to_string()),
        "[ -~]{0,40}",
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Flip(at, b)),
        (any::<usize>(), hostile_text()).prop_map(|(at, t)| Mutation::Insert(at, t)),
        (any::<usize>(), 0usize..64, hostile_text())
            .prop_map(|(at, n, t)| Mutation::Replace(at, n, t)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match m {
        Mutation::Truncate(i) => bytes.truncate(at(*i, bytes.len() + 1)),
        Mutation::Flip(i, b) => {
            if !bytes.is_empty() {
                let i = at(*i, bytes.len());
                bytes[i] ^= b | 1;
            }
        }
        Mutation::Insert(i, t) => {
            let i = at(*i, bytes.len() + 1);
            bytes.splice(i..i, t.bytes());
        }
        Mutation::Replace(i, n, t) => {
            let i = at(*i, bytes.len() + 1);
            let end = (i + n).min(bytes.len());
            bytes.splice(i..end, t.bytes());
        }
    }
}

fn read_every_way(journal: &Path) {
    // `report`: build and render every format.
    if let Ok(report) = dr_drill::report::from_journal(journal, Some(Path::new("/nonexistent"))) {
        for format in dr_drill::report::Format::ALL {
            let _ = report.render(format);
        }
    }
    // `resume`'s reading path (it takes the run's lock and reopens the
    // journal; nothing runs until launched).
    let _ = dr_drill::engine::resume::resume(journal, Default::default(), false, 1);
}

#[test]
fn mutated_journals_never_panic_report_nor_resume() {
    let (_dir, valid) = valid_journal();
    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let strategy = proptest::collection::vec(mutation(), 1..4);
    runner
        .run(&strategy, |mutations| {
            let dir = tempfile::tempdir().unwrap();
            let run = dir.path().join("runs/fuzzed-20260101T000000Z");
            std::fs::create_dir_all(&run).unwrap();
            let journal: PathBuf = run.join("journal.jsonl");
            let mut bytes = valid.clone();
            for m in &mutations {
                apply(&mut bytes, m);
            }
            std::fs::write(&journal, &bytes).unwrap();
            read_every_way(&journal);
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_journal_line_over_the_cap_is_refused_naming_the_file_and_line() {
    let (_dir, valid) = valid_journal();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let mut bytes = valid.clone();
    let second_line = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let huge = format!("{{\"line\":\"{}\"}}\n", "x".repeat(MAX_JOURNAL_LINE + 10));
    bytes.splice(second_line..second_line, huge.bytes());
    std::fs::write(&journal, &bytes).unwrap();
    let err = journal::read(&journal).unwrap_err();
    assert!(matches!(err, JournalError::Corrupt { line: 2, .. }));
    let message = err.to_string();
    assert!(
        message.contains(&journal.display().to_string()),
        "{message}"
    );
    assert!(
        message.contains("line 2: the line is longer than 8 MiB"),
        "{message}"
    );
}

/// A forged journal of many tiny events is refused past the event cap,
/// naming the file and the line; at or under it, every event is read. The
/// cap is lowered here so the cases stay small; `read` uses
/// `MAX_JOURNAL_EVENTS` the same way.
#[test]
fn a_journal_with_more_events_than_the_cap_is_refused_naming_the_file_and_line() {
    const { assert!(journal::MAX_JOURNAL_EVENTS >= 1_000_000) };
    let (_dir, valid) = valid_journal();
    let text = std::str::from_utf8(valid).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let event = lines.next().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 64,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    runner
        .run(&(0usize..40, 1usize..30), |(count, cap)| {
            let mut forged = format!("{header}\n");
            for _ in 0..count {
                forged.push_str(event);
                forged.push('\n');
            }
            std::fs::write(&path, &forged).unwrap();
            match journal::read_at_most(&path, cap) {
                Ok(contents) => {
                    prop_assert!(count <= cap);
                    prop_assert_eq!(contents.events.len(), count);
                }
                Err(e) => {
                    prop_assert!(count > cap);
                    let message = e.to_string();
                    let line = match e {
                        JournalError::Corrupt { line, .. } => line,
                        _ => 0,
                    };
                    prop_assert_eq!(line, cap + 2);
                    prop_assert!(message.contains(&path.display().to_string()), "{}", message);
                    prop_assert!(
                        message.contains(&format!("more than {cap} events")),
                        "{}",
                        message
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}
