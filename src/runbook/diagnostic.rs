//! Diagnostics about a runbook file: what is wrong, where (a byte span that
//! becomes `file:line:col`), and what to do about it.
//!
//! One type serves the human renderer (codespan-reporting: the source line
//! with a caret) and the JSON output of `dr-drill check --format json`.

use std::fmt;
use std::io::Write;

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor};
use serde::Serialize;

use super::Span;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look; fails `check` only with `--deny-warnings`.
    Warning,
    /// The runbook cannot run.
    Error,
}

/// A stable, machine-readable name for each class of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The file is not valid TOML.
    Syntax,
    /// The file could not be read.
    Io,
    /// A field that the format does not know.
    UnknownField,
    /// A field that is required is absent.
    MissingField,
    /// A field has a value of the wrong TOML type.
    WrongType,
    /// A field has a value the format does not accept.
    InvalidValue,
    /// A duration that does not parse.
    BadDuration,
    /// Two phases or two steps share an id.
    DuplicateId,
    /// `needs` names a step that does not exist.
    UnknownStep,
    /// The `needs` graph has a cycle.
    Cycle,
    /// A step names a phase that is not declared.
    UnknownPhase,
    /// A step has a `kind` that dr-drill does not know.
    UnknownKind,
    /// A `{{ ... }}` template that cannot be resolved.
    Template,
    /// Fields that contradict each other.
    Conflict,
    /// A wait step with no timeout may wait forever.
    WaitWithoutTimeout,
    /// A destructive step whose confirmation text cannot be derived.
    NoConfirmText,
    /// A phase that no step belongs to.
    EmptyPhase,
    /// An RTO target with no step that ends the RTO clock.
    NoRtoEnd,
    /// A secret parameter with a default value written in the file.
    SecretDefault,
}

impl Code {
    /// Every code.
    pub const ALL: &'static [Code] = &[
        Code::Syntax,
        Code::Io,
        Code::UnknownField,
        Code::MissingField,
        Code::WrongType,
        Code::InvalidValue,
        Code::BadDuration,
        Code::DuplicateId,
        Code::UnknownStep,
        Code::Cycle,
        Code::UnknownPhase,
        Code::UnknownKind,
        Code::Template,
        Code::Conflict,
        Code::WaitWithoutTimeout,
        Code::NoConfirmText,
        Code::EmptyPhase,
        Code::NoRtoEnd,
        Code::SecretDefault,
    ];

    /// The code called `name`, if there is one.
    pub fn named(name: &str) -> Option<Code> {
        Self::ALL.iter().copied().find(|c| c.as_str() == name)
    }

    /// The kebab-case name used in JSON output and in the rendered header.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "syntax",
            Code::Io => "io",
            Code::UnknownField => "unknown-field",
            Code::MissingField => "missing-field",
            Code::WrongType => "wrong-type",
            Code::InvalidValue => "invalid-value",
            Code::BadDuration => "bad-duration",
            Code::DuplicateId => "duplicate-id",
            Code::UnknownStep => "unknown-step",
            Code::Cycle => "cycle",
            Code::UnknownPhase => "unknown-phase",
            Code::UnknownKind => "unknown-kind",
            Code::Template => "template",
            Code::Conflict => "conflict",
            Code::WaitWithoutTimeout => "wait-without-timeout",
            Code::NoConfirmText => "no-confirm-text",
            Code::EmptyPhase => "empty-phase",
            Code::NoRtoEnd => "no-rto-end",
            Code::SecretDefault => "secret-default",
        }
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Severity {
    /// `error` or `warning`, as in the rendered header and the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A second place in the file that explains the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Where.
    pub span: Span,
    /// What is there.
    pub message: String,
}

