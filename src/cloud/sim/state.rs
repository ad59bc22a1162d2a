//! The simulated world kept beside a run's journal (`sandbox-world.json`),
//! so a run left and resumed finds the world as it left it: the restore
//! jobs it started, the tables it restored or deleted, and the world's
//! clock where it stopped.
//!
//! The world is generated deterministically from its files and its epoch,
//! so what is kept is small: the epoch, and every change a call made, with
//! the world time it was made at. Reopening generates the same world from
//! the same epoch and makes the same changes again at the same times. This
//! module owns the changes a call can make ([`Change`]) and the file; it
//! writes nowhere but the run's directory.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::fault::Faults;
use super::world::{Items, Refusal, World};
use crate::cloud::{CopyRequest, RestoreRequest, TableState};

/// The file, in the run's directory.
pub const FILE: &str = "sandbox-world.json";

/// The file's format version.
const FORMAT: u32 = 1;

/// A change a call made to the world, with what it needs to be made again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "kebab-case")]
pub(super) enum Change {
    StartRestore {
        request: RestoreRequest,
        region: String,
    },
    StartCopy {
        request: CopyRequest,
        region: String,
    },
    DeleteVaultLock {
        region: String,
        vault: String,
    },
    DeleteRecoveryPoint {
        region: String,
        vault: String,
        point_arn: String,
    },
    RestoreTableFromBackup {
        region: String,
        backup_arn: String,
        target: String,
    },
    RestoreTableToPointInTime {
        region: String,
        source: String,
        target: String,
        time: Option<Timestamp>,
    },
    DeleteTable {
        region: String,
        table: String,
    },
    WriteItems {
        region: String,
        table: String,
        items: Items,
    },
    RestoreObject {
        bucket: String,
        key: String,
        version_id: Option<String>,
        tier: String,
        days: u32,
    },
}

/// What a change answered.
pub(super) enum Done {
    /// A job's id.
    Job(String),
    /// A table's state.
    Table(TableState),
    /// Nothing to tell.
    Nothing,
}

impl Change {
    /// Makes the change on `world` at its time `now`.
    pub(super) fn apply(
        &self,
        world: &mut World,
        now: Timestamp,
        faults: &Faults,
    ) -> Result<Done, Refusal> {
        Ok(match self {
            Change::StartRestore { request, region } => {
                Done::Job(world.start_restore(request, region, now, faults)?)
            }
            Change::StartCopy { request, region } => {
                Done::Job(world.start_copy(request, region, now, faults)?)
            }
            Change::DeleteVaultLock { region, vault } => {
                world.delete_lock(region, vault, now)?;
                Done::Nothing
            }
            Change::DeleteRecoveryPoint {
                region,
                vault,
                point_arn,
            } => {
                world.delete_point(region, vault, point_arn, now)?;
                Done::Nothing
            }
            Change::RestoreTableFromBackup {
                region,
                backup_arn,
                target,
            } => Done::Table(world.restore_from_backup(region, backup_arn, target, now)?),
            Change::RestoreTableToPointInTime {
                region,
                source,
                target,
                time,
            } => Done::Table(world.restore_to_time(region, source, target, *time, now)?),
            Change::DeleteTable { region, table } => {
                Done::Table(world.delete_table(region, table, now)?)
            }
            Change::WriteItems {
                region,
                table,
                items,
            } => {
                world.write_items(region, table, items, now)?;
                Done::Nothing
            }
            Change::RestoreObject {
                bucket,
                key,
                version_id,
                tier,
                days,
            } => {
                world.restore_object(bucket, key, version_id.as_deref(), tier, *days, now)?;
                Done::Nothing
            }
        })
    }
}

/// A change and the world time it was made at.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Made {
    pub at: Timestamp,
    #[serde(flatten)]
    pub change: Change,
}

/// The file's contents.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Saved {
    pub format: u32,
    /// The world's time when it was generated.
    pub epoch: Timestamp,
    /// The world's time when this was written: it goes on from here.
    pub now: Timestamp,
    /// How many times faster than real time it ran.
    pub speed: f64,
    /// Its faults, as `--fault` takes them.
    pub faults: Vec<String>,
    /// Every change, in order.
    pub changes: Vec<Made>,
}

impl Saved {
    pub(super) fn new(
        epoch: Timestamp,
        now: Timestamp,
        speed: f64,
        faults: Vec<String>,
        changes: Vec<Made>,
    ) -> Self {
        Saved {
            format: FORMAT,
            epoch,
            now,
            speed,
            faults,
            changes,
        }
    }
}

/// Reads the kept world of the run in `run_dir`; `None` when there is none.
pub(super) fn read(run_dir: &Path) -> Result<Option<Saved>, String> {
    let path = run_dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let saved: Saved = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a simulated world dr-drill can reopen: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if saved.format != FORMAT {
        return Err(format!(
            "{}: format {} is not the one this dr-drill reads ({FORMAT})",
            path.display(),
            saved.format
        ));
    }
    Ok(Some(saved))
}

/// Writes `saved` into `run_dir` whole (a new file renamed over the old),
/// readable by the operator only.
pub(super) fn write(run_dir: &Path, saved: &Saved) -> std::io::Result<PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = run_dir.join(FILE);
    let partial = run_dir.join(format!("{FILE}.partial"));
    let text = serde_json::to_vec_pretty(saved).map_err(std::io::Error::other)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)?;
    file.write_all(&text)?;
    file.sync_data()?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}
