//! The recovery point picker's state: points arriving page by page, a
//! filter, a sort, and the selection. Kept cheap at 100,000 points: every
//! point stays in sort order as pages arrive (a page is sorted, then each
//! of its points is placed by binary search), so a filter only scans
//! precomputed lowercase text in that order and never sorts; a longer
//! needle scans only what the shorter one kept. The selection is found
//! again by binary search, not by comparing ids. Its keys and its drawing
//! are here too; listing the points is the loop's.

use jiff::Timestamp;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Clear, Paragraph, Row, StatefulWidget, Table, TableState, Widget};

use super::app::App;
use super::keymap::{Action, Context, KeyScope, Keypress, Typing};
use super::point_columns::{Column, Variety, choose, over_target};
use super::prompt::Prompt;
use super::view::{block, target};
use crate::cloud::points::Listing;
use crate::cloud::{PointSource, RecoveryPoint};
use crate::engine::humanize;
use crate::runbook::kinds::{PickPolicy, PickRecoveryPoint, StepAction};

/// Columns the picker sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// Creation time.
    Created,
    /// Size.
    Size,
    /// Status.
    Status,
    /// Vault or bucket.
    Location,
}

impl SortBy {
    /// The column's header.
    pub fn name(self) -> &'static str {
        match self {
            SortBy::Created => "created",
            SortBy::Size => "size",
            SortBy::Status => "status",
            SortBy::Location => "where",
        }
    }

    fn next(self) -> Self {
        match self {
            SortBy::Created => SortBy::Size,
            SortBy::Size => SortBy::Status,
            SortBy::Status => SortBy::Location,
            SortBy::Location => SortBy::Created,
        }
    }
}

/// Seconds between automatic reloads when auto-refresh is on.
pub const AUTO_REFRESH_SECS: i64 = 30;

/// The picker.
#[derive(Debug, Clone)]
pub struct Picker {
    /// What is listed.
    pub sources: Vec<PointSource>,
    /// T0 of the run (the RPO of a point is T0 minus its time).
    pub t0: Timestamp,
    /// Every point received.
    pub points: Vec<RecoveryPoint>,
    /// Lowercase text of each point, for the filter.
    haystacks: Vec<String>,
    /// Indices into `points` of every point, in sort order.
    order: Vec<usize>,
    /// Indices into `points` that pass the filter, in sort order.
    pub view: Vec<usize>,
    /// The filter text.
    pub filter: String,
    /// The filter is being typed.
    pub filtering: bool,
    /// The sort column.
    pub sort: SortBy,
    /// Newest (or largest) first.
    pub descending: bool,
    /// Selected row of `view`.
    pub selected: usize,
    /// Sources still listing.
    pub loading: usize,
    /// Errors of sources that failed.
    pub errors: Vec<String>,
    /// Retry and progress notices.
    pub notice: Option<String>,
    /// Reload every [`AUTO_REFRESH_SECS`].
    pub auto_refresh: bool,
    /// When the listing started.
    pub listed_at: Timestamp,
    /// When the listing on screen started, once one has ended: a reload
    /// shows it until the new one ends.
    pub refreshed_at: Option<Timestamp>,
    /// The point the runbook's policy chose (or the newest restorable
    /// one), preselected when it arrives.
    pub suggested: Option<String>,
    /// Where the suggested point is in `points`, once it arrived.
    suggested_at: Option<usize>,
    /// Which columns differ between the points.
    variety: Variety,
    /// The point selected before a reload, selected again when it comes back.
    keep_id: Option<String>,
}

impl Picker {
    /// A picker waiting for the first page.
    pub fn new(sources: Vec<PointSource>, t0: Timestamp, now: Timestamp) -> Self {
        Self {
            loading: sources.len(),
            sources,
            t0,
            points: Vec::new(),
            haystacks: Vec::new(),
            order: Vec::new(),
            view: Vec::new(),
            filter: String::new(),
            filtering: false,
            sort: SortBy::Created,
            descending: true,
            selected: 0,
            errors: Vec::new(),
            notice: None,
            auto_refresh: false,
            listed_at: now,
            refreshed_at: None,
            suggested: None,
            suggested_at: None,
            variety: Variety::default(),
            keep_id: None,
        }
    }

