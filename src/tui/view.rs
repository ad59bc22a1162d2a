//! Drawing: a pure function of the console's state. Nothing here changes
//! the state; everything shown comes from [`App`].

use std::time::Duration;

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, TableState, Wrap};

use super::app::{
    App, FAILURE_CHOICES, INTERRUPTED_CHOICES, Prompt, RunView, Screen, StartForm, StepStatus, Tab,
};
use super::keymap::{Action, Context};
use super::markdown;
use super::picker::{Picker, location};
use super::theme::Theme;
use crate::cloud::human_bytes;
use crate::engine::event::{Outcome, Question, Stream};
use crate::engine::humanize;
use crate::runbook::StepAction;

/// Draws the whole console.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let [body, footer] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    match &app.screen {
        Screen::Start(form) => draw_start(frame, body, app, form),
        Screen::Run(view) => draw_run(frame, body, app, view),
    }
    draw_footer(frame, footer, app);
    if app.prompt_open
        && let Some(prompt) = app.prompts.front()
    {
        match (&prompt.picker, &prompt.chosen) {
            (Some(picker), None) => draw_picker(frame, area, app, prompt, picker),
            _ => draw_prompt(frame, area, app, prompt),
        }
    }
    if app.quitting {
        draw_quit(frame, area, app);
    }
    if app.help {
        draw_help(frame, area, app);
    }
}

fn block<'a>(title: impl Into<Line<'a>>, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(title)
}

fn identity_span(app: &App) -> Span<'static> {
    let text = app.identity.describe();
    if app.identity.simulated {
        Span::styled(format!(" {text} "), app.theme.simulated)
    } else {
        Span::styled(text, app.theme.title)
    }
}

fn target(
    d: Option<&crate::runbook::model::Spanned<crate::runbook::model::Dur>>,
) -> Option<Duration> {
    d.map(|d| d.value.0)
}

fn draw_start(frame: &mut Frame, area: Rect, app: &App, form: &StartForm) {
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
        Line::default(),
    ];
    if let Some(d) = &header.description {
        lines.extend(markdown::to_lines(d));
    }
    let description_height = (lines.len() as u16 + 2).min(area.height / 2);
    let [top, fields] =
        Layout::vertical([Constraint::Length(description_height), Constraint::Min(3)]).areas(area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(" dr-drill ", theme)),
        top,
    );
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
            format!("{value}▏")
        } else {
            value
        };
        let name = format!("{}{}", f.name, if f.required { " *" } else { "" });
        let missing = f.required && f.value.is_empty();
        rows.push(
            Row::new(vec![
                Cell::from(name).style(if missing { theme.warn } else { theme.text }),
                Cell::from(value),
                Cell::from(f.description.clone().unwrap_or_default()).style(theme.dim),
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
            Constraint::Length(22),
            Constraint::Percentage(45),
            Constraint::Fill(1),
        ],
    )
    .block(block(Line::from(title), theme));
    frame.render_widget(table, fields);
}

fn status_symbol(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Pending => "·",
        StepStatus::Queued => "○",
        StepStatus::Running => "▶",
        StepStatus::Asking => "?",
        StepStatus::Done(Outcome::Succeeded) => "✓",
        StepStatus::Done(Outcome::Failed | Outcome::Aborted) => "✗",
        StepStatus::Done(Outcome::Skipped) => "–",
        StepStatus::Done(Outcome::Waived) => "↷",
        StepStatus::Done(Outcome::Cancelled) => "⊘",
        StepStatus::Done(Outcome::Interrupted) => "!",
    }
}

fn status_style(theme: &Theme, status: StepStatus) -> Style {
    match status {
        StepStatus::Pending | StepStatus::Queued => theme.dim,
        StepStatus::Running => theme.active,
        StepStatus::Asking => theme.warn,
        StepStatus::Done(o) => theme.outcome(o),
    }
}

