//! `dr-drill preflight` and the preflight before a headless run (#16,
//! items 1 and 8): exit codes, the table and the JSON document, a failed
//! check stopping a headless run with exit 2 unless `--force`, and the
//! journal and report carrying the preflight the run started with.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

/// A shell runbook whose second step needs a program no machine has.
const MISSING_TOOL: &str = r#"
[runbook]
id = "missing-tool"
title = "A step needs a program this machine lacks"

[[step]]
id = "first"
kind = "shell"
run = "echo first step ran"
requires = ["sh"]

[[step]]
id = "restore"
kind = "shell"
run = "no-such-program-xyz --restore"
requires = ["no-such-program-xyz"]
needs = ["first"]
"#;

/// The same without the missing program: all clear.
const ALL_CLEAR: &str = r#"
[runbook]
id = "all-clear"
title = "Nothing is missing"

[[step]]
id = "first"
kind = "shell"
run = "echo first step ran"
requires = ["sh"]
"#;

fn runbook(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("runbook.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn dr_drill(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.current_dir(dir)
        .env("DR_DRILL_DATA_DIR", dir.join("data"))
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        .timeout(std::time::Duration::from_secs(60));
    cmd
}

fn run_dirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir.join("data/runs"))
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

/// The timing of the last line varies; everything else is pinned.
fn without_timing(text: &str) -> String {
    let re = regex::Regex::new(r"failed in [0-9.]+ s").unwrap();
    re.replace_all(text, "failed in X s").into_owned()
}

#[test]
fn a_failed_check_exits_one_with_a_table_grouped_by_area() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), MISSING_TOOL);
    let out = dr_drill(dir.path())
        .args(["preflight", path.to_str().unwrap(), "--sandbox"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(out).unwrap();
    for line in table.lines() {
        assert!(line.chars().count() <= 80, "over 80 columns: {line:?}");
    }
    assert!(!table.contains('\x1b'), "no colour when not a terminal");
    insta::assert_snapshot!(without_timing(&table));
    assert!(run_dirs(dir.path()).is_empty(), "preflight runs nothing");
}

#[test]
fn all_clear_exits_zero_and_json_is_one_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), ALL_CLEAR);
    let out = dr_drill(dir.path())
        .args(["preflight", path.to_str().unwrap(), "--output", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("one JSON document");
    let findings = doc["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["verdict"] != "fail"));
    assert!(
        findings
            .iter()
            .any(|f| f["area"] == "tools" && f["subject"] == "sh")
    );
    assert!(doc["took"].as_f64().is_some() && doc["at"].is_string());

    let failed = dr_drill(dir.path())
        .args([
            "preflight",
            runbook(dir.path(), MISSING_TOOL).to_str().unwrap(),
        ])
        .args(["--output", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&failed).unwrap();
    let fail = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["verdict"] == "fail")
        .expect("the missing program fails");
    assert_eq!(fail["subject"], "no-such-program-xyz");
    assert!(fail["fix"].as_str().unwrap().contains("install"));
}

#[test]
fn an_invalid_runbook_or_a_bad_parameter_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), "[runbook]\nid = \"x\"\n");
    dr_drill(dir.path())
        .args(["preflight", path.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has errors; nothing was checked"));
    let path = runbook(dir.path(), ALL_CLEAR);
    dr_drill(dir.path())
        .args(["preflight", path.to_str().unwrap(), "--param", "nope=1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope"));
}

#[test]
fn a_failed_preflight_stops_a_headless_run_with_exit_two() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), MISSING_TOOL);
    dr_drill(dir.path())
        .args(["run", path.to_str().unwrap(), "--headless", "--sandbox"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "FAIL       step restore: no-such-program-xyz",
        ))
        .stdout(predicate::str::contains("first step ran").not())
        .stderr(predicate::str::contains("preflight found 1 failed check"))
        .stderr(predicate::str::contains("--force"))
        .stderr(predicate::str::contains("Nothing was run."));
    assert!(
        run_dirs(dir.path()).is_empty(),
        "no journal: nothing started"
    );

    // JSON Lines: one preflight_ran line, and nothing else on stdout.
    let out = dr_drill(dir.path())
        .args(["run", path.to_str().unwrap(), "--headless", "--sandbox"])
        .args(["--output", "json"])
        .assert()
        .code(2)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(line["event"], "preflight_ran");
    assert_eq!(line["forced"], false);
}

