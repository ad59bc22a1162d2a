//! The typed runbook, format version 1, exactly as it is written in TOML.
//!
//! Each type is read from TOML by a `toml_span::Deserialize` impl (so every
//! value keeps its byte span for error messages) and describes itself to
//! `schemars`, which generates `assets/runbook.schema.json`. The small
//! `fields!` macro writes both from one field list, so the reader and the
//! schema cannot drift apart.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Deref;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use toml_span::de_helpers::TableHelper;
use toml_span::value::{Value, ValueInner};
use toml_span::{DeserError, Deserialize, Error, ErrorKind};

use super::diagnostic::Code;

pub use toml_span::Span;

/// The format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// A value with the byte span it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written in the file.
    pub span: Span,
}

impl<T> Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let s = toml_span::Spanned::<T>::deserialize(value)?;
        Ok(Self {
            value: s.value,
            span: s.span,
        })
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
    fn inline_schema() -> bool {
        T::inline_schema()
    }
}

/// A string that may contain `{{ params.NAME }}`, `{{ steps.ID.OUTPUT }}` or
/// `{{ run.VAR }}` templates, resolved when the step starts.
pub type Text = Spanned<String>;

/// Builds an `invalid-value` error with a help text.
pub(crate) fn invalid(span: Span, message: impl Into<String>, help: impl Into<String>) -> Error {
    custom(Code::InvalidValue, span, message, help)
}

/// Builds a custom toml-span error that carries a diagnostic code and a help
/// text, separated by unit separators; [`super::diagnose_toml`] splits them.
pub(crate) fn custom(
    code: Code,
    span: Span,
    message: impl Into<String>,
    help: impl Into<String>,
) -> Error {
    let text = format!(
        "{}\u{1f}{}\u{1f}{}",
        code.as_str(),
        message.into(),
        help.into()
    );
    Error::from((ErrorKind::Custom(Cow::Owned(text)), span))
}

/// A duration written as a string: `"90s"`, `"15m"`, `"2h"`, `"1h 30m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl Dur {
    /// Parses the friendly forms jiff accepts (`90s`, `15m`, `1h30m`,
    /// `2 hours`) and ISO 8601 (`PT2H`); the result must be positive.
    pub fn parse(text: &str) -> Result<Self, String> {
        let signed: jiff::SignedDuration = text
            .trim()
            .parse()
            .map_err(|_: jiff::Error| format!("`{text}` is not a duration"))?;
        if signed.is_negative() || signed.is_zero() {
            return Err(format!("`{text}` is not a positive duration"));
        }
        signed
            .try_into()
            .map(Dur)
            .map_err(|_| format!("`{text}` is out of range"))
    }
}

const DURATION_HELP: &str =
    "write a duration as a string with a unit: \"90s\", \"15m\", \"2h\", \"1h 30m\"";

impl<'de> Deserialize<'de> for Dur {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let span = value.span;
        match value.take() {
            ValueInner::String(s) => Dur::parse(&s)
                .map_err(|msg| custom(Code::BadDuration, span, msg, DURATION_HELP).into()),
            ValueInner::Integer(n) => Err(custom(
                Code::BadDuration,
                span,
                format!("a bare number ({n}) is not a duration: the unit is missing"),
                format!("write \"{n}s\" for seconds or \"{n}m\" for minutes"),
            )
            .into()),
            other => Err(custom(
                Code::BadDuration,
                span,
                format!("expected a duration string, found {}", other.type_str()),
                DURATION_HELP,
            )
            .into()),
        }
    }
}

impl JsonSchema for Dur {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration with units, e.g. \"90s\", \"15m\", \"2h\", \"1h 30m\" (or ISO 8601, \"PT2H\").",
            "pattern": "^\\s*(P|[0-9])",
            "examples": ["90s", "15m", "2h", "1h 30m"]
        })
    }
}

/// A scalar written as a string, integer, float or boolean, kept as text
/// (parameter defaults, assertion operands). Strings may hold templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar(pub Text);

impl Deref for Scalar {
    type Target = Text;
    fn deref(&self) -> &Text {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let span = value.span;
        let text = match value.take() {
            ValueInner::String(s) => s.into_owned(),
            ValueInner::Integer(n) => n.to_string(),
            ValueInner::Float(f) => f.to_string(),
            ValueInner::Boolean(b) => b.to_string(),
            other => {
                return Err(toml_span::de_helpers::expected(
                    "a string, number or boolean",
                    other,
                    span,
                )
                .into());
            }
        };
        Ok(Scalar(Spanned { value: text, span }))
    }
}

