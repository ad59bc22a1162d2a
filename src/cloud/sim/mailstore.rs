//! The simulated world's mailstores on disk: what an EFS filesystem of the
//! world holds when a run mounts it under its own directory, and what an
//! item-level restore into it writes. Only a run's directory is written
//! (`<run dir>/sandbox-efs/<fs-id>/`), never anything else.
//!
//! Each mailbox gets one message a day for the 30 days before the world's
//! start (09:00 UTC; every seventh also in `.Archive`); the messages of 3 to
//! 5 days ago are missing from the live mailbox, as if the user deleted them
//! this morning, so last night's recovery point still holds them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;

use super::world::{EfsRestore, Filesystem, after, before, hash};

/// The directory, under a run's directory, holding the world's mailstores.
pub const DIR: &str = "sandbox-efs";

const DAYS: u64 = 30;

/// One message: its path inside the mailbox, when it came, how many days
/// before the world's start, its bytes.
type Message = (String, Timestamp, u64, Vec<u8>);

/// `user`'s messages, newest first.
fn messages(fs_id: &str, user: &str, epoch: Timestamp) -> Vec<Message> {
    let midnight = epoch
        .strftime("%Y-%m-%dT00:00:00Z")
        .to_string()
        .parse::<Timestamp>()
        .unwrap_or(epoch);
    let mut out = Vec::new();
    for day in 0..DAYS {
        let at = after(
            before(midnight, Duration::from_secs(day * 86_400)),
            Duration::from_secs(9 * 3600),
        );
        let h = hash(&[fs_id, user, &day.to_string()]);
        let name = format!(
            "{}.M{}P{}.cabal-imap:2,S",
            at.as_second(),
            h % 1_000_000,
            day
        );
        let body = format!(
            "From: newsletter@example.org\r\nTo: {user}@example.com\r\nDate: {}\r\nSubject: Message {day} days before the drill\r\n\r\nSIMULATED mail of the sandbox's mailstore.\r\n",
            at.strftime("%a, %d %b %Y %H:%M:%S +0000")
        );
        out.push((
            format!("Maildir/cur/{name}"),
            at,
            day,
            body.clone().into_bytes(),
        ));
        if day % 7 == 0 {
            out.push((
                format!("Maildir/.Archive/cur/{name}"),
                at,
                day,
                body.into_bytes(),
            ));
        }
    }
    out
}

/// Whether the user has deleted the message of this day (3 to 5 days
/// before the world's start).
fn deleted(day: u64) -> bool {
    (3..=5).contains(&day)
}

fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        crate::fsx::create_private_dir(parent)?;
    }
    crate::fsx::write_private(path, bytes)
}

/// Lays out every mailbox of `filesystems` under `root` as it is now,
/// unless `root` exists already (a resumed run keeps what it changed).
pub fn lay_out<'a>(
    root: &Path,
    filesystems: impl Iterator<Item = (&'a String, &'a Filesystem)>,
    epoch: Timestamp,
) -> std::io::Result<()> {
    if root.exists() {
        return Ok(());
    }
    for (fs_id, fs) in filesystems {
        for user in &fs.mailboxes {
            let home = root.join(fs_id).join(user);
            for sub in ["Maildir/new", "Maildir/tmp", "Maildir/cur"] {
                crate::fsx::create_private_dir(&home.join(sub))?;
            }
            for (path, _, day, bytes) in messages(fs_id, user, epoch) {
                if !deleted(day) {
                    write(&home.join(path), &bytes)?;
                }
            }
        }
    }
    Ok(())
}

/// Writes the recovery directory of a completed item-level restore, as EFS
/// does: `aws-backup-restore_<time>` at the filesystem's root, holding each
/// item (with its hierarchy) as of the recovery point. Returns its path.
pub fn write_recovery(
    root: &Path,
    restore: &EfsRestore,
    completed: Timestamp,
    epoch: Timestamp,
) -> std::io::Result<PathBuf> {
    let dir = root.join(&restore.fs_id).join(format!(
        "aws-backup-restore_{}",
        completed.strftime("%Y-%m-%dT%H-%M-%SZ")
    ));
    crate::fsx::create_private_dir(&dir)?;
    for item in &restore.items {
        let item = item.trim_matches('/');
        let (user, rest) = item.split_once('/').unwrap_or((item, ""));
        for (path, at, _, bytes) in messages(&restore.fs_id, user, epoch) {
            if at < restore.as_of && (rest.is_empty() || path.starts_with(rest)) {
                write(&dir.join(user).join(path), &bytes)?;
            }
        }
    }
    Ok(dir)
}
