//! The cost area: the estimate of what the drill will cost in AWS
//! charges, before the run. The charge rules and the price table are
//! `crate::cost`'s (the console's cost so far and the report's final figure
//! read the same rules); this area reads the sizes the resources area found
//! (it asks AWS nothing itself) and turns the estimate into findings.

use std::collections::BTreeMap;

use super::resources::Facts;
use super::{Area, Context, Finding, Sink, Verdict};
use crate::cost::charges::{Estimate, Sizes, estimate};
use crate::engine::values::Values;

/// The sizes the estimate needs, as the resources area found them (the one
/// place preflight asks): each table's `TableSizeBytes` (DescribeTable),
/// each named object's size and class (HeadObject), each pick's newest
/// point's size (the vault's listing). It asks no one itself.
pub fn sizes(default_region: String, found: &Facts) -> Sizes {
    let mut sizes = Sizes {
        default_region,
        ..Sizes::default()
    };
    for t in &found.tables {
        if let Some(bytes) = t.size_bytes {
            sizes
                .tables
                .insert(format!("{}/{}", t.region, t.table), bytes);
        }
    }
    for p in found.prefixes.iter().filter(|p| p.object) {
        if let Some((class, c)) = p.summary.by_class.iter().next() {
            sizes.objects.insert(
                format!("s3://{}/{}", p.bucket, p.prefix),
                (c.bytes, class.clone()),
            );
        }
    }
    for p in found.prefixes.iter().filter(|p| !p.object) {
        let archived: BTreeMap<String, (u64, u64)> = p
            .summary
            .by_class
            .iter()
            .filter(|(class, _)| matches!(class.as_str(), "GLACIER" | "DEEP_ARCHIVE"))
            .map(|(class, c)| (class.clone(), (c.objects, c.bytes)))
            .collect();
        if !archived.is_empty() {
            sizes
                .archived
                .insert(format!("s3://{}/{}", p.bucket, p.prefix), archived);
        }
    }
    for p in &found.points {
        if let Some(bytes) = p.newest_bytes {
            sizes.points.insert(p.step.clone(), bytes);
        }
    }
    sizes
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
pub(super) async fn check(ctx: &Context, found: &Facts, sink: &Sink) -> Option<Estimate> {
    // A runbook that never calls AWS costs nothing in AWS charges.
    let cloud = ctx.cloud.as_ref()?;
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
    let sizes = sizes(cloud.identity().region, found);
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

    /// The sizes come from what the resources area found in the sandbox:
    /// the newest point of the pick's vault, with its size.
    #[tokio::test]
    async fn the_sizes_are_the_resources_areas_facts() {
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
        let found = super::super::resources::check(&ctx, &Sink::new(None)).await;
        let sizes = sizes("us-east-1".into(), &found);
        assert!(
            sizes.points.get("pick").is_some_and(|&b| b > 0),
            "{sizes:?} from {found:?}"
        );
    }
}
