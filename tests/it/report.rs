//! The drill report: golden files of every format from frozen journals
//! (a clean run compared with an earlier one, a failed run, a crashed and
//! resumed run), well-formed XML, Prometheus text a parser accepts, the
//! `report` command, and secrets kept out of every output.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use dr_drill::report::{self, DrillReport, Format};
use predicates::prelude::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journals")
}

/// The journal of `run` in the fixture data dir `set`.
fn journal(set: &str, run: &str) -> PathBuf {
    fixtures()
        .join(set)
        .join("runs")
        .join(run)
        .join("journal.jsonl")
}

const CLEAN: (&str, &str) = ("clean", "cabal-addresses-restore-20261117T090000Z");
const FAILED: (&str, &str) = ("failed", "cabal-addresses-restore-20261119T100000Z");
const RESUMED: (&str, &str) = ("resumed", "ledger-restore-20261118T140000Z");

fn report_of((set, run): (&str, &str)) -> DrillReport {
    report::from_journal(&journal(set, run), Some(&fixtures().join(set))).unwrap()
}

fn golden(name: &str, fixture: (&str, &str)) {
    let r = report_of(fixture);
    for (f, ext) in [
        (Format::Markdown, "md"),
        (Format::Json, "json"),
        (Format::Junit, "junit.xml"),
        (Format::Prometheus, "prom"),
        (Format::Html, "html"),
    ] {
        insta::assert_snapshot!(format!("{name}.{ext}"), r.render(f));
    }
}

#[test]
fn a_clean_run_compared_with_the_quarter_before() {
    golden("clean", CLEAN);
    let r = report_of(CLEAN);
    let c = r.comparison.expect("the earlier run is found");
    assert_eq!(
        c.previous_run_id,
        "cabal-addresses-restore-20260812T090000Z"
    );
    assert!(c.rto_delta_seconds.unwrap() < 0.0, "this run was faster");
    assert!(r.simulated);
    assert!(r.recovery_point.is_some());
}

#[test]
fn a_failed_run_with_retries() {
    golden("failed", FAILED);
    let r = report_of(FAILED);
    assert_eq!(r.outcome, "failed");
    assert!(r.failures.iter().any(|f| f.then.starts_with("retried")));
}

#[test]
fn a_crashed_and_resumed_run() {
    golden("resumed", RESUMED);
    let r = report_of(RESUMED);
    assert_eq!(r.resumes.len(), 1);
    assert!(r.resumes[0].gap_seconds.as_secs() > 0);
}

/// Every start tag closed, in order, and the document parses as XML.
fn assert_well_formed(xml: &str) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut open: Vec<String> = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                open.push(e.name().0.to_owned());
                for a in e.attributes() {
                    a.expect("a well-formed attribute");
                }
            }
            Ok(Event::End(e)) => {
                let name = e.name().0.to_owned();
                assert_eq!(
                    open.pop().as_deref(),
                    Some(name.as_str()),
                    "mismatched </{name}>"
                );
            }
            Ok(Event::GeneralRef(r)) => {
                let name = r.into_inner();
                assert!(
                    ["amp", "lt", "gt", "quot", "apos"].contains(&name.as_ref())
                        || name.starts_with('#'),
                    "an entity XML does not know: &{name};"
                );
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at {}: {e}", reader.buffer_position()),
        }
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
}

#[test]
fn junit_and_html_are_well_formed_xml() {
    for fixture in [CLEAN, FAILED, RESUMED] {
        let r = report_of(fixture);
        assert_well_formed(&r.render(Format::Junit));
        assert_well_formed(&r.render(Format::Html));
    }
}

#[test]
fn junit_has_one_test_case_per_step_and_fails_the_failed_ones() {
    let r = report_of(FAILED);
    let xml = r.render(Format::Junit);
    assert_eq!(xml.matches("<testcase ").count(), r.steps.len());
    let failed = r.steps.iter().filter(|s| s.status == "failed").count();
    assert!(failed > 0);
    assert_eq!(xml.matches("<failure ").count(), failed);
}

