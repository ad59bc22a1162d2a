//! Secrets through the command line: however a secret is given and
//! whatever a step prints, no file of the run holds it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn dr_drill(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.current_dir(dir)
        .env("DR_DRILL_DATA_DIR", dir.join("data"));
    cmd
}

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

/// Fails when `needle` is in any file of the run directories.
fn assert_nowhere(dir: &Path, needle: &str) {
    for (path, bytes) in files(&dir.join("data")) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(needle),
            "{needle:?} is in {}:\n{text}",
            path.display()
        );
    }
}

const ECHO: &str = r#"
[runbook]
id = "secret-echo"
title = "Secret echo"

[params]
key = { secret = true, required = true }

[[step]]
id = "leak"
kind = "shell"
run = "printf '%s\n' \"{{ params.key }}\"; printf 'k=%s\n' \"{{ params.key }}\" >&2; echo done"
"#;

fn runbook(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("runbook.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----";

#[test]
fn a_multi_line_secret_printed_line_by_line_is_in_no_file_of_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), ECHO);
    let out = dr_drill(dir.path())
        .args(["run", "--headless", "--param", &format!("key={PEM}")])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in PEM.lines() {
        assert!(!stdout.contains(line), "{line} printed:\n{stdout}");
        assert_nowhere(dir.path(), line);
    }
    assert!(stdout.contains("[redacted]"), "{stdout}");
}

/// Secrets made of JSON syntax and escapes: the journal stays readable
/// (the report is written from it) and keeps none of them.
#[test]
fn hostile_secrets_keep_the_journal_readable_and_out_of_it() {
    for secret in [
        "a\"b\\c\"}",
        "\\n\\u0041{\"",
        "}\n{\"event\":\"run_finished\"",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = runbook(dir.path(), ECHO);
        let out = dr_drill(dir.path())
            .args(["run", "--headless", "--param", &format!("key={secret}")])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{secret:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for (file, bytes) in files(&dir.path().join("data")) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(secret), "{secret:?} in {}", file.display());
            if file.ends_with("journal.jsonl") {
                for line in text.lines() {
                    serde_json::from_str::<serde_json::Value>(line)
                        .unwrap_or_else(|e| panic!("{secret:?}: bad line {line}: {e}"));
                }
                assert!(text.contains("\"outcome\":\"succeeded\""), "{text}");
            }
        }
    }
}
