//! A question on screen: the dialog of a confirmation, a manual step, an
//! approval, a failure or an interrupted step, and the confirmation of a
//! recovery point picked. It owns what has been typed or chosen; the
//! reply is sent by the console ([`PromptRequest::Answer`]).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use super::app::{App, Screen};
use super::keymap::{Action, Context, KeyScope, Keypress, Typing};
use super::markdown;
use super::picker::{Picker, location};
use super::view::{centered, choice_line, identity_span};
use crate::cloud::RecoveryPoint;
use crate::engine::event::{Answer, Question};
use crate::engine::human::HumanRequest;
use crate::engine::humanize;

/// The choices of a failed or interrupted step.
pub const FAILURE_CHOICES: [(&str, Answer); 3] = [
    ("retry", Answer::Retry),
    ("skip", Answer::Skip),
    ("abort", Answer::Abort),
];
/// The buttons of an approval.
pub const APPROVE_CHOICES: [&str; 2] = ["approve", "decline"];
/// The choices of a step interrupted by a crash.
pub const INTERRUPTED_CHOICES: [(&str, Answer); 3] = [
    ("rerun", Answer::Rerun),
    ("mark done", Answer::MarkDone),
    ("abort", Answer::Abort),
];

/// A question on screen, and what has been typed or chosen so far.
#[derive(Debug)]
pub struct Prompt {
    /// The question, with its reply channel.
    pub request: HumanRequest,
    /// Text typed: the confirmation, the answer, or a note.
    pub input: String,
    /// The chosen button, where there are choices: none until the
    /// operator moves to one, so a bare Enter never approves or answers.
    pub choice: Option<usize>,
    /// Lines the dialog's explanation is scrolled down by.
    pub scroll: u16,
    /// Why Enter did nothing.
    pub error: Option<String>,
    /// The recovery point picker, for a pick question.
    pub picker: Option<Picker>,
    /// The point chosen in the picker, waiting for its confirmation.
    pub chosen: Option<RecoveryPoint>,
}

/// What the question asks of the console.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptRequest {
    /// Put the question aside: the step keeps waiting.
    PutAside,
    /// Send this answer, with this note.
    Answer(Answer, Option<String>),
}

impl Prompt {
    /// A question as it opens: a picker for a pick (listed from `t0`, at
    /// `now`), no choice chosen: an approval, an answer or what follows a
    /// failure is the operator's, never a default.
    pub(crate) fn new(request: HumanRequest, t0: jiff::Timestamp, now: jiff::Timestamp) -> Self {
        let picker = match &request.question {
            Question::PickRecoveryPoint {
                sources, newest, ..
            } => Some(Picker::new(sources.clone(), t0, now).preselecting(newest.clone())),
            _ => None,
        };
        Self {
            request,
            input: String::new(),
            choice: None,
            scroll: 0,
            error: None,
            picker,
            chosen: None,
        }
    }

    /// The picker, while no point of it waits for its confirmation.
    pub fn picking(&self) -> Option<&Picker> {
        self.picker.as_ref().filter(|_| self.chosen.is_none())
    }

    /// The picker, mutably, while it is shown.
    pub fn picking_mut(&mut self) -> Option<&mut Picker> {
        self.picker.as_mut().filter(|_| self.chosen.is_none())
    }

    /// Whether text typed goes to the input (not a choice-only question,
    /// not a point's confirmation).
    fn takes_text(&self) -> bool {
        let choices_only = matches!(&self.request.question, Question::Acknowledge { choices, .. } if !choices.is_empty());
        !choices_only && self.chosen.is_none()
    }

    /// Where the dialog reads keys: its own, then the text input's.
    pub fn scope(&self) -> KeyScope {
        KeyScope::keys(&[Context::Dialog, Context::Input]).typing(if self.takes_text() {
            Typing::Text
        } else {
            Typing::Guarded
        })
    }

    /// The point under the picker's cursor, taken for its confirmation if
    /// it can be restored now (else the dialog says why not).
    pub(crate) fn pick(&mut self, point: RecoveryPoint) {
        if point.is_restorable() {
            self.chosen = Some(point);
        } else {
            self.error = Some(format!(
                "{} cannot be restored now (status {}{})",
                point.id,
                point.status,
                if point.archive.is_some() {
                    ", archived"
                } else {
                    ""
                }
            ));
        }
    }

