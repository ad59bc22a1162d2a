//! The time area on fixed inputs: the arithmetic `docs/preflight.md`
//! (`## Time`) shows as a worked example.

use std::collections::BTreeMap;
use std::time::Duration;

use super::facts::{self, Archive};
use super::history::{PastRun, median, summarize};
use super::*;
use crate::preflight::Sink;
use crate::runbook::Mode;

const H: u64 = 3600;

fn h(hours: f64) -> Duration {
    Duration::from_secs_f64(hours * H as f64)
}

fn run(id: &str, mode: Mode, hours: f64, ok: bool) -> PastRun {
    PastRun {
        run_id: id.into(),
        mode,
        succeeded: ok,
        speed: None,
        run: h(hours),
        rto: Some(h(hours - 0.5)),
        phases: BTreeMap::from([("restore".to_owned(), h(hours - 1.0))]),
        steps: BTreeMap::from([
            ("thaw".to_owned(), h(hours - 1.0)),
            ("check".to_owned(), h(0.1)),
        ]),
        changed: false,
    }
}

fn runbook(text: &str) -> Runbook {
    let checked = crate::runbook::check_str(text);
    let first = checked.first_error().map(|d| d.message.clone());
    checked.runbook.unwrap_or_else(|| panic!("{first:?}"))
}

#[test]
fn three_earlier_drills_give_median_and_worst() {
    // 2h, 3h and 2h30m succeeded; a 10h drill that failed is left out.
    let past = [
        run("a", Mode::Drill, 2.0, true),
        run("b", Mode::Drill, 3.0, true),
        run("c", Mode::Drill, 10.0, false),
        run("d", Mode::Drill, 2.5, true),
    ];
    let s = summarize(&past, Mode::Drill).unwrap();
    assert_eq!(s.runs, 3);
    assert_eq!(s.left_out, 1);
    assert_eq!(s.run_median, 2.5 * 3600.0);
    assert_eq!(s.run_worst, 3.0 * 3600.0);
    assert_eq!(s.rto_median, Some(2.0 * 3600.0));
    assert_eq!(s.rto_worst, Some(2.5 * 3600.0));
    assert_eq!(
        s.phases,
        vec![("restore".to_owned(), 1.5 * 3600.0, 2.0 * 3600.0)]
    );
    assert_eq!(s.words(), "median and worst of 3 drills before this one");
    // An even count: the mean of the middle two.
    assert_eq!(median(&[h(1.0), h(4.0), h(2.0), h(3.0)]), Some(h(2.5)));
    assert_eq!(median(&[]), None);
    // Durations from a hostile journal do not overflow.
    assert_eq!(
        median(&[Duration::MAX, Duration::MAX]),
        Some(Duration::MAX - Duration::from_nanos(1))
    );
    // The slowest step: thaw, median 1h30m, worst 2h.
    assert_eq!(
        s.slowest_step,
        Some(("thaw".to_owned(), 1.5 * 3600.0, 2.0 * 3600.0))
    );
}

#[test]
fn drills_and_incidents_are_apart_and_real_runs_come_before_simulated() {
    let mut sim = run("s", Mode::Drill, 40.0, true);
    sim.speed = Some(3600.0);
    let past = [
        run("a", Mode::Drill, 2.0, true),
        run("i", Mode::Incident, 6.0, true),
        sim.clone(),
    ];
    let drill = summarize(&past, Mode::Drill).unwrap();
    assert_eq!((drill.runs, drill.run_worst), (1, 2.0 * 3600.0));
    assert!(!drill.world_time);
    let incident = summarize(&past, Mode::Incident).unwrap();
    assert_eq!((incident.mode.as_str(), incident.runs), ("incident", 1));
    // Only simulated runs: their world time, said so.
    let only_sim = summarize(&[sim], Mode::Drill).unwrap();
    assert!(only_sim.world_time);
    assert!(
        only_sim.words().contains("world time"),
        "{}",
        only_sim.words()
    );
    assert!(summarize(&[run("f", Mode::Drill, 1.0, false)], Mode::Drill).is_none());
}

