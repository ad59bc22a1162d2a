//! `dr-drill preflight RUNBOOK`: will this drill work, before anything
//! runs. The runbook is checked as `check` does; the session builds the
//! context and runs the areas (`session::preflight`); this prints the
//! findings as a table for people or one JSON document.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tokio::runtime::Runtime;

use super::cloud::CloudArgs;
use super::run::{GivenArgs, ModeArg, Output, usage};
use super::{EXIT_FAILED, EXIT_OK};
use crate::runbook::Mode;
use crate::session::preflight::{self, Request};

/// Arguments of `dr-drill preflight`.
#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// The runbook to check before a drill.
    #[arg(value_name = "RUNBOOK")]
    pub runbook: PathBuf,
    /// Drill or incident.
    #[arg(long, value_enum, default_value_t = ModeArg::Drill)]
    pub mode: ModeArg,
    /// Parameters and the data directory (earlier drills are read from there).
    #[command(flatten)]
    pub given: GivenArgs,
    /// A table for people, or one JSON document.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// When to colour the table. `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = super::ColorMode::Auto)]
    pub color: super::ColorMode,
    /// Where AWS actions would go.
    #[command(flatten)]
    pub cloud: CloudArgs,
}

/// Width of the table: the terminal's `COLUMNS` when it says, else 80.
fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&c| c >= 40)
        .unwrap_or(80)
        .min(200)
}

pub(super) fn run(args: &PreflightArgs, runtime: &Runtime) -> color_eyre::Result<ExitCode> {
    let file = crate::runbook::check_file(&args.runbook);
    let Some(runbook) = file.checked.runbook.clone() else {
        let _ = write!(std::io::stderr(), "{}", file.render(false));
        return usage(format!("{} has errors; nothing was checked", file.name));
    };
    let given = match args.given.params() {
        Ok(given) => given,
        Err(e) => return usage(e),
    };
    let data_dir = args.given.data_dir();
    let world = args.cloud.world();
    let found = runtime.block_on(preflight::run(
        Request {
            runbook: &runbook,
            mode: Mode::from(args.mode),
            params: &given,
            world: &world,
            data_dir,
        },
        None,
    ));
    let found = match found {
        Ok(found) => found,
        Err(e) => return usage(e),
    };
    let mut out = std::io::stdout().lock();
    match args.output {
        Output::Text => write!(
            out,
            "{}",
            preflight::table(&found, width(), args.color.for_stdout())
        )?,
        Output::Json => {
            serde_json::to_writer_pretty(&mut out, &found).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::from(if found.passed() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }))
}
