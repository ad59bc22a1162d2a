//! DynamoDB in the simulated world: restore jobs that create tables, and tables that are deleted.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_dynamodb_restore_job_creates_the_table() {
    let cloud = sim(&[]);
    let point = last_nights_table_point(&cloud).await;
    let meta = cloud
        .restore_metadata("cabal-backup", &point.id, None, &quiet())
        .await
        .unwrap();
    assert_eq!(meta["targetTableName"], "cabal-addresses");
    let job = cloud
        .start_restore(
            &restore_request(&point, "cabal-addresses-restored"),
            None,
            &quiet(),
        )
        .await
        .unwrap();
    let status = cloud.restore_job(&job, None, &quiet()).await.unwrap();
    assert_eq!(status.status, "CREATED");
    let table = cloud
        .describe_table("cabal-addresses-restored", None, &quiet())
        .await
        .unwrap();
    assert_eq!(table.status, "CREATING");
    pass(8).await;
    let status = cloud.restore_job(&job, None, &quiet()).await.unwrap();
    assert_eq!(status.status, "RUNNING");
    // As AWS Backup (and moto) send it: a number, no `%`.
    let percent: f64 = status.percent_done.unwrap().parse().unwrap();
    assert!(percent > 20.0 && percent < 60.0, "{percent}");
    pass(20).await;
    let status = cloud.restore_job(&job, None, &quiet()).await.unwrap();
    assert!(status.succeeded(), "{status:?}");
    assert!(
        status
            .created_resource_arn
            .unwrap()
            .ends_with("table/cabal-addresses-restored")
    );
    let table = cloud
        .describe_table("cabal-addresses-restored", None, &quiet())
        .await
        .unwrap();
    assert_eq!(table.status, "ACTIVE");
    assert_eq!(table.item_count, Some(3_412));
    // The copy back into the live table: counts make sense afterwards.
    let e = cloud
        .copy_table("cabal-addresses", "cabal-addresses", 4, None, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    let notes = StdMutex::new(Vec::new());
    let note = |m: String| notes.lock().unwrap().push(m);
    let counts = cloud
        .copy_table(
            "cabal-addresses-restored",
            "cabal-addresses",
            4,
            None,
            &note,
        )
        .await
        .unwrap();
    assert_eq!(
        counts,
        CopyCounts {
            read: 3_412,
            written: 3_412
        }
    );
    assert_eq!(
        cloud
            .count_items("cabal-addresses", 4, None, &quiet())
            .await
            .unwrap(),
        3_412
    );
    assert!(
        notes
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.contains("of 3,412 items")),
        "{notes:?}"
    );
}

// rule: ddb-restore-into-existing-table
#[tokio::test(start_paused = true)]
async fn restoring_into_an_existing_table_fails() {
    let cloud = sim(&[]);
    let backups = list(
        &cloud,
        PointSource::Table {
            table: "cabal-counter".into(),
            region: None,
        },
    )
    .await
    .unwrap()
    .0;
    assert_eq!(backups[0].kind, PointKind::DynamodbPitr);
    assert_eq!(
        backups
            .iter()
            .filter(|p| p.kind == PointKind::DynamodbBackup)
            .count(),
        3
    );
    let backup = &backups[1].id;
    let e = cloud
        .restore_table_from_backup(backup, "cabal-counter", None, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert!(
        e.message.contains("TableAlreadyExistsException") && e.message.contains("SIMULATED"),
        "{e}"
    );
    let e = cloud
        .restore_table_to_point_in_time("cabal-counter", "cabal-counter", None, None, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    // Through AWS Backup, the job is accepted and fails, as AWS does.
    let point = last_nights_table_point(&cloud).await;
    let job = cloud
        .start_restore(&restore_request(&point, "cabal-addresses"), None, &quiet())
        .await
        .unwrap();
    pass(2).await;
    let status = cloud.restore_job(&job, None, &quiet()).await.unwrap();
    assert_eq!(status.status, "FAILED");
    assert!(status.message.unwrap().contains("Table already exists"));
    // A new name works, from an on-demand backup or a point in time.
    let state = cloud
        .restore_table_from_backup(backup, "cabal-counter-restored", None, &quiet())
        .await
        .unwrap();
    assert_eq!(state.status, "CREATING");
    let pitr = cloud
        .pitr_status("cabal-dmarc-reports", None, &quiet())
        .await
        .unwrap();
    let window = pitr.latest.unwrap().duration_since(pitr.earliest.unwrap());
    assert_eq!(window.as_hours() / 24, 34);
    let latest = cloud.now().duration_since(pitr.latest.unwrap());
    assert_eq!(latest.as_mins(), 5);
    cloud
        .restore_table_to_point_in_time(
            "cabal-dmarc-reports",
            "dmarc-pitr",
            pitr.latest,
            None,
            &quiet(),
        )
        .await
        .unwrap();
    pass(30).await;
    assert_eq!(
        cloud
            .count_items("dmarc-pitr", 8, None, &quiet())
            .await
            .unwrap(),
        48_733
    );
    let restored = cloud
        .describe_table("cabal-counter-restored", None, &quiet())
        .await
        .unwrap();
    assert_eq!(restored.item_count, Some(1_285));
}

#[tokio::test(start_paused = true)]
async fn a_table_deleted_at_the_end_of_time_answers_instead_of_panicking() {
    // An extreme --speed saturates the world's clock at its last instant.
    let cloud = SimCloud::builtin(SimOptions {
        now: Some(NOW.parse().unwrap()),
        speed: 1e300,
        ..SimOptions::default()
    })
    .unwrap();
    pass(1).await;
    assert_eq!(cloud.now(), jiff::Timestamp::MAX);
    let state = cloud
        .delete_table("cabal-counter", None, &quiet())
        .await
        .unwrap();
    assert_eq!(state.status, "DELETING");
}

// rule: ddb-points-include-aws-backup
#[tokio::test(start_paused = true)]
async fn a_tables_points_include_its_aws_backup_points() {
    // ListRecoveryPointsByResource, as against moto: ListBackups never
    // lists what AWS Backup made.
    let cloud = sim(&[]);
    let point = last_nights_table_point(&cloud).await;
    let table = point.resource_name.clone().unwrap();
    let (listed, _) = list(
        &cloud,
        PointSource::Table {
            table,
            region: None,
        },
    )
    .await
    .unwrap();
    let found = listed.iter().find(|p| p.id == point.id).expect("listed");
    assert_eq!(found.kind, PointKind::Backup);
    assert_eq!(found.vault.as_deref(), Some("cabal-backup"));
}
