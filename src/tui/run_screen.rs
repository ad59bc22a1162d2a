//! The run screen: its keys (moving through the steps, the tabs, the
//! output search) and its drawing (the header's clocks, the steps with
//! their details and output, the timeline). The state it reads and moves
//! is [`RunView`]; this module does not fold the engine's events.

use std::time::Duration;

use jiff::Timestamp;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, StatefulWidget, Table, TableState, Widget, Wrap};

use super::app::App;
use super::keymap::{Action, Context, KeyScope, Keypress, Typing};
use super::markdown;
use super::run_view::{RunView, StepRow, StepStatus, Tab};
use super::theme::Theme;
use super::view::{block, identity_span, target};
use crate::engine::event::{Outcome, Question, Stream};
use crate::engine::humanize;
use crate::engine::timeline::{Axis, RtoClock};
use crate::format::SimulatedTime;
use crate::runbook::StepAction;

/// What the run screen asks of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunRequest {
    /// Open the "leave?" dialog.
    Leave,
    /// Bring back the question put aside.
    Reopen,
}

impl RunView {
    /// Where keys are read: the output search's text while it is typed,
    /// otherwise the run screen's keys.
    pub fn scope(&self) -> KeyScope {
        if matches!(self.search, Some((_, true))) {
            KeyScope::keys(&[Context::Input]).typing(Typing::Text)
        } else {
            KeyScope::keys(&[Context::Run, Context::Waiting])
        }
    }

    /// Takes a key; returns what the console must do, if anything.
    pub fn handle(&mut self, press: Keypress) -> Option<RunRequest> {
        if let Some((text, typing @ true)) = &mut self.search {
            match press {
                Keypress::Act(Action::Enter) => *typing = false,
                Keypress::Act(Action::Back) => self.search = None,
                press => {
                    press.edit(text);
                }
            }
            return None;
        }
        let last = self.steps.len().saturating_sub(1);
        let Keypress::Act(action) = press else {
            return None;
        };
        match action {
            Action::Quit => return Some(RunRequest::Leave),
            Action::Up => {
                self.selected = self.selected.saturating_sub(1);
                self.scroll = 0;
            }
            Action::Down => {
                self.selected = (self.selected + 1).min(last);
                self.scroll = 0;
            }
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            Action::SwitchTab => {
                self.tab = match self.tab {
                    Tab::Steps => Tab::Timeline,
                    Tab::Timeline => Tab::Steps,
                }
            }
            Action::ScrollUp => self.scroll = self.scroll.saturating_add(10),
            Action::ScrollDown => self.scroll = self.scroll.saturating_sub(10),
            Action::Search => self.search = Some((String::new(), true)),
            Action::Back => self.search = None,
            Action::Reopen => return Some(RunRequest::Reopen),
            Action::Templates => self.show_templates = !self.show_templates,
            _ => {}
        }
        None
    }
}

/// The run screen as drawn.
pub struct RunScreen<'a> {
    /// The console (runbook, identity, theme, clock).
    pub app: &'a App,
    /// The run.
    pub view: &'a RunView,
}

impl Widget for &RunScreen<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        draw_run(buf, area, self.app, self.view);
    }
}

pub(crate) fn status_symbol(status: StepStatus) -> &'static str {
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

