//! The evidence archive through the real binary against moto's S3 over the
//! wire: `run --archive` uploads the journal, the report files and a
//! manifest whose hashes match; `--archive-retain` puts a GOVERNANCE
//! retention on every object of an Object Lock bucket and is refused
//! before any upload on a bucket without it; an unreachable archive does
//! not change the exit code; `report s3://…` rebuilds the same report and
//! refuses a changed journal.
//!
//! moto does not check `x-amz-checksum-sha256` against the body the way
//! S3 does (it stores what it is given); the hashes are checked here by
//! reading the objects back.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sha2::{Digest, Sha256};

use crate::support::{moto, unique};

const RUNBOOK: &str = r#"
[runbook]
id = "archive-test"
title = "Archive test"
rto = "10m"

[[step]]
id = "prepare"
kind = "shell"
run = "echo prepared"
"#;

const FAILING: &str = r#"
[runbook]
id = "archive-fails"
title = "Archive test, failing"

[[step]]
id = "broken"
kind = "shell"
run = "exit 4"
"#;

fn dr_drill() -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.env_remove("AWS_PROFILE")
        .env_remove("DR_DRILL_ARCHIVE")
        .envs(moto().env());
    cmd
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

fn bucket(object_lock: bool) -> String {
    let name = unique("evidence");
    block_on(
        moto()
            .s3("us-east-1")
            .create_bucket()
            .bucket(&name)
            .object_lock_enabled_for_bucket(object_lock)
            .send(),
    )
    .unwrap();
    name
}

fn get(bucket: &str, key: &str) -> Vec<u8> {
    block_on(async {
        let out = moto()
            .s3("us-east-1")
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetObject {key}: {e:?}"));
        out.body.collect().await.unwrap().into_bytes().to_vec()
    })
}

fn keys(bucket: &str) -> Vec<String> {
    block_on(async {
        let out = moto()
            .s3("us-east-1")
            .list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
        let mut keys: Vec<String> = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        keys.sort();
        keys
    })
}

/// Runs `runbook` headless in the sandbox with `extra` flags; returns the
/// exit code, stderr and the run's directory.
fn run(dir: &Path, runbook: &str, extra: &[&str]) -> (i32, String, PathBuf) {
    let file = dir.join("runbook.toml");
    std::fs::write(&file, runbook).unwrap();
    let out = dr_drill()
        .args(["run", file.to_str().unwrap(), "--headless", "--sandbox"])
        .arg("--data-dir")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let run_dir = std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .next()
        .expect("a run directory")
        .unwrap()
        .path();
    (out.status.code().unwrap(), stderr, run_dir)
}

