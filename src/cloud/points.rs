//! Recovery point listings over several sources at once, the choice of a
//! point by policy, and the manifests found beside S3 backup objects.
//! Shared by every [`Cloud`] implementation, the pick step and `points`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use jiff::Timestamp;
use tokio::sync::mpsc;

use super::{
    Cloud, CloudError, ErrorKind, Notify, ObjectRef, PointKind, PointSource, RecoveryPoint,
};

/// Pages in flight between a listing and its reader.
const PAGE_BUFFER: usize = 4;

/// Manifests read at once while a page of S3 points is filled in.
const MANIFESTS_AT_ONCE: usize = 4;

/// A page from one of several sources being listed together.
#[derive(Debug)]
pub enum Listing {
    /// The next page of source number `source`.
    Page {
        /// Index into the sources listed.
        source: usize,
        /// The points.
        points: Vec<RecoveryPoint>,
    },
    /// Source number `source` is done.
    Done {
        /// Index into the sources listed.
        source: usize,
        /// How it ended.
        result: Result<(), CloudError>,
    },
    /// A retry or progress notice.
    Notice(String),
}

/// The most recovery points a listing keeps, over all its sources: far
/// above any real vault or backup prefix (100,000 points are about 160 MiB
/// in the picker, docs/performance.md). A listing that passes it is cut
/// there, and each source still going ends with [`too_many_points`].
pub const MAX_POINTS: usize = 100_000;

/// Lists every source side by side (primary and DR vault together); pages
/// arrive on the returned channel as each service answers, so a reader can
/// show the first page at once. The listing stops when the receiver goes,
/// and once it has given [`MAX_POINTS`] points.
pub fn list_all(
    cloud: std::sync::Arc<dyn Cloud>,
    sources: Vec<PointSource>,
) -> mpsc::Receiver<Listing> {
    list_capped(cloud, sources, MAX_POINTS)
}

/// [`list_all`], keeping at most `cap` points.
pub(crate) fn list_capped(
    cloud: std::sync::Arc<dyn Cloud>,
    sources: Vec<PointSource>,
    cap: usize,
) -> mpsc::Receiver<Listing> {
    let (tx, rx) = mpsc::channel(PAGE_BUFFER * sources.len().max(1));
    let kept = std::sync::Arc::new(AtomicUsize::new(0));
    for (i, source) in sources.into_iter().enumerate() {
        let cloud = cloud.clone();
        let tx = tx.clone();
        let kept = kept.clone();
        tokio::spawn(async move {
            let (pages_tx, mut pages_rx) = mpsc::channel::<Vec<RecoveryPoint>>(PAGE_BUFFER);
            let notices = tx.clone();
            let notify = move |m: String| {
                let _ = notices.try_send(Listing::Notice(m));
            };
            // Whether the listing was cut at `cap`. Returning drops the
            // pages' reader, so `list_points` stops at its next page.
            let forward = {
                let tx = tx.clone();
                async move {
                    while let Some(mut points) = pages_rx.recv().await {
                        let before = kept.fetch_add(points.len(), Ordering::SeqCst);
                        let room = cap.saturating_sub(before);
                        let cut = points.len() > room;
                        points.truncate(room);
                        if !points.is_empty()
                            && tx.send(Listing::Page { source: i, points }).await.is_err()
                        {
                            return false;
                        }
                        if cut {
                            return true;
                        }
                    }
                    false
                }
            };
            let list = async {
                let result = cloud.list_points(&source, &pages_tx, &notify).await;
                drop(pages_tx);
                result
            };
            let (result, cut) = tokio::join!(list, forward);
            let result = if cut {
                Err(too_many_points(&source, cap))
            } else {
                result
            };
            let _ = tx.send(Listing::Done { source: i, result }).await;
        });
    }
    rx
}

