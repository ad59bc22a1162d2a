//! `kind = "manual"`: instructions the operator carries out and acknowledges,
//! optionally answering a question.

use toml_spanner::Error;

use super::{Effect, KindRules, Permission, StepChecks};
use crate::runbook::diagnostic::{Code, Diagnostic};
use crate::runbook::field::{Span, Spanned, Text, fields};

fields! {
    /// `kind = "manual"`.
    pub struct Manual {
        /// What the operator must do (Markdown; templates allowed).
        instructions: Text = req,
        /// A question whose answer becomes the output `answer`.
        question: Option<Text> = opt,
        /// The answers allowed to `question`.
        #[serde(default)]
        choices: Vec<Spanned<String>> = def,
    }
}

impl KindRules for Manual {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["answer", "acknowledged_by"]
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
        match given {
            None => Some(match &self.question {
                Some(q) => format!(
                    "manual step `{id}` needs --answer {id}=VALUE (question: {})",
                    q.value
                ),
                None => format!(
                    "manual step `{id}` needs --answer {id}=done once its instructions are carried out"
                ),
            }),
            Some(value)
                if !self.choices.is_empty() && !self.choices.iter().any(|c| c.value == value) =>
            {
                let choices: Vec<&str> = self.choices.iter().map(|c| c.value.as_str()).collect();
                Some(format!(
                    "--answer {id}={value} is not one of: {}",
                    choices.join(", ")
                ))
            }
            Some(_) => None,
        }
    }

    fn cross_field_errors(&self, _step_span: Span, _errors: &mut Vec<Error>) {}

    fn check(&self, step: &mut dyn StepChecks) {
        if self.question.is_none()
            && let Some(first) = self.choices.first()
        {
            step.push(
                Diagnostic::error(Code::Conflict, first.span, "`choices` without a `question`")
                    .with_help("add `question = \"...\"` that these choices answer"),
            );
        }
        step.no_repeats("`choices`", &self.choices);
    }
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "manual"
kind = "manual"
instructions = "Carry it out."
"#;
