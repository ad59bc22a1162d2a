//! The durations AWS documents, with where each is written. The one table
//! the time area reads when a runbook has no history, rendered in
//! `docs/preflight.md` (`## Time`); a test keeps the two equal.
//!
//! `typical` is the low end of the documented range (or its one figure),
//! `worst` its high end: "typically within 3–5 hours" is 3 h typical and
//! 5 h worst. `None` is a duration AWS does not give.

use std::time::Duration;

use serde::Serialize;

/// One documented duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fact {
    /// What takes the time, e.g. `S3 Glacier Deep Archive, Bulk retrieval`.
    pub what: &'static str,
    /// The low end of the documented range.
    #[serde(with = "crate::engine::event::seconds_opt")]
    pub typical: Option<Duration>,
    /// The high end of the documented range.
    #[serde(with = "crate::engine::event::seconds_opt")]
    pub worst: Option<Duration>,
    /// The figure as AWS writes it.
    pub says: &'static str,
    /// Where it is written.
    pub source: &'static str,
}

const fn min(m: u64) -> Option<Duration> {
    Some(Duration::from_secs(m * 60))
}

const fn hours(h: u64) -> Option<Duration> {
    Some(Duration::from_secs(h * 3600))
}

const S3_RETRIEVAL: &str = "Amazon S3 User Guide, \"Understanding archive retrieval options\" (restoring-objects-retrieval-options)";

/// S3 Glacier Flexible Retrieval (or Intelligent-Tiering Archive Access), Expedited.
pub const FLEXIBLE_EXPEDITED: Fact = Fact {
    what: "S3 Glacier Flexible Retrieval / Intelligent-Tiering Archive Access, Expedited retrieval",
    typical: min(1),
    worst: min(5),
    says: "typically within 1–5 minutes (objects under 250 MB)",
    source: S3_RETRIEVAL,
};
/// Flexible Retrieval (or Archive Access), Standard.
pub const FLEXIBLE_STANDARD: Fact = Fact {
    what: "S3 Glacier Flexible Retrieval / Intelligent-Tiering Archive Access, Standard retrieval",
    typical: hours(3),
    worst: hours(5),
    says: "typically within 3–5 hours",
    source: S3_RETRIEVAL,
};
/// Flexible Retrieval (or Archive Access), Bulk.
pub const FLEXIBLE_BULK: Fact = Fact {
    what: "S3 Glacier Flexible Retrieval / Intelligent-Tiering Archive Access, Bulk retrieval",
    typical: hours(5),
    worst: hours(12),
    says: "typically within 5–12 hours",
    source: S3_RETRIEVAL,
};
/// Deep Archive (or Intelligent-Tiering Deep Archive Access), Standard.
pub const DEEP_STANDARD: Fact = Fact {
    what: "S3 Glacier Deep Archive / Intelligent-Tiering Deep Archive Access, Standard retrieval",
    typical: hours(12),
    worst: hours(12),
    says: "typically within 12 hours",
    source: S3_RETRIEVAL,
};
/// Deep Archive (or Deep Archive Access), Bulk.
pub const DEEP_BULK: Fact = Fact {
    what: "S3 Glacier Deep Archive / Intelligent-Tiering Deep Archive Access, Bulk retrieval",
    typical: hours(48),
    worst: hours(48),
    says: "typically within 48 hours",
    source: S3_RETRIEVAL,
};
/// Deep Archive, Expedited: not offered.
pub const DEEP_EXPEDITED: Fact = Fact {
    what: "S3 Glacier Deep Archive / Intelligent-Tiering Deep Archive Access, Expedited retrieval",
    typical: None,
    worst: None,
    says: "not available: Expedited serves Flexible Retrieval and Archive Access only",
    source: S3_RETRIEVAL,
};
/// An AWS Backup copy job waiting in CREATED.
pub const COPY_CREATED: Fact = Fact {
    what: "AWS Backup copy job, before it runs",
    typical: None,
    worst: hours(2),
    says: "may stay CREATED up to 2 hours while AWS Backup retries, then copies",
    source: "AWS Backup Developer Guide, \"Backup and tag copy\", Copy job retry",
};
/// A DynamoDB restore (on-demand backup, PITR, or through AWS Backup).
pub const DYNAMODB_RESTORE: Fact = Fact {
    what: "DynamoDB table restore (backup, point in time, or AWS Backup)",
    typical: None,
    worst: None,
    says: "no figure: the time depends on the table's size and partitions",
    source: "Amazon DynamoDB Developer Guide, \"Restore a table in DynamoDB\" (pointintimerecovery_restores); botocore dynamodb 2012-08-10 RestoreTableFromBackup and RestoreTableToPointInTime give no duration",
};
/// A person's step.
pub const PERSON: Fact = Fact {
    what: "manual and approve steps",
    typical: None,
    worst: None,
    says: "unknown: as long as the person takes",
    source: "dr-drill (no AWS figure)",
};

