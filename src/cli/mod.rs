//! The command line: clap definitions and one function per command. Only
//! commands that work are listed; each returns the process exit code (the
//! codes are the session's). Async work runs on the one runtime `main`
//! makes.

mod answer;
mod archive;
mod check;
mod cloud;
mod demo;
mod params;
mod points;
mod preflight;
mod report;
mod report_s3;
mod run;
mod runs;
mod team;
mod watch;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

pub use answer::AnswerArgs;
pub use archive::{ArchiveArgs, ArchiveFlags};
pub use check::{CheckArgs, OutputFormat};
pub use cloud::AwsFlags;
pub use cloud::CloudArgs;
pub use points::{PointsArgs, PointsOutput};
pub use preflight::PreflightArgs;
pub use report::ReportArgs;
pub use run::{ResumeArgs, RunArgs};
pub use runs::{RunLine, RunsArgs, RunsOutput};
pub use watch::WatchArgs;

pub use crate::session::{EXIT_ABORTED, EXIT_FAILED, EXIT_OK, EXIT_USAGE};

/// dr-drill: disaster-recovery runbooks for AWS, checked, run, timed and
/// reported.
#[derive(Debug, Parser)]
#[command(name = "dr-drill", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Try dr-drill: a shipped runbook in the console, on a simulated AWS
    /// world (no account needed).
    Demo(demo::DemoArgs),
    /// Check runbooks (files or directories of *.toml) before a drill.
    ///
    /// Exit status: 0 clean, 1 errors (or warnings with --deny-warnings),
    /// 2 usage.
    Check(CheckArgs),
    /// Run a runbook in the console, headless (answers from flags), or
    /// show its plan with --dry-run.
    ///
    /// Exit status: 0 success, 1 a step failed, 2 invalid runbook or
    /// usage, 3 aborted.
    Run(RunArgs),
    /// Check before a drill that it will work: who it acts as, whether
    /// IAM allows each call, whether the resources and tools are there,
    /// how long it will take and what it will cost. Nothing is changed.
    ///
    /// Exit status: 0 all clear (warnings and unchecked allowed), 1 a
    /// check failed, 2 invalid runbook or usage.
    Preflight(PreflightArgs),
    /// Resume a run from its journal after a crash or a stop: what
    /// finished is not run again; the clocks keep running through the gap.
    ///
    /// Exit status as for `run`.
    Resume(ResumeArgs),
    /// List recovery points of AWS Backup vaults, DynamoDB tables or S3
    /// backup buckets, newest first.
    ///
    /// Exit status: 0 listed, 1 a source could not be listed, 2 usage.
    Points(PointsArgs),
    /// Write the drill report of a run (Markdown, JSON, HTML, JUnit XML,
    /// Prometheus text), rebuilt from its journal, next to the journal.
    ///
    /// Exit status: 0 written, 2 the journal is missing or unreadable, or
    /// usage.
    Report(ReportArgs),
    /// Print the JSON Schema of the runbook format (for editors).
    Schema,
    /// Print a shell completion script, e.g. `dr-drill completions bash`.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// The team's shared DynamoDB table: `team init TABLE` creates it
    /// (on-demand, point-in-time recovery on) and prints the IAM policy a
    /// participant needs; `team policy TABLE` prints that policy alone.
    Team(team::TeamArgs),
    /// Archive a finished run's journal, report and a manifest to S3
    /// (what `--archive` does at a run's end), e.g. to retry a failed upload.
    ///
    /// Exit status: 0 archived, 1 the upload failed, 2 usage.
    Archive(ArchiveArgs),
    /// Follow a run another process drives, in the console, read-only:
    /// its steps, timeline, outputs and RTO clock as they go. Keys that
    /// would act are absent; leaving never affects the run.
    ///
    /// Exit status: 0 left, 2 no such run, a damaged journal, or usage.
    Watch(WatchArgs),
    /// List runs under the data dir, newest first: state, driver, RTO so
    /// far.
    ///
    /// Exit status: 0 listed (a damaged journal is a row saying so), 2
    /// usage.
    Runs(RunsArgs),
    /// Answer a team run's open question from your own machine: approve,
    /// decline, done, or --answer TEXT. Who you are is your AWS identity
    /// (STS); the driver's step decides whether the answer counts.
    ///
    /// Exit status: 0 the driver took it, 1 refused (or AWS failed), 2 no
    /// open question or usage, 3 posted but not read yet.
    Answer(AnswerArgs),
}

/// Colour choice for human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorMode {
    /// Colour when writing to a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorMode {
    /// Whether to colour standard output.
    pub fn for_stdout(self) -> bool {
        self.colors(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        )
    }

    /// The rule: `auto` colours a terminal unless `NO_COLOR` is set to
    /// anything but the empty string (<https://no-color.org>).
    fn colors(self, is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
        match self {
            ColorMode::Always => true,
            ColorMode::Never => false,
            ColorMode::Auto => is_terminal && no_color.is_none_or(|v| v.is_empty()),
        }
    }
}

/// Runs a parsed command line on `runtime`, the process's one tokio
/// runtime. A reader that goes away (`| head`) ends the command quietly, as
/// it does for any Unix tool.
pub fn run(cli: Cli, runtime: &tokio::runtime::Runtime) -> color_eyre::Result<ExitCode> {
    match dispatch(cli, runtime) {
        Err(e) if is_broken_pipe(&e) => Ok(ExitCode::from(EXIT_OK)),
        other => other,
    }
}

fn is_broken_pipe(e: &color_eyre::Report) -> bool {
    e.chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

fn dispatch(cli: Cli, runtime: &tokio::runtime::Runtime) -> color_eyre::Result<ExitCode> {
    match cli.command {
        Command::Check(args) => check::run(&args, args.color.for_stdout()),
        Command::Demo(args) => demo::run(&args, runtime),
        Command::Run(args) => run::run(&args, runtime),
        Command::Resume(args) => run::resume(&args, runtime),
        Command::Preflight(args) => preflight::run(&args, runtime),
        Command::Points(args) => points::run(&args, runtime),
        Command::Report(args) => report::run(&args, runtime),
        Command::Schema => {
            std::io::stdout().write_all(crate::runbook::schema::json_schema().as_bytes())?;
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Archive(args) => archive::run(&args, runtime),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "dr-drill", &mut script);
            std::io::stdout().write_all(&script)?;
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Team(args) => team::run(&args, runtime),
        Command::Watch(args) => watch::run(&args, runtime),
        Command::Runs(args) => runs::run(&args, runtime),
        Command::Answer(args) => Ok(answer::run(&args, runtime)),
    }
}

#[cfg(test)]
mod tests {
    use super::ColorMode;
    use std::ffi::OsStr;

    #[test]
    fn auto_colours_a_terminal_unless_no_color_is_set() {
        assert!(ColorMode::Auto.colors(true, None));
        assert!(ColorMode::Auto.colors(true, Some(OsStr::new(""))));
        assert!(!ColorMode::Auto.colors(true, Some(OsStr::new("1"))));
        assert!(!ColorMode::Auto.colors(false, None));
    }

    #[test]
    fn always_and_never_ignore_the_terminal_and_no_color() {
        assert!(ColorMode::Always.colors(false, Some(OsStr::new("1"))));
        assert!(!ColorMode::Never.colors(true, None));
    }
}
