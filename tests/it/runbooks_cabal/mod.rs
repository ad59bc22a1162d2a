//! The shipped Cabalmail runbooks, headless end to end: against moto (with
//! dr-drill's AWS Backup extension) through the binary, and in the
//! simulated world (`--sandbox`). Commands we cannot run here (ECS,
//! terraform) are parameters whose test values are local stand-ins.
//! The backup posture check and the mailbox restore have a file each.

mod mailbox;
mod posture;

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use aws_sdk_dynamodb::types::{AttributeValue, PointInTimeRecoverySpecification};

use crate::support::drill::{block_on, flags, report, run_dir, runbook, step};
use crate::support::{moto, unique};

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
    let given = args(
        &[
            ("table", "cabal-dmarc-reports"),
            ("reconfigure_cmd", "true"),
        ],
        &[
            ("cutover", "cabal-dmarc-reports"),
            ("drop-restored", "cabal-dmarc-reports-restored"),
        ],
        &[("approve-cutover", "approve"), ("smoke", "yes")],
    );
    let runbook = runbook("cabal-pitr-table-restore");
    // Preflight sees it first: nothing runs.
    let out = run(on_moto(), &runbook, &given, &dir.path().join("data"));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("PITR"), "{all}");
    assert!(!dir.path().join("data").join("runs").exists(), "{all}");
    // Without preflight, the step's own guard stops the restore.
    let mut given = given;
    given.push("--no-preflight".into());
    let out = run(on_moto(), &runbook, &given, &dir.path().join("data"));
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
        stdout.contains("purge-primary: succeeded [deleted=7 skipped=0 skipped_continuous=]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("purge-dr: succeeded [deleted=5 skipped=0 skipped_continuous=]"),
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
