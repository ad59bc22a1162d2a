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
#[error("{}", self.text())]
pub struct CloudError {
    /// The API operation, e.g. `StartRestoreJob`.
    pub action: String,
    /// The resource it was about (name or ARN).
    pub resource: String,
    /// What kind of failure.
    pub kind: ErrorKind,
    /// What the service (or the system) said.
    pub message: String,
    /// For credentials errors: where dr-drill looked for them.
    pub tried: Option<Box<Tried>>,
}

/// Where credentials were looked for: what a credentials error names so
/// the operator knows which login to renew.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tried {
    /// The profile chosen (`--profile` or `AWS_PROFILE`), if any.
    pub profile: Option<String>,
    /// Whether that profile signs in through AWS IAM Identity Center (SSO).
    pub sso: bool,
    /// Whether that profile is defined in the config or credentials file.
    pub defined: bool,
    /// The default region.
    pub region: String,
    /// Another endpoint, if one is set.
    pub endpoint: Option<String>,
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
            tried: None,
        }
    }

    /// This error, saying where credentials were looked for.
    pub fn tried(mut self, tried: Tried) -> Self {
        self.tried = Some(Box::new(tried));
        self
    }

    /// What a person reads: for credentials, what is wrong on the first
    /// line, then the profile and region tried, then what to do; for the
    /// rest, the action on the resource, what was said, and the hint.
    fn text(&self) -> String {
        if self.kind == ErrorKind::Credentials {
            return self.credentials_text();
        }
        let hint = self.hint();
        // The hint starts a sentence of its own: "rate.. AWS" otherwise.
        let message = if hint.is_empty() {
            self.message.as_str()
        } else {
            self.message.trim_end_matches('.')
        };
        format!(
            "{} on {} failed: {message}{hint}",
            self.action, self.resource,
        )
    }

    fn credentials_text(&self) -> String {
        let tried = self.tried.as_deref().cloned().unwrap_or_default();
        let mut lines = vec![self.message.clone()];
        let profile = match &tried.profile {
            Some(p) if tried.sso => format!("profile `{p}` (SSO)"),
            Some(p) if !tried.defined => format!("profile `{p}` (not defined)"),
            Some(p) => format!("profile `{p}`"),
            None => "the default credential chain (no profile chosen)".to_string(),
        };
        let region = if tried.region.is_empty() {
            String::new()
        } else {
            format!(", region {}", tried.region)
        };
        let endpoint = tried
            .endpoint
            .as_deref()
            .map(|e| format!(", endpoint {e}"))
            .unwrap_or_default();
        lines.push(format!(
            "  tried: {profile}{region}{endpoint}, for {} on {}",
            self.action, self.resource
        ));
        lines.push("  what to do:".to_string());
        match &tried.profile {
            Some(p) if tried.sso => lines.push(format!(
                "    aws sso login --profile {p}    sign in again, then repeat the command"
            )),
            Some(p) if !tried.defined => lines.push(format!(
                "    aws configure list-profiles    `{p}` is not among them: check the name, or create it with `aws configure sso --profile {p}`"
            )),
            _ => lines.push(
                "    aws sso login --profile NAME    for an SSO profile whose session expired".to_string(),
            ),
        }
        lines.push(
            "    --profile NAME    use a profile that has credentials (or set AWS_PROFILE, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)".to_string(),
        );
        lines.push(
            "    --sandbox    act on the simulated world instead: nothing touches AWS".to_string(),
        );
        lines.push("    dr-drill demo    try a restore in the console without AWS".to_string());
        lines.join("\n")
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
            ErrorKind::Throttled => format!(
                ". AWS throttled the request; dr-drill retried with backoff and gave up: wait a minute and retry the step ({} sets the tries, {} by default)",
                RetryPolicy::MAX_ATTEMPTS_VAR,
                RetryPolicy::default().attempts
            ),
            ErrorKind::Unavailable => format!(
                ". The service did not answer properly; dr-drill retried with backoff: check the endpoint (--endpoint-url or AWS_ENDPOINT_URL, when set), the network and the AWS Health Dashboard, then retry the step ({} sets the tries, {} by default)",
                RetryPolicy::MAX_ATTEMPTS_VAR,
                RetryPolicy::default().attempts
            ),
            ErrorKind::NotImplemented => format!(
                ". This endpoint does not implement {}: check --endpoint-url / AWS_ENDPOINT_URL (an emulator may lack this API)",
                self.action
            ),
            ErrorKind::NotFound => {
                ". Check the name and the region (--region, or the step's `region`)".into()
            }
            ErrorKind::Credentials | ErrorKind::Invalid | ErrorKind::Io | ErrorKind::Other => {
                String::new()
            }
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
        "SimulatePrincipalPolicy" | "GetRole" => "iam",
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

impl RetryPolicy {
    /// The variable that sets the tries in all, as the AWS SDKs document it.
    pub const MAX_ATTEMPTS_VAR: &'static str = "AWS_MAX_ATTEMPTS";

    /// The policy for AWS: `AWS_MAX_ATTEMPTS` (the value of
    /// [`Self::MAX_ATTEMPTS_VAR`], tries in all with the first, a positive
    /// integer) when set, else the default. Anything else is refused with
    /// a message that names the variable and says what to do.
    pub fn with_max_attempts(value: Option<&str>) -> Result<Self, String> {
        let default = Self::default();
        // An empty value is no value, as with `AWS_PROFILE=`.
        let Some(raw) = value.filter(|v| !v.is_empty()) else {
            return Ok(default);
        };
        match raw.trim().parse::<u32>() {
            Ok(attempts) if attempts >= 1 => Ok(Self {
                attempts,
                ..default
            }),
            _ => Err(format!(
                "{var} is `{shown}`: it must be a whole number of 1 or more, the tries of \
                 each AWS call in all, the first included\n  \
                 what to do:\n    \
                 export {var}=3    e.g. three tries, then the step fails\n    \
                 unset {var}    dr-drill's own {n} tries",
                var = Self::MAX_ATTEMPTS_VAR,
                shown = raw.escape_debug(),
                n = default.attempts,
            )),
        }
    }

    /// The policy the environment sets (see [`Self::with_max_attempts`]).
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(Self::MAX_ATTEMPTS_VAR) {
            Ok(v) => Self::with_max_attempts(Some(&v)),
            Err(std::env::VarError::NotPresent) => Self::with_max_attempts(None),
            Err(std::env::VarError::NotUnicode(_)) => Self::with_max_attempts(Some("(not UTF-8)")),
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

    #[test]
    fn aws_max_attempts_sets_the_tries_in_all() {
        let tries = |v| RetryPolicy::with_max_attempts(v).map(|p| p.attempts);
        assert_eq!(tries(None), Ok(8));
        assert_eq!(tries(Some("")), Ok(8));
        assert_eq!(tries(Some("1")), Ok(1));
        assert_eq!(tries(Some(" 3 ")), Ok(3));
        for bad in ["0", "-2", "three", "1e3", "\u{1b}[2J"] {
            let e = tries(Some(bad)).unwrap_err();
            assert!(e.starts_with("AWS_MAX_ATTEMPTS is `"), "{e}");
            assert!(!e.contains('\u{1b}'), "{e}");
        }
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