#[test]
fn a_restore_figure_comes_from_the_slowest_archive_and_its_tier() {
    let (f, finding) =
        s3_restore_figure("restore-dumps", "Bulk", &[Archive::Flexible, Archive::Deep]);
    assert!(finding.is_none());
    assert_eq!((f.typical, f.worst), (Some(h(48.0)), Some(h(48.0))));
    assert!(
        f.basis.contains("restoring-objects-retrieval-options"),
        "{}",
        f.basis
    );
    let (f, _) = s3_restore_figure("s", "Standard", &[Archive::Flexible]);
    assert_eq!((f.typical, f.worst), (Some(h(3.0)), Some(h(5.0))));
    // Intelligent-Tiering: Archive Access typically, Deep Archive Access at worst.
    let (f, _) = s3_restore_figure("s", "Standard", &[Archive::IntelligentTiering]);
    assert_eq!((f.typical, f.worst), (Some(h(3.0)), Some(h(12.0))));
    // Nothing archived: nothing to wait for.
    let (f, _) = s3_restore_figure("s", "Bulk", &[Archive::None]);
    assert_eq!(f.worst, Some(Duration::ZERO));
    // Expedited from Deep Archive is not offered: the step would fail.
    let (_, finding) = s3_restore_figure("s", "Expedited", &[Archive::Deep]);
    let finding = finding.unwrap();
    assert_eq!(finding.verdict, Verdict::Fail);
    assert_eq!(finding.step.as_deref(), Some("s"));
    assert_eq!(Archive::of("GLACIER", true), Archive::Flexible);
    assert_eq!(Archive::of("DEEP_ARCHIVE", false), Archive::None);
}

const PARALLEL: &str = r#"
[runbook]
id = "parallel"
title = "t"
rto = "4h"

[[phase]]
id = "restore"
budget = "3h"

[[step]]
id = "thaw-a"
phase = "restore"
kind = "wait"
duration = "1h"

[[step]]
id = "thaw-b"
phase = "restore"
kind = "wait"
duration = "2h"

[[step]]
id = "load"
kind = "wait"
duration = "30m"
needs = ["thaw-a", "thaw-b"]
ends_rto = true
"#;

fn figures_of(rb: &Runbook, f: impl Fn(&str) -> Figure) -> BTreeMap<String, Figure> {
    rb.steps
        .iter()
        .map(|s| (s.id.value.clone(), f(&s.id.value)))
        .collect()
}

fn wait_figures(rb: &Runbook) -> BTreeMap<String, Figure> {
    figures_of(rb, |id| {
        let d = match id {
            "thaw-a" => h(1.0),
            "thaw-b" => h(2.0),
            _ => h(0.5),
        };
        Figure::of(Some(d), Some(d), "the wait's `duration`")
    })
}

#[test]
fn steps_in_parallel_do_not_add_up() {
    let rb = runbook(PARALLEL);
    let figures = wait_figures(&rb);
    let plan = Plan::new(&rb, &figures);
    // thaw-a (1h) and thaw-b (2h) side by side, then load (30m):
    // max(1h, 2h) + 30m = 2h30m, not 1h + 2h + 30m = 3h30m.
    assert_eq!(plan.finish_typical[2], Some(h(2.5)));
    let e = plan.estimate(&rb, &figures);
    assert_eq!(e.critical_path, ["thaw-b", "load"]);
    assert_eq!(
        (e.typical, e.rto_typical),
        (2.5 * 3600.0, Some(2.5 * 3600.0))
    );
    // The phase spans from its first start (0) to its last end (2h).
    assert_eq!(e.phases[0].typical, Some(2.0 * 3600.0));
    let sink = Sink::new(None);
    judge(&rb, &e, Some((&plan, &figures)), &sink);
    let found = sink.into_findings();
    assert!(
        found.iter().all(|f| f.verdict == Verdict::Pass),
        "{found:#?}"
    );
}

