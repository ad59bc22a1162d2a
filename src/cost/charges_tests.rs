//! The estimate's lines on fixed inputs, with their arithmetic checked (the
//! same worked example is in docs/preflight.md, "## Cost").

use std::path::Path;

use super::*;

const PRICES: &str = r#"
[us-east-1]
dynamodb-pitr-restore = { usd = "0.15", per = "GB", read = "2026-12-03", source = "https://aws.amazon.com/dynamodb/pricing/" }
dynamodb-restore = { usd = "0.15", per = "GB", read = "2026-12-03", source = "https://aws.amazon.com/dynamodb/pricing/" }
dynamodb-storage = { usd = "0.25", per = "GB-month", read = "2026-12-03", source = "https://aws.amazon.com/dynamodb/pricing/" }
backup-restore-dynamodb = { usd = "0.15", per = "GB", read = "2026-12-03", source = "https://aws.amazon.com/backup/pricing/" }
s3-deep-archive-bulk-retrieval = { usd = "0.0025", per = "GB", read = "2026-12-03", source = "https://aws.amazon.com/s3/pricing/" }
s3-deep-archive-bulk-requests = { usd = "0.025", per = "1000 requests", read = "2026-12-03", source = "https://aws.amazon.com/s3/pricing/" }
s3-transfer-out = { usd = "0.09", per = "GB", read = "2026-12-03", source = "https://aws.amazon.com/s3/pricing/" }
s3-get-requests = { usd = "0.0004", per = "1000 requests", read = "2026-12-03", source = "https://aws.amazon.com/s3/pricing/" }

[us-west-2]
backup-copy-transfer = { usd = "0.02", per = "GB", read = "2026-12-03", source = "https://aws.amazon.com/backup/pricing/" }
"#;

/// A drill that touches every charged kind.
pub(crate) const DRILL: &str = r#"
[runbook]
format = 1
id = "cost-example"
title = "Cost example"

[[step]]
id = "pick"
kind = "pick-recovery-point"
source = { backup_vault = "dr", region = "us-west-2" }

[[step]]
id = "copy"
kind = "backup.copy"
needs = ["pick"]
region = "us-west-2"
source_vault = "dr"
recovery_point = "{{ steps.pick.arn }}"
destination_vault_arn = "arn:aws:backup:us-east-1:111122223333:backup-vault:main"
iam_role_arn = "arn:aws:iam::111122223333:role/backup"

[[step]]
id = "restore"
kind = "backup.restore"
needs = ["copy"]
region = "us-east-1"
backup_vault = "main"
recovery_point = "{{ steps.copy.destination_recovery_point_arn }}"
iam_role_arn = "arn:aws:iam::111122223333:role/backup"
metadata = { targetTableName = "orders-copy" }

[[step]]
id = "pitr"
kind = "dynamodb.restore-to-point-in-time"
region = "us-east-1"
source_table = "orders"
target_table = "orders-restored"

[[step]]
id = "thaw"
kind = "s3.restore-object"
region = "us-east-1"
bucket = "dumps"
key = "db.dump"
tier = "Bulk"

[[step]]
id = "download"
kind = "s3.download"
needs = ["thaw"]
region = "us-east-1"
bucket = "dumps"
key = "db.dump"
to = "db.dump"

[[step]]
id = "drop"
kind = "dynamodb.delete-table"
needs = ["pitr"]
cleanup = true
region = "us-east-1"
table = "orders-restored"
"#;

pub(crate) fn prices() -> Prices {
    let mut p = Prices::default();
    p.read_file(Path::new("test-prices.toml"), PRICES, false)
        .unwrap();
    p
}

pub(crate) fn runbook() -> Runbook {
    let checked = crate::runbook::check_str(DRILL);
    checked
        .runbook
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics))
}

fn sizes() -> Sizes {
    Sizes {
        default_region: "us-east-1".into(),
        tables: [("us-east-1/orders".to_owned(), 10 * GB)].into(),
        objects: [(
            "s3://dumps/db.dump".to_owned(),
            (5 * GB, "DEEP_ARCHIVE".to_owned()),
        )]
        .into(),
        points: [("pick".to_owned(), 2 * GB)].into(),
        archived: Default::default(),
    }
}

fn resolve(t: &str) -> Option<String> {
    (!t.contains("{{")).then(|| t.to_owned())
}

fn arithmetic(e: &Estimate, step: &str, charge: &str) -> String {
    e.lines
        .iter()
        .find(|l| l.step == step && l.charge.starts_with(charge))
        .unwrap_or_else(|| panic!("no {charge} line for {step}: {e:#?}"))
        .arithmetic
        .clone()
}

