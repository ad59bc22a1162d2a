//! How durations, sizes, moments and counts read in messages, the console
//! and the report: `1m 30s`, `9d 11h`, `41.9 GiB`, `2026-12-03T10:07:54Z`,
//! `1 point`. One place, so every front end says the same thing the same
//! way.
//!
//! Plain text only: it must not touch the terminal, the engine's state or
//! AWS. (`engine::humanize` and `cloud::human_bytes` re-export these.)

use std::time::Duration;

/// `secs` as a duration, saturating: negative or NaN is zero, beyond
/// [`Duration::MAX`] is `Duration::MAX`. Seconds read from outside (a
/// journal's `elapsed`, a report's figures) never panic a conversion.
pub fn duration_from_secs(secs: f64) -> Duration {
    if secs.is_nan() || secs <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
}

/// `90s` → "1m 30s", `26h 5m` as it is, and from three days on in days
/// and hours (`9d 11h`), for messages.
pub fn humanize(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 72 * 3600 {
        return match ((secs / 3600) / 24, (secs / 3600) % 24) {
            (days, 0) => format!("{days}d"),
            (days, h) => format!("{days}d {h}h"),
        };
    }
    match (secs / 3600, (secs % 3600) / 60, secs % 60) {
        (0, 0, s) if d.subsec_millis() > 0 && s < 10 => format!("{:.1}s", d.as_secs_f64()),
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

/// How a simulated run's time reads: the sandbox runs `speed` times faster
/// than real time, so a run's real durations are worth `real × speed` in
/// its world (whose restores take world hours). The one rule the report and
/// the console use: state both, side by side, and judge the RTO in world
/// time. (Recovery points and their RPO are world moments already.)
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulatedTime {
    /// How many times faster than real time the world runs.
    pub speed: f64,
}

impl SimulatedTime {
    /// The world time `real` stands for.
    pub fn world(self, real: Duration) -> Duration {
        let speed = if self.speed.is_finite() && self.speed > 0.0 {
            self.speed
        } else {
            1.0
        };
        Duration::try_from_secs_f64(real.as_secs_f64() * speed).unwrap_or(Duration::MAX)
    }

    /// `14s real = 14h simulated at 3600×`.
    pub fn side_by_side(self, real: Duration) -> String {
        format!("{} real = {}", humanize(real), self.world_words(real))
    }

    /// What a target or a budget is judged against: world time in a
    /// simulated run (`sim`), real time otherwise. The one rule for the RTO,
    /// the phase budgets and every duration shown beside them.
    pub fn judged(sim: Option<Self>, real: Duration) -> Duration {
        sim.map_or(real, |sim| sim.world(real))
    }

    /// `real` as a person reads it: side by side with world time in a
    /// simulated run, else on its own.
    pub fn words(sim: Option<Self>, real: Duration) -> String {
        sim.map_or_else(|| humanize(real), |sim| sim.side_by_side(real))
    }

    /// What `real` is worth in the world: `14h simulated at 3600×`.
    pub fn world_words(self, real: Duration) -> String {
        format!(
            "{} simulated at {}×",
            humanize(self.world(real)),
            self.speed
        )
    }
}

/// A moment as outputs, messages and reports write it: RFC 3339 in UTC,
/// to the second (`2026-12-03T10:07:54Z`), never with nanoseconds.
pub fn timestamp(t: jiff::Timestamp) -> String {
    t.round(jiff::Unit::Second).unwrap_or(t).to_string()
}

/// `n` and the noun for it: `1 point`, `2 points`, `0 points`. `one` is the
/// singular; the plural adds `s` unless it is given as `one|many`
/// (`"copy|copies"`).
pub fn count(n: impl Into<u64> + Copy, one: &str) -> String {
    let n: u64 = n.into();
    let (singular, plural) = match one.split_once('|') {
        Some((s, p)) => (s.to_owned(), p.to_owned()),
        None => (one.to_owned(), format!("{one}s")),
    };
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped} {}", if n == 1 { singular } else { plural })
}

/// Bytes as people read them: `512 B`, `1.5 KiB`, `41.9 GiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `text` safe to print on a terminal: control characters (escape
/// sequences that retitle the terminal, move the cursor, clear the screen;
/// carriage returns that overwrite a line) are dropped, a tab becomes a
/// space, line breaks stay. The console draws nothing of them either
/// (ratatui skips control characters); headless output prints through
/// this.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() && c != '\n';
    if !text.contains(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .filter_map(|c| match c {
            '\t' => Some(' '),
            c if bad(c) => None,
            c => Some(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_the_largest_units_that_matter() {
        let secs = Duration::from_secs;
        assert_eq!(humanize(secs(0)), "0s");
        assert_eq!(humanize(Duration::from_millis(2_500)), "2.5s");
        assert_eq!(humanize(secs(90)), "1m 30s");
        assert_eq!(humanize(secs(60)), "1m");
        assert_eq!(humanize(secs(3600)), "1h");
        assert_eq!(humanize(secs(26 * 3600 + 5 * 60 + 7)), "26h 5m");
        assert_eq!(humanize(secs(72 * 3600)), "3d");
        assert_eq!(humanize(secs((9 * 24 + 11) * 3600 + 59)), "9d 11h");
    }

    #[test]
    fn simulated_time_states_real_and_world_time_side_by_side() {
        let sim = SimulatedTime { speed: 3600.0 };
        assert_eq!(
            sim.world(Duration::from_secs(14)),
            Duration::from_secs(14 * 3600)
        );
        assert_eq!(
            sim.side_by_side(Duration::from_secs(14)),
            "14s real = 14h simulated at 3600×"
        );
        let odd = SimulatedTime { speed: f64::NAN };
        assert_eq!(odd.world(Duration::from_secs(5)), Duration::from_secs(5));
    }

    #[test]
    fn timestamps_are_written_to_the_second() {
        let t: jiff::Timestamp = "2026-12-03T10:07:54.318760633Z".parse().unwrap();
        assert_eq!(timestamp(t), "2026-12-03T10:07:54Z");
    }

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count(1u32, "point"), "1 point");
        assert_eq!(count(0u32, "point"), "0 points");
        assert_eq!(count(1460u32, "point"), "1,460 points");
        assert_eq!(count(1u32, "copy|copies"), "1 copy");
        assert_eq!(count(3u32, "copy|copies"), "3 copies");
    }

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(44_989_616_538), "41.9 GiB");
    }
}
