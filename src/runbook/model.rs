//! The typed runbook, format version 1, exactly as it is written in TOML.
//!
//! Each type is read from TOML by a `toml_spanner::FromToml` impl (so every
//! value keeps its byte span for error messages) and describes itself to
//! `schemars`, which generates `assets/runbook.schema.json`. The small
//! `fields!` macro writes both from one field list, so the reader and the
//! schema cannot drift apart.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Deref;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use toml_spanner::{Context, Error, Failed, FromToml, Item, TableHelper, Value};

use super::diagnostic::{Code, did_you_mean};

/// A byte range in the runbook's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The bytes `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }
}

impl From<toml_spanner::Span> for Span {
    fn from(s: toml_spanner::Span) -> Self {
        Self::new(s.start as usize, s.end as usize)
    }
}

impl From<Span> for toml_spanner::Span {
    fn from(s: Span) -> Self {
        // toml-spanner refuses documents over 256 MiB, so offsets fit.
        Self::new(s.start as u32, s.end as u32)
    }
}

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

impl<'de, T: FromToml<'de>> FromToml<'de> for Spanned<T> {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        Ok(Self {
            value: T::from_toml(ctx, item)?,
            span: item.span().into(),
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

/// A diagnostic's code, message and help, carried through toml-spanner's
/// string-only custom errors as JSON, so no user text can garble them.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct CustomError {
    pub code: String,
    pub message: String,
    pub help: String,
}

/// Builds a custom toml-spanner error that carries a diagnostic code and a
/// help text; [`super::diagnose_toml`] unpacks it.
pub(crate) fn custom(
    code: Code,
    span: Span,
    message: impl Into<String>,
    help: impl Into<String>,
) -> Error {
    let carried = CustomError {
        code: code.as_str().to_owned(),
        message: message.into(),
        help: help.into(),
    };
    Error::custom(
        serde_json::to_string(&carried).unwrap_or(carried.message),
        span.into(),
    )
}

/// The error for a string that is not one of `accepted`.
pub(crate) fn not_one_of(value: &str, accepted: &[&str], span: Span) -> Error {
    let help = match did_you_mean(value, accepted.iter().copied()) {
        Some(close) => format!("did you mean `{close}`? Accepted: {}", accepted.join(", ")),
        None => format!("use one of: {}", accepted.join(", ")),
    };
    custom(
        Code::InvalidValue,
        span,
        format!("`{value}` is not accepted here"),
        help,
    )
}

/// Reports the keys of a table that no field took, with a "did you mean"
/// drawn from `fields`. Call it with the rest of a [`TableHelper`].
pub(crate) fn reject_unknown<'t, 'de: 't>(
    ctx: &mut Context<'de>,
    rest: impl Iterator<Item = &'t (toml_spanner::Key<'de>, Item<'de>)>,
    fields: &[&str],
) -> Result<(), Failed> {
    let mut failed = false;
    for (key, _) in rest {
        failed = true;
        let help = match did_you_mean(key.name, fields.iter().copied()) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("the fields here are: {}", fields.join(", ")),
        };
        ctx.push_error(custom(
            Code::UnknownField,
            key.span.into(),
            format!("unknown field `{}`", key.name),
            help,
        ));
    }
    if failed { Err(Failed) } else { Ok(()) }
}

