//! AWS rules whose home is a step's runner, through a real run of the
//! engine: on mocked SDK clients (aws-smithy-mocks) where moto cannot
//! express the behaviour, and the same rule in the sandbox.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
use aws_sdk_dynamodb::types::{TableDescription, TableStatus};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_types::retry::RetryConfig;
use dr_drill::cloud::aws::AwsCloud;
use dr_drill::cloud::{Cloud, RetryPolicy};
use dr_drill::engine;
use dr_drill::engine::event::{EventKind, Outcome, RunEvent};
use dr_drill::runbook::{Mode, check_str};

fn cloud(dynamodb: &[&Rule], s3: &[&Rule]) -> Arc<dyn Cloud> {
    let backup = mock_client!(aws_sdk_backup, RuleMode::MatchAny, &[], |c| c
        .retry_config(RetryConfig::disabled()));
    let dynamodb = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, dynamodb, |c| c
        .retry_config(RetryConfig::disabled()));
    let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, s3, |c| c
        .retry_config(RetryConfig::disabled()));
    let retry = RetryPolicy {
        attempts: 4,
        base: Duration::from_millis(1),
        max: Duration::from_millis(4),
    };
    Arc::new(AwsCloud::with_clients(
        "us-east-1",
        backup,
        dynamodb,
        s3,
        retry,
    ))
}

/// Runs `steps` (TOML after a header) on `cloud`; every step's outcome and
/// reason, by id.
async fn run(cloud: Arc<dyn Cloud>, steps: &str) -> BTreeMap<String, (Outcome, String)> {
    run_outputs(cloud, steps)
        .await
        .into_iter()
        .map(|(k, (o, r, _))| (k, (o, r)))
        .collect()
}

type Finished = BTreeMap<String, (Outcome, String, BTreeMap<String, String>)>;

/// Runs `steps` on `cloud`; every step's outcome, reason and outputs, by id.
async fn run_outputs(cloud: Arc<dyn Cloud>, steps: &str) -> Finished {
    let text = format!("[runbook]\nid = \"mocked\"\ntitle = \"Mocked AWS\"\n\n{steps}");
    let checked = check_str(&text);
    let runbook = checked
        .runbook
        .unwrap_or_else(|| panic!("test runbook must be valid: {:#?}", checked.diagnostics));
    let dir = tempfile::tempdir().unwrap();
    let engine::Started {
        engine, mut events, ..
    } = engine::start_unjournaled(
        runbook,
        Mode::Drill,
        BTreeMap::new(),
        dir.path().to_owned(),
        4,
    )
    .unwrap();
    engine.with_cloud(cloud).run().await.unwrap();
    let mut all: Vec<RunEvent> = Vec::new();
    while let Ok(e) = events.try_recv() {
        all.push(e);
    }
    all.into_iter()
        .filter_map(|e| match e.kind {
            EventKind::StepFinished {
                step,
                outcome,
                reason,
                outputs,
                ..
            } => Some((step, (outcome, reason.unwrap_or_default(), outputs))),
            _ => None,
        })
        .collect()
}

fn table(status: TableStatus) -> Rule {
    mock!(aws_sdk_dynamodb::Client::describe_table).then_output(move || {
        DescribeTableOutput::builder()
            .table(
                TableDescription::builder()
                    .table_name("cabal-counter-restored")
                    .table_arn(
                        "arn:aws:dynamodb:us-east-1:123456789012:table/cabal-counter-restored",
                    )
                    .table_status(status.clone())
                    .build(),
            )
            .build()
    })
}

const WAIT: &str = r#"
[[step]]
id = "active"
kind = "dynamodb.wait-active"
table = "cabal-counter-restored"
timeout = "10m"
"#;

