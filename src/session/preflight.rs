//! Preflight for every front end, written once: build the
//! [`Context`](crate::preflight::Context) from a checked runbook, the
//! parameters as given and the world, run the areas, and render the result
//! for people (a table grouped by area) or say why a headless run stops.
//!
//! The world is reached only when a step calls AWS (or in the sandbox, which
//! always has its world); a world that cannot be reached is the identity
//! area's FAIL finding, never a refusal here.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::{Refused, World};
use crate::cloud::Cloud;
use crate::preflight::{self, Area, Context, Finding, Preflight, Verdict};
use crate::runbook::{Mode, Runbook};

/// What a preflight is asked for.
pub struct Request<'a> {
    /// The checked runbook.
    pub runbook: &'a Runbook,
    /// Drill or incident.
    pub mode: Mode,
    /// Parameter values as given (defaults are filled in here).
    pub params: &'a BTreeMap<String, String>,
    /// The world the run would act on.
    pub world: &'a World,
    /// Where runs are kept (earlier drills).
    pub data_dir: PathBuf,
}

/// Whether preflight has to reach the world for `runbook`: when a step
/// calls AWS, and always in the sandbox.
fn needs_world(runbook: &Runbook, world: &World) -> bool {
    matches!(world, World::Sandbox(_)) || runbook.steps.iter().any(|s| s.action.uses_aws())
}

/// Builds the context and runs every area, streaming each finding on `tx`.
/// Refused (nothing checked) only when the parameters do not resolve.
pub async fn run(
    request: Request<'_>,
    tx: Option<UnboundedSender<Finding>>,
) -> Result<Preflight, Refused> {
    let params =
        crate::engine::resolve_params(request.runbook, request.params).map_err(Refused::because)?;
    let (cloud, unreachable): (Option<Arc<dyn Cloud>>, Option<String>) =
        if needs_world(request.runbook, request.world) {
            match request.world.connect().await {
                Ok(cloud) => (Some(cloud), None),
                Err(e) => (None, Some(e)),
            }
        } else {
            (None, None)
        };
    Ok(run_with(
        request.runbook,
        request.mode,
        params,
        cloud,
        request.data_dir,
        unreachable,
        tx,
    )
    .await)
}

/// Runs preflight on a cloud already reached (`None` when no step calls
/// AWS), with `params` already resolved.
pub async fn run_on(
    runbook: &Runbook,
    mode: Mode,
    params: BTreeMap<String, String>,
    cloud: Option<Arc<dyn Cloud>>,
    data_dir: PathBuf,
    tx: Option<UnboundedSender<Finding>>,
) -> Preflight {
    run_with(runbook, mode, params, cloud, data_dir, None, tx).await
}

async fn run_with(
    runbook: &Runbook,
    mode: Mode,
    params: BTreeMap<String, String>,
    cloud: Option<Arc<dyn Cloud>>,
    data_dir: PathBuf,
    unreachable: Option<String>,
    tx: Option<UnboundedSender<Finding>>,
) -> Preflight {
    let ctx = Context {
        runbook: runbook.clone(),
        mode,
        params,
        cloud,
        data_dir,
    };
    let mut found = preflight::run(&ctx, tx).await;
    if let Some(e) = unreachable {
        // The identity area saw no world; the reason it is missing is the
        // finding instead.
        found.findings.retain(|f| f.area != Area::Identity);
        found
            .findings
            .insert(0, preflight::identity::unreachable(&e));
    }
    found
}

/// Whether a headless run checks before it starts, and what a failed
/// check does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// `--no-preflight`: no check (programs the steps require still are).
    Skip,
    /// A failed check stops the run before anything runs.
    Stop,
    /// `--force`: the run goes on despite failed checks; the journal says so.
    Force,
}

/// Why a headless run stops on a failed preflight (its table was printed
/// above), or `None` when it may go on: nothing failed, or `force`.
pub fn gate(found: &Preflight, force: bool) -> Option<Refused> {
    if found.passed() || force {
        return None;
    }
    let failed: Vec<String> = found
        .findings
        .iter()
        .filter(|f| f.verdict == Verdict::Fail)
        .map(|f| {
            let step = f
                .step
                .as_deref()
                .map(|s| format!("step {s}: "))
                .unwrap_or_default();
            format!("{}: {step}{}: {}", f.area.word(), f.subject, f.detail)
        })
        .collect();
    Some(Refused(format!(
        "preflight found {} failed check{}:\n  - {}\nNothing was run. Fix them, or go on anyway with --force (the journal records that the run was forced).",
        failed.len(),
        if failed.len() == 1 { "" } else { "s" },
        failed
            .iter()
            .map(|f| one_line(f))
            .collect::<Vec<_>>()
            .join("\n  - ")
    )))
}

/// Outside text as one line for the table: `printable`, with line breaks
/// as spaces, so an S3 key, a parameter or an AWS message cannot forge a
/// line of its own (a verdict, a `- ` item).
fn one_line(text: &str) -> String {
    crate::format::printable(text)
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect()
}

/// The last line: `preflight: 3 ok, 1 warning, 0 unchecked, 1 failed in 0.4 s`.
pub fn summary_line(found: &Preflight) -> String {
    format!(
        "preflight: {} in {:.1} s",
        crate::report::preflight_counts(found),
        found.took
    )
}

/// Width of the verdict column, indent included.
const VERDICT: usize = 13;

