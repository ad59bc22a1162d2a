//! AWS Backup in the simulated world: vaults and their locks, recovery
//! points, restore jobs (DynamoDB, S3, EFS item restores) and copy jobs.
//! Pure state over `now`; it must not touch the run's files or the clock.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;

use super::{
    ACCOUNT, EfsRestore, Job, JobKind, Point, Refusal, Table, Vault, World, after, before, hash,
    hex, invalid, minutes, not_found, pick_duration, table_arn, uuid,
};
use crate::cloud::sim::fault::Faults;
use crate::cloud::sim::spec::Range;
use crate::cloud::{JobStatus, RecoveryPoint, RegionSettings, RestoreRequest, VaultPosture};

/// The most restore metadata StartRestoreJob takes, in bytes (200 KB).
const RESTORE_METADATA_LIMIT: usize = 200 * 1024;

impl World {
    pub fn vault(&self, region: &str, name: &str) -> Result<&Vault, Refusal> {
        self.vault_at(region, name).map(|i| &self.vaults[i])
    }

    /// The index of a vault that exists, or the error AWS Backup gives.
    fn vault_at(&self, region: &str, name: &str) -> Result<usize, Refusal> {
        self.vault_index(region, name).ok_or_else(|| {
            let elsewhere: Vec<&str> = self
                .vaults
                .iter()
                .filter(|v| v.name == name)
                .map(|v| v.region.as_str())
                .collect();
            let hint = if elsewhere.is_empty() {
                String::new()
            } else {
                format!(" (the simulated world has it in {})", elsewhere.join(", "))
            };
            not_found(
                "ResourceNotFoundException",
                format!("Backup vault {name} does not exist in {region}{hint}"),
            )
        })
    }

