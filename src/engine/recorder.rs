//! Stamps events with the run's clock, writes them to the journal and hands
//! them to every subscriber (headless printer, console, report builder).

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::clock::Clock;
use super::event::{EventKind, RunEvent};
use super::journal::{JournalError, JournalWriter};

/// The run's event sink; cheap to clone into step tasks.
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

struct Inner {
    clock: Clock,
    journal: Option<JournalWriter>,
    /// Held while an event is stamped and queued, so the journal's order is
    /// the order of the timestamps.
    order: Mutex<Vec<mpsc::UnboundedSender<RunEvent>>>,
}

impl Recorder {
    /// A recorder writing to `journal` (none for a dry run or a test).
    pub fn new(clock: Clock, journal: Option<JournalWriter>) -> Self {
        Self {
            inner: Arc::new(Inner {
                clock,
                journal,
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
        let (event, written) = {
            let _order = self.lock();
            let (at, elapsed) = self.inner.clock.now();
            let event = RunEvent { at, elapsed, kind };
            let written = match &self.inner.journal {
                Some(journal) => Some(journal.queue(&event, durable)?),
                None => None,
            };
            (event, written)
        };
        if let Some(written) = written {
            written.durable().await?;
        }
        self.publish(&event);
        Ok(event)
    }

    fn publish(&self, event: &RunEvent) {
        self.lock().retain(|tx| tx.send(event.clone()).is_ok());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<mpsc::UnboundedSender<RunEvent>>> {
        // A panic while holding this lock cannot leave the list inconsistent.
        self.inner
            .order
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
