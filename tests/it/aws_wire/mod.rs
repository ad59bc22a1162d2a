//! The AWS implementation over the wire, against moto's server with
//! dr-drill's AWS Backup extension: every recovery point source and every
//! AWS step kind, run through the engine as a runbook would run them.
//! This file holds the shared helpers and the AWS Backup tests; DynamoDB's
//! own backups and S3 backup objects have a file each.

mod backup_rules;
mod dynamodb;
mod s3;
mod sts;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeValue, PointInTimeRecoverySpecification, PutRequest, WriteRequest,
};
use dr_drill::cloud::aws::{AwsCloud, AwsOptions};
use dr_drill::cloud::{ArchiveState, Cloud, PointKind, PointSource, RecoveryPoint, points};
use dr_drill::engine::event::{Answer, EventKind, Outcome, Question, RunEvent};
use dr_drill::engine::human::HumanReply;
use dr_drill::engine::{self, RunSummary};
use dr_drill::runbook::{Mode, check_str};

use crate::support::{moto, sha256_hex, unique};

const ROLE: &str = "arn:aws:iam::123456789012:role/cabal-backup-role";

fn cloud() -> Arc<dyn Cloud> {
    let options = AwsOptions {
        poll_interval: Some(Duration::from_millis(200)),
        ..AwsOptions::default()
    };
    Arc::new(AwsCloud::from_config(
        moto().sdk_config("us-east-1"),
        &options,
    ))
}

/// Runs a runbook (TOML after a header) against moto, confirming
/// destructive steps with their text and approving approvals.
async fn run(steps: &str, params: &[(&str, &str)]) -> (RunSummary, Vec<RunEvent>) {
    run_on(cloud(), steps, params).await
}

/// [`run`] against another cloud, e.g. a sandbox built from a world file.
async fn run_on(
    cloud: Arc<dyn Cloud>,
    steps: &str,
    params: &[(&str, &str)],
) -> (RunSummary, Vec<RunEvent>) {
    let mut text = String::from("[runbook]\nid = \"wire\"\ntitle = \"Wire test\"\n\n[params]\n");
    for (name, _) in params {
        text.push_str(&format!("{name} = {{ required = true }}\n"));
    }
    text.push_str(steps);
    let checked = check_str(&text);
    let runbook = checked
        .runbook
        .unwrap_or_else(|| panic!("test runbook must be valid: {:#?}", checked.diagnostics));
    let dir = tempfile::tempdir().unwrap();
    let params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let started =
        engine::start_unjournaled(runbook, Mode::Drill, params, dir.path().to_owned(), 8).unwrap();
    let engine::Started {
        engine,
        mut events,
        mut questions,
    } = started;
    tokio::spawn(async move {
        while let Some(q) = questions.recv().await {
            let answer = match &q.question {
                Question::Confirm { text, .. } => Answer::Confirmed {
                    typed: text.clone(),
                },
                Question::Approve { .. } => Answer::Approved,
                Question::PickRecoveryPoint { newest, .. } => Answer::Picked {
                    point: newest.clone().unwrap_or_default(),
                },
                other => panic!("unexpected question {other:?}"),
            };
            let _ = q.reply.send(HumanReply::new(answer, "tester@test"));
        }
    });
    let summary = engine.with_cloud(cloud).run().await.unwrap();
    let mut all = Vec::new();
    while let Ok(e) = events.try_recv() {
        all.push(e);
    }
    // Keep downloads readable until the assertions are done.
    std::mem::forget(dir);
    (summary, all)
}

fn outputs(events: &[RunEvent], step: &str) -> BTreeMap<String, String> {
    events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::StepFinished {
                step: s, outputs, ..
            } if s == step => Some(outputs.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("step {step} did not finish"))
}

fn reason(events: &[RunEvent], step: &str) -> String {
    events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::StepFinished {
                step: s, reason, ..
            } if s == step => reason.clone(),
            _ => None,
        })
        .unwrap_or_default()
}

