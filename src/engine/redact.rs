//! Keeping secret values out of events: the one redactor every event goes
//! through before the journal or any front end sees it.
//!
//! How it holds, whatever the secret:
//! - Redaction works on the event's values, never on its serialized text:
//!   each string value (unescaped) has every occurrence of a secret, and of
//!   each line of a multi-line secret, replaced by [`REDACTED`]. Keys and
//!   JSON syntax are never edited, so no secret (`"`, `\`, `{`, `:`, a field
//!   name) can break the line's shape.
//! - The redacted value must still be the same kind of event; if it is not
//!   (a secret equal to an outcome word, say), the event fails redaction.
//! - The serialized line is then checked as a whole: no string value may
//!   still hold a secret, and a secret (or its JSON-escaped form) may occur
//!   in the line no more often than in the line's skeleton (every string
//!   value emptied), which catches a secret spanning two fields or showing
//!   through an escape.
//! - An event that fails redaction is never written: a placeholder of the
//!   same kind is, with its ids, enums and times kept and every free text
//!   replaced by [`WITHHELD`]. If even that fails (the secret is a step id
//!   or a word of the event's own schema), a fixed placeholder is written;
//!   if the secret is part of that too, nothing is.

use serde_json::Value;

use super::event::EventKind;
use super::journal::REDACTED;

/// What stands in for the free text of an event that failed redaction.
pub const WITHHELD: &str = "[withheld]";

/// Lines of a multi-line secret shorter than this are not redacted on
/// their own (a `}` or `--` line would erase every brace or dash); the
/// whole secret is redacted whatever its length.
pub const MIN_LINE: usize = 4;

/// Patterns shorter than this are not counted in the serialized line:
/// one or two characters occur in any JSON text. They are still redacted
/// from every value.
const MIN_WHOLE: usize = 3;

/// The secrets of a run, as patterns to redact.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a whole secret goes before its lines.
    patterns: Vec<String>,
}

/// What the redactor made of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Redacted {
    /// The event, its secrets replaced; safe to write.
    Clean(EventKind),
    /// The event failed redaction; this placeholder stands in for it.
    Withheld(EventKind),
    /// Neither the event nor any placeholder can be written.
    Dropped,
}

