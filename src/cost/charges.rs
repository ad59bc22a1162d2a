//! What each step kind is charged, from sizes and the price table
//! ([`super::prices`]): per step, the charges its kind incurs, each line
//! with its arithmetic (quantity × unit price = amount). An unknown size or
//! price gives an "unknown" line, never zero.
//!
//! The one set of charge rules, read by the preflight's estimate (sizes
//! from the resources area), the console's cost so far ([`so_far`], from
//! the run's ledger) and the report's final figure ([`run_lines`],
//! [`cleaned_by`]). It asks no one for anything: whoever calls it brings
//! the sizes. Money is integer micro-dollars ([`Money`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::prices::{GB, Money, Price, Prices, Unit};
use crate::engine::event::Outcome;
use crate::engine::ledger::RunLedger;
use crate::engine::values::Values;
use crate::format::printable;
use crate::runbook::kinds::StepAction;
use crate::runbook::{Runbook, Step};

/// One charge of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The step that incurs it.
    pub step: String,
    /// What AWS charges for, e.g. `DynamoDB point-in-time restore`.
    pub charge: String,
    /// The region it is charged in.
    pub region: String,
    /// The resource, e.g. `table orders (us-east-1)`.
    pub subject: String,
    /// The amount; `None` when the size or the price is unknown.
    pub amount: Option<Money>,
    /// How the amount is reached (`12.000 GB × $0.15 per GB = $1.80`), or
    /// why it is unknown and what to do.
    pub arithmetic: String,
    /// A charge per day a resource the drill made stays (restored table
    /// storage): `amount` is one day's.
    pub per_day: bool,
    /// No cleanup step removes the resource: it stays after the drill.
    pub left_behind: bool,
}

/// The expected AWS charges of a run.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Estimate {
    /// Every charge, in step order.
    pub lines: Vec<Line>,
    /// The sum of the known amounts: one-off charges and one day of each
    /// resource a cleanup step removes.
    pub total: Money,
    /// How many lines are unknown (not in `total`).
    pub unknown: usize,
    /// What the resources left behind cost per day (known amounts).
    pub left_per_day: Money,
}

impl Estimate {
    fn from_lines(lines: Vec<Line>) -> Estimate {
        let total = lines
            .iter()
            .filter(|l| !l.left_behind)
            .filter_map(|l| l.amount)
            .sum();
        let left_per_day = lines
            .iter()
            .filter(|l| l.left_behind)
            .filter_map(|l| l.amount)
            .sum();
        let unknown = lines.iter().filter(|l| l.amount.is_none()).count();
        Estimate {
            lines,
            total,
            unknown,
            left_per_day,
        }
    }

    /// The resources the drill leaves behind, with their cost per day.
    pub fn left(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| l.left_behind)
    }

    /// `$4.56`, with `+ N unknown` when lines are unknown.
    pub fn total_text(&self) -> String {
        match self.unknown {
            0 => self.total.usd(),
            n => format!("{} + {n} unknown", self.total.usd()),
        }
    }
}

/// The sizes the estimate needs: before the run, as the preflight's
/// listings gave them; during and after it, as the steps' outputs give them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sizes {
    /// The region of a step that names none.
    pub default_region: String,
    /// `region/table` → the table's size in bytes (DescribeTable).
    pub tables: BTreeMap<String, u64>,
    /// `s3://bucket/key` → size in bytes and storage class (HeadObject).
    pub objects: BTreeMap<String, (u64, String)>,
    /// A pick step's id → the size of the point it will likely pick (the
    /// newest in its source; at run time, the one it picked).
    pub points: BTreeMap<String, u64>,
    /// `s3://bucket/prefix` → its archived objects per storage class
    /// (`GLACIER`, `DEEP_ARCHIVE`): (objects, bytes), from the listing.
    pub archived: BTreeMap<String, BTreeMap<String, (u64, u64)>>,
}

/// The step a template's `{{ steps.ID.… }}` names, if one.
fn step_named(text: &str) -> Option<&str> {
    let rest = &text[text.find("steps.")? + "steps.".len()..];
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))?;
    Some(&rest[..end])
}

