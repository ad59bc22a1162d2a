//! SDK errors turned into [`CloudError`]s a person can act on.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::cloud::{CloudError, ErrorKind};

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
    let context = DisplayErrorContext(&err).to_string();
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
        (None, None) => match status {
            Some(s) => format!("HTTP {s} ({context})"),
            None => context,
        },
    };
    CloudError::new(action, resource, kind, message)
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
        | "TableNotFoundException"
        | "BackupNotFoundException" => ErrorKind::NotFound,
        // S3: a GetObject on an archived object (a 403, but no permission helps).
        "InvalidObjectState" => ErrorKind::Invalid,
        "InternalServerError"
        | "InternalFailure"
        | "InternalError"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        // S3 (400) and others: the connection was too slow; another try may do.
        | "RequestTimeout"
        | "RequestTimeoutException"
        | "PriorRequestNotComplete" => ErrorKind::Unavailable,
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

/// An error from a credentials provider.
pub fn credentials(e: impl std::error::Error) -> CloudError {
    CloudError::new(
        "resolve credentials",
        "the AWS credential chain",
        ErrorKind::Credentials,
        DisplayErrorContext(&e).to_string(),
    )
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
}
