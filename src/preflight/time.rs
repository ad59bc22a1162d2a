//! How long the drill will take: from this runbook's earlier runs in the
//! data directory (median and worst of those that succeeded), and from
//! what AWS documents where there is no history ([`facts`]); against the
//! RTO target and each phase's budget.
//!
//! It reads journals (through `report`'s history, never its own walk) and,
//! for an archive restore, the objects' storage classes as the resources
//! area found them (it asks AWS nothing itself); it writes nothing.

pub mod facts;
mod history;
mod plan;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::resources::Facts;
use super::{Area, Context, Finding, Known, Sink, Verdict};
use crate::format::{humanize, printable};
use crate::runbook::{Runbook, Step, StepAction};
use facts::{Archive, Fact};
pub use history::{HistorySummary, PastRun};
pub use plan::Plan;

/// The expected duration of the run, its RTO end and its phases.
/// Durations are seconds; when `not_estimated` names steps, the figures
/// leave those out and are lower bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Typical duration of the whole run, in seconds.
    pub typical: f64,
    /// Worst duration of the whole run, in seconds.
    pub worst: f64,
    /// Typical time from T0 to the RTO end, when the runbook has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_typical: Option<f64>,
    /// Worst time from T0 to the RTO end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_worst: Option<f64>,
    /// What the figures rest on, in words ("median and worst of 3 earlier
    /// drills", "documented AWS durations").
    pub basis: String,
    /// The earlier runs the figures rest on, when there are any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistorySummary>,
    /// Per phase, in runbook order.
    pub phases: Vec<PhaseEstimate>,
    /// Per step, in runbook order (from AWS facts; empty with history).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepEstimate>,
    /// The chain of steps that sets the typical figure, first to last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub critical_path: Vec<String>,
    /// Steps on the way whose duration nothing gives (a person, a DynamoDB
    /// restore): the figures leave them out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_estimated: Vec<String>,
}

/// One phase's expected span, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseEstimate {
    /// The phase id.
    pub phase: String,
    /// Typical span.
    pub typical: Option<f64>,
    /// Worst span.
    pub worst: Option<f64>,
    /// Its budget, if the runbook sets one.
    pub budget: Option<f64>,
}

/// One step's expected duration, in seconds, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepEstimate {
    /// The step id.
    pub step: String,
    /// Typical duration; `None` when nothing gives it.
    pub typical: Option<f64>,
    /// Worst duration.
    pub worst: Option<f64>,
    /// Where the figure comes from.
    pub basis: String,
}

/// A step's duration as preflight knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The typical case; `None` when nothing gives it.
    pub typical: Option<Duration>,
    /// The worst case.
    pub worst: Option<Duration>,
    /// Where it comes from, in words.
    pub basis: String,
    /// What the step does that takes the time, for a finding
    /// ("the Deep Archive restore").
    pub what: Option<String>,
}

impl Figure {
    fn of(typical: Option<Duration>, worst: Option<Duration>, basis: impl Into<String>) -> Self {
        Figure {
            typical,
            worst: worst.or(typical),
            basis: basis.into(),
            what: None,
        }
    }

    /// Quick enough not to count (an API call, a check).
    fn quick() -> Self {
        Figure::of(
            Some(Duration::ZERO),
            Some(Duration::ZERO),
            "an API call or a check: seconds",
        )
    }

    fn from_fact(typical: Fact, worst: Fact) -> Self {
        let basis = if typical == worst {
            format!("{}: {} ({})", typical.what, typical.says, typical.source)
        } else {
            format!("{} to {} ({})", typical.what, worst.what, typical.source)
        };
        Figure::of(typical.typical, worst.worst.or(typical.worst), basis)
    }

    fn range_words(&self) -> String {
        match (self.typical, self.worst) {
            (Some(t), Some(w)) if t == w => format!("up to {}", humanize(w)),
            (Some(t), Some(w)) => format!("{}–{}", humanize(t), humanize(w)),
            (Some(t), None) => humanize(t),
            (None, Some(w)) => format!("up to {}", humanize(w)),
            (None, None) => "an unknown time".into(),
        }
    }
}