/// Every fact, in the order `docs/preflight.md` shows them.
pub const ALL: [Fact; 9] = [
    FLEXIBLE_EXPEDITED,
    FLEXIBLE_STANDARD,
    FLEXIBLE_BULK,
    DEEP_EXPEDITED,
    DEEP_STANDARD,
    DEEP_BULK,
    COPY_CREATED,
    DYNAMODB_RESTORE,
    PERSON,
];

/// Which archive an object is in, as S3 restores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Archive {
    /// Readable now (not archived, or a restored copy is ready).
    None,
    /// S3 Glacier Flexible Retrieval (`GLACIER`).
    Flexible,
    /// Intelligent-Tiering, archived: Archive Access or Deep Archive
    /// Access (a HEAD's `x-amz-archive-status` tells; a listing does not).
    IntelligentTiering,
    /// S3 Glacier Deep Archive (`DEEP_ARCHIVE`).
    Deep,
}

impl Archive {
    /// The archive of an object of `storage_class` that `needs_restore`.
    pub fn of(storage_class: &str, needs_restore: bool) -> Archive {
        if !needs_restore {
            return Archive::None;
        }
        match storage_class {
            "DEEP_ARCHIVE" => Archive::Deep,
            "INTELLIGENT_TIERING" => Archive::IntelligentTiering,
            _ => Archive::Flexible,
        }
    }

    /// Its name, as shown.
    pub fn word(self) -> &'static str {
        match self {
            Archive::None => "not archived",
            Archive::Flexible => "Glacier Flexible Retrieval",
            Archive::IntelligentTiering => "Intelligent-Tiering archive",
            Archive::Deep => "Deep Archive",
        }
    }
}

/// The facts a restore at `tier` from `archive` rests on: the typical
/// case first, the worst second (they differ for Intelligent-Tiering,
/// whose access tier a listing does not give).
pub fn retrieval(archive: Archive, tier: &str) -> Option<(Fact, Fact)> {
    let flexible = match tier {
        "Expedited" => FLEXIBLE_EXPEDITED,
        "Bulk" => FLEXIBLE_BULK,
        _ => FLEXIBLE_STANDARD,
    };
    let deep = match tier {
        "Expedited" => DEEP_EXPEDITED,
        "Bulk" => DEEP_BULK,
        _ => DEEP_STANDARD,
    };
    match archive {
        Archive::None => None,
        Archive::Flexible => Some((flexible, flexible)),
        Archive::IntelligentTiering => Some((flexible, deep)),
        Archive::Deep => Some((deep, deep)),
    }
}

/// The table as `docs/preflight.md` shows it.
pub fn markdown() -> String {
    let mut out = String::from(
        "| what | AWS says | typical | worst | source |\n| --- | --- | --- | --- | --- |\n",
    );
    let show = |d: Option<Duration>| d.map_or("unknown".to_owned(), crate::format::humanize);
    for f in ALL {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            f.what,
            f.says,
            show(f.typical),
            show(f.worst),
            f.source
        ));
    }
    out
}
