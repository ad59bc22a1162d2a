//! The start refusal for the programs a runbook's steps need on this
//! machine (`requires` of its shell steps, with their versions) and the one
//! requirement that is not a program, [`POSTGRES_SERVER`]: the start screen
//! names what is unmet and a run refuses to start without it. The checks
//! themselves are preflight's (`preflight::tools`); this file only words
//! the refusal.

use std::collections::BTreeMap;

use crate::preflight::Verdict;
use crate::preflight::tools::{self as checks, Checked, Status};
use crate::runbook::Runbook;

pub use crate::runbook::kinds::POSTGRES_SERVER;

/// Each requirement of the runbook's steps (`pg_restore>=15`, `jq`), with
/// the steps that need it.
pub fn required(runbook: &Runbook) -> BTreeMap<String, Vec<String>> {
    checks::needs(runbook)
        .into_iter()
        .map(|n| (n.requirement.to_string(), n.steps))
        .collect()
}

/// What to tell the operator when the machine does not meet the runbook's
/// requirements, first line first; `None` when it does. The checks are
/// preflight's (`preflight::tools::check_all`, against this process's
/// `PATH`): what fails there refuses the start here; a version that could
/// not be read does not.
pub fn missing_message(runbook: &Runbook) -> Option<String> {
    let path = std::env::var_os("PATH");
    message(&checks::check_all(runbook, path.as_deref()))
}

/// The refusal for these checks, `None` when none failed.
fn message(checked: &[Checked]) -> Option<String> {
    let failed: Vec<&Checked> = checked
        .iter()
        .filter(|c| c.verdict() == Verdict::Fail)
        .collect();
    if failed.is_empty() {
        return None;
    }
    // Programs not on PATH, by name (pg_isready for the server check).
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut versions: Vec<String> = Vec::new();
    let mut server: Option<String> = None;
    for c in &failed {
        match &c.status {
            Status::Missing => missing
                .entry(c.need.requirement.name.clone())
                .or_default()
                .extend(c.need.steps.iter().cloned()),
            Status::NoPgIsready => missing
                .entry("pg_isready".into())
                .or_default()
                .extend(c.need.steps.iter().cloned()),
            Status::WrongVersion { path, version } => versions.push(format!(
                "  - `{}` ({}): {} is {version}",
                c.need.requirement,
                c.steps(),
                path.display()
            )),
            Status::ServerDown { said } => {
                server = Some(format!(
                    "no PostgreSQL server accepts connections at {} (pg_isready: \"{said}\"): {}\n  - `{}` ({})",
                    checks::postgres_target(),
                    checks::SERVER_FIX,
                    POSTGRES_SERVER,
                    c.steps()
                ))
            }
            _ => {}
        }
    }
    let mut parts: Vec<String> = Vec::new();
    if !missing.is_empty() {
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
        for (tool, steps) in &mut missing {
            steps.sort();
            steps.dedup();
            text.push_str(&format!("\n  - `{tool}` ({})", plural_steps(steps)));
        }
        parts.push(text);
    }
    if !versions.is_empty() {
        parts.push(format!(
            "this machine has other versions of programs than the runbook's steps need: install the versions named, or put them first on PATH\n{}",
            versions.join("\n")
        ));
    }
    parts.extend(server);
    Some(parts.join("\n"))
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
