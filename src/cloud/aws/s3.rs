//! S3: backup objects and their versions as recovery points, object
//! metadata, archive restores, and streamed downloads that hash as they go.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use aws_sdk_s3::types::{ChecksumMode, GlacierJobParameters, RestoreRequest, Tier};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::{AwsCloud, ts};
use crate::cloud::download::PartFile;
use crate::cloud::points::attach_manifests;
use crate::cloud::{
    BucketLock, CloudError, ErrorKind, Fetched, MAX_READ_OBJECT, Notify, ObjectHead, ObjectLock,
    ObjectRef, PointKind, PrefixSummary, RecoveryPoint, archive_state, object_too_large,
};

/// HEAD requests in flight while a listing page is filled in.
const HEADS_IN_FLIGHT: usize = 16;

/// What to list.
pub(super) struct Listing<'a> {
    pub bucket: &'a str,
    pub prefix: &'a str,
    pub suffix: Option<&'a str>,
    pub versions: bool,
    pub region: Option<&'a str>,
}

/// One listed object, before its HEAD.
struct Listed {
    key: String,
    version_id: Option<String>,
    is_latest: Option<bool>,
    size: Option<i64>,
    modified: Option<jiff::Timestamp>,
    /// The storage class the listing gives (used when HEAD is denied).
    class: Option<String>,
}

