//! Tests of the simulated world, on tokio's paused clock: the helpers
//! here, the tests one file per service or concern.

mod backup;
mod dynamodb;
mod faults;
mod s3;
mod world_files;

use std::collections::BTreeMap;
use std::sync::Mutex as StdMutex;
use std::time::Duration;

use super::*;
use crate::cloud::{
    ArchiveState, Cloud, CopyCounts, CopyRequest, ObjectRef, PointKind, PointSource,
    RestoreRequest, points, quiet,
};

const NOW: &str = "2026-11-24T09:30:00Z";
const ROLE: &str = "arn:aws:iam::111122223333:role/cabal-backup-role";
const GTIN1: &str = "closient-disaster-recovery-backup";
const PENGUIN: &str = "penguinmails-vault-backups";

fn sim(faults: &[&str]) -> SimCloud {
    let faults = faults.iter().map(|f| f.parse().unwrap()).collect();
    let options = SimOptions {
        now: Some(NOW.parse().unwrap()),
        faults,
        ..SimOptions::default()
    };
    SimCloud::builtin(options).unwrap()
}

fn vault(name: &str, region: Option<&str>, resource_type: Option<&str>) -> PointSource {
    PointSource::Vault {
        vault: name.into(),
        region: region.map(Into::into),
        resource_type: resource_type.map(Into::into),
        resource_arn: None,
    }
}

fn bucket(name: &str, prefix: &str, suffix: Option<&str>) -> PointSource {
    PointSource::Bucket {
        bucket: name.into(),
        prefix: prefix.into(),
        suffix: suffix.map(Into::into),
        versions: false,
        region: None,
    }
}

fn object(bucket: &str, key: &str) -> ObjectRef {
    ObjectRef {
        bucket: bucket.into(),
        key: key.into(),
        version_id: None,
        region: None,
    }
}

/// Every point of a listing, and the size of each page.
async fn list(
    cloud: &SimCloud,
    source: PointSource,
) -> Result<(Vec<RecoveryPoint>, Vec<usize>), CloudError> {
    let (tx, mut rx) = mpsc::channel(2);
    let listing = async {
        let result = cloud.list_points(&source, &tx, &quiet()).await;
        drop(tx);
        result
    };
    let read = async {
        let mut points = Vec::new();
        let mut sizes = Vec::new();
        while let Some(page) = rx.recv().await {
            sizes.push(page.len());
            points.extend(page);
        }
        (points, sizes)
    };
    let (result, (points, sizes)) = tokio::join!(listing, read);
    result.map(|()| (points, sizes))
}

async fn last_nights_table_point(cloud: &SimCloud) -> RecoveryPoint {
    let (points, _) = list(cloud, vault("cabal-backup", None, Some("DynamoDB")))
        .await
        .unwrap();
    points::latest(&points, None).unwrap().clone()
}

fn restore_request(point: &RecoveryPoint, target: &str) -> RestoreRequest {
    RestoreRequest {
        recovery_point_arn: point.id.clone(),
        iam_role_arn: ROLE.into(),
        metadata: BTreeMap::from([("targetTableName".into(), target.into())]),
        resource_type: Some("DynamoDB".into()),
        idempotency_token: None,
    }
}

/// Lets `minutes` of world time pass (at the default speed of 60).
async fn pass(minutes: u64) {
    tokio::time::sleep(Duration::from_secs(minutes)).await;
}