/// The error that ends a source whose listing passed `cap` points: says
/// that the list is cut, that what is kept need not be the newest, and how
/// to narrow it.
pub fn too_many_points(source: &PointSource, cap: usize) -> CloudError {
    let narrow = match source {
        PointSource::Bucket { .. } => {
            "a longer prefix (`--prefix`, the step's `prefix`) or a `--suffix`"
        }
        PointSource::Vault { .. } => {
            "a resource type or ARN (`--resource-type`, `--resource-arn`, or the step's), or one vault at a time"
        }
        PointSource::Table { .. } => "one table at a time",
    };
    CloudError::new(
        "listing",
        source.describe(),
        ErrorKind::Invalid,
        format!(
            "more than {cap} recovery points, more than dr-drill keeps in memory; the list is cut at {cap} and what was kept need not hold the newest: narrow it with {narrow}, then list again"
        ),
    )
}

/// Every point of every source; the first error ends the listing.
pub async fn collect(
    cloud: std::sync::Arc<dyn Cloud>,
    sources: Vec<PointSource>,
    notify: Notify<'_>,
) -> Result<Vec<RecoveryPoint>, CloudError> {
    let mut rx = list_all(cloud, sources);
    let mut points = Vec::new();
    while let Some(listing) = rx.recv().await {
        match listing {
            Listing::Page { points: page, .. } => points.extend(page),
            Listing::Done { result, .. } => result?,
            Listing::Notice(m) => notify(m),
        }
    }
    Ok(points)
}

/// The newest restorable point created before `before` (when given).
/// A PARTIAL point (a composite point missing some of its nested points:
/// botocore backup 2018-11-15, `RecoveryPointStatus` PARTIAL) is never
/// chosen here; an operator may still pick one when asked, with a warning.
pub fn latest(points: &[RecoveryPoint], before: Option<Timestamp>) -> Option<&RecoveryPoint> {
    points
        .iter()
        .filter(|p| p.is_restorable() && !p.is_partial())
        .filter(|p| before.is_none_or(|b| p.created_at < b))
        .max_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                // Same time: prefer the primary copy over a DR copy.
                .then_with(|| b.is_copy().cmp(&a.is_copy()))
        })
}

/// A table's point-in-time recovery window as one point: its latest
/// restorable time (what a restore to "latest" gives), the earliest beside it.
pub(crate) fn pitr_point(
    table: &str,
    table_arn: &str,
    region: &str,
    earliest: Option<Timestamp>,
    latest: Timestamp,
) -> RecoveryPoint {
    let mut p = RecoveryPoint::new(
        format!("pitr:{table_arn}"),
        PointKind::DynamodbPitr,
        latest,
        region.to_owned(),
    );
    p.status = "ENABLED".into();
    p.earliest_restorable = earliest;
    p.resource_arn = Some(table_arn.to_owned());
    p.resource_name = Some(table.to_owned());
    p.resource_type = Some("DynamoDB".into());
    p
}

/// Newest first, the order people read a listing in.
pub fn newest_first(points: &mut [RecoveryPoint]) {
    points.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
}