impl JsonSchema for Scalar {
    fn schema_name() -> Cow<'static, str> {
        "Scalar".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "integer", "number", "boolean"] })
    }
}

/// A table of names to template strings (environment variables, restore
/// metadata), in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextMap(pub Vec<(Spanned<String>, Text)>);

impl<'de> Deserialize<'de> for TextMap {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let span = value.span;
        let table = match value.take() {
            ValueInner::Table(t) => t,
            other => return Err(toml_span::de_helpers::expected("a table", other, span).into()),
        };
        let mut entries = Vec::with_capacity(table.len());
        let mut errors = Vec::new();
        for (key, mut v) in table {
            match Text::deserialize(&mut v) {
                Ok(text) => entries.push((
                    Spanned {
                        value: key.name.into_owned(),
                        span: key.span,
                    },
                    text,
                )),
                Err(e) => errors.extend(e.errors),
            }
        }
        if !errors.is_empty() {
            return Err(DeserError { errors });
        }
        entries.sort_by_key(|(k, _)| k.span.start);
        Ok(TextMap(entries))
    }
}

impl JsonSchema for TextMap {
    fn schema_name() -> Cow<'static, str> {
        "TextMap".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "object", "additionalProperties": { "type": "string" } })
    }
}

/// Declares a string enum: the Rust enum, its TOML reader with the list of
/// accepted values in the error, and its schema (through serde's renames).
macro_rules! string_enum {
    ($(#[$m:meta])* pub enum $name:ident { $( $(#[$vm:meta])* $variant:ident = $text:literal ),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, JsonSchema, serde::Serialize)]
        pub enum $name { $( $(#[$vm])* #[serde(rename = $text)] $variant ),+ }

        impl $name {
            /// Every value, as written in TOML.
            pub const ALL: &'static [&'static str] = &[$($text),+];

            /// The value as written in TOML.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text ),+ }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
                let span = value.span;
                let s = value.take_string(None)?;
                match s.as_ref() {
                    $( $text => Ok($name::$variant), )+
                    other => Err(Error::from((
                        ErrorKind::UnexpectedValue { expected: Self::ALL, value: Some(other.to_owned()) },
                        span,
                    )).into()),
                }
            }
        }
    };
}

/// Declares a struct read from a TOML table: the struct, a reader that takes
/// its fields from a shared [`TableHelper`] (so a step's common fields and
/// its kind's fields come from one table), and its own `Deserialize`.
///
/// Each field is `req` (required), `opt` (an `Option`) or `def` (defaulted;
/// mark it `#[serde(default)]` so the schema knows).
macro_rules! fields {
    ($(#[$m:meta])* pub struct $name:ident { $( $(#[$fm:meta])* $field:ident : $ty:ty = $how:ident ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, ::schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name { $( $(#[$fm])* pub $field: $ty ),* }

        impl $name {
            /// The TOML field names, in declaration order.
            #[allow(dead_code)]
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// Reads the fields from `th`; errors are left in `th.errors`.
            #[allow(unused_variables)]
            pub(crate) fn read(th: &mut ::toml_span::de_helpers::TableHelper<'_>) -> Option<Self> {
                $( let $field = fields!(@read th, $how, $field); )*
                Some(Self { $( $field: fields!(@done $how, $field) ),* })
            }
        }

        impl<'de> ::toml_span::Deserialize<'de> for $name {
            fn deserialize(value: &mut ::toml_span::value::Value<'de>) -> Result<Self, ::toml_span::DeserError> {
                let mut th = ::toml_span::de_helpers::TableHelper::new(value)?;
                let read = Self::read(&mut th);
                th.finalize(None)?;
                read.ok_or_else(|| ::toml_span::DeserError { errors: Vec::new() })
            }
        }
    };
    (@read $th:ident, req, $field:ident) => { $th.required(stringify!($field)).ok() };
    (@read $th:ident, opt, $field:ident) => { $th.optional(stringify!($field)) };
    (@read $th:ident, def, $field:ident) => { $th.optional(stringify!($field)).unwrap_or_default() };
    (@done req, $field:ident) => { $field? };
    (@done opt, $field:ident) => { $field };
    (@done def, $field:ident) => { $field };
}

pub(crate) use fields;

string_enum! {
    /// What happens when a step fails after its retries.
    #[derive(Default)]
    pub enum OnFailure {
        /// Start nothing new; running steps finish or are cancelled.
        #[default]
        Abort = "abort",
        /// Carry on with every step that does not depend on this one.
        Continue = "continue",
        /// Ask the operator: retry, skip or abort, with a note.
        Ask = "ask",
    }
}

string_enum! {
    /// Why a run happens: a planned drill or a real incident.
    pub enum Mode {
        /// A planned exercise; T0 is the moment the drill starts.
        Drill = "drill",
        /// A real restore; T0 is the declared outage start.
        Incident = "incident",
    }
}

string_enum! {
    /// How a pick step chooses a recovery point.
    #[derive(Default)]
    pub enum PickPolicy {
        /// The operator chooses (headless: from `--answer STEP=ARN`).
        #[default]
        Ask = "ask",
        /// The newest completed point that satisfies `before` and `max_age`.
        Latest = "latest",
    }
}

string_enum! {
    /// Retrieval tier of an S3 Glacier restore.
    #[derive(Default)]
    pub enum RestoreTier {
        /// Hours (3-5 for Flexible Retrieval, 12 for Deep Archive).
        #[default]
        Standard = "Standard",
        /// Cheapest; up to 48 hours from Deep Archive.
        Bulk = "Bulk",
        /// Minutes; not available for Deep Archive.
        Expedited = "Expedited",
    }
}

fields! {
    /// `[runbook]`: what this runbook is and the targets it is measured against.
    pub struct Header {
        /// Format version of this file; this build reads version 1.
        format: Option<Spanned<u32>> = opt,
        /// Stable identifier: lowercase letters, digits, `-` and `_`. Reports
        /// of the same id are compared with each other.
        id: Spanned<String> = req,
        /// One line for humans.
        title: String = req,
        /// The scenario and the plan this runbook comes from (Markdown).
        description: Option<String> = opt,
        /// Team or person who maintains the runbook.
        owner: Option<String> = opt,
        /// Free-form labels, e.g. `["dynamodb", "quarterly"]`.
        #[serde(default)]
        tags: Vec<String> = def,
        /// Recovery time objective: T0 to the success of the `ends_rto` step.
        rto: Option<Spanned<Dur>> = opt,
        /// Recovery point objective: the most data loss accepted, T0 minus
        /// the time of the chosen recovery point.
        rpo: Option<Spanned<Dur>> = opt,
    }
}

/// One entry of `[params]`: a value the operator gives when the run starts.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// The key under `[params]`.
    #[serde(skip)]
    pub name: Spanned<String>,
    /// Used when the operator gives no value.
    pub default: Option<Scalar>,
    /// The run cannot start without a value.
    #[serde(default)]
    pub required: bool,
    /// Shown beside the field in the start form.
    pub description: Option<String>,
    /// Masked on screen and redacted from the journal and every report.
    #[serde(default)]
    pub secret: bool,
    /// The only values accepted.
    #[serde(default)]
    pub choices: Vec<Spanned<String>>,
}

impl Param {
    fn read(name: Spanned<String>, th: &mut TableHelper<'_>) -> Self {
        Self {
            name,
            default: th.optional("default"),
            required: th.optional("required").unwrap_or_default(),
            description: th.optional("description"),
            secret: th.optional("secret").unwrap_or_default(),
            choices: th.optional("choices").unwrap_or_default(),
        }
    }
}

fields! {
    /// `[[phase]]`: a group of steps timed together.
    pub struct Phase {
        /// Identifier that steps name in `phase`.
        id: Spanned<String> = req,
        /// Shown in the console and the report.
        title: Option<String> = opt,
        /// What the phase achieves.
        description: Option<String> = opt,
        /// Time budget for the phase; the report flags a phase over budget.
        budget: Option<Spanned<Dur>> = opt,
    }
}

fields! {
    /// `retry`: how often and how patiently a failing step is tried again.
    pub struct Retry {
        /// Total attempts, the first included (at least 1).
        attempts: Spanned<u32> = req,
        /// Wait before the second attempt; doubles after each failure.
        backoff: Option<Dur> = opt,
        /// Upper bound for the doubling wait.
        max_backoff: Option<Dur> = opt,
    }
}

impl Retry {
    /// Default wait before the second attempt.
    pub const DEFAULT_BACKOFF: Duration = Duration::from_secs(10);
}

/// `[[step]]`: one node of the step graph.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Identifier: lowercase letters, digits, `-` and `_`; named by `needs`
    /// and by `{{ steps.ID.OUTPUT }}`.
    pub id: Spanned<String>,
    /// One line for humans; defaults to the id.
    pub title: Option<String>,
    /// What the step does and why (Markdown).
    pub description: Option<String>,
    /// The `[[phase]]` this step is timed in.
    pub phase: Option<Spanned<String>>,
    /// Steps that must succeed before this one starts.
    #[serde(default)]
    pub needs: Vec<Spanned<String>>,
    /// Changes or destroys something that cannot be undone: the operator
    /// must type the confirm text. Kinds that always destroy are
    /// destructive whatever this says.
    #[serde(default)]
    pub destructive: bool,
    /// The text the operator must type to confirm a destructive step
    /// (templates allowed). Defaults to the resource the kind acts on.
    pub confirm: Option<Text>,
    /// Longest time one attempt may take.
    pub timeout: Option<Spanned<Dur>>,
    /// The success of this step stops the RTO clock (one step at most).
    #[serde(default)]
    pub ends_rto: bool,
    /// Try again on failure.
    pub retry: Option<Retry>,
    /// What to do when the step has failed (after its retries).
    #[serde(default)]
    pub on_failure: OnFailure,
    /// Run only in this mode; by default the step runs in both.
    pub only_in: Option<Spanned<Mode>>,
    /// A cleanup step runs after every other step has ended, whatever the
    /// outcome, if the steps it needs succeeded; it never counts toward RTO.
    #[serde(default)]
    pub cleanup: bool,
    /// What the step does.
    #[serde(flatten)]
    pub action: super::kinds::Action,
    /// The whole `[[step]]` table.
    #[serde(skip)]
    pub span: Span,
    /// Every string in the step that contains `{{`, for template checks.
    #[serde(skip)]
    pub templated: Vec<Text>,
}

impl Step {
    /// The title, or the id when there is none.
    pub fn display_title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.id.value)
    }

    /// Destructive by declaration or by its kind.
    pub fn is_destructive(&self) -> bool {
        self.destructive || self.action.effect() == super::kinds::Effect::Destructive
    }

    /// The text the operator must type: `confirm`, or what the kind acts on.
    pub fn confirm_text(&self) -> Option<&Text> {
        self.confirm
            .as_ref()
            .or_else(|| self.action.confirm_target())
    }

    /// Whether the step runs in `mode`.
    pub fn runs_in(&self, mode: Mode) -> bool {
        self.only_in.as_ref().is_none_or(|m| m.value == mode)
    }
}

