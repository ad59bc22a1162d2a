//! Runbooks: TOML text in, a typed and validated [`Runbook`] out, or
//! diagnostics that name `file:line:col` and say what to do.
//!
//! Owns the format (see `docs/runbook-format.md`) and its JSON Schema. Knows
//! nothing of running steps, AWS or the terminal.

pub mod diagnostic;
pub mod kinds;
pub mod model;
pub mod schema;
pub mod template;
mod validate;

use std::path::{Path, PathBuf};

pub use diagnostic::{Code, Diagnostic, Severity, did_you_mean};
pub use kinds::{Action, Effect, KINDS};
pub use model::{
    Dur, FORMAT_VERSION, Mode, OnFailure, Param, Phase, Runbook, Span, Spanned, Step, Text,
};

use toml_span::ErrorKind;

/// The outcome of checking one runbook text.
#[derive(Debug)]
pub struct Checked {
    /// The runbook, when it has no errors (it may have warnings).
    pub runbook: Option<Runbook>,
    /// Every finding, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Parses and validates a runbook's text.
pub fn check_str(source: &str) -> Checked {
    let mut diagnostics = Vec::new();
    let parsed = toml_span::parse(source)
        .map_err(|e| vec![e])
        .and_then(|mut value| {
            toml_span::Deserialize::deserialize(&mut value).map_err(|e| e.errors)
        });
    let runbook = match parsed {
        Ok(runbook) => {
            validate::validate(&runbook, source, &mut diagnostics);
            Some(runbook)
        }
        Err(errors) => {
            diagnostics.extend(errors.into_iter().flat_map(diagnose_toml));
            None
        }
    };
    for d in &mut diagnostics {
        d.span = d.span.map(|span| first_line(source, span));
    }
    diagnostics.sort_by_key(|d| {
        (
            d.span.map_or(0, |s| s.start),
            d.severity == Severity::Warning,
        )
    });
    let runbook = runbook.filter(|_| !diagnostics.iter().any(Diagnostic::is_error));
    Checked {
        runbook,
        diagnostics,
    }
}

/// A span that covers several lines (a whole table) is shown by its first
/// line: the `[[step]]` header says enough and keeps the message short.
fn first_line(source: &str, span: Span) -> Span {
    let text = source.get(span.start..span.end).unwrap_or("");
    match text.find('\n') {
        Some(i) => Span::new(span.start, span.start + text[..i].trim_end().len()),
        None => span,
    }
}

/// A runbook file and what checking it found.
#[derive(Debug)]
pub struct CheckedFile {
    /// The path as given.
    pub path: PathBuf,
    /// The file's text (empty if it could not be read).
    pub source: String,
    /// The findings.
    pub checked: Checked,
}

impl CheckedFile {
    /// Every diagnostic rendered for a terminal.
    pub fn render(&self, color: bool) -> String {
        let name = self.path.display().to_string();
        self.checked
            .diagnostics
            .iter()
            .map(|d| d.render(&name, &self.source, color))
            .collect()
    }
}

/// Reads and checks one file.
pub fn check_file(path: &Path) -> CheckedFile {
    match std::fs::read_to_string(path) {
        Ok(source) => {
            let checked = check_str(&source);
            CheckedFile {
                path: path.to_owned(),
                source,
                checked,
            }
        }
        Err(e) => CheckedFile {
            path: path.to_owned(),
            source: String::new(),
            checked: Checked {
                runbook: None,
                diagnostics: vec![
                    Diagnostic::whole_file(
                        Severity::Error,
                        Code::Io,
                        format!("cannot read {}: {e}", path.display()),
                    )
                    .with_help("check the path and that the file is readable"),
                ],
            },
        },
    }
}

/// Why a runbook could not be loaded for a run.
#[derive(Debug, thiserror::Error)]
#[error("{rendered}")]
pub struct LoadError {
    /// The diagnostics, rendered without colour.
    pub rendered: String,
}

/// Loads a runbook for running: any error makes it unusable.
pub fn load(path: &Path) -> Result<(Runbook, CheckedFile), LoadError> {
    let mut file = check_file(path);
    match file.checked.runbook.take() {
        Some(runbook) => Ok((runbook, file)),
        None => Err(LoadError {
            rendered: file.render(false),
        }),
    }
}

/// Turns a toml-span error into diagnostics with a help text.
fn diagnose_toml(e: toml_span::Error) -> Vec<Diagnostic> {
    let span = e.span;
    let d = match e.kind {
        ErrorKind::UnexpectedKeys { keys, expected } => {
            return keys
                .into_iter()
                .map(|(key, key_span)| unknown_field(&key, key_span, &expected))
                .collect();
        }
        ErrorKind::MissingField(field) => Diagnostic::error(Code::MissingField, span, format!("missing field `{field}`"))
            .with_label(format!("this table needs `{field}`"))
            .with_help(missing_field_help(field)),
        ErrorKind::Wanted { expected, found } => {
            let mut d = Diagnostic::error(Code::WrongType, span, format!("expected {expected}, found {found}"));
            if found == "string" && expected.contains("bool") {
                d = d.with_help("write true or false without quotes");
            } else if found == "string" && expected.contains("integer") {
                d = d.with_help("write the number without quotes");
            } else if expected.contains("array") {
                d = d.with_help("write a list in brackets, e.g. [\"a\", \"b\"]");
            } else if expected == "a table" {
                d = d.with_help("write an inline table { key = \"value\" } or a [section]");
            } else {
                d = d.with_help(format!("give {expected} here"));
            }
            d
        }
        ErrorKind::UnexpectedValue { expected, value } => {
            let value = value.unwrap_or_default();
            let help = match did_you_mean(&value, expected.iter().copied()) {
                Some(close) => format!("did you mean `{close}`? Accepted: {}", expected.join(", ")),
                None => format!("use one of: {}", expected.join(", ")),
            };
            Diagnostic::error(Code::InvalidValue, span, format!("`{value}` is not accepted here")).with_help(help)
        }
        ErrorKind::Custom(text) => {
            let mut parts = text.splitn(3, '\u{1f}');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(code), Some(message), Some(help)) => {
                    Diagnostic::error(code_named(code), span, message).with_help(help)
                }
                _ => Diagnostic::error(Code::InvalidValue, span, text.into_owned()),
            }
        }
        ErrorKind::OutOfRange(ty) => Diagnostic::error(Code::InvalidValue, span, format!("number out of range for {ty}"))
            .with_help("use a smaller, non-negative whole number"),
        ErrorKind::DuplicateKey { key, first } => Diagnostic::error(Code::Syntax, span, format!("duplicate key `{key}`"))
            .with_label("set again here")
            .with_note(first, "first set here")
            .with_help("a key may be set once per table; remove one of them"),
        ErrorKind::DuplicateTable { name, first } => Diagnostic::error(Code::Syntax, span, format!("table `[{name}]` is defined twice"))
            .with_note(first, "first defined here")
            .with_help("merge the two tables; for a list of steps or phases use [[step]] / [[phase]]"),
        ErrorKind::UnquotedString => Diagnostic::error(Code::Syntax, span, "a string value must be quoted")
            .with_help("put the value in double quotes, e.g. id = \"restore\" (times too: \"2026-11-21T00:00:00Z\")"),
        ErrorKind::UnterminatedString => Diagnostic::error(Code::Syntax, span, "this string is not closed")
            .with_help("add the closing quote; for text over several lines use triple quotes \"\"\" ... \"\"\""),
        ErrorKind::InvalidCharInString(c) => {
            let what = if c == '\n' { "a line break".to_string() } else { format!("{c:?}") };
            Diagnostic::error(Code::Syntax, span, format!("{what} is not allowed inside a \"...\" string"))
                .with_help("close the string on the same line, or use triple quotes \"\"\" ... \"\"\" for text over several lines")
        }
        ErrorKind::InvalidEscape(c) => Diagnostic::error(Code::Syntax, span, format!("`\\{c}` is not a valid escape"))
            .with_help("write a backslash as \\\\, or use a 'literal string' where backslashes are kept as they are"),
        ErrorKind::Unexpected(c) => Diagnostic::error(Code::Syntax, span, format!("unexpected character {c:?}")).with_help(SYNTAX_HELP),
        ErrorKind::UnexpectedEof => Diagnostic::error(Code::Syntax, span, "the file ends in the middle of a value")
            .with_help("close the open string, list or table"),
        ErrorKind::InvalidNumber => Diagnostic::error(Code::Syntax, span, "this is not a valid number or value")
            .with_help("quote text and times (\"2026-11-21T00:00:00Z\"); numbers are plain digits"),
        other => Diagnostic::error(Code::Syntax, span, format!("invalid TOML ({other})")).with_help(SYNTAX_HELP),
    };
    vec![d]
}

