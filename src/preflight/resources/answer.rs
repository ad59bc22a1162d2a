//! Each call and what its answer (or its failure) says.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;

use super::*;
use crate::cloud::points::{self, Listing, MAX_POINTS};
use crate::cloud::{
    Cloud, CloudError, ErrorKind, ObjectRef, PitrStatus, PointSource, PrefixSummary, TableState,
    VaultPosture, quiet,
};
use crate::format::{human_bytes, humanize};

fn failed(step: &str, subject: String, e: &CloudError) -> Finding {
    let fix = match e.kind {
        ErrorKind::AccessDenied => {
            "allow the call to the identity preflight runs as, or check the resource by hand"
        }
        ErrorKind::NotFound => "check the name and region in the runbook or the --param given",
        _ => "check the resource by hand, then run preflight again",
    };
    // Only a missing resource is known to fail the run. A refused or
    // throttled read, or an endpoint that did not answer, says nothing
    // about the resource: it is left to check by hand (the permissions
    // area says whether the step's own calls are allowed).
    let verdict = match e.kind {
        ErrorKind::NotFound => Verdict::Fail,
        _ => Verdict::Unchecked,
    };
    finding(verdict, step, subject, e.to_string()).fix(fix)
}

pub(super) async fn answer(
    cloud: Arc<dyn Cloud>,
    ask: Ask,
    regions: &BTreeSet<String>,
    now: Timestamp,
    rpo: Option<std::time::Duration>,
) -> (Vec<Finding>, Vec<Fact>) {
    let notify = quiet();
    match ask {
        Ask::Vault {
            step,
            vault,
            region,
        } => {
            let subject = format!("vault {vault} ({region})");
            match cloud.vault_posture(&vault, Some(&region), &notify).await {
                Ok(p) => (
                    vec![finding(Verdict::Pass, &step, subject, vault_words(&p))],
                    Vec::new(),
                ),
                Err(e) if e.kind == ErrorKind::NotFound => {
                    let mut elsewhere = Vec::new();
                    for other in regions.iter().filter(|r| **r != region) {
                        if cloud
                            .vault_posture(&vault, Some(other), &notify)
                            .await
                            .is_ok()
                        {
                            elsewhere.push(other.clone());
                        }
                    }
                    let f = if elsewhere.is_empty() {
                        let searched: Vec<&str> = regions.iter().map(String::as_str).collect();
                        finding(
                            Verdict::Fail,
                            &step,
                            subject,
                            format!(
                                "{e}; not in any region the runbook names either ({})",
                                searched.join(", ")
                            ),
                        )
                        .fix("create the vault, or correct the vault name in the runbook or its --param")
                    } else {
                        finding(
                            Verdict::Fail,
                            &step,
                            subject,
                            format!(
                                "not in {region}: it is in {} (DescribeBackupVault answered there)",
                                elsewhere.join(", ")
                            ),
                        )
                        .fix(format!(
                            "set the step's region to {} (or the --param that gives it)",
                            elsewhere[0]
                        ))
                    };
                    (vec![f], Vec::new())
                }
                Err(e) => (vec![failed(&step, subject, &e)], Vec::new()),
            }
        }
        Ask::Table {
            uses,
            table,
            region,
        } => table_answer(cloud.as_ref(), uses, table, region).await,
        Ask::TargetAnywhere { step, table } => {
            target_anywhere(cloud.as_ref(), step, table, regions).await
        }
        Ask::Prefix {
            step,
            bucket,
            prefix,
            region,
        } => {
            let subject = format!("s3://{bucket}/{prefix} ({region})");
            match cloud
                .summarize_prefix(&bucket, &prefix, Some(&region), MAX_POINTS, &notify)
                .await
            {
                Ok(summary) => {
                    let verdict = if summary.objects() == 0 {
                        Verdict::Fail
                    } else {
                        Verdict::Pass
                    };
                    let mut f = finding(verdict, &step, subject, prefix_words(&summary));
                    if verdict == Verdict::Fail {
                        f = f.fix("check the prefix: the step finds nothing under it");
                    }
                    let fact = PrefixFacts {
                        step,
                        bucket,
                        prefix,
                        region,
                        summary,
                        object: false,
                        archive: None,
                    };
                    (vec![f], vec![Fact::Prefix(fact)])
                }
                Err(e) => (vec![failed(&step, subject, &e)], Vec::new()),
            }
        }
        Ask::Object {
            step,
            bucket,
            key,
            region,
        } => {
            let object = ObjectRef {
                bucket: bucket.clone(),
                key: key.clone(),
                version_id: None,
                region: Some(region.clone()),
            };
            let subject = format!("{object} ({region})");
            match cloud.head_object(&object, &notify).await {
                Ok(h) => {
                    let mut summary = PrefixSummary::default();
                    summary.add(Some(&h.storage_class), h.size_bytes, h.last_modified);
                    let f = finding(Verdict::Pass, &step, subject, prefix_words(&summary));
                    let fact = PrefixFacts {
                        step,
                        bucket,
                        prefix: key,
                        region,
                        summary,
                        object: true,
                        archive: h.archive,
                    };
                    (vec![f], vec![Fact::Prefix(fact)])
                }
                Err(e) => (vec![failed(&step, subject, &e)], Vec::new()),
            }
        }
        Ask::Points { step, sources } => points_answer(cloud, step, sources, now, rpo).await,
    }
}

