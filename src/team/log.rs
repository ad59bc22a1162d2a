//! The run's journal on the team's shared log: [`SharedLog`] is the
//! engine's [`Mirror`] for a team run. One task writes the lines in
//! journal order through [`TeamStore::append`] with the lease's fencing
//! token; it owns what happens when the table is slow, gone or says this
//! process no longer drives the run. It never reads the journal file and
//! never decides anything about steps.
//!
//! - A transient error (the table cannot be reached) is retried with
//!   backoff. Lines waiting longer than the patience (5 s) are acked
//!   [`Mirrored::Behind`]: the run goes on on its local journal, and the
//!   recorder tells people once. Every later line is queued, retried in
//!   the background, and written in order when the table is back; then
//!   the log sends `TeamCaughtUp` for the session to record.
//! - The queue is bounded ([`LogOptions::cap_bytes`], 64 MiB): past it the
//!   shared log stops for good (every later line is acked `Behind` and
//!   dropped) and says so; nothing is spilled to disk. The local journal
//!   keeps everything; a later `resume --team` cannot mend such a gap.
//! - [`TeamError::Fenced`] acks [`Mirrored::Fenced`] for that line and
//!   every later one, and the task stops: another process drives the run.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};

use super::store::{TeamError, TeamStore};
use crate::engine::event::EventKind;
use crate::engine::mirror::{Mirror, MirrorAck, Mirrored};

/// How the shared log waits and how much it holds.
#[derive(Debug, Clone, Copy)]
pub struct LogOptions {
    /// How long a line may wait for the table before it is acked `Behind`.
    pub patience: Duration,
    /// The first pause between tries; doubled up to `max_backoff`.
    pub backoff: Duration,
    /// The longest pause between tries.
    pub max_backoff: Duration,
    /// Most bytes of lines held while the table cannot be reached.
    pub cap_bytes: usize,
}

impl Default for LogOptions {
    fn default() -> Self {
        Self {
            patience: Duration::from_secs(5),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            cap_bytes: 64 * 1024 * 1024,
        }
    }
}

/// A run's journal mirrored line for line to the team's table.
pub struct SharedLog {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<LogState>,
    wake: Notify,
    table: String,
    cap_bytes: usize,
}

#[derive(Default)]
struct LogState {
    queue: VecDeque<Pending>,
    bytes: usize,
    /// Why lines are acked `Behind` now.
    behind: Option<String>,
    /// Past the cap: the shared log stopped for good.
    given_up: Option<String>,
    /// Why every line is refused: another process drives the run.
    fenced: Option<String>,
    /// The log was dropped: the task ends once the queue is written.
    closed: bool,
}

struct Pending {
    seq: u64,
    line: String,
    ack: Option<oneshot::Sender<Mirrored>>,
}

impl SharedLog {
    /// Starts writing `run`'s lines with fencing `token`. The receiver
    /// gets the events the session records for the log
    /// (`TeamCaughtUp`).
    pub fn start(
        store: Arc<dyn TeamStore>,
        run: String,
        token: u64,
        options: LogOptions,
    ) -> (Self, mpsc::UnboundedReceiver<EventKind>) {
        let shared = Arc::new(Shared {
            state: Mutex::new(LogState::default()),
            wake: Notify::new(),
            table: store.table().to_owned(),
            cap_bytes: options.cap_bytes,
        });
        let (notices, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(
            shared.clone(),
            store,
            run,
            token,
            options,
            notices,
        ));
        (Self { shared }, rx)
    }