/// Estimates the run's duration and judges it against the targets.
pub(super) async fn check(ctx: &Context, found: &Facts, sink: &Sink) -> Option<Estimate> {
    let past = history::past_runs(&ctx.data_dir, &ctx.runbook);
    if let Some(summary) = history::summarize(&past, ctx.mode) {
        let estimate = history::estimate(&ctx.runbook, &summary);
        judge(&ctx.runbook, &estimate, None, sink);
        return Some(estimate);
    }
    let mut figures = Vec::new();
    for step in active_steps(&ctx.runbook, ctx) {
        let (figure, finding) = step_figure(ctx, step, found);
        if let Some(f) = finding {
            sink.push(f);
        }
        figures.push((step.id.value.clone(), figure));
    }
    let figures: BTreeMap<String, Figure> = figures.into_iter().collect();
    let plan = Plan::new(&ctx.runbook, &figures);
    let estimate = plan.estimate(&ctx.runbook, &figures);
    judge(&ctx.runbook, &estimate, Some((&plan, &figures)), sink);
    Some(estimate)
}

/// The steps a run in `ctx.mode` runs.
fn active_steps<'a>(runbook: &'a Runbook, ctx: &Context) -> impl Iterator<Item = &'a Step> {
    let mode = ctx.mode;
    runbook
        .steps
        .iter()
        .filter(move |s| s.only_in.as_ref().is_none_or(|m| m.value == mode))
}

/// A step's figure from what AWS documents, and a finding when the step
/// cannot run as written or its objects could not be looked at.
fn step_figure(ctx: &Context, step: &Step, found: &Facts) -> (Figure, Option<Finding>) {
    let id = step.id.value.as_str();
    let bounded = |f: Figure| match (f.typical, step.timeout.as_ref()) {
        // A timeout bounds a step nothing else gives a figure for.
        (None, Some(t)) => Figure {
            worst: f.worst.or(Some(t.value.0)),
            basis: format!(
                "{}; its timeout ({}) bounds it",
                f.basis,
                humanize(t.value.0)
            ),
            ..f
        },
        _ => f,
    };
    let figure = match &step.action {
        StepAction::Wait(w) => match (&w.duration, &w.until) {
            (Some(d), _) => Figure::of(Some(d.value.0), Some(d.value.0), "the wait's `duration`"),
            // Waiting on a job is as long as the job: the same facts.
            (None, Some(u)) if u.copy_job.is_some() => copy_figure(),
            (None, Some(u)) if u.restore_job.is_some() || u.table.is_some() => {
                Figure::from_fact(facts::DYNAMODB_RESTORE, facts::DYNAMODB_RESTORE)
            }
            _ => Figure::of(
                None,
                None,
                "a wait for a probe or a resource: as long as that takes",
            ),
        },
        StepAction::Manual(_) | StepAction::Approve(_) => {
            Figure::from_fact(facts::PERSON, facts::PERSON)
        }
        StepAction::BackupCopy(_) => copy_figure(),
        StepAction::BackupRestore(_)
        | StepAction::DynamodbRestoreFromBackup(_)
        | StepAction::DynamodbRestoreToPointInTime(_) => {
            Figure::from_fact(facts::DYNAMODB_RESTORE, facts::DYNAMODB_RESTORE)
        }
        StepAction::S3RestoreObject(a) => {
            let tier = a.tier.as_str();
            return match archives(ctx, step, found) {
                Ok(found) => s3_restore_figure(id, tier, &found),
                Err(why) => {
                    let mut f = Figure::from_fact(facts::FLEXIBLE_STANDARD, facts::DEEP_BULK);
                    if let (Some(t), Some(w)) = facts::retrieval(Archive::Flexible, tier)
                        .zip(facts::retrieval(Archive::Deep, tier))
                        .map(|((t, _), (_, w))| (t.typical, w.worst))
                        .unwrap_or_default()
                    {
                        f = Figure::of(
                            Some(t),
                            Some(w),
                            format!(
                                "{tier} retrieval from Glacier Flexible Retrieval to Deep Archive ({})",
                                facts::FLEXIBLE_STANDARD.source
                            ),
                        );
                    }
                    let subject = format!("archive restore ({tier})");
                    let finding = Finding::new(
                        Area::Time,
                        Verdict::Unchecked,
                        subject,
                        format!("the objects' storage classes are not known before the run ({why}); the estimate assumes {}", f.range_words()),
                    )
                    .step(id)
                    .fix("check the objects' storage class (aws s3api head-object) before T0");
                    (
                        Figure {
                            what: Some(format!("the {tier} archive restore")),
                            ..bounded(f)
                        },
                        Some(finding),
                    )
                }
            };
        }
        StepAction::Shell(_) => Figure::of(None, None, "a command: no earlier run gives its time"),
        _ => Figure::quick(),
    };
    (bounded(figure), None)
}

