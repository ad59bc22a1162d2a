//! The shipped S3 runbooks, headless through the binary, end to end: against
//! moto (objects uploaded here, really encrypted and checksummed; the Vault
//! commands replaced by local stand-ins given as parameters) and in the
//! simulated world.

use std::path::Path;

use aes_gcm::AesGcm;
use aes_gcm::aead::array::Array;
use aes_gcm::aead::consts::U16;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::aes::Aes256;
use assert_cmd::Command;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::support::drill::{block_on, outputs, report, run_dir, step_status};
use crate::support::{moto, repo_file, sha256_hex, unique};

const VAULT_RUNBOOK: &str = "runbooks/penguinmails-vault-restore-test.toml";
/// The default `vault_addr`, which the restore is confirmed with.
const STAGING: &str = "https://vault-staging.penguinmails.com:8200";
/// Stand-ins for `vault operator raft snapshot restore -force FILE` and
/// `vault kv get PATH`: the "snapshot" is a tar.gz of KV paths, unpacked
/// into a staging directory, where the read finds the path again.
const RESTORE_STAND_IN: &str = "mkdir -p staging-vault && tar -C staging-vault -xzf";
const READ_STAND_IN: &str = "cd staging-vault && cat";
/// The sandbox's demo key (assets/sandbox/penguinmails.toml).
const DEMO_KEY_HEX: &str = "73616e64626f782d64656d6f2d6b65792d70656e6775696e6d61696c732d3332";

/// AES-256-GCM as the PenguinMails backup service frames it: IV (16) +
/// tag (16) + ciphertext.
fn encrypt(key: &[u8; 32], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let cipher = AesGcm::<Aes256, U16>::new(&Array::from(*key));
    let mut body = plaintext.to_vec();
    let tag = cipher
        .encrypt_inout_detached(&Array::from(*iv), &[], body.as_mut_slice().into())
        .unwrap();
    [iv.as_slice(), tag.as_slice(), &body].concat()
}

/// A stand-in Vault snapshot: a tar.gz holding `smtp/test-tenant-id/admin`.
fn snapshot(dir: &Path, secret: &str) -> Vec<u8> {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("smtp/test-tenant-id")).unwrap();
    std::fs::write(tree.join("smtp/test-tenant-id/admin"), secret).unwrap();
    let archive = dir.join("snapshot.tar.gz");
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&tree)
        .arg("smtp")
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(archive).unwrap()
}

async fn put(bucket: &str, key: &str, body: Vec<u8>, checksum: &str) {
    let metadata = [
        ("checksum", checksum),
        ("timestamp", "2026-11-24T02-00-00-000Z"),
    ];
    moto().put_object(bucket, key, &body, &metadata, None).await;
}

fn dr_drill() -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.env_remove("AWS_PROFILE")
        .timeout(std::time::Duration::from_secs(240));
    cmd
}

/// Everything the run wrote down, for "never appears" checks.
fn records(data: &Path) -> String {
    let dir = run_dir(data);
    ["journal.jsonl", "report.json", "report.md", "report.html"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap_or_default())
        .collect()
}

/// A bucket with an older and the newest daily snapshot and a monthly one,
/// encrypted with `key`; the newest holds `secret`. Returns the bucket and
/// the newest key.
fn vault_bucket(dir: &Path, key: &[u8; 32], secret: &str, tamper: bool) -> (String, String) {
    let bucket = unique("penguinmails-vault-backups");
    let plain = snapshot(dir, secret);
    let older = encrypt(&[0x42; 32], &[1; 16], &plain);
    let newest_key = "daily/2026-11-24/vault-snapshot-20261124-020000.enc".to_string();
    block_on(async {
        moto()
            .s3("us-east-1")
            .create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        // Encrypted with another key: picking it would fail the run.
        put(
            &bucket,
            "daily/2026-11-23/vault-snapshot-20261123-020000.enc",
            older.clone(),
            &sha256_hex(&older),
        )
        .await;
        put(
            &bucket,
            "monthly/2026-11/vault-snapshot-20261101-020000.enc",
            older.clone(),
            &sha256_hex(&older),
        )
        .await;
        // S3 times have whole seconds: the newest must be a second younger.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let sealed = encrypt(key, &[7; 16], &plain);
        let sum = sha256_hex(&sealed);
        let mut body = sealed;
        if tamper {
            let middle = body.len() / 2;
            body[middle] ^= 0x01;
        }
        put(&bucket, &newest_key, body, &sum).await;
    });
    (bucket, newest_key)
}