/// One finding about one runbook file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Machine-readable class.
    pub code: Code,
    /// One line saying what is wrong.
    pub message: String,
    /// The place the finding is about; `None` for whole-file findings.
    pub span: Option<Span>,
    /// Text shown under the caret.
    pub label: String,
    /// Other places that explain the finding.
    pub notes: Vec<Note>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, Some(span), message)
    }

    /// A warning at `span`.
    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, Some(span), message)
    }

    /// A finding about the file as a whole.
    pub fn whole_file(severity: Severity, code: Code, message: impl Into<String>) -> Self {
        Self::new(severity, code, None, message)
    }

    fn new(severity: Severity, code: Code, span: Option<Span>, message: impl Into<String>) -> Self {
        Self {
            severity,
            code,
            message: message.into(),
            span,
            label: String::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// Sets the text under the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Adds a secondary place.
    pub fn with_note(mut self, span: Span, message: impl Into<String>) -> Self {
        self.notes.push(Note {
            span,
            message: message.into(),
        });
        self
    }

    /// Says what to do.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether this finding stops the runbook from running.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// 1-based line and column (in characters) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A diagnostic located in its file, as written by `check --format json`.
#[derive(Debug, Serialize)]
pub struct LocatedDiagnostic<'a> {
    /// `error` or `warning`.
    pub severity: Severity,
    /// Kebab-case class, e.g. `unknown-step`.
    pub code: Code,
    /// The file as given on the command line.
    pub file: &'a str,
    /// 1-based line, absent for whole-file findings.
    pub line: Option<usize>,
    /// 1-based column in characters.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: &'a str,
    /// Text at the caret.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub label: &'a str,
    /// What to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'a str>,
    /// Other places that explain the finding (a first declaration, the
    /// edges of a cycle).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<LocatedNote<'a>>,
}

/// A secondary place of a located diagnostic.
#[derive(Debug, Serialize)]
pub struct LocatedNote<'a> {
    /// 1-based line.
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// What is there.
    pub message: &'a str,
}

impl Diagnostic {
    /// This diagnostic with its line and column in `text`.
    pub fn locate<'a>(&'a self, file: &'a str, text: &str) -> LocatedDiagnostic<'a> {
        let (line, column) = match self.span {
            Some(span) => {
                let (l, c) = line_col(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        LocatedDiagnostic {
            severity: self.severity,
            code: self.code,
            file,
            line,
            column,
            message: &self.message,
            label: &self.label,
            help: self.help.as_deref(),
            notes: self
                .notes
                .iter()
                .map(|n| {
                    let (line, column) = line_col(text, n.span.start);
                    LocatedNote {
                        line,
                        column,
                        message: &n.message,
                    }
                })
                .collect(),
        }
    }

    /// Renders the diagnostic the way a compiler does: header,
    /// `file:line:col`, the source line with a caret, and the help.
    pub fn render(&self, file: &str, text: &str, color: bool) -> String {
        let files = SimpleFile::new(file, text);
        let severity = match self.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
        };
        let mut labels = Vec::new();
        if let Some(span) = self.span {
            let range = clamp(span, text.len());
            labels.push(cs::Label::primary((), range).with_message(self.label.clone()));
        }
        for note in &self.notes {
            let range = clamp(note.span, text.len());
            labels.push(cs::Label::secondary((), range).with_message(note.message.clone()));
        }
        let mut notes = Vec::new();
        if self.span.is_none() {
            notes.push(format!("in {file}"));
        }
        if let Some(help) = &self.help {
            notes.push(format!("help: {help}"));
        }
        let diagnostic = cs::Diagnostic::new(severity)
            .with_code(self.code.as_str())
            .with_message(self.message.clone())
            .with_labels(labels)
            .with_notes(notes);
        let config = term::Config::default();
        let mut buffer = if color {
            termcolor::Buffer::ansi()
        } else {
            termcolor::Buffer::no_color()
        };
        let styles = term::Styles::default();
        let mut writer = term::StylesWriter::new(&mut buffer, &styles);
        if term::emit_to_write_style(&mut writer, &config, &files, &diagnostic).is_err() {
            // The spans come from the same text, so this cannot fail in
            // practice; fall back to a plain line rather than lose the finding.
            let _ = writeln!(
                buffer,
                "{}[{}]: {}",
                self.severity.as_str(),
                self.code,
                self.message
            );
        }
        String::from_utf8_lossy(buffer.as_slice()).into_owned()
    }
}

fn clamp(span: Span, len: usize) -> std::ops::Range<usize> {
    let start = span.start.min(len);
    let end = span.end.clamp(start, len);
    start..end
}

/// The closest of `candidates` to `word`, if one is close enough to be
/// what the author meant.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        // 'é' is two bytes but one column.
        assert_eq!(line_col(text, 9), (2, 3));
        assert_eq!(line_col(text, 1000), (3, 1));
    }

    #[test]
    fn did_you_mean_finds_close_names_only() {
        assert_eq!(did_you_mean("phse", ["phase", "needs"]), Some("phase"));
        assert_eq!(did_you_mean("xyz", ["phase", "needs"]), None);
    }
}
