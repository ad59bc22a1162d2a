//! How durations and sizes read in messages, the console and the report:
//! `1m 30s`, `9d 11h`, `41.9 GiB`. One place, so every front end says the
//! same thing the same way.
//!
//! Plain text only: it must not touch the terminal, the engine's state or
//! AWS. (`engine::humanize` and `cloud::human_bytes` re-export these.)

use std::time::Duration;

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
    fn sizes_read_in_binary_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(44_989_616_538), "41.9 GiB");
    }
}
