//! Memory and the journal stay bounded whatever a step prints: over-long
//! lines are split, the journal keeps a step's head and tail, the rest is
//! counted and kept whole in a file beside the journal.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

use dr_drill::engine::event::EventKind;
use dr_drill::engine::output::{CONTINUED, JOURNALED_HEAD, JOURNALED_TAIL, LINE_PIECE};

/// A 3 MB line with no newline on stderr, then 6 MB of lines.
const RUNBOOK: &str = r#"
[runbook]
id = "loud"
title = "Loud step"

[[step]]
id = "big"
kind = "shell"
run = "head -c 3000000 /dev/zero | tr '\\0' x >&2; yes 'a line of output' | head -c 6000000; echo done=1 >> \"$DR_DRILL_OUTPUT\""
outputs = ["done"]
"#;

fn journal_of(data: &Path) -> std::path::PathBuf {
    let run = std::fs::read_dir(data.join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    run.join("journal.jsonl")
}

#[test]
fn a_step_printing_9_mb_journals_its_head_and_tail_and_keeps_the_rest_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runbook.toml");
    std::fs::write(&path, RUNBOOK).unwrap();
    let data = dir.path().join("data");
    Command::cargo_bin("dr-drill")
        .unwrap()
        .current_dir(dir.path())
        .env("DR_DRILL_DATA_DIR", &data)
        .args(["run", "--headless"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "left out, full output in steps/big/output-1.log (in the run directory)",
        ));
    let journal = journal_of(&data);
    let size = std::fs::metadata(&journal).unwrap().len() as usize;
    assert!(
        size < JOURNALED_HEAD + JOURNALED_TAIL + 200_000,
        "journal of {size} bytes"
    );
    let text = std::fs::read_to_string(&journal).unwrap();
    let longest = text.lines().map(str::len).max().unwrap();
    assert!(
        longest < LINE_PIECE + 1000,
        "a journal line of {longest} bytes"
    );

    let contents = dr_drill::engine::journal::read(&journal).unwrap();
    let left_out = contents
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::StepOutputLeftOut { left_out, .. } => Some(left_out.clone()),
            _ => None,
        })
        .expect("a left-out marker");
    assert_eq!(left_out.file, "steps/big/output-1.log");
    // The head holds the long stderr line, split and marked; the tail
    // the last lines.
    let lines: Vec<&str> = contents
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StepOutput { line, .. } => Some(line.as_str()),
            _ => None,
        })
        .collect();
    assert!(lines[0].starts_with("xxxx") && lines[0].len() == LINE_PIECE);
    assert!(lines[1].starts_with(&format!("{CONTINUED}xxxx")));
    assert_eq!(lines[lines.len() - 2], "a line of output");

    // The full output, byte for byte, readable by the operator only.
    let log = journal.parent().unwrap().join(&left_out.file);
    let meta = std::fs::metadata(&log).unwrap();
    assert_eq!(meta.len(), 9_000_000);
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let journaled: usize = lines.len(); // at least one byte each
    assert!(left_out.bytes as usize + journaled <= 9_000_000);
    assert!(left_out.bytes > 8_000_000);

    Command::cargo_bin("dr-drill")
        .unwrap()
        .env("DR_DRILL_DATA_DIR", &data)
        .args(["report", "--format", "md"])
        .arg(&journal)
        .assert()
        .success();
    let report = std::fs::read_to_string(journal.parent().unwrap().join("report.md")).unwrap();
    assert!(
        report.contains(&format!("Output of `big`: {}.", left_out.phrase())),
        "{report}"
    );
}

#[test]
fn file_decrypt_refuses_a_file_over_its_cap_before_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runbook.toml");
    let big = dir.path().join("big.enc");
    // Sparse: 1 GiB and a byte on disk costs nothing.
    std::fs::File::create(&big)
        .unwrap()
        .set_len((1 << 30) + 1)
        .unwrap();
    std::fs::write(
        &path,
        format!(
            r#"
[runbook]
id = "decrypt-big"
title = "Decrypt a big file"

[params]
key = {{ required = true, secret = true }}

[[step]]
id = "decrypt"
kind = "file.decrypt"
from = "{}"
to = "plain"
cipher = "aes-256-gcm"
key = "{{{{ params.key }}}}"
"#,
            big.display(),
        ),
    )
    .unwrap();
    Command::cargo_bin("dr-drill")
        .unwrap()
        .current_dir(dir.path())
        .env("DR_DRILL_DATA_DIR", dir.path().join("data"))
        .args(["run", "--headless", "--param"])
        .arg(format!("key={}", "00".repeat(32)))
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "{} is 1.0 GiB, over file.decrypt's cap of 1.0 GiB",
            big.display()
        )));
}
