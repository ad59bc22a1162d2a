//! The simulated world kept beside a run's journal (`sandbox-world.jsonl`),
//! so a run left and resumed finds the world as it left it: the restore
//! jobs it started, the tables it restored or deleted, and the world's
//! clock where it stopped.
//!
//! The world is generated deterministically from its files and its epoch,
//! so what is kept is small: the epoch, and every change a call made, with
//! the world time it was made at. Reopening generates the same world from
//! the same epoch and makes the same changes again at the same times. The
//! file is JSON Lines, appended to: its header (epoch, speed, faults), a
//! line per change, and the world's time each time the run stops. This
//! module owns the changes a call can make ([`Change`]) and the file; it
//! writes nowhere but the run's directory.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::fault::Faults;
use super::world::{Items, Refusal, World};
use crate::cloud::{CopyRequest, RestoreRequest, TableState};

/// The file, in the run's directory.
pub const FILE: &str = "sandbox-world.jsonl";

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
        /// None for an Intelligent-Tiering object (S3 refuses `Days` there).
        #[serde(default)]
        days: Option<u32>,
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
                world.delete_point(region, vault, point_arn, now, faults)?;
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

/// The file's first line: the world a run acts on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Header {
    pub format: u32,
    /// The world's time when it was generated.
    pub epoch: Timestamp,
    /// How many times faster than real time it runs.
    pub speed: f64,
    /// Its faults, as `--fault` takes them.
    pub faults: Vec<String>,
}

impl Header {
    pub(super) fn new(epoch: Timestamp, speed: f64, faults: Vec<String>) -> Self {
        Header {
            format: FORMAT,
            epoch,
            speed,
            faults,
        }
    }
}

/// Every later line: a change, or the world's time when the run stopped.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(super) enum Line {
    /// A change a call made.
    Change(Made),
    /// The world's time when the run stopped: it goes on from here.
    Stopped { stopped: Timestamp },
}

/// A kept world as read back.
#[derive(Debug, Clone)]
pub(super) struct Saved {
    pub header: Header,
    /// Every change, in order.
    pub changes: Vec<Made>,
    /// The world's time when the run last stopped.
    pub stopped: Option<Timestamp>,
}

/// Reads the kept world of the run in `run_dir`; `None` when there is none.
/// A last line cut short (the process died mid-write) is ignored.
pub(super) fn read(run_dir: &Path) -> Result<Option<Saved>, String> {
    let path = run_dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let bad = |line: usize, e: serde_json::Error| {
        format!(
            "{}:{}:{}: not a simulated world dr-drill can reopen: {e}",
            path.display(),
            line + 1,
            e.column()
        )
    };
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    let mut lines = complete.lines().enumerate();
    let Some((_, first)) = lines.next() else {
        return Ok(None);
    };
    let header: Header = serde_json::from_str(first).map_err(|e| bad(0, e))?;
    if header.format != FORMAT {
        return Err(format!(
            "{}: format {} is not the one this dr-drill reads ({FORMAT})",
            path.display(),
            header.format
        ));
    }
    let mut saved = Saved {
        header,
        changes: Vec::new(),
        stopped: None,
    };
    for (n, line) in lines {
        match serde_json::from_str(line).map_err(|e| bad(n, e))? {
            Line::Change(made) => saved.changes.push(made),
            Line::Stopped { stopped } => saved.stopped = Some(stopped),
        }
    }
    Ok(Some(saved))
}

/// The kept world of a run, open to append to.
#[derive(Debug)]
pub(super) struct Keeper {
    path: PathBuf,
    file: std::fs::File,
}

impl Keeper {
    /// Opens the file in `run_dir` to append (readable by the operator
    /// only), writing `header` first when it is new.
    pub(super) fn open(run_dir: &Path, header: &Header) -> std::io::Result<Keeper> {
        let path = run_dir.join(FILE);
        let mut file = crate::fsx::append_private_file(&path)?;
        // Cut a half-written last line away before appending.
        let text = std::fs::read(&path)?;
        let keep = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if keep < text.len() {
            file.set_len(keep as u64)?;
        }
        if keep == 0 {
            let mut line = serde_json::to_string(header).map_err(std::io::Error::other)?;
            line.push('\n');
            std::io::Write::write_all(&mut file, line.as_bytes())?;
        }
        Ok(Keeper { path, file })
    }

    /// Appends `line`; it reaches the operating system before this returns.
    pub(super) fn append(&mut self, line: &Line) -> std::io::Result<()> {
        let mut text = serde_json::to_string(line).map_err(std::io::Error::other)?;
        text.push('\n');
        std::io::Write::write_all(&mut self.file, text.as_bytes())
    }

    /// The file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }
}
