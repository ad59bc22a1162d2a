//! Running the shipped runbooks headless from the tests, and reading what a
//! run left behind: its directory, its report.json, a step's status and
//! outputs.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The path of the shipped runbook `runbooks/NAME.toml`.
pub fn runbook(name: &str) -> String {
    format!("{}/runbooks/{name}.toml", env!("CARGO_MANIFEST_DIR"))
}

/// Runs a future to its end on a fresh runtime.
pub fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

/// `--flag NAME=VALUE` for each pair.
pub fn flags(flag: &str, pairs: &[(&str, &str)]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|(k, v)| [flag.to_owned(), format!("{k}={v}")])
        .collect()
}

/// The `--param NAME=VALUE` arguments `dr-drill demo` gives `runbook`.
pub fn demo_params(runbook: &str) -> Vec<String> {
    let out = assert_cmd::Command::cargo_bin("dr-drill")
        .unwrap()
        .args(["demo", "--runbook", runbook, "--print-params"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{runbook}: demo --print-params failed"
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .flat_map(|line| ["--param".to_owned(), line.to_owned()])
        .collect()
}

/// The one run under the data directory `data`.
pub fn run_dir(data: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(data.join("runs"))
        .expect("a runs directory")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "one run: {runs:?}");
    runs.into_iter().next().unwrap()
}

/// The report.json of the one run under `data`.
pub fn report(data: &Path) -> Value {
    let text = std::fs::read_to_string(run_dir(data).join("report.json")).expect("report.json");
    serde_json::from_str(&text).unwrap()
}

/// Step `id` as the report lists it (`status`, `attempts`, ...).
pub fn step<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in the report"))
}

/// The status of step `id` in the report (`succeeded`, `failed`, ...).
pub fn step_status(report: &Value, id: &str) -> String {
    step(report, id)["status"].as_str().unwrap().to_owned()
}

/// The outputs of step `id` in the report's evidence.
pub fn outputs<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["step"] == id)
        .map(|e| &e["outputs"])
        .unwrap_or_else(|| panic!("no evidence of step {id} in the report"))
}

/// Output `name` of step `id` in the report's evidence, as text.
pub fn output(report: &Value, id: &str, name: &str) -> String {
    match &outputs(report, id)[name] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `bytes` as `gzip -9 -n` compresses them.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "gzip failed");
    out.stdout
}
