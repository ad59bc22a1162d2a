//! Team drills: one run, several people, several machines, on the team's
//! own DynamoDB table, with no server of ours (docs/team.md).
//!
//! The run's journal is shared line for line through a DynamoDB table
//! ([`TeamStore`]): the driver appends each line with a condition on its
//! lease's fencing token, watchers read the lines in order, participants
//! post answers to the run's inbox, and the runs index lists live and
//! recent runs. The local journal stays authoritative for one machine; the
//! shared log is its mirror for everyone else.
//!
//! This module never imports ratatui or crossterm; the engine never
//! imports it (it sees the shared log only as an
//! [`crate::engine::mirror::Mirror`]).

pub mod archive;
pub mod dynamo;
pub mod lease;
pub mod log;
pub mod memory;
pub mod policy;
pub mod store;

pub use dynamo::DynamoStore;
pub use store::{
    Lease, LeaseRequest, RunEntry, RunRow, RunState, RunStatus, TeamAnswer, TeamError, TeamStore,
};
