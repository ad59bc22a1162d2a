//! Resuming a run from its journal: what finished is not run again, a step
//! that was running when the console died is interrupted and the operator
//! decides, and the clocks keep running through the gap, which is recorded.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::clock::{Clock, between};
use super::event::{EventKind, Outcome};
use super::journal::{self, JournalContents, JournalWriter, REDACTED};
use super::plan::Plan;
use super::recorder::Recorder;
use super::scheduler::Progress;
use super::{Assembly, StartError, Started, assemble, resolve_params};
use crate::runbook::{Runbook, check_str};

/// Where a run's journal is, from what the operator typed: a journal file,
/// a run directory, or a run id under `<data>/runs/`.
pub fn locate(target: &str, data_dir: &Path) -> PathBuf {
    let path = PathBuf::from(target);
    if path.is_file() {
        path
    } else if path.is_dir() {
        path.join("journal.jsonl")
    } else {
        data_dir.join("runs").join(target).join("journal.jsonl")
    }
}

/// What a journal says about progress, by step index of `runbook`.
pub fn progress(runbook: &Runbook, contents: &JournalContents) -> Progress {
    let index = runbook.step_index();
    let mut progress = Progress::default();
    let mut running: HashMap<usize, bool> = HashMap::new();
    for event in &contents.events {
        match &event.kind {
            EventKind::StepStarted { step, .. } => {
                if let Some(&i) = index.get(step.as_str()) {
                    running.insert(i, true);
                }
            }
            EventKind::StepFinished {
                step,
                outcome,
                outputs,
                ..
            } => {
                if let Some(&i) = index.get(step.as_str()) {
                    running.insert(i, false);
                    progress.finished.insert(i, (*outcome, outputs.clone()));
                }
            }
            EventKind::PhaseStarted { phase } => {
                progress.phases_started.insert(phase.clone());
            }
            EventKind::RtoStopped { .. } => progress.rto_stopped = true,
            _ => {}
        }
    }
    progress.interrupted = running
        .into_iter()
        .filter_map(|(i, r)| r.then_some(i))
        .collect();
    // A step closed as interrupted by a resume that crashed again before
    // the operator answered is still interrupted.
    progress.interrupted.extend(
        progress
            .finished
            .iter()
            .filter(|(_, (o, _))| *o == Outcome::Interrupted)
            .map(|(&i, _)| i),
    );
    for i in &progress.interrupted {
        progress.finished.remove(i);
    }
    // An output the journal kept redacted (or withheld) is not the value
    // the step produced: never pass the placeholder on; the step runs again
    // and produces it anew.
    progress.finished.retain(|_, (_, outputs)| {
        !outputs
            .values()
            .any(|v| v.contains(REDACTED) || v.contains(super::redact::WITHHELD))
    });
    progress
}

/// Why a run cannot be resumed.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// The journal cannot be read.
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    /// The runbook changed since the run started.
    #[error(
        "the runbook {path} changed since this run started:\n  - {}\nresume with --force to run the new version, or restore the old one",
        changes.join("\n  - ")
    )]
    Changed {
        /// The runbook file.
        path: PathBuf,
        /// What changed, step by step.
        changes: Vec<String>,
    },
    /// The runbook (old or new) no longer checks.
    #[error("the runbook cannot be used: {0}")]
    Invalid(String),
    /// The run already succeeded.
    #[error("run {0} already finished successfully; there is nothing to resume")]
    Finished(String),
    /// Parameters or plan.
    #[error(transparent)]
    Start(#[from] StartError),
}

