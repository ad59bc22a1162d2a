//! `dr-drill watch`: the console read-only, following a run another
//! process drives, from its journal. Errors (no such run, a damaged
//! journal) are said before the terminal is taken.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::EXIT_USAGE;
use crate::engine;
use crate::session::follow::{Follow, JournalFollower};

/// Arguments of `dr-drill watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The run: its id (under the data dir), its directory, or its journal file.
    #[arg(value_name = "RUN-ID|RUN-DIR|JOURNAL")]
    pub run: String,
    /// Where runs are kept [default: $DR_DRILL_DATA_DIR, or the user's
    /// data directory].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Follow a team run on this DynamoDB table (its shared log and
    /// lease) instead of a local journal.
    #[arg(long, value_name = "TABLE", env = "DR_DRILL_TEAM")]
    pub team: Option<String>,
    /// Where the table is.
    #[command(flatten)]
    pub aws: super::cloud::AwsFlags,
}

pub(super) fn run(
    args: &WatchArgs,
    runtime: &tokio::runtime::Runtime,
) -> color_eyre::Result<ExitCode> {
    if let Some(table) = &args.team {
        return team(args, table, runtime);
    }
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(engine::default_data_dir);
    let Some(journal) = super::report::journal_at(&args.run, &data_dir) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let follow: Box<dyn Follow> = match JournalFollower::open(&journal) {
        Ok(f) => Box::new(f),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    crate::tui::watch::run(runtime, follow, Some(journal.display().to_string()))
}

/// `watch RUN --team TABLE`: the run's shared log and lease.
fn team(
    args: &WatchArgs,
    table: &str,
    runtime: &tokio::runtime::Runtime,
) -> color_eyre::Result<ExitCode> {
    let store = runtime.block_on(crate::team::DynamoStore::connect(
        &args.aws.options(),
        table,
    ));
    // The console follows it until the process ends.
    let store: &'static crate::team::DynamoStore = Box::leak(Box::new(store));
    let follow: Box<dyn Follow> =
        match runtime.block_on(crate::session::follow::TeamFollower::open(store, &args.run)) {
            Ok(f) => Box::new(f),
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "error: {}",
                    crate::format::printable(&e.to_string())
                );
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        };
    crate::tui::watch::run(runtime, follow, Some(format!("DynamoDB table {table}")))
}