/// Reads the `manifest.json` that sits beside S3 backup objects of `page`
/// (same "directory") and fills in each object's recorded SHA-256 and the
/// manifest's fields. `manifests` caches what was read, by key; a manifest
/// that cannot be read or parsed is reported through `notify` and skipped.
pub async fn attach_manifests(
    cloud: &dyn Cloud,
    page: &mut [RecoveryPoint],
    manifests: &mut HashMap<String, Option<serde_json::Value>>,
    notify: Notify<'_>,
) {
    let wanted: Vec<(String, String)> = page
        .iter()
        .filter(|p| p.kind == PointKind::S3Object)
        .filter_map(|p| Some((p.bucket.clone()?, manifest_key(p.key.as_deref()?)?)))
        .filter(|(_, key)| !manifests.contains_key(key))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let region = page.first().map(|p| p.region.clone());
    let objects: Vec<ObjectRef> = wanted
        .into_iter()
        .map(|(bucket, key)| ObjectRef {
            bucket,
            key,
            version_id: None,
            region: region.clone(),
        })
        .collect();
    let reads = objects.into_iter().map(|object| async move {
        let read = cloud.read_object(&object, notify).await;
        (object, read)
    });
    // At most MANIFESTS_AT_ONCE manifests are held at once while read, each
    // capped at MAX_READ_OBJECT: a page naming a thousand "directories"
    // must not hold a thousand objects.
    let reads: Vec<_> = futures::stream::iter(reads)
        .buffer_unordered(MANIFESTS_AT_ONCE)
        .collect()
        .await;
    for (object, read) in reads {
        let parsed = match read {
            Ok(bytes) => match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(v) => Some(v),
                Err(e) => {
                    notify(format!("{object} is not valid JSON ({e}); ignored"));
                    None
                }
            },
            Err(e) if e.kind == super::ErrorKind::NotFound => None,
            Err(e) => {
                notify(format!("could not read {object}: {e}"));
                None
            }
        };
        manifests.insert(object.key, parsed);
    }
    for point in page.iter_mut() {
        let Some(key) = point.key.as_deref() else {
            continue;
        };
        let Some(Some(manifest)) = manifest_key(key).and_then(|m| manifests.get(&m)) else {
            continue;
        };
        let file = key.rsplit('/').next().unwrap_or(key);
        if point.sha256.is_none() {
            point.sha256 = super::manifest_sha256(manifest, file);
        }
        point.manifest = super::manifest_fields(manifest);
    }
}

/// The key of the `manifest.json` beside `key`; none for a manifest itself.
pub fn manifest_key(key: &str) -> Option<String> {
    let (dir, file) = key.rsplit_once('/').unwrap_or(("", key));
    if file == "manifest.json" {
        return None;
    }
    Some(if dir.is_empty() {
        "manifest.json".into()
    } else {
        format!("{dir}/manifest.json")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(id: &str, at: &str, status: &str, copy: bool) -> RecoveryPoint {
        let mut p = RecoveryPoint::new(
            id.into(),
            PointKind::Backup,
            at.parse().unwrap(),
            "us-east-1".into(),
        );
        p.status = status.into();
        if copy {
            p.copied_from = Some("arn:vault".into());
        }
        p
    }

    #[test]
    fn latest_skips_unfinished_points_and_honours_before() {
        let points = vec![
            point("a", "2026-11-20T00:00:00Z", "COMPLETED", false),
            point("b", "2026-11-21T00:00:00Z", "COMPLETED", false),
            point("c", "2026-11-22T00:00:00Z", "CREATING", false),
        ];
        assert_eq!(latest(&points, None).unwrap().id, "b");
        let before = "2026-11-21T00:00:00Z".parse().unwrap();
        assert_eq!(latest(&points, Some(before)).unwrap().id, "a");
    }

    #[test]
    fn latest_skips_partial_points() {
        let points = vec![
            point("whole", "2026-11-20T00:00:00Z", "COMPLETED", false),
            point("partial", "2026-11-21T00:00:00Z", "PARTIAL", false),
        ];
        assert_eq!(latest(&points, None).unwrap().id, "whole");
    }

    #[test]
    fn at_the_same_time_the_primary_point_wins_over_its_copy() {
        let points = vec![
            point("copy", "2026-11-21T00:00:00Z", "COMPLETED", true),
            point("primary", "2026-11-21T00:00:00Z", "COMPLETED", false),
        ];
        assert_eq!(latest(&points, None).unwrap().id, "primary");
    }

    #[test]
    fn manifests_sit_beside_the_objects() {
        assert_eq!(
            manifest_key("database/gtin1/monthly/x/backup.dump").as_deref(),
            Some("database/gtin1/monthly/x/manifest.json")
        );
        assert_eq!(manifest_key("a.enc").as_deref(), Some("manifest.json"));
        assert_eq!(manifest_key("x/manifest.json"), None);
    }
}
