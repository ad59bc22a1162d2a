//! The summary arithmetic and the ARN reading.

use super::plan::vault_arn;
use super::*;

fn prefix(step: &str, bucket: &str, objects: &[(&str, u64)]) -> PrefixFacts {
    let mut summary = PrefixSummary::default();
    for (class, bytes) in objects {
        summary.add(Some(class), *bytes, None);
    }
    PrefixFacts {
        step: step.into(),
        bucket: bucket.into(),
        prefix: "media/".into(),
        region: "us-east-1".into(),
        summary,
        object: false,
        archive: None,
    }
}

#[test]
fn a_summary_counts_objects_and_bytes_by_class_and_the_archived_part() {
    let mut s = PrefixSummary::default();
    s.add(Some("GLACIER"), 100, None);
    s.add(Some("DEEP_ARCHIVE"), 200, None);
    s.add(Some("DEEP_ARCHIVE"), 300, None);
    s.add(None, 400, None);
    s.add(Some("INTELLIGENT_TIERING"), 50, None);
    assert_eq!(s.objects(), 5);
    assert_eq!(s.bytes(), 1050);
    assert_eq!(s.by_class["STANDARD"].bytes, 400);
    let a = s.archived();
    // GLACIER 100 + DEEP_ARCHIVE 200 + 300; Intelligent-Tiering is not
    // counted as archived without HeadObject's ArchiveStatus.
    assert_eq!((a.objects, a.bytes), (3, 600));
    let words = prefix_words(&s);
    assert!(words.starts_with("5 objects, 1.0 KiB"), "{words}");
    assert!(
        words.contains("DEEP_ARCHIVE 2 (500 B), GLACIER 1 (100 B)"),
        "{words}"
    );
    assert!(words.contains("INTELLIGENT_TIERING 1 objects"), "{words}");
    // Sizes from a hostile listing saturate instead of wrapping.
    s.add(Some("GLACIER"), u64::MAX, None);
    assert_eq!(s.bytes(), u64::MAX);
}

#[test]
fn facts_count_a_prefix_or_table_two_steps_name_once() {
    let facts = Facts {
        prefixes: vec![
            prefix("thaw", "b", &[("DEEP_ARCHIVE", 10), ("STANDARD", 1)]),
            prefix("get", "b", &[("DEEP_ARCHIVE", 10), ("STANDARD", 1)]),
            prefix("other", "c", &[("GLACIER", 5)]),
        ],
        tables: ["count", "copy"]
            .iter()
            .map(|step| TableFacts {
                step: (*step).into(),
                table: "live".into(),
                region: "us-east-1".into(),
                status: "ACTIVE".into(),
                item_count: Some(3),
                size_bytes: Some(600),
                pitr: None,
            })
            .collect(),
        points: Vec::new(),
    };
    let by_class = facts.objects_by_class();
    assert_eq!(by_class["DEEP_ARCHIVE"].bytes, 10);
    assert_eq!(by_class["GLACIER"].objects, 1);
    assert_eq!(by_class["STANDARD"].objects, 1);
    assert_eq!(facts.table_bytes(), 600);
}

#[test]
fn a_vault_arn_gives_its_region_and_name() {
    assert_eq!(
        vault_arn("arn:aws:backup:us-east-1:111122223333:backup-vault:cabal-backup"),
        Some(("us-east-1".into(), "cabal-backup".into()))
    );
    assert_eq!(
        vault_arn("arn:aws:backup:us-east-1:1:recovery-point:x"),
        None
    );
    assert_eq!(vault_arn("cabal-backup"), None);
    assert_eq!(vault_arn("arn:aws:backup::1:backup-vault:x"), None);
}