fn assert_succeeded(summary: &RunSummary, events: &[RunEvent]) {
    for (step, outcome) in &summary.steps {
        assert_eq!(
            *outcome,
            Outcome::Succeeded,
            "step {step}: {}",
            reason(events, step)
        );
    }
}

async fn create_table(name: &str, items: usize) -> String {
    let arn = moto().create_pk_table("us-east-1", name).await;
    put_items(name, 0..items).await;
    arn
}

async fn put_items(table: &str, range: std::ops::Range<usize>) {
    let db = moto().dynamodb("us-east-1");
    let all: Vec<usize> = range.collect();
    for chunk in all.chunks(25) {
        let writes: Vec<WriteRequest> = chunk
            .iter()
            .map(|i| {
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .item("pk", AttributeValue::S(format!("user{i}@example.com")))
                            .item("domain", AttributeValue::S("example.com".into()))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .collect();
        db.batch_write_item()
            .request_items(table, writes)
            .send()
            .await
            .unwrap();
    }
}

async fn create_vault(name: &str, region: &str) -> String {
    moto()
        .backup(region)
        .create_backup_vault()
        .backup_vault_name(name)
        .send()
        .await
        .unwrap()
        .backup_vault_arn()
        .unwrap()
        .to_owned()
}

/// Takes an AWS Backup backup of `resource_arn` into `vault` and waits for it.
async fn backup_now(vault: &str, resource_arn: &str) -> String {
    let backup = moto().backup("us-east-1");
    let job = backup
        .start_backup_job()
        .backup_vault_name(vault)
        .resource_arn(resource_arn)
        .iam_role_arn(ROLE)
        .send()
        .await
        .unwrap();
    let id = job.backup_job_id().unwrap().to_owned();
    crate::support::eventually("the backup job completes", || {
        let backup = backup.clone();
        let id = id.clone();
        async move {
            let job = backup
                .describe_backup_job()
                .backup_job_id(id)
                .send()
                .await
                .unwrap();
            (job.state().map(|s| s.as_str()) == Some("COMPLETED"))
                .then(|| job.recovery_point_arn().unwrap().to_owned())
        }
    })
    .await
}

async fn list(source: PointSource) -> (Vec<RecoveryPoint>, usize) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let cloud = cloud();
    let lister = tokio::spawn(async move {
        cloud
            .list_points(&source, &tx, &|_| {})
            .await
            .map_err(|e| e.to_string())
    });
    let mut points = Vec::new();
    let mut pages = 0;
    while let Some(page) = rx.recv().await {
        pages += 1;
        points.extend(page);
    }
    lister.await.unwrap().unwrap();
    (points, pages)
}

#[tokio::test]
async fn vault_points_arrive_page_by_page_with_every_field() {
    let vault = unique("paged-vault");
    let table = unique("paged");
    let arn = create_table(&table, 3).await;
    moto().seed_points("us-east-1", &vault, 2500, &arn);
    let real = backup_now(&vault, &arn).await;
    let (points, pages) = list(PointSource::Vault {
        vault: vault.clone(),
        region: None,
        resource_type: Some("DynamoDB".into()),
        resource_arn: None,
    })
    .await;
    assert_eq!(points.len(), 2501);
    assert!(pages >= 3, "2,501 points came in {pages} pages");
    let p = points.iter().find(|p| p.id == real).unwrap();
    assert_eq!(p.kind, PointKind::Backup);
    assert_eq!(p.status, "COMPLETED");
    assert_eq!(p.vault.as_deref(), Some(vault.as_str()));
    assert_eq!(p.resource_arn.as_deref(), Some(arn.as_str()));
    assert_eq!(p.resource_type.as_deref(), Some("DynamoDB"));
    assert_eq!(p.region, "us-east-1");
    assert!(p.completed_at.is_some());
    assert_eq!(points::latest(&points, None).unwrap().id, real);
    let (none, _) = list(PointSource::Vault {
        vault,
        region: None,
        resource_type: Some("EFS".into()),
        resource_arn: None,
    })
    .await;
    assert!(none.is_empty(), "the resource type filter is sent");
}

#[tokio::test]
async fn the_cabal_addresses_drill_restores_verifies_and_cuts_over() {
    let table = unique("cabal-addresses");
    let restored = format!("{table}-restored");
    let vault = unique("cabal-backup");
    let dr_vault = unique("cabal-backup-dr");
    let arn = create_table(&table, 30).await;
    create_vault(&vault, "us-east-1").await;
    create_vault(&dr_vault, "us-west-2").await;
    backup_now(&vault, &arn).await;
    // The incident: items lost after the backup.
    let db = moto().dynamodb("us-east-1");
    for i in 0..10 {
        db.delete_item()
            .table_name(&table)
            .key("pk", AttributeValue::S(format!("user{i}@example.com")))
            .send()
            .await
            .unwrap();
    }
    let steps = r#"
[[step]]
id = "pick"
kind = "pick-recovery-point"
source = { backup_vault = "{{ params.vault }}", dr_vault = "{{ params.dr_vault }}", dr_region = "us-west-2", resource_type = "DynamoDB" }
policy = "latest"
max_age = "1h"

[[step]]
id = "restore"
needs = ["pick"]
kind = "backup.restore"
backup_vault = "{{ steps.pick.vault }}"
recovery_point = "{{ steps.pick.arn }}"
iam_role_arn = "{{ params.role }}"
metadata = { targetTableName = "{{ params.restored }}" }

[[step]]
id = "active"
needs = ["restore"]
kind = "dynamodb.wait-active"
table = "{{ params.restored }}"
timeout = "1m"

[[step]]
id = "restored-count"
needs = ["active"]
kind = "dynamodb.count"
table = "{{ params.restored }}"
segments = 3

[[step]]
id = "verify"
needs = ["restored-count"]
kind = "check"
assert = [{ value = "{{ steps.restored-count.items }}", equals = "30" }]

[[step]]
id = "cutover"
needs = ["verify"]
kind = "dynamodb.copy-table"
from = "{{ params.restored }}"
to = "{{ params.table }}"
confirm = "{{ params.table }}"

[[step]]
id = "live-count"
needs = ["cutover"]
kind = "dynamodb.count"
table = "{{ params.table }}"
"#;
    let (summary, events) = run(
        steps,
        &[
            ("vault", &vault),
            ("dr_vault", &dr_vault),
            ("role", ROLE),
            ("table", &table),
            ("restored", &restored),
        ],
    )
    .await;
    assert_succeeded(&summary, &events);
    let pick = outputs(&events, "pick");
    assert_eq!(pick["vault"], vault);
    assert_eq!(pick["resource_arn"], arn);
    let restore = outputs(&events, "restore");
    assert_eq!(restore["status"], "COMPLETED");
    assert!(restore["created_resource_arn"].ends_with(&format!("table/{restored}")));
    assert_eq!(outputs(&events, "cutover")["items_written"], "30");
    assert_eq!(outputs(&events, "live-count")["items"], "30");
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::RpoMeasured { step, .. } if step == "pick")),
        "the pick measures the RPO"
    );
}

