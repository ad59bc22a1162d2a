//! What a team run asks of its shared table: the [`TeamStore`] trait and
//! the records it keeps. `dynamo.rs` implements it over DynamoDB;
//! `memory.rs` in one process, for tests.
//!
//! The table (docs/team.md, "The table"): partition key `pk` (string),
//! sort key `sk` (number).
//!
//! | item | `pk` | `sk` |
//! | --- | --- | --- |
//! | a journal line (the header is line 0) | run id | line's sequence number, 0.. |
//! | the driver's lease | run id | -1 |
//! | a participant's answer | `RUN#answers` | 1.. |
//! | the runs index | `#runs` | the run's start, epoch milliseconds |
//!
//! A journal line's sequence number is its 0-based line number in the
//! local journal (`journal.jsonl`): the header is 0, the first event 1.
//! Every value read back is hostile: a store checks what it reads and
//! says which item is damaged instead of trusting it.

use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::engine::event::Answer;
use crate::engine::participant::Participant;

/// A new run, as the runs index lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEntry {
    /// The run's id (`<runbook-id>-<UTC time>`).
    pub run_id: String,
    /// The runbook's id.
    pub runbook_id: String,
    /// `drill` or `incident`.
    pub mode: String,
    /// When the run started.
    pub started_at: Timestamp,
    /// Who started it.
    pub driver: Participant,
}

/// What a process asks for when it takes a run's lease.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaseRequest {
    /// Who would drive.
    pub holder: Participant,
    /// `user@host` and process id, to tell two processes of one person
    /// apart.
    pub process: String,
    /// How long the lease lasts without a heartbeat.
    #[serde(with = "crate::engine::event::seconds")]
    pub duration: Duration,
}

/// Where a run stands, as its lease item says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// A driver holds the lease (it may have died: see the heartbeat).
    Driving,
    /// The driver stopped on purpose before the end; anyone may resume at
    /// once.
    Released,
    /// The run ended; nobody drives it again.
    Finished,
}

/// What the driver tells watchers and `runs` with each heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStatus {
    /// Steps ended so far.
    pub steps_done: usize,
    /// Steps in the plan.
    pub steps_total: usize,
    /// Steps running now.
    #[serde(default)]
    pub running: Vec<String>,
    /// Steps waiting for a person.
    #[serde(default)]
    pub waiting: Vec<String>,
    /// T0 to now, or to the RTO clock's stop.
    #[serde(default)]
    pub rto_seconds: Option<f64>,
    /// Whether the RTO clock has stopped.
    #[serde(default)]
    pub rto_stopped: bool,
    /// The run's outcome word, once it has ended.
    #[serde(default)]
    pub outcome: Option<String>,
}

/// A run's lease: who drives it, with which fencing token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    /// The run.
    pub run_id: String,
    /// The fencing token: one more with each new holder. Every journal
    /// line is written on the condition that the lease still has it.
    pub token: u64,
    /// The record version: new with every write of the lease (heartbeats
    /// too). A process waiting to take over watches it: unchanged for a
    /// whole lease duration means the holder is gone, measured on the
    /// waiter's own clock (as the DynamoDB lock client does), so clocks
    /// that disagree do not matter.
    pub rvn: String,
    /// Who holds it.
    pub holder: Participant,
    /// The holder's process (`user@host pid N`).
    pub process: String,
    /// How long it lasts without a heartbeat.
    #[serde(with = "crate::engine::event::seconds")]
    pub duration: Duration,
    /// The holder's last heartbeat, by the holder's clock (for people;
    /// expiry is decided by watching `rvn`).
    pub heartbeat_at: Timestamp,
    /// Where the run stands.
    pub state: RunState,
    /// What the driver last told.
    #[serde(default)]
    pub status: RunStatus,
}

/// A line of `dr-drill runs`: a run and its lease, when it has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    /// The run as the index lists it.
    pub entry: RunEntry,
    /// Its lease (none when the driver died before writing it).
    pub lease: Option<Lease>,
}

/// An answer a participant posts from their own machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamAnswer {
    /// The step asked.
    pub step: String,
    /// The shared log's sequence number of the `human_asked` line this
    /// answers: an answer to an earlier question of the step (an earlier
    /// attempt) is never taken for a later one.
    pub asked: u64,
    /// The answer.
    pub answer: Answer,
    /// Free text with it.
    #[serde(default)]
    pub note: Option<String>,
    /// Who answers, as their credentials prove them.
    pub by: Participant,
    /// When, by the answerer's clock.
    pub at: Timestamp,
}

