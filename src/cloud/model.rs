//! What the engine and the console know of AWS resources, independent of
//! where they come from (the AWS SDK or the simulated world).

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::format::human_bytes;

use super::archive::is_archive_class;

/// Who and where dr-drill acts: shown on every screen, journaled with the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The account, when the credentials or an ARN tell it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The access key id, masked (`AKIA…WXYZ`), or the simulated operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Where the credentials came from (`Environment`, `Profile`, `Sso`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_source: Option<String>,
    /// The default region.
    pub region: String,
    /// The named profile, if one was selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The endpoint URL, when not AWS's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The simulated world, not AWS.
    #[serde(default)]
    pub simulated: bool,
}

impl Identity {
    /// One line for people: `SIMULATED us-east-1` or
    /// `account 1234… in us-east-1 (profile dr, endpoint http://…)`.
    pub fn describe(&self) -> String {
        let mut extra = Vec::new();
        if let Some(p) = &self.profile {
            extra.push(format!("profile {p}"));
        }
        if let Some(p) = &self.principal {
            extra.push(format!("key {p}"));
        }
        if let Some(e) = &self.endpoint {
            extra.push(format!("endpoint {e}"));
        }
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!(" ({})", extra.join(", "))
        };
        if self.simulated {
            return format!("SIMULATED world, region {}{extra}", self.region);
        }
        match &self.account {
            Some(a) => format!("AWS account {a}, region {}{extra}", self.region),
            None => format!("AWS (account not yet known), region {}{extra}", self.region),
        }
    }
}

/// Where recovery points are listed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum PointSource {
    /// An AWS Backup vault.
    Vault {
        /// Vault name.
        vault: String,
        /// Its region (default: the run's).
        region: Option<String>,
        /// Only this resource type (`DynamoDB`, `EFS`, ...).
        resource_type: Option<String>,
        /// Only this resource.
        resource_arn: Option<String>,
    },
    /// A DynamoDB table's on-demand backups and its PITR window.
    Table {
        /// Table name.
        table: String,
        /// Its region.
        region: Option<String>,
    },
    /// Backup objects in an S3 bucket.
    Bucket {
        /// Bucket name.
        bucket: String,
        /// Key prefix (`daily/`).
        prefix: String,
        /// Only keys ending with this.
        suffix: Option<String>,
        /// Every version, not only the current ones.
        versions: bool,
        /// Its region.
        region: Option<String>,
    },
}

impl PointSource {
    /// `cabal-backup@us-west-2`, `table cabal-counter`, `s3://b/daily/`.
    pub fn describe(&self) -> String {
        let at = |r: &Option<String>| r.as_ref().map(|r| format!("@{r}")).unwrap_or_default();
        match self {
            PointSource::Vault { vault, region, .. } => format!("vault {vault}{}", at(region)),
            PointSource::Table { table, region } => format!("table {table}{}", at(region)),
            PointSource::Bucket {
                bucket,
                prefix,
                region,
                ..
            } => format!("s3://{bucket}/{prefix}{}", at(region)),
        }
    }
}

/// What a recovery point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointKind {
    /// A recovery point in an AWS Backup vault.
    Backup,
    /// A DynamoDB on-demand backup (user or AWS Backup made).
    DynamodbBackup,
    /// The DynamoDB point-in-time window; the point is its latest restorable time.
    DynamodbPitr,
    /// An object (or object version) in an S3 backup bucket.
    S3Object,
}

/// Whether an archived S3 object can be read now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ArchiveState {
    /// In an archive class and not restored: a restore is needed first.
    Needed,
    /// A restore was requested and is in progress.
    Ongoing,
    /// A restored copy is readable until `until`.
    Ready {
        /// When the restored copy expires.
        until: Option<Timestamp>,
    },
}