pub(super) async fn list_points(
    cloud: &AwsCloud,
    listing: Listing<'_>,
    pages: &mpsc::Sender<Vec<RecoveryPoint>>,
    notify: Notify<'_>,
) -> Result<(), CloudError> {
    let (c, region) = cloud.clients(listing.region);
    let bucket = listing.bucket;
    let resource = format!("s3://{bucket}/{}", listing.prefix);
    let mut manifests = HashMap::new();
    let mut bucket_lock: Option<BucketLock> = None;
    let mut token: Option<String> = None;
    let mut markers: (Option<String>, Option<String>) = (None, None);
    loop {
        let (listed, more) = if listing.versions {
            let out = send!(
                cloud,
                notify,
                "ListObjectVersions",
                resource,
                c.s3.list_object_versions()
                    .bucket(bucket)
                    .prefix(listing.prefix)
                    .set_key_marker(markers.0.clone())
                    .set_version_id_marker(markers.1.clone())
            )
            .await?;
            let listed: Vec<Listed> = out
                .versions()
                .iter()
                .filter_map(|v| {
                    Some(Listed {
                        key: v.key()?.to_owned(),
                        version_id: v.version_id().map(str::to_owned),
                        is_latest: v.is_latest(),
                        size: v.size(),
                        modified: v.last_modified().and_then(ts),
                        class: v.storage_class().map(|c| c.as_str().to_owned()),
                    })
                })
                .collect();
            markers = (
                out.next_key_marker().map(str::to_owned),
                out.next_version_id_marker().map(str::to_owned),
            );
            // Truncated without a marker to go on from would list the
            // first page again, forever.
            (
                listed,
                out.is_truncated().unwrap_or(false) && markers.0.is_some(),
            )
        } else {
            let out = send!(
                cloud,
                notify,
                "ListObjectsV2",
                resource,
                c.s3.list_objects_v2()
                    .bucket(bucket)
                    .prefix(listing.prefix)
                    .set_continuation_token(token.clone())
            )
            .await?;
            let listed: Vec<Listed> = out
                .contents()
                .iter()
                .filter_map(|o| {
                    Some(Listed {
                        key: o.key()?.to_owned(),
                        version_id: None,
                        is_latest: None,
                        size: o.size(),
                        modified: o.last_modified().and_then(ts),
                        class: o.storage_class().map(|c| c.as_str().to_owned()),
                    })
                })
                .collect();
            token = out.next_continuation_token().map(str::to_owned);
            (
                listed,
                out.is_truncated().unwrap_or(false) && token.is_some(),
            )
        };
        let wanted: Vec<Listed> = listed
            .into_iter()
            .filter(|l| listing.suffix.is_none_or(|s| l.key.ends_with(s)))
            .collect();
        let heads = futures::stream::iter(wanted.into_iter().map(|l| {
            let object = ObjectRef {
                bucket: bucket.to_owned(),
                key: l.key.clone(),
                version_id: l.version_id.clone(),
                region: Some(region.clone()),
            };
            async move {
                let head = head(cloud, &object, notify).await;
                (l, object, head)
            }
        }))
        .buffered(HEADS_IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
        let mut points = Vec::with_capacity(heads.len());
        for (listed, object, head) in heads {
            let headers = head
                .as_ref()
                .ok()
                .and_then(|h| h.object_lock_mode.clone().map(|m| (m, h.retain_until)));
            // One GetObjectLockConfiguration per bucket, and only once a
            // head lacks the headers.
            if headers.is_none() && bucket_lock.is_none() {
                bucket_lock = Some(lock_configuration(cloud, bucket, &region, notify).await);
            }
            let lock = ObjectLock::listed(
                headers,
                bucket_lock.as_ref().unwrap_or(&BucketLock::Configured),
            );
            // A delete marker or an object deleted since the listing.
            let head = match head {
                Ok(h) => Some(h),
                Err(e) if e.kind == ErrorKind::NotFound => continue,
                // Without read permission the listing still shows the object.
                Err(e) if e.kind == ErrorKind::AccessDenied => {
                    notify(format!("no metadata for {object}: {e}"));
                    None
                }
                Err(e) => return Err(e),
            };
            let created = head
                .as_ref()
                .and_then(|h| h.last_modified)
                .or(listed.modified)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            let mut p = RecoveryPoint::new(
                object.to_string(),
                PointKind::S3Object,
                created,
                region.clone(),
            );
            p.completed_at = Some(created);
            p.status = "AVAILABLE".into();
            p.bucket = Some(bucket.to_owned());
            p.key = Some(listed.key.clone());
            p.version_id = listed.version_id;
            p.is_latest = listed.is_latest;
            p.resource_type = Some("S3".into());
            p.resource_name = Some(listed.key);
            p.size_bytes = listed.size.and_then(|s| u64::try_from(s).ok());
            // Without a HEAD, the listing's class still tells an archived
            // object (its restore state unknown: taken as not restored).
            if let Some(class) = listed.class {
                p.archive = archive_state(&class, None, None);
                p.storage_class = Some(class);
            }
            if let Some(h) = head {
                p.size_bytes = Some(h.size_bytes);
                p.sha256 = h.recorded_sha256().map(|(s, _)| s);
                p.storage_class = Some(h.storage_class);
                p.archive = h.archive;
                p.archive_status = h.archive_status;
            }
            p.object_lock = Some(lock);
            points.push(p);
        }
        attach_manifests(cloud, &mut points, &mut manifests, notify).await;
        if !cloud.send_page(pages, points).await {
            return Ok(());
        }
        if !more {
            return Ok(());
        }
    }
}

/// Whether `bucket` has an Object Lock configuration
/// (`GetObjectLockConfiguration`, botocore `s3` 2006-03-01): a bucket
/// without one answers `ObjectLockConfigurationNotFoundError` and holds no
/// locked object. Any other failure leaves it unknown, with what S3 said.
async fn lock_configuration(
    cloud: &AwsCloud,
    bucket: &str,
    region: &str,
    notify: Notify<'_>,
) -> BucketLock {
    let (c, _) = cloud.clients(Some(region));
    let resource = format!("s3://{bucket}");
    let out = send!(
        cloud,
        notify,
        "GetObjectLockConfiguration",
        resource,
        c.s3.get_object_lock_configuration().bucket(bucket)
    )
    .await;
    match out {
        Ok(out) => match out
            .object_lock_configuration()
            .and_then(|c| c.object_lock_enabled())
        {
            Some(_) => BucketLock::Configured,
            None => BucketLock::NotConfigured,
        },
        Err(e)
            if e.message
                .starts_with("ObjectLockConfigurationNotFoundError") =>
        {
            BucketLock::NotConfigured
        }
        Err(e) => BucketLock::Unknown(e.to_string()),
    }
}

/// What a prefix holds by storage class, from ListObjectsV2 pages alone
/// (botocore s3 2006-03-01 `Object`: `Size`, `StorageClass`,
/// `LastModified`), stopping after `cap` objects.
pub(super) async fn summarize(
    cloud: &AwsCloud,
    bucket: &str,
    prefix: &str,
    region: Option<&str>,
    cap: usize,
    notify: Notify<'_>,
) -> Result<PrefixSummary, CloudError> {
    let (c, _) = cloud.clients(region);
    let resource = format!("s3://{bucket}/{prefix}");
    let mut summary = PrefixSummary::default();
    let mut counted = 0usize;
    let mut token: Option<String> = None;
    loop {
        let out = send!(
            cloud,
            notify,
            "ListObjectsV2",
            resource,
            c.s3.list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token.clone())
        )
        .await?;
        for o in out.contents() {
            if counted >= cap {
                summary.truncated = true;
                return Ok(summary);
            }
            counted += 1;
            let bytes = o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0);
            let class = o.storage_class().map(|c| c.as_str().to_owned());
            summary.add(class.as_deref(), bytes, o.last_modified().and_then(ts));
        }
        token = out.next_continuation_token().map(str::to_owned);
        // Truncated without a token would list the first page again.
        if !(out.is_truncated().unwrap_or(false) && token.is_some()) {
            return Ok(summary);
        }
    }
}

