//! The runs around a report: which runbook a journal ran (the header's, or
//! a forced resume's), the earlier runs of the same runbook, and how this
//! run compares with the latest of them.
//!
//! It reads journals; it must not write anything nor touch the terminal.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;

use super::{Comparison, HistoryEntry, PhaseDelta, ReportError, SAME_WITHIN, outcome_name, round3};
use crate::engine::event::EventKind;
use crate::engine::journal::{self, JournalContents};
use crate::engine::ledger::RunLedger;
use crate::engine::timeline::Timeline;
use crate::runbook::Runbook;

/// The runbook a journal ran: the header's text, or the text of the last
/// forced resume.
pub(crate) fn runbook_of(
    path: &Path,
    contents: &JournalContents,
) -> Result<(Runbook, Option<String>), ReportError> {
    let forced = contents.events.iter().rev().find_map(|e| match &e.kind {
        EventKind::RunResumed {
            runbook_text: Some(text),
            runbook_sha256,
            ..
        } => Some((text.clone(), runbook_sha256.clone())),
        _ => None,
    });
    let (text, sha) = match forced {
        Some((text, sha)) => {
            let sha = sha.unwrap_or_else(|| journal::sha256_hex(&text));
            (text, Some(sha))
        }
        None => (contents.header.runbook_text.clone(), None),
    };
    let checked = crate::runbook::read_recorded(&text);
    match checked.runbook {
        Some(rb) => Ok((rb, sha)),
        None => Err(ReportError::Runbook {
            path: path.to_owned(),
            message: checked
                .first_error()
                .map(|d| d.message.clone())
                .unwrap_or_else(|| "it does not parse".into()),
        }),
    }
}

/// The data directory a journal at `<data>/runs/<id>/journal.jsonl` lives in.
pub fn data_dir_of(journal: &Path) -> Option<PathBuf> {
    let runs = journal.parent()?.parent()?;
    (runs.file_name()? == "runs").then(|| runs.parent().map(Path::to_owned))?
}

/// Earlier runs of `runbook_id` under `<data>/runs/<runbook_id>-*/journal.jsonl`,
/// started before `before`, oldest first. Unreadable journals are skipped.
pub fn earlier_runs(
    data_dir: &Path,
    runbook_id: &str,
    this_run: &str,
    before: Timestamp,
) -> Vec<JournalContents> {
    let Ok(entries) = std::fs::read_dir(data_dir.join("runs")) else {
        return Vec::new();
    };
    // Run directories are named `<runbook id>-<start>`: only those are read.
    let prefix = format!("{runbook_id}-");
    let mut runs: Vec<JournalContents> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path().join("journal.jsonl"))
        .filter(|p| p.is_file())
        .filter_map(|p| journal::read(&p).ok())
        .filter(|c| c.header.run_id != this_run && c.header.started_at < before)
        .filter(|c| {
            runbook_of(Path::new(""), c).is_ok_and(|(rb, _)| rb.runbook.id.value == runbook_id)
        })
        .collect();
    runs.sort_by_key(|c| (c.header.started_at, c.header.run_id.clone()));
    runs
}

pub(super) fn compare(this: &Timeline, history: &[JournalContents]) -> Option<Comparison> {
    let mut entries = Vec::new();
    let mut last: Option<(&JournalContents, Timeline)> = None;
    for c in history {
        let Ok((rb, _)) = runbook_of(Path::new(""), c) else {
            continue;
        };
        let ledger = RunLedger::from_events(&rb, &c.events);
        let t = ledger.timeline();
        let outcome = ledger.last_end.map(|e| e.outcome);
        entries.push(HistoryEntry {
            run_id: c.header.run_id.clone(),
            started_at: c.header.started_at,
            outcome: outcome
                .map_or("unfinished", |o| outcome_name(Some(o)))
                .into(),
            finished_at: t.finished_at,
            rto_seconds: t.rto,
        });
        last = Some((c, t));
    }
    let (prev, prev_t) = last?;
    let delta = |a: Option<Duration>, b: Option<Duration>| {
        a.zip(b)
            .map(|(a, b)| round3(a.as_secs_f64() - b.as_secs_f64()))
    };
    let phases = this
        .phases
        .iter()
        .map(|p| {
            let previous = prev_t
                .phases
                .iter()
                .find(|q| q.phase == p.phase)
                .and_then(|q| q.span);
            let d = delta(p.span, previous);
            PhaseDelta {
                phase: p.phase.clone(),
                this_seconds: p.span,
                previous_seconds: previous,
                delta_seconds: d,
                trend: match d {
                    None => "not_comparable",
                    Some(d) if d.abs() < SAME_WITHIN => "same",
                    Some(d) if d < 0.0 => "faster",
                    Some(_) => "slower",
                }
                .into(),
            }
        })
        .collect();
    Some(Comparison {
        previous_run_id: prev.header.run_id.clone(),
        previous_started_at: prev.header.started_at,
        rto_delta_seconds: delta(this.rto, prev_t.rto),
        phases,
        history: entries,
    })
}