fn gb_text(bytes: u64) -> String {
    let milli = (bytes as u128 * 1000 + GB as u128 / 2) / GB as u128;
    format!("{}.{:03} GB", milli / 1000, milli % 1000)
}

/// What a line is worked out from.
struct Charge<'a> {
    step: &'a str,
    charge: &'a str,
    region: &'a str,
    subject: String,
    price: &'a str,
    /// Bytes (per GB, per GB-month) or requests; `Err`: why unknown.
    quantity: Result<u64, String>,
    /// Hours kept, for a GB-month price.
    hours: u64,
}

fn line(c: Charge<'_>, prices: &Prices) -> Line {
    let price = prices.get(c.region, c.price);
    let (amount, arithmetic) = match (&c.quantity, price) {
        (Err(why), _) => (None, format!("size unknown: {why}")),
        (Ok(q), None) => (
            None,
            format!(
                "{} × price unknown: `{}` for {} is not in the price table; add it under [prices.{}] in your config",
                quantity_text(*q, Unit::Gb, c.price),
                c.price,
                c.region,
                c.region
            ),
        ),
        (Ok(q), Some(p)) => {
            let amount = p.charge(*q, c.hours);
            (Some(amount), worked(*q, c.hours, p, amount))
        }
    };
    Line {
        step: c.step.to_owned(),
        charge: c.charge.to_owned(),
        region: c.region.to_owned(),
        subject: c.subject,
        amount,
        arithmetic,
        per_day: false,
        left_behind: false,
    }
}

fn quantity_text(q: u64, unit: Unit, name: &str) -> String {
    if unit == Unit::ThousandRequests || name.ends_with("-requests") {
        format!("{q} requests")
    } else {
        gb_text(q)
    }
}

fn worked(q: u64, hours: u64, p: &Price, amount: Money) -> String {
    match p.per {
        Unit::Gb => format!("{} × {} = {}", gb_text(q), p.text(), amount.usd()),
        Unit::ThousandRequests => format!("{q} requests × {} = {}", p.text(), amount.usd()),
        Unit::GbMonth => format!(
            "{} × {} × {hours} h / {} h = {}",
            gb_text(q),
            p.text(),
            super::prices::HOURS_PER_MONTH,
            amount.usd()
        ),
    }
}

/// The cleanup step that deletes `table`, if one does.
pub fn cleaned_by<'a>(runbook: &'a Runbook, table: &str) -> Option<&'a Step> {
    runbook.steps.iter().find(|s| {
        s.cleanup
            && matches!(&s.action, StepAction::DynamodbDeleteTable(d) if d.table.value == table)
    })
}

/// The charges of every step, from `resolve` (a template's value, `None`
/// when only the run knows it), the sizes in `sizes` and `prices`.
pub fn estimate(
    runbook: &Runbook,
    resolve: &dyn Fn(&str) -> Option<String>,
    sizes: &Sizes,
    prices: &Prices,
) -> Estimate {
    // A copy's point has the size of the point it copies.
    let mut sizes = sizes.clone();
    for step in &runbook.steps {
        if let StepAction::BackupCopy(a) = &step.action
            && let Ok(size) = point_size(&a.recovery_point.value, &sizes)
        {
            sizes.points.insert(step.id.value.clone(), size);
        }
    }
    let mut lines = Vec::new();
    for step in &runbook.steps {
        step_lines(runbook, step, resolve, &sizes, prices, &mut lines);
    }
    Estimate::from_lines(lines)
}

fn point_size(text: &str, sizes: &Sizes) -> Result<u64, String> {
    match step_named(text) {
        Some(pick) => sizes.points.get(pick).copied().ok_or_else(|| {
            format!("the point step `{pick}` picks is not known yet (its source listed no point with a size); check its size in the vault")
        }),
        None => Err(format!(
            "`{}` names no pick step whose listing gives the point's size; check the point's size in the vault",
            printable(text)
        )),
    }
}