#[test]
fn a_history_over_the_rto_names_its_slowest_step() {
    let rb = runbook(PARALLEL);
    let past = [
        run("a", Mode::Drill, 5.0, true),
        run("b", Mode::Drill, 6.0, true),
        run("c", Mode::Drill, 4.0, true),
    ];
    let s = summarize(&past, Mode::Drill).unwrap();
    let e = super::history::estimate(&rb, &s);
    let sink = Sink::new(None);
    judge(&rb, &e, None, &sink);
    let rto = &sink.into_findings()[0];
    // RTO 4h30m, 5h30m, 3h30m: median 4h30m > 4h, a loud warning (shown), never a failure.
    assert_eq!(rto.verdict, Verdict::Warn);
    assert_eq!(rto.step.as_deref(), Some("thaw"));
    assert_eq!(
        rto.detail,
        "this drill cannot meet its 4h RTO: T0 to recovery takes 4h 30m typically, 5h 30m at worst \
         (median and worst of 3 drills before this one); the slowest step is `thaw` \
         (4h typically, 5h at worst)"
    );
}

#[test]
fn each_verdict_against_a_target() {
    let target = h(4.0);
    assert_eq!(verdict(target, Some(h(2.0)), Some(h(3.0))), Verdict::Pass);
    assert_eq!(verdict(target, Some(h(3.0)), Some(h(5.0))), Verdict::Warn);
    assert_eq!(verdict(target, Some(h(5.0)), Some(h(12.0))), Verdict::Fail);
    assert_eq!(verdict(target, None, None), Verdict::Pass);
}

const DEEP: &str = r#"
[runbook]
id = "dumps"
title = "t"
rto = "4h"

[[phase]]
id = "thaw"
budget = "1h"

[[step]]
id = "restore-dumps"
phase = "thaw"
kind = "s3.restore-object"
bucket = "dumps"
key = "db.dump"
tier = "Bulk"

[[step]]
id = "approve"
kind = "approve"
needs = ["restore-dumps"]
ends_rto = true
"#;

#[test]
fn a_deep_archive_bulk_restore_cannot_meet_a_4h_rto() {
    let rb = runbook(DEEP);
    let figures = figures_of(&rb, |id| match id {
        "restore-dumps" => s3_restore_figure(id, "Bulk", &[Archive::Deep]).0,
        _ => Figure::from_fact(facts::PERSON, facts::PERSON),
    });
    let plan = Plan::new(&rb, &figures);
    let e = plan.estimate(&rb, &figures);
    assert_eq!(e.not_estimated, ["approve"]);
    let sink = Sink::new(None);
    judge(&rb, &e, Some((&plan, &figures)), &sink);
    let found = sink.into_findings();
    let rto = &found[0];
    assert_eq!(rto.verdict, Verdict::Warn);
    assert_eq!(rto.step.as_deref(), Some("restore-dumps"));
    assert!(
        rto.detail.starts_with(
            "this drill cannot meet its 4h RTO: the Deep Archive restore alone takes up to 48h (step `restore-dumps`, Bulk;"
        ),
        "{}",
        rto.detail
    );
    assert!(
        rto.detail.contains("leaves out `approve`"),
        "{}",
        rto.detail
    );
    assert!(rto.fix.is_some());
    let budget = &found[1];
    assert_eq!(
        (budget.verdict, budget.subject.as_str()),
        (Verdict::Warn, "phase thaw budget")
    );
}

#[test]
fn the_3_to_5_hour_standard_restore_only_warns_against_4h() {
    let rb = runbook(&DEEP.replace("tier = \"Bulk\"", "tier = \"Standard\""));
    let figures = figures_of(&rb, |id| match id {
        "restore-dumps" => s3_restore_figure(id, "Standard", &[Archive::Flexible]).0,
        _ => Figure::quick(),
    });
    let plan = Plan::new(&rb, &figures);
    let e = plan.estimate(&rb, &figures);
    let sink = Sink::new(None);
    judge(&rb, &e, Some((&plan, &figures)), &sink);
    let rto = &sink.into_findings()[0];
    assert_eq!(rto.verdict, Verdict::Warn, "{rto:#?}");
    assert!(
        rto.detail.contains("3h typically, 5h at worst"),
        "{}",
        rto.detail
    );
}