fn vault_run(bucket: &str, key: &str, data: &Path) -> Command {
    let mut cmd = dr_drill();
    cmd.envs(moto().env())
        .args([
            "run",
            repo_file(VAULT_RUNBOOK).to_str().unwrap(),
            "--headless",
        ])
        .args(["--param", &format!("bucket={bucket}")])
        .args(["--param", &format!("backup_key={key}")])
        .args(["--param", "vault_token=s.staging-test-token"])
        .args(["--param", &format!("restore_cmd={RESTORE_STAND_IN}")])
        .args(["--param", &format!("read_cmd={READ_STAND_IN}")])
        .args(["--confirm", &format!("restore-staging={STAGING}")])
        .arg("--data-dir")
        .arg(data);
    cmd
}

#[test]
fn the_vault_restore_test_restores_the_newest_daily_snapshot_against_moto() {
    let dir = tempfile::tempdir().unwrap();
    let key: [u8; 32] = Sha256::digest(unique("vault-key").as_bytes()).into();
    let secret = "{\"password\":\"moto-only-secret-7f3a\"}";
    let (bucket, newest) = vault_bucket(dir.path(), &key, secret, false);
    let data = dir.path().join("data");
    // The key as the backup service keeps it in its environment: base64.
    let b64 = base64::engine::general_purpose::STANDARD.encode(key);
    let out = vault_run(&bucket, &b64, &data).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("run succeeded"), "{stdout}");
    let report = report(&data);
    assert_eq!(report["outcome"], "succeeded");
    assert!(
        stdout.contains(&format!("pick: chose s3://{bucket}/{newest}")),
        "{stdout}"
    );
    assert_eq!(
        outputs(&report, "verify-checksum")["source"],
        "object metadata"
    );
    assert!(stdout.contains("tag verified"), "{stdout}");
    assert_eq!(
        outputs(&report, "read-secret")["bytes"],
        secret.len().to_string()
    );
    assert_eq!(step_status(&report, "secret-readable"), "succeeded");
    // The stand-in Vault holds the snapshot's secret; the plaintext
    // snapshot is gone; neither the key nor the secret was written down.
    let run = run_dir(&data);
    assert_eq!(
        std::fs::read_to_string(run.join("staging-vault/smtp/test-tenant-id/admin")).unwrap(),
        secret
    );
    assert_eq!(step_status(&report, "remove-plaintext"), "succeeded");
    assert!(!run.join("vault.snap").exists());
    let written = records(&data) + &stdout;
    for never in [
        b64.as_str(),
        &hex::encode(key),
        "moto-only-secret-7f3a",
        "s.staging-test-token",
    ] {
        assert!(!written.contains(never), "`{never}` was written down");
    }
}

#[test]
fn a_tampered_snapshot_fails_its_checksum_and_nothing_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let key = [3u8; 32];
    let (bucket, _) = vault_bucket(dir.path(), &key, "{}", true);
    let data = dir.path().join("data");
    let out = vault_run(&bucket, &hex::encode(key), &data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("SHA-256 mismatch"), "{stdout}");
    let report = report(&data);
    assert_eq!(step_status(&report, "verify-checksum"), "failed");
    assert_ne!(step_status(&report, "download"), "succeeded");
    assert_ne!(step_status(&report, "restore-staging"), "succeeded");
    assert!(!run_dir(&data).join("staging-vault").exists());
}

