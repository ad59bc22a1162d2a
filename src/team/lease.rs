//! The driver's lease on a run: taking it over ([`take_over`]), keeping it
//! alive ([`Heartbeat`]) and what a heartbeat tells the team
//! ([`status_of`]). Who may drive is decided here once; the engine only
//! sees the cancellation a lost lease causes, and the shared log only the
//! token.
//!
//! Expiry is decided as the DynamoDB lock client decides it: a waiter
//! reads the lease, waits one lease duration by its own clock, and takes
//! the lease only if its record version (`rvn`) has not changed meanwhile
//! (a heartbeat changes it). Clocks that disagree between machines do not
//! matter. Source: the DynamoDB developer guide, "Distributed locking
//! with the DynamoDB Lock Client" (BestPractices_DistributedLocking.html:
//! a lease duration, a heartbeat that extends it, conditional writes so
//! only one process holds the lock); the record-version watch is the Java
//! lock client's (`AmazonDynamoDBLockClient.acquireLock`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::store::{Lease, LeaseRequest, RunState, RunStatus, TeamError, TeamStore};
use crate::engine::ledger::{RunLedger, StepStatus};

/// Longest lease duration a waiter waits for, whatever the lease item
/// says (the item is read from the table and not trusted).
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// How a process takes a run's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TakeOver {
    /// Only once the holder is gone: its lease unchanged for one lease
    /// duration.
    WaitForExpiry,
    /// At once, for `reason` (`--take-over REASON`; recorded).
    Now {
        /// Why, in the taker's words.
        reason: String,
    },
}

/// Takes `run`'s lease for `request` as `mode` says; `notify` hears what
/// it waits for. A released lease is taken at once; a finished run is
/// refused; a holder whose heartbeat goes on is refused
/// ([`TeamError::Held`]) unless `mode` is [`TakeOver::Now`].
pub async fn take_over(
    store: &dyn TeamStore,
    run: &str,
    request: &LeaseRequest,
    mode: &TakeOver,
    notify: &(dyn Fn(String) + Send + Sync),
) -> Result<Lease, TeamError> {
    let observed = current(store, run).await?;
    match (observed.state, mode) {
        (RunState::Finished, _) => Err(TeamError::Finished {
            run: run.to_owned(),
        }),
        (RunState::Released, _) | (RunState::Driving, TakeOver::Now { .. }) => {
            store.take(run, request, &observed).await
        }
        (RunState::Driving, TakeOver::WaitForExpiry) => {
            let wait = observed.duration.min(MAX_WAIT);
            notify(format!(
                "run {run} is driven by {} ({}); waiting {} to see whether its lease expires",
                observed.holder.describe(),
                observed.process,
                crate::format::humanize(wait)
            ));
            tokio::time::sleep(wait).await;
            let now = current(store, run).await?;
            if now.rvn != observed.rvn && now.state == RunState::Driving {
                return Err(TeamError::Held {
                    run: run.to_owned(),
                    holder: format!("{}, {}", now.holder.describe(), now.process),
                    heartbeat_at: now.heartbeat_at,
                });
            }
            if now.state == RunState::Finished {
                return Err(TeamError::Finished {
                    run: run.to_owned(),
                });
            }
            // Unchanged for a whole duration: the holder is gone (or it
            // released the run meanwhile). `take` still checks the version.
            store.take(run, request, &now).await
        }
    }
}

async fn current(store: &dyn TeamStore, run: &str) -> Result<Lease, TeamError> {
    store.lease(run).await?.ok_or_else(|| TeamError::NoRun {
        table: store.table().to_owned(),
        run: run.to_owned(),
    })
}

/// What a heartbeat tells the team, from the run's ledger.
pub fn status_of(ledger: &RunLedger) -> RunStatus {
    let mut status = RunStatus {
        steps_total: ledger.steps.len(),
        rto_seconds: Some(ledger.rto.unwrap_or(ledger.elapsed).as_secs_f64()),
        rto_stopped: ledger.rto.is_some(),
        outcome: ledger.outcome().map(|o| o.word().to_string()),
        ..RunStatus::default()
    };
    for step in &ledger.steps {
        match step.status {
            StepStatus::Done(_) => status.steps_done += 1,
            StepStatus::Running => status.running.push(step.id.clone()),
            StepStatus::Asking => status.waiting.push(step.id.clone()),
            StepStatus::Pending | StepStatus::Queued => {}
        }
    }
    status
}

/// Keeps a lease alive: renews it every third of its duration with the
/// run's status. A fenced heartbeat (another process took the lease)
/// cancels the run and says who has it; a transient failure is tried
/// again at the next beat (if the lease expires meanwhile, the next
/// append is fenced, which is right).
pub struct Heartbeat {
    lease: Arc<Mutex<Lease>>,
    task: tokio::task::JoinHandle<()>,
}

impl Heartbeat {
    /// Starts beating for `lease`; `status` is asked at each beat; `lost`
    /// hears why the lease was lost, once, before `cancel` is cancelled.
    pub fn start(
        store: Arc<dyn TeamStore>,
        lease: Lease,
        status: Arc<dyn Fn() -> RunStatus + Send + Sync>,
        cancel: CancellationToken,
        lost: tokio::sync::mpsc::UnboundedSender<String>,
    ) -> Self {
        let every = (lease.duration / 3).max(Duration::from_millis(50));
        let shared = Arc::new(Mutex::new(lease));
        let held = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let ours = lock(&held).clone();
                match store.heartbeat(&ours, &status()).await {
                    Ok(renewed) => *lock(&held) = renewed,
                    Err(e @ TeamError::Fenced { .. }) => {
                        let _ = lost.send(e.to_string());
                        cancel.cancel();
                        return;
                    }
                    Err(e) => tracing::warn!("heartbeat not written, tried again: {e}"),
                }
            }
        });
        Self {
            lease: shared,
            task,
        }
    }

    /// Stops beating; the lease as last renewed, to release it.
    pub fn stop(self) -> Lease {
        self.task.abort();
        lock(&self.lease).clone()
    }
}

fn lock(lease: &Mutex<Lease>) -> std::sync::MutexGuard<'_, Lease> {
    lease
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