/// `TableStatus` (botocore `dynamodb` 2012-08-10) has states no wait ends:
/// a table whose KMS key is inaccessible, and one DynamoDB archived. The
/// step fails on the first answer, where it used to poll on (and here
/// would have seen ACTIVE on the second call).
// rule: ddb-wait-active-terminal-states
#[tokio::test]
async fn wait_active_fails_at_once_on_states_that_never_become_active() {
    for (status, words) in [
        (
            TableStatus::InaccessibleEncryptionCredentials,
            "restore access to the key",
        ),
        (
            TableStatus::Archiving,
            "restore that backup into a new table",
        ),
        (
            TableStatus::Archived,
            "restore that backup into a new table",
        ),
    ] {
        let stuck = table(status.clone());
        let active = table(TableStatus::Active);
        let steps = run(cloud(&[&stuck, &active, &active], &[]), WAIT).await;
        let (outcome, reason) = &steps["active"];
        assert_eq!(*outcome, Outcome::Failed, "{status:?}: {reason}");
        assert!(
            reason.contains(&format!(
                "table cabal-counter-restored is {}",
                status.as_str()
            )) && reason.contains(words),
            "{reason}"
        );
        assert_eq!(stuck.num_calls(), 1, "{status:?}");
        assert_eq!(active.num_calls(), 0, "{status:?}");
    }
}

/// The sandbox keeps the same rule: a point-in-time restore's
/// `restore_time` is the restored table's `RestoreSummary.RestoreDateTime`,
/// which for `latest` is the window's latest when the restore started (the
/// world's clock moved on since the step read the window).
// rule: ddb-pitr-restore-time
#[tokio::test]
async fn in_the_sandbox_restore_time_is_the_restored_tables_restore_summary() {
    use dr_drill::cloud::quiet;
    use dr_drill::cloud::sim::{SimCloud, SimOptions};
    let sim: Arc<dyn Cloud> = Arc::new(
        SimCloud::builtin(SimOptions {
            speed: 100_000.0,
            ..SimOptions::default()
        })
        .unwrap(),
    );
    let steps = r#"
[[step]]
id = "to-time"
kind = "dynamodb.restore-to-point-in-time"
source_table = "cabal-counter"
target_table = "cabal-counter-latest"
"#;
    let steps = run_outputs(sim.clone(), steps).await;
    let (outcome, reason, outputs) = &steps["to-time"];
    assert_eq!(*outcome, Outcome::Succeeded, "{reason}");
    let table = sim
        .describe_table("cabal-counter-latest", None, &quiet())
        .await
        .unwrap();
    let said = table
        .restored_as_of
        .expect("a restored table's RestoreSummary");
    assert_eq!(outputs["restore_time"], said.to_string());
}

const HEAD: &str = r#"
[[step]]
id = "head"
kind = "s3.head"
bucket = "closient-disaster-recovery-backup"
key = "database/gtin1/weekly/backup.dump"
"#;

/// HeadObject returns the Object Lock headers "only if the requester has
/// the s3:GetObjectRetention permission" (botocore `s3` 2006-03-01,
/// HeadObjectOutput.ObjectLockMode): a head without them is not "no lock".
/// Refused GetObjectRetention, the outputs say `unknown` and a progress
/// line names the permission; they used to be empty, which reads as
/// unlocked.
// rule: s3-object-lock-unknown
#[tokio::test]
async fn without_get_object_retention_object_lock_is_unknown_not_absent() {
    use aws_sdk_s3::operation::get_object_retention::GetObjectRetentionError;
    use aws_sdk_s3::operation::head_object::HeadObjectOutput;
    use aws_smithy_types::error::ErrorMetadata;
    let head = mock!(aws_sdk_s3::Client::head_object)
        .then_output(|| HeadObjectOutput::builder().content_length(10).build());
    let denied = mock!(aws_sdk_s3::Client::get_object_retention).then_error(|| {
        GetObjectRetentionError::generic(
            ErrorMetadata::builder()
                .code("AccessDenied")
                .message("Access Denied")
                .build(),
        )
    });
    let steps = run_outputs(cloud(&[], &[&head, &denied]), HEAD).await;
    let (outcome, reason, outputs) = &steps["head"];
    assert_eq!(*outcome, Outcome::Succeeded, "{reason}");
    assert_eq!(outputs["object_lock_mode"], "unknown");
    assert_eq!(outputs["retain_until"], "unknown");
}

