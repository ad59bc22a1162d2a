//! Who the credentials are: STS `GetCallerIdentity`'s answer, and the role
//! behind an assumed-role session ARN, read strictly.

use serde::{Deserialize, Serialize};

/// Who the credentials are, as STS `GetCallerIdentity` answers
/// (`GetCallerIdentityResponse`: `Account`, `Arn`, `UserId`). Each value is
/// AWS's (or an emulator's) answer: shown through `format::printable`,
/// parsed only by [`AssumedRole::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerIdentity {
    /// The account id.
    pub account: String,
    /// The principal's ARN: a user, a role's session, the root.
    pub arn: String,
    /// The principal's unique id (`AIDA…`, or `AROA…:SESSION`).
    pub user_id: String,
}

impl CallerIdentity {
    /// The role, when the principal is an assumed role's session.
    pub fn assumed_role(&self) -> Option<AssumedRole> {
        AssumedRole::parse(&self.arn)
    }
}

/// The role behind an assumed-role session ARN,
/// `arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION` (IAM User Guide,
/// "IAM identifiers": STS assumed-role ARNs carry the role's name, not
/// its path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssumedRole {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: String,
    /// The account id (12 digits).
    pub account: String,
    /// The role's name.
    pub name: String,
    /// The session's name.
    pub session: String,
}

impl AssumedRole {
    /// Reads an assumed-role session ARN; `None` for anything else, and
    /// for any part that is not what IAM allows there (a partition of
    /// lowercase letters and `-`, a 12-digit account, a role name of
    /// 1-64 and a session name of 2-64 of `A-Za-z0-9+=,.@_-`).
    pub fn parse(arn: &str) -> Option<AssumedRole> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("sts"), Some(""), Some(account), Some(resource)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let name_char = |c: char| {
            c.is_ascii_alphanumeric() || matches!(c, '+' | '=' | ',' | '.' | '@' | '_' | '-')
        };
        let ok = |s: &str, min: usize| (min..=64).contains(&s.len()) && s.chars().all(name_char);
        let mut pieces = resource.split('/');
        let (Some("assumed-role"), Some(name), Some(session), None) =
            (pieces.next(), pieces.next(), pieces.next(), pieces.next())
        else {
            return None;
        };
        let partition_ok = !partition.is_empty()
            && partition.len() <= 32
            && partition
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-');
        let account_ok = account.len() == 12 && account.chars().all(|c| c.is_ascii_digit());
        (partition_ok && account_ok && ok(name, 1) && ok(session, 2)).then(|| AssumedRole {
            partition: partition.to_owned(),
            account: account.to_owned(),
            name: name.to_owned(),
            session: session.to_owned(),
        })
    }

    /// The role's ARN, as far as the session ARN tells it (without the
    /// role's path, which STS leaves out).
    pub fn role_arn(&self) -> String {
        format!(
            "arn:{}:iam::{}:role/{}",
            self.partition, self.account, self.name
        )
    }
}

#[cfg(test)]
mod assumed_role_tests {
    use super::AssumedRole;

    #[test]
    fn an_assumed_role_session_arn_names_its_role() {
        let role = AssumedRole::parse(
            "arn:aws:sts::123456789012:assumed-role/dr-operator/alice@example.com",
        )
        .expect("an assumed role");
        assert_eq!(role.name, "dr-operator");
        assert_eq!(role.session, "alice@example.com");
        assert_eq!(
            role.role_arn(),
            "arn:aws:iam::123456789012:role/dr-operator"
        );
        let gov = AssumedRole::parse("arn:aws-us-gov:sts::123456789012:assumed-role/R/s1").unwrap();
        assert_eq!(gov.role_arn(), "arn:aws-us-gov:iam::123456789012:role/R");
    }

    #[test]
    fn hostile_or_other_arns_are_no_role() {
        let long = "r".repeat(65);
        for arn in [
            "",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::123456789012:root",
            "arn:aws:sts::123456789012:federated-user/bob",
            "arn:aws:sts::123456789012:assumed-role/",
            "arn:aws:sts::123456789012:assumed-role/role",
            "arn:aws:sts::123456789012:assumed-role//session",
            "arn:aws:sts::123456789012:assumed-role/role/s",
            "arn:aws:sts::123456789012:assumed-role/role/session/extra",
            "arn:aws:sts::12345678901:assumed-role/role/session",
            "arn:aws:sts::1234567890123:assumed-role/role/session",
            "arn:aws:sts::12345678901x:assumed-role/role/session",
            "arn:aws:sts:us-east-1:123456789012:assumed-role/role/session",
            "arn:AWS:sts::123456789012:assumed-role/role/session",
            "arn::sts::123456789012:assumed-role/role/session",
            "arn:aws:sts::123456789012:assumed-role/ro\x1b[2Jle/session",
            "arn:aws:sts::123456789012:assumed-role/role/sess\nion",
            "arn:aws:sts::123456789012:assumed-role/rôle/session",
            "arn:aws:sts::123456789012:assumed-role/role:x/session",
            "xarn:aws:sts::123456789012:assumed-role/role/session",
        ] {
            assert_eq!(AssumedRole::parse(arn), None, "{arn:?}");
        }
        let arn = format!("arn:aws:sts::123456789012:assumed-role/{long}/session");
        assert_eq!(AssumedRole::parse(&arn), None);
    }
}