/// The RTO clock's style: calm, then warning past 75% of the target, then
/// alarm past it.
pub fn rto_style(theme: &Theme, elapsed: Duration, target: Option<Duration>) -> Style {
    match target {
        Some(t) if elapsed > t => theme.bad,
        Some(t) if elapsed.as_secs_f64() >= t.as_secs_f64() * 0.75 => theme.warn,
        Some(_) => theme.good,
        None => theme.text,
    }
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

fn draw_run(frame: &mut Frame, area: Rect, app: &App, view: &RunView) {
    let theme = &app.theme;
    let [header, body] = Layout::vertical([Constraint::Length(4), Constraint::Min(3)]).areas(area);
    let rb = &app.runbook.runbook;
    let rto_target = target(rb.rto.as_ref());
    let rpo_target = target(rb.rpo.as_ref());
    let rto = view.rto_at(app.now).unwrap_or_default();
    let rto_text = match (view.rto, rto_target) {
        (Some(r), Some(t)) => format!("RTO {} (stopped) / {}", clock(r), humanize(t)),
        (None, Some(t)) => format!("RTO {} / {}", clock(rto), humanize(t)),
        (Some(r), None) => format!("RTO {} (stopped)", clock(r)),
        (None, None) => format!("RTO {}", clock(rto)),
    };
    let rpo_text = match (view.rpo, rpo_target) {
        (Some(r), Some(t)) => format!("RPO {} / {}", humanize(r), humanize(t)),
        (Some(r), None) => format!("RPO {}", humanize(r)),
        (None, Some(t)) => format!("RPO not chosen yet / {}", humanize(t)),
        (None, None) => "RPO not chosen yet".into(),
    };
    let rpo_style = match (view.rpo, rpo_target) {
        (Some(r), Some(t)) if r > t => theme.bad,
        (Some(_), Some(_)) => theme.good,
        _ => theme.dim,
    };
    let outcome = view.outcome.map(|o| match o {
        Outcome::Succeeded => Span::styled(" SUCCEEDED ", theme.good.reversed()),
        Outcome::Failed => Span::styled(" FAILED ", theme.bad.reversed()),
        _ => Span::styled(" STOPPED ", theme.warn.reversed()),
    });
    let mut first = vec![
        Span::styled(rb.title.value.clone(), theme.title),
        Span::styled(format!("  {} mode", view.mode.as_str()), theme.dim),
    ];
    first.extend(outcome);
    let lines = vec![
        Line::from(first),
        Line::from(vec![
            Span::styled(rto_text, rto_style(theme, rto, rto_target)),
            Span::raw("   "),
            Span::styled(rpo_text, rpo_style),
            Span::styled(
                format!("   elapsed {}", clock(view.elapsed_at(app.now))),
                theme.dim,
            ),
        ]),
        Line::from(vec![
            Span::styled("acting as ", theme.dim),
            identity_span(app),
        ]),
        Line::from(Span::styled(
            match (&view.run_id, &view.journal) {
                (Some(id), Some(j)) => format!("run {id}   journal {j}"),
                (Some(id), None) => format!("run {id}"),
                _ => "starting…".into(),
            },
            theme.dim,
        )),
    ];
    frame.render_widget(Paragraph::new(lines), header);
    match view.tab {
        Tab::Steps => draw_steps(frame, body, app, view),
        Tab::Timeline => draw_timeline(frame, body, app, view),
    }
}

fn step_duration(view: &RunView, row: &super::app::StepRow, now: Timestamp) -> String {
    match (row.started, row.finished) {
        (Some(s), Some(f)) => humanize(f.saturating_sub(s)),
        (Some(s), None) => humanize(view.elapsed_at(now).saturating_sub(s)),
        _ => String::new(),
    }
}

fn draw_steps(frame: &mut Frame, area: Rect, app: &App, view: &RunView) {
    let theme = &app.theme;
    let [list, detail] =
        Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(area);
    let mut rows = Vec::new();
    let mut selected_row = 0;
    let mut phase: Option<&str> = None;
    let group_sizes = {
        let mut sizes = std::collections::HashMap::new();
        for s in &view.steps {
            *sizes.entry(s.group).or_insert(0usize) += 1;
        }
        sizes
    };
    for (i, s) in view.steps.iter().enumerate() {
        if s.phase.as_deref() != phase {
            phase = s.phase.as_deref();
            if let Some(p) = phase {
                let span = view.phases.get(p).map(|(a, b)| {
                    humanize(b.unwrap_or(view.elapsed_at(app.now)).saturating_sub(*a))
                });
                rows.push(Row::new(vec![
                    Cell::from(""),
                    Cell::from(Span::styled(p.to_uppercase(), theme.title)),
                    Cell::from(span.unwrap_or_default()).style(theme.dim),
                ]));
            }
        }
        if i == view.selected {
            selected_row = rows.len();
        }
        let parallel = group_sizes.get(&s.group).copied().unwrap_or(1) > 1;
        let mut title = vec![Span::raw(s.id.clone())];
        if s.destructive {
            title.push(Span::styled(" ⚠", theme.bad));
        }
        if parallel {
            title.push(Span::styled(" ∥", theme.dim));
        }
        if s.attempts > 1 {
            title.push(Span::styled(format!(" ×{}", s.attempts), theme.warn));
        }
        rows.push(Row::new(vec![
            Cell::from(status_symbol(s.status)).style(status_style(theme, s.status)),
            Cell::from(Line::from(title)),
            Cell::from(step_duration(view, s, app.now)).style(theme.dim),
        ]));
    }
    let mut state = TableState::default().with_selected(Some(selected_row));
    frame.render_stateful_widget(
        Table::new(
            rows,
            [
                Constraint::Length(2),
                Constraint::Fill(1),
                Constraint::Length(8),
            ],
        )
        .row_highlight_style(theme.selected)
        .block(block(" Steps  (tab: timeline) ", theme)),
        list,
        &mut state,
    );
    let Some(step) = view.steps.get(view.selected) else {
        return;
    };
    let [info, output] =
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(detail);
    let mut lines = vec![
        Line::from(Span::styled(step.title.clone(), theme.title)),
        Line::from(vec![
            Span::styled(
                format!("{} ", status_symbol(step.status)),
                status_style(theme, step.status),
            ),
            Span::raw(format!(
                "{}  {}",
                step.kind,
                match step.status {
                    StepStatus::Done(o) => format!("{o:?}").to_lowercase(),
                    StepStatus::Asking => "waiting for you (Enter)".into(),
                    other => format!("{other:?}").to_lowercase(),
                }
            )),
            Span::styled(
                if step.destructive {
                    "  destructive: typed confirmation"
                } else {
                    ""
                },
                theme.bad,
            ),
        ]),
    ];
    if let Some(reason) = &step.reason {
        lines.push(Line::from(Span::styled(reason.clone(), theme.bad)));
    }
    let runbook_step = &app.runbook.steps[step.index];
    // Text is resolved as far as the run knows so far.
    if let Some(d) = &runbook_step.description {
        lines.extend(markdown::to_lines(&view.preview(d)));
    }
    match &runbook_step.action {
        StepAction::Manual(m) => {
            lines.extend(markdown::to_lines(&view.preview(&m.instructions.value)))
        }
        StepAction::Approve(a) => {
            if let Some(i) = &a.instructions {
                lines.extend(markdown::to_lines(&view.preview(&i.value)));
            }
        }
        StepAction::Shell(s) => {
            lines.extend(s.run.value.trim_end().lines().enumerate().map(|(i, line)| {
                Line::from(vec![
                    Span::styled(if i == 0 { "$ " } else { "  " }, theme.dim),
                    Span::raw(line.to_owned()),
                ])
            }))
        }
        _ => {}
    }
    // Multi-line templates (instructions) are shown above; one-line fields
    // show what they resolve to now.
    for t in runbook_step
        .templated
        .iter()
        .filter(|t| !t.value.contains('\n'))
    {
        lines.push(Line::from(vec![
            Span::styled(format!("{} → ", t.value), theme.dim),
            Span::raw(view.preview(&t.value)),
        ]));
    }
    for (k, v) in step.outputs.iter().filter(|(_, v)| !v.is_empty()) {
        lines.push(Line::from(vec![
            Span::styled(format!("{k} = "), theme.dim),
            Span::raw(v.clone()),
        ]));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(" Step ", theme)),
        info,
    );
    let shown = view.shown_output();
    let height = output.height.saturating_sub(2) as usize;
    let end = shown.len().saturating_sub(view.scroll.min(shown.len()));
    let start = end.saturating_sub(height);
    let text: Vec<Line> = shown[start..end]
        .iter()
        .map(|(stream, line)| match stream {
            Stream::Stdout => Line::raw(line.clone()),
            Stream::Stderr => Line::styled(line.clone(), theme.warn),
        })
        .collect();
    let title = match &view.search {
        Some((s, true)) => format!(" Output  /{s}▏ "),
        Some((s, false)) => format!(" Output  /{s}  ({} lines) ", shown.len()),
        None if view.scroll > 0 => format!(" Output  ({} lines up) ", view.scroll),
        None => " Output ".into(),
    };
    frame.render_widget(Paragraph::new(text).block(block(title, theme)), output);
}