    /// Takes a key in the dialog; returns what the console must do.
    pub fn handle(&mut self, press: Keypress) -> Option<PromptRequest> {
        if press == Keypress::Act(Action::Back) {
            // Back from a point's confirmation goes back to the list;
            // otherwise the question is put aside and the step waits.
            return match self.chosen.take() {
                Some(_) => None,
                None => Some(PromptRequest::PutAside),
            };
        }
        let n_choices = self.choices().len();
        match press {
            Keypress::Act(a @ (Action::Next | Action::Previous)) if n_choices > 0 => {
                // From no choice, forward goes to the first, back to the last.
                self.choice = Some(match (self.choice, a == Action::Next) {
                    (None, true) => 0,
                    (None, false) => n_choices - 1,
                    (Some(c), true) => (c + 1) % n_choices,
                    (Some(c), false) => (c + n_choices - 1) % n_choices,
                });
                self.error = None;
                return None;
            }
            // Up goes back to the start: the drawing clamps what PgDn went
            // past the end, so stepping back would first do nothing.
            Keypress::Act(Action::ScrollUp) => {
                self.scroll = 0;
                return None;
            }
            Keypress::Act(Action::ScrollDown) => {
                self.scroll = self.scroll.saturating_add(5);
                return None;
            }
            Keypress::Act(Action::Enter) => return self.answer(),
            _ => {}
        }
        if self.takes_text() {
            press.edit(&mut self.input);
            self.error = None;
        }
        None
    }

