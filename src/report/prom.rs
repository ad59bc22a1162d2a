//! The report as Prometheus text exposition format, for node_exporter's
//! textfile collector: the latest run of a runbook, as gauges.

use std::fmt::Write;

use super::DrillReport;

/// A label value escaped as the text format wants.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Renders `r` as Prometheus text.
pub fn render(r: &DrillReport) -> String {
    let base = format!(
        "runbook=\"{}\",mode=\"{}\",simulated=\"{}\"",
        label(&r.runbook.id),
        label(&r.mode),
        r.simulated
    );
    let mut o = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(o, "# HELP {name} {help}");
        let _ = writeln!(o, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(o, "{name}{{{labels}}} {value}");
        }
    };
    let secs = |d: Option<std::time::Duration>| d.map(|d| super::round3(d.as_secs_f64()));
    metric(
        "dr_drill_rto_seconds",
        "gauge",
        "RTO achieved by the latest run: T0 to the success of the step that ends the RTO.",
        secs(r.rto.achieved_seconds)
            .map(|v| (base.clone(), v))
            .into_iter()
            .collect(),
    );
    metric(
        "dr_drill_rto_target_seconds",
        "gauge",
        "RTO target of the runbook.",
        secs(r.rto.target_seconds)
            .map(|v| (base.clone(), v))
            .into_iter()
            .collect(),
    );
    metric(
        "dr_drill_rpo_seconds",
        "gauge",
        "RPO achieved by the latest run: T0 minus the time of the recovery point restored.",
        secs(r.rpo.achieved_seconds)
            .map(|v| (base.clone(), v))
            .into_iter()
            .collect(),
    );
    metric(
        "dr_drill_rpo_target_seconds",
        "gauge",
        "RPO target of the runbook.",
        secs(r.rpo.target_seconds)
            .map(|v| (base.clone(), v))
            .into_iter()
            .collect(),
    );
    metric(
        "dr_drill_phase_duration_seconds",
        "gauge",
        "Duration of each phase of the latest run: first step start to last step end.",
        r.phases
            .iter()
            .filter_map(|p| {
                secs(p.duration_seconds).map(|v| (format!("{base},phase=\"{}\"", label(&p.id)), v))
            })
            .collect(),
    );
    metric(
        "dr_drill_run_success",
        "gauge",
        "1 if the latest run succeeded, else 0.",
        vec![(base.clone(), f64::from(u8::from(r.outcome == "succeeded")))],
    );
    let last_success = if r.outcome == "succeeded" {
        r.finished_at
    } else {
        r.comparison.as_ref().and_then(|c| {
            c.history
                .iter()
                .rev()
                .find(|h| h.outcome == "succeeded")
                .and_then(|h| h.finished_at)
        })
    };
    metric(
        "dr_drill_last_success_timestamp_seconds",
        "gauge",
        "When the latest successful run of the runbook ended, Unix seconds.",
        last_success
            .map(|t| (base.clone(), t.as_second() as f64))
            .into_iter()
            .collect(),
    );
    let failures = r
        .failures
        .iter()
        .filter(|f| f.then != "interrupted")
        .count();
    metric(
        "dr_drill_step_failures_total",
        "counter",
        "Failed step attempts in the latest run, retries included.",
        vec![(base.clone(), failures as f64)],
    );
    // Only runs that started with a preflight have these series.
    if let Some(p) = &r.preflight {
        use crate::preflight::Verdict;
        metric(
            "dr_drill_preflight_findings",
            "gauge",
            "Findings of the preflight the latest run started with, by verdict.",
            [
                Verdict::Pass,
                Verdict::Warn,
                Verdict::Unchecked,
                Verdict::Fail,
            ]
            .into_iter()
            .map(|v| {
                let word = match v {
                    Verdict::Pass => "pass",
                    Verdict::Warn => "warn",
                    Verdict::Unchecked => "unchecked",
                    Verdict::Fail => "fail",
                };
                (
                    format!("{base},verdict=\"{word}\""),
                    p.preflight.count(v) as f64,
                )
            })
            .collect(),
        );
        metric(
            "dr_drill_preflight_forced",
            "gauge",
            "1 if the latest run was started despite a failed preflight check (--force).",
            vec![(base.clone(), f64::from(u8::from(p.forced)))],
        );
    }
    o
}
