//! Runbooks: TOML text in, a typed and validated [`Runbook`] out, or
//! diagnostics that name `file:line:col` and say what to do.
//!
//! Owns the format (see `docs/runbook-format.md`) and its JSON Schema. Knows
//! nothing of running steps, AWS or the terminal.

pub mod diagnostic;
pub mod field;
mod graph;
pub mod kinds;
pub mod model;
pub mod schema;
pub mod shell_lex;
pub mod template;
mod validate;

use std::path::{Path, PathBuf};

pub use diagnostic::{Code, Diagnostic, Severity, did_you_mean};
pub use kinds::{Effect, KINDS, StepAction};
pub use model::{
    Dur, FORMAT_VERSION, Mode, OnFailure, Param, ParamType, Phase, Runbook, Span, Spanned, Step,
    Text, parse_time,
};

use toml_spanner::ErrorKind;

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

    /// The first error, in file order: what to say when the runbook cannot
    /// be used (a warning before it is not the reason).
    pub fn first_error(&self) -> Option<&Diagnostic> {
        self.diagnostics.iter().find(|d| d.is_error())
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Parses and validates a runbook's text.
pub fn check_str(source: &str) -> Checked {
    check(source, false)
}

/// Reads the runbook a journal recorded, for reporting on a run that has
/// already happened: it must parse and its graph must hold, but a rule on
/// values or templates added since the run (e.g. a shell context refused
/// later) does not hide its report. The diagnostics are kept; never use
/// this to run anything.
pub fn read_recorded(source: &str) -> Checked {
    check(source, true)
}

fn check(source: &str, recorded: bool) -> Checked {
    let mut diagnostics = Vec::new();
    let mut read_cleanly = false;
    let arena = toml_spanner::Arena::new();
    let runbook = match toml_spanner::parse(source, &arena) {
        Ok(mut doc) => {
            let runbook = Runbook::read(&mut doc);
            diagnostics.extend(doc.ctx.errors.iter().map(diagnose_toml));
            // Checks of the whole graph run on a cleanly read runbook only: a
            // phase or parameter dropped for a typo would otherwise show up
            // as false "unknown phase" or "unknown parameter" errors.
            match &runbook {
                Some(runbook) if diagnostics.is_empty() => {
                    read_cleanly = true;
                    validate::validate(runbook, source, &mut diagnostics)
                }
                _ => {}
            }
            runbook
        }
        Err(e) => {
            let mut d = diagnose_toml(&e);
            d.code = Code::Syntax;
            diagnostics.push(d);
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
    // Rules on values and templates may tighten between releases; the shape
    // of the graph (ids, needs, cycles, kinds) never may be broken, since
    // the report walks it.
    let later_rule = |d: &Diagnostic| matches!(d.code, Code::Template | Code::InvalidValue);
    let runbook = runbook.filter(|_| {
        let mut errors = diagnostics.iter().filter(|d| d.is_error());
        if recorded && read_cleanly {
            errors.all(later_rule)
        } else {
            errors.next().is_none()
        }
    });
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
    /// The path as shown in messages.
    pub name: String,
    /// The file's text (empty if it could not be read).
    pub source: String,
    /// The findings.
    pub checked: Checked,
}

impl CheckedFile {
    /// Every diagnostic rendered for a terminal.
    pub fn render(&self, color: bool) -> String {
        self.checked
            .diagnostics
            .iter()
            .map(|d| d.render(&self.name, &self.source, color))
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
                name: path.display().to_string(),
                source,
                checked,
            }
        }
        Err(e) => CheckedFile {
            path: path.to_owned(),
            name: path.display().to_string(),
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

/// Turns a toml-spanner error into a diagnostic with a help text.
fn diagnose_toml(e: &toml_spanner::Error) -> Diagnostic {
    let span: Span = e.span().into();
    let syntax = |message: String, help: &str| {
        Diagnostic::error(Code::Syntax, span, message).with_help(help)
    };
    match e.kind() {
        ErrorKind::Custom(text) => match serde_json::from_str::<field::CustomError>(text) {
            Ok(c) => Diagnostic::error(
                Code::named(&c.code).unwrap_or(Code::InvalidValue),
                span,
                c.message,
            )
            .with_help(c.help),
            Err(_) => Diagnostic::error(Code::InvalidValue, span, text),
        },
        ErrorKind::MissingField(field @ ("runbook" | "step")) => Diagnostic::whole_file(
            Severity::Error,
            Code::MissingField,
            format!("the file has no `{field}`"),
        )
        .with_help(missing_field_help(field)),
        ErrorKind::MissingField(field) => {
            Diagnostic::error(Code::MissingField, span, format!("missing field `{field}`"))
                .with_label(format!("this table needs `{field}`"))
                .with_help(missing_field_help(field))
        }
        ErrorKind::Wanted { expected, .. } if expected.contains("newline") => syntax(
            "unexpected text after the value on this line".into(),
            "a string ends at the next unescaped quote: write \\\" for a quote inside \"...\", or use '...' or \"\"\"...\"\"\" around it",
        ),
        ErrorKind::Wanted { expected, found } => {
            let (expected, found) = (*expected, *found);
            let help = if found == "string" && expected.contains("bool") {
                "write true or false without quotes".to_string()
            } else if found == "string"
                && (expected.contains("integer") || expected.contains("number"))
            {
                "write the number without quotes".to_string()
            } else if expected.contains("array") && found == "table" {
                "a list of tables is written with double brackets: [[step]], [[phase]]".to_string()
            } else if expected.contains("array") {
                "write a list in brackets, e.g. [\"a\", \"b\"]".to_string()
            } else if expected == "a table" {
                "write an inline table { key = \"value\" } or a [section]".to_string()
            } else {
                format!("give {expected} here")
            };
            Diagnostic::error(
                Code::WrongType,
                span,
                format!("expected {expected}, found {found}"),
            )
            .with_help(help)
        }
        ErrorKind::OutOfRange { ty, .. } if ty.contains("recursion") => syntax(
            "values are nested too deeply".into(),
            "a runbook needs a few levels of tables and lists at most; close the open brackets",
        ),
        ErrorKind::OutOfRange { ty, range } => Diagnostic::error(
            Code::InvalidValue,
            span,
            format!("number out of range for {ty} ({range})"),
        )
        .with_help("use a smaller, non-negative whole number"),
        ErrorKind::DuplicateKey { first } => syntax(
            "this key is set twice".into(),
            "a key may be set once per table; remove one of them",
        )
        .with_label("set again here")
        .with_note(first.into(), "first set here"),
        ErrorKind::DuplicateTable { first, .. } => syntax(
            "this table is defined twice".into(),
            "merge the two tables; for a list of steps or phases use [[step]] / [[phase]]",
        )
        .with_note(first.into(), "first defined here"),
        ErrorKind::UnquotedString => syntax(
            "a string value must be quoted".into(),
            "put the value in double quotes, e.g. id = \"restore\"",
        ),
        ErrorKind::UnterminatedString(_) => syntax(
            "this string is not closed".into(),
            "add the closing quote; for text over several lines use triple quotes \"\"\" ... \"\"\"",
        ),
        ErrorKind::InvalidCharInString(c) => {
            let what = if c == '\n' {
                "a line break".to_string()
            } else {
                format!("{c:?}")
            };
            syntax(
                format!("{what} is not allowed inside a \"...\" string"),
                "close the string on the same line, or use triple quotes \"\"\" ... \"\"\" for text over several lines",
            )
        }
        ErrorKind::InvalidEscape(c) => syntax(
            format!("`\\{c}` is not a valid escape"),
            "write a backslash as \\\\, or use a 'literal string' where backslashes are kept as they are",
        ),
        ErrorKind::Unexpected(c) => syntax(format!("unexpected character {c:?}"), SYNTAX_HELP),
        ErrorKind::UnexpectedEof => syntax(
            "the file ends in the middle of a value".into(),
            "close the open string, list or table",
        ),
        ErrorKind::InvalidInteger(why) | ErrorKind::InvalidFloat(why) => syntax(
            format!("this is not a valid number ({why})"),
            "quote text (\"...\"); numbers are plain digits",
        ),
        ErrorKind::InvalidDateTime(why) => syntax(
            format!("this is not a valid date-time ({why})"),
            "write an RFC 3339 date-time such as 2026-11-21T00:00:00Z",
        ),
        ErrorKind::MissingArrayComma | ErrorKind::MissingInlineTableComma => syntax(
            "a comma is missing".into(),
            "separate the items with commas",
        ),
        ErrorKind::UnclosedArray => syntax("this list is not closed".into(), "close it with ]"),
        ErrorKind::UnclosedInlineTable => syntax(
            "this inline table is not closed".into(),
            "close it with }; an inline table must stay on one line in TOML 1.0",
        ),
        _ => syntax(format!("invalid TOML: {e}"), SYNTAX_HELP),
    }
}

const SYNTAX_HELP: &str = "fix the TOML syntax here: strings and times in double quotes, lists in [ ], tables as [section] or { key = \"value\" }";

fn missing_field_help(field: &str) -> String {
    match field {
        "runbook" => "start the file with a [runbook] table holding its id and title".into(),
        "step" => "add at least one [[step]] with an id and a kind".into(),
        "kind" => format!("add `kind = \"...\"`; the kinds are: {}", KINDS.join(", ")),
        "id" => "add `id = \"...\"` (lowercase letters, digits, `-`, `_`)".into(),
        _ => format!("add `{field} = ...`; see docs/runbook-format.md"),
    }
}
