//! `kind = "shell"`: a command run with `sh -c`; its outputs are the ones it
//! declares, and `exit_code`.

use toml_spanner::Error;

use super::{Effect, KindRules, Permission, StepChecks};
use crate::runbook::diagnostic::{Code, Diagnostic};
use crate::runbook::field::{Span, Spanned, Text, TextMap, fields};

fields! {
    /// `kind = "shell"`.
    pub struct Shell {
        /// The command, run with `sh -c`. Template values reach it through
        /// environment variables: each arrives verbatim, as one word. A
        /// template where the shell parses its value again (`eval`, `trap`,
        /// `sh -c "…"`, `ssh`, arithmetic) is a `check` error.
        run: Text = req,
        /// Extra environment variables (templates allowed, not quoted).
        #[serde(default)]
        env: TextMap = def,
        /// Working directory; defaults to the run's directory.
        cwd: Option<Text> = opt,
        /// Names of the outputs the command sets by writing `NAME=VALUE`
        /// lines to the file named by `$DR_DRILL_OUTPUT`.
        #[serde(default)]
        outputs: Vec<Spanned<String>> = def,
        /// Programs the command needs on PATH, e.g. `["pg_restore", "jq"]`.
        /// The start screen names the missing ones, and a run refuses to
        /// start without them (headless: exit 2), before any step runs.
        #[serde(default)]
        requires: Vec<Spanned<String>> = def,
    }
}

impl KindRules for Shell {
    fn effect(&self) -> Effect {
        Effect::Writes
    }

    fn outputs(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.outputs.iter().map(|o| o.value.as_str()).collect();
        names.push("exit_code");
        names
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

    fn change(&self, show: &dyn Fn(&str) -> String, description: Option<&str>) -> Option<String> {
        let command = format!("the command runs:\n{}", show(&self.run.value).trim_end());
        Some(match description {
            Some(d) => format!("{}\n{command}", show(d).trim_end()),
            None => command,
        })
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

    fn cross_field_errors(&self, _step_span: Span, _errors: &mut Vec<Error>) {}

    fn check(&self, step: &mut dyn StepChecks) {
        step.shell_quoting(&self.run);
        step.no_repeats("`outputs`", &self.outputs);
        step.no_repeats("`requires`", &self.requires);
        for output in &self.outputs {
            if output.value == "exit_code" {
                step.push(
                    Diagnostic::error(
                        Code::Conflict,
                        output.span,
                        "`exit_code` is set by dr-drill for every shell step",
                    )
                    .with_help("remove it from `outputs`; read it as {{ steps.ID.exit_code }}"),
                );
            } else {
                step.check_id("output", output);
            }
        }
    }
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "shell"
kind = "shell"
run = "true"
"#;