#[test]
fn html_is_self_contained() {
    let html = report_of(CLEAN).render(Format::Html);
    assert!(html.contains("<svg"));
    assert!(html.contains("RTO target"));
    for external in ["<script", "<link", "src=\"http", "href=\"http", "url("] {
        assert!(!html.contains(external), "HTML refers to {external}");
    }
}

#[test]
fn prometheus_text_is_accepted_by_a_parser() {
    for fixture in [CLEAN, FAILED, RESUMED] {
        let r = report_of(fixture);
        let text = r.render(Format::Prometheus);
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("parses");
        let names: Vec<&str> = scrape.samples.iter().map(|s| s.metric.as_str()).collect();
        for metric in [
            "dr_drill_phase_duration_seconds",
            "dr_drill_step_failures_total",
        ] {
            assert!(names.contains(&metric), "{metric} missing in {names:?}");
        }
        for s in &scrape.samples {
            assert_eq!(s.labels.get("runbook"), Some(r.runbook.id.as_str()));
            assert!(s.labels.get("mode").is_some());
        }
        for metric in [
            "dr_drill_rto_seconds",
            "dr_drill_rpo_seconds",
            "dr_drill_last_success_timestamp_seconds",
        ] {
            assert!(text.contains(&format!("# TYPE {metric} gauge")));
        }
    }
}

#[test]
fn json_carries_its_format_version() {
    let v: serde_json::Value =
        serde_json::from_str(&report_of(CLEAN).render(Format::Json)).unwrap();
    assert_eq!(v["report_format"], 1);
    assert_eq!(v["runbook"]["id"], "cabal-addresses-restore");
}

fn dr_drill(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.current_dir(dir)
        .env("DR_DRILL_DATA_DIR", dir.join("data"))
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    cmd
}

#[test]
fn the_report_command_writes_the_formats_asked_for_where_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (set, run) = RESUMED;
    dr_drill(dir.path())
        .args(["report", &journal(set, run).display().to_string()])
        .args(["--format", "md,prom", "--out", "out"])
        .assert()
        .success()
        .stdout(predicate::str::contains("report.md").and(predicate::str::contains("report.prom")));
    assert!(dir.path().join("out/report.md").is_file());
    assert!(dir.path().join("out/report.prom").is_file());
    assert!(!dir.path().join("out/report.json").exists());
}

#[test]
fn the_report_command_names_a_missing_journal_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    dr_drill(dir.path())
        .args(["report", "no-such-run"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-run/journal.jsonl"));
    std::fs::write(dir.path().join("broken.jsonl"), "not json\n").unwrap();
    dr_drill(dir.path())
        .args(["report", "broken.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("broken.jsonl"));
}

const LEAKY: &str = r#"
[runbook]
id = "leaky"
title = "A runbook whose steps print secrets"
rto = "5m"

[params]
db_password = { secret = true }

[[step]]
id = "print"
kind = "shell"
run = "echo pw={{ params.db_password }}; echo token=$AWS_SESSION_TOKEN; echo token=$AWS_SESSION_TOKEN >> \"$DR_DRILL_OUTPUT\"; echo pw={{ params.db_password }} >> \"$DR_DRILL_OUTPUT\""
outputs = ["token", "pw"]

[[step]]
id = "fail"
needs = ["print"]
kind = "shell"
run = "echo failing with $AWS_SESSION_TOKEN {{ params.db_password }} >&2; exit 1"
ends_rto = true
"#;

#[test]
fn a_secret_param_and_an_aws_session_token_appear_in_no_report_nor_the_journal() {
    const PASSWORD: &str = "hunter2-correct-horse";
    const TOKEN: &str = "FwoGZXIvYXdzEBYaDFakeSessionTokenValue0123456789abcdefGHIJKLmnop/+Q==";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("leaky.toml"), LEAKY).unwrap();
    let data = dir.path().join("data");
    dr_drill(dir.path())
        .args(["run", "leaky.toml", "--headless"])
        .args(["--data-dir", &data.display().to_string()])
        .args(["--param", &format!("db_password={PASSWORD}")])
        .env("AWS_SESSION_TOKEN", TOKEN)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("report: "));
    let run_dir = std::fs::read_dir(data.join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // Rebuilt on demand, without the token in the environment.
    dr_drill(dir.path())
        .args(["report", &run_dir.display().to_string(), "--out", "again"])
        .assert()
        .success();
    let mut files: Vec<PathBuf> = Format::ALL
        .iter()
        .flat_map(|f| {
            [
                run_dir.join(f.file_name()),
                dir.path().join("again").join(f.file_name()),
            ]
        })
        .collect();
    files.push(run_dir.join("journal.jsonl"));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains(PASSWORD),
            "{} holds the password",
            file.display()
        );
        assert!(
            !text.contains(TOKEN),
            "{} holds the session token",
            file.display()
        );
        assert!(
            !text.contains("FwoGZXIvYXdz"),
            "{} holds part of the token",
            file.display()
        );
    }
    let md = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(md.contains("[redacted]"), "the redaction shows:\n{md}");
}

