//! dr-drill: a terminal console for disaster-recovery restores on AWS.
//!
//! The library holds everything but the process edge: `runbook` turns TOML
//! into a validated step graph; `engine` runs it; `session` starts a run,
//! feeds a front end (headless or `tui`, the console) and writes the
//! report; `cli` is the command line on top of it.
//! Modules other than the terminal UI never touch the terminal.

pub mod cli;
pub mod cloud;
pub mod cost;
pub mod crypt;
pub mod engine;
pub mod format;
pub mod fsx;
pub mod preflight;
pub mod report;
pub mod runbook;
pub mod session;
pub mod team;
pub mod tui;
