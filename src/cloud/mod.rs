//! What the engine asks of AWS, as one trait with two implementations:
//! [`aws`] (the AWS SDK) and [`sim`] (an in-process simulated world for the
//! demo, training and tests).
//!
//! This module owns the resource model, the errors and their retries. It
//! must not touch the terminal, the journal or the engine's events: it
//! reports progress through the plain callbacks callers hand it.

pub mod archive;
mod arn;
pub mod aws;
mod caller;
pub(crate) mod download;
pub mod error;
pub mod model;
pub mod object_lock;
pub mod points;
pub mod policy;
pub mod sim;

use std::collections::BTreeMap;
use std::path::Path;

use async_trait::async_trait;
use jiff::Timestamp;
use tokio::sync::mpsc;

pub use archive::*;
pub use arn::{arn_region, point_region};
pub use caller::{AssumedRole, CallerIdentity};
pub use error::{CloudError, ErrorKind, RetryPolicy, Tried, with_retry};
pub use model::*;
pub use object_lock::{BucketLock, LOCK_HIDDEN, ObjectLock};

/// Hears progress and retry notices, in words, while a call runs.
pub type Notify<'a> = &'a (dyn Fn(String) + Send + Sync);

/// A notifier that drops everything.
pub fn quiet() -> impl Fn(String) + Send + Sync {
    |_| {}
}

/// An S3 object (or one version of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// A specific version.
    pub version_id: Option<String>,
    /// Region of the bucket.
    pub region: Option<String>,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)?;
        if let Some(v) = &self.version_id {
            write!(f, "?versionId={v}")?;
        }
        Ok(())
    }
}

/// Everything dr-drill does to AWS. Each call names its region (`None`
/// for the default one); each error names the action and the resource.
/// Implementations retry throttling and unavailability themselves and say
/// so through `notify`.
#[async_trait]
pub trait Cloud: Send + Sync {
    /// Who and where, as known now.
    fn identity(&self) -> Identity;