fn draw_timeline(frame: &mut Frame, area: Rect, app: &App, view: &RunView) {
    let theme = &app.theme;
    let inner_width = area.width.saturating_sub(2 + 22) as f64;
    let rto_target = target(app.runbook.runbook.rto.as_ref());
    let now = view.elapsed_at(app.now);
    let span = now
        .max(rto_target.unwrap_or_default())
        .max(Duration::from_secs(1));
    let col = |d: Duration| ((d.as_secs_f64() / span.as_secs_f64()) * inner_width) as usize;
    let target_col = rto_target.map(col);
    let mut lines = Vec::new();
    let mut phase: Option<&str> = None;
    for s in &view.steps {
        if s.phase.as_deref() != phase {
            phase = s.phase.as_deref();
            if let Some(p) = phase {
                lines.push(Line::from(Span::styled(p.to_uppercase(), theme.title)));
            }
        }
        let (a, b) = match (s.started, s.finished) {
            (Some(a), Some(b)) => (col(a), col(b).max(col(a) + 1)),
            (Some(a), None) => (col(a), col(now).max(col(a) + 1)),
            _ => (0, 0),
        };
        let mut bar = String::new();
        for c in 0..inner_width as usize {
            bar.push(if c >= a && c < b {
                '█'
            } else if Some(c) == target_col {
                '┊'
            } else {
                ' '
            });
        }
        lines.push(Line::from(vec![
            Span::raw(format!("{:<21} ", truncate(&s.id, 21))),
            Span::styled(bar, status_style(theme, s.status)),
        ]));
    }
    let title = match rto_target {
        Some(t) => format!(
            " Timeline  0 → {}   ┊ RTO target {} ",
            humanize(span),
            humanize(t)
        ),
        None => format!(" Timeline  0 → {} ", humanize(span)),
    };
    frame.render_widget(Paragraph::new(lines).block(block(title, theme)), area);
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
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
        _ => "",
    }
}

