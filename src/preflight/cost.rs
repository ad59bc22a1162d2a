//! The cost area: the estimate of what the drill will cost in AWS
//! charges, before the run. The charge rules and the price table are
//! `crate::cost`'s (the console's cost so far and the report's final figure
//! read the same rules); this area brings the sizes the listings give and
//! turns the estimate into findings.

use super::{Area, Context, Finding, Sink, Verdict};
use crate::cloud::{PointSource, quiet};
use crate::cost::charges::{Estimate, Sizes, estimate};
use crate::engine::values::Values;
use crate::runbook::kinds::StepAction;

/// Gathers the sizes the estimate needs through the `Cloud` trait: each
/// PITR source table (DescribeTable), each named S3 object (HeadObject),
/// and the newest point of each pick step's vault (ListRecoveryPoints…,
/// first page). One small function: the resources area's summary of the
/// same sizes can replace it.
pub async fn gather(ctx: &Context) -> Sizes {
    let resolve = |t: &str| ctx_value(ctx, t);
    let mut sizes = Sizes {
        default_region: ctx
            .cloud
            .as_ref()
            .map(|c| c.identity().region)
            .unwrap_or_else(|| "us-east-1".into()),
        ..Sizes::default()
    };
    let Some(cloud) = ctx.cloud.as_ref() else {
        return sizes;
    };
    let notify = quiet();
    for step in &ctx.runbook.steps {
        let region = |r: Option<&crate::runbook::field::Text>| {
            r.and_then(|t| resolve(&t.value))
                .unwrap_or_else(|| sizes.default_region.clone())
        };
        match &step.action {
            StepAction::DynamodbRestoreToPointInTime(a) => {
                let region = region(a.region.as_ref());
                if let Some(t) = resolve(&a.source_table.value)
                    && let Ok(state) = cloud.describe_table(&t, Some(&region), &notify).await
                    && let Some(size) = state.size_bytes
                {
                    sizes.tables.insert(format!("{region}/{t}"), size);
                }
            }
            StepAction::S3RestoreObject(a) => {
                let key = a.key.as_ref().and_then(|k| resolve(&k.value));
                head(
                    cloud.as_ref(),
                    resolve(&a.bucket.value),
                    key,
                    region(a.region.as_ref()),
                    &mut sizes,
                )
                .await;
            }
            StepAction::S3Download(a) => {
                let key = a.key.as_ref().and_then(|k| resolve(&k.value));
                head(
                    cloud.as_ref(),
                    resolve(&a.bucket.value),
                    key,
                    region(a.region.as_ref()),
                    &mut sizes,
                )
                .await;
            }
            StepAction::PickRecoveryPoint(p) => {
                let s = &p.source;
                let Some(vault) = s.backup_vault.as_ref().and_then(|v| resolve(&v.value)) else {
                    continue;
                };
                let source = PointSource::Vault {
                    vault,
                    region: s.region.as_ref().and_then(|r| resolve(&r.value)),
                    resource_type: s.resource_type.as_ref().and_then(|r| resolve(&r.value)),
                    resource_arn: s.resource_arn.as_ref().and_then(|r| resolve(&r.value)),
                };
                let (tx, mut rx) = tokio::sync::mpsc::channel(1);
                let list = cloud.list_points(&source, &tx, &notify);
                // The receiver goes with the first page: the listing stops there.
                let first = async move { rx.recv().await };
                let (_, page) = tokio::join!(list, first);
                if let Some(size) = page
                    .unwrap_or_default()
                    .iter()
                    .filter(|p| p.size_bytes.is_some())
                    .max_by_key(|p| p.created_at)
                    .and_then(|p| p.size_bytes)
                {
                    sizes.points.insert(step.id.value.clone(), size);
                }
            }
            _ => {}
        }
    }
    sizes
}

async fn head(
    cloud: &dyn crate::cloud::Cloud,
    bucket: Option<String>,
    key: Option<String>,
    region: String,
    sizes: &mut Sizes,
) {
    let (Some(bucket), Some(key)) = (bucket, key) else {
        return;
    };
    let object = crate::cloud::ObjectRef {
        bucket: bucket.clone(),
        key: key.clone(),
        version_id: None,
        region: Some(region),
    };
    if let Ok(h) = cloud.head_object(&object, &quiet()).await {
        sizes.objects.insert(
            format!("s3://{bucket}/{key}"),
            (h.size_bytes, h.storage_class),
        );
    }
}

fn ctx_value(ctx: &Context, text: &str) -> Option<String> {
    let values = Values {
        params: ctx.params.clone(),
        ..Values::default()
    };
    values.resolve(text).ok()
}

/// Estimates the run's AWS charges: one finding with the total, and one
/// per unknown line saying what to check.
pub(super) async fn check(ctx: &Context, sink: &Sink) -> Option<Estimate> {
    // A runbook that never calls AWS costs nothing in AWS charges.
    ctx.cloud.as_ref()?;
    let prices = match crate::cost::prices::Prices::load() {
        Ok(p) => p,
        Err(e) => {
            sink.push(
                Finding::new(Area::Cost, Verdict::Unchecked, "price table", e.to_string())
                    .fix("correct the [prices] table in your config (see docs/preflight.md, Cost)"),
            );
            return None;
        }
    };
    let sizes = gather(ctx).await;
    let est = estimate(&ctx.runbook, &|t| ctx_value(ctx, t), &sizes, &prices);
    for l in est.lines.iter().filter(|l| l.amount.is_none()) {
        sink.push(
            Finding::new(
                Area::Cost,
                Verdict::Unchecked,
                format!("{}: {}", l.charge, l.subject),
                l.arithmetic.clone(),
            )
            .step(l.step.clone()),
        );
    }
    for l in est.left() {
        sink.push(
            Finding::new(
                Area::Cost,
                Verdict::Warn,
                l.subject.clone(),
                format!("left behind after the drill: {}", l.arithmetic),
            )
            .step(l.step.clone())
            .fix("add a cleanup step that deletes it (dynamodb.delete-table with cleanup = true)"),
        );
    }
    sink.push(Finding::new(
        Area::Cost,
        Verdict::Pass,
        "estimate",
        format!(
            "the drill should cost about {} in AWS charges",
            est.total_text()
        ),
    ));
    Some(est)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn gather_reads_the_newest_points_size_from_the_sandbox_and_stops_listing() {
        let text = include_str!("../../runbooks/cabal-addresses-restore.toml");
        let runbook = crate::runbook::check_str(text).runbook.unwrap();
        let cloud = crate::cloud::sim::SimCloud::builtin(Default::default()).unwrap();
        let ctx = Context {
            runbook,
            mode: crate::runbook::Mode::Drill,
            params: [("vault".to_owned(), "cabal-backup".to_owned())].into(),
            cloud: Some(std::sync::Arc::new(cloud)),
            data_dir: std::env::temp_dir(),
        };
        let facts = tokio::time::timeout(std::time::Duration::from_secs(30), gather(&ctx))
            .await
            .expect("gather stops after the first page");
        assert!(
            facts.points.get("pick").is_some_and(|&b| b > 0),
            "{facts:?}"
        );
    }
}
