//! What dr-drill assumes about AWS Backup (docs/aws.md, "What dr-drill
//! assumes about AWS"), one rule at a time, against both doubles: moto's
//! server with dr-drill's extension over the wire, and the sandbox
//! through the binary.

use std::path::Path;

use assert_cmd::Command;

use super::*;

/// Runs `steps` headless in the sandbox at `speed` with `args` (answers,
/// confirmations); returns the exit code, the printed output and the
/// run's report.json.
fn sandbox_run(steps: &str, speed: &str, args: &[&str]) -> (i32, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("rule.toml");
    std::fs::write(
        &runbook,
        format!("[runbook]\nid = \"rule\"\ntitle = \"An AWS Backup rule\"\n\n{steps}"),
    )
    .unwrap();
    let out = Command::cargo_bin("dr-drill")
        .unwrap()
        .args(["run", runbook.to_str().unwrap(), "--headless", "--sandbox"])
        .args(["--speed", speed])
        .args(args)
        .arg("--data-dir")
        .arg(dir.path())
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = report_of(dir.path());
    (out.status.code().unwrap_or(-1), text, report)
}

fn report_of(data: &Path) -> serde_json::Value {
    let Ok(runs) = std::fs::read_dir(data.join("runs")) else {
        return serde_json::Value::Null;
    };
    runs.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("report.json")).ok())
        .find_map(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null)
}

// Rule: vault names exist only within a region; a point is restored in the
// region of its ARN unless the step names one.

const RESTORE_THE_DR_COPY: &str = r#"
[[step]]
id = "pick"
kind = "pick-recovery-point"
source = { backup_vault = "{{ params.dr_vault }}", region = "us-west-2", resource_type = "DynamoDB" }
policy = "latest"

[[step]]
id = "restore"
needs = ["pick"]
kind = "backup.restore"
backup_vault = "{{ steps.pick.vault }}"
recovery_point = "{{ steps.pick.arn }}"
iam_role_arn = "{{ params.role }}"
metadata = { targetTableName = "{{ params.restored }}" }
"#;

// rule: backup-point-call-in-its-region
#[tokio::test]
async fn a_dr_copy_is_restored_in_its_own_region_over_the_wire() {
    let table = unique("dr-region");
    let vault = unique("dr-region-primary");
    let dr_vault = unique("dr-region-dr");
    let arn = create_table(&table, 2).await;
    create_vault(&vault, "us-east-1").await;
    let dr_arn = create_vault(&dr_vault, "us-west-2").await;
    let point = backup_now(&vault, &arn).await;
    let copied = moto()
        .copy_and_wait("us-east-1", &vault, &point, &dr_arn, ROLE)
        .await;
    assert_eq!(copied, "COMPLETED");
    let restored = unique("dr-region-restored");
    let (summary, events) = run(
        RESTORE_THE_DR_COPY,
        &[
            ("dr_vault", &dr_vault),
            ("role", ROLE),
            ("restored", &restored),
        ],
    )
    .await;
    assert_succeeded(&summary, &events);
    let out = outputs(&events, "restore");
    assert!(
        out["created_resource_arn"].contains(":us-west-2:"),
        "{out:?}"
    );
}

// rule: backup-point-call-in-its-region
#[test]
fn a_dr_copy_is_restored_in_its_own_region_in_the_sandbox() {
    let steps = format!(
        "[params]\ndr_vault = {{ default = \"cabal-backup-dr\" }}\nrole = {{ default = \"arn:aws:iam::111122223333:role/cabal-backup-role\" }}\nrestored = {{ default = \"cabal-addresses-dr-restored\" }}\n{RESTORE_THE_DR_COPY}"
    );
    let (code, text, report) = sandbox_run(&steps, "3600", &[]);
    assert_eq!(code, 0, "{text}");
    let arn = crate::support::drill::output(&report, "restore", "created_resource_arn");
    assert!(arn.contains(":us-west-2:"), "{arn}");
}

// Rule: DeleteRecoveryPoint may answer 200 and leave the point EXPIRED;
// only a point that is gone (or DELETING) counts as deleted.

const DELETE_ONE: &str = r#"
[[step]]
id = "delete"
kind = "backup.delete-recovery-point"
backup_vault = "{{ params.vault }}"
recovery_point = "{{ params.point }}"
confirm = "delete"
"#;

