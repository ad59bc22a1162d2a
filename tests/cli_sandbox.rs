//! The simulated world through the binary: `--sandbox` is labelled
//! SIMULATED, reads no credentials, and fences shell steps off from AWS.

use assert_cmd::Command;
use predicates::prelude::*;

fn dr_drill() -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    // Real-looking credentials that the sandbox must not pass on.
    cmd.env("AWS_ACCESS_KEY_ID", "AKIAREALREALREAL0000")
        .env("AWS_SECRET_ACCESS_KEY", "real-secret")
        .env("AWS_PROFILE", "production");
    cmd
}

#[test]
fn points_in_the_sandbox_are_labelled_simulated() {
    let out = dr_drill()
        .args(["points", "--sandbox", "--vault", "cabal-backup"])
        .args(["--vault", "cabal-backup-dr@us-west-2", "--output", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["simulated"], true);
    assert_eq!(doc["identity"]["simulated"], true);
    let points = doc["points"].as_array().unwrap();
    assert!(points.len() > 700, "a year of nightly points in two vaults");
    assert!(
        points
            .iter()
            .any(|p| p["region"] == "us-west-2" && p["copied_from"].is_string())
    );
    dr_drill()
        .args(["points", "--sandbox", "--table", "cabal-counter"])
        .assert()
        .success()
        .stdout(predicate::str::contains("SIMULATED world"));
}

#[test]
fn sandbox_and_real_endpoints_do_not_mix() {
    dr_drill()
        .args(["points", "--sandbox", "--profile", "prod", "--vault", "v"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}

#[test]
fn shell_steps_in_the_sandbox_get_no_aws_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("fence.toml");
    std::fs::write(
        &runbook,
        r#"
[runbook]
id = "fence"
title = "What a shell step sees in the sandbox"

[[step]]
id = "env"
kind = "shell"
run = "echo key=[$AWS_ACCESS_KEY_ID] profile=$AWS_PROFILE endpoint=$AWS_ENDPOINT_URL sandbox=$DR_DRILL_SANDBOX"
"#,
    )
    .unwrap();
    dr_drill()
        .args(["run", runbook.to_str().unwrap(), "--headless", "--sandbox"])
        .arg("--data-dir")
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("acting as SIMULATED world"))
        .stdout(predicate::str::contains(
            "env | key=[] profile=dr-drill-sandbox endpoint=http://127.0.0.1:9 sandbox=1",
        ));
}

#[test]
fn a_bad_fault_lists_the_valid_ones() {
    dr_drill()
        .args([
            "points",
            "--sandbox",
            "--fault",
            "copy-job-explodes",
            "--vault",
            "v",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("copy-job-fails"));
}