/// The same in the sandbox: `--fault access-denied=GetObjectRetention`
/// drops the lock headers from HeadObject and refuses GetObjectRetention;
/// without the fault the GTIN1 dump's GOVERNANCE lock shows.
// rule: s3-object-lock-unknown
#[tokio::test]
async fn in_the_sandbox_object_lock_is_unknown_without_get_object_retention() {
    use dr_drill::cloud::sim::{SimCloud, SimOptions};
    let sim = |faults: Vec<dr_drill::cloud::sim::Fault>| -> Arc<dyn Cloud> {
        Arc::new(
            SimCloud::builtin(SimOptions {
                speed: 100_000.0,
                faults,
                ..SimOptions::default()
            })
            .unwrap(),
        )
    };
    let head = r#"
[[step]]
id = "pick"
kind = "pick-recovery-point"
source = { bucket = "closient-disaster-recovery-backup", prefix = "database/gtin1/weekly/", suffix = "backup.dump" }
policy = "latest"

[[step]]
id = "head"
needs = ["pick"]
kind = "s3.head"
bucket = "closient-disaster-recovery-backup"
key = "{{ steps.pick.key }}"
"#;
    let steps = run_outputs(sim(vec![]), head).await;
    let (outcome, reason, outputs) = &steps["head"];
    assert_eq!(*outcome, Outcome::Succeeded, "{reason}");
    assert_eq!(outputs["object_lock_mode"], "GOVERNANCE");
    let denied = vec!["access-denied=GetObjectRetention".parse().unwrap()];
    let steps = run_outputs(sim(denied), head).await;
    let (outcome, reason, outputs) = &steps["head"];
    assert_eq!(*outcome, Outcome::Succeeded, "{reason}");
    assert_eq!(outputs["object_lock_mode"], "unknown");
    assert_eq!(outputs["retain_until"], "unknown");
}

/// A listed S3 point's Object Lock: the head's headers lock it; without
/// them the bucket's configuration decides, asked once per listing
/// (`GetObjectLockConfiguration`, botocore `s3` 2006-03-01):
/// `ObjectLockConfigurationNotFoundError` means not locked, a refused call
/// keeps it unknown. The pick's outputs used to be absent, which read as
/// unlocked.
// rule: s3-object-lock-unknown
#[tokio::test]
async fn a_listed_objects_lock_is_unknown_unless_the_bucket_has_no_lock_configuration() {
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_sdk_s3::operation::get_object_lock_configuration::GetObjectLockConfigurationError;
    use aws_sdk_s3::operation::head_object::HeadObjectOutput;
    use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
    use aws_sdk_s3::types::{Object, ObjectLockMode};
    use aws_smithy_types::DateTime;
    use aws_smithy_types::error::ErrorMetadata;
    let listed = mock!(aws_sdk_s3::Client::list_objects_v2).then_output(|| {
        let object = |key: &str, at: i64| {
            Object::builder()
                .key(key)
                .size(10)
                .last_modified(DateTime::from_secs(at))
                .build()
        };
        ListObjectsV2Output::builder()
            .contents(object("a.dump", 1_700_000_000))
            .contents(object("b.dump", 1_700_100_000))
            .contents(object("c.dump", 1_700_200_000))
            .is_truncated(false)
            .build()
    });
    let no_manifest = mock!(aws_sdk_s3::Client::get_object)
        .then_error(|| GetObjectError::generic(ErrorMetadata::builder().code("NoSuchKey").build()));
    let bare = mock!(aws_sdk_s3::Client::head_object)
        .then_output(|| HeadObjectOutput::builder().content_length(10).build());
    let lock_error = |code: &'static str| {
        mock!(aws_sdk_s3::Client::get_object_lock_configuration).then_error(move || {
            GetObjectLockConfigurationError::generic(
                ErrorMetadata::builder().code(code).message("no").build(),
            )
        })
    };
    let pick = r#"
