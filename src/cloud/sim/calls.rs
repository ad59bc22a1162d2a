//! Each [`Cloud`] call of the simulated world: checked against the
//! injected faults, answered from the [`World`](super::world::World) at the
//! world's `now`, with jobs, listings and scans paced in (scaled) time.
//! It must not touch the terminal; it writes files only where a call
//! downloads to, or the run directory an EFS item restore writes into.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::state::{Change, Done};
use super::world::{self, ACCOUNT, JobKind};
use super::{BYTES_PER_SECOND, CHUNK, ITEMS_PER_SECOND, PRINCIPAL, REGION, SimCloud, mailstore};
use crate::cloud::CallerIdentity;
use crate::cloud::download::PartFile;
use crate::cloud::{
    BucketLock, Cloud, CloudError, CopyCounts, CopyJobFilter, CopyJobSummary, CopyRequest,
    ErrorKind, Fetched, Identity, JobStatus, MAX_READ_OBJECT, Notify, ObjectHead, ObjectLock,
    ObjectRef, PitrStatus, PointSource, PrefixSummary, RecoveryPoint, RegionSettings,
    RestoreRequest, TableState, VaultPosture, object_too_large,
};
use crate::format::human_bytes;

/// The role the simulated operator acts as (its session is [`PRINCIPAL`]).
pub(super) const SIM_ROLE: &str = "dr-drill-sandbox-operator";

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
        if let Err(e) = self.reopen_kept(run_dir) {
            tracing::warn!(error = %e, "the simulated world kept by the run cannot be reopened");
        }
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

    fn simulation(&self) -> Option<super::SimOptions> {
        Some(self.options().clone())
    }

    fn close_run(&self) {
        self.keep_clock();
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

    async fn caller_identity(&self, notify: Notify<'_>) -> Result<CallerIdentity, CloudError> {
        self.call("GetCallerIdentity", "SIMULATED account", notify, |_, _| {
            Ok(())
        })
        .await?;
        Ok(CallerIdentity {
            account: ACCOUNT.into(),
            arn: format!("arn:aws:sts::{ACCOUNT}:assumed-role/{SIM_ROLE}/{PRINCIPAL}"),
            user_id: format!("AROASIMULATEDOPERATOR:{PRINCIPAL}"),
        })
    }

    async fn simulate_principal_policy(
        &self,
        principal_arn: &str,
        checks: &[crate::cloud::policy::Ask],
        notify: Notify<'_>,
    ) -> Result<Vec<crate::cloud::policy::Simulated>, CloudError> {
        super::iam::simulate(self, principal_arn, checks, notify).await
    }

    async fn role_arn(&self, name: &str, notify: Notify<'_>) -> Result<String, CloudError> {
        super::iam::role_arn(self, name, notify).await
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
                // Counted with its filters: another filter is another call.
                let filters = [resource_type, resource_arn]
                    .iter()
                    .filter_map(|f| f.as_deref())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.count(
                    action,
                    format!("{} [{filters}]", vault_resource(vault, region)),
                );
                let points = self
                    .attempt(action, &vault_resource(vault, region), notify, |w, now| {
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
                    .await?;
                let action = "ListRecoveryPointsByResource";
                let points = self
                    .call(action, table, notify, |w, now| {
                        w.points_by_resource(region, table, now)
                    })
                    .await?;
                self.send_pages(action, table, points, 100, pages, notify, None)
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
                let headers = !self.faults.access_denied.contains("GetObjectRetention");
                let mut points = self
                    .call(action, &resource, notify, |w, now| {
                        w.list_bucket(bucket, prefix, suffix.as_deref(), *versions, headers, now)
                    })
                    .await?;
                // As AWS: one GetObjectLockConfiguration for the bucket, once
                // a head lacks the Object Lock headers.
                if points.iter().any(|p| p.object_lock.is_none()) {
                    let config = self
                        .call(
                            "GetObjectLockConfiguration",
                            &format!("s3://{bucket}"),
                            notify,
                            |w, _| w.lock_configuration(bucket),
                        )
                        .await
                        .unwrap_or_else(|e| BucketLock::Unknown(e.to_string()));
                    for p in points.iter_mut().filter(|p| p.object_lock.is_none()) {
                        p.object_lock = Some(ObjectLock::listed(None, &config));
                    }
                }
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
        let change = Change::StartRestore {
            request: request.clone(),
            region: Self::region(region).to_owned(),
        };
        job_id(
            self.change(
                "StartRestoreJob",
                &request.recovery_point_arn,
                notify,
                change,
            )
            .await?,
        )
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
        let change = Change::StartCopy {
            request: request.clone(),
            region: Self::region(region).to_owned(),
        };
        job_id(
            self.change("StartCopyJob", &request.recovery_point_arn, notify, change)
                .await?,
        )
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
        let change = Change::DeleteVaultLock {
            region: region.to_owned(),
            vault: vault.to_owned(),
        };
        self.change(
            "DeleteBackupVaultLockConfiguration",
            &vault_resource(vault, region),
            notify,
            change,
        )
        .await
        .map(drop)
    }

    async fn describe_recovery_point(
        &self,
        vault: &str,
        point_arn: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<RecoveryPoint, CloudError> {
        let region = Self::region(region);
        self.call("DescribeRecoveryPoint", point_arn, notify, |w, now| {
            w.describe_point(region, vault, point_arn, now)
        })
        .await
    }

    async fn delete_recovery_point(
        &self,
        vault: &str,
        point_arn: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError> {
        let change = Change::DeleteRecoveryPoint {
            region: Self::region(region).to_owned(),
            vault: vault.to_owned(),
            point_arn: point_arn.to_owned(),
        };
        self.change("DeleteRecoveryPoint", point_arn, notify, change)
            .await
            .map(drop)
    }

    async fn restore_table_from_backup(
        &self,
        backup_arn: &str,
        target: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError> {
        let change = Change::RestoreTableFromBackup {
            region: Self::region(region).to_owned(),
            backup_arn: backup_arn.to_owned(),
            target: target.to_owned(),
        };
        table_state(
            self.change("RestoreTableFromBackup", target, notify, change)
                .await?,
        )
    }

    async fn restore_table_to_point_in_time(
        &self,
        source: &str,
        target: &str,
        time: Option<Timestamp>,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError> {
        let change = Change::RestoreTableToPointInTime {
            region: Self::region(region).to_owned(),
            source: source.to_owned(),
            target: target.to_owned(),
            time,
        };
        table_state(
            self.change("RestoreTableToPointInTime", target, notify, change)
                .await?,
        )
    }

    async fn describe_table(
        &self,
        table: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError> {
        let region = Self::region(region);
        self.count("DescribeTable", format!("{table} in {region}"));
        let mut state = self
            .attempt("DescribeTable", table, notify, |w, now| {
                w.describe_table(region, table, now)
            })
            .await?;
        if self.faults.inaccessible_keys.contains(table) {
            state.status = "INACCESSIBLE_ENCRYPTION_CREDENTIALS".into();
            state.item_count = None;
        }
        Ok(state)
    }

    async fn delete_table(
        &self,
        table: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError> {
        let change = Change::DeleteTable {
            region: Self::region(region).to_owned(),
            table: table.to_owned(),
        };
        table_state(self.change("DeleteTable", table, notify, change).await?)
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
        self.count("DescribeContinuousBackups", format!("{table} in {region}"));
        self.attempt("DescribeContinuousBackups", table, notify, |w, now| {
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
        let change = Change::WriteItems {
            region: region.to_owned(),
            table: to.to_owned(),
            items,
        };
        self.change("BatchWriteItem", to, notify, change).await?;
        Ok(CopyCounts {
            read: total,
            written: total,
        })
    }

    async fn summarize_prefix(
        &self,
        bucket: &str,
        prefix: &str,
        _region: Option<&str>,
        cap: usize,
        notify: Notify<'_>,
    ) -> Result<PrefixSummary, CloudError> {
        let resource = format!("s3://{bucket}/{prefix}");
        self.call("ListObjectsV2", &resource, notify, |w, now| {
            w.summarize_prefix(bucket, prefix, cap, now)
        })
        .await
    }

    async fn head_object(
        &self,
        object: &ObjectRef,
        notify: Notify<'_>,
    ) -> Result<ObjectHead, CloudError> {
        let mut head = self
            .call("HeadObject", &s3_uri(object), notify, |w, now| {
                w.head(
                    &object.bucket,
                    &object.key,
                    object.version_id.as_deref(),
                    now,
                )
            })
            .await?;
        // HeadObject returns the Object Lock headers "only if the requester
        // has the s3:GetObjectRetention permission" (botocore `s3`
        // 2006-03-01, HeadObjectOutput.ObjectLockMode).
        if self.faults.access_denied.contains("GetObjectRetention") {
            head.object_lock_mode = None;
            head.retain_until = None;
        }
        Ok(head)
    }

    async fn object_retention(
        &self,
        object: &ObjectRef,
        notify: Notify<'_>,
    ) -> Result<Option<(String, Timestamp)>, CloudError> {
        self.call("GetObjectRetention", &s3_uri(object), notify, |w, now| {
            w.head(
                &object.bucket,
                &object.key,
                object.version_id.as_deref(),
                now,
            )
            .map(|h| h.object_lock_mode.zip(h.retain_until))
        })
        .await
    }

    async fn restore_object(
        &self,
        object: &ObjectRef,
        tier: &str,
        days: Option<u32>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError> {
        let change = Change::RestoreObject {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            version_id: object.version_id.clone(),
            tier: tier.to_owned(),
            days,
        };
        self.change("RestoreObject", &s3_uri(object), notify, change)
            .await
            .map(drop)
    }

    async fn fetch_object(
        &self,
        object: &ObjectRef,
        to: Option<&Path>,
        notify: Notify<'_>,
    ) -> Result<Fetched, CloudError> {
        let bytes = self.read_whole(object, notify, u64::MAX).await?;
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
        self.read_whole(object, notify, MAX_READ_OBJECT).await
    }
}

impl SimCloud {
    /// An object's bytes, refused as [`object_too_large`] when over `cap`
    /// before they are made.
    async fn read_whole(
        &self,
        object: &ObjectRef,
        notify: Notify<'_>,
        cap: u64,
    ) -> Result<Vec<u8>, CloudError> {
        let resource = s3_uri(object);
        let mut over = None;
        let bytes = self
            .call("GetObject", &resource, notify, |w, now| {
                let version = object.version_id.as_deref();
                let size = w
                    .object(&object.bucket, &object.key, version, "NoSuchKey")?
                    .content
                    .len();
                over = (size > cap).then_some(size);
                if over.is_some() {
                    return Ok(Vec::new());
                }
                w.read(&object.bucket, &object.key, version, now, &self.faults)
            })
            .await?;
        match over {
            Some(size) => Err(object_too_large(&resource, size, true)),
            None => Ok(bytes),
        }
    }
}

/// A notifier reference that drops everything.
/// The job id a change answered.
fn job_id(done: Done) -> Result<String, CloudError> {
    match done {
        Done::Job(id) => Ok(id),
        _ => Err(answered_else()),
    }
}

/// The table state a change answered.
fn table_state(done: Done) -> Result<TableState, CloudError> {
    match done {
        Done::Table(state) => Ok(state),
        _ => Err(answered_else()),
    }
}

fn answered_else() -> CloudError {
    CloudError::new(
        "SIMULATED call",
        "the simulated world",
        ErrorKind::Invalid,
        "SIMULATED: the world answered another kind of result; this is a bug in dr-drill",
    )
}

fn quiet_ref() -> Notify<'static> {
    &drop_notice
}

fn drop_notice(_: String) {}
