//! The values templates resolve to: parameters, outputs of finished steps,
//! and the run variables. Resolved when a step starts.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::runbook::template::{self, Quoting, RenderError, Var};

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

    /// `text` for `sh -c`, with each value passed in an environment
    /// variable (`DR_DRILL_V1`, ...) that the command refers to: values are
    /// never pasted into the command, so `$(...)`, backticks, quotes and
    /// newlines arrive verbatim and execute nothing, whatever quotes the
    /// template stands in. Inside single quotes nothing expands: an error.
    pub fn shell_command(
        &self,
        text: &str,
    ) -> Result<(String, Vec<(String, String)>), ResolveError> {
        let error = |reason: String| ResolveError {
            text: text.to_owned(),
            reason,
        };
        let segments = template::shell_segments(text).map_err(|e| error(e.message))?;
        let mut command = String::with_capacity(text.len());
        let mut env = Vec::new();
        for (segment, quoting) in segments {
            match segment {
                template::Segment::Literal(l) => command.push_str(&l),
                template::Segment::Var(var, _) => {
                    let value = self.lookup(&var).map_err(error)?;
                    let name = format!("DR_DRILL_V{}", env.len() + 1);
                    match quoting {
                        Quoting::Plain => command.push_str(&format!("\"${{{name}}}\"")),
                        Quoting::Double => command.push_str(&format!("${{{name}}}")),
                        Quoting::Single => {
                            return Err(error(format!(
                                "`{{{{ {var} }}}}` stands inside single quotes, where it cannot expand"
                            )));
                        }
                    }
                    env.push((name, value));
                }
            }
        }
        Ok((command, env))
    }

    /// `text` for a plan: params and run variables resolved, outputs of
    /// steps that have not run shown as `<steps.ID.OUTPUT>`.
    pub fn preview(&self, text: &str) -> String {
        self.preview_or(text, |var| format!("<{var}>"))
    }

    /// `text` with what is known resolved and each unknown reference
    /// written as `unknown` says.
    pub fn preview_or(&self, text: &str, unknown: impl Fn(&Var) -> String) -> String {
        let lookup = |var: &Var| -> Result<String, std::convert::Infallible> {
            Ok(self.lookup(var).unwrap_or_else(|_| unknown(var)))
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

    /// Every quoting context a runbook author may write, with values that
    /// try to break out of each.
    #[test]
    fn shell_values_arrive_verbatim_and_execute_nothing_in_any_context() {
        let dir = tempfile::tempdir().unwrap();
        let witness = dir.path().join("pwned");
        let w = witness.display();
        let hostile = [
            format!("$(touch {w})"),
            format!("`touch {w}`"),
            format!("'; touch {w}; '"),
            format!("\"; touch {w}; \""),
            format!("x; touch {w}"),
            format!("a\nb $(touch {w})"),
            "a  b * ?".to_string(),
            String::new(),
        ];
        let contexts = [
            ("printf %s {{ params.table }}", ""),
            ("printf %s \"{{ params.table }}\"", ""),
            (
                "printf %s \"before {{ params.table }} after\"",
                "before {} after",
            ),
            ("printf %s x{{ params.table }}y", "x{}y"),
            ("cat <<EOF\n{{ params.table }}\nEOF", "\"{}\"\n"),
            // A substitution inside double quotes starts outside quotes:
            // the value there was word-split and globbed.
            ("printf %s \"$(printf %s {{ params.table }})\"", ""),
            ("printf %s \"`printf %s {{ params.table }}`\"", ""),
        ];
        for value in &hostile {
            for (command, shape) in contexts {
                let (script, env) = values(value).shell_command(command).unwrap();
                let out = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(&script)
                    .envs(env)
                    .output()
                    .unwrap();
                let expected = if shape.is_empty() {
                    value.clone()
                } else {
                    shape.replace("{}", value)
                };
                assert_eq!(
                    String::from_utf8(out.stdout).unwrap(),
                    expected,
                    "{command} with {value:?}"
                );
                assert!(
                    !witness.exists(),
                    "{command} with {value:?} executed the value"
                );
            }
        }
    }

    #[test]
    fn a_template_inside_single_quotes_is_refused() {
        let e = values("x")
            .shell_command("echo 'restoring {{ params.table }}'")
            .unwrap_err();
        assert!(e.reason.contains("inside single quotes"), "{e}");
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
