//! Every `dr-drill` command in a code block of README.md and docs/*.md runs
//! as written: each one that needs no real AWS (the sandbox, `--dry-run`,
//! `check`, the demo's listings) runs here in a scratch directory and must
//! exit 0. The few that cannot run here are listed with the reason.

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Commands (as in the docs, up to their first comment) not run here.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "dr-drill points --vault",
        "lists a real AWS account's vaults",
    ),
    (
        "dr-drill points --table",
        "lists a real AWS account's table",
    ),
    (
        "dr-drill points --bucket",
        "lists a real AWS account's bucket",
    ),
    ("dr-drill report RUN-ID|", "a synopsis, not a command"),
    (
        "dr-drill run my-restore.toml --sandbox",
        "opens the console, which needs a terminal: tests/tui_tmux.rs drives it",
    ),
    (
        "dr-drill run my-restore.toml --headless --profile staging",
        "acts on the reader's staging account",
    ),
    (
        "dr-drill run my-drill.toml --headless",
        "acts on the reader's AWS account",
    ),
    (
        "dr-drill resume my-drill-",
        "resumes a run of the reader's, on AWS",
    ),
];

/// The `dr-drill` commands in the fenced code blocks of `text`, each on
/// one line (backslash continuations joined, trailing comments dropped).
/// A ```text block shows output, not commands, and is passed over.
fn commands(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    // Inside a fence, and whether it holds commands.
    let (mut inside, mut fenced) = (false, false);
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            inside = !inside;
            fenced = inside && info.trim() != "text";
            continue;
        }
        let line = line.trim();
        if !fenced || !line.starts_with("dr-drill ") {
            continue;
        }
        let mut command = line.to_string();
        while command.ends_with('\\') {
            command.pop();
            command.push(' ');
            command.push_str(lines.next().unwrap_or_default().trim());
        }
        let command = match command.find("  #") {
            Some(i) => command[..i].to_string(),
            None => command,
        };
        found.push(command.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    found
}

fn documented() -> Vec<(String, String)> {
    let mut files = vec![Path::new(ROOT).join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
        .iter()
        .flat_map(|f| {
            let name = f.strip_prefix(ROOT).unwrap().display().to_string();
            commands(&std::fs::read_to_string(f).unwrap())
                .into_iter()
                .map(move |c| (name.clone(), c))
        })
        .collect()
}

#[test]
fn the_docs_commands_run_as_written() {
    let documented = documented();
    assert!(documented.len() > 10, "found only {documented:?}");
    let scratch = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        Path::new(ROOT).join("runbooks"),
        scratch.path().join("runbooks"),
    )
    .unwrap();
    // The reader's own copy of a shipped runbook, as docs/runbooks.md has it.
    std::fs::copy(
        Path::new(ROOT).join("runbooks/cabal-addresses-restore.toml"),
        scratch.path().join("my-restore.toml"),
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("dr-drill");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for (file, command) in &documented {
        if NOT_RUN
            .iter()
            .any(|(prefix, _)| command.starts_with(prefix))
        {
            continue;
        }
        let output = Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(scratch.path())
            .env("PATH", &path)
            .env("HOME", scratch.path())
            .env("DR_DRILL_DATA_DIR", scratch.path().join("data"))
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{file}: `{command}` exited {:?}:\n{}\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 8, "only {ran} documented commands ran");
}

#[test]
fn every_command_not_run_is_still_in_the_docs() {
    let documented = documented();
    for (prefix, why) in NOT_RUN {
        assert!(
            documented.iter().any(|(_, c)| c.starts_with(prefix)),
            "`{prefix}` ({why}) is no longer documented: take it off NOT_RUN"
        );
    }
}
