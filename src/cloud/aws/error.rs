//! SDK errors turned into [`CloudError`]s a person can act on.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use aws_credential_types::provider::error::CredentialsError;

use crate::cloud::{CloudError, ErrorKind, Tried};

/// The error of `action` on `resource`, classified.
pub fn classify<E>(action: &str, resource: &str, err: SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    let service_message = err.message().map(str::to_owned);
    let status = err.raw_response().map(|r| r.status().as_u16());
    let body_is_html = err
        .raw_response()
        .and_then(|r| r.body().bytes())
        .is_some_and(|b| {
            let head = String::from_utf8_lossy(&b[..b.len().min(256)]).to_ascii_lowercase();
            head.contains("<!doctype html") || head.contains("<html")
        });
    let context = chain(&err);
    let kind = match (&err, code.as_deref(), status) {
        (SdkError::TimeoutError(_), ..) => ErrorKind::Unavailable,
        (SdkError::DispatchFailure(d), ..) if d.is_io() || d.is_timeout() => ErrorKind::Unavailable,
        (SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_), ..)
            if mentions_credentials(&context) =>
        {
            ErrorKind::Credentials
        }
        (_, Some(c), _) => by_code(c, status),
        (_, None, Some(404)) => ErrorKind::NotImplemented,
        (_, None, Some(_)) if body_is_html => ErrorKind::NotImplemented,
        (_, None, Some(403)) => ErrorKind::AccessDenied,
        (_, None, Some(429)) => ErrorKind::Throttled,
        (_, None, Some(s)) if s >= 500 => ErrorKind::Unavailable,
        (SdkError::DispatchFailure(_), None, None) => ErrorKind::Unavailable,
        _ => ErrorKind::Other,
    };
    let message = match (code, service_message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c,
        (None, Some(m)) => m,
        (None, None) => match (&err, status) {
            // The SDK's wording ("dispatch failure: io error: client
            // error (Connect): …") says nothing a person can use; the
            // innermost cause does.
            (SdkError::DispatchFailure(d), _) if d.is_timeout() => {
                format!("no connection in time ({})", root_cause(&err))
            }
            (SdkError::DispatchFailure(d), _) if d.is_io() => {
                format!("could not connect ({})", root_cause(&err))
            }
            (SdkError::TimeoutError(_), _) => "no answer in time".to_string(),
            // A 503 to a HEAD has no body, so S3's SlowDown comes with
            // no code: the status is all there is.
            (_, Some(s)) => format!("HTTP {s}{}, with no error code", status_reason(s)),
            (_, None) => context,
        },
    };
    CloudError::new(action, resource, kind, message)
}

/// The innermost cause of `e`, by its `Display`.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// The reason phrase of an HTTP status an AWS endpoint may answer with
/// and no error code, with a leading space.
fn status_reason(status: u16) -> &'static str {
    match status {
        400 => " Bad Request",
        403 => " Forbidden",
        404 => " Not Found",
        429 => " Too Many Requests",
        500 => " Internal Server Error",
        502 => " Bad Gateway",
        503 => " Service Unavailable (S3 says SlowDown this way)",
        504 => " Gateway Timeout",
        _ => "",
    }
}

fn by_code(code: &str, status: Option<u16>) -> ErrorKind {
    match code {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "Forbidden" => {
            ErrorKind::AccessDenied
        }
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "TooManyRequestsException"
        | "ProvisionedThroughputExceededException"
        | "RequestLimitExceeded"
        | "RequestThrottled"
        | "SlowDown"
        | "LimitExceededException" => ErrorKind::Throttled,
        "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "InvalidAccessKeyId"
        | "RequestExpired"
        | "MissingAuthenticationToken"
        | "InvalidToken"
        // A wrong secret key: the request's signature does not check out.
        | "SignatureDoesNotMatch"
        | "InvalidSignatureException"
        | "IncompleteSignature" => ErrorKind::Credentials,
        "ResourceNotFoundException"
        | "NoSuchKey"
        | "NoSuchBucket"
        | "NoSuchVersion"
        | "NotFound"
        // IAM: GetRole and the policy simulator on a role or user not there.
        | "NoSuchEntity"
        | "TableNotFoundException"
        | "BackupNotFoundException" => ErrorKind::NotFound,
        // S3: a GetObject on an archived object (a 403, but no permission helps).
        "InvalidObjectState" => ErrorKind::Invalid,
        // S3 RestoreObject, 503: no Expedited capacity now. Retrying soon
        // does not help; Standard or provisioned capacity does (botocore
        // `s3` 2006-03-01, RestoreObject, "Special errors").
        "GlacierExpeditedRetrievalNotAvailable" => ErrorKind::Invalid,
        "InternalServerError"
        | "InternalFailure"
        | "InternalError"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        // S3 (400) and others: the connection was too slow; another try may do.
        | "RequestTimeout"
        | "RequestTimeoutException"
        | "PriorRequestNotComplete"
        // AWS Backup: "already performing an action on this recovery
        // point. Try again later." (botocore backup 2018-11-15,
        // InvalidResourceStateException: "retry the action").
        | "InvalidResourceStateException" => ErrorKind::Unavailable,
        _ => match status {
            Some(s) if s >= 500 => ErrorKind::Unavailable,
            Some(403) => ErrorKind::AccessDenied,
            _ => ErrorKind::Invalid,
        },
    }
}

