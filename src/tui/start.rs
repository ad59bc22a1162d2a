//! The start screen: the runbook's parameters, the mode and T0 as a form,
//! its keys and its drawing. It owns the form's state only; starting the
//! run is the loop's (it asks with [`FormRequest::Start`]), and so is
//! running preflight (`Command::Preflight`); the preflight panel's state is
//! the form's ([`PreflightPanel`]), its drawing `preflight.rs`'s.

use std::collections::BTreeMap;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, StatefulWidget, Table, TableState, Widget, Wrap};

use super::app::{App, Command};
use super::keymap::{Action, Context, KeyScope, Keypress, Typing};
use super::markdown;
use super::preflight::{COLLAPSED_HEIGHT, PanelState, PreflightPanel, PreflightView};
use super::view::{block, identity_span, target};
use crate::engine::humanize;
use crate::engine::participant::Roles;
use crate::runbook::{Mode, Param, Runbook, parse_time};
use crate::session::tools;

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
    /// The runbook's parameter, whose rules the value is checked by
    /// (`None` for mode and T0).
    pub param: Option<Param>,
    /// Left once (or a start was tried): its problem is shown.
    pub touched: bool,
}

impl Field {
    /// What is wrong with the value, if anything, by the same rules `run`
    /// applies ([`Param::problem`]); T0 by the parser the engine uses.
    fn problem(&self, mode: Mode) -> Option<String> {
        if let Some(param) = &self.param {
            return param.problem(&self.value);
        }
        if self.name == "roles" {
            return crate::session::people::read_roles_field(&self.value).err();
        }
        if self.name != "t0" || mode != Mode::Incident {
            return None;
        }
        match self.value.trim() {
            "" => Some(
                "an incident needs T0, the declared outage start (e.g. 2026-11-22T03:10:00Z)"
                    .into(),
            ),
            text => parse_time(text).err().map(|e| format!("T0 {e}")),
        }
    }
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
    /// Lines the runbook's description is scrolled down by.
    pub scroll: u16,
    /// What this machine lacks for the runbook's steps (tools not on
    /// PATH), said before anything runs.
    pub missing: Option<String>,
    /// What preflight found for these values, as it comes in.
    pub preflight: PreflightPanel,
}

