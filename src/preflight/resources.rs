//! Whether the vaults, tables, buckets and restore targets the plan names
//! are there (and the targets are not).

use super::{Context, Sink};

/// Checks the resources the plan names.
pub(super) async fn check(_ctx: &Context, _sink: &Sink) {}