/// One point a resource can be restored from, whatever the source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryPoint {
    /// Recovery point ARN, DynamoDB backup ARN, `pitr:<table ARN>`, or
    /// `s3://bucket/key` (with `?versionId=` for a version).
    pub id: String,
    /// What it is.
    pub kind: PointKind,
    /// When the data was captured (the point's time, for the RPO).
    pub created_at: Timestamp,
    /// When the backup finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    /// `COMPLETED`, `PARTIAL`, `CREATING`, `AVAILABLE`, `ENABLED`, ...
    pub status: String,
    /// Size in bytes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// `WARM`/`COLD` for AWS Backup, the S3 storage class for objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// ARN of the backed-up resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_arn: Option<String>,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Its type (`DynamoDB`, `EFS`, `S3`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The vault holding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// The region holding it.
    pub region: String,
    /// For a copy: the vault ARN it was copied from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copied_from: Option<String>,
    /// When its lifecycle moves it to cold storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_to_cold_at: Option<Timestamp>,
    /// When its lifecycle deletes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_at: Option<Timestamp>,
    /// The KMS key it is encrypted with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key_arn: Option<String>,
    /// Bucket of an S3 point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// Key of an S3 point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Version of an S3 point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Whether this is the current version of an S3 object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_latest: Option<bool>,
    /// The SHA-256 the backup recorded (object metadata, checksum, manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Whether an archived object must be restored before it can be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveState>,
    /// S3 Intelligent-Tiering's archive tier (`x-amz-archive-status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_status: Option<String>,
    /// An S3 point's Object Lock: locked, not locked, or unknown and why
    /// ([`crate::cloud::object_lock`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_lock: Option<crate::cloud::ObjectLock>,
    /// For a PITR window: the earliest restorable time (`created_at` is the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_restorable: Option<Timestamp>,
    /// Fields of a `manifest.json` found beside the object.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub manifest: BTreeMap<String, String>,
}

impl RecoveryPoint {
    /// A point with only the fields every source has.
    pub fn new(id: String, kind: PointKind, created_at: Timestamp, region: String) -> Self {
        Self {
            id,
            kind,
            created_at,
            completed_at: None,
            status: "COMPLETED".into(),
            size_bytes: None,
            storage_class: None,
            resource_arn: None,
            resource_name: None,
            resource_type: None,
            vault: None,
            region,
            copied_from: None,
            move_to_cold_at: None,
            delete_at: None,
            encryption_key_arn: None,
            bucket: None,
            key: None,
            version_id: None,
            is_latest: None,
            sha256: None,
            archive: None,
            archive_status: None,
            object_lock: None,
            earliest_restorable: None,
            manifest: BTreeMap::new(),
        }
    }

    /// Whether a restore can start from it now: complete, and readable
    /// without an archive restore.
    pub fn is_restorable(&self) -> bool {
        let done = matches!(
            self.status.as_str(),
            "COMPLETED" | "AVAILABLE" | "ENABLED" | "PARTIAL"
        );
        done && !matches!(
            self.archive,
            Some(ArchiveState::Needed | ArchiveState::Ongoing)
        )
    }

    /// Whether it is a composite point missing some of its nested points
    /// (status PARTIAL): restorable in part, never chosen by `latest`.
    pub fn is_partial(&self) -> bool {
        self.status == "PARTIAL"
    }

    /// Whether it is AWS Backup's continuous (point-in-time) recovery
    /// point of a resource: see [`is_continuous_arn`].
    pub fn is_continuous(&self) -> bool {
        is_continuous_arn(&self.id)
    }

    /// Whether it is a copy from another vault.
    pub fn is_copy(&self) -> bool {
        self.copied_from.is_some()
    }

    /// Its age at `now`.
    pub fn age(&self, now: Timestamp) -> Duration {
        Duration::try_from(now.duration_since(self.created_at)).unwrap_or(Duration::ZERO)
    }

    /// The RPO restoring it would give for a run whose T0 is `t0`.
    pub fn rpo(&self, t0: Timestamp) -> Duration {
        self.age(t0)
    }

    /// The outputs of a pick step that chose it.
    pub fn outputs(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut put = |k: &str, v: Option<String>| {
            out.insert(k.to_string(), v.unwrap_or_default());
        };
        put("arn", Some(self.id.clone()));
        put("created_at", Some(self.created_at.to_string()));
        put("completed_at", self.completed_at.map(|t| t.to_string()));
        put("size_bytes", self.size_bytes.map(|s| s.to_string()));
        put("vault", self.vault.clone());
        put("region", Some(self.region.clone()));
        put("resource_arn", self.resource_arn.clone());
        put("resource_name", self.resource_name.clone());
        put("resource_type", self.resource_type.clone());
        put("storage_class", self.storage_class.clone());
        put("bucket", self.bucket.clone());
        put("key", self.key.clone());
        put("version_id", self.version_id.clone());
        put("sha256", self.sha256.clone());
        let (mode, until) = self
            .object_lock
            .as_ref()
            .map(|l| l.outputs())
            .unwrap_or_default();
        put("object_lock_mode", Some(mode));
        put("retain_until", Some(until));
        out
    }
}

/// Where an AWS Backup or DynamoDB job stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatus {
    /// The job id.
    pub job_id: String,
    /// `CREATED`, `PENDING`, `RUNNING`, `COMPLETED`, `ABORTED`, `FAILED`, ...
    pub status: String,
    /// Percent done, when the service says: a number such as `42.5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_done: Option<String>,
    /// The service's message (why it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What the restore created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_resource_arn: Option<String>,
    /// What the copy created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_recovery_point_arn: Option<String>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
}

