//! The evidence archive in S3: a finished run's journal and report files
//! under `s3://BUCKET/PREFIX/RUN_ID/`, `manifest.json` last, each object
//! sent with a SHA-256 checksum S3 verifies and, if asked, an Object Lock
//! retention; and the way back: the manifest read (hostile), the journal
//! downloaded and checked against it, every file verified.
//!
//! It owns the archive's names (which files, which keys), the S3 rules it
//! relies on (each cited next to its use) and the manifest. It never
//! imports ratatui or crossterm, never prints (its callers do) and never
//! changes how a run went.

mod fetch;

use std::io::{BufRead, Read};
use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectLockEnabled, ObjectLockMode};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cloud::aws::{AwsCloud, AwsOptions, classify};
use crate::engine::journal;
use crate::report::Format;

pub use fetch::{Verified, fetch_journal, read_manifest, verify};

/// The journal's name in the archive (and next to a run).
pub const JOURNAL: &str = "journal.jsonl";
/// The manifest's name: written last, so its presence says the archive is
/// whole.
pub const MANIFEST: &str = "manifest.json";
/// The manifest's format.
pub const MANIFEST_FORMAT: u32 = 1;
/// Largest manifest read back: a real one is under 2 KiB (six files).
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024;
/// Largest archived file downloaded. A real journal stays far below it
/// (each attempt's output is capped at 512 KiB); the journal reader's own
/// caps (one line at most 8 MiB, at most a million events) apply after.
pub const MAX_ARCHIVED_FILE_BYTES: u64 = 1024 * 1024 * 1024;

/// The file names an archive may hold besides the manifest: the journal
/// and the report files `report::write_next_to` writes. Any other name in
/// a manifest is refused.
pub fn known_files() -> Vec<&'static str> {
    std::iter::once(JOURNAL)
        .chain(Format::ALL.iter().map(|f| f.file_name()))
        .collect()
}

/// `s3://BUCKET/PREFIX`: where runs are archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveTarget {
    /// The bucket, valid by S3's naming rules.
    pub bucket: String,
    /// The key prefix, without a leading or trailing `/` (may be empty).
    pub prefix: String,
}

impl std::fmt::Display for ArchiveTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

impl ArchiveTarget {
    /// Parses `s3://BUCKET[/PREFIX]`, checking the bucket against S3's
    /// naming rules and the prefix against safe key characters.
    pub fn parse(url: &str) -> Result<Self, String> {
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(format!(
                "`{}` is not an S3 URL: give s3://BUCKET/PREFIX",
                crate::format::printable(url)
            ));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        check_bucket(bucket)?;
        let prefix = prefix.trim_end_matches('/');
        check_prefix(prefix)?;
        Ok(ArchiveTarget {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// Parses `s3://BUCKET/PREFIX/RUN_ID` (for `report s3://…`): the
    /// archive and the run id, its last segment.
    pub fn parse_run(url: &str) -> Result<(Self, String), String> {
        let trimmed = url.trim_end_matches('/');
        let target = ArchiveTarget::parse(trimmed)?;
        let Some((prefix, run_id)) = target
            .prefix
            .rsplit_once('/')
            .or_else(|| (!target.prefix.is_empty()).then_some(("", target.prefix.as_str())))
        else {
            return Err(format!(
                "`{}` names no run: give s3://BUCKET/PREFIX/RUN_ID",
                crate::format::printable(url)
            ));
        };
        check_run_id(run_id)?;
        Ok((
            ArchiveTarget {
                bucket: target.bucket.clone(),
                prefix: prefix.to_owned(),
            },
            run_id.to_owned(),
        ))
    }

    /// The key of `name` in run `run_id`'s folder.
    pub fn key(&self, run_id: &str, name: &str) -> String {
        if self.prefix.is_empty() {
            format!("{run_id}/{name}")
        } else {
            format!("{}/{run_id}/{name}", self.prefix)
        }
    }

    /// `s3://BUCKET/PREFIX/RUN_ID`.
    pub fn run_url(&self, run_id: &str) -> String {
        format!("{self}/{run_id}")
    }
}

/// S3's general purpose bucket naming rules (S3 User Guide, "General
/// purpose bucket naming rules", docs.aws.amazon.com/AmazonS3/latest/
/// userguide/bucketnamingrules.html): 3 to 63 characters; lowercase
/// letters, digits, `.` and `-`; begins and ends with a letter or digit;
/// no two adjacent periods; not an IP address; not the reserved prefixes
/// `xn--`, `sthree-`, `amzn-s3-demo-` nor the suffixes `-s3alias`,
/// `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`.
pub fn check_bucket(bucket: &str) -> Result<(), String> {
    let shown = crate::format::printable(bucket);
    let bad = |why: &str| {
        Err(format!(
            "`{shown}` is not a valid S3 bucket name: {why} (S3 bucket naming rules)"
        ))
    };
    if !(3..=63).contains(&bucket.len()) {
        return bad("a name is 3 to 63 characters long");
    }
    if !bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return bad("use only lowercase letters, digits, `.` and `-`");
    }
    let edge = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !edge(bucket.bytes().next()) || !edge(bucket.bytes().last()) {
        return bad("a name begins and ends with a letter or a digit");
    }
    if bucket.contains("..") {
        return bad("a name has no two adjacent periods");
    }
    if bucket.parse::<std::net::Ipv4Addr>().is_ok() {
        return bad("a name is not an IP address");
    }
    for p in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if bucket.starts_with(p) {
            return bad(&format!("the prefix `{p}` is reserved"));
        }
    }
    for s in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if bucket.ends_with(s) {
            return bad(&format!("the suffix `{s}` is reserved"));
        }
    }
    Ok(())
}

