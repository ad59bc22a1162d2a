//! [`TeamStore`] in one process, for tests: the same conditions, fencing,
//! record versions, inbox numbering and runs order as the DynamoDB table
//! (`store.rs` documents them), held in a `Mutex` of maps. A switch makes
//! it unreachable, as a network cut makes DynamoDB, for the degrade tests.
//!
//! It touches no network and no file; nothing but tests and the
//! in-process team paths construct it.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use jiff::Timestamp;

use super::store::{
    Lease, LeaseRequest, RunEntry, RunRow, RunState, RunStatus, TeamAnswer, TeamError, TeamStore,
};

/// A team's shared table in memory.
#[derive(Debug)]
pub struct MemoryStore {
    table: String,
    reachable: AtomicBool,
    /// Source of new record versions.
    versions: AtomicU64,
    state: Mutex<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    /// run → seq → line.
    logs: BTreeMap<String, BTreeMap<u64, String>>,
    leases: BTreeMap<String, Lease>,
    /// run → number → answer.
    inboxes: BTreeMap<String, BTreeMap<u64, TeamAnswer>>,
    /// (start in epoch milliseconds, run id) → entry: the runs index.
    index: BTreeMap<(i64, String), RunEntry>,
}

impl MemoryStore {
    /// An empty table called `table`.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            reachable: AtomicBool::new(true),
            versions: AtomicU64::new(0),
            state: Mutex::new(Tables::default()),
        }
    }

    /// Makes every call fail as [`TeamError::Unreachable`] (`false`) or
    /// work again (`true`).
    pub fn set_reachable(&self, reachable: bool) {
        self.reachable.store(reachable, Ordering::SeqCst);
    }

    /// The lines of `run` as the table holds them, in order (for tests).
    pub fn lines(&self, run: &str) -> Vec<(u64, String)> {
        self.tables()
            .logs
            .get(run)
            .map(|log| log.iter().map(|(s, l)| (*s, l.clone())).collect())
            .unwrap_or_default()
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        // Every write below is one insert: a panic cannot leave it half done.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn reach(&self, action: &'static str) -> Result<(), TeamError> {
        if self.reachable.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(TeamError::Unreachable {
                table: self.table.clone(),
                action,
                message: "the in-memory table is switched off".into(),
            })
        }
    }

    fn rvn(&self) -> String {
        format!("rvn-{}", self.versions.fetch_add(1, Ordering::SeqCst) + 1)
    }

    fn no_run(&self, run: &str) -> TeamError {
        TeamError::NoRun {
            table: self.table.clone(),
            run: run.to_owned(),
        }
    }
}

#[async_trait]
impl TeamStore for MemoryStore {
    fn table(&self) -> &str {
        &self.table
    }

    async fn create_run(
        &self,
        entry: &RunEntry,
        header: &str,
        request: &LeaseRequest,
    ) -> Result<Lease, TeamError> {
        self.reach("TransactWriteItems")?;
        let rvn = self.rvn();
        let mut t = self.tables();
        let run = &entry.run_id;
        if t.logs.contains_key(run) || t.leases.contains_key(run) {
            return Err(TeamError::Exists {
                table: self.table.clone(),
                run: run.clone(),
            });
        }
        let lease = Lease {
            run_id: run.clone(),
            token: 1,
            rvn,
            holder: request.holder.clone(),
            process: request.process.clone(),
            duration: request.duration,
            heartbeat_at: Timestamp::now(),
            state: RunState::Driving,
            status: RunStatus::default(),
        };
        t.logs
            .insert(run.clone(), BTreeMap::from([(0, header.to_owned())]));
        t.leases.insert(run.clone(), lease.clone());
        t.index.insert(
            (entry.started_at.as_millisecond(), run.clone()),
            entry.clone(),
        );
        Ok(lease)
    }

    async fn append(&self, run: &str, token: u64, seq: u64, line: &str) -> Result<(), TeamError> {
        self.reach("TransactWriteItems")?;
        let mut t = self.tables();
        let lease = t.leases.get(run).ok_or_else(|| self.no_run(run))?;
        if lease.token != token {
            return Err(TeamError::fenced(run, lease, token));
        }
        let lease = lease.clone();
        let log = t.logs.entry(run.to_owned()).or_default();
        if log.contains_key(&seq) {
            // The line is taken: someone else wrote it, so this process
            // must not go on as if its line were the run's.
            return Err(TeamError::fenced(run, &lease, token));
        }
        log.insert(seq, line.to_owned());
        Ok(())
    }