    /// The picker with `point` (the policy's choice) selected when it
    /// arrives.
    pub fn preselecting(self, point: Option<String>) -> Self {
        Self {
            keep_id: point.clone(),
            suggested: point,
            ..self
        }
    }

    /// The suggested point, once listed.
    pub fn suggestion(&self) -> Option<&RecoveryPoint> {
        self.suggested_at.map(|i| &self.points[i])
    }

    /// Drops the points for a new listing.
    pub fn reload(&mut self, now: Timestamp) {
        let keep = self.current().map(|p| p.id.clone());
        self.points.clear();
        self.haystacks.clear();
        self.order.clear();
        self.view.clear();
        self.errors.clear();
        self.loading = self.sources.len();
        self.listed_at = now;
        self.selected = 0;
        self.suggested_at = None;
        self.variety = Variety::default();
        self.keep_id = keep;
    }

    /// Whether an auto-refresh is due.
    pub fn auto_refresh_due(&self, now: Timestamp) -> bool {
        self.auto_refresh
            && self.loading == 0
            && now.duration_since(self.listed_at)
                >= jiff::SignedDuration::from_secs(AUTO_REFRESH_SECS)
    }

    /// Takes in a page, the end of a source, or a notice.
    pub fn take(&mut self, listing: Listing) {
        match listing {
            Listing::Page { points, .. } => self.add(points),
            Listing::Done { source, result } => {
                self.loading = self.loading.saturating_sub(1);
                if self.loading == 0 {
                    self.refreshed_at = Some(self.listed_at);
                }
                if let Err(e) = result {
                    let what = self
                        .sources
                        .get(source)
                        .map(PointSource::describe)
                        .unwrap_or_default();
                    self.errors.push(format!("{what}: {e}"));
                }
            }
            Listing::Notice(n) => self.notice = Some(n),
        }
    }

    fn add(&mut self, page: Vec<RecoveryPoint>) {
        let first = self.points.len();
        for p in page {
            self.variety.see(&p, &self.sources);
            if self.suggested.as_ref() == Some(&p.id) {
                self.suggested_at = Some(self.points.len());
            }
            self.haystacks.push(haystack(&p));
            self.points.push(p);
        }
        let selected = self.view.get(self.selected).copied();
        let mut added: Vec<usize> = (first..self.points.len()).collect();
        added.sort_by(|&a, &b| self.compare(a, b));
        let order = std::mem::take(&mut self.order);
        self.order = self.merge(&order, &added);
        let needle = self.filter.to_lowercase();
        if needle.is_empty() {
            self.view.clone_from(&self.order);
        } else {
            added.retain(|&i| self.haystacks[i].contains(&needle));
            let view = std::mem::take(&mut self.view);
            self.view = self.merge(&view, &added);
        }
        // The point kept over a reload is selected when it arrives; until
        // then the selected row stays. Otherwise the selected point stays
        // selected wherever the page put it.
        let target = match self.keep_id.as_deref() {
            Some(id) => {
                let found = added.iter().copied().find(|&i| self.points[i].id == id);
                if found.is_some() {
                    self.keep_id = None;
                }
                found
            }
            None => selected,
        };
        if let Some(pos) = target.and_then(|i| self.position(i)) {
            self.selected = pos;
        }
        self.selected = self.selected.min(self.view.len().saturating_sub(1));
    }

    /// `old` and `added`, both in sort order, merged: each added point is
    /// placed by a binary search in what is left of `old` (on a tie the
    /// point already there stays first), then the runs are copied. A page
    /// of k points costs O(k log n) comparisons, not O(n).
    fn merge(&self, old: &[usize], added: &[usize]) -> Vec<usize> {
        let mut merged = Vec::with_capacity(old.len() + added.len());
        let mut rest = old;
        for &a in added {
            let n = rest.partition_point(|&o| self.compare(o, a) != std::cmp::Ordering::Greater);
            merged.extend_from_slice(&rest[..n]);
            merged.push(a);
            rest = &rest[n..];
        }
        merged.extend_from_slice(rest);
        merged
    }

