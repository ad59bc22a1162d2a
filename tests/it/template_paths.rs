//! Issue #14, item 5: a path a template fills in stays in the run
//! directory. A value climbing out with `..`, or an absolute one, fails the
//! step before anything is written, for `s3.download` `to`, `file.decrypt`
//! `from`/`to` and shell `cwd`; a literal absolute path stays allowed.

use crate::support::drill::{report, step};

const RUNBOOK: &str = r#"
[runbook]
id = "template-paths"
title = "Paths from templates stay in the run directory"

[params]
to = { required = true }
abs = { required = true }
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
to = "{{ params.to }}"
on_failure = "continue"

[[step]]
id = "download-absolute"
needs = ["pick"]
kind = "s3.download"
bucket = "penguinmails-vault-backups"
key = "{{ steps.pick.key }}"
to = "{{ params.abs }}"
on_failure = "continue"

[[step]]
id = "decrypt"
kind = "file.decrypt"
from = "{{ params.to }}"
to = "plain"
cipher = "aes-256-gcm"
layout = "iv16-tag16-ciphertext"
key = "{{ params.key }}"
on_failure = "continue"

[[step]]
id = "cwd"
kind = "shell"
cwd = "{{ params.to }}/.."
run = "echo planted > planted"
on_failure = "continue"

[[step]]
id = "literal"
kind = "shell"
cwd = "LITERAL"
run = "echo ok"
"#;

#[test]
fn template_values_that_climb_out_of_the_run_directory_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let outside = tmp.path().join("outside");
    let runbook = tmp.path().join("paths.toml");
    std::fs::write(
        &runbook,
        RUNBOOK.replace("LITERAL", tmp.path().to_str().unwrap()),
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("dr-drill")
        .unwrap()
        .args(["run", runbook.to_str().unwrap(), "--headless", "--sandbox"])
        .args(["--speed", "3600", "--param", "to=dumps/../../../outside"])
        .args(["--param", &format!("abs={}", outside.display())])
        .args([
            "--param",
            "key=73616e64626f782d64656d6f2d6b65792d70656e6775696e6d61696c732d3332",
        ])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        !outside.exists(),
        "nothing is written outside the run directory"
    );
    assert!(!tmp.path().join("planted").exists());
    assert!(!data.join("planted").exists());
    let report = report(&data);
    for (id, field, why) in [
        ("download", "to", "climbs out with `..`"),
        ("download-absolute", "to", "is absolute"),
        ("decrypt", "from", "climbs out with `..`"),
        ("cwd", "cwd", "climbs out with `..`"),
    ] {
        let s = step(&report, id);
        assert_eq!(s["status"], "failed", "{id}: {s}");
        let reason = s.to_string();
        assert!(
            reason.contains(&format!("`{field}` of step `{id}`")) && reason.contains(why),
            "{id}: {reason}"
        );
    }
    assert_eq!(step(&report, "literal")["status"], "succeeded");
}
