//! S3 steps: object metadata, archive restores waited for, streamed
//! downloads, and SHA-256 verification against what the backup recorded.

use std::path::{Component, Path, PathBuf};

use futures::{FutureExt, StreamExt, TryStreamExt};

use super::{StepCtx, StepError};
use crate::cloud::{
    ArchiveState, CloudError, ErrorKind, ObjectHead, ObjectLock, ObjectRef, PointSource,
    RecoveryPoint, human_bytes, manifest_sha256, points, points::manifest_key,
};
use crate::engine::values::Outputs;
use crate::runbook::kinds::{S3Download, S3Head, S3VerifyChecksum};
use crate::runbook::model::Text;

mod restore;
pub use restore::restore_object;

fn object(
    ctx: &StepCtx,
    bucket: &Text,
    key: &Text,
    version: Option<&Text>,
    region: Option<&Text>,
) -> Result<ObjectRef, StepError> {
    Ok(ObjectRef {
        bucket: ctx.resolve(&bucket.value)?,
        key: ctx.resolve(&key.value)?,
        version_id: ctx.resolve_opt(version)?,
        region: ctx.resolve_opt(region)?,
    })
}

fn archive_word(a: &Option<ArchiveState>) -> (String, String) {
    match a {
        None => ("not-archived".into(), String::new()),
        Some(ArchiveState::Needed) => ("needed".into(), String::new()),
        Some(ArchiveState::Ongoing) => ("ongoing".into(), String::new()),
        Some(ArchiveState::Ready { until }) => (
            "ready".into(),
            until.map(crate::format::timestamp).unwrap_or_default(),
        ),
    }
}

pub async fn head(ctx: &StepCtx, a: &S3Head) -> Result<Outputs, StepError> {
    let object = object(
        ctx,
        &a.bucket,
        &a.key,
        a.version_id.as_ref(),
        a.region.as_ref(),
    )?;
    let cloud = ctx.cloud()?;
    let head = cloud.head_object(&object, &ctx.notifier()).await?;
    let (restore, _) = archive_word(&head.archive);
    let show = |t: Option<jiff::Timestamp>| t.map(crate::format::timestamp).unwrap_or_default();
    let (lock_mode, retain_until) = object_lock(ctx, &*cloud, &object, &head).await?;
    Ok(Outputs::from([
        ("size_bytes".to_string(), head.size_bytes.to_string()),
        ("etag".to_string(), head.etag.clone().unwrap_or_default()),
        ("last_modified".to_string(), show(head.last_modified)),
        ("storage_class".to_string(), head.storage_class.clone()),
        ("restore_status".to_string(), restore),
        (
            "sha256".to_string(),
            head.recorded_sha256().map(|(s, _)| s).unwrap_or_default(),
        ),
        (
            "version_id".to_string(),
            head.version_id.clone().unwrap_or_default(),
        ),
        ("object_lock_mode".to_string(), lock_mode),
        ("retain_until".to_string(), retain_until),
    ]))
}

/// An object's Object Lock mode and retain-until, as outputs. HeadObject
/// returns them "only if the requester has the s3:GetObjectRetention
/// permission" (botocore `s3` 2006-03-01, HeadObjectOutput.ObjectLockMode),
/// so no header is not "no lock": GetObjectRetention says which, and
/// without that permission both are `unknown`.
async fn object_lock(
    ctx: &StepCtx,
    cloud: &dyn crate::cloud::Cloud,
    object: &ObjectRef,
    head: &ObjectHead,
) -> Result<(String, String), StepError> {
    let lock = if let Some(mode) = &head.object_lock_mode {
        ObjectLock::Locked {
            mode: mode.clone(),
            until: head.retain_until,
        }
    } else {
        match cloud.object_retention(object, &ctx.notifier()).await {
            Ok(Some((mode, until))) => ObjectLock::Locked {
                mode,
                until: Some(until),
            },
            Ok(None) => ObjectLock::NotLocked,
            Err(e) => {
                let fix = if e.kind == ErrorKind::AccessDenied {
                    ". Grant s3:GetObjectRetention to see it"
                } else {
                    ""
                };
                ctx.progress(format!("Object Lock of {object} is unknown: {e}{fix}"))
                    .await?;
                ObjectLock::Unknown {
                    reason: e.to_string(),
                }
            }
        }
    };
    Ok(lock.outputs())
}

