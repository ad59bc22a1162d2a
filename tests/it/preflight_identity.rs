//! The identity area's warnings (#16 item 2) through `dr-drill preflight`:
//! the account the credentials are in differs from the one the last drill
//! of this runbook acted in (its journal's `cloud_connected`, else its
//! header's AWS world), or from the one the runbook's ARNs name. A warning
//! names both accounts; it is not a failure (exit 0). Journals are outside
//! input: an account read from one reaches the terminal only as printable
//! text.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use crate::support::{moto, sha256_hex};

/// The sandbox's account (`cloud/sim/calls.rs`) and moto's.
const SANDBOX_ACCOUNT: &str = "111122223333";
const MOTO_ACCOUNT: &str = "123456789012";

/// A read-only runbook with one AWS step, so the identity area runs.
const VAULT_POSTURE: &str = r#"
[runbook]
id = "account-drill"
title = "One AWS read"

[[step]]
id = "vault"
kind = "backup.vault-posture"
backup_vault = "cabal-backup"
region = "us-east-1"
"#;

/// A restore whose role (a parameter's default) is in another account.
const ROLE_ELSEWHERE: &str = r#"
[runbook]
id = "role-elsewhere"
title = "The restore role is in another account"

[params]
role_arn = { default = "arn:aws:iam::999999999999:role/cabal-backup-role", description = "Role AWS Backup assumes" }

[[step]]
id = "pick"
kind = "pick-recovery-point"
source = { backup_vault = "cabal-backup", region = "us-east-1", resource_type = "DynamoDB" }

[[step]]
id = "restore"
needs = ["pick"]
kind = "backup.restore"
backup_vault = "{{ steps.pick.vault }}"
region = "{{ steps.pick.region }}"
recovery_point = "{{ steps.pick.arn }}"
iam_role_arn = "{{ params.role_arn }}"
metadata = { targetTableName = "cabal-addresses-restored" }
"#;

fn runbook(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("runbook.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn dr_drill(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.current_dir(dir)
        .env("DR_DRILL_DATA_DIR", dir.join("data"))
        .env_remove("AWS_PROFILE")
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        .timeout(std::time::Duration::from_secs(60));
    cmd
}

/// Runs `path` headless in the sandbox; returns its journal.
fn drill(dir: &Path, path: &Path) -> PathBuf {
    dr_drill(dir)
        .args(["run", "--headless", "--sandbox", path.to_str().unwrap()])
        .assert()
        .code(0);
    let runs: Vec<PathBuf> = std::fs::read_dir(dir.join("data/runs"))
        .unwrap()
        .map(|e| e.unwrap().path().join("journal.jsonl"))
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.into_iter().next().unwrap()
}

/// Rewrites the account the journal's `cloud_connected` event names.
fn set_connected_account(journal: &Path, account: &str) {
    let text = std::fs::read_to_string(journal).unwrap();
    let mut changed = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let mut v: Value = serde_json::from_str(line).unwrap();
            if v["event"] == "cloud_connected" {
                v["identity"]["account"] = Value::from(account);
                changed += 1;
            }
            v.to_string()
        })
        .collect();
    assert_eq!(changed, 1, "one cloud_connected event in {text}");
    std::fs::write(journal, lines.join("\n") + "\n").unwrap();
}

/// The JSON document of `dr-drill preflight PATH --output json ARGS`,
/// which must exit 0 (warnings are not failures).
fn preflight_json(cmd: &mut Command, path: &Path, args: &[&str]) -> Value {
    let out = cmd
        .args(["preflight", path.to_str().unwrap(), "--output", "json"])
        .args(args)
        .assert()
        .get_output()
        .clone();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The identity area's warnings.
fn identity_warnings(doc: &Value) -> Vec<Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["area"] == "identity" && f["verdict"] == "warn")
        .cloned()
        .collect()
}

#[test]
fn the_last_drill_in_another_account_is_a_warning_naming_both_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), VAULT_POSTURE);
    let journal = drill(dir.path(), &path);
    set_connected_account(&journal, "444455556666");
    let run_id = journal
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();

    let doc = preflight_json(&mut dr_drill(dir.path()), &path, &["--sandbox"]);
    let warnings = identity_warnings(&doc);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let w = &warnings[0];
    assert_eq!(w["subject"], format!("account {SANDBOX_ACCOUNT}"), "{w}");
    let detail = w["detail"].as_str().unwrap();
    assert!(detail.contains("444455556666"), "{detail}");
    assert!(detail.contains(&run_id), "names the earlier run: {detail}");
    assert!(
        w["fix"].as_str().unwrap().contains("--profile"),
        "says what to check: {w}"
    );
    // The table for people says the same, and the exit code stays 0.
    let table = dr_drill(dir.path())
        .args(["preflight", path.to_str().unwrap(), "--sandbox"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(table).unwrap();
    assert!(table.contains("warning"), "{table}");
    assert!(
        table.contains(&format!("account {SANDBOX_ACCOUNT}")),
        "{table}"
    );
    assert!(table.contains("444455556666"), "{table}");
}

#[test]
fn the_last_drill_in_the_same_account_is_no_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), VAULT_POSTURE);
    drill(dir.path(), &path);
    let doc = preflight_json(&mut dr_drill(dir.path()), &path, &["--sandbox"]);
    assert_eq!(identity_warnings(&doc), Vec::<Value>::new());
}

