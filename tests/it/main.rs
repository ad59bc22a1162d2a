//! The integration tests, in one binary: each test binary links the whole
//! dependency graph (the AWS SDK included), so one binary instead of one
//! per file links once. A module per area; `support` (moto's server, the
//! headless runs) is shared with the binaries that stay apart.
//!
//! Apart, as their own binaries: `tests/tui_tmux.rs` (the console in a
//! real tmux) and the tests that start PostgreSQL through
//! `tests/support/postgres.rs` (`runbooks_pg`, `runbooks_leapmailr`,
//! `demo_runbooks`).
//!
//! A new file under `tests/it/` must be declared here (or in its
//! directory's `mod.rs`): `no_test_file_is_left_out` fails otherwise.

#[path = "../support/mod.rs"]
mod support;

mod approvals;
mod architecture;
mod aws_errors;
mod aws_mocked_rules;
mod aws_rules_list;
mod aws_wire;
mod check_fixtures;
mod cli_aws;
mod cli_check;
mod cli_credentials;
mod cli_output;
mod cli_retries;
mod cli_run;
mod cli_sandbox;
mod cli_secrets;
mod confirm_shell;
mod docs;
mod docs_commands;
mod engine;
mod hostile_journals;
mod journal_fuzz;
mod keys_doc;
mod parser_robustness;
mod preflight_core;
mod preflight_facts;
mod preflight_identity;
mod preflight_permissions;
mod preflight_resources;
mod preflight_time;
mod preflight_tools;
mod private_files;
mod read_caps;
mod report;
mod report_cost;
mod resume;
mod resume_world;
mod runbooks_cabal;
mod runbooks_s3;
mod s3_prefix;
mod schema;
mod team_archive;
mod team_store;
mod template_paths;
mod tui_app;
mod tui_cost;
mod tui_pick;
mod tui_preflight;
mod tui_start;
mod tui_view;
mod untrusted_text;

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Whether `parent` declares `mod NAME;` (perhaps `pub`), on a line of its own.
fn declares(parent: &Path, name: &str) -> bool {
    let text = std::fs::read_to_string(parent).unwrap_or_default();
    let want = format!("mod {name};");
    text.lines().any(|line| {
        let line = line.trim();
        let line = line
            .strip_prefix("pub(crate) ")
            .or_else(|| line.strip_prefix("pub "))
            .unwrap_or(line);
        line == want
    })
}

/// A test file that no `mod` line reaches is silently never compiled nor
/// run: every `.rs` file under `tests/it/` is declared by `main.rs` or by
/// its directory's `mod.rs`.
#[test]
fn no_test_file_is_left_out() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let mut left_out = Vec::new();
    for file in rust_files(&root) {
        let rel = file.strip_prefix(&root).unwrap();
        if rel == Path::new("main.rs") {
            continue;
        }
        let dir = file.parent().unwrap();
        let stem = file.file_stem().unwrap().to_str().unwrap();
        // `a/mod.rs` is module `a`, declared one level up; `a/b.rs` is
        // module `b`, declared in `a/mod.rs`.
        let (name, declared_in) = if stem == "mod" {
            (
                dir.file_name().unwrap().to_str().unwrap(),
                dir.parent().unwrap(),
            )
        } else {
            (stem, dir)
        };
        let parent = if declared_in == root {
            root.join("main.rs")
        } else {
            declared_in.join("mod.rs")
        };
        if !declares(&parent, name) {
            left_out.push(format!(
                "tests/it/{} (add `mod {name};` to {})",
                rel.display(),
                parent.strip_prefix(&root).unwrap().display()
            ));
        }
    }
    assert!(
        left_out.is_empty(),
        "test files no module declares, so they never run:\n  {}",
        left_out.join("\n  ")
    );
}
mod cli_watch;
mod people;
mod report_people;
mod team_answers;
mod team_procs;
mod team_run;
mod team_session;
mod tui_watch;