/// The step's one object (`key`); the rules guarantee `key` when there
/// is no `prefix`.
fn the_key(key: Option<&Text>) -> Result<&Text, StepError> {
    key.ok_or_else(|| {
        StepError::Fatal("the step has neither `key` nor `prefix`; give one of them".into())
    })
}

pub async fn download(ctx: &StepCtx, a: &S3Download) -> Result<Outputs, StepError> {
    let to = super::paths::local_path(ctx, "to", &a.to.value)?;
    if let Some(prefix) = &a.prefix {
        return download_prefix(ctx, a, prefix, to).await;
    }
    let object = object(
        ctx,
        &a.bucket,
        the_key(a.key.as_ref())?,
        a.version_id.as_ref(),
        a.region.as_ref(),
    )?;
    let fetched = ctx
        .cloud()?
        .fetch_object(&object, Some(&to), &ctx.notifier())
        .await?;
    ctx.progress(format!(
        "downloaded {object} to {} ({} bytes, SHA-256 {})",
        to.display(),
        fetched.size_bytes,
        fetched.sha256
    ))
    .await?;
    Ok(Outputs::from([
        ("path".to_string(), to.display().to_string()),
        ("size_bytes".to_string(), fetched.size_bytes.to_string()),
        ("sha256".to_string(), fetched.sha256),
    ]))
}

pub async fn verify_checksum(ctx: &StepCtx, a: &S3VerifyChecksum) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let object = object(
        ctx,
        &a.bucket,
        &a.key,
        a.version_id.as_ref(),
        a.region.as_ref(),
    )?;
    let (expected, source) = if let Some(e) = ctx.resolve_opt(a.expected.as_ref())? {
        (
            e.trim().to_ascii_lowercase(),
            "the step's `expected`".to_string(),
        )
    } else if let Some(m) = ctx.resolve_opt(a.manifest.as_ref())? {
        manifest_entry(ctx, &object, m).await?
    } else {
        let head = cloud.head_object(&object, &notify).await?;
        match head.recorded_sha256() {
            Some((sum, source)) => (sum, source.to_string()),
            None => {
                // A manifest beside the object is the last place to look;
                // only its absence means there is no record. Other errors
                // (access denied, throttling) are reported as they are.
                let none = || {
                    StepError::Fatal(format!(
                        "{object} records no SHA-256 (no ChecksumSHA256, no `sha256` or `checksum` metadata, no manifest.json beside it): give `expected` or `manifest`"
                    ))
                };
                let beside = manifest_key(&object.key).ok_or_else(none)?;
                let manifest = manifest_ref(&object, beside);
                match cloud.read_object(&manifest, &notify).await {
                    Ok(bytes) => manifest_sum(&object, &manifest, &bytes)?,
                    Err(e) if e.kind == ErrorKind::NotFound => return Err(none()),
                    Err(e) => return Err(e.into()),
                }
            }
        }
    };
    let fetched = cloud.fetch_object(&object, None, &notify).await?;
    if fetched.sha256 != expected {
        return Err(StepError::Failed(format!(
            "SHA-256 mismatch for {object}: expected {expected} (from {source}), computed {} over {} bytes; the backup is corrupt or the record is wrong — do not restore from it",
            fetched.sha256, fetched.size_bytes
        )));
    }
    ctx.progress(format!(
        "{object}: SHA-256 {} matches {source} ({} bytes)",
        fetched.sha256, fetched.size_bytes
    ))
    .await?;
    Ok(Outputs::from([
        ("sha256".to_string(), fetched.sha256),
        ("expected".to_string(), expected),
        ("source".to_string(), source),
    ]))
}