[[step]]
id = "pick"
kind = "pick-recovery-point"
source = { bucket = "backups" }
policy = "latest"
"#;
    // Refused: unknown, and the bucket was asked once for three objects.
    let refused = lock_error("AccessDenied");
    let steps = run_outputs(cloud(&[], &[&listed, &no_manifest, &bare, &refused]), pick).await;
    let (outcome, reason, outputs) = &steps["pick"];
    assert_eq!(*outcome, Outcome::Succeeded, "{reason}");
    assert_eq!(outputs["key"], "c.dump");
    assert_eq!(outputs["object_lock_mode"], "unknown");
    assert_eq!(outputs["retain_until"], "unknown");
    assert_eq!(
        refused.num_calls(),
        1,
        "one GetObjectLockConfiguration per bucket"
    );
    // No configuration: no object in the bucket is locked.
    let none = lock_error("ObjectLockConfigurationNotFoundError");
    let steps = run_outputs(cloud(&[], &[&listed, &no_manifest, &bare, &none]), pick).await;
    let (outcome, reason, outputs) = &steps["pick"];
    assert_eq!(*outcome, Outcome::Succeeded, "{reason}");
    assert_eq!(outputs["object_lock_mode"], "");
    assert_eq!(none.num_calls(), 1);
    // The headers lock it, and the bucket is not asked.
    let locked = mock!(aws_sdk_s3::Client::head_object).then_output(|| {
        HeadObjectOutput::builder()
            .content_length(10)
            .object_lock_mode(ObjectLockMode::Compliance)
            .object_lock_retain_until_date(DateTime::from_secs(1_900_000_000))
            .build()
    });
    let unasked = lock_error("AccessDenied");
    let steps = run_outputs(
        cloud(&[], &[&listed, &no_manifest, &locked, &unasked]),
        pick,
    )
    .await;
    let (outcome, reason, outputs) = &steps["pick"];
    assert_eq!(*outcome, Outcome::Succeeded, "{reason}");
    assert_eq!(outputs["object_lock_mode"], "COMPLIANCE");
    assert!(
        outputs["retain_until"].starts_with("2030-03-17"),
        "{outputs:?}"
    );
    assert_eq!(unasked.num_calls(), 0);
}

/// The same in the sandbox: the GTIN1 dumps' bucket has Object Lock, so
/// under `--fault access-denied=GetObjectRetention` its listed points read
/// `unknown`; the Penguinmails bucket has none, so its points are not
/// locked whatever the caller may read.
// rule: s3-object-lock-unknown
#[tokio::test]
async fn in_the_sandbox_a_listed_objects_lock_is_unknown_without_get_object_retention() {
    use dr_drill::cloud::sim::{SimCloud, SimOptions};
    let sim = |faults: Vec<dr_drill::cloud::sim::Fault>| -> Arc<dyn Cloud> {
        Arc::new(
            SimCloud::builtin(SimOptions {
                speed: 100_000.0,
                faults,
                ..SimOptions::default()
            })
            .unwrap(),
        )
    };
    let picks = r#"
[[step]]
id = "dump"
kind = "pick-recovery-point"
source = { bucket = "closient-disaster-recovery-backup", prefix = "database/gtin1/weekly/", suffix = "backup.dump" }
policy = "latest"

[[step]]
id = "vault"
kind = "pick-recovery-point"
source = { bucket = "penguinmails-vault-backups", prefix = "daily/" }
policy = "latest"
"#;
    let steps = run_outputs(sim(vec![]), picks).await;
    assert_eq!(steps["dump"].2["object_lock_mode"], "GOVERNANCE");
    assert_ne!(steps["dump"].2["retain_until"], "");
    assert_eq!(steps["vault"].2["object_lock_mode"], "");
    let denied = vec!["access-denied=GetObjectRetention".parse().unwrap()];
    let steps = run_outputs(sim(denied), picks).await;
    for id in ["dump", "vault"] {
        assert_eq!(steps[id].0, Outcome::Succeeded, "{}", steps[id].1);
    }
    assert_eq!(steps["dump"].2["object_lock_mode"], "unknown");
    assert_eq!(steps["dump"].2["retain_until"], "unknown");
    assert_eq!(steps["vault"].2["object_lock_mode"], "");
}

