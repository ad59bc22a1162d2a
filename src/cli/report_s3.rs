//! `dr-drill report s3://BUCKET/PREFIX/RUN_ID`: the report of an archived
//! run, rebuilt from its journal once the journal's SHA-256 matches the
//! manifest; with `--verify-only`, every file of the manifest checked and
//! a table printed. The archive's rules are `crate::team::archive`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::report::{ReportArgs, formats};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::cloud::aws::AwsCloud;
use crate::team::archive::{self, ArchiveTarget};

fn error(code: u8, message: impl std::fmt::Display) -> color_eyre::Result<ExitCode> {
    let text = format!("error: {message}");
    let _ = writeln!(std::io::stderr(), "{}", crate::format::printable(&text));
    Ok(ExitCode::from(code))
}

pub(super) async fn run(args: &ReportArgs) -> color_eyre::Result<ExitCode> {
    let (target, run_id) = match ArchiveTarget::parse_run(&args.run) {
        Ok(t) => t,
        Err(e) => return error(EXIT_USAGE, e),
    };
    let cloud = match AwsCloud::connect(&args.s3.options()).await {
        Ok(c) => c,
        Err(e) => return error(EXIT_USAGE, e),
    };
    let manifest = match archive::read_manifest(&cloud, &target, &run_id).await {
        Ok(m) => m,
        Err(e) => return error(EXIT_USAGE, e),
    };
    if args.verify_only {
        return verify(&cloud, &target, &run_id, &manifest).await;
    }
    let dir = args.out.clone().unwrap_or_else(|| PathBuf::from(&run_id));
    if let Err(e) = crate::fsx::create_private_dir(&dir) {
        return error(EXIT_USAGE, format!("cannot create {}: {e}", dir.display()));
    }
    let journal = match archive::fetch_journal(&cloud, &target, &run_id, &manifest, &dir).await {
        Ok(j) => j,
        Err(e) => return error(EXIT_FAILED, e),
    };
    // No earlier runs to compare with: the archive holds this run alone.
    let report = match tokio::task::spawn_blocking({
        let (journal, dir) = (journal.clone(), dir.clone());
        move || crate::report::from_journal(&journal, Some(&dir))
    })
    .await
    {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return error(EXIT_USAGE, e),
        Err(e) => return error(EXIT_USAGE, format!("the report builder failed: {e}")),
    };
    match report.write(&dir, &formats(args)) {
        Ok(paths) => {
            let mut out = std::io::stdout();
            writeln!(out, "{}", crate::format::printable(&report.headline()))?;
            writeln!(
                out,
                "rebuilt from {} (journal SHA-256 {} matches the manifest)",
                target.run_url(&run_id),
                manifest
                    .file(archive::JOURNAL)
                    .map_or("", |f| f.sha256.as_str())
            )?;
            writeln!(out, "journal: {}", journal.display())?;
            for p in paths {
                writeln!(out, "report: {}", p.display())?;
            }
            Ok(ExitCode::from(EXIT_OK))
        }
        Err(e) => error(EXIT_USAGE, e),
    }
}

/// `--verify-only`: a line per file (hash, size, retention), then a
/// verdict; exit 1 when anything is not as archived.
async fn verify(
    cloud: &AwsCloud,
    target: &ArchiveTarget,
    run_id: &str,
    manifest: &archive::Manifest,
) -> color_eyre::Result<ExitCode> {
    let checked = archive::verify(cloud, target, run_id, manifest).await;
    let mut out = String::new();
    out.push_str(&format!(
        "{:<18} {:>10}  {:<8} RETENTION\n",
        "FILE", "BYTES", "SHA-256"
    ));
    for v in &checked {
        let size = v.size.map_or_else(|| "-".to_owned(), |s| s.to_string());
        let hash = match &v.hash {
            Ok(()) => "ok".to_owned(),
            Err(e) => e.clone(),
        };
        let retention = match &v.retention {
            None => "not set".to_owned(),
            Some(Ok(r)) => r.clone(),
            Some(Err(e)) => format!("WRONG: {e}"),
        };
        out.push_str(&format!(
            "{:<18} {:>10}  {:<8} {retention}\n",
            v.name, size, hash
        ));
    }
    let bad = checked.iter().filter(|v| !v.ok()).count();
    if bad == 0 {
        out.push_str(&format!(
            "{}: all {} files are as archived\n",
            target.run_url(run_id),
            checked.len()
        ));
    } else {
        out.push_str(&format!(
            "{}: {bad} of {} files are NOT as archived: the evidence was changed or is missing\n",
            target.run_url(run_id),
            checked.len()
        ));
    }
    write!(std::io::stdout(), "{}", crate::format::printable(&out))?;
    Ok(ExitCode::from(if bad == 0 { EXIT_OK } else { EXIT_FAILED }))
}