#[tokio::test]
async fn copy_back_from_the_dr_vault_then_teardown_under_lock() {
    let table = unique("cabal-mailstore");
    let vault = unique("primary");
    let dr_vault = unique("dr");
    let arn = create_table(&table, 2).await;
    create_vault(&vault, "us-east-1").await;
    let dr_arn = create_vault(&dr_vault, "us-west-2").await;
    let point = backup_now(&vault, &arn).await;
    moto()
        .backup("us-east-1")
        .put_backup_vault_lock_configuration()
        .backup_vault_name(&vault)
        .min_retention_days(30)
        .send()
        .await
        .unwrap();
    let steps = r#"
[[step]]
id = "copy"
kind = "backup.copy"
source_vault = "{{ params.vault }}"
recovery_point = "{{ params.point }}"
destination_vault_arn = "{{ params.dr_arn }}"
iam_role_arn = "{{ params.role }}"

[[step]]
id = "copied"
needs = ["copy"]
kind = "wait"
until = { copy_job = "{{ steps.copy.job_id }}" }

[[step]]
id = "dr-points"
needs = ["copied"]
kind = "pick-recovery-point"
source = { backup_vault = "{{ params.dr_vault }}", region = "us-west-2" }
policy = "latest"

[[step]]
id = "posture"
kind = "backup.vault-posture"
backup_vault = "{{ params.vault }}"
expect = { locked = true, min_retention_days = 30, recovery_points_at_least = 1, newest_younger_than = "1h" }

[[step]]
id = "unlock"
needs = ["posture", "copy"]
kind = "backup.delete-vault-lock"
backup_vault = "{{ params.vault }}"

[[step]]
id = "delete-all"
needs = ["unlock"]
kind = "backup.delete-recovery-point"
backup_vault = "{{ params.vault }}"
all = true

[[step]]
id = "empty"
needs = ["delete-all"]
kind = "backup.vault-posture"
backup_vault = "{{ params.vault }}"
expect = { locked = false }
"#;
    let (summary, events) = run(
        steps,
        &[
            ("vault", &vault),
            ("dr_vault", &dr_vault),
            ("dr_arn", &dr_arn),
            ("point", &point),
            ("role", ROLE),
        ],
    )
    .await;
    assert_succeeded(&summary, &events);
    let copy = outputs(&events, "copy");
    assert_eq!(copy["status"], "COMPLETED");
    assert_eq!(
        outputs(&events, "dr-points")["arn"],
        copy["destination_recovery_point_arn"]
    );
    assert_eq!(outputs(&events, "dr-points")["region"], "us-west-2");
    assert_eq!(outputs(&events, "posture")["locked"], "true");
    assert_eq!(outputs(&events, "delete-all")["deleted"], "1");
    assert_eq!(outputs(&events, "empty")["recovery_points"], "0");
}

