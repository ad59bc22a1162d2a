//! Whether the vaults, tables, buckets and restore targets the plan names
//! are there (and the targets are not), and the figures the time and cost
//! areas need ([`Facts`]). Reads only: describes, listings (keys, sizes and
//! classes; never an object's body) and HEADs.
//!
//! Each step's fields are resolved with [`Context::resolve`]; a value only
//! a step's output gives is [`Verdict::Unchecked`], never a guess. Every
//! call is one [`Ask`], at most [`IN_FLIGHT`] at once; a failing call is a
//! finding naming the resource, region and action.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Area, Context, Finding, Known, Sink, Verdict};
use crate::cloud::points::MAX_POINTS;
use crate::cloud::{PitrStatus, PointSource, PrefixSummary};
use crate::format::human_bytes;

use answer::answer;
use plan::plan;

/// Calls in flight at once.
pub const IN_FLIGHT: usize = 8;

/// What the resources area learnt, for the time and cost areas (the one
/// place preflight asks for sizes and storage classes; they read it): each
/// table's size, each prefix's objects by storage class, each pick's
/// newest point. Only resources that answered are here.
///
/// Shape (agreed for `pf-time` and `pf-cost`): `tables` holds every table
/// the plan reads that exists now (`item_count`, `size_bytes` from
/// DescribeTable, updated by DynamoDB about every six hours);
/// `prefixes` every bucket prefix a step restores or downloads
/// ([`PrefixSummary::by_class`] gives objects and bytes per class,
/// [`PrefixSummary::archived`] the GLACIER + DEEP_ARCHIVE part);
/// `points` every pick source's listing (count, restorable, the newest
/// restorable point's time and size).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// Tables that exist, by step.
    pub tables: Vec<TableFacts>,
    /// Bucket prefixes, by step.
    pub prefixes: Vec<PrefixFacts>,
    /// Recovery point listings of the picks, by step.
    pub points: Vec<PointFacts>,
}

impl Facts {
    /// Bytes of every table, summed once per (table, region).
    pub fn table_bytes(&self) -> u64 {
        let mut seen = BTreeSet::new();
        self.tables
            .iter()
            .filter(|t| seen.insert((t.table.clone(), t.region.clone())))
            .map(|t| t.size_bytes.unwrap_or(0))
            .fold(0u64, u64::saturating_add)
    }

    /// Objects and bytes per storage class over every prefix, each
    /// (bucket, prefix, region) counted once.
    pub fn objects_by_class(&self) -> BTreeMap<String, crate::cloud::ClassCount> {
        let mut seen = BTreeSet::new();
        let mut out: BTreeMap<String, crate::cloud::ClassCount> = BTreeMap::new();
        for p in &self.prefixes {
            if !seen.insert((p.bucket.clone(), p.prefix.clone(), p.region.clone())) {
                continue;
            }
            for (class, c) in &p.summary.by_class {
                let e = out.entry(class.clone()).or_default();
                e.objects += c.objects;
                e.bytes = e.bytes.saturating_add(c.bytes);
            }
        }
        out
    }
}

/// One table as the plan finds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableFacts {
    /// The step that names it.
    pub step: String,
    /// Table name.
    pub table: String,
    /// Its region.
    pub region: String,
    /// `ACTIVE`, ...
    pub status: String,
    /// DynamoDB's item count.
    pub item_count: Option<u64>,
    /// DynamoDB's `TableSizeBytes`.
    pub size_bytes: Option<u64>,
    /// Point-in-time recovery, when it could be read.
    pub pitr: Option<PitrStatus>,
}

/// One bucket prefix as the plan finds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefixFacts {
    /// The step that names it.
    pub step: String,
    /// Bucket.
    pub bucket: String,
    /// Key prefix (a whole key for a step that names one object).
    pub prefix: String,
    /// Its region.
    pub region: String,
    /// What it holds.
    pub summary: PrefixSummary,
    /// The step names one object (`key`): `prefix` is that whole key, and
    /// `summary` its HeadObject (size and storage class).
    #[serde(default)]
    pub object: bool,
    /// The object's archive state as its HEAD gave it (a restored copy is
    /// `Ready`); `None` for a listing, whose archived objects are taken as
    /// needing a restore (ListObjectsV2 gives the class, not the restore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<crate::cloud::ArchiveState>,
}