/// A restore target whose region is known only at run time: a warning
/// where a table of its name exists in a region the runbook names.
async fn target_anywhere(
    cloud: &dyn Cloud,
    step: String,
    table: String,
    regions: &BTreeSet<String>,
) -> (Vec<Finding>, Vec<Fact>) {
    let notify = quiet();
    let mut found = Vec::new();
    let mut findings = Vec::new();
    for region in regions {
        match cloud.describe_table(&table, Some(region), &notify).await {
            Ok(_) => found.push(region.as_str()),
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) => findings.push(failed(&step, format!("table {table} ({region})"), &e)),
        }
    }
    let all: Vec<&str> = regions.iter().map(String::as_str).collect();
    let subject = format!("table {table}");
    let f = if found.is_empty() {
        finding(
            Verdict::Pass,
            &step,
            subject,
            format!(
                "does not exist yet in any region the runbook names ({}); the step's region is known only at run time",
                all.join(", ")
            ),
        )
    } else {
        finding(
            Verdict::Warn,
            &step,
            subject,
            format!(
                "exists in {}: a restore there fails with TableAlreadyExistsException (the step's region is known only at run time)",
                found.join(", ")
            ),
        )
        .fix(format!(
            "delete {table} there (a table left by an earlier drill?) or restore into another name"
        ))
    };
    findings.insert(0, f);
    (findings, Vec::new())
}

/// One table, described once for every step that names it (and its PITR
/// read once when a step reads the table): a finding and a fact per step.
async fn table_answer(
    cloud: &dyn Cloud,
    uses: Vec<(String, Want)>,
    table: String,
    region: String,
) -> (Vec<Finding>, Vec<Fact>) {
    let notify = quiet();
    let state = cloud.describe_table(&table, Some(&region), &notify).await;
    let pitr = match &state {
        Ok(_) if uses.iter().any(|(_, w)| *w != Want::Absent) => {
            Some(cloud.pitr_status(&table, Some(&region), &notify).await)
        }
        _ => None,
    };
    let mut findings = Vec::new();
    let mut facts = Vec::new();
    for (step, want) in uses {
        let (f, fact) = table_use(step, &table, &region, want, &state, pitr.as_ref());
        findings.extend(f);
        facts.extend(fact.map(Fact::Table));
    }
    (findings, facts)
}

/// What one step's use of a described table says.
fn table_use(
    step: String,
    table: &str,
    region: &str,
    want: Want,
    state: &Result<TableState, CloudError>,
    pitr: Option<&Result<PitrStatus, CloudError>>,
) -> (Vec<Finding>, Option<TableFacts>) {
    let subject = format!("table {table} ({region})");
    let state = match state {
        Ok(s) => s,
        Err(e) if e.kind == ErrorKind::NotFound && want == Want::Absent => {
            let f = finding(
                Verdict::Pass,
                &step,
                subject,
                "does not exist yet: the restore can create it".into(),
            );
            return (vec![f], None);
        }
        Err(e) if e.kind == ErrorKind::NotFound => {
            let f = finding(Verdict::Fail, &step, subject, e.to_string())
                .fix("check the table name and region in the runbook or its --param");
            return (vec![f], None);
        }
        Err(e) => return (vec![failed(&step, subject, e)], None),
    };
    if want == Want::Absent {
        let f = finding(
            Verdict::Fail,
            &step,
            subject,
            format!(
                "already exists ({}): a restore into an existing table fails with TableAlreadyExistsException",
                state.status
            ),
        )
        .fix(format!(
            "delete {table} (a table left by an earlier drill?) or restore into another name"
        ));
        return (vec![f], None);
    }
    let mut findings = Vec::new();
    let pitr = match pitr {
        Some(Ok(p)) => Some(p.clone()),
        Some(Err(e)) => {
            // A refused or throttled read says nothing about PITR: it stays
            // `failed`'s unchecked; only a missing table fails.
            findings.push(failed(&step, format!("PITR of {subject}"), e));
            None
        }
        None => None,
    };
    let pitr_on = pitr.as_ref().is_some_and(|p| p.status == "ENABLED");
    let (verdict, fix) = if want == Want::Pitr && pitr.is_some() && !pitr_on {
        (
            Verdict::Fail,
            Some(
                "enable point-in-time recovery on the table (UpdateContinuousBackups); it covers only the time after",
            ),
        )
    } else if state.status != "ACTIVE" {
        (Verdict::Warn, Some("wait until the table is ACTIVE"))
    } else {
        (Verdict::Pass, None)
    };
    let mut f = finding(verdict, &step, subject, table_words(state, pitr.as_ref()));
    if let Some(fix) = fix {
        f = f.fix(fix);
    }
    findings.insert(0, f);
    let fact = TableFacts {
        step,
        table: table.to_owned(),
        region: region.to_owned(),
        status: state.status.clone(),
        item_count: state.item_count.and_then(|n| u64::try_from(n).ok()),
        size_bytes: state.size_bytes,
        pitr,
    };
    (findings, Some(fact))
}

