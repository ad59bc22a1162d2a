//! The programs a runbook's steps need on this machine (`requires` of its
//! shell steps), checked before any step runs: the start screen names the
//! missing ones and a run refuses to start without them.

use std::collections::BTreeMap;
use std::path::Path;

use crate::runbook::{Runbook, StepAction};

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

/// The required programs not on this process's `PATH`, with their steps.
pub fn missing(runbook: &Runbook) -> BTreeMap<String, Vec<String>> {
    let path = std::env::var_os("PATH");
    required(runbook)
        .into_iter()
        .filter(|(tool, _)| !on_path(tool, path.as_deref()))
        .collect()
}

/// What to tell the operator when programs are missing, first line first;
/// `None` when every one is on `PATH`.
pub fn missing_message(runbook: &Runbook) -> Option<String> {
    let missing = missing(runbook);
    if missing.is_empty() {
        return None;
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
        text.push_str(&format!(
            "\n  - `{tool}` (step{} {})",
            if steps.len() == 1 { "" } else { "s" },
            steps.join(", ")
        ));
    }
    Some(text)
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
