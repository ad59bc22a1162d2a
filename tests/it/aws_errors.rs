//! Error paths an emulator cannot produce, on mocked SDK clients
//! (aws-smithy-mocks, the SDK's own retries off as `AwsCloud::connect`
//! sets them): throttling, expired credentials, access denied, and
//! an endpoint that does not implement an operation. Each error must say
//! what failed, on which resource, and what to do.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_backup::operation::start_restore_job::StartRestoreJobError;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::operation::scan::{ScanError, ScanOutput};
use aws_sdk_dynamodb::types::error::ProvisionedThroughputExceededException;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use dr_drill::cloud::aws::AwsCloud;
use dr_drill::cloud::{Cloud, ErrorKind, RestoreRequest, RetryPolicy};

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        base: Duration::from_millis(1),
        max: Duration::from_millis(4),
    }
}

fn cloud_with(dynamodb: aws_sdk_dynamodb::Client, backup: aws_sdk_backup::Client) -> AwsCloud {
    let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, &[], |c| c
        .retry_config(RetryConfig::disabled()));
    AwsCloud::with_clients("us-east-1", backup, dynamodb, s3, fast_retries())
}

fn no_backup() -> aws_sdk_backup::Client {
    mock_client!(aws_sdk_backup, RuleMode::MatchAny, &[], |c| c
        .retry_config(RetryConfig::disabled()))
}

#[tokio::test]
async fn throttling_is_retried_with_backoff_and_each_retry_is_announced() {
    let throttled = mock!(aws_sdk_dynamodb::Client::scan)
        .sequence()
        .error(|| {
            ScanError::ProvisionedThroughputExceededException(
                ProvisionedThroughputExceededException::builder()
                    .message("Rate of requests exceeds the allowed throughput")
                    // As the SDK's deserializer sets it from the response.
                    .meta(
                        ErrorMetadata::builder()
                            .code("ProvisionedThroughputExceededException")
                            .build(),
                    )
                    .build(),
            )
        })
        .times(2)
        .output(|| ScanOutput::builder().count(42).build())
        .build();
    let db = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, &[&throttled], |c| c
        .retry_config(RetryConfig::disabled()));
    let cloud = cloud_with(db, no_backup());
    let notices = Arc::new(Mutex::new(Vec::new()));
    let sink = notices.clone();
    let notify = move |m: String| sink.lock().unwrap().push(m);
    let items = cloud
        .count_items("cabal-addresses", 1, None, &notify)
        .await
        .unwrap();
    assert_eq!(items, 42);
    let notices = notices.lock().unwrap();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(
        notices[0].contains("Scan on cabal-addresses: throttled")
            && notices[0].contains("retrying in"),
        "{}",
        notices[0]
    );
}

#[tokio::test]
async fn throttling_that_never_ends_fails_with_what_to_do() {
    let throttled = mock!(aws_sdk_dynamodb::Client::scan)
        .sequence()
        .error(|| {
            ScanError::generic(
                ErrorMetadata::builder()
                    .code("ThrottlingException")
                    .message("slow down")
                    .build(),
            )
        })
        .repeatedly()
        .build();
    let db = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, &[&throttled], |c| c
        .retry_config(RetryConfig::disabled()));
    let cloud = cloud_with(db, no_backup());
    let e = cloud
        .count_items("cabal-addresses", 1, None, &|_| {})
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(
        throttled.num_calls(),
        4,
        "one call per attempt of the policy"
    );
    assert!(e.to_string().contains("wait a minute and retry"), "{e}");
}

#[tokio::test]
async fn expired_credentials_are_explained_with_the_fix() {
    let expired = mock!(aws_sdk_dynamodb::Client::describe_table).then_error(|| {
        DescribeTableError::generic(
            ErrorMetadata::builder()
                .code("ExpiredTokenException")
                .message("The security token included in the request is expired")
                .build(),
        )
    });
    let db = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, &[&expired], |c| c
        .retry_config(RetryConfig::disabled()));
    let cloud = cloud_with(db, no_backup());
    let e = cloud
        .describe_table("cabal-addresses", None, &|_| {})
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Credentials);
    let text = e.to_string();
    assert!(
        text.starts_with("The AWS credentials have expired (ExpiredTokenException"),
        "{text}"
    );
    assert!(
        text.contains("for DescribeTable on cabal-addresses"),
        "{text}"
    );
    assert!(
        text.contains("aws sso login") && text.contains("--profile"),
        "{text}"
    );
    assert_eq!(expired.num_calls(), 1, "credentials errors are not retried");
}

