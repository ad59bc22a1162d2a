//! Stamps events with the run's clock, writes them to the journal and hands
//! them to every subscriber (headless printer, console, report builder).

use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::mpsc;

use super::clock::Clock;
use super::event::{EventKind, RunEvent};
use super::journal::{JournalError, JournalWriter};
use super::redact::{Redacted, Redactor};

/// The run's event sink; cheap to clone into step tasks.
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

struct Inner {
    clock: Clock,
    journal: Option<JournalWriter>,
    /// Values of secret parameters and credentials, replaced wherever
    /// they appear.
    secrets: RwLock<Redactor>,
    /// Held while an event is stamped and queued, so the journal's order is
    /// the order of the timestamps.
    order: Mutex<Vec<mpsc::UnboundedSender<RunEvent>>>,
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
                order: Mutex::new(Vec::new()),
            }),
        }
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

    /// A receiver of every event recorded from now on.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<RunEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().push(tx);
        rx
    }

    /// The run's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Records an event. Evidence is durable in the journal when this
    /// returns; the rest has been queued behind everything recorded before.
    pub async fn record(&self, kind: EventKind) -> Result<RunEvent, JournalError> {
        let durable = kind.is_evidence();
        let Some(kind) = self.redact(kind) else {
            // Evidence that cannot be written without a secret stops the
            // run rather than go unrecorded or leak.
            let path = self.inner.journal.as_ref().map_or_else(
                || std::path::PathBuf::from("journal"),
                |j| j.path().to_owned(),
            );
            return Err(JournalError::Io {
                path,
                source: std::io::Error::other(
                    "an event could not be written without a secret parameter's value, which is \
                     part of every placeholder too; choose a longer secret and resume",
                ),
            });
        };
        // Journal and subscribers get events in one order: both are fed
        // under the same lock.
        let (event, written) = {
            let mut subscribers = self.lock();
            let (at, elapsed) = self.inner.clock.now();
            let event = RunEvent { at, elapsed, kind };
            let written = match &self.inner.journal {
                Some(journal) => Some(journal.queue(&event, durable)?),
                None => None,
            };
            subscribers.retain(|tx| tx.send(event.clone()).is_ok());
            (event, written)
        };
        if let Some(written) = written {
            written.durable().await?;
        }
        Ok(event)
    }

    /// Records an event that is not evidence (progress, output) without
    /// waiting: for callbacks that cannot await. Evidence goes through
    /// [`Recorder::record`].
    pub fn note(&self, kind: EventKind) -> Result<(), JournalError> {
        debug_assert!(!kind.is_evidence(), "evidence must be awaited");
        let Some(kind) = self.redact(kind) else {
            return Ok(());
        };
        let mut subscribers = self.lock();
        let (at, elapsed) = self.inner.clock.now();
        let event = RunEvent { at, elapsed, kind };
        if let Some(journal) = &self.inner.journal {
            journal.queue(&event, false)?;
        }
        subscribers.retain(|tx| tx.send(event.clone()).is_ok());
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<mpsc::UnboundedSender<RunEvent>>> {
        // A panic while holding this lock cannot leave the list inconsistent.
        self.inner
            .order
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
