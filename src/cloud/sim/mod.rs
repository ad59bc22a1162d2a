//! The simulated AWS world: a [`Cloud`] entirely in process, for `dr-drill
//! demo`, `--sandbox`, training and tests.
//!
//! It owns the world files (`assets/sandbox/*.toml`, built in), the state
//! generated from them (AWS Backup vaults with a year of recovery points,
//! DynamoDB tables, S3 buckets), jobs that progress with (scaled) time, and
//! injected [`Fault`]s. It answers like AWS as the real implementation sees
//! it, so a runbook runs the same in both; every error and the identity say
//! SIMULATED. Time comes from `tokio::time`, so tests with a paused clock
//! are deterministic. It never touches the terminal.

mod fault;
mod generate;
mod mailstore;
mod spec;
mod world;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use fault::{ACTIONS, FAULT_SYNTAX, Fault};

use self::fault::Faults;
use self::spec::Source;
use self::world::{ACCOUNT, JobKind, Refusal, World};
use super::download::PartFile;
use super::error::{iam_permission, retry_message};
use super::{
    Cloud, CloudError, CopyCounts, CopyJobFilter, CopyJobSummary, CopyRequest, ErrorKind, Fetched,
    Identity, JobStatus, Notify, ObjectHead, ObjectRef, PitrStatus, PointSource, RecoveryPoint,
    RegionSettings, RestoreRequest, RetryPolicy, TableState, VaultPosture, human_bytes, with_retry,
};

/// The built-in world files.
const BUILTIN: &[(&str, &str)] = &[
    (
        "assets/sandbox/cabalmail.toml",
        include_str!("../../../assets/sandbox/cabalmail.toml"),
    ),
    (
        "assets/sandbox/penguinmails.toml",
        include_str!("../../../assets/sandbox/penguinmails.toml"),
    ),
    (
        "assets/sandbox/gtin1.toml",
        include_str!("../../../assets/sandbox/gtin1.toml"),
    ),
    (
        "assets/sandbox/leapmailr.toml",
        include_str!("../../../assets/sandbox/leapmailr.toml"),
    ),
    (
        "assets/sandbox/cpam.toml",
        include_str!("../../../assets/sandbox/cpam.toml"),
    ),
];

/// Content files the built-in world files name (`content_file`).
const BUILTIN_CONTENT: &[(&str, &[u8])] = &[
    (
        "gtin1-readme.txt",
        include_bytes!("../../../assets/sandbox/gtin1-readme.txt"),
    ),
    (
        "gtin1-backup.dump",
        include_bytes!("../../../assets/sandbox/gtin1-backup.dump"),
    ),
    (
        "leapmailr-backup.sql.gz",
        include_bytes!("../../../assets/sandbox/leapmailr-backup.sql.gz"),
    ),
    (
        "cpam/base/base.tar.gz",
        include_bytes!("../../../assets/sandbox/cpam/base/base.tar.gz"),
    ),
    (
        "cpam/base/pg_wal.tar.gz",
        include_bytes!("../../../assets/sandbox/cpam/base/pg_wal.tar.gz"),
    ),
    (
        "cpam/base/backup_manifest",
        include_bytes!("../../../assets/sandbox/cpam/base/backup_manifest"),
    ),
    (
        "cpam/wal/000000010000000000000007.gz",
        include_bytes!("../../../assets/sandbox/cpam/wal/000000010000000000000007.gz"),
    ),
    (
        "cpam/wal/000000010000000000000008.gz",
        include_bytes!("../../../assets/sandbox/cpam/wal/000000010000000000000008.gz"),
    ),
    (
        "penguinmails-vault-snapshot.tar.gz",
        include_bytes!("../../../assets/sandbox/penguinmails-vault-snapshot.tar.gz"),
    ),
];

/// Finds the bytes of a content file: (world file, name) to bytes.
type ContentOf<'a> = dyn Fn(&str, &str) -> Option<Arc<[u8]>> + 'a;