#[tokio::test]
async fn access_denied_names_the_action_the_resource_and_the_permission() {
    let denied = mock!(aws_sdk_backup::Client::start_restore_job).then_error(|| {
        StartRestoreJobError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User: arn:aws:sts::123456789012:assumed-role/drill/x is not authorized to perform: backup:StartRestoreJob")
                .build(),
        )
    });
    let backup = mock_client!(aws_sdk_backup, RuleMode::Sequential, &[&denied], |c| c
        .retry_config(RetryConfig::disabled()));
    let db = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[], |c| c
        .retry_config(RetryConfig::disabled()));
    let cloud = cloud_with(db, backup);
    let point = "arn:aws:backup:us-east-1:123456789012:recovery-point:ABC";
    let e = cloud
        .start_restore(
            &RestoreRequest {
                recovery_point_arn: point.into(),
                iam_role_arn: "arn:aws:iam::123456789012:role/cabal-backup-role".into(),
                metadata: Default::default(),
                resource_type: None,
                idempotency_token: None,
            },
            None,
            &|_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("StartRestoreJob on {point} failed")),
        "{text}"
    );
    assert!(
        text.contains("IAM permission `backup:StartRestoreJob`"),
        "{text}"
    );
}

#[tokio::test]
async fn an_endpoint_answering_404_is_said_not_to_implement_the_operation() {
    let missing = mock!(aws_sdk_backup::Client::start_restore_job)
        .sequence()
        .http_status(
            404,
            Some("<!DOCTYPE html><html><body>Not Found</body></html>".into()),
        )
        .build();
    let backup = mock_client!(aws_sdk_backup, RuleMode::Sequential, &[&missing], |c| c
        .retry_config(RetryConfig::disabled()));
    let db = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[], |c| c
        .retry_config(RetryConfig::disabled()));
    let cloud = cloud_with(db, backup);
    let e = cloud
        .start_restore(
            &RestoreRequest {
                recovery_point_arn: "arn:aws:backup:us-east-1:1:recovery-point:X".into(),
                iam_role_arn: "role".into(),
                metadata: Default::default(),
                resource_type: None,
                idempotency_token: None,
            },
            None,
            &|_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotImplemented, "{e}");
    assert!(
        e.to_string()
            .contains("This endpoint does not implement StartRestoreJob"),
        "{e}"
    );
}

#[tokio::test]
async fn a_truncated_version_listing_without_a_next_marker_ends() {
    // A listing that says "truncated" but names no marker to go on from
    // would start again from the first page, forever.
    use aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput;
    let truncated = mock!(aws_sdk_s3::Client::list_object_versions)
        .sequence()
        .output(|| {
            ListObjectVersionsOutput::builder()
                .is_truncated(true)
                .build()
        })
        .times(3)
        .build();
    let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, &[&truncated], |c| c
        .retry_config(RetryConfig::disabled()));
    let db = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[], |c| c
        .retry_config(RetryConfig::disabled()));
    let cloud = AwsCloud::with_clients("us-east-1", no_backup(), db, s3, fast_retries());
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let source = dr_drill::cloud::PointSource::Bucket {
        bucket: "backups".into(),
        prefix: "daily/".into(),
        suffix: None,
        versions: true,
        region: None,
    };
    cloud.list_points(&source, &tx, &|_| {}).await.unwrap();
    drop(tx);
    assert!(rx.recv().await.is_none(), "no objects, no pages");
    assert_eq!(truncated.num_calls(), 1);
}