// rule: backup-delete-may-leave-expired
#[tokio::test]
async fn a_point_left_expired_by_delete_is_not_counted_as_deleted_over_the_wire() {
    let table = unique("expired");
    let vault = unique("expired-vault");
    let arn = create_table(&table, 1).await;
    create_vault(&vault, "us-east-1").await;
    let lost_role = "arn:aws:iam::123456789012:role/deleted-backup-role";
    let point = moto()
        .backup_and_wait("us-east-1", &vault, &arn, lost_role)
        .await;
    let (summary, events) = run(DELETE_ONE, &[("vault", &vault), ("point", &point)]).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let why = reason(&events, "delete");
    assert!(why.contains("still there, EXPIRED"), "{why}");
    assert!(why.contains("iam:CreateServiceLinkedRole"), "{why}");
    // A point whose role still has its permissions goes.
    let point = backup_now(&vault, &arn).await;
    let (summary, events) = run(DELETE_ONE, &[("vault", &vault), ("point", &point)]).await;
    assert_succeeded(&summary, &events);
    assert_eq!(outputs(&events, "delete")["deleted"], "1");
}

// rule: backup-delete-may-leave-expired
#[test]
fn a_point_left_expired_by_delete_is_not_counted_as_deleted_in_the_sandbox() {
    // The oldest DynamoDB point of the primary vault: no lock stands in the way.
    let out = Command::cargo_bin("dr-drill")
        .unwrap()
        .args([
            "points",
            "--sandbox",
            "--output",
            "json",
            "--vault",
            "cabal-backup",
        ])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let oldest = doc["points"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|p| p["status"] == "COMPLETED")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let steps = format!(
        "[params]\nvault = {{ default = \"cabal-backup\" }}\npoint = {{ default = \"{oldest}\" }}\n{DELETE_ONE}"
    );
    let (code, text, _) = sandbox_run(
        &steps,
        "60",
        // The step's own behaviour under the fault: preflight would stop
        // the run first (the role may not DeleteRecoveryPoint).
        &[
            "--no-preflight",
            "--fault",
            "access-denied=DeleteRecoveryPoint",
            "--confirm",
            "delete=delete",
        ],
    );
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("still there, EXPIRED"), "{text}");
    // The vault is locked: its lock goes first.
    let steps = format!(
        "[params]\nvault = {{ default = \"cabal-backup\" }}\npoint = {{ default = \"{oldest}\" }}\n{UNLOCK}{DELETE_ONE}needs = [\"unlock\"]\n"
    );
    let (code, text, report) = sandbox_run(
        &steps,
        "60",
        &["--confirm", "delete=delete", "--confirm", "unlock=unlock"],
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        crate::support::drill::output(&report, "delete", "deleted"),
        "1"
    );
}

const UNLOCK: &str = r#"
[[step]]
id = "unlock"
kind = "backup.delete-vault-lock"
backup_vault = "{{ params.vault }}"
confirm = "unlock"
"#;

// Rule: a locked vault refuses every delete, root included, until the
// point's CalculatedLifecycle.DeleteAt; the minimum retention is not the
// bound. The step says which points stay and when they can go.

const PURGE: &str = r#"
[[step]]
id = "purge"
kind = "backup.delete-recovery-point"
backup_vault = "{{ params.vault }}"
all = true
"#;

/// "3 of 3" out of "... 3 of 3 deletions failed ...".
fn failed_of(text: &str) -> (String, String) {
    let head = &text[..text.find(" deletions failed").expect(text)];
    let words: Vec<&str> = head.split_whitespace().rev().take(3).collect();
    assert_eq!(words[1], "of", "{text}");
    (
        words[2].trim_start_matches('(').to_owned(),
        words[0].to_owned(),
    )
}

