//! AWS Backup in the simulated world: vault listings, copy jobs, vault locks, region settings and EFS item restores.

use super::*;

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

// rule: backup-copy-keeps-creation-date
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
        lifecycle: None,
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

/// A locked vault refuses every delete before the point's
/// CalculatedLifecycle.DeleteAt, however old the point is (it used to let
/// points older than the lock's minimum retention go).
// rule: backup-lock-keeps-until-delete-at
#[tokio::test(start_paused = true)]
async fn the_vault_lock_refuses_every_delete_before_delete_at_until_removed() {
    let cloud = sim(&[]);
    let (points, _) = list(&cloud, vault("cabal-backup", None, None))
        .await
        .unwrap();
    let young = &points[0];
    let old = points
        .iter()
        .find(|p| p.age(cloud.now()) > Duration::from_secs(40 * 86_400))
        .unwrap();
    let old_delete_at = old.delete_at.expect("the plan's lifecycle");
    assert!(old_delete_at > cloud.now());
    for p in [young, old] {
        let e = cloud
            .delete_recovery_point("cabal-backup", &p.id, None, &quiet())
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert!(e.message.contains("cabal-backup is locked"), "{e}");
        let ends = p.delete_at.unwrap().to_string();
        assert!(
            e.message.contains(&format!("retention ends at {ends}")),
            "{e}"
        );
    }
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
    assert_eq!(posture.recovery_points, 2 * 365 - 1);
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
    assert!(e.message.contains("forever is locked"), "{e}");
}

// rule: backup-continuous-point-kept
#[tokio::test(start_paused = true)]
async fn a_continuous_plan_keeps_one_continuous_point_and_deleting_it_stops_the_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pitr.toml");
    let text = "[[vault]]\nname = \"pitr\"\n\n[[plan]]\nname = \"p\"\nvault = \"pitr\"\ndays = 5\ncontinuous = true\n[[plan.resource]]\ntype = \"DynamoDB\"\nname = \"t\"\nsize_bytes = 1\n";
    tokio::fs::write(&path, text).await.unwrap();
    let options = SimOptions {
        now: Some(NOW.parse().unwrap()),
        ..SimOptions::default()
    };
    let cloud = SimCloud::from_files(&[path], options).await.unwrap();
    let (points, _) = list(&cloud, vault("pitr", None, None)).await.unwrap();
    assert_eq!(points.len(), 1, "{points:?}");
    assert!(points[0].is_continuous(), "{}", points[0].id);
    let resource = points[0].resource_arn.clone().unwrap();
    assert!(cloud.world.lock().unwrap().continuous_stopped.is_empty());
    cloud
        .delete_recovery_point("pitr", &points[0].id, None, &quiet())
        .await
        .unwrap();
    assert!(
        cloud
            .world
            .lock()
            .unwrap()
            .continuous_stopped
            .contains(&resource)
    );
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
        idempotency_token: None,
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

/// An item-level EFS restore takes any number of items (it used to refuse
/// more than five); past 200 KB of metadata StartRestoreJob refuses.
// rule: backup-efs-items-unbounded
#[tokio::test(start_paused = true)]
async fn an_efs_restore_takes_more_than_five_items_but_not_200_kb_of_metadata() {
    let cloud = sim(&[]);
    let run = tempfile::tempdir().unwrap();
    cloud.attach_run_dir(run.path());
    let fs = run.path().join("sandbox-efs/fs-0c4b7e2d91a35f862");
    let (points, _) = list(&cloud, vault("cabal-backup", None, Some("EFS")))
        .await
        .unwrap();
    let point = points::latest(&points, None).unwrap().clone();
    let request = |items: &[String]| RestoreRequest {
        recovery_point_arn: point.id.clone(),
        iam_role_arn: ROLE.into(),
        metadata: BTreeMap::from([
            ("newFileSystem".into(), "false".into()),
            ("file-system-id".into(), "fs-0c4b7e2d91a35f862".into()),
            (
                "itemsToRestore".into(),
                serde_json::to_string(items).unwrap(),
            ),
        ]),
        resource_type: None,
        idempotency_token: None,
    };
    let six: Vec<String> = ["chris", "dana", "erin"]
        .iter()
        .flat_map(|u| {
            [
                format!("/{u}/Maildir/cur"),
                format!("/{u}/Maildir/.Archive"),
            ]
        })
        .collect();
    let job = cloud
        .start_restore(&request(&six), None, &quiet())
        .await
        .unwrap();
    pass(20).await;
    let done = cloud.restore_job(&job, None, &quiet()).await.unwrap();
    assert!(done.succeeded(), "{:?} {:?}", done.status, done.message);
    let recovery = std::fs::read_dir(&fs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("aws-backup-restore_")
        })
        .unwrap();
    for u in ["chris", "dana", "erin"] {
        assert!(recovery.join(u).join("Maildir/cur").is_dir(), "{u}");
    }
    let many: Vec<String> = (0..12_000).map(|n| format!("/chris/{n:012}")).collect();
    let e = cloud
        .start_restore(&request(&many), None, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert!(e.message.contains("200 KB"), "{e}");
}