/// A key prefix: segments of S3's "safe characters" (S3 User Guide,
/// "Naming Amazon S3 objects", object-keys.html: letters, digits and
/// `! - _ . * ' ( )`), no empty, `.` or `..` segment, at most 512 bytes
/// (a key is at most 1,024 bytes, and the run id and file name follow).
fn check_prefix(prefix: &str) -> Result<(), String> {
    if prefix.is_empty() {
        return Ok(());
    }
    let shown = crate::format::printable(prefix);
    if prefix.len() > 512 {
        return Err(format!(
            "the prefix `{shown}` is longer than 512 bytes; S3 keys are at most 1,024"
        ));
    }
    for segment in prefix.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(format!(
                "the prefix `{shown}` has an empty, `.` or `..` segment; give segments like team/drills"
            ));
        }
        if !segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!-_.*'()".contains(c))
        {
            return Err(format!(
                "the prefix `{shown}` has a character outside S3's safe set (letters, digits, ! - _ . * ' ( ) and /)"
            ));
        }
    }
    Ok(())
}

/// A run id as dr-drill makes them (`<runbook-id>-<UTC time>`): letters,
/// digits, `-` and `_`, at most 200 bytes; never `/` nor `..`.
pub fn check_run_id(run_id: &str) -> Result<(), String> {
    let ok = !run_id.is_empty()
        && run_id.len() <= 200
        && run_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a run id (letters, digits, `-` and `_`, as in cabal-addresses-20261203T101500Z)",
            crate::format::printable(run_id)
        ))
    }
}

/// An Object Lock retention mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LockMode {
    /// Users with `s3:BypassGovernanceRetention` may still shorten it.
    #[default]
    Governance,
    /// Nobody, not even the root user, can shorten it.
    Compliance,
}

impl LockMode {
    /// Parses `governance` or `compliance`.
    pub fn parse(s: &str) -> Result<LockMode, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "governance" => Ok(LockMode::Governance),
            "compliance" => Ok(LockMode::Compliance),
            _ => Err(format!(
                "`{s}` is not a lock mode; give governance or compliance"
            )),
        }
    }

    /// S3's word, `GOVERNANCE` or `COMPLIANCE`.
    pub fn word(self) -> &'static str {
        match self {
            LockMode::Governance => "GOVERNANCE",
            LockMode::Compliance => "COMPLIANCE",
        }
    }
}