// rule: backup-lock-keeps-until-delete-at
#[tokio::test]
async fn a_locked_vault_keeps_a_point_until_its_delete_at_over_the_wire() {
    let vault = unique("lock-delete-at");
    let table = "arn:aws:dynamodb:us-east-1:123456789012:table/lock-delete-at";
    let forty_days_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 40 * 86_400;
    // Both 40 days old, past the lock's 30-day minimum: one is kept a
    // year, the other's retention ended five days ago.
    let m = moto();
    m.seed_points_with(
        "us-east-1",
        &vault,
        1,
        table,
        &format!(r#","start":{forty_days_ago},"lifecycle":{{"DeleteAfterDays":365}}"#),
    );
    m.seed_points_with(
        "us-east-1",
        &vault,
        1,
        table,
        &format!(r#","start":{forty_days_ago},"lifecycle":{{"DeleteAfterDays":35}}"#),
    );
    m.backup("us-east-1")
        .put_backup_vault_lock_configuration()
        .backup_vault_name(&vault)
        .min_retention_days(30)
        .send()
        .await
        .unwrap();
    let source = || PointSource::Vault {
        vault: vault.clone(),
        region: None,
        resource_type: None,
        resource_arn: None,
    };
    let (before, _) = list(source()).await;
    let kept = before
        .iter()
        .find(|p| p.delete_at > Some(jiff::Timestamp::now()))
        .unwrap();
    let (summary, events) = run(PURGE, &[("vault", &vault)]).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let why = reason(&events, "purge");
    assert_eq!(failed_of(&why), ("1".into(), "2".into()), "{why}");
    assert!(
        why.contains(&format!("backup vault {vault} is locked")),
        "{why}"
    );
    assert!(
        why.contains(&format!(
            "{} can go after {}",
            kept.id,
            kept.delete_at.unwrap()
        )),
        "{why}"
    );
    let (after, _) = list(source()).await;
    assert_eq!(after.len(), 1, "{after:#?}");
    assert_eq!(after[0].id, kept.id);
}

// rule: backup-lock-keeps-until-delete-at
#[test]
fn a_locked_vault_keeps_a_point_until_its_delete_at_in_the_sandbox() {
    // cabal-backup: locked, 30-day minimum, every point kept 365 days.
    let steps =
        format!("[params]\nvault = {{ default = \"cabal-backup\" }}\n{PURGE}confirm = \"purge\"\n");
    let (code, text, _) = sandbox_run(&steps, "3600", &["--confirm", "purge=purge"]);
    assert_eq!(code, 1, "{text}");
    let (failed, of) = failed_of(&text);
    assert_eq!(failed, of, "{text}");
    assert!(
        text.contains("backup vault cabal-backup is locked"),
        "{text}"
    );
    assert!(text.contains("can go after"), "{text}");
}

// Rule: a copy keeps its source's creation date, so a DR copy never looks
// newer than its source and `latest` measures the RPO from the backup.

// rule: backup-copy-keeps-creation-date
#[tokio::test]
async fn a_copy_keeps_its_sources_creation_date_over_the_wire() {
    let table = unique("copy-date");
    let vault = unique("copy-date-primary");
    let dr_vault = unique("copy-date-dr");
    let arn = create_table(&table, 1).await;
    create_vault(&vault, "us-east-1").await;
    let dr_arn = create_vault(&dr_vault, "us-west-2").await;
    let point = backup_now(&vault, &arn).await;
    // The copy job runs a while after the backup.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let copied = moto()
        .copy_and_wait("us-east-1", &vault, &point, &dr_arn, ROLE)
        .await;
    assert_eq!(copied, "COMPLETED");
    let source = |vault: &str, region: &str| PointSource::Vault {
        vault: vault.to_owned(),
        region: Some(region.to_owned()),
        resource_type: None,
        resource_arn: None,
    };
    let (primary, _) = list(source(&vault, "us-east-1")).await;
    let (dr, _) = list(source(&dr_vault, "us-west-2")).await;
    assert_eq!((primary.len(), dr.len()), (1, 1));
    assert_eq!(dr[0].created_at, primary[0].created_at, "{:?}", dr[0]);
    let both: Vec<RecoveryPoint> = primary.iter().chain(&dr).cloned().collect();
    let latest = points::latest(&both, None).unwrap();
    assert_eq!(latest.created_at, primary[0].created_at);
    assert!(
        !latest.is_copy(),
        "same date: the primary's point is preferred"
    );
}

// Rule: a PARTIAL point (a composite point missing nested points) is not
// chosen by `latest`.

// rule: backup-partial-not-latest
#[tokio::test]
async fn latest_does_not_choose_a_partial_point_over_the_wire() {
    let vault = unique("partial-vault");
    let resource = "arn:aws:dynamodb:us-east-1:123456789012:table/partial";
    let now = jiff::Timestamp::now().as_second();
    moto().seed_points_with(
        "us-east-1",
        &vault,
        1,
        resource,
        &format!(r#","start":{}"#, now - 7200),
    );
    moto().seed_points_with(
        "us-east-1",
        &vault,
        1,
        resource,
        &format!(r#","start":{},"status":"PARTIAL""#, now - 3600),
    );
    let (listed, _) = list(PointSource::Vault {
        vault: vault.clone(),
        region: None,
        resource_type: None,
        resource_arn: None,
    })
    .await;
    let whole = listed.iter().find(|p| p.status == "COMPLETED").unwrap();
    assert!(listed.iter().any(|p| p.status == "PARTIAL"), "{listed:?}");
    let (summary, events) = run(
        r#"
[[step]]
id = "pick"
kind = "pick-recovery-point"
source = { backup_vault = "{{ params.vault }}" }
policy = "latest"
"#,
        &[("vault", &vault)],
    )
    .await;
    assert_succeeded(&summary, &events);
    assert_eq!(outputs(&events, "pick")["arn"], whole.id);
}

// Rule: an EFS item-level restore takes any number of items; the only
// bound is the 200 KB of restore metadata (developer guide, "Restore an
// Amazon EFS file system").

/// Tells the moto extension that `dir` stands in for the mount of `fs`.
fn efs_mount(fs: &str, dir: &Path) {
    let body = serde_json::json!({ "file_system_id": fs, "path": dir }).to_string();
    let out = std::process::Command::new(crate::support::python())
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

fn efs_items_request(point: &str, fs: &str, items: &[String]) -> dr_drill::cloud::RestoreRequest {
    dr_drill::cloud::RestoreRequest {
        recovery_point_arn: point.to_owned(),
        iam_role_arn: ROLE.into(),
        metadata: BTreeMap::from([
            ("newFileSystem".into(), "false".into()),
            ("file-system-id".into(), fs.to_owned()),
            (
                "itemsToRestore".into(),
                serde_json::to_string(items).unwrap(),
            ),
        ]),
        resource_type: None,
        idempotency_token: None,
    }
}

// rule: backup-efs-items-unbounded
#[tokio::test]
async fn an_efs_restore_takes_more_than_five_items_over_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("efs");
    let fs = format!("fs-1{:016x}", std::process::id());
    let users: Vec<String> = (1..=6).map(|n| format!("user{n}")).collect();
    for u in &users {
        let cur = mount.join(u).join("Maildir/cur");
        std::fs::create_dir_all(&cur).unwrap();
        std::fs::write(cur.join("1.mail"), u).unwrap();
    }
    efs_mount(&fs, &mount);
    let vault = unique("efs-items");
    create_vault(&vault, "us-east-1").await;
    let point = backup_now(
        &vault,
        &format!("arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/{fs}"),
    )
    .await;
    let items: Vec<String> = users.iter().map(|u| format!("/{u}")).collect();
    let cloud = cloud();
    let quiet = dr_drill::cloud::quiet();
    let job = cloud
        .start_restore(&efs_items_request(&point, &fs, &items), None, &quiet)
        .await
        .unwrap();
    let done = crate::support::eventually("the restore job ends", || {
        let (cloud, job) = (cloud.clone(), job.clone());
        async move {
            let s = cloud
                .restore_job(&job, None, &dr_drill::cloud::quiet())
                .await
                .unwrap();
            s.is_finished().then_some(s)
        }
    })
    .await;
    assert!(done.succeeded(), "{:?} {:?}", done.status, done.message);
    let recovery = std::fs::read_dir(&mount)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("aws-backup-restore_")
        })
        .expect("a recovery directory");
    for u in &users {
        assert!(recovery.join(u).join("Maildir/cur/1.mail").exists(), "{u}");
    }
    // Past 200 KB of metadata, StartRestoreJob refuses.
    let many: Vec<String> = (0..12_000).map(|n| format!("/user1/{n:012}")).collect();
    let e = cloud
        .start_restore(&efs_items_request(&point, &fs, &many), None, &quiet)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("200 KB"), "{e}");
}

// Rule: a chosen point's storage class is DescribeRecoveryPoint's; the
// listing has none, and a lifecycle's cold transition is ignored for
// resource types without cold storage (S3 among them).

// rule: backup-storage-class-described
#[tokio::test]
async fn a_picked_points_storage_class_is_the_one_aws_describes_over_the_wire() {
    let vault = unique("storage-class");
    let forty_days_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 40 * 86_400;
    moto().seed_points_with(
        "us-east-1",
        &vault,
        1,
        "arn:aws:s3:::storage-class-bucket",
        &format!(
            r#","start":{forty_days_ago},"lifecycle":{{"MoveToColdStorageAfterDays":30,"DeleteAfterDays":365}}"#
        ),
    );
    let (summary, events) = run(
        r#"
[[step]]
id = "pick"
kind = "pick-recovery-point"
source = { backup_vault = "{{ params.vault }}" }
policy = "latest"
"#,
        &[("vault", &vault)],
    )
    .await;
    assert_succeeded(&summary, &events);
    // The lifecycle says cold since ten days; S3 points never go cold.
    assert_eq!(outputs(&events, "pick")["storage_class"], "WARM");
}

// Rule: a copy keeps its source's retention unless StartCopyJob carries a
// Lifecycle, and a vault lock fails a copy job whose retention is outside
// [MinRetentionDays, MaxRetentionDays]. dr-drill reads the lock and the
// source, and keeps the source's retention or chooses the nearest bound.

const COPY_INTO_LOCKED: &str = r#"
[[step]]
id = "copy"
kind = "backup.copy"
source_vault = "{{ params.vault }}"
recovery_point = "{{ params.point }}"
destination_vault_arn = "{{ params.dest_arn }}"
iam_role_arn = "{{ params.role }}"
"#;

// rule: backup-copy-within-vault-lock
#[tokio::test]
async fn a_copy_into_a_locked_vault_carries_a_lifecycle_within_the_lock_over_the_wire() {
    let vault = unique("copy-lock-source");
    let dest = unique("copy-lock-dest");
    let table = "arn:aws:dynamodb:us-east-1:123456789012:table/copy-lock";
    let m = moto();
    // The source keeps its point 35 days; the destination's lock takes
    // 60 to 3650 days.
    m.seed_points_with(
        "us-east-1",
        &vault,
        1,
        table,
        r#","lifecycle":{"DeleteAfterDays":35}"#,
    );
    let dest_arn = create_vault(&dest, "us-east-1").await;
    m.backup("us-east-1")
        .put_backup_vault_lock_configuration()
        .backup_vault_name(&dest)
        .min_retention_days(60)
        .max_retention_days(3650)
        .send()
        .await
        .unwrap();
    let source = |vault: &str| PointSource::Vault {
        vault: vault.to_owned(),
        region: None,
        resource_type: None,
        resource_arn: None,
    };
    let (points, _) = list(source(&vault)).await;
    let point = points[0].id.clone();
    // The double: a copy that keeps the 35 days fails, as AWS fails it.
    let state = m
        .copy_and_wait("us-east-1", &vault, &point, &dest_arn, ROLE)
        .await;
    assert_eq!(state, "FAILED");
    assert!(list(source(&dest)).await.0.is_empty());
    // dr-drill: a step's own lifecycle outside the lock is refused before
    // the request, naming the field and the bounds.
    let params = [
        ("vault", vault.as_str()),
        ("point", point.as_str()),
        ("dest_arn", dest_arn.as_str()),
        ("role", ROLE),
    ];
    let short = format!("{COPY_INTO_LOCKED}lifecycle = {{ delete_after_days = 10 }}\n");
    let (summary, events) = run(&short, &params).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let why = reason(&events, "copy");
    assert!(
        why.contains("`lifecycle.delete_after_days` (10 days)"),
        "{why}"
    );
    assert!(why.contains("60–3650 days"), "{why}");
    assert!(list(source(&dest)).await.0.is_empty());
    // Without one, the nearest bound is chosen and said.
    let (summary, events) = run(COPY_INTO_LOCKED, &params).await;
    assert_succeeded(&summary, &events);
    assert_eq!(outputs(&events, "copy")["delete_after_days"], "60");
    let (copies, _) = list(source(&dest)).await;
    assert_eq!(copies.len(), 1, "{copies:#?}");
    let kept = copies[0].delete_at.unwrap().as_second() - copies[0].created_at.as_second();
    assert_eq!(kept, 60 * 86_400, "{:?}", copies[0]);
}

// rule: backup-copy-within-vault-lock
#[test]
fn a_copy_into_a_locked_vault_carries_a_lifecycle_within_the_lock_in_the_sandbox() {
    // cabal-backup: locked, 30 to 400 days. The DR copies keep 365 days,
    // which fits: the copy keeps them and says so.
    let pick = r#"
[[step]]
id = "pick"
kind = "pick-recovery-point"
source = { backup_vault = "cabal-backup-dr", region = "us-west-2", resource_type = "DynamoDB" }
policy = "latest"
"#;
    let copy = r#"
[[step]]
id = "copy"
needs = ["pick"]
kind = "backup.copy"
source_vault = "cabal-backup-dr"
recovery_point = "{{ steps.pick.arn }}"
destination_vault_arn = "arn:aws:backup:us-east-1:111122223333:backup-vault:cabal-backup"
iam_role_arn = "arn:aws:iam::111122223333:role/cabal-backup-role"
"#;
    let (code, text, report) = sandbox_run(&format!("{pick}{copy}"), "3600", &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("keeps its source's retention"), "{text}");
    assert_eq!(
        crate::support::drill::output(&report, "copy", "delete_after_days"),
        ""
    );
    let (code, text, _) = sandbox_run(
        &format!("{pick}{copy}lifecycle = {{ delete_after_days = 7 }}\n"),
        "3600",
        &[],
    );
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("30–400 days"), "{text}");
}