pub(super) async fn head(
    cloud: &AwsCloud,
    object: &ObjectRef,
    notify: Notify<'_>,
) -> Result<ObjectHead, CloudError> {
    let (c, _) = cloud.clients(object.region.as_deref());
    let resource = object.to_string();
    let out = send!(
        cloud,
        notify,
        "HeadObject",
        resource,
        c.s3.head_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .set_version_id(object.version_id.clone())
            .checksum_mode(ChecksumMode::Enabled)
    )
    .await?;
    let class = out
        .storage_class()
        .map_or_else(|| "STANDARD".to_string(), |s| s.as_str().to_owned());
    // A composite (multipart) checksum, `...-N`, is not the object's SHA-256.
    let checksum_sha256 = out
        .checksum_sha256()
        .filter(|c| !c.contains('-'))
        .and_then(|c| aws_smithy_types::base64::decode(c).ok())
        .filter(|b| b.len() == 32)
        .map(hex::encode);
    Ok(ObjectHead {
        size_bytes: out
            .content_length()
            .and_then(|l| u64::try_from(l).ok())
            .unwrap_or(0),
        etag: out.e_tag().map(str::to_owned),
        last_modified: out.last_modified().and_then(ts),
        archive: archive_state(
            &class,
            out.archive_status().map(|s| s.as_str()),
            out.restore(),
        ),
        archive_status: out.archive_status().map(|s| s.as_str().to_owned()),
        storage_class: class,
        metadata: out
            .metadata()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect::<BTreeMap<_, _>>()
            })
            .unwrap_or_default(),
        checksum_sha256,
        version_id: out.version_id().map(str::to_owned),
        object_lock_mode: out.object_lock_mode().map(|m| m.as_str().to_owned()),
        retain_until: out.object_lock_retain_until_date().and_then(ts),
    })
}

