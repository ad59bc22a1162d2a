//! "Start despite failed checks?": the dialog over the start screen when
//! the operator starts a run while preflight has failed findings. It names
//! each failure; no bare Enter starts the run: "start anyway" must be
//! chosen first, as in the other dialogs. Starting is the console's.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use super::app::{App, Command};
use super::keymap::{Action, Context, KeyScope, Keypress, Typing};
use super::preflight::finding_lines;
use super::view::{block, centered, choice_line};
use crate::preflight::Finding;

/// The dialog's buttons, in order.
pub const START_DESPITE_CHOICES: [&str; 2] = ["start anyway", "go back"];

/// The dialog's state.
#[derive(Debug, Clone)]
pub struct StartDespite {
    /// The start the operator asked for, held until confirmed.
    pub start: Command,
    /// The failed findings it names.
    pub failures: Vec<Finding>,
    /// Whether preflight was still going when the start was asked.
    pub running: bool,
    /// The choice made, none at first.
    pub choice: Option<usize>,
    /// Why Enter did nothing.
    pub error: Option<String>,
    /// Lines the failures are scrolled down by.
    pub scroll: u16,
}

/// What the operator chose.
#[derive(Debug, Clone, PartialEq)]
pub enum StartDespiteChoice {
    /// Start the run held.
    Start(Command),
    /// Close the dialog; nothing starts.
    Back,
}

impl StartDespite {
    /// The dialog for `start`, naming `failures`.
    pub fn new(start: Command, failures: Vec<Finding>, running: bool) -> Self {
        StartDespite {
            start,
            failures,
            running,
            choice: None,
            error: None,
            scroll: 0,
        }
    }

    /// Where the dialog reads keys: a dialog's; characters are nothing.
    pub fn scope() -> KeyScope {
        KeyScope::keys(&[Context::Dialog]).typing(Typing::Guarded)
    }

    /// Takes a key; returns the choice, once one is made.
    pub fn handle(&mut self, press: Keypress) -> Option<StartDespiteChoice> {
        let n = START_DESPITE_CHOICES.len();
        match press {
            Keypress::Act(Action::Back) => return Some(StartDespiteChoice::Back),
            Keypress::Act(a @ (Action::Next | Action::Previous)) => {
                self.choice = Some(match (self.choice, a == Action::Next) {
                    (None, true) => 0,
                    (None, false) => n - 1,
                    (Some(c), true) => (c + 1) % n,
                    (Some(c), false) => (c + n - 1) % n,
                });
                self.error = None;
            }
            Keypress::Act(Action::ScrollDown) => self.scroll = self.scroll.saturating_add(5),
            Keypress::Act(Action::ScrollUp) => self.scroll = 0,
            Keypress::Act(Action::Enter) => match self.choice {
                Some(0) => return Some(StartDespiteChoice::Start(self.start.clone())),
                Some(_) => return Some(StartDespiteChoice::Back),
                None => {
                    self.error = Some(
                        "nothing is chosen: pick `start anyway` or `go back` with ←/→ or Tab, then Enter"
                            .into(),
                    )
                }
            },
            _ => {}
        }
        None
    }
}

/// The dialog as drawn.
pub struct StartDespiteDialog<'a> {
    /// The console (theme).
    pub app: &'a App,
    /// The dialog.
    pub dialog: &'a StartDespite,
}

impl Widget for &StartDespiteDialog<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, dialog) = (self.app, self.dialog);
        let theme = &app.theme;
        let n = dialog.failures.len();
        let mut lines = vec![Line::styled(
            format!(
                "Preflight found {n} failed check{}{}: the run will likely fail where {}.",
                if n == 1 { "" } else { "s" },
                if dialog.running {
                    " so far (it is still checking)"
                } else {
                    ""
                },
                if n == 1 { "it says" } else { "they say" }
            ),
            theme.bad,
        )];
        for f in &dialog.failures {
            lines.push(Line::default());
            lines.extend(finding_lines(f, theme));
        }
        let width = area.width.saturating_sub(4).min(100);
        let inner_w = width.saturating_sub(2);
        let body_height: u16 = lines
            .iter()
            .map(|l| {
                let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                super::start::wrapped_height(&text, inner_w)
            })
            .sum();
        // The buttons and the error below the failures, always in view.
        let tail = 3;
        let height = (body_height + tail + 2).min(area.height.saturating_sub(2));
        let rect = centered(area, width, height);
        Clear.render(rect, buf);
        let frame = block(" Start despite failed checks? ", theme);
        let inner = frame.inner(rect);
        frame.render(rect, buf);
        let [body, gap, buttons, error] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        let max_scroll = body_height.saturating_sub(body.height);
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((dialog.scroll.min(max_scroll), 0))
            .render(body, buf);
        if dialog.scroll < max_scroll {
            Line::styled(" pgdn: more ↓ ", theme.dim).render(gap, buf);
        }
        choice_line(
            app,
            &START_DESPITE_CHOICES,
            dialog.choice.unwrap_or(usize::MAX),
        )
        .render(buttons, buf);
        let hint = dialog.error.clone().unwrap_or_else(|| {
            "←/→ or Tab chooses, Enter confirms; Esc goes back to the form".into()
        });
        Line::styled(
            hint,
            if dialog.error.is_some() {
                theme.bad
            } else {
                theme.dim
            },
        )
        .render(error, buf);
    }
}