/// The findings for people: grouped by area, a verdict column, then the
/// step and subject, the detail and the fix, wrapped to `width` columns
/// (at least 40). Every outside text goes through `format::printable`;
/// colours (ANSI) only when `color`.
pub fn table(found: &Preflight, width: usize, color: bool) -> String {
    let width = width.max(40);
    let text_width = width - VERDICT;
    let paint = |v: Verdict, word: &str| {
        let code = match v {
            Verdict::Pass => "32",
            Verdict::Unchecked => "36",
            Verdict::Warn => "33",
            Verdict::Fail => "1;31",
        };
        if color {
            format!("\x1b[{code}m{word}\x1b[0m")
        } else {
            word.to_owned()
        }
    };
    let mut out = String::new();
    for area in Area::ALL {
        let mut findings = found.of(area).peekable();
        if findings.peek().is_none() {
            continue;
        }
        out.push_str(area.word());
        out.push('\n');
        for f in findings {
            let mut lines = Vec::new();
            let head = match &f.step {
                Some(step) => format!("step {step}: {}", f.subject),
                None => f.subject.clone(),
            };
            lines.extend(wrap(&one_line(&head), text_width));
            lines.extend(wrap(&one_line(&f.detail), text_width));
            if let Some(fix) = &f.fix {
                lines.extend(wrap(&format!("fix: {}", one_line(fix)), text_width));
            }
            let word = f.verdict.word();
            for (i, line) in lines.iter().enumerate() {
                if i == 0 {
                    let pad = " ".repeat(VERDICT - 2 - word.len());
                    out.push_str(&format!("  {}{pad}{line}\n", paint(f.verdict, word)));
                } else {
                    out.push_str(&format!("{}{line}\n", " ".repeat(VERDICT)));
                }
            }
        }
    }
    out.push_str(&summary_line(found));
    out.push('\n');
    out
}

/// `text` in lines of at most `width` characters, broken at spaces (a word
/// longer than a line is cut); its own line breaks are kept.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        // A paragraph's own indent (a list of what to do) is kept.
        let indent = paragraph.len() - paragraph.trim_start_matches(' ').len();
        let indent = " ".repeat(indent.min(width / 2));
        let mut line = indent.clone();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let mut word: Vec<char> = word.chars().collect();
            loop {
                let used = line.chars().count();
                let gap = usize::from(used > indent.len());
                if used + gap + word.len() <= width {
                    if gap == 1 {
                        line.push(' ');
                    }
                    line.extend(word.iter());
                    break;
                }
                if used > indent.len() {
                    lines.push(std::mem::replace(&mut line, indent.clone()));
                    continue;
                }
                // A long ARN or path is cut after a `/` or `:` when it can be.
                let room = width - used;
                let cut = word[..room]
                    .iter()
                    .rposition(|c| matches!(c, '/' | ':'))
                    .filter(|&i| i > 0)
                    .map_or(room, |i| i + 1);
                let rest = word.split_off(cut);
                line.extend(word.iter());
                lines.push(std::mem::replace(&mut line, indent.clone()));
                word = rest;
            }
        }
        if line.len() > indent.len() || lines.is_empty() {
            lines.push(line);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(findings: Vec<Finding>) -> Preflight {
        Preflight {
            findings,
            time: None,
            cost: None,
            resources: Default::default(),
            at: jiff::Timestamp::UNIX_EPOCH,
            took: 0.5,
        }
    }

    #[test]
    fn outside_text_cannot_forge_a_line_of_the_table() {
        let forged = "key\n  FAIL       step x: forged\r\n  - fake";
        let found = found(vec![
            Finding::new(Area::Resources, Verdict::Fail, forged, forged).step("s"),
        ]);
        let table = table(&found, 80, false);
        let fails = table
            .lines()
            .filter(|l| l.trim_start().starts_with("FAIL"))
            .count();
        assert_eq!(fails, 1, "{table}");
        let Some(Refused(stop)) = gate(&found, false) else {
            panic!("a failed check stops the run");
        };
        assert_eq!(
            stop.lines().filter(|l| l.starts_with("  - ")).count(),
            1,
            "{stop}"
        );
    }

    #[test]
    fn the_table_wraps_at_its_width_and_keeps_control_characters_out() {
        let long = "word ".repeat(40) + &"x".repeat(100);
        let table = table(
            &found(vec![
                Finding::new(Area::Tools, Verdict::Fail, "pg\x1b[2Jrestore", long)
                    .step("restore")
                    .fix("install it"),
            ]),
            80,
            false,
        );
        for line in table.lines() {
            assert!(line.chars().count() <= 80, "{line:?} is over 80 columns");
        }
        assert!(!table.contains('\x1b'));
        assert!(table.starts_with("tools\n  FAIL       step restore: pg[2Jrestore\n"));
        assert!(table.contains("             fix: install it\n"));
        assert!(table.ends_with("preflight: 0 ok, 0 warnings, 0 unchecked, 1 failed in 0.5 s\n"));
    }

    #[test]
    fn a_failed_preflight_stops_a_headless_run_unless_forced() {
        let failed = found(vec![Finding::new(
            Area::Identity,
            Verdict::Fail,
            "credentials",
            "none found",
        )]);
        let refused = gate(&failed, false).expect("stops");
        assert!(refused.0.contains("identity: credentials: none found"));
        assert!(refused.0.contains("--force"));
        assert!(gate(&failed, true).is_none());
        let warned = found(vec![Finding::new(Area::Identity, Verdict::Warn, "a", "b")]);
        assert!(gate(&warned, false).is_none());
    }
}
