//! `pick-recovery-point`: lists the points of the step's sources (primary
//! and DR vault side by side), then takes the newest restorable one
//! (`policy = "latest"`) or asks the operator (`policy = "ask"`). In the
//! console a `latest` pick asks too, with the policy's choice as the
//! suggestion the operator accepts with Enter, unless the step says
//! `confirm_pick = false`; headless runs keep the policy.

use jiff::Timestamp;

use super::{StepCtx, StepError};
use crate::cloud::{PointKind, PointSource, RecoveryPoint, points};
use crate::engine::event::{Answer, Question};
use crate::engine::humanize;
use crate::engine::values::Outputs;
use crate::runbook::kinds::PickPolicy;
use crate::runbook::kinds::PickRecoveryPoint;

pub async fn run(ctx: &StepCtx, pick: &PickRecoveryPoint) -> Result<Outputs, StepError> {
    let sources = sources(ctx, pick)?;
    let before = match &pick.before {
        Some(b) => Some(parse_time(&ctx.resolve(&b.value)?, "before")?),
        None => None,
    };
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let listed = points::collect(cloud, sources.clone(), &notify).await?;
    let restorable: Vec<RecoveryPoint> = listed
        .iter()
        .filter(|p| p.is_restorable() && before.is_none_or(|b| p.created_at < b))
        .cloned()
        .collect();
    let described: Vec<String> = sources.iter().map(PointSource::describe).collect();
    ctx.progress(format!(
        "listed {} recovery points in {} ({} restorable{})",
        listed.len(),
        described.join(" and "),
        restorable.len(),
        before.map(|b| format!(" before {b}")).unwrap_or_default()
    ))
    .await?;
    let newest = points::latest(&restorable, None);
    // The operator sees every pick the console can show them; a `latest`
    // pick with nothing restorable fails below without asking.
    let asks = match pick.policy {
        PickPolicy::Ask => true,
        PickPolicy::Latest => {
            ctx.at_console && pick.confirm_pick != Some(false) && newest.is_some()
        }
    };
    let mut chosen = match asks {
        false => newest.cloned().ok_or_else(|| {
            StepError::Failed(format!(
                "no restorable recovery point in {}{} ({} listed; points still being created, failed, or archived are not restorable)",
                described.join(" and "),
                before.map(|b| format!(" before {b}")).unwrap_or_default(),
                listed.len()
            ))
        })?,
        true => {
            let reply = ctx
                .ask(Question::PickRecoveryPoint {
                    sources: sources.clone(),
                    restorable: restorable.len(),
                    newest: newest.map(|p| p.id.clone()),
                })
                .await?;
            let Answer::Picked { point } = reply.answer else {
                return Err(StepError::Fatal(format!(
                    "{} did not choose a recovery point",
                    reply.by
                )));
            };
            let point = if point == "latest" {
                newest.map(|p| p.id.clone()).unwrap_or(point)
            } else {
                point
            };
            match listed.iter().find(|p| p.id == point) {
                Some(p) if before.is_some_and(|b| p.created_at >= b) => {
                    return Err(StepError::Fatal(format!(
                        "{point} was created at {}, not before {} as the step requires; choose an older one",
                        p.created_at,
                        before.map(|b| b.to_string()).unwrap_or_default()
                    )));
                }
                Some(p) if p.is_restorable() => p.clone(),
                Some(p) => {
                    return Err(StepError::Fatal(format!(
                        "{point} cannot be restored now (status {}{}); choose another",
                        p.status,
                        if p.archive.is_some() {
                            ", archived"
                        } else {
                            ""
                        }
                    )));
                }
                None => {
                    return Err(StepError::Fatal(format!(
                        "{point} is not a recovery point of {}",
                        described.join(" or ")
                    )));
                }
            }
        }
    };
    let t0 = ctx
        .values()
        .run
        .get("t0")
        .and_then(|t| t.parse::<Timestamp>().ok())
        .unwrap_or_else(Timestamp::now);
    let rpo = chosen.rpo(t0);
    if let Some(max) = &pick.max_age
        && rpo > max.value.0
    {
        return Err(StepError::Failed(format!(
            "the chosen point {} was created {} before T0, more than the step's max_age of {}",
            chosen.id,
            humanize(rpo),
            humanize(max.value.0)
        )));
    }
    storage_class_from_aws(ctx, &mut chosen).await?;
    if let Some(crate::cloud::ObjectLock::Unknown { reason }) = &chosen.object_lock {
        ctx.progress(format!(
            "Object Lock of {} is unknown ({reason}): outputs object_lock_mode and retain_until say `unknown`. Grant s3:GetObjectRetention and s3:GetBucketObjectLockConfiguration to see it",
            chosen.id
        ))
        .await?;
    }
    ctx.progress(format!(
        "chose {} ({}, created {}{}) — RPO {}",
        chosen.id,
        chosen.vault.as_deref().map_or_else(
            || chosen.region.clone(),
            |v| format!("vault {v} in {}", chosen.region)
        ),
        chosen.created_at,
        if chosen.is_copy() { ", a DR copy" } else { "" },
        humanize(rpo)
    ))
    .await?;
    Ok(chosen.outputs())
}

