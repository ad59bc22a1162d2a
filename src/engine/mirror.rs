//! A second home for the journal's lines: the team's shared log
//! (`crate::team`). The engine knows it only through this trait: the
//! recorder hands it every line exactly as the local journal wrote it, in
//! the same order, and for evidence waits until the mirror holds it (or
//! has said it cannot), before the engine acts.

use std::future::Future;
use std::pin::Pin;

/// What became of a line handed to the mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mirrored {
    /// The shared log holds it.
    Shared,
    /// The shared log cannot be reached: the line is kept to be written
    /// when it is back, and the run goes on on its local journal. `reason`
    /// says why, for the event that tells people.
    Behind {
        /// Why, naming the table and the action.
        reason: String,
    },
    /// Another process drives the run now: this one must not act.
    Fenced {
        /// Why, naming who drives it.
        reason: String,
    },
}

/// Resolves once the mirror knows what became of a line.
pub type MirrorAck = Pin<Box<dyn Future<Output = Mirrored> + Send>>;

/// Where journal lines are mirrored.
pub trait Mirror: Send + Sync {
    /// Queues journal line number `seq` (0-based; the header is 0) behind
    /// every line queued before. The ack of an evidence line resolves
    /// once the shared log holds it, or as `Behind` once the mirror gives
    /// up waiting, or as `Fenced`.
    fn queue(&self, seq: u64, line: String) -> MirrorAck;
}
