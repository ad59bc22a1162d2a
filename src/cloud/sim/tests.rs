//! Tests of the simulated world, on tokio's paused clock.

use std::sync::Mutex as StdMutex;
use std::time::Duration;

use super::*;
use crate::cloud::{ArchiveState, PointKind, points, quiet};

const NOW: &str = "2026-11-24T09:30:00Z";
const ROLE: &str = "arn:aws:iam::111122223333:role/cabal-backup-role";
const GTIN1: &str = "closient-disaster-recovery-backup";
const PENGUIN: &str = "penguinmails-vault-backups";

fn sim(faults: &[&str]) -> SimCloud {
    let faults = faults.iter().map(|f| f.parse().unwrap()).collect();
    let options = SimOptions {
        now: Some(NOW.parse().unwrap()),
        faults,
        ..SimOptions::default()
    };
    SimCloud::builtin(options).unwrap()
}

fn vault(name: &str, region: Option<&str>, resource_type: Option<&str>) -> PointSource {
    PointSource::Vault {
        vault: name.into(),
        region: region.map(Into::into),
        resource_type: resource_type.map(Into::into),
        resource_arn: None,
    }
}

fn bucket(name: &str, prefix: &str, suffix: Option<&str>) -> PointSource {
    PointSource::Bucket {
        bucket: name.into(),
        prefix: prefix.into(),
        suffix: suffix.map(Into::into),
        versions: false,
        region: None,
    }
}

fn object(bucket: &str, key: &str) -> ObjectRef {
    ObjectRef {
        bucket: bucket.into(),
        key: key.into(),
        version_id: None,
        region: None,
    }
}

/// Every point of a listing, and the size of each page.
async fn list(
    cloud: &SimCloud,
    source: PointSource,
) -> Result<(Vec<RecoveryPoint>, Vec<usize>), CloudError> {
    let (tx, mut rx) = mpsc::channel(2);
    let listing = async {
        let result = cloud.list_points(&source, &tx, &quiet()).await;
        drop(tx);
        result
    };
    let read = async {
        let mut points = Vec::new();
        let mut sizes = Vec::new();
        while let Some(page) = rx.recv().await {
            sizes.push(page.len());
            points.extend(page);
        }
        (points, sizes)
    };
    let (result, (points, sizes)) = tokio::join!(listing, read);
    result.map(|()| (points, sizes))
}

async fn last_nights_table_point(cloud: &SimCloud) -> RecoveryPoint {
    let (points, _) = list(cloud, vault("cabal-backup", None, Some("DynamoDB")))
        .await
        .unwrap();
    points::latest(&points, None).unwrap().clone()
}

fn restore_request(point: &RecoveryPoint, target: &str) -> RestoreRequest {
    RestoreRequest {
        recovery_point_arn: point.id.clone(),
        iam_role_arn: ROLE.into(),
        metadata: BTreeMap::from([("targetTableName".into(), target.into())]),
        resource_type: Some("DynamoDB".into()),
    }
}

/// Lets `minutes` of world time pass (at the default speed of 60).
async fn pass(minutes: u64) {
    tokio::time::sleep(Duration::from_secs(minutes)).await;
}

