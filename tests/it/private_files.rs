//! Issue #14, item 4: what dr-drill writes is the operator's alone. A
//! sandbox run under umask 022 that downloads, decrypts, records outputs
//! and writes its reports leaves directories 0700 and files 0600, and no
//! `outputs-N.env` (raw values, secrets too) behind.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::drill::run_dir;

/// The sandbox's demo key (assets/sandbox/penguinmails.toml).
const DEMO_KEY_HEX: &str = "73616e64626f782d64656d6f2d6b65792d70656e6775696e6d61696c732d3332";

const RUNBOOK: &str = r#"
[runbook]
id = "private-files"
title = "Everything a run writes is the operator's alone"

[params]
key = { required = true, secret = true }

[[step]]
id = "pick"
kind = "pick-recovery-point"
source = { bucket = "penguinmails-vault-backups", prefix = "daily/", suffix = ".enc" }
policy = "latest"

[[step]]
id = "download"
needs = ["pick"]
kind = "s3.download"
bucket = "penguinmails-vault-backups"
key = "{{ steps.pick.key }}"
to = "downloads/snapshot.enc"

[[step]]
id = "decrypt"
needs = ["download"]
kind = "file.decrypt"
from = "{{ steps.download.path }}"
to = "plain/vault.snap"
cipher = "aes-256-gcm"
layout = "iv16-tag16-ciphertext"
key = "{{ params.key }}"

[[step]]
id = "secret-output"
kind = "shell"
run = "echo token={{ params.key }} >> \"$DR_DRILL_OUTPUT\""
outputs = ["token"]
"#;

/// Every path under `dir`, `dir` included.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.to_owned()];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.extend(walk(&path));
        } else {
            all.push(path);
        }
    }
    all
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_sandbox_run_under_umask_022_leaves_only_private_files() {
    let tmp = tempfile::tempdir().unwrap();
    let runbook = tmp.path().join("private.toml");
    std::fs::write(&runbook, RUNBOOK).unwrap();
    let data = tmp.path().join("data");
    // The umask most machines have: without care, 0755 and 0644.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(assert_cmd::cargo::cargo_bin("dr-drill"))
        .args(["run", runbook.to_str().unwrap(), "--headless", "--sandbox"])
        .args(["--speed", "3600", "--param", &format!("key={DEMO_KEY_HEX}")])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&data), 0o700, "the data directory");
    let run = run_dir(&data);
    let paths = walk(&run);
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.strip_prefix(&run).unwrap().display().to_string())
        .collect();
    for expected in [
        "journal.jsonl",
        "report.md",
        "report.json",
        "report.junit.xml",
        "sandbox-world.jsonl",
        "downloads/snapshot.enc",
        "plain/vault.snap",
        "steps/secret-output",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    assert!(
        !names.iter().any(|n| n.contains("outputs-")),
        "the outputs file is removed once read: {names:?}"
    );
    for path in &paths {
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(path), want, "{} is {:o}", path.display(), mode(path));
    }
}
