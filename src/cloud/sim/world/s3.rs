//! S3 in the simulated world: objects, their heads and bytes, archive
//! restores and listings. Pure state over `now`; it must not touch the
//! run's files or the clock.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;

use super::{
    Object, Refusal, World, after, days_long, hash, invalid, minutes, not_found, pick_duration,
};
use crate::cloud::sim::fault::Faults;
use crate::cloud::sim::spec::Range;
use crate::cloud::{
    ArchiveState, BucketLock, ObjectHead, ObjectLock, PointKind, PrefixSummary, RecoveryPoint,
    is_archive_class,
};

impl World {
    pub fn object(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        code: &'static str,
    ) -> Result<&Object, Refusal> {
        let b = self.buckets.get(bucket).ok_or_else(|| {
            not_found(
                "NoSuchBucket",
                format!("The specified bucket does not exist: {bucket}"),
            )
        })?;
        let o = b
            .objects
            .get(key)
            .ok_or_else(|| not_found(code, format!("The specified key does not exist: {key}")))?;
        if let Some(v) = version.filter(|v| o.version_id.as_deref().unwrap_or("null") != *v) {
            return Err(not_found(
                "NoSuchVersion",
                format!("The specified version does not exist: {v}"),
            ));
        }
        Ok(o)
    }

    pub fn head(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        now: Timestamp,
    ) -> Result<ObjectHead, Refusal> {
        let o = self.object(bucket, key, version, "NotFound")?;
        Ok(o.head(now))
    }

    /// An object's bytes as a GET returns them (corrupted where a fault says).
    pub fn read(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        now: Timestamp,
        faults: &Faults,
    ) -> Result<Vec<u8>, Refusal> {
        let o = self.object(bucket, key, version, "NoSuchKey")?;
        if matches!(
            o.archive(now),
            Some(ArchiveState::Needed | ArchiveState::Ongoing)
        ) {
            return Err(invalid(
                "InvalidObjectState",
                format!(
                    "The operation is not valid for the object's storage class ({}): the object is archived; request a restore (RestoreObject) and wait until it is ready",
                    o.class
                ),
            ));
        }
        let mut bytes = o.content.bytes();
        if faults.corrupts(bucket, key) {
            let middle = bytes.len() / 2;
            if let Some(b) = bytes.get_mut(middle) {
                *b ^= 0x5A;
            } else {
                bytes.push(0x5A);
            }
        }
        Ok(bytes)
    }

    pub fn restore_object(
        &mut self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        tier: &str,
        days: Option<u32>,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        let o = self.object(bucket, key, version, "NoSuchKey")?;
        // S3 user guide, "How S3 Intelligent-Tiering works": an object in
        // the Archive Access or Deep Archive Access tier is restored back
        // to Frequent Access, without `Days` ("not subject to restore
        // expiry": S3 API reference, S3InitiateRestoreObjectOperation).
        let intelligent = o.class == "INTELLIGENT_TIERING" && o.archive_status.is_some();
        if !is_archive_class(o.class) && !intelligent {
            return Err(invalid(
                "InvalidObjectState",
                format!(
                    "Restore is not allowed for the object's current storage class ({})",
                    o.class
                ),
            ));
        }
        let days = match (days, intelligent) {
            (Some(_), true) => {
                return Err(invalid(
                    "InvalidArgument",
                    "INTELLIGENT_TIERING objects are not subject to restore expiry. Do not specify Days when restoring this object",
                ));
            }
            (None, true) => u32::MAX,
            (Some(0) | None, false) => {
                return Err(invalid("InvalidArgument", "Days must be at least 1"));
            }
            (Some(d), false) => d,
        };
        // botocore `s3` 2006-03-01, RestoreObject: "Expedited retrievals
        // and provisioned capacity are not available for objects stored in
        // the S3 Glacier Deep Archive storage class or S3 Intelligent-Tiering
        // Deep Archive tier". S3 does not document the error's code; both
        // doubles answer 400 InvalidArgument.
        let deep = o.class == "DEEP_ARCHIVE" || o.archive_status == Some("DEEP_ARCHIVE_ACCESS");
        let hours = |low: u64, high: u64| Range {
            low: Duration::from_secs(low * 3600),
            high: Duration::from_secs(high * 3600),
        };
        let took = match (tier, deep) {
            ("Expedited", true) => {
                return Err(invalid(
                    "InvalidArgument",
                    "Expedited retrieval is not available for objects in the S3 Glacier Deep Archive storage class or the S3 Intelligent-Tiering Deep Archive Access tier: use Standard (within 12 hours) or Bulk (within 48 hours)",
                ));
            }
            ("Expedited", false) => minutes(1, 5),
            ("Standard", false) => hours(3, 5),
            ("Standard", true) => hours(9, 12),
            ("Bulk", false) => hours(5, 12),
            ("Bulk", true) => hours(12, 14),
            _ => {
                return Err(invalid(
                    "InvalidArgument",
                    format!("Tier `{tier}` is not valid: use Standard, Bulk or Expedited"),
                ));
            }
        };
        let state = o.archive(now);
        let took = pick_duration(hash(&[bucket, key, tier]), took);
        let o = self
            .buckets
            .get_mut(bucket)
            .and_then(|b| b.objects.get_mut(key))
            .ok_or_else(|| not_found("NoSuchKey", key.to_owned()))?;
        let keep = days_long(i64::from(days));
        match state {
            Some(ArchiveState::Ongoing) => {
                return Err(invalid(
                    "RestoreAlreadyInProgress",
                    "Object restore is already in progress",
                ));
            }
            // A restored copy's expiry is moved; no new retrieval.
            Some(ArchiveState::Ready { .. }) => {
                if let Some((ready, _)) = o.restore {
                    o.restore = Some((ready, after(now, keep)));
                }
            }
            _ => {
                let ready = after(now, took);
                o.restore = Some((ready, after(ready, keep)));
            }
        }
        Ok(())
    }

