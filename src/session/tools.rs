//! The programs a runbook's steps need on this machine (`requires` of its
//! shell steps), and the one requirement that is not a program,
//! [`POSTGRES_SERVER`], checked before any step runs: the start screen names
//! the missing ones and a run refuses to start without them.

use std::collections::BTreeMap;
use std::path::Path;

use crate::runbook::{Runbook, StepAction};

/// The `requires` entry that asks for a reachable PostgreSQL server: the one
/// the libpq environment (`PGHOST`, `PGPORT`) of this process names accepts
/// connections, as `pg_isready` sees it (so it needs `pg_isready` too).
pub const POSTGRES_SERVER: &str = "postgres-server";

/// Each program the runbook's steps require, with the steps that need it.
pub fn required(runbook: &Runbook) -> BTreeMap<String, Vec<String>> {
    let mut tools: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for step in &runbook.steps {
        if let StepAction::Shell(shell) = &step.action {
            for tool in &shell.requires {
                tools
                    .entry(tool.value.clone())
                    .or_default()
                    .push(step.id.value.clone());
            }
        }
    }
    tools
}

/// Whether `program` is an executable file on `path` (a `PATH` value),
/// or at `program` itself when it names a path.
fn on_path(program: &str, path: Option<&std::ffi::OsStr>) -> bool {
    let executable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return executable(Path::new(program));
    }
    path.is_some_and(|path| std::env::split_paths(path).any(|dir| executable(&dir.join(program))))
}

/// The requirements this machine does not meet, with their steps: programs
/// not on this process's `PATH`, and [`POSTGRES_SERVER`] when no server
/// answers (when `pg_isready` itself is missing, it is named instead).
pub fn missing(runbook: &Runbook) -> BTreeMap<String, Vec<String>> {
    let path = std::env::var_os("PATH");
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (tool, steps) in required(runbook) {
        let unmet = if tool == POSTGRES_SERVER {
            if !on_path("pg_isready", path.as_deref()) {
                missing
                    .entry("pg_isready".into())
                    .or_default()
                    .extend(steps);
                continue;
            }
            !postgres_ready()
        } else {
            !on_path(&tool, path.as_deref())
        };
        if unmet {
            let entry = missing.entry(tool).or_default();
            entry.extend(steps);
        }
    }
    for steps in missing.values_mut() {
        steps.sort();
        steps.dedup();
    }
    missing
}

/// Whether the server of this process's libpq environment accepts
/// connections (`pg_isready`, 3 seconds at most).
fn postgres_ready() -> bool {
    std::process::Command::new("pg_isready")
        .args(["-q", "-t", "3"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Where the libpq environment points, as the message names it.
fn postgres_target() -> String {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    format!(
        "PGHOST={}, PGPORT={}",
        var("PGHOST").unwrap_or_else(|| "(unset: the local socket)".into()),
        var("PGPORT").unwrap_or_else(|| "(unset: 5432)".into()),
    )
}

/// What to tell the operator when programs are missing, first line first;
/// `None` when every one is on `PATH`.
pub fn missing_message(runbook: &Runbook) -> Option<String> {
    let mut missing = missing(runbook);
    if missing.is_empty() {
        return None;
    }
    let server = missing.remove(POSTGRES_SERVER).map(|steps| {
        format!(
            "no PostgreSQL server accepts connections at {} (pg_isready): start one, or set PGHOST and PGPORT (and PGUSER, PGPASSWORD) to the server the runbook restores into\n  - `{}` ({})",
            postgres_target(),
            POSTGRES_SERVER,
            plural_steps(&steps)
        )
    });
    if missing.is_empty() {
        return server;
    }
    let names: Vec<&str> = missing.keys().map(String::as_str).collect();
    let mut text = format!(
        "this machine lacks {} that the runbook's steps need: install {}, or put {} on PATH",
        if names.len() == 1 {
            "a program"
        } else {
            "programs"
        },
        names.join(", "),
        if names.len() == 1 { "it" } else { "them" },
    );
    for (tool, steps) in &missing {
        text.push_str(&format!("\n  - `{tool}` ({})", plural_steps(steps)));
    }
    if let Some(server) = server {
        text.push('\n');
        text.push_str(&server);
    }
    Some(text)
}

/// `step a` or `steps a, b`.
fn plural_steps(steps: &[String]) -> String {
    format!(
        "step{} {}",
        if steps.len() == 1 { "" } else { "s" },
        steps.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_is_found_on_path_only_when_executable_there() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("pg_restore");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        let path = std::env::join_paths([dir.path()]).unwrap();
        assert!(!on_path("pg_restore", Some(&path)), "not executable yet");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(on_path("pg_restore", Some(&path)));
        assert!(!on_path("jq-not-here", Some(&path)));
        assert!(on_path(tool.to_str().unwrap(), None));
    }

    #[test]
    fn the_message_names_each_missing_program_and_its_steps() {
        let text = r#"
[runbook]
format = 1
id = "t"
title = "T"

[[step]]
id = "restore"
kind = "shell"
run = "pg_restore --version"
requires = ["dr-drill-no-such-tool", "sh"]
"#;
        let runbook = crate::runbook::check_str(text).runbook.unwrap();
        let message = missing_message(&runbook).unwrap();
        assert!(
            message.starts_with("this machine lacks a program that the runbook's steps need: install dr-drill-no-such-tool"),
            "{message}"
        );
        assert!(
            message.contains("`dr-drill-no-such-tool` (step restore)"),
            "{message}"
        );
        assert!(!message.contains("`sh`"), "{message}");
    }
}