/// A retention to put on every archived object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// How many days from the upload.
    pub days: u32,
    /// Governance or compliance.
    pub mode: LockMode,
}

/// What `--archive` asks: where, with which retention, through which AWS.
#[derive(Debug, Clone)]
pub struct ArchiveRequest {
    /// The bucket and prefix.
    pub target: ArchiveTarget,
    /// The retention, if any.
    pub retention: Option<Retention>,
    /// How to reach S3 (the run's AWS options; in the sandbox, the
    /// profile, region and endpoint of the environment).
    pub aws: AwsOptions,
}

/// `manifest.json`: what was archived, written last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub manifest_format: u32,
    /// The run's id.
    pub run_id: String,
    /// The SHA-256 of the runbook text the run started with.
    pub runbook_sha256: String,
    /// Every file, in upload order.
    pub files: Vec<ManifestFile>,
    /// The dr-drill version that archived it.
    pub dr_drill_version: String,
    /// When it was archived.
    pub archived_at: jiff::Timestamp,
    /// The retention put on every object, if any.
    pub retention: Option<ManifestRetention>,
}

/// One archived file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// Its name (one of [`known_files`]).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

/// The retention recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestRetention {
    /// GOVERNANCE or COMPLIANCE.
    pub mode: LockMode,
    /// Until when.
    pub retain_until: jiff::Timestamp,
}

impl Manifest {
    /// Reads a manifest from hostile bytes: known file names only, each
    /// once, hashes of 64 hex digits, the journal present, the run id the
    /// one asked for.
    pub fn parse(bytes: &[u8], key: &str, run_id: &str) -> Result<Manifest, String> {
        let m: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| format!("{key} is not a dr-drill manifest ({e}); nothing was written"))?;
        if m.manifest_format != MANIFEST_FORMAT {
            return Err(format!(
                "{key} has manifest format {}, this dr-drill reads {MANIFEST_FORMAT}; use a matching dr-drill",
                m.manifest_format
            ));
        }
        if m.run_id != run_id {
            return Err(format!(
                "{key} is the manifest of run `{}`, not `{run_id}`: the archive was moved or changed",
                crate::format::printable(&m.run_id)
            ));
        }
        let known = known_files();
        let mut seen = Vec::new();
        for f in &m.files {
            if !known.contains(&f.name.as_str()) {
                return Err(format!(
                    "{key} lists `{}`, which is not an archive file ({}); the manifest was changed",
                    crate::format::printable(&f.name),
                    known.join(", ")
                ));
            }
            if seen.contains(&f.name.as_str()) {
                return Err(format!("{key} lists `{}` twice", f.name));
            }
            seen.push(&f.name);
            if !is_sha256_hex(&f.sha256) {
                return Err(format!(
                    "{key}: the SHA-256 of `{}` is not 64 hex digits",
                    f.name
                ));
            }
            if f.size > MAX_ARCHIVED_FILE_BYTES {
                return Err(format!(
                    "{key}: `{}` is said to be {} bytes, over the {} bytes dr-drill downloads",
                    f.name, f.size, MAX_ARCHIVED_FILE_BYTES
                ));
            }
        }
        if !seen.contains(&JOURNAL) {
            return Err(format!(
                "{key} lists no {JOURNAL}; the archive is not whole"
            ));
        }
        Ok(m)
    }

    /// The entry of `name`.
    pub fn file(&self, name: &str) -> Option<&ManifestFile> {
        self.files.iter().find(|f| f.name == name)
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// How an archive went: what reached S3, and what did not and why.
#[derive(Debug, Clone, Default)]
pub struct Archived {
    /// Where it went, `s3://BUCKET/PREFIX/RUN_ID`.
    pub url: String,
    /// The keys uploaded, in order.
    pub uploaded: Vec<String>,
    /// Why it stopped, if it did.
    pub failure: Option<String>,
    /// The files not uploaded (the manifest last).
    pub not_uploaded: Vec<String>,
}

impl Archived {
    /// Lines for the operator: what was uploaded, or loudly what was not
    /// and the command to retry (`retry` is `dr-drill archive RUN --to …`).
    pub fn lines(&self, retry: &str) -> String {
        match &self.failure {
            None => format!(
                "archived: {} ({} files, manifest.json last)\n",
                self.url,
                self.uploaded.len()
            ),
            Some(why) => {
                let mut s = format!(
                    "ARCHIVE FAILED: the evidence is NOT (fully) in {}\n  why: {why}\n",
                    self.url
                );
                if self.uploaded.is_empty() {
                    s.push_str("  uploaded: nothing\n");
                } else {
                    s.push_str(&format!("  uploaded: {}\n", self.uploaded.join(", ")));
                }
                s.push_str(&format!(
                    "  not uploaded: {}\n  The run's outcome is unchanged; its journal and report are on this machine.\n  Retry with: {retry}\n",
                    self.not_uploaded.join(", ")
                ));
                s
            }
        }
    }
}

/// The S3 client of `cloud`'s default region (path-style when an endpoint
/// is set, as for every S3 call dr-drill makes).
fn s3(cloud: &AwsCloud) -> aws_sdk_s3::Client {
    cloud.clients(None).0.s3
}

/// The SHA-256 and size of `path`, read in pieces (never whole).
fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// The header of the journal at `path` (its first line only).
fn journal_header(path: &Path) -> Result<journal::JournalHeader, String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read the journal {}: {e}", path.display()))?;
    let mut line = String::new();
    std::io::BufReader::new(file)
        .take(journal::MAX_JOURNAL_LINE as u64)
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the journal {}: {e}", path.display()))?;
    journal::read_header(path, &line).map_err(|e| e.to_string())
}