// rule: backup-copy-within-vault-lock
#[tokio::test(start_paused = true)]
async fn a_copy_outside_the_destinations_vault_lock_fails_as_aws_fails_it() {
    // cabal-backup (us-east-1) is locked with a 30-day minimum; a DR copy
    // copied back with a 10-day lifecycle fails, with 45 days it lands and
    // keeps them from its source's creation date.
    let cloud = sim(&[]);
    let primary = "arn:aws:backup:us-east-1:111122223333:backup-vault:cabal-backup";
    let (dr, _) = list(
        &cloud,
        vault("cabal-backup-dr", Some("us-west-2"), Some("DynamoDB")),
    )
    .await
    .unwrap();
    let point = points::latest(&dr, None).unwrap().clone();
    let copy = |days: i64| CopyRequest {
        source_vault: "cabal-backup-dr".into(),
        recovery_point_arn: point.id.clone(),
        destination_vault_arn: primary.into(),
        iam_role_arn: ROLE.into(),
        lifecycle: Some(crate::cloud::Lifecycle {
            delete_after_days: Some(days),
            move_to_cold_storage_after_days: None,
        }),
    };
    let short = cloud
        .start_copy(&copy(10), Some("us-west-2"), &quiet())
        .await
        .unwrap();
    let ok = cloud
        .start_copy(&copy(45), Some("us-west-2"), &quiet())
        .await
        .unwrap();
    pass(40).await;
    let status = cloud
        .copy_job(&short, Some("us-west-2"), &quiet())
        .await
        .unwrap();
    assert_eq!(status.status, "FAILED");
    let message = status.message.unwrap_or_default();
    assert!(
        message.contains("outside the Vault Lock of backup vault cabal-backup"),
        "{message}"
    );
    assert!(status.destination_recovery_point_arn.is_none());
    let status = cloud
        .copy_job(&ok, Some("us-west-2"), &quiet())
        .await
        .unwrap();
    assert!(status.succeeded(), "{status:?}");
    let arn = status.destination_recovery_point_arn.unwrap();
    let new = cloud
        .describe_recovery_point("cabal-backup", &arn, None, &quiet())
        .await
        .unwrap();
    let kept = new.delete_at.unwrap().as_second() - new.created_at.as_second();
    assert_eq!(kept, 45 * 86_400);
}

/// A DynamoDB point's restore metadata is the source table's encryption
/// (the sandbox's tables use the DynamoDB-owned key), never the vault's
/// key, which encrypts the backup; it used to answer `KMS` with the
/// vault's key. A restore asking for an encryption type AWS Backup does
/// not document, or `Default` with a key, is refused.
// rule: ddb-restore-encryption
#[tokio::test(start_paused = true)]
async fn a_tables_restore_metadata_is_its_own_encryption_not_the_vaults_key() {
    let cloud = sim(&[]);
    let point = last_nights_table_point(&cloud).await;
    let meta = cloud
        .restore_metadata("cabal-backup", &point.id, None, &quiet())
        .await
        .unwrap();
    assert_eq!(
        meta.get("encryptionType").map(String::as_str),
        Some("Default")
    );
    assert!(!meta.contains_key("kmsMasterKeyArn"), "{meta:?}");
    let described = cloud
        .describe_recovery_point("cabal-backup", &point.id, None, &quiet())
        .await
        .unwrap();
    assert!(
        described.encryption_key_arn.is_some(),
        "the vault has a key"
    );
    for (kind, key) in [("AES256", None), ("Default", Some("arn:aws:kms:k"))] {
        let mut request = restore_request(&point, "cabal-addresses-enc");
        request
            .metadata
            .insert("encryptionType".into(), kind.into());
        if let Some(key) = key {
            request
                .metadata
                .insert("kmsMasterKeyArn".into(), key.into());
        }
        let e = cloud
            .start_restore(&request, None, &quiet())
            .await
            .unwrap_err();
        assert!(e.message.contains("encryptionType"), "{e}");
    }
    let mut request = restore_request(&point, "cabal-addresses-enc");
    request
        .metadata
        .insert("encryptionType".into(), "KMS".into());
    assert!(cloud.start_restore(&request, None, &quiet()).await.is_ok());
}

/// An EFS point's restore metadata is the file system's own encryption
/// (`Encrypted`, EFS's AWS managed key), never the vault's key as
/// `KmsKeyId`, which StartRestoreJob would take as "the KMS key that is
/// used to encrypt the restored file system" (botocore `backup`
/// 2018-11-15, `StartRestoreJobInput.Metadata`). It used to answer the
/// vault's key.
// rule: backup-efs-restore-key
#[tokio::test(start_paused = true)]
async fn a_file_systems_restore_metadata_never_names_the_vaults_key() {
    let cloud = sim(&[]);
    let (points, _) = list(&cloud, vault("cabal-backup", None, Some("EFS")))
        .await
        .unwrap();
    let point = points::latest(&points, None).unwrap().clone();
    let vault_key = point
        .encryption_key_arn
        .clone()
        .expect("the vault has a key");
    let meta = cloud
        .restore_metadata("cabal-backup", &point.id, None, &quiet())
        .await
        .unwrap();
    assert_eq!(meta.get("Encrypted").map(String::as_str), Some("true"));
    assert!(!meta.contains_key("KmsKeyId"), "{meta:?}");
    assert!(!meta.values().any(|v| v.contains(&vault_key)), "{meta:?}");
}

/// DescribeRecoveryPoint gives a point's storage class: a year-old table
/// point has gone cold, last night's is warm (botocore `backup`
/// 2018-11-15, `DescribeRecoveryPointOutput.StorageClass`).
// rule: backup-storage-class-described
#[tokio::test(start_paused = true)]
async fn a_points_storage_class_is_the_one_describe_recovery_point_gives() {
    let cloud = sim(&[]);
    let (points, _) = list(&cloud, vault("cabal-backup", None, Some("DynamoDB")))
        .await
        .unwrap();
    let oldest = points.iter().min_by_key(|p| p.created_at).unwrap();
    let newest = points.iter().max_by_key(|p| p.created_at).unwrap();
    for (point, class) in [(oldest, "COLD"), (newest, "WARM")] {
        let described = cloud
            .describe_recovery_point("cabal-backup", &point.id, None, &quiet())
            .await
            .unwrap();
        assert_eq!(described.storage_class.as_deref(), Some(class));
    }
}
