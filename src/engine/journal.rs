//! The crash-safe journal of a run: append-only JSON Lines, one header
//! record (the runbook's full text and hash, params with secrets redacted,
//! mode, operator) and then one line per event.
//!
//! Writes happen on a dedicated thread, never on the async runtime. Every
//! line reaches the operating system before the next event is taken (so a
//! killed console loses nothing), and evidence events are fsync'd before
//! the engine acts on them (so a lost machine loses nothing either).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, mpsc};
use std::thread::JoinHandle;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use tokio::sync::oneshot;

use super::event::RunEvent;
use crate::runbook::Mode;

/// The journal's format version.
pub const JOURNAL_FORMAT: u32 = 1;

/// Shown instead of a secret parameter's value.
pub const REDACTED: &str = "[redacted]";

/// The first line of a journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalHeader {
    /// Journal format version.
    pub journal_format: u32,
    /// The run's id, also its directory name.
    pub run_id: String,
    /// Where the runbook was read from.
    pub runbook_path: PathBuf,
    /// SHA-256 of the runbook text, hex.
    pub runbook_sha256: String,
    /// The runbook's full text, as run.
    pub runbook_text: String,
    /// Drill or incident.
    pub mode: Mode,
    /// T0 of the run.
    pub t0: Timestamp,
    /// When the run started.
    pub started_at: Timestamp,
    /// `user@host` of the operator.
    pub operator: String,
    /// Parameter values; secret ones are [`REDACTED`].
    pub params: BTreeMap<String, String>,
    /// The dr-drill version that started the run.
    pub dr_drill_version: String,
    /// The world the run acts on; `None` in journals written before
    /// dr-drill recorded it (they resume as the command line says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<WorldRecord>,
    /// Who holds each role (`--role`, the start form); absent in solo
    /// journals without roles and in journals written before roles.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: crate::engine::participant::Roles,
    /// Who drove the run, as the world's `GetCallerIdentity` told it;
    /// absent when it told no one, and in journals written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<crate::engine::participant::Participant>,
}

/// The world a run acts on, as its journal records it, so `resume` acts on
/// the same one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WorldRecord {
    /// The simulated world; its state is kept beside the journal
    /// (`sandbox-world.jsonl`).
    Sandbox {
        /// How many times faster than real time it runs.
        speed: f64,
        /// Injected faults, as `--fault` takes them.
        #[serde(default)]
        faults: Vec<String>,
        /// The world's time when it was generated: the same world is
        /// generated again from it.
        epoch: Timestamp,
    },
    /// AWS.
    Aws {
        /// The account the credentials belonged to, when they told it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account: Option<String>,
        /// The default region.
        region: String,
        /// The named profile, if one was selected.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        profile: Option<String>,
        /// Another endpoint, when not AWS's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
    },
}

impl WorldRecord {
    /// One line for people: `the sandbox (speed 60×)` or `AWS account
    /// 1234 in eu-west-1 (profile dr)`.
    pub fn describe(&self) -> String {
        match self {
            WorldRecord::Sandbox { speed, faults, .. } => {
                let faults = if faults.is_empty() {
                    String::new()
                } else {
                    format!(", faults {}", faults.join(", "))
                };
                format!("the sandbox (speed {speed}{faults})")
            }
            WorldRecord::Aws {
                account,
                region,
                profile,
                endpoint,
            } => {
                let mut out = match account {
                    Some(a) => format!("AWS account {a} in {region}"),
                    None => format!("AWS (account unknown) in {region}"),
                };
                if let Some(p) = profile {
                    out.push_str(&format!(", profile {p}"));
                }
                if let Some(e) = endpoint {
                    out.push_str(&format!(", endpoint {e}"));
                }
                out
            }
        }
    }
}

/// SHA-256 of a runbook's text, hex.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// A journal's records as read back.
#[derive(Debug, Clone)]
pub struct JournalContents {
    /// The header.
    pub header: JournalHeader,
    /// The events, in order.
    pub events: Vec<RunEvent>,
    /// Whether the last line was cut short (the console died mid-write);
    /// it is ignored, and truncated away when the journal is reopened.
    pub torn_tail: bool,
}

