//! What to ask: each step's vaults, tables, buckets and targets, resolved
//! as far as preflight can, and the findings that need no call.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::*;
use crate::cloud::PointSource;
use crate::runbook::StepAction;
use crate::runbook::field::Text;

/// The calls to make, the regions the runbook names, and the findings that
/// need no call (values known only at run time, local paths, tables the
/// run itself creates).
pub(super) struct Plan {
    pub asks: Vec<Ask>,
    pub regions: BTreeSet<String>,
}

pub(super) fn plan(ctx: &Context, world_region: &str, sink: &Sink) -> Plan {
    let mut regions = BTreeSet::from([world_region.to_owned()]);
    let mut asks = Vec::new();
    // Tables a restore step creates: later steps find them only then.
    let mut created: BTreeMap<String, String> = BTreeMap::new();
    for step in &ctx.runbook.steps {
        for (table, _) in restore_targets(ctx, &step.action) {
            if let Known::Value(t) = table {
                created.entry(t).or_insert_with(|| step.id.value.clone());
            }
        }
        if let Some(Known::Value(r)) = action_region(&step.action).map(|r| ctx.resolve(r))
            && !r.is_empty()
        {
            regions.insert(r);
        }
    }
    for step in &ctx.runbook.steps {
        let id = step.id.value.as_str();
        let region_of = |r: Option<&Text>| -> Result<String, String> {
            match r.map(|r| ctx.resolve(r)) {
                None => Ok(world_region.to_owned()),
                Some(Known::Value(v)) if v.is_empty() => Ok(world_region.to_owned()),
                Some(Known::Value(v)) => Ok(v),
                Some(Known::AtRunTime(why)) => Err(why),
            }
        };
        // A vault-and-point call goes to the step's region, else the
        // point ARN's (`cloud::point_region`), as the runner sends it.
        let point_region_of = |r: Option<&Text>, point: Option<&Text>| -> Result<String, String> {
            if r.is_some() {
                return region_of(r);
            }
            match point.map(|p| ctx.resolve(p)) {
                None => Ok(world_region.to_owned()),
                Some(Known::Value(arn)) => Ok(crate::cloud::point_region(None, &arn)
                    .unwrap_or_else(|| world_region.to_owned())),
                Some(Known::AtRunTime(why)) => Err(format!(
                    "the step has no `region`, so it goes to the region of its recovery point, and {why}"
                )),
            }
        };
        let unchecked = |subject: String, field: &str, why: String| {
            sink.push(
                finding(
                    Verdict::Unchecked,
                    id,
                    subject,
                    format!("`{field}` is known only at run time ({why})"),
                )
                .fix(format!(
                    "check by hand that the {field} the step will be given exists"
                )),
            );
        };
        let mut vault = |field: &str, text: &Text, region: &Result<String, String>| match (
            ctx.resolve(text),
            region.clone(),
        ) {
            (Known::Value(v), Ok(r)) => asks.push(Ask::Vault {
                step: id.to_owned(),
                vault: v,
                region: r,
            }),
            (Known::AtRunTime(why), _) | (_, Err(why)) => {
                unchecked(format!("vault {}", text.value), field, why)
            }
        };
        let a = &step.action;
        match a {
            StepAction::BackupRestore(r) => vault(
                "backup_vault",
                &r.backup_vault,
                &point_region_of(r.region.as_ref(), Some(&r.recovery_point)),
            ),
            StepAction::BackupCopy(c) => {
                vault(
                    "source_vault",
                    &c.source_vault,
                    &point_region_of(c.region.as_ref(), Some(&c.recovery_point)),
                );
                if let Known::Value(arn) = ctx.resolve(&c.destination_vault_arn) {
                    match vault_arn(&arn) {
                        Some((region, name)) => {
                            regions.insert(region.clone());
                            asks.push(Ask::Vault {
                                step: id.to_owned(),
                                vault: name,
                                region,
                            });
                        }
                        None => sink.push(
                            finding(
                                Verdict::Fail,
                                id,
                                format!("vault {arn}"),
                                "`destination_vault_arn` is not a backup vault ARN (arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME)".into(),
                            )
                            .fix("give the destination vault's ARN as AWS Backup shows it"),
                        ),
                    }
                }
            }
            StepAction::BackupVaultPosture(v) => vault(
                "backup_vault",
                &v.backup_vault,
                &region_of(v.region.as_ref()),
            ),
            StepAction::BackupDeleteVaultLock(v) => vault(
                "backup_vault",
                &v.backup_vault,
                &region_of(v.region.as_ref()),
            ),
            StepAction::BackupDeleteRecoveryPoint(v) => vault(
                "backup_vault",
                &v.backup_vault,
                &point_region_of(v.region.as_ref(), v.recovery_point.as_ref()),
            ),
            StepAction::PickRecoveryPoint(p) => {
                let s = &p.source;
                if let Some(v) = &s.backup_vault {
                    vault("backup_vault", v, &region_of(s.region.as_ref()));
                }
                if let Some(dr) = &s.dr_vault {
                    vault("dr_vault", dr, &region_of(s.dr_region.as_ref()));
                }
                if let Some(Known::Value(r)) = s.dr_region.as_ref().map(|r| ctx.resolve(r)) {
                    regions.insert(r);
                }
                match pick_sources(ctx, p, world_region) {
                    Ok(sources) if !sources.is_empty() => asks.push(Ask::Points {
                        step: id.to_owned(),
                        sources,
                    }),
                    Ok(_) => {}
                    Err(why) => unchecked("recovery point source".into(), "source", why),
                }
            }
            _ => {}
        }
        // Tables.
        let mut table = |field: &str, text: &Text, region: &Result<String, String>, want: Want| {
            table_ask(
                &created,
                &mut asks,
                sink,
                (id, field),
                ctx.resolve(text),
                &text.value,
                region,
                want,
            )
        };
        match a {
            StepAction::DynamodbRestoreToPointInTime(r) => {
                let region = region_of(r.region.as_ref());
                table("source_table", &r.source_table, &region, Want::Pitr);
            }
            StepAction::DynamodbWaitActive(t) => table(
                "table",
                &t.table,
                &region_of(t.region.as_ref()),
                Want::Exists,
            ),
            StepAction::DynamodbCount(t) => table(
                "table",
                &t.table,
                &region_of(t.region.as_ref()),
                Want::Exists,
            ),
            StepAction::DynamodbPitrStatus(t) => {
                let want = if t.expect_enabled {
                    Want::Pitr
                } else {
                    Want::Exists
                };
                table("table", &t.table, &region_of(t.region.as_ref()), want)
            }
            StepAction::DynamodbDeleteTable(t) => table(
                "table",
                &t.table,
                &region_of(t.region.as_ref()),
                Want::Exists,
            ),
            // The copy writes into `to` with BatchWriteItem: the live
            // table of a cutover, which must exist (ResourceNotFoundException
            // otherwise), unlike a restore's new table.
            StepAction::DynamodbCopyTable(c) => {
                let region = region_of(c.region.as_ref());
                table("from", &c.from, &region, Want::Exists);
                table("to", &c.to, &region, Want::Exists);
            }
            _ => {}
        }
        for (target, (field, written)) in restore_targets(ctx, a) {
            let region = region_of(action_region(a));
            table_ask(
                &created,
                &mut asks,
                sink,
                (id, field),
                target,
                &written,
                &region,
                Want::Absent,
            );
        }
        // Buckets, prefixes and objects.
        let (bucket, key, prefix, region) = match a {
            StepAction::S3Download(d) => (
                &d.bucket,
                d.key.as_ref(),
                d.prefix.as_ref(),
                d.region.as_ref(),
            ),
            StepAction::S3RestoreObject(r) => (
                &r.bucket,
                r.key.as_ref(),
                r.prefix.as_ref(),
                r.region.as_ref(),
            ),
            StepAction::S3Head(h) => (&h.bucket, Some(&h.key), None, h.region.as_ref()),
            StepAction::S3VerifyChecksum(v) => (&v.bucket, Some(&v.key), None, v.region.as_ref()),
            _ => {
                continue;
            }
        };
        if let StepAction::S3Download(d) = a {
            local_target(ctx, id, &d.to, sink);
        }
        let region = match region_of(region) {
            Ok(r) => r,
            Err(why) => {
                unchecked(format!("bucket {}", bucket.value), "region", why);
                continue;
            }
        };
        let bucket = match ctx.resolve(bucket) {
            Known::Value(b) => b,
            Known::AtRunTime(why) => {
                unchecked(format!("bucket {}", bucket.value), "bucket", why);
                continue;
            }
        };
        let (field, text, object) = match (key, prefix) {
            (Some(k), _) => ("key", k, true),
            (None, Some(p)) => ("prefix", p, false),
            // `from_key`: the key is another step's output.
            (None, None) => {
                unchecked(
                    format!("s3://{bucket}/"),
                    "from_key",
                    "it names another step's output".into(),
                );
                continue;
            }
        };
        match ctx.resolve(text) {
            Known::Value(v) if object => asks.push(Ask::Object {
                step: id.to_owned(),
                bucket,
                key: v,
                region,
            }),
            Known::Value(v) => asks.push(Ask::Prefix {
                step: id.to_owned(),
                bucket,
                prefix: v,
                region,
            }),
            Known::AtRunTime(why) => unchecked(format!("s3://{bucket}/{}", text.value), field, why),
        }
    }
    Plan { asks, regions }
}

