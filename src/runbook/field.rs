//! The building blocks of the runbook format's fields: byte spans, values
//! that keep them ([`Spanned`], [`Text`], [`Scalar`], [`TextMap`]),
//! durations ([`Dur`]), the diagnostic-carrying errors, and the `fields!`
//! and `string_enum!` macros that write a type's TOML reader and its JSON
//! Schema from one list.
//!
//! Used by `model` (the runbook, its steps) and `kinds` (each kind's
//! fields); imports neither, so they need not import each other.

use std::borrow::Cow;
use std::ops::Deref;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use toml_spanner::{Context, Error, Failed, FromToml, Item, Value};

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
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::schemars::JsonSchema, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name { $( $(#[$vm])* #[serde(rename = $text)] $variant ),+ }

        impl $name {
            /// Every value, as written in TOML.
            pub const ALL: &'static [&'static str] = &[$($text),+];

            /// The value as written in TOML.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text ),+ }
            }
        }

        impl<'de> ::toml_spanner::FromToml<'de> for $name {
            fn from_toml(
                ctx: &mut ::toml_spanner::Context<'de>,
                item: &::toml_spanner::Item<'de>,
            ) -> Result<Self, ::toml_spanner::Failed> {
                match item.require_string(ctx)? {
                    $( $text => Ok($name::$variant), )+
                    other => Err(ctx.push_error($crate::runbook::field::not_one_of(
                        other,
                        Self::ALL,
                        item.span().into(),
                    ))),
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
                $crate::runbook::field::reject_unknown(ctx, rest, Self::FIELDS)?;
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

pub(crate) use string_enum;
