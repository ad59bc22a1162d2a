//! DynamoDB's own backups and its point-in-time window over the wire:
//! restores into new tables, and the cleanup that deletes them.

use super::*;

#[tokio::test]
async fn dynamodb_backups_and_the_pitr_window_restore_into_new_tables() {
    let table = unique("cabal-counter");
    create_table(&table, 5).await;
    let db = moto().dynamodb("us-east-1");
    let backup_arn = db
        .create_backup()
        .table_name(&table)
        .backup_name("before-migration")
        .send()
        .await
        .unwrap()
        .backup_details()
        .unwrap()
        .backup_arn()
        .to_owned();
    db.update_continuous_backups()
        .table_name(&table)
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (listed, _) = list(PointSource::Table {
        table: table.clone(),
        region: None,
    })
    .await;
    assert!(listed.iter().any(|p| p.kind == PointKind::DynamodbPitr
        && p.status == "ENABLED"
        && p.earliest_restorable.is_some()));
    assert!(
        listed
            .iter()
            .any(|p| p.id == backup_arn && p.kind == PointKind::DynamodbBackup)
    );
    let steps = r#"
[[step]]
id = "pitr"
kind = "dynamodb.pitr-status"
table = "{{ params.table }}"
expect_enabled = true

[[step]]
id = "pick"
kind = "pick-recovery-point"
source = { table = "{{ params.table }}" }

[[step]]
id = "from-backup"
kind = "dynamodb.restore-from-backup"
backup_arn = "{{ params.backup }}"
target_table = "{{ params.table }}-from-backup"
confirm = "{{ params.table }}-from-backup"

[[step]]
id = "to-time"
needs = ["pitr"]
kind = "dynamodb.restore-to-point-in-time"
source_table = "{{ params.table }}"
target_table = "{{ params.table }}-pitr"
confirm = "{{ params.table }}-pitr"

[[step]]
id = "both-active"
needs = ["from-backup", "to-time"]
kind = "dynamodb.wait-active"
table = "{{ steps.to-time.table_name }}"

[[step]]
id = "from-backup-active"
needs = ["from-backup"]
kind = "wait"
until = { table = "{{ steps.from-backup.table_name }}", status = "ACTIVE" }
timeout = "1m"

[[step]]
id = "count"
needs = ["from-backup-active"]
kind = "dynamodb.count"
table = "{{ steps.from-backup.table_name }}"

[[step]]
id = "drop"
needs = ["count", "both-active"]
kind = "dynamodb.delete-table"
table = "{{ steps.from-backup.table_name }}"
cleanup = true
"#;
    let (summary, events) = run(steps, &[("table", &table), ("backup", &backup_arn)]).await;
    assert_succeeded(&summary, &events);
    assert_eq!(outputs(&events, "pitr")["status"], "ENABLED");
    assert!(outputs(&events, "pick")["arn"].starts_with("pitr:"));
    assert_eq!(outputs(&events, "count")["items"], "5");
    assert!(!outputs(&events, "to-time")["restore_time"].is_empty());
    assert!(outputs(&events, "drop")["table_arn"].ends_with("-from-backup"));
    let gone = moto()
        .dynamodb("us-east-1")
        .describe_table()
        .table_name(format!("{table}-from-backup"))
        .send()
        .await;
    assert!(gone.is_err(), "the cleanup deleted the restored table");
}

/// The `restore_time` output is the time AWS restored to, from the
/// answer's `RestoreSummary.RestoreDateTime` (botocore `dynamodb`
/// 2012-08-10: "point in time or source backup time"), not the window's
/// latest time read before the request: that window moves with the clock
/// (the moto extension's DescribeContinuousBackups moves it, as AWS does).
// rule: ddb-pitr-restore-time
#[tokio::test]
async fn a_latest_pitr_restore_outputs_the_time_aws_restored_to() {
    let table = unique("cabal-user-preferences");
    create_table(&table, 2).await;
    let db = moto().dynamodb("us-east-1");
    db.update_continuous_backups()
        .table_name(&table)
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // The window's latest moves on after PITR was turned on.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let steps = r#"
[[step]]
id = "to-time"
kind = "dynamodb.restore-to-point-in-time"
source_table = "{{ params.table }}"
target_table = "{{ params.table }}-latest"
"#;
    let (summary, events) = run(steps, &[("table", &table)]).await;
    assert_succeeded(&summary, &events);
    let restored = db
        .describe_table()
        .table_name(format!("{table}-latest"))
        .send()
        .await
        .unwrap();
    let summary = restored.table().unwrap().restore_summary().unwrap();
    let said = summary.restore_date_time();
    let said = jiff::Timestamp::new(said.secs(), said.subsec_nanos() as i32).unwrap();
    assert_eq!(
        outputs(&events, "to-time")["restore_time"],
        said.to_string()
    );
}