#[test]
fn every_json_field_is_documented() {
    fn keys(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    // Evidence outputs are named by the runbook, not the schema.
                    if k != "outputs" {
                        out.insert(k.clone());
                        keys(v, out);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/report-format.md"
    ))
    .unwrap();
    let mut all = std::collections::BTreeSet::new();
    for fixture in [CLEAN, FAILED, RESUMED] {
        let v: serde_json::Value =
            serde_json::from_str(&report_of(fixture).render(Format::Json)).unwrap();
        keys(&v, &mut all);
    }
    for key in all {
        assert!(
            doc.contains(&format!("`{key}`")),
            "docs/report-format.md does not mention `{key}`"
        );
    }
}

#[test]
fn hostile_text_is_escaped_in_every_format() {
    let mut r = report_of(FAILED);
    let hostile = "a <b> & \"c\" 'd' \\ | e\nf\u{1}]]>";
    r.runbook.id = format!("rb\"{hostile}");
    r.runbook.title = hostile.into();
    r.operator = hostile.into();
    for s in &mut r.steps {
        s.reason = Some(hostile.into());
    }
    for f in &mut r.failures {
        f.error = hostile.into();
    }
    assert_well_formed(&r.render(Format::Junit));
    assert_well_formed(&r.render(Format::Html));
    let prom = r.render(Format::Prometheus);
    let scrape =
        prometheus_parse::Scrape::parse(prom.lines().map(|l| Ok(l.to_owned()))).expect("parses");
    assert!(
        scrape
            .samples
            .iter()
            .all(|s| s.labels.get("runbook").is_some())
    );
    let md = r.render(Format::Markdown);
    for line in md.lines().filter(|l| l.starts_with("| `reconfigure`")) {
        // The pipe in the text does not open a column.
        assert_eq!(line.matches(" | ").count(), 4, "{line}");
    }
}

#[test]
fn a_forced_resume_reports_the_runbook_it_switched_to() {
    let (set, run) = RESUMED;
    let path = journal(set, run);
    let mut contents = dr_drill::engine::journal::read(&path).unwrap();
    let edited = contents.header.runbook_text.replace(
        "Ledger restore from the nightly dump",
        "Ledger restore, edited",
    );
    for e in &mut contents.events {
        if let dr_drill::engine::event::EventKind::RunResumed {
            runbook_text,
            runbook_sha256,
            ..
        } = &mut e.kind
        {
            *runbook_text = Some(edited.clone());
            *runbook_sha256 = Some(dr_drill::engine::journal::sha256_hex(&edited));
        }
    }
    let r = report::build(&path, &contents, &[]).unwrap();
    assert_eq!(r.runbook.title, "Ledger restore, edited");
    assert_eq!(r.runbook.sha256, contents.header.runbook_sha256);
    assert_eq!(
        r.runbook.resumed_with_sha256.as_deref(),
        Some(dr_drill::engine::journal::sha256_hex(&edited).as_str())
    );
    assert!(r.resumes[0].forced);
}

#[test]
fn a_report_that_cannot_be_written_names_the_file() {
    let r = report_of(RESUMED);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir");
    let err = r.write(&missing, &[Format::Markdown]).unwrap_err();
    assert!(err.to_string().contains("no/such/dir/report.md"), "{err}");
}