    async fn read_log(
        &self,
        run: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, TeamError> {
        self.reach("Query")?;
        let t = self.tables();
        let log = t.logs.get(run).ok_or_else(|| self.no_run(run))?;
        Ok(log
            .range(from..)
            .take(limit)
            .map(|(s, l)| (*s, l.clone()))
            .collect())
    }

    async fn lease(&self, run: &str) -> Result<Option<Lease>, TeamError> {
        self.reach("GetItem")?;
        Ok(self.tables().leases.get(run).cloned())
    }

    async fn take(
        &self,
        run: &str,
        request: &LeaseRequest,
        observed: &Lease,
    ) -> Result<Lease, TeamError> {
        self.reach("PutItem")?;
        let rvn = self.rvn();
        let mut t = self.tables();
        let lease = t.leases.get_mut(run).ok_or_else(|| self.no_run(run))?;
        if lease.state == RunState::Finished {
            return Err(TeamError::Finished {
                run: run.to_owned(),
            });
        }
        if lease.rvn != observed.rvn {
            return Err(TeamError::fenced(run, lease, observed.token));
        }
        *lease = Lease {
            run_id: run.to_owned(),
            token: lease.token + 1,
            rvn,
            holder: request.holder.clone(),
            process: request.process.clone(),
            duration: request.duration,
            heartbeat_at: Timestamp::now(),
            state: RunState::Driving,
            status: lease.status.clone(),
        };
        Ok(lease.clone())
    }

    async fn heartbeat(&self, ours: &Lease, status: &RunStatus) -> Result<Lease, TeamError> {
        self.reach("UpdateItem")?;
        let rvn = self.rvn();
        let mut t = self.tables();
        let run = &ours.run_id;
        let lease = t.leases.get_mut(run).ok_or_else(|| self.no_run(run))?;
        if lease.token != ours.token {
            return Err(TeamError::fenced(run, lease, ours.token));
        }
        lease.rvn = rvn;
        lease.status = status.clone();
        lease.heartbeat_at = Timestamp::now();
        Ok(lease.clone())
    }

    async fn release(
        &self,
        ours: &Lease,
        state: RunState,
        status: &RunStatus,
    ) -> Result<(), TeamError> {
        self.reach("UpdateItem")?;
        let rvn = self.rvn();
        let mut t = self.tables();
        let run = &ours.run_id;
        let lease = t.leases.get_mut(run).ok_or_else(|| self.no_run(run))?;
        if lease.token != ours.token {
            return Err(TeamError::fenced(run, lease, ours.token));
        }
        lease.rvn = rvn;
        lease.state = state;
        lease.status = status.clone();
        lease.heartbeat_at = Timestamp::now();
        Ok(())
    }

    async fn post_answer(&self, run: &str, answer: &TeamAnswer) -> Result<u64, TeamError> {
        self.reach("PutItem")?;
        let mut t = self.tables();
        if !t.leases.contains_key(run) {
            return Err(self.no_run(run));
        }
        let inbox = t.inboxes.entry(run.to_owned()).or_default();
        let number = inbox.keys().next_back().map_or(1, |n| n + 1);
        inbox.insert(number, answer.clone());
        Ok(number)
    }

    async fn answers(&self, run: &str, after: u64) -> Result<Vec<(u64, TeamAnswer)>, TeamError> {
        self.reach("Query")?;
        let t = self.tables();
        Ok(t.inboxes
            .get(run)
            .map(|inbox| {
                inbox
                    .range(after.saturating_add(1)..)
                    .map(|(n, a)| (*n, a.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn runs(&self, limit: usize) -> Result<Vec<RunRow>, TeamError> {
        self.reach("Query")?;
        let t = self.tables();
        Ok(t.index
            .values()
            .rev()
            .take(limit)
            .map(|entry| RunRow {
                entry: entry.clone(),
                lease: t.leases.get(&entry.run_id).cloned(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests;