/// One pick's listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointFacts {
    /// The pick step.
    pub step: String,
    /// Points listed.
    pub count: usize,
    /// Of them, restorable now.
    pub restorable: usize,
    /// The newest restorable point's time.
    pub newest: Option<Timestamp>,
    /// Its size, when the listing gives one.
    pub newest_bytes: Option<u64>,
}

/// What a table must be for its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Read or written by the step: must exist.
    Exists,
    /// The source of a point-in-time restore: must exist with PITR on.
    Pitr,
    /// A restore's new table: must not exist (RestoreTableFromBackup and
    /// RestoreTableToPointInTime: TableAlreadyExistsException, botocore
    /// dynamodb 2012-08-10; AWS Backup's restore creates the table too).
    Absent,
}

/// One call preflight makes.
enum Ask {
    Vault {
        step: String,
        vault: String,
        region: String,
    },
    /// One table in one region, described once for every step that
    /// names it.
    Table {
        uses: Vec<(String, Want)>,
        table: String,
        region: String,
    },
    /// A restore's new table whose region is known only at run time.
    TargetAnywhere { step: String, table: String },
    Prefix {
        step: String,
        bucket: String,
        prefix: String,
        region: String,
    },
    Object {
        step: String,
        bucket: String,
        key: String,
        region: String,
    },
    Points {
        step: String,
        sources: Vec<PointSource>,
    },
}

/// Checks the resources the plan names; returns the figures found.
pub(super) async fn check(ctx: &Context, sink: &Sink) -> Facts {
    let Some(cloud) = ctx.cloud.clone() else {
        return Facts::default();
    };
    let plan = plan(ctx, &cloud.identity().region, sink);
    let regions = plan.regions.clone();
    let now = cloud
        .simulation()
        .and_then(|o| o.now)
        .unwrap_or_else(Timestamp::now);
    let rpo = ctx.runbook.runbook.rpo.as_ref().map(|d| d.value.0);
    let answers = futures::stream::iter(merge(plan.asks).into_iter().map(|(ask, also)| {
        let cloud = cloud.clone();
        let regions = &regions;
        async move {
            let main = ask.step().to_owned();
            let (findings, facts) = answer(cloud, ask, regions, now, rpo).await;
            fan_out(&main, &also, findings, facts)
        }
    }))
    .buffer_unordered(IN_FLIGHT)
    .collect::<Vec<_>>()
    .await;
    let mut facts = Facts::default();
    for (findings, found) in answers {
        for f in findings {
            sink.push(read_only_reports(ctx, f));
        }
        for fact in found {
            match fact {
                Fact::Table(t) => facts.tables.push(t),
                Fact::Prefix(p) => facts.prefixes.push(p),
                Fact::Points(p) => facts.points.push(p),
            }
        }
    }
    facts.tables.sort_by(|a, b| a.step.cmp(&b.step));
    facts.prefixes.sort_by(|a, b| a.step.cmp(&b.step));
    facts.points.sort_by(|a, b| a.step.cmp(&b.step));
    facts
}

/// A read-only step (a posture check, a pick) that will find what
/// preflight found reports it itself, and nothing was changed before it:
/// its run is what the operator wants to see, so preflight warns and does
/// not stop it (a scheduled posture check exits 1 with its report, not 2
/// with none). A step that writes keeps its failure.
fn read_only_reports(ctx: &Context, f: Finding) -> Finding {
    let read_only = f
        .step
        .as_deref()
        .and_then(|id| ctx.runbook.step(id))
        .is_some_and(|s| s.action.rules().effect() == crate::runbook::kinds::Effect::ReadOnly);
    if f.verdict == Verdict::Fail && read_only {
        let detail = format!("{}; the step checks this itself and will fail", f.detail);
        Finding {
            verdict: Verdict::Warn,
            detail,
            ..f
        }
    } else {
        f
    }
}

fn finding(verdict: Verdict, step: &str, subject: String, detail: String) -> Finding {
    Finding::new(Area::Resources, verdict, subject, detail).step(step)
}

