//! `dr-drill report`: the drill report of a run, rebuilt from its journal,
//! local or archived in S3 (`report s3://BUCKET/PREFIX/RUN_ID`: the
//! journal downloaded and checked against the archive's manifest first).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use tokio::runtime::Runtime;

use super::{EXIT_OK, EXIT_USAGE};
use crate::engine;
use crate::report::{self, Format};

/// Arguments of `dr-drill report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run: its id (under the data dir), its directory, its journal
    /// file, or its archive s3://BUCKET/PREFIX/RUN_ID.
    #[arg(value_name = "RUN-ID|RUN-DIR|JOURNAL|S3-URL")]
    pub run: String,
    /// Formats, comma-separated: md, json, html, junit, prom [default: all].
    #[arg(long, value_name = "FORMATS", value_delimiter = ',', value_parser = parse_format)]
    pub format: Vec<Format>,
    /// Where to write the files [default: next to the journal; ./RUN_ID/
    /// for an archived run].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where runs are kept, for the run id and the comparison with earlier
    /// runs [default: $DR_DRILL_DATA_DIR, or the user's data directory].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// For an archived run: only check every file of its manifest (and
    /// each object's retention), print a table, write nothing.
    #[arg(long)]
    pub verify_only: bool,
    /// How to reach S3, for an archived run.
    #[command(flatten)]
    pub s3: super::cloud::AwsFlags,
}

pub(super) fn formats(args: &ReportArgs) -> Vec<Format> {
    if args.format.is_empty() {
        Format::ALL.to_vec()
    } else {
        let mut f = args.format.clone();
        f.sort();
        f.dedup();
        f
    }
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s)
        .ok_or_else(|| format!("unknown format `{s}`; the formats are md, json, html, junit, prom"))
}

pub(super) fn run(args: &ReportArgs, runtime: &Runtime) -> color_eyre::Result<ExitCode> {
    if args.run.starts_with("s3://") {
        return runtime.block_on(super::report_s3::run(args));
    }
    if args.verify_only {
        let _ = writeln!(
            std::io::stderr(),
            "error: --verify-only checks an archived run: give s3://BUCKET/PREFIX/RUN_ID"
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(engine::default_data_dir);
    let Some(journal) = journal_at(&args.run, &data_dir) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    // The comparison looks in the data dir given, else the one the
    // journal lives in.
    let report = match report::from_journal(&journal, args.data_dir.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| journal.parent().map(PathBuf::from).unwrap_or_default());
    if let Err(e) = crate::fsx::create_private_dir(&dir) {
        let _ = writeln!(
            std::io::stderr(),
            "error: cannot create {}: {e}",
            dir.display()
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let formats = formats(args);
    match report.write(&dir, &formats) {
        Ok(paths) => {
            let mut out = std::io::stdout();
            writeln!(out, "{}", report.headline())?;
            for p in paths {
                writeln!(out, "report: {}", p.display())?;
            }
            Ok(ExitCode::from(EXIT_OK))
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            Ok(ExitCode::from(EXIT_USAGE))
        }
    }
}

/// The journal `run` names (a run id under `data_dir`, a run directory or
/// a journal file), or `None` after saying on stderr that there is none.
pub(super) fn journal_at(run: &str, data_dir: &Path) -> Option<PathBuf> {
    let journal = engine::resume::locate(run, data_dir);
    if journal.is_file() {
        return Some(journal);
    }
    let _ = writeln!(
        std::io::stderr(),
        "error: no journal at {}; give a run id under {}, a run directory, or a journal.jsonl file (`dr-drill runs` lists the runs)",
        journal.display(),
        data_dir.join("runs").display()
    );
    None
}