#[test]
fn a_wrong_key_fails_authentication_and_nothing_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let (bucket, _) = vault_bucket(dir.path(), &[3u8; 32], "{}", false);
    let data = dir.path().join("data");
    let wrong = hex::encode([4u8; 32]);
    let out = vault_run(&bucket, &wrong, &data).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("authentication failed (AES-256-GCM tag mismatch"),
        "{stdout}"
    );
    let report = report(&data);
    assert_eq!(step_status(&report, "verify-checksum"), "succeeded");
    assert_eq!(step_status(&report, "decrypt"), "failed");
    assert_ne!(step_status(&report, "restore-staging"), "succeeded");
    let run = run_dir(&data);
    assert!(!run.join("vault.snap").exists() && !run.join("staging-vault").exists());
    assert!(!(records(&data) + &stdout).contains(&wrong));

    // A key of the wrong length is refused before the file is touched.
    let data = dir.path().join("data-short");
    let out = vault_run(&bucket, &hex::encode([4u8; 16]), &data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("the key decodes (hex) to 16 bytes; AES-256 needs 32 bytes"),
        "{stdout}"
    );
}

fn sandbox_vault_run(data: &Path) -> Command {
    let mut cmd = dr_drill();
    cmd.args([
        "run",
        repo_file(VAULT_RUNBOOK).to_str().unwrap(),
        "--headless",
    ])
    .args(["--sandbox", "--speed", "3600"])
    .args(["--param", &format!("backup_key={DEMO_KEY_HEX}")])
    .args(["--param", "vault_token=sandbox-token"])
    .args(["--param", &format!("restore_cmd={RESTORE_STAND_IN}")])
    .args(["--param", &format!("read_cmd={READ_STAND_IN}")])
    .args(["--confirm", &format!("restore-staging={STAGING}")])
    .arg("--data-dir")
    .arg(data);
    cmd
}

#[test]
fn the_vault_restore_test_runs_end_to_end_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = sandbox_vault_run(&data).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("acting as SIMULATED world"), "{stdout}");
    assert!(
        stdout.contains("pick: chose s3://penguinmails-vault-backups/daily/"),
        "{stdout}"
    );
    let report = report(&data);
    assert_eq!(report["outcome"], "succeeded");
    // The world's snapshot is the committed stand-in, encrypted.
    let asset = std::fs::read(repo_file(
        "assets/sandbox/penguinmails-vault-snapshot.tar.gz",
    ))
    .unwrap();
    assert_eq!(outputs(&report, "decrypt")["sha256"], sha256_hex(&asset));
    assert!(
        run_dir(&data)
            .join("staging-vault/smtp/test-tenant-id/admin")
            .exists()
    );
    assert_eq!(step_status(&report, "secret-readable"), "succeeded");
    assert!(!records(&data).contains(DEMO_KEY_HEX));
}

#[test]
fn in_the_sandbox_a_corrupt_snapshot_stops_the_restore_test() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = sandbox_vault_run(&data)
        .args([
            "--fault",
            "corrupt-checksum=penguinmails-vault-backups/daily/",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("SHA-256 mismatch"), "{stdout}");
    assert_eq!(step_status(&report(&data), "restore-staging"), "skipped");
}