pub(crate) fn status_style(theme: &Theme, status: StepStatus) -> Style {
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

/// A duration on the header's clock; in a simulated world, with what it is
/// worth there (`00:00:14 real = 14h simulated at 3600×`).
fn clock_in(d: Duration, sim: Option<SimulatedTime>) -> String {
    match sim {
        Some(sim) => format!("{} real = {}", clock(d), sim.world_words(d)),
        None => clock(d),
    }
}

/// The header's RTO clock: where it stands and, once it stopped, why. The
/// duration returned is the one judged against the target: world time in
/// a simulated world.
fn rto_words(
    rto: RtoClock,
    target: Option<Duration>,
    sim: Option<SimulatedTime>,
) -> (Duration, String) {
    let against = target.map_or(String::new(), |t| format!(" / {}", humanize(t)));
    let judged = |d: Duration| sim.map_or(d, |sim| sim.world(d));
    match rto {
        RtoClock::NotStarted => (Duration::ZERO, format!("RTO not started{against}")),
        RtoClock::NoEnd => (Duration::ZERO, "RTO: no RTO end in this runbook".into()),
        RtoClock::Running(d) => (judged(d), format!("RTO {}{against}", clock_in(d, sim))),
        RtoClock::Reached(d) => (
            judged(d),
            format!("RTO {} (reached){against}", clock_in(d, sim)),
        ),
        RtoClock::EndedWithout(d, outcome) => {
            let how = match outcome {
                Outcome::Succeeded => "run succeeded",
                Outcome::Failed => "run failed",
                _ => "run stopped",
            };
            (
                judged(d),
                format!(
                    "RTO {} ({how}; no RTO end reached){against}",
                    clock_in(d, sim)
                ),
            )
        }
    }
}

/// The header's AWS cost: `~$1.23 so far` and, when preflight estimated
/// it, `est. $4.56`; nothing when the runbook never calls AWS or no prices
/// are loaded.
fn cost_span(app: &App, view: &RunView) -> Option<Span<'static>> {
    let prices = app.prices.as_ref()?;
    if !app.runbook.steps.iter().any(|s| s.action.uses_aws()) {
        return None;
    }
    let so_far =
        crate::cost::charges::so_far(&app.runbook, &view.ledger, &view.values.params, prices);
    let text = match app.cost_estimate {
        Some(est) => format!("   ~{} so far · est. {}", so_far.usd(), est.usd()),
        None => format!("   ~{} so far", so_far.usd()),
    };
    Some(Span::styled(text, app.theme.dim))
}

fn draw_run(buf: &mut Buffer, area: Rect, app: &App, view: &RunView) {
    let theme = &app.theme;
    let [header, body] = Layout::vertical([Constraint::Length(4), Constraint::Min(3)]).areas(area);
    let rb = &app.runbook.runbook;
    let rto_target = target(rb.rto.as_ref());
    let rpo_target = target(rb.rpo.as_ref());
    let (rto, rto_text) = rto_words(
        view.ledger.rto_clock(app.now),
        rto_target,
        app.simulated_time,
    );
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
                format!(
                    "   elapsed {}",
                    clock_in(view.elapsed_at(app.now), app.simulated_time)
                ),
                theme.dim,
            ),
        ]),
        Line::from(
            [Span::styled("acting as ", theme.dim), identity_span(app)]
                .into_iter()
                .chain(cost_span(app, view))
                .collect::<Vec<_>>(),
        ),
        // A team run the team can no longer see says so in place of the
        // run's line, until the shared log catches up.
        match &view.ledger.team.behind {
            Some(why) => Line::from(Span::styled(
                crate::format::printable(&format!(
                    "TEAM CANNOT SEE THIS RUN: {why}; it goes on on the local journal"
                ))
                .replace('\n', " "),
                theme.warn.reversed(),
            )),
            None => Line::from(Span::styled(
                match (&view.run_id, &view.journal) {
                    (Some(id), Some(j)) => format!("run {id}   journal {j}"),
                    (Some(id), None) => format!("run {id}"),
                    _ => "starting…".into(),
                },
                theme.dim,
            )),
        },
    ];
    Paragraph::new(lines).render(header, buf);
    match view.tab {
        Tab::Steps => draw_steps(buf, body, app, view),
        Tab::Timeline => draw_timeline(buf, body, app, view),
    }
}

fn step_duration(view: &RunView, row: &StepRow, now: Timestamp) -> String {
    match (row.started, row.finished) {
        (Some(s), Some(f)) => humanize(f.saturating_sub(s)),
        (Some(s), None) => humanize(view.elapsed_at(now).saturating_sub(s)),
        _ => String::new(),
    }
}