const STEP_FIELDS: &[&str] = &[
    "id",
    "title",
    "description",
    "phase",
    "kind",
    "needs",
    "destructive",
    "confirm",
    "timeout",
    "ends_rto",
    "retry",
    "on_failure",
    "only_in",
    "cleanup",
];

impl<'de> Deserialize<'de> for Step {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let span = value.span;
        let mut templated = Vec::new();
        collect_templates(value, &mut templated);
        let mut th = TableHelper::new(value)?;
        let id = th.required_s::<String>("id");
        let title = th.optional("title");
        let description = th.optional("description");
        let phase = th.optional("phase");
        let needs = th.optional("needs").unwrap_or_default();
        let destructive = th.optional("destructive").unwrap_or_default();
        let confirm = th.optional("confirm");
        let timeout = th.optional("timeout");
        let ends_rto = th.optional("ends_rto").unwrap_or_default();
        let retry = th.optional("retry");
        let on_failure = th.optional("on_failure").unwrap_or_default();
        let only_in = th.optional("only_in");
        let cleanup = th.optional("cleanup").unwrap_or_default();
        let kind = th.required_s::<String>("kind").map(|k| Spanned {
            value: k.value,
            span: k.span,
        });
        let action = match &kind {
            Ok(kind) => super::kinds::Action::read(kind, &mut th),
            Err(_) => None,
        };
        if let Some(action) = &action {
            th.errors.extend(action.cross_field_errors(span));
        }
        name_the_step(
            &mut th.errors,
            span,
            id.as_ref().ok().map(|i| i.value.as_str()),
            kind.as_ref().ok(),
        );
        if action.is_none() && !th.errors.is_empty() {
            // The kind is missing or unknown: its own fields cannot be
            // judged, so do not also report each of them as unknown.
            let mut rest = Value::with_span(ValueInner::Table(Default::default()), span);
            th.finalize(Some(&mut rest))?;
        } else {
            th.finalize(None)?;
        }
        let (Ok(id), Some(action)) = (id, action) else {
            return Err(DeserError { errors: Vec::new() });
        };
        Ok(Step {
            id: Spanned {
                value: id.value,
                span: id.span,
            },
            title,
            description,
            phase,
            needs,
            destructive,
            confirm,
            timeout,
            ends_rto,
            retry,
            on_failure,
            only_in,
            cleanup,
            action,
            span,
            templated,
        })
    }
}

