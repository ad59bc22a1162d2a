//! Following a run as it goes, read-only: a [`Follow`] source yields the
//! run's journal header, then its new events in order, and says who
//! drives the run, whether it has ended and whether news stopped.
//! [`JournalFollower`] reads a local `journal.jsonl` as it grows;
//! [`TeamFollower`] reads a team run's shared log
//! ([`crate::team::TeamStore`]).
//!
//! Nothing here writes anything or touches a run's lock: watching never
//! affects the run. Every byte read is hostile: the journal reader's caps
//! ([`MAX_JOURNAL_LINE`], [`MAX_JOURNAL_EVENTS`]) hold, and a journal
//! that shrinks or whose earlier bytes change is an error naming it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use tokio::time::Instant;

use crate::engine::event::{EventKind, RunEvent};
use crate::engine::journal::{
    self, JournalError, JournalHeader, MAX_JOURNAL_EVENTS, MAX_JOURNAL_LINE,
};
use crate::team::{RunState, TeamError, TeamStore};

/// How often a local journal is read for new lines.
pub const JOURNAL_POLL: Duration = Duration::from_millis(250);
/// How often a team run's shared log and lease are read.
pub const TEAM_POLL: Duration = Duration::from_secs(1);
/// A lease unchanged this long means news stopped.
pub const QUIET_AFTER: Duration = Duration::from_secs(40);
/// Lines asked of the shared log at once.
const TEAM_PAGE: usize = 500;
/// Bytes of a local journal read at one poll at most (the rest at the
/// next): a huge journal is taken in pieces, never whole.
const READ_PER_POLL: usize = MAX_JOURNAL_LINE + 1;
/// Bytes at the start and before the read point compared at each poll, to
/// see a journal rewritten under the watcher.
const CHECKED_BYTES: usize = 4096;

/// Why a run cannot be followed (any further).
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The journal cannot be read, or a line of it is damaged.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The journal is shorter than what was read of it already.
    #[error(
        "journal {path}: it shrank to {now} bytes while being watched ({read} were read); it was truncated or replaced, so what it says now is not followed: look at it, and watch again"
    )]
    Shrunk {
        /// The journal.
        path: PathBuf,
        /// Its length now.
        now: u64,
        /// How much of it was read.
        read: u64,
    },
    /// Bytes already read are not what they were.
    #[error(
        "journal {path}: bytes already read changed while being watched (journals are only appended to); it was edited or replaced, so it is not followed: look at it, and watch again"
    )]
    Rewritten {
        /// The journal.
        path: PathBuf,
    },
    /// The shared table said no, or could not be reached.
    #[error(transparent)]
    Team(#[from] TeamError),
    /// A line of the shared log is not a journal line.
    #[error(
        "table {table}, run {run}, line {seq}: {message}; the shared log is damaged there, so the run is not followed past it"
    )]
    Damaged {
        /// The table.
        table: String,
        /// The run.
        run: String,
        /// The line's sequence number.
        seq: u64,
        /// What is wrong.
        message: String,
    },
}

/// What a follower knows besides the events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct News {
    /// Who drives the run (the header's operator, the resumer's, or the
    /// lease holder's).
    pub driver: String,
    /// How the run ended, once it has (`succeeded`, `failed`, ...).
    pub ended: Option<String>,
    /// Why no news comes, when none does (the driver is gone or silent).
    pub quiet: Option<String>,
}

/// A run followed as it goes: its header, then its events in order.
#[async_trait]
pub trait Follow: Send {
    /// The run's journal header (line 0).
    fn header(&self) -> &JournalHeader;
    /// How often to ask for news.
    fn every(&self) -> Duration;
    /// The events written since the last call, in order (none when none).
    async fn poll(&mut self) -> Result<Vec<RunEvent>, FollowError>;
    /// Who drives, whether the run ended, whether news stopped.
    fn news(&self) -> News;
}

