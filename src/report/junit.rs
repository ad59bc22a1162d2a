//! The report as JUnit XML for CI dashboards: one test suite per run, one
//! test case per step.

use std::fmt::Write;

use super::{DrillReport, FinalStatus};

/// Text or attribute value escaped for XML 1.0; characters XML cannot
/// carry at all (most control characters) are dropped.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn secs(d: Option<std::time::Duration>) -> String {
    format!("{:.3}", d.map_or(0.0, |d| d.as_secs_f64()))
}

/// Renders `r` as JUnit XML.
pub fn render(r: &DrillReport) -> String {
    let failures = r.steps.iter().filter(|s| s.status.is_failure()).count();
    let skips = r.steps.iter().filter(|s| s.status.is_skip()).count();
    let total: f64 = r
        .steps
        .iter()
        .filter_map(|s| s.duration_seconds)
        .map(|d| d.as_secs_f64())
        .sum();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"dr-drill\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skips}\" time=\"{total:.3}\">",
        n = r.steps.len()
    );
    let _ = writeln!(
        o,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skips}\" time=\"{total:.3}\" timestamp=\"{}\" hostname=\"{}\">",
        xml_escape(&r.runbook.id),
        r.steps.len(),
        r.started_at.strftime("%Y-%m-%dT%H:%M:%S"),
        xml_escape(r.operator.rsplit('@').next().unwrap_or("")),
    );
    o.push_str("    <properties>\n");
    for (k, v) in [
        ("run_id", r.run_id.clone()),
        ("runbook_sha256", r.runbook.sha256.clone()),
        ("mode", r.mode_label()),
        ("operator", r.operator.clone()),
        ("outcome", r.outcome.clone()),
        ("rto", super::objective_words(&r.rto)),
        ("rpo", super::objective_words(&r.rpo)),
    ]
    .into_iter()
    .chain(r.preflight.as_ref().map(|p| ("preflight", p.words())))
    {
        let _ = writeln!(
            o,
            "      <property name=\"{k}\" value=\"{}\"/>",
            xml_escape(&v)
        );
    }
    o.push_str("    </properties>\n");
    for s in &r.steps {
        let classname = format!("{}.{}", r.runbook.id, s.phase.as_deref().unwrap_or("steps"));
        let open = format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
            xml_escape(&classname),
            xml_escape(&s.id),
            secs(s.duration_seconds)
        );
        let reason = s.reason.as_deref().unwrap_or("");
        if s.status.is_failure() {
            let errors: Vec<&str> = r
                .failures
                .iter()
                .filter(|f| f.step == s.id)
                .map(|f| f.error.as_str())
                .collect();
            let _ = writeln!(
                o,
                "{open}>\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                xml_escape(if reason.is_empty() {
                    s.status.as_str()
                } else {
                    reason
                }),
                xml_escape(s.status.as_str()),
                xml_escape(&format!(
                    "{} after {} attempt(s)\n{}",
                    s.status,
                    s.attempts,
                    errors.join("\n")
                ))
            );
        } else if s.status.is_skip() {
            let message = match (s.status, reason) {
                (FinalStatus::NotRun, _) => "not run".to_string(),
                (status, "") => status.to_string(),
                (status, reason) => format!("{status}: {reason}"),
            };
            let _ = writeln!(
                o,
                "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                xml_escape(&message)
            );
        } else {
            let _ = writeln!(o, "{open}/>");
        }
    }
    o.push_str("  </testsuite>\n</testsuites>\n");
    o
}