#[test]
fn every_line_kind_shows_its_arithmetic() {
    let e = estimate(&runbook(), &resolve, &sizes(), &prices());
    assert_eq!(
        arithmetic(&e, "copy", "AWS Backup cross-region copy"),
        "2.000 GB × $0.02 per GB = $0.04"
    );
    // The copy's point has the size of the point it copies.
    assert_eq!(
        arithmetic(&e, "restore", "AWS Backup restore"),
        "2.000 GB × $0.15 per GB = $0.30"
    );
    assert_eq!(
        arithmetic(&e, "restore", "DynamoDB table storage"),
        "2.000 GB × $0.25 per GB-month × 24 h / 730 h = $0.02 per day it is left (no cleanup step deletes it)"
    );
    assert_eq!(
        arithmetic(&e, "pitr", "DynamoDB point-in-time restore"),
        "10.000 GB × $0.15 per GB = $1.50"
    );
    assert_eq!(
        arithmetic(&e, "pitr", "DynamoDB table storage"),
        "10.000 GB × $0.25 per GB-month × 24 h / 730 h = $0.08 (one day: cleanup step `drop` deletes it)"
    );
    assert_eq!(
        arithmetic(&e, "thaw", "S3 archive retrieval"),
        "5.000 GB × $0.0025 per GB = $0.01"
    );
    assert_eq!(
        arithmetic(&e, "thaw", "S3 restore requests"),
        "1 requests × $0.025 per 1000 requests = <$0.0001"
    );
    assert_eq!(
        arithmetic(&e, "download", "S3 data transfer out"),
        "5.000 GB × $0.09 per GB = $0.45 (assumed: dr-drill runs outside AWS; from EC2 in the same region this is free)"
    );
    // $0.04 + $0.30 + $1.50 + $0.082192 + $0.0125 + $0.000025 + $0.45
    // + $0.0000004 (one GET, rounds to nothing)
    assert_eq!(
        e.total,
        Money(40_000 + 300_000 + 1_500_000 + 82_192 + 12_500 + 25 + 450_000)
    );
    assert_eq!(e.total.usd(), "$2.38");
    assert_eq!((e.unknown, e.left_per_day), (0, Money(16_438)));
}

#[test]
fn unknown_sizes_and_prices_are_lines_never_zero() {
    let mut few = sizes();
    few.tables.clear();
    few.points.clear();
    let e = estimate(&runbook(), &resolve, &few, &prices());
    assert_eq!(
        arithmetic(&e, "pitr", "DynamoDB point-in-time restore"),
        "size unknown: DescribeTable gave no size for table orders (us-east-1)"
    );
    assert!(
        arithmetic(&e, "copy", "AWS Backup cross-region copy")
            .starts_with("size unknown: the point step `pick` picks"),
        "{e:#?}"
    );
    // The pick's, the copy's and the restore's lines, and the two tables'.
    assert_eq!(e.unknown, 5, "{e:#?}");
    assert_eq!(e.total_text(), "$0.46 + 5 unknown");
    // Its restored table is left behind: no cleanup step deletes it.
    let left: Vec<&Line> = e.left().collect();
    assert_eq!(left.len(), 1, "{left:#?}");
    assert_eq!(left[0].subject, "restored table orders-copy (us-east-1)");

    let mut no_prices = Prices::default();
    no_prices
        .regions
        .insert("us-east-1".into(), Default::default());
    let e = estimate(&runbook(), &resolve, &sizes(), &no_prices);
    assert_eq!(e.total, Money::ZERO);
    assert!(e.lines.iter().all(|l| l.amount.is_none()));
    assert!(
        arithmetic(&e, "pitr", "DynamoDB point-in-time restore").contains(
            "price unknown: `dynamodb-pitr-restore` for us-east-1 is not in the price table; add it under [prices.us-east-1]"
        ),
        "{e:#?}"
    );
}

#[test]
fn the_cost_so_far_counts_the_steps_that_succeeded() {
    let rb = runbook();
    let mut ledger = RunLedger::new(&rb);
    assert_eq!(
        so_far(&rb, &ledger, &Default::default(), &prices()),
        Money::ZERO
    );
    for s in ledger.steps.iter_mut() {
        match s.id.as_str() {
            "pick" => {
                s.outcome = Some(Outcome::Succeeded);
                s.outputs.insert("size_bytes".into(), (2 * GB).to_string());
            }
            "copy" => s.outcome = Some(Outcome::Succeeded),
            "download" => {
                s.outcome = Some(Outcome::Succeeded);
                s.outputs.insert("size_bytes".into(), (5 * GB).to_string());
            }
            _ => {}
        }
    }
    // copy: 2 GB × $0.02 = $0.04; download: 5 GB × $0.09 = $0.45 and one
    // GET (rounds to nothing); the restore has not run.
    assert_eq!(
        so_far(&rb, &ledger, &Default::default(), &prices()),
        Money(490_000)
    );
}

#[test]
fn a_listed_prefix_is_charged_per_archived_class() {
    let text = r#"
[runbook]
id = "thaw"
title = "Thaw a prefix"

[[step]]
id = "thaw"
kind = "s3.restore-object"
bucket = "media"
prefix = "products/"
tier = "Bulk"
region = "us-east-1"
"#;
    let rb = crate::runbook::check_str(text).runbook.unwrap();
    let mut sizes = sizes();
    sizes.archived.insert(
        "s3://media/products/".into(),
        [
            ("DEEP_ARCHIVE".to_owned(), (1200, 12 * GB)),
            ("GLACIER".to_owned(), (3, GB)),
        ]
        .into(),
    );
    let e = estimate(&rb, &resolve, &sizes, &prices());
    let thaw: Vec<_> = e.lines.iter().filter(|l| l.step == "thaw").collect();
    // Two classes, a retrieval and a request line each.
    assert_eq!(thaw.len(), 4, "{thaw:#?}");
    let deep = thaw
        .iter()
        .find(|l| l.charge == "S3 archive retrieval" && l.subject.contains("DEEP_ARCHIVE"))
        .unwrap();
    assert!(
        deep.subject
            .starts_with("1200 DEEP_ARCHIVE objects under s3://media/products/")
    );
    assert!(deep.arithmetic.starts_with("12.000 GB"), "{deep:#?}");
    let requests = thaw
        .iter()
        .find(|l| l.charge == "S3 restore requests" && l.subject.contains("GLACIER"))
        .unwrap();
    assert!(requests.arithmetic.starts_with("3 "), "{requests:#?}");
}