#[tokio::test(start_paused = true)]
async fn a_year_of_nightly_points_is_listed_in_both_vaults() {
    let cloud = sim(&[]);
    let (primary, pages) = list(&cloud, vault("cabal-backup", None, None))
        .await
        .unwrap();
    assert_eq!(primary.len(), 2 * 365);
    assert!(
        pages.len() >= 8 && pages.iter().all(|&n| n <= 100),
        "{pages:?}"
    );
    assert!(
        primary
            .iter()
            .all(|p| p.created_at.strftime("%H:%M:%S").to_string() == "00:00:00")
    );
    let efs = primary
        .iter()
        .filter(|p| p.resource_type.as_deref() == Some("EFS"))
        .count();
    assert_eq!(efs, 365);
    let oldest = primary.iter().min_by_key(|p| p.created_at).unwrap();
    assert_eq!(oldest.storage_class.as_deref(), Some("COLD"));
    assert_eq!(primary[0].storage_class.as_deref(), Some("WARM"));
    assert!(
        primary
            .iter()
            .all(|p| p.delete_at.is_some() && p.encryption_key_arn.is_some())
    );

    let (copies, _) = list(&cloud, vault("cabal-backup-dr", Some("us-west-2"), None))
        .await
        .unwrap();
    assert_eq!(copies.len(), 2 * 365);
    let from = "arn:aws:backup:us-east-1:111122223333:backup-vault:cabal-backup";
    assert!(
        copies
            .iter()
            .all(|p| p.copied_from.as_deref() == Some(from) && p.region == "us-west-2")
    );
    // A copy keeps its source's creation date and completes later.
    let copy = &copies[0];
    let source = primary
        .iter()
        .find(|p| p.created_at == copy.created_at && p.resource_arn == copy.resource_arn)
        .unwrap();
    assert!(copy.completed_at > source.completed_at);

    // The DR vault is in us-west-2, not the default region.
    let e = list(&cloud, vault("cabal-backup-dr", None, None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(
        e.message.contains("SIMULATED") && e.message.contains("us-west-2"),
        "{e}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_latest_point_is_last_nights() {
    let cloud = sim(&[]);
    let latest = last_nights_table_point(&cloud).await;
    assert_eq!(latest.created_at, "2026-11-24T00:00:00Z".parse().unwrap());
    assert_eq!(latest.resource_name.as_deref(), Some("cabal-addresses"));
    // Listed together, the primary point wins over its DR copy.
    let sources = vec![
        vault("cabal-backup", None, Some("DynamoDB")),
        vault("cabal-backup-dr", Some("us-west-2"), Some("DynamoDB")),
    ];
    let both = points::collect(Arc::new(sim(&[])), sources, &quiet())
        .await
        .unwrap();
    let best = points::latest(&both, None).unwrap();
    assert_eq!(
        (best.created_at, best.is_copy()),
        (latest.created_at, false)
    );
}

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
async fn a_copy_job_adds_a_point_to_the_dr_vault() {
    let cloud = sim(&[]);
    let dr = "arn:aws:backup:us-west-2:111122223333:backup-vault:cabal-backup-dr";
    let before = cloud
        .vault_posture("cabal-backup-dr", Some("us-west-2"), &quiet())
        .await
        .unwrap();
    let point = last_nights_table_point(&cloud).await;
    let request = CopyRequest {
        source_vault: "cabal-backup".into(),
        recovery_point_arn: point.id.clone(),
        destination_vault_arn: dr.into(),
        iam_role_arn: ROLE.into(),
    };
    let job = cloud.start_copy(&request, None, &quiet()).await.unwrap();
    pass(40).await;
    let status = cloud.copy_job(&job, None, &quiet()).await.unwrap();
    assert!(status.succeeded(), "{status:?}");
    let copy = status.destination_recovery_point_arn.unwrap();
    let after = cloud
        .vault_posture("cabal-backup-dr", Some("us-west-2"), &quiet())
        .await
        .unwrap();
    assert_eq!(after.recovery_points, before.recovery_points + 1);
    let (copies, _) = list(&cloud, vault("cabal-backup-dr", Some("us-west-2"), None))
        .await
        .unwrap();
    let new = copies.iter().find(|p| p.id == copy).unwrap();
    assert_eq!(
        (new.created_at, new.status.as_str()),
        (point.created_at, "COMPLETED")
    );
    // Restoring it in the DR region works; in the primary region it is not there.
    let job = cloud
        .start_restore(
            &restore_request(new, "cabal-addresses-dr"),
            Some("us-west-2"),
            &quiet(),
        )
        .await;
    assert!(job.is_ok(), "{job:?}");
    let e = cloud
        .start_restore(&restore_request(new, "x"), None, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[tokio::test(start_paused = true)]
async fn the_vault_lock_refuses_young_deletes_until_removed() {
    let cloud = sim(&[]);
    let (points, _) = list(&cloud, vault("cabal-backup", None, None))
        .await
        .unwrap();
    let young = &points[0];
    let old = points
        .iter()
        .find(|p| p.age(cloud.now()) > Duration::from_secs(40 * 86_400))
        .unwrap();
    let e = cloud
        .delete_recovery_point("cabal-backup", &young.id, None, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert!(e.message.contains("minimum retention of 30 days"), "{e}");
    cloud
        .delete_recovery_point("cabal-backup", &old.id, None, &quiet())
        .await
        .unwrap();
    let posture = cloud
        .vault_posture("cabal-backup", None, &quiet())
        .await
        .unwrap();
    assert!(posture.locked && posture.min_retention_days == Some(30));
    cloud
        .delete_vault_lock("cabal-backup", None, &quiet())
        .await
        .unwrap();
    assert!(
        !cloud
            .vault_posture("cabal-backup", None, &quiet())
            .await
            .unwrap()
            .locked
    );
    cloud
        .delete_recovery_point("cabal-backup", &young.id, None, &quiet())
        .await
        .unwrap();
    let e = cloud
        .delete_recovery_point("cabal-backup", &young.id, None, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let posture = cloud
        .vault_posture("cabal-backup", None, &quiet())
        .await
        .unwrap();
    assert_eq!(posture.recovery_points, 2 * 365 - 2);
}

#[tokio::test(start_paused = true)]
async fn penguinmails_snapshots_carry_their_checksum() {
    let cloud = sim(&[]);
    let (daily, _) = list(&cloud, bucket(PENGUIN, "daily/", None)).await.unwrap();
    assert_eq!(daily.len(), 7);
    let (monthly, _) = list(&cloud, bucket(PENGUIN, "monthly/", None))
        .await
        .unwrap();
    assert_eq!(monthly.len(), 12);
    let latest = points::latest(&daily, None).unwrap();
    assert_eq!(
        latest.key.as_deref(),
        Some("daily/2026-11-24/vault-snapshot-20261124-020000.enc")
    );
    let recorded = latest.sha256.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("snapshot.enc");
    let target = object(PENGUIN, latest.key.as_deref().unwrap());
    let fetched = cloud
        .fetch_object(&target, Some(&to), &quiet())
        .await
        .unwrap();
    assert_eq!(fetched.sha256, recorded);
    let written = tokio::fs::read(&to).await.unwrap();
    assert_eq!(written.len() as u64, fetched.size_bytes);
    assert_eq!(world::sha256_hex(&written), recorded);
    let head = cloud.head_object(&target, &quiet()).await.unwrap();
    assert_eq!(
        head.recorded_sha256().map(|(s, _)| s),
        Some(recorded.clone())
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file is left"
    );

    let corrupt = sim(&["corrupt-checksum=penguinmails-vault-backups/daily/*.enc"]);
    let fetched = corrupt.fetch_object(&target, None, &quiet()).await.unwrap();
    assert_ne!(fetched.sha256, recorded);
    let monthly_key = monthly[0].key.as_deref().unwrap();
    let fine = corrupt
        .fetch_object(&object(PENGUIN, monthly_key), None, &quiet())
        .await
        .unwrap();
    assert_eq!(Some(fine.sha256), monthly[0].sha256);
}

#[tokio::test(start_paused = true)]
async fn gtin1_dumps_have_manifests_and_media_needs_an_archive_restore() {
    let cloud = sim(&[]);
    let (dumps, _) = list(
        &cloud,
        bucket(GTIN1, "database/gtin1/", Some("backup.dump")),
    )
    .await
    .unwrap();
    assert_eq!(dumps.len(), 4 + 12 + 2);
    for dump in &dumps {
        assert_eq!(dump.object_lock_mode.as_deref(), Some("GOVERNANCE"));
        assert!(
            dump.manifest.contains_key("database") && dump.manifest.contains_key("tier"),
            "{dump:?}"
        );
        assert!(dump.sha256.is_some());
    }
    let weekly = points::latest(&dumps, None).unwrap();
    let key = weekly.key.as_deref().unwrap();
    assert!(
        key.starts_with("database/gtin1/weekly/gtin1-dr-20261122-020000-"),
        "{key}"
    );
    let fetched = cloud
        .fetch_object(&object(GTIN1, key), None, &quiet())
        .await
        .unwrap();
    assert_eq!(Some(fetched.sha256.clone()), weekly.sha256);
    // The dumps are the committed real pg_dump.
    let asset = include_bytes!("../../../assets/sandbox/gtin1-backup.dump");
    assert!(asset.starts_with(b"PGDMP"));
    assert_eq!(fetched.size_bytes, asset.len() as u64);
    assert_eq!(
        fetched.sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(asset))
    );
    assert_eq!(
        weekly.manifest["size_bytes"],
        fetched.size_bytes.to_string()
    );

    let (media, pages) = list(&cloud, bucket(GTIN1, "media/", None)).await.unwrap();
    assert_eq!((media.len(), pages), (1_200, vec![1000, 200]));
    assert!(
        media
            .iter()
            .all(|p| p.archive == Some(ArchiveState::Needed) && !p.is_restorable())
    );
    let image = object(GTIN1, media[0].key.as_deref().unwrap());
    let e = cloud
        .fetch_object(&image, None, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert!(e.message.contains("InvalidObjectState"), "{e}");
    let e = cloud
        .restore_object(&image, "Expedited", 7, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    cloud
        .restore_object(&image, "Bulk", 7, &quiet())
        .await
        .unwrap();
    assert_eq!(
        cloud.head_object(&image, &quiet()).await.unwrap().archive,
        Some(ArchiveState::Ongoing)
    );
    pass(11 * 60).await;
    assert_eq!(
        cloud.head_object(&image, &quiet()).await.unwrap().archive,
        Some(ArchiveState::Ongoing)
    );
    pass(4 * 60).await;
    let head = cloud.head_object(&image, &quiet()).await.unwrap();
    assert!(
        matches!(head.archive, Some(ArchiveState::Ready { until: Some(_) })),
        "{head:?}"
    );
    let fetched = cloud.fetch_object(&image, None, &quiet()).await.unwrap();
    assert_eq!(fetched.size_bytes, head.size_bytes);
}

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

#[tokio::test(start_paused = true)]
async fn world_files_report_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let text = "[[vault]]\nname = \"v\"\n\n[[plan]]\nname = \"p\"\nvault = \"w\"\ndays = 3\n[[plan.resource]]\ntype = \"DynamoDB\"\nname = \"t\"\nsize_bytes = 1\n";
    tokio::fs::write(&path, text).await.unwrap();
    let e = SimCloud::from_files(std::slice::from_ref(&path), SimOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad.toml:6:9")
            && e.contains("plan[0].vault")
            && e.contains("no vault named `w`"),
        "{e}"
    );

    tokio::fs::write(&path, "[[table]]\nname = \"t\"\nitems = 1\npitr_dayz = 3\n")
        .await
        .unwrap();
    let e = SimCloud::from_files(std::slice::from_ref(&path), SimOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.toml:4:1") && e.contains("pitr_days"), "{e}");

    let text = "[[bucket]]\nname = \"b\"\n[[bucket.object]]\nkey = \"data.bin\"\ncontent_file = \"data.bin\"\n";
    tokio::fs::write(&path, text).await.unwrap();
    tokio::fs::write(dir.path().join("data.bin"), b"real bytes")
        .await
        .unwrap();
    let cloud = SimCloud::from_files(&[path], SimOptions::default())
        .await
        .unwrap();
    let bytes = cloud
        .read_object(&object("b", "data.bin"), &quiet())
        .await
        .unwrap();
    assert_eq!(bytes, b"real bytes");
}

#[test]
fn the_identity_is_simulated() {
    let identity = SimCloud::builtin(SimOptions::default()).unwrap().identity();
    assert!(identity.simulated);
    assert_eq!(identity.account.as_deref(), Some("111122223333"));
    assert!(identity.describe().starts_with("SIMULATED"));
    let e = SimCloud::builtin(SimOptions {
        speed: 0.0,
        ..SimOptions::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("speed"));
}

#[tokio::test(start_paused = true)]
async fn the_documented_world_file_loads() {
    let doc = include_str!("../../../docs/sandbox.md");
    let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
    let example = &doc[start..start + doc[start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.toml");
    tokio::fs::write(&path, example).await.unwrap();
    tokio::fs::write(dir.path().join("gtin1-readme.txt"), "hello")
        .await
        .unwrap();
    tokio::fs::write(
        dir.path().join("penguinmails-vault-snapshot.tar.gz"),
        "snap",
    )
    .await
    .unwrap();
    let options = SimOptions {
        now: Some(NOW.parse().unwrap()),
        ..SimOptions::default()
    };
    let cloud = SimCloud::from_files(&[path], options).await.unwrap();
    let (dumps, _) = list(&cloud, bucket(GTIN1, "database/", Some(".dump")))
        .await
        .unwrap();
    assert_eq!(dumps.len(), 4);
    assert!(
        dumps
            .iter()
            .all(|d| d.sha256.is_some() && d.manifest["tier"] == "weekly")
    );
    let (copies, _) = list(&cloud, vault("cabal-backup-dr", Some("us-west-2"), None))
        .await
        .unwrap();
    assert_eq!(copies.len(), 365);
}

#[tokio::test(start_paused = true)]
async fn a_download_that_fails_leaves_no_part_file() {
    let cloud = sim(&[]);
    let (dumps, _) = list(
        &cloud,
        bucket(GTIN1, "database/gtin1/", Some("backup.dump")),
    )
    .await
    .unwrap();
    let key = dumps[0].key.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("restore/backup.dump");
    let fetched = cloud
        .fetch_object(&object(GTIN1, &key), Some(&good), &quiet())
        .await
        .unwrap();
    assert_eq!(std::fs::metadata(&good).unwrap().len(), fetched.size_bytes);
    // A directory stands where the file should go: the rename fails.
    let blocked = dir.path().join("blocked.dump");
    std::fs::create_dir_all(blocked.join("inside")).unwrap();
    let e = cloud
        .fetch_object(&object(GTIN1, &key), Some(&blocked), &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(
        e.to_string()
            .starts_with(&format!("GetObject on s3://{GTIN1}/{key}")),
        "{e}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!left.iter().any(|n| n.contains("part")), "{left:?}");
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

#[tokio::test(start_paused = true)]
async fn a_lock_with_a_huge_minimum_retention_refuses_deletes_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("forever.toml");
    let text = "[[vault]]\nname = \"forever\"\nlock = { min_retention_days = 9223372036854775807 }\n\n[[plan]]\nname = \"p\"\nvault = \"forever\"\ndays = 2\n[[plan.resource]]\ntype = \"DynamoDB\"\nname = \"t\"\nsize_bytes = 1\n";
    tokio::fs::write(&path, text).await.unwrap();
    let cloud = SimCloud::from_files(
        &[path],
        SimOptions {
            now: Some(NOW.parse().unwrap()),
            ..SimOptions::default()
        },
    )
    .await
    .unwrap();
    let (points, _) = list(&cloud, vault("forever", None, None)).await.unwrap();
    let e = cloud
        .delete_recovery_point("forever", &points[0].id, None, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert!(e.message.contains("minimum retention"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn a_listed_objects_checksum_is_read_as_its_head_reads_it() {
    // As the AWS listing does (from HEAD): hex is lower-cased, and metadata
    // that is not a SHA-256 is passed over for the next name.
    let sum = "AB".repeat(32);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sums.toml");
    let text = format!(
        "[[bucket]]\nname = \"b\"\n[[bucket.object]]\nkey = \"x.enc\"\nmetadata = {{ sha256 = \"pending\", checksum = \"{sum}\" }}\n"
    );
    tokio::fs::write(&path, text).await.unwrap();
    let cloud = SimCloud::from_files(&[path], SimOptions::default())
        .await
        .unwrap();
    let (points, _) = list(&cloud, bucket("b", "", None)).await.unwrap();
    let head = cloud
        .head_object(&object("b", "x.enc"), &quiet())
        .await
        .unwrap();
    assert_eq!(points[0].sha256, Some(sum.to_ascii_lowercase()));
    assert_eq!(points[0].sha256, head.recorded_sha256().map(|(s, _)| s));
}

#[tokio::test(start_paused = true)]
async fn cpam_has_last_nights_base_backup_and_wal_up_to_four_minutes_ago() {
    let cloud = sim(&[]);
    let (base, _) = list(&cloud, bucket("prod-cpam-backups", "base/", None))
        .await
        .unwrap();
    let keys: Vec<_> = base.iter().filter_map(|p| p.key.as_deref()).collect();
    for file in ["base.tar.gz", "pg_wal.tar.gz", "backup_manifest"] {
        assert!(
            keys.contains(&format!("base/cpam_backup_20261124-020000/{file}").as_str()),
            "{keys:?}"
        );
    }
    let (wal, _) = list(&cloud, bucket("prod-cpam-backups", "wal/", Some(".gz")))
        .await
        .unwrap();
    assert_eq!(wal.len(), 2);
    let newest = points::latest(&wal, None).unwrap();
    assert_eq!(
        newest.key.as_deref(),
        Some("wal/000000010000000000000008.gz")
    );
    let now: jiff::Timestamp = NOW.parse().unwrap();
    assert_eq!(
        now.duration_since(newest.created_at),
        jiff::SignedDuration::from_mins(4)
    );
    // The content is the committed real backup, its SHA-256 recorded.
    let tar = include_bytes!("../../../assets/sandbox/cpam/base/base.tar.gz");
    let fetched = cloud
        .fetch_object(
            &object(
                "prod-cpam-backups",
                "base/cpam_backup_20261124-020000/base.tar.gz",
            ),
            None,
            &quiet(),
        )
        .await
        .unwrap();
    assert_eq!(fetched.size_bytes, tar.len() as u64);
    assert_eq!(
        fetched.sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(tar))
    );
}

#[test]
fn an_object_age_must_be_a_duration() {
    let text =
        "[[bucket]]\nname = \"b\"\n[[bucket.object]]\nkey = \"w/{stamp}.gz\"\nage = \"soon\"\n";
    let err = SimCloud::build(
        std::iter::once(("w.toml".to_owned(), text.to_owned())),
        &|_: &str, _: &str| None,
        SimOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`soon` is not a duration"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn penguinmails_snapshots_are_real_encryptions_under_the_demo_key() {
    let cloud = sim(&[]);
    let (daily, _) = list(&cloud, bucket(PENGUIN, "daily/", Some(".enc")))
        .await
        .unwrap();
    assert_eq!(daily.len(), 7);
    let key = crate::crypt::parse_key("c2FuZGJveC1kZW1vLWtleS1wZW5ndWlubWFpbHMtMzI=").unwrap();
    let mut ivs = std::collections::HashSet::new();
    for p in &daily {
        let sealed = cloud
            .read_object(&object(PENGUIN, p.key.as_deref().unwrap()), &quiet())
            .await
            .unwrap();
        assert_eq!(
            p.sha256.as_deref(),
            Some(world::sha256_hex(&sealed).as_str())
        );
        ivs.insert(sealed[..16].to_vec());
        let plain =
            crate::crypt::decrypt(&key, crate::crypt::Layout::Iv16Tag16Ciphertext, sealed).unwrap();
        let snapshot = BUILTIN_CONTENT
            .iter()
            .find(|(name, _)| *name == "penguinmails-vault-snapshot.tar.gz")
            .unwrap()
            .1;
        assert_eq!(plain.as_slice(), snapshot);
    }
    assert_eq!(ivs.len(), 7, "every snapshot has its own IV");
}

#[tokio::test(start_paused = true)]
async fn an_encrypted_series_needs_a_hex_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("enc.toml");
    let series = |key: &str, file: &str| {
        format!(
            "[[bucket]]\nname = \"b\"\n[[bucket.series]]\nkey = \"daily/{{date}}/s.enc\"\nevery = \"day\"\ncount = 2\ncontent_file = \"{file}\"\nencrypt = {{ key = \"{key}\" }}\n"
        )
    };
    tokio::fs::write(dir.path().join("snap.tar.gz"), b"plain")
        .await
        .unwrap();
    tokio::fs::write(&path, series("zz", "snap.tar.gz"))
        .await
        .unwrap();
    let e = SimCloud::from_files(std::slice::from_ref(&path), SimOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("enc.toml:8:")
            && e.contains("bucket[0].series[0].encrypt.key")
            && e.contains("64 hex digits"),
        "{e}"
    );
    tokio::fs::write(&path, series(&"ab".repeat(32), "missing.tar.gz"))
        .await
        .unwrap();
    let e = SimCloud::from_files(std::slice::from_ref(&path), SimOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.tar.gz"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn copy_jobs_and_region_settings_follow_the_plan_and_the_fault() {
    let cloud = sim(&[]);
    let day = crate::cloud::CopyJobFilter {
        within: Duration::from_secs(26 * 3600),
        resource_type: Some("DynamoDB".into()),
        destination_vault_arn: None,
    };
    // Last night's DynamoDB copy ran from us-east-1 into the DR vault.
    let jobs = cloud.list_copy_jobs(&day, None, &quiet()).await.unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].state, "COMPLETED");
    assert!(
        jobs[0]
            .destination_vault_arn
            .as_deref()
            .unwrap()
            .ends_with(":backup-vault:cabal-backup-dr")
    );
    // None ran from the DR region, and a week holds seven.
    let none = cloud
        .list_copy_jobs(&day, Some("us-west-2"), &quiet())
        .await
        .unwrap();
    assert!(none.is_empty());
    let week = crate::cloud::CopyJobFilter {
        within: Duration::from_secs(7 * 86_400),
        resource_type: None,
        destination_vault_arn: None,
    };
    let jobs = cloud.list_copy_jobs(&week, None, &quiet()).await.unwrap();
    assert_eq!(jobs.len(), 14, "DynamoDB and EFS, seven nights");
    assert!(jobs.windows(2).all(|w| w[0].created_at >= w[1].created_at));
    let settings = cloud.region_settings(None, &quiet()).await.unwrap();
    assert_eq!(settings.full_management.get("DynamoDB"), Some(&true));

    let broken = sim(&["copy-job-fails"]);
    let jobs = broken.list_copy_jobs(&day, None, &quiet()).await.unwrap();
    assert_eq!(jobs[0].state, "FAILED");
    assert!(
        jobs[0]
            .message
            .as_deref()
            .unwrap()
            .contains("DynamoDB=true")
    );
    let settings = broken.region_settings(None, &quiet()).await.unwrap();
    assert_eq!(settings.full_management.get("DynamoDB"), Some(&false));
}

#[tokio::test(start_paused = true)]
async fn an_item_level_efs_restore_writes_its_recovery_directory_in_the_run_dir() {
    let cloud = sim(&[]);
    let run = tempfile::tempdir().unwrap();
    cloud.attach_run_dir(run.path());
    let fs = run.path().join("sandbox-efs/fs-0c4b7e2d91a35f862");
    let files = |dir: &std::path::Path| std::fs::read_dir(dir).map_or(0, |d| d.count());
    // 30 days of mail less the 3 the user deleted; a folder too.
    assert_eq!(files(&fs.join("chris/Maildir/cur")), 27);
    assert_eq!(files(&fs.join("chris/Maildir/.Archive/cur")), 5);
    let (points, _) = list(&cloud, vault("cabal-backup", None, Some("EFS")))
        .await
        .unwrap();
    let point = points::latest(&points, None).unwrap().clone();
    let request = |item: &str| RestoreRequest {
        recovery_point_arn: point.id.clone(),
        iam_role_arn: ROLE.into(),
        metadata: BTreeMap::from([
            ("newFileSystem".into(), "false".into()),
            ("file-system-id".into(), "fs-0c4b7e2d91a35f862".into()),
            ("itemsToRestore".into(), format!("[\"{item}\"]")),
        ]),
        resource_type: None,
    };
    let job = cloud
        .start_restore(&request("/chris/Maildir/cur"), None, &quiet())
        .await
        .unwrap();
    let missing = cloud
        .start_restore(&request("/zoe"), None, &quiet())
        .await
        .unwrap();
    pass(20).await;
    assert!(
        cloud
            .restore_job(&job, None, &quiet())
            .await
            .unwrap()
            .succeeded()
    );
    let recovery: Vec<_> = std::fs::read_dir(&fs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("aws-backup-restore_"))
        .collect();
    assert_eq!(recovery.len(), 1, "{recovery:?}");
    let restored = fs.join(&recovery[0]).join("chris/Maildir");
    // Last night's point: every day's message but this morning's.
    assert_eq!(files(&restored.join("cur")), 29);
    assert!(
        !restored.join(".Archive").exists(),
        "only the item asked for"
    );
    let failed = cloud.restore_job(&missing, None, &quiet()).await.unwrap();
    assert_eq!(failed.status, "FAILED");
    assert!(failed.message.unwrap().contains("/zoe"));
}
