//! `kind = "approve"`: a gate an operator approves before the run goes on.

use toml_spanner::Error;

use super::{Effect, KindRules, Permission, StepChecks};
use crate::runbook::field::{Span, Text, fields};

fields! {
    /// `kind = "approve"`.
    pub struct Approve {
        /// What is being approved.
        instructions: Option<Text> = opt,
    }
}

impl KindRules for Approve {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["approved_by", "approved_at"]
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

    fn check(&self, _step: &mut dyn StepChecks) {}
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "approve"
kind = "approve"
"#;