    /// Where point `i` is in the view, by binary search (the view is in
    /// sort order), if it passes the filter.
    fn position(&self, i: usize) -> Option<usize> {
        let pos = self.view.partition_point(|&v| self.compare(v, i).is_lt());
        // Only a point equal in every sort key to another (the same id
        // listed twice) needs a look beyond the first match.
        self.view[pos..]
            .iter()
            .take_while(|&&v| self.compare(v, i).is_eq())
            .position(|&v| v == i)
            .map(|k| pos + k)
    }

    fn compare(&self, a: usize, b: usize) -> std::cmp::Ordering {
        let (pa, pb) = (&self.points[a], &self.points[b]);
        let ord = match self.sort {
            SortBy::Created => pa.created_at.cmp(&pb.created_at),
            SortBy::Size => pa.size_bytes.cmp(&pb.size_bytes),
            SortBy::Status => pa.status.cmp(&pb.status),
            SortBy::Location => location(pa).cmp(&location(pb)),
        }
        .then_with(|| pa.created_at.cmp(&pb.created_at))
        .then_with(|| pa.id.cmp(&pb.id));
        if self.descending { ord.reverse() } else { ord }
    }

    /// Sorts every point again (the sort changed), then filters.
    fn resort(&mut self) {
        let selected = self.view.get(self.selected).copied();
        let mut order: Vec<usize> = (0..self.points.len()).collect();
        order.sort_by(|&a, &b| self.compare(a, b));
        self.order = order;
        self.refilter(false, selected);
    }

    /// The view again from the points in sort order: from all of them, or,
    /// when `narrowing` (the needle grew and still holds the old one), from
    /// those the old needle kept. `selected` stays selected if it passes.
    fn refilter(&mut self, narrowing: bool, selected: Option<usize>) {
        // The view's buffer is reused: a key typed allocates nothing.
        let needle = self.filter.to_lowercase();
        let haystacks = &self.haystacks;
        if needle.is_empty() {
            self.view.clone_from(&self.order);
        } else if narrowing {
            self.view.retain(|&i| haystacks[i].contains(&needle));
        } else {
            self.view.clear();
            self.view.extend(
                self.order
                    .iter()
                    .copied()
                    .filter(|&i| haystacks[i].contains(&needle)),
            );
        }
        self.selected = selected.and_then(|i| self.position(i)).unwrap_or(0);
    }

    /// Sets the filter (case-insensitive text anywhere in the row).
    pub fn set_filter(&mut self, filter: String) {
        let old = self.filter.to_lowercase();
        self.filter = filter;
        let narrowing = !old.is_empty() && self.filter.to_lowercase().contains(&old);
        let selected = self.view.get(self.selected).copied();
        self.refilter(narrowing, selected);
    }

    /// Sorts by the next column.
    pub fn next_sort(&mut self) {
        self.sort = self.sort.next();
        self.resort();
    }

    /// Reverses the sort.
    pub fn reverse(&mut self) {
        self.descending = !self.descending;
        self.resort();
    }

    /// Moves the selection by `delta` rows.
    pub fn move_by(&mut self, delta: isize) {
        let last = self.view.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
    }

    /// The selected point.
    pub fn current(&self) -> Option<&RecoveryPoint> {
        self.view.get(self.selected).map(|&i| &self.points[i])
    }
}

/// Where a point is: `vault@region`, `bucket@region`, or the region.
pub fn location(p: &RecoveryPoint) -> String {
    match (&p.vault, &p.bucket) {
        (Some(v), _) => format!("{v}@{}", p.region),
        (None, Some(b)) => format!("{b}@{}", p.region),
        _ => p.region.clone(),
    }
}

fn haystack(p: &RecoveryPoint) -> String {
    format!(
        "{} {} {} {} {} {} {} {}",
        p.id,
        p.created_at,
        p.status,
        p.resource_name.as_deref().unwrap_or_default(),
        p.resource_type.as_deref().unwrap_or_default(),
        location(p),
        p.storage_class.as_deref().unwrap_or_default(),
        p.key.as_deref().unwrap_or_default(),
    )
    .to_lowercase()
}

/// What the picker asks of the console.
#[derive(Debug, Clone, PartialEq)]
pub enum PickerRequest {
    /// List the points again.
    Reload,
    /// This point was chosen (its confirmation follows, if it can be restored).
    Pick(Box<RecoveryPoint>),
    /// Put the question aside.
    Close,
}