pub(super) async fn restore(
    cloud: &AwsCloud,
    object: &ObjectRef,
    tier: &str,
    days: Option<u32>,
    notify: Notify<'_>,
) -> Result<(), CloudError> {
    let (c, _) = cloud.clients(object.region.as_deref());
    let resource = object.to_string();
    let request = RestoreRequest::builder()
        .set_days(days.map(|d| i32::try_from(d).unwrap_or(i32::MAX)))
        .glacier_job_parameters(
            GlacierJobParameters::builder()
                .tier(Tier::from(tier))
                .build()
                .map_err(|e| {
                    CloudError::new(
                        "RestoreObject",
                        &resource,
                        ErrorKind::Invalid,
                        e.to_string(),
                    )
                })?,
        )
        .build();
    let result = send!(
        cloud,
        notify,
        "RestoreObject",
        resource,
        c.s3.restore_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .set_version_id(object.version_id.clone())
            .restore_request(request.clone())
    )
    .await;
    match result {
        Ok(_) => Ok(()),
        // Asked before: the restore is under way, which is what we want.
        Err(e) if e.message.starts_with("RestoreAlreadyInProgress") => {
            notify(format!("a restore of {object} is already in progress"));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

async fn get(
    cloud: &AwsCloud,
    object: &ObjectRef,
    notify: Notify<'_>,
) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput, CloudError> {
    let (c, _) = cloud.clients(object.region.as_deref());
    let resource = object.to_string();
    send!(
        cloud,
        notify,
        "GetObject",
        resource,
        c.s3.get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .set_version_id(object.version_id.clone())
    )
    .await
}

pub(super) async fn read(
    cloud: &AwsCloud,
    object: &ObjectRef,
    notify: Notify<'_>,
) -> Result<Vec<u8>, CloudError> {
    let resource = object.to_string();
    let mut out = get(cloud, object, notify).await?;
    // The declared length refuses a large object before any of it is read;
    // counting while reading refuses one that declares too little.
    let declared = out.content_length().and_then(|l| u64::try_from(l).ok());
    if let Some(size) = declared.filter(|&s| s > MAX_READ_OBJECT) {
        return Err(object_too_large(&resource, size, true));
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0) as usize);
    loop {
        match out.body.try_next().await {
            Ok(Some(chunk)) => {
                let size = bytes.len() as u64 + chunk.len() as u64;
                if size > MAX_READ_OBJECT {
                    return Err(object_too_large(&resource, size, false));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(bytes),
            Err(e) => {
                return Err(CloudError::new(
                    "GetObject",
                    resource,
                    ErrorKind::Unavailable,
                    format!("the read broke off after {} bytes: {e}", bytes.len()),
                ));
            }
        }
    }
}

pub(super) async fn fetch(
    cloud: &AwsCloud,
    object: &ObjectRef,
    to: Option<&Path>,
    notify: Notify<'_>,
) -> Result<Fetched, CloudError> {
    let resource = object.to_string();
    let mut out = get(cloud, object, notify).await?;
    let total = out.content_length().and_then(|l| u64::try_from(l).ok());
    let mut file = match to {
        Some(to) => Some(PartFile::create(to, "GetObject", &resource).await?),
        None => None,
    };
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut last_report = tokio::time::Instant::now();
    loop {
        let chunk = match out.body.try_next().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                if let Some(f) = file.as_mut() {
                    f.discard().await;
                }
                return Err(CloudError::new(
                    "GetObject",
                    &resource,
                    ErrorKind::Unavailable,
                    format!("the download broke off after {size} bytes: {e}"),
                ));
            }
        };
        hasher.update(&chunk);
        size += chunk.len() as u64;
        if let Some(f) = file.as_mut() {
            f.write(&chunk).await?;
        }
        if last_report.elapsed() >= std::time::Duration::from_secs(2) {
            last_report = tokio::time::Instant::now();
            notify(match total {
                Some(t) => format!("read {size} of {t} bytes of {resource}"),
                None => format!("read {size} bytes of {resource}"),
            });
        }
    }
    if let Some(f) = file {
        f.finish().await?;
    }
    Ok(Fetched {
        size_bytes: size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// An object's Object Lock retention. No retention answers
/// `NoSuchObjectLockConfiguration` (404), a bucket without Object Lock
/// `InvalidRequest` (400) (S3 API reference, GetObjectRetention): both are
/// "none".
pub(super) async fn retention(
    cloud: &AwsCloud,
    object: &ObjectRef,
    notify: Notify<'_>,
) -> Result<Option<(String, jiff::Timestamp)>, CloudError> {
    let (c, _) = cloud.clients(object.region.as_deref());
    let resource = object.to_string();
    let out = send!(
        cloud,
        notify,
        "GetObjectRetention",
        resource,
        c.s3.get_object_retention()
            .bucket(&object.bucket)
            .key(&object.key)
            .set_version_id(object.version_id.clone())
    )
    .await;
    match out {
        Ok(out) => Ok(out.retention().and_then(|r| {
            Some((
                r.mode()?.as_str().to_owned(),
                r.retain_until_date().and_then(ts)?,
            ))
        })),
        Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Invalid) => Ok(None),
        Err(e) => Err(e),
    }
}