/// A duration written as a string: `"90s"`, `"15m"`, `"2h"`, `"1h 30m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl Dur {
    /// Parses the friendly forms jiff accepts (`90s`, `15m`, `1h30m`,
    /// `2 hours`) and ISO 8601 (`PT2H`); the result must be positive.
    pub fn parse(text: &str) -> Result<Self, (String, String)> {
        let signed: jiff::SignedDuration = text.trim().parse().map_err(|_: jiff::Error| {
            let lower = text.to_ascii_lowercase();
            let help = if lower.contains('d') || lower.contains('w') {
                "days and weeks are not accepted (their length varies): write \"24h\" or \"168h\""
                    .to_string()
            } else if lower.trim_end().ends_with(|c: char| c.is_ascii_digit()) {
                format!("every number needs a unit, e.g. \"{}m\"", text.trim())
            } else {
                DURATION_HELP.to_string()
            };
            (format!("`{text}` is not a duration"), help)
        })?;
        if signed.is_negative() || signed.is_zero() {
            return Err((
                format!("`{text}` is not a positive duration"),
                DURATION_HELP.into(),
            ));
        }
        signed
            .try_into()
            .map(Dur)
            .map_err(|_| (format!("`{text}` is out of range"), DURATION_HELP.into()))
    }
}

const DURATION_HELP: &str =
    "write a duration as a string with a unit: \"90s\", \"15m\", \"2h\", \"1h 30m\"";

