//! `s3.restore-object`: archive restores of one object or a prefix, and
//! the wait until all are readable. Every object is headed first and its
//! tier decided ([`ArchiveTier::choose`]) before the first RestoreObject,
//! so a class problem never half-starts a prefix.

use futures::{FutureExt, StreamExt};

use super::{Listed, archive_word, earliest, in_flight, list_prefix, object, prefix_of, the_key};
use crate::cloud::{
    ArchiveState, ArchiveTier, Cloud, CloudError, ObjectHead, ObjectRef, TierChoice,
};
use crate::engine::runner::{LastShown, StepCtx, StepError, poll};
use crate::engine::values::Outputs;
use crate::runbook::kinds::S3RestoreObject;
use crate::runbook::model::Text;

/// Retention of a restored copy when the step sets none.
const DEFAULT_RESTORE_DAYS: u32 = 7;

/// The most `days` S3 takes (its `Days` is a 32-bit integer).
const MAX_RESTORE_DAYS: u32 = i32::MAX as u32;

/// How many objects an error names before "and N more".
const NAMED: usize = 5;

/// The step's `days`, resolved: a whole number, at least 1.
fn restore_days(ctx: &StepCtx, a: &S3RestoreObject) -> Result<u32, StepError> {
    let Some(days) = &a.days else {
        return Ok(DEFAULT_RESTORE_DAYS);
    };
    let text = ctx.resolve(&days.value)?;
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_RESTORE_DAYS).contains(&n) => Ok(n),
        _ => Err(StepError::Fatal(format!(
            "`days` is `{text}`, not a whole number of days from 1 to {MAX_RESTORE_DAYS}; give the parameter it reads a value such as 7"
        ))),
    }
}

/// The tiers a step asks for.
#[derive(Clone, Copy)]
struct Tiers {
    asked: &'static str,
    fallback: Option<&'static str>,
    days: u32,
}

impl Tiers {
    fn of(ctx: &StepCtx, a: &S3RestoreObject) -> Result<Self, StepError> {
        Ok(Self {
            asked: a.tier.as_str(),
            fallback: a.fallback_tier.as_ref().map(|t| t.as_str()),
            days: restore_days(ctx, a)?,
        })
    }
}

/// One archived object's restore, decided before any is requested.
#[derive(Clone)]
struct Thaw {
    object: ObjectRef,
    archive: ArchiveTier,
    tier: &'static str,
}

impl Thaw {
    fn days(&self, tiers: Tiers) -> Option<u32> {
        self.archive.takes_days().then_some(tiers.days)
    }
}

/// Decides the tier of every object needing a restore. An object the
/// asked tier does not work for, without a fallback that does, fails the
/// step before anything is requested, naming the objects and the tiers
/// that work.
fn plan(
    needed: Vec<(ObjectRef, ArchiveTier)>,
    tiers: Tiers,
    where_: &str,
) -> Result<(Vec<Thaw>, Vec<String>), StepError> {
    let mut thaws = Vec::new();
    let mut refused: Vec<(ObjectRef, ArchiveTier)> = Vec::new();
    let mut notices = Vec::new();
    for (object, archive) in needed {
        let tier = match archive.choose(tiers.asked, tiers.fallback) {
            TierChoice::Asked => tiers.asked,
            TierChoice::Fallback(t) => {
                notices.push(format!(
                    "{object} is in {}, which has no {} retrieval: restoring it with the fallback tier {t}",
                    archive.name(),
                    tiers.asked
                ));
                t
            }
            TierChoice::Unavailable => {
                refused.push((object, archive));
                continue;
            }
        };
        thaws.push(Thaw {
            object,
            archive,
            tier,
        });
    }
    if refused.is_empty() {
        return Ok((thaws, notices));
    }
    let mut named: Vec<String> = refused
        .iter()
        .take(NAMED)
        .map(|(o, a)| format!("{o} ({}: {})", a.name(), a.tiers().join(" or ")))
        .collect();
    if refused.len() > NAMED {
        named.push(format!("and {} more", refused.len() - NAMED));
    }
    Err(StepError::Fatal(format!(
        "{} under {where_} cannot be restored with tier = \"{}\": {}. Nothing was requested. Set tier = \"Standard\" (or \"Bulk\"), or fallback_tier = \"Standard\" to keep {} for the objects that take it",
        crate::format::count(refused.len() as u64, "object"),
        tiers.asked,
        named.join(", "),
        tiers.asked,
    )))
}