/// The region calls go to when they name none.
pub const REGION: &str = spec::DEFAULT_REGION;
/// The simulated operator.
pub const PRINCIPAL: &str = "sim-operator";

/// A pause between listing pages, so a UI visibly fills.
const PAGE_PAUSE: Duration = Duration::from_millis(60);
/// Items a scan segment reads (or writes) per second, before `speed`.
const ITEMS_PER_SECOND: f64 = 5_000.0;
/// S3 download throughput, before `speed`.
const BYTES_PER_SECOND: f64 = 80.0 * 1024.0 * 1024.0;
/// Bytes per streamed chunk.
const CHUNK: usize = 64 * 1024;

/// How the world runs.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Time scale: 60.0 makes a 20-minute restore take 20 s.
    pub speed: f64,
    /// Faults to inject.
    pub faults: Vec<Fault>,
    /// The world's "now" when it starts (default: the real now).
    pub now: Option<Timestamp>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            speed: 60.0,
            faults: Vec::new(),
            now: None,
        }
    }
}

/// Why the simulated world could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A world file says something wrong.
    #[error("{file}:{line}:{column}: {}{message}", field_label(.field))]
    World {
        /// The file.
        file: String,
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// The field (`plan[0].vault`), when known.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A world or content file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A `--fault` is not valid.
    #[error("invalid fault `{given}`: {reason}. Valid faults: {}", FAULT_SYNTAX.join(", "))]
    Fault {
        /// As given.
        given: String,
        /// What is wrong.
        reason: String,
    },
    /// An option is out of range.
    #[error("invalid simulation option: {0}")]
    Options(String),
    /// A date could not be computed.
    #[error("simulated world time out of range: {0}")]
    Time(#[from] jiff::Error),
}

fn field_label(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("`{field}`: ")
    }
}

/// The simulated AWS world.
pub struct SimCloud {
    world: Mutex<World>,
    faults: Faults,
    /// Calls throttled so far, by action.
    throttled: Mutex<HashMap<&'static str, u32>>,
    speed: f64,
    /// The world's time when `started`.
    epoch: Timestamp,
    started: Instant,
    retry: RetryPolicy,
    /// Where the run keeps the world's mailstores (`<run dir>/sandbox-efs`).
    mailstores: Mutex<Option<PathBuf>>,
    /// Restore jobs whose recovery directory is written.
    written: Mutex<std::collections::BTreeSet<String>>,
}