/// Why the shared table did not do what was asked. Each names the table
/// and the DynamoDB action, and says what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TeamError {
    /// Another process holds the run's lease now: this one must not act.
    #[error(
        "run {run}: another process drives it now ({holder}, fencing token {current}; this process had {ours}); this process stops without acting"
    )]
    Fenced {
        /// The run.
        run: String,
        /// Who holds the lease now, as it says (`Name (ARN)`), or
        /// `unknown`.
        holder: String,
        /// The lease's token now.
        current: u64,
        /// The token this process wrote with.
        ours: u64,
    },
    /// The lease is held and has not expired.
    #[error(
        "run {run} is driven by {holder} (heartbeat {heartbeat_at}); wait for its lease to expire, or take it over with --take-over \"REASON\""
    )]
    Held {
        /// The run.
        run: String,
        /// Who holds it (`Name (ARN), process`).
        holder: String,
        /// Their last heartbeat.
        heartbeat_at: Timestamp,
    },
    /// The run has ended; nobody drives it again.
    #[error("run {run} has finished; nothing more runs (see its report with `dr-drill report`)")]
    Finished {
        /// The run.
        run: String,
    },
    /// No such run in the table.
    #[error(
        "table {table} holds no run {run}; `dr-drill runs --team {table}` lists the runs it holds"
    )]
    NoRun {
        /// The table.
        table: String,
        /// The run.
        run: String,
    },
    /// A run with this id is in the table already.
    #[error("table {table} holds a run {run} already; nothing was written")]
    Exists {
        /// The table.
        table: String,
        /// The run.
        run: String,
    },
    /// The table could not be reached (network, throttling, 5xx).
    #[error("table {table}, {action}: cannot reach DynamoDB ({message})")]
    Unreachable {
        /// The table.
        table: String,
        /// The DynamoDB action.
        action: &'static str,
        /// What the SDK said.
        message: String,
    },
    /// DynamoDB refused the call (access denied, no such table, ...).
    #[error("table {table}, {action}: {message}")]
    Refused {
        /// The table.
        table: String,
        /// The DynamoDB action.
        action: &'static str,
        /// What DynamoDB said, and what to do.
        message: String,
    },
    /// An item read back is not what dr-drill writes.
    #[error("table {table}, item {key}: {message}; it is not used")]
    Damaged {
        /// The table.
        table: String,
        /// The item's key (`pk`/`sk`).
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl TeamError {
    /// A write with token `ours` refused because `lease` (as read back) now
    /// has another holder or token; the holder is shown as read, made
    /// printable (it is table data).
    pub fn fenced(run: &str, lease: &Lease, ours: u64) -> Self {
        TeamError::Fenced {
            run: run.to_owned(),
            holder: format!(
                "{} ({}), {}",
                crate::format::printable(&lease.holder.name),
                crate::format::printable(&lease.holder.arn),
                crate::format::printable(&lease.process)
            ),
            current: lease.token,
            ours,
        }
    }

    /// Whether trying again later may work (the driver then keeps running
    /// on its local journal and catches the shared log up).
    pub fn is_transient(&self) -> bool {
        matches!(self, TeamError::Unreachable { .. })
    }
}

/// The shared table of a team: one implementation over DynamoDB, one in
/// memory for tests. Every read is strongly consistent.
#[async_trait]
pub trait TeamStore: Send + Sync {
    /// The table's name, for messages.
    fn table(&self) -> &str;

    /// Registers a new run: its header `line` as line 0, its entry in the
    /// runs index, and its lease held by `lease`'s holder with token 1.
    /// [`TeamError::Exists`] if the run is there already.
    async fn create_run(
        &self,
        entry: &RunEntry,
        header: &str,
        lease: &LeaseRequest,
    ) -> Result<Lease, TeamError>;

    /// Appends journal line `seq` of `run`, written with fencing `token`:
    /// in one transaction, the line on the condition that no line `seq`
    /// exists and the lease on the condition that its token is still
    /// `token`. [`TeamError::Fenced`] when the lease has another token or
    /// the line is taken. Lines of any length a journal holds (up to
    /// [`crate::engine::journal::MAX_JOURNAL_LINE`]) are kept whole.
    async fn append(&self, run: &str, token: u64, seq: u64, line: &str) -> Result<(), TeamError>;

    /// Lines `from..` of `run` in order, at most `limit`.
    async fn read_log(
        &self,
        run: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, TeamError>;

    /// The run's lease, if it has one.
    async fn lease(&self, run: &str) -> Result<Option<Lease>, TeamError>;

    /// Takes the run's lease for `request`'s holder with the next token,
    /// on the condition that the lease is still `observed` (its `rvn`):
    /// the caller decided the holder is gone (or is taking over on
    /// purpose). [`TeamError::Fenced`] when it changed meanwhile,
    /// [`TeamError::Finished`] when the run has ended.
    async fn take(
        &self,
        run: &str,
        request: &LeaseRequest,
        observed: &Lease,
    ) -> Result<Lease, TeamError>;

    /// Renews `lease` with a new `rvn` and `status`, on the condition
    /// that its token is still ours. [`TeamError::Fenced`] otherwise.
    async fn heartbeat(&self, lease: &Lease, status: &RunStatus) -> Result<Lease, TeamError>;

    /// Ends the holder's lease: `Released` (stopped before the end; anyone
    /// may resume at once) or `Finished`, with the last status.
    async fn release(
        &self,
        lease: &Lease,
        state: RunState,
        status: &RunStatus,
    ) -> Result<(), TeamError>;

    /// Posts an answer to `run`'s inbox; returns its number there.
    async fn post_answer(&self, run: &str, answer: &TeamAnswer) -> Result<u64, TeamError>;

    /// The inbox's answers numbered above `after`, in order.
    async fn answers(&self, run: &str, after: u64) -> Result<Vec<(u64, TeamAnswer)>, TeamError>;

    /// The newest `limit` runs of the index, newest first, with their
    /// leases.
    async fn runs(&self, limit: usize) -> Result<Vec<RunRow>, TeamError>;
}
