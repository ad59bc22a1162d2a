//! Which columns of recovery points the picker shows in the width it has.
//! A column tells something only where it differs between points: when
//! the row is too narrow for all of them, the columns identical on every
//! point listed go first, then the least telling ones. The creation time
//! and the resource (an S3 object's key) always stay: the first says how
//! much data is lost, the second which point it is. The picker keeps the
//! [`Variety`] of what it has listed and draws the columns [`choose`] picks.

use std::time::Duration;

use jiff::Timestamp;

use super::picker::location;
use crate::cloud::{ArchiveState, PointSource, RecoveryPoint, human_bytes};
use crate::engine::humanize;

/// A column of the picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// Creation time, date and time in UTC.
    Created,
    /// How old the point is now.
    Age,
    /// T0 minus the creation time.
    Rpo,
    /// The resource backed up, or the S3 object's key.
    Resource,
    /// The resource type.
    Type,
    /// The point's status (and archive state).
    Status,
    /// Its size.
    Size,
    /// Its storage tier.
    Tier,
    /// Vault or bucket, and region.
    Where,
}

impl Column {
    /// Every column, in the order drawn.
    pub const ALL: [Column; 9] = [
        Column::Created,
        Column::Age,
        Column::Rpo,
        Column::Resource,
        Column::Type,
        Column::Status,
        Column::Size,
        Column::Tier,
        Column::Where,
    ];

    /// Its header.
    pub fn header(self) -> &'static str {
        match self {
            Column::Created => "created (UTC)",
            Column::Age => "age",
            Column::Rpo => "RPO",
            Column::Resource => "resource",
            Column::Type => "type",
            Column::Status => "status",
            Column::Size => "size",
            Column::Tier => "tier",
            Column::Where => "where",
        }
    }

    /// Its width, or for the resource and where columns the least they
    /// are given (they share what is left).
    pub fn width(self) -> u16 {
        match self {
            Column::Created => 20,
            Column::Age => 8,
            Column::Rpo => 10,
            Column::Resource => 20,
            Column::Type => 9,
            Column::Status => 18,
            Column::Size => 10,
            Column::Tier => 12,
            Column::Where => 16,
        }
    }

    /// How much the column tells when it differs: the lowest goes first.
    fn tells(self) -> u8 {
        match self {
            Column::Created | Column::Resource => u8::MAX,
            Column::Rpo => 90,
            Column::Status => 80,
            Column::Where => 70,
            Column::Size => 50,
            Column::Tier => 40,
            Column::Type => 30,
            Column::Age => 20,
        }
    }

    /// Its text for a point whose RPO is measured from `t0`, `now`.
    pub fn text(
        self,
        p: &RecoveryPoint,
        sources: &[PointSource],
        t0: Timestamp,
        now: Timestamp,
    ) -> String {
        match self {
            Column::Created => p.created_at.strftime("%Y-%m-%d %H:%M:%SZ").to_string(),
            Column::Age => humanize(p.age(now)),
            Column::Rpo => humanize(p.rpo(t0)),
            Column::Resource => short_resource(p, sources),
            Column::Type => p.resource_type.clone().unwrap_or_default(),
            Column::Status => match &p.archive {
                Some(ArchiveState::Needed) => format!("{} ❄ archived", p.status),
                Some(ArchiveState::Ongoing) => format!("{} ❄ restoring", p.status),
                _ if p.is_partial() => format!("{} ⚠ nested points missing", p.status),
                _ => p.status.clone(),
            },
            Column::Size => p.size_bytes.map(human_bytes).unwrap_or_default(),
            Column::Tier => p.storage_class.clone().unwrap_or_default(),
            Column::Where => format!(
                "{}{}",
                location(p),
                if p.is_copy() { " (copy)" } else { "" }
            ),
        }
    }
}

/// Whether each column differs between the points listed, kept as pages
/// arrive (the age and RPO differ when the creation time does).
#[derive(Debug, Clone, Default)]
pub struct Variety {
    first: Option<Vec<String>>,
    varies: [bool; Column::ALL.len()],
}