fn step_lines(
    runbook: &Runbook,
    step: &Step,
    resolve: &dyn Fn(&str) -> Option<String>,
    sizes: &Sizes,
    prices: &Prices,
    lines: &mut Vec<Line>,
) {
    let id = step.id.value.as_str();
    let region_of = |r: Option<&crate::runbook::field::Text>| -> String {
        r.and_then(|t| resolve(&t.value))
            .map(|r| printable(&r).into_owned())
            .unwrap_or_else(|| sizes.default_region.clone())
    };
    let storage = |target: &str, region: &str, size: Result<u64, String>, lines: &mut Vec<Line>| {
        let target_name = resolve(target).unwrap_or_else(|| target.to_owned());
        let cleanup = cleaned_by(runbook, target);
        let mut l = line(
            Charge {
                step: id,
                charge: "DynamoDB table storage, per day",
                region,
                subject: format!("restored table {} ({region})", printable(&target_name)),
                price: "dynamodb-storage",
                quantity: size,
                hours: 24,
            },
            prices,
        );
        l.per_day = true;
        match cleanup {
            Some(c) => {
                l.arithmetic = format!(
                    "{} (one day: cleanup step `{}` deletes it)",
                    l.arithmetic, c.id.value
                )
            }
            None => {
                l.left_behind = true;
                l.arithmetic = format!(
                    "{} per day it is left (no cleanup step deletes it)",
                    l.arithmetic
                )
            }
        }
        lines.push(l);
    };
    match &step.action {
        StepAction::BackupRestore(a) => {
            let point = resolve(&a.recovery_point.value);
            let region = a
                .region
                .as_ref()
                .and_then(|r| resolve(&r.value))
                .or_else(|| point.as_deref().and_then(crate::cloud::arn_region))
                .unwrap_or_else(|| sizes.default_region.clone());
            let size = point_size(&a.recovery_point.value, sizes);
            let kind = a
                .resource_type
                .as_ref()
                .and_then(|t| resolve(&t.value))
                .unwrap_or_else(|| "DynamoDB".into());
            let price = format!("backup-restore-{}", kind.to_ascii_lowercase());
            lines.push(line(
                Charge {
                    step: id,
                    charge: "AWS Backup restore",
                    region: &region,
                    subject: format!(
                        "{} point from vault {}",
                        printable(&kind),
                        printable(
                            &resolve(&a.backup_vault.value)
                                .unwrap_or_else(|| a.backup_vault.value.clone())
                        )
                    ),
                    price: &price,
                    quantity: size.clone(),
                    hours: 0,
                },
                prices,
            ));
            if let Some((_, target)) = a
                .metadata
                .0
                .iter()
                .find(|(k, _)| k.value == "targetTableName")
            {
                storage(&target.value, &region, size, lines);
            }
        }
        StepAction::BackupCopy(a) => {
            let from = region_of(a.region.as_ref());
            let to = resolve(&a.destination_vault_arn.value)
                .and_then(|arn| crate::cloud::arn_region(&arn));
            if to.as_deref() == Some(from.as_str()) {
                return;
            }
            let mut l = line(
                Charge {
                    step: id,
                    charge: "AWS Backup cross-region copy, data transfer",
                    region: &from,
                    subject: format!(
                        "point from vault {} to {}",
                        printable(&a.source_vault.value),
                        to.as_deref().map_or("another region".into(), printable)
                    ),
                    price: "backup-copy-transfer",
                    quantity: point_size(&a.recovery_point.value, sizes),
                    hours: 0,
                },
                prices,
            );
            if to.is_none() {
                l.arithmetic = format!(
                    "{} (assumed cross-region: the destination's region is known only at run time)",
                    l.arithmetic
                );
            }
            lines.push(l);
        }
        StepAction::DynamodbRestoreFromBackup(a) => {
            let region = region_of(a.region.as_ref());
            let size = point_size(&a.backup_arn.value, sizes);
            lines.push(line(
                Charge {
                    step: id,
                    charge: "DynamoDB restore from backup",
                    region: &region,
                    subject: format!("backup into table {}", printable(&a.target_table.value)),
                    price: "dynamodb-restore",
                    quantity: size.clone(),
                    hours: 0,
                },
                prices,
            ));
            storage(&a.target_table.value, &region, size, lines);
        }
        StepAction::DynamodbRestoreToPointInTime(a) => {
            let region = region_of(a.region.as_ref());
            let source = resolve(&a.source_table.value);
            let size = match &source {
                Some(t) => sizes
                    .tables
                    .get(&format!("{region}/{t}"))
                    .copied()
                    .ok_or_else(|| {
                        format!(
                            "DescribeTable gave no size for table {} ({region})",
                            printable(t)
                        )
                    }),
                None => Err(format!(
                    "the source table `{}` is known only at run time",
                    printable(&a.source_table.value)
                )),
            };
            lines.push(line(
                Charge {
                    step: id,
                    charge: "DynamoDB point-in-time restore",
                    region: &region,
                    subject: format!(
                        "table {} ({region})",
                        printable(source.as_deref().unwrap_or(&a.source_table.value))
                    ),
                    price: "dynamodb-pitr-restore",
                    quantity: size.clone(),
                    hours: 0,
                },
                prices,
            ));
            storage(&a.target_table.value, &region, size, lines);
        }
        StepAction::S3RestoreObject(a) => {
            let region = region_of(a.region.as_ref());
            let bucket = resolve(&a.bucket.value).unwrap_or_else(|| a.bucket.value.clone());
            let key = a.key.as_ref().and_then(|k| resolve(&k.value));
            let object = key.as_ref().map(|k| format!("s3://{bucket}/{k}"));
            let found = object.as_ref().and_then(|o| sizes.objects.get(o));
            let tier = a.tier.as_str().to_ascii_lowercase();
            let class = match found.map(|(_, c)| c.as_str()) {
                Some("DEEP_ARCHIVE") => "s3-deep-archive",
                _ => "s3-glacier",
            };
            let subject = object.clone().unwrap_or_else(|| {
                format!(
                    "s3://{bucket}/{}…",
                    a.prefix.as_ref().map_or("", |p| p.value.as_str())
                )
            });
            // A prefix the listing counted: one retrieval and one request
            // line per archived class it holds.
            let prefix = a.prefix.as_ref().and_then(|p| resolve(&p.value));
            let listed = prefix
                .as_ref()
                .filter(|_| object.is_none())
                .and_then(|p| sizes.archived.get(&format!("s3://{bucket}/{p}")));
            if let Some(listed) = listed {
                for (listed_class, (objects, bytes)) in listed {
                    let class = match listed_class.as_str() {
                        "DEEP_ARCHIVE" => "s3-deep-archive",
                        _ => "s3-glacier",
                    };
                    let subject = format!(
                        "{objects} {listed_class} objects under s3://{bucket}/{}",
                        prefix.as_deref().unwrap_or("")
                    );
                    for (charge, price, quantity) in [
                        ("S3 archive retrieval", "retrieval", *bytes),
                        ("S3 restore requests", "requests", *objects),
                    ] {
                        lines.push(line(
                            Charge {
                                step: id,
                                charge,
                                region: &region,
                                subject: printable(&subject).into_owned(),
                                price: &format!("{class}-{tier}-{price}"),
                                quantity: Ok(quantity),
                                hours: 0,
                            },
                            prices,
                        ));
                    }
                }
                return;
            }
            let size = found.map(|(b, _)| *b).ok_or_else(|| match &object {
                Some(o) => format!("HeadObject gave no size for {}", printable(o)),
                None => "the objects under a prefix are counted only at run time; list the prefix to check their size and tier".into(),
            });
            lines.push(line(
                Charge {
                    step: id,
                    charge: "S3 archive retrieval",
                    region: &region,
                    subject: printable(&subject).into_owned(),
                    price: &format!("{class}-{tier}-retrieval"),
                    quantity: size,
                    hours: 0,
                },
                prices,
            ));
            lines.push(line(
                Charge {
                    step: id,
                    charge: "S3 restore requests",
                    region: &region,
                    subject: printable(&subject).into_owned(),
                    price: &format!("{class}-{tier}-requests"),
                    quantity: if object.is_some() {
                        Ok(1)
                    } else {
                        Err("the object count under a prefix is known only at run time".into())
                    },
                    hours: 0,
                },
                prices,
            ));
        }
        StepAction::S3Download(a) => {
            let region = region_of(a.region.as_ref());
            let bucket = resolve(&a.bucket.value).unwrap_or_else(|| a.bucket.value.clone());
            let key = a.key.as_ref().and_then(|k| resolve(&k.value));
            let object = key.as_ref().map(|k| format!("s3://{bucket}/{k}"));
            let size = object
                .as_ref()
                .and_then(|o| sizes.objects.get(o).map(|(b, _)| *b))
                .or_else(|| sizes.points.get(id).copied())
                .ok_or_else(|| match &object {
                    Some(o) => format!("HeadObject gave no size for {}", printable(o)),
                    None => "the object or prefix is known only at run time; check its size".into(),
                });
            let subject =
                printable(&object.unwrap_or_else(|| format!("s3://{bucket}/…"))).into_owned();
            let mut egress = line(
                Charge {
                    step: id,
                    charge: "S3 data transfer out to the internet",
                    region: &region,
                    subject: subject.clone(),
                    price: "s3-transfer-out",
                    quantity: size,
                    hours: 0,
                },
                prices,
            );
            egress.arithmetic = format!(
                "{} (assumed: dr-drill runs outside AWS; from EC2 in the same region this is free)",
                egress.arithmetic
            );
            lines.push(egress);
            lines.push(line(
                Charge {
                    step: id,
                    charge: "S3 GET requests",
                    region: &region,
                    subject,
                    price: "s3-get-requests",
                    quantity: Ok(1),
                    hours: 0,
                },
                prices,
            ));
        }
        StepAction::Approve(_)
        | StepAction::BackupCopyJobs(_)
        | StepAction::BackupDeleteRecoveryPoint(_)
        | StepAction::BackupDeleteVaultLock(_)
        | StepAction::BackupRegionSettings(_)
        | StepAction::BackupVaultPosture(_)
        | StepAction::Check(_)
        | StepAction::DynamodbCopyTable(_)
        | StepAction::DynamodbCount(_)
        | StepAction::DynamodbDeleteTable(_)
        | StepAction::DynamodbPitrStatus(_)
        | StepAction::DynamodbWaitActive(_)
        | StepAction::FileDecrypt(_)
        | StepAction::Manual(_)
        | StepAction::PickRecoveryPoint(_)
        | StepAction::S3Head(_)
        | StepAction::S3VerifyChecksum(_)
        | StepAction::Shell(_)
        | StepAction::Wait(_) => {}
    }
}

