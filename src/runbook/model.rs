//! The typed runbook, format version 1, exactly as it is written in TOML.
//!
//! Each type is read from TOML by a `toml_spanner::FromToml` impl (so every
//! value keeps its byte span for error messages) and describes itself to
//! `schemars`, which generates `assets/runbook.schema.json`. The small
//! `fields!` macro writes both from one field list, so the reader and the
//! schema cannot drift apart.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use toml_spanner::{Context, Error, Failed, FromToml, Item, TableHelper, Value};

use super::diagnostic::Code;
pub use super::field::{Dur, Scalar, Span, Spanned, Text, TextMap};
use super::field::{custom, fields, invalid, reject_unknown, string_enum};
use super::kinds::{Effect, StepAction};

/// The format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

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
    /// What the value is: `text` (the default), `time` (RFC 3339, UTC
    /// when no offset is written, or `latest`) or `number` (a whole
    /// number). The start form and `run` check it before anything runs.
    #[serde(default, rename = "type")]
    pub kind: ParamType,
}

string_enum! {
    /// What a parameter's value is, checked before the run starts.
    #[derive(Default)]
    pub enum ParamType {
        /// Any text.
        #[default]
        Text = "text",
        /// An RFC 3339 time (UTC when no offset is written), or `latest`.
        Time = "time",
        /// A whole number, e.g. a port or a count.
        Number = "number",
        /// A shell command the operator supplies, run as code, e.g. by
        /// `run = "sh -c {{ params.NAME }}"`: the only values `check` lets
        /// stand where the shell parses a value a second time.
        Command = "command",
    }
}

/// An RFC 3339 time as written in a runbook, a parameter or a flag; a
/// time without an offset is UTC. The one parser for times given as text.
pub fn parse_time(text: &str) -> Result<jiff::Timestamp, String> {
    let text = text.trim();
    text.parse::<jiff::Timestamp>()
        .or_else(|_| {
            text.parse::<jiff::civil::DateTime>()
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
                .map(|z| z.timestamp())
        })
        .map_err(|e| {
            format!("`{text}` is not an RFC 3339 time ({e}); write e.g. 2026-11-22T03:00:00Z")
        })
}

impl Param {
    /// The TOML field names, for unknown-field hints.
    pub const FIELDS: &'static [&'static str] = &[
        "default",
        "required",
        "description",
        "secret",
        "choices",
        "type",
    ];

    fn read(name: Spanned<String>, th: &mut TableHelper<'_, '_, '_>) -> Self {
        Self {
            name,
            default: th.optional("default"),
            required: th.optional("required").unwrap_or_default(),
            description: th.optional("description"),
            secret: th.optional("secret").unwrap_or_default(),
            choices: th.optional("choices").unwrap_or_default(),
            kind: th.optional("type").unwrap_or_default(),
        }
    }

    /// What is wrong with `value` for this parameter, if anything: a
    /// missing required value, a value outside `choices`, or one that is
    /// not of its `type`. The one check the start form and `run` share.
    ///
    /// A secret's value is never in the message: it says what is wrong
    /// without repeating what was typed.
    pub fn problem(&self, value: &str) -> Option<String> {
        let name = &self.name.value;
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return self.required.then(|| format!("`{name}` is required"));
        }
        let not = |v: &str| {
            if self.secret {
                " (the value given is secret, so it is not shown)".to_owned()
            } else {
                format!(", not `{v}`")
            }
        };
        if !self.choices.is_empty() && !self.choices.iter().any(|c| c.value == value) {
            let choices: Vec<&str> = self.choices.iter().map(|c| c.value.as_str()).collect();
            return Some(format!(
                "`{name}` must be one of {}{}",
                choices.join(", "),
                not(value)
            ));
        }
        match self.kind {
            ParamType::Text | ParamType::Command => None,
            ParamType::Time if trimmed == "latest" => None,
            ParamType::Time if self.secret => parse_time(trimmed).err().map(|_| {
                format!(
                    "`{name}` must be an RFC 3339 time (e.g. 2026-11-22T03:00:00Z) or `latest`{}",
                    not(trimmed)
                )
            }),
            ParamType::Time => parse_time(trimmed)
                .err()
                .map(|e| format!("`{name}`: {e}, or `latest`")),
            ParamType::Number => trimmed
                .parse::<u64>()
                .is_err()
                .then(|| format!("`{name}` must be a whole number{}", not(trimmed))),
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
    /// The role that owns the step (`dba`): the console shows it, and a
    /// `manual` or `approve` step with an owner is answered by a person
    /// holding that role (`--role dba=alice@example.com`).
    pub owner: Option<Spanned<String>>,
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
    pub action: StepAction,
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
        self.destructive || self.action.effect() == Effect::Destructive
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
    "owner",
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
        let owner = th.optional("owner");
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
            .and_then(|kind| StepAction::read(kind, &mut th));
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
        if let Some(kind_fields) = kind.as_ref().and_then(|k| StepAction::fields_of(&k.value)) {
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
            owner,
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