/// The SHA-256 the manifest at `key` (same bucket) records for `object`.
async fn manifest_entry(
    ctx: &StepCtx,
    object: &ObjectRef,
    key: String,
) -> Result<(String, String), StepError> {
    let manifest = manifest_ref(object, key);
    let bytes = ctx.cloud()?.read_object(&manifest, &ctx.notifier()).await?;
    manifest_sum(object, &manifest, &bytes)
}

/// The manifest at `key`, in `object`'s bucket and region.
fn manifest_ref(object: &ObjectRef, key: String) -> ObjectRef {
    ObjectRef {
        key,
        version_id: None,
        ..object.clone()
    }
}

/// The SHA-256 that `manifest` (its `bytes`) records for `object`, and
/// where it was found.
fn manifest_sum(
    object: &ObjectRef,
    manifest: &ObjectRef,
    bytes: &[u8],
) -> Result<(String, String), StepError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| StepError::Fatal(format!("{manifest} is not valid JSON: {e}")))?;
    let file = object.key.rsplit('/').next().unwrap_or(&object.key);
    let sum = manifest_sha256(&value, file).ok_or_else(|| {
        StepError::Fatal(format!(
            "{manifest} lists no SHA-256 for {file} (looked for `sha256`/`checksum` at the top and under `files`)"
        ))
    })?;
    Ok((sum, manifest.to_string()))
}

/// Objects downloaded at once under a prefix.
const DOWNLOADS_IN_FLIGHT: usize = 4;
/// Restore requests and HEADs in flight at once under a prefix.
const CALLS_IN_FLIGHT: usize = 16;

/// An object listed under a prefix.
struct Listed {
    object: ObjectRef,
    size_bytes: u64,
    archive: Option<ArchiveState>,
    storage_class: String,
    archive_status: Option<String>,
    sha256: Option<String>,
}

/// Every object under `prefix` (current versions, by key), without the
/// zero-byte "folder" markers some tools create. None is a failure: a
/// restore from an empty prefix restores nothing.
async fn list_prefix(
    ctx: &StepCtx,
    bucket: &str,
    prefix: &str,
    region: Option<String>,
) -> Result<Vec<Listed>, StepError> {
    let source = PointSource::Bucket {
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
        suffix: None,
        versions: false,
        region: region.clone(),
    };
    let notify = ctx.notifier();
    let listed = points::collect(ctx.cloud()?, vec![source], &notify).await?;
    let mut objects: Vec<Listed> = listed
        .into_iter()
        .filter_map(|p: RecoveryPoint| {
            let key = p.key?;
            if key.ends_with('/') && p.size_bytes.unwrap_or(0) == 0 {
                return None;
            }
            Some(Listed {
                object: ObjectRef {
                    bucket: bucket.to_owned(),
                    key,
                    version_id: None,
                    region: region.clone(),
                },
                size_bytes: p.size_bytes.unwrap_or(0),
                archive: p.archive,
                storage_class: p.storage_class.unwrap_or_else(|| "STANDARD".into()),
                archive_status: p.archive_status,
                sha256: p.sha256,
            })
        })
        .collect();
    objects.sort_by(|a, b| a.object.key.cmp(&b.object.key));
    if objects.is_empty() {
        return Err(StepError::Failed(format!(
            "no objects under s3://{bucket}/{prefix}: check the bucket, the prefix (keys start with it, e.g. `media/`) and the region"
        )));
    }
    Ok(objects)
}

/// The bucket and the prefix, resolved. An empty prefix is refused: it
/// would restore or download the whole bucket.
fn prefix_of(ctx: &StepCtx, bucket: &Text, prefix: &Text) -> Result<(String, String), StepError> {
    let (bucket, resolved) = (ctx.resolve(&bucket.value)?, ctx.resolve(&prefix.value)?);
    if resolved.trim().is_empty() {
        return Err(StepError::Fatal(format!(
            "`prefix` is empty (`{}` resolved to nothing), which would act on every object in s3://{bucket}: give a key prefix such as `media/`",
            prefix.value
        )));
    }
    Ok((bucket, resolved))
}