const SYNTAX_HELP: &str = "fix the TOML syntax here: strings and times in double quotes, lists in [ ], tables as [section] or { key = \"value\" }";

fn code_named(name: &str) -> Code {
    [
        Code::BadDuration,
        Code::MissingField,
        Code::UnknownKind,
        Code::Conflict,
        Code::InvalidValue,
    ]
    .into_iter()
    .find(|c| c.as_str() == name)
    .unwrap_or(Code::InvalidValue)
}

fn unknown_field(key: &str, span: Span, expected: &[String]) -> Diagnostic {
    let help = match did_you_mean(key, expected.iter().map(String::as_str)) {
        Some(close) => format!("did you mean `{close}`?"),
        None if expected.is_empty() => "remove it".to_string(),
        None => format!("the fields here are: {}", expected.join(", ")),
    };
    let mut d = Diagnostic::error(Code::UnknownField, span, format!("unknown field `{key}`"))
        .with_help(help);
    // A field of another step kind is a common slip: say which kinds have it.
    let owners: Vec<&str> = KINDS
        .iter()
        .copied()
        .filter(|k| Action::fields_of(k).is_some_and(|f| f.contains(&key)))
        .collect();
    if !owners.is_empty() && expected.iter().any(|e| e == "kind") {
        d = d.with_label(format!("used by kind {}", owners.join(", ")));
    }
    d
}

fn missing_field_help(field: &str) -> String {
    match field {
        "runbook" => "start the file with [runbook] and its id and title".into(),
        "step" => "add at least one [[step]] with an id and a kind".into(),
        "kind" => format!("add `kind = \"...\"`; the kinds are: {}", KINDS.join(", ")),
        "id" => "add `id = \"...\"` (lowercase letters, digits, `-`, `_`)".into(),
        _ => format!("add `{field} = ...`; see docs/runbook-format.md"),
    }
}