#[test]
fn an_incident_counts_from_the_declared_outage_start() {
    let (set, run) = RESUMED;
    let path = journal(set, run);
    let mut contents = dr_drill::engine::journal::read(&path).unwrap();
    let outage = contents.header.started_at - jiff::SignedDuration::from_mins(30);
    contents.header.mode = dr_drill::runbook::Mode::Incident;
    contents.header.t0 = outage;
    for e in &mut contents.events {
        if let dr_drill::engine::event::EventKind::RunStarted { mode, t0, .. } = &mut e.kind {
            *mode = dr_drill::runbook::Mode::Incident;
            *t0 = outage;
        }
    }
    let r = report::build(&path, &contents, &[]).unwrap();
    assert_eq!(r.mode, "incident");
    assert_eq!(r.t0, outage);
    // Bars on the timeline start 30 minutes after T0, where the run began.
    let first = r.steps[0].start_offset_seconds.unwrap().as_secs();
    assert!((1800..1801).contains(&first), "{first}");
}

#[test]
fn a_run_that_crashed_and_was_never_resumed_is_unfinished() {
    let (set, run) = RESUMED;
    let path = journal(set, run);
    let mut contents = dr_drill::engine::journal::read(&path).unwrap();
    let crash = contents
        .events
        .iter()
        .position(|e| {
            matches!(
                e.kind,
                dr_drill::engine::event::EventKind::RunResumed { .. }
            )
        })
        .unwrap();
    contents.events.truncate(crash);
    let r = report::build(&path, &contents, &[]).unwrap();
    assert_eq!(r.outcome, "unfinished");
    assert!(r.finished_at.is_none());
    let load = r.steps.iter().find(|s| s.id == "load-dump").unwrap();
    assert_eq!(load.status, "interrupted");
    let md = r.render(Format::Markdown);
    assert!(md.contains("**Outcome: UNFINISHED**"), "{md}");
    assert_well_formed(&r.render(Format::Html));
    assert!(
        r.render(Format::Prometheus)
            .contains("dr_drill_run_success")
    );
}

/// Sandbox drill of the shipped cabal runbook, headless; its run directory.
fn sandbox_drill(dir: &Path) -> PathBuf {
    let runbook = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/runbooks/cabal-addresses-restore.toml"
    );
    dr_drill(dir)
        .args(["run", runbook, "--headless", "--sandbox", "--speed", "3600"])
        .args([
            "--param",
            "role_arn=arn:aws:iam::111122223333:role/cabal-backup-role",
            "--param",
            "reconfigure_cmd=true",
            "--answer",
            "approve-cutover=approve",
            "--answer",
            "smoke=yes",
            "--confirm",
            "cutover=cabal-addresses",
            "--confirm",
            "drop-restored=cabal-addresses-restored",
        ])
        .assert()
        .success();
    let runs = dir.join("data/runs");
    let run = std::fs::read_dir(&runs).unwrap().next().unwrap().unwrap();
    run.path()
}

#[test]
fn no_timestamp_in_a_report_carries_fractions_of_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let run = sandbox_drill(dir.path());
    let fraction = regex::Regex::new(r"\d{2}:\d{2}:\d{2}\.\d").unwrap();
    for file in ["report.md", "report.html"] {
        let text = std::fs::read_to_string(run.join(file)).unwrap();
        assert!(
            !fraction.is_match(&text),
            "{file}: {:?}",
            fraction
                .find(&text)
                .map(|m| &text[m.start().saturating_sub(40)..m.end() + 10])
        );
        // The restore's completion is evidence, written to the second.
        assert!(text.contains("completed_at"), "{file}");
    }
}

