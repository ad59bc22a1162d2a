//! The shipped Cabalmail runbooks, headless end to end: against moto (with
//! dr-drill's AWS Backup extension) through the binary, and in the
//! simulated world (`--sandbox`). Commands we cannot run here (ECS,
//! terraform) are parameters whose test values are local stand-ins.

mod support;

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use aws_sdk_dynamodb::types::{AttributeValue, PointInTimeRecoverySpecification};
use support::drill::{block_on, flags, report, run_dir, runbook, step};
use support::{moto, unique};

const ROLE: &str = "arn:aws:iam::123456789012:role/cabal-backup-role";

/// `dr-drill` against moto.
fn on_moto() -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.env_remove("AWS_PROFILE").envs(moto().env());
    cmd
}

/// `dr-drill` for a sandbox run (no credentials at all).
fn in_sandbox() -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    for var in [
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ENDPOINT_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs `dr-drill run FILE --headless ARGS --data-dir DIR`.
fn run(mut cmd: Command, file: &str, args: &[String], data: &Path) -> Output {
    cmd.args(["run", file, "--headless"])
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[track_caller]
fn succeeded(out: &Output) -> String {
    let all = text(out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("run succeeded"), "{all}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[track_caller]
fn failed(out: &Output) -> String {
    let all = text(out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn args(
    params: &[(&str, &str)],
    confirms: &[(&str, &str)],
    answers: &[(&str, &str)],
) -> Vec<String> {
    let mut all = flags("--param", params);
    all.extend(flags("--confirm", confirms));
    all.extend(flags("--answer", answers));
    all
}

// ------------------------------------------------------------ moto helpers

/// A table keyed by `pk` holding `items` items, optionally with PITR.
fn table(region: &str, name: &str, items: usize, pitr: bool) {
    block_on(async {
        moto().create_pk_table(region, name).await;
        let db = moto().dynamodb(region);
        for i in 0..items {
            db.put_item()
                .table_name(name)
                .item("pk", AttributeValue::S(format!("k{i}")))
                .item("v", AttributeValue::S(format!("good-{i}")))
                .send()
                .await
                .unwrap();
        }
        if pitr {
            db.update_continuous_backups()
                .table_name(name)
                .point_in_time_recovery_specification(
                    PointInTimeRecoverySpecification::builder()
                        .point_in_time_recovery_enabled(true)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
    });
}

fn table_exists(region: &str, name: &str) -> bool {
    block_on(
        moto()
            .dynamodb(region)
            .describe_table()
            .table_name(name)
            .send(),
    )
    .is_ok()
}

fn count(region: &str, name: &str) -> usize {
    block_on(moto().dynamodb(region).scan().table_name(name).send())
        .unwrap()
        .items()
        .len()
}

fn item(region: &str, table: &str, pk: &str) -> Option<String> {
    let out = block_on(
        moto()
            .dynamodb(region)
            .get_item()
            .table_name(table)
            .key("pk", AttributeValue::S(pk.into()))
            .send(),
    )
    .unwrap();
    out.item()
        .and_then(|i| i.get("v"))
        .and_then(|v| v.as_s().ok())
        .cloned()
}

fn put(region: &str, table: &str, pk: &str, v: &str) {
    block_on(
        moto()
            .dynamodb(region)
            .put_item()
            .table_name(table)
            .item("pk", AttributeValue::S(pk.into()))
            .item("v", AttributeValue::S(v.into()))
            .send(),
    )
    .unwrap();
}

/// Creates the vault (a vault that already exists is fine).
fn vault(region: &str, name: &str) {
    let _ = block_on(
        moto()
            .backup(region)
            .create_backup_vault()
            .backup_vault_name(name)
            .send(),
    );
}

/// Starts an AWS Backup job of `table` into `vault` and waits until the
/// recovery point is COMPLETED; returns its ARN.
fn backup_now(region: &str, vault_name: &str, table: &str) -> String {
    backup_resource(
        region,
        vault_name,
        &format!("arn:aws:dynamodb:{region}:123456789012:table/{table}"),
    )
}

/// Starts an AWS Backup job of `resource_arn` into `vault` and waits until
/// the recovery point is COMPLETED; returns its ARN.
fn backup_resource(region: &str, vault_name: &str, resource_arn: &str) -> String {
    vault(region, vault_name);
    block_on(moto().backup_and_wait(region, vault_name, resource_arn, ROLE))
}

// ------------------------------------------------- cabal-addresses-restore

#[test]
fn cabal_addresses_restore_runs_end_to_end_against_moto() {
    let dir = tempfile::tempdir().unwrap();
    let (vault_name, live) = (unique("cabal-backup"), unique("cabal-addresses"));
    let restored = format!("{live}-restored");
    table("us-east-1", &live, 40, false);
    vault("us-west-2", "cabal-backup-dr");
    backup_now("us-east-1", &vault_name, &live);
    // The incident: an address overwritten, another deleted.
    put("us-east-1", &live, "k0", "bad");
    block_on(
        moto()
            .dynamodb("us-east-1")
            .delete_item()
            .table_name(&live)
            .key("pk", AttributeValue::S("k1".into()))
            .send(),
    )
    .unwrap();
    let marker = dir.path().join("reconfigured");
    let reconfigure = format!("touch {}", marker.display());
    let out = run(
        on_moto(),
        &runbook("cabal-addresses-restore"),
        &args(
            &[
                ("vault", &vault_name),
                ("table", &live),
                ("restored", &restored),
                ("role_arn", ROLE),
                ("reconfigure_cmd", &reconfigure),
            ],
            &[("cutover", &live), ("drop-restored", &restored)],
            &[("approve-cutover", "approve"), ("smoke", "yes")],
        ),
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    assert!(
        stdout.contains("restored-count: succeeded [items=40]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cutover: succeeded [items_read=40"),
        "{stdout}"
    );
    assert_eq!(item("us-east-1", &live, "k0").as_deref(), Some("good-0"));
    assert_eq!(item("us-east-1", &live, "k1").as_deref(), Some("good-1"));
    assert!(marker.exists(), "the mail tier was reconfigured");
    assert!(
        !table_exists("us-east-1", &restored),
        "the drill dropped it"
    );
    let report = report(&dir.path().join("data"));
    assert_eq!(report["outcome"], "succeeded");
    assert!(
        report["recovery_point"]["arn"]
            .as_str()
            .unwrap()
            .contains(":recovery-point:")
    );
}

// ------------------------------------------------ cabal-pitr-table-restore

#[test]
fn cabal_pitr_table_restore_runs_end_to_end_against_moto() {
    let dir = tempfile::tempdir().unwrap();
    // The runbook offers the four PITR-only tables by name; this test binary
    // is the only user of cabal-counter on its moto server.
    table("us-east-1", "cabal-counter", 30, true);
    let marker = dir.path().join("reconfigured");
    let reconfigure = format!("touch {}", marker.display());
    let out = run(
        on_moto(),
        &runbook("cabal-pitr-table-restore"),
        &args(
            &[
                ("table", "cabal-counter"),
                ("reconfigure_cmd", &reconfigure),
            ],
            &[
                ("cutover", "cabal-counter"),
                ("drop-restored", "cabal-counter-restored"),
            ],
            &[("approve-cutover", "approve"), ("smoke", "yes")],
        ),
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    // moto restores the table as it is now (it ignores the time), so the
    // counts are what this run can check; the sandbox checks the window.
    assert!(
        stdout.contains("pitr: succeeded [earliest_restorable="),
        "{stdout}"
    );
    assert!(
        stdout.contains("restored-count: succeeded [items=30]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cutover: succeeded [items_read=30"),
        "{stdout}"
    );
    assert!(marker.exists());
    assert_eq!(count("us-east-1", "cabal-counter"), 30);
    assert!(!table_exists("us-east-1", "cabal-counter-restored"));
}

#[test]
fn cabal_pitr_table_restore_stops_when_pitr_is_off() {
    let dir = tempfile::tempdir().unwrap();
    table("us-east-1", "cabal-dmarc-reports", 3, false);
    let out = run(
        on_moto(),
        &runbook("cabal-pitr-table-restore"),
        &args(
            &[
                ("table", "cabal-dmarc-reports"),
                ("reconfigure_cmd", "true"),
            ],
            &[
                ("cutover", "cabal-dmarc-reports"),
                ("drop-restored", "cabal-dmarc-reports-restored"),
            ],
            &[("approve-cutover", "approve"), ("smoke", "yes")],
        ),
        &dir.path().join("data"),
    );
    let stdout = failed(&out);
    assert!(
        stdout.contains("point-in-time recovery is DISABLED on cabal-dmarc-reports"),
        "{stdout}"
    );
    assert!(!table_exists("us-east-1", "cabal-dmarc-reports-restored"));
}

#[test]
fn cabal_pitr_table_restore_runs_end_to_end_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        in_sandbox(),
        &runbook("cabal-pitr-table-restore"),
        &[
            vec!["--sandbox".into(), "--speed".into(), "3600".into()],
            args(
                &[
                    ("table", "cabal-user-preferences"),
                    ("restore_to", "latest"),
                    ("reconfigure_cmd", "true"),
                ],
                &[
                    ("cutover", "cabal-user-preferences"),
                    ("drop-restored", "cabal-user-preferences-restored"),
                ],
                &[("approve-cutover", "approve"), ("smoke", "yes")],
            ),
        ]
        .concat(),
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    assert!(stdout.contains("acting as SIMULATED world"), "{stdout}");
    assert!(stdout.contains("its latest restorable time"), "{stdout}");
    assert!(
        stdout.contains("restored-count: succeeded [items=1274]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("drop-restored: succeeded [status=DELETING"),
        "{stdout}"
    );
    let report = report(&dir.path().join("data"));
    assert_eq!(step(&report, "smoke-passed")["status"], "succeeded");
}

// ------------------------------------------------------- cabal-dr-copyback

/// Copies `point` from `from` (us-east-1) to `to` (us-west-2) and waits.
fn copy_to_dr(from: &str, point: &str, to: &str) {
    assert_eq!(copy_from("us-east-1", from, point, to), "COMPLETED");
}

/// Copies `point` from `from` in `region` to `to` (us-west-2); waits until
/// the job ends and returns its state.
fn copy_from(region: &str, from: &str, point: &str, to: &str) -> String {
    vault("us-west-2", to);
    let dest = format!("arn:aws:backup:us-west-2:123456789012:backup-vault:{to}");
    block_on(moto().copy_and_wait(region, from, point, &dest, ROLE))
}

/// Locks `vault` in governance mode with a 30-day minimum retention.
fn lock(region: &str, vault_name: &str) {
    block_on(
        moto()
            .backup(region)
            .put_backup_vault_lock_configuration()
            .backup_vault_name(vault_name)
            .min_retention_days(30)
            .max_retention_days(400)
            .send(),
    )
    .unwrap();
}

fn points_in(region: &str, vault_name: &str) -> Vec<String> {
    block_on(
        moto()
            .backup(region)
            .list_recovery_points_by_backup_vault()
            .backup_vault_name(vault_name)
            .send(),
    )
    .unwrap()
    .recovery_points()
    .iter()
    .filter_map(|p| p.recovery_point_arn().map(str::to_owned))
    .collect()
}

#[test]
fn cabal_dr_copyback_runs_end_to_end_against_moto() {
    let dir = tempfile::tempdir().unwrap();
    let (primary, dr) = (unique("cabal-backup"), unique("cabal-backup-dr"));
    let (source, target) = (
        unique("cabal-addresses"),
        unique("cabal-addresses-copyback"),
    );
    table("us-east-1", &source, 25, false);
    let point = backup_now("us-east-1", &primary, &source);
    copy_to_dr(&primary, &point, &dr);
    lock("us-east-1", &primary);
    let out = run(
        on_moto(),
        &runbook("cabal-dr-copyback"),
        &args(
            &[
                ("account_id", "123456789012"),
                ("vault", &primary),
                ("dr_vault", &dr),
                ("role_arn", ROLE),
                ("target_table", &target),
            ],
            &[("drop-restored", &target)],
            &[("keep-copy", "ok")],
        ),
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    assert!(
        stdout.contains("pick: chose arn:aws:backup:us-west-2:"),
        "{stdout}"
    );
    assert!(stdout.contains("copy-back: succeeded"), "{stdout}");
    assert!(
        stdout.contains("restored-count: succeeded [items=25]"),
        "{stdout}"
    );
    assert!(!table_exists("us-east-1", &target), "the drill dropped it");
    // The copied-back point stays in the locked primary vault.
    assert_eq!(points_in("us-east-1", &primary).len(), 2);
}

#[test]
fn cabal_dr_copyback_runs_end_to_end_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        in_sandbox(),
        &runbook("cabal-dr-copyback"),
        &[
            vec!["--sandbox".into(), "--speed".into(), "3600".into()],
            args(
                &[
                    ("account_id", "111122223333"),
                    (
                        "role_arn",
                        "arn:aws:iam::111122223333:role/cabal-backup-role",
                    ),
                ],
                &[("drop-restored", "cabal-addresses-copyback")],
                &[("keep-copy", "ok")],
            ),
        ]
        .concat(),
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    assert!(
        stdout.contains("pick: chose arn:aws:backup:us-west-2:111122223333:recovery-point:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("restored-count: succeeded [items="),
        "{stdout}"
    );
    assert!(
        stdout.contains("drop-restored: succeeded [status=DELETING"),
        "{stdout}"
    );
}

// ---------------------------------------------------------- cabal-teardown

fn teardown_confirms<'a>(primary: &'a str, dr: &'a str, env: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("unlock-primary", primary),
        ("unlock-dr", dr),
        ("purge-primary", primary),
        ("purge-dr", dr),
        ("destroy", env),
    ]
}

#[test]
fn cabal_teardown_runs_end_to_end_against_moto() {
    let dir = tempfile::tempdir().unwrap();
    let (primary, dr) = (unique("cabal-backup"), unique("cabal-backup-dr"));
    let source = unique("cabal-addresses");
    table("us-east-1", &source, 5, false);
    let point = backup_now("us-east-1", &primary, &source);
    copy_to_dr(&primary, &point, &dr);
    let arn = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0c4b7e2d91a35f862";
    moto().seed_points("us-east-1", &primary, 6, arn);
    moto().seed_points("us-west-2", &dr, 4, arn);
    lock("us-east-1", &primary);
    lock("us-west-2", &dr);
    let marker = dir.path().join("destroyed");
    let destroy = format!("touch {}", marker.display());
    let out = run(
        on_moto(),
        &runbook("cabal-teardown"),
        &args(
            &[
                ("environment", "development"),
                ("vault", &primary),
                ("dr_vault", &dr),
                ("destroy_cmd", &destroy),
            ],
            &teardown_confirms(&primary, &dr, "development"),
            &[("approve-teardown", "approve")],
        ),
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    assert!(
        stdout.contains("purge-primary: succeeded [deleted=7]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("purge-dr: succeeded [deleted=5]"),
        "{stdout}"
    );
    assert!(marker.exists(), "the destroy command ran");
    assert!(points_in("us-east-1", &primary).is_empty());
    assert!(points_in("us-west-2", &dr).is_empty());
    let report = report(&dir.path().join("data"));
    assert_eq!(report["confirmations"].as_array().unwrap().len(), 5);
}

/// Deleting every point of a vault without removing its lock first.
const PURGE_LOCKED: &str = r#"
[runbook]
id = "purge-locked"
title = "Delete the points of a locked vault"

[params]
vault = { required = true }

[[step]]
id = "purge"
kind = "backup.delete-recovery-point"
backup_vault = "{{ params.vault }}"
all = true
"#;

#[test]
fn without_removing_the_lock_the_deletions_are_refused_on_moto() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("purge.toml");
    std::fs::write(&file, PURGE_LOCKED).unwrap();
    let primary = unique("cabal-backup");
    moto().seed_points(
        "us-east-1",
        &primary,
        3,
        "arn:aws:dynamodb:us-east-1:123456789012:table/cabal-addresses",
    );
    lock("us-east-1", &primary);
    let out = run(
        on_moto(),
        file.to_str().unwrap(),
        &args(&[("vault", &primary)], &[("purge", &primary)], &[]),
        &dir.path().join("data"),
    );
    let stdout = failed(&out);
    assert!(stdout.contains("3 of 3 deletions failed"), "{stdout}");
    assert!(stdout.contains("is locked"), "{stdout}");
    assert_eq!(points_in("us-east-1", &primary).len(), 3);
}

#[test]
fn cabal_teardown_runs_end_to_end_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        in_sandbox(),
        &runbook("cabal-teardown"),
        &[
            vec!["--sandbox".into(), "--speed".into(), "3600".into()],
            args(
                &[("environment", "development"), ("destroy_cmd", "true")],
                &teardown_confirms("cabal-backup", "cabal-backup-dr", "development"),
                &[("approve-teardown", "approve")],
            ),
        ]
        .concat(),
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    assert!(stdout.contains("unlock-primary: succeeded"), "{stdout}");
    assert!(stdout.contains("vaults-empty: succeeded"), "{stdout}");
    assert!(stdout.contains("destroy: succeeded"), "{stdout}");
}

#[test]
fn without_removing_the_lock_the_deletions_are_refused_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("purge.toml");
    std::fs::write(&file, PURGE_LOCKED).unwrap();
    let out = run(
        in_sandbox(),
        file.to_str().unwrap(),
        &[
            vec!["--sandbox".into(), "--speed".into(), "3600".into()],
            args(
                &[("vault", "cabal-backup")],
                &[("purge", "cabal-backup")],
                &[],
            ),
        ]
        .concat(),
        &dir.path().join("data"),
    );
    let stdout = failed(&out);
    assert!(stdout.contains("deletions failed"), "{stdout}");
    assert!(stdout.contains("locked"), "{stdout}");
}

// ---------------------------------------------------- cabal-backup-posture

const PITR_TABLES: [&str; 4] = [
    "cabal-counter",
    "cabal-user-preferences",
    "cabal-user-domain-access",
    "cabal-dmarc-reports",
];

/// A Cabalmail account in `region` (DR in us-west-2) as the posture check
/// reads it; `broken` leaves the DR vault unlocked, PITR off on
/// cabal-dmarc-reports and the DynamoDB opt-in off (so its copy fails).
fn cabal_account(region: &str, primary: &str, dr: &str, broken: bool) {
    for t in PITR_TABLES {
        table(region, t, 2, !(broken && t == "cabal-dmarc-reports"));
    }
    let addresses = unique("cabal-addresses");
    table(region, &addresses, 3, false);
    block_on(
        moto()
            .backup(region)
            .update_region_settings()
            .resource_type_management_preference("DynamoDB", !broken)
            .send(),
    )
    .unwrap();
    let ddb = backup_now(region, primary, &addresses);
    let efs = backup_resource(
        region,
        primary,
        &format!(
            "arn:aws:elasticfilesystem:{region}:123456789012:file-system/fs-0c4b7e2d91a35f862"
        ),
    );
    let ddb_copy = copy_from(region, primary, &ddb, dr);
    assert_eq!(ddb_copy, if broken { "FAILED" } else { "COMPLETED" });
    assert_eq!(copy_from(region, primary, &efs, dr), "COMPLETED");
    lock(region, primary);
    if !broken {
        lock("us-west-2", dr);
    }
}

fn posture_params<'a>(region: &'a str, primary: &'a str, dr: &'a str) -> Vec<String> {
    args(
        &[
            ("primary_region", region),
            ("vault", primary),
            ("dr_vault", dr),
        ],
        &[],
        &[],
    )
}

#[test]
fn cabal_backup_posture_passes_on_a_healthy_account_on_moto() {
    // A region of its own: region settings and copy jobs are region-wide.
    let region = "ca-central-1";
    let (primary, dr) = (unique("cabal-backup"), unique("cabal-backup-dr"));
    cabal_account(region, &primary, &dr, false);
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        on_moto(),
        &runbook("cabal-backup-posture"),
        &posture_params(region, &primary, &dr),
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    assert!(stdout.contains("dynamodb-opt-in: succeeded"), "{stdout}");
    assert!(
        stdout.contains("dynamodb-copies: succeeded [completed=1"),
        "{stdout}"
    );
    assert!(stdout.contains("dr-efs: succeeded"), "{stdout}");
    let report = report(&dir.path().join("data"));
    for s in report["steps"].as_array().unwrap() {
        assert_eq!(s["status"], "succeeded", "{s}");
    }
}

#[test]
fn cabal_backup_posture_names_every_gap_on_moto() {
    let region = "eu-west-3";
    let (primary, dr) = (unique("cabal-backup"), unique("cabal-backup-dr"));
    cabal_account(region, &primary, &dr, true);
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        on_moto(),
        &runbook("cabal-backup-posture"),
        &posture_params(region, &primary, &dr),
        &dir.path().join("data"),
    );
    let stdout = failed(&out);
    let report = report(&dir.path().join("data"));
    let failed: Vec<&str> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "failed")
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "dr-vault",
            "dr-dynamodb",
            "dynamodb-opt-in",
            "dynamodb-copies",
            "pitr-dmarc-reports"
        ],
        "{stdout}"
    );
    for s in [
        "primary-vault",
        "primary-efs",
        "dr-efs",
        "efs-copies",
        "pitr-counter",
    ] {
        assert_eq!(step(&report, s)["status"], "succeeded", "{s}: {stdout}");
    }
    assert!(
        stdout.contains("the vault lock is off, expected on"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ResourceTypeManagementPreference DynamoDB=false"),
        "{stdout}"
    );
    assert!(stdout.contains("1 failed, expected at most 0"), "{stdout}");
    assert!(
        stdout.contains("point-in-time recovery is DISABLED on cabal-dmarc-reports"),
        "{stdout}"
    );
}

#[test]
fn cabal_backup_posture_passes_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        in_sandbox(),
        &runbook("cabal-backup-posture"),
        &["--sandbox".into(), "--speed".into(), "3600".into()],
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    assert!(stdout.contains("primary-efs: succeeded"), "{stdout}");
    assert!(stdout.contains("dr-dynamodb: succeeded"), "{stdout}");
    assert!(
        stdout.contains("efs-copies: succeeded [completed="),
        "{stdout}"
    );
}

#[test]
fn cabal_backup_posture_fails_in_the_sandbox_when_copy_jobs_fail() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        in_sandbox(),
        &runbook("cabal-backup-posture"),
        &[
            "--sandbox".into(),
            "--speed".into(),
            "3600".into(),
            "--fault".into(),
            "copy-job-fails".into(),
        ],
        &dir.path().join("data"),
    );
    let stdout = failed(&out);
    let report = report(&dir.path().join("data"));
    for s in ["dynamodb-opt-in", "dynamodb-copies", "efs-copies"] {
        assert_eq!(step(&report, s)["status"], "failed", "{s}: {stdout}");
    }
    assert_eq!(step(&report, "pitr-counter")["status"], "succeeded");
    assert!(
        stdout.contains("--resource-type-management-preference DynamoDB=true"),
        "{stdout}"
    );
}

// --------------------------------------------------- cabal-mailbox-restore

/// Tells the moto extension that `dir` stands in for the mount of `fs`.
fn efs_mount(fs: &str, dir: &Path) {
    let body = serde_json::json!({ "file_system_id": fs, "path": dir }).to_string();
    let out = std::process::Command::new(support::python())
        .args([
            "-c",
            "import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + '/_dr_drill/efs-mount', data=sys.argv[2].encode(), method='POST')).read()",
            &moto().endpoint,
            &body,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn uid_of(path: &Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).unwrap().uid()
}

#[test]
fn cabal_mailbox_restore_runs_end_to_end_against_moto() {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("efs");
    let fs = format!("fs-0{:016x}", std::process::id());
    let alice = mount.join("alice/Maildir");
    write(&alice.join("cur/1700000000.M1P1.mail:2,S"), "kept");
    write(&alice.join("cur/1700000001.M2P1.mail:2,S"), "deleted later");
    write(
        &alice.join(".Archive/cur/1690000000.M3P1.mail:2,S"),
        "archived",
    );
    write(&mount.join("bob/Maildir/cur/1.mail"), "bob's");
    efs_mount(&fs, &mount);
    let vault_name = unique("cabal-backup");
    backup_resource(
        "us-east-1",
        &vault_name,
        &format!("arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/{fs}"),
    );
    // The incident: alice deletes a message and a whole folder; bob writes.
    std::fs::remove_file(alice.join("cur/1700000001.M2P1.mail:2,S")).unwrap();
    std::fs::remove_dir_all(alice.join(".Archive")).unwrap();
    write(&mount.join("bob/Maildir/new/2.mail"), "bob's new");
    let out = run(
        on_moto(),
        &runbook("cabal-mailbox-restore"),
        &args(
            &[
                ("user", "alice"),
                ("uid", "4321"),
                ("gid", "4321"),
                ("file_system_id", &fs),
                ("mount", mount.to_str().unwrap()),
                ("vault", &vault_name),
                ("role_arn", ROLE),
            ],
            &[("delete-recovery-dir", "alice")],
            &[("approve-put-back", "approve"), ("smoke", "yes")],
        ),
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    assert!(
        stdout.contains("find: succeeded [exit_code=0 files=3 recovery_dir="),
        "{stdout}"
    );
    assert!(
        stdout.contains("move: succeeded [exit_code=0 kept=1 moved=2]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("chown: succeeded [chowned=4 exit_code=0 wrong_owner=0]"),
        "{stdout}"
    );
    let back = alice.join("cur/1700000001.M2P1.mail:2,S");
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "deleted later");
    assert_eq!(uid_of(&back), 4321);
    assert_eq!(
        uid_of(&alice.join(".Archive")),
        4321,
        "a folder made for it"
    );
    assert_ne!(
        uid_of(&alice.join("cur/1700000000.M1P1.mail:2,S")),
        4321,
        "untouched"
    );
    // The recovery directory is gone; bob's mail was not touched.
    let mut left: Vec<String> = std::fs::read_dir(&mount)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["alice", "bob"]);
    assert!(mount.join("bob/Maildir/new/2.mail").exists());
}

#[test]
fn cabal_mailbox_restore_runs_end_to_end_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    // chown to another uid needs root: the files are given the tester's own.
    let me = uid_of(dir.path()).to_string();
    let data = dir.path().join("data");
    let out = run(
        in_sandbox(),
        &runbook("cabal-mailbox-restore"),
        &[
            vec!["--sandbox".into(), "--speed".into(), "3600".into()],
            args(
                &[
                    ("user", "dana"),
                    ("uid", &me),
                    ("file_system_id", "fs-0c4b7e2d91a35f862"),
                    // Relative: shell steps run in the run's directory,
                    // where the sandbox lays out its mailstore.
                    ("mount", "sandbox-efs/fs-0c4b7e2d91a35f862"),
                    (
                        "role_arn",
                        "arn:aws:iam::111122223333:role/cabal-backup-role",
                    ),
                ],
                &[("delete-recovery-dir", "dana")],
                &[("approve-put-back", "approve"), ("smoke", "yes")],
            ),
        ]
        .concat(),
        &data,
    );
    let stdout = succeeded(&out);
    assert!(
        stdout.contains("itemsToRestore=[\"/dana\"], newFileSystem=false"),
        "{stdout}"
    );
    assert!(
        stdout.contains("move: succeeded [exit_code=0 kept="),
        "{stdout}"
    );
    assert!(stdout.contains("moved=3]"), "{stdout}");
    assert!(stdout.contains("wrong_owner=0]"), "{stdout}");
    // Everything the run wrote is inside its directory.
    let store = run_dir(&data).join("sandbox-efs/fs-0c4b7e2d91a35f862");
    let mut top: Vec<String> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    top.sort();
    assert_eq!(
        top,
        ["chris", "dana", "erin"],
        "the recovery directory is gone"
    );
    let mut top: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    top.sort();
    assert_eq!(top, ["data"]);
}

#[test]
fn a_user_without_a_mailbox_stops_the_run_before_any_restore_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(
        in_sandbox(),
        &runbook("cabal-mailbox-restore"),
        &[
            vec!["--sandbox".into(), "--speed".into(), "3600".into()],
            args(
                &[
                    ("user", "zoe"),
                    ("uid", "0"),
                    ("file_system_id", "fs-0c4b7e2d91a35f862"),
                    ("mount", "sandbox-efs/fs-0c4b7e2d91a35f862"),
                    (
                        "role_arn",
                        "arn:aws:iam::111122223333:role/cabal-backup-role",
                    ),
                ],
                &[("delete-recovery-dir", "zoe")],
                &[("approve-put-back", "approve"), ("smoke", "yes")],
            ),
        ]
        .concat(),
        &data,
    );
    let stdout = failed(&out);
    assert!(
        stdout.contains("no directory for the user at the mailstore root"),
        "{stdout}"
    );
    assert!(!stdout.contains("restore: started"), "{stdout}");
}

#[test]
fn cabal_pitr_table_restore_takes_a_time_in_the_window_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let when = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(50))
        .unwrap()
        .round(jiff::Unit::Second)
        .unwrap()
        .to_string();
    let out = run(
        in_sandbox(),
        &runbook("cabal-pitr-table-restore"),
        &[
            vec!["--sandbox".into(), "--speed".into(), "3600".into()],
            args(
                &[("restore_to", &when), ("reconfigure_cmd", "true")],
                &[
                    ("cutover", "cabal-counter"),
                    ("drop-restored", "cabal-counter-restored"),
                ],
                &[("approve-cutover", "approve"), ("smoke", "yes")],
            ),
        ]
        .concat(),
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    assert!(
        stdout.contains(&format!(
            "restoring cabal-counter as of {when} into cabal-counter-restored"
        )),
        "{stdout}"
    );
}
