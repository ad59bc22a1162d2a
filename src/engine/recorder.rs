//! Stamps events with the run's clock, writes them to the journal and hands
//! them to every subscriber (headless printer, console, report builder).

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::clock::Clock;
use super::event::{EventKind, RunEvent};
use super::journal::{JournalError, JournalWriter, REDACTED};

/// The run's event sink; cheap to clone into step tasks.
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

struct Inner {
    clock: Clock,
    journal: Option<JournalWriter>,
    /// Values of secret parameters, replaced wherever they appear.
    secrets: Vec<String>,
    /// Held while an event is stamped and queued, so the journal's order is
    /// the order of the timestamps.
    order: Mutex<Vec<mpsc::UnboundedSender<RunEvent>>>,
}

impl Recorder {
    /// A recorder writing to `journal` (none for a dry run or a test).
    /// Every value in `secrets` is replaced by [`REDACTED`] in every event,
    /// whatever field it turns up in (command output, outputs, errors,
    /// questions), before anyone sees it.
    pub fn new(clock: Clock, journal: Option<JournalWriter>, secrets: Vec<String>) -> Self {
        Self {
            inner: Arc::new(Inner {
                clock,
                journal,
                secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
                order: Mutex::new(Vec::new()),
            }),
        }
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
        let kind = self.redact(kind);
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
        let kind = self.redact(kind);
        let mut subscribers = self.lock();
        let (at, elapsed) = self.inner.clock.now();
        let event = RunEvent { at, elapsed, kind };
        if let Some(journal) = &self.inner.journal {
            journal.queue(&event, false)?;
        }
        subscribers.retain(|tx| tx.send(event.clone()).is_ok());
        Ok(())
    }

    fn redact(&self, kind: EventKind) -> EventKind {
        if self.inner.secrets.is_empty() {
            return kind;
        }
        let Ok(mut value) = serde_json::to_value(&kind) else {
            return kind;
        };
        redact_strings(&mut value, &self.inner.secrets);
        serde_json::from_value(value).unwrap_or(kind)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<mpsc::UnboundedSender<RunEvent>>> {
        // A panic while holding this lock cannot leave the list inconsistent.
        self.inner
            .order
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn redact_strings(value: &mut serde_json::Value, secrets: &[String]) {
    match value {
        serde_json::Value::String(s) => {
            for secret in secrets {
                if s.contains(secret.as_str()) {
                    *s = s.replace(secret.as_str(), REDACTED);
                }
            }
        }
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(|v| redact_strings(v, secrets))
        }
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| redact_strings(v, secrets)),
        _ => {}
    }
}