    /// The objects under `prefix` (ending with `suffix`) as points, by key.
    pub fn list_bucket(
        &self,
        bucket: &str,
        prefix: &str,
        suffix: Option<&str>,
        versions: bool,
        lock_headers: bool,
        now: Timestamp,
    ) -> Result<Vec<RecoveryPoint>, Refusal> {
        let b = self.buckets.get(bucket).ok_or_else(|| {
            not_found(
                "NoSuchBucket",
                format!("The specified bucket does not exist: {bucket}"),
            )
        })?;
        Ok(b.objects
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(k, o)| suffix.is_none_or(|s| k.ends_with(s)) && o.last_modified <= now)
            .map(|(k, o)| {
                let version = o.version_id.clone().filter(|_| versions);
                let id = match &version {
                    Some(v) => format!("s3://{bucket}/{k}?versionId={v}"),
                    None => format!("s3://{bucket}/{k}"),
                };
                // As the AWS listing fills a point in: from the object's HEAD.
                let head = o.head(now);
                let mut p =
                    RecoveryPoint::new(id, PointKind::S3Object, o.last_modified, b.region.clone());
                p.status = "AVAILABLE".into();
                p.completed_at = Some(o.last_modified);
                p.size_bytes = Some(head.size_bytes);
                p.sha256 = head.recorded_sha256().map(|(s, _)| s);
                p.storage_class = Some(head.storage_class);
                p.resource_type = Some("S3".into());
                p.resource_name = Some(k.clone());
                p.bucket = Some(bucket.to_owned());
                p.key = Some(k.clone());
                p.is_latest = versions.then_some(true);
                p.version_id = version;
                p.archive = head.archive;
                p.archive_status = head.archive_status;
                // HeadObject shows the lock only with s3:GetObjectRetention
                // (botocore `s3` 2006-03-01, HeadObjectOutput.ObjectLockMode):
                // without the headers the caller asks the bucket's
                // configuration (`SimCloud::list_points`).
                p.object_lock =
                    head.object_lock_mode
                        .filter(|_| lock_headers)
                        .map(|mode| ObjectLock::Locked {
                            mode,
                            until: head.retain_until,
                        });
                p
            })
            .collect())
    }

    /// `GetObjectLockConfiguration`: a bucket declared with `object_lock`
    /// has one; any other answers `ObjectLockConfigurationNotFoundError`
    /// (botocore `s3` 2006-03-01, GetObjectLockConfiguration), which means
    /// none of its objects is locked.
    pub fn lock_configuration(&self, bucket: &str) -> Result<BucketLock, Refusal> {
        let b = self.buckets.get(bucket).ok_or_else(|| {
            not_found(
                "NoSuchBucket",
                format!("The specified bucket does not exist: {bucket}"),
            )
        })?;
        Ok(if b.object_lock {
            BucketLock::Configured
        } else {
            BucketLock::NotConfigured
        })
    }

    /// What `prefix` holds by storage class, as a listing shows it, up to
    /// `cap` objects: ListObjectsV2 (botocore s3 2006-03-01) gives each
    /// object's `Size` and `StorageClass` (`ObjectStorageClass`), and a
    /// missing bucket is `NoSuchBucket`.
    pub fn summarize_prefix(
        &self,
        bucket: &str,
        prefix: &str,
        cap: usize,
        now: Timestamp,
    ) -> Result<PrefixSummary, Refusal> {
        let b = self.buckets.get(bucket).ok_or_else(|| {
            not_found(
                "NoSuchBucket",
                format!("The specified bucket does not exist: {bucket}"),
            )
        })?;
        let mut summary = PrefixSummary::default();
        let listed = b
            .objects
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(_, o)| o.last_modified <= now);
        for (i, (_, o)) in listed.enumerate() {
            if i >= cap {
                summary.truncated = true;
                break;
            }
            let head = o.head(now);
            summary.add(
                Some(&head.storage_class),
                head.size_bytes,
                Some(o.last_modified),
            );
        }
        Ok(summary)
    }

    /// Names of every table (for fault checks and messages).
    pub fn table_names(&self) -> BTreeSet<&str> {
        self.tables.keys().map(|(_, n)| n.as_str()).collect()
    }
}
