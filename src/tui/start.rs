//! The start screen: the runbook's parameters, the mode and T0 as a form,
//! its keys and its drawing. It owns the form's state only; starting the
//! run is the loop's (it asks with [`FormRequest::Start`]).

use std::collections::BTreeMap;

use jiff::Timestamp;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget, Wrap};

use super::app::{App, Command};
use super::keymap::{Action, Context, KeyScope, Keypress, Typing};
use super::markdown;
use super::view::{block, identity_span, target};
use crate::engine::humanize;
use crate::runbook::{Mode, Runbook};

/// A field of the start form.
#[derive(Debug, Clone)]
pub struct Field {
    /// Parameter name, or `mode` / `t0`.
    pub name: String,
    /// The text typed (or the choice).
    pub value: String,
    /// Shown as dots.
    pub secret: bool,
    /// Must not be empty.
    pub required: bool,
    /// Allowed values (cycled with left/right or space).
    pub choices: Vec<String>,
    /// Shown beside it.
    pub description: Option<String>,
}

/// The start screen: parameters, mode, T0.
#[derive(Debug, Clone)]
pub struct StartForm {
    /// Parameters, then mode, then T0.
    pub fields: Vec<Field>,
    /// The field being edited.
    pub focus: usize,
    /// Why the run could not start.
    pub error: Option<String>,
}

/// What the form asks of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormRequest {
    /// Open the "leave?" dialog.
    Leave,
    /// Start the run with the form's values.
    Start,
}

impl StartForm {
    pub(crate) fn new(runbook: &Runbook, given: &BTreeMap<String, String>, mode: Mode) -> Self {
        let mut fields: Vec<Field> = runbook
            .params
            .iter()
            .map(|p| Field {
                name: p.name.value.clone(),
                value: given
                    .get(&p.name.value)
                    .cloned()
                    .or_else(|| p.default.as_ref().map(|d| d.value.clone()))
                    .unwrap_or_default(),
                secret: p.secret,
                required: p.required,
                choices: p.choices.iter().map(|c| c.value.clone()).collect(),
                description: p.description.clone(),
            })
            .collect();
        fields.push(Field {
            name: "mode".into(),
            value: mode.as_str().into(),
            secret: false,
            required: true,
            choices: vec!["drill".into(), "incident".into()],
            description: Some("a planned drill (T0 is now) or a real incident".into()),
        });
        fields.push(Field {
            name: "t0".into(),
            value: String::new(),
            secret: false,
            required: false,
            choices: Vec::new(),
            description: Some(
                "incident only: the declared outage start, RFC 3339 (2026-11-22T03:10:00Z)".into(),
            ),
        });
        let focus = fields
            .iter()
            .position(|f| f.required && f.value.is_empty())
            .unwrap_or(0);
        Self {
            fields,
            focus,
            error: None,
        }
    }

    /// The chosen mode.
    pub fn mode(&self) -> Mode {
        match self.field("mode") {
            Some("incident") => Mode::Incident,
            _ => Mode::Drill,
        }
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
    }

    /// Whether field `i` is shown (T0 only in incident mode).
    pub fn visible(&self, i: usize) -> bool {
        self.fields[i].name != "t0" || i + 1 != self.fields.len() || self.mode() == Mode::Incident
    }

    fn move_focus(&mut self, forward: bool) {
        let n = self.fields.len();
        for _ in 0..n {
            self.focus = if forward {
                (self.focus + 1) % n
            } else {
                (self.focus + n - 1) % n
            };
            if self.visible(self.focus) {
                break;
            }
        }
    }

    /// Where keys are read: the form's, then the text input's; a text
    /// field takes characters, a choice takes none.
    pub fn scope(&self) -> KeyScope {
        let text = self.fields[self.focus].choices.is_empty();
        KeyScope::keys(&[Context::Start, Context::Input]).typing(if text {
            Typing::Text
        } else {
            Typing::Guarded
        })
    }

