//! `{{ ... }}` templates inside runbook strings.
//!
//! A template names one value: `{{ params.NAME }}`, `{{ steps.ID.OUTPUT }}`
//! or `{{ run.VAR }}`. A literal `{{` is written `{{ "{{" }}`. There are no
//! filters and no expressions: what a step receives is visible in the file.
//! The validator checks every reference; the engine resolves them when a
//! step starts, with [`render`].

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// The variables under `run.`.
pub const RUN_VARS: &[&str] = &["id", "mode", "t0", "dir", "operator"];

/// What a template names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Var {
    /// `params.NAME`
    Param(String),
    /// `steps.ID.OUTPUT`
    StepOutput {
        /// The step id.
        step: String,
        /// The output name.
        output: String,
    },
    /// `run.VAR`, one of [`RUN_VARS`].
    Run(String),
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Var::Param(p) => write!(f, "params.{p}"),
            Var::StepOutput { step, output } => write!(f, "steps.{step}.{output}"),
            Var::Run(v) => write!(f, "run.{v}"),
        }
    }
}

/// A piece of a parsed template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Text copied as it is.
    Literal(Cow<'a, str>),
    /// A reference, with the byte range of its `{{ ... }}` in the string.
    Var(Var, Range<usize>),
}

/// A template that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// Byte range in the string.
    pub range: Range<usize>,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub help: String,
}

/// Splits `text` into literals and references.
pub fn parse(text: &str) -> Result<Vec<Segment<'_>>, TemplateError> {
    let mut segments = Vec::new();
    let mut rest = 0;
    while let Some(open) = text[rest..].find("{{").map(|i| rest + i) {
        if open > rest {
            segments.push(Segment::Literal(Cow::Borrowed(&text[rest..open])));
        }
        let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
            return Err(TemplateError {
                range: open..text.len(),
                message: "`{{` is not closed by `}}`".into(),
                help: "close the template, or write a literal `{{` as `{{ \"{{\" }}`".into(),
            });
        };
        let range = open..close + 2;
        let inner = text[open + 2..close].trim();
        segments.push(parse_expr(inner, range)?);
        rest = close + 2;
    }
    if rest < text.len() {
        segments.push(Segment::Literal(Cow::Borrowed(&text[rest..])));
    }
    Ok(segments)
}

fn parse_expr(inner: &str, range: Range<usize>) -> Result<Segment<'static>, TemplateError> {
    let err = |message: String, help: &str| TemplateError {
        range: range.clone(),
        message,
        help: help.into(),
    };
    for quote in ['"', '\''] {
        if let Some(lit) = inner
            .strip_prefix(quote)
            .and_then(|s| s.strip_suffix(quote))
        {
            return Ok(Segment::Literal(Cow::Owned(lit.to_owned())));
        }
    }
    let parts: Vec<&str> = inner.split('.').collect();
    let valid = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !parts.iter().all(|p| valid(p)) {
        return Err(err(
            format!("`{{{{ {inner} }}}}` is not a reference"),
            "a template names one value: `{{ params.NAME }}`, `{{ steps.ID.OUTPUT }}` or `{{ run.VAR }}`",
        ));
    }
    let var = match parts.as_slice() {
        ["params", name] => Var::Param((*name).to_owned()),
        ["steps", step, output] => Var::StepOutput {
            step: (*step).to_owned(),
            output: (*output).to_owned(),
        },
        ["run", var] => Var::Run((*var).to_owned()),
        ["steps", _] => {
            return Err(err(
                format!("`{inner}` names a step but not which of its outputs"),
                "write `{{ steps.ID.OUTPUT }}`, e.g. `{{ steps.pick.arn }}`",
            ));
        }
        [root, ..] => {
            return Err(err(
                format!("`{inner}` does not start with `params`, `steps` or `run`"),
                match *root {
                    "param" => "did you mean `params.`?",
                    "step" => "did you mean `steps.`?",
                    _ => {
                        "a template names one value: `{{ params.NAME }}`, `{{ steps.ID.OUTPUT }}` or `{{ run.VAR }}`"
                    }
                },
            ));
        }
        [] => unreachable!("split yields at least one part"),
    };
    Ok(Segment::Var(var, range))
}

/// Every reference in `text`, or the first syntax error.
pub fn references(text: &str) -> Result<Vec<(Var, Range<usize>)>, TemplateError> {
    Ok(parse(text)?
        .into_iter()
        .filter_map(|s| match s {
            Segment::Var(v, r) => Some((v, r)),
            Segment::Literal(_) => None,
        })
        .collect())
}

