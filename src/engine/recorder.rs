//! Stamps events with the run's clock, writes them to the journal (and,
//! in a team run, the same line to the team's shared log through its
//! [`Mirror`]) and hands them to every subscriber (headless printer,
//! console, report builder).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tokio::sync::mpsc;

use super::clock::Clock;
use super::event::{EventKind, RunEvent};
use super::journal::{JournalError, JournalWriter, Written};
use super::mirror::{Mirror, MirrorAck, Mirrored};
use super::redact::{Redacted, Redactor};

/// The run's event sink; cheap to clone into step tasks.
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

/// A [`Recorder`] that does not keep the run alive
/// ([`Recorder::downgrade`]).
#[derive(Clone)]
pub struct WeakRecorder(std::sync::Weak<Inner>);

impl WeakRecorder {
    /// The recorder, while the run still has one.
    pub fn upgrade(&self) -> Option<Recorder> {
        self.0.upgrade().map(|inner| Recorder { inner })
    }
}

struct Inner {
    clock: Clock,
    journal: Option<JournalWriter>,
    /// Values of secret parameters and credentials, replaced wherever
    /// they appear.
    secrets: RwLock<Redactor>,
    /// Held while an event is stamped and queued, so the journal's order is
    /// the order of the timestamps (and the shared log's order the
    /// journal's).
    order: Mutex<Order>,
    /// The team's shared log, in a team run.
    mirror: OnceLock<Arc<dyn Mirror>>,
    /// Whether `TeamBehind` was recorded since the shared log last held
    /// every line.
    behind_told: AtomicBool,
}

struct Order {
    subscribers: Vec<mpsc::UnboundedSender<RunEvent>>,
    /// The journal line number the next event gets (the header is 0).
    next_seq: u64,
}

impl Recorder {
    /// A recorder writing to `journal` (none for a dry run or a test).
    /// Every value in `secrets`, and each line of a multi-line one, is
    /// replaced by `[redacted]` in every event, whatever field it turns up
    /// in (command output, outputs, errors, questions), before anyone sees
    /// it; an event that fails redaction is replaced by a placeholder
    /// (see [`super::redact`]).
    pub fn new(clock: Clock, journal: Option<JournalWriter>, secrets: Vec<String>) -> Self {
        Self {
            inner: Arc::new(Inner {
                clock,
                journal,
                secrets: RwLock::new(Redactor::new(secrets)),
                order: Mutex::new(Order {
                    subscribers: Vec::new(),
                    next_seq: 1,
                }),
                mirror: OnceLock::new(),
                behind_told: AtomicBool::new(false),
            }),
        }
    }

    /// The recorder of a journal that holds `lines` lines already (header
    /// included): a resumed run's events are numbered on from there.
    pub fn lines_from(self, lines: u64) -> Self {
        self.lock().next_seq = lines;
        self
    }

    /// Hands every line recorded from now on to `mirror` too, with its
    /// journal line number; evidence waits for the mirror as for the
    /// fsync. A recorder has one mirror: a second is refused (`false`).
    pub fn set_mirror(&self, mirror: Arc<dyn Mirror>) -> bool {
        self.inner.mirror.set(mirror).is_ok()
    }

    /// Adds secrets to keep out of every event from now on: the
    /// credentials the run's cloud resolved.
    pub fn add_secrets(&self, secrets: Vec<String>) {
        self.inner
            .secrets
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .add(secrets);
    }

    /// A handle that records only while the run's own recorders live: a
    /// task that outlives the run (the team's shared log telling it
    /// caught up) must not keep the run's event stream open.
    pub fn downgrade(&self) -> WeakRecorder {
        WeakRecorder(Arc::downgrade(&self.inner))
    }

