//! The simulated world through the binary: `--sandbox` is labelled
//! SIMULATED, reads no credentials, and fences shell steps off from AWS.

use assert_cmd::Command;
use predicates::prelude::*;

fn dr_drill() -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    // Real-looking credentials that the sandbox must not pass on.
    cmd.env("AWS_ACCESS_KEY_ID", "AKIAREALREALREAL0000")
        .env("AWS_SECRET_ACCESS_KEY", "real-secret")
        .env("AWS_PROFILE", "production")
        // Where a pod (EKS) or a task (ECS) gets its credentials from.
        .env("AWS_ROLE_ARN", "arn:aws:iam::999999999999:role/prod-admin")
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/token")
        .env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://169.254.170.23/v1/credentials",
        )
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "real-token");
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

[[step]]
id = "roles"
kind = "shell"
run = "echo role=${AWS_ROLE_ARN-unset} token=${AWS_WEB_IDENTITY_TOKEN_FILE-unset} container=${AWS_CONTAINER_CREDENTIALS_FULL_URI-unset}${AWS_CONTAINER_AUTHORIZATION_TOKEN-unset}"
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
        ))
        .stdout(predicate::str::contains(
            "roles | role=unset token=unset container=unsetunset",
        ));
}

#[test]
fn a_missing_vault_is_named_as_on_aws() {
    // The same words as tests/it/cli_aws.rs expects from the AWS implementation.
    dr_drill()
        .args(["points", "--sandbox", "--vault", "cabal-backup@eu-west-1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "ListRecoveryPointsByBackupVault on backup vault cabal-backup in eu-west-1 failed",
        ))
        .stderr(predicate::str::contains("has it in us-east-1"))
        .stderr(predicate::str::contains("Check the name and the region"));
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

#[test]
fn the_shipped_cabal_addresses_drill_runs_end_to_end_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/runbooks/cabal-addresses-restore.toml"
    );
    dr_drill()
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
        .arg("--data-dir")
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "pick: chose arn:aws:backup:us-east-1:111122223333:recovery-point:",
        ))
        .stdout(predicate::str::contains("restore: restore job"))
        .stdout(predicate::str::contains("% done").or(predicate::str::contains("%)")))
        .stdout(predicate::str::contains("%%").not())
        .stdout(predicate::str::contains("cutover: succeeded [items_read="))
        .stdout(predicate::str::contains(
            "drop-restored: succeeded [status=DELETING",
        ))
        .stdout(predicate::str::contains("RTO"))
        .stdout(predicate::str::contains("run succeeded"));

    // The report reads the run in world time beside real time, and judges
    // the RTO in world time: a restore of world hours is not "14s".
    let report = std::fs::read_to_string(report_md(dir.path())).unwrap();
    let headline = report.lines().find(|l| l.starts_with("**Outcome")).unwrap();
    assert!(
        headline.contains("real = ")
            && headline.contains("simulated at 3600×")
            && headline.contains("against 2h (judged in world time)"),
        "{headline}"
    );
    let time = report.lines().find(|l| l.starts_with("| Time |")).unwrap();
    assert!(time.contains("simulated at 3600×"), "{time}");
    assert!(time.contains("the RTO is judged in world time"), "{time}");
    let rto = report.lines().find(|l| l.starts_with("| RTO |")).unwrap();
    assert!(
        rto.contains("real = ") && rto.contains("simulated"),
        "{rto}"
    );
    assert!(
        report
            .lines()
            .any(|l| l.contains("| completed_at |") && l.ends_with("(world time) |")),
        "{report}"
    );
}

/// The `report.md` of the only run under `data_dir`.
fn report_md(data_dir: &std::path::Path) -> std::path::PathBuf {
    let mut found = Vec::new();
    let mut dirs = vec![data_dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n == "report.md") {
                found.push(path);
            }
        }
    }
    assert_eq!(found.len(), 1, "one report under {}", data_dir.display());
    found.remove(0)
}

#[test]
fn waiting_for_an_archived_object_nobody_restores_fails_at_once() {
    let out = dr_drill()
        .args(["points", "--sandbox", "--output", "json", "--limit", "1"])
        .args([
            "--bucket",
            "closient-disaster-recovery-backup",
            "--prefix",
            "media/",
        ])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = doc["points"][0]["key"].as_str().unwrap().to_owned();
    assert_eq!(doc["points"][0]["archive"]["state"], "needed");
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("thawed.toml");
    std::fs::write(
        &runbook,
        format!(
            r#"
[runbook]
id = "thawed"
title = "Wait for a restore no one asked for"

[[step]]
id = "thawed"
kind = "wait"
until = {{ bucket = "closient-disaster-recovery-backup", key = "{key}" }}
timeout = "12h"
"#
        ),
    )
    .unwrap();
    dr_drill()
        .args(["run", runbook.to_str().unwrap(), "--headless", "--sandbox"])
        .arg("--data-dir")
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no restore was requested"))
        .stdout(predicate::str::contains("s3.restore-object"));
}

