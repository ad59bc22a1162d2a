//! The "leave?" dialog: Enter leaves, Esc stays. Leaving (and cancelling
//! a run still going) is the console's.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use super::app::{App, Screen};
use super::keymap::{Action, Context, KeyScope, Keypress, Typing};
use super::view::{block, centered};

/// What the operator chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuitChoice {
    /// Leave the console.
    Leave,
    /// Close the dialog.
    Stay,
}

/// Where the dialog reads keys: a dialog's; characters are nothing here.
pub fn scope() -> KeyScope {
    KeyScope::keys(&[Context::Dialog]).typing(Typing::Guarded)
}

/// Takes a key; returns the choice, if it is one.
pub fn handle(press: Keypress) -> Option<QuitChoice> {
    match press {
        Keypress::Act(Action::Enter) => Some(QuitChoice::Leave),
        Keypress::Act(Action::Back) => Some(QuitChoice::Stay),
        _ => None,
    }
}

/// The dialog as drawn.
pub struct QuitDialog<'a> {
    /// The console (is a run going, its id to resume).
    pub app: &'a App,
}

impl Widget for &QuitDialog<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let running = matches!(&app.screen, Screen::Run(v) if v.outcome.is_none());
        let resume = match &app.screen {
            Screen::Run(v) => v.run_id.clone().unwrap_or_default(),
            Screen::Start(_) => String::new(),
        };
        let mut lines = vec![Line::raw(if running {
            "Leave now? Running steps are cancelled; the journal keeps everything."
        } else {
            "Leave the console?"
        })];
        if running && !resume.is_empty() {
            lines.push(Line::raw(format!(
                "Resume later with: dr-drill resume {resume}"
            )));
        }
        lines.push(Line::default());
        lines.push(Line::raw("Enter leaves; Esc stays."));
        let rect = centered(area, 76, lines.len() as u16 + 2);
        Clear.render(rect, buf);
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(" Leave? ", &app.theme))
            .render(rect, buf);
    }
}