/// Runs `calls` (one S3 call or two per object) [`CALLS_IN_FLIGHT`] at a
/// time; the first error ends them all.
async fn in_flight<T: Send>(
    calls: impl Iterator<Item = futures::future::BoxFuture<'static, Result<T, CloudError>>>,
) -> Result<Vec<T>, CloudError> {
    futures::stream::iter(calls)
        .buffer_unordered(CALLS_IN_FLIGHT)
        .try_collect()
        .await
}

fn earliest(a: Option<jiff::Timestamp>, b: Option<jiff::Timestamp>) -> Option<jiff::Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Where `key` goes under `dir`: its path below the prefix's last `/`
/// (prefix `media/` or `media/2024`: `media/2024-01/a.jpg` becomes
/// `2024-01/a.jpg`). A key that would leave `dir` (`..`, an absolute
/// path) is refused.
fn local_path(dir: &Path, prefix: &str, key: &str) -> Result<PathBuf, StepError> {
    let base = prefix.rfind('/').map_or(0, |i| i + 1);
    let relative = key.get(base..).unwrap_or(key);
    let path = Path::new(relative);
    let safe = !relative.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !safe {
        return Err(StepError::Fatal(format!(
            "the key `{key}` cannot be written below {}: its path below the prefix (`{relative}`) is empty, absolute or climbs out with `..`; download it alone with `key` and a `to` of your choice",
            dir.display()
        )));
    }
    Ok(dir.join(path))
}

/// Every object gets a file of its own: no two keys land on the same path
/// (`a/./b` and `a/b`), on each other's `.part` file (`x` and `x.part`), or
/// one inside the other (`a` and `a/b`). Checked before anything is written.
fn distinct_targets(objects: &[Listed], targets: &[PathBuf]) -> Result<(), StepError> {
    let mut owner: std::collections::HashMap<&Path, &str> = std::collections::HashMap::new();
    for (o, t) in objects.iter().zip(targets) {
        if let Some(other) = owner.insert(t.as_path(), &o.object.key) {
            return Err(clash(other, &o.object.key, t, "the same file"));
        }
    }
    for (o, t) in objects.iter().zip(targets) {
        let mut part = t.clone().into_os_string();
        part.push(".part");
        if let Some(other) = owner.get(Path::new(&part)) {
            return Err(clash(&o.object.key, other, t, "a file and its .part file"));
        }
        for parent in t.ancestors().skip(1) {
            if let Some(other) = owner.get(parent) {
                return Err(clash(other, &o.object.key, t, "a file and a directory"));
            }
        }
    }
    Ok(())
}

fn clash(a: &str, b: &str, path: &Path, what: &str) -> StepError {
    StepError::Fatal(format!(
        "the keys `{a}` and `{b}` would be downloaded to {what} (near {}): download them one at a time with `key` and a `to` each; nothing was downloaded",
        path.display()
    ))
}

