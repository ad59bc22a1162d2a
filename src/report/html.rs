//! The report as one self-contained HTML page: inline CSS, an inline SVG
//! timeline of phases and steps with the RTO target line, no scripts and
//! no external assets.

use std::fmt::Write;
use std::time::Duration;

use super::junit::xml_escape as esc;
use super::markdown::delta_words;
use super::{DrillReport, FinalStatus, Objective, ParticipantsReport, Verdict, objective_words};
use crate::engine::humanize;

const STYLE: &str = "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px;color:#1f2328;max-width:1150px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}\
table{border-collapse:collapse;font-size:13px;margin:4px 0}th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#f6f8fa}code{white-space:nowrap}.wrap{min-width:220px}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}\
.cards{display:flex;gap:12px;margin:12px 0}.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:180px}\
.card b{display:block;font-size:20px}.pass{color:#1a7f37}.fail{color:#cf222e}.muted{color:#656d76}\
.outcome{font-weight:bold;padding:2px 8px;border-radius:4px;color:#fff}.ok{background:#1a7f37}.bad{background:#cf222e}\
.sim{background:#9a6700;color:#fff;padding:2px 6px;border-radius:4px;font-size:13px}";

fn time(t: Option<jiff::Timestamp>) -> String {
    t.map_or_else(
        || "—".into(),
        |t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// A time within the run's day as `HH:MM:SS` (UTC), with the date when it
/// is another day.
fn clock(t: Option<jiff::Timestamp>, day_of: jiff::Timestamp) -> String {
    match t {
        None => "—".into(),
        Some(t) if t.strftime("%F").to_string() == day_of.strftime("%F").to_string() => {
            t.strftime("%H:%M:%S").to_string()
        }
        Some(t) => t.strftime("%m-%d %H:%M:%S").to_string(),
    }
}

fn dur(d: Option<Duration>) -> String {
    d.map_or_else(|| "—".into(), humanize)
}

fn status_class(s: FinalStatus) -> &'static str {
    match s {
        FinalStatus::Succeeded => "pass",
        s if s.is_failure() => "fail",
        _ => "muted",
    }
}

fn card(o: &mut String, name: &str, obj: &Objective) {
    let class = match obj.verdict {
        Verdict::Pass => "pass",
        Verdict::Fail | Verdict::NotMeasured => "fail",
        Verdict::NoTarget | Verdict::NotTracked => "muted",
    };
    let _ = write!(
        o,
        "<div class=\"card\">{name}<b class=\"{class}\">{}</b><span class=\"muted\">{}</span></div>",
        dur(obj.achieved_seconds),
        esc(&objective_words(obj))
    );
}

fn table(o: &mut String, head: &[&str], rows: Vec<Vec<String>>) {
    o.push_str("<table><tr>");
    for h in head {
        let _ = write!(o, "<th>{}</th>", esc(h));
    }
    o.push_str("</tr>\n");
    for row in rows {
        o.push_str("<tr>");
        for c in row {
            let _ = write!(o, "<td>{c}</td>");
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
}

/// Renders `r` as HTML.
pub fn render(r: &DrillReport) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>DR {} report: {}</title><style>{STYLE}</style></head><body>\n",
        esc(&r.mode_label()),
        esc(&r.runbook.title)
    );
    let _ = writeln!(
        o,
        "<h1>{} {}</h1><div class=\"muted\">DR {} report · run <code>{}</code></div>",
        esc(&r.runbook.title),
        if r.simulated {
            "<span class=\"sim\">SIMULATED</span>"
        } else {
            ""
        },
        esc(&r.mode),
        esc(&r.run_id)
    );
    o.push_str("<div class=\"cards\">");
    let _ = write!(
        o,
        "<div class=\"card\">Outcome<b><span class=\"outcome {}\">{}</span></b></div>",
        if r.outcome == "succeeded" {
            "ok"
        } else {
            "bad"
        },
        esc(&r.outcome.to_uppercase())
    );
    card(&mut o, "RTO", &r.rto);
    card(&mut o, "RPO", &r.rpo);
    o.push_str("</div>\n");

    let aws = match &r.aws {
        Some(a) => format!(
            "{}account {}, region {}{}",
            if r.simulated { "SIMULATED, " } else { "" },
            esc(a.account.as_deref().unwrap_or("unknown")),
            esc(&a.region),
            a.endpoint
                .as_ref()
                .map(|e| format!(", endpoint {}", esc(e)))
                .unwrap_or_default()
        ),
        None => "not used".into(),
    };
    let mut facts = vec![
        vec![
            "Runbook".into(),
            format!("<code>{}</code>", esc(&r.runbook.id)),
        ],
        vec![
            "Runbook SHA-256".into(),
            format!("<code>{}</code>", esc(&r.runbook.sha256)),
        ],
    ];
    if let Some(sha) = &r.runbook.resumed_with_sha256 {
        facts.push(vec![
            "After forced resume".into(),
            format!("<code>{}</code>", esc(sha)),
        ]);
    }
    facts.extend([
        vec!["Mode".into(), esc(&r.mode_label())],
        vec!["Operator".into(), esc(&r.operator)],
        vec!["AWS".into(), aws],
        vec!["T0".into(), time(Some(r.t0))],
        vec!["Started".into(), time(Some(r.started_at))],
        vec!["Ended".into(), time(r.finished_at)],
    ]);
    if let Some(words) = r.world_time_words() {
        facts.push(vec!["Time".into(), esc(&words)]);
    }
    o.push_str("<table>");
    for f in facts {
        let _ = write!(o, "<tr><th>{}</th><td>{}</td></tr>", f[0], f[1]);
    }
    o.push_str("</table>\n");

    o.push_str("<h2>Timeline</h2>\n");
    timeline_svg(&mut o, r);

    if !r.phases.is_empty() {
        o.push_str("<h2>Phases</h2>\n");
        table(
            &mut o,
            &[
                "Phase",
                "Start (UTC)",
                "End (UTC)",
                "Duration",
                "Budget",
                "On critical path",
            ],
            r.phases
                .iter()
                .map(|p| {
                    vec![
                        esc(p.title.as_deref().unwrap_or(&p.id)),
                        clock(p.started_at, r.started_at),
                        clock(p.finished_at, r.started_at),
                        super::world_duration(p.duration_seconds, p.world_duration_seconds),
                        format!(
                            "{}{}",
                            dur(p.budget_seconds),
                            if p.over_budget {
                                " <b class=\"fail\">over</b>"
                            } else {
                                ""
                            }
                        ),
                        humanize(p.critical_path_seconds),
                    ]
                })
                .collect(),
        );
    }

    o.push_str("<h2>Steps</h2>\n");
    table(
        &mut o,
        &[
            "Step",
            "Phase",
            "Kind",
            "Start (UTC)",
            "End (UTC)",
            "Duration",
            "Human wait",
            "Machine",
            "Attempts",
            "Status",
        ],
        r.steps
            .iter()
            .map(|s| {
                vec![
                    format!(
                        "<code>{}{}</code>",
                        if s.critical { "★ " } else { "" },
                        esc(&s.id)
                    ),
                    esc(s.phase.as_deref().unwrap_or("")),
                    esc(&s.kind),
                    clock(s.started_at, r.started_at),
                    clock(s.finished_at, r.started_at),
                    dur(s.duration_seconds),
                    humanize(s.human_wait_seconds),
                    dur(s.machine_seconds),
                    s.attempts.to_string(),
                    format!(
                        "<div class=\"wrap\"><span class=\"{}\">{}</span>{}</div>",
                        status_class(s.status),
                        esc(s.status.as_str()),
                        s.reason
                            .as_deref()
                            .map(|r| format!("<br/><span class=\"muted\">{}</span>", esc(r)))
                            .unwrap_or_default()
                    ),
                ]
            })
            .collect(),
    );
    if !r.critical_path.is_empty() {
        let _ = writeln!(
            o,
            "<p><b>Critical path</b> (★): {}</p>",
            r.critical_path
                .iter()
                .map(|s| format!("<code>{}</code>", esc(s)))
                .collect::<Vec<_>>()
                .join(" → ")
        );
    }

    o.push_str("<h2>Confirmations</h2>\n");
    if r.confirmations.is_empty() {
        o.push_str("<p class=\"muted\">No destructive step was confirmed.</p>\n");
    } else {
        table(
            &mut o,
            &["Step", "Action", "Typed", "By", "When"],
            r.confirmations
                .iter()
                .map(|c| {
                    vec![
                        format!("<code>{}</code>", esc(&c.step)),
                        esc(c.action.as_deref().unwrap_or("")),
                        format!("<code>{}</code>", esc(&c.typed)),
                        esc(&c.by),
                        time(Some(c.at)),
                    ]
                })
                .collect(),
        );
    }

    if let Some(p) = &r.recovery_point {
        o.push_str("<h2>Recovery point used</h2>\n");
        table(
            &mut o,
            &["ARN", "Created", "Vault", "Region", "Chosen by"],
            vec![vec![
                format!(
                    "<code>{}</code>",
                    esc(p.arn.as_deref().unwrap_or("unknown"))
                ),
                esc(p.created_at.as_deref().unwrap_or("unknown")),
                esc(p.vault.as_deref().unwrap_or("—")),
                esc(p.region.as_deref().unwrap_or("—")),
                format!("<code>{}</code>", esc(&p.step)),
            ]],
        );
    }

    o.push_str("<h2>Evidence</h2>\n");
    if r.evidence.is_empty() {
        o.push_str("<p class=\"muted\">No step produced outputs.</p>\n");
    } else {
        table(
            &mut o,
            &["Step", "Kind", "Status", "Outputs"],
            r.evidence
                .iter()
                .map(|e| {
                    vec![
                        format!("<code>{}</code>", esc(&e.step)),
                        esc(&e.kind),
                        format!(
                            "<span class=\"{}\">{}</span>",
                            status_class(e.status),
                            esc(e.status.as_str())
                        ),
                        e.outputs
                            .iter()
                            .map(|(k, v)| {
                                format!(
                                    "{} = <code>{}</code>{}",
                                    esc(k),
                                    esc(v),
                                    r.world_time_label(v)
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("<br/>"),
                    ]
                })
                .collect(),
        );
    }

    o.push_str("<h2>Failures and retries</h2>\n");
    if r.failures.is_empty() {
        o.push_str("<p class=\"muted\">None.</p>\n");
    } else {
        table(
            &mut o,
            &["Step", "Attempt", "When", "Error", "Then"],
            r.failures
                .iter()
                .map(|f| {
                    vec![
                        format!("<code>{}</code>", esc(&f.step)),
                        f.attempt.to_string(),
                        time(Some(f.at)),
                        format!("<div class=\"wrap\">{}</div>", esc(&f.error)),
                        esc(&f.then),
                    ]
                })
                .collect(),
        );
    }

    o.push_str("<h2>Cleanup</h2>\n");
    if r.cleanup.is_empty() {
        o.push_str("<p class=\"muted\">The runbook has no cleanup steps.</p>\n");
    } else {
        table(
            &mut o,
            &["Step", "Result", "Why"],
            r.cleanup
                .iter()
                .map(|c| {
                    vec![
                        format!("<code>{}</code>", esc(&c.step)),
                        if c.done {
                            "<span class=\"pass\">done</span>".into()
                        } else {
                            format!(
                                "<b class=\"fail\">LEFT BEHIND</b> ({})",
                                esc(c.status.as_str())
                            )
                        },
                        esc(c.reason.as_deref().unwrap_or("")),
                    ]
                })
                .collect(),
        );
    }

    o.push_str("<h2>Manual checklist</h2>\n");
    if r.checklist.is_empty() {
        o.push_str("<p class=\"muted\">The runbook has no manual or approval steps.</p>\n");
    } else {
        table(
            &mut o,
            &["Step", "Question", "Answer", "By", "When"],
            r.checklist
                .iter()
                .map(|c| {
                    vec![
                        format!("<code>{}</code>", esc(&c.step)),
                        esc(c.question.as_deref().unwrap_or("")),
                        format!(
                            "{}{}",
                            esc(c.answer.as_deref().unwrap_or("not answered")),
                            c.note
                                .as_deref()
                                .map(|n| format!(" <span class=\"muted\">({})</span>", esc(n)))
                                .unwrap_or_default()
                        ),
                        esc(c.by.as_deref().unwrap_or("")),
                        time(c.at),
                    ]
                })
                .collect(),
        );
    }

    if let Some(p) = &r.participants {
        participants(&mut o, p);
    }

    if let Some(p) = &r.preflight {
        o.push_str("<h2>Preflight</h2>\n");
        let _ = writeln!(o, "<p>Before the first step: {}.</p>", esc(&p.words()));
        table(
            &mut o,
            &["Verdict", "Area", "Step", "Subject", "Detail", "Fix"],
            p.preflight
                .findings
                .iter()
                .map(|f| {
                    vec![
                        esc(f.verdict.word()),
                        esc(f.area.word()),
                        esc(f.step.as_deref().unwrap_or("")),
                        esc(&f.subject),
                        esc(&f.detail),
                        esc(f.fix.as_deref().unwrap_or("")),
                    ]
                })
                .collect(),
        );
    }

    if !r.resumes.is_empty() {
        o.push_str("<h2>Crash and resume</h2>\n");
        table(
            &mut o,
            &["Resumed at", "Gap", "By", "Forced"],
            r.resumes
                .iter()
                .map(|g| {
                    vec![
                        time(Some(g.at)),
                        humanize(g.gap_seconds),
                        esc(&g.operator),
                        if g.forced { "yes".into() } else { "no".into() },
                    ]
                })
                .collect(),
        );
    }

    o.push_str("<h2>Compared with earlier runs</h2>\n");
    match &r.comparison {
        None => {
            let _ = writeln!(
                o,
                "<p class=\"muted\">No earlier run of <code>{}</code> was found.</p>",
                esc(&r.runbook.id)
            );
        }
        Some(c) => {
            let _ = writeln!(
                o,
                "<p>Against <code>{}</code> (started {}): RTO {}.</p>",
                esc(&c.previous_run_id),
                time(Some(c.previous_started_at)),
                esc(&delta_words(c.rto_delta_seconds))
            );
            table(
                &mut o,
                &["Phase", "This run", "Previous", "Change"],
                c.phases
                    .iter()
                    .map(|p| {
                        vec![
                            esc(&p.phase),
                            dur(p.this_seconds),
                            dur(p.previous_seconds),
                            format!(
                                "<span class=\"{}\">{}</span>",
                                match p.trend.as_str() {
                                    "faster" => "pass",
                                    "slower" => "fail",
                                    _ => "muted",
                                },
                                esc(&delta_words(p.delta_seconds))
                            ),
                        ]
                    })
                    .collect(),
            );
        }
    }
    let _ = writeln!(
        o,
        "<p class=\"muted\">Built from the run's journal by dr-drill; report format {}.</p>\n</body></html>",
        r.report_format
    );
    o
}

/// "Participants and approvals": every value is journal text, escaped.
fn participants(o: &mut String, p: &ParticipantsReport) {
    o.push_str("<h2>Participants and approvals</h2>\n");
    if let Some(d) = &p.driver {
        let _ = writeln!(
            o,
            "<p>Driver: {} (<code>{}</code>).</p>",
            esc(&d.name),
            esc(&d.arn)
        );
    }
    if !p.drivers.is_empty() {
        table(
            o,
            &["Drives from", "Name", "ARN", "Process", "How"],
            p.drivers
                .iter()
                .map(|d| {
                    vec![
                        time(Some(d.at)),
                        esc(&d.name),
                        format!("<code>{}</code>", esc(&d.arn)),
                        esc(&d.process),
                        esc(&d.how()),
                    ]
                })
                .collect(),
        );
    }
    if !p.roles.is_empty() {
        table(
            o,
            &["Role", "Held by"],
            p.roles
                .iter()
                .map(|r| vec![esc(&r.role), esc(&r.held_by.join(", "))])
                .collect(),
        );
    }
    for s in &p.steps {
        let mut about = Vec::new();
        if let Some(owner) = &s.owner {
            about.push(format!("owned by {owner}"));
        }
        if !s.approvers.is_empty() {
            about.push(format!("approvers {}", s.approvers.join(", ")));
        }
        if let Some(words) = s.approvals_words() {
            about.push(words);
        }
        let about = if about.is_empty() {
            String::new()
        } else {
            format!(" ({})", about.join("; "))
        };
        let _ = writeln!(
            o,
            "<h3><code>{}</code> {}{}</h3>",
            esc(&s.step),
            esc(&s.title),
            esc(&about)
        );
        table(
            o,
            &["Name", "ARN", "Time (UTC)", "Answer", "Counted"],
            s.answers
                .iter()
                .map(|a| {
                    vec![
                        esc(&a.name),
                        format!("<code>{}</code>", esc(&a.arn)),
                        time(Some(a.at)),
                        esc(&a.answer),
                        format!(
                            "<span class=\"{}\">{}</span>",
                            if a.counted { "pass" } else { "fail" },
                            esc(&a.verdict())
                        ),
                    ]
                })
                .collect(),
        );
    }
}

/// A timeline row: label, bar (start, end seconds after T0), colour, tooltip.
type Row = (String, Option<(f64, f64)>, &'static str, String);

/// Phases and steps as bars on one time axis from T0, and the RTO target
/// as a red line.
fn timeline_svg(o: &mut String, r: &DrillReport) {
    const WIDTH: f64 = 1100.0;
    const LABEL: f64 = 230.0;
    const ROW: f64 = 22.0;
    const TOP: f64 = 44.0;
    let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
    let run_end = r
        .steps
        .iter()
        .filter_map(|s| secs(s.end_offset_seconds))
        .chain(secs(r.rto.achieved_seconds))
        .fold(1.0_f64, f64::max);
    // A target far beyond the run is marked at the right edge instead of
    // drawn to scale (`Axis::fit`).
    let target = secs(r.rto.target_seconds);
    let axis = crate::engine::timeline::Axis::fit(
        crate::format::duration_from_secs(run_end),
        r.rto.target_seconds,
    );
    let target_on_scale = secs(axis.target_on_axis);
    let span = axis.span.as_secs_f64() * 1.05;
    let plot = WIDTH - LABEL - 20.0;
    let x = |t: f64| LABEL + t / span * plot;
    // Rows: each phase, then its steps; steps without a phase last.
    let mut rows: Vec<Row> = Vec::new();
    let mut phase_ids: Vec<Option<&str>> = r.phases.iter().map(|p| Some(p.id.as_str())).collect();
    phase_ids.push(None);
    for phase in phase_ids {
        if let Some(id) = phase {
            let p = r.phases.iter().find(|p| p.id == id);
            let bar = p.and_then(|p| secs(p.start_offset_seconds).zip(secs(p.end_offset_seconds)));
            let over = p.is_some_and(|p| p.over_budget);
            rows.push((
                p.and_then(|p| p.title.as_deref()).unwrap_or(id).to_string(),
                bar,
                if over { "#cf222e" } else { "#0969da" },
                format!("phase {id}: {}", dur(p.and_then(|p| p.duration_seconds))),
            ));
        }
        for s in r.steps.iter().filter(|s| s.phase.as_deref() == phase) {
            let colour = match s.status {
                FinalStatus::Succeeded if s.critical => "#1a7f37",
                FinalStatus::Succeeded => "#4ac26b",
                s if s.is_failure() => "#cf222e",
                _ => "#afb8c1",
            };
            rows.push((
                format!("  {}{}", s.id, if s.critical { " ★" } else { "" }),
                secs(s.start_offset_seconds).zip(secs(s.end_offset_seconds)),
                colour,
                format!("{}: {} ({})", s.id, dur(s.duration_seconds), s.status),
            ));
        }
    }
    let height = TOP + rows.len() as f64 * ROW + 30.0;
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"Helvetica,Arial,sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"Timeline of phases and steps\">"
    );
    // Axis with ticks.
    let step = nice_step(span / 6.0);
    let mut t = 0.0;
    while t <= span {
        let _ = writeln!(
            o,
            "<line x1=\"{:.1}\" y1=\"{}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#eaeef2\"/><text x=\"{:.1}\" y=\"{}\" fill=\"#656d76\" text-anchor=\"middle\">{}</text>",
            x(t),
            TOP - 6.0,
            x(t),
            height - 24.0,
            x(t),
            TOP - 10.0,
            esc(&humanize(crate::format::duration_from_secs(t)))
        );
        t += step;
    }
    for g in &r.resumes {
        let end = g.offset_seconds.as_secs_f64();
        let start = (end - g.gap_seconds.as_secs_f64()).max(0.0);
        let _ = writeln!(
            o,
            "<rect x=\"{:.1}\" y=\"{}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#8c959f\" fill-opacity=\"0.25\"><title>console down {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#57606a\" text-anchor=\"middle\">console down {}</text>",
            x(start),
            TOP - 4.0,
            (x(end) - x(start)).max(2.0),
            height - 22.0 - (TOP - 4.0),
            esc(&humanize(g.gap_seconds)),
            (x(start) + x(end)) / 2.0,
            TOP - 26.0,
            esc(&humanize(g.gap_seconds))
        );
    }
    for (i, (label, bar, colour, title)) in rows.iter().enumerate() {
        let y = TOP + i as f64 * ROW;
        let is_phase = !label.starts_with("  ");
        let _ = writeln!(
            o,
            "<text x=\"{}\" y=\"{:.1}\"{}>{}</text>",
            if is_phase { 6.0 } else { 18.0 },
            y + 15.0,
            if is_phase {
                " font-weight=\"bold\""
            } else {
                ""
            },
            esc(label.trim_start())
        );
        if let Some((a, b)) = bar {
            let w = (x(*b) - x(*a)).max(2.0);
            let _ = writeln!(
                o,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{}\" rx=\"3\" fill=\"{colour}\"{}><title>{}</title></rect>",
                x(*a),
                y + 4.0,
                ROW - 8.0,
                if is_phase {
                    " fill-opacity=\"0.35\""
                } else {
                    ""
                },
                esc(title)
            );
        }
    }
    if let (Some(target), None) = (target, target_on_scale) {
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"14\" fill=\"#cf222e\" text-anchor=\"end\">RTO target {} (off this scale) →</text>",
            WIDTH - 4.0,
            esc(&humanize(crate::format::duration_from_secs(target)))
        );
    }
    if let Some(target) = target_on_scale {
        let _ = writeln!(
            o,
            "<line x1=\"{0:.1}\" y1=\"{1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"#cf222e\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/><text x=\"{0:.1}\" y=\"{3:.1}\" fill=\"#cf222e\" text-anchor=\"middle\">RTO target {4}</text>",
            x(target),
            TOP - 4.0,
            height - 22.0,
            height - 8.0,
            esc(&humanize(crate::format::duration_from_secs(target)))
        );
    }
    if let Some(rto) = secs(r.rto.achieved_seconds) {
        let _ = writeln!(
            o,
            "<line x1=\"{0:.1}\" y1=\"{1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"#1f2328\" stroke-width=\"1.5\"/><text x=\"{0:.1}\" y=\"{3:.1}\" fill=\"#1f2328\" text-anchor=\"end\" dx=\"-4\">RTO {4}</text>",
            x(rto),
            TOP - 4.0,
            height - 22.0,
            height - 8.0,
            esc(&humanize(crate::format::duration_from_secs(rto)))
        );
    }
    o.push_str("</svg>\n");
}

/// A round tick interval near `raw` seconds.
fn nice_step(raw: f64) -> f64 {
    const STEPS: [f64; 14] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
    ];
    STEPS
        .iter()
        .copied()
        .find(|&s| s >= raw)
        .unwrap_or_else(|| (raw / 3600.0).ceil() * 3600.0)
}
