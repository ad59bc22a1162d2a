//! S3 backup objects over the wire: listed, verified, restored from
//! archive and downloaded.

use super::*;

#[tokio::test]
async fn s3_backup_objects_are_listed_verified_restored_and_downloaded() {
    let bucket = unique("penguinmails-vault-backups");
    let s3 = moto().s3("us-east-1");
    s3.create_bucket()
        .bucket(&bucket)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    let snapshot = b"encrypted vault snapshot".repeat(100);
    let sum = sha256_hex(&snapshot);
    moto()
        .put_object(
            &bucket,
            "daily/2026-11-23/vault-snapshot-1.enc",
            &snapshot,
            &[("checksum", &sum)],
            None,
        )
        .await;
    moto()
        .put_object(
            &bucket,
            "daily/2026-11-23/corrupt.enc",
            b"bits flipped",
            &[("checksum", &sum)],
            None,
        )
        .await;
    let dump = b"PGDMP custom format".repeat(50);
    let manifest = format!(
        r#"{{"database": "gtin1", "tier": "monthly", "files": {{"backup.dump": {{"sha256": "{}", "size": {}}}}}}}"#,
        sha256_hex(&dump),
        dump.len()
    );
    moto()
        .put_object(
            &bucket,
            "database/gtin1/monthly/x/backup.dump",
            &dump,
            &[],
            None,
        )
        .await;
    moto()
        .put_object(
            &bucket,
            "database/gtin1/monthly/x/manifest.json",
            manifest.as_bytes(),
            &[],
            None,
        )
        .await;
    moto()
        .put_object(
            &bucket,
            "media/logo.jpg",
            b"jpeg",
            &[],
            Some("DEEP_ARCHIVE"),
        )
        .await;

    let (daily, _) = list(PointSource::Bucket {
        bucket: bucket.clone(),
        prefix: "daily/".into(),
        suffix: Some(".enc".into()),
        versions: false,
        region: None,
    })
    .await;
    assert_eq!(daily.len(), 2);
    assert!(
        daily
            .iter()
            .all(|p| p.sha256.as_deref() == Some(sum.as_str()))
    );
    let (db, _) = list(PointSource::Bucket {
        bucket: bucket.clone(),
        prefix: "database/".into(),
        suffix: Some("backup.dump".into()),
        versions: true,
        region: None,
    })
    .await;
    assert_eq!(db.len(), 1);
    assert_eq!(db[0].sha256.as_deref(), Some(sha256_hex(&dump).as_str()));
    assert_eq!(
        db[0].manifest.get("tier").map(String::as_str),
        Some("monthly")
    );
    assert!(
        db[0].version_id.is_some(),
        "Object Lock buckets are versioned"
    );
    let (media, _) = list(PointSource::Bucket {
        bucket: bucket.clone(),
        prefix: "media/".into(),
        suffix: None,
        versions: false,
        region: None,
    })
    .await;
    assert_eq!(media[0].archive, Some(ArchiveState::Needed));
    assert!(!media[0].is_restorable());

    let steps = r#"
[[step]]
id = "head"
kind = "s3.head"
bucket = "{{ params.bucket }}"
key = "daily/2026-11-23/vault-snapshot-1.enc"

[[step]]
id = "verify-metadata"
kind = "s3.verify-checksum"
bucket = "{{ params.bucket }}"
key = "daily/2026-11-23/vault-snapshot-1.enc"

[[step]]
id = "verify-manifest"
kind = "s3.verify-checksum"
bucket = "{{ params.bucket }}"
key = "database/gtin1/monthly/x/backup.dump"

[[step]]
id = "download"
needs = ["verify-manifest"]
kind = "s3.download"
bucket = "{{ params.bucket }}"
key = "database/gtin1/monthly/x/backup.dump"
to = "backup.dump"
confirm = "backup.dump"

[[step]]
id = "thaw"
kind = "s3.restore-object"
bucket = "{{ params.bucket }}"
key = "media/logo.jpg"
tier = "Bulk"
days = 3

[[step]]
id = "thawed"
needs = ["thaw"]
kind = "wait"
until = { bucket = "{{ params.bucket }}", key = "media/logo.jpg" }

[[step]]
id = "media"
needs = ["thawed"]
kind = "s3.download"
bucket = "{{ params.bucket }}"
key = "media/logo.jpg"
to = "media/logo.jpg"
confirm = "media/logo.jpg"
"#;
    let (summary, events) = run(steps, &[("bucket", &bucket)]).await;
    assert_succeeded(&summary, &events);
    let head = outputs(&events, "head");
    assert_eq!(head["sha256"], sum);
    assert_eq!(head["object_lock_mode"], "");
    assert_eq!(
        outputs(&events, "verify-metadata")["source"],
        "object metadata"
    );
    assert!(outputs(&events, "verify-manifest")["source"].ends_with("manifest.json"));
    let download = outputs(&events, "download");
    assert_eq!(download["sha256"], sha256_hex(&dump));
    assert_eq!(std::fs::read(&download["path"]).unwrap(), dump);
    assert_eq!(outputs(&events, "thaw")["status"], "ready");
    assert_eq!(
        std::fs::read(&outputs(&events, "media")["path"]).unwrap(),
        b"jpeg"
    );

    let (summary, events) = run(
        r#"
[[step]]
id = "verify"
kind = "s3.verify-checksum"
bucket = "{{ params.bucket }}"
key = "daily/2026-11-23/corrupt.enc"
"#,
        &[("bucket", &bucket)],
    )
    .await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let why = reason(&events, "verify");
    assert!(
        why.contains("SHA-256 mismatch") && why.contains(&sum),
        "{why}"
    );

    // A download that cannot be put in place leaves no `.part` behind.
    let dir = tempfile::tempdir().unwrap();
    let blocked = dir.path().join("backup.dump");
    std::fs::create_dir_all(blocked.join("inside")).unwrap();
    let dump_object = dr_drill::cloud::ObjectRef {
        bucket: bucket.clone(),
        key: "database/gtin1/monthly/x/backup.dump".into(),
        version_id: None,
        region: None,
    };
    let e = cloud()
        .fetch_object(&dump_object, Some(&blocked), &|_| {})
        .await
        .unwrap_err();
    assert_eq!(e.kind, dr_drill::cloud::ErrorKind::Io, "{e}");
    assert!(!dir.path().join("backup.dump.part").exists(), "{e}");
}