impl Redactor {
    /// A redactor for `secrets` (empty ones are ignored).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut r = Self::default();
        r.add(secrets);
        r
    }

    /// Adds `secrets` (e.g. credentials learnt once the cloud is known).
    pub fn add(&mut self, secrets: impl IntoIterator<Item = String>) {
        for secret in secrets {
            if secret.is_empty() {
                continue;
            }
            let lines: Vec<String> = secret
                .lines()
                .flat_map(|l| [l.to_owned(), l.trim().to_owned()])
                .filter(|l| l.trim().chars().count() >= MIN_LINE && *l != secret)
                .collect();
            self.patterns.push(secret);
            self.patterns.extend(lines);
        }
        self.patterns
            .sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        self.patterns.dedup();
    }

    /// Whether there is anything to redact.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `kind` with every secret replaced, or a placeholder if that cannot
    /// be done safely.
    pub fn redact(&self, kind: EventKind) -> Redacted {
        if self.patterns.is_empty() {
            return Redacted::Clean(kind);
        }
        if let Some(clean) = self.try_redact(&kind) {
            return Redacted::Clean(clean);
        }
        if let Some(placeholder) = self.placeholder(&kind)
            && self.is_clean(&placeholder)
        {
            return Redacted::Withheld(placeholder);
        }
        let fixed = EventKind::StepProgress {
            step: "-".into(),
            message: WITHHELD.into(),
        };
        if self.is_clean(&fixed) {
            Redacted::Withheld(fixed)
        } else {
            Redacted::Dropped
        }
    }

    fn try_redact(&self, kind: &EventKind) -> Option<EventKind> {
        let mut value = serde_json::to_value(kind).ok()?;
        self.redact_value(&mut value);
        let redacted: EventKind = serde_json::from_value(value).ok()?;
        self.is_clean(&redacted).then_some(redacted)
    }

    fn redact_value(&self, value: &mut Value) {
        match value {
            Value::String(s) if !s.is_empty() => {
                for p in &self.patterns {
                    if s.contains(p.as_str()) {
                        *s = s.replace(p.as_str(), REDACTED);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(map) => map
                .iter_mut()
                .filter(|(k, _)| !SCHEMA.contains(&k.as_str()))
                .for_each(|(_, v)| self.redact_value(v)),
            _ => {}
        }
    }

    /// Whether `kind`, serialized as the journal writes it, keeps no
    /// secret: not in a value, and not across fields or through escapes.
    pub fn is_clean(&self, kind: &EventKind) -> bool {
        let Ok(line) = serde_json::to_string(kind) else {
            return false;
        };
        let Ok(mut value) = serde_json::from_str::<Value>(&line) else {
            return false;
        };
        if self.holds_secret(&value) {
            return false;
        }
        empty_strings(&mut value);
        let skeleton = value.to_string();
        self.patterns
            .iter()
            .filter(|p| p.chars().count() >= MIN_WHOLE)
            .flat_map(|p| {
                let quoted = serde_json::to_string(p).unwrap_or_default();
                let escaped = quoted
                    .strip_prefix('"')
                    .and_then(|q| q.strip_suffix('"'))
                    .unwrap_or(&quoted)
                    .to_owned();
                [p.clone(), escaped]
            })
            .all(|p| line.matches(p.as_str()).count() <= skeleton.matches(p.as_str()).count())
    }

    fn holds_secret(&self, value: &Value) -> bool {
        match value {
            Value::String(s) => self.patterns.iter().any(|p| s.contains(p.as_str())),
            Value::Array(items) => items.iter().any(|v| self.holds_secret(v)),
            Value::Object(map) => map
                .iter()
                .any(|(k, v)| !SCHEMA.contains(&k.as_str()) && self.holds_secret(v)),
            _ => false,
        }
    }

    /// The same event with its free text withheld: the event's tag, step
    /// and phase ids, enums and times are kept, so the run's state still
    /// folds; every other string says [`WITHHELD`].
    fn placeholder(&self, kind: &EventKind) -> Option<EventKind> {
        let mut value = serde_json::to_value(kind).ok()?;
        withhold(&mut value, None);
        serde_json::from_value(value).ok()
    }
}

/// Fields whose strings are words of the event schema (tags and enums),
/// never data: a secret equal to one of these words is not looked for
/// there, and they are never edited.
const SCHEMA: &[&str] = &["event", "request", "reply", "outcome", "stream", "mode"];

/// Strings kept in a placeholder: tags, ids, enums and times.
const KEPT: &[&str] = &[
    "event",
    "request",
    "reply",
    "step",
    "phase",
    "stream",
    "outcome",
    "mode",
    "run_id",
    "t0",
    "point_time",
    "region",
];

fn withhold(value: &mut Value, key: Option<&str>) {
    match value {
        Value::String(s) if !key.is_some_and(|k| KEPT.contains(&k)) => *s = WITHHELD.into(),
        Value::Array(items) => items.iter_mut().for_each(|v| withhold(v, None)),
        Value::Object(map) => map.iter_mut().for_each(|(k, v)| withhold(v, Some(k))),
        _ => {}
    }
}

fn empty_strings(value: &mut Value) {
    match value {
        Value::String(s) => s.clear(),
        Value::Array(items) => items.iter_mut().for_each(empty_strings),
        Value::Object(map) => map
            .iter_mut()
            .filter(|(k, _)| !SCHEMA.contains(&k.as_str()))
            .for_each(|(_, v)| empty_strings(v)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::{Outcome, Stream};
    use std::collections::BTreeMap;

    fn output(line: &str) -> EventKind {
        EventKind::StepOutput {
            step: "dump".into(),
            stream: Stream::Stdout,
            line: line.into(),
        }
    }

    fn finished(outputs: &[(&str, &str)], reason: Option<&str>) -> EventKind {
        EventKind::StepFinished {
            step: "dump".into(),
            outcome: Outcome::Succeeded,
            outputs: outputs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            reason: reason.map(str::to_owned),
        }
    }

    /// Every written line: valid JSON, an event, and without the secret in
    /// any form a reader could find.
    fn assert_safe(secret: &str, kind: EventKind) -> Redacted {
        let r = Redactor::new([secret.to_owned()]);
        let out = r.redact(kind);
        let written = match &out {
            Redacted::Clean(k) | Redacted::Withheld(k) => k.clone(),
            Redacted::Dropped => return out,
        };
        let line = serde_json::to_string(&written).unwrap();
        let back: EventKind = serde_json::from_str(&line).unwrap();
        assert_eq!(back, written, "{secret:?}: the line does not read back");
        assert!(r.is_clean(&written), "{secret:?} leaked into {line}");
        if secret.chars().count() >= MIN_WHOLE {
            let skeleton = {
                let mut v: Value = serde_json::from_str(&line).unwrap();
                empty_strings(&mut v);
                v.to_string()
            };
            assert!(
                line.matches(secret).count() <= skeleton.matches(secret).count(),
                "{secret:?} leaked into {line}"
            );
        }
        out
    }

    #[test]
    fn a_secret_in_a_line_is_replaced() {
        let out = assert_safe("hunter2-pass", output("password=hunter2-pass;"));
        assert_eq!(
            out,
            Redacted::Clean(output("password=[redacted];")),
            "the line keeps its shape"
        );
    }

    #[test]
    fn each_line_of_a_multi_line_secret_is_redacted() {
        let pem = "-----BEGIN KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8w\n-----END KEY-----\n";
        for line in pem.lines() {
            let out = assert_safe(pem, output(line));
            assert_eq!(out, Redacted::Clean(output("[redacted]")), "{line}");
        }
        // CRLF and indented copies too.
        let out = assert_safe(
            "first-line-secret\r\nsecond-line-secret",
            output("  second-line-secret"),
        );
        assert_eq!(out, Redacted::Clean(output("  [redacted]")));
    }

    /// Secrets made of JSON's own syntax, escapes, field names and enum
    /// words: the journal line stays valid, the secret never shows.
    #[test]
    fn hostile_secrets_neither_leak_nor_corrupt_the_line() {
        let hostile = [
            "\"",
            "\\",
            "n",
            "{",
            ":",
            "\",\"",
            "\\n",
            "\\u0041",
            "event",
            "step",
            "line",
            "step_output",
            "succeeded",
            "stdout",
            "dump",
            "\u{1}\u{2}",
            "a\"b\\c",
            "\n",
            "[redacted]",
            "redacted",
            "}\n{",
            "\"}",
            "null",
            "é✓",
            "\\\"",
        ];
        let events = |s: &str| {
            vec![
                output(&format!("before {s} after")),
                output(s),
                output("nothing here"),
                finished(&[("value", s), ("other", "x")], Some(s)),
                finished(&[], None),
                EventKind::StepProgress {
                    step: "dump".into(),
                    message: format!("{s}{s}"),
                },
            ]
        };
        for secret in hostile {
            for kind in events(secret) {
                assert_safe(secret, kind);
            }
        }
    }

    #[test]
    fn a_secret_equal_to_an_outcome_word_leaves_the_outcome_alone() {
        // Replacing `succeeded` made the outcome invalid: the old recorder
        // then wrote the event unredacted.
        let r = Redactor::new(["succeeded".to_owned()]);
        let out = r.redact(finished(&[("v", "it succeeded")], None));
        assert_eq!(
            out,
            Redacted::Clean(finished(&[("v", "it [redacted]")], None))
        );
    }

    #[test]
    fn a_secret_across_two_fields_is_caught() {
        // The line `..."line":"tail"}` would spell the secret across the
        // value and the JSON that follows it.
        let secret = "abc\"}";
        let r = Redactor::new([secret.to_owned()]);
        let out = r.redact(output("abc"));
        match out {
            Redacted::Withheld(EventKind::StepOutput { step, line, .. }) => {
                assert_eq!((step.as_str(), line.as_str()), ("dump", WITHHELD));
            }
            other => panic!("expected a placeholder, got {other:?}"),
        }
        assert_safe(secret, output("abc"));
    }

    #[test]
    fn a_secret_that_is_a_step_id_is_redacted_from_the_id_too() {
        assert_safe("dump", output("dump done"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Any secret, any line around it: the written line is an event,
        /// and the secret does not show in it.
        #[test]
        fn any_secret_in_any_line_is_kept_out(
            secret in r#"[a-z"\\{}:,\n\x01é \[\]]{1,8}"#,
            before in r#"[a-z"\\{}:,\n ]{0,6}"#,
            after in r#"[a-z"\\{}:,\n ]{0,6}"#,
        ) {
            assert_safe(&secret, output(&format!("{before}{secret}{after}")));
            assert_safe(&secret, finished(&[("out", &format!("{before}{secret}"))], Some(&after)));
        }
    }

    #[test]
    fn no_secrets_change_nothing() {
        let r = Redactor::new([String::new()]);
        assert_eq!(r.redact(output("x")), Redacted::Clean(output("x")));
    }
}
