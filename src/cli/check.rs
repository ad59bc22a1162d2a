//! `dr-drill check PATH...`: every finding in every runbook, for a human
//! (source line and caret) or a machine (`--format json`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::runbook::{CheckedFile, check_file, diagnostic::LocatedDiagnostic};

/// Arguments of `dr-drill check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Runbook files, or directories searched for runbooks (*.toml files
    /// with a [runbook] table).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// When to colour output. `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = super::ColorMode::Auto)]
    pub color: super::ColorMode,
}

/// How `check` writes its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Compiler-style messages with the source line and a caret.
    Human,
    /// One JSON document on standard output.
    Json,
}

pub(super) fn run(args: &CheckArgs, color: bool) -> color_eyre::Result<ExitCode> {
    let found = match runbook_paths(&args.paths) {
        Ok(found) => found,
        Err(message) => {
            // A closed stderr must not turn a usage error into a crash.
            let _ = writeln!(std::io::stderr(), "error: {message}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let checked: Vec<CheckedFile> = found.files.iter().map(|p| check_file(p)).collect();
    let errors: usize = checked.iter().map(|f| f.checked.errors()).sum();
    let warnings: usize = checked.iter().map(|f| f.checked.warnings()).sum();
    let failed =
        |errors: usize, warnings: usize| errors > 0 || (args.deny_warnings && warnings > 0);
    let code = ExitCode::from(if failed(errors, warnings) {
        EXIT_FAILED
    } else {
        EXIT_OK
    });
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        OutputFormat::Human => {
            write_human(&mut out, &checked, &found.skipped, errors, warnings, color)
        }
        OutputFormat::Json => {
            let report = JsonReport {
                files: checked
                    .iter()
                    .map(|f| JsonFile {
                        path: f.path.display().to_string(),
                        ok: !failed(f.checked.errors(), f.checked.warnings()),
                        steps: f.checked.runbook.as_ref().map(|r| r.steps.len()),
                        diagnostics: f
                            .checked
                            .diagnostics
                            .iter()
                            .map(|d| d.locate(&f.name, &f.source))
                            .collect(),
                    })
                    .collect(),
                skipped: found
                    .skipped
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
                errors,
                warnings,
            };
            serde_json::to_writer_pretty(&mut out, &report)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
        }
    };
    match written {
        // A reader that went away (`| head`) still gets the verdict.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(code),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(code),
    }
}

/// The files a `check` covers.
struct Found {
    /// Runbooks to check, each once, in the order given.
    files: Vec<PathBuf>,
    /// TOML files met in directories that are not runbooks.
    skipped: Vec<PathBuf>,
}

/// The runbook files named by `paths`: files as given, directories searched
/// recursively for `*.toml` files that have a `[runbook]` table (hidden
/// directories, `target/` and symbolic links to directories are skipped).
fn runbook_paths(paths: &[PathBuf]) -> Result<Found, String> {
    let mut found = Found {
        files: Vec::new(),
        skipped: Vec::new(),
    };
    for path in paths {
        if path.is_dir() {
            let before = found.files.len();
            collect_runbooks(path, &mut found)?;
            if found.files.len() == before {
                return Err(format!(
                    "no runbooks (*.toml with a [runbook] table) found under {}",
                    path.display()
                ));
            }
        } else if path.exists() {
            found.files.push(path.clone());
        } else {
            return Err(format!("no such file or directory: {}", path.display()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    found
        .files
        .retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    Ok(found)
}

fn collect_runbooks(dir: &Path, found: &mut Found) -> Result<(), String> {
    let unreadable = |e: std::io::Error| format!("cannot read directory {}: {e}", dir.display());
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(unreadable)?
        .collect::<Result<_, _>>()
        .map_err(unreadable)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(unreadable)?;
        if kind.is_dir() {
            if name != "target" {
                collect_runbooks(&path, found)?;
            }
        } else if path.extension().is_some_and(|e| e == "toml") {
            if looks_like_runbook(&path) {
                found.files.push(path);
            } else {
                found.skipped.push(path);
            }
        }
    }
    Ok(())
}

/// A TOML file met in a directory is a runbook when it has a `[runbook]`
/// table, or when it does not parse (a broken runbook must be reported,
/// not skipped). `Cargo.toml` and friends are left alone.
fn looks_like_runbook(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return true;
    };
    let arena = toml_spanner::Arena::new();
    match toml_spanner::parse(&text, &arena) {
        Ok(doc) => doc.table().get("runbook").is_some(),
        Err(_) => true,
    }
}

fn write_human(
    out: &mut impl Write,
    files: &[CheckedFile],
    skipped: &[PathBuf],
    errors: usize,
    warnings: usize,
    color: bool,
) -> std::io::Result<()> {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let plural = |n: usize, word: &str| crate::format::count(n as u64, word);
    for file in files {
        if file.checked.diagnostics.is_empty() {
            let steps = plural(
                file.checked.runbook.as_ref().map_or(0, |r| r.steps.len()),
                "step",
            );
            writeln!(
                out,
                "{} {} ({steps})",
                paint("32", "ok"),
                file.path.display()
            )?;
        } else {
            write!(out, "{}", file.render(color))?;
        }
    }
    for path in skipped {
        writeln!(out, "skipped {} (no [runbook] table)", path.display())?;
    }
    let summary = format!(
        "checked {}: {}, {}",
        plural(files.len(), "runbook"),
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    let code = if errors > 0 {
        "1;31"
    } else if warnings > 0 {
        "1;33"
    } else {
        "1;32"
    };
    writeln!(out, "{}", paint(code, &summary))
}

#[derive(Serialize)]
struct JsonReport<'a> {
    files: Vec<JsonFile<'a>>,
    skipped: Vec<String>,
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct JsonFile<'a> {
    path: String,
    ok: bool,
    steps: Option<usize>,
    diagnostics: Vec<LocatedDiagnostic<'a>>,
}
