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

/// Takes a key in the help: scrolls `scroll` (the first line shown) and
/// returns whether it closes the help (the help toggle itself is the
/// console's, in every layer).
pub fn handle(press: Keypress, app: &App, scroll: &mut u16) -> bool {
    // The drawing clamps to what the terminal shows; here, to the lines
    // there are, less a small screen's worth.
    let last = (lines(app).len() as u16).saturating_sub(MIN_ROWS);
    *scroll = match press {
        Keypress::Act(Action::Back) => return true,
        Keypress::Act(Action::Up) => scroll.saturating_sub(1),
        Keypress::Act(Action::Down) => scroll.saturating_add(1),
        Keypress::Act(Action::PageUp) => scroll.saturating_sub(10),
        Keypress::Act(Action::PageDown) => scroll.saturating_add(10),
        Keypress::Act(Action::Top) => 0,
        Keypress::Act(Action::Bottom) => last,
        _ => *scroll,
    }
    .min(last);
    false
}

/// Rows of text the help shows at the least (a 60x20 terminal).
const MIN_ROWS: u16 = 14;

fn lines(app: &App) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (context, name) in CONTEXTS {
        // Watching, the keys that would act are not listed.
        let table: Vec<_> = (app.keymap.table(context).into_iter())
            .filter(|(action, _)| super::watch::listed(app, context, *action))
            .collect();
        if table.is_empty() {
            continue;
        }
        lines.push(Line::from(Span::styled(name, app.theme.title)));
        for (action, keys) in table {
            lines.push(Line::from(vec![
                Span::raw(format!("  {:<22}", keys.join(", "))),
                Span::raw(super::watch::describe(app, action)),
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
    lines
}

/// The help overlay as drawn.
pub struct HelpOverlay<'a> {
    /// The console (keymap, theme, log and config paths).
    pub app: &'a App,
}

impl Widget for &HelpOverlay<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let lines = lines(app);
        let rect = centered(area, 86, area.height.saturating_sub(2));
        let rows = rect.height.saturating_sub(2);
        let total = lines.len() as u16;
        let scroll = app.help_scroll.min(total.saturating_sub(rows));
        let below = total.saturating_sub(scroll + rows);
        // The sign that there is more: where, and how to get there.
        let title = match (scroll, below) {
            (0, 0) => " Keys (? or Esc closes) ".to_owned(),
            (_, 0) => " Keys (? or Esc closes)  ↑ PgUp: more above ".to_owned(),
            _ => " Keys (? or Esc closes)  ↓ PgDn: more ".to_owned(),
        };
        let mut block = block(title, &app.theme);
        if below > 0 {
            block = block.title_bottom(Line::styled(
                format!(" … {below} more lines below ↓ "),
                app.theme.dim,
            ));
        }
        Clear.render(rect, buf);
        Paragraph::new(Text::from(lines))
            .scroll((scroll, 0))
            .block(block)
            .render(rect, buf);
    }
}