/// An AWS Backup point's storage class as `DescribeRecoveryPoint` says it:
/// the vault listing does not carry one (botocore backup 2018-11-15,
/// `RecoveryPointByBackupVault`), and the lifecycle is only a guess, since
/// Backup ignores the cold transition for resource types without cold
/// storage (`Lifecycle`). When the call fails the class is `unknown`.
async fn storage_class_from_aws(
    ctx: &StepCtx,
    chosen: &mut RecoveryPoint,
) -> Result<(), StepError> {
    let Some(vault) = chosen.vault.clone() else {
        return Ok(());
    };
    if chosen.kind != PointKind::Backup || !chosen.id.starts_with("arn:aws:backup:") {
        return Ok(());
    }
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    match cloud
        .describe_recovery_point(&vault, &chosen.id, Some(&chosen.region), &notify)
        .await
    {
        Ok(p) if p.storage_class.is_some() => chosen.storage_class = p.storage_class,
        Ok(_) => chosen.storage_class = Some("unknown".into()),
        Err(e) => {
            chosen.storage_class = Some("unknown".into());
            ctx.progress(format!(
                "storage class of {} unknown (it needs backup:DescribeRecoveryPoint): {e}",
                chosen.id
            ))
            .await?;
        }
    }
    Ok(())
}

fn sources(ctx: &StepCtx, pick: &PickRecoveryPoint) -> Result<Vec<PointSource>, StepError> {
    let s = &pick.source;
    let mut sources = Vec::new();
    let region = ctx.resolve_opt(s.region.as_ref())?;
    if let Some(vault) = ctx.resolve_opt(s.backup_vault.as_ref())? {
        let resource_type = ctx.resolve_opt(s.resource_type.as_ref())?;
        let resource_arn = ctx.resolve_opt(s.resource_arn.as_ref())?;
        if let Some(dr) = ctx.resolve_opt(s.dr_vault.as_ref())? {
            sources.push(PointSource::Vault {
                vault: dr,
                region: ctx.resolve_opt(s.dr_region.as_ref())?,
                resource_type: resource_type.clone(),
                resource_arn: resource_arn.clone(),
            });
        }
        sources.insert(
            0,
            PointSource::Vault {
                vault,
                region: region.clone(),
                resource_type,
                resource_arn,
            },
        );
    }
    if let Some(table) = ctx.resolve_opt(s.table.as_ref())? {
        sources.push(PointSource::Table {
            table,
            region: region.clone(),
        });
    }
    if let Some(bucket) = ctx.resolve_opt(s.bucket.as_ref())? {
        sources.push(PointSource::Bucket {
            bucket,
            prefix: ctx.resolve_opt(s.prefix.as_ref())?.unwrap_or_default(),
            suffix: ctx.resolve_opt(s.suffix.as_ref())?,
            versions: false,
            region,
        });
    }
    Ok(sources)
}

/// An RFC 3339 time from a resolved field.
pub(super) fn parse_time(text: &str, field: &str) -> Result<Timestamp, StepError> {
    crate::runbook::parse_time(text).map_err(|e| StepError::Fatal(format!("`{field}` is {e}")))
}
