//! How long and how plainly a call that AWS throttles or never answers
//! fails, through the real binary: `AWS_MAX_ATTEMPTS` sets the tries (a
//! bad value is refused, naming it), and the error says what happened and
//! what to do, with no `Debug` dump, well within 10 s at two tries.

use std::net::TcpListener;
use std::path::Path;

use super::cli_credentials::{fails_plainly, stub, with_keys};

/// A loopback URL nothing listens on.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// `points --vault x` against `endpoint`, with two tries in all.
fn points(home: &Path, endpoint: &str) -> String {
    fails_plainly(
        with_keys(home, endpoint)
            .env("AWS_MAX_ATTEMPTS", "2")
            .args(["points", "--vault", "x"]),
    )
}

/// Every line of `text` about `action` says it failed or is retried.
fn one_retry_then_the_error(text: &str, action: &str) {
    let retries = text.lines().filter(|l| l.contains("retrying in")).count();
    assert_eq!(retries, 1, "two tries in all, so one retry:\n{text}");
    assert!(
        text.contains(&format!("{action} on ")) && text.contains("failed: "),
        "{text}"
    );
    assert!(text.contains("AWS_MAX_ATTEMPTS sets the tries"), "{text}");
}

#[test]
fn an_unreachable_endpoint_says_it_could_not_connect_and_what_to_check() {
    let home = tempfile::tempdir().unwrap();
    let endpoint = closed_port();
    let text = points(home.path(), &endpoint);
    // Nothing was listed, so no table claims "0 points".
    assert!(!text.contains("0 points"), "{text}");
    let error = text.lines().find(|l| l.starts_with("error: ")).unwrap();
    assert!(
        error.starts_with(
            "error: vault x: ListRecoveryPointsByBackupVault on backup vault x in eu-west-1 failed: could not connect ("
        ),
        "{text}"
    );
    assert!(!text.contains("dispatch failure"), "{text}");
    assert!(
        error.contains("check the endpoint (--endpoint-url or AWS_ENDPOINT_URL"),
        "{text}"
    );
    one_retry_then_the_error(&text, "ListRecoveryPointsByBackupVault");
}

#[test]
fn a_throttling_endpoint_says_so_and_to_wait() {
    let home = tempfile::tempdir().unwrap();
    let throttled = stub(
        "400 Bad Request",
        "content-type: application/json\r\nx-amzn-errortype: ThrottlingException\r\n",
        r#"{"message":"Rate exceeded"}"#,
    );
    let text = points(home.path(), &throttled);
    assert!(!text.contains("0 points"), "{text}");
    let error = text.lines().find(|l| l.starts_with("error: ")).unwrap();
    assert!(
        error.contains("failed: ThrottlingException: Rate exceeded. AWS throttled the request"),
        "{text}"
    );
    assert!(error.contains("wait a minute and retry the step"), "{text}");
    one_retry_then_the_error(&text, "ListRecoveryPointsByBackupVault");
}

/// A headless run of one S3 step against `endpoint`, with two tries.
fn s3_step(home: &Path, endpoint: &str, step: &str) -> String {
    let runbook = home.join("s3.toml");
    std::fs::write(
        &runbook,
        format!(
            "[runbook]\nid = \"s3-slow\"\ntitle = \"One S3 call\"\n\n[[step]]\nid = \"s3\"\n{step}"
        ),
    )
    .unwrap();
    fails_plainly(
        with_keys(home, endpoint)
            .env("AWS_MAX_ATTEMPTS", "2")
            .args(["run", runbook.to_str().unwrap(), "--headless", "--data-dir"])
            .arg(home.join("data")),
    )
}

const SLOW_DOWN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
    <Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";

#[test]
fn s3_slow_down_is_throttling_with_or_without_a_body() {
    let home = tempfile::tempdir().unwrap();
    let slow = stub(
        "503 Slow Down",
        "content-type: application/xml\r\n",
        SLOW_DOWN,
    );
    let text = s3_step(
        home.path(),
        &slow,
        "kind = \"s3.download\"\nbucket = \"bkt\"\nkey = \"a/b.enc\"\nto = \"b.enc\"\n",
    );
    assert!(
        text.contains(
            "s3: FAILED (GetObject on s3://bkt/a/b.enc failed: SlowDown: Please reduce your request rate. AWS throttled"
        ),
        "{text}"
    );
    one_retry_then_the_error(&text, "GetObject");
    // A HEAD answer has no body: the status is all there is.
    let home = tempfile::tempdir().unwrap();
    let text = s3_step(
        home.path(),
        &slow,
        "kind = \"s3.head\"\nbucket = \"bkt\"\nkey = \"a/b.enc\"\n",
    );
    assert!(
        text.contains("HeadObject on s3://bkt/a/b.enc failed: HTTP 503 Service Unavailable (S3 says SlowDown this way), with no error code. The service did not answer properly"),
        "{text}"
    );
    assert!(!text.contains("unhandled error"), "{text}");
    one_retry_then_the_error(&text, "HeadObject");
}

#[test]
fn a_bad_aws_max_attempts_is_refused_naming_the_variable() {
    for bad in ["0", "zero", "-1", "2.5", "99999999999"] {
        let home = tempfile::tempdir().unwrap();
        let text = fails_plainly(
            with_keys(home.path(), &closed_port())
                .env("AWS_MAX_ATTEMPTS", bad)
                .args(["points", "--vault", "x"]),
        );
        assert!(
            text.starts_with(&format!(
                "error: AWS_MAX_ATTEMPTS is `{bad}`: it must be a whole number of 1 or more"
            )),
            "{text}"
        );
        assert!(text.contains("what to do:"), "{text}");
        assert!(text.contains("export AWS_MAX_ATTEMPTS=3"), "{text}");
        assert!(!text.contains("retrying"), "nothing was sent:\n{text}");
    }
}