impl Picker {
    /// Where keys are read: the filter's text while it is typed, otherwise
    /// the picker's keys.
    pub fn scope(&self) -> KeyScope {
        if self.filtering {
            KeyScope::keys(&[Context::Input]).typing(Typing::Text)
        } else {
            KeyScope::keys(&[Context::Picker])
        }
    }

    /// Takes a key; returns what the console must do, if anything.
    pub fn handle(&mut self, press: Keypress) -> Option<PickerRequest> {
        if self.filtering {
            match press {
                Keypress::Act(Action::Enter | Action::Back) => self.filtering = false,
                press => {
                    let mut text = self.filter.clone();
                    if press.edit(&mut text) {
                        self.set_filter(text);
                    }
                }
            }
            return None;
        }
        let Keypress::Act(action) = press else {
            return None;
        };
        match action {
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-20),
            Action::PageDown => self.move_by(20),
            Action::Top => self.move_by(isize::MIN / 2),
            Action::Bottom => self.move_by(isize::MAX / 2),
            Action::Search => self.filtering = true,
            Action::Sort => self.next_sort(),
            Action::Reverse => self.reverse(),
            Action::AutoRefresh => self.auto_refresh = !self.auto_refresh,
            Action::Refresh => return Some(PickerRequest::Reload),
            Action::Enter => {
                return self
                    .current()
                    .map(|p| PickerRequest::Pick(Box::new(p.clone())));
            }
            Action::Back => return Some(PickerRequest::Close),
            _ => {}
        }
        None
    }
}

/// The picker as drawn, over everything but the key hints.
pub struct PickerView<'a> {
    /// The console (theme, clock).
    pub app: &'a App,
    /// The pick question (its step, and why Enter did nothing).
    pub prompt: &'a Prompt,
    /// The picker.
    pub picker: &'a Picker,
}

impl Widget for &PickerView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        draw_picker(buf, area, self.app, self.prompt, self.picker);
    }
}

/// The pick step a question is about.
fn pick_step<'a>(app: &'a App, step: &str) -> Option<&'a PickRecoveryPoint> {
    app.runbook
        .steps
        .iter()
        .find(|s| s.id.value == step)
        .and_then(|s| match &s.action {
            StepAction::PickRecoveryPoint(p) => Some(p),
            _ => None,
        })
}

/// The RPO target the points of pick `step` are measured against: the
/// runbook's, unless the pick does not measure the run's RPO
/// (`measures_rpo = false`), when no point is over any target.
pub(crate) fn rpo_target(app: &App, step: &str) -> Option<std::time::Duration> {
    let measures = pick_step(app, step).is_none_or(|p| {
        use crate::runbook::kinds::KindRules;
        p.rpo_field().is_some()
    });
    target(app.runbook.runbook.rpo.as_ref()).filter(|_| measures)
}

/// When the list on screen was listed: `listed 12:03:41Z (12s ago)`.
fn listed(at: Timestamp, now: Timestamp) -> String {
    format!(
        "listed {} ({} ago)",
        at.strftime("%H:%M:%SZ"),
        humanize(now.duration_since(at).unsigned_abs())
    )
}