#[test]
fn a_drill_of_another_runbook_in_another_account_is_no_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), VAULT_POSTURE);
    let journal = drill(dir.path(), &path);
    set_connected_account(&journal, "444455556666");
    // Another runbook in the same data dir: the earlier run is not its own.
    let other = dir.path().join("other.toml");
    std::fs::write(
        &other,
        VAULT_POSTURE.replace("\"account-drill\"", "\"account-drill-2\""),
    )
    .unwrap();
    let doc = preflight_json(&mut dr_drill(dir.path()), &other, &["--sandbox"]);
    assert_eq!(identity_warnings(&doc), Vec::<Value>::new());
}

#[test]
fn a_hostile_account_in_an_earlier_journal_is_not_compared() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), VAULT_POSTURE);
    let journal = drill(dir.path(), &path);
    // A title-setting escape, and a line break that would forge a line of
    // the table: not an account id (12 digits), so nothing to compare.
    set_connected_account(
        &journal,
        "\u{1b}]0;pwned\u{7}4444\n  ok         account 111122223333",
    );
    let out = dr_drill(dir.path())
        .args(["preflight", path.to_str().unwrap(), "--sandbox"])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(!table.contains("pwned"), "{table}");
    assert_eq!(
        table.matches("account 111122223333").count(),
        1,
        "only the credentials' own line: {table}"
    );
    let doc = preflight_json(&mut dr_drill(dir.path()), &path, &["--sandbox"]);
    assert_eq!(identity_warnings(&doc), Vec::<Value>::new());
}

#[test]
fn a_role_arn_default_in_another_account_is_a_warning_naming_both_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), ROLE_ELSEWHERE);
    let doc = preflight_json(&mut dr_drill(dir.path()), &path, &["--sandbox"]);
    let warnings = identity_warnings(&doc);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let w = &warnings[0];
    assert_eq!(w["subject"], format!("account {SANDBOX_ACCOUNT}"), "{w}");
    assert!(
        w["detail"].as_str().unwrap().contains("999999999999"),
        "{w}"
    );

    // The role given in the credentials' own account: no warning.
    let own = format!("role_arn=arn:aws:iam::{SANDBOX_ACCOUNT}:role/cabal-backup-role");
    let doc = preflight_json(
        &mut dr_drill(dir.path()),
        &path,
        &["--sandbox", "--param", &own],
    );
    assert_eq!(identity_warnings(&doc), Vec::<Value>::new());
}

/// On AWS (here moto), an earlier run whose journal has no
/// `cloud_connected` event is read by its header's world.
#[test]
fn against_moto_the_last_drill_is_read_from_the_journal_header_when_it_has_no_identity_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(dir.path(), VAULT_POSTURE);
    let run_id = "account-drill-20260101T000000Z";
    let run_dir = dir.path().join("data/runs").join(run_id);
    std::fs::create_dir_all(&run_dir).unwrap();
    let header = serde_json::json!({
        "journal_format": 1,
        "run_id": run_id,
        "runbook_path": path.to_str().unwrap(),
        "runbook_sha256": sha256_hex(VAULT_POSTURE.as_bytes()),
        "runbook_text": VAULT_POSTURE,
        "mode": "drill",
        "t0": "2026-01-01T00:00:00Z",
        "started_at": "2026-01-01T00:00:00Z",
        "operator": "ops@host",
        "params": {},
        "dr_drill_version": "0.1.0",
        "world": { "kind": "aws", "account": "999900001111", "region": "us-east-1" },
    });
    std::fs::write(run_dir.join("journal.jsonl"), format!("{header}\n")).unwrap();

    let mut cmd = dr_drill(dir.path());
    cmd.envs(moto().env());
    // The vault does not exist on moto: a resource failure (exit 1) does
    // not matter here, only the identity area does.
    let doc = preflight_json(&mut cmd, &path, &[]);
    let warnings = identity_warnings(&doc);
    assert_eq!(warnings.len(), 1, "{doc:#}");
    let w = &warnings[0];
    assert_eq!(w["subject"], format!("account {MOTO_ACCOUNT}"), "{w}");
    let detail = w["detail"].as_str().unwrap();
    assert!(detail.contains("999900001111"), "{detail}");
    assert!(detail.contains(run_id), "{detail}");
}
