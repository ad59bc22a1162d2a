//! The recovery point picker's state: points arriving page by page, a
//! filter, a sort, and the selection. Kept cheap at 100,000 points: a page
//! is sorted into place by merging, and a filter matches precomputed
//! lowercase text.

use jiff::Timestamp;

use crate::cloud::points::Listing;
use crate::cloud::{PointSource, RecoveryPoint};

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
            keep_id: None,
        }
    }

    /// Drops the points for a new listing.
    pub fn reload(&mut self, now: Timestamp) {
        let keep = self.current().map(|p| p.id.clone());
        self.points.clear();
        self.haystacks.clear();
        self.view.clear();
        self.errors.clear();
        self.loading = self.sources.len();
        self.listed_at = now;
        self.selected = 0;
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
            self.haystacks.push(haystack(&p));
            self.points.push(p);
        }
        let selected_id = self.current().map(|p| p.id.clone());
        let needle = self.filter.to_lowercase();
        let mut added: Vec<usize> = (first..self.points.len())
            .filter(|&i| needle.is_empty() || self.haystacks[i].contains(&needle))
            .collect();
        added.sort_by(|&a, &b| self.compare(a, b));
        // Merge the sorted page into the sorted view: O(n) a page.
        let old = std::mem::take(&mut self.view);
        let mut merged = Vec::with_capacity(old.len() + added.len());
        let (mut i, mut j) = (0, 0);
        while i < old.len() && j < added.len() {
            if self.compare(old[i], added[j]) != std::cmp::Ordering::Greater {
                merged.push(old[i]);
                i += 1;
            } else {
                merged.push(added[j]);
                j += 1;
            }
        }
        merged.extend_from_slice(&old[i..]);
        merged.extend_from_slice(&added[j..]);
        self.view = merged;
        let keep = self.keep_id.clone().or(selected_id);
        self.select_id(keep.as_deref());
    }

    fn select_id(&mut self, id: Option<&str>) {
        if let Some(id) = id
            && let Some(pos) = self.view.iter().position(|&i| self.points[i].id == id)
        {
            self.selected = pos;
            if self.keep_id.as_deref() == Some(id) {
                self.keep_id = None;
            }
        }
        self.selected = self.selected.min(self.view.len().saturating_sub(1));
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

    fn rebuild(&mut self) {
        let id = self.current().map(|p| p.id.clone());
        let needle = self.filter.to_lowercase();
        let mut view: Vec<usize> = (0..self.points.len())
            .filter(|&i| needle.is_empty() || self.haystacks[i].contains(&needle))
            .collect();
        view.sort_by(|&a, &b| self.compare(a, b));
        self.view = view;
        self.selected = 0;
        self.select_id(id.as_deref());
    }

    /// Sets the filter (case-insensitive text anywhere in the row).
    pub fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        self.rebuild();
    }

    /// Sorts by the next column.
    pub fn next_sort(&mut self) {
        self.sort = self.sort.next();
        self.rebuild();
    }

    /// Reverses the sort.
    pub fn reverse(&mut self) {
        self.descending = !self.descending;
        self.rebuild();
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
}
