//! The dry run: the plan of a runbook (order, parallel groups, resolved
//! values, what each step changes), as text for people or one JSON
//! document, with nothing run.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::{Output, Refused};
use crate::engine::plan::Plan;
use crate::engine::values::Values;
use crate::engine::{self};
use crate::runbook::{Effect, Mode, Runbook};

/// Why a dry run printed no plan.
#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    /// The parameters or the plan are wrong; the message says which.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// Standard output could not be written.
    #[error("cannot write the plan: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Serialize)]
struct PlannedStep {
    step: String,
    title: String,
    kind: &'static str,
    effect: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirm: Option<String>,
    cleanup: bool,
    needs: Vec<String>,
    resolved: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct DryRun<'a> {
    runbook: &'a str,
    mode: &'static str,
    groups: Vec<Vec<PlannedStep>>,
    not_in_this_mode: Vec<String>,
}

/// Prints the plan of `runbook` in `mode` with the `given` parameters
/// (secret ones redacted) on standard output. A reader that goes away
/// (`| head`) is no error.
pub fn print(
    runbook: &Runbook,
    mode: Mode,
    given: &BTreeMap<String, String>,
    output: Output,
) -> Result<(), DryRunError> {
    let params = engine::resolve_params(runbook, given).map_err(Refused::because)?;
    let plan = Plan::new(runbook, mode).map_err(Refused::because)?;
    let values = Values {
        params: engine::redacted(runbook, &params),
        outputs: Default::default(),
        run: BTreeMap::from([("mode", mode.as_str().to_string())]),
    };
    let groups: Vec<Vec<PlannedStep>> = plan
        .groups
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|&i| {
                    let step = &runbook.steps[i];
                    let effect = if step.is_destructive() {
                        "destructive"
                    } else {
                        match step.action.effect() {
                            Effect::ReadOnly => "read-only",
                            Effect::Writes | Effect::Destructive => "writes",
                        }
                    };
                    PlannedStep {
                        step: step.id.value.clone(),
                        title: step.display_title().to_owned(),
                        kind: step.action.kind(),
                        effect,
                        confirm: step.is_destructive().then(|| {
                            step.confirm_text()
                                .map_or(step.id.value.clone(), |t| values.preview(&t.value))
                        }),
                        cleanup: step.cleanup,
                        needs: step.needs.iter().map(|n| n.value.clone()).collect(),
                        resolved: step
                            .templated
                            .iter()
                            .map(|t| (t.value.clone(), values.preview(&t.value)))
                            .collect(),
                    }
                })
                .collect()
        })
        .collect();
    let skipped: Vec<String> = runbook
        .steps
        .iter()
        .zip(&plan.included)
        .filter(|(_, inc)| !**inc)
        .map(|(s, _)| s.id.value.clone())
        .collect();
    let plan_doc = DryRun {
        runbook: &runbook.runbook.id.value,
        mode: mode.as_str(),
        groups,
        not_in_this_mode: skipped,
    };
    let mut out = std::io::stdout().lock();
    let written = match output {
        Output::Json => serde_json::to_writer_pretty(&mut out, &plan_doc)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        Output::Text => write_plan(&mut out, &plan_doc),
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn write_plan(out: &mut impl Write, plan: &DryRun<'_>) -> std::io::Result<()> {
    let steps: usize = plan.groups.iter().map(Vec::len).sum();
    let plural = |n: usize, word: &str| crate::format::count(n as u64, word);
    writeln!(
        out,
        "Plan of {} in {} mode: {} in {}. Nothing is run.",
        plan.runbook,
        plan.mode,
        plural(steps, "step"),
        plural(plan.groups.len(), "group")
    )?;
    writeln!(
        out,
        "Steps in one group do not depend on each other and run side by side."
    )?;
    for (g, group) in plan.groups.iter().enumerate() {
        writeln!(
            out,
            "\ngroup {}{}",
            g + 1,
            if group.iter().all(|s| s.cleanup) {
                " (cleanup)"
            } else {
                ""
            }
        )?;
        for s in group {
            let confirm = s
                .confirm
                .as_ref()
                .map(|c| format!(", confirm by typing `{c}`"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {} [{}, {}{confirm}] {}",
                s.step, s.kind, s.effect, s.title
            )?;
            if !s.needs.is_empty() {
                writeln!(out, "      needs: {}", s.needs.join(", "))?;
            }
            for (template, value) in &s.resolved {
                let value = value.replace('\n', " ");
                let value = if value.chars().count() > 100 {
                    format!("{}…", value.chars().take(100).collect::<String>())
                } else {
                    value
                };
                if template.contains('\n') {
                    writeln!(out, "      = {value}")?;
                } else {
                    writeln!(out, "      {template} = {value}")?;
                }
            }
        }
    }
    if !plan.not_in_this_mode.is_empty() {
        writeln!(
            out,
            "\nnot run in {} mode: {}",
            plan.mode,
            plan.not_in_this_mode.join(", ")
        )?;
    }
    Ok(())
}
