//! `dr-drill demo`: a shipped runbook in the console, on the simulated
//! world, with the parameters a drill there needs already filled in.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::cloud::CloudArgs;
use super::run::{CommonArgs, interactive};
use crate::runbook::Mode;

/// The runbooks the demo offers, built into the binary.
const RUNBOOKS: &[(&str, &str)] = &[(
    "cabal-addresses-restore",
    include_str!("../../runbooks/cabal-addresses-restore.toml"),
)];

/// Parameter values the simulated world needs (its account's role, and a
/// stand-in for commands that would reach real infrastructure).
const DEMO_PARAMS: &[(&str, &str)] = &[
    (
        "role_arn",
        "arn:aws:iam::111122223333:role/cabal-backup-role",
    ),
    (
        "reconfigure_cmd",
        "echo 'mail tier: regenerating sendmail maps (simulated)'",
    ),
];

/// Arguments of `dr-drill demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which shipped runbook.
    #[arg(long, default_value = "cabal-addresses-restore", value_parser = runbook_names())]
    pub runbook: String,
    /// Simulated time runs this many times faster than real time.
    #[arg(long, value_name = "FACTOR", default_value_t = 60.0)]
    pub speed: f64,
    /// Where the demo's runs are kept [default: $DR_DRILL_DATA_DIR, or the user's data directory].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

fn runbook_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(RUNBOOKS.iter().map(|(name, _)| *name))
}

pub(super) fn run(args: &DemoArgs) -> color_eyre::Result<ExitCode> {
    let (name, text) = RUNBOOKS
        .iter()
        .find(|(name, _)| *name == args.runbook)
        .copied()
        .unwrap_or(RUNBOOKS[0]);
    let checked = crate::runbook::check_str(text);
    let Some(runbook) = checked.runbook else {
        return Err(color_eyre::eyre::eyre!(
            "the built-in runbook {name} does not pass check; this is a bug"
        ));
    };
    let params: BTreeMap<String, String> = DEMO_PARAMS
        .iter()
        .filter(|(k, _)| runbook.param(k).is_some())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let common = CommonArgs {
        params: Vec::new(),
        confirms: Vec::new(),
        answers: Vec::new(),
        output: super::run::Output::Text,
        max_parallel: crate::engine::DEFAULT_MAX_PARALLEL as u16,
        data_dir: args.data_dir.clone(),
        cloud: CloudArgs {
            sandbox: true,
            speed: args.speed,
            ..CloudArgs::default()
        },
    };
    interactive(
        runbook,
        text.to_owned(),
        &PathBuf::from(format!("runbooks/{name}.toml")),
        Mode::Drill,
        params,
        &common,
        None,
    )
}