#[test]
fn a_step_confirmed_before_it_ran_starts_when_it_was_asked() {
    use dr_drill::engine::event::{Answer, EventKind, Outcome, Question, RunEvent};
    use dr_drill::engine::timeline::Timeline;
    use std::time::Duration;
    let runbook = dr_drill::runbook::check_str(
        "[runbook]\nid = \"t\"\ntitle = \"T\"\n\n\
         [[step]]\nid = \"drop\"\nkind = \"dynamodb.delete-table\"\ntable = \"old\"\n",
    )
    .runbook
    .unwrap();
    let t0: jiff::Timestamp = "2026-11-24T03:00:00Z".parse().unwrap();
    let event = |secs: u64, kind: EventKind| RunEvent {
        at: t0 + Duration::from_secs(secs),
        elapsed: Duration::from_secs(secs),
        kind,
    };
    let step = || "drop".to_string();
    let events = [
        event(
            1,
            EventKind::HumanAsked {
                step: step(),
                question: Question::Confirm {
                    text: "old".into(),
                    action: "Drop".into(),
                    change: String::new(),
                },
            },
        ),
        event(
            30,
            EventKind::HumanAnswered {
                who: None,
                step: step(),
                by: "bob@host".into(),
                note: None,
                answer: Answer::Confirmed {
                    typed: "old".into(),
                },
            },
        ),
        event(
            30,
            EventKind::StepStarted {
                step: step(),
                attempt: 1,
            },
        ),
        event(
            30,
            EventKind::StepFinished {
                step: step(),
                outcome: Outcome::Succeeded,
                outputs: Default::default(),
                reason: None,
            },
        ),
    ];
    let timing = &Timeline::new(&runbook, &events).steps[0];
    assert_eq!(timing.started_at, Some(t0 + Duration::from_secs(1)));
    assert_eq!(timing.finished_at, Some(t0 + Duration::from_secs(30)));
    assert_eq!(timing.duration, Some(Duration::from_secs(29)));
}

#[test]
fn a_simulated_run_is_judged_in_world_time_beside_real_time() {
    // The clean run's journal, as if it ran in the sandbox at 60×: its
    // 5m 10s of real time stand for 5h 10m in the world, over the 2h RTO.
    let text = std::fs::read_to_string(journal(CLEAN.0, CLEAN.1)).unwrap();
    let (head, events) = text.split_once('\n').unwrap();
    let mut header: serde_json::Value = serde_json::from_str(head).unwrap();
    header["world"] = serde_json::json!({
        "kind": "sandbox", "speed": 60.0, "faults": [], "epoch": "2026-11-17T09:00:00Z"
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    std::fs::write(&path, format!("{header}\n{events}")).unwrap();

    let real = report_of(CLEAN);
    assert_eq!(real.rto.verdict, report::Verdict::Pass, "5m 10s against 2h");
    assert!(real.world_time.is_none() && real.rto.world_speed.is_none());

    let r = report::from_journal(&path, None).unwrap();
    assert_eq!(
        r.rto.achieved_seconds, real.rto.achieved_seconds,
        "real time"
    );
    let world = r.rto.world_achieved_seconds.unwrap();
    assert_eq!(world, real.rto.achieved_seconds.unwrap() * 60);
    assert_eq!(r.rto.verdict, report::Verdict::Fail, "judged in world time");
    assert_eq!(r.rpo.verdict, real.rpo.verdict, "points are world moments");

    let md = r.render(Format::Markdown);
    assert!(
        md.contains(
            "RTO 5m 10s real = 5h 10m simulated at 60× against 2h (judged in world time): FAIL"
        ),
        "{md}"
    );
    assert!(md.contains("| Time | "), "{md}");
    assert!(md.contains("simulated at 60×; the RTO is judged in world time"));
    assert!(md.contains("| completed_at | `"));
    assert!(
        md.lines()
            .filter(|l| l.contains("| completed_at |"))
            .all(|l| l.ends_with("(world time) |")),
        "{md}"
    );
    let json: serde_json::Value = serde_json::from_str(&r.render(Format::Json)).unwrap();
    assert_eq!(json["rto"]["world_speed"], 60.0);
    let world_secs = json["rto"]["world_achieved_seconds"].as_f64().unwrap();
    assert!(
        (world_secs - world.as_secs_f64()).abs() < 0.01,
        "{world_secs}"
    );
    assert_eq!(json["world_time"]["speed"], 60.0);
    let html = r.render(Format::Html);
    assert!(html.contains("(judged in world time)") && html.contains("(world time)"));
}