/// The AWS charges of the steps that have succeeded so far, from the run's
/// ledger (the sizes their outputs give: a pick's `size_bytes`, a
/// download's `size_bytes`) and the prices. Storage of restored tables is
/// not counted here: it accrues after the step. A step whose size or price
/// is unknown adds nothing. `params` resolves the steps' regions.
pub fn so_far(
    runbook: &Runbook,
    ledger: &RunLedger,
    params: &BTreeMap<String, String>,
    prices: &Prices,
) -> Money {
    run_lines(runbook, ledger, params, prices)
        .iter()
        .filter(|l| !l.per_day)
        .filter_map(|l| l.amount)
        .sum()
}

/// Every charge line of the steps that succeeded, as the run's outputs
/// size them (storage lines included: `per_day`).
pub fn run_lines(
    runbook: &Runbook,
    ledger: &RunLedger,
    params: &BTreeMap<String, String>,
    prices: &Prices,
) -> Vec<Line> {
    let mut sizes = Sizes {
        default_region: ledger
            .identity
            .as_ref()
            .map_or_else(|| "us-east-1".into(), |i| i.region.clone()),
        ..Sizes::default()
    };
    let mut values = Values {
        params: params.clone(),
        ..Values::default()
    };
    for s in ledger
        .steps
        .iter()
        .filter(|s| s.outcome == Some(Outcome::Succeeded))
    {
        if let Some(size) = s.outputs.get("size_bytes").and_then(|b| b.parse().ok()) {
            sizes.points.insert(s.id.clone(), size);
        }
        values.outputs.insert(s.id.clone(), s.outputs.clone());
    }
    estimate(runbook, &|t| values.resolve(t).ok(), &sizes, prices)
        .lines
        .into_iter()
        .filter(|l| values.outputs.contains_key(&l.step))
        .collect()
}

#[cfg(test)]
#[path = "charges_tests.rs"]
mod tests;