/// `backup.restore` of an EFS point whose restore metadata names the
/// vault's key as `KmsKeyId` (the key DescribeRecoveryPoint gives as the
/// backup's `EncryptionKeyArn`) sends no `KmsKeyId`: StartRestoreJob would
/// take it as "the KMS key that is used to encrypt the restored file
/// system" (botocore `backup` 2018-11-15, `StartRestoreJobInput.Metadata`).
/// It used to pass it on.
// rule: backup-efs-restore-key
#[tokio::test]
async fn an_efs_restore_never_encrypts_the_new_file_system_with_the_vaults_key() {
    use aws_sdk_backup::operation::describe_recovery_point::DescribeRecoveryPointOutput;
    use aws_sdk_backup::operation::describe_restore_job::DescribeRestoreJobOutput;
    use aws_sdk_backup::operation::get_recovery_point_restore_metadata::GetRecoveryPointRestoreMetadataOutput;
    use aws_sdk_backup::operation::start_restore_job::StartRestoreJobOutput;
    use aws_sdk_backup::types::{RestoreJobStatus, StorageClass};
    const VAULT_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/vault-key";
    const POINT: &str = "arn:aws:backup:us-east-1:123456789012:recovery-point:efs-1";
    let metadata =
        mock!(aws_sdk_backup::Client::get_recovery_point_restore_metadata).then_output(|| {
            GetRecoveryPointRestoreMetadataOutput::builder()
                .restore_metadata("file-system-id", "fs-1")
                .restore_metadata("Encrypted", "true")
                .restore_metadata("KmsKeyId", VAULT_KEY)
                .restore_metadata("newFileSystem", "true")
                .build()
        });
    let described = mock!(aws_sdk_backup::Client::describe_recovery_point).then_output(|| {
        DescribeRecoveryPointOutput::builder()
            .recovery_point_arn(POINT)
            .resource_type("EFS")
            .encryption_key_arn(VAULT_KEY)
            .storage_class(StorageClass::Warm)
            .build()
    });
    let start = mock!(aws_sdk_backup::Client::start_restore_job)
        .match_requests(|i| {
            let m = i.metadata().cloned().unwrap_or_default();
            m.get("Encrypted").map(String::as_str) == Some("true")
                && !m.keys().any(|k| k.eq_ignore_ascii_case("KmsKeyId"))
        })
        .then_output(|| {
            StartRestoreJobOutput::builder()
                .restore_job_id("job-1")
                .build()
        });
    let job = mock!(aws_sdk_backup::Client::describe_restore_job).then_output(|| {
        DescribeRestoreJobOutput::builder()
            .restore_job_id("job-1")
            .status(RestoreJobStatus::Completed)
            .created_resource_arn(
                "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-2",
            )
            .build()
    });
    let backup = mock_client!(
        aws_sdk_backup,
        RuleMode::MatchAny,
        &[&metadata, &described, &start, &job],
        |c| c.retry_config(RetryConfig::disabled())
    );
    let dynamodb = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[], |c| c
        .retry_config(RetryConfig::disabled()));
    let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, &[], |c| c
        .retry_config(RetryConfig::disabled()));
    let retry = RetryPolicy {
        attempts: 1,
        base: Duration::from_millis(1),
        max: Duration::from_millis(1),
    };
    let cloud = Arc::new(AwsCloud::with_clients(
        "us-east-1",
        backup,
        dynamodb,
        s3,
        retry,
    ));
    let steps = format!(
        r#"
[[step]]
id = "restore"
kind = "backup.restore"
backup_vault = "cabal-backup"
recovery_point = "{POINT}"
iam_role_arn = "arn:aws:iam::123456789012:role/restore"
resource_type = "EFS"
"#
    );
    let done = run(cloud, &steps).await;
    let (outcome, reason) = &done["restore"];
    assert_eq!(*outcome, Outcome::Succeeded, "{reason}");
    assert_eq!(
        start.num_calls(),
        1,
        "StartRestoreJob without the vault's key"
    );
}

/// S3's answer when it has no Expedited capacity (botocore `s3`
/// 2006-03-01, RestoreObject, "Special errors": 503).
const NO_EXPEDITED_CAPACITY: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>GlacierExpeditedRetrievalNotAvailable</Code><Message>Glacier expedited retrievals are currently not available, please try again later</Message></Error>"#;

/// A RestoreObject rule for one tier.
fn restore_with(
    tier: &'static str,
) -> aws_smithy_mocks::RuleBuilder<
    aws_sdk_s3::operation::restore_object::RestoreObjectInput,
    aws_sdk_s3::operation::restore_object::RestoreObjectOutput,
    aws_sdk_s3::operation::restore_object::RestoreObjectError,
> {
    mock!(aws_sdk_s3::Client::restore_object).match_requests(move |i| {
        i.restore_request()
            .and_then(|r| r.glacier_job_parameters())
            .is_some_and(|g| g.tier().as_str() == tier)
    })
}

