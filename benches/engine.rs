//! Engine overhead: scheduling 10,000 no-op steps in a wide DAG (target,
//! issue 3: under 100 ms), and journal append throughput.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dr_drill::engine::event::{EventKind, Outcome, RunEvent, Stream};
use dr_drill::engine::journal::{JournalHeader, JournalWriter};
use dr_drill::engine::{self, Started};
use dr_drill::runbook::{Mode, Runbook, check_str};

/// `steps` check steps that always hold (no process, no wait), in a wide
/// DAG: 100 roots, every other step needing one step a hundred back.
fn wide_dag(steps: usize) -> Runbook {
    let mut t = String::from("[runbook]\nid = \"wide\"\ntitle = \"Wide\"\n\n");
    for i in 0..steps {
        write!(t, "[[step]]\nid = \"s{i}\"\nkind = \"check\"\nassert = [{{ value = \"1\", at_least = 0 }}]\n").unwrap();
        if i >= 100 {
            writeln!(t, "needs = [\"s{}\"]", i - 100).unwrap();
        }
        t.push('\n');
    }
    check_str(&t).runbook.expect("valid generated runbook")
}

fn scheduling(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("schedule_noop_steps");
    group.sample_size(20);
    for steps in [1_000usize, 10_000] {
        let runbook = wide_dag(steps);
        let dir = tempfile::tempdir().unwrap();
        group.throughput(Throughput::Elements(steps as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(steps),
            &runbook,
            |b, runbook| {
                b.iter(|| {
                    runtime.block_on(async {
                        let Started {
                            engine,
                            events,
                            questions,
                        } = engine::start_unjournaled(
                            runbook.clone(),
                            Mode::Drill,
                            BTreeMap::new(),
                            dir.path().to_owned(),
                            8,
                        )
                        .unwrap();
                        drop((events, questions));
                        let summary = engine.run().await.unwrap();
                        assert_eq!(summary.outcome, Outcome::Succeeded);
                        black_box(summary)
                    })
                })
            },
        );
    }
    group.finish();
}

fn journal(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let header = JournalHeader {
        journal_format: 1,
        run_id: "bench".into(),
        runbook_path: "bench.toml".into(),
        runbook_sha256: String::new(),
        runbook_text: String::new(),
        mode: Mode::Drill,
        t0: jiff::Timestamp::now(),
        started_at: jiff::Timestamp::now(),
        operator: "bench@bench".into(),
        params: BTreeMap::new(),
        dr_drill_version: String::new(),
        world: None,
        roles: Default::default(),
        driver: None,
    };
    let output = RunEvent {
        at: jiff::Timestamp::now(),
        elapsed: std::time::Duration::from_millis(1234),
        kind: EventKind::StepOutput {
            step: "restore".into(),
            stream: Stream::Stdout,
            line: "Restore job 6b3c2ed8 RUNNING, 42% (1,234,567 of 2,938,000 items)".into(),
        },
    };
    let evidence = RunEvent {
        kind: EventKind::StepStarted {
            step: "restore".into(),
            attempt: 1,
        },
        ..output.clone()
    };
    let mut group = c.benchmark_group("journal_append");
    const LINES: usize = 10_000;
    group.throughput(Throughput::Elements(LINES as u64));
    group.sample_size(10);
    group.bench_function("output_lines", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().unwrap();
            let writer = JournalWriter::create(&dir.path().join("journal.jsonl"), &header).unwrap();
            for _ in 0..LINES {
                writer.queue(&output, false).unwrap();
            }
            drop(writer); // waits until everything is written and synced
        })
    });
    group.throughput(Throughput::Elements(100));
    group.bench_function("fsynced_evidence", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().unwrap();
            let writer = JournalWriter::create(&dir.path().join("journal.jsonl"), &header).unwrap();
            runtime.block_on(async {
                for _ in 0..100 {
                    writer
                        .queue(&evidence, true)
                        .unwrap()
                        .durable()
                        .await
                        .unwrap();
                }
            });
        })
    });
    group.finish();
}

criterion_group!(benches, scheduling, journal);
criterion_main!(benches);
