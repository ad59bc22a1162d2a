//! What a drill costs in AWS charges: the price table ([`prices`]) and what
//! each step kind is charged ([`charges`]). The one home of these rules:
//! the preflight's estimate (`preflight::cost`), the report's final figure
//! (`report::cost`) and the console's cost so far all read them, and none
//! of those imports another's cost code.
//!
//! It never asks AWS and never touches the terminal: callers bring the
//! sizes (the preflight's listings, a run's step outputs).

pub mod charges;
pub mod prices;
