//! `dr-drill points` and `dr-drill run` against moto's server through the
//! real binary: flags, `AWS_ENDPOINT_URL`, credentials, exit codes.

use assert_cmd::Command;
use predicates::prelude::*;

use crate::support::{moto, unique};

fn dr_drill() -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.env_remove("AWS_PROFILE").envs(moto().env());
    cmd
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

fn vault(name: &str, region: &str) {
    block_on(
        moto()
            .backup(region)
            .create_backup_vault()
            .backup_vault_name(name)
            .send(),
    )
    .unwrap();
}

#[test]
fn points_lists_primary_and_dr_vaults_side_by_side_as_json() {
    let primary = unique("cli-primary");
    let dr = unique("cli-dr");
    vault(&dr, "us-west-2");
    moto().seed_points(
        "us-east-1",
        &primary,
        30,
        "arn:aws:dynamodb:us-east-1:123456789012:table/cabal-addresses",
    );
    moto().seed_points(
        "us-west-2",
        &dr,
        5,
        "arn:aws:dynamodb:us-east-1:123456789012:table/cabal-addresses",
    );
    let out = dr_drill()
        .args([
            "points",
            "--vault",
            &primary,
            "--vault",
            &format!("{dr}@us-west-2"),
        ])
        .args(["--resource-type", "DynamoDB", "--output", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["simulated"], false);
    assert_eq!(doc["identity"]["endpoint"], moto().endpoint.as_str());
    let points = doc["points"].as_array().unwrap();
    assert_eq!(points.len(), 35);
    assert_eq!(
        points.iter().filter(|p| p["region"] == "us-west-2").count(),
        5
    );
    let times: Vec<&str> = points
        .iter()
        .map(|p| p["created_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
}

#[test]
fn points_as_a_table_says_what_it_listed_and_the_rpo() {
    let v = unique("cli-table");
    moto().seed_points(
        "us-east-1",
        &v,
        3,
        "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1",
    );
    dr_drill()
        .args(["points", "--vault", &v, "--limit", "2"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "Recovery points in vault {v}"
        )))
        .stdout(predicate::str::contains("CREATED (UTC)"))
        .stdout(predicate::str::contains("2 points, 2 restorable"))
        .stdout(predicate::str::contains("(the RPO if restored now)"));
}

#[test]
fn a_missing_vault_names_the_action_the_vault_and_the_region() {
    dr_drill()
        .args(["points", "--vault", "no-such-vault@eu-west-1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "ListRecoveryPointsByBackupVault on backup vault no-such-vault in eu-west-1 failed",
        ))
        .stderr(predicate::str::contains("Check the name and the region"));
}

const COUNT_RUNBOOK: &str = r#"
[runbook]
id = "cli-aws"
title = "Count a table"

[params]
table = { required = true }

[[step]]
id = "count"
kind = "dynamodb.count"
table = "{{ params.table }}"
"#;

#[test]
fn a_headless_run_acts_on_the_endpoint_and_journals_the_identity() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("count.toml");
    std::fs::write(&runbook, COUNT_RUNBOOK).unwrap();
    let table = unique("cli-count");
    block_on(async {
        use aws_sdk_dynamodb::types::*;
        moto().create_pk_table("us-east-1", &table).await;
        let db = moto().dynamodb("us-east-1");
        for i in 0..7 {
            db.put_item()
                .table_name(&table)
                .item("pk", AttributeValue::S(format!("k{i}")))
                .send()
                .await
                .unwrap();
        }
    });
    let data = dir.path().join("data");
    dr_drill()
        .args(["run", runbook.to_str().unwrap(), "--headless"])
        .args(["--param", &format!("table={table}")])
        .arg("--data-dir")
        .arg(&data)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "acting as AWS account 123456789012, region us-east-1 (key AKIA…1234, endpoint {})",
            moto().endpoint
        )))
        .stdout(predicate::str::contains("count: succeeded [items=7]"));
    let run_dir = std::fs::read_dir(data.join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let journal = std::fs::read_to_string(run_dir.join("journal.jsonl")).unwrap();
    assert!(
        journal.contains(r#""event":"cloud_connected""#) && journal.contains(&moto().endpoint),
        "{journal}"
    );
}

#[test]
fn without_credentials_nothing_runs_and_the_fix_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("count.toml");
    std::fs::write(&runbook, COUNT_RUNBOOK).unwrap();
    dr_drill()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("HOME", dir.path())
        .args(["run", runbook.to_str().unwrap(), "--headless"])
        .args(["--param", "table=anything"])
        .arg("--data-dir")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: No AWS credentials were found",
        ))
        .stderr(predicate::str::contains("--sandbox"))
        .stderr(predicate::str::contains("aws sso login"))
        .stderr(predicate::str::contains("Nothing was run."));
    assert!(!dir.path().join("runs").exists());
}
