//! The last line of defence against credentials in a report: secret
//! parameters are already redacted in the journal, but a step's outputs or
//! errors could still carry an AWS key or session token it printed.

use std::sync::LazyLock;

use regex::Regex;

use crate::engine::journal::REDACTED;

/// Long runs of base64 (AWS secret keys are 40 characters, session tokens
/// hundreds), mixing upper and lower case and digits; checksums in hex
/// and plain paths are left alone.
static CREDENTIAL_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9/+=]{40,}").expect("a valid regex"));

/// Environment variables whose values never appear in a report.
const SECRET_ENV: &[&str] = &[
    "AWS_SESSION_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SECURITY_TOKEN",
];

/// `text` with credential-like strings and the values of this process's
/// AWS secret variables replaced by [`REDACTED`].
pub fn scrub(text: &str) -> String {
    let mut out = CREDENTIAL_LIKE
        .replace_all(text, |c: &regex::Captures<'_>| {
            let m = &c[0];
            let has = |f: fn(&u8) -> bool| m.as_bytes().iter().any(f);
            // Keys and tokens mix cases and digits; paths and hex do not.
            let credential = has(u8::is_ascii_uppercase)
                && has(u8::is_ascii_lowercase)
                && has(u8::is_ascii_digit);
            if !credential {
                m.to_string()
            } else {
                REDACTED.to_string()
            }
        })
        .into_owned();
    for name in SECRET_ENV {
        if let Some(value) = std::env::var(name).ok().filter(|v| v.len() >= 8)
            && out.contains(&value)
        {
            out = out.replace(&value, REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn a_session_token_is_redacted_and_a_checksum_is_kept() {
        let token = "IQoJb3JpZ2luX2VjEFAaCXVzLWVhc3QtMSJHMEUCIQDfakefakefakefake/+=";
        let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let out = scrub(&format!(
            "token={token} sha={sha} arn:aws:backup:eu-west-1:123456789012:recovery-point:1a2b3c4d-5e6f"
        ));
        assert!(!out.contains(token));
        assert!(out.contains(sha));
        assert!(out.contains("recovery-point:1a2b3c4d-5e6f"));
    }
}