// Rule: deleting a continuous backup's recovery point stops future
// continuous backups (botocore backup 2018-11-15, DeleteRecoveryPoint), and
// a continuous point's ARN reads recovery-point:continuous:ID (developer
// guide, point-in-time restore examples). `all = true` keeps continuous
// points, and a single one is refused, unless the step sets
// `include_continuous = true`.

const DELETE_CONTINUOUS_TOO: &str = r#"
[[step]]
id = "purge"
kind = "backup.delete-recovery-point"
backup_vault = "{{ params.vault }}"
all = true
include_continuous = true
"#;

/// The resources whose continuous backup moto's extension has stopped.
fn stopped_continuous_backups() -> Vec<String> {
    let out = std::process::Command::new(crate::support::python())
        .args([
            "-c",
            "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + '/_dr_drill/continuous-backups?region=us-east-1').read().decode())",
            &moto().endpoint,
        ])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["Stopped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

// rule: backup-continuous-point-kept
#[tokio::test]
async fn all_keeps_a_continuous_point_unless_the_step_includes_it_over_the_wire() {
    let vault = unique("continuous-vault");
    let db = format!(
        "arn:aws:rds:us-east-1:123456789012:db:{}",
        unique("pitr-db")
    );
    let m = moto();
    m.seed_points_with("us-east-1", &vault, 2, &db, "");
    m.seed_points_with("us-east-1", &vault, 1, &db, r#","continuous":true"#);
    let source = || PointSource::Vault {
        vault: vault.clone(),
        region: None,
        resource_type: None,
        resource_arn: None,
    };
    let (before, _) = list(source()).await;
    let continuous = before
        .iter()
        .find(|p| p.is_continuous())
        .unwrap()
        .id
        .clone();
    assert_eq!(before.len(), 3, "{before:#?}");

    let (summary, events) = run(PURGE, &[("vault", &vault)]).await;
    assert_succeeded(&summary, &events);
    let out = outputs(&events, "purge");
    assert_eq!(out["deleted"], "2");
    assert_eq!(out["skipped"], "1");
    assert_eq!(out["skipped_continuous"], continuous);
    let (after, _) = list(source()).await;
    assert_eq!(after.len(), 1, "{after:#?}");
    assert_eq!(after[0].id, continuous);
    assert!(!stopped_continuous_backups().contains(&db));

    // One continuous point: refused before any call, naming it and the field.
    let (summary, events) = run(DELETE_ONE, &[("vault", &vault), ("point", &continuous)]).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let why = reason(&events, "delete");
    assert!(why.contains(&continuous), "{why}");
    assert!(why.contains("include_continuous = true"), "{why}");
    assert!(why.contains("DisassociateRecoveryPoint"), "{why}");
    assert_eq!(list(source()).await.0.len(), 1);

    // Asked for, it goes, and its continuous backup stops.
    let (summary, events) = run(DELETE_CONTINUOUS_TOO, &[("vault", &vault)]).await;
    assert_succeeded(&summary, &events);
    assert_eq!(outputs(&events, "purge")["deleted"], "1");
    assert!(list(source()).await.0.is_empty());
    assert!(stopped_continuous_backups().contains(&db));
}

/// A sandbox world: a vault with a week of nightly points of one table and
/// a continuous plan's point of the same table.
const CONTINUOUS_WORLD: &str = r#"
[[vault]]
name = "pitr-vault"

[[plan]]
name = "nightly"
vault = "pitr-vault"
days = 7

[[plan.resource]]
type = "DynamoDB"
name = "orders"
items = 10
items_per_day = 0
size_bytes = 1024
size_per_day = 0

[[plan]]
name = "continuous"
vault = "pitr-vault"
days = 7
continuous = true

[[plan.resource]]
type = "DynamoDB"
name = "orders"
items = 10
items_per_day = 0
size_bytes = 1024
size_per_day = 0

[[table]]
name = "orders"
items = 10
"#;

// rule: backup-continuous-point-kept
#[tokio::test]
async fn all_keeps_a_continuous_point_unless_the_step_includes_it_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("continuous.toml");
    std::fs::write(&world, CONTINUOUS_WORLD).unwrap();
    let options = dr_drill::cloud::sim::SimOptions {
        speed: 3600.0,
        ..Default::default()
    };
    let sim: Arc<dyn Cloud> = Arc::new(
        dr_drill::cloud::sim::SimCloud::from_files(&[world], options)
            .await
            .unwrap(),
    );
    let vault = [("vault", "pitr-vault")];
    let (summary, events) = run_on(sim.clone(), PURGE, &vault).await;
    assert_succeeded(&summary, &events);
    let out = outputs(&events, "purge");
    assert_eq!(out["deleted"], "7");
    assert_eq!(out["skipped"], "1");
    let continuous = out["skipped_continuous"].clone();
    assert!(
        dr_drill::cloud::is_continuous_arn(&continuous),
        "{continuous}"
    );

    let (summary, events) = run_on(
        sim.clone(),
        DELETE_ONE,
        &[("vault", "pitr-vault"), ("point", &continuous)],
    )
    .await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let why = reason(&events, "delete");
    assert!(why.contains("include_continuous = true"), "{why}");

    let (summary, events) = run_on(sim.clone(), DELETE_CONTINUOUS_TOO, &vault).await;
    assert_succeeded(&summary, &events);
    assert_eq!(outputs(&events, "purge")["deleted"], "1");
}

// Rule: a DynamoDB point's restore metadata is the source table's own
// encryption (botocore `backup` 2018-11-15,
// `GetRecoveryPointRestoreMetadataOutput.RestoreMetadata`), never the
// vault's key, which encrypts the backup
// (`DescribeRecoveryPointOutput.EncryptionKeyArn`). The step's metadata
// wins; else the table's own; a recorded key equal to the backup's own is
// dropped for `Default`, and the step says so.

const RESTORE_ONE: &str = r#"
[[step]]
id = "restore"
kind = "backup.restore"
backup_vault = "{{ params.vault }}"
recovery_point = "{{ params.point }}"
iam_role_arn = "{{ params.role }}"
metadata = { targetTableName = "{{ params.restored }}" }
"#;

/// A table encrypted with `key` (SSE-KMS), as a customer table would be.
async fn create_encrypted_table(name: &str, key: &str) -> String {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        SseSpecification, SseType,
    };
    moto()
        .dynamodb("us-east-1")
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .sse_specification(
            SseSpecification::builder()
                .enabled(true)
                .sse_type(SseType::Kms)
                .kms_master_key_id(key)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .table_description()
        .unwrap()
        .table_arn()
        .unwrap()
        .to_owned()
}

async fn table_key(name: &str) -> Option<String> {
    moto()
        .dynamodb("us-east-1")
        .describe_table()
        .table_name(name)
        .send()
        .await
        .unwrap()
        .table()
        .and_then(|t| t.sse_description())
        .and_then(|s| s.kms_master_key_arn())
        .map(str::to_owned)
}

fn log_of(events: &[dr_drill::engine::event::RunEvent], step: &str) -> String {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StepProgress { step: s, message } if s == step => Some(message.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// rule: ddb-restore-encryption
#[tokio::test]
async fn a_restored_table_keeps_its_own_key_and_never_takes_the_vaults_over_the_wire() {
    let vault_key = "arn:aws:kms:us-east-1:123456789012:key/dr-drill-vault-key";
    let table_key_arn = "arn:aws:kms:us-east-1:123456789012:key/dr-drill-table-key";
    let vault = unique("enc-vault");
    moto()
        .backup("us-east-1")
        .create_backup_vault()
        .backup_vault_name(&vault)
        .encryption_key_arn(vault_key)
        .send()
        .await
        .unwrap();
    // Its own customer key: kept.
    let own = unique("enc-own");
    let point = backup_now(&vault, &create_encrypted_table(&own, table_key_arn).await).await;
    let restored = unique("enc-own-restored");
    let params = [
        ("vault", vault.as_str()),
        ("point", point.as_str()),
        ("role", ROLE),
        ("restored", restored.as_str()),
    ];
    let (summary, events) = run(RESTORE_ONE, &params).await;
    assert_succeeded(&summary, &events);
    assert_eq!(
        outputs(&events, "restore")["encryption"],
        format!("KMS {table_key_arn}")
    );
    assert_eq!(table_key(&restored).await.as_deref(), Some(table_key_arn));
    // A table whose recorded key is the vault's own: dropped, Default.
    let same = unique("enc-same");
    let point = backup_now(&vault, &create_encrypted_table(&same, vault_key).await).await;
    let restored = unique("enc-same-restored");
    let params = [
        ("vault", vault.as_str()),
        ("point", point.as_str()),
        ("role", ROLE),
        ("restored", restored.as_str()),
    ];
    let (summary, events) = run(RESTORE_ONE, &params).await;
    assert_succeeded(&summary, &events);
    assert_eq!(outputs(&events, "restore")["encryption"], "Default");
    let log = log_of(&events, "restore");
    assert!(
        log.contains("restored table encrypted with the DynamoDB-owned key"),
        "{log}"
    );
    assert!(log.contains("vault's key"), "{log}");
    assert_eq!(table_key(&restored).await, None);
    // The double refuses an encryption type AWS Backup does not document.
    let e = moto()
        .backup("us-east-1")
        .start_restore_job()
        .recovery_point_arn(&point)
        .iam_role_arn(ROLE)
        .metadata("targetTableName", unique("enc-refused"))
        .metadata("encryptionType", "AES256")
        .send()
        .await
        .unwrap_err();
    let e = aws_sdk_backup::error::DisplayErrorContext(e).to_string();
    assert!(e.contains("encryptionType must be Default or KMS"), "{e}");
}

// rule: ddb-restore-encryption
#[test]
fn a_restored_table_is_not_encrypted_with_the_vaults_key_in_the_sandbox() {
    let steps = r#"
[[step]]
id = "pick"
kind = "pick-recovery-point"
source = { backup_vault = "cabal-backup", resource_type = "DynamoDB" }
policy = "latest"

[[step]]
id = "restore"
needs = ["pick"]
kind = "backup.restore"
backup_vault = "{{ steps.pick.vault }}"
recovery_point = "{{ steps.pick.arn }}"
iam_role_arn = "arn:aws:iam::111122223333:role/cabal-backup-role"
metadata = { targetTableName = "cabal-addresses-enc" }
"#;
    let (code, text, report) = sandbox_run(steps, "3600", &[]);
    assert_eq!(code, 0, "{text}");
    let said = crate::support::drill::output(&report, "restore", "encryption");
    assert_eq!(said, "Default");
    // The vault's key (assets/sandbox/cabalmail.toml) is nowhere in the run.
    assert!(!text.contains("5b2c6f0e"), "{text}");
    assert!(
        !report.to_string().contains("5b2c6f0e"),
        "the report names the vault's key"
    );
}