fn mentions_credentials(context: &str) -> bool {
    let c = context.to_ascii_lowercase();
    c.contains("credential") || c.contains("no identity") || c.contains("identity resolver")
}

/// An error and its sources, each said once, by their `Display` only: the
/// SDK's `DisplayErrorContext` ends with a `Debug` dump of its structs,
/// which must never reach a person.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut next = Some(e);
    while let Some(e) = next {
        let said = e.to_string();
        let said = said.trim();
        if !said.is_empty() && !text.contains(said) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(said);
        }
        next = e.source();
    }
    text
}

/// An error from a credentials provider, its first line saying what is
/// wrong for the profile `tried`.
pub fn credentials(e: &CredentialsError, tried: &Tried) -> CloudError {
    let detail = chain(e);
    let message = match (&tried.profile, e) {
        (Some(p), _) if !tried.defined => {
            format!("AWS profile `{p}` is not defined in the AWS config or credentials file")
        }
        (Some(p), _) if tried.sso => format!(
            "The AWS SSO session of profile `{p}` has expired or was never started ({detail})"
        ),
        (_, CredentialsError::CredentialsNotLoaded(_)) => {
            "No AWS credentials were found".to_string()
        }
        _ => format!("AWS credentials could not be loaded: {detail}"),
    };
    resolving(message, tried)
}

/// A credentials error of the credential chain.
pub fn resolving(message: impl Into<String>, tried: &Tried) -> CloudError {
    CloudError::new(
        "resolve credentials",
        "the AWS credential chain",
        ErrorKind::Credentials,
        message,
    )
    .tried(tried.clone())
}

/// What the AWS config and credentials files say of `profile`: whether it
/// is defined, and whether it signs in through SSO. Read the way the CLI
/// reads them (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`, else
/// `~/.aws/config` and `~/.aws/credentials`).
pub fn profile_facts(profile: &str) -> (bool, bool) {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let file = |var: &str, name: &str| {
        std::env::var_os(var)
            .map(std::path::PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    let mut defined = false;
    let mut sso = false;
    for (path, config) in [
        (file("AWS_CONFIG_FILE", "config"), true),
        (file("AWS_SHARED_CREDENTIALS_FILE", "credentials"), false),
    ] {
        let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) else {
            continue;
        };
        let mut inside = false;
        for line in text.lines().map(str::trim) {
            if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                let section = section.trim();
                let name = match section.strip_prefix("profile ") {
                    Some(n) if config => n.trim(),
                    _ => section,
                };
                inside = name == profile;
                defined |= inside;
            } else if inside {
                let key = line.split('=').next().unwrap_or("").trim();
                sso |= matches!(key, "sso_start_url" | "sso_session" | "sso_account_id");
            }
        }
    }
    (defined, sso)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified_by_what_can_be_done_about_them() {
        assert_eq!(
            by_code("SignatureDoesNotMatch", Some(403)),
            ErrorKind::Credentials
        );
        assert_eq!(
            by_code("InvalidSignatureException", Some(400)),
            ErrorKind::Credentials
        );
        assert_eq!(by_code("RequestTimeout", Some(400)), ErrorKind::Unavailable);
        // AWS Backup is busy with the recovery point: try again later.
        assert_eq!(
            by_code("InvalidResourceStateException", Some(400)),
            ErrorKind::Unavailable
        );
        assert_eq!(
            by_code("ThrottlingException", Some(400)),
            ErrorKind::Throttled
        );
        assert_eq!(
            by_code("ValidationException", Some(400)),
            ErrorKind::Invalid
        );
        assert_eq!(by_code("InvalidObjectState", Some(403)), ErrorKind::Invalid);
        assert_eq!(by_code("SomethingNew", Some(403)), ErrorKind::AccessDenied);
        assert_eq!(by_code("SomethingNew", Some(502)), ErrorKind::Unavailable);
    }

    #[test]
    fn a_chain_says_each_cause_once_and_never_debug() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "dispatch failure")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::other("connection refused"));
        assert_eq!(chain(&e), "dispatch failure: connection refused");
    }
}
