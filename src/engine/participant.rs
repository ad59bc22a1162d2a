//! Who takes part in a run: a person at a console or a process answering
//! from their own machine, known by the AWS identity their credentials
//! prove (STS `GetCallerIdentity`) and a display name they chose; and the
//! roles a run assigns to people (`--role dba=alice@example.com`).
//!
//! The display name is for people to read and is never trusted: who may
//! answer or approve is decided on the ARN alone ([`Participant::is`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cloud::CallerIdentity;

/// A person in a run, as their credentials prove them and as they call
/// themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// The principal's ARN, as STS answered it.
    pub arn: String,
    /// The account id, as STS answered it.
    pub account: String,
    /// The name they chose to be shown by (`--as`, the config's `name`, or
    /// `user@host`); for display only.
    pub name: String,
}

impl Participant {
    /// A participant from STS's answer and a display name.
    pub fn new(identity: &CallerIdentity, name: impl Into<String>) -> Self {
        Self {
            arn: identity.arn.clone(),
            account: identity.account.clone(),
            name: name.into(),
        }
    }

    /// Whether `who` (as a run's roles or a step's `approvers` name
    /// people) means this participant: the whole ARN, or its principal's
    /// own name, the last `/`-separated part of the ARN (an IAM user's
    /// name, or an assumed role's session name such as
    /// `alice@example.com` under IAM Identity Center). Never the display
    /// name, which anyone can choose.
    pub fn is(&self, who: &str) -> bool {
        let who = who.trim();
        if who.is_empty() {
            return false;
        }
        if who == self.arn {
            return true;
        }
        // `arn:aws:iam::1:user/path/alice` → `alice`;
        // `arn:aws:sts::1:assumed-role/Role/alice@example.com` →
        // `alice@example.com`. The root (`arn:aws:iam::1:root`) has none.
        let Some((_, resource)) = self.arn.rsplit_once(':') else {
            return false;
        };
        match resource.rsplit_once('/') {
            Some((_, own)) => !own.is_empty() && own == who,
            None => false,
        }
    }

    /// `Name (ARN)`, for reports and lines people read.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.name, self.arn)
    }
}

/// Who holds each role in a run: role → the people (ARNs or principal
/// names, as [`Participant::is`] reads them).
pub type Roles = BTreeMap<String, Vec<String>>;

/// The roles `participant` holds under `roles`, in order.
pub fn roles_of<'a>(roles: &'a Roles, participant: &Participant) -> Vec<&'a str> {
    roles
        .iter()
        .filter(|(_, people)| people.iter().any(|p| participant.is(p)))
        .map(|(role, _)| role.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(arn: &str) -> Participant {
        Participant {
            arn: arn.into(),
            account: "123456789012".into(),
            name: "shown name".into(),
        }
    }

    #[test]
    fn a_person_is_known_by_arn_or_principal_name_never_by_display_name() {
        let sso =
            person("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_DBA/alice@example.com");
        assert!(sso.is("alice@example.com"));
        assert!(sso.is(&sso.arn.clone()));
        assert!(!sso.is("shown name"));
        assert!(!sso.is("AWSReservedSSO_DBA"));
        assert!(!sso.is(""));
        let user = person("arn:aws:iam::123456789012:user/ops/bob");
        assert!(user.is("bob"));
        assert!(!user.is("ops"));
        let root = person("arn:aws:iam::123456789012:root");
        assert!(!root.is("root"));
    }

    #[test]
    fn roles_are_read_from_the_assignment() {
        let roles = Roles::from([
            ("dba".to_string(), vec!["alice@example.com".to_string()]),
            ("lead".to_string(), vec!["bob".to_string()]),
        ]);
        let alice = person("arn:aws:sts::1:assumed-role/R/alice@example.com");
        assert_eq!(roles_of(&roles, &alice), vec!["dba"]);
        assert!(roles_of(&roles, &person("arn:aws:iam::1:user/carol")).is_empty());
    }
}