#[tokio::test]
async fn a_locked_vault_refuses_deletion_and_the_error_says_what_failed() {
    let table = unique("locked");
    let vault = unique("locked-vault");
    let arn = create_table(&table, 1).await;
    create_vault(&vault, "us-east-1").await;
    backup_now(&vault, &arn).await;
    moto()
        .backup("us-east-1")
        .put_backup_vault_lock_configuration()
        .backup_vault_name(&vault)
        .min_retention_days(30)
        .send()
        .await
        .unwrap();
    let (summary, events) = run(
        r#"
[[step]]
id = "delete-all"
kind = "backup.delete-recovery-point"
backup_vault = "{{ params.vault }}"
all = true
"#,
        &[("vault", &vault)],
    )
    .await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let why = reason(&events, "delete-all");
    assert!(
        why.contains(
            "DeleteRecoveryPoint on arn:aws:backup:us-east-1:123456789012:recovery-point:"
        ),
        "{why}"
    );
}

// rule: ddb-points-include-aws-backup
#[tokio::test]
async fn a_tables_points_include_the_backups_aws_backup_made() {
    // DynamoDB's ListBackups never lists what AWS Backup made (ALL is USER
    // and SYSTEM); a table protected only by AWS Backup has its points in
    // Backup's ListRecoveryPointsByResource.
    let table = unique("backed-up-by-plan");
    let arn = create_table(&table, 2).await;
    let vault = unique("plan-vault");
    create_vault(&vault, "us-east-1").await;
    backup_now(&vault, &arn).await;
    let (listed, _) = list(PointSource::Table {
        table: table.clone(),
        region: None,
    })
    .await;
    let backups: Vec<_> = listed
        .iter()
        .filter(|p| p.kind == PointKind::Backup)
        .collect();
    assert_eq!(backups.len(), 1, "{listed:#?}");
    assert!(
        backups[0].id.starts_with("arn:aws:backup:us-east-1:"),
        "{listed:#?}"
    );
    assert_eq!(backups[0].vault.as_deref(), Some(vault.as_str()));
    assert_eq!(backups[0].resource_arn.as_deref(), Some(arn.as_str()));
    assert_eq!(backups[0].resource_name.as_deref(), Some(table.as_str()));
    assert!(
        !listed.iter().any(|p| p.kind == PointKind::DynamodbBackup),
        "ListBackups(ALL) must not list the AWS_BACKUP backup behind the point: {listed:#?}"
    );
}

