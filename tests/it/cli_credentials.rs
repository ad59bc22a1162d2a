//! What a person reads when AWS cannot be reached as asked: missing,
//! unknown or expired credentials, access denied, an endpoint that lacks
//! the operation. Through the real binary; the first line says what is
//! wrong, and no `Debug` dump of an SDK struct ever reaches the terminal.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;

/// `dr-drill` with no credentials anywhere: an empty home, no config
/// files, no key in the environment, IMDS refused at once.
pub(super) fn bare(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1")
        .env("AWS_REGION", "eu-west-1");
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_EC2_METADATA_DISABLED",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Standard error and output of `cmd`, which must fail, checked for
/// struct syntax.
pub(super) fn fails_plainly(cmd: &mut Command) -> String {
    let started = Instant::now();
    let out = cmd.timeout(Duration::from_secs(60)).output().unwrap();
    assert!(!out.status.success());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for debug in [
        "{ ",
        "Some(",
        "Error {",
        "ErrorMetadata",
        "DispatchFailure(",
        "ConnectorError",
        "SdkBody",
    ] {
        assert!(!text.contains(debug), "{debug:?} reached the user:\n{text}");
    }
    text
}

fn says_what_to_do(text: &str) {
    for fix in ["tried:", "--profile", "--sandbox", "dr-drill demo"] {
        assert!(text.contains(fix), "no {fix:?} in:\n{text}");
    }
}

#[test]
fn no_credentials_say_so_first_with_the_region_tried_and_the_ways_out() {
    let home = tempfile::tempdir().unwrap();
    let text = fails_plainly(bare(home.path()).args(["points", "--vault", "x"]));
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("error: ") && first.contains("credentials"),
        "{text}"
    );
    assert!(text.contains("region eu-west-1"), "{text}");
    says_what_to_do(&text);
}

#[test]
fn an_unknown_profile_is_named_as_unknown() {
    let home = tempfile::tempdir().unwrap();
    let text =
        fails_plainly(bare(home.path()).args(["points", "--vault", "x", "--profile", "nosuch"]));
    assert!(
        text.starts_with("error: AWS profile `nosuch` is not defined"),
        "{text}"
    );
    says_what_to_do(&text);
}

#[test]
fn an_expired_sso_login_asks_for_aws_sso_login_with_the_profile() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config"),
        "[profile ops]\nsso_start_url = https://example.awsapps.com/start\nsso_region = eu-west-1\n\
         sso_account_id = 123456789012\nsso_role_name = Restore\nregion = eu-west-1\n",
    )
    .unwrap();
    // An SSO cache whose token expired yesterday.
    let cache = home.path().join(".aws/sso/cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(
        cache.join("expired.json"),
        r#"{"startUrl":"https://example.awsapps.com/start","region":"eu-west-1","accessToken":"t","expiresAt":"2020-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let text =
        fails_plainly(bare(home.path()).args(["points", "--vault", "x", "--profile", "ops"]));
    assert!(
        text.starts_with("error: The AWS SSO session of profile `ops`"),
        "{text}"
    );
    assert!(text.contains("aws sso login --profile ops"), "{text}");
    says_what_to_do(&text);
}

/// An endpoint answering every request with `status`, `headers` and `body`.
pub(super) fn stub(status: &'static str, headers: &'static str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut request = vec![0; length];
            let _ = reader.read_exact(&mut request);
            let _ = write!(
                reader.get_mut(),
                "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

pub(super) fn with_keys(home: &Path, endpoint: &str) -> Command {
    let mut cmd = bare(home);
    cmd.env("AWS_ACCESS_KEY_ID", "AKIATESTTESTTEST1234")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", endpoint);
    cmd
}

#[test]
fn access_denied_and_a_missing_operation_are_said_in_words() {
    let home = tempfile::tempdir().unwrap();
    let denied = stub(
        "403 Forbidden",
        "content-type: application/json\r\nx-amzn-errortype: AccessDeniedException\r\n",
        r#"{"message":"User is not authorized to perform backup:ListRecoveryPointsByBackupVault"}"#,
    );
    let text = fails_plainly(with_keys(home.path(), &denied).args(["points", "--vault", "x"]));
    assert!(
        text.contains("backup:ListRecoveryPointsByBackupVault"),
        "{text}"
    );
    let missing = stub("404 Not Found", "", "");
    let text = fails_plainly(with_keys(home.path(), &missing).args(["points", "--vault", "x"]));
    assert!(text.contains("does not implement"), "{text}");
    let expired = stub(
        "403 Forbidden",
        "content-type: application/json\r\nx-amzn-errortype: ExpiredTokenException\r\n",
        r#"{"message":"The security token included in the request is expired"}"#,
    );
    let text = fails_plainly(with_keys(home.path(), &expired).args(["points", "--vault", "x"]));
    assert!(
        text.lines()
            .any(|l| l.contains("The AWS credentials have expired")),
        "{text}"
    );
    says_what_to_do(&text);
}