/// Requests one restore. S3 without Expedited capacity
/// (`GlacierExpeditedRetrievalNotAvailable`, 503; botocore `s3`
/// 2006-03-01, RestoreObject) is not retried: the fallback tier is used
/// when the step has one, else the step fails with what to do.
async fn request(
    cloud: &dyn Cloud,
    thaw: &Thaw,
    tiers: Tiers,
    notify: crate::cloud::Notify<'_>,
) -> Result<(), CloudError> {
    let days = thaw.days(tiers);
    match cloud
        .restore_object(&thaw.object, thaw.tier, days, notify)
        .await
    {
        Err(e)
            if e.message
                .starts_with("GlacierExpeditedRetrievalNotAvailable") =>
        {
            match thaw.archive.choose("", tiers.fallback) {
                TierChoice::Fallback(t) => {
                    notify(format!(
                        "S3 has no Expedited capacity now for {}: restoring it with the fallback tier {t}",
                        thaw.object
                    ));
                    cloud.restore_object(&thaw.object, t, days, notify).await
                }
                _ => Err(CloudError {
                    message: format!(
                        "{}. S3 has no Expedited capacity now; trying again soon rarely helps. Set tier = \"Standard\" (3-5 hours), fallback_tier = \"Standard\", or buy provisioned capacity for Expedited retrievals",
                        e.message
                    ),
                    ..e
                }),
            }
        }
        other => other,
    }
}