/// Asks for a table, or says why it is not asked.
#[allow(clippy::too_many_arguments)]
fn table_ask(
    created: &BTreeMap<String, String>,
    asks: &mut Vec<Ask>,
    sink: &Sink,
    (id, field): (&str, &str),
    known: Known,
    written: &str,
    region: &Result<String, String>,
    want: Want,
) {
    match (known, region.clone()) {
        (Known::Value(t), _) if want != Want::Absent && created.contains_key(&t) => {
            sink.push(finding(
                Verdict::Pass,
                id,
                format!("table {t}"),
                format!(
                    "created during the run by step `{}`; not there to check before it",
                    created[&t]
                ),
            ));
        }
        // A table several steps name is described once.
        (Known::Value(t), Ok(r)) => match asks.iter_mut().find_map(|a| match a {
            Ask::Table {
                uses,
                table,
                region,
            } if *table == t && *region == r => Some(uses),
            _ => None,
        }) {
            Some(uses) => uses.push((id.to_owned(), want)),
            None => asks.push(Ask::Table {
                uses: vec![(id.to_owned(), want)],
                table: t,
                region: r,
            }),
        },
        // The name is known, the region only at run time (a restore in
        // the region of the point a pick chooses): look in every region
        // the runbook names.
        (Known::Value(t), Err(_)) if want == Want::Absent => asks.push(Ask::TargetAnywhere {
            step: id.to_owned(),
            table: t,
        }),
        (Known::Value(t), Err(why)) => sink.push(
            finding(
                Verdict::Unchecked,
                id,
                format!("table {t}"),
                format!("the step's `region` is known only at run time ({why})"),
            )
            .fix(format!(
                "check by hand that {t} exists in the region the step will be given"
            )),
        ),
        (Known::AtRunTime(why), _) => sink.push(
            finding(
                Verdict::Unchecked,
                id,
                format!("table {written}"),
                format!("`{field}` is known only at run time ({why})"),
            )
            .fix(if want == Want::Absent {
                format!("check by hand that the table `{field}` names does not exist yet")
            } else {
                format!("check by hand that the table `{field}` names exists")
            }),
        ),
    }
}