    /// Takes a key; returns what the console must do, if anything.
    pub fn handle(&mut self, press: Keypress) -> Option<FormRequest> {
        match press {
            Keypress::Act(Action::Next) => self.move_focus(true),
            Keypress::Act(Action::Previous) => self.move_focus(false),
            Keypress::Act(Action::ToggleMode) => {
                if let Some(f) = self.fields.iter_mut().find(|f| f.name == "mode") {
                    f.value = if f.value == "drill" {
                        "incident"
                    } else {
                        "drill"
                    }
                    .into();
                }
            }
            Keypress::Act(Action::Quit) => return Some(FormRequest::Leave),
            Keypress::Act(Action::StartRun) => return Some(FormRequest::Start),
            // Enter goes to the next field; on the last one shown it starts.
            Keypress::Act(Action::Enter) => {
                let last = self.fields.len() - 1;
                if self.focus == last || (self.focus == last - 1 && self.mode() == Mode::Drill) {
                    return Some(FormRequest::Start);
                }
                self.move_focus(true);
            }
            Keypress::Act(a @ (Action::NextChoice | Action::PreviousChoice)) => {
                let field = &mut self.fields[self.focus];
                let n = field.choices.len();
                if n > 0 {
                    let i = field
                        .choices
                        .iter()
                        .position(|c| *c == field.value)
                        .unwrap_or(0);
                    let next = if a == Action::NextChoice {
                        (i + 1) % n
                    } else {
                        (i + n - 1) % n
                    };
                    field.value = field.choices[next].clone();
                }
            }
            press => {
                let field = &mut self.fields[self.focus];
                if field.choices.is_empty() {
                    press.edit(&mut field.value);
                }
            }
        }
        None
    }

    /// The values to start with, or what is wrong.
    pub(crate) fn submit(&self) -> Result<Command, String> {
        let mut params = BTreeMap::new();
        let n = self.fields.len() - 2;
        for f in &self.fields[..n] {
            if f.required && f.value.trim().is_empty() {
                return Err(format!("`{}` is required", f.name));
            }
            if !f.value.is_empty() {
                params.insert(f.name.clone(), f.value.clone());
            }
        }
        let mode = self.mode();
        let t0 = match (mode, self.field("t0").unwrap_or_default().trim()) {
            (Mode::Incident, "") => {
                return Err(
                    "an incident needs T0, the declared outage start (e.g. 2026-11-22T03:10:00Z)"
                        .into(),
                );
            }
            (Mode::Incident, text) => Some(
                text.parse::<Timestamp>()
                    .map_err(|e| format!("T0 `{text}` is not an RFC 3339 time: {e}"))?,
            ),
            (Mode::Drill, _) => None,
        };
        Ok(Command::StartRun { params, mode, t0 })
    }
}

/// The start screen as drawn: the runbook's header over the form.
pub struct StartScreen<'a> {
    /// The console (runbook, identity, theme).
    pub app: &'a App,
    /// The form.
    pub form: &'a StartForm,
}

impl Widget for &StartScreen<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, form) = (self.app, self.form);
        let theme = &app.theme;
        let header = &app.runbook.runbook;
        let mut lines = vec![
            Line::from(Span::styled(header.title.value.clone(), theme.title)),
            Line::from(vec![
                Span::styled("runbook ", theme.dim),
                Span::raw(header.id.value.clone()),
                Span::styled("   RTO target ", theme.dim),
                Span::raw(target(header.rto.as_ref()).map_or("none".into(), humanize)),
                Span::styled("   RPO target ", theme.dim),
                Span::raw(target(header.rpo.as_ref()).map_or("none".into(), humanize)),
            ]),
            Line::from(vec![
                Span::styled("acting as ", theme.dim),
                identity_span(app),
            ]),
            Line::default(),
        ];
        if let Some(d) = &header.description {
            lines.extend(markdown::to_lines(d));
        }
        let description_height = (lines.len() as u16 + 2).min(area.height / 2);
        let [top, fields] =
            Layout::vertical([Constraint::Length(description_height), Constraint::Min(3)])
                .areas(area);
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(" dr-drill ", theme))
            .render(top, buf);
        let mut rows = Vec::new();
        for (i, f) in form.fields.iter().enumerate() {
            if !form.visible(i) {
                continue;
            }
            let focused = i == form.focus;
            let value = if f.secret {
                "•".repeat(f.value.chars().count())
            } else if !f.choices.is_empty() {
                format!("◂ {} ▸", f.value)
            } else {
                f.value.clone()
            };
            let value = if focused && f.choices.is_empty() {
                format!("{value}▏")
            } else {
                value
            };
            let name = format!("{}{}", f.name, if f.required { " *" } else { "" });
            let missing = f.required && f.value.is_empty();
            rows.push(
                Row::new(vec![
                    Cell::from(name).style(if missing { theme.warn } else { theme.text }),
                    Cell::from(value),
                    Cell::from(f.description.clone().unwrap_or_default()).style(theme.dim),
                ])
                .style(if focused {
                    theme.selected
                } else {
                    Style::new()
                }),
            );
        }
        let mut title = vec![Span::raw(" Parameters ")];
        if let Some(e) = &form.error {
            title.push(Span::styled(format!(" {e} "), theme.bad));
        }
        Table::new(
            rows,
            [
                Constraint::Length(22),
                Constraint::Percentage(45),
                Constraint::Fill(1),
            ],
        )
        .block(block(Line::from(title), theme))
        .render(fields, buf);
    }
}