impl JobStatus {
    /// Whether the job will not change any more.
    pub fn is_finished(&self) -> bool {
        matches!(
            self.status.as_str(),
            "COMPLETED" | "ABORTED" | "FAILED" | "EXPIRED" | "PARTIAL"
        )
    }

    /// Whether it ended well.
    pub fn succeeded(&self) -> bool {
        self.status == "COMPLETED"
    }
}

/// A restore job's request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreRequest {
    /// The recovery point.
    pub recovery_point_arn: String,
    /// The role AWS Backup assumes.
    pub iam_role_arn: String,
    /// Restore metadata: the point's own, merged with the runbook's overrides.
    pub metadata: BTreeMap<String, String>,
    /// Resource type, when given.
    pub resource_type: Option<String>,
    /// The same token starts the job once: a request repeated with it (a
    /// step run again after a resume) answers the job it started. `None`:
    /// a fresh token per call.
    #[serde(default)]
    pub idempotency_token: Option<String>,
}

/// A copy job's request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyRequest {
    /// The vault holding the point.
    pub source_vault: String,
    /// The point.
    pub recovery_point_arn: String,
    /// The destination vault's ARN (its region is in it).
    pub destination_vault_arn: String,
    /// The role AWS Backup assumes.
    pub iam_role_arn: String,
    /// The copy's lifecycle (StartCopyJob `Lifecycle`); `None`: the copy
    /// keeps its source's retention.
    #[serde(default)]
    pub lifecycle: Option<Lifecycle>,
}

/// An AWS Backup lifecycle, in days after the point's creation (botocore
/// backup 2018-11-15, shape `Lifecycle`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// `DeleteAfterDays`; `None`: kept until deleted.
    pub delete_after_days: Option<i64>,
    /// `MoveToColdStorageAfterDays`.
    pub move_to_cold_storage_after_days: Option<i64>,
}

/// An AWS Backup vault, as a posture check sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultPosture {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Whether a vault lock is configured.
    pub locked: bool,
    /// The lock's minimum retention.
    pub min_retention_days: Option<i64>,
    /// The lock's maximum retention.
    pub max_retention_days: Option<i64>,
    /// When the lock becomes immutable (compliance mode).
    pub lock_date: Option<Timestamp>,
    /// Recovery points in the vault.
    pub recovery_points: i64,
    /// Its KMS key.
    pub encryption_key_arn: Option<String>,
}

/// A region's AWS Backup settings (DescribeRegionSettings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionSettings {
    /// ResourceTypeOptInPreference: whether AWS Backup protects each
    /// resource type in the region.
    pub opt_in: BTreeMap<String, bool>,
    /// ResourceTypeManagementPreference: whether AWS Backup fully manages
    /// each resource type's backups (`DynamoDB = true` is the advanced
    /// DynamoDB backup features, needed for cross-region copies).
    pub full_management: BTreeMap<String, bool>,
}

/// Which copy jobs to list (ListCopyJobs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyJobFilter {
    /// Jobs created within this long before now (the service's now).
    pub within: Duration,
    /// Only jobs of this resource type.
    pub resource_type: Option<String>,
    /// Only jobs into this vault.
    pub destination_vault_arn: Option<String>,
}

/// One copy job, as ListCopyJobs shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyJobSummary {
    /// Job id.
    pub job_id: String,
    /// `CREATED`, `RUNNING`, `COMPLETED`, `FAILED`, `PARTIAL`.
    pub state: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it ended.
    pub completed_at: Option<Timestamp>,
    /// Resource type of the copied point.
    pub resource_type: Option<String>,
    /// The point copied.
    pub source_recovery_point_arn: Option<String>,
    /// The vault copied into.
    pub destination_vault_arn: Option<String>,
    /// Why it failed.
    pub message: Option<String>,
}

/// A DynamoDB table's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableState {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// `CREATING`, `ACTIVE`, `UPDATING`, ...
    pub status: String,
    /// DynamoDB's item count (updated about every six hours).
    pub item_count: Option<i64>,
    /// For a restored table, the time its data is as of: the answer's
    /// `RestoreSummary.RestoreDateTime` ("point in time or source backup
    /// time", botocore `dynamodb` 2012-08-10).
    #[serde(default)]
    pub restored_as_of: Option<Timestamp>,
    /// DynamoDB's table size in bytes (`TableSizeBytes`, updated about
    /// every six hours; botocore `dynamodb` 2012-08-10 TableDescription).
    #[serde(default)]
    pub size_bytes: Option<u64>,
}