#[test]
fn a_manifest_that_cannot_be_read_is_not_reported_as_missing() {
    let bucket = "closient-disaster-recovery-backup";
    let out = dr_drill()
        .args(["points", "--sandbox", "--output", "json", "--limit", "1"])
        .args(["--bucket", bucket, "--prefix", "database/"])
        .args(["--suffix", "backup.dump"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = doc["points"][0]["key"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("verify.toml");
    std::fs::write(
        &runbook,
        format!(
            r#"
[runbook]
id = "verify"
title = "Verify a dump whose checksum is in its manifest"

[[step]]
id = "verify"
kind = "s3.verify-checksum"
bucket = "{bucket}"
key = "{key}"
"#
        ),
    )
    .unwrap();
    dr_drill()
        .args(["run", runbook.to_str().unwrap(), "--headless", "--sandbox"])
        // The step's own behaviour: preflight would stop the run first.
        .args(["--no-preflight", "--fault", "access-denied=GetObject"])
        .arg("--data-dir")
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("manifest.json failed"))
        .stdout(predicate::str::contains("s3:GetObject"))
        .stdout(predicate::str::contains("records no SHA-256").not());
}

/// The runbook's durations are the world's: at `--speed 3600` a retry's
/// 10-minute backoff and a 30-minute `wait` last a fraction of a second,
/// not ten and thirty real minutes.
#[test]
fn a_retrys_backoff_and_a_fixed_wait_run_at_the_sandboxs_speed() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("speed.toml");
    std::fs::write(
        &runbook,
        r#"
[runbook]
id = "speed"
title = "Backoff and waits in world time"

[[step]]
id = "flaky"
kind = "shell"
run = "test -f tried || { touch tried; echo first try fails; exit 1; }"
retry = { attempts = 2, backoff = "10m" }

[[step]]
id = "settle"
kind = "wait"
duration = "30m"
needs = ["flaky"]
"#,
    )
    .unwrap();
    let started = std::time::Instant::now();
    dr_drill()
        .args(["run", runbook.to_str().unwrap(), "--headless", "--sandbox"])
        .args(["--speed", "3600"])
        .arg("--data-dir")
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success()
        .stdout(predicate::str::contains("first try fails"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

/// A step that needs a PostgreSQL server, and none answers where the
/// environment points: the run is refused before its first step, naming
/// where it looked and the step that needs it.
#[test]
fn a_postgres_server_that_does_not_answer_is_named_before_any_step_runs() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("server.toml");
    std::fs::write(
        &runbook,
        r#"
[runbook]
id = "server"
title = "Restore into a server that is not there"

[[step]]
id = "first"
kind = "shell"
run = "echo first step ran"

[[step]]
id = "restore"
kind = "shell"
run = "echo restored"
requires = ["sh", "postgres-server"]
needs = ["first"]
"#,
    )
    .unwrap();
    let nowhere = dir.path().join("no-server-here");
    std::fs::create_dir(&nowhere).unwrap();
    dr_drill()
        .args(["run", runbook.to_str().unwrap(), "--headless", "--sandbox"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("PGHOST", &nowhere)
        .env("PGPORT", "1")
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stdout(predicate::str::contains("first step ran").not())
        .stderr(predicate::str::contains(
            "no PostgreSQL server accepts connections at PGHOST=",
        ))
        .stderr(predicate::str::contains("PGPORT=1"))
        .stderr(predicate::str::contains("`postgres-server` (step restore)"))
        .stderr(predicate::str::contains("Nothing was run."));
}

/// Issue #13, item 10: a phase's budget is the world's, like the RTO. A
/// 30-minute `wait` at `--speed 600` lasts about 3 real seconds and goes
/// over a 10-minute budget; a 2-hour budget holds. The summary, report.md
/// and report.json say so, with world time beside real time.
#[test]
fn a_phase_budget_in_a_simulated_run_is_judged_in_world_time() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("budget.toml");
    std::fs::write(
        &runbook,
        r#"
[runbook]
id = "budget"
title = "Phase budgets in world time"
rto = "20m"
rpo = "26h"

[[phase]]
id = "tight"
budget = "10m"

[[phase]]
id = "roomy"
budget = "2h"

[[step]]
id = "pick"
phase = "tight"
kind = "pick-recovery-point"
source = { backup_vault = "cabal-backup", resource_type = "DynamoDB" }
policy = "latest"

[[step]]
id = "settle"
phase = "tight"
kind = "wait"
duration = "30m"

[[step]]
id = "done"
phase = "roomy"
needs = ["settle"]
kind = "shell"
run = "true"
ends_rto = true
"#,
    )
    .unwrap();
    let out = dr_drill()
        .args(["run", runbook.to_str().unwrap(), "--headless", "--sandbox"])
        .args(["--speed", "600"])
        .arg("--data-dir")
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let summary = stdout.rsplit_once("\nsummary\n").map_or("", |(_, s)| s);
    let line = |name: &str| {
        summary
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line: {stdout}"))
            .to_owned()
    };
    assert!(
        line("phase tight").contains("simulated at 600×")
            && line("phase tight").contains("OVER its budget of 10m"),
        "{stdout}"
    );
    assert!(
        line("phase roomy").contains("within its budget"),
        "{stdout}"
    );
    assert!(
        line("RTO").contains("real = ") && line("RTO").ends_with("MISSED"),
        "the RTO is judged in world time too: {stdout}"
    );
    // Recovery points are the world's own moments: the RPO is not scaled.
    assert!(
        !line("RPO").contains("simulated") && line("RPO").ends_with("met"),
        "{stdout}"
    );
    let report = crate::support::drill::report(dir.path());
    let tight = &report["phases"][0];
    assert_eq!(tight["over_budget"], true, "{tight}");
    assert!(
        tight["world_duration_seconds"].as_f64().unwrap() >= 1800.0,
        "{tight}"
    );
    assert!(
        tight["duration_seconds"].as_f64().unwrap() < 600.0,
        "{tight}"
    );
    assert_eq!(report["phases"][1]["over_budget"], false);
    let md = std::fs::read_to_string(report_md(dir.path())).unwrap();
    assert!(
        md.contains(" real = ") && md.contains(" simulated |"),
        "{md}"
    );
}

/// A table whose KMS key is inaccessible never becomes ACTIVE by waiting
/// (botocore `dynamodb` 2012-08-10, `TableStatus`): `dynamodb.wait-active`
/// fails at once, naming the state and what to do, instead of polling until
/// its timeout.
// rule: ddb-wait-active-terminal-states
#[test]
fn wait_active_fails_at_once_on_a_table_whose_key_is_inaccessible() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("wait.toml");
    std::fs::write(
        &runbook,
        r#"
[runbook]
id = "wait-inaccessible"
title = "Wait for a restored table whose key is gone"

[[step]]
id = "restore"
kind = "dynamodb.restore-to-point-in-time"
source_table = "cabal-counter"
target_table = "cabal-counter-restored"

[[step]]
id = "active"
needs = ["restore"]
kind = "dynamodb.wait-active"
table = "{{ steps.restore.table_name }}"
timeout = "45m"
"#,
    )
    .unwrap();
    let started = std::time::Instant::now();
    dr_drill()
        .args(["run", runbook.to_str().unwrap(), "--headless", "--sandbox"])
        .args(["--fault", "inaccessible-key=cabal-counter-restored"])
        .arg("--data-dir")
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "table cabal-counter-restored is INACCESSIBLE_ENCRYPTION_CREDENTIALS",
        ))
        .stdout(predicate::str::contains("KMS key"))
        .stdout(predicate::str::contains("timed out").not());
    // 45 world minutes at the default speed (60) would be 45 real seconds.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

/// `points --bucket` says a listed object's Object Lock: `locked` in JSON
/// for the GTIN1 dumps, `unknown` when the caller lacks
/// s3:GetObjectRetention (the table then counts them in a closing line).
// rule: s3-object-lock-unknown
#[test]
fn points_in_a_locked_bucket_say_when_object_lock_is_unknown() {
    let args = [
        "points",
        "--sandbox",
        "--bucket",
        "closient-disaster-recovery-backup",
        "--prefix",
        "database/gtin1/weekly/",
        "--suffix",
        "backup.dump",
    ];
    let out = dr_drill()
        .args(args)
        .args(["--output", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let points = doc["points"].as_array().unwrap();
    assert_eq!(points.len(), 4);
    assert!(
        points
            .iter()
            .all(|p| p["object_lock"]["state"] == "locked"
                && p["object_lock"]["mode"] == "GOVERNANCE")
    );
    let out = dr_drill()
        .args(args)
        .args([
            "--fault",
            "access-denied=GetObjectRetention",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let points = doc["points"].as_array().unwrap();
    assert!(
        points
            .iter()
            .all(|p| p["object_lock"]["state"] == "unknown")
    );
    dr_drill()
        .args(args)
        .args(["--fault", "access-denied=GetObjectRetention"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Object Lock unknown for 4 points (HeadObject shows Object Lock only with s3:GetObjectRetention)",
        ));
}