    /// A receiver of every event recorded from now on.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<RunEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().subscribers.push(tx);
        rx
    }

    /// The run's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Records an event. Evidence is durable in the journal when this
    /// returns; the rest has been queued behind everything recorded before.
    pub async fn record(&self, kind: EventKind) -> Result<RunEvent, JournalError> {
        Ok(self.record_numbered(kind).await?.0)
    }

    /// [`Recorder::record`], with the event's journal line number (the
    /// shared log's sequence number; `None` when the run has neither a
    /// journal nor a mirror). A participant's answer names the line of
    /// the question it answers.
    pub async fn record_numbered(
        &self,
        kind: EventKind,
    ) -> Result<(RunEvent, Option<u64>), JournalError> {
        let durable = kind.is_evidence();
        let Some(kind) = self.redact(kind) else {
            // Evidence that cannot be written without a secret stops the
            // run rather than go unrecorded or leak.
            return Err(JournalError::Io {
                path: self.journal_path(),
                source: std::io::Error::other(
                    "an event could not be written without a secret parameter's value, which is \
                     part of every placeholder too; choose a longer secret and resume",
                ),
            });
        };
        // Journal, mirror and subscribers get events in one order: all are
        // fed under the same lock.
        let (event, seq, written, mirrored) = self.queue(kind, durable)?;
        let (written, mirrored) = tokio::join!(
            async move {
                match written {
                    Some(written) => written.durable().await,
                    None => Ok(()),
                }
            },
            async move {
                match mirrored {
                    Some(ack) => Some(ack.await),
                    None => None,
                }
            }
        );
        written?;
        match mirrored {
            None | Some(Mirrored::Shared) => {}
            Some(Mirrored::Behind { reason }) => self.tell_behind(reason)?,
            Some(Mirrored::Fenced { reason }) => return Err(JournalError::Fenced { reason }),
        }
        Ok((event, seq))
    }

    /// Stamps `kind`, queues its line in the journal and the mirror and
    /// hands it to the subscribers, all under the order lock.
    #[allow(clippy::type_complexity)]
    fn queue(
        &self,
        kind: EventKind,
        durable: bool,
    ) -> Result<(RunEvent, Option<u64>, Option<Written>, Option<MirrorAck>), JournalError> {
        if matches!(kind, EventKind::TeamCaughtUp { .. }) {
            self.inner.behind_told.store(false, Ordering::SeqCst);
        }
        let mut order = self.lock();
        let (at, elapsed) = self.inner.clock.now();
        let event = RunEvent { at, elapsed, kind };
        let mirror = self.inner.mirror.get();
        let mut written = None;
        let mut mirrored = None;
        let mut seq = None;
        if self.inner.journal.is_some() || mirror.is_some() {
            // Serialized once: the shared log holds the journal's text.
            let line = serde_json::to_string(&event).map_err(|e| JournalError::Io {
                path: self.journal_path(),
                source: e.into(),
            })?;
            if let Some(journal) = &self.inner.journal {
                written = Some(journal.queue_line(&line, durable)?);
            }
            if let Some(mirror) = mirror {
                mirrored = Some(mirror.queue(order.next_seq, line));
            }
            seq = Some(order.next_seq);
            order.next_seq += 1;
        }
        order
            .subscribers
            .retain(|tx| tx.send(event.clone()).is_ok());
        Ok((event, seq, written, mirrored))
    }

    /// Records, once until the shared log catches up, that the team can no
    /// longer see the run.
    fn tell_behind(&self, reason: String) -> Result<(), JournalError> {
        if self.inner.behind_told.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.note(EventKind::TeamBehind { reason })
    }

    fn journal_path(&self) -> std::path::PathBuf {
        self.inner.journal.as_ref().map_or_else(
            || std::path::PathBuf::from("journal"),
            |j| j.path().to_owned(),
        )
    }

    /// Records an event that is not evidence (progress, output) without
    /// waiting: for callbacks that cannot await. Evidence goes through
    /// [`Recorder::record`].
    pub fn note(&self, kind: EventKind) -> Result<(), JournalError> {
        debug_assert!(!kind.is_evidence(), "evidence must be awaited");
        let Some(kind) = self.redact(kind) else {
            return Ok(());
        };
        // The mirror's ack is not awaited: the line is written in order all
        // the same, and a fence shows on the next evidence.
        self.queue(kind, false)?;
        Ok(())
    }

    /// The event as it may be written, or a placeholder; `None` when not
    /// even a placeholder can be written without a secret.
    fn redact(&self, kind: EventKind) -> Option<EventKind> {
        let secrets = self
            .inner
            .secrets
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match secrets.redact(kind) {
            Redacted::Clean(kind) => Some(kind),
            Redacted::Withheld(placeholder) => {
                tracing::warn!("an event failed redaction; a placeholder was written instead");
                Some(placeholder)
            }
            Redacted::Dropped => {
                tracing::error!("an event failed redaction and was not written");
                None
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Order> {
        // A panic while holding this lock cannot leave the list inconsistent.
        self.inner
            .order
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests;
