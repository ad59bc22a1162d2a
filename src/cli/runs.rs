//! `dr-drill runs`: the runs under the data dir, newest first, with their
//! state, driver and RTO so far. One row type ([`RunLine`]) and one
//! writer for two sources: local journals ([`local`]) and a team table's
//! runs index ([`RunLine::from_team`], fed by `TeamStore::runs`).
//!
//! Every journal is hostile: at most [`MAX_RUNS_READ`] are read, each
//! through the journal reader and its caps; a damaged one is a row saying
//! so, never a failure of the listing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use jiff::Timestamp;
use serde::Serialize;

use super::{EXIT_OK, EXIT_USAGE};
use crate::engine;
use crate::engine::journal;
use crate::engine::ledger::RunLedger;
use crate::engine::timeline::RtoClock;
use crate::session::follow::lock_holder;
use crate::team::{RunRow, RunState};

/// Journals read at most, the newest first (by when each was last
/// written); older ones are counted, not read.
pub const MAX_RUNS_READ: usize = 200;

/// A journal larger than this is not folded for the listing (the
/// journal reader would take it, line and event caps holding, but a
/// listing of many runs does not wait for one huge journal).
pub const MAX_JOURNAL_BYTES_LISTED: u64 = 64 * 1024 * 1024;

/// Arguments of `dr-drill runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Where runs are kept [default: $DR_DRILL_DATA_DIR, or the user's
    /// data directory].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// How to print the runs.
    #[arg(long, value_enum, default_value_t = RunsOutput::Table)]
    pub output: RunsOutput,
    /// List the team runs of this DynamoDB table (its runs index and
    /// leases) instead of the local ones.
    #[arg(long, value_name = "TABLE", env = "DR_DRILL_TEAM")]
    pub team: Option<String>,
    /// Where the table is.
    #[command(flatten)]
    pub aws: super::cloud::AwsFlags,
}

/// How `runs` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunsOutput {
    /// Aligned columns.
    Table,
    /// One JSON array of runs.
    Json,
}

/// A run as `runs` lists it, from a local journal or a team table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunLine {
    /// The run's id.
    pub run_id: String,
    /// The runbook's id.
    pub runbook: String,
    /// `drill` or `incident`.
    pub mode: String,
    /// `running`, `finished: OUTCOME`, `stopped`, or `damaged: WHY`.
    pub state: String,
    /// Who drives (or drove) it.
    pub driver: String,
    /// When it started.
    pub started: Option<Timestamp>,
    /// T0 to now (running), to the RTO end, or to the last event.
    pub rto_seconds: Option<f64>,
    /// Whether the RTO end was reached.
    pub rto_reached: bool,
}

impl RunLine {
    /// A run of a team table's runs index, with its lease.
    pub fn from_team(row: &RunRow) -> RunLine {
        let (state, driver) = match &row.lease {
            Some(lease) => (
                match lease.state {
                    RunState::Driving => "running".to_string(),
                    RunState::Released => "stopped".into(),
                    RunState::Finished => format!(
                        "finished: {}",
                        lease.status.outcome.as_deref().unwrap_or("unknown")
                    ),
                },
                lease.holder.name.clone(),
            ),
            None => ("stopped".into(), row.entry.driver.name.clone()),
        };
        let status = row.lease.as_ref().map(|l| &l.status);
        RunLine {
            run_id: row.entry.run_id.clone(),
            runbook: row.entry.runbook_id.clone(),
            mode: row.entry.mode.clone(),
            state,
            driver,
            started: Some(row.entry.started_at),
            rto_seconds: status.and_then(|s| s.rto_seconds),
            rto_reached: status.is_some_and(|s| s.rto_stopped),
        }
    }

    fn damaged(run_id: String, why: String) -> RunLine {
        RunLine {
            run_id,
            runbook: String::new(),
            mode: String::new(),
            state: format!("damaged: {why}"),
            driver: String::new(),
            started: None,
            rto_seconds: None,
            rto_reached: false,
        }
    }
}

/// A run's row from its journal.
fn from_journal(run_dir: &Path, now: Timestamp) -> RunLine {
    let id = run_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = run_dir.join("journal.jsonl");
    match std::fs::metadata(&path) {
        Ok(m) if m.len() > MAX_JOURNAL_BYTES_LISTED => {
            return RunLine::damaged(
                id,
                format!(
                    "its journal is {} MiB, too large to read for a listing; see `dr-drill report {}`",
                    m.len() / (1024 * 1024),
                    path.display()
                ),
            );
        }
        Ok(_) => {}
        Err(e) => return RunLine::damaged(id, format!("no journal readable ({e})")),
    }
    let contents = match journal::read(&path) {
        Ok(c) => c,
        Err(e) => return RunLine::damaged(id, e.to_string()),
    };
    let header = &contents.header;
    let checked = crate::runbook::read_recorded(&header.runbook_text);
    let Some(runbook) = checked.runbook else {
        return RunLine::damaged(id, "the runbook its journal recorded does not read".into());
    };
    let ledger = RunLedger::from_events(&runbook, &contents.events);
    let running = lock_holder(run_dir).is_some();
    let state = match (running, ledger.outcome()) {
        (true, _) => "running".to_string(),
        (false, Some(outcome)) => format!("finished: {}", outcome.word()),
        (false, None) => "stopped".into(),
    };
    // Running: T0 to now; otherwise to the RTO end or the last event.
    let until = if running {
        now
    } else {
        ledger.last_event_at.unwrap_or(header.started_at)
    };
    let (rto, reached) = match ledger.rto_clock(until) {
        RtoClock::Reached(d) => (Some(d), true),
        RtoClock::Running(d) | RtoClock::EndedWithout(d, _) => (Some(d), false),
        RtoClock::NotStarted | RtoClock::NoEnd => (None, false),
    };
    let driver = ledger
        .resumes
        .last()
        .map(|r| r.operator.clone())
        .filter(|o| !o.is_empty())
        .unwrap_or_else(|| header.operator.clone());
    RunLine {
        run_id: header.run_id.clone(),
        runbook: runbook.runbook.id.value.clone(),
        mode: header.mode.as_str().into(),
        state,
        driver,
        started: Some(header.started_at),
        rto_seconds: rto.map(|d| d.as_secs_f64()),
        rto_reached: reached,
    }
}

