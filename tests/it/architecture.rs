//! The boundaries docs/architecture.md promises, held by a test: only the
//! console (with `main` and `cli`) touches the terminal, the console does
//! not reach into the command line, the session serves every front end
//! without knowing them, and no source file grows past 800 lines.

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every source file under `src/`, with its path relative to `src/`.
fn sources() -> Vec<(String, String)> {
    super::rust_files(&src())
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(src())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The `use`/path mentions of `what` in `text` (comments left aside).
fn mentions(text: &str, what: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
        .any(|l| l.contains(what))
}

#[test]
fn only_the_console_main_and_cli_touch_the_terminal() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|(rel, _)| {
            !(rel.starts_with("tui/") || rel.starts_with("cli/") || rel == "main.rs")
        })
        .filter(|(_, text)| mentions(text, "ratatui") || mentions(text, "crossterm"))
        .map(|(rel, _)| rel)
        .collect();
    assert!(
        offenders.is_empty(),
        "terminal code outside src/tui: {offenders:?}"
    );
}

#[test]
fn the_console_and_the_session_do_not_import_the_command_line() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|(rel, _)| rel.starts_with("tui/") || rel.starts_with("session/"))
        .filter(|(_, text)| mentions(text, "crate::cli"))
        .map(|(rel, _)| rel)
        .collect();
    assert!(
        offenders.is_empty(),
        "these import crate::cli: {offenders:?}"
    );
    let session_uses_tui: Vec<String> = sources()
        .into_iter()
        .filter(|(rel, text)| rel.starts_with("session/") && mentions(text, "crate::tui"))
        .map(|(rel, _)| rel)
        .collect();
    assert!(
        session_uses_tui.is_empty(),
        "the session imports the console: {session_uses_tui:?}"
    );
}

#[test]
fn no_source_file_is_over_800_lines() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| text.lines().count() > 800)
        .map(|(rel, text)| format!("{rel} ({} lines)", text.lines().count()))
        .collect();
    assert!(long.is_empty(), "split these by concern: {long:?}");
}

/// What a drill costs has one home, `src/cost/`: the preflight's estimate
/// and the report's final figure both read it, and the report never reaches
/// into the preflight (preflight reads the report's earlier runs, so the
/// other way would be a cycle). `cost` reads neither.
#[test]
fn the_report_and_the_cost_rules_do_not_import_the_preflight() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|(rel, _)| rel.starts_with("report/") || rel.starts_with("cost/"))
        // They may name the preflight's record (`Preflight`, `Verdict`:
        // the journal carries it and the report shows it), never an area
        // nor the checks themselves.
        .filter(|(_, text)| {
            [
                "cost",
                "time",
                "resources",
                "permissions",
                "identity",
                "tools",
                "run(",
            ]
            .iter()
            .any(|area| mentions(text, &format!("preflight::{area}")))
        })
        .map(|(rel, _)| rel)
        .collect();
    assert!(
        offenders.is_empty(),
        "these import the preflight's areas: {offenders:?}"
    );
    let cost_reaches_out: Vec<String> = sources()
        .into_iter()
        .filter(|(rel, _)| rel.starts_with("cost/"))
        .filter(|(_, text)| mentions(text, "crate::report") || mentions(text, "crate::tui"))
        .map(|(rel, _)| rel)
        .collect();
    assert!(
        cost_reaches_out.is_empty(),
        "the cost rules import the report or the console: {cost_reaches_out:?}"
    );
}