/// A table's point-in-time recovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PitrStatus {
    /// `ENABLED` or `DISABLED`.
    pub status: String,
    /// Earliest restorable time.
    pub earliest: Option<Timestamp>,
    /// Latest restorable time.
    pub latest: Option<Timestamp>,
}

/// Counts of a table copy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyCounts {
    /// Items read from the source.
    pub read: u64,
    /// Items written to the target.
    pub written: u64,
}

/// An S3 object's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectHead {
    /// Size.
    pub size_bytes: u64,
    /// ETag.
    pub etag: Option<String>,
    /// Last modified.
    pub last_modified: Option<Timestamp>,
    /// Storage class (`STANDARD` when S3 gives none).
    pub storage_class: String,
    /// Archive state, for archived classes.
    pub archive: Option<ArchiveState>,
    /// S3 Intelligent-Tiering's archive tier (`x-amz-archive-status`:
    /// `ARCHIVE_ACCESS`, `DEEP_ARCHIVE_ACCESS`) while the object is there.
    pub archive_status: Option<String>,
    /// User metadata (`x-amz-meta-*`, names lower-cased).
    pub metadata: BTreeMap<String, String>,
    /// S3's own SHA-256 checksum, decoded to hex (full-object checksums only).
    pub checksum_sha256: Option<String>,
    /// Version.
    pub version_id: Option<String>,
    /// Object Lock mode.
    pub object_lock_mode: Option<String>,
    /// Object Lock retain-until.
    pub retain_until: Option<Timestamp>,
}

impl ObjectHead {
    /// The SHA-256 the backup recorded, and where it was found: S3's
    /// checksum, or user metadata named `sha256` or `checksum`.
    pub fn recorded_sha256(&self) -> Option<(String, &'static str)> {
        if let Some(c) = &self.checksum_sha256 {
            return Some((c.clone(), "ChecksumSHA256"));
        }
        for name in ["sha256", "checksum-sha256", "checksum"] {
            if let Some(v) = self.metadata.get(name)
                && is_sha256_hex(v)
            {
                return Some((v.to_ascii_lowercase(), "object metadata"));
            }
        }
        None
    }
}

/// Whether `s` is 64 hex digits.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A downloaded or hashed object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetched {
    /// Bytes read.
    pub size_bytes: u64,
    /// Their SHA-256, hex.
    pub sha256: String,
}

/// The SHA-256 a `manifest.json` records for `file`: a top-level
/// `sha256`/`checksum`, or an entry of a `files` map or list.
pub fn manifest_sha256(manifest: &serde_json::Value, file: &str) -> Option<String> {
    let pick = |v: &serde_json::Value| {
        ["sha256", "checksum", "sha256sum"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|s| s.as_str()))
            .filter(|s| is_sha256_hex(s))
            .map(str::to_ascii_lowercase)
    };
    match manifest.get("files") {
        Some(serde_json::Value::Object(files)) => {
            if let Some(entry) = files.get(file) {
                return pick(entry).or_else(|| {
                    entry
                        .as_str()
                        .filter(|s| is_sha256_hex(s))
                        .map(str::to_ascii_lowercase)
                });
            }
        }
        Some(serde_json::Value::Array(files)) => {
            if let Some(entry) = files.iter().find(|e| {
                ["name", "file", "key", "path"].iter().any(|k| {
                    e.get(*k)
                        .and_then(|n| n.as_str())
                        .is_some_and(|n| n == file || n.ends_with(&format!("/{file}")))
                })
            }) {
                return pick(entry);
            }
        }
        _ => {}
    }
    pick(manifest)
}

/// The flat `key = value` view of a manifest's top-level scalars, for display.
pub fn manifest_fields(manifest: &serde_json::Value) -> BTreeMap<String, String> {
    manifest
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(s) => Some((k.clone(), s.clone())),
                    serde_json::Value::Number(n) => Some((k.clone(), n.to_string())),
                    serde_json::Value::Bool(b) => Some((k.clone(), b.to_string())),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a recovery point ARN names a continuous backup:
/// `arn:PARTITION:backup:REGION:ACCOUNT:recovery-point:continuous:ID`.
/// botocore (backup 2018-11-15) gives no listing field for it; the AWS
/// Backup developer guide's point-in-time restore examples and RDS's
/// `AwsBackupRecoveryPointArn` write continuous points this way, and a
/// continuous plan keeps one such point per resource ("Continuous backups
/// and point-in-time restore (PITR)"). Deleting it stops future continuous
/// backups (botocore, DeleteRecoveryPoint), so `backup.delete-recovery-point`
/// leaves it alone unless the step says `include_continuous = true`.
pub fn is_continuous_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    matches!(
        parts.as_slice(),
        ["arn", partition, "backup", _region, _account, "recovery-point", "continuous", id]
            if !partition.is_empty() && !id.is_empty()
    )
}

