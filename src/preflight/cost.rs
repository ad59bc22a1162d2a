//! What the drill will cost in AWS charges, from the sizes the listings
//! give and a price table.

use serde::{Deserialize, Serialize};

use super::{Context, Sink};

/// The expected AWS charges of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The total, in US dollars.
    pub total_usd: f64,
}

/// Estimates the run's AWS charges.
pub(super) async fn check(_ctx: &Context, _sink: &Sink) -> Option<Estimate> {
    None
}
