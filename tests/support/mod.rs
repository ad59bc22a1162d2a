//! Test support shared by the wire tests: moto's server (with dr-drill's
//! AWS Backup extension, `moto_backup.py`) on a loopback port, and SDK
//! configuration pointing at it.
//!
//! The server comes from `.venv`, which `scripts/moto-env` makes (the
//! README's test command runs it). A missing server fails the test with
//! what to run; it is never skipped.

#![allow(dead_code)]

pub mod drill;
pub mod postgres;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

/// A running moto server; it exits when the test process does (its stdin
/// closes).
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    _child: Child,
    _stdin: ChildStdin,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's Python.
pub fn python() -> PathBuf {
    root().join(".venv/bin/python")
}

/// The venv's `bin`, for the AWS CLI.
pub fn venv_bin() -> PathBuf {
    root().join(".venv/bin")
}

/// The test binary's one moto server, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(start)
}

fn start() -> Moto {
    let python = python();
    assert!(
        python.exists(),
        "moto's server is not installed ({} is missing): run scripts/moto-env, or the whole suite with scripts/test",
        python.display()
    );
    let mut child = Command::new(&python)
        .arg(root().join("tests/support/moto_server.py"))
        .args(["--port", "0"])
        .env("DR_DRILL_MOTO_JOB_SECONDS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("moto_server.py printed nothing");
    let endpoint = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| panic!("moto_server.py said `{line}` instead of READY <url>"))
        .to_owned();
    let stdin = child.stdin.take().expect("piped stdin");
    Moto {
        endpoint,
        _child: child,
        _stdin: stdin,
    }
}

impl Moto {
    /// SDK configuration for `region` against this server, with test credentials.
    pub fn sdk_config(&self, region: &str) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                    "AKIATESTTESTTEST1234",
                    "testing",
                    None,
                    None,
                    "test",
                )),
            )
            .build()
    }

    /// A DynamoDB client in `region`.
    pub fn dynamodb(&self, region: &str) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config(region))
    }

    /// An AWS Backup client in `region`.
    pub fn backup(&self, region: &str) -> aws_sdk_backup::Client {
        aws_sdk_backup::Client::new(&self.sdk_config(region))
    }

    /// Creates an on-demand DynamoDB table `name` in `region` keyed by the
    /// string `pk`; returns its ARN.
    pub async fn create_pk_table(&self, region: &str, name: &str) -> String {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let out = self
            .dynamodb(region)
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        out.table_description()
            .and_then(|t| t.table_arn())
            .unwrap()
            .to_owned()
    }

    /// Puts `body` at `bucket`/`key` in us-east-1, with user `metadata` and
    /// a storage class (`DEEP_ARCHIVE`, ...; STANDARD when `None`).
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
        metadata: &[(&str, &str)],
        class: Option<&str>,
    ) {
        let mut put = self
            .s3("us-east-1")
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.to_vec().into());
        for (k, v) in metadata {
            put = put.metadata(*k, *v);
        }
        if let Some(c) = class {
            put = put.storage_class(c.into());
        }
        put.send().await.unwrap();
    }

    /// Starts an AWS Backup job of `resource_arn` into `vault` in `region`
    /// (as `role`) and waits until it is COMPLETED; returns the recovery
    /// point's ARN.
    pub async fn backup_and_wait(
        &self,
        region: &str,
        vault: &str,
        resource_arn: &str,
        role: &str,
    ) -> String {
        let backup = self.backup(region);
        let job = backup
            .start_backup_job()
            .backup_vault_name(vault)
            .resource_arn(resource_arn)
            .iam_role_arn(role)
            .send()
            .await
            .unwrap();
        let id = job.backup_job_id().unwrap().to_owned();
        eventually("the backup job completes", || {
            let (backup, id) = (&backup, &id);
            async move {
                let j = backup
                    .describe_backup_job()
                    .backup_job_id(id)
                    .send()
                    .await
                    .ok()?;
                (j.state().map(|s| s.as_str()) == Some("COMPLETED")).then_some(())
            }
        })
        .await;
        job.recovery_point_arn().unwrap().to_owned()
    }

    /// Starts an AWS Backup copy job in `region` (as `role`) and waits until
    /// it ends; returns its final state.
    pub async fn copy_and_wait(
        &self,
        region: &str,
        vault: &str,
        point: &str,
        dest_arn: &str,
        role: &str,
    ) -> String {
        let backup = self.backup(region);
        let id = backup
            .start_copy_job()
            .source_backup_vault_name(vault)
            .recovery_point_arn(point)
            .destination_backup_vault_arn(dest_arn)
            .iam_role_arn(role)
            .send()
            .await
            .unwrap()
            .copy_job_id()
            .unwrap()
            .to_owned();
        eventually("the copy job ends", || {
            let (backup, id) = (&backup, &id);
            async move {
                let out = backup
                    .describe_copy_job()
                    .copy_job_id(id)
                    .send()
                    .await
                    .ok()?;
                let state = out.copy_job()?.state()?.as_str().to_owned();
                matches!(state.as_str(), "COMPLETED" | "FAILED").then_some(state)
            }
        })
        .await
    }

    /// An S3 client in `region` (path-style).
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.sdk_config(region))
                .force_path_style(true)
                .build(),
        )
    }

    /// Environment for a `dr-drill` or `aws` process against this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "AKIATESTTESTTEST1234".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            // moto's account; the SDK reads it as the credentials' account.
            ("AWS_ACCOUNT_ID", "123456789012".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
        ]
    }

    /// Puts the INTELLIGENT_TIERING object `bucket`/`key` in an archive
    /// tier (`ARCHIVE_ACCESS`, `DEEP_ARCHIVE_ACCESS`), which moto lacks.
    pub fn set_archive_status(&self, bucket: &str, key: &str, status: &str) {
        let body = format!(r#"{{"bucket":"{bucket}","key":"{key}","status":"{status}"}}"#);
        let out = Command::new(python())
            .args([
                "-c",
                "import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + '/_dr_drill/s3-archive-status', data=sys.argv[2].encode(), method='POST'))",
                &self.endpoint,
                &body,
            ])
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "setting the archive status failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Seeds `count` synthetic COMPLETED recovery points into `vault`.
    pub fn seed_points(&self, region: &str, vault: &str, count: usize, resource_arn: &str) {
        self.seed_points_with(region, vault, count, resource_arn, "");
    }

    /// Seeds points as [`Moto::seed_points`] does, with `more` (JSON
    /// members after a comma, e.g. `,"status":"PARTIAL"`) in the request.
    pub fn seed_points_with(
        &self,
        region: &str,
        vault: &str,
        count: usize,
        resource_arn: &str,
        more: &str,
    ) {
        let body = format!(
            r#"{{"region":"{region}","vault":"{vault}","count":{count},"resource_arn":"{resource_arn}","create_vault":true{more}}}"#
        );
        let out = Command::new(python())
            .args([
                "-c",
                "import sys, urllib.request; r = urllib.request.urlopen(urllib.request.Request(sys.argv[1] + '/_dr_drill/seed-recovery-points', data=sys.argv[2].encode(), method='POST')); print(r.read().decode())",
                &self.endpoint,
                &body,
            ])
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "seeding failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A unique resource name for one test: `prefix-<n>`.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Polls `f` every 100 ms for up to 30 s.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..300 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 30 s");
}

/// The SHA-256 of `bytes` in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The path of a file in the repository.
pub fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}