#[test]
fn a_decryption_key_must_come_from_one_secret_parameter() {
    use dr_drill::runbook::check_str;
    let runbook = |params: &str, step: &str| {
        format!(
            "[runbook]\nid = \"r\"\ntitle = \"R\"\n\n[params]\n{params}\n\n[[step]]\nid = \"d\"\nkind = \"file.decrypt\"\ncipher = \"aes-256-gcm\"\n{step}\n"
        )
    };
    let cases = [
        (
            "k = { required = true }",
            "from = \"a.enc\"\nto = \"a\"\nkey = \"{{ params.k }}\"",
            "which is not secret",
        ),
        (
            "k = { required = true, secret = true }",
            "from = \"a.enc\"\nto = \"a\"\nkey = \"00{{ params.k }}\"",
            "exactly one secret parameter",
        ),
        (
            "k = { required = true, secret = true }",
            &format!("from = \"a.enc\"\nto = \"a\"\nkey = \"{DEMO_KEY_HEX}\""),
            "exactly one secret parameter",
        ),
        (
            "k = { required = true, secret = true }",
            "from = \"a.enc\"\nto = \"a.enc\"\nkey = \"{{ params.k }}\"",
            "are the same file",
        ),
        (
            "k = { required = true, secret = true }",
            "from = \"a.enc\"\nto = \"a\"\nkey = \"{{ params.k }}\"\nlayout = \"iv16-ciphertext\"",
            "iv16-tag16-ciphertext",
        ),
    ];
    for (params, step, want) in cases {
        let text = runbook(params, step);
        let checked = check_str(&text);
        assert!(checked.runbook.is_none(), "{text}");
        let said = format!("{:?}", checked.diagnostics);
        assert!(said.contains(want), "{text}\n{said}");
    }
    let good = runbook(
        "k = { required = true, secret = true }",
        "from = \"a.enc\"\nto = \"a\"\nkey = \"{{ params.k }}\"\nlayout = \"iv12-ciphertext-tag16\"",
    );
    let checked = check_str(&good);
    assert!(checked.runbook.is_some(), "{:#?}", checked.diagnostics);
}

const MEDIA_RUNBOOK: &str = "runbooks/gtin1-media-restore.toml";

/// A DR bucket whose `media/products/` holds Deep Archive objects (one with
/// its SHA-256 in metadata) and one in STANDARD, beside other keys.
fn media_bucket() -> (String, Vec<(&'static str, Vec<u8>)>) {
    let bucket = unique("closient-disaster-recovery-backup");
    let objects: Vec<(&'static str, Vec<u8>)> = vec![
        (
            "media/products/0a1b2c3d/1.jpg",
            b"\xff\xd8jpeg one".repeat(300),
        ),
        (
            "media/products/0a1b2c3d/2.jpg",
            b"\xff\xd8jpeg two".repeat(200),
        ),
        (
            "media/products/9f8e7d6c/3.jpg",
            b"\xff\xd8jpeg three".to_vec(),
        ),
        ("media/products/logo.png", b"\x89PNG logo".to_vec()),
    ];
    block_on(async {
        let s3 = moto().s3("us-east-1");
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        for (i, (key, body)) in objects.iter().enumerate() {
            let sum = sha256_hex(body);
            let metadata: &[(&str, &str)] = if i == 0 { &[("sha256", &sum)] } else { &[] };
            let class = (i < 3).then_some("DEEP_ARCHIVE");
            moto().put_object(&bucket, key, body, metadata, class).await;
        }
        for key in ["media/other/x.jpg", "database/gtin1/weekly/x/backup.dump"] {
            moto()
                .put_object(&bucket, key, b"not restored", &[], None)
                .await;
        }
    });
    (bucket, objects)
}

#[test]
fn the_media_restore_thaws_downloads_and_checks_a_prefix_against_moto() {
    let dir = tempfile::tempdir().unwrap();
    let (bucket, objects) = media_bucket();
    let data = dir.path().join("data");
    // In incident mode the local copy is kept (the cleanup is drill-only).
    let out = dr_drill()
        .envs(moto().env())
        .args([
            "run",
            repo_file(MEDIA_RUNBOOK).to_str().unwrap(),
            "--headless",
        ])
        .args(["--mode", "incident", "--t0", "2026-11-24T06:00:00Z"])
        .args(["--param", &format!("bucket={bucket}")])
        .args(["--param", "prefix=media/products/"])
        .args(["--param", "days=3"])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("3 Bulk restores requested for 3 days") && stdout.contains("4 of 4 ready"),
        "{stdout}"
    );
    let report = report(&data);
    assert_eq!(report["outcome"], "succeeded");
    assert_eq!(outputs(&report, "thaw")["objects"], "4");
    let download = outputs(&report, "download");
    assert_eq!(download["objects"], "4");
    assert_eq!(download["verified"], "1");
    let total: usize = objects.iter().map(|(_, b)| b.len()).sum();
    assert_eq!(download["size_bytes"], total.to_string());
    assert_eq!(outputs(&report, "local-copy")["files"], "4");
    assert_eq!(step_status(&report, "copy-complete"), "succeeded");
    assert_eq!(step_status(&report, "remove-copy"), "not_run");
    let media = run_dir(&data).join("restored-media");
    for (key, body) in &objects {
        let local = media.join(key.strip_prefix("media/products/").unwrap());
        assert_eq!(&std::fs::read(&local).unwrap(), body, "{}", local.display());
    }
    assert!(!media.join("x.jpg").exists());

    // Days that are not a number stop the run before anything is asked of S3.
    let data = dir.path().join("data-days");
    let out = dr_drill()
        .envs(moto().env())
        .args([
            "run",
            repo_file(MEDIA_RUNBOOK).to_str().unwrap(),
            "--headless",
        ])
        .args(["--param", &format!("bucket={bucket}")])
        .args(["--param", "prefix=media/products/", "--param", "days=0"])
        .args(["--confirm", "remove-copy=restored-media"])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("`days` is `0`, not a whole number"),
        "{stdout}"
    );
}