async fn set_dynamodb_management(region: &str, on: bool) {
    moto()
        .backup(region)
        .update_region_settings()
        .resource_type_management_preference("DynamoDB", on)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn region_settings_and_copy_jobs_show_the_dynamodb_opt_in_and_its_failures() {
    // A region of its own: the settings are region-wide.
    let region = "eu-central-1";
    let table = unique("cabal-addresses");
    let (vault, dr_vault) = (unique("primary"), unique("dr"));
    moto().create_pk_table(region, &table).await;
    create_vault(&vault, region).await;
    let dr_arn = create_vault(&dr_vault, "us-west-2").await;
    let point = moto()
        .backup_and_wait(
            region,
            &vault,
            &format!("arn:aws:dynamodb:{region}:123456789012:table/{table}"),
            ROLE,
        )
        .await;

    set_dynamodb_management(region, false).await;
    let settings = cloud()
        .region_settings(Some(region), &dr_drill::cloud::quiet())
        .await
        .unwrap();
    assert_eq!(settings.full_management.get("DynamoDB"), Some(&false));
    assert_eq!(settings.opt_in.get("EFS"), Some(&true));
    assert_eq!(
        moto()
            .copy_and_wait(region, &vault, &point, &dr_arn, ROLE)
            .await,
        "FAILED"
    );
    let steps = r#"
[[step]]
id = "settings"
kind = "backup.region-settings"
region = "eu-central-1"
expect_opt_in = ["dynamodb", "EFS"]
expect_full_management = ["DynamoDB"]

[[step]]
id = "copies"
kind = "backup.copy-jobs"
region = "eu-central-1"
within = "1h"
resource_type = "DynamoDB"
destination_vault_arn = "{{ params.dr_arn }}"
expect = { completed_at_least = 1, failed_at_most = 0 }
"#;
    let (summary, events) = run(steps, &[("dr_arn", &dr_arn)]).await;
    assert_ne!(summary.outcome, Outcome::Succeeded);
    let why = reason(&events, "settings");
    assert!(
        why.contains("ResourceTypeManagementPreference DynamoDB=false")
            && why.contains(
                "--resource-type-management-preference DynamoDB=true --region eu-central-1"
            ),
        "{why}"
    );
    let why = reason(&events, "copies");
    assert!(
        why.contains("0 completed, expected at least 1")
            && why.contains("1 failed, expected at most 0")
            && why.contains("DynamoDB=true"),
        "{why}"
    );

    set_dynamodb_management(region, true).await;
    assert_eq!(
        moto()
            .copy_and_wait(region, &vault, &point, &dr_arn, ROLE)
            .await,
        "COMPLETED"
    );
    let steps = r#"
[[step]]
id = "settings"
kind = "backup.region-settings"
region = "eu-central-1"
expect_full_management = ["DynamoDB"]

[[step]]
id = "copies"
kind = "backup.copy-jobs"
region = "eu-central-1"
destination_vault_arn = "{{ params.dr_arn }}"
expect = { completed_at_least = 1 }
"#;
    let (summary, events) = run(steps, &[("dr_arn", &dr_arn)]).await;
    assert_succeeded(&summary, &events);
    assert!(outputs(&events, "settings")["fully_managed"].contains("DynamoDB"));
    let copies = outputs(&events, "copies");
    assert_eq!(
        (
            copies["total"].as_str(),
            copies["completed"].as_str(),
            copies["failed"].as_str()
        ),
        ("2", "1", "1")
    );
    assert!(copies["newest_failure"].contains("FAILED: "), "{copies:?}");
    // Outside the window, nothing.
    let none = cloud()
        .list_copy_jobs(
            &dr_drill::cloud::CopyJobFilter {
                within: Duration::from_secs(1),
                resource_type: Some("EFS".into()),
                destination_vault_arn: Some(dr_arn.clone()),
            },
            Some(region),
            &dr_drill::cloud::quiet(),
        )
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
}
