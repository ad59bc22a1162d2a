//! The start screen's preflight panel: what preflight has found so far,
//! per area, filled in as each finding arrives and never in the way of the
//! form. It owns the panel's state (which preflight it shows, the findings,
//! expanded or not, scroll) and its drawing; running preflight is the
//! loop's (`Command::Preflight`), and what a finding means is preflight's.
//! Every text in a finding comes from outside (AWS answers, parameters):
//! it is drawn only through [`printable`].

use std::collections::BTreeMap;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::app::App;
use super::keymap::{Action, Context};
use super::start::wrapped_height;
use super::theme::Theme;
use super::view::block;
use crate::format::printable;
use crate::preflight::{Area, Finding, Preflight, Verdict};
use crate::runbook::Mode;

/// Rows the panel takes collapsed: one line per area and its borders.
pub const COLLAPSED_HEIGHT: u16 = Area::ALL.len() as u16 + 2;

/// The spinner's frames, one per clock tick.
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Where the panel's preflight is.
#[derive(Debug, Clone, PartialEq)]
pub enum PanelState {
    /// None asked for yet: the panel is not shown.
    NotAsked,
    /// Checks are going on; findings arrive as they are made.
    Running,
    /// Every area finished.
    Done(Box<Preflight>),
    /// Preflight could not run (parameters that do not resolve, a task
    /// that failed): why, and what to do.
    Stopped(String),
}

/// The panel's state.
#[derive(Debug, Clone)]
pub struct PreflightPanel {
    /// The preflight shown; findings of an earlier one are dropped.
    pub generation: u64,
    /// Where it is.
    pub state: PanelState,
    /// The findings so far, in the order they came (in area order once
    /// done).
    pub findings: Vec<Finding>,
    /// The parameters and mode it checked.
    pub checked: Option<(BTreeMap<String, String>, Mode)>,
    /// The operator toggled the findings list (shown when the panel has
    /// room and not toggled, or toggled on a small screen).
    pub toggled: bool,
    /// Lines the findings list is scrolled down by.
    pub scroll: u16,
}

impl Default for PreflightPanel {
    fn default() -> Self {
        PreflightPanel {
            generation: 0,
            state: PanelState::NotAsked,
            findings: Vec::new(),
            checked: None,
            toggled: false,
            scroll: 0,
        }
    }
}

impl PreflightPanel {
    /// A new preflight of `params` in `mode` starts; returns its
    /// generation.
    pub fn ask(&mut self, params: BTreeMap<String, String>, mode: Mode) -> u64 {
        self.generation += 1;
        self.state = PanelState::Running;
        self.findings.clear();
        self.checked = Some((params, mode));
        self.scroll = 0;
        self.generation
    }

    /// A finding of preflight `generation` arrived.
    pub fn take(&mut self, generation: u64, finding: Finding) {
        if generation == self.generation && self.state == PanelState::Running {
            self.findings.push(finding);
        }
    }

    /// Preflight `generation` finished (or could not run).
    pub fn finish(&mut self, generation: u64, result: Result<Box<Preflight>, String>) {
        if generation != self.generation {
            return;
        }
        self.state = match result {
            Ok(found) => {
                self.findings = found.findings.clone();
                PanelState::Done(found)
            }
            Err(e) => PanelState::Stopped(e),
        };
    }

    /// Whether checks are going on.
    pub fn running(&self) -> bool {
        self.state == PanelState::Running
    }

    /// The failed findings so far.
    pub fn failures(&self) -> Vec<&Finding> {
        self.findings
            .iter()
            .filter(|f| f.verdict == Verdict::Fail)
            .collect()
    }

    /// Whether the form's values differ from the ones checked.
    pub fn stale(&self, params: &BTreeMap<String, String>, mode: Mode) -> bool {
        self.checked
            .as_ref()
            .is_some_and(|(p, m)| p != params || *m != mode)
    }

    /// The worst verdict of `area` so far and how many findings had each
    /// verdict (pass, unchecked, warning, fail).
    fn tally(&self, area: Area) -> (Option<Verdict>, [usize; 4]) {
        let mut counts = [0; 4];
        let mut worst = None;
        for f in self.findings.iter().filter(|f| f.area == area) {
            counts[f.verdict as usize] += 1;
            worst = worst.max(Some(f.verdict));
        }
        (worst, counts)
    }
}

