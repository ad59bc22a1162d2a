//! The values templates resolve to: parameters, outputs of finished steps,
//! and the run variables. Resolved when a step starts.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::runbook::template::{self, RenderError, Var};

/// Outputs of one step.
pub type Outputs = BTreeMap<String, String>;

/// Everything a template can name.
#[derive(Debug, Clone, Default)]
pub struct Values {
    /// Parameter values, secrets included (never journaled from here).
    pub params: BTreeMap<String, String>,
    /// Outputs of steps that succeeded, by step id.
    pub outputs: HashMap<String, Outputs>,
    /// `run.id`, `run.mode`, `run.t0`, `run.dir`, `run.operator`.
    pub run: BTreeMap<&'static str, String>,
}

/// A template that could not be resolved, with the text it came from.
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve `{text}`: {reason}")]
pub struct ResolveError {
    /// The template text.
    pub text: String,
    /// Why.
    pub reason: String,
}

impl Values {
    fn lookup(&self, var: &Var) -> Result<String, String> {
        match var {
            Var::Param(name) => self.params.get(name).cloned().ok_or_else(|| {
                format!("parameter `{name}` has no value; give it with --param {name}=VALUE")
            }),
            Var::StepOutput { step, output } => match self.outputs.get(step) {
                None => Err(format!(
                    "step `{step}` has not succeeded, so it has no outputs"
                )),
                Some(outputs) => outputs.get(output).cloned().ok_or_else(|| {
                    format!("step `{step}` finished without setting its output `{output}`")
                }),
            },
            Var::Run(name) => self
                .run
                .get(name.as_str())
                .cloned()
                .ok_or_else(|| format!("`run.{name}` is not set")),
        }
    }

    /// `text` with its templates replaced by their values.
    pub fn resolve(&self, text: &str) -> Result<String, ResolveError> {
        self.render(text, |v| Cow::Borrowed(v))
    }

    /// `text` for `sh -c`: each value is inserted as one shell-quoted word,
    /// so `$(...)`, backticks, quotes and newlines arrive verbatim and
    /// execute nothing.
    pub fn resolve_shell(&self, text: &str) -> Result<String, ResolveError> {
        self.render(text, |v| match shlex::try_quote(v) {
            Ok(quoted) => quoted,
            // A NUL byte cannot be passed to a command at all.
            Err(_) => Cow::Borrowed("''"),
        })
    }

    /// `text` for a plan: params and run variables resolved, outputs of
    /// steps that have not run shown as `<steps.ID.OUTPUT>`.
    pub fn preview(&self, text: &str) -> String {
        let lookup = |var: &Var| -> Result<String, std::convert::Infallible> {
            Ok(self.lookup(var).unwrap_or_else(|_| format!("<{var}>")))
        };
        template::render(text, lookup, |v| Cow::Borrowed(v)).unwrap_or_else(|_| text.to_owned())
    }

    fn render(
        &self,
        text: &str,
        escape: impl for<'v> Fn(&'v str) -> Cow<'v, str>,
    ) -> Result<String, ResolveError> {
        template::render(text, |var| self.lookup(var), escape).map_err(|e| ResolveError {
            text: text.to_owned(),
            reason: match e {
                RenderError::Syntax(e) => e.message,
                RenderError::Lookup(_, reason) => reason,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(param: &str) -> Values {
        Values {
            params: BTreeMap::from([("table".to_string(), param.to_string())]),
            ..Values::default()
        }
    }

    #[test]
    fn shell_values_arrive_as_one_inert_word() {
        for hostile in [
            "$(touch /tmp/pwned)",
            "`id`",
            "a'b\"c",
            "x; rm -rf /",
            "line1\nline2",
            "",
        ] {
            let command = values(hostile)
                .resolve_shell("printf %s {{ params.table }}")
                .unwrap();
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(&command)
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), hostile, "{command}");
        }
    }

    #[test]
    fn missing_values_say_what_to_do() {
        let e = Values::default()
            .resolve("{{ params.role_arn }}")
            .unwrap_err();
        assert!(e.reason.contains("--param role_arn=VALUE"), "{e}");
        let e = Values::default()
            .resolve("{{ steps.pick.arn }}")
            .unwrap_err();
        assert!(e.reason.contains("has not succeeded"), "{e}");
    }
}
