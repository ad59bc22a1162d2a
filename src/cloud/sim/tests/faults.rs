//! Injected faults: jobs that fail part way, throttling, denied access and missing tables.

use super::*;

#[tokio::test(start_paused = true)]
async fn failing_jobs_fail_part_way() {
    let cloud = sim(&["copy-job-fails", "restore-job-fails"]);
    let point = last_nights_table_point(&cloud).await;
    let job = cloud
        .start_restore(&restore_request(&point, "restored"), None, &quiet())
        .await
        .unwrap();
    pass(5).await;
    assert_eq!(
        cloud
            .restore_job(&job, None, &quiet())
            .await
            .unwrap()
            .status,
        "RUNNING"
    );
    pass(20).await;
    let status = cloud.restore_job(&job, None, &quiet()).await.unwrap();
    assert_eq!(status.status, "FAILED");
    assert!(status.message.unwrap().contains("SIMULATED"));
    let e = cloud
        .describe_table("restored", None, &quiet())
        .await
        .unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::NotFound,
        "a failed restore leaves no table"
    );
    let request = CopyRequest {
        source_vault: "cabal-backup".into(),
        recovery_point_arn: point.id.clone(),
        destination_vault_arn: "arn:aws:backup:us-west-2:111122223333:backup-vault:cabal-backup-dr"
            .into(),
        iam_role_arn: ROLE.into(),
        lifecycle: None,
    };
    let job = cloud.start_copy(&request, None, &quiet()).await.unwrap();
    pass(40).await;
    let status = cloud.copy_job(&job, None, &quiet()).await.unwrap();
    assert_eq!(status.status, "FAILED");
    assert!(
        status
            .message
            .unwrap()
            .contains("advanced DynamoDB backup features")
    );
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_and_told() {
    let cloud = sim(&["throttle=2"]);
    let notes = StdMutex::new(Vec::new());
    let note = |m: String| notes.lock().unwrap().push(m);
    let state = cloud
        .describe_table("cabal-counter", None, &note)
        .await
        .unwrap();
    assert_eq!(state.status, "ACTIVE");
    assert_eq!(notes.lock().unwrap().len(), 2);
    assert!(notes.lock().unwrap()[0].contains("throttled"), "{notes:?}");
    // The budget is per operation and spent: no more throttling.
    cloud
        .describe_table("cabal-counter", None, &note)
        .await
        .unwrap();
    assert_eq!(notes.lock().unwrap().len(), 2);

    let hard = sim(&["throttle=100"]);
    let e = hard
        .pitr_status("cabal-counter", None, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert!(e.message.contains("SIMULATED"));
}

#[tokio::test(start_paused = true)]
async fn access_denied_and_missing_tables() {
    let cloud = sim(&[
        "access-denied=StartRestoreJob",
        "missing-table=cabal-counter",
    ]);
    let point = last_nights_table_point(&cloud).await;
    let e = cloud
        .start_restore(&restore_request(&point, "x"), None, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    assert!(
        e.to_string().contains("backup:StartRestoreJob") && e.message.contains("SIMULATED"),
        "{e}"
    );
    let e = cloud
        .describe_table("cabal-counter", None, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    // Its on-demand backups survive it: restore under the lost name.
    let backups = list(
        &cloud,
        PointSource::Table {
            table: "cabal-counter".into(),
            region: None,
        },
    )
    .await;
    assert_eq!(backups.unwrap_err().kind, ErrorKind::NotFound);
    let plain = sim(&[]);
    let (points, _) = list(
        &plain,
        PointSource::Table {
            table: "cabal-counter".into(),
            region: None,
        },
    )
    .await
    .unwrap();
    cloud
        .restore_table_from_backup(&points[1].id, "cabal-counter", None, &quiet())
        .await
        .unwrap();
    let bad = SimCloud::builtin(SimOptions {
        faults: vec!["missing-table=no-such-table".parse().unwrap()],
        ..SimOptions::default()
    });
    let e = bad.unwrap_err().to_string();
    assert!(e.contains("cabal-dmarc-reports"), "{e}");
}
