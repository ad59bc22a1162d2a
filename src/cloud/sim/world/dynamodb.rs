//! DynamoDB in the simulated world: tables, their PITR windows and
//! backups, restores into new tables and item writes. Pure state over
//! `now`; it must not touch the run's files or the clock.

use std::time::Duration;

use jiff::Timestamp;

use super::{
    Items, Refusal, TABLE_DELETE, Table, World, after, hash, invalid, minutes, not_found,
    pick_duration, table_arn,
};
use crate::cloud::points::pitr_point;
use crate::cloud::{PitrStatus, PointKind, RecoveryPoint, TableState};

impl World {
    pub(super) fn live_table(&self, region: &str, name: &str, now: Timestamp) -> Option<&Table> {
        self.tables
            .get(&(region.to_owned(), name.to_owned()))
            .filter(|t| t.exists(now))
    }

    /// A table that exists (maybe still CREATING).
    pub fn table(&self, region: &str, name: &str, now: Timestamp) -> Result<&Table, Refusal> {
        self.live_table(region, name, now).ok_or_else(|| {
            not_found(
                "ResourceNotFoundException",
                format!("Requested resource not found: Table: {name} not found in {region}"),
            )
        })
    }

    /// A table that can be read and written.
    pub fn active_table(
        &self,
        region: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<&Table, Refusal> {
        self.table(region, name, now).and_then(|t| {
            if t.active(now) {
                Ok(t)
            } else {
                Err(not_found(
                    "ResourceNotFoundException",
                    format!("Requested resource not found: Table: {name} is still CREATING"),
                ))
            }
        })
    }

    pub fn describe_table(
        &self,
        region: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<TableState, Refusal> {
        self.table(region, name, now).map(|t| t.state(now))
    }

    /// Deletes a table: it answers DELETING now and is gone a moment later.
    pub fn delete_table(
        &mut self,
        region: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<TableState, Refusal> {
        let mut state = self.table(region, name, now)?.state(now);
        if state.status == "CREATING" {
            return Err(invalid(
                "ResourceInUseException",
                format!(
                    "Attempt to change a resource which is still in use: Table {name} is being created"
                ),
            ));
        }
        if let Some(t) = self.tables.get_mut(&(region.to_owned(), name.to_owned())) {
            t.gone_at = Some(after(now, TABLE_DELETE));
        }
        state.status = "DELETING".into();
        Ok(state)
    }

    pub fn pitr_status(
        &self,
        region: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<PitrStatus, Refusal> {
        let table = self
            .table(region, name, now)
            .map_err(|_| not_found("TableNotFoundException", format!("Table not found: {name}")))?;
        Ok(match table.pitr_window(now) {
            Some((earliest, latest)) => PitrStatus {
                status: "ENABLED".into(),
                earliest: Some(earliest),
                latest: Some(latest),
            },
            None => PitrStatus {
                status: "DISABLED".into(),
                earliest: None,
                latest: None,
            },
        })
    }

    /// A table's on-demand backups (newest first) and its PITR window.
    pub fn list_table(
        &self,
        region: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<Vec<RecoveryPoint>, Refusal> {
        let pitr = self.pitr_status(region, name, now)?;
        let arn = table_arn(region, name);
        let mut points = Vec::new();
        if let (Some(earliest), Some(latest)) = (pitr.earliest, pitr.latest) {
            points.push(pitr_point(name, &arn, region, Some(earliest), latest));
        }
        let mut backups: Vec<RecoveryPoint> = self
            .backups
            .values()
            .filter(|b| b.region == region && b.table == name && b.created_at <= now)
            .map(|b| {
                let mut p = RecoveryPoint::new(
                    b.arn.clone(),
                    PointKind::DynamodbBackup,
                    b.created_at,
                    region.to_owned(),
                );
                p.status = "AVAILABLE".into();
                p.completed_at = Some(after(b.created_at, Duration::from_secs(90)));
                p.size_bytes = Some(b.size_bytes);
                p.resource_arn = Some(b.table_arn.clone());
                p.resource_name = Some(b.table.clone());
                p.resource_type = Some("DynamoDB".into());
                p
            })
            .collect();
        crate::cloud::points::newest_first(&mut backups);
        points.extend(backups);
        Ok(points)
    }

    /// A table's points in every AWS Backup vault of its region, newest
    /// first: ListRecoveryPointsByResource (botocore backup 2018-11-15),
    /// which a table's listing needs because DynamoDB's ListBackups never
    /// lists what AWS Backup made (botocore dynamodb 2012-08-10,
    /// ListBackups; BackupTypeFilter ALL is "USER and SYSTEM").
    pub fn points_by_resource(
        &self,
        region: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<Vec<RecoveryPoint>, Refusal> {
        let arn = table_arn(region, name);
        let mut points: Vec<RecoveryPoint> = self
            .vaults
            .iter()
            .filter(|v| v.region == region)
            .flat_map(|v| v.points.iter())
            .filter(|p| p.rp.resource_arn.as_deref() == Some(arn.as_str()))
            .filter_map(|p| p.view(now))
            .collect();
        crate::cloud::points::newest_first(&mut points);
        Ok(points)
    }

    fn create_table(
        &mut self,
        region: &str,
        target: &str,
        items: Items,
        restored_as_of: Timestamp,
        now: Timestamp,
    ) -> Result<TableState, Refusal> {
        // botocore dynamodb 2012-08-10: RestoreTableFromBackup and
        // RestoreTableToPointInTime list TableAlreadyExistsException ("A
        // target table with the specified name already exists").
        if self.live_table(region, target, now).is_some() {
            return Err(invalid(
                "TableAlreadyExistsException",
                format!("Table already exists: {target}"),
            ));
        }
        let took = pick_duration(hash(&[target, &now.to_string()]), minutes(15, 25));
        let table = Table {
            name: target.to_owned(),
            arn: table_arn(region, target),
            items,
            pitr_days: None,
            created_at: now,
            active_at: after(now, took),
            gone_at: None,
            restored_as_of: Some(restored_as_of),
        };
        let state = table.state(now);
        self.tables
            .insert((region.to_owned(), target.to_owned()), table);
        Ok(state)
    }

    pub fn restore_from_backup(
        &mut self,
        region: &str,
        backup_arn: &str,
        target: &str,
        now: Timestamp,
    ) -> Result<TableState, Refusal> {
        let backup = self
            .backups
            .get(backup_arn)
            .filter(|b| b.region == region && b.created_at <= now)
            .ok_or_else(|| {
                not_found(
                    "BackupNotFoundException",
                    format!("Backup not found: {backup_arn}"),
                )
            })?;
        let (items, as_of) = (backup.items.clone(), backup.created_at);
        self.create_table(region, target, items, as_of, now)
    }

    pub fn restore_to_time(
        &mut self,
        region: &str,
        source: &str,
        target: &str,
        time: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<TableState, Refusal> {
        let table = self.active_table(region, source, now).map_err(|_| {
            not_found(
                "TableNotFoundException",
                format!("Table not found: {source}"),
            )
        })?;
        let Some((earliest, latest)) = table.pitr_window(now) else {
            return Err(invalid(
                "PointInTimeRecoveryUnavailableException",
                format!("Point in time recovery is not enabled for table '{source}'"),
            ));
        };
        if let Some(t) = time.filter(|t| *t < earliest || *t > latest) {
            return Err(invalid(
                "InvalidRestoreTimeException",
                format!(
                    "Restore time {t} is outside the restorable window of {source}: {earliest} to {latest}"
                ),
            ));
        }
        // RestoreSummary.RestoreDateTime: the time asked for, or the
        // window's latest when the restore starts (botocore `dynamodb`
        // 2012-08-10, "point in time or source backup time").
        let items = table.items.clone();
        self.create_table(region, target, items, time.unwrap_or(latest), now)
    }

    /// Writes `items` into a table (a scan-copy's batch writes).
    pub fn write_items(
        &mut self,
        region: &str,
        name: &str,
        items: &Items,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        self.active_table(region, name, now)?;
        let table = self
            .tables
            .get_mut(&(region.to_owned(), name.to_owned()))
            .ok_or_else(|| {
                not_found(
                    "ResourceNotFoundException",
                    format!("Requested resource not found: Table: {name} not found"),
                )
            })?;
        for (origin, n) in items {
            let have = table.items.entry(origin.clone()).or_default();
            *have = (*have).max(*n);
        }
        Ok(())
    }
}