#[tokio::test]
async fn a_restore_retried_after_a_lost_answer_cannot_start_a_second_job() {
    // The first StartRestoreJob may have started a job whose answer was
    // lost: the retry must carry the same idempotency token, so AWS Backup
    // answers with that job instead of starting another.
    use aws_sdk_backup::operation::start_copy_job::{StartCopyJobError, StartCopyJobOutput};
    use aws_sdk_backup::operation::start_restore_job::StartRestoreJobOutput;
    let unavailable = || {
        ErrorMetadata::builder()
            .code("ServiceUnavailableException")
            .message("try again")
            .build()
    };
    let tokens = Arc::new(Mutex::new(Vec::new()));
    let seen = tokens.clone();
    let restore = mock!(aws_sdk_backup::Client::start_restore_job)
        .match_requests(move |r| {
            seen.lock()
                .unwrap()
                .push(r.idempotency_token().map(str::to_owned));
            true
        })
        .sequence()
        .error(move || StartRestoreJobError::generic(unavailable()))
        .output(|| {
            StartRestoreJobOutput::builder()
                .restore_job_id("job-1")
                .build()
        })
        .build();
    let copy_tokens = Arc::new(Mutex::new(Vec::new()));
    let seen = copy_tokens.clone();
    let copy = mock!(aws_sdk_backup::Client::start_copy_job)
        .match_requests(move |r| {
            seen.lock()
                .unwrap()
                .push(r.idempotency_token().map(str::to_owned));
            true
        })
        .sequence()
        .error(move || StartCopyJobError::generic(unavailable()))
        .output(|| StartCopyJobOutput::builder().copy_job_id("copy-1").build())
        .build();
    let backup = mock_client!(
        aws_sdk_backup,
        RuleMode::MatchAny,
        &[&restore, &copy],
        |c| c.retry_config(RetryConfig::disabled())
    );
    let db = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[], |c| c
        .retry_config(RetryConfig::disabled()));
    let cloud = cloud_with(db, backup);
    let point = "arn:aws:backup:us-east-1:123456789012:recovery-point:ABC";
    let role = "arn:aws:iam::123456789012:role/cabal-backup-role";
    let job = cloud
        .start_restore(
            &RestoreRequest {
                recovery_point_arn: point.into(),
                iam_role_arn: role.into(),
                metadata: Default::default(),
                resource_type: None,
                idempotency_token: None,
            },
            None,
            &|_| {},
        )
        .await
        .unwrap();
    assert_eq!(job, "job-1");
    let copied = cloud
        .start_copy(
            &dr_drill::cloud::CopyRequest {
                source_vault: "cabal-backup-dr".into(),
                recovery_point_arn: point.into(),
                destination_vault_arn:
                    "arn:aws:backup:us-east-1:123456789012:backup-vault:cabal-backup".into(),
                iam_role_arn: role.into(),
                lifecycle: None,
            },
            None,
            &|_| {},
        )
        .await
        .unwrap();
    assert_eq!(copied, "copy-1");
    for tokens in [tokens, copy_tokens] {
        let tokens = tokens.lock().unwrap();
        assert_eq!(tokens.len(), 2, "{tokens:?}");
        // dr-drill chooses the token: the SDK would draw a new one for each
        // attempt (these mocked clients use a fixed test token instead).
        assert!(
            tokens[0]
                .as_deref()
                .is_some_and(|t| t.starts_with("dr-drill-")),
            "{tokens:?}"
        );
        assert_eq!(tokens[0], tokens[1]);
    }
}

#[tokio::test]
async fn an_archived_object_whose_head_is_denied_is_still_known_as_archived() {
    // A thaw role may list and restore but not read: the listing's storage
    // class must keep the object archived, or a prefix restore would call
    // it readable and request nothing.
    use aws_sdk_s3::operation::head_object::HeadObjectError;
    use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
    use aws_sdk_s3::types::{Object, ObjectStorageClass};
    let listed = mock!(aws_sdk_s3::Client::list_objects_v2).then_output(|| {
        ListObjectsV2Output::builder()
            .contents(
                Object::builder()
                    .key("media/a.jpg")
                    .size(10)
                    .storage_class(ObjectStorageClass::DeepArchive)
                    .build(),
            )
            .is_truncated(false)
            .build()
    });
    let denied = mock!(aws_sdk_s3::Client::head_object).then_error(|| {
        HeadObjectError::generic(
            ErrorMetadata::builder()
                .code("AccessDenied")
                .message("Access Denied")
                .build(),
        )
    });
    // No manifest.json beside it.
    let no_manifest = mock!(aws_sdk_s3::Client::get_object).then_error(|| {
        aws_sdk_s3::operation::get_object::GetObjectError::NoSuchKey(
            aws_sdk_s3::types::error::NoSuchKey::builder().build(),
        )
    });
    // Without a head, the listing asks the bucket's Object Lock
    // configuration (once); the role may not read that either.
    let lock_denied = mock!(aws_sdk_s3::Client::get_object_lock_configuration).then_error(|| {
        aws_sdk_s3::operation::get_object_lock_configuration::GetObjectLockConfigurationError::generic(
            ErrorMetadata::builder().code("AccessDenied").build(),
        )
    });
    let s3 = mock_client!(
        aws_sdk_s3,
        RuleMode::MatchAny,
        &[&listed, &denied, &no_manifest, &lock_denied],
        |c| c.retry_config(RetryConfig::disabled())
    );
    let db = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[], |c| c
        .retry_config(RetryConfig::disabled()));
    let cloud = AwsCloud::with_clients("us-east-1", no_backup(), db, s3, fast_retries());
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let source = dr_drill::cloud::PointSource::Bucket {
        bucket: "backups".into(),
        prefix: "media/".into(),
        suffix: None,
        versions: false,
        region: None,
    };
    cloud.list_points(&source, &tx, &|_| {}).await.unwrap();
    drop(tx);
    let page = rx.recv().await.expect("one page");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].storage_class.as_deref(), Some("DEEP_ARCHIVE"));
    assert_eq!(page[0].archive, Some(dr_drill::cloud::ArchiveState::Needed));
    assert!(matches!(
        page[0].object_lock,
        Some(dr_drill::cloud::ObjectLock::Unknown { .. })
    ));
}