fn run_id(run_dir: &Path) -> String {
    run_dir.file_name().unwrap().to_string_lossy().into_owned()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn a_run_archives_its_journal_reports_and_a_manifest_whose_hashes_match() {
    let b = bucket(false);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("s3://{b}/drills/q4");
    let (code, stderr, run_dir) = run(dir.path(), RUNBOOK, &["--archive", &url]);
    assert_eq!(code, 0, "{stderr}");
    let id = run_id(&run_dir);
    assert!(
        stderr.contains(&format!("archived: {url}/{id} (7 files")),
        "{stderr}"
    );
    let prefix = format!("drills/q4/{id}/");
    let mut want: Vec<String> = [
        "journal.jsonl",
        "manifest.json",
        "report.html",
        "report.json",
        "report.junit.xml",
        "report.md",
        "report.prom",
    ]
    .iter()
    .map(|n| format!("{prefix}{n}"))
    .collect();
    want.sort();
    assert_eq!(keys(&b), want);
    let manifest: serde_json::Value =
        serde_json::from_slice(&get(&b, &format!("{prefix}manifest.json"))).unwrap();
    assert_eq!(manifest["run_id"], id.as_str());
    assert_eq!(manifest["dr_drill_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        manifest["runbook_sha256"].as_str().unwrap(),
        sha256(RUNBOOK.as_bytes())
    );
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 6);
    for f in files {
        let name = f["name"].as_str().unwrap();
        let body = get(&b, &format!("{prefix}{name}"));
        assert_eq!(f["sha256"].as_str().unwrap(), sha256(&body), "{name}");
        assert_eq!(f["size"].as_u64().unwrap(), body.len() as u64, "{name}");
        assert_eq!(body, std::fs::read(run_dir.join(name)).unwrap(), "{name}");
        // The SHA-256 was sent with the upload, for S3 to check.
        let head = block_on(
            moto()
                .s3("us-east-1")
                .head_object()
                .bucket(&b)
                .key(format!("{prefix}{name}"))
                .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
                .send(),
        )
        .unwrap();
        use base64::Engine as _;
        assert_eq!(
            head.checksum_sha256(),
            Some(
                base64::engine::general_purpose::STANDARD
                    .encode(Sha256::digest(&body))
                    .as_str()
            ),
            "{name}"
        );
    }
}

#[test]
fn a_retention_puts_governance_lock_on_every_object() {
    let b = bucket(true);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("s3://{b}/locked");
    let (code, stderr, run_dir) = run(
        dir.path(),
        RUNBOOK,
        &["--archive", &url, "--archive-retain", "30"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("archived: "), "{stderr}");
    let id = run_id(&run_dir);
    let keys = keys(&b);
    assert_eq!(keys.len(), 7, "{keys:?}");
    let in_29_days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 29 * 86_400;
    for key in &keys {
        assert!(key.starts_with(&format!("locked/{id}/")));
        let retention = block_on(
            moto()
                .s3("us-east-1")
                .get_object_retention()
                .bucket(&b)
                .key(key)
                .send(),
        )
        .unwrap();
        let r = retention.retention().expect("a retention");
        assert_eq!(r.mode().unwrap().as_str(), "GOVERNANCE", "{key}");
        assert!(r.retain_until_date().unwrap().secs() > in_29_days, "{key}");
    }
    // And --verify-only reads them back as set.
    let out = dr_drill()
        .args(["report", &format!("{url}/{id}"), "--verify-only"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all 6 files are as archived"), "{stdout}");
    assert!(stdout.contains("GOVERNANCE until"), "{stdout}");
}

#[test]
fn a_bucket_without_object_lock_is_refused_before_upload_and_the_run_exits_as_it_would() {
    let b = bucket(false);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("s3://{b}/x");
    let (code, stderr, run_dir) = run(
        dir.path(),
        FAILING,
        &["--archive", &url, "--archive-retain", "30"],
    );
    // The step failed: exit 1, as without --archive.
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("ARCHIVE FAILED"), "{stderr}");
    assert!(
        stderr.contains(&format!("bucket {b} does not have Object Lock enabled")),
        "{stderr}"
    );
    assert!(stderr.contains("uploaded: nothing"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Retry with: dr-drill archive {} --to {url} --retain 30 --lock-mode governance",
            run_dir.display()
        )),
        "{stderr}"
    );
    assert!(keys(&b).is_empty(), "nothing is uploaded");
    assert!(run_dir.join("report.md").is_file());
}

#[test]
fn an_unreachable_archive_keeps_the_exit_code_and_prints_the_retry_command() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runbook.toml");
    std::fs::write(&file, RUNBOOK).unwrap();
    let out = dr_drill()
        .args(["run", file.to_str().unwrap(), "--headless", "--sandbox"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("DR_DRILL_ARCHIVE", "s3://evidence-bucket/p")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("ARCHIVE FAILED"), "{stderr}");
    assert!(stderr.contains("PutObject"), "{stderr}");
    assert!(
        stderr.contains("Retry with: dr-drill archive ")
            && stderr.contains("--to s3://evidence-bucket/p"),
        "{stderr}"
    );
}

#[test]
fn archive_then_report_from_s3_rebuilds_the_same_report() {
    let b = bucket(false);
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr, run_dir) = run(dir.path(), RUNBOOK, &[]);
    assert_eq!(code, 0, "{stderr}");
    let id = run_id(&run_dir);
    let url = format!("s3://{b}/later");
    // The report is written first when it is missing.
    std::fs::remove_file(run_dir.join("report.md")).unwrap();
    let out = dr_drill()
        .args(["archive", &id, "--to", &url])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("archived: "), "{stderr}");
    let rebuilt = dir.path().join("rebuilt");
    let out = dr_drill()
        .args(["report", &format!("{url}/{id}"), "--out"])
        .arg(&rebuilt)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("matches the manifest"), "{stdout}");
    let local: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("report.json")).unwrap()).unwrap();
    let remote: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rebuilt.join("report.json")).unwrap()).unwrap();
    assert_eq!(local, remote);
}

#[test]
fn a_changed_journal_object_is_refused_naming_the_key_and_both_hashes() {
    let b = bucket(false);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("s3://{b}/tamper");
    let (code, stderr, run_dir) = run(dir.path(), RUNBOOK, &["--archive", &url]);
    assert_eq!(code, 0, "{stderr}");
    let id = run_id(&run_dir);
    let key = format!("tamper/{id}/journal.jsonl");
    let mut journal = get(&b, &key);
    journal.extend_from_slice(b"\n");
    let forged = sha256(&journal);
    block_on(moto().put_object(&b, &key, &journal, &[], None));
    let rebuilt = dir.path().join("rebuilt");
    let out = dr_drill()
        .args(["report", &format!("{url}/{id}"), "--out"])
        .arg(&rebuilt)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("s3://{b}/{key}")), "{stderr}");
    assert!(stderr.contains(&forged), "{stderr}");
    assert!(
        stderr.contains(&sha256(
            &std::fs::read(run_dir.join("journal.jsonl")).unwrap()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("evidence was changed"), "{stderr}");
    assert!(!rebuilt.join("journal.jsonl").exists());
    assert!(!rebuilt.join("report.json").exists());
    // --verify-only says the same, per file.
    let out = dr_drill()
        .args(["report", &format!("{url}/{id}"), "--verify-only"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("CHANGED"), "{stdout}");
    assert!(
        stdout.contains("1 of 6 files are NOT as archived"),
        "{stdout}"
    );
}

#[test]
fn an_s3_url_that_names_no_run_is_refused() {
    let out = dr_drill()
        .args(["report", "s3://evidence/../x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = dr_drill()
        .args(["run", "x.toml", "--archive", "s3://Bad_Bucket/p"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid S3 bucket name"));
}