/// Rewrites "missing field" errors about the step table itself so that they
/// say which step and kind they are about.
fn name_the_step(
    errors: &mut [Error],
    span: Span,
    id: Option<&str>,
    kind: Option<&Spanned<String>>,
) {
    for e in errors.iter_mut() {
        let ErrorKind::MissingField(field) = e.kind else {
            continue;
        };
        if e.span != span {
            continue;
        }
        let step = id.map_or_else(|| "this step".to_string(), |id| format!("step `{id}`"));
        let (message, help) = match (field, kind) {
            ("id" | "kind", _) => continue,
            (field, Some(kind)) => (
                format!("{step} (kind `{}`) is missing `{field}`", kind.value),
                format!(
                    "add `{field} = ...`; docs/runbook-format.md lists the fields of `{}`",
                    kind.value
                ),
            ),
            (field, None) => (
                format!("{step} is missing `{field}`"),
                format!("add `{field} = ...`"),
            ),
        };
        *e = custom(Code::MissingField, span, message, help);
    }
}

/// The names of a step's common fields, for "did you mean" hints.
pub fn step_fields() -> &'static [&'static str] {
    STEP_FIELDS
}

fn collect_templates(value: &Value<'_>, out: &mut Vec<Text>) {
    match value.as_ref() {
        ValueInner::String(s) if s.contains("{{") => out.push(Spanned {
            value: s.to_string(),
            span: value.span,
        }),
        ValueInner::Array(items) => items.iter().for_each(|v| collect_templates(v, out)),
        ValueInner::Table(table) => table.values().for_each(|v| collect_templates(v, out)),
        _ => {}
    }
}