fn draw_footer(frame: &mut Frame, area: Rect, app: &App) {
    if let Some((toast, _)) = &app.toast {
        frame.render_widget(
            Paragraph::new(Span::styled(toast.clone(), app.theme.warn)),
            area,
        );
        return;
    }
    let context = app.context();
    let actions: &[Action] = match context {
        Context::Start => &[
            Action::Next,
            Action::ToggleMode,
            Action::StartRun,
            Action::Help,
            Action::Quit,
        ],
        Context::Run => &[
            Action::SwitchTab,
            Action::Search,
            Action::ScrollUp,
            Action::Help,
            Action::Quit,
        ],
        Context::Picker => &[
            Action::Enter,
            Action::Search,
            Action::Sort,
            Action::Refresh,
            Action::Back,
        ],
        Context::Dialog | Context::Global => &[Action::Enter, Action::Back],
    };
    let mut spans = hints(app, context, actions);
    if context == Context::Run && !app.prompts.is_empty() && !app.prompt_open {
        spans.push(Span::styled(
            format!(" {} waiting: Enter ", app.prompts.len()),
            app.theme.warn.reversed(),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A rectangle of `w` x `h` in the middle of `area` (clamped).
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn choice_line(app: &App, choices: &[&str], selected: usize) -> Line<'static> {
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

fn draw_prompt(frame: &mut Frame, area: Rect, app: &App, prompt: &Prompt) {
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
                let rpo_target = target(app.runbook.runbook.rpo.as_ref());
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
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(border)
                .title(Span::styled(title, border))
                .title_bottom(format!(" {} — {} ", request.step, request.title)),
        ),
        rect,
    );
}

/// The point's resource as the picker shows it: an S3 object's key without
/// the prefix its source lists (the title names it), so that what tells
/// the points apart (tier, date) stays on screen.
fn short_resource(
    p: &crate::cloud::RecoveryPoint,
    sources: &[crate::cloud::PointSource],
) -> String {
    let name = p.resource_name.as_deref().unwrap_or_default();
    let prefix = sources.iter().find_map(|s| match s {
        crate::cloud::PointSource::Bucket { bucket, prefix, .. }
            if p.bucket.as_deref() == Some(bucket.as_str()) && !prefix.is_empty() =>
        {
            Some(prefix.as_str())
        }
        _ => None,
    });
    match prefix.and_then(|prefix| name.strip_prefix(prefix)) {
        Some(rest) if !rest.is_empty() => format!("…{rest}"),
        _ => name.to_owned(),
    }
}

fn draw_picker(frame: &mut Frame, area: Rect, app: &App, prompt: &Prompt, picker: &Picker) {
    let theme = &app.theme;
    // Everything but the key hints: the picker has the operator's attention.
    let rect = Rect::new(area.x, area.y, area.width, area.height.saturating_sub(1));
    frame.render_widget(Clear, rect);
    let [status, table_area] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(3)]).areas(rect);
    let loading = if picker.loading > 0 {
        format!("loading… {} so far", picker.points.len())
    } else {
        format!("{} points", picker.points.len())
    };
    let mut top = vec![
        Span::styled(
            loading,
            if picker.loading > 0 {
                theme.active
            } else {
                theme.text
            },
        ),
        Span::styled(
            format!(
                "   sorted by {} {}",
                picker.sort.name(),
                if picker.descending { "↓" } else { "↑" }
            ),
            theme.dim,
        ),
    ];
    if !picker.filter.is_empty() || picker.filtering {
        top.push(Span::raw(format!(
            "   filter /{}{}  ({} match)",
            picker.filter,
            if picker.filtering { "▏" } else { "" },
            picker.view.len()
        )));
    }
    if picker.auto_refresh {
        top.push(Span::styled("   auto-refresh", theme.dim));
    }
    let mut second = Vec::new();
    if let Some(e) = picker.errors.first().or(prompt.error.as_ref()) {
        second.push(Span::styled(e.clone(), theme.bad));
    } else if let Some(n) = &picker.notice {
        second.push(Span::styled(n.clone(), theme.dim));
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(top), Line::from(second)]),
        status,
    );
    // Only the rows on screen are built: 100,000 points cost nothing here.
    let height = table_area.height.saturating_sub(3) as usize;
    let first = picker.selected.saturating_sub(height.saturating_sub(1));
    let rows = picker.view[first..(first + height).min(picker.view.len())]
        .iter()
        .map(|&i| {
            let p = &picker.points[i];
            let status_style = if p.is_restorable() {
                theme.text
            } else {
                theme.warn
            };
            let status = match &p.archive {
                Some(crate::cloud::ArchiveState::Needed) => format!("{} ❄ archived", p.status),
                Some(crate::cloud::ArchiveState::Ongoing) => format!("{} ❄ restoring", p.status),
                _ => p.status.clone(),
            };
            Row::new(vec![
                Cell::from(p.created_at.strftime("%Y-%m-%d %H:%M").to_string()),
                Cell::from(humanize(p.age(app.now))),
                Cell::from(humanize(p.rpo(picker.t0))),
                Cell::from(short_resource(p, &picker.sources)),
                Cell::from(p.resource_type.clone().unwrap_or_default()),
                Cell::from(status).style(status_style),
                Cell::from(p.size_bytes.map(human_bytes).unwrap_or_default()),
                Cell::from(p.storage_class.clone().unwrap_or_default()),
                Cell::from(format!(
                    "{}{}",
                    location(p),
                    if p.is_copy() { " (copy)" } else { "" }
                )),
            ])
        });
    let mut state = TableState::default().with_selected(Some(picker.selected - first));
    let header = Row::new(vec![
        "created (UTC)",
        "age",
        "RPO",
        "resource",
        "type",
        "status",
        "size",
        "tier",
        "where",
    ])
    .style(theme.title);
    let sources: Vec<String> = picker.sources.iter().map(|s| s.describe()).collect();
    frame.render_stateful_widget(
        Table::new(
            rows,
            [
                Constraint::Length(16),
                Constraint::Length(10),
                Constraint::Length(10),
                Constraint::Fill(3),
                Constraint::Length(9),
                Constraint::Length(18),
                Constraint::Length(10),
                Constraint::Length(12),
                Constraint::Fill(2),
            ],
        )
        .header(header)
        .row_highlight_style(theme.selected)
        .block(block(
            format!(
                " Pick a recovery point — {} — {} ",
                prompt.request.step,
                sources.join(" and ")
            ),
            theme,
        )),
        table_area,
        &mut state,
    );
}

fn draw_quit(frame: &mut Frame, area: Rect, app: &App) {
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
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(" Leave? ", &app.theme)),
        rect,
    );
}

fn draw_help(frame: &mut Frame, area: Rect, app: &App) {
    let mut lines = Vec::new();
    for (context, name) in [
        (Context::Global, "Everywhere"),
        (Context::Start, "Start screen"),
        (Context::Run, "Run screen"),
        (Context::Picker, "Recovery point picker"),
        (
            Context::Dialog,
            "Dialogs (text you type goes to the dialog)",
        ),
    ] {
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
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(Text::from(lines)).block(block(" Keys (? or Esc closes) ", &app.theme)),
        rect,
    );
}