impl Variety {
    /// Takes in a point.
    pub fn see(&mut self, p: &RecoveryPoint, sources: &[PointSource]) {
        let texts: Vec<String> = Column::ALL
            .iter()
            .map(|c| match c {
                // Same time, same age and RPO: the creation time stands in.
                Column::Age | Column::Rpo => String::new(),
                c => c.text(p, sources, Timestamp::UNIX_EPOCH, Timestamp::UNIX_EPOCH),
            })
            .collect();
        match &self.first {
            None => self.first = Some(texts),
            Some(first) => {
                for (i, (a, b)) in first.iter().zip(&texts).enumerate() {
                    self.varies[i] |= a != b;
                }
            }
        }
    }

    /// Whether `column` differs between the points.
    pub fn varies(&self, column: Column) -> bool {
        match column {
            Column::Age | Column::Rpo => self.varies[0],
            c => self.varies[Column::ALL.iter().position(|x| *x == c).unwrap_or(0)],
        }
    }
}

/// The columns that fit in `width` (a space between each) when the
/// resources on screen need `resource` columns: the constant ones dropped
/// first, then the least telling; never the creation time nor the
/// resource.
pub fn choose(width: u16, variety: &Variety, resource: u16) -> Vec<Column> {
    let mut columns = Column::ALL.to_vec();
    let needed = |columns: &[Column]| -> u16 {
        columns
            .iter()
            .map(|c| match c {
                Column::Resource => c.width().max(resource),
                c => c.width(),
            })
            .sum::<u16>()
            + columns.len() as u16
            - 1
    };
    while needed(&columns) > width {
        let Some(drop) = columns
            .iter()
            .copied()
            .filter(|c| c.tells() < u8::MAX)
            .min_by_key(|c| (variety.varies(*c), c.tells()))
        else {
            break;
        };
        columns.retain(|c| *c != drop);
    }
    columns
}

/// Whether a point's RPO is over the target it is measured against.
pub fn over_target(p: &RecoveryPoint, t0: Timestamp, target: Option<Duration>) -> bool {
    target.is_some_and(|t| p.rpo(t0) > t)
}

/// The point's resource as the picker shows it: an S3 object's key without
/// the prefix its source lists (the title names it), so that what tells
/// the points apart (tier, date) stays on screen.
fn short_resource(p: &RecoveryPoint, sources: &[PointSource]) -> String {
    let name = p.resource_name.as_deref().unwrap_or_default();
    let prefix = sources.iter().find_map(|s| match s {
        PointSource::Bucket { bucket, prefix, .. }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::PointKind;

    fn point(n: i64, key: &str) -> RecoveryPoint {
        let mut p = RecoveryPoint::new(
            format!("arn:{n}"),
            PointKind::Backup,
            Timestamp::from_second(1_700_000_000 + n * 86_400).unwrap(),
            "us-east-1".into(),
        );
        p.vault = Some("v".into());
        p.resource_name = Some(key.into());
        p.resource_type = Some("S3".into());
        p.size_bytes = Some(1000);
        p.storage_class = Some("STANDARD".into());
        p
    }

    #[test]
    fn a_partial_point_says_its_nested_points_are_missing() {
        let mut p = point(1, "daily/a.enc");
        p.status = "PARTIAL".into();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        assert_eq!(
            Column::Status.text(&p, &[], now, now),
            "PARTIAL ⚠ nested points missing"
        );
    }

    #[test]
    fn at_80_columns_the_key_stays_and_constant_columns_go_first() {
        let mut variety = Variety::default();
        for (n, key) in [(1, "daily/a.enc"), (2, "daily/b.enc"), (3, "daily/c.enc")] {
            variety.see(&point(n, key), &[]);
        }
        let columns = choose(78, &variety, 0);
        assert!(columns.contains(&Column::Resource), "{columns:?}");
        assert!(columns.contains(&Column::Created), "{columns:?}");
        for constant in [Column::Type, Column::Size, Column::Tier, Column::Status] {
            assert!(!columns.contains(&constant), "{columns:?}");
        }
        assert_eq!(choose(200, &variety, 0), Column::ALL.to_vec());
    }

    #[test]
    fn a_column_that_differs_outlasts_a_constant_one_that_tells_more() {
        let mut variety = Variety::default();
        let mut a = point(1, "k");
        let b = point(2, "k");
        a.size_bytes = Some(5);
        variety.see(&a, &[]);
        variety.see(&b, &[]);
        let columns = choose(20 + 10 + 20 + 10 + 3, &variety, 1);
        assert_eq!(
            columns,
            vec![Column::Created, Column::Rpo, Column::Resource, Column::Size]
        );
    }
}
