//! A content file taken at one time, held by objects written at others: a
//! series' `content_as_of` says when its `content_file` (an uncompressed
//! `pg_dump -Fc -Z 0`) was taken, and each object of the series holds it
//! with every UTC timestamp of its rows moved by the object's distance from
//! that time. So an older dump holds older rows, and no dump holds a change
//! newer than itself. This module only rewrites bytes; it reads nothing.

use jiff::{SignedDuration, Timestamp};

/// The text of one timestamp as PostgreSQL's COPY writes it in UTC:
/// `2026-11-22 01:45:00+00`.
const LEN: usize = "2026-11-22 01:45:00+00".len();

/// Whether `b` is a timestamp's text (digits and separators in place).
fn is_timestamp(b: &[u8]) -> bool {
    b.len() == LEN
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            19 => *c == b'+',
            _ => c.is_ascii_digit(),
        })
        && &b[19..] == b"+00"
}

fn parse(b: &[u8]) -> Option<Timestamp> {
    let text = std::str::from_utf8(&b[..19]).ok()?;
    let civil: jiff::civil::DateTime = text.parse().ok()?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// Every UTC timestamp in `bytes` (where it starts, and when it is).
pub(super) fn timestamps(bytes: &[u8]) -> Vec<(usize, Timestamp)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + LEN <= bytes.len() {
        let candidate = &bytes[i..i + LEN];
        // `+00:30` is another offset, and a digit before means a longer number.
        let follows = bytes.get(i + LEN).copied();
        let precedes = i.checked_sub(1).map(|p| bytes[p]);
        if is_timestamp(candidate)
            && !matches!(follows, Some(b':' | b'0'..=b'9'))
            && !matches!(precedes, Some(b'0'..=b'9'))
            && let Some(t) = parse(candidate)
        {
            out.push((i, t));
            i += LEN;
        } else {
            i += 1;
        }
    }
    out
}

/// `bytes` with every UTC timestamp moved by `by`; the length stays the
/// same. Fails when `bytes` hold no timestamp (a compressed dump, say) or a
/// moved one would leave the four-digit years.
pub(super) fn moved(bytes: &[u8], by: SignedDuration) -> Result<Vec<u8>, String> {
    let found = timestamps(bytes);
    if found.is_empty() {
        return Err("the content file holds no UTC timestamps to move (`2026-11-22 01:45:00+00`): \
             make it uncompressed (DUMP_COMPRESS=0 scripts/make-pg-dump-asset), or drop `content_as_of`"
            .into());
    }
    let mut out = bytes.to_vec();
    for (at, t) in found {
        let text = t
            .checked_add(by)
            .ok()
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S+00").to_string())
            .filter(|s| s.len() == LEN)
            .ok_or_else(|| {
                format!("the timestamp {t} moved by {by:#} leaves the four-digit years")
            })?;
        out[at..at + LEN].copy_from_slice(text.as_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_move_and_nothing_else_does() {
        let rows = b"1\t2026-11-22 01:45:00+00\tname 2026-11-22\n2\t2026-11-21 00:00:00+00:30\n3\t12026-11-21 00:00:00+00\n";
        let out = moved(rows, SignedDuration::from_hours(-24 * 21)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1\t2026-11-01 01:45:00+00\tname 2026-11-22\n2\t2026-11-21 00:00:00+00:30\n3\t12026-11-21 00:00:00+00\n"
        );
    }

    #[test]
    fn bytes_without_timestamps_or_moved_out_of_range_are_refused() {
        let e = moved(b"\x1f\x8b compressed", SignedDuration::ZERO).unwrap_err();
        assert!(e.contains("DUMP_COMPRESS=0"), "{e}");
        let e = moved(b"9999-12-29 00:00:00+00", SignedDuration::from_hours(72)).unwrap_err();
        assert!(e.contains("leaves the four-digit years"), "{e}");
    }
}
