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

/// Fails when `needle` is in any file of the run directories but the raw
/// `steps/*/outputs-N.env` a shell step writes (issue #14 item 4 deletes
/// those once read).
fn assert_nowhere(dir: &Path, needle: &str) {
    for (path, bytes) in files(&dir.join("data")) {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("outputs-") && name.ends_with(".env") {
            continue;
        }
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

/// The step saves the command line of the dr-drill running it, as `ps`
/// shows it to every user of the machine.
const ARGV: &str = r#"
[runbook]
id = "secret-argv"
title = "Secret argv"

[params]
key = { secret = true, required = true }
region = { default = "eu-west-1" }

[[step]]
id = "argv"
kind = "shell"
run = "tr '\\0' ' ' < /proc/$PPID/cmdline > \"$ARGV_OUT\"; echo using {{ params.key }} in {{ params.region }}"
"#;

fn argv_run(dir: &Path) -> (Command, PathBuf) {
    let path = runbook(dir, ARGV);
    let mut cmd = dr_drill(dir);
    cmd.env("ARGV_OUT", dir.join("argv.txt"))
        .args(["run", "--headless"])
        .arg(&path);
    (cmd, dir.join("argv.txt"))
}

fn assert_ran_without_showing(dir: &Path, out: &std::process::Output, argv: &Path, secret: &str) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let argv = std::fs::read_to_string(argv).unwrap();
    assert!(argv.contains("dr-drill"), "{argv}");
    assert!(!argv.contains(secret), "ps shows the secret: {argv}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
    assert_nowhere(dir, secret);
}

#[test]
fn a_secret_from_the_environment_is_not_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "env-secret-8c1f";
    let (mut cmd, argv) = argv_run(dir.path());
    let out = cmd
        .env("DRILL_KEY", secret)
        .args(["--param", "key=@env:DRILL_KEY"])
        .output()
        .unwrap();
    assert_ran_without_showing(dir.path(), &out, &argv, secret);
    assert!(String::from_utf8_lossy(&out.stdout).contains("using [redacted] in eu-west-1"));

    let (mut cmd, _) = argv_run(dir.path());
    let out = cmd
        .env_remove("DRILL_UNSET")
        .args(["--param", "key=@env:DRILL_UNSET"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`DRILL_UNSET` is not set"), "{stderr}");
}

#[test]
fn a_param_file_is_read_only_when_only_its_owner_can_read_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let secret = "file-secret-\"quoted\"";
    let file = dir.path().join("secrets.toml");
    std::fs::write(
        &file,
        "key = 'file-secret-\"quoted\"'\nregion = \"us-west-2\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (mut cmd, _) = argv_run(dir.path());
    let out = cmd.arg("--param-file").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("can be read by others (mode 0644)") && stderr.contains("chmod 600"),
        "{stderr}"
    );
    assert!(!stderr.contains("file-secret"), "{stderr}");
    assert!(!dir.path().join("data/runs").exists(), "nothing ran");

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (mut cmd, argv) = argv_run(dir.path());
    let out = cmd.arg("--param-file").arg(&file).output().unwrap();
    assert_ran_without_showing(dir.path(), &out, &argv, "file-secret");
    assert_ran_without_showing(dir.path(), &out, &argv, secret);
    assert!(String::from_utf8_lossy(&out.stdout).contains("using [redacted] in us-west-2"));
}

#[test]
fn a_missing_secret_without_a_terminal_is_refused_naming_the_ways_to_give_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cmd, _) = argv_run(dir.path());
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for way in [
        "`key`",
        "--param-file FILE",
        "--param key=@env:VAR",
        "terminal",
    ] {
        assert!(stderr.contains(way), "{way} not in {stderr}");
    }
    assert!(!dir.path().join("data/runs").exists(), "nothing ran");
}

const RELAY: &str = r#"
[runbook]
id = "secret-relay"
title = "Secret relay"