/// What the form asks of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormRequest {
    /// Open the "leave?" dialog.
    Leave,
    /// Start the run with the form's values.
    Start,
    /// Run preflight again with the form's values.
    Preflight,
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
                param: Some(p.clone()),
                touched: false,
            })
            .collect();
        fields.push(Field {
            name: "mode".into(),
            value: mode.as_str().into(),
            secret: false,
            required: true,
            choices: vec!["drill".into(), "incident".into()],
            description: Some("a planned drill (T0 is now) or a real incident".into()),
            param: None,
            touched: false,
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
            param: None,
            touched: false,
        });
        let focus = fields
            .iter()
            .position(|f| f.required && f.value.is_empty())
            .unwrap_or(0);
        Self {
            fields,
            focus,
            error: None,
            scroll: 0,
            missing: tools::missing_message(runbook),
            preflight: PreflightPanel::default(),
        }
    }

    /// The problem of field `i` as shown: once it was left or a start tried.
    pub fn shown_problem(&self, i: usize) -> Option<String> {
        let f = &self.fields[i];
        if f.touched && self.visible(i) {
            f.problem(self.mode())
        } else {
            None
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

    /// The focused field's row among those shown, for the table's scroll.
    fn focus_row(&self) -> usize {
        (0..self.focus).filter(|&i| self.visible(i)).count()
    }

    /// Adds the roles field (`dba=alice@example.com, lead=bob`) before
    /// the mode, filled with `roles` (`--role`), when a step of `runbook`
    /// is owned or names approvers, or roles were given.
    pub(crate) fn with_roles(&mut self, runbook: &Runbook, roles: &Roles) {
        if self
            .fields
            .iter()
            .any(|f| f.name == "roles" && f.param.is_none())
            || (roles.is_empty() && !crate::session::people::needs_identity(runbook))
        {
            return;
        }
        let value = roles
            .iter()
            .flat_map(|(role, people)| people.iter().map(move |p| format!("{role}={p}")))
            .collect::<Vec<_>>()
            .join(", ");
        let at = self.fields.len() - 2;
        self.fields.insert(
            at,
            Field {
                name: "roles".into(),
                value,
                secret: false,
                required: false,
                choices: Vec::new(),
                description: Some(
                    "who holds each role: ROLE=WHO, comma separated (dba=alice@example.com, lead=bob); WHO is an ARN or principal name".into(),
                ),
                param: None,
                touched: false,
            },
        );
        if self.focus >= at {
            self.focus += 1;
        }
    }

    /// The roles typed in the roles field (none when there is no field).
    fn roles(&self) -> Roles {
        self.fields
            .iter()
            .find(|f| f.name == "roles" && f.param.is_none())
            .and_then(|f| crate::session::people::read_roles_field(&f.value).ok())
            .unwrap_or_default()
    }

    /// Whether field `i` is shown (T0 only in incident mode).
    pub fn visible(&self, i: usize) -> bool {
        self.fields[i].name != "t0" || i + 1 != self.fields.len() || self.mode() == Mode::Incident
    }

    fn move_focus(&mut self, forward: bool) {
        self.fields[self.focus].touched = true;
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
            Keypress::Act(Action::Preflight) => return Some(FormRequest::Preflight),
            Keypress::Act(Action::PreflightFindings) => {
                self.preflight.toggled = !self.preflight.toggled;
                self.preflight.scroll = 0;
            }
            Keypress::Act(Action::ScrollDown) => {
                self.preflight.scroll = self.preflight.scroll.saturating_add(3)
            }
            Keypress::Act(Action::ScrollUp) => {
                self.preflight.scroll = self.preflight.scroll.saturating_sub(3)
            }
            Keypress::Act(Action::PageDown) => self.scroll = self.scroll.saturating_add(5),
            Keypress::Act(Action::PageUp) => self.scroll = self.scroll.saturating_sub(5),
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

    /// The parameter values typed (empty ones left out).
    pub fn params(&self) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .filter(|f| f.param.is_some() && !f.value.is_empty())
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect()
    }

    /// Asks for preflight of the values as they are now.
    pub(crate) fn ask_preflight(&mut self) -> Command {
        let (params, mode) = (self.params(), self.mode());
        let generation = self.preflight.ask(params.clone(), mode);
        Command::Preflight {
            generation,
            params,
            mode,
        }
    }

    /// The values to start with, or what is wrong: every field is checked
    /// first, and the focus moves to the first bad one.
    pub(crate) fn submit(&mut self) -> Result<Command, String> {
        let mode = self.mode();
        for f in &mut self.fields {
            f.touched = true;
        }
        if let Some(i) = (0..self.fields.len())
            .find(|&i| self.visible(i) && self.fields[i].problem(mode).is_some())
        {
            self.focus = i;
            let problem = self.fields[i].problem(mode).unwrap_or_default();
            return Err(format!("{problem}; fix it, then ctrl-s"));
        }
        if let Some(missing) = &self.missing {
            return Err(missing.lines().next().unwrap_or_default().to_string());
        }
        let params = self.params();
        let t0 = match mode {
            Mode::Incident => self.field("t0").and_then(|t| parse_time(t).ok()),
            Mode::Drill => None,
        };
        Ok(Command::StartRun {
            params,
            mode,
            t0,
            roles: self.roles(),
        })
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
        ];
        if let Some(missing) = &form.missing {
            lines.extend(
                missing
                    .lines()
                    .map(|l| Line::from(Span::styled(l.to_string(), theme.bad))),
            );
        }
        lines.push(Line::default());
        if let Some(d) = &header.description {
            lines.extend(markdown::to_lines(d));
        }
        let inner_width = area.width.saturating_sub(2);
        let total: u16 = lines
            .iter()
            .map(|l| wrapped_height(&line_text(l), inner_width))
            .sum();
        // The preflight panel: beside the form where there is room (its
        // findings listed), else under it, one line per area.
        let panel = &form.preflight;
        let shown = panel.state != PanelState::NotAsked;
        let wide = shown && area.width >= 120 && area.height >= 30;
        let expanded = wide != panel.toggled;
        let panel_width = if wide { area.width * 45 / 100 } else { 0 };
        let form_width = area.width - panel_width;
        let inner_width = form_width.saturating_sub(2);
        // The focused field in full: its description and its problem.
        let f = &form.fields[form.focus];
        let mut about = vec![Line::from(vec![
            Span::styled(format!("{}: ", f.name), theme.dim),
            Span::raw(f.description.clone().unwrap_or_default()),
        ])];
        if let Some(p) = form.shown_problem(form.focus) {
            about.insert(0, Line::styled(format!("✗ {p}"), theme.bad));
        }
        // The field's box grows with a long problem, up to a third of the
        // screen, so the message is read whole.
        let about_height: u16 = about
            .iter()
            .map(|l| wrapped_height(&line_text(l), inner_width))
            .sum();
        let detail_height = (about_height + 2).clamp(4, (area.height / 3).max(4));
        let panel_height = match (shown && !wide, expanded) {
            (false, _) => 0,
            (true, false) => COLLAPSED_HEIGHT,
            (true, true) => area
                .height
                .saturating_sub(detail_height + 6)
                .max(COLLAPSED_HEIGHT),
        };
        // The fields first, then the description with what is left (it
        // scrolls), at least its border and a line.
        let fields_height = (0..form.fields.len()).filter(|&i| form.visible(i)).count() as u16 + 2;
        let description_height = (total + 2)
            .min(area.height / 2)
            .min(
                area.height
                    .saturating_sub(panel_height + detail_height + fields_height),
            )
            .max(3);
        let [top, rest] =
            Layout::vertical([Constraint::Length(description_height), Constraint::Fill(1)])
                .areas(area);
        let [left, side] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(panel_width)]).areas(rest);
        let [fields, detail, below] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(detail_height),
            Constraint::Length(panel_height),
        ])
        .areas(left);
        if shown {
            (&PreflightView {
                app,
                panel,
                stale: panel.stale(&form.params(), form.mode()),
                expanded,
            })
                .render(if wide { side } else { below }, buf);
        }
        let max_scroll = total.saturating_sub(top.height.saturating_sub(2));
        let scroll = form.scroll.min(max_scroll);
        let mut description = block(" dr-drill ", theme);
        if scroll < max_scroll {
            description = description.title_bottom(Line::styled(" pgdn: more ↓ ", theme.dim));
        }
        if scroll > 0 {
            description = description.title_bottom(Line::styled(" pgup ↑ ", theme.dim));
        }
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(description)
            .render(top, buf);

        let [name_w, value_w, about_w] = Layout::horizontal([
            Constraint::Length(22),
            Constraint::Percentage(45),
            Constraint::Fill(1),
        ])
        .spacing(1)
        .areas(Rect::new(0, 0, inner_width, 1))
        .map(|r| r.width as usize);
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
                // The cursor is at the end: a long value shows its tail.
                tail(&format!("{value}▏"), value_w)
            } else {
                head(&value, value_w)
            };
            let name = format!("{}{}", f.name, if f.required { " *" } else { "" });
            let problem = form.shown_problem(i);
            let missing = f.required && f.value.is_empty();
            let (about, about_style) = match &problem {
                Some(p) => (format!("✗ {p}"), theme.bad),
                None => (f.description.clone().unwrap_or_default(), theme.dim),
            };
            rows.push(
                Row::new(vec![
                    Cell::from(head(&name, name_w)).style(if problem.is_some() {
                        theme.bad
                    } else if missing {
                        theme.warn
                    } else {
                        theme.text
                    }),
                    Cell::from(value),
                    Cell::from(head(&about, about_w)).style(about_style),
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
        let table = Table::new(
            rows,
            [
                Constraint::Length(name_w as u16),
                Constraint::Length(value_w as u16),
                Constraint::Length(about_w as u16),
            ],
        )
        .block(block(Line::from(title), theme));
        // Where the fields do not all fit (many parameters beside the
        // preflight panel), the focused one stays in view.
        let mut state = TableState::default().with_selected(Some(form.focus_row()));
        StatefulWidget::render(table, fields, buf, &mut state);

        Paragraph::new(about)
            .wrap(Wrap { trim: false })
            .block(block(" Field ", theme))
            .render(detail, buf);
    }
}

/// The text of a line, without its styles.
fn line_text(line: &Line) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

/// Rows `text` takes when word-wrapped at `width` columns.
pub(crate) fn wrapped_height(text: &str, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let (mut rows, mut used) = (1u16, 0usize);
    for word in text.split(' ') {
        let n = word.chars().count();
        let need = if used == 0 { n } else { used + 1 + n };
        if need <= width {
            used = need;
        } else {
            rows += 1 + (n.saturating_sub(1) / width) as u16;
            used = n % width;
        }
    }
    rows
}

/// `text` in `width` columns: cut with "…" when longer.
fn head(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// The end of `text` in `width` columns, "…" first when cut: a value
/// being typed keeps its cursor in view.
fn tail(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        return text.to_string();
    }
    let kept: String = text.chars().skip(n + 1 - width.max(1)).collect();
    format!("…{kept}")
}