    /// How long to wait between polls of a job or a table.
    fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(10)
    }

    /// Where the run that uses this cloud keeps its files, told when the
    /// run starts. AWS needs nothing; the simulated world lays out its EFS
    /// mailstores there, and writes nowhere else.
    fn attach_run_dir(&self, _run_dir: &Path) {}

    /// The simulated world's options (its epoch as `now`), so a run's
    /// journal can record them; `None` for AWS.
    fn simulation(&self) -> Option<sim::SimOptions> {
        None
    }

    /// The run attached with [`Cloud::attach_run_dir`] is stopping: keep
    /// what a resume needs (the simulated world, its state and clock).
    fn close_run(&self) {}

    /// The secret parts (secret key, session token) of the credentials
    /// this cloud resolved, wherever they came from (environment, profile,
    /// SSO, a role): the run's recorder keeps them out of every event.
    fn credential_secrets(&self) -> Vec<String> {
        Vec::new()
    }

    /// IAM's policy simulator (`SimulatePrincipalPolicy`) on the policies
    /// of `principal_arn` (a user, group or role, see
    /// [`policy::policy_source_arn`]): one answer per [`policy::Ask`]
    /// (action, resource, request context), in any order.
    async fn simulate_principal_policy(
        &self,
        principal_arn: &str,
        checks: &[policy::Ask],
        notify: Notify<'_>,
    ) -> Result<Vec<policy::Simulated>, CloudError>;

    /// The ARN of the role named `name`, with its path
    /// (`arn:aws:iam::ACCOUNT:role/service-role/NAME`), from IAM
    /// `GetRole`: an assumed-role session's ARN drops the path, and the
    /// policy simulator wants the role's own ARN.
    async fn role_arn(&self, name: &str, notify: Notify<'_>) -> Result<String, CloudError>;

    /// Checks that credentials can be had (before a run starts), and
    /// returns the identity they give.
    async fn verify_credentials(&self) -> Result<Identity, CloudError>;

    /// Who the credentials are: STS `GetCallerIdentity` (needs no IAM
    /// permission), or the simulated operator.
    async fn caller_identity(&self, notify: Notify<'_>) -> Result<CallerIdentity, CloudError>;

    /// Lists `source`'s recovery points page by page into `pages`, as the
    /// service answers; returns when the last page is sent (or the
    /// receiver is gone).
    async fn list_points(
        &self,
        source: &PointSource,
        pages: &mpsc::Sender<Vec<RecoveryPoint>>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError>;

    // AWS Backup.

    /// The restore metadata AWS Backup recorded for a recovery point.
    async fn restore_metadata(
        &self,
        vault: &str,
        point_arn: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<BTreeMap<String, String>, CloudError>;
    /// Starts a restore job; returns its id.
    async fn start_restore(
        &self,
        request: &RestoreRequest,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<String, CloudError>;
    /// A restore job's state.
    async fn restore_job(
        &self,
        job_id: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<JobStatus, CloudError>;
    /// Starts a copy job; returns its id.
    async fn start_copy(
        &self,
        request: &CopyRequest,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<String, CloudError>;
    /// A copy job's state.
    async fn copy_job(
        &self,
        job_id: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<JobStatus, CloudError>;
    /// A vault's lock and contents.
    async fn vault_posture(
        &self,
        vault: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<VaultPosture, CloudError>;
    /// Removes a vault's lock configuration.
    async fn delete_vault_lock(
        &self,
        vault: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError>;
    /// Deletes one recovery point.
    async fn delete_recovery_point(
        &self,
        vault: &str,
        point_arn: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError>;
    /// One recovery point as AWS Backup describes it now
    /// (DescribeRecoveryPoint): its status and storage class.
    async fn describe_recovery_point(
        &self,
        vault: &str,
        point_arn: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<RecoveryPoint, CloudError>;
    /// The region's AWS Backup settings (DescribeRegionSettings).
    async fn region_settings(
        &self,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<RegionSettings, CloudError>;
    /// Copy jobs started in the region within `filter.within` of now
    /// (ListCopyJobs, every page), newest first.
    async fn list_copy_jobs(
        &self,
        filter: &CopyJobFilter,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<Vec<CopyJobSummary>, CloudError>;

    // DynamoDB.

    /// Restores an on-demand backup into a new table.
    async fn restore_table_from_backup(
        &self,
        backup_arn: &str,
        target: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError>;
    /// Point-in-time restore into a new table (`None`: the latest restorable time).
    async fn restore_table_to_point_in_time(
        &self,
        source: &str,
        target: &str,
        time: Option<Timestamp>,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError>;
    /// A table's state; a missing table is an error of kind `NotFound`.
    async fn describe_table(
        &self,
        table: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError>;
    /// Deletes a table; returns its state as DynamoDB answers (`DELETING`).
    async fn delete_table(
        &self,
        table: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError>;
    /// Counts items with a parallel scan of `segments` segments.
    async fn count_items(
        &self,
        table: &str,
        segments: u32,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<u64, CloudError>;
    /// A table's point-in-time recovery window.
    async fn pitr_status(
        &self,
        table: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<PitrStatus, CloudError>;
    /// Copies every item of `from` into `to` (parallel segmented scan
    /// feeding batch writes, unprocessed items retried).
    async fn copy_table(
        &self,
        from: &str,
        to: &str,
        segments: u32,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<CopyCounts, CloudError>;

    // S3.

    /// An object's metadata.
    async fn head_object(
        &self,
        object: &ObjectRef,
        notify: Notify<'_>,
    ) -> Result<ObjectHead, CloudError>;
    /// An object's Object Lock retention, mode and retain-until
    /// (GetObjectRetention); `None` when it has none or the bucket has no
    /// Object Lock.
    async fn object_retention(
        &self,
        object: &ObjectRef,
        notify: Notify<'_>,
    ) -> Result<Option<(String, Timestamp)>, CloudError>;
    /// What `prefix` of `bucket` holds, by storage class, from the listing
    /// alone (ListObjectsV2, every page; no HEAD, no body), stopping after
    /// `cap` objects ([`PrefixSummary::truncated`]). A missing bucket is an
    /// error of kind `NotFound`.
    async fn summarize_prefix(
        &self,
        bucket: &str,
        prefix: &str,
        region: Option<&str>,
        cap: usize,
        notify: Notify<'_>,
    ) -> Result<PrefixSummary, CloudError>;
    /// Requests a restore of an archived object; `days` for the Glacier
    /// classes, none for Intelligent-Tiering ([`ArchiveTier::takes_days`]).
    async fn restore_object(
        &self,
        object: &ObjectRef,
        tier: &str,
        days: Option<u32>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError>;
    /// Streams an object, hashing it with SHA-256, and writes it to `to`
    /// when given (through a temporary file renamed at the end).
    async fn fetch_object(
        &self,
        object: &ObjectRef,
        to: Option<&Path>,
        notify: Notify<'_>,
    ) -> Result<Fetched, CloudError>;
    /// A small object's bytes (a manifest), at most [`MAX_READ_OBJECT`]:
    /// a larger object fails with [`object_too_large`] before its body is
    /// held in memory.
    async fn read_object(
        &self,
        object: &ObjectRef,
        notify: Notify<'_>,
    ) -> Result<Vec<u8>, CloudError>;
}

/// The most bytes [`Cloud::read_object`] holds in memory: 64 MiB, far above
/// any manifest dr-drill reads. The object is hostile input; a larger one
/// is refused rather than read whole.
pub const MAX_READ_OBJECT: u64 = 64 * 1024 * 1024;

/// The error for an object read into memory that is over
/// [`MAX_READ_OBJECT`]: names the object, its size (or how far the read
/// got), the cap and what to do.
pub fn object_too_large(resource: &str, size: u64, known: bool) -> CloudError {
    let size = if known {
        format!("is {size} bytes")
    } else {
        format!("ran past {size} bytes")
    };
    CloudError::new(
        "GetObject",
        resource,
        ErrorKind::Invalid,
        format!(
            "the object {size}, over the {} MiB dr-drill reads into memory (a manifest is far smaller): check that the step's `manifest` (or the manifest.json beside the object) names the manifest and not a backup file, or give the SHA-256 in `expected`",
            MAX_READ_OBJECT / (1024 * 1024)
        ),
    )
}