fn draw_steps(buf: &mut Buffer, area: Rect, app: &App, view: &RunView) {
    let theme = &app.theme;
    let [list, detail] =
        Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(area);
    // The list's inner width less the status and duration columns and
    // the spaces between columns.
    let id_room = usize::from(list.width.saturating_sub(2 + 2 + 8 + 2)).max(2);
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
        // The owning role, as a short `[dba]` tag (at most 8 wide).
        let owner = app
            .runbook
            .step(&s.id)
            .and_then(|st| st.owner.as_ref())
            .map(|o| format!(" [{}]", truncate(&o.value, 6)));
        // The id gives way to its marks, and says so with a "…".
        let marks = owner.as_ref().map_or(0, |o| o.chars().count())
            + usize::from(s.destructive) * 2
            + usize::from(parallel) * 2
            + if s.attempts > 1 {
                2 + s.attempts.to_string().len()
            } else {
                0
            };
        let mut title = vec![Span::raw(truncate(&s.id, id_room.saturating_sub(marks)))];
        if s.destructive {
            title.push(Span::styled(" ⚠", theme.bad));
        }
        if parallel {
            title.push(Span::styled(" ∥", theme.dim));
        }
        if s.attempts > 1 {
            title.push(Span::styled(format!(" ×{}", s.attempts), theme.warn));
        }
        if let Some(owner) = owner {
            title.push(Span::styled(owner, theme.dim));
        }
        rows.push(Row::new(vec![
            Cell::from(status_symbol(s.status)).style(status_style(theme, s.status)),
            Cell::from(Line::from(title)),
            Cell::from(step_duration(view, s, app.now)).style(theme.dim),
        ]));
    }
    let mut state = TableState::default().with_selected(Some(selected_row));
    StatefulWidget::render(
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
        buf,
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
                    // Watching, the question is the driver's, not the reader's.
                    StepStatus::Asking if app.watch.is_some() => "waiting for the driver",
                    status => status_word(status),
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
    // Why it waits now (never an earlier attempt's reason), or why it
    // ended the way it did.
    let why = match step.status {
        StepStatus::Asking if app.watch.is_some() => {
            Some("the driver answers it; this console is read-only".into())
        }
        _ => why_waiting(view, step),
    };
    if let Some(why) = why {
        lines.push(Line::from(Span::styled(why, theme.warn)));
    }
    let failed_and_asked = matches!(
        view.ledger.question(&step.id),
        Some(Question::Failure { .. } | Question::Interrupted)
    ) && step.status == StepStatus::Asking;
    if let Some(reason) = &step.reason
        && (matches!(step.status, StepStatus::Done(o) if o != Outcome::Succeeded)
            || failed_and_asked)
    {
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
    // show what they resolve to now, their raw template only on request.
    for t in runbook_step
        .templated
        .iter()
        .filter(|t| !t.value.contains('\n'))
    {
        let raw = if view.show_templates {
            format!("{} → ", t.value)
        } else {
            "· ".into()
        };
        lines.push(Line::from(vec![
            Span::styled(raw, theme.dim),
            Span::raw(view.preview(&t.value)),
        ]));
    }
    for (k, v) in step.outputs.iter().filter(|(_, v)| !v.is_empty()) {
        lines.push(Line::from(vec![
            Span::styled(format!("{k} = "), theme.dim),
            Span::raw(v.clone()),
        ]));
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(block(" Step ", theme))
        .render(info, buf);
    let shown = view.shown_output();
    let height = output.height.saturating_sub(2) as usize;
    let width = usize::from(output.width.saturating_sub(2)).max(1);
    // Long lines wrap (cut at the pane's width, exactly, so the newest
    // line is always the last row); `scroll` counts source lines up.
    let end = shown.len().saturating_sub(view.scroll.min(shown.len()));
    let mut text: Vec<Line> = Vec::new();
    for (stream, line) in shown[..end].iter().rev() {
        if text.len() >= height {
            break;
        }
        let style = match stream {
            Stream::Stdout => theme.text,
            Stream::Stderr => theme.warn,
        };
        let mut rows = wrap_chars(line, width);
        while let Some(row) = rows.pop() {
            text.push(Line::styled(row, style));
        }
    }
    text.truncate(height);
    text.reverse();
    let title = match &view.search {
        Some((s, true)) => format!(" Output  /{s}▏ "),
        Some((s, false)) => format!(
            " Output  /{s}  ({}) ",
            crate::format::count(shown.len() as u64, "line")
        ),
        None if view.scroll > 0 => format!(
            " Output  ({} up) ",
            crate::format::count(view.scroll as u64, "line")
        ),
        None => " Output ".into(),
    };
    Paragraph::new(text)
        .block(block(title, theme))
        .render(output, buf);
}

fn draw_timeline(buf: &mut Buffer, area: Rect, app: &App, view: &RunView) {
    let theme = &app.theme;
    let inner_width = area.width.saturating_sub(2 + 22) as f64;
    let rto_target = target(app.runbook.runbook.rto.as_ref());
    let now = view.elapsed_at(app.now);
    let axis = Axis::fit(now, rto_target);
    let span = axis.span;
    let col = |d: Duration| ((d.as_secs_f64() / span.as_secs_f64()) * inner_width) as usize;
    let target_col = axis.target_on_axis.map(col);
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
    let title = match (rto_target, axis.target_on_axis) {
        (Some(t), Some(_)) => format!(
            " Timeline  0 → {}   ┊ RTO target {} ",
            humanize(span),
            humanize(t)
        ),
        (Some(t), None) => format!(
            " Timeline  0 → {}   RTO target {} (off this scale) → ",
            humanize(span),
            humanize(t)
        ),
        (None, _) => format!(" Timeline  0 → {} ", humanize(span)),
    };
    Paragraph::new(lines)
        .block(block(title, theme))
        .render(area, buf);
}

/// How a step stands, in words.
fn status_word(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Pending => "pending",
        StepStatus::Queued => "queued",
        StepStatus::Running => "running",
        StepStatus::Asking => "waiting for you",
        StepStatus::Done(o) => o.word(),
    }
}

/// Why a step that has not ended waits, as it stands now.
fn why_waiting(view: &RunView, step: &StepRow) -> Option<String> {
    let state = view.ledger.step(&step.id)?;
    match step.status {
        StepStatus::Pending => {
            let open: Vec<&str> = state
                .needs
                .iter()
                .filter_map(|&i| view.ledger.steps.get(i))
                .filter(|n| {
                    !matches!(
                        n.status,
                        StepStatus::Done(Outcome::Succeeded | Outcome::Waived)
                    )
                })
                .map(|n| n.id.as_str())
                .collect();
            (!open.is_empty()).then(|| format!("waits for: {}", open.join(", ")))
        }
        StepStatus::Queued => Some("ready; waits for a free slot".into()),
        StepStatus::Running => step.progress.as_ref().map(|p| format!("now: {p}")),
        StepStatus::Asking => Some(
            match view.ledger.question(&step.id) {
                Some(Question::Confirm { text, .. }) => {
                    format!("waits for you to type `{text}` to confirm")
                }
                Some(q @ Question::Approve { .. }) => q
                    .approval_progress()
                    .unwrap_or_else(|| "waits for your approval".into()),
                Some(Question::Acknowledge { .. }) => "waits for you to do the manual step".into(),
                Some(Question::Failure { .. }) => {
                    "failed; waits for you: retry, skip or abort".into()
                }
                Some(Question::Interrupted) => {
                    "was interrupted; waits for you: rerun, mark done or abort".into()
                }
                Some(Question::PickRecoveryPoint { .. }) => {
                    "waits for you to pick a recovery point".into()
                }
                None => "waits for you".into(),
            } + " (Enter)",
        ),
        StepStatus::Done(_) => None,
    }
}

/// `line` in rows of at most `width` characters (one row when empty).
fn wrap_chars(line: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars
        .chunks(width.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!(
            "{}…",
            s.chars().take(n.saturating_sub(1)).collect::<String>()
        )
    }
}