/// A whole runbook file.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "dr-drill runbook",
    description = "A disaster-recovery runbook for dr-drill, format version 1. See docs/runbook-format.md."
)]
pub struct Runbook {
    /// What this runbook is and the targets it is measured against.
    pub runbook: Header,
    /// Values the operator gives when the run starts, by name.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Param>")]
    pub params: Vec<Param>,
    /// Groups of steps timed together, in order.
    #[serde(default, rename = "phase")]
    pub phases: Vec<Phase>,
    /// The step graph.
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

impl Runbook {
    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name.value == name)
    }

    /// The step called `id`.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id.value == id)
    }
}

impl<'de> Deserialize<'de> for Runbook {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut th = TableHelper::new(value)?;
        let header = th.required::<Header>("runbook").ok();
        let params = match th.take("params") {
            Some((_, mut v)) => read_params(&mut v, &mut th.errors),
            None => Vec::new(),
        };
        let phases = th.optional::<Vec<Phase>>("phase").unwrap_or_default();
        let steps = th.required::<Vec<Step>>("step").ok();
        th.finalize(None)?;
        match (header, steps) {
            (Some(runbook), Some(steps)) => Ok(Runbook {
                runbook,
                params,
                phases,
                steps,
            }),
            _ => Err(DeserError { errors: Vec::new() }),
        }
    }
}

fn read_params(value: &mut Value<'_>, errors: &mut Vec<Error>) -> Vec<Param> {
    let span = value.span;
    let table = match value.take() {
        ValueInner::Table(t) => t,
        other => {
            errors.push(toml_span::de_helpers::expected(
                "a table of parameters",
                other,
                span,
            ));
            return Vec::new();
        }
    };
    let mut params = Vec::with_capacity(table.len());
    for (key, mut v) in table {
        let name = Spanned {
            value: key.name.into_owned(),
            span: key.span,
        };
        let mut th = match TableHelper::new(&mut v) {
            Ok(th) => th,
            Err(e) => {
                errors.push(invalid(
                    e.errors.first().map_or(v.span, |e| e.span),
                    format!("parameter `{}` must be a table", name.value),
                    format!(
                        "write `{} = {{ default = \"...\" }}` or `{} = {{ required = true }}`",
                        name.value, name.value
                    ),
                ));
                continue;
            }
        };
        let param = Param::read(name, &mut th);
        match th.finalize(None) {
            Ok(()) => params.push(param),
            Err(e) => errors.extend(e.errors),
        }
    }
    params.sort_by_key(|p| p.name.span.start);
    params
}