/// Uploads the finished run whose journal is `journal`: the journal, each
/// report file next to it, then the manifest. With a retention, the
/// bucket's Object Lock is checked first and nothing is uploaded without
/// it. Never fails: what went wrong is in [`Archived::failure`].
pub async fn upload(cloud: &AwsCloud, request: &ArchiveRequest, journal: &Path) -> Archived {
    let mut files: Vec<&'static str> = Vec::new();
    let dir = journal.parent().unwrap_or(Path::new("."));
    for name in known_files() {
        let path = dir.join(name);
        // Regular files only: a symlink in the run dir is not evidence.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
            files.push(name);
        }
    }
    let mut out = Archived {
        url: request.target.to_string(),
        not_uploaded: files
            .iter()
            .map(|s| s.to_string())
            .chain([MANIFEST.to_string()])
            .collect(),
        ..Archived::default()
    };
    let header = match journal_header(journal) {
        Ok(h) => h,
        Err(e) => {
            out.failure = Some(e);
            return out;
        }
    };
    if let Err(e) = check_run_id(&header.run_id) {
        out.failure = Some(format!("the journal {}: {e}", journal.display()));
        return out;
    }
    let run_id = header.run_id.clone();
    out.url = request.target.run_url(&run_id);
    let client = s3(cloud);
    let bucket = &request.target.bucket;
    let retain_until = match request.retention {
        None => None,
        Some(r) => {
            if let Err(e) = check_object_lock(&client, bucket).await {
                out.failure = Some(e);
                return out;
            }
            // Whole seconds: S3 keeps the retain-until date to the second.
            let until = jiff::Timestamp::now()
                .checked_add(jiff::SignedDuration::from_hours(24 * i64::from(r.days)))
                .and_then(|t| jiff::Timestamp::from_second(t.as_second()))
                .unwrap_or(jiff::Timestamp::MAX);
            Some(ManifestRetention {
                mode: r.mode,
                retain_until: until,
            })
        }
    };
    let mut manifest = Manifest {
        manifest_format: MANIFEST_FORMAT,
        run_id: run_id.clone(),
        runbook_sha256: header.runbook_sha256.clone(),
        files: Vec::new(),
        dr_drill_version: env!("CARGO_PKG_VERSION").to_owned(),
        archived_at: jiff::Timestamp::now(),
        retention: retain_until.clone(),
    };
    for name in files {
        let path = dir.join(name);
        let key = request.target.key(&run_id, name);
        let (sha256, size) = match hash_file(&path) {
            Ok(h) => h,
            Err(e) => {
                out.failure = Some(format!("cannot read {}: {e}", path.display()));
                return out;
            }
        };
        let body = match ByteStream::read_from().path(&path).build().await {
            Ok(b) => b,
            Err(e) => {
                out.failure = Some(format!("cannot read {}: {e}", path.display()));
                return out;
            }
        };
        if let Err(e) = put(&client, bucket, &key, body, &sha256, retain_until.as_ref()).await {
            out.failure = Some(e);
            return out;
        }
        manifest.files.push(ManifestFile {
            name: name.to_owned(),
            size,
            sha256,
        });
        out.uploaded.push(key);
        out.not_uploaded.retain(|n| n != name);
    }
    let text = match serde_json::to_vec_pretty(&manifest) {
        Ok(t) => t,
        Err(e) => {
            out.failure = Some(format!("cannot write the manifest: {e}"));
            return out;
        }
    };
    let key = request.target.key(&run_id, MANIFEST);
    let sha256 = hex::encode(Sha256::digest(&text));
    match put(
        &client,
        bucket,
        &key,
        ByteStream::from(text),
        &sha256,
        retain_until.as_ref(),
    )
    .await
    {
        Ok(()) => {
            out.uploaded.push(key);
            out.not_uploaded.clear();
        }
        Err(e) => out.failure = Some(e),
    }
    out
}

