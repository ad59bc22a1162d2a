//! The way back from the archive: the manifest read (hostile, capped),
//! the journal downloaded and held against it, every file verified. What
//! the archive holds and how it is uploaded is the parent module's.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::{
    ArchiveTarget, JOURNAL, MANIFEST, MAX_ARCHIVED_FILE_BYTES, MAX_MANIFEST_BYTES, Manifest, s3,
};
use crate::cloud::aws::{AwsCloud, classify};

/// Downloads `s3://bucket/key` into `dest` (created 0600), at most
/// `cap` bytes, hashing as it goes; returns its SHA-256 and size.
async fn download(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    cap: u64,
    dest: Option<&Path>,
) -> Result<(String, u64, Vec<u8>), String> {
    let resource = format!("s3://{bucket}/{key}");
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| classify("GetObject", &resource, e).to_string())?;
    if out
        .content_length()
        .is_some_and(|n| n < 0 || n as u64 > cap)
    {
        return Err(format!(
            "{resource} is {} bytes, over the {cap} bytes dr-drill reads; it is not an archive file",
            out.content_length().unwrap_or_default()
        ));
    }
    let mut reader = out.body.into_async_read().take(cap + 1);
    let mut file = match dest {
        Some(p) => Some(
            crate::fsx::create_private_file(p)
                .map_err(|e| format!("cannot write {}: {e}", p.display()))?,
        ),
        None => None,
    };
    let mut kept = Vec::new();
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader
            .read(&mut buf)
            .await
            .map_err(|e| format!("GetObject on {resource}: the download broke off: {e}"))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > cap {
            return Err(format!(
                "{resource} is over the {cap} bytes dr-drill reads; it is not an archive file"
            ));
        }
        hasher.update(&buf[..n]);
        match &mut file {
            Some(f) => std::io::Write::write_all(f, &buf[..n])
                .map_err(|e| format!("cannot write the download of {resource}: {e}"))?,
            None if dest.is_none() && cap <= MAX_MANIFEST_BYTES => {
                kept.extend_from_slice(&buf[..n])
            }
            None => {}
        }
    }
    Ok((hex::encode(hasher.finalize()), size, kept))
}

/// Reads the manifest of `run_id` under `target`.
pub async fn read_manifest(
    cloud: &AwsCloud,
    target: &ArchiveTarget,
    run_id: &str,
) -> Result<Manifest, String> {
    let key = target.key(run_id, MANIFEST);
    let (_, _, bytes) = download(&s3(cloud), &target.bucket, &key, MAX_MANIFEST_BYTES, None)
        .await
        .map_err(|e| format!("{e}\nIs {} an archived run?", target.run_url(run_id)))?;
    Manifest::parse(&bytes, &format!("s3://{}/{key}", target.bucket), run_id)
}

/// Downloads the archived journal of `run_id` into `dir/journal.jsonl`,
/// refusing it when its SHA-256 is not the manifest's (the evidence was
/// changed). Returns the journal's path.
pub async fn fetch_journal(
    cloud: &AwsCloud,
    target: &ArchiveTarget,
    run_id: &str,
    manifest: &Manifest,
    dir: &Path,
) -> Result<PathBuf, String> {
    let key = target.key(run_id, JOURNAL);
    let url = format!("s3://{}/{key}", target.bucket);
    let expected = manifest
        .file(JOURNAL)
        .ok_or_else(|| format!("the manifest lists no {JOURNAL}"))?;
    let partial = dir.join(".journal.jsonl.download");
    let _ = std::fs::remove_file(&partial);
    let got = download(
        &s3(cloud),
        &target.bucket,
        &key,
        MAX_ARCHIVED_FILE_BYTES,
        Some(&partial),
    )
    .await;
    let (sha256, size, _) = match got {
        Ok(g) => g,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    if !sha256.eq_ignore_ascii_case(&expected.sha256) || size != expected.size {
        let _ = std::fs::remove_file(&partial);
        return Err(format!(
            "{url} is not the journal that was archived: its SHA-256 is {sha256} ({size} bytes), the manifest says {} ({} bytes). The evidence was changed after it was archived; nothing was written",
            expected.sha256, expected.size
        ));
    }
    let path = dir.join(JOURNAL);
    std::fs::rename(&partial, &path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// One file of a manifest, checked against S3.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The file's name.
    pub name: String,
    /// Its key.
    pub key: String,
    /// Its size as downloaded, if it was.
    pub size: Option<u64>,
    /// `ok`, or what is wrong.
    pub hash: Result<(), String>,
    /// The object's retention (`GOVERNANCE until …`), `none`, or why it
    /// could not be read; `None` when the manifest sets none.
    pub retention: Option<Result<String, String>>,
}

impl Verified {
    /// Whether the file is as archived (hash and, if set, retention).
    pub fn ok(&self) -> bool {
        self.hash.is_ok() && !matches!(self.retention, Some(Err(_)))
    }
}

/// Checks every file of `manifest`: downloaded and hashed (nothing kept),
/// and, when the manifest sets a retention, the object's retention read
/// back (GetObjectRetention) and held against it.
pub async fn verify(
    cloud: &AwsCloud,
    target: &ArchiveTarget,
    run_id: &str,
    manifest: &Manifest,
) -> Vec<Verified> {
    use crate::cloud::Cloud as _;
    let client = s3(cloud);
    let mut out = Vec::new();
    for f in &manifest.files {
        let key = target.key(run_id, &f.name);
        let got = download(&client, &target.bucket, &key, MAX_ARCHIVED_FILE_BYTES, None).await;
        let (size, hash) = match got {
            Ok((sha, size, _)) if sha.eq_ignore_ascii_case(&f.sha256) && size == f.size => {
                (Some(size), Ok(()))
            }
            Ok((sha, size, _)) => (
                Some(size),
                Err(format!(
                    "CHANGED: SHA-256 {sha} ({size} bytes), manifest {} ({} bytes)",
                    f.sha256, f.size
                )),
            ),
            Err(e) => (None, Err(e)),
        };
        let retention = match &manifest.retention {
            None => None,
            Some(want) => {
                let object = crate::cloud::ObjectRef {
                    bucket: target.bucket.clone(),
                    key: key.clone(),
                    version_id: None,
                    region: None,
                };
                let quiet = crate::cloud::quiet();
                Some(match cloud.object_retention(&object, &quiet).await {
                    Ok(Some((mode, until)))
                        if mode == want.mode.word() && until >= want.retain_until =>
                    {
                        Ok(format!("{mode} until {until}"))
                    }
                    Ok(Some((mode, until))) => Err(format!(
                        "{mode} until {until}, not {} until {}",
                        want.mode.word(),
                        want.retain_until
                    )),
                    Ok(None) => Err("none, though the manifest sets one".to_owned()),
                    Err(e) => Err(e.to_string()),
                })
            }
        };
        out.push(Verified {
            name: f.name.clone(),
            key,
            size,
            hash,
            retention,
        });
    }
    out
}
