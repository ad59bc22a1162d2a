//! S3 steps: object metadata, archive restores waited for, streamed
//! downloads, and SHA-256 verification against what the backup recorded.

use std::path::PathBuf;

use super::{StepCtx, StepError, poll};
use crate::cloud::{
    ArchiveState, ErrorKind, ObjectHead, ObjectRef, manifest_sha256, points::manifest_key,
};
use crate::engine::values::Outputs;
use crate::runbook::kinds::{S3Download, S3Head, S3RestoreObject, S3VerifyChecksum};
use crate::runbook::model::Text;

/// Retention of a restored copy when the step sets none.
const DEFAULT_RESTORE_DAYS: u32 = 7;

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
            until.map(|u| u.to_string()).unwrap_or_default(),
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
    let head = ctx.cloud()?.head_object(&object, &ctx.notifier()).await?;
    let (restore, _) = archive_word(&head.archive);
    let show = |t: Option<jiff::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
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
        (
            "object_lock_mode".to_string(),
            head.object_lock_mode.clone().unwrap_or_default(),
        ),
        ("retain_until".to_string(), show(head.retain_until)),
    ]))
}

pub async fn restore_object(ctx: &StepCtx, a: &S3RestoreObject) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let object = object(
        ctx,
        &a.bucket,
        &a.key,
        a.version_id.as_ref(),
        a.region.as_ref(),
    )?;
    let head = cloud.head_object(&object, &notify).await?;
    let tier = a.tier.as_str();
    let days = a.days.as_ref().map_or(DEFAULT_RESTORE_DAYS, |d| d.value);
    match head.archive {
        None => {
            ctx.progress(format!(
                "{object} is in {}, readable without a restore",
                head.storage_class
            ))
            .await?;
            return Ok(restored(&None));
        }
        Some(ArchiveState::Needed) => {
            cloud.restore_object(&object, tier, days, &notify).await?;
            ctx.progress(format!(
                "requested a {tier} restore of {object} from {} for {days} days",
                head.storage_class
            ))
            .await?;
        }
        Some(ArchiveState::Ongoing) => {
            ctx.progress(format!("a restore of {object} is already under way"))
                .await?;
        }
        Some(ArchiveState::Ready { .. }) => {}
    }
    let done = poll(ctx, || {
        let (cloud, object, notify) = (&cloud, &object, &notify);
        async move {
            let head: ObjectHead = cloud.head_object(object, notify).await?;
            Ok(matches!(head.archive, Some(ArchiveState::Ready { .. })).then_some(head.archive))
        }
    })
    .await?;
    Ok(restored(&done))
}

fn restored(state: &Option<ArchiveState>) -> Outputs {
    let (status, until) = archive_word(state);
    Outputs::from([
        ("status".to_string(), status),
        ("expires_at".to_string(), until),
    ])
}

pub async fn download(ctx: &StepCtx, a: &S3Download) -> Result<Outputs, StepError> {
    let object = object(
        ctx,
        &a.bucket,
        &a.key,
        a.version_id.as_ref(),
        a.region.as_ref(),
    )?;
    let to = PathBuf::from(ctx.resolve(&a.to.value)?);
    let to = if to.is_relative() {
        ctx.run_dir.join(to)
    } else {
        to
    };
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
