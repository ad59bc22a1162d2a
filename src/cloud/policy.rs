//! What IAM's policy simulator answers (`SimulatePrincipalPolicy`, botocore
//! `iam` 2010-05-08, `EvaluationResult`, `Statement`): per action and
//! resource, allowed or denied, and the statements that decided it.

use serde::{Deserialize, Serialize};

/// IAM's decision on one action and resource
/// (`PolicyEvaluationDecisionType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Decision {
    /// A statement allows it and none denies it.
    Allowed,
    /// No statement allows it.
    ImplicitDeny,
    /// A statement denies it (whatever else allows it).
    ExplicitDeny,
}

impl Decision {
    /// IAM's word for it.
    pub fn word(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::ImplicitDeny => "implicitly denied (no statement allows it)",
            Decision::ExplicitDeny => "explicitly denied",
        }
    }
}

/// A policy statement that decided a result (`Statement`): the policy's
/// id and type, and where the statement is in its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedStatement {
    /// `SourcePolicyId`: a managed policy's name, or `user_NAME_POLICY`
    /// for an inline one.
    pub policy_id: Option<String>,
    /// `SourcePolicyType`: `user`, `role`, `user-managed`, `aws-managed`, …
    pub policy_type: Option<String>,
    /// Line and column where the statement starts.
    pub start: Option<(i32, i32)>,
    /// Line and column where it ends.
    pub end: Option<(i32, i32)>,
}

impl MatchedStatement {
    /// `policy dr-deny (user-managed), line 3 column 5 to line 8 column 6`.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "policy {}",
            crate::format::printable(self.policy_id.as_deref().unwrap_or("(unnamed)"))
        );
        if let Some(t) = &self.policy_type {
            out.push_str(&format!(" ({})", crate::format::printable(t)));
        }
        match (self.start, self.end) {
            (Some((l1, c1)), Some((l2, c2))) => {
                out.push_str(&format!(", line {l1} column {c1} to line {l2} column {c2}"))
            }
            (Some((l, c)), None) => out.push_str(&format!(", from line {l} column {c}")),
            _ => {}
        }
        out
    }
}

/// One question for IAM's policy simulator: may the principal call
/// `action` on `resource`, in the request context `context`
/// (`SimulatePrincipalPolicyRequest.ContextEntries`, botocore `iam`
/// 2010-05-08, `ContextEntry { ContextKeyName, ContextKeyValues,
/// ContextKeyType }`; each here one `string` value).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ask {
    /// The action, e.g. `iam:PassRole`.
    pub action: String,
    /// The resource ARN (or `*`).
    pub resource: String,
    /// Condition keys and their values, e.g. `iam:PassedToService` =
    /// `backup.amazonaws.com`.
    pub context: Vec<(String, String)>,
}

/// IAM's answer for one action on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Simulated {
    /// The action, e.g. `backup:StartRestoreJob`.
    pub action: String,
    /// The resource ARN (or `*`).
    pub resource: String,
    /// Allowed or denied.
    pub decision: Decision,
    /// The statements that decided it, when IAM says.
    pub matched: Vec<MatchedStatement>,
}

/// The ARN whose policies IAM simulates for `caller` (the ARN
/// `GetCallerIdentity` gives): an assumed-role session
/// (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`) is simulated as its
/// role, `arn:aws:iam::ACCOUNT:role/NAME`, since `PolicySourceArn` takes "a
/// user, group, or role" (botocore `iam` 2010-05-08,
/// `SimulatePrincipalPolicyRequest.PolicySourceArn`) and not a session.
/// A role under a path (`role/service-role/NAME`) loses its path in the
/// session ARN; IAM then answers `NoSuchEntity`, which preflight reports.
pub fn policy_source_arn(caller: &str) -> String {
    let parts: Vec<&str> = caller.splitn(6, ':').collect();
    if let [arn, partition, "sts", _, account, rest] = parts[..]
        && let Some(session) = rest.strip_prefix("assumed-role/")
        && let Some((role, _)) = session.split_once('/')
    {
        return format!("{arn}:{partition}:iam::{account}:role/{role}");
    }
    caller.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assumed_role_session_is_simulated_as_its_role() {
        assert_eq!(
            policy_source_arn("arn:aws:sts::111122223333:assumed-role/dr-operator/alice"),
            "arn:aws:iam::111122223333:role/dr-operator"
        );
        assert_eq!(
            policy_source_arn("arn:aws:iam::111122223333:user/alice"),
            "arn:aws:iam::111122223333:user/alice"
        );
        // Hostile or odd text passes through; IAM refuses it by name.
        for odd in ["", "arn:aws:sts::1:assumed-role/", "arn:aws:sts", "😀:::::"] {
            assert_eq!(policy_source_arn(odd), odd);
        }
    }

    #[test]
    fn a_statement_is_named_with_its_place() {
        let s = MatchedStatement {
            policy_id: Some("deny-restores".into()),
            policy_type: Some("user".into()),
            start: Some((1, 2)),
            end: Some((3, 4)),
        };
        assert_eq!(
            s.describe(),
            "policy deny-restores (user), line 1 column 2 to line 3 column 4"
        );
    }
}