/// Expedited is not a tier of Deep Archive (botocore `s3` 2006-03-01,
/// RestoreObject): a prefix holding one Deep Archive object is refused
/// before any restore is requested, unless the step has a fallback tier.
// rule: s3-retrieval-tiers
#[tokio::test]
async fn expedited_meets_deep_archive_before_anything_is_requested() {
    let bucket = unique("glacier-tiers");
    moto()
        .s3("us-east-1")
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    for (key, class) in [("deep/a.tar", "GLACIER"), ("deep/b.tar", "DEEP_ARCHIVE")] {
        moto()
            .put_object(&bucket, key, b"archive", &[], Some(class))
            .await;
    }
    let step = |fallback: &str| {
        format!(
            r#"
[[step]]
id = "thaw"
kind = "s3.restore-object"
bucket = "{{{{ params.bucket }}}}"
prefix = "deep/"
tier = "Expedited"
{fallback}
"#
        )
    };
    let (summary, events) = run(&step(""), &[("bucket", &bucket)]).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let why = reason(&events, "thaw");
    assert!(
        why.contains("deep/b.tar (DEEP_ARCHIVE: Standard or Bulk)")
            && why.contains("Nothing was requested")
            && !why.contains("deep/a.tar"),
        "{why}"
    );
    let glacier = dr_drill::cloud::ObjectRef {
        bucket: bucket.clone(),
        key: "deep/a.tar".into(),
        version_id: None,
        region: None,
    };
    let head = cloud().head_object(&glacier, &|_| {}).await.unwrap();
    assert_eq!(head.archive, Some(ArchiveState::Needed), "half started");

    let (summary, events) = run(
        &step("fallback_tier = \"Standard\""),
        &[("bucket", &bucket)],
    )
    .await;
    assert_succeeded(&summary, &events);
    assert_eq!(outputs(&events, "thaw")["status"], "ready");
    let said = format!("{events:?}");
    assert!(
        said.contains("deep/b.tar is in DEEP_ARCHIVE, which has no Expedited retrieval: restoring it with the fallback tier Standard"),
        "{said}"
    );
}