/// Why a journal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Reading or writing failed.
    #[error("journal {path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A line is not a journal record.
    #[error(
        "journal {path}, line {line}: {message}; the journal is damaged before its last line, so it cannot be resumed safely"
    )]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The header's runbook text is not the text its hash was taken of:
    /// the journal was edited, and what it says would run is not what ran.
    #[error(
        "journal {path}, line 1: the runbook text recorded in the header does not match its recorded SHA-256 ({recorded}; the text hashes to {actual}); the journal was edited after it was written, so it is not used: restore the journal from a backup, or start a new run from the runbook"
    )]
    RunbookTextChanged {
        /// The journal file.
        path: PathBuf,
        /// The hash the header records.
        recorded: String,
        /// The hash of the text it holds.
        actual: String,
    },
    /// The writer thread is gone.
    #[error("the journal writer stopped; the run cannot record evidence and stops")]
    WriterGone,
    /// A write failed earlier; nothing more is recorded.
    #[error("journal {path}: a write failed ({message}); the run cannot record evidence and stops")]
    WriteFailed {
        /// The journal file.
        path: PathBuf,
        /// The first error.
        message: String,
    },
    /// The team's shared log refused this process's line: another
    /// process drives the run now, so this one stops without acting.
    #[error("{reason}")]
    Fenced {
        /// Who drives now and what to do, as the shared log said it.
        reason: String,
    },
    /// Another dr-drill process is running this run.
    #[error(
        "run {run_dir} is in use by another dr-drill process (pid {pid}); wait for it to end, or stop it, before resuming"
    )]
    InUse {
        /// The run's directory.
        run_dir: PathBuf,
        /// The holder's process id, as it wrote it.
        pid: String,
    },
}

/// An exclusive lock on a run's directory, held while a process runs it:
/// two consoles never drive one run.
#[derive(Debug)]
pub struct RunLock {
    _lock: nix::fcntl::Flock<File>,
}

/// Takes the lock of `run_dir` (created if need be), or says who holds it.
pub fn lock_run(run_dir: &Path) -> Result<RunLock, JournalError> {
    let path = run_dir.join("run.lock");
    let io_err = |source| JournalError::Io {
        path: path.clone(),
        source,
    };
    crate::fsx::create_private_dir(run_dir).map_err(io_err)?;
    let file = crate::fsx::open_private_file(&path).map_err(io_err)?;
    match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
        Ok(mut lock) => {
            lock.set_len(0).map_err(io_err)?;
            write!(lock, "{}", std::process::id()).map_err(io_err)?;
            Ok(RunLock { _lock: lock })
        }
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Err(JournalError::InUse {
            run_dir: run_dir.to_owned(),
            pid: std::fs::read_to_string(&path)
                .unwrap_or_default()
                .trim()
                .to_owned(),
        }),
        Err((_, errno)) => Err(io_err(errno.into())),
    }
}

/// Parses a journal's first line, `line`, and checks it: the runbook text
/// it holds must hash to the SHA-256 it records. Every reader of a journal
/// (resume, report, watch) goes through here, whether it reads the rest
/// whole or as a stream.
pub fn read_header(path: &Path, line: &str) -> Result<JournalHeader, JournalError> {
    let header: JournalHeader = serde_json::from_str(line).map_err(|e| JournalError::Corrupt {
        path: path.to_owned(),
        line: 1,
        message: format!("not a journal header ({e})"),
    })?;
    let actual = sha256_hex(&header.runbook_text);
    if !actual.eq_ignore_ascii_case(header.runbook_sha256.trim()) {
        return Err(JournalError::RunbookTextChanged {
            path: path.to_owned(),
            recorded: if header.runbook_sha256.len() == 64
                && header.runbook_sha256.bytes().all(|b| b.is_ascii_hexdigit())
            {
                header.runbook_sha256.clone()
            } else {
                "not a SHA-256".into()
            },
            actual,
        });
    }
    Ok(header)
}

/// Longest journal line read back. Written lines stay far below it (output
/// is cut at 64 KiB a piece); a longer one is damage or a forgery, and
/// reading stops there instead of holding it in memory.
pub const MAX_JOURNAL_LINE: usize = 8 * 1024 * 1024;

/// Most events read back from one journal. A real run writes a few
/// thousand (each attempt's journaled output is capped at 512 KiB); a
/// journal with more is forged or damaged, and reading stops there instead
/// of holding millions of events in memory.
pub const MAX_JOURNAL_EVENTS: usize = 1_000_000;