/// Requests every planned restore, [`super::CALLS_IN_FLIGHT`] at a time.
/// A failure (S3 out of Expedited capacity with no fallback, a refusal)
/// stops new requests; the ones already in flight finish, so the step
/// knows which restores S3 took. Those keep running (S3 cannot cancel a
/// restore): the error counts them and names up to [`NAMED`] objects, so
/// the operator knows what is in flight.
async fn request_all(
    cloud: &std::sync::Arc<dyn Cloud>,
    thaws: &[Thaw],
    tiers: Tiers,
    ctx: &StepCtx,
) -> Result<Vec<ObjectRef>, StepError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let requests = thaws.iter().cloned().map(|thaw| {
        let (cloud, notify, stop) = (cloud.clone(), ctx.notifier(), stop.clone());
        async move {
            // Built only when a slot frees: after a failure, never sent.
            if stop.load(Ordering::SeqCst) {
                return (thaw.object, Ok(false));
            }
            let result = request(&*cloud, &thaw, tiers, &notify).await;
            if result.is_err() {
                stop.store(true, Ordering::SeqCst);
            }
            (thaw.object, result.map(|()| true))
        }
        .boxed()
    });
    let results: Vec<(ObjectRef, Result<bool, CloudError>)> = futures::stream::iter(requests)
        .buffer_unordered(super::CALLS_IN_FLIGHT)
        .collect()
        .await;
    let mut started = Vec::new();
    let mut failure = None;
    for (object, result) in results {
        match result {
            Ok(true) => started.push(object),
            Ok(false) => {}
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    let Some(e) = failure else {
        return Ok(started);
    };
    if started.is_empty() {
        return Err(e.into());
    }
    started.sort_by(|a, b| a.key.cmp(&b.key));
    let mut named: Vec<String> = started
        .iter()
        .take(NAMED)
        .map(ToString::to_string)
        .collect();
    if started.len() > NAMED {
        named.push(format!("and {} more", started.len() - NAMED));
    }
    Err(CloudError {
        message: format!(
            "{}. {} of {} restores were already requested and keep running (S3 cannot cancel a restore): {}. The rest were not requested; run the step again once the cause is fixed: it waits for those already under way and requests the others",
            e.message,
            started.len(),
            thaws.len(),
            named.join(", ")
        ),
        ..e
    }
    .into())
}

pub async fn restore_object(ctx: &StepCtx, a: &S3RestoreObject) -> Result<Outputs, StepError> {
    if let Some(prefix) = &a.prefix {
        return restore_prefix(ctx, a, prefix).await;
    }
    let cloud = ctx.cloud()?;
    let notify = ctx.notifier();
    let object = object(
        ctx,
        &a.bucket,
        the_key(a.key.as_ref())?,
        a.version_id.as_ref(),
        a.region.as_ref(),
    )?;
    let head = cloud.head_object(&object, &notify).await?;
    let tiers = Tiers::of(ctx, a)?;
    let archive = ArchiveTier::of(&head.storage_class, head.archive_status.as_deref());
    match (&head.archive, archive) {
        (None, _) | (Some(ArchiveState::Needed), None) => {
            ctx.progress(format!(
                "{object} is in {}, readable without a restore",
                head.storage_class
            ))
            .await?;
            return Ok(restored(&None));
        }
        (Some(ArchiveState::Needed), Some(archive)) => {
            let (thaws, notices) = plan(vec![(object.clone(), archive)], tiers, "the step")?;
            for n in notices {
                ctx.progress(n).await?;
            }
            for thaw in &thaws {
                request(&*cloud, thaw, tiers, &notify).await?;
                let days = thaw
                    .days(tiers)
                    .map_or(String::new(), |d| format!(" for {d} days"));
                ctx.progress(format!(
                    "requested a {} restore of {object} from {}{days}",
                    thaw.tier,
                    archive.name()
                ))
                .await?;
            }
        }
        (Some(ArchiveState::Ongoing), _) => {
            ctx.progress(format!("a restore of {object} is already under way"))
                .await?;
        }
        (Some(ArchiveState::Ready { .. }), _) => {}
    }
    let done = poll(ctx, || {
        let (cloud, object, notify) = (&cloud, &object, &notify);
        async move {
            let head: ObjectHead = cloud.head_object(object, notify).await?;
            Ok(match head.archive {
                Some(ArchiveState::Ready { .. }) => Some(head.archive),
                // Intelligent-Tiering: back in Frequent Access, readable
                // for good.
                None => Some(Some(ArchiveState::Ready { until: None })),
                _ => None,
            })
        }
    })
    .await?;
    Ok(restored(&done))
}

fn restored(state: &Option<ArchiveState>) -> Outputs {
    let (status, until) = archive_word(state);
    Outputs::from([
        ("status".to_string(), status),
        ("expires_at".to_string(), until),
    ])
}

async fn restore_prefix(
    ctx: &StepCtx,
    a: &S3RestoreObject,
    prefix: &Text,
) -> Result<Outputs, StepError> {
    let cloud = ctx.cloud()?;
    let (bucket, prefix) = prefix_of(ctx, &a.bucket, prefix)?;
    let region = ctx.resolve_opt(a.region.as_ref())?;
    let where_ = format!("s3://{bucket}/{prefix}");
    let tiers = Tiers::of(ctx, a)?;
    let objects: Vec<Listed> = list_prefix(ctx, &bucket, &prefix, region).await?;
    let total = objects.len();
    let mut waiting: Vec<ObjectRef> = Vec::new();
    let mut needed: Vec<(ObjectRef, ArchiveTier)> = Vec::new();
    let mut ongoing = 0usize;
    let mut expires: Option<jiff::Timestamp> = None;
    let mut archived = 0usize;
    for o in &objects {
        let archive = ArchiveTier::of(&o.storage_class, o.archive_status.as_deref());
        match (&o.archive, archive) {
            (None, _) | (Some(ArchiveState::Needed), None) => continue,
            (Some(ArchiveState::Ready { until }), _) => {
                expires = earliest(expires, *until);
            }
            (Some(ArchiveState::Needed), Some(archive)) => {
                needed.push((o.object.clone(), archive));
            }
            (Some(ArchiveState::Ongoing), _) => {
                ongoing += 1;
                waiting.push(o.object.clone());
            }
        }
        archived += 1;
    }
    // Every object's tier is decided before the first request.
    let (thaws, notices) = plan(needed, tiers, &where_)?;
    for n in notices {
        ctx.progress(n).await?;
    }
    let requested = thaws.len();
    waiting.extend(request_all(&cloud, &thaws, tiers, ctx).await?);
    let fallbacks = thaws.iter().filter(|t| t.tier != tiers.asked).count();
    ctx.progress(format!(
        "{} under {where_}: {} readable without a restore, {} {} restores requested{} for {} days, {ongoing} already under way, {} already restored",
        crate::format::count(total as u64, "object"),
        total - archived,
        requested - fallbacks,
        tiers.asked,
        tiers
            .fallback
            .filter(|_| fallbacks > 0)
            .map_or(String::new(), |f| format!(" and {fallbacks} {f} (fallback)")),
        tiers.days,
        archived - requested - ongoing
    ))
    .await?;
    let shown = LastShown::default();
    let already = total - waiting.len();
    shown
        .show(ctx, format!("{already} of {total} ready"))
        .await?;
    if !waiting.is_empty() {
        let thaw_of = |object: &ObjectRef| thaws.iter().find(|t| &t.object == object).cloned();
        // The objects not readable yet, and the earliest expiry seen.
        let state = std::sync::Mutex::new((waiting, expires));
        poll(ctx, || {
            let (cloud, state, shown, thaw_of) = (&cloud, &state, &shown, &thaw_of);
            async move {
                let pending = state.lock().unwrap_or_else(|p| p.into_inner()).0.clone();
                let probes = pending.into_iter().map(|object| {
                    let (cloud, notify) = (cloud.clone(), ctx.notifier());
                    let thaw = thaw_of(&object);
                    async move {
                        let head: ObjectHead = cloud.head_object(&object, &notify).await?;
                        Ok(match head.archive {
                            Some(ArchiveState::Ready { until }) => (object, Some(until)),
                            Some(ArchiveState::Needed) => {
                                // The restored copy expired before the others
                                // were ready (too few `days`): ask again, with
                                // the tier decided for it.
                                let archive = ArchiveTier::of(
                                    &head.storage_class,
                                    head.archive_status.as_deref(),
                                );
                                let thaw = match (thaw, archive) {
                                    (Some(t), _) => Some(t),
                                    (None, Some(archive)) => Some(Thaw {
                                        tier: match archive.choose(tiers.asked, tiers.fallback) {
                                            TierChoice::Fallback(t) => t,
                                            _ => tiers.asked,
                                        },
                                        object: object.clone(),
                                        archive,
                                    }),
                                    (None, None) => None,
                                };
                                if let Some(thaw) = thaw {
                                    request(&*cloud, &thaw, tiers, &notify).await?;
                                }
                                (object, None)
                            }
                            Some(ArchiveState::Ongoing) => (object, None),
                            // No longer archived (a new current version was
                            // written, or Intelligent-Tiering moved it back
                            // to Frequent Access): readable as it is.
                            None => (object, Some(None)),
                        })
                    }
                    .boxed()
                });
                let mut left = Vec::new();
                let mut until_min = None;
                for (object, ready) in in_flight(probes).await? {
                    match ready {
                        Some(until) => until_min = earliest(until_min, until),
                        None => left.push(object),
                    }
                }
                let ready = total - left.len();
                let over = left.is_empty();
                {
                    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
                    s.0 = left;
                    s.1 = earliest(s.1, until_min);
                }
                shown.show(ctx, format!("{ready} of {total} ready")).await?;
                Ok(over.then_some(()))
            }
        })
        .await?;
        expires = state.into_inner().unwrap_or_else(|p| p.into_inner()).1;
    }
    Ok(Outputs::from([
        (
            "status".to_string(),
            if archived == 0 {
                "not-archived"
            } else {
                "ready"
            }
            .to_string(),
        ),
        (
            "expires_at".to_string(),
            expires.map(crate::format::timestamp).unwrap_or_default(),
        ),
        ("objects".to_string(), total.to_string()),
    ]))
}
