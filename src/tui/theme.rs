//! Colours by meaning, in palettes that stay readable on dark and light
//! terminals (only the 16 ANSI colours and the terminal's own foreground).

use ratatui::style::{Color, Modifier, Style};
use serde::{Deserialize, Serialize};

use crate::engine::event::Outcome;

/// Which palette.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThemeName {
    /// For dark backgrounds.
    #[default]
    Dark,
    /// For light backgrounds.
    Light,
    /// No colour, only bold and reverse (also with `NO_COLOR`).
    Mono,
}

/// Styles by meaning.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Plain text.
    pub text: Style,
    /// Secondary text.
    pub dim: Style,
    /// Titles and headers.
    pub title: Style,
    /// The selected row.
    pub selected: Style,
    /// Succeeded, met, within target.
    pub good: Style,
    /// Near a target, waiting for a person.
    pub warn: Style,
    /// Failed, missed, destructive.
    pub bad: Style,
    /// Running now.
    pub active: Style,
    /// The SIMULATED label.
    pub simulated: Style,
    /// Borders.
    pub border: Style,
}

impl Theme {
    /// The palette named.
    pub fn new(name: ThemeName) -> Self {
        let fg = |c: Color| Style::new().fg(c);
        let bold = Modifier::BOLD;
        match name {
            ThemeName::Mono => Theme {
                text: Style::new(),
                dim: Style::new().add_modifier(Modifier::DIM),
                title: Style::new().add_modifier(bold),
                selected: Style::new().add_modifier(Modifier::REVERSED),
                good: Style::new(),
                warn: Style::new().add_modifier(bold),
                bad: Style::new().add_modifier(bold | Modifier::UNDERLINED),
                active: Style::new().add_modifier(bold),
                simulated: Style::new().add_modifier(Modifier::REVERSED),
                border: Style::new(),
            },
            ThemeName::Dark | ThemeName::Light => {
                let (good, warn, active) = if name == ThemeName::Dark {
                    (Color::Green, Color::Yellow, Color::Cyan)
                } else {
                    // Yellow and cyan wash out on white.
                    (Color::Green, Color::Magenta, Color::Blue)
                };
                Theme {
                    text: Style::new(),
                    dim: Style::new().add_modifier(Modifier::DIM),
                    title: Style::new().add_modifier(bold),
                    selected: Style::new().add_modifier(Modifier::REVERSED),
                    good: fg(good),
                    warn: fg(warn).add_modifier(bold),
                    bad: fg(Color::Red).add_modifier(bold),
                    active: fg(active).add_modifier(bold),
                    simulated: Style::new()
                        .fg(Color::Black)
                        .bg(Color::Magenta)
                        .add_modifier(bold),
                    border: Style::new().add_modifier(Modifier::DIM),
                }
            }
        }
    }

    /// The style of a step's outcome.
    pub fn outcome(&self, outcome: Outcome) -> Style {
        match outcome {
            Outcome::Succeeded => self.good,
            Outcome::Waived | Outcome::Skipped => self.dim,
            Outcome::Failed | Outcome::Aborted => self.bad,
            Outcome::Cancelled | Outcome::Interrupted => self.warn,
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme::new(ThemeName::Dark)
    }
}