/// Reads a journal as a stream, line by line (never whole), tolerating a
/// half-written last line; at most [`MAX_JOURNAL_EVENTS`] events.
pub fn read(path: &Path) -> Result<JournalContents, JournalError> {
    read_at_most(path, MAX_JOURNAL_EVENTS)
}

/// [`read`], refusing a journal of more than `max_events` events.
pub fn read_at_most(path: &Path, max_events: usize) -> Result<JournalContents, JournalError> {
    let io_err = |source| JournalError::Io {
        path: path.to_owned(),
        source,
    };
    let corrupt = |line: usize, message: String| JournalError::Corrupt {
        path: path.to_owned(),
        line,
        message,
    };
    let mut reader = io::BufReader::new(File::open(path).map_err(io_err)?);
    let mut buf = Vec::new();
    // Reads the next line: `None` at the end, else whether it was complete.
    let mut next = |number: usize, buf: &mut Vec<u8>| -> Result<Option<bool>, JournalError> {
        buf.clear();
        let limit = MAX_JOURNAL_LINE as u64 + 1;
        let n = io::Read::take(&mut reader, limit)
            .read_until(b'\n', buf)
            .map_err(io_err)?;
        if n == 0 {
            return Ok(None);
        }
        let complete = buf.ends_with(b"\n");
        if !complete && buf.len() > MAX_JOURNAL_LINE {
            return Err(corrupt(
                number,
                format!(
                    "the line is longer than {} MiB, more than dr-drill ever writes",
                    MAX_JOURNAL_LINE / (1024 * 1024)
                ),
            ));
        }
        if complete {
            buf.pop();
        }
        Ok(Some(complete))
    };
    if next(1, &mut buf)?.is_none() {
        return Err(corrupt(1, "the journal is empty".into()));
    }
    let first =
        std::str::from_utf8(&buf).map_err(|e| corrupt(1, format!("not a journal header ({e})")))?;
    let header = read_header(path, first)?;
    let mut events = Vec::new();
    let mut torn_tail = false;
    let mut number = 1;
    loop {
        number += 1;
        let Some(complete) = next(number, &mut buf)? else {
            break;
        };
        if events.len() >= max_events {
            return Err(corrupt(
                number,
                format!(
                    "more than {max_events} events, far more than a run writes: the journal is forged or damaged; start a new run instead of resuming this one"
                ),
            ));
        }
        match serde_json::from_slice::<RunEvent>(&buf) {
            Ok(event) => events.push(event),
            Err(_) if !complete => torn_tail = true,
            Err(e) => return Err(corrupt(number, format!("not an event ({e})"))),
        }
    }
    Ok(JournalContents {
        header,
        events,
        torn_tail,
    })
}

enum Command {
    Line {
        text: String,
        ack: Option<oneshot::Sender<io::Result<()>>>,
    },
}

/// Appends to a journal from async code.
#[derive(Debug)]
pub struct JournalWriter {
    path: PathBuf,
    tx: Option<mpsc::Sender<Command>>,
    thread: Option<JoinHandle<()>>,
    /// The first write error, set by the writer thread.
    failed: Arc<OnceLock<String>>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

impl JournalWriter {
    /// Creates a new journal (the file must not exist) and makes its
    /// header durable.
    pub fn create(path: &Path, header: &JournalHeader) -> Result<Self, JournalError> {
        let io_err = |source| JournalError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            crate::fsx::create_private_dir(dir).map_err(io_err)?;
        }
        let mut file = crate::fsx::create_new_private_file(path).map_err(io_err)?;
        let mut line = serde_json::to_string(header).map_err(|e| io_err(e.into()))?;
        line.push('\n');
        file.write_all(line.as_bytes()).map_err(io_err)?;
        file.sync_all().map_err(io_err)?;
        sync_dir(path).map_err(io_err)?;
        Ok(Self::spawn(path, file))
    }