impl<'de> FromToml<'de> for Dur {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let span = item.span().into();
        let error = match item.value() {
            Value::String(s) => match Dur::parse(s) {
                Ok(d) => return Ok(d),
                Err((msg, help)) => custom(Code::BadDuration, span, msg, help),
            },
            Value::Integer(n) => {
                let n = n.as_i128();
                custom(
                    Code::BadDuration,
                    span,
                    format!("a bare number ({n}) is not a duration: the unit is missing"),
                    format!("write \"{n}s\" for seconds or \"{n}m\" for minutes"),
                )
            }
            _ => custom(
                Code::BadDuration,
                span,
                format!("expected a duration string, found {}", item.type_str()),
                DURATION_HELP,
            ),
        };
        Err(ctx.push_error(error))
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

impl<'de> FromToml<'de> for Scalar {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let span: Span = item.span().into();
        let text = match item.value() {
            Value::String(s) => (*s).to_owned(),
            // Numbers, booleans and date-times are kept exactly as written
            // (`1.50` stays `1.50`, `0x10` stays `0x10`): `equals` compares text.
            Value::Integer(_) | Value::Float(_) | Value::Boolean(_) | Value::DateTime(_) => ctx
                .source()
                .get(span.start..span.end)
                .unwrap_or_default()
                .to_owned(),
            Value::Array(_) | Value::Table(_) => {
                return Err(
                    ctx.report_expected_but_found(&"a string, number, boolean or date-time", item)
                );
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

impl<'de> FromToml<'de> for TextMap {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let table = item.require_table(ctx)?;
        let mut entries = Vec::with_capacity(table.len());
        let mut failed = false;
        for (key, value) in table {
            match Text::from_toml(ctx, value) {
                Ok(text) => entries.push((
                    Spanned {
                        value: key.name.to_owned(),
                        span: key.span.into(),
                    },
                    text,
                )),
                Err(Failed) => failed = true,
            }
        }
        if failed {
            Err(Failed)
        } else {
            Ok(TextMap(entries))
        }
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
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, JsonSchema, serde::Serialize, serde::Deserialize)]
        pub enum $name { $( $(#[$vm])* #[serde(rename = $text)] $variant ),+ }

        impl $name {
            /// Every value, as written in TOML.
            pub const ALL: &'static [&'static str] = &[$($text),+];

            /// The value as written in TOML.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text ),+ }
            }
        }

        impl<'de> FromToml<'de> for $name {
            fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
                match item.require_string(ctx)? {
                    $( $text => Ok($name::$variant), )+
                    other => Err(ctx.push_error(not_one_of(other, Self::ALL, item.span().into()))),
                }
            }
        }
    };
}

/// Declares a struct read from a TOML table: the struct, a reader that takes
/// its fields from a shared [`TableHelper`] (so a step's common fields and
/// its kind's fields come from one table), and its own `FromToml`.
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
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// Reads the fields from `th`; errors go to its context.
            pub(crate) fn read(th: &mut ::toml_spanner::TableHelper<'_, '_, '_>) -> Option<Self> {
                $( let $field = fields!(@read th, $how, $field); )*
                Some(Self { $( $field: fields!(@done $how, $field) ),* })
            }
        }

        impl<'de> ::toml_spanner::FromToml<'de> for $name {
            fn from_toml(
                ctx: &mut ::toml_spanner::Context<'de>,
                item: &::toml_spanner::Item<'de>,
            ) -> Result<Self, ::toml_spanner::Failed> {
                let table = item.require_table(ctx)?;
                let mut th = ::toml_spanner::TableHelper::new(ctx, table);
                let read = Self::read(&mut th);
                let rest = th.into_remaining();
                $crate::runbook::model::reject_unknown(ctx, rest, Self::FIELDS)?;
                read.ok_or(::toml_spanner::Failed)
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
    /// The cipher of an encrypted file.
    pub enum Cipher {
        /// AES-256 in Galois/Counter Mode (authenticated).
        Aes256Gcm = "aes-256-gcm",
    }
}

string_enum! {
    /// Where an encrypted file keeps its IV and tag around the ciphertext.
    #[derive(Default)]
    pub enum CipherLayout {
        /// A 16-byte IV, the 16-byte tag, then the ciphertext.
        #[default]
        Iv16Tag16Ciphertext = "iv16-tag16-ciphertext",
        /// A 12-byte IV, the ciphertext, then the 16-byte tag.
        Iv12CiphertextTag16 = "iv12-ciphertext-tag16",
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
        title: Spanned<String> = req,
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
    /// Shown beside the field in the console's start form and in errors.
    pub description: Option<String>,
    /// Masked on screen and redacted from the journal and every report.
    #[serde(default)]
    pub secret: bool,
    /// The only values accepted.
    #[serde(default)]
    pub choices: Vec<Spanned<String>>,
}

impl Param {
    /// The TOML field names, for unknown-field hints.
    pub const FIELDS: &'static [&'static str] =
        &["default", "required", "description", "secret", "choices"];

    fn read(name: Spanned<String>, th: &mut TableHelper<'_, '_, '_>) -> Self {
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
    pub action: super::kinds::StepAction,
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

impl<'de> FromToml<'de> for Step {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let span: Span = item.span().into();
        let mut templated = Vec::new();
        collect_templates(item, &mut templated);
        let table = item.require_table(ctx)?;
        let mut th = TableHelper::new(ctx, table);
        let id = th.required::<Spanned<String>>("id");
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
        let kind = th.required::<Spanned<String>>("kind").ok();
        let errors_before_kind = th.ctx.errors.len();
        let action = kind
            .as_ref()
            .and_then(|kind| super::kinds::StepAction::read(kind, &mut th));
        if let Some(action) = &action {
            th.ctx.errors.extend(action.cross_field_errors(span));
        }
        let id_text = id.as_ref().ok().map(|i| i.value.clone());
        name_the_step(
            &mut th.ctx.errors[errors_before_kind..],
            span,
            id_text.as_deref(),
            kind.as_ref(),
        );
        // Without a known kind its own fields cannot be judged, so they are
        // not also reported as unknown.
        if let Some(kind_fields) = kind
            .as_ref()
            .and_then(|k| super::kinds::StepAction::fields_of(&k.value))
        {
            let fields: Vec<&str> = STEP_FIELDS.iter().chain(kind_fields).copied().collect();
            let rest = th.into_remaining();
            reject_unknown(ctx, rest, &fields)?;
        }
        let (Ok(id), Some(action)) = (id, action) else {
            return Err(Failed);
        };
        Ok(Step {
            id,
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
        let toml_spanner::ErrorKind::MissingField(field) = e.kind() else {
            continue;
        };
        if Span::from(e.span()) != span {
            continue;
        }
        let step = id.map_or_else(|| "this step".to_string(), |id| format!("step `{id}`"));
        let Some(kind) = kind else { continue };
        *e = custom(
            Code::MissingField,
            span,
            format!("{step} (kind `{}`) is missing `{field}`", kind.value),
            format!(
                "add `{field} = ...`; docs/runbook-format.md lists the fields of `{}`",
                kind.value
            ),
        );
    }
}

/// The names of a step's common fields, for "did you mean" hints.
pub fn step_fields() -> &'static [&'static str] {
    STEP_FIELDS
}

fn collect_templates(item: &Item<'_>, out: &mut Vec<Text>) {
    match item.value() {
        Value::String(s) if s.contains("{{") => out.push(Spanned {
            value: (*s).to_owned(),
            span: item.span().into(),
        }),
        Value::Array(items) => items.iter().for_each(|v| collect_templates(v, out)),
        Value::Table(table) => table.iter().for_each(|(_, v)| collect_templates(v, out)),
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

    /// Step ids to their index in `steps`.
    pub fn step_index(&self) -> std::collections::HashMap<&str, usize> {
        self.steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.value.as_str(), i))
            .collect()
    }
}

impl Runbook {
    /// The top-level keys.
    pub const FIELDS: &'static [&'static str] = &["runbook", "params", "phase", "step"];

    /// Reads a runbook from a parsed document; errors go to its context.
    pub(crate) fn read(doc: &mut toml_spanner::Document<'_>) -> Option<Runbook> {
        let (ctx, table) = doc.split();
        let mut th = TableHelper::new(ctx, table);
        let header = th.required::<Header>("runbook").ok();
        let params = th
            .optional_item("params")
            .map(|item| read_params(th.ctx, item))
            .unwrap_or_default();
        let phases = th.optional::<Vec<Phase>>("phase").unwrap_or_default();
        let steps = th.required::<Vec<Step>>("step").ok();
        if let Some(item) = th
            .optional_item("step")
            .filter(|_| steps.as_ref().is_some_and(Vec::is_empty))
        {
            th.ctx.push_error(invalid(
                item.span().into(),
                "a runbook needs at least one step",
                "add a [[step]] with an id and a kind",
            ));
        }
        // Templates are resolved in steps only; elsewhere they would be
        // shown to the operator as written.
        for key in ["runbook", "params", "phase"] {
            if let Some(item) = th.optional_item(key) {
                let mut found = Vec::new();
                collect_templates(item, &mut found);
                for text in found {
                    th.ctx.push_error(custom(
                        Code::Template,
                        text.span,
                        "templates are resolved in steps only",
                        "write the value itself here, or move the text into a step",
                    ));
                }
            }
        }
        let rest = th.into_remaining();
        let known = reject_unknown(ctx, rest, Self::FIELDS).is_ok();
        match (header, steps, known) {
            (Some(runbook), Some(steps), true) => Some(Runbook {
                runbook,
                params,
                phases,
                steps,
            }),
            _ => None,
        }
    }
}

fn read_params<'de>(ctx: &mut Context<'de>, item: &Item<'de>) -> Vec<Param> {
    let Ok(table) = item.require_table(ctx) else {
        return Vec::new();
    };
    let mut params = Vec::with_capacity(table.len());
    for (key, value) in table {
        let name = Spanned {
            value: key.name.to_owned(),
            span: key.span.into(),
        };
        let Some(param_table) = value.as_table() else {
            ctx.push_error(invalid(
                value.span().into(),
                format!("parameter `{}` must be a table", name.value),
                format!(
                    "write `{0} = {{ default = \"...\" }}` or `{0} = {{ required = true }}`",
                    name.value
                ),
            ));
            continue;
        };
        let mut th = TableHelper::new(ctx, param_table);
        let errors_before = th.ctx.errors.len();
        let param = Param::read(name, &mut th);
        let rest = th.into_remaining();
        if reject_unknown(ctx, rest, Param::FIELDS).is_ok() && ctx.errors.len() == errors_before {
            params.push(param);
        }
    }
    params
}
