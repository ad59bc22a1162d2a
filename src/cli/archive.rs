//! The evidence archive on the command line: the `--archive` flags of
//! `run` and `resume`, `dr-drill archive RUN --to s3://…` (archive a
//! finished run from its local journal and report), and the S3 flags
//! `report s3://…` shares. What is archived and how is `crate::team::archive`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use tokio::runtime::Runtime;

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::cloud::aws::AwsOptions;
use crate::engine;
use crate::session::World;
use crate::team::archive::{ArchiveRequest, ArchiveTarget, LockMode, Retention};

/// `--archive`, `--archive-retain`, `--archive-lock-mode` of `run` and
/// `resume`.
#[derive(Debug, Clone, Default, Args)]
pub struct ArchiveFlags {
    /// When the run ends, upload its journal, report files and a manifest
    /// to s3://BUCKET/PREFIX/RUN_ID/ (in the sandbox too: the archive goes
    /// to AWS or AWS_ENDPOINT_URL). A failed upload does not change the
    /// exit code.
    #[arg(long, value_name = "s3://BUCKET/PREFIX", env = "DR_DRILL_ARCHIVE", value_parser = ArchiveTarget::parse)]
    pub archive: Option<ArchiveTarget>,
    /// Put an Object Lock retention of DAYS on every archived object (the
    /// bucket must have Object Lock enabled).
    #[arg(long, value_name = "DAYS", requires = "archive", value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub archive_retain: Option<u32>,
    /// The retention's mode: governance (can be lifted with
    /// s3:BypassGovernanceRetention) or compliance (by nobody).
    #[arg(long, value_name = "MODE", default_value = "governance", value_parser = LockMode::parse)]
    pub archive_lock_mode: LockMode,
}

impl ArchiveFlags {
    /// The request these flags make for a run in `world`, if any. In the
    /// sandbox the archive still goes to S3: through the environment's
    /// profile and endpoint, and `region` if given.
    pub(super) fn request(&self, world: &World, region: Option<&str>) -> Option<ArchiveRequest> {
        let target = self.archive.clone()?;
        let aws = match world {
            World::Aws(options) => options.clone(),
            World::Sandbox(_) => AwsOptions {
                region: region.map(str::to_owned),
                ..AwsOptions::default()
            },
        };
        Some(ArchiveRequest {
            target,
            retention: self.archive_retain.map(|days| Retention {
                days,
                mode: self.archive_lock_mode,
            }),
            aws,
        })
    }
}

/// Arguments of `dr-drill archive`.
#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// The finished run: its id (under the data dir), its directory, or its journal.
    #[arg(value_name = "RUN-ID|RUN-DIR|JOURNAL")]
    pub run: String,
    /// Where to archive it: s3://BUCKET/PREFIX (the run goes under RUN_ID/).
    #[arg(long, value_name = "s3://BUCKET/PREFIX", value_parser = ArchiveTarget::parse)]
    pub to: ArchiveTarget,
    /// Put an Object Lock retention of DAYS on every archived object.
    #[arg(long = "retain", value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub retain: Option<u32>,
    /// The retention's mode: governance or compliance.
    #[arg(long, value_name = "MODE", default_value = "governance", value_parser = LockMode::parse)]
    pub lock_mode: LockMode,
    /// Where runs are kept [default: $DR_DRILL_DATA_DIR, or the user's data directory].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// How to reach S3.
    #[command(flatten)]
    pub s3: super::cloud::AwsFlags,
}

/// The command that archives the run of `journal` to `request`'s target
/// again, for a failed upload's message.
pub fn retry_command(journal: &Path, request: &ArchiveRequest) -> String {
    let run = journal
        .parent()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|| journal.display().to_string());
    let mut cmd = format!(
        "dr-drill archive {} --to {}",
        shell_word(&run),
        request.target
    );
    if let Some(r) = request.retention {
        cmd.push_str(&format!(
            " --retain {} --lock-mode {}",
            r.days,
            r.mode.word().to_ascii_lowercase()
        ));
    }
    cmd
}

/// `text` as one shell word.
fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@+,%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Archives the run of `journal` as `request` asks and says how it went
/// on standard error: a failure loudly, with the command to retry.
/// Returns whether everything was uploaded.
pub(super) async fn archive_and_say(journal: &Path, request: &ArchiveRequest) -> bool {
    let archived = crate::session::archive(journal, request).await;
    let text = archived.lines(&retry_command(journal, request));
    let _ = write!(
        std::io::stderr(),
        "{}",
        crate::format::printable(&text).trim_end_matches('\n')
    );
    let _ = writeln!(std::io::stderr());
    archived.failure.is_none()
}

pub(super) fn run(args: &ArchiveArgs, runtime: &Runtime) -> color_eyre::Result<ExitCode> {
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(engine::default_data_dir);
    let Some(journal) = super::report::journal_at(&args.run, &data_dir) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let dir = journal.parent().unwrap_or(Path::new("."));
    // The report is evidence too: written first if it is missing.
    if !dir
        .join(crate::report::Format::Markdown.file_name())
        .is_file()
    {
        match crate::report::write_next_to(&journal) {
            Ok(path) => {
                let _ = writeln!(std::io::stderr(), "report: {}", path.display());
            }
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: the report was not written ({e}); archiving the journal alone"
                );
            }
        }
    }
    let request = ArchiveRequest {
        target: args.to.clone(),
        retention: args.retain.map(|days| Retention {
            days,
            mode: args.lock_mode,
        }),
        aws: args.s3.options(),
    };
    let ok = runtime.block_on(archive_and_say(&journal, &request));
    Ok(ExitCode::from(if ok { EXIT_OK } else { EXIT_FAILED }))
}
