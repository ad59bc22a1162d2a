//! Errors from AWS (or the simulated world) that say what failed, on which
//! resource, and what the operator can do about it.

use std::future::Future;
use std::time::Duration;

/// What kind of failure, which decides the hint and whether to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The principal lacks a permission.
    AccessDenied,
    /// The service asked us to slow down.
    Throttled,
    /// A 5xx, a timeout or a lost connection: worth another try.
    Unavailable,
    /// No credentials, or expired ones.
    Credentials,
    /// The endpoint does not implement the operation (404 or an HTML page).
    NotImplemented,
    /// The resource does not exist.
    NotFound,
    /// The request is not valid as sent (or conflicts with the resource's state).
    Invalid,
    /// A local file could not be read or written.
    Io,
    /// Anything else the service said.
    Other,
}

/// An AWS call that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{action} on {resource} failed: {message}{}", self.hint())]
pub struct CloudError {
    /// The API operation, e.g. `StartRestoreJob`.
    pub action: String,
    /// The resource it was about (name or ARN).
    pub resource: String,
    /// What kind of failure.
    pub kind: ErrorKind,
    /// What the service (or the system) said.
    pub message: String,
}

impl CloudError {
    /// An error of `kind` from `action` on `resource`.
    pub fn new(
        action: impl Into<String>,
        resource: impl Into<String>,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> Self {
        Self {
            action: action.into(),
            resource: resource.into(),
            kind,
            message: message.into(),
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Throttled | ErrorKind::Unavailable)
    }

    /// What to do about it, with a leading separator, or nothing.
    fn hint(&self) -> String {
        match self.kind {
            ErrorKind::AccessDenied => format!(
                ". The principal needs the IAM permission `{}` on {}: add it to the role or user's policy (or use --profile for one that has it)",
                iam_permission(&self.action),
                self.resource
            ),
            ErrorKind::Throttled => ". AWS throttled the request; dr-drill retried with backoff and gave up: wait a minute and retry the step".into(),
            ErrorKind::Unavailable => ". The service did not answer properly; dr-drill retried with backoff: check the network and the AWS Health Dashboard, then retry the step".into(),
            ErrorKind::Credentials => ". No valid AWS credentials: run `aws sso login` (SSO), pick a profile with --profile or AWS_PROFILE, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); expired session credentials must be renewed".into(),
            ErrorKind::NotImplemented => format!(
                ". This endpoint does not implement {}: check --endpoint-url / AWS_ENDPOINT_URL (an emulator may lack this API)",
                self.action
            ),
            ErrorKind::NotFound => ". Check the name and the region (--region, or the step's `region`)".into(),
            ErrorKind::Invalid | ErrorKind::Io | ErrorKind::Other => String::new(),
        }
    }
}

/// The IAM permission an API operation needs: `StartRestoreJob` on AWS
/// Backup is `backup:StartRestoreJob`.
pub fn iam_permission(action: &str) -> String {
    let service = match action {
        "ListBackups"
        | "DescribeTable"
        | "Scan"
        | "BatchWriteItem"
        | "RestoreTableFromBackup"
        | "RestoreTableToPointInTime"
        | "DescribeContinuousBackups"
        | "DescribeBackup"
        | "DeleteTable" => "dynamodb",
        "HeadObject" | "GetObject" | "RestoreObject" | "ListObjectsV2" | "ListObjectVersions" => {
            "s3"
        }
        _ => "backup",
    };
    let action = match action {
        "HeadObject" => "GetObject",
        "ListObjectsV2" => "ListBucket",
        "ListObjectVersions" => "ListBucketVersions",
        "GetObjectVersion" => "GetObjectVersion",
        other => other,
    };
    format!("{service}:{action}")
}

/// How often and how long to retry throttling and unavailability.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The first backoff; doubles each time.
    pub base: Duration,
    /// The longest backoff.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 8,
            base: Duration::from_millis(500),
            max: Duration::from_secs(20),
        }
    }
}

/// Runs `call` until it succeeds, fails for good, or the policy's attempts
/// are spent; before each retry, `notice` hears what happened and how long
/// the wait is (steps show it as progress, `points` on standard error).
pub async fn with_retry<T, F, Fut>(
    policy: RetryPolicy,
    mut notice: impl FnMut(&CloudError, u32, Duration),
    mut call: F,
) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CloudError>>,
{
    let mut backoff = policy.base;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if e.is_retryable() && attempt < policy.attempts => {
                notice(&e, attempt, backoff);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(policy.max);
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// What a retry notice says.
pub fn retry_message(e: &CloudError, attempt: u32, backoff: Duration) -> String {
    let why = match e.kind {
        ErrorKind::Throttled => "throttled",
        _ => "no proper answer",
    };
    format!(
        "{} on {}: {why} ({}); retrying in {:.1}s (attempt {} failed)",
        e.action,
        e.resource,
        e.message,
        backoff.as_secs_f64(),
        attempt
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_names_the_permission_and_resource() {
        let e = CloudError::new(
            "StartRestoreJob",
            "arn:aws:backup:us-east-1:1:recovery-point:x",
            ErrorKind::AccessDenied,
            "User is not authorized",
        );
        let text = e.to_string();
        assert!(text.contains("backup:StartRestoreJob"), "{text}");
        assert!(
            text.starts_with("StartRestoreJob on arn:aws:backup"),
            "{text}"
        );
        let e = CloudError::new("HeadObject", "s3://b/k", ErrorKind::AccessDenied, "403");
        assert!(e.to_string().contains("s3:GetObject"));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_throttling_then_gives_up_with_the_last_error() {
        let mut notices = 0;
        let mut calls = 0;
        let result: Result<(), CloudError> = with_retry(
            RetryPolicy {
                attempts: 3,
                ..RetryPolicy::default()
            },
            |_, _, _| notices += 1,
            || {
                calls += 1;
                async {
                    Err(CloudError::new(
                        "Scan",
                        "t",
                        ErrorKind::Throttled,
                        "slow down",
                    ))
                }
            },
        )
        .await;
        assert_eq!(calls, 3);
        assert_eq!(notices, 2);
        assert_eq!(result.unwrap_err().kind, ErrorKind::Throttled);
    }

    #[tokio::test(start_paused = true)]
    async fn does_not_retry_what_cannot_succeed() {
        let mut calls = 0;
        let result: Result<(), CloudError> = with_retry(
            RetryPolicy::default(),
            |_, _, _| {},
            || {
                calls += 1;
                async { Err(CloudError::new("Scan", "t", ErrorKind::NotFound, "no")) }
            },
        )
        .await;
        assert_eq!(calls, 1);
        assert!(result.is_err());
    }
}
