//! The report as Markdown that reads well pasted into a ticket or a wiki.

use std::fmt::Write;
use std::time::Duration;

use super::{DrillReport, FinalStatus, Objective, ParticipantsReport, Verdict, objective_words};
use crate::engine::humanize;
use crate::format::SimulatedTime;

/// A table cell: pipes escaped, on one line.
/// Untrusted text as Markdown prose in a table cell or a list item: the
/// characters that start a link, an image, raw HTML, an entity, code,
/// emphasis or strikethrough, and table pipes, are backslash-escaped
/// (`(`, `)` and an intraword `_` mean nothing on their own and stay), line breaks become spaces and
/// other control characters are dropped, so a value renders as the text
/// it is and loads nothing.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            '\\' | '`' | '*' | '[' | ']' | '!' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Untrusted text as an inline code span in a table cell: delimited by
/// more backticks than any run inside it (CommonMark), padded when it
/// starts or ends with one, with `|` escaped for the table and line breaks
/// and control characters made spaces or dropped. Nothing in it can close
/// the span early.
fn code(s: &str) -> String {
    let text: String = s
        .chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect::<String>()
        .replace('|', "\\|");
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

fn dur(d: Option<Duration>) -> String {
    d.map_or_else(|| "—".into(), humanize)
}

fn time(t: Option<jiff::Timestamp>) -> String {
    t.map_or_else(
        || "—".into(),
        |t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅ PASS",
        Verdict::Fail => "❌ FAIL",
        Verdict::NotMeasured => "❌ NOT MEASURED",
        Verdict::NoTarget => "— no target",
        Verdict::NotTracked => "— not tracked",
    }
}

/// An objective's achieved value; for a simulated run's RTO, in real and
/// world time side by side.
fn achieved(obj: &Objective) -> String {
    match (obj.achieved_seconds, obj.world_speed) {
        (Some(a), Some(speed)) => SimulatedTime { speed }.side_by_side(a),
        (a, _) => dur(a),
    }
}

/// Renders `r` as Markdown.
pub fn render(r: &DrillReport) -> String {
    let mut o = String::new();
    let _ = write_report(&mut o, r);
    o
}

fn write_report(o: &mut String, r: &DrillReport) -> std::fmt::Result {
    writeln!(
        o,
        "# DR {} report: {}",
        r.mode_label(),
        cell(&r.runbook.title)
    )?;
    writeln!(o)?;
    writeln!(
        o,
        "**Outcome: {}** · RTO {} · RPO {}",
        r.outcome.to_uppercase(),
        objective_words(&r.rto),
        objective_words(&r.rpo)
    )?;
    writeln!(o)?;
    writeln!(o, "| | |")?;
    writeln!(o, "| --- | --- |")?;
    writeln!(
        o,
        "| Runbook | {} — {} |",
        code(&r.runbook.id),
        cell(&r.runbook.title)
    )?;
    writeln!(o, "| Runbook SHA-256 | `{}` |", r.runbook.sha256)?;
    if let Some(sha) = &r.runbook.resumed_with_sha256 {
        writeln!(o, "| Runbook after forced resume | `{sha}` |")?;
    }
    writeln!(o, "| Run | {} |", code(&r.run_id))?;
    writeln!(o, "| Mode | {} |", r.mode_label())?;
    writeln!(o, "| Operator | {} |", cell(&r.operator))?;
    match &r.aws {
        Some(a) => {
            writeln!(
                o,
                "| AWS | {}account {}, region {}{} |",
                if r.simulated { "SIMULATED, " } else { "" },
                a.account.as_deref().unwrap_or("unknown"),
                cell(&a.region),
                a.endpoint
                    .as_ref()
                    .map(|e| format!(", endpoint {}", cell(e)))
                    .unwrap_or_default()
            )?;
        }
        None => writeln!(o, "| AWS | not used |")?,
    }
    writeln!(o, "| T0 | {} |", time(Some(r.t0)))?;
    writeln!(o, "| Started | {} |", time(Some(r.started_at)))?;
    writeln!(o, "| Ended | {} |", time(r.finished_at))?;
    if let Some(words) = r.world_time_words() {
        writeln!(o, "| Time | {words} |")?;
    }
    writeln!(o)?;

    writeln!(o, "## Objectives")?;
    writeln!(o)?;
    writeln!(o, "| Objective | Achieved | Target | Verdict |")?;
    writeln!(o, "| --- | --- | --- | --- |")?;
    for (name, obj) in [("RTO", &r.rto), ("RPO", &r.rpo)] {
        writeln!(
            o,
            "| {name} | {} | {} | {} |",
            achieved(obj),
            dur(obj.target_seconds),
            verdict(obj.verdict)
        )?;
    }
    writeln!(o)?;

    if !r.phases.is_empty() {
        writeln!(o, "## Phases")?;
        writeln!(o)?;
        writeln!(
            o,
            "| Phase | Start | End | Duration | Budget | On critical path |"
        )?;
        writeln!(o, "| --- | --- | --- | --- | --- | --- |")?;
        for p in &r.phases {
            writeln!(
                o,
                "| {} | {} | {} | {} | {}{} | {} |",
                cell(p.title.as_deref().unwrap_or(&p.id)),
                time(p.started_at),
                time(p.finished_at),
                super::world_duration(p.duration_seconds, p.world_duration_seconds),
                dur(p.budget_seconds),
                if p.over_budget { " ❌ over" } else { "" },
                humanize(p.critical_path_seconds)
            )?;
        }
        writeln!(o)?;
    }

    writeln!(o, "## Steps")?;
    writeln!(o)?;
    writeln!(
        o,
        "| Step | Phase | Kind | Start | End | Duration | Human wait | Machine | Attempts | Status |"
    )?;
    writeln!(
        o,
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )?;
    for s in &r.steps {
        writeln!(
            o,
            "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            if s.critical { "★ " } else { "" },
            code(&s.id),
            cell(s.phase.as_deref().unwrap_or("")),
            s.kind,
            time(s.started_at),
            time(s.finished_at),
            dur(s.duration_seconds),
            humanize(s.human_wait_seconds),
            dur(s.machine_seconds),
            s.attempts,
            status(s.status)
        )?;
    }
    writeln!(o)?;
    if !r.critical_path.is_empty() {
        writeln!(
            o,
            "**Critical path** (★): {}",
            r.critical_path
                .iter()
                .map(|s| code(s))
                .collect::<Vec<_>>()
                .join(" → ")
        )?;
        writeln!(o)?;
    }

    writeln!(o, "## Confirmations")?;
    writeln!(o)?;
    if r.confirmations.is_empty() {
        writeln!(o, "None: no destructive step was confirmed.")?;
    } else {
        writeln!(o, "| Step | Action | Typed | By | When |")?;
        writeln!(o, "| --- | --- | --- | --- | --- |")?;
        for c in &r.confirmations {
            writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                code(&c.step),
                cell(c.action.as_deref().unwrap_or("")),
                code(&c.typed),
                cell(&c.by),
                time(Some(c.at))
            )?;
        }
    }
    writeln!(o)?;

    if let Some(p) = &r.recovery_point {
        writeln!(o, "## Recovery point used")?;
        writeln!(o)?;
        writeln!(o, "- ARN: {}", code(p.arn.as_deref().unwrap_or("unknown")))?;
        writeln!(
            o,
            "- Created: {}",
            cell(p.created_at.as_deref().unwrap_or("unknown"))
        )?;
        writeln!(o, "- Vault: {}", cell(p.vault.as_deref().unwrap_or("—")))?;
        writeln!(o, "- Region: {}", cell(p.region.as_deref().unwrap_or("—")))?;
        writeln!(o, "- Chosen by step {}", code(&p.step))?;
        writeln!(o)?;
    }

    for s in r.steps.iter() {
        if let Some(left_out) = &s.output_left_out {
            writeln!(
                o,
                "Output of `{}`: {}.",
                cell(&s.id),
                cell(&left_out.phrase())
            )?;
            writeln!(o)?;
        }
    }
    writeln!(o, "## Evidence")?;
    writeln!(o)?;
    if r.evidence.is_empty() {
        writeln!(o, "No step produced outputs.")?;
    } else {
        writeln!(o, "| Step | Kind | Status | Output | Value |")?;
        writeln!(o, "| --- | --- | --- | --- | --- |")?;
        for e in &r.evidence {
            if e.outputs.is_empty() {
                writeln!(
                    o,
                    "| {} | {} | {} | | |",
                    code(&e.step),
                    e.kind,
                    status(e.status)
                )?;
            }
            for (k, v) in &e.outputs {
                writeln!(
                    o,
                    "| {} | {} | {} | {} | {}{} |",
                    code(&e.step),
                    e.kind,
                    status(e.status),
                    cell(k),
                    code(v),
                    r.world_time_label(v)
                )?;
            }
        }
    }
    writeln!(o)?;

    writeln!(o, "## Failures and retries")?;
    writeln!(o)?;
    if r.failures.is_empty() {
        writeln!(o, "None.")?;
    } else {
        writeln!(o, "| Step | Attempt | When | Error | Then |")?;
        writeln!(o, "| --- | --- | --- | --- | --- |")?;
        for f in &r.failures {
            writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                code(&f.step),
                f.attempt,
                time(Some(f.at)),
                cell(&f.error),
                cell(&f.then)
            )?;
        }
    }
    writeln!(o)?;

    super::cost::markdown(o, &r.cost, &cell)?;

    writeln!(o, "## Cleanup")?;
    writeln!(o)?;
    if r.cleanup.is_empty() {
        writeln!(o, "The runbook has no cleanup steps.")?;
    } else {
        for c in &r.cleanup {
            writeln!(
                o,
                "- [{}] {}{}: {}{}",
                if c.done { "x" } else { " " },
                code(&c.step),
                c.title
                    .as_deref()
                    .map(|t| format!(" ({})", cell(t)))
                    .unwrap_or_default(),
                if c.done { "done" } else { "LEFT BEHIND" },
                c.reason
                    .as_deref()
                    .filter(|_| !c.done)
                    .map(|r| format!(" — {}", cell(r)))
                    .unwrap_or_else(|| if c.done {
                        String::new()
                    } else {
                        format!(" — {}", c.status)
                    })
            )?;
        }
    }
    writeln!(o)?;

    writeln!(o, "## Manual checklist")?;
    writeln!(o)?;
    if r.checklist.is_empty() {
        writeln!(o, "The runbook has no manual or approval steps.")?;
    } else {
        for c in &r.checklist {
            writeln!(
                o,
                "- [{}] {}{}{}: **{}**{}{}",
                if c.answer.is_some() { "x" } else { " " },
                code(&c.step),
                c.title
                    .as_deref()
                    .map(|t| format!(" ({})", cell(t)))
                    .unwrap_or_default(),
                c.question
                    .as_deref()
                    .map(|q| format!(" — {}", cell(q)))
                    .unwrap_or_default(),
                cell(c.answer.as_deref().unwrap_or("not answered")),
                c.by.as_deref()
                    .map(|b| format!(" by {} at {}", cell(b), time(c.at)))
                    .unwrap_or_default(),
                c.note
                    .as_deref()
                    .map(|n| format!(" (note: {})", cell(n)))
                    .unwrap_or_default()
            )?;
        }
    }
    writeln!(o)?;

    if let Some(p) = &r.participants {
        participants(o, p)?;
    }

    if let Some(p) = &r.preflight {
        writeln!(o, "## Preflight")?;
        writeln!(o)?;
        writeln!(o, "Before the first step: {}.", cell(&p.words()))?;
        writeln!(o)?;
        for f in &p.preflight.findings {
            writeln!(
                o,
                "- **{}** {}: {}{} — {}{}",
                f.verdict.word(),
                f.area.word(),
                f.step
                    .as_deref()
                    .map(|s| format!("step {}: ", cell(s)))
                    .unwrap_or_default(),
                cell(&f.subject),
                cell(&f.detail),
                f.fix
                    .as_deref()
                    .map(|x| format!(" (fix: {})", cell(x)))
                    .unwrap_or_default(),
            )?;
        }
        writeln!(o)?;
    }

    if !r.resumes.is_empty() {
        writeln!(o, "## Crash and resume")?;
        writeln!(o)?;
        for g in &r.resumes {
            writeln!(
                o,
                "- Resumed at {} by {} after a gap of {}{}",
                time(Some(g.at)),
                g.operator,
                humanize(g.gap_seconds),
                if g.forced {
                    " (forced: the runbook had changed)"
                } else {
                    ""
                }
            )?;
        }
        writeln!(o)?;
    }

    writeln!(o, "## Compared with earlier runs")?;
    writeln!(o)?;
    match &r.comparison {
        None => {
            writeln!(o, "No earlier run of `{}` was found.", r.runbook.id)?;
            writeln!(o)?;
        }
        Some(c) => {
            writeln!(
                o,
                "Against `{}` (started {}): RTO {}.",
                c.previous_run_id,
                time(Some(c.previous_started_at)),
                delta_words(c.rto_delta_seconds)
            )?;
            writeln!(o)?;
            if !c.phases.is_empty() {
                writeln!(o, "| Phase | This run | Previous | Change |")?;
                writeln!(o, "| --- | --- | --- | --- |")?;
                for p in &c.phases {
                    writeln!(
                        o,
                        "| {} | {} | {} | {} |",
                        cell(&p.phase),
                        dur(p.this_seconds),
                        dur(p.previous_seconds),
                        delta_words(p.delta_seconds)
                    )?;
                }
                writeln!(o)?;
            }
            writeln!(o, "| Run | Started | Outcome | RTO |")?;
            writeln!(o, "| --- | --- | --- | --- |")?;
            for h in &c.history {
                writeln!(
                    o,
                    "| `{}` | {} | {} | {} |",
                    h.run_id,
                    time(Some(h.started_at)),
                    h.outcome,
                    dur(h.rto_seconds)
                )?;
            }
            writeln!(o)?;
        }
    }
    writeln!(
        o,
        "_Built from the run's journal by dr-drill; report format {}._",
        r.report_format
    )
}