/// The `region` field of a step, for the kinds that have one.
fn action_region(a: &StepAction) -> Option<&Text> {
    match a {
        StepAction::PickRecoveryPoint(p) => p.source.region.as_ref(),
        StepAction::BackupRestore(x) => x.region.as_ref(),
        StepAction::BackupCopy(x) => x.region.as_ref(),
        StepAction::BackupVaultPosture(x) => x.region.as_ref(),
        StepAction::BackupRegionSettings(x) => x.region.as_ref(),
        StepAction::BackupCopyJobs(x) => x.region.as_ref(),
        StepAction::BackupDeleteVaultLock(x) => x.region.as_ref(),
        StepAction::BackupDeleteRecoveryPoint(x) => x.region.as_ref(),
        StepAction::DynamodbRestoreFromBackup(x) => x.region.as_ref(),
        StepAction::DynamodbRestoreToPointInTime(x) => x.region.as_ref(),
        StepAction::DynamodbWaitActive(x) => x.region.as_ref(),
        StepAction::DynamodbCount(x) => x.region.as_ref(),
        StepAction::DynamodbPitrStatus(x) => x.region.as_ref(),
        StepAction::DynamodbCopyTable(x) => x.region.as_ref(),
        StepAction::DynamodbDeleteTable(x) => x.region.as_ref(),
        StepAction::S3Head(x) => x.region.as_ref(),
        StepAction::S3RestoreObject(x) => x.region.as_ref(),
        StepAction::S3Download(x) => x.region.as_ref(),
        StepAction::S3VerifyChecksum(x) => x.region.as_ref(),
        _ => None,
    }
}

