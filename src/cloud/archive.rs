//! S3's archive rules: which objects must be restored before they can be
//! read, and which retrieval tiers each archive takes. The one home of
//! "may this object be restored with this tier"; the `s3.restore-object`
//! runner asks it for every object before the first RestoreObject.
//!
//! Sources (botocore `s3` 2006-03-01, `RestoreObject` documentation, and the
//! S3 user guide, "Restoring an archived object", "Understanding archive
//! retrieval options", "How S3 Intelligent-Tiering works"):
//! - GLACIER (Flexible Retrieval): Expedited, Standard, Bulk; `Days` required.
//! - DEEP_ARCHIVE: Standard, Bulk ("Expedited retrievals and provisioned
//!   capacity are not available for objects stored in the S3 Glacier Deep
//!   Archive storage class or S3 Intelligent-Tiering Deep Archive tier").
//! - INTELLIGENT_TIERING with `x-amz-archive-status` ARCHIVE_ACCESS
//!   (`HeadObjectOutput.ArchiveStatus`): Expedited, Standard, Bulk;
//!   DEEP_ARCHIVE_ACCESS: Standard, Bulk. No `Days`: the object moves back
//!   to the Frequent Access tier ("not subject to restore expiry", S3 API
//!   reference, `S3InitiateRestoreObjectOperation.ExpirationInDays`).
//! - GLACIER_IR and every other class: readable, no restore.

use super::ArchiveState;

/// Where an archived object sits, as far as a restore is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveTier {
    /// S3 Glacier Flexible Retrieval (`GLACIER`).
    FlexibleRetrieval,
    /// S3 Glacier Deep Archive (`DEEP_ARCHIVE`).
    DeepArchive,
    /// S3 Intelligent-Tiering, Archive Access tier.
    IntelligentArchive,
    /// S3 Intelligent-Tiering, Deep Archive Access tier.
    IntelligentDeepArchive,
}

/// What a restore of one object uses, from the tier the step asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierChoice {
    /// The asked tier.
    Asked,
    /// The step's fallback tier: the asked one is not available here.
    Fallback(&'static str),
    /// Neither the asked tier nor a fallback is available here.
    Unavailable,
}

impl ArchiveTier {
    /// The archive an object with this storage class and
    /// `x-amz-archive-status` is in; `None` when it is readable as it is.
    pub fn of(class: &str, archive_status: Option<&str>) -> Option<Self> {
        match (class, archive_status) {
            ("GLACIER", _) => Some(Self::FlexibleRetrieval),
            ("DEEP_ARCHIVE", _) => Some(Self::DeepArchive),
            ("INTELLIGENT_TIERING", Some("ARCHIVE_ACCESS")) => Some(Self::IntelligentArchive),
            ("INTELLIGENT_TIERING", Some("DEEP_ARCHIVE_ACCESS")) => {
                Some(Self::IntelligentDeepArchive)
            }
            _ => None,
        }
    }

    /// Its name as S3 shows it: the class, and the tier for
    /// Intelligent-Tiering.
    pub fn name(self) -> &'static str {
        match self {
            Self::FlexibleRetrieval => "GLACIER",
            Self::DeepArchive => "DEEP_ARCHIVE",
            Self::IntelligentArchive => "INTELLIGENT_TIERING/ARCHIVE_ACCESS",
            Self::IntelligentDeepArchive => "INTELLIGENT_TIERING/DEEP_ARCHIVE_ACCESS",
        }
    }

    /// The retrieval tiers S3 takes for it.
    pub fn tiers(self) -> &'static [&'static str] {
        match self {
            Self::FlexibleRetrieval | Self::IntelligentArchive => {
                &["Expedited", "Standard", "Bulk"]
            }
            Self::DeepArchive | Self::IntelligentDeepArchive => &["Standard", "Bulk"],
        }
    }

    /// Whether a restore carries `Days` (a temporary copy that expires):
    /// required for the Glacier classes, refused for Intelligent-Tiering.
    pub fn takes_days(self) -> bool {
        matches!(self, Self::FlexibleRetrieval | Self::DeepArchive)
    }

    /// The tier a restore of it uses: `asked` when S3 takes it, else
    /// `fallback` when S3 takes that.
    pub fn choose(self, asked: &str, fallback: Option<&'static str>) -> TierChoice {
        let takes = |t: &str| self.tiers().contains(&t);
        if takes(asked) {
            TierChoice::Asked
        } else if let Some(f) = fallback.filter(|f| takes(f)) {
            TierChoice::Fallback(f)
        } else {
            TierChoice::Unavailable
        }
    }
}

