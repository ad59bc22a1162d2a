//! `kind = "check"`: assertions on values, usually outputs of earlier steps.

use toml_spanner::Error;

use super::{Effect, KindRules, Permission, StepChecks};
use crate::runbook::diagnostic::{Code, Diagnostic};
use crate::runbook::field::{Dur, Scalar, Span, Spanned, Text, fields, invalid};

fields! {
    /// One assertion of a check step: a value and one comparison.
    pub struct Assertion {
        /// The value under test, usually `{{ steps.ID.OUTPUT }}`.
        value: Scalar = req,
        /// Equal as text.
        equals: Option<Scalar> = opt,
        /// Different as text.
        not_equals: Option<Scalar> = opt,
        /// At least this number.
        at_least: Option<Scalar> = opt,
        /// At most this number.
        at_most: Option<Scalar> = opt,
        /// Matches this regular expression.
        matches: Option<Scalar> = opt,
        /// The value is an RFC 3339 time no older than this.
        younger_than: Option<Spanned<Dur>> = opt,
        /// Shown when the assertion fails.
        message: Option<String> = opt,
    }
}

impl Assertion {
    /// The comparison field names.
    pub const OPERATORS: &'static [&'static str] = &[
        "equals",
        "not_equals",
        "at_least",
        "at_most",
        "matches",
        "younger_than",
    ];

    fn operators(&self) -> Vec<&'static str> {
        let present = [
            self.equals.is_some(),
            self.not_equals.is_some(),
            self.at_least.is_some(),
            self.at_most.is_some(),
            self.matches.is_some(),
            self.younger_than.is_some(),
        ];
        Self::OPERATORS
            .iter()
            .zip(present)
            .filter_map(|(name, here)| here.then_some(*name))
            .collect()
    }
}

fields! {
    /// `kind = "check"`.
    pub struct Check {
        /// The assertions; all must hold.
        assert: Vec<Assertion> = req,
    }
}

impl KindRules for Check {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec![]
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

    fn headless_answer_missing(&self, _id: &str, _given: Option<&str>) -> Option<String> {
        None
    }

    fn cross_field_errors(&self, step_span: Span, errors: &mut Vec<Error>) {
        if self.assert.is_empty() {
            errors.push(invalid(
                step_span,
                "a check step has no assertions",
                "add `assert = [{ value = \"{{ steps.count.items }}\", at_least = 1 }]`",
            ));
        }
        for a in &self.assert {
            let ops = a.operators();
            if ops.len() != 1 {
                errors.push(invalid(
                    a.value.span,
                    format!(
                        "an assertion needs exactly one of {}; found {}",
                        Assertion::OPERATORS.join(", "),
                        if ops.is_empty() {
                            "none".to_string()
                        } else {
                            ops.join(", ")
                        }
                    ),
                    "split it into one assertion per comparison",
                ));
            }
        }
    }

    fn check(&self, step: &mut dyn StepChecks) {
        for a in &self.assert {
            for operand in [&a.at_least, &a.at_most].into_iter().flatten() {
                if !operand.value.contains("{{") && operand.value.trim().parse::<f64>().is_err() {
                    step.push(
                        Diagnostic::error(Code::InvalidValue, operand.span, format!("`{}` is not a number", operand.value))
                            .with_help("`at_least` and `at_most` compare numbers: write one, or a template that gives one"),
                    );
                }
            }
            if let Some(pattern) = a.matches.as_ref().filter(|p| !p.value.contains("{{"))
                && let Err(e) = regex::Regex::new(&pattern.value)
            {
                let reason = e.to_string();
                let reason = reason
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string();
                step.push(
                    Diagnostic::error(Code::InvalidValue, pattern.span, format!("`matches` is not a valid regular expression: {reason}"))
                        .with_help("the syntax is Rust's `regex` crate (like RE2); escape special characters with a backslash"),
                );
            }
        }
    }
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "check"
kind = "check"
assert = [{ value = "1", equals = "1" }]
"#;