/// `GlacierExpeditedRetrievalNotAvailable` is asked once, not retried with
/// backoff (the policy here allows 4 tries; it was a 5xx, so all were
/// used): the step fails at once with advice, or with `fallback_tier` the
/// object is restored with that tier.
// rule: s3-expedited-capacity-lost
#[tokio::test]
async fn no_expedited_capacity_is_asked_once_then_falls_back_or_fails() {
    use aws_sdk_s3::operation::head_object::HeadObjectOutput;
    use aws_sdk_s3::operation::restore_object::RestoreObjectOutput;
    use aws_sdk_s3::types::StorageClass;
    let archived = || {
        HeadObjectOutput::builder()
            .content_length(10)
            .storage_class(StorageClass::Glacier)
            .build()
    };
    let step = |fallback: &str| {
        format!(
            r#"
[[step]]
id = "thaw"
kind = "s3.restore-object"
bucket = "b"
key = "media/logo.jpg"
tier = "Expedited"
{fallback}
"#
        )
    };
    let head = mock!(aws_sdk_s3::Client::head_object).then_output(archived);
    let expedited = restore_with("Expedited")
        .sequence()
        .http_status(503, Some(NO_EXPEDITED_CAPACITY.into()))
        .repeatedly()
        .build();
    let steps = run(cloud(&[], &[&head, &expedited]), &step("")).await;
    let (outcome, reason) = &steps["thaw"];
    assert_eq!(*outcome, Outcome::Failed, "{reason}");
    assert_eq!(expedited.num_calls(), 1, "{reason}");
    assert!(
        reason.contains("GlacierExpeditedRetrievalNotAvailable")
            && reason.contains("tier = \"Standard\"")
            && reason.contains("provisioned capacity"),
        "{reason}"
    );

    let head = mock!(aws_sdk_s3::Client::head_object)
        .sequence()
        .output(archived)
        .output(|| {
            HeadObjectOutput::builder()
                .content_length(10)
                .storage_class(StorageClass::Glacier)
                .restore("ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2040 00:00:00 GMT\"")
                .build()
        })
        .repeatedly()
        .build();
    let expedited = restore_with("Expedited")
        .sequence()
        .http_status(503, Some(NO_EXPEDITED_CAPACITY.into()))
        .repeatedly()
        .build();
    let standard = restore_with("Standard").then_output(|| RestoreObjectOutput::builder().build());
    let steps = run(
        cloud(&[], &[&head, &expedited, &standard]),
        &step("fallback_tier = \"Standard\""),
    )
    .await;
    let (outcome, reason) = &steps["thaw"];
    assert_eq!(*outcome, Outcome::Succeeded, "{reason}");
    assert_eq!((expedited.num_calls(), standard.num_calls()), (1, 1));
}

