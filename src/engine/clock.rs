//! The run's clock: elapsed time from tokio's monotonic clock (so tests can
//! pause and advance it), wall time derived from it, so the two never
//! disagree within one process.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::time::Instant;

/// Reads the time of a run.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Wall time at `mono0`.
    wall0: Timestamp,
    /// Monotonic time at `wall0`.
    mono0: Instant,
    /// Elapsed run time at `mono0` (non-zero after a resume).
    offset: Duration,
}

impl Clock {
    /// A clock for a run that starts now.
    pub fn start() -> Self {
        Self::at(Timestamp::now(), Duration::ZERO)
    }

    /// A clock whose wall time is `wall` now and whose run has been going
    /// for `elapsed` (a resumed run counts the gap).
    pub fn at(wall: Timestamp, elapsed: Duration) -> Self {
        Self {
            wall0: wall,
            mono0: Instant::now(),
            offset: elapsed,
        }
    }

    /// Wall time and elapsed run time now.
    pub fn now(&self) -> (Timestamp, Duration) {
        let since = self.mono0.elapsed();
        let wall = self
            .wall0
            .checked_add(SignedDuration::try_from(since).unwrap_or(SignedDuration::MAX))
            .unwrap_or(Timestamp::MAX);
        (wall, self.offset + since)
    }

    /// When the run started, on the wall clock.
    pub fn run_start(&self) -> Timestamp {
        self.wall0
            .checked_sub(SignedDuration::try_from(self.offset).unwrap_or(SignedDuration::ZERO))
            .unwrap_or(self.wall0)
    }
}

/// `later - earlier` as a non-negative duration.
pub fn between(earlier: Timestamp, later: Timestamp) -> Duration {
    Duration::try_from(later.duration_since(earlier)).unwrap_or(Duration::ZERO)
}