/// An object in an archive class that must be restored first.
pub fn is_archive_class(class: &str) -> bool {
    ArchiveTier::of(class, None).is_some()
}

/// The archive state from a storage class, `x-amz-archive-status` and S3's
/// `x-amz-restore` header (`ongoing-request="false", expiry-date="Fri, 21
/// Dec 2012 00:00:00 GMT"`; botocore `s3` 2006-03-01,
/// `HeadObjectOutput.Restore`).
pub fn archive_state(
    class: &str,
    archive_status: Option<&str>,
    restore: Option<&str>,
) -> Option<ArchiveState> {
    match restore {
        Some(r) if r.contains("ongoing-request=\"true\"") => Some(ArchiveState::Ongoing),
        // An Intelligent-Tiering object still in an archive tier.
        Some(_) if ArchiveTier::of(class, archive_status).is_some() && !is_archive_class(class) => {
            Some(ArchiveState::Needed)
        }
        Some(r) => {
            let until = r
                .split("expiry-date=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .and_then(|d| jiff::fmt::rfc2822::parse(d).ok())
                .map(|z| z.timestamp());
            Some(ArchiveState::Ready { until })
        }
        None if ArchiveTier::of(class, archive_status).is_some() => Some(ArchiveState::Needed),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_header_gives_the_archive_state() {
        assert_eq!(
            archive_state("DEEP_ARCHIVE", None, None),
            Some(ArchiveState::Needed)
        );
        assert_eq!(
            archive_state("GLACIER", None, Some("ongoing-request=\"true\"")),
            Some(ArchiveState::Ongoing)
        );
        let ready = archive_state(
            "GLACIER",
            None,
            Some("ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\""),
        );
        assert_eq!(
            ready,
            Some(ArchiveState::Ready {
                until: Some("2012-12-21T00:00:00Z".parse().unwrap())
            })
        );
        assert_eq!(archive_state("STANDARD", None, None), None);
        assert_eq!(archive_state("GLACIER_IR", None, None), None);
    }

    #[test]
    fn intelligent_tiering_archive_tiers_need_a_restore() {
        for status in ["ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"] {
            assert_eq!(
                archive_state("INTELLIGENT_TIERING", Some(status), None),
                Some(ArchiveState::Needed),
                "{status}"
            );
        }
        assert_eq!(archive_state("INTELLIGENT_TIERING", None, None), None);
        assert_eq!(
            archive_state(
                "INTELLIGENT_TIERING",
                Some("DEEP_ARCHIVE_ACCESS"),
                Some("ongoing-request=\"true\"")
            ),
            Some(ArchiveState::Ongoing)
        );
    }

    #[test]
    fn expedited_is_not_a_tier_of_the_deep_archives() {
        let deep = ArchiveTier::of("DEEP_ARCHIVE", None).unwrap();
        assert_eq!(deep.choose("Expedited", None), TierChoice::Unavailable);
        assert_eq!(
            deep.choose("Expedited", Some("Standard")),
            TierChoice::Fallback("Standard")
        );
        assert_eq!(deep.choose("Bulk", None), TierChoice::Asked);
        let it_deep = ArchiveTier::of("INTELLIGENT_TIERING", Some("DEEP_ARCHIVE_ACCESS")).unwrap();
        assert_eq!(it_deep.choose("Expedited", None), TierChoice::Unavailable);
        assert!(!it_deep.takes_days());
        let glacier = ArchiveTier::of("GLACIER", None).unwrap();
        assert_eq!(glacier.choose("Expedited", None), TierChoice::Asked);
        assert!(glacier.takes_days());
        let it = ArchiveTier::of("INTELLIGENT_TIERING", Some("ARCHIVE_ACCESS")).unwrap();
        assert_eq!(it.choose("Expedited", None), TierChoice::Asked);
    }
}
