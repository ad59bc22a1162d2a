//! S3 in the simulated world: checksums, manifests, archive restores, downloads and encrypted series.

use super::*;

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
        assert!(
            matches!(&dump.object_lock, Some(crate::cloud::ObjectLock::Locked { mode, .. }) if mode == "GOVERNANCE"),
            "{:?}",
            dump.object_lock
        );
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
    let asset = include_bytes!("../../../../assets/sandbox/gtin1-backup.dump");
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
        .restore_object(&image, "Expedited", Some(7), &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    cloud
        .restore_object(&image, "Bulk", Some(7), &quiet())
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

/// Each dump holds the rows as of its own time: the newest change is a
/// quarter of an hour before the dump, never after it (a monthly dump of
/// 2026-11-01 once held rows of 2026-11-22: "-504 h before the dump").
#[tokio::test(start_paused = true)]
async fn every_gtin1_dump_holds_its_rows_as_of_its_own_time() {
    let cloud = sim(&[]);
    let (dumps, _) = list(
        &cloud,
        bucket(GTIN1, "database/gtin1/", Some("backup.dump")),
    )
    .await
    .unwrap();
    assert_eq!(dumps.len(), 4 + 12 + 2);
    let mut newest_seen = std::collections::BTreeSet::new();
    for dump in &dumps {
        let key = dump.key.as_deref().unwrap();
        let bytes = cloud
            .read_object(&object(GTIN1, key), &quiet())
            .await
            .unwrap();
        assert!(bytes.starts_with(b"PGDMP"), "{key}");
        let stamps = super::super::as_of::timestamps(&bytes);
        assert_eq!(stamps.len(), 40 + 2 * 2000 + 1200, "{key}");
        let newest = stamps.iter().map(|(_, t)| *t).max().unwrap();
        assert_eq!(
            dump.created_at.duration_since(newest),
            jiff::SignedDuration::from_mins(15),
            "{key}: newest change {newest}, dump {}",
            dump.created_at
        );
        newest_seen.insert(newest);
        let manifest = cloud
            .read_object(
                &object(GTIN1, &points::manifest_key(key).unwrap()),
                &quiet(),
            )
            .await
            .unwrap();
        let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        assert_eq!(manifest["size_bytes"], bytes.len());
        assert_eq!(
            Some(manifest["sha256"].as_str().unwrap().to_owned()),
            dump.sha256
        );
    }
    // The first Sunday of November is a weekly and a monthly dump at once.
    assert!(newest_seen.len() >= 16, "{newest_seen:?}");
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
    let tar = include_bytes!("../../../../assets/sandbox/cpam/base/base.tar.gz");
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
async fn a_listing_past_the_point_cap_is_cut_and_says_how_to_narrow_it() {
    let cloud: std::sync::Arc<dyn Cloud> = std::sync::Arc::new(sim(&[]));
    let all = points::collect(cloud.clone(), vec![bucket(GTIN1, "media/", None)], &quiet())
        .await
        .unwrap();
    assert!(all.len() > 10, "{}", all.len());

    let mut rx = points::list_capped(cloud.clone(), vec![bucket(GTIN1, "media/", None)], 10);
    let (mut kept, mut error) = (0, None);
    while let Some(listing) = rx.recv().await {
        match listing {
            points::Listing::Page { points, .. } => kept += points.len(),
            points::Listing::Done { result, .. } => error = result.err(),
            points::Listing::Notice(_) => {}
        }
    }
    assert_eq!(kept, 10);
    let e = error.expect("a cut listing ends in an error").to_string();
    assert!(
        e.contains(GTIN1)
            && e.contains("more than 10 recovery points")
            && e.contains("cut at 10")
            && e.contains("--prefix"),
        "{e}"
    );
}

/// S3's tier rules in the sandbox (botocore `s3` 2006-03-01,
/// RestoreObject; S3 user guide, "How S3 Intelligent-Tiering works"):
/// Expedited is refused for Deep Archive and the Intelligent-Tiering Deep
/// Archive Access tier; an Intelligent-Tiering archive object shows
/// `x-amz-archive-status`, needs a restore, refuses `Days`, and ends back
/// in Frequent Access.
// rule: s3-retrieval-tiers
// rule: s3-intelligent-tiering-archive
#[tokio::test(start_paused = true)]
async fn archive_tiers_take_the_tiers_s3_takes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiers.toml");
    let entry = |key: &str, class: &str, status: &str| {
        format!("[[bucket.object]]\nkey = \"{key}\"\nstorage_class = \"{class}\"\n{status}")
    };
    let text = [
        "[[bucket]]\nname = \"b\"\n".to_string(),
        entry("deep", "DEEP_ARCHIVE", ""),
        entry(
            "it-cold",
            "INTELLIGENT_TIERING",
            "archive_status = \"ARCHIVE_ACCESS\"\n",
        ),
        entry(
            "it-deep",
            "INTELLIGENT_TIERING",
            "archive_status = \"DEEP_ARCHIVE_ACCESS\"\n",
        ),
        entry("it-warm", "INTELLIGENT_TIERING", ""),
        entry("instant", "GLACIER_IR", ""),
    ]
    .join("\n");
    tokio::fs::write(&path, text).await.unwrap();
    let cloud = SimCloud::from_files(&[path], SimOptions::default())
        .await
        .unwrap();
    let (points, _) = list(&cloud, bucket("b", "", None)).await.unwrap();
    let state = |key: &str| {
        points
            .iter()
            .find(|p| p.key.as_deref() == Some(key))
            .map(|p| (p.archive.clone(), p.archive_status.clone()))
            .unwrap()
    };
    assert_eq!(
        state("it-cold"),
        (Some(ArchiveState::Needed), Some("ARCHIVE_ACCESS".into()))
    );
    assert_eq!(state("it-warm"), (None, None));
    assert_eq!(state("instant"), (None, None));
    for key in ["deep", "it-deep"] {
        let days = (key == "deep").then_some(3);
        let e = cloud
            .restore_object(&object("b", key), "Expedited", days, &quiet())
            .await
            .unwrap_err();
        assert!(
            e.message.contains("InvalidArgument") && e.message.contains("Expedited"),
            "{key}: {e}"
        );
    }
    let cold = object("b", "it-cold");
    let e = cloud
        .restore_object(&cold, "Standard", Some(3), &quiet())
        .await
        .unwrap_err();
    assert!(e.message.contains("Do not specify Days"), "{e}");
    cloud
        .restore_object(&cold, "Expedited", None, &quiet())
        .await
        .unwrap();
    assert_eq!(
        cloud.head_object(&cold, &quiet()).await.unwrap().archive,
        Some(ArchiveState::Ongoing)
    );
    pass(10).await;
    let head = cloud.head_object(&cold, &quiet()).await.unwrap();
    assert_eq!((head.archive, head.archive_status), (None, None));
    cloud.fetch_object(&cold, None, &quiet()).await.unwrap();
}

/// A second RestoreObject while the first is under way answers 409
/// `RestoreAlreadyInProgress`, and HeadObject says
/// `ongoing-request="true"` until the copy is ready, then gives its
/// `expiry-date` (botocore `s3` 2006-03-01, `RestoreObject`,
/// `HeadObjectOutput.Restore`).
// rule: s3-restore-in-progress
#[tokio::test(start_paused = true)]
async fn a_second_restore_while_one_is_under_way_is_already_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("glacier.toml");
    let text = "[[bucket]]\nname = \"b\"\n\n[[bucket.object]]\nkey = \"cold\"\nstorage_class = \"GLACIER\"\n";
    tokio::fs::write(&path, text).await.unwrap();
    let cloud = SimCloud::from_files(&[path], SimOptions::default())
        .await
        .unwrap();
    let cold = object("b", "cold");
    cloud
        .restore_object(&cold, "Expedited", Some(3), &quiet())
        .await
        .unwrap();
    let head = cloud.head_object(&cold, &quiet()).await.unwrap();
    assert_eq!(head.archive, Some(ArchiveState::Ongoing));
    let e = cloud
        .restore_object(&cold, "Expedited", Some(3), &quiet())
        .await
        .unwrap_err();
    assert!(e.message.contains("RestoreAlreadyInProgress"), "{e}");
    pass(10).await;
    let head = cloud.head_object(&cold, &quiet()).await.unwrap();
    assert!(
        matches!(head.archive, Some(ArchiveState::Ready { .. })),
        "{:?}",
        head.archive
    );
}