    /// Reopens a journal to append after a resume, first cutting away a
    /// half-written last line.
    pub fn reopen(path: &Path) -> Result<Self, JournalError> {
        let io_err = |source| JournalError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        let keep = end_of_last_line(&mut file, len).map_err(io_err)?;
        if keep < len {
            file.set_len(keep).map_err(io_err)?;
            file.sync_all().map_err(io_err)?;
        }
        let mut file = file;
        std::io::Seek::seek(&mut file, io::SeekFrom::End(0)).map_err(io_err)?;
        Ok(Self::spawn(path, file))
    }

    fn spawn(path: &Path, file: File) -> Self {
        let (tx, rx) = mpsc::channel::<Command>();
        let failed = Arc::new(OnceLock::new());
        let thread = {
            let failed = failed.clone();
            std::thread::Builder::new()
                .name("journal".into())
                .spawn(move || write_loop(file, rx, &failed))
                .ok()
        };
        Self {
            path: path.to_owned(),
            tx: Some(tx),
            thread,
            failed,
        }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues `event` behind every line queued before it. For a durable
    /// line, the returned [`Written`] resolves once it is fsync'd.
    pub fn queue(&self, event: &RunEvent, durable: bool) -> Result<Written, JournalError> {
        let text = serde_json::to_string(event).map_err(|e| JournalError::Io {
            path: self.path.clone(),
            source: e.into(),
        })?;
        self.queue_line(&text, durable)
    }

    /// Queues `line`, an event serialized once by the recorder (which
    /// hands the same text to the team's mirror), behind every line queued
    /// before it.
    pub fn queue_line(&self, line: &str, durable: bool) -> Result<Written, JournalError> {
        if let Some(message) = self.failed.get() {
            return Err(JournalError::WriteFailed {
                path: self.path.clone(),
                message: message.clone(),
            });
        }
        let mut text = String::with_capacity(line.len() + 1);
        text.push_str(line);
        text.push('\n');
        let tx = self.tx.as_ref().ok_or(JournalError::WriterGone)?;
        let (ack, done) = if durable {
            let (ack, done) = oneshot::channel();
            (Some(ack), Some(done))
        } else {
            (None, None)
        };
        tx.send(Command::Line { text, ack })
            .map_err(|_| JournalError::WriterGone)?;
        Ok(Written {
            path: self.path.clone(),
            done,
        })
    }
}

/// A queued journal line; await [`Written::durable`] for evidence.
#[derive(Debug)]
pub struct Written {
    path: PathBuf,
    done: Option<oneshot::Receiver<io::Result<()>>>,
}

impl Written {
    /// Resolves when the line is fsync'd (at once for non-durable lines).
    pub async fn durable(self) -> Result<(), JournalError> {
        let Some(done) = self.done else { return Ok(()) };
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(JournalError::Io {
                path: self.path,
                source,
            }),
            Err(_) => Err(JournalError::WriterGone),
        }
    }
}

impl Drop for JournalWriter {
    /// Waits for every queued line to be written and synced.
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Writes what arrives, in batches: every line is handed to the OS before
/// the next batch; a batch holding evidence is fsync'd before anyone is
/// told it is written. The first write error is kept in `failed`; nothing
/// is written after it, and every later ack reports it.
fn write_loop(mut file: File, rx: mpsc::Receiver<Command>, failed: &OnceLock<String>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        let mut acks = Vec::new();
        let mut result: io::Result<()> = match failed.get() {
            Some(message) => Err(io::Error::other(message.clone())),
            None => Ok(()),
        };
        for Command::Line { text, ack } in batch {
            if result.is_ok() {
                result = file.write_all(text.as_bytes());
            }
            acks.extend(ack);
        }
        if result.is_ok() && !acks.is_empty() {
            result = file.sync_data();
        }
        if let Err(e) = &result {
            let _ = failed.set(e.to_string());
        }
        for ack in acks {
            let _ = ack.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
            });
        }
    }
    let _ = file.sync_all();
}

/// Where the last complete line of `file` (of `len` bytes) ends, read
/// backwards in pieces: the journal is never read whole.
fn end_of_last_line(file: &mut File, len: u64) -> io::Result<u64> {
    use std::io::{Read, Seek};
    let mut end = len;
    let mut piece = vec![0; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(piece.len() as u64);
        let n = (end - start) as usize;
        file.seek(io::SeekFrom::Start(start))?;
        file.read_exact(&mut piece[..n])?;
        if let Some(i) = piece[..n].iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

fn sync_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => Ok(()),
    }
}