    /// A vault's points at `now`, newest first, filtered.
    pub fn list_vault(
        &self,
        region: &str,
        name: &str,
        resource_type: Option<&str>,
        resource_arn: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<RecoveryPoint>, Refusal> {
        let vault = self.vault(region, name)?;
        let mut points: Vec<RecoveryPoint> = vault
            .points
            .iter()
            .filter_map(|p| p.view(now))
            .filter(|p| {
                resource_type.is_none_or(|t| {
                    p.resource_type
                        .as_deref()
                        .is_some_and(|r| r.eq_ignore_ascii_case(t))
                })
            })
            .filter(|p| resource_arn.is_none_or(|a| p.resource_arn.as_deref() == Some(a)))
            .collect();
        crate::cloud::points::newest_first(&mut points);
        Ok(points)
    }

    fn point(
        &self,
        region: &str,
        vault: Option<&str>,
        arn: &str,
        now: Timestamp,
    ) -> Result<(usize, usize), Refusal> {
        let not_found = || {
            not_found(
                "ResourceNotFoundException",
                format!("Recovery point {arn} not found in {region}"),
            )
        };
        self.vaults
            .iter()
            .enumerate()
            .filter(|(_, v)| v.region == region && vault.is_none_or(|n| v.name == n))
            .find_map(|(vi, v)| {
                v.points
                    .iter()
                    .position(|p| p.rp.id == arn && p.view(now).is_some())
                    .map(|pi| (vi, pi))
            })
            .ok_or_else(not_found)
    }

    pub fn restore_metadata(
        &self,
        region: &str,
        vault: &str,
        arn: &str,
        now: Timestamp,
    ) -> Result<BTreeMap<String, String>, Refusal> {
        self.vault(region, vault)?;
        let (vi, pi) = self.point(region, Some(vault), arn, now)?;
        let p = &self.vaults[vi].points[pi].rp;
        let name = p.resource_name.clone().unwrap_or_default();
        let meta: Vec<(&str, String)> = match p.resource_type.as_deref() {
            // The source table's configuration when it was backed up
            // (botocore `backup` 2018-11-15,
            // `GetRecoveryPointRestoreMetadataOutput.RestoreMetadata`), not
            // the vault's key, which encrypts the backup
            // (`DescribeRecoveryPointOutput.EncryptionKeyArn`). The
            // sandbox's tables use the DynamoDB-owned key: `Default` (AWS
            // Backup developer guide, "Restore a DynamoDB table",
            // encryption settings). The moto extension answers the same.
            Some("DynamoDB") => vec![
                ("targetTableName", name),
                ("encryptionType", "Default".into()),
            ],
            Some("EFS") => {
                let fs = p
                    .resource_arn
                    .as_deref()
                    .and_then(|a| a.rsplit('/').next())
                    .unwrap_or_default();
                vec![
                    ("file-system-id", fs.to_owned()),
                    // The file system's own encryption: EFS's AWS managed key,
                    // so no `KmsKeyId` ("the KMS key used to encrypt the restored
                    // file system", botocore `backup` StartRestoreJobInput.Metadata),
                    // never the vault's key, which encrypts the backup.
                    ("Encrypted", "true".into()),
                    ("PerformanceMode", "generalPurpose".into()),
                    ("CreationToken", format!("{name}-restore")),
                    ("newFileSystem", "true".into()),
                ]
            }
            _ => Vec::new(),
        };
        Ok(meta.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    fn next_job_id(&mut self, kind: &str) -> String {
        self.job_counter += 1;
        uuid(hash(&[kind, &self.job_counter.to_string()]))
    }

    pub fn start_restore(
        &mut self,
        req: &RestoreRequest,
        region: &str,
        now: Timestamp,
        faults: &Faults,
    ) -> Result<String, Refusal> {
        check_role(&req.iam_role_arn)?;
        if let Some(id) = req
            .idempotency_token
            .as_ref()
            .and_then(|t| self.restore_tokens.get(t))
        {
            return Ok(id.clone());
        }
        let (vi, pi) = self.point(region, None, &req.recovery_point_arn, now)?;
        let point = self.vaults[vi].points[pi].clone();
        let rp = point.view(now).unwrap_or_else(|| point.rp.clone());
        if rp.status != "COMPLETED" {
            return Err(invalid(
                "InvalidRequestException",
                format!(
                    "Recovery point {} is not in a restorable state ({})",
                    rp.id, rp.status
                ),
            ));
        }
        let id = self.next_job_id("restore");
        let kind = rp.resource_type.clone().unwrap_or_default();
        let h = hash(&[&id]);
        let mut job = Job {
            id: id.clone(),
            kind: JobKind::Restore,
            region: region.to_owned(),
            created_at: now,
            ends_at: now,
            failure: None,
            created_resource_arn: None,
            destination_point: None,
            copy_of: None,
            efs: None,
        };
        // Keys as AWS spells them; EFS's are documented in two cases
        // (`ItemsToRestore`, `itemsToRestore`), so case does not matter.
        let meta = |k: &str| {
            req.metadata
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        // AWS Backup developer guide, "Restore an Amazon EFS file system": a
        // 200 KB limit on the length of the restore metadata (the moto
        // extension's start_restore_job checks the same).
        let size: usize = req.metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
        if size > RESTORE_METADATA_LIMIT {
            return Err(invalid(
                "InvalidParameterValueException",
                format!(
                    "Restore metadata is {size} bytes; AWS Backup takes at most {RESTORE_METADATA_LIMIT} (200 KB)"
                ),
            ));
        }
        match kind.as_str() {
            "DynamoDB" => {
                let Some(target) = meta("targetTableName") else {
                    return Err(invalid(
                        "InvalidParameterValueException",
                        "Invalid restore metadata: targetTableName is required for a DynamoDB restore",
                    ));
                };
                if let Some(refused) =
                    table_encryption_refused(meta("encryptionType"), meta("kmsMasterKeyArn"))
                {
                    return Err(invalid("InvalidParameterValueException", refused));
                }
                job.ends_at = after(now, pick_duration(h, minutes(15, 25)));
                let arn = table_arn(region, target);
                if self.live_table(region, target, now).is_some() {
                    let fails = after(now, Duration::from_secs(40));
                    job.failure = Some((
                        fails,
                        format!(
                            "TableAlreadyExistsException: Table already exists: {target} (SIMULATED)"
                        ),
                    ));
                } else {
                    if faults.restore_job_fails {
                        job.failure = Some((
                            job_fraction(&job, 0.4),
                            fault_message(
                                "restore-job-fails",
                                "An internal error occurred while restoring the table",
                            ),
                        ));
                    }
                    self.tables.insert(
                        (region.to_owned(), target.to_owned()),
                        Table {
                            name: target.to_owned(),
                            arn: arn.clone(),
                            items: point.items.clone(),
                            pitr_days: None,
                            created_at: now,
                            active_at: job.ends_at,
                            gone_at: job.failure.as_ref().map(|(at, _)| *at),
                            restored_as_of: None,
                        },
                    );
                }
                job.created_resource_arn = Some(arn);
            }
            "EFS" => {
                let Some(new_fs) = meta("newFileSystem") else {
                    return Err(invalid(
                        "InvalidParameterValueException",
                        "Invalid restore metadata: newFileSystem is required for an EFS restore (true: a new file system; false: into the source under aws-backup-restore_<timestamp>)",
                    ));
                };
                let items: Vec<String> = match meta("ItemsToRestore") {
                    None => Vec::new(),
                    Some(raw) => serde_json::from_str(raw)
                        .ok()
                        // AWS Backup developer guide, "Restore an Amazon EFS
                        // file system": no item limit through the API, only
                        // the 200 KB metadata limit (checked above); the moto
                        // extension's RestoreJob follows the same rule.
                        .filter(|items: &Vec<String>| items.iter().all(|i| i.starts_with('/')))
                        .ok_or_else(|| {
                            invalid(
                                "InvalidParameterValueException",
                                format!("Invalid restore metadata: ItemsToRestore must be a JSON list of absolute paths, e.g. [\"/alice\"], not {raw}"),
                            )
                        })?,
                };
                let item_level = !items.is_empty();
                let took = if item_level {
                    minutes(8, 15)
                } else {
                    minutes(40, 50)
                };
                job.ends_at = after(now, pick_duration(h, took));
                job.created_resource_arn = if new_fs.eq_ignore_ascii_case("true") {
                    Some(format!(
                        "arn:aws:elasticfilesystem:{region}:{ACCOUNT}:file-system/fs-{}",
                        hex(h, 17)
                    ))
                } else {
                    rp.resource_arn.clone()
                };
                let fs_id = meta("file-system-id")
                    .map(str::to_owned)
                    .or_else(|| rp.resource_name.clone().filter(|n| n.starts_with("fs-")))
                    .or_else(|| {
                        rp.resource_arn
                            .as_deref()
                            .and_then(|a| a.rsplit('/').next())
                            .map(str::to_owned)
                    })
                    .unwrap_or_default();
                if new_fs.eq_ignore_ascii_case("false")
                    && item_level
                    && let Some(fs) = self.filesystems.get(&fs_id)
                {
                    let missing = items.iter().find(|i| {
                        let top = i.trim_start_matches('/').split('/').next().unwrap_or("");
                        !fs.mailboxes.iter().any(|m| m == top)
                    });
                    if let Some(item) = missing {
                        job.failure = Some((
                            job_fraction(&job, 0.5),
                            format!(
                                "The item {item} does not exist in recovery point {} (SIMULATED; the mailboxes: {})",
                                rp.id,
                                fs.mailboxes.join(", ")
                            ),
                        ));
                    }
                    job.efs = Some(EfsRestore {
                        fs_id,
                        items,
                        as_of: rp.created_at,
                    });
                }
                if faults.restore_job_fails {
                    job.failure = Some((
                        job_fraction(&job, 0.4),
                        fault_message(
                            "restore-job-fails",
                            "Restore of the file system failed: an internal error occurred",
                        ),
                    ));
                }
            }
            _ => {
                job.ends_at = after(now, pick_duration(h, minutes(20, 40)));
                job.created_resource_arn = rp.resource_arn.clone();
            }
        }
        self.jobs.insert(id.clone(), job);
        if let Some(token) = &req.idempotency_token {
            self.restore_tokens.insert(token.clone(), id.clone());
        }
        Ok(id)
    }

    pub fn job(
        &self,
        id: &str,
        kind: JobKind,
        region: &str,
        now: Timestamp,
    ) -> Result<JobStatus, Refusal> {
        self.jobs
            .get(id)
            .filter(|j| j.kind == kind && j.region == region)
            .map(|j| j.status(now))
            .ok_or_else(|| {
                let what = if kind == JobKind::Restore {
                    "Restore"
                } else {
                    "Copy"
                };
                not_found(
                    "ResourceNotFoundException",
                    format!("{what} job {id} not found in {region}"),
                )
            })
    }

    pub fn start_copy(
        &mut self,
        req: &crate::cloud::CopyRequest,
        region: &str,
        now: Timestamp,
        faults: &Faults,
    ) -> Result<String, Refusal> {
        check_role(&req.iam_role_arn)?;
        let source = self.vault(region, &req.source_vault)?.arn.clone();
        let (dest_region, dest_name) = parse_vault_arn(&req.destination_vault_arn).ok_or_else(|| {
            invalid("InvalidParameterValueException", format!("`{}` is not a backup vault ARN (arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME)", req.destination_vault_arn))
        })?;
        let dest = self.vault_at(&dest_region, &dest_name)?;
        if self.vaults[dest].arn == source {
            return Err(invalid(
                "InvalidParameterValueException",
                "The source and destination backup vaults are the same",
            ));
        }
        let (vi, pi) = self.point(
            region,
            Some(&req.source_vault),
            &req.recovery_point_arn,
            now,
        )?;
        let point = self.vaults[vi].points[pi].clone();
        let view = point.view(now).unwrap_or_else(|| point.rp.clone());
        if view.status != "COMPLETED" {
            return Err(invalid(
                "InvalidRequestException",
                format!(
                    "Recovery point {} is not completed yet and cannot be copied",
                    point.rp.id
                ),
            ));
        }
        if view.storage_class.as_deref() == Some("COLD") && dest_region != region {
            return Err(invalid(
                "InvalidRequestException",
                format!(
                    "Recovery point {} is in cold storage: AWS Backup does not copy cold-tier backups across Regions",
                    point.rp.id
                ),
            ));
        }
        let id = self.next_job_id("copy");
        let h = hash(&[&id]);
        let mut job = Job {
            id: id.clone(),
            kind: JobKind::Copy,
            region: region.to_owned(),
            created_at: now,
            ends_at: after(now, pick_duration(h, minutes(25, 35))),
            failure: None,
            created_resource_arn: None,
            destination_point: None,
            copy_of: Some((
                point.rp.id.clone(),
                point.rp.resource_type.clone(),
                req.destination_vault_arn.clone(),
            )),
            efs: None,
        };
        let took = job.ends_at.duration_since(now).unsigned_abs();
        let mut copy = copy_of(
            &point.rp,
            &source,
            &self.vaults[dest],
            now,
            h,
            Range {
                low: took,
                high: took,
            },
        );
        super::copy_lock::apply_lifecycle(&mut copy, req.lifecycle);
        let locked_out = super::copy_lock::copy_lock_failure(&self.vaults[dest], &copy);
        if faults.copy_job_fails || locked_out.is_some() {
            let why = locked_out.unwrap_or_else(|| copy_failure(point.rp.resource_type.as_deref()));
            job.failure = Some((job_fraction(&job, 0.6), why));
        } else {
            job.destination_point = Some(copy.id.clone());
            self.vaults[dest].points.push(Point {
                rp: copy,
                visible_at: now,
                items: point.items,
            });
        }
        self.jobs.insert(id.clone(), job);
        Ok(id)
    }

    /// The region's AWS Backup settings: an account that opted in to
    /// everything (advanced DynamoDB backup features included) except S3;
    /// the fault `copy-job-fails` takes the DynamoDB opt-in away.
    pub fn region_settings(&self, faults: &Faults) -> RegionSettings {
        let opt_in = [
            "Aurora",
            "DocumentDB",
            "DynamoDB",
            "EBS",
            "EC2",
            "EFS",
            "FSx",
            "Neptune",
            "RDS",
            "S3",
            "Storage Gateway",
            "VirtualMachine",
        ]
        .into_iter()
        .map(|t| (t.to_owned(), t != "S3"))
        .collect();
        let full_management = [
            ("DynamoDB".to_owned(), !faults.copy_job_fails),
            ("EFS".to_owned(), true),
        ]
        .into_iter()
        .collect();
        RegionSettings {
            opt_in,
            full_management,
        }
    }

    /// Copy jobs that ran from `region`: the plans' nightly copies (a copy
    /// in a vault is the trace of its job) and the jobs started here,
    /// newest first. With the fault `copy-job-fails`, every copy job
    /// reports the failure the fault gives a new one.
    pub fn copy_jobs(
        &self,
        region: &str,
        filter: &crate::cloud::CopyJobFilter,
        now: Timestamp,
        faults: &Faults,
    ) -> Vec<crate::cloud::CopyJobSummary> {
        use crate::cloud::CopyJobSummary;
        let since = before(now, filter.within);
        let started: BTreeMap<&str, &Job> = self
            .jobs
            .values()
            .filter_map(|j| j.destination_point.as_deref().map(|p| (p, j)))
            .collect();
        let mut jobs = Vec::new();
        for vault in &self.vaults {
            for p in &vault.points {
                let Some(from) = p.rp.copied_from.as_deref() else {
                    continue;
                };
                if parse_vault_arn(from).is_none_or(|(r, _)| r != region)
                    || p.visible_at > now
                    || p.visible_at < since
                {
                    continue;
                }
                let job_id = started.get(p.rp.id.as_str()).map_or_else(
                    || format!("sim-copy-{}", hex(hash(&[&p.rp.id]), 16)),
                    |j| j.id.clone(),
                );
                let done = p.rp.completed_at.filter(|c| *c <= now);
                let (state, message) = match done {
                    Some(_) if faults.copy_job_fails => {
                        ("FAILED", Some(copy_failure(p.rp.resource_type.as_deref())))
                    }
                    Some(_) => ("COMPLETED", None),
                    None => ("RUNNING", None),
                };
                jobs.push(CopyJobSummary {
                    job_id,
                    state: state.into(),
                    created_at: p.visible_at,
                    completed_at: done,
                    resource_type: p.rp.resource_type.clone(),
                    source_recovery_point_arn: None,
                    destination_vault_arn: Some(vault.arn.clone()),
                    message,
                });
            }
        }
        // Jobs started here that failed left no copy behind.
        for job in self.jobs.values() {
            let Some((point, resource_type, dest)) = &job.copy_of else {
                continue;
            };
            if job.region != region
                || job.destination_point.is_some()
                || job.created_at > now
                || job.created_at < since
            {
                continue;
            }
            let status = job.status(now);
            jobs.push(CopyJobSummary {
                job_id: job.id.clone(),
                state: status.status,
                created_at: job.created_at,
                completed_at: status.completed_at,
                resource_type: resource_type.clone(),
                source_recovery_point_arn: Some(point.clone()),
                destination_vault_arn: Some(dest.clone()),
                message: status.message,
            });
        }
        jobs.retain(|j| {
            filter.resource_type.as_deref().is_none_or(|t| {
                j.resource_type
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(t))
            }) && filter
                .destination_vault_arn
                .as_deref()
                .is_none_or(|d| j.destination_vault_arn.as_deref() == Some(d))
        });
        jobs.sort_by_key(|j| std::cmp::Reverse(j.created_at));
        jobs
    }

    pub fn posture(
        &self,
        region: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<VaultPosture, Refusal> {
        let v = self.vault(region, name)?;
        Ok(VaultPosture {
            name: v.name.clone(),
            arn: v.arn.clone(),
            locked: v.lock.is_some(),
            min_retention_days: v.lock.map(|l| l.min_retention_days),
            max_retention_days: v.lock.and_then(|l| l.max_retention_days),
            lock_date: v.lock.and_then(|l| l.lock_date),
            recovery_points: v.points.iter().filter(|p| p.view(now).is_some()).count() as i64,
            encryption_key_arn: v.kms_key.clone(),
        })
    }

    pub fn delete_lock(&mut self, region: &str, name: &str, now: Timestamp) -> Result<(), Refusal> {
        let i = self.vault_at(region, name)?;
        let vault = &mut self.vaults[i];
        if let Some(date) = vault.lock.and_then(|l| l.lock_date).filter(|d| *d <= now) {
            return Err(invalid(
                "InvalidRequestException",
                format!(
                    "Backup vault {name} is locked in compliance mode since {date}; the lock can no longer be removed"
                ),
            ));
        }
        vault.lock = None;
        Ok(())
    }

    /// DescribeRecoveryPoint: the point as it is at `now`.
    pub fn describe_point(
        &self,
        region: &str,
        vault: &str,
        arn: &str,
        now: Timestamp,
    ) -> Result<RecoveryPoint, Refusal> {
        self.vault(region, vault)?;
        let (vi, pi) = self.point(region, Some(vault), arn, now)?;
        let p = &self.vaults[vi].points[pi];
        Ok(p.view(now).unwrap_or_else(|| p.rp.clone()))
    }

    pub fn delete_point(
        &mut self,
        region: &str,
        vault: &str,
        arn: &str,
        now: Timestamp,
        faults: &Faults,
    ) -> Result<(), Refusal> {
        self.vault(region, vault)?;
        let (vi, pi) = self.point(region, Some(vault), arn, now)?;
        let v = &mut self.vaults[vi];
        // Botocore backup 2018-11-15, DeleteRecoveryPoint: "When an IAM
        // role's permissions are insufficient to call this API, the service
        // sends back an HTTP 200 response with an empty HTTP body, but the
        // recovery point is not deleted. Instead, it enters an EXPIRED
        // state." The fault access-denied=DeleteRecoveryPoint models it.
        if faults.access_denied.contains("DeleteRecoveryPoint") {
            v.points[pi].rp.status = "EXPIRED".into();
            return Ok(());
        }
        // Botocore backup 2018-11-15, PutBackupVaultLockConfiguration: Vault
        // Lock "prevent[s] attempts to delete any recovery point stored in or
        // created in a backup vault"; the Vault Lock guide: no user, root
        // included, deletes a point of a locked vault before its retention
        // ends. A point goes once CalculatedLifecycle.DeleteAt has passed (here
        // its lifecycle has deleted it by then); one without a DeleteAt stays
        // while the lock does, whatever its age. The moto extension's
        // delete_recovery_point follows the same rule.
        if v.lock.is_some() {
            let until = match v.points[pi].rp.delete_at {
                Some(at) if at <= now => None,
                Some(at) => Some(format!("its retention ends at {at}")),
                None => Some("it has no retention end, so it stays while the lock does".into()),
            };
            if let Some(until) = until {
                return Err(invalid(
                    "InvalidRequestException",
                    format!(
                        "Recovery point {arn} cannot be deleted because backup vault {vault} is locked: {until}"
                    ),
                ));
            }
        }
        let gone = v.points.remove(pi);
        self.stop_continuous(&gone.rp);
        Ok(())
    }

    /// Botocore backup 2018-11-15, DeleteRecoveryPoint: "If the recovery
    /// point ID belongs to a continuous backup, calling this endpoint
    /// deletes the existing continuous backup and stops future continuous
    /// backup." The moto extension's delete_recovery_point does the same.
    fn stop_continuous(&mut self, deleted: &RecoveryPoint) {
        if let (true, Some(resource)) = (deleted.is_continuous(), &deleted.resource_arn) {
            self.continuous_stopped.insert(resource.clone());
        }
    }
}

/// A copy of `rp` in `dest` by a copy job that starts at `starts`. Like
/// AWS, the copy keeps the source's creation date and lifecycle dates (AWS
/// Backup developer guide, "Creating backup copies"; the moto extension's
/// CopyJob.complete follows the same rule).
pub(in crate::cloud::sim) fn copy_of(
    rp: &RecoveryPoint,
    from_vault: &str,
    dest: &Vault,
    starts: Timestamp,
    h: u64,
    took: Range<Duration>,
) -> RecoveryPoint {
    let mut copy = rp.clone();
    copy.id = format!(
        "arn:aws:backup:{}:{ACCOUNT}:recovery-point:{}",
        dest.region,
        uuid(h)
    );
    copy.completed_at = Some(after(starts, pick_duration(h, took)));
    copy.vault = Some(dest.name.clone());
    copy.region = dest.region.clone();
    copy.copied_from = Some(from_vault.to_owned());
    copy.encryption_key_arn = dest.kms_key.clone();
    copy
}

/// The role a job runs as must be an IAM role ARN, as AWS Backup checks.
fn check_role(arn: &str) -> Result<(), Refusal> {
    if arn.starts_with("arn:aws:iam::") {
        Ok(())
    } else {
        Err(invalid(
            "InvalidParameterValueException",
            format!("Invalid IAM role ARN `{arn}`"),
        ))
    }
}

/// When `fraction` of a job's time has passed.
fn job_fraction(job: &Job, fraction: f64) -> Timestamp {
    let total = job.ends_at.duration_since(job.created_at).as_secs_f64() * fraction;
    after(job.created_at, Duration::from_secs_f64(total.max(0.0)))
}

/// Why a copy job fails under the fault `copy-job-fails`.
fn copy_failure(resource_type: Option<&str>) -> String {
    let why = if resource_type == Some("DynamoDB") {
        "Copy job failed: cross-Region copy of DynamoDB recovery points needs advanced DynamoDB backup features (aws backup update-region-settings --resource-type-management-preference DynamoDB=true); only points created after the opt-in can be copied"
    } else {
        "Copy job failed: Access denied to the destination vault's KMS key"
    };
    fault_message("copy-job-fails", why)
}

fn fault_message(fault: &str, what: &str) -> String {
    format!("{what} (SIMULATED by fault {fault})")
}

/// (region, name) of `arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME`.
fn parse_vault_arn(arn: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts[..] {
        ["arn", _, "backup", region, _, "backup-vault", name] if !name.is_empty() => {
            Some((region.to_owned(), name.to_owned()))
        }
        _ => None,
    }
}

/// Why a DynamoDB restore's encryption metadata is refused, if it is. AWS
/// Backup documents `encryptionType` `Default` (the DynamoDB-owned key) and
/// `KMS` (with `kmsMasterKeyArn`; without it DynamoDB's AWS managed key)
/// for a restored table (developer guide, "Restore a DynamoDB table",
/// encryption settings; botocore `dynamodb` 2012-08-10,
/// `SSESpecification.KMSMasterKeyId`). Any other type, or a key with
/// `Default`, is refused here and in the moto extension's
/// `start_restore_job`: our reading, not an error text AWS documents.
fn table_encryption_refused(kind: Option<&str>, key: Option<&str>) -> Option<String> {
    match (kind, key) {
        (None, _) => None,
        (Some(t), None) if t.eq_ignore_ascii_case("Default") => None,
        (Some(t), Some(k)) if t.eq_ignore_ascii_case("Default") => Some(format!(
            "Invalid restore metadata: encryptionType Default takes no kmsMasterKeyArn (got {k})"
        )),
        (Some(t), _) if t.eq_ignore_ascii_case("KMS") => None,
        (Some(t), _) => Some(format!(
            "Invalid restore metadata: encryptionType must be Default or KMS, not {t}"
        )),
    }
}