/// `ListObjectsV2` alone counts a prefix by storage class (no HEAD), and a
/// missing bucket answers `NoSuchBucket` (botocore `s3` 2006-03-01,
/// `ListObjectsV2`, `ObjectStorageClass`).
// rule: s3-listing-gives-size-and-class
#[tokio::test(start_paused = true)]
async fn a_prefix_is_counted_by_class_from_the_listing_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("classes.toml");
    let entry = |key: &str, class: &str| {
        format!("[[bucket.object]]\nkey = \"{key}\"\nstorage_class = \"{class}\"\n")
    };
    let text = [
        "[[bucket]]\nname = \"b\"\n".to_string(),
        entry("m/0", "GLACIER"),
        entry("m/1", "DEEP_ARCHIVE"),
        entry("m/2", "DEEP_ARCHIVE"),
        entry("m/3", "STANDARD"),
        entry("other", "DEEP_ARCHIVE"),
    ]
    .join("\n");
    tokio::fs::write(&path, text).await.unwrap();
    let cloud = SimCloud::from_files(&[path], SimOptions::default())
        .await
        .unwrap();
    let summary = cloud
        .summarize_prefix("b", "m/", None, 100, &quiet())
        .await
        .unwrap();
    let count = |class: &str| summary.by_class.get(class).map_or(0, |c| c.objects);
    assert_eq!(
        (count("GLACIER"), count("DEEP_ARCHIVE"), count("STANDARD")),
        (1, 2, 1)
    );
    assert!(
        summary.by_class.values().all(|c| c.bytes > 0),
        "{summary:?}"
    );
    let actions: Vec<String> = cloud.calls().into_iter().map(|((a, _), _)| a).collect();
    assert_eq!(actions, ["ListObjectsV2"]);
    let e = cloud
        .summarize_prefix("no-such-bucket", "m/", None, 100, &quiet())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("NoSuchBucket"), "{e}");
}