/// A finding's text, safe for the terminal and on one line.
pub(crate) fn clean(text: &str) -> String {
    printable(text).replace('\n', " ")
}

/// How a verdict is marked and coloured.
pub(crate) fn mark(verdict: Verdict, theme: &Theme) -> (&'static str, Style) {
    match verdict {
        Verdict::Pass => ("✓", theme.good),
        Verdict::Unchecked => ("?", theme.dim),
        Verdict::Warn => ("!", theme.warn),
        Verdict::Fail => ("✗", theme.bad),
    }
}

/// "3 ok, 1 FAIL".
fn counts_text(counts: [usize; 4]) -> String {
    [
        Verdict::Pass,
        Verdict::Unchecked,
        Verdict::Warn,
        Verdict::Fail,
    ]
    .iter()
    .zip(counts)
    .filter(|(_, n)| *n > 0)
    .map(|(v, n)| format!("{n} {}", v.word()))
    .collect::<Vec<_>>()
    .join(", ")
}

/// The lines of one finding: what, then the detail, then the fix.
pub(crate) fn finding_lines(f: &Finding, theme: &Theme) -> Vec<Line<'static>> {
    let (sign, style) = mark(f.verdict, theme);
    let mut head = vec![
        Span::styled(format!("{sign} {} ", f.verdict.word()), style),
        Span::styled(format!("{} · ", f.area.word()), theme.dim),
    ];
    if let Some(step) = &f.step {
        head.push(Span::styled(format!("step {} · ", clean(step)), theme.dim));
    }
    head.push(Span::styled(clean(&f.subject), theme.title));
    let mut lines = vec![
        Line::from(head),
        Line::raw(format!("  {}", clean(&f.detail))),
    ];
    if let Some(fix) = &f.fix {
        lines.push(Line::from(vec![
            Span::styled("  fix: ", theme.dim),
            Span::raw(clean(fix)),
        ]));
    }
    lines
}

/// The panel as drawn.
pub struct PreflightView<'a> {
    /// The console (theme, keys, clock).
    pub app: &'a App,
    /// The panel.
    pub panel: &'a PreflightPanel,
    /// The form's values are not the ones checked.
    pub stale: bool,
    /// Whether the findings list is shown.
    pub expanded: bool,
}

impl PreflightView<'_> {
    fn key(&self, action: Action) -> String {
        let keys = self.app.keymap.keys(Context::Start, action);
        keys.iter()
            .find(|k| k.chars().count() > 1)
            .or(keys.first())
            .cloned()
            .unwrap_or_else(|| "?".into())
    }

    fn area_line(&self, area: Area, spinner: &'static str) -> Line<'static> {
        let theme = &self.app.theme;
        let (worst, counts) = self.panel.tally(area);
        let name = format!("{:<12}", area.word());
        let counts = counts_text(counts);
        match (&self.panel.state, worst) {
            (PanelState::Running, _) => Line::from(vec![
                Span::styled(format!("{spinner} "), theme.active),
                Span::raw(name),
                Span::styled(format!("{:<10}", "checking"), theme.active),
                Span::styled(
                    counts,
                    match worst {
                        Some(w) if w >= Verdict::Warn => mark(w, theme).1,
                        _ => theme.dim,
                    },
                ),
            ]),
            (_, Some(worst)) => {
                let (sign, style) = mark(worst, theme);
                Line::from(vec![
                    Span::styled(format!("{sign} "), style),
                    Span::raw(name),
                    Span::styled(format!("{:<10}", worst.word()), style),
                    Span::styled(counts, theme.dim),
                ])
            }
            (_, None) => Line::from(vec![
                Span::styled("– ", theme.dim),
                Span::raw(name),
                Span::styled("nothing to check", theme.dim),
            ]),
        }
    }
}