/// The runs under `data_dir/runs`, newest first: the newest
/// [`MAX_RUNS_READ`] read, and how many older ones were not.
pub fn local(data_dir: &Path, now: Timestamp) -> (Vec<RunLine>, usize) {
    let Ok(dir) = std::fs::read_dir(data_dir.join("runs")) else {
        return (Vec::new(), 0);
    };
    let mut dirs: Vec<(std::time::SystemTime, PathBuf)> = dir
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| {
            let written = std::fs::metadata(e.path().join("journal.jsonl"))
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (written, e.path())
        })
        .collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.0));
    let left = dirs.len().saturating_sub(MAX_RUNS_READ);
    let mut lines: Vec<RunLine> = dirs
        .iter()
        .take(MAX_RUNS_READ)
        .map(|(_, d)| from_journal(d, now))
        .collect();
    lines.sort_by(|a, b| b.started.cmp(&a.started).then(a.run_id.cmp(&b.run_id)));
    (lines, left)
}

/// One cell: text from outside, on one line, safe for a terminal.
fn cell(text: &str) -> String {
    crate::format::printable(text).replace('\n', " ")
}

/// The table of `lines`, aligned; the one writer for both sources.
pub fn table(lines: &[RunLine]) -> String {
    let head = [
        "RUN", "RUNBOOK", "MODE", "STATE", "DRIVER", "STARTED", "RTO",
    ];
    let rows: Vec<[String; 7]> = lines
        .iter()
        .map(|l| {
            [
                cell(&l.run_id),
                cell(&l.runbook),
                cell(&l.mode),
                cell(&l.state),
                cell(&l.driver),
                l.started.map_or(String::new(), crate::format::timestamp),
                match l.rto_seconds {
                    Some(s) => format!(
                        "{}{}",
                        crate::format::humanize(crate::format::duration_from_secs(s)),
                        if l.rto_reached { " (reached)" } else { "" }
                    ),
                    None => "-".into(),
                },
            ]
        })
        .collect();
    let mut widths = head.map(|h| h.chars().count());
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let all = std::iter::once(head.map(String::from)).chain(rows);
    for row in all {
        let mut line = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c}{}  ", " ".repeat(w - c.chars().count())));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub(super) fn run(
    args: &RunsArgs,
    runtime: &tokio::runtime::Runtime,
) -> color_eyre::Result<ExitCode> {
    if let Some(table) = &args.team {
        return team(args, table, runtime);
    }
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(engine::default_data_dir);
    let (lines, left) = local(&data_dir, Timestamp::now());
    let mut out = std::io::stdout().lock();
    match args.output {
        RunsOutput::Json => {
            serde_json::to_writer_pretty(&mut out, &lines)?;
            writeln!(out)?;
        }
        RunsOutput::Table if lines.is_empty() => {
            writeln!(out, "no runs under {}", data_dir.join("runs").display())?;
        }
        RunsOutput::Table => out.write_all(table(&lines).as_bytes())?,
    }
    if left > 0 {
        let _ = writeln!(
            std::io::stderr(),
            "note: {left} older runs were not read (only the newest {MAX_RUNS_READ} are listed)"
        );
    }
    if !data_dir.exists() && args.data_dir.is_some() {
        let _ = writeln!(
            std::io::stderr(),
            "error: no data directory at {}",
            data_dir.display()
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// `runs --team TABLE`: the newest runs of the table's index.
fn team(
    args: &RunsArgs,
    table_name: &str,
    runtime: &tokio::runtime::Runtime,
) -> color_eyre::Result<ExitCode> {
    use crate::team::TeamStore as _;
    let rows = runtime.block_on(async {
        let store = crate::team::DynamoStore::connect(&args.aws.options(), table_name).await;
        store.runs(MAX_RUNS_READ).await
    });
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: {}",
                crate::format::printable(&e.to_string())
            );
            return Ok(ExitCode::from(crate::session::EXIT_FAILED));
        }
    };
    let lines: Vec<RunLine> = rows.iter().map(RunLine::from_team).collect();
    let mut out = std::io::stdout().lock();
    match args.output {
        RunsOutput::Json => {
            serde_json::to_writer_pretty(&mut out, &lines)?;
            writeln!(out)?;
        }
        RunsOutput::Table if lines.is_empty() => writeln!(out, "no runs in table {table_name}")?,
        RunsOutput::Table => out.write_all(table(&lines).as_bytes())?,
    }
    Ok(ExitCode::from(EXIT_OK))
}
