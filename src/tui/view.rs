//! Drawing: a pure function of the console's state. The screen is drawn,
//! then the key hints, then each overlay open from the bottom up; each
//! layer's widget lives in its module and borrows the state. Nothing here
//! changes the state. Shared pieces (a titled block, the identity, a
//! centred rectangle, a row of choices) are here.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::app::{App, Layer, Screen};
use super::help::HelpOverlay;
use super::keymap::{Action, Context};
use super::picker::PickerView;
use super::prompt::PromptDialog;
use super::quit::QuitDialog;
use super::run_screen::RunScreen;
pub use super::run_screen::rto_style;
use super::start::StartScreen;
use super::start_despite::StartDespiteDialog;
use super::theme::Theme;

/// Draws the whole console.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let [body, footer] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    let layers = app.layers();
    for (i, layer) in layers.iter().enumerate() {
        match (layer, &app.screen, app.prompts.front()) {
            (Layer::Start, Screen::Start(form), _) => {
                frame.render_widget(&StartScreen { app, form }, body)
            }
            (Layer::Run, Screen::Run(view), _) => {
                let body = super::watch::banner(frame, app, body);
                frame.render_widget(&RunScreen { app, view }, body)
            }
            (Layer::Picker, _, Some(prompt)) => {
                if let Some(picker) = prompt.picking() {
                    frame.render_widget(
                        &PickerView {
                            app,
                            prompt,
                            picker,
                        },
                        area,
                    )
                }
            }
            (Layer::Question, _, Some(prompt)) => {
                frame.render_widget(&PromptDialog { app, prompt }, area)
            }
            (Layer::StartDespite, ..) => {
                if let Some(dialog) = &app.start_despite {
                    frame.render_widget(&StartDespiteDialog { app, dialog }, area)
                }
            }
            (Layer::Quit, ..) => frame.render_widget(&QuitDialog { app }, area),
            (Layer::Help, ..) => frame.render_widget(&HelpOverlay { app }, area),
            _ => {}
        }
        // The key hints are over the screen and under every overlay.
        if i == 0 {
            draw_footer(frame, footer, app, &layers);
        }
    }
}

/// A bordered block titled `title`.
pub(crate) fn block<'a>(title: impl Into<Line<'a>>, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(title)
}

/// Who acts, as the headers show it (marked when simulated).
pub(crate) fn identity_span(app: &App) -> Span<'static> {
    let text = app.identity.describe();
    if app.identity.simulated {
        Span::styled(format!(" {text} "), app.theme.simulated)
    } else {
        Span::styled(text, app.theme.title)
    }
}

/// A runbook's RTO or RPO target.
pub(crate) fn target(
    d: Option<&crate::runbook::model::Spanned<crate::runbook::model::Dur>>,
) -> Option<Duration> {
    d.map(|d| d.value.0)
}

fn hints(app: &App, context: Context, actions: &[Action]) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for &a in actions {
        let keys = app.keymap.keys(context, a);
        let keys = if keys.is_empty() {
            app.keymap.keys(Context::Global, a)
        } else {
            keys
        };
        // On the start form a character is text: hint a key that is not.
        let key = if context == Context::Start {
            keys.iter().find(|k| k.chars().count() > 1).or(keys.first())
        } else {
            keys.first()
        };
        if let Some(k) = key {
            spans.push(Span::styled(format!(" {k} "), app.theme.selected));
            spans.push(Span::raw(format!(" {}  ", short(a))));
        }
    }
    spans
}

fn short(a: Action) -> &'static str {
    match a {
        Action::Quit => "leave",
        Action::Help => "help",
        Action::StartRun => "start",
        Action::Next => "next",
        Action::ToggleMode => "mode",
        Action::SwitchTab => "timeline",
        Action::Search => "search",
        Action::ScrollUp => "scroll",
        Action::Enter => "choose",
        Action::Back => "back",
        Action::Sort => "sort",
        Action::Refresh => "refresh",
        Action::Interrupt => "abort",
        Action::Preflight => "preflight",
        _ => "",
    }
}

fn draw_footer(frame: &mut Frame, area: Rect, app: &App, layers: &[Layer]) {
    if let Some((toast, _)) = &app.toast {
        frame.render_widget(
            Paragraph::new(Span::styled(toast.clone(), app.theme.warn)),
            area,
        );
        return;
    }
    // The hints of the top layer the help is over.
    let layer = layers
        .iter()
        .rev()
        .find(|l| **l != Layer::Help)
        .copied()
        .unwrap_or(Layer::Start);
    let (context, actions): (Context, &[Action]) = match layer {
        Layer::Start => (
            Context::Start,
            &[
                Action::Next,
                Action::ToggleMode,
                Action::StartRun,
                Action::Preflight,
                Action::Help,
                Action::Quit,
            ],
        ),
        Layer::Run => (
            Context::Run,
            &[
                Action::SwitchTab,
                Action::Search,
                Action::ScrollUp,
                Action::Help,
                Action::Quit,
            ],
        ),
        Layer::Picker => (
            Context::Picker,
            &[
                Action::Enter,
                Action::Search,
                Action::Sort,
                Action::Refresh,
                Action::Back,
            ],
        ),
        Layer::Question | Layer::StartDespite | Layer::Quit | Layer::Help => {
            (Context::Dialog, &[Action::Enter, Action::Back])
        }
    };
    let mut spans = hints(app, context, actions);
    if layer == Layer::Run && !app.prompts.is_empty() {
        spans.push(Span::styled(
            format!(" {} waiting: Enter ", app.prompts.len()),
            app.theme.warn.reversed(),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A rectangle of `w` x `h` in the middle of `area` (clamped).
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// A row of choices, the selected one highlighted.
pub(crate) fn choice_line(app: &App, choices: &[&str], selected: usize) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, c) in choices.iter().enumerate() {
        let style = if i == selected {
            app.theme.selected
        } else {
            app.theme.dim
        };
        spans.push(Span::styled(format!(" {c} "), style));
        spans.push(Span::raw("  "));
    }
    Line::from(spans)
}