/// An Intelligent-Tiering object in an archive tier (`x-amz-archive-status`)
/// needs a restore, which carries no `Days` (S3 user guide, "How S3
/// Intelligent-Tiering works").
// rule: s3-intelligent-tiering-archive
#[tokio::test]
async fn intelligent_tiering_archive_objects_are_restored_without_days() {
    let bucket = unique("it-archive");
    moto()
        .s3("us-east-1")
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    moto()
        .put_object(
            &bucket,
            "it/c.tar",
            b"cold",
            &[],
            Some("INTELLIGENT_TIERING"),
        )
        .await;
    moto()
        .put_object(
            &bucket,
            "it/d.tar",
            b"deep",
            &[],
            Some("INTELLIGENT_TIERING"),
        )
        .await;
    moto().set_archive_status(&bucket, "it/c.tar", "ARCHIVE_ACCESS");
    moto().set_archive_status(&bucket, "it/d.tar", "DEEP_ARCHIVE_ACCESS");
    let (listed, _) = list(PointSource::Bucket {
        bucket: bucket.clone(),
        prefix: "it/".into(),
        suffix: None,
        versions: false,
        region: None,
    })
    .await;
    assert!(
        listed
            .iter()
            .all(|p| p.archive == Some(ArchiveState::Needed) && !p.is_restorable()),
        "{listed:?}"
    );
    let (summary, events) = run(
        r#"
[[step]]
id = "deep-expedited"
kind = "s3.restore-object"
bucket = "{{ params.bucket }}"
key = "it/d.tar"
tier = "Expedited"

[[step]]
id = "thaw"
needs = ["deep-expedited"]
kind = "s3.restore-object"
bucket = "{{ params.bucket }}"
prefix = "it/"
tier = "Expedited"
fallback_tier = "Bulk"
days = 3
"#,
        &[("bucket", &bucket)],
    )
    .await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let why = reason(&events, "deep-expedited");
    assert!(
        why.contains("INTELLIGENT_TIERING/DEEP_ARCHIVE_ACCESS: Standard or Bulk"),
        "{why}"
    );
    // The second step never ran: run it alone.
    let (summary, events) = run(
        r#"
[[step]]
id = "thaw"
kind = "s3.restore-object"
bucket = "{{ params.bucket }}"
prefix = "it/"
tier = "Expedited"
fallback_tier = "Bulk"
days = 3
"#,
        &[("bucket", &bucket)],
    )
    .await;
    assert_succeeded(&summary, &events);
    assert_eq!(outputs(&events, "thaw")["status"], "ready");
    assert!(format!("{events:?}").contains("fallback tier Bulk"));
    let object = dr_drill::cloud::ObjectRef {
        bucket: bucket.clone(),
        key: "it/d.tar".into(),
        version_id: None,
        region: None,
    };
    let head = cloud().head_object(&object, &|_| {}).await.unwrap();
    assert_eq!((head.archive, head.archive_status), (None, None));
}

/// A listed object's Object Lock over the wire: a bucket without an Object
/// Lock configuration holds no locked object (`GetObjectLockConfiguration`
/// answers `ObjectLockConfigurationNotFoundError`, botocore `s3`
/// 2006-03-01); in a bucket with Object Lock, an object under retention
/// shows its mode in HeadObject, and one whose head has no headers is
/// unknown, since HeadObject shows Object Lock "only if the requester has
/// the s3:GetObjectRetention permission" (`HeadObjectOutput.ObjectLockMode`).
/// Every listed S3 point used to carry no lock at all, which read as
/// unlocked.
// rule: s3-object-lock-unknown
#[tokio::test]
async fn a_listed_objects_lock_is_known_from_its_head_or_its_buckets_configuration() {
    use aws_sdk_s3::types::ObjectLockMode;
    use dr_drill::cloud::ObjectLock;
    let s3 = moto().s3("us-east-1");
    let plain = unique("plain-backups");
    s3.create_bucket().bucket(&plain).send().await.unwrap();
    moto()
        .put_object(&plain, "daily/a.dump", b"dump", &[], None)
        .await;
    let locked = unique("locked-backups");
    s3.create_bucket()
        .bucket(&locked)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    let until = aws_smithy_types::DateTime::from_secs(4_000_000_000);
    s3.put_object()
        .bucket(&locked)
        .key("daily/kept.dump")
        .body(b"kept".to_vec().into())
        .object_lock_mode(ObjectLockMode::Governance)
        .object_lock_retain_until_date(until)
        .send()
        .await
        .unwrap();
    moto()
        .put_object(&locked, "daily/free.dump", b"free", &[], None)
        .await;
    let source = |bucket: &str| PointSource::Bucket {
        bucket: bucket.to_owned(),
        prefix: "daily/".into(),
        suffix: None,
        versions: false,
        region: None,
    };
    let (points, _) = list(source(&plain)).await;
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].object_lock, Some(ObjectLock::NotLocked));
    let (points, _) = list(source(&locked)).await;
    let lock = |key: &str| {
        points
            .iter()
            .find(|p| p.key.as_deref() == Some(key))
            .and_then(|p| p.object_lock.clone())
    };
    assert!(
        matches!(lock("daily/kept.dump"), Some(ObjectLock::Locked { mode, until: Some(_) }) if mode == "GOVERNANCE"),
        "{:?}",
        lock("daily/kept.dump")
    );
    assert!(
        matches!(lock("daily/free.dump"), Some(ObjectLock::Unknown { .. })),
        "{:?}",
        lock("daily/free.dump")
    );
}