/// A copy job: up to 2 h in CREATED at worst, then the copy (no figure).
fn copy_figure() -> Figure {
    let fact = facts::COPY_CREATED;
    Figure::of(
        None,
        fact.worst,
        format!(
            "{}: {} ({}), then the copy itself",
            fact.what, fact.says, fact.source
        ),
    )
}

/// The figure of an S3 restore at `tier` over objects in `found` archives:
/// the slowest archive sets it (the objects restore in parallel).
pub fn s3_restore_figure(step: &str, tier: &str, found: &[Archive]) -> (Figure, Option<Finding>) {
    let Some(&slowest) = found.iter().max() else {
        return (Figure::quick(), None);
    };
    let Some((typical, worst)) = facts::retrieval(slowest, tier) else {
        return (
            Figure::of(
                Some(Duration::ZERO),
                Some(Duration::ZERO),
                "no object needs a restore",
            ),
            None,
        );
    };
    if worst.worst.is_none() {
        // Expedited from Deep Archive: S3 does not offer it.
        let finding = Finding::new(
            Area::Time,
            Verdict::Fail,
            format!("archive restore ({tier}) from {}", slowest.word()),
            format!("{} ({})", worst.says, worst.source),
        )
        .step(step)
        .fix(
            "set `tier = \"Standard\"` (12 h) or `tier = \"Bulk\"` (48 h) for Deep Archive objects",
        );
        return (Figure::of(None, None, worst.says), Some(finding));
    }
    let mut f = Figure::from_fact(typical, worst);
    f.what = Some(format!("the {} restore", slowest.word()));
    (f, None)
}

/// The archives the objects a restore step names are in, as the resources
/// area found them (its [`Facts`]: a HEAD for a key, a listing for a
/// prefix). It asks no one itself.
fn archives(ctx: &Context, step: &Step, found: &Facts) -> Result<Vec<Archive>, String> {
    let StepAction::S3RestoreObject(a) = &step.action else {
        return Ok(Vec::new());
    };
    if ctx.cloud.is_none() {
        return Err("no AWS connection".into());
    }
    let known = |t: &crate::runbook::field::Text| match ctx.resolve(t) {
        Known::Value(v) => Ok(v),
        Known::AtRunTime(why) => Err(why),
    };
    let bucket = known(&a.bucket)?;
    let what = match (&a.key, &a.prefix) {
        (Some(key), _) => known(key)?,
        (None, Some(prefix)) => known(prefix)?,
        (None, None) => return Ok(Vec::new()),
    };
    if let Some(region) = &a.region {
        known(region)?;
    }
    let Some(fact) = found.prefixes.iter().find(|p| p.step == step.id.value) else {
        return Err(format!(
            "s3://{}/{} could not be read (the resources area's finding says why)",
            printable(&bucket),
            printable(&what)
        ));
    };
    if fact.object {
        let class = fact
            .summary
            .by_class
            .keys()
            .next()
            .map_or("STANDARD", String::as_str);
        return Ok(vec![archive_of(class, fact.archive.as_ref())]);
    }
    // A listing gives the class, not the restore: archived is taken as
    // needing one, as ListObjectsV2 alone would say.
    Ok(fact
        .summary
        .by_class
        .iter()
        .filter(|(_, c)| c.objects > 0)
        .map(|(class, _)| {
            archive_of(
                class,
                crate::cloud::archive_state(class, None, None).as_ref(),
            )
        })
        .collect())
}