impl Ask {
    /// The step the ask is made for.
    fn step(&self) -> &str {
        match self {
            Ask::Vault { step, .. }
            | Ask::TargetAnywhere { step, .. }
            | Ask::Prefix { step, .. }
            | Ask::Object { step, .. }
            | Ask::Points { step, .. } => step,
            Ask::Table { uses, .. } => uses.first().map_or("", |(s, _)| s),
        }
    }

    /// What two asks that are the same call share: the same vault, prefix
    /// or object in the same region. Tables merge in the plan (each step
    /// wants its own thing of the table); the rest are asked as they are.
    fn same_call(&self) -> Option<(u8, &str, &str, &str)> {
        match self {
            Ask::Vault { vault, region, .. } => Some((0, vault, "", region)),
            Ask::Prefix {
                bucket,
                prefix,
                region,
                ..
            } => Some((1, bucket, prefix, region)),
            Ask::Object {
                bucket,
                key,
                region,
                ..
            } => Some((2, bucket, key, region)),
            _ => None,
        }
    }
}

/// The asks with each call made once: an ask the same as an earlier one
/// is dropped, and its step listed with the earlier one's.
fn merge(asks: Vec<Ask>) -> Vec<(Ask, Vec<String>)> {
    let mut out: Vec<(Ask, Vec<String>)> = Vec::new();
    for ask in asks {
        let twin = ask.same_call().and_then(|key| {
            out.iter()
                .position(|(earlier, _)| earlier.same_call() == Some(key))
        });
        match twin {
            Some(at) => {
                let step = ask.step().to_owned();
                if step != out[at].0.step() && !out[at].1.contains(&step) {
                    out[at].1.push(step);
                }
            }
            None => out.push((ask, Vec::new())),
        }
    }
    out
}

/// One answer made for step `main`, said also for each step of `also`.
fn fan_out(
    main: &str,
    also: &[String],
    findings: Vec<Finding>,
    facts: Vec<Fact>,
) -> (Vec<Finding>, Vec<Fact>) {
    let mut all_findings = findings.clone();
    let mut all_facts = facts.clone();
    for other in also {
        all_findings.extend(
            findings
                .iter()
                .filter(|f| f.step.as_deref() == Some(main))
                .map(|f| f.clone().step(other.clone())),
        );
        all_facts.extend(facts.iter().map(|f| {
            let mut f = f.clone();
            match &mut f {
                Fact::Table(t) => t.step = other.clone(),
                Fact::Prefix(p) => p.step = other.clone(),
                Fact::Points(p) => p.step = other.clone(),
            }
            f
        }));
    }
    (all_findings, all_facts)
}

/// What one answer adds to [`Facts`].
#[derive(Clone)]
enum Fact {
    Table(TableFacts),
    Prefix(PrefixFacts),
    Points(PointFacts),
}

/// `12 objects, 3.0 GiB; archived: 10 (2.5 GiB): DEEP_ARCHIVE 8, GLACIER 2`.
pub fn prefix_words(s: &PrefixSummary) -> String {
    let mut w = format!("{} objects, {}", s.objects(), human_bytes(s.bytes()));
    if s.truncated {
        w.push_str(&format!(" (counted up to {MAX_POINTS}; there are more)"));
    }
    let archived = s.archived();
    if archived.objects > 0 {
        let classes: Vec<String> = s
            .by_class
            .iter()
            .filter(|(k, _)| crate::cloud::is_archive_class(k))
            .map(|(k, c)| format!("{k} {} ({})", c.objects, human_bytes(c.bytes)))
            .collect();
        w.push_str(&format!(
            "; archived, a restore needed before a read: {} objects, {}: {}",
            archived.objects,
            human_bytes(archived.bytes),
            classes.join(", ")
        ));
    }
    if let Some(it) = s.by_class.get("INTELLIGENT_TIERING") {
        w.push_str(&format!(
            "; INTELLIGENT_TIERING {} objects: those in an archive access tier need a restore (HeadObject's ArchiveStatus says which)",
            it.objects
        ));
    }
    w
}

mod answer;
mod plan;
#[cfg(test)]
mod tests;