/// "Participants and approvals": every value is journal text, so each
/// goes through `cell` or `code`.
fn participants(o: &mut String, p: &ParticipantsReport) -> std::fmt::Result {
    writeln!(o, "## Participants and approvals")?;
    writeln!(o)?;
    if let Some(d) = &p.driver {
        writeln!(o, "Driver: {} ({}).", cell(&d.name), code(&d.arn))?;
        writeln!(o)?;
    }
    if !p.drivers.is_empty() {
        writeln!(o, "| Drives from | Name | ARN | Process | How |")?;
        writeln!(o, "| --- | --- | --- | --- | --- |")?;
        for d in &p.drivers {
            writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                time(Some(d.at)),
                cell(&d.name),
                code(&d.arn),
                cell(&d.process),
                cell(&d.how())
            )?;
        }
        writeln!(o)?;
    }
    if !p.roles.is_empty() {
        writeln!(o, "| Role | Held by |")?;
        writeln!(o, "| --- | --- |")?;
        for r in &p.roles {
            let held: Vec<String> = r.held_by.iter().map(|h| code(h)).collect();
            writeln!(o, "| {} | {} |", code(&r.role), held.join(", "))?;
        }
        writeln!(o)?;
    }
    for s in &p.steps {
        let mut about = Vec::new();
        if let Some(owner) = &s.owner {
            about.push(format!("owned by {}", code(owner)));
        }
        if !s.approvers.is_empty() {
            let names: Vec<String> = s.approvers.iter().map(|a| code(a)).collect();
            about.push(format!("approvers {}", names.join(", ")));
        }
        if let Some(words) = s.approvals_words() {
            about.push(words);
        }
        writeln!(
            o,
            "### {} {}{}",
            code(&s.step),
            cell(&s.title),
            if about.is_empty() {
                String::new()
            } else {
                format!(" ({})", about.join("; "))
            }
        )?;
        writeln!(o)?;
        if s.answers.is_empty() {
            writeln!(o, "No answer was recorded.")?;
            writeln!(o)?;
            continue;
        }
        writeln!(o, "| Name | ARN | Time (UTC) | Answer | Counted |")?;
        writeln!(o, "| --- | --- | --- | --- | --- |")?;
        for a in &s.answers {
            writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                cell(&a.name),
                if a.arn.is_empty() {
                    "—".into()
                } else {
                    code(&a.arn)
                },
                time(Some(a.at)),
                cell(&a.answer),
                cell(&a.verdict())
            )?;
        }
        writeln!(o)?;
    }
    Ok(())
}

fn status(s: FinalStatus) -> String {
    match s {
        FinalStatus::Succeeded => "✅ succeeded".into(),
        s if s.is_failure() => format!("❌ {s}"),
        FinalStatus::NotRun => "not run".into(),
        other => other.to_string(),
    }
}

/// `2m 3s faster`, `12s slower`, `unchanged`, `not comparable`.
pub(crate) fn delta_words(d: Option<f64>) -> String {
    match d {
        None => "not comparable".into(),
        Some(d) if d.abs() < super::SAME_WITHIN => "unchanged".into(),
        Some(d) => format!(
            "{} {}",
            humanize(crate::format::duration_from_secs(d.abs())),
            if d < 0.0 { "faster" } else { "slower" }
        ),
    }
}