    /// The buttons of the question, if it has any.
    pub fn choices(&self) -> Vec<&str> {
        match &self.request.question {
            Question::Failure { .. } => FAILURE_CHOICES.iter().map(|(n, _)| *n).collect(),
            Question::Interrupted => INTERRUPTED_CHOICES.iter().map(|(n, _)| *n).collect(),
            Question::Approve { .. } => APPROVE_CHOICES.to_vec(),
            Question::Acknowledge {
                question: Some(_),
                choices,
                ..
            } => choices.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Enter in a dialog: the answer, or why not (shown).
    fn answer(&mut self) -> Option<PromptRequest> {
        let choices = self.choices();
        if !choices.is_empty() && self.choice.is_none() {
            self.error = Some(format!(
                "nothing is chosen: pick {} with ←/→ or Tab, then Enter; Esc leaves the step waiting",
                choices
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
            return None;
        }
        let choice = self.choice.unwrap_or(0);
        let note = Some(self.input.clone());
        let (answer, note) = match &self.request.question {
            Question::Confirm { text, .. } => {
                // Empty or wrong text does nothing: no single key confirms.
                if self.input != *text {
                    self.error = Some(if self.input.is_empty() {
                        format!("type `{text}` to confirm, or Esc to leave the step waiting")
                    } else {
                        format!("`{}` is not `{text}`", self.input)
                    });
                    return None;
                }
                (
                    Answer::Confirmed {
                        typed: self.input.clone(),
                    },
                    None,
                )
            }
            Question::Acknowledge {
                question, choices, ..
            } => {
                let typed = match choices.get(choice) {
                    Some(c) if question.is_some() => c.clone(),
                    _ => self.input.trim().to_owned(),
                };
                if question.is_some() && typed.is_empty() {
                    self.error = Some("type an answer first".into());
                    return None;
                }
                (
                    Answer::Acknowledged {
                        answer: question.as_ref().map(|_| typed),
                    },
                    None,
                )
            }
            Question::Approve { .. } => (
                if choice == 0 {
                    Answer::Approved
                } else {
                    Answer::Declined
                },
                note,
            ),
            Question::Failure { .. } => (FAILURE_CHOICES[choice].1.clone(), note),
            Question::Interrupted => (INTERRUPTED_CHOICES[choice].1.clone(), note),
            Question::PickRecoveryPoint { .. } => match self.chosen.take() {
                Some(point) => (Answer::Picked { point: point.id }, None),
                None => return None,
            },
        };
        Some(PromptRequest::Answer(answer, note))
    }
}

/// The question's dialog as drawn (a pick's only once a point is chosen;
/// before, the picker is drawn).
pub struct PromptDialog<'a> {
    /// The console (runbook, identity, theme, the run's values).
    pub app: &'a App,
    /// The question.
    pub prompt: &'a Prompt,
}

impl Widget for &PromptDialog<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        draw_prompt(buf, area, self.app, self.prompt);
    }
}

fn draw_prompt(buf: &mut Buffer, area: Rect, app: &App, prompt: &Prompt) {
    let theme = &app.theme;
    let request = &prompt.request;
    // The explanation, which shrinks and scrolls first, and the tail (the
    // question, its buttons or input, the error), which stays on screen.
    let mut lines: Vec<Line> = Vec::new();
    let mut tail: Vec<Line> = Vec::new();
    let width = 80.min(area.width.saturating_sub(4)).max(40).min(area.width);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let (title, border) = match &request.question {
        Question::Confirm {
            text,
            action,
            change,
        } => {
            lines.push(Line::from(Span::styled(
                "This step destroys or overwrites data.",
                theme.bad,
            )));
            lines.push(Line::from(vec![
                Span::styled("step     ", theme.dim),
                Span::raw(format!("{} ({})", request.title, request.step)),
            ]));
            lines.push(Line::from(vec![
                Span::styled("action   ", theme.dim),
                Span::raw(action.clone()),
            ]));
            lines.push(Line::from(vec![
                Span::styled("resource ", theme.dim),
                Span::styled(text.clone(), theme.title),
            ]));
            // A shell step's change holds its command, often several lines.
            for (i, line) in change.trim_end().lines().enumerate() {
                lines.push(Line::from(vec![
                    Span::styled(if i == 0 { "change   " } else { "         " }, theme.dim),
                    Span::styled(line.to_owned(), theme.warn),
                ]));
            }
            lines.push(Line::from(vec![
                Span::styled("as       ", theme.dim),
                identity_span(app),
            ]));
            lines.push(Line::default());
            tail.push(Line::from(vec![
                Span::raw("Type "),
                Span::styled(text.clone(), theme.title),
                Span::raw(" to confirm; Esc leaves the step waiting."),
            ]));
            let matches = prompt.input == *text;
            tail.push(input_line(
                "> ",
                &prompt.input,
                inner,
                if matches { theme.good } else { theme.text },
            ));
            (" Confirm a destructive step ", theme.bad)
        }
        Question::Acknowledge {
            instructions,
            question,
            choices,
        } => {
            lines.extend(markdown::to_lines(instructions));
            lines.push(Line::default());
            if let Some(q) = question {
                tail.push(Line::from(Span::styled(q.clone(), theme.title)));
                if choices.is_empty() {
                    tail.push(input_line("> ", &prompt.input, inner, theme.text));
                } else {
                    tail.push(buttons(app, prompt));
                }
            } else {
                tail.push(Line::raw("Enter when done."));
            }
            (" Manual step ", theme.warn)
        }
        Question::Approve { instructions, .. } => {
            if let Some(i) = instructions {
                lines.extend(markdown::to_lines(i));
                lines.push(Line::default());
            }
            if let Some(progress) = prompt.request.question.approval_progress() {
                lines.push(Line::raw(progress));
            }
            tail.push(buttons(app, prompt));
            tail.push(input_line("note: ", &prompt.input, inner, theme.text));
            (" Approval ", theme.warn)
        }
        Question::Failure { error } => {
            lines.push(Line::from(Span::styled(error.clone(), theme.bad)));
            lines.push(Line::default());
            tail.push(buttons(app, prompt));
            tail.push(input_line("note: ", &prompt.input, inner, theme.text));
            (" A step failed ", theme.bad)
        }
        Question::Interrupted => {
            lines.push(Line::raw(
                "This step was running when the console stopped. Did it finish?",
            ));
            tail.push(buttons(app, prompt));
            tail.push(input_line("note: ", &prompt.input, inner, theme.text));
            (" Interrupted step ", theme.warn)
        }
        Question::PickRecoveryPoint { .. } => {
            if let (Some(p), Some(picker)) = (&prompt.chosen, &prompt.picker) {
                let rpo = p.rpo(picker.t0);
                lines.push(Line::from(vec![
                    Span::styled("point    ", theme.dim),
                    Span::raw(p.id.clone()),
                ]));
                lines.push(Line::from(vec![
                    Span::styled("created  ", theme.dim),
                    Span::raw(format!("{} ({} before T0)", p.created_at, humanize(rpo))),
                ]));
                lines.push(Line::from(vec![
                    Span::styled("from     ", theme.dim),
                    Span::raw(format!(
                        "{}{} — {} {}",
                        location(p),
                        if p.is_copy() { " (a DR copy)" } else { "" },
                        p.resource_type.clone().unwrap_or_default(),
                        p.resource_name.clone().unwrap_or_default()
                    )),
                ]));
                // A pick that does not measure the run's RPO is held to no target.
                let rpo_target = super::picker::rpo_target(app, &request.step);
                lines.push(Line::from(vec![
                    Span::styled("RPO      ", theme.dim),
                    Span::styled(
                        humanize(rpo),
                        match rpo_target {
                            Some(t) if rpo > t => theme.bad,
                            _ => theme.good,
                        },
                    ),
                    Span::raw(
                        rpo_target
                            .map(|t| format!(" against a target of {}", humanize(t)))
                            .unwrap_or_default(),
                    ),
                ]));
                // Where it goes: the steps that take the pick's outputs.
                let uses = format!("steps.{}.", request.step);
                for step in app.runbook.steps.iter().filter(|s| {
                    s.templated
                        .iter()
                        .any(|t| t.value.replace(' ', "").contains(&uses))
                }) {
                    let fields: Vec<String> = step
                        .templated
                        .iter()
                        .filter(|t| !t.value.contains('\n') && !t.value.contains(&uses))
                        .map(|t| match &app.screen {
                            Screen::Run(v) => v.preview(&t.value),
                            Screen::Start(_) => t.value.clone(),
                        })
                        .collect();
                    lines.push(Line::from(vec![
                        Span::styled("then     ", theme.dim),
                        Span::raw(format!(
                            "{} ({}){}",
                            step.display_title(),
                            step.action.kind(),
                            if fields.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", fields.join(", "))
                            }
                        )),
                    ]));
                }
                lines.push(Line::default());
                tail.push(Line::raw(
                    "Enter restores from this point; Esc goes back to the list.",
                ));
            }
            (" Use this recovery point? ", theme.warn)
        }
    };
    if let Some(e) = &prompt.error {
        tail.push(Line::from(Span::styled(e.clone(), theme.bad)));
    }
    // Rows after wrapping: the tail is always whole; the explanation gets
    // what is left, scrolled, with a sign when some of it is out of view.
    let rows = |ls: &[Line]| -> usize { ls.iter().map(|l| l.width().div_ceil(inner).max(1)).sum() };
    let (body_rows, tail_rows) = (rows(&lines) as u16, rows(&tail) as u16);
    let height = (body_rows + tail_rows + 2).min(area.height);
    let rect = centered(area, width, height);
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(title, border))
        .title_bottom(format!(" {} — {} ", request.step, request.title));
    let inside = block.inner(rect);
    block.render(rect, buf);
    let tail_h = tail_rows.min(inside.height);
    let [top, bottom] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(tail_h)]).areas(inside);
    // When the explanation does not fit, its last row is the sign that
    // there is more (and how to see it), never a line of it cut.
    let shown_rows = if body_rows > top.height {
        top.height.saturating_sub(1)
    } else {
        top.height
    };
    let hidden = body_rows.saturating_sub(shown_rows);
    let scroll = prompt.scroll.min(hidden);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0))
        .render(
            Rect {
                height: shown_rows,
                ..top
            },
            buf,
        );
    if hidden > 0 && top.height > 0 {
        let more = if scroll < hidden {
            format!(" … {} more lines: PgDn ", hidden - scroll)
        } else {
            " … PgUp for the start ".to_owned()
        };
        let row = Rect::new(top.x, top.y + top.height - 1, top.width, 1);
        Line::from(Span::styled(more, theme.dim)).render(row, buf);
    }
    Paragraph::new(tail)
        .wrap(Wrap { trim: false })
        .render(bottom, buf);
}

/// A row of buttons, the chosen one highlighted; none is until the
/// operator moves to one.
fn buttons(app: &App, prompt: &Prompt) -> Line<'static> {
    let mut line = choice_line(app, &prompt.choices(), prompt.choice.unwrap_or(usize::MAX));
    if prompt.choice.is_none() {
        line.push_span(Span::styled("← → or Tab to choose", app.theme.dim));
    }
    line
}

/// A one-row text input: `prefix`, the text and the cursor; a text too
/// long for `width` shows its end (where the cursor is) after a "…".
fn input_line(prefix: &str, text: &str, width: usize, style: Style) -> Line<'static> {
    let room = width.saturating_sub(prefix.chars().count() + 1);
    let count = text.chars().count();
    let shown = if count > room {
        let keep = room.saturating_sub(1);
        format!("…{}", text.chars().skip(count - keep).collect::<String>())
    } else {
        text.to_owned()
    };
    Line::from(vec![
        Span::raw(prefix.to_owned()),
        Span::styled(format!("{shown}▏"), style),
    ])
}
