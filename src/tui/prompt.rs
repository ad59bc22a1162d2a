//! A question on screen: the dialog of a confirmation, a manual step, an
//! approval, a failure or an interrupted step, and the confirmation of a
//! recovery point picked. It owns what has been typed or chosen; the
//! reply is sent by the console ([`PromptRequest::Answer`]).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
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
    /// The selected choice, where there are choices.
    pub choice: usize,
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
    /// `now`), the first choice of a manual step already chosen.
    pub(crate) fn new(request: HumanRequest, t0: jiff::Timestamp, now: jiff::Timestamp) -> Self {
        let picker = match &request.question {
            Question::PickRecoveryPoint {
                sources, newest, ..
            } => Some(Picker::new(sources.clone(), t0, now).preselecting(newest.clone())),
            _ => None,
        };
        let input = match &request.question {
            Question::Acknowledge { choices, .. } if !choices.is_empty() => choices[0].clone(),
            _ => String::new(),
        };
        Self {
            request,
            input,
            choice: 0,
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
        let n_choices = match &self.request.question {
            Question::Failure { .. } => FAILURE_CHOICES.len(),
            Question::Interrupted => INTERRUPTED_CHOICES.len(),
            Question::Approve { .. } => 2,
            Question::Acknowledge { choices, .. } => choices.len(),
            _ => 0,
        };
        match press {
            Keypress::Act(a @ (Action::Next | Action::Previous)) if n_choices > 0 => {
                self.choice = if a == Action::Next {
                    (self.choice + 1) % n_choices
                } else {
                    (self.choice + n_choices - 1) % n_choices
                };
                if let Question::Acknowledge { choices, .. } = &self.request.question {
                    self.input = choices[self.choice].clone();
                }
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

    /// Enter in a dialog: the answer, or why not (shown).
    fn answer(&mut self) -> Option<PromptRequest> {
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
            Question::Acknowledge { question, .. } => {
                if question.is_some() && self.input.trim().is_empty() {
                    self.error = Some("type an answer first".into());
                    return None;
                }
                (
                    Answer::Acknowledged {
                        answer: question.as_ref().map(|_| self.input.trim().to_owned()),
                    },
                    None,
                )
            }
            Question::Approve { .. } => (
                if self.choice == 0 {
                    Answer::Approved
                } else {
                    Answer::Declined
                },
                note,
            ),
            Question::Failure { .. } => (FAILURE_CHOICES[self.choice].1.clone(), note),
            Question::Interrupted => (INTERRUPTED_CHOICES[self.choice].1.clone(), note),
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
    let mut lines: Vec<Line> = Vec::new();
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
            lines.push(Line::from(vec![
                Span::raw("Type "),
                Span::styled(text.clone(), theme.title),
                Span::raw(" to confirm; Esc leaves the step waiting."),
            ]));
            let matches = prompt.input == *text;
            lines.push(Line::from(vec![
                Span::raw("> "),
                Span::styled(
                    format!("{}▏", prompt.input),
                    if matches { theme.good } else { theme.text },
                ),
            ]));
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
                lines.push(Line::from(Span::styled(q.clone(), theme.title)));
                if choices.is_empty() {
                    lines.push(Line::raw(format!("> {}▏", prompt.input)));
                } else {
                    let c: Vec<&str> = choices.iter().map(String::as_str).collect();
                    lines.push(choice_line(app, &c, prompt.choice));
                }
            } else {
                lines.push(Line::raw("Enter when done."));
            }
            (" Manual step ", theme.warn)
        }
        Question::Approve { instructions } => {
            if let Some(i) = instructions {
                lines.extend(markdown::to_lines(i));
                lines.push(Line::default());
            }
            lines.push(choice_line(app, &["approve", "decline"], prompt.choice));
            lines.push(Line::raw(format!("note: {}▏", prompt.input)));
            (" Approval ", theme.warn)
        }
        Question::Failure { error } => {
            lines.push(Line::from(Span::styled(error.clone(), theme.bad)));
            lines.push(Line::default());
            let c: Vec<&str> = FAILURE_CHOICES.iter().map(|(n, _)| *n).collect();
            lines.push(choice_line(app, &c, prompt.choice));
            lines.push(Line::raw(format!("note: {}▏", prompt.input)));
            (" A step failed ", theme.bad)
        }
        Question::Interrupted => {
            lines.push(Line::raw(
                "This step was running when the console stopped. Did it finish?",
            ));
            let c: Vec<&str> = INTERRUPTED_CHOICES.iter().map(|(n, _)| *n).collect();
            lines.push(choice_line(app, &c, prompt.choice));
            lines.push(Line::raw(format!("note: {}▏", prompt.input)));
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
                lines.push(Line::raw(
                    "Enter restores from this point; Esc goes back to the list.",
                ));
            }
            (" Use this recovery point? ", theme.warn)
        }
    };
    if let Some(e) = &prompt.error {
        lines.push(Line::from(Span::styled(e.clone(), theme.bad)));
    }
    let width = 80.min(area.width.saturating_sub(4)).max(40);
    // Rows after wrapping, so the input line is never cut off.
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let height = (rows as u16 + 3).min(area.height);
    let rect = centered(area, width, height);
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(border)
                .title(Span::styled(title, border))
                .title_bottom(format!(" {} — {} ", request.step, request.title)),
        )
        .render(rect, buf);
}