impl Widget for &PreflightView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, panel) = (self.app, self.panel);
        let theme = &app.theme;
        let tick = (app.now.as_millisecond().rem_euclid(2500) / 250) as usize;
        let spinner = SPINNER[tick % SPINNER.len()];
        let mut title = vec![Span::raw(" Preflight ")];
        match &panel.state {
            PanelState::NotAsked => {}
            PanelState::Running => {
                title.push(Span::styled(format!(" {spinner} checking… "), theme.active))
            }
            PanelState::Done(found) => {
                let counts = [Verdict::Fail, Verdict::Warn, Verdict::Unchecked]
                    .map(|v| (v, found.count(v)))
                    .iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(v, n)| {
                        format!(
                            "{n} {}",
                            if *v == Verdict::Fail {
                                "FAILED"
                            } else {
                                v.word()
                            }
                        )
                    })
                    .collect::<Vec<_>>();
                let word = match counts.is_empty() {
                    true => "all clear".to_string(),
                    false => counts.join(", "),
                };
                let style = match found.verdict() {
                    Verdict::Fail => theme.bad,
                    Verdict::Warn => theme.warn,
                    Verdict::Unchecked => theme.text,
                    Verdict::Pass => theme.good,
                };
                title.push(Span::styled(format!(" {word} "), style));
                title.push(Span::styled(
                    format!(" in {:.1} s ", found.took.max(0.0)),
                    theme.dim,
                ));
            }
            PanelState::Stopped(_) => title.push(Span::styled(" did not run ", theme.bad)),
        }
        let mut frame = block(Line::from(title), theme);
        if self.stale && !panel.running() {
            frame = frame.title_bottom(Line::styled(
                format!(
                    " values changed: {} checks again ",
                    self.key(Action::Preflight)
                ),
                theme.warn,
            ));
        }
        // Worst first: what fails, what warns, then what to check by hand.
        let mut listed: Vec<&Finding> = panel
            .findings
            .iter()
            .filter(|f| f.verdict > Verdict::Pass)
            .collect();
        listed.sort_by_key(|f| std::cmp::Reverse(f.verdict));
        frame = frame.title_bottom(
            Line::styled(
                format!(
                    " {}: {} ",
                    self.key(Action::PreflightFindings),
                    if self.expanded {
                        "hide findings".to_string()
                    } else {
                        match listed.len() {
                            0 => "findings".to_string(),
                            1 => "1 finding".to_string(),
                            n => format!("{n} findings"),
                        }
                    }
                ),
                theme.dim,
            )
            .right_aligned(),
        );
        let inner = frame.inner(area);
        frame.render(area, buf);

        let mut top: Vec<Line> = match &panel.state {
            PanelState::Stopped(why) => vec![Line::styled(clean(why), theme.bad)],
            _ => Area::ALL
                .iter()
                .map(|&a| self.area_line(a, spinner))
                .collect(),
        };
        if !self.expanded {
            Paragraph::new(std::mem::take(&mut top))
                .wrap(Wrap { trim: false })
                .render(inner, buf);
            return;
        }
        let top_height = (top.len() as u16).min(inner.height);
        let [head, list] =
            Layout::vertical([Constraint::Length(top_height), Constraint::Fill(1)]).areas(inner);
        Paragraph::new(top)
            .wrap(Wrap { trim: false })
            .render(head, buf);
        if list.height < 2 {
            return;
        }
        let mut lines = vec![Line::default()];
        if listed.is_empty() {
            lines.push(Line::styled(
                if panel.running() {
                    "nothing to act on so far"
                } else {
                    "nothing to act on: every check passed"
                },
                theme.dim,
            ));
        }
        for f in &listed {
            lines.extend(finding_lines(f, theme));
        }
        let total: u16 = lines
            .iter()
            .map(|l| {
                let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                wrapped_height(&text, list.width)
            })
            .sum();
        let max_scroll = total.saturating_sub(list.height);
        let scroll = panel.scroll.min(max_scroll);
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .render(list, buf);
        if scroll < max_scroll {
            let hint = format!(" {} more ↓ ", self.key(Action::ScrollDown));
            let w = hint.chars().count() as u16;
            if w < list.width {
                buf.set_string(
                    list.x + list.width - w,
                    list.y + list.height - 1,
                    hint,
                    theme.selected,
                );
            }
        }
    }
}