impl std::fmt::Debug for SimCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimCloud")
            .field("speed", &self.speed)
            .field("epoch", &self.epoch)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl SimCloud {
    /// The built-in world (Cabalmail, PenguinMails, GTIN1, CPAM).
    pub fn builtin(options: SimOptions) -> Result<SimCloud, SimError> {
        let content = |name: &str| {
            BUILTIN_CONTENT
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| Arc::<[u8]>::from(*b))
        };
        let files = BUILTIN
            .iter()
            .map(|(file, text)| (file.to_string(), text.to_string()));
        Self::build(files, &|_: &str, name: &str| content(name), options)
    }

    /// A world from world files; a `content_file` is read beside its world file.
    pub async fn from_files(paths: &[PathBuf], options: SimOptions) -> Result<SimCloud, SimError> {
        let mut files = Vec::new();
        let mut contents: HashMap<(String, String), Arc<[u8]>> = HashMap::new();
        for path in paths {
            let text = tokio::fs::read_to_string(path)
                .await
                .map_err(|source| SimError::Io {
                    path: path.clone(),
                    source,
                })?;
            let name = path.display().to_string();
            let src = Source {
                file: &name,
                text: &text,
            };
            let spec = src.parse()?;
            let dir = path.parent().unwrap_or(Path::new("."));
            for (field, wanted) in spec.content_files() {
                let file = dir.join(&wanted.value);
                let bytes = tokio::fs::read(&file).await.map_err(|e| {
                    src.error(
                        wanted.span,
                        &field,
                        format!("cannot read {}: {e}", file.display()),
                    )
                })?;
                contents.insert((name.clone(), wanted.value.clone()), bytes.into());
            }
            files.push((name, text));
        }
        Self::build(
            files.into_iter(),
            &|file: &str, name: &str| contents.get(&(file.to_owned(), name.to_owned())).cloned(),
            options,
        )
    }

    fn build(
        files: impl Iterator<Item = (String, String)>,
        content: &ContentOf<'_>,
        options: SimOptions,
    ) -> Result<SimCloud, SimError> {
        if !(options.speed.is_finite() && options.speed > 0.0) {
            return Err(SimError::Options(format!(
                "speed must be a positive number, not {}",
                options.speed
            )));
        }
        let now = options.now.unwrap_or_else(Timestamp::now);
        let faults = Faults::new(&options.faults);
        let mut world = World::default();
        for (file, text) in files {
            let src = Source {
                file: &file,
                text: &text,
            };
            let spec = src.parse()?;
            world.add(&src, spec, &|name: &str| content(&file, name), now)?;
        }
        for table in &faults.missing_tables {
            if !world.drop_table(table) {
                return Err(SimError::Fault {
                    given: format!("missing-table={table}"),
                    reason: format!(
                        "the world has no table `{table}`; its tables: {}",
                        world
                            .table_names()
                            .into_iter()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
        for (bucket, pattern) in &faults.corrupt {
            if !world.buckets.contains_key(bucket) {
                return Err(SimError::Fault {
                    given: format!("corrupt-checksum={bucket}/{pattern}"),
                    reason: format!(
                        "the world has no bucket `{bucket}`; its buckets: {}",
                        world.buckets.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        Ok(SimCloud {
            world: Mutex::new(world),
            faults,
            throttled: Mutex::new(HashMap::new()),
            speed: options.speed,
            epoch: now,
            started: Instant::now(),
            retry: RetryPolicy::default(),
            mailstores: Mutex::new(None),
            written: Mutex::new(Default::default()),
        })
    }

    /// The world's time now: its start plus the time since, scaled by speed.
    pub fn now(&self) -> Timestamp {
        let real = Instant::now().duration_since(self.started).as_secs_f64();
        let scaled = Duration::try_from_secs_f64(real * self.speed).unwrap_or(Duration::MAX);
        world::after(self.epoch, scaled)
    }

    /// How long `nominal` world time takes in real time.
    fn real(&self, nominal: Duration) -> Duration {
        Duration::try_from_secs_f64(nominal.as_secs_f64() / self.speed).unwrap_or(Duration::MAX)
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn region(region: Option<&str>) -> &str {
        region.unwrap_or(REGION)
    }

    /// Faults that answer before the service looks at the request.
    fn gate(&self, action: &'static str, resource: &str) -> Result<(), CloudError> {
        if self.faults.access_denied.contains(action) {
            return Err(CloudError::new(
                action,
                resource,
                ErrorKind::AccessDenied,
                format!(
                    "SIMULATED AccessDeniedException: User: arn:aws:sts::{ACCOUNT}:assumed-role/{PRINCIPAL}/drill is not authorized to perform: {} on resource: {resource} (fault access-denied={action})",
                    iam_permission(action)
                ),
            ));
        }
        if let Some(limit) = self.faults.throttle {
            let mut counts = self.throttled.lock().unwrap_or_else(|p| p.into_inner());
            let done = counts.entry(action).or_insert(0);
            if *done < limit {
                *done += 1;
                return Err(CloudError::new(
                    action,
                    resource,
                    ErrorKind::Throttled,
                    format!(
                        "SIMULATED ThrottlingException: Rate exceeded (fault throttle={limit})"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// One API call: faults first, then `op` on the world at its `now`;
    /// throttling is retried with backoff, each retry told to `notify`.
    async fn call<T>(
        &self,
        action: &'static str,
        resource: &str,
        notify: Notify<'_>,
        mut op: impl FnMut(&mut World, Timestamp) -> Result<T, Refusal>,
    ) -> Result<T, CloudError> {
        with_retry(
            self.retry,
            |e, attempt, backoff| notify(retry_message(e, attempt, backoff)),
            || {
                let result = self.gate(action, resource).and_then(|()| {
                    let now = self.now();
                    op(&mut self.world(), now).map_err(|r| refused(action, resource, r))
                });
                std::future::ready(result)
            },
        )
        .await
    }

    /// Sleeps through `nominal` world time in steps, telling `notify` how
    /// far along `total` units of work are (`say(done, total)`).
    async fn progress(
        &self,
        nominal: Duration,
        total: u64,
        notify: Notify<'_>,
        say: impl Fn(u64, u64) -> String,
    ) {
        const STEPS: u64 = 10;
        let steps = total.clamp(1, STEPS);
        for step in 1..=steps {
            tokio::time::sleep(self.real(nominal.div_f64(steps as f64))).await;
            if steps > 1 {
                notify(say(total * step / steps, total));
            }
        }
    }

    /// Sends `points` in pages of `size`, each page one (gated) call;
    /// S3 pages first get the manifests beside their objects.
    #[allow(clippy::too_many_arguments)]
    async fn send_pages(
        &self,
        action: &'static str,
        resource: &str,
        points: Vec<RecoveryPoint>,
        size: usize,
        pages: &mpsc::Sender<Vec<RecoveryPoint>>,
        notify: Notify<'_>,
        mut manifests: Option<HashMap<String, Option<serde_json::Value>>>,
    ) -> Result<(), CloudError> {
        for (i, chunk) in points.chunks(size).enumerate() {
            if i > 0 {
                tokio::time::sleep(PAGE_PAUSE).await;
                self.call(action, resource, notify, |_, _| Ok(())).await?;
            }
            let mut page = chunk.to_vec();
            if let Some(cache) = manifests.as_mut() {
                super::points::attach_manifests(self, &mut page, cache, notify).await;
            }
            if pages.send(page).await.is_err() {
                break;
            }
        }
        Ok(())
    }
}

impl SimCloud {
    /// Writes, once, the recovery directory of a completed item-level EFS
    /// restore into a mailstore laid out under the run's directory.
    fn write_recovery_directory(&self, job_id: &str) -> Result<(), String> {
        let Some(root) = self
            .mailstores
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        else {
            return Ok(());
        };
        let (restore, completed) = {
            let world = self.world();
            match world.jobs.get(job_id) {
                Some(job) => match &job.efs {
                    Some(r) => (r.clone(), job.ends_at),
                    None => return Ok(()),
                },
                None => return Ok(()),
            }
        };
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if written.contains(job_id) {
            return Ok(());
        }
        // Marked written only once it is: a failed write is tried again at
        // the next DescribeRestoreJob, not reported COMPLETED without it.
        mailstore::write_recovery(&root, &restore, completed, self.epoch).map_err(|e| {
            format!(
                "SIMULATED: cannot write the recovery directory under {}: {e}",
                root.display()
            )
        })?;
        written.insert(job_id.to_owned());
        Ok(())
    }
}

/// The error a refused call gives: `action` on `resource`, marked SIMULATED.
fn refused(action: &str, resource: &str, r: Refusal) -> CloudError {
    CloudError::new(
        action,
        resource,
        r.kind,
        format!("SIMULATED {}: {}", r.code, r.message),
    )
}

/// A vault as errors name it, the same words as the AWS implementation's.
fn vault_resource(vault: &str, region: &str) -> String {
    format!("backup vault {vault} in {region}")
}

fn s3_uri(object: &ObjectRef) -> String {
    object.to_string()
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[async_trait]
impl Cloud for SimCloud {
    /// AWS's 10 s between polls, in the world's time (at least 100 ms).
    fn poll_interval(&self) -> Duration {
        Duration::from_secs_f64((10.0 / self.speed).max(0.1))
    }

    fn identity(&self) -> Identity {
        Identity {
            account: Some(ACCOUNT.into()),
            principal: Some(PRINCIPAL.into()),
            credentials_source: Some("SIMULATED".into()),
            region: REGION.into(),
            profile: None,
            endpoint: None,
            simulated: true,
        }
    }

    /// Lays out the world's mailstores under the run's directory; item-level
    /// EFS restores into them write their recovery directories there.
    fn attach_run_dir(&self, run_dir: &Path) {
        let root = run_dir.join(mailstore::DIR);
        let world = self.world();
        if world.filesystems.values().all(|f| f.mailboxes.is_empty()) {
            return;
        }
        // A mailstore that cannot be laid out shows as a missing mailbox
        // in the run's own checks.
        let _ = mailstore::lay_out(&root, world.filesystems.iter(), self.epoch);
        drop(world);
        *self.mailstores.lock().unwrap_or_else(|p| p.into_inner()) = Some(root);
    }

    async fn verify_credentials(&self) -> Result<Identity, CloudError> {
        self.call(
            "GetCallerIdentity",
            "SIMULATED account",
            quiet_ref(),
            |_, _| Ok(()),
        )
        .await?;
        Ok(self.identity())
    }

    async fn list_points(
        &self,
        source: &PointSource,
        pages: &mpsc::Sender<Vec<RecoveryPoint>>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError> {
        match source {
            PointSource::Vault {
                vault,
                region,
                resource_type,
                resource_arn,
            } => {
                let region = Self::region(region.as_deref());
                let action = "ListRecoveryPointsByBackupVault";
                let points = self
                    .call(action, &vault_resource(vault, region), notify, |w, now| {
                        w.list_vault(
                            region,
                            vault,
                            resource_type.as_deref(),
                            resource_arn.as_deref(),
                            now,
                        )
                    })
                    .await?;
                let resource = vault_resource(vault, region);
                self.send_pages(action, &resource, points, 100, pages, notify, None)
                    .await
            }
            PointSource::Table { table, region } => {
                let region = Self::region(region.as_deref());
                self.call("DescribeContinuousBackups", table, notify, |w, now| {
                    w.pitr_status(region, table, now)
                })
                .await?;
                let points = self
                    .call("ListBackups", table, notify, |w, now| {
                        w.list_table(region, table, now)
                    })
                    .await?;
                self.send_pages("ListBackups", table, points, 100, pages, notify, None)
                    .await
            }
            PointSource::Bucket {
                bucket,
                prefix,
                suffix,
                versions,
                ..
            } => {
                let action = if *versions {
                    "ListObjectVersions"
                } else {
                    "ListObjectsV2"
                };
                let resource = format!("s3://{bucket}/{prefix}");
                let points = self
                    .call(action, &resource, notify, |w, now| {
                        w.list_bucket(bucket, prefix, suffix.as_deref(), *versions, now)
                    })
                    .await?;
                let manifests = Some(HashMap::new());
                self.send_pages(action, &resource, points, 1000, pages, notify, manifests)
                    .await
            }
        }
    }

    async fn restore_metadata(
        &self,
        vault: &str,
        point_arn: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<BTreeMap<String, String>, CloudError> {
        let region = Self::region(region);
        self.call(
            "GetRecoveryPointRestoreMetadata",
            point_arn,
            notify,
            |w, now| w.restore_metadata(region, vault, point_arn, now),
        )
        .await
    }

    async fn start_restore(
        &self,
        request: &RestoreRequest,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<String, CloudError> {
        let region = Self::region(region);
        self.call(
            "StartRestoreJob",
            &request.recovery_point_arn,
            notify,
            |w, now| w.start_restore(request, region, now, &self.faults),
        )
        .await
    }

    async fn restore_job(
        &self,
        job_id: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<JobStatus, CloudError> {
        let region = Self::region(region);
        let resource = format!("restore job {job_id}");
        let status = self
            .call("DescribeRestoreJob", &resource, notify, |w, now| {
                w.job(job_id, JobKind::Restore, region, now)
            })
            .await?;
        if status.status == "COMPLETED" {
            self.write_recovery_directory(job_id)
                .map_err(|e| CloudError::new("DescribeRestoreJob", &resource, ErrorKind::Io, e))?;
        }
        Ok(status)
    }

    async fn start_copy(
        &self,
        request: &CopyRequest,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<String, CloudError> {
        let region = Self::region(region);
        self.call(
            "StartCopyJob",
            &request.recovery_point_arn,
            notify,
            |w, now| w.start_copy(request, region, now, &self.faults),
        )
        .await
    }

    async fn copy_job(
        &self,
        job_id: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<JobStatus, CloudError> {
        let region = Self::region(region);
        let resource = format!("copy job {job_id}");
        self.call("DescribeCopyJob", &resource, notify, |w, now| {
            w.job(job_id, JobKind::Copy, region, now)
        })
        .await
    }

    async fn vault_posture(
        &self,
        vault: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<VaultPosture, CloudError> {
        let region = Self::region(region);
        let resource = vault_resource(vault, region);
        self.call("DescribeBackupVault", &resource, notify, |w, now| {
            w.posture(region, vault, now)
        })
        .await
    }

    async fn region_settings(
        &self,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<RegionSettings, CloudError> {
        let region = Self::region(region);
        let resource = format!("AWS Backup settings of {region}");
        self.call("DescribeRegionSettings", &resource, notify, |w, _| {
            Ok(w.region_settings(&self.faults))
        })
        .await
    }

    async fn list_copy_jobs(
        &self,
        filter: &CopyJobFilter,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<Vec<CopyJobSummary>, CloudError> {
        let region = Self::region(region);
        let resource = format!("copy jobs in {region}");
        self.call("ListCopyJobs", &resource, notify, |w, now| {
            Ok(w.copy_jobs(region, filter, now, &self.faults))
        })
        .await
    }

    async fn delete_vault_lock(
        &self,
        vault: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError> {
        let region = Self::region(region);
        self.call(
            "DeleteBackupVaultLockConfiguration",
            &vault_resource(vault, region),
            notify,
            |w, now| w.delete_lock(region, vault, now),
        )
        .await
    }

    async fn delete_recovery_point(
        &self,
        vault: &str,
        point_arn: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError> {
        let region = Self::region(region);
        self.call("DeleteRecoveryPoint", point_arn, notify, |w, now| {
            w.delete_point(region, vault, point_arn, now)
        })
        .await
    }

    async fn restore_table_from_backup(
        &self,
        backup_arn: &str,
        target: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError> {
        let region = Self::region(region);
        self.call("RestoreTableFromBackup", target, notify, |w, now| {
            w.restore_from_backup(region, backup_arn, target, now)
        })
        .await
    }

    async fn restore_table_to_point_in_time(
        &self,
        source: &str,
        target: &str,
        time: Option<Timestamp>,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError> {
        let region = Self::region(region);
        self.call("RestoreTableToPointInTime", target, notify, |w, now| {
            w.restore_to_time(region, source, target, time, now)
        })
        .await
    }

    async fn describe_table(
        &self,
        table: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError> {
        let region = Self::region(region);
        self.call("DescribeTable", table, notify, |w, now| {
            w.describe_table(region, table, now)
        })
        .await
    }

    async fn delete_table(
        &self,
        table: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError> {
        let region = Self::region(region);
        self.call("DeleteTable", table, notify, |w, now| {
            w.delete_table(region, table, now)
        })
        .await
    }

    async fn count_items(
        &self,
        table: &str,
        segments: u32,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<u64, CloudError> {
        let region = Self::region(region);
        let total = self
            .call("Scan", table, notify, |w, now| {
                w.active_table(region, table, now)
                    .map(|t| world::count(&t.items))
            })
            .await?;
        let rate = ITEMS_PER_SECOND * f64::from(segments.max(1));
        self.progress(
            Duration::from_secs_f64(total as f64 / rate),
            total,
            notify,
            |done, total| {
                format!(
                    "counted {} of {} items in {table}",
                    thousands(done),
                    thousands(total)
                )
            },
        )
        .await;
        Ok(total)
    }

    async fn pitr_status(
        &self,
        table: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<PitrStatus, CloudError> {
        let region = Self::region(region);
        self.call("DescribeContinuousBackups", table, notify, |w, now| {
            w.pitr_status(region, table, now)
        })
        .await
    }

    async fn copy_table(
        &self,
        from: &str,
        to: &str,
        segments: u32,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<CopyCounts, CloudError> {
        let region = Self::region(region);
        if from == to {
            return Err(CloudError::new(
                "Scan",
                from,
                ErrorKind::Invalid,
                "SIMULATED: a table cannot be copied onto itself (from and to are the same)",
            ));
        }
        // As on AWS: both tables must exist before the scan starts.
        for table in [from, to] {
            self.describe_table(table, Some(region), notify).await?;
        }
        let items = self
            .call("Scan", from, notify, |w, now| {
                w.active_table(region, from, now).map(|t| t.items.clone())
            })
            .await?;
        let total = world::count(&items);
        let rate = ITEMS_PER_SECOND * f64::from(segments.max(1));
        self.progress(
            Duration::from_secs_f64(total as f64 / rate),
            total,
            notify,
            |done, total| {
                format!(
                    "copied {} of {} items from {from} to {to}",
                    thousands(done),
                    thousands(total)
                )
            },
        )
        .await;
        let now = self.now();
        self.world()
            .write_items(region, to, &items, now)
            .map_err(|r| refused("BatchWriteItem", to, r))?;
        Ok(CopyCounts {
            read: total,
            written: total,
        })
    }

    async fn head_object(
        &self,
        object: &ObjectRef,
        notify: Notify<'_>,
    ) -> Result<ObjectHead, CloudError> {
        self.call("HeadObject", &s3_uri(object), notify, |w, now| {
            w.head(
                &object.bucket,
                &object.key,
                object.version_id.as_deref(),
                now,
            )
        })
        .await
    }

    async fn restore_object(
        &self,
        object: &ObjectRef,
        tier: &str,
        days: u32,
        notify: Notify<'_>,
    ) -> Result<(), CloudError> {
        self.call("RestoreObject", &s3_uri(object), notify, |w, now| {
            w.restore_object(
                &object.bucket,
                &object.key,
                object.version_id.as_deref(),
                tier,
                days,
                now,
            )
        })
        .await
    }

    async fn fetch_object(
        &self,
        object: &ObjectRef,
        to: Option<&Path>,
        notify: Notify<'_>,
    ) -> Result<Fetched, CloudError> {
        let bytes = self.read_object(object, notify).await?;
        let size = bytes.len() as u64;
        let mut file = match to {
            Some(path) => Some(PartFile::create(path, "GetObject", &s3_uri(object)).await?),
            None => None,
        };
        let mut hasher = Sha256::new();
        let chunks = bytes.chunks(CHUNK).count().max(1) as u64;
        let per_chunk = self.real(Duration::from_secs_f64(CHUNK as f64 / BYTES_PER_SECOND));
        let mut written = 0u64;
        for chunk in bytes.chunks(CHUNK) {
            hasher.update(chunk);
            if let Some(f) = file.as_mut() {
                f.write(chunk).await?;
            }
            written += chunk.len() as u64;
            tokio::time::sleep(per_chunk).await;
            if chunks > 1 {
                notify(format!(
                    "downloaded {} of {} from {object}",
                    human_bytes(written),
                    human_bytes(size)
                ));
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

    async fn read_object(
        &self,
        object: &ObjectRef,
        notify: Notify<'_>,
    ) -> Result<Vec<u8>, CloudError> {
        self.call("GetObject", &s3_uri(object), notify, |w, now| {
            w.read(
                &object.bucket,
                &object.key,
                object.version_id.as_deref(),
                now,
                &self.faults,
            )
        })
        .await
    }
}

/// A notifier reference that drops everything.
fn quiet_ref() -> Notify<'static> {
    &drop_notice
}

fn drop_notice(_: String) {}