/// Refuses a bucket without Object Lock enabled, before anything is
/// uploaded: a retention could not be set on its objects
/// (GetObjectLockConfiguration; `ObjectLockConfiguration.ObjectLockEnabled`
/// is `Enabled` on a bucket with Object Lock, botocore s3 2006-03-01).
async fn check_object_lock(client: &aws_sdk_s3::Client, bucket: &str) -> Result<(), String> {
    let refused = || {
        format!(
            "bucket {bucket} does not have Object Lock enabled, so --archive-retain cannot protect the evidence; nothing was uploaded. Archive to a bucket created with Object Lock (aws s3api create-bucket --object-lock-enabled-for-bucket), enable it on this one (aws s3api put-object-lock-configuration), or drop --archive-retain"
        )
    };
    match client
        .get_object_lock_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => {
            let enabled = out
                .object_lock_configuration()
                .and_then(|c| c.object_lock_enabled())
                == Some(&ObjectLockEnabled::Enabled);
            if enabled { Ok(()) } else { Err(refused()) }
        }
        Err(e) => {
            use aws_sdk_s3::error::ProvideErrorMetadata as _;
            // A bucket without Object Lock answers
            // ObjectLockConfigurationNotFoundError (404) (S3 API reference,
            // GetObjectLockConfiguration).
            if e.code() == Some("ObjectLockConfigurationNotFoundError") {
                Err(refused())
            } else {
                let e = classify("GetObjectLockConfiguration", bucket, e);
                Err(format!(
                    "{e}; nothing was uploaded (the bucket's Object Lock could not be checked)"
                ))
            }
        }
    }
}

