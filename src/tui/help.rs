//! The help overlay: every key of the keymap by context, where the log and
//! the config file are. It has no state of its own; it reads the keymap.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Clear, Paragraph, Widget};

use super::app::App;
use super::keymap::{Action, Context, KeyScope, Keypress};
use super::view::{block, centered};

/// Every context, in the order the help (and `docs/keys.md`) lists them,
/// with its heading.
pub const CONTEXTS: [(Context, &str); 8] = [
    (Context::Global, "Everywhere"),
    (Context::Start, "Start screen"),
    (Context::Run, "Run screen"),
    (Context::Picker, "Recovery point picker"),
    (
        Context::Dialog,
        "Dialogs (text you type goes to the dialog)",
    ),
    (Context::Help, "Help overlay"),
    (
        Context::Input,
        "Text input (start form, dialogs, search, filter)",
    ),
    (Context::Waiting, "Run screen, a question put aside"),
];

/// Where the help reads keys: its own (`?` closes it, from `Global`).
pub fn scope() -> KeyScope {
    KeyScope::keys(&[Context::Help])
}

/// Whether the key closes the help (the help toggle itself is the
/// console's, in every layer).
pub fn closes(press: Keypress) -> bool {
    press == Keypress::Act(Action::Back)
}

/// The help overlay as drawn.
pub struct HelpOverlay<'a> {
    /// The console (keymap, theme, log and config paths).
    pub app: &'a App,
}

impl Widget for &HelpOverlay<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let mut lines = Vec::new();
        for (context, name) in CONTEXTS {
            lines.push(Line::from(Span::styled(name, app.theme.title)));
            for (action, keys) in app.keymap.table(context) {
                lines.push(Line::from(vec![
                    Span::raw(format!("  {:<22}", keys.join(", "))),
                    Span::raw(action.describe()),
                ]));
            }
        }
        lines.push(Line::default());
        lines.push(Line::raw(
            "A destructive step is confirmed only by typing its text exactly.",
        ));
        if let Some(log) = &app.log_path {
            lines.push(Line::raw(format!("Log file: {log}")));
        }
        if let Some(config) = &app.config_path {
            lines.push(Line::raw(format!("Config (keys, theme): {config}")));
        }
        let rect = centered(area, 86, area.height.saturating_sub(2));
        Clear.render(rect, buf);
        Paragraph::new(Text::from(lines))
            .block(block(" Keys (? or Esc closes) ", &app.theme))
            .render(rect, buf);
    }
}