fn archive_of(class: &str, state: Option<&crate::cloud::ArchiveState>) -> Archive {
    use crate::cloud::ArchiveState;
    let needs = matches!(state, Some(ArchiveState::Needed | ArchiveState::Ongoing));
    Archive::of(class, needs)
}

/// How a figure stands against a target: Fail when even the typical
/// figure breaks it, Warn when only the worst does, Pass otherwise.
pub fn verdict(target: Duration, typical: Option<Duration>, worst: Option<Duration>) -> Verdict {
    if typical.is_some_and(|t| t > target) {
        Verdict::Fail
    } else if worst.is_some_and(|w| w > target) {
        Verdict::Warn
    } else {
        Verdict::Pass
    }
}

fn dur(secs: Option<f64>) -> Option<Duration> {
    secs.map(crate::format::duration_from_secs)
}

/// The findings against the RTO target and the phase budgets.
fn judge(
    runbook: &Runbook,
    estimate: &Estimate,
    plan: Option<(&Plan, &BTreeMap<String, Figure>)>,
    sink: &Sink,
) {
    let words = |t: Option<f64>, w: Option<f64>| match (dur(t), dur(w)) {
        (Some(t), Some(w)) if t == w => humanize(t),
        (Some(t), Some(w)) => format!("{} typically, {} at worst", humanize(t), humanize(w)),
        (Some(t), None) => humanize(t),
        _ => "unknown".into(),
    };
    let unknown = if estimate.not_estimated.is_empty() {
        String::new()
    } else {
        format!(
            "; it leaves out {} (no figure)",
            estimate
                .not_estimated
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    // Steps without a figure add an unknown time to what they are on.
    let least = if estimate.not_estimated.is_empty() {
        ""
    } else {
        "at least "
    };
    // The RTO: T0 to the `ends_rto` step, or the run's end without one.
    let (rto_t, rto_w) = match (estimate.rto_typical, estimate.rto_worst) {
        (None, None) => (Some(estimate.typical), Some(estimate.worst)),
        other => other,
    };
    match runbook.runbook.rto.as_ref().map(|r| r.value.0) {
        None => sink.push(Finding::new(
            Area::Time,
            Verdict::Pass,
            "run",
            format!(
                "the run takes {}{} ({}){unknown}; the runbook sets no RTO target",
                // Steps without a figure add an unknown time.
                if estimate.not_estimated.is_empty() {
                    ""
                } else {
                    "at least "
                },
                words(Some(estimate.typical), Some(estimate.worst)),
                estimate.basis
            ),
        )),
        Some(target) => {
            let v = verdict(target, dur(rto_t), dur(rto_w));
            let found = plan.and_then(|(plan, figures)| {
                let end = plan.rto_end.or(plan.end)?;
                culprit(runbook, plan, figures, end, target, v)
            });
            let detail = match (v, found.clone()) {
                (Verdict::Fail, Some((_, c))) => format!(
                    "this {} cannot meet its {} RTO: {c}",
                    mode_word(estimate),
                    humanize(target)
                ),
                (Verdict::Fail, None) => format!(
                    "this {} cannot meet its {} RTO: T0 to recovery takes {} ({})",
                    mode_word(estimate),
                    humanize(target),
                    words(rto_t, rto_w),
                    estimate.basis
                ),
                (Verdict::Warn, c) => format!(
                    "the {} RTO holds typically but not at worst: T0 to recovery takes {least}{} ({}){}",
                    humanize(target),
                    words(rto_t, rto_w),
                    estimate.basis,
                    c.map(|(_, c)| format!("; {c}")).unwrap_or_default()
                ),
                _ => format!(
                    "T0 to recovery takes {least}{} against the {} RTO ({})",
                    words(rto_t, rto_w),
                    humanize(target),
                    estimate.basis
                ),
            };
            // With history, the step that took longest is named.
            let slowest = estimate
                .history
                .as_ref()
                .and_then(|h| h.slowest_step.clone())
                .filter(|_| v > Verdict::Pass);
            let detail = match &slowest {
                Some((id, m, w)) => format!(
                    "{detail}; the slowest step is `{id}` ({})",
                    words(Some(*m), Some(*w))
                ),
                None => detail,
            };
            let v = if v == Verdict::Pass && !estimate.not_estimated.is_empty() {
                Verdict::Unchecked
            } else {
                v
            };
            let mut f = Finding::new(
                Area::Time,
                shown(v),
                format!("RTO {}", humanize(target)),
                format!("{detail}{unknown}"),
            );
            if let Some(step) = found.map(|(s, _)| s).or(slowest.map(|(s, ..)| s)) {
                f = f.step(step);
            }
            sink.push(match v {
                Verdict::Fail => f.fix("shorten the critical path (a faster retrieval tier, steps in parallel) or agree a longer RTO"),
                Verdict::Warn => f.fix("plan for the worst case: start early, or choose a faster tier"),
                Verdict::Unchecked => f.fix("time the steps left out by hand, or run a drill to give preflight a history"),
                _ => f,
            });
        }
    }
    for phase in &estimate.phases {
        let Some(budget) = dur(phase.budget) else {
            continue;
        };
        let v = verdict(budget, dur(phase.typical), dur(phase.worst));
        let detail = format!(
            "phase `{}` takes {least}{} against its {} budget ({})",
            phase.phase,
            words(phase.typical, phase.worst),
            humanize(budget),
            estimate.basis
        );
        let f = Finding::new(
            Area::Time,
            shown(v),
            format!("phase {} budget", phase.phase),
            detail,
        );
        sink.push(match v {
            Verdict::Fail => f.fix(format!(
                "raise phase `{}`'s budget or shorten its steps",
                phase.phase
            )),
            Verdict::Warn => f.fix("plan for the worst case"),
            _ => f,
        });
    }
}

/// The verdict a finding against a target shows. A target the estimate
/// breaks is a loud warning, never a failure: a drill that will miss its
/// RTO is still worth running (measuring that is what it is for), and an
/// incident restore must never be refused for being slow. Only what will
/// not work (a tier S3 does not offer) fails preflight.
fn shown(v: Verdict) -> Verdict {
    v.min(Verdict::Warn)
}

fn mode_word(estimate: &Estimate) -> &'static str {
    match estimate.history.as_ref().map(|h| h.mode.as_str()) {
        Some("incident") => "incident",
        _ => "drill",
    }
}

/// The step on the way to `end` that alone breaks (or at worst breaks)
/// the target, in words: "the Deep Archive restore alone takes up to 48h
/// (step `restore-dumps`, Bulk)".
fn culprit(
    runbook: &Runbook,
    plan: &Plan,
    figures: &BTreeMap<String, Figure>,
    end: usize,
    target: Duration,
    v: Verdict,
) -> Option<(String, String)> {
    let pick = |f: &Figure| {
        if v == Verdict::Fail {
            f.typical
        } else {
            f.worst
        }
    };
    let (id, f) = plan
        .path_to(runbook, end)
        .into_iter()
        .filter_map(|i| {
            let id = &runbook.steps[i].id.value;
            figures.get(id).map(|f| (id.clone(), f))
        })
        .filter(|(_, f)| pick(f).is_some_and(|d| d > target))
        .max_by_key(|(_, f)| pick(f))?;
    let what = f.what.clone().unwrap_or_else(|| format!("step `{id}`"));
    let tier = match &runbook.step(&id)?.action {
        StepAction::S3RestoreObject(a) => format!(", {}", a.tier.as_str()),
        _ => String::new(),
    };
    Some((
        id.clone(),
        format!(
            "{what} alone takes {} (step `{id}`{tier}; {})",
            f.range_words(),
            f.basis
        ),
    ))
}