async fn download_prefix(
    ctx: &StepCtx,
    a: &S3Download,
    prefix: &Text,
    dir: PathBuf,
) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let (bucket, prefix) = prefix_of(ctx, &a.bucket, prefix)?;
    let region = ctx.resolve_opt(a.region.as_ref())?;
    let where_ = format!("s3://{bucket}/{prefix}");
    let mut objects = list_prefix(ctx, &bucket, &prefix, region).await?;
    if let Some(from) = ctx.resolve_opt(a.from_key.as_ref())? {
        let listed = objects.len();
        objects.retain(|o| o.object.key >= from);
        if objects.is_empty() {
            return Err(StepError::Fatal(format!(
                "none of the {listed} objects under {where_} has a key at or after `{from}` (from_key): check that it names a key under the prefix, e.g. `{prefix}...`"
            )));
        }
        ctx.progress(format!(
            "{} of the {listed} objects under {where_} are at or after {from}",
            objects.len()
        ))
        .await?;
    }
    let frozen: Vec<&Listed> = objects
        .iter()
        .filter(|o| {
            matches!(
                o.archive,
                Some(ArchiveState::Needed | ArchiveState::Ongoing)
            )
        })
        .collect();
    if !frozen.is_empty() {
        let some: Vec<String> = frozen
            .iter()
            .take(3)
            .map(|o| format!("{} ({})", o.object.key, o.storage_class))
            .collect();
        return Err(StepError::Fatal(format!(
            "{} of the {} objects under {where_} are archived and not restored yet, e.g. {}{}: restore them first with an `s3.restore-object` step with prefix = \"{prefix}\" (it waits until all are readable); nothing was downloaded",
            frozen.len(),
            objects.len(),
            some.join(", "),
            if frozen.len() > 3 { ", ..." } else { "" }
        )));
    }
    let mut targets = Vec::with_capacity(objects.len());
    for o in &objects {
        targets.push(local_path(&dir, &prefix, &o.object.key)?);
    }
    distinct_targets(&objects, &targets)?;
    let total = objects.len();
    let total_bytes: u64 = objects.iter().map(|o| o.size_bytes).sum();
    ctx.progress(format!(
        "downloading {} ({}) from {where_} into {}",
        crate::format::count(total as u64, "object"),
        human_bytes(total_bytes),
        dir.display()
    ))
    .await?;
    crate::fsx::create_private_dir_async(&dir).await.map_err(|e| {
        StepError::Fatal(format!(
            "cannot create the directory {}: {e}; check the permissions there or give the step another `to`",
            dir.display()
        ))
    })?;
    let notify = ctx.notifier();
    // Each download owns what it uses, so the stream is `Send` for any
    // lifetime the scheduler's task asks of it.
    let jobs: Vec<_> = objects
        .into_iter()
        .zip(targets)
        .map(|(o, to)| {
            let cloud = cloud.clone();
            let notify = ctx.notifier();
            // Retries are worth a line; each object's byte counts are not
            // (the step reports the objects done every 2 s instead).
            let retries = move |m: String| {
                if m.contains("; retrying in ") {
                    notify(m);
                }
            };
            async move {
                let fetched = cloud.fetch_object(&o.object, Some(&to), &retries).await;
                (o, to, fetched)
            }
            .boxed()
        })
        .collect();
    let mut fetches = futures::stream::iter(jobs).buffer_unordered(DOWNLOADS_IN_FLIGHT);
    let (mut done, mut bytes, mut verified) = (0usize, 0u64, 0usize);
    let mut last_report = tokio::time::Instant::now();
    while let Some((o, to, fetched)) = fetches.next().await {
        let fetched = fetched?;
        if let Some(recorded) = &o.sha256 {
            if *recorded != fetched.sha256 {
                let _ = tokio::fs::remove_file(&to).await;
                return Err(StepError::Failed(format!(
                    "SHA-256 mismatch for {}: the object records {recorded}, the download computed {} over {} bytes; the copy was removed — the backup is corrupt or its record is wrong",
                    o.object, fetched.sha256, fetched.size_bytes
                )));
            }
            verified += 1;
        }
        done += 1;
        bytes += fetched.size_bytes;
        if last_report.elapsed() >= std::time::Duration::from_secs(2) {
            last_report = tokio::time::Instant::now();
            notify(format!(
                "downloaded {done} of {total} objects ({} of {})",
                human_bytes(bytes),
                human_bytes(total_bytes)
            ));
        }
    }
    ctx.progress(format!(
        "downloaded {} ({bytes} bytes) from {where_} into {}; {verified} matched the SHA-256 they record",
        crate::format::count(done as u64, "object"),
        dir.display()
    ))
    .await?;
    Ok(Outputs::from([
        ("path".to_string(), dir.display().to_string()),
        ("objects".to_string(), done.to_string()),
        ("size_bytes".to_string(), bytes.to_string()),
        ("verified".to_string(), verified.to_string()),
    ]))
}
