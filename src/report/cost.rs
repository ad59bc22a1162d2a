//! The report's AWS cost: the preflight's estimate when the run carried
//! one, the final figure from the finished steps, and the resources the
//! drill left behind with their cost per day. The charge rules are
//! `crate::cost`'s; this module only gathers them for a finished run (it
//! never imports the preflight).

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::cost::charges::{Line, cleaned_by, run_lines};
use crate::cost::prices::{Money, Prices};
use crate::engine::event::Outcome;
use crate::engine::ledger::RunLedger;
use crate::runbook::Runbook;
use crate::runbook::kinds::StepAction;

/// What the drill cost in AWS charges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CostReport {
    /// The preflight's estimate, when the run carried one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Money>,
    /// The known charges of the steps that succeeded (micro-dollars).
    pub final_total: Money,
    /// Charges whose size or price was unknown (not in `final_total`).
    pub unknown: usize,
    /// Each charge with its arithmetic.
    pub lines: Vec<Line>,
    /// What the drill left behind.
    pub left: Vec<Leftover>,
    /// Why the shipped prices were used instead of the config's, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prices_note: Option<String>,
}

/// A resource the drill left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leftover {
    /// The step that made it.
    pub step: String,
    /// What it is, e.g. `restored table orders-restored (us-east-1)`.
    pub resource: String,
    /// What it costs per day; `None` when its size or price is unknown.
    pub per_day: Option<Money>,
    /// Why it is left and what to do.
    pub note: String,
}

fn succeeded(ledger: &RunLedger, id: &str) -> bool {
    ledger
        .step(id)
        .is_some_and(|s| s.outcome == Some(Outcome::Succeeded))
}

/// The cost section of a finished (or stopped) run.
pub fn cost_report(
    runbook: &Runbook,
    ledger: &RunLedger,
    params: &BTreeMap<String, String>,
) -> CostReport {
    let (prices, prices_note) = match Prices::load() {
        Ok(p) => (p, None),
        Err(e) => (
            Prices::shipped().unwrap_or_default(),
            Some(format!(
                "the config's [prices] could not be used ({e}); the shipped prices were"
            )),
        ),
    };
    cost_report_with(runbook, ledger, params, &prices, prices_note)
}

/// [`cost_report`] with the prices given.
pub fn cost_report_with(
    runbook: &Runbook,
    ledger: &RunLedger,
    params: &BTreeMap<String, String>,
    prices: &Prices,
    prices_note: Option<String>,
) -> CostReport {
    let lines = run_lines(runbook, ledger, params, prices);
    let one_off = || lines.iter().filter(|l| !l.per_day);
    let final_total = one_off().filter_map(|l| l.amount).sum();
    let unknown = one_off().filter(|l| l.amount.is_none()).count();
    let mut left = Vec::new();
    for step in runbook
        .steps
        .iter()
        .filter(|s| succeeded(ledger, &s.id.value))
    {
        let id = step.id.value.as_str();
        let output = |name: &str| ledger.step(id).and_then(|s| s.outputs.get(name).cloned());
        let target = match &step.action {
            StepAction::DynamodbRestoreFromBackup(a) => Some(&a.target_table.value),
            StepAction::DynamodbRestoreToPointInTime(a) => Some(&a.target_table.value),
            StepAction::BackupRestore(a) => a
                .metadata
                .0
                .iter()
                .find(|(k, _)| k.value == "targetTableName")
                .map(|(_, v)| &v.value),
            StepAction::S3Download(_) => {
                left.push(Leftover {
                    step: id.into(),
                    resource: format!(
                        "downloaded files at {}",
                        output("path").unwrap_or_else(|| "the step's `to`".into())
                    ),
                    per_day: Some(Money::ZERO),
                    note: "on this machine, no AWS charge; delete them when done: they may hold production data".into(),
                });
                None
            }
            StepAction::S3RestoreObject(a) => {
                left.push(Leftover {
                    step: id.into(),
                    resource: format!(
                        "restored copies in bucket {}",
                        crate::format::printable(&a.bucket.value)
                    ),
                    per_day: None,
                    note: format!(
                        "billed as S3 Standard storage until they expire{}; their size is not in the run's outputs",
                        output("expires_at")
                            .map(|t| format!(" at {t}"))
                            .unwrap_or_default()
                    ),
                });
                None
            }
            _ => None,
        };
        let Some(target) = target else { continue };
        let note = match cleaned_by(runbook, target) {
            Some(c) if succeeded(ledger, &c.id.value) => continue,
            Some(c) => format!(
                "cleanup step `{}` did not delete it: delete the table by hand",
                c.id.value
            ),
            None => "no cleanup step deletes it: delete the table by hand, or add a cleanup step (dynamodb.delete-table, cleanup = true)".into(),
        };
        let storage = lines.iter().find(|l| l.step == id && l.per_day);
        left.push(Leftover {
            step: id.into(),
            resource: storage.map_or_else(
                || format!("the table restored by `{id}`"),
                |l| l.subject.clone(),
            ),
            per_day: storage.and_then(|l| l.amount),
            note,
        });
    }
    CostReport {
        estimate: None,
        final_total,
        unknown,
        lines,
        left,
        prices_note,
    }
}

/// The report's `## AWS cost` section in Markdown.
pub(super) fn markdown(
    o: &mut String,
    c: &CostReport,
    cell: &dyn Fn(&str) -> String,
) -> std::fmt::Result {
    writeln!(o, "## AWS cost")?;
    writeln!(o)?;
    if let Some(e) = c.estimate {
        writeln!(o, "Estimated before the run: {}.", e.usd())?;
    }
    match c.unknown {
        0 => writeln!(o, "Final figure: {}.", c.final_total.usd())?,
        n => writeln!(
            o,
            "Final figure: {} and {n} charge(s) of unknown size or price.",
            c.final_total.usd()
        )?,
    }
    if let Some(n) = &c.prices_note {
        writeln!(o, "Note: {}.", cell(n))?;
    }
    if !c.lines.is_empty() {
        writeln!(o)?;
        writeln!(o, "| step | charge | arithmetic |")?;
        writeln!(o, "| --- | --- | --- |")?;
        for l in &c.lines {
            writeln!(
                o,
                "| {} | {} | {} |",
                cell(&l.step),
                cell(&l.charge),
                cell(&l.arithmetic)
            )?;
        }
    }
    writeln!(o)?;
    if c.left.is_empty() {
        writeln!(o, "The drill left nothing behind.")?;
    } else {
        writeln!(o, "Left behind:")?;
        writeln!(o)?;
        for l in &c.left {
            writeln!(
                o,
                "- {} (step {}): {} per day — {}",
                cell(&l.resource),
                cell(&l.step),
                l.per_day.map_or_else(|| "unknown".into(), Money::usd),
                cell(&l.note)
            )?;
        }
    }
    writeln!(o)
}