/// Whether a run's `run.lock` is held by a live process now: `Some(pid)`
/// when it is. Read without taking the lock (taking it, even for a moment,
/// could refuse a `resume` starting then): the pid the holder wrote, and
/// whether that process lives.
pub fn lock_holder(run_dir: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(run_dir.join("run.lock")).ok()?;
    let pid: i32 = text.trim().parse().ok().filter(|p| *p > 0)?;
    // kill(pid, 0) sends nothing: it says whether the process exists
    // (EPERM: it does, under another user).
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) | Err(nix::errno::Errno::EPERM) => Some(pid),
        Err(_) => None,
    }
}

/// A local journal read as it grows.
pub struct JournalFollower {
    path: PathBuf,
    header: JournalHeader,
    /// The file's identity, to see it replaced.
    ino: u64,
    /// Bytes consumed: the end of the last complete line read.
    consumed: u64,
    /// A line begun but not yet ended (a torn tail waits).
    pending: Vec<u8>,
    /// The first bytes of the journal, as first read.
    head: Vec<u8>,
    /// The bytes just before `consumed`, as read.
    tail: Vec<u8>,
    /// The line number of the next line (1-based; the header is 1).
    line: usize,
    events: usize,
    news: News,
    /// When the journal last grew, by the file's clock.
    written_at: Option<Timestamp>,
}

impl JournalFollower {
    /// Opens the journal at `path`: its header must be whole and sound.
    pub fn open(path: &Path) -> Result<Self, FollowError> {
        let io_err = |source| JournalError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = File::open(path).map_err(io_err)?;
        let ino = std::os::unix::fs::MetadataExt::ino(&file.metadata().map_err(io_err)?);
        let mut first = Vec::new();
        Read::take(&mut file, MAX_JOURNAL_LINE as u64 + 1)
            .read_to_end(&mut first)
            .map_err(io_err)?;
        let corrupt = |message: &str| JournalError::Corrupt {
            path: path.to_owned(),
            line: 1,
            message: message.into(),
        };
        let Some(end) = first.iter().position(|&b| b == b'\n') else {
            return Err(corrupt(if first.is_empty() {
                "the journal is empty"
            } else {
                "the header line is not complete"
            })
            .into());
        };
        let text = std::str::from_utf8(&first[..end])
            .map_err(|e| corrupt(&format!("not a journal header ({e})")))?;
        let header = journal::read_header(path, text)?;
        let consumed = end as u64 + 1;
        let head = first[..(end + 1).min(CHECKED_BYTES)].to_vec();
        let tail = first[(end + 1).saturating_sub(CHECKED_BYTES)..=end].to_vec();
        Ok(Self {
            path: path.to_owned(),
            news: News {
                driver: header.operator.clone(),
                ..News::default()
            },
            header,
            ino,
            consumed,
            pending: Vec::new(),
            head,
            tail,
            line: 2,
            events: 0,
            written_at: None,
        })
    }