#[cfg(test)]
mod continuous_tests {
    use super::is_continuous_arn;

    #[test]
    fn only_a_backup_arn_with_a_continuous_segment_is_continuous() {
        assert!(is_continuous_arn(
            "arn:aws:backup:us-east-1:123456789012:recovery-point:continuous:db-abc"
        ));
        assert!(is_continuous_arn(
            "arn:aws-cn:backup:cn-north-1:1:recovery-point:continuous:x"
        ));
        for not in [
            "arn:aws:backup:us-east-1:123456789012:recovery-point:1EB3B5E7-9EB0",
            "arn:aws:backup:us-east-1:1:recovery-point:continuous:",
            "arn:aws:backup:us-east-1:1:recovery-point:continuous:a:b",
            "arn:aws:dynamodb:us-east-1:1:recovery-point:continuous:x",
            "arn:aws:backup:us-east-1:1:backup-vault:continuous:x",
            "continuous",
            "",
        ] {
            assert!(!is_continuous_arn(not), "{not}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_name_checksums_in_several_shapes() {
        let sum = "a".repeat(64);
        let flat = serde_json::json!({ "sha256": sum, "database": "gtin1" });
        assert_eq!(manifest_sha256(&flat, "backup.dump"), Some(sum.clone()));
        let map = serde_json::json!({ "files": { "backup.dump": { "sha256": sum } } });
        assert_eq!(manifest_sha256(&map, "backup.dump"), Some(sum.clone()));
        let list = serde_json::json!({ "files": [ { "name": "x/backup.dump", "checksum": sum.to_uppercase() } ] });
        assert_eq!(manifest_sha256(&list, "backup.dump"), Some(sum.clone()));
        assert_eq!(
            manifest_sha256(&serde_json::json!({ "sha256": "nope" }), "f"),
            None
        );
    }

    #[test]
    fn a_point_needing_an_archive_restore_is_not_restorable() {
        let mut p = RecoveryPoint::new(
            "s3://b/k".into(),
            PointKind::S3Object,
            Timestamp::UNIX_EPOCH,
            "us-east-1".into(),
        );
        assert!(p.is_restorable());
        p.archive = Some(ArchiveState::Needed);
        assert!(!p.is_restorable());
        p.archive = Some(ArchiveState::Ready { until: None });
        assert!(p.is_restorable());
    }
}

/// What one storage class holds under a prefix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCount {
    /// Objects.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// What a bucket prefix holds, from its listing alone (ListObjectsV2: keys,
/// sizes and storage classes; no HEAD, no body), counted up to a cap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixSummary {
    /// Per storage class as the listing names it (`STANDARD` when S3
    /// gives none): `GLACIER`, `DEEP_ARCHIVE`, `INTELLIGENT_TIERING`, ...
    pub by_class: BTreeMap<String, ClassCount>,
    /// The newest object's LastModified.
    pub newest: Option<Timestamp>,
    /// The listing stopped at the cap: there are more objects than counted.
    pub truncated: bool,
}

impl PrefixSummary {
    /// Adds one listed object.
    pub fn add(&mut self, class: Option<&str>, bytes: u64, modified: Option<Timestamp>) {
        let class = class.filter(|c| !c.is_empty()).unwrap_or("STANDARD");
        let c = self.by_class.entry(class.to_owned()).or_default();
        c.objects += 1;
        c.bytes = c.bytes.saturating_add(bytes);
        if modified > self.newest {
            self.newest = modified;
        }
    }

    /// Objects counted.
    pub fn objects(&self) -> u64 {
        self.by_class.values().map(|c| c.objects).sum()
    }

    /// Their bytes.
    pub fn bytes(&self) -> u64 {
        self.by_class
            .values()
            .fold(0u64, |a, c| a.saturating_add(c.bytes))
    }

    /// Objects and bytes in an archive class that needs a restore before a
    /// read (GLACIER, DEEP_ARCHIVE; [`is_archive_class`]).
    pub fn archived(&self) -> ClassCount {
        self.by_class
            .iter()
            .filter(|(k, _)| is_archive_class(k))
            .fold(ClassCount::default(), |a, (_, c)| ClassCount {
                objects: a.objects + c.objects,
                bytes: a.bytes.saturating_add(c.bytes),
            })
    }
}