async fn points_answer(
    cloud: Arc<dyn Cloud>,
    step: String,
    sources: Vec<PointSource>,
    now: Timestamp,
    rpo: Option<std::time::Duration>,
) -> (Vec<Finding>, Vec<Fact>) {
    let described: Vec<String> = sources.iter().map(PointSource::describe).collect();
    let subject = format!("recovery points in {}", described.join(" and "));
    let mut rx = points::list_all(cloud, sources.clone());
    let mut listed = Vec::new();
    let mut findings = Vec::new();
    while let Some(l) = rx.recv().await {
        match l {
            Listing::Page { points, .. } => listed.extend(points),
            Listing::Done {
                source,
                result: Err(e),
            } => {
                let what = sources
                    .get(source)
                    .map_or_else(String::new, PointSource::describe);
                findings.push(failed(&step, what, &e));
            }
            Listing::Done { .. } | Listing::Notice(_) => {}
        }
    }
    let restorable = listed.iter().filter(|p| p.is_restorable()).count();
    let newest = points::latest(&listed, None);
    let fact = PointFacts {
        step: step.clone(),
        count: listed.len(),
        restorable,
        newest: newest.map(|p| p.created_at),
        newest_bytes: newest.and_then(|p| p.size_bytes),
    };
    let f = match newest {
        None if findings.is_empty() => finding(
            Verdict::Fail,
            &step,
            subject,
            format!("{} listed, none restorable now", listed.len()),
        )
        .fix("check the source and its filters; an archived object needs a restore first"),
        None => return (findings, vec![Fact::Points(fact)]),
        Some(p) => {
            let age = p.age(now);
            let words = format!(
                "{} listed, {restorable} restorable; the newest is {} old",
                listed.len(),
                humanize(age)
            );
            match rpo {
                Some(rpo) if age > rpo => finding(
                    Verdict::Warn,
                    &step,
                    subject,
                    format!("{words}, over the runbook's {} RPO", humanize(rpo)),
                )
                .fix("check that the backups still run"),
                _ => finding(Verdict::Pass, &step, subject, words),
            }
        }
    };
    findings.insert(0, f);
    (findings, vec![Fact::Points(fact)])
}

fn vault_words(p: &VaultPosture) -> String {
    let lock = if p.locked {
        let mut w = String::from("locked");
        if let Some(d) = p.min_retention_days {
            w.push_str(&format!(", min retention {d} days"));
        }
        if let Some(d) = p.max_retention_days {
            w.push_str(&format!(", max retention {d} days"));
        }
        match p.lock_date {
            Some(t) => w.push_str(&format!(", lock date {t} (compliance mode)")),
            None => w.push_str(" (governance mode)"),
        }
        w
    } else {
        "not locked".to_string()
    };
    format!("exists; {lock}; {} recovery points", p.recovery_points)
}

fn table_words(s: &TableState, pitr: Option<&PitrStatus>) -> String {
    let mut w = format!("exists, {}", s.status);
    if let Some(n) = s.item_count {
        w.push_str(&format!(", {n} items"));
    }
    if let Some(b) = s.size_bytes {
        w.push_str(&format!(", {}", human_bytes(b)));
    }
    match pitr {
        Some(p) if p.status == "ENABLED" => {
            w.push_str("; PITR enabled");
            if let (Some(a), Some(b)) = (p.earliest, p.latest) {
                w.push_str(&format!(
                    " ({} to {})",
                    crate::format::timestamp(a),
                    crate::format::timestamp(b)
                ));
            }
        }
        Some(p) => w.push_str(&format!("; PITR {}", p.status)),
        None => {}
    }
    w
}