#[test]
fn the_media_restore_runs_end_to_end_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dr_drill()
        .args([
            "run",
            repo_file(MEDIA_RUNBOOK).to_str().unwrap(),
            "--headless",
        ])
        .args(["--sandbox", "--speed", "3600"])
        .args(["--param", "prefix=media/products/a1"])
        .args(["--confirm", "remove-copy=restored-media"])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("acting as SIMULATED world"), "{stdout}");
    assert!(
        stdout.contains("7 Bulk restores requested for 7 days"),
        "{stdout}"
    );
    assert!(stdout.contains("7 of 7 ready"), "{stdout}");
    let report = report(&data);
    assert_eq!(report["outcome"], "succeeded");
    assert_eq!(outputs(&report, "download")["objects"], "7");
    assert_eq!(
        outputs(&report, "local-copy")["bytes"],
        outputs(&report, "download")["size_bytes"]
    );
    // The drill's cleanup removed the local copy.
    assert_eq!(step_status(&report, "remove-copy"), "succeeded");
    assert!(!run_dir(&data).join("restored-media").exists());
    // Deep Archive's Bulk tier took its 12 to 14 hours of world time.
    let thaw = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "thaw")
        .unwrap();
    let real = thaw["duration_seconds"].as_f64().unwrap();
    assert!((12.0 * 3600.0 / 3600.0..20.0).contains(&real), "{real}");
}

/// The plaintext `file.decrypt` writes holds secrets: only its owner may
/// read it.
#[test]
fn a_decrypted_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = [7u8; 32];
    let sealed = dir.path().join("snapshot.enc");
    std::fs::write(&sealed, encrypt(&key, &[1u8; 16], b"every secret")).unwrap();
    let runbook = dir.path().join("decrypt.toml");
    std::fs::write(
        &runbook,
        format!(
            "[runbook]\nid = \"decrypt\"\ntitle = \"Decrypt\"\n\n[params]\nkey = {{ required = true, secret = true }}\n\n[[step]]\nid = \"decrypt\"\nkind = \"file.decrypt\"\ncipher = \"aes-256-gcm\"\nfrom = \"{}\"\nto = \"plain.bin\"\nkey = \"{{{{ params.key }}}}\"\n",
            sealed.display()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = dr_drill()
        .args(["run", runbook.to_str().unwrap(), "--headless"])
        .args(["--param", &format!("key={}", hex::encode(key))])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let plain = run_dir(&data).join("plain.bin");
    assert_eq!(std::fs::read(&plain).unwrap(), b"every secret");
    let mode = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    assert!(!run_dir(&data).join("plain.bin.part").exists());
}