#[test]
fn no_preflight_skips_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), ALL_CLEAR);
    dr_drill(dir.path())
        .args([
            "run",
            path.to_str().unwrap(),
            "--headless",
            "--no-preflight",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("preflight").not())
        .stdout(predicate::str::contains("first step ran"));
    let runs = run_dirs(dir.path());
    let journal = std::fs::read_to_string(runs[0].join("journal.jsonl")).unwrap();
    assert!(!journal.contains("preflight_ran"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs[0].join("report.json")).unwrap())
            .unwrap();
    assert!(report.get("preflight").is_none_or(|p| p.is_null()));
}

#[test]
fn force_runs_despite_a_failed_check_and_the_journal_and_report_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), MISSING_TOOL);
    dr_drill(dir.path())
        .args([
            "run",
            path.to_str().unwrap(),
            "--headless",
            "--sandbox",
            "--force",
        ])
        .assert()
        // The step that needs the missing program fails when it runs.
        .code(1)
        .stdout(predicate::str::contains("first step ran"))
        .stdout(predicate::str::contains("FORCED past a failed check"))
        .stderr(predicate::str::contains("going on anyway (--force)"));
    let runs = run_dirs(dir.path());
    assert_eq!(runs.len(), 1);
    let journal = std::fs::read_to_string(runs[0].join("journal.jsonl")).unwrap();
    let ran: Vec<serde_json::Value> = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "preflight_ran")
        .collect();
    assert_eq!(ran.len(), 1, "one preflight_ran event");
    assert_eq!(ran[0]["forced"], true);
    // Written before the first step.
    let first_step = journal.find("step_started").unwrap();
    assert!(journal.find("preflight_ran").unwrap() < first_step);

    // Every report format says the preflight the run started with.
    let read = |name: &str| std::fs::read_to_string(runs[0].join(name)).unwrap();
    let report: serde_json::Value = serde_json::from_str(&read("report.json")).unwrap();
    let preflight = &report["preflight"];
    assert_eq!(preflight["forced"], true);
    let summary = preflight["summary"].as_str().unwrap();
    assert!(
        summary.ends_with(" ok, 0 warnings, 0 unchecked, 1 failed"),
        "{summary}"
    );
    assert!(
        preflight["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["verdict"] == "fail" && f["subject"] == "no-such-program-xyz")
    );
    let md = read("report.md");
    assert!(md.contains("## Preflight"), "{md}");
    assert!(md.contains("FORCED past a failed check"), "{md}");
    assert!(
        md.contains("- **FAIL** tools: step restore: no-such-program-xyz — missing from PATH"),
        "{md}"
    );
    assert!(read("report.html").contains("<h2>Preflight</h2>"));
    assert!(read("report.junit.xml").contains("<property name=\"preflight\" value=\""));
    let prom = read("report.prom");
    assert!(prom.contains(r#"verdict="fail"} 1"#), "{prom}");
    assert!(prom.contains(r#"verdict="warn"} 0"#), "{prom}");
    assert!(prom.contains("dr_drill_preflight_forced{"), "{prom}");
}

#[test]
fn identity_names_the_account_principal_and_role_and_warns_on_another_account() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(
        dir.path(),
        r#"
[runbook]
id = "other-account"
title = "A role ARN in another account"

[params]
role_arn = { default = "arn:aws:iam::999999999999:role/restore" }

[[step]]
id = "first"
kind = "shell"
run = "echo {{ params.role_arn }}"
"#,
    );
    let out = dr_drill(dir.path())
        .args([
            "preflight",
            path.to_str().unwrap(),
            "--sandbox",
            "--output",
            "json",
        ])
        .assert()
        // A warning is not a failure.
        .code(0)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let identity: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["area"] == "identity")
        .collect();
    let subjects: Vec<&str> = identity
        .iter()
        .map(|f| f["subject"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&"principal"), "{subjects:?}");
    assert!(
        subjects.iter().any(|s| s.starts_with("role ")),
        "the simulated operator is an assumed role: {subjects:?}"
    );
    let warned = identity
        .iter()
        .find(|f| f["verdict"] == "warn")
        .expect("another account is a warning");
    assert!(
        warned["detail"].as_str().unwrap().contains("999999999999"),
        "{warned}"
    );
}

/// A step `only_in` the other mode is not checked: it does not run.
#[test]
fn a_step_only_in_the_other_mode_is_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let text = MISSING_TOOL.replace(
        "requires = [\"no-such-program-xyz\"]",
        "requires = [\"no-such-program-xyz\"]\nonly_in = \"incident\"",
    );
    let path = runbook(dir.path(), &text);
    dr_drill(dir.path())
        .args(["preflight", path.to_str().unwrap(), "--sandbox"])
        .args(["--mode", "drill"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("no-such-program-xyz").not());
    dr_drill(dir.path())
        .args(["preflight", path.to_str().unwrap(), "--sandbox"])
        .args(["--mode", "incident"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no-such-program-xyz"));
}