/// One PutObject with a SHA-256 checksum S3 verifies against what it
/// received (botocore s3 `PutObjectRequest`: `ChecksumAlgorithm`, header
/// `x-amz-sdk-checksum-algorithm`, and `ChecksumSHA256`, header
/// `x-amz-checksum-sha256`, the base64 of the digest), and the retention
/// if any (`ObjectLockMode`, `x-amz-object-lock-mode`;
/// `ObjectLockRetainUntilDate`, `x-amz-object-lock-retain-until-date`).
/// S3 requires Content-MD5 or an `x-amz-checksum-*` header on a PutObject
/// with Object Lock parameters (S3 API reference, PutObject; S3 User
/// Guide, "Configuring S3 Object Lock"): the SHA-256 is that checksum.
async fn put(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: ByteStream,
    sha256_hex: &str,
    retention: Option<&ManifestRetention>,
) -> Result<(), String> {
    let digest = hex::decode(sha256_hex).unwrap_or_default();
    let mut request = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .checksum_sha256(base64::engine::general_purpose::STANDARD.encode(digest));
    if let Some(r) = retention {
        request = request
            .object_lock_mode(match r.mode {
                LockMode::Governance => ObjectLockMode::Governance,
                LockMode::Compliance => ObjectLockMode::Compliance,
            })
            .object_lock_retain_until_date(aws_smithy_types::DateTime::from_secs(
                r.retain_until.as_second(),
            ));
    }
    request
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("PutObject", &format!("s3://{bucket}/{key}"), e).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_a_valid_bucket_and_a_safe_prefix() {
        let t = ArchiveTarget::parse("s3://team-evidence/drills/q4/").unwrap();
        assert_eq!(t.bucket, "team-evidence");
        assert_eq!(t.prefix, "drills/q4");
        assert_eq!(t.key("r-1", "journal.jsonl"), "drills/q4/r-1/journal.jsonl");
        assert_eq!(
            ArchiveTarget::parse("s3://b12").unwrap().key("r", MANIFEST),
            "r/manifest.json"
        );
        for bad in [
            "team-evidence/x",
            "s3://Team",
            "s3://ab",
            "s3://-ab",
            "s3://a..b",
            "s3://192.168.5.4",
            "s3://xn--abc",
            "s3://abc-s3alias",
            "s3://bucket/a//b",
            "s3://bucket/../etc",
            "s3://bucket/a b",
            "s3://bucket/a\u{1b}[2J",
        ] {
            assert!(ArchiveTarget::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn a_run_url_ends_in_a_run_id() {
        let (t, run) =
            ArchiveTarget::parse_run("s3://evidence/p/q/cabal-20261203T101500Z").unwrap();
        assert_eq!(
            (t.prefix.as_str(), run.as_str()),
            ("p/q", "cabal-20261203T101500Z")
        );
        let (t, run) = ArchiveTarget::parse_run("s3://evidence/run-1/").unwrap();
        assert_eq!((t.prefix.as_str(), run.as_str()), ("", "run-1"));
        assert!(ArchiveTarget::parse_run("s3://evidence").is_err());
        assert!(ArchiveTarget::parse_run("s3://evidence/p/..").is_err());
        assert!(check_run_id("a/b").is_err());
        assert!(check_run_id("..").is_err());
    }

    fn manifest(files: &str) -> String {
        format!(
            r#"{{"manifest_format":1,"run_id":"r-1","runbook_sha256":"x","files":[{files}],"dr_drill_version":"0.1.0","archived_at":"2026-12-03T10:00:00Z","retention":null}}"#
        )
    }

    #[test]
    fn a_hostile_manifest_is_refused() {
        let sha = "a".repeat(64);
        let ok = manifest(&format!(
            r#"{{"name":"journal.jsonl","size":3,"sha256":"{sha}"}}"#
        ));
        assert!(Manifest::parse(ok.as_bytes(), "k", "r-1").is_ok());
        assert!(Manifest::parse(ok.as_bytes(), "k", "r-2").is_err());
        for files in [
            format!(r#"{{"name":"../../.bashrc","size":3,"sha256":"{sha}"}}"#),
            format!(r#"{{"name":"report.md","size":3,"sha256":"{sha}"}}"#),
            format!(
                r#"{{"name":"journal.jsonl","size":3,"sha256":"{sha}"}},{{"name":"journal.jsonl","size":3,"sha256":"{sha}"}}"#
            ),
            r#"{"name":"journal.jsonl","size":3,"sha256":"zz"}"#.to_owned(),
            format!(r#"{{"name":"journal.jsonl","size":99999999999999,"sha256":"{sha}"}}"#),
        ] {
            let m = manifest(&files);
            assert!(Manifest::parse(m.as_bytes(), "k", "r-1").is_err(), "{m}");
        }
    }
}
