//! `kind = "approve"`: a gate an operator approves before the run goes on:
//! its fields (`approvers`, `required`, `allow_self`) and how a name in
//! `approvers` or `owner` is read (a role, or a person). Who may answer at
//! run time is decided in `engine/approval.rs`, from these fields.

use toml_spanner::Error;

use super::{Effect, KindRules, Permission, StepChecks};
use crate::runbook::diagnostic::{Code, Diagnostic};
use crate::runbook::field::{Span, Spanned, Text, fields};

fields! {
    /// `kind = "approve"`.
    pub struct Approve {
        /// What is being approved.
        instructions: Option<Text> = opt,
        /// Who may approve: role names (`lead`), or people as their AWS
        /// identity names them (an IAM/STS ARN, or the principal's own
        /// name such as `alice@example.com`). Empty: any participant.
        #[serde(default)]
        approvers: Vec<Spanned<String>> = def,
        /// How many approvals, from different people, the step needs
        /// (M of N). Default 1.
        required: Option<Spanned<u32>> = opt,
        /// Whether the run's driver may approve this step themselves.
        /// Default false: the driver cannot approve their own cutover.
        #[serde(default)]
        allow_self: bool = def,
    }
}

impl Approve {
    /// How many approvals the step needs (`required`, default 1).
    pub fn required(&self) -> usize {
        self.required.as_ref().map_or(1, |r| r.value as usize)
    }
}

/// How a name in `approvers` (or a run's `--role`) means someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// A role of the run (`dba`): an id.
    Role,
    /// A person: an IAM/STS ARN, or a principal's own name.
    Person,
}

/// Reads an approver: a role is an id (lowercase letters, digits, `-`,
/// `_`, starting with a letter); a person is an ARN of IAM or STS, or a
/// principal name. `Err` says why it is neither.
pub fn read_named(who: &str) -> Result<Named, String> {
    if who.starts_with("arn:") {
        return arn_problem(who).map_or(Ok(Named::Person), Err);
    }
    let mut chars = who.chars();
    if chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Ok(Named::Role);
    }
    // STS `roleSessionNameType` (sts.json) and IAM user names:
    // `[\w+=,.@-]`, at most 64 characters.
    let principal_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if !who.is_empty() && who.len() <= 64 && who.chars().all(principal_char) {
        return Ok(Named::Person);
    }
    Err(format!(
        "`{who}` is neither a role name (lowercase letters, digits, `-`, `_`), an ARN, nor a principal name (letters, digits and `_+=,.@-`, at most 64)"
    ))
}

/// Why `arn` is not an IAM or STS principal's ARN
/// (`arn:PARTITION:iam|sts::ACCOUNT:RESOURCE`, as STS
/// `GetCallerIdentity` answers `Arn`).
fn arn_problem(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && !parts[1].is_empty()
        && matches!(parts[2], "iam" | "sts")
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && !parts[5].is_empty()
        && !arn.chars().any(char::is_whitespace);
    (!ok).then(|| {
        format!("`{arn}` is not an IAM or STS ARN (arn:aws:iam::123456789012:user/NAME, arn:aws:sts::123456789012:assumed-role/ROLE/SESSION)")
    })
}

impl KindRules for Approve {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["approved_by", "approved_at", "approvals"]
    }

    fn confirm_target(&self) -> Option<&Text> {
        None
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        None
    }

    fn rpo_field(&self) -> Option<&'static str> {
        None
    }

    fn change(&self, _show: &dyn Fn(&str) -> String, _description: Option<&str>) -> Option<String> {
        None
    }

    fn uses_aws(&self) -> bool {
        false
    }

    fn permissions(&self) -> Vec<Permission<'_>> {
        vec![]
    }

    fn headless_answer_missing(&self, id: &str, given: Option<&str>) -> Option<String> {
        given
            .is_none()
            .then(|| format!("approval `{id}` needs --answer {id}=approve"))
    }

    fn cross_field_errors(&self, _step_span: Span, _errors: &mut Vec<Error>) {}

    fn check(&self, step: &mut dyn StepChecks) {
        let mut people = 0;
        for who in &self.approvers {
            match read_named(&who.value) {
                Ok(Named::Person) => people += 1,
                Ok(Named::Role) => {}
                Err(why) => step.push(
                    Diagnostic::error(Code::InvalidValue, who.span, format!("approver {why}"))
                        .with_help("name a role such as `lead`, an ARN, or a principal name such as `alice@example.com`"),
                ),
            }
        }
        step.no_repeats("`approvers`", &self.approvers);
        let Some(required) = &self.required else {
            return;
        };
        if required.value == 0 {
            step.push(
                Diagnostic::error(Code::InvalidValue, required.span, "`required = 0` approves nothing")
                    .with_help("set `required` to at least 1, or use a `manual` step"),
            );
        } else if !self.approvers.is_empty()
            && people == self.approvers.len()
            && required.value as usize > people
        {
            step.push(
                Diagnostic::error(
                    Code::Conflict,
                    required.span,
                    format!(
                        "`required = {}` but `approvers` names only {people} {}",
                        required.value,
                        if people == 1 { "person" } else { "people" }
                    ),
                )
                .with_help("lower `required`, or add approvers (people or a role)"),
            );
        }
    }
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "approve"
kind = "approve"
"#;