    /// The journal followed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_unchanged(&self, file: &mut File, len: u64) -> Result<(), FollowError> {
        let read = self.consumed + self.pending.len() as u64;
        if len < read {
            return Err(FollowError::Shrunk {
                path: self.path.clone(),
                now: len,
                read,
            });
        }
        let io_err = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        let mut same = |at: u64, expected: &[u8]| -> Result<bool, FollowError> {
            let mut now = vec![0; expected.len()];
            file.seek(SeekFrom::Start(at)).map_err(io_err)?;
            file.read_exact(&mut now).map_err(io_err)?;
            Ok(now == expected)
        };
        if !same(0, &self.head)? || !same(self.consumed - self.tail.len() as u64, &self.tail)? {
            return Err(FollowError::Rewritten {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    fn take_line(&mut self, bytes: &[u8]) -> Result<Option<RunEvent>, FollowError> {
        let number = self.line;
        self.line += 1;
        let corrupt = |message: String| JournalError::Corrupt {
            path: self.path.clone(),
            line: number,
            message,
        };
        if self.events >= MAX_JOURNAL_EVENTS {
            return Err(corrupt(format!(
                "more than {MAX_JOURNAL_EVENTS} events, far more than a run writes: the journal is forged or damaged"
            ))
            .into());
        }
        let event: RunEvent =
            serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not an event ({e})")))?;
        self.events += 1;
        match &event.kind {
            EventKind::RunFinished { outcome } => self.news.ended = Some(outcome.word().into()),
            EventKind::RunResumed { operator, .. } if !operator.is_empty() => {
                self.news.driver = operator.clone();
                self.news.ended = None;
            }
            _ => {}
        }
        Ok(Some(event))
    }
}

#[async_trait]
impl Follow for JournalFollower {
    fn header(&self) -> &JournalHeader {
        &self.header
    }

    fn every(&self) -> Duration {
        JOURNAL_POLL
    }

    async fn poll(&mut self) -> Result<Vec<RunEvent>, FollowError> {
        let io_err = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        let mut file = File::open(&self.path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if std::os::unix::fs::MetadataExt::ino(&meta) != self.ino {
            return Err(FollowError::Rewritten {
                path: self.path.clone(),
            });
        }
        self.check_unchanged(&mut file, meta.len())?;
        let from = self.consumed + self.pending.len() as u64;
        file.seek(SeekFrom::Start(from)).map_err(io_err)?;
        let mut fresh = Vec::new();
        Read::take(&mut file, READ_PER_POLL as u64)
            .read_to_end(&mut fresh)
            .map_err(io_err)?;
        if !fresh.is_empty() {
            self.written_at = meta
                .modified()
                .ok()
                .and_then(|t| Timestamp::try_from(t).ok());
        }
        self.pending.extend_from_slice(&fresh);
        let mut events = Vec::new();
        let mut start = 0;
        let pending = std::mem::take(&mut self.pending);
        while let Some(i) = pending[start..].iter().position(|&b| b == b'\n') {
            let line = &pending[start..start + i];
            if line.len() > MAX_JOURNAL_LINE {
                return Err(self.too_long().into());
            }
            events.extend(self.take_line(line)?);
            start += i + 1;
        }
        if start > 0 {
            self.consumed += start as u64;
            self.tail.extend_from_slice(&pending[..start]);
            let cut = self.tail.len().saturating_sub(CHECKED_BYTES);
            self.tail.drain(..cut);
        }
        self.pending = pending[start..].to_vec();
        if self.pending.len() > MAX_JOURNAL_LINE {
            return Err(self.too_long().into());
        }
        self.news.quiet = match (&self.news.ended, self.run_dir().and_then(lock_holder)) {
            (None, None) => Some(format!(
                "no dr-drill process drives it now (its run.lock is free); the journal was last written {}",
                self.written_at
                    .map_or("before watching began".into(), |t| format!(
                        "at {}",
                        crate::format::timestamp(t)
                    ))
            )),
            _ => None,
        };
        Ok(events)
    }

    fn news(&self) -> News {
        self.news.clone()
    }
}

impl JournalFollower {
    fn run_dir(&self) -> Option<&Path> {
        self.path.parent()
    }

    fn too_long(&self) -> JournalError {
        JournalError::Corrupt {
            path: self.path.clone(),
            line: self.line,
            message: format!(
                "the line is longer than {} MiB, more than dr-drill ever writes",
                MAX_JOURNAL_LINE / (1024 * 1024)
            ),
        }
    }
}

/// A team run's shared log, read as it grows, and its lease.
pub struct TeamFollower<'a> {
    store: &'a dyn TeamStore,
    run: String,
    header: JournalHeader,
    next_seq: u64,
    news: News,
    /// The lease's `rvn` as last seen, when it was first seen (by this
    /// process's clock), and the heartbeat it told.
    seen: Option<(String, Instant, Timestamp)>,
}

impl<'a> TeamFollower<'a> {
    /// Opens run `run` of `store`: its line 0 must be a sound header.
    pub async fn open(store: &'a dyn TeamStore, run: &str) -> Result<Self, FollowError> {
        let first = store.read_log(run, 0, 1).await?;
        let Some((0, line)) = first.into_iter().next() else {
            return Err(TeamError::NoRun {
                table: store.table().into(),
                run: run.into(),
            }
            .into());
        };
        let damaged = |message: String| FollowError::Damaged {
            table: store.table().into(),
            run: run.into(),
            seq: 0,
            message,
        };
        if line.len() > MAX_JOURNAL_LINE {
            return Err(damaged("the header is longer than a journal line".into()));
        }
        let place = PathBuf::from(format!("dynamodb table {}, run {run}", store.table()));
        let header = journal::read_header(&place, &line).map_err(|e| damaged(e.to_string()))?;
        if header.run_id != run {
            return Err(damaged(format!(
                "the header names run {}, not {run}",
                crate::format::printable(&header.run_id)
            )));
        }
        Ok(Self {
            store,
            run: run.into(),
            news: News {
                driver: header.operator.clone(),
                ..News::default()
            },
            header,
            next_seq: 1,
            seen: None,
        })
    }

    async fn read_lease(&mut self) -> Result<(), FollowError> {
        let Some(lease) = self.store.lease(&self.run).await? else {
            return Ok(());
        };
        self.news.driver = format!("{} ({})", lease.holder.name, lease.holder.arn);
        if lease.state == RunState::Finished && self.news.ended.is_none() {
            self.news.ended = Some(lease.status.outcome.clone().unwrap_or("ended".into()));
        }
        let now = Instant::now();
        match &self.seen {
            Some((rvn, _, _)) if *rvn == lease.rvn => {}
            _ => self.seen = Some((lease.rvn.clone(), now, lease.heartbeat_at)),
        }
        self.news.quiet = match (&self.seen, lease.state) {
            (Some((_, since, heartbeat)), RunState::Driving)
                if self.news.ended.is_none() && now.duration_since(*since) >= QUIET_AFTER =>
            {
                Some(format!(
                    "no news for {}: last heartbeat at {}",
                    crate::format::humanize(now.duration_since(*since)),
                    crate::format::timestamp(*heartbeat)
                ))
            }
            (_, RunState::Released) if self.news.ended.is_none() => {
                Some("the driver stopped before the end; nobody drives it now".into())
            }
            _ => None,
        };
        Ok(())
    }
}

#[async_trait]
impl Follow for TeamFollower<'_> {
    fn header(&self) -> &JournalHeader {
        &self.header
    }

    fn every(&self) -> Duration {
        TEAM_POLL
    }

    async fn poll(&mut self) -> Result<Vec<RunEvent>, FollowError> {
        let mut events = Vec::new();
        loop {
            let lines = self
                .store
                .read_log(&self.run, self.next_seq, TEAM_PAGE)
                .await?;
            let full = lines.len() == TEAM_PAGE;
            for (seq, line) in lines {
                // Only the next line in order is taken; a gap waits.
                if seq != self.next_seq {
                    break;
                }
                let damaged = |message: String| FollowError::Damaged {
                    table: self.store.table().into(),
                    run: self.run.clone(),
                    seq,
                    message,
                };
                if seq as usize > MAX_JOURNAL_EVENTS {
                    return Err(damaged(format!(
                        "more than {MAX_JOURNAL_EVENTS} events, far more than a run writes"
                    )));
                }
                if line.len() > MAX_JOURNAL_LINE {
                    return Err(damaged("longer than a journal line".into()));
                }
                let event: RunEvent = serde_json::from_str(&line)
                    .map_err(|e| damaged(format!("not an event ({e})")))?;
                if let EventKind::RunFinished { outcome } = &event.kind {
                    self.news.ended = Some(outcome.word().into());
                }
                events.push(event);
                self.next_seq += 1;
            }
            if !full || events.len() >= 10 * TEAM_PAGE {
                break;
            }
        }
        self.read_lease().await?;
        Ok(events)
    }

    fn news(&self) -> News {
        self.news.clone()
    }
}

#[cfg(test)]
#[path = "follow_tests.rs"]
mod tests;