/// Whether two strings resolve to the same text whatever the values:
/// equal literals and equal references, however the braces are spaced.
pub fn same(a: &str, b: &str) -> bool {
    let strip = |segments: Vec<Segment<'_>>| -> Vec<Result<String, Var>> {
        segments
            .into_iter()
            .map(|s| match s {
                Segment::Literal(l) => Ok(l.into_owned()),
                Segment::Var(v, _) => Err(v),
            })
            .collect()
    };
    match (parse(a), parse(b)) {
        (Ok(x), Ok(y)) => strip(x) == strip(y),
        _ => a == b,
    }
}

/// Where a template stands in a shell command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// Outside quotes.
    Plain,
    /// Inside `"..."`.
    Double,
    /// Inside `'...'` or `$'...'`, where nothing expands.
    Single,
}

/// The segments of a shell command, each with the quoting in force where
/// it starts: the engine passes template values as environment variables
/// and must reference them to suit their place. A `$(…)` or backtick opens
/// a new command, outside quotes even within `"…"`
/// ([`super::shell_lex`] reads the command).
pub fn shell_segments(text: &str) -> Result<Vec<(Segment<'_>, Quoting)>, TemplateError> {
    Ok(super::shell_lex::place(text)?
        .into_iter()
        .map(|(s, p)| (s, p.quoting))
        .collect())
}

/// Resolves every reference in `text` with `lookup`, passing each value
/// through `escape` (e.g. shell quoting) before it is inserted.
pub fn render<E>(
    text: &str,
    mut lookup: impl FnMut(&Var) -> Result<String, E>,
    escape: impl for<'v> Fn(&'v str) -> Cow<'v, str>,
) -> Result<String, RenderError<E>> {
    let mut out = String::with_capacity(text.len());
    for segment in parse(text).map_err(RenderError::Syntax)? {
        match segment {
            Segment::Literal(l) => out.push_str(&l),
            Segment::Var(var, _) => {
                let value = lookup(&var).map_err(|e| RenderError::Lookup(var.clone(), e))?;
                out.push_str(&escape(&value));
            }
        }
    }
    Ok(out)
}

/// Why [`render`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError<E> {
    /// The template does not parse.
    #[error("{}", .0.message)]
    Syntax(TemplateError),
    /// A reference has no value.
    #[error("`{{{{ {0} }}}}` has no value: {1}")]
    Lookup(Var, E),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references_and_literals() {
        let segs = parse("restore {{ steps.pick.arn }} to {{params.table}}!").unwrap();
        assert_eq!(
            segs,
            vec![
                Segment::Literal("restore ".into()),
                Segment::Var(
                    Var::StepOutput {
                        step: "pick".into(),
                        output: "arn".into()
                    },
                    8..28
                ),
                Segment::Literal(" to ".into()),
                Segment::Var(Var::Param("table".into()), 32..48),
                Segment::Literal("!".into()),
            ]
        );
    }

    #[test]
    fn a_quoted_literal_escapes_braces() {
        let out = render::<()>(
            "docker inspect --format '{{ \"{{\" }}.State}}'",
            |_| Ok(String::new()),
            |v: &str| Cow::Borrowed(v),
        )
        .unwrap();
        assert_eq!(out, "docker inspect --format '{{.State}}'");
    }

    #[test]
    fn rejects_unclosed_and_unknown_roots() {
        assert!(
            parse("a {{ params.x")
                .unwrap_err()
                .message
                .contains("not closed")
        );
        let e = parse("{{ param.x }}").unwrap_err();
        assert_eq!(e.help, "did you mean `params.`?");
        assert!(
            parse("{{ steps.pick }}")
                .unwrap_err()
                .message
                .contains("which of its outputs")
        );
        assert!(parse("{{ steps.a b.c }}").is_err());
    }

    #[test]
    fn shell_segments_know_their_quoting() {
        let quoting = |cmd: &str| -> Vec<Quoting> {
            shell_segments(cmd)
                .unwrap()
                .into_iter()
                .filter(|(s, _)| matches!(s, Segment::Var(..)))
                .map(|(_, q)| q)
                .collect()
        };
        assert_eq!(quoting("echo {{ params.a }}"), [Quoting::Plain]);
        assert_eq!(
            quoting("echo \"x {{ params.a }}\" '{{ params.b }}' {{ params.c }}"),
            [Quoting::Double, Quoting::Single, Quoting::Plain]
        );
        assert_eq!(
            quoting("echo \\' {{ params.a }}"),
            [Quoting::Plain],
            "an escaped quote opens nothing"
        );
        assert_eq!(
            quoting("echo \"it's {{ params.a }}\""),
            [Quoting::Double],
            "a single quote inside double quotes is a letter"
        );
    }

    #[test]
    fn render_escapes_each_value() {
        let out = render::<()>(
            "echo {{ params.x }}",
            |_| Ok("$(rm -rf /)".into()),
            |v| Cow::Owned(format!("'{v}'")),
        )
        .unwrap();
        assert_eq!(out, "echo '$(rm -rf /)'");
    }
}
