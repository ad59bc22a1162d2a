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
    /// Runbook files, or directories searched for *.toml.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
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
    let files = match runbook_paths(&args.paths) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let checked: Vec<CheckedFile> = files.iter().map(|p| check_file(p)).collect();
    let errors: usize = checked.iter().map(|f| f.checked.errors()).sum();
    let warnings: usize = checked.iter().map(|f| f.checked.warnings()).sum();
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Human => write_human(&mut out, &checked, errors, warnings, color)?,
        OutputFormat::Json => write_json(&mut out, &checked, errors, warnings)?,
    }
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    Ok(ExitCode::from(if failed { EXIT_FAILED } else { EXIT_OK }))
}

/// The runbook files named by `paths`: files as given, directories searched
/// recursively for `*.toml` (hidden directories and `target/` skipped).
fn runbook_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            collect_toml(path, &mut files)
                .map_err(|e| format!("cannot read directory {}: {e}", path.display()))?;
            if files.len() == before {
                return Err(format!(
                    "no runbooks (*.toml) found under {}",
                    path.display()
                ));
            }
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(format!("no such file or directory: {}", path.display()));
        }
    }
    Ok(files)
}

fn collect_toml(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let hidden = name.to_string_lossy().starts_with('.');
        if entry.file_type()?.is_dir() {
            if !hidden && name != "target" {
                collect_toml(&path, files)?;
            }
        } else if path.extension().is_some_and(|e| e == "toml") && !hidden {
            files.push(path);
        }
    }
    Ok(())
}

fn write_human(
    out: &mut impl Write,
    files: &[CheckedFile],
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
    for file in files {
        if file.checked.diagnostics.is_empty() {
            let steps = file.checked.runbook.as_ref().map_or(0, |r| r.steps.len());
            writeln!(
                out,
                "{} {} ({steps} steps)",
                paint("32", "ok"),
                file.path.display()
            )?;
        } else {
            write!(out, "{}", file.render(color))?;
        }
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
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

fn write_json(
    out: &mut impl Write,
    files: &[CheckedFile],
    errors: usize,
    warnings: usize,
) -> std::io::Result<()> {
    let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    let report = JsonReport {
        files: files
            .iter()
            .zip(&names)
            .map(|(f, name)| JsonFile {
                path: name.clone(),
                ok: f.checked.errors() == 0,
                steps: f.checked.runbook.as_ref().map(|r| r.steps.len()),
                diagnostics: f
                    .checked
                    .diagnostics
                    .iter()
                    .map(|d| d.locate(name, &f.source))
                    .collect(),
            })
            .collect(),
        errors,
        warnings,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