fn draw_picker(buf: &mut Buffer, area: Rect, app: &App, prompt: &Prompt, picker: &Picker) {
    let theme = &app.theme;
    let step = &prompt.request.step;
    let rpo_target = rpo_target(app, step);
    // Everything but the key hints: the picker has the operator's attention.
    let rect = Rect::new(area.x, area.y, area.width, area.height.saturating_sub(1));
    Clear.render(rect, buf);
    let [status, table_area] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(3)]).areas(rect);
    let reloading = picker.loading > 0 && picker.refreshed_at.is_some();
    let loading = match (picker.loading > 0, picker.refreshed_at) {
        (true, Some(at)) => format!(
            "reloading… {} so far; the last list was {}",
            picker.points.len(),
            listed(at, app.now)
        ),
        (true, None) => format!("loading… {} so far", picker.points.len()),
        (false, _) => format!(
            "{}, {}",
            crate::format::count(picker.points.len() as u64, "point"),
            listed(picker.listed_at, app.now)
        ),
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
    if let Some(p) = picker.suggestion() {
        let whose = match pick_step(app, step).map(|s| s.policy) {
            Some(PickPolicy::Latest) => "the runbook's choice (policy latest)",
            _ => "the newest restorable point",
        };
        let rpo = p.rpo(picker.t0);
        second.push(Span::styled(format!("preselected: {whose}, "), theme.dim));
        second.push(Span::raw(format!(
            "{}, ",
            Column::Created.text(p, &picker.sources, picker.t0, app.now)
        )));
        if rpo_target.is_some() {
            second.push(Span::styled(
                format!("RPO {}", humanize(rpo)),
                if over_target(p, picker.t0, rpo_target) {
                    theme.bad
                } else {
                    theme.good
                },
            ));
        } else {
            second.push(Span::raw(format!("{} before T0", humanize(rpo))));
        }
    }
    let mut third = Vec::new();
    if let Some(e) = picker.errors.first().or(prompt.error.as_ref()) {
        third.push(Span::styled(e.clone(), theme.bad));
    } else if let Some(n) = &picker.notice {
        third.push(Span::styled(n.clone(), theme.dim));
    }
    Paragraph::new(vec![Line::from(top), Line::from(second), Line::from(third)])
        .render(status, buf);
    // Only the rows on screen are built: 100,000 points cost nothing here.
    let height = table_area.height.saturating_sub(3) as usize;
    let first = picker.selected.saturating_sub(height.saturating_sub(1));
    let shown = &picker.view[first..(first + height).min(picker.view.len())];
    let resource = shown
        .iter()
        .map(|&i| {
            let p = &picker.points[i];
            let text = Column::Resource.text(p, &picker.sources, picker.t0, app.now);
            Span::raw(text).width()
        })
        .max()
        .unwrap_or(0);
    let columns = choose(
        table_area.width.saturating_sub(2),
        &picker.variety,
        resource as u16,
    );
    let texts: Vec<Vec<String>> = shown
        .iter()
        .map(|&i| {
            let p = &picker.points[i];
            columns
                .iter()
                .map(|c| c.text(p, &picker.sources, picker.t0, app.now))
                .collect()
        })
        .collect();
    let rows = shown.iter().zip(texts.iter()).map(|(&i, texts)| {
        let p = &picker.points[i];
        Row::new(columns.iter().zip(texts).map(|(&c, text)| match c {
            Column::Status if !p.is_restorable() || p.is_partial() => {
                Cell::from(text.clone()).style(theme.warn)
            }
            // Older than the RPO target: marked, not only coloured.
            Column::Rpo if over_target(p, picker.t0, rpo_target) => {
                Cell::from(format!("{text} ⚠")).style(theme.bad)
            }
            _ => Cell::from(text.clone()),
        }))
    });
    let mut state = TableState::default().with_selected(Some(picker.selected - first));
    let header = Row::new(columns.iter().map(|c| c.header())).style(theme.title);
    // The resource gets what its texts on screen need (it tells the
    // points apart), where the rest.
    let widths = columns.iter().map(|&c| match c {
        Column::Resource => Constraint::Length(c.width().max(resource as u16)),
        Column::Where => Constraint::Fill(1),
        c => Constraint::Length(c.width()),
    });
    let sources: Vec<String> = picker.sources.iter().map(|s| s.describe()).collect();
    StatefulWidget::render(
        Table::new(rows, widths)
            .header(header)
            .row_highlight_style(theme.selected)
            .block(block(
                format!(
                    " Pick a recovery point — {step} — {}{} ",
                    sources.join(" and "),
                    if reloading { " — reloading…" } else { "" }
                ),
                theme,
            )),
        table_area,
        buf,
        &mut state,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::PointKind;

    fn point(n: i64, vault: &str) -> RecoveryPoint {
        let mut p = RecoveryPoint::new(
            format!("arn:{vault}:{n}"),
            PointKind::Backup,
            Timestamp::from_second(1_700_000_000 + n * 86_400).unwrap(),
            "us-east-1".into(),
        );
        p.vault = Some(vault.into());
        p.size_bytes = Some((n as u64 * 7919) % 1000);
        p
    }

    fn picker() -> Picker {
        Picker::new(Vec::new(), Timestamp::UNIX_EPOCH, Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn pages_merge_into_one_sorted_view_newest_first() {
        let mut p = picker();
        p.add((0..50).map(|n| point(n * 2, "primary")).collect());
        p.add((0..50).map(|n| point(n * 2 + 1, "dr")).collect());
        let times: Vec<_> = p.view.iter().map(|&i| p.points[i].created_at).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]));
        assert_eq!(p.points[p.view[0]].id, "arn:dr:99");
        // A page arriving does not move what the operator is looking at.
        assert_eq!(p.current().unwrap().id, "arn:primary:98");
    }

    #[test]
    fn the_filter_keeps_matching_rows_and_the_selection() {
        let mut p = picker();
        p.add(
            (0..100)
                .map(|n| point(n, if n % 2 == 0 { "primary" } else { "dr" }))
                .collect(),
        );
        p.move_by(2);
        let chosen = p.current().unwrap().id.clone();
        assert_eq!(chosen, "arn:dr:97");
        p.set_filter("DR".into());
        assert_eq!(p.view.len(), 50);
        assert_eq!(p.current().unwrap().id, chosen);
        p.add(vec![point(500, "dr"), point(501, "primary")]);
        assert_eq!(p.view.len(), 51, "new pages are filtered too");
    }

    #[test]
    fn sorting_by_size_and_reversing() {
        let mut p = picker();
        p.add((0..20).map(|n| point(n, "v")).collect());
        p.next_sort();
        assert_eq!(p.sort, SortBy::Size);
        let sizes: Vec<_> = p.view.iter().map(|&i| p.points[i].size_bytes).collect();
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
        p.reverse();
        let sizes: Vec<_> = p.view.iter().map(|&i| p.points[i].size_bytes).collect();
        assert!(sizes.windows(2).all(|w| w[0] <= w[1]));
    }

    /// The view as a plain filter-then-sort of every point would give it.
    fn naive(p: &Picker) -> Vec<usize> {
        let needle = p.filter.to_lowercase();
        let mut v: Vec<usize> = (0..p.points.len())
            .filter(|&i| p.haystacks[i].contains(&needle))
            .collect();
        v.sort_by(|&a, &b| p.compare(a, b));
        v
    }

    #[test]
    fn pages_filters_and_sorts_agree_with_sorting_everything() {
        let mut p = picker();
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as i64
        };
        let mut n = 0;
        for page in 0..12 {
            let points = (0..40)
                .map(|_| {
                    n += 1;
                    // Many points share a time, a size and a vault: ties.
                    let mut q = point(next() % 30, if next() % 3 == 0 { "dr" } else { "primary" });
                    q.id = format!("arn:{n}");
                    q.size_bytes = Some((next() % 5) as u64);
                    q
                })
                .collect();
            p.add(points);
            assert_eq!(p.view, naive(&p), "page {page}");
            p.move_by(next() as isize % 7);
            match page % 4 {
                0 => p.set_filter("pri".into()),
                1 => p.set_filter("primary".into()),
                2 => p.next_sort(),
                _ => {
                    p.set_filter(String::new());
                    p.reverse();
                }
            }
            assert_eq!(p.view, naive(&p), "after page {page}");
            // Widening the filter by a key and narrowing it back keeps
            // the view and the selected point.
            let chosen = p.current().map(|c| c.id.clone());
            let filter = p.filter.clone();
            if let Some(shorter) = filter.get(..filter.len().saturating_sub(1)) {
                p.set_filter(shorter.to_owned());
                assert_eq!(p.view, naive(&p));
                p.set_filter(filter);
                assert_eq!(p.view, naive(&p));
                assert_eq!(
                    p.current().map(|c| c.id.clone()),
                    chosen,
                    "the selection stays"
                );
            }
        }
    }

    #[test]
    fn a_reload_selects_the_same_point_when_it_comes_back() {
        let mut p = picker();
        p.add((0..50).map(|n| point(n, "primary")).collect());
        p.move_by(10);
        let chosen = p.current().unwrap().id.clone();
        p.reload(Timestamp::UNIX_EPOCH);
        p.add((45..50).map(|n| point(n, "primary")).collect());
        p.move_by(2);
        assert_eq!(p.current().unwrap().id, "arn:primary:47", "the row stays");
        p.add((0..45).map(|n| point(n, "primary")).collect());
        assert_eq!(p.current().unwrap().id, chosen);
    }
}