#[test]
fn the_facts_table_in_the_doc_is_the_table_in_the_code() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/preflight.md"))
        .unwrap_or_default();
    assert!(
        doc.contains(&facts::markdown()),
        "docs/preflight.md must hold this table under ## Time:\n{}",
        facts::markdown()
    );
}

/// The objects' classes come from the world: the sandbox's GTIN1 media
/// are in Deep Archive, and the runbook restores them at Bulk.
#[tokio::test]
async fn the_sandbox_media_restore_is_timed_from_its_objects_classes() {
    let text = include_str!("../../../runbooks/gtin1-media-restore.toml");
    let cloud: std::sync::Arc<dyn crate::cloud::Cloud> =
        std::sync::Arc::new(crate::cloud::sim::SimCloud::builtin(Default::default()).unwrap());
    let ctx = |text: &str| Context {
        runbook: runbook(text),
        mode: Mode::Drill,
        params: [
            ("bucket", "closient-disaster-recovery-backup"),
            ("prefix", "media/products/"),
            ("min_objects", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        cloud: Some(cloud.clone()),
        data_dir: std::path::PathBuf::from("/nonexistent/dr-drill-data"),
    };
    let sink = Sink::new(None);
    let c = ctx(text);
    // The classes as the resources area found them: time asks no one.
    let facts = crate::preflight::resources::check(&c, &Sink::new(None)).await;
    let e = check(&c, &facts, &sink).await.unwrap();
    let thaw = e.steps.iter().find(|s| s.step == "thaw").unwrap();
    assert_eq!(
        (thaw.typical, thaw.worst),
        (Some(48.0 * 3600.0), Some(48.0 * 3600.0))
    );
    assert!(thaw.basis.contains("Deep Archive"), "{}", thaw.basis);
    assert!(e.critical_path.contains(&"thaw".to_owned()), "{e:#?}");
    // Its 48h restore phase budget holds, exactly.
    let found = sink.into_findings();
    let budget = found
        .iter()
        .find(|f| f.subject == "phase restore budget")
        .unwrap();
    assert_eq!(budget.verdict, Verdict::Pass, "{budget:#?}");

    // With a 4h RTO, the issue's own sentence.
    let sink = Sink::new(None);
    check(
        &ctx(&text.replacen("rto = \"50h\"", "rto = \"4h\"", 1)),
        &facts,
        &sink,
    )
    .await;
    let found = sink.into_findings();
    let rto = found.iter().find(|f| f.subject == "RTO 4h").unwrap();
    assert_eq!(rto.verdict, Verdict::Warn);
    assert!(
        rto.detail.starts_with(
            "this drill cannot meet its 4h RTO: the Deep Archive restore alone takes up to 48h (step `thaw`, Bulk;"
        ),
        "{}",
        rto.detail
    );
}

const COPY: &str = r#"
[runbook]
id = "copy"
title = "t"
rto = "1h"

[[step]]
id = "wait-copy"
kind = "wait"
until = { copy_job = "j" }
ends_rto = true
"#;

#[tokio::test]
async fn a_copy_job_may_wait_2h_in_created_before_it_copies() {
    let ctx = Context {
        runbook: runbook(COPY),
        mode: Mode::Drill,
        params: BTreeMap::new(),
        cloud: None,
        data_dir: std::path::PathBuf::from("/nonexistent/dr-drill-data"),
    };
    let sink = Sink::new(None);
    let e = check(&ctx, &Default::default(), &sink).await.unwrap();
    let step = &e.steps[0];
    assert_eq!((step.typical, step.worst), (None, Some(2.0 * 3600.0)));
    assert!(step.basis.contains("Copy job retry"), "{}", step.basis);
    assert_eq!(e.not_estimated, ["wait-copy"]);
    // 2h at worst against a 1h RTO: a warning, naming the step.
    let rto = &sink.into_findings()[0];
    assert_eq!(rto.verdict, Verdict::Warn, "{rto:#?}");
    assert_eq!(rto.step.as_deref(), Some("wait-copy"));
}