    /// Waits up to `within` for every queued line to be written; `Err`
    /// says why some are not.
    pub async fn settle(&self, within: Duration) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            {
                let state = self.shared.lock();
                if let Some(fenced) = &state.fenced {
                    return Err(fenced.clone());
                }
                if state.queue.is_empty() {
                    return match &state.given_up {
                        Some(why) => Err(why.clone()),
                        None => Ok(()),
                    };
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(format!(
                        "table {}: {} lines of the run are not on the shared log yet{}",
                        self.shared.table,
                        state.queue.len(),
                        state
                            .behind
                            .as_ref()
                            .map_or(String::new(), |why| format!(" ({why})"))
                    ));
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SharedLog {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, LogState> {
        // Each change below is made whole under the lock.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn ready(mirrored: Mirrored) -> MirrorAck {
    Box::pin(std::future::ready(mirrored))
}

impl Mirror for SharedLog {
    fn queue(&self, seq: u64, line: String) -> MirrorAck {
        let mut state = self.shared.lock();
        if let Some(reason) = &state.fenced {
            return ready(Mirrored::Fenced {
                reason: reason.clone(),
            });
        }
        if let Some(reason) = &state.given_up {
            return ready(Mirrored::Behind {
                reason: reason.clone(),
            });
        }
        if state.bytes + line.len() > self.shared.cap_bytes {
            let reason = format!(
                "table {}: more than {} MiB of the run's lines could not be written; the shared log stops at line {seq} for good (the local journal keeps everything)",
                self.shared.table,
                self.shared.cap_bytes / (1024 * 1024)
            );
            state.given_up = Some(reason.clone());
            return ready(Mirrored::Behind { reason });
        }
        state.bytes += line.len();
        if let Some(reason) = &state.behind {
            let reason = reason.clone();
            state.queue.push_back(Pending {
                seq,
                line,
                ack: None,
            });
            self.shared.wake.notify_one();
            return ready(Mirrored::Behind { reason });
        }
        let (tx, rx) = oneshot::channel();
        state.queue.push_back(Pending {
            seq,
            line,
            ack: Some(tx),
        });
        drop(state);
        self.shared.wake.notify_one();
        Box::pin(async move {
            rx.await.unwrap_or(Mirrored::Behind {
                reason: "the shared log's writer stopped".into(),
            })
        })
    }
}

async fn write_loop(
    shared: Arc<Shared>,
    store: Arc<dyn TeamStore>,
    run: String,
    token: u64,
    options: LogOptions,
    notices: mpsc::UnboundedSender<EventKind>,
) {
    let mut failing_since: Option<tokio::time::Instant> = None;
    let mut backoff = options.backoff;
    let mut caught_up = 0u64;
    loop {
        let next = {
            let state = shared.lock();
            match state.queue.front() {
                Some(p) => Some((p.seq, p.line.clone())),
                None if state.closed => return,
                None => None,
            }
        };
        let Some((seq, line)) = next else {
            shared.wake.notified().await;
            continue;
        };
        let result = match store.append(&run, token, seq, &line).await {
            // A write whose answer was lost is retried and finds its own
            // line: that is success, not a fence.
            Err(TeamError::Fenced { .. }) if ours(&*store, &run, token, seq, &line).await => Ok(()),
            other => other,
        };
        match result {
            Ok(()) => {
                failing_since = None;
                backoff = options.backoff;
                let mut state = shared.lock();
                if let Some(p) = state.queue.pop_front() {
                    state.bytes = state.bytes.saturating_sub(p.line.len());
                    if let Some(ack) = p.ack {
                        let _ = ack.send(Mirrored::Shared);
                    }
                }
                if state.behind.is_some() {
                    caught_up += 1;
                    if state.queue.is_empty() {
                        state.behind = None;
                        let _ = notices.send(EventKind::TeamCaughtUp { lines: caught_up });
                        caught_up = 0;
                    }
                }
            }
            Err(e @ TeamError::Fenced { .. }) => {
                let reason = e.to_string();
                let mut state = shared.lock();
                state.fenced = Some(reason.clone());
                for p in state.queue.drain(..) {
                    if let Some(ack) = p.ack {
                        let _ = ack.send(Mirrored::Fenced {
                            reason: reason.clone(),
                        });
                    }
                }
                return;
            }
            Err(e) => {
                let since = *failing_since.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() >= options.patience {
                    let reason = e.to_string();
                    let mut state = shared.lock();
                    if state.behind.is_none() {
                        tracing::warn!("the shared log is behind: {reason}");
                        state.behind = Some(reason.clone());
                    }
                    for p in state.queue.iter_mut() {
                        if let Some(ack) = p.ack.take() {
                            let _ = ack.send(Mirrored::Behind {
                                reason: reason.clone(),
                            });
                        }
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(options.max_backoff);
            }
        }
    }
}

/// Whether the shared log holds `line` as line `seq` under our `token`
/// already.
async fn ours(store: &dyn TeamStore, run: &str, token: u64, seq: u64, line: &str) -> bool {
    let Ok(Some(lease)) = store.lease(run).await else {
        return false;
    };
    if lease.token != token {
        return false;
    }
    matches!(store.read_log(run, seq, 1).await, Ok(lines) if lines.first().is_some_and(|(s, l)| *s == seq && l == line))
}

#[cfg(test)]
mod tests;
