//! How long the drill will take: from this runbook's earlier drills, and
//! from what AWS documents where there is no history; against the RTO
//! target and each phase's budget.

use serde::{Deserialize, Serialize};

use super::{Context, Sink};

/// The expected duration of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Typical duration of the whole run, in seconds.
    pub typical: f64,
    /// Worst duration of the whole run, in seconds.
    pub worst: f64,
}

/// Estimates the run's duration.
pub(super) async fn check(_ctx: &Context, _sink: &Sink) -> Option<Estimate> {
    None
}