/// Expedited capacity runs out in the middle of a prefix, with no
/// `fallback_tier`: the restores S3 already took keep running (it cannot
/// cancel one), so the failure counts them and names them (at most 5, then
/// "and N more"); no request is sent after the failure. It used to say
/// only S3's error.
// rule: s3-expedited-capacity-lost
#[tokio::test]
async fn capacity_lost_mid_prefix_names_the_restores_already_requested() {
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_sdk_s3::operation::head_object::HeadObjectOutput;
    use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
    use aws_sdk_s3::operation::restore_object::RestoreObjectOutput;
    use aws_sdk_s3::types::{Object, ObjectStorageClass, StorageClass};
    use aws_smithy_types::DateTime;
    use aws_smithy_types::error::ErrorMetadata;
    let listed = mock!(aws_sdk_s3::Client::list_objects_v2).then_output(|| {
        let mut out = ListObjectsV2Output::builder().is_truncated(false);
        for n in 0..12 {
            out = out.contents(
                Object::builder()
                    .key(format!("media/k{n:02}.jpg"))
                    .size(10)
                    .storage_class(ObjectStorageClass::Glacier)
                    .last_modified(DateTime::from_secs(1_700_000_000))
                    .build(),
            );
        }
        out.build()
    });
    let no_manifest = mock!(aws_sdk_s3::Client::get_object)
        .then_error(|| GetObjectError::generic(ErrorMetadata::builder().code("NoSuchKey").build()));
    let head = mock!(aws_sdk_s3::Client::head_object).then_output(|| {
        HeadObjectOutput::builder()
            .content_length(10)
            .storage_class(StorageClass::Glacier)
            .build()
    });
    let out_of_capacity = mock!(aws_sdk_s3::Client::restore_object)
        .match_requests(|i| i.key() == Some("media/k07.jpg"))
        .sequence()
        .http_status(503, Some(NO_EXPEDITED_CAPACITY.into()))
        .repeatedly()
        .build();
    let taken = mock!(aws_sdk_s3::Client::restore_object)
        .match_requests(|i| i.key() != Some("media/k07.jpg"))
        .then_output(|| RestoreObjectOutput::builder().build());
    let no_lock = mock!(aws_sdk_s3::Client::get_object_lock_configuration).then_error(|| {
        aws_sdk_s3::operation::get_object_lock_configuration::GetObjectLockConfigurationError::generic(
            ErrorMetadata::builder()
                .code("ObjectLockConfigurationNotFoundError")
                .build(),
        )
    });
    let rules = [
        &listed,
        &no_manifest,
        &no_lock,
        &head,
        &out_of_capacity,
        &taken,
    ];
    let steps = run(
        cloud(&[], &rules),
        r#"
[[step]]
id = "thaw"
kind = "s3.restore-object"
bucket = "b"
prefix = "media/"
tier = "Expedited"
"#,
    )
    .await;
    let (outcome, reason) = &steps["thaw"];
    assert_eq!(*outcome, Outcome::Failed, "{reason}");
    assert_eq!(out_of_capacity.num_calls(), 1, "{reason}");
    let taken_calls = taken.num_calls();
    assert!((7..=11).contains(&taken_calls), "{taken_calls}: {reason}");
    assert!(
        reason.contains("GlacierExpeditedRetrievalNotAvailable")
            && reason.contains(&format!(
                "{taken_calls} of 12 restores were already requested and keep running"
            ))
            && reason.contains("s3://b/media/k00.jpg")
            && reason.contains(&format!("and {} more", taken_calls - 5))
            && !reason
                .split("keep running")
                .nth(1)
                .is_some_and(|named| named.contains("k07")),
        "{reason}"
    );
}

/// The same in the sandbox: GTIN1's product images are in Deep Archive, so
/// an Expedited prefix restore fails before any request (every image is
/// still waiting for a restore after it), and with `fallback_tier` they are
/// all requested with Standard.
// rule: s3-retrieval-tiers
#[tokio::test]
async fn in_the_sandbox_a_deep_archive_prefix_never_half_starts() {
    use dr_drill::cloud::sim::{SimCloud, SimOptions};
    use dr_drill::cloud::{ArchiveState, PointSource, points};
    let cloud: Arc<dyn Cloud> = Arc::new(
        SimCloud::builtin(SimOptions {
            speed: 1_000_000.0,
            ..SimOptions::default()
        })
        .unwrap(),
    );
    let steps = |fallback: &str| {
        format!(
            r#"
[[step]]
id = "thaw"
kind = "s3.restore-object"
bucket = "closient-disaster-recovery-backup"
prefix = "media/products/"
tier = "Expedited"
timeout = "48h"
{fallback}
"#
        )
    };
    let steps_run = run_outputs(cloud.clone(), &steps("")).await;
    let (outcome, reason, _) = &steps_run["thaw"];
    assert_eq!(*outcome, Outcome::Failed, "{reason}");
    assert!(
        reason.starts_with("1,200 objects under s3://closient-disaster-recovery-backup/media/products/ cannot be restored with tier = \"Expedited\"")
            && reason.contains("(DEEP_ARCHIVE: Standard or Bulk)")
            && reason.contains("and 1195 more")
            && reason.contains("Nothing was requested"),
        "{reason}"
    );
    let source = PointSource::Bucket {
        bucket: "closient-disaster-recovery-backup".into(),
        prefix: "media/products/".into(),
        suffix: None,
        versions: false,
        region: None,
    };
    let listed = points::collect(cloud.clone(), vec![source], &|_| {})
        .await
        .unwrap();
    assert!(
        listed
            .iter()
            .all(|p| p.archive == Some(ArchiveState::Needed)),
        "a restore was requested"
    );
    let steps_run = run_outputs(cloud, &steps("fallback_tier = \"Standard\"")).await;
    let (outcome, reason, outputs) = &steps_run["thaw"];
    assert_eq!(*outcome, Outcome::Succeeded, "{reason}");
    assert_eq!(outputs["objects"], "1200");
}