/// Steps added, removed or edited between two runbook texts.
pub fn changes(old_text: &str, new_text: &str) -> Vec<String> {
    let steps = |text: &str| -> BTreeMap<String, String> {
        crate::runbook::read_recorded(text)
            .runbook
            .map(|rb| {
                rb.steps
                    .iter()
                    .map(|s| {
                        (
                            s.id.value.clone(),
                            text.get(s.span.start..s.span.end)
                                .unwrap_or_default()
                                .trim()
                                .to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (old, new) = (steps(old_text), steps(new_text));
    let mut out = Vec::new();
    for (id, text) in &new {
        match old.get(id) {
            None => out.push(format!("step `{id}` was added")),
            Some(before) if before != text => out.push(format!("step `{id}` was edited")),
            Some(_) => {}
        }
    }
    out.extend(
        old.keys()
            .filter(|id| !new.contains_key(*id))
            .map(|id| format!("step `{id}` was removed")),
    );
    if out.is_empty() {
        out.push("the header, parameters or phases were edited".into());
    }
    out
}

/// Reopens a run for resuming. `given` must hold the secret parameters
/// again (the journal keeps them redacted).
pub fn resume(
    journal_path: &Path,
    given: BTreeMap<String, String>,
    force: bool,
    max_parallel: usize,
) -> Result<Started, ResumeError> {
    let contents = journal::read(journal_path)?;
    let header = &contents.header;
    if contents.events.iter().any(|e| {
        matches!(
            e.kind,
            EventKind::RunFinished {
                outcome: Outcome::Succeeded
            }
        )
    }) {
        return Err(ResumeError::Finished(header.run_id.clone()));
    }
    // The text that ran last: the header's, or the one a forced resume
    // recorded.
    let (ran_text, ran_sha) = contents
        .events
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::RunResumed {
                runbook_text: Some(text),
                runbook_sha256: Some(sha),
                ..
            } => Some((text.clone(), sha.clone())),
            _ => None,
        })
        .unwrap_or_else(|| (header.runbook_text.clone(), header.runbook_sha256.clone()));
    let current = std::fs::read_to_string(&header.runbook_path).ok();
    let (text, forced) = match current {
        Some(now) if journal::sha256_hex(&now) != ran_sha => {
            if !force {
                return Err(ResumeError::Changed {
                    path: header.runbook_path.clone(),
                    changes: changes(&ran_text, &now),
                });
            }
            (now, true)
        }
        _ => (ran_text, false),
    };
    let checked = check_str(&text);
    let Some(runbook) = checked.runbook else {
        let first = checked.first_error().map_or_else(String::new, |d| {
            let at = d.span.map_or(String::new(), |span| {
                let (line, col) = crate::runbook::diagnostic::line_col(&text, span.start);
                format!(" (line {line}, column {col} of the runbook as run)")
            });
            let label = if d.label.is_empty() {
                String::new()
            } else {
                format!(": {}", d.label)
            };
            format!(
                "{}{label}{at}; `dr-drill check {}` shows every finding and its fix",
                d.message,
                header.runbook_path.display()
            )
        });
        return Err(ResumeError::Invalid(first));
    };
    // Journaled values, except redacted secrets, which must be given again.
    let given_again = given.clone();
    let mut params: BTreeMap<String, String> = header
        .params
        .iter()
        .filter(|(_, v)| *v != REDACTED)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    params.retain(|k, _| runbook.param(k).is_some());
    params.extend(given);
    let params = resolve_params(&runbook, &params)?;
    let plan = Plan::new(&runbook, header.mode).map_err(StartError::from)?;
    let prior = progress(&runbook, &contents);

    let now = Timestamp::now();
    let elapsed = between(header.started_at, now);
    let last = contents.events.last().map_or(header.started_at, |e| e.at);
    let gap = between(last, now);
    let run_dir = journal_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned);
    let lock = journal::lock_run(&run_dir)?;
    let writer = JournalWriter::reopen(journal_path)?;
    let recorder = Recorder::new(
        Clock::at(now, elapsed),
        Some(writer),
        super::secret_values(&runbook, &params),
    )
    .lines_from(contents.events.len() as u64 + 1);
    let started = assemble(
        runbook,
        plan,
        recorder,
        params,
        Assembly {
            run_id: header.run_id.clone(),
            run_dir,
            journal_path: Some(journal_path.to_owned()),
            mode: header.mode,
            t0: header.t0,
            operator: super::operator(),
            max_parallel,
            prior,
            lock: Some(lock),
            // The roles and the driver the run started with.
            people: super::approval::RunPeople {
                driver: header.driver.clone(),
                roles: header.roles.clone(),
                team: false,
            },
        },
    );
    let resumed = EventKind::RunResumed {
        gap,
        operator: super::operator(),
        params: super::redacted(started.engine.runbook(), &given_again),
        runbook_sha256: forced.then(|| journal::sha256_hex(&text)),
        runbook_text: forced.then_some(text),
    };
    Ok(Started {
        engine: started.engine.resumed_with(resumed),
        ..started
    })
}