/// The new tables a step's restore creates, each with its field and the
/// text as written: `target_table` of the DynamoDB restores, the
/// `targetTableName` restore metadata of `backup.restore` (AWS Backup's
/// DynamoDB restore metadata key).
fn restore_targets(ctx: &Context, a: &StepAction) -> Vec<(Known, (&'static str, String))> {
    let mut out = Vec::new();
    match a {
        StepAction::DynamodbRestoreFromBackup(r) => out.push((
            ctx.resolve(&r.target_table),
            ("target_table", r.target_table.value.clone()),
        )),
        StepAction::DynamodbRestoreToPointInTime(r) => out.push((
            ctx.resolve(&r.target_table),
            ("target_table", r.target_table.value.clone()),
        )),
        StepAction::BackupRestore(r) => {
            for (k, v) in &r.metadata.0 {
                if k.value == "targetTableName" {
                    out.push((
                        ctx.resolve(v),
                        ("metadata.targetTableName", v.value.clone()),
                    ));
                }
            }
        }
        _ => {}
    }
    out
}

/// (region, name) of a backup vault ARN
/// (`arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME`).
pub(super) fn vault_arn(arn: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", _, "backup", region, _, "backup-vault", name]
            if !region.is_empty() && !name.is_empty() =>
        {
            Some(((*region).to_owned(), (*name).to_owned()))
        }
        _ => None,
    }
}

/// The pick's sources, as its runner builds them, or why they are known
/// only at run time.
fn pick_sources(
    ctx: &Context,
    pick: &crate::runbook::kinds::PickRecoveryPoint,
    world_region: &str,
) -> Result<Vec<PointSource>, String> {
    let s = &pick.source;
    let get = |t: Option<&Text>| -> Result<Option<String>, String> {
        match t.map(|t| ctx.resolve(t)) {
            None => Ok(None),
            Some(Known::Value(v)) => Ok(Some(v)),
            Some(Known::AtRunTime(why)) => Err(why),
        }
    };
    let region = get(s.region.as_ref())?.or_else(|| Some(world_region.to_owned()));
    let mut sources = Vec::new();
    if let Some(vault) = get(s.backup_vault.as_ref())? {
        let resource_type = get(s.resource_type.as_ref())?;
        let resource_arn = get(s.resource_arn.as_ref())?;
        sources.push(PointSource::Vault {
            vault,
            region: region.clone(),
            resource_type: resource_type.clone(),
            resource_arn: resource_arn.clone(),
        });
        if let Some(dr) = get(s.dr_vault.as_ref())? {
            sources.push(PointSource::Vault {
                vault: dr,
                region: get(s.dr_region.as_ref())?,
                resource_type,
                resource_arn,
            });
        }
    }
    if let Some(table) = get(s.table.as_ref())? {
        sources.push(PointSource::Table {
            table,
            region: region.clone(),
        });
    }
    if let Some(bucket) = get(s.bucket.as_ref())? {
        sources.push(PointSource::Bucket {
            bucket,
            prefix: get(s.prefix.as_ref())?.unwrap_or_default(),
            suffix: get(s.suffix.as_ref())?,
            versions: false,
            region,
        });
    }
    Ok(sources)
}

/// `s3.download` `to`: a relative path lands in the new run directory,
/// where nothing is before the run; an absolute one must not be there.
fn local_target(ctx: &Context, id: &str, to: &Text, sink: &Sink) {
    let path = match ctx.resolve(to) {
        Known::Value(p) => p,
        Known::AtRunTime(why) => {
            sink.push(
                finding(
                    Verdict::Unchecked,
                    id,
                    format!("download target {}", to.value),
                    format!("`to` is known only at run time ({why})"),
                )
                .fix("check by hand that nothing is at the path the step will be given"),
            );
            return;
        }
    };
    let subject = format!("download target {path}");
    let p = Path::new(&path);
    if p.is_relative() {
        sink.push(finding(
            Verdict::Pass,
            id,
            subject,
            "under the new run directory, empty before the run".into(),
        ));
    } else if p.symlink_metadata().is_ok() {
        sink.push(
            finding(
                Verdict::Fail,
                id,
                subject,
                "already exists on this machine: the download would write over it".into(),
            )
            .fix(format!(
                "move {path} away, or give `to` a path that does not exist (a relative one lands in the run directory)"
            )),
        );
    } else {
        sink.push(finding(
            Verdict::Pass,
            id,
            subject,
            "does not exist yet".into(),
        ));
    }
}