[params]
key = { secret = true, required = true }

[[step]]
id = "make"
kind = "shell"
run = "echo token={{ params.key }}-derived >> \"$DR_DRILL_OUTPUT\""
outputs = ["token"]

[[step]]
id = "use"
needs = ["make"]
kind = "shell"
run = "test ! -e \"$FAIL_ONCE\" && printf '%s' \"{{ steps.make.token }}\" > \"$USED\""
"#;

/// The journal keeps `make`'s output as `[redacted]-derived`; a resume
/// must not hand that to `use`, but run `make` again.
#[test]
fn a_resume_never_passes_a_redacted_output_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), RELAY);
    let (fail, used) = (dir.path().join("fail-once"), dir.path().join("used.txt"));
    std::fs::write(&fail, "").unwrap();
    let run = |args: &[&str]| {
        dr_drill(dir.path())
            .env("DRILL_KEY", "relay-secret-77")
            .env("FAIL_ONCE", &fail)
            .env("USED", &used)
            .args(args)
            .args(["--param", "key=@env:DRILL_KEY"])
            .output()
            .unwrap()
    };
    let first = run(&["run", "--headless", path.to_str().unwrap()]);
    assert_eq!(
        first.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    std::fs::remove_file(&fail).unwrap();
    let runs: Vec<PathBuf> = std::fs::read_dir(dir.path().join("data/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let second = run(&["resume", "--headless", runs[0].to_str().unwrap()]);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&used).unwrap(),
        "relay-secret-77-derived",
        "the placeholder was passed on"
    );
    assert_nowhere(dir.path(), "relay-secret-77");
}

#[test]
fn a_mistyped_secret_is_not_echoed_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(
        dir.path(),
        r#"
[runbook]
id = "secret-choice"
title = "Secret choice"

[params]
slot = { secret = true, required = true, choices = ["blue-4411", "green-9921"] }
pin = { secret = true, type = "number", default = "1" }

[[step]]
id = "s"
kind = "shell"
run = "true"
"#,
    );
    let out = dr_drill(dir.path())
        .env("SLOT", "blue-4412-typo")
        .env("PIN", "12a4-typo")
        .args([
            "run",
            "--headless",
            "--param",
            "slot=@env:SLOT",
            "--param",
            "pin=@env:PIN",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`slot` must be one of"), "{stderr}");
    assert!(stderr.contains("`pin` must be a whole number"), "{stderr}");
    assert!(!stderr.contains("typo"), "the secret is echoed: {stderr}");
}

/// Credentials from a profile file (no `AWS_*` key variables): a step
/// that prints the file keeps its secret key out of every file of the run.
#[test]
fn credentials_from_a_profile_are_in_no_file_of_the_run() {
    use crate::support::{moto, unique};
    let dir = tempfile::tempdir().unwrap();
    let secret = "profileSecretKey-5c2e9d71";
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &credentials,
        format!(
            "[drill]\naws_access_key_id = AKIATESTTESTTEST1234\naws_secret_access_key = {secret}\n"
        ),
    )
    .unwrap();
    let table = unique("secret-count");
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(moto().create_pk_table("us-east-1", &table));
    let path = runbook(
        dir.path(),
        r#"
[runbook]
id = "profile-secret"
title = "Profile secret"

[params]
table = { required = true }

[[step]]
id = "count"
kind = "dynamodb.count"
table = "{{ params.table }}"

[[step]]
id = "leak"
needs = ["count"]
kind = "shell"
run = "cat \"$AWS_SHARED_CREDENTIALS_FILE\""
"#,
    );
    let out = dr_drill(dir.path())
        .envs(moto().env())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env("AWS_PROFILE", "drill")
        .args(["run", "--headless", "--param", &format!("table={table}")])
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
    assert!(
        stdout.contains("aws_secret_access_key = [redacted]"),
        "{stdout}"
    );
    assert_nowhere(dir.path(), secret);
}
