//! Preflight's permissions area: every call the plan makes, asked of IAM's
//! policy simulator before T0. Against moto (our extension's
//! `SimulatePrincipalPolicy`, on a user made with a policy and its own
//! access keys) and against the sandbox (`--fault access-denied=…`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use dr_drill::cloud::Cloud;
use dr_drill::cloud::aws::{AwsCloud, AwsOptions};
use dr_drill::cloud::sim::{Fault, SimCloud, SimOptions};
use dr_drill::preflight::{self, Area, Context, Finding, Preflight, Verdict};
use dr_drill::runbook::{Mode, Runbook, check_str};

use crate::support::{moto, repo_file, unique};

const ACCOUNT: &str = "123456789012";

fn runbook(text: &str) -> Runbook {
    let checked = check_str(text);
    checked.runbook.unwrap_or_else(|| {
        panic!(
            "{}",
            checked
                .diagnostics
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

async fn preflight(runbook: Runbook, params: &[(&str, &str)], cloud: Arc<dyn Cloud>) -> Preflight {
    let mut values: BTreeMap<String, String> = runbook
        .params
        .iter()
        .filter_map(|p| {
            p.default
                .as_ref()
                .map(|d| (p.name.value.clone(), d.value.clone()))
        })
        .collect();
    for (k, v) in params {
        values.insert((*k).to_owned(), (*v).to_owned());
    }
    let ctx = Context {
        runbook,
        mode: Mode::Drill,
        params: values,
        cloud: Some(cloud),
        data_dir: std::env::temp_dir(),
    };
    preflight::run(&ctx, None).await
}

fn permissions(p: &Preflight) -> Vec<&Finding> {
    p.of(Area::Permissions).collect()
}

fn failed(p: &Preflight) -> Vec<&Finding> {
    p.of(Area::Permissions)
        .filter(|f| f.verdict == Verdict::Fail)
        .collect()
}

fn of_step<'a>(p: &'a Preflight, step: &str) -> Vec<&'a Finding> {
    p.of(Area::Permissions)
        .filter(|f| f.step.as_deref() == Some(step))
        .collect()
}

fn sandbox(faults: Vec<Fault>) -> Arc<dyn Cloud> {
    Arc::new(
        SimCloud::builtin(SimOptions {
            speed: 100_000.0,
            faults,
            ..SimOptions::default()
        })
        .unwrap(),
    )
}

fn shipped(name: &str) -> Runbook {
    runbook(&std::fs::read_to_string(repo_file(&format!("runbooks/{name}"))).unwrap())
}

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/cabal-backup-role";

#[tokio::test]
async fn in_the_sandbox_every_step_is_allowed_without_faults() {
    let p = preflight(
        shipped("cabal-addresses-restore.toml"),
        &[("role_arn", ROLE_ARN)],
        sandbox(vec![]),
    )
    .await;
    let found = permissions(&p);
    assert!(
        found.iter().all(|f| f.verdict != Verdict::Fail),
        "{found:#?}"
    );
    let pass = of_step(&p, "live-count");
    assert_eq!(pass.len(), 1, "{pass:#?}");
    assert_eq!(pass[0].verdict, Verdict::Pass);
    assert!(
        pass[0]
            .detail
            .starts_with("1 call allowed for arn:aws:iam::"),
        "{}",
        pass[0].detail
    );
    // The restore's point is the pick's output: unchecked, naming it.
    let restore = of_step(&p, "restore");
    assert!(
        restore.iter().any(|f| f.verdict == Verdict::Unchecked
            && f.subject
                .starts_with("backup:StartRestoreJob on arn:aws:backup:")
            && f.subject.ends_with(":recovery-point:*")
            && f.detail.contains("pick")),
        "{restore:#?}"
    );
}

#[tokio::test]
async fn in_the_sandbox_a_refused_start_restore_job_fails_its_step() {
    let p = preflight(
        shipped("cabal-addresses-restore.toml"),
        &[("role_arn", ROLE_ARN)],
        sandbox(vec!["access-denied=StartRestoreJob".parse().unwrap()]),
    )
    .await;
    assert!(!p.passed());
    let failed = failed(&p);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let f = failed[0];
    assert_eq!(f.step.as_deref(), Some("restore"));
    assert!(
        f.subject.starts_with("backup:StartRestoreJob on "),
        "{}",
        f.subject
    );
    assert!(f.detail.contains("explicitly denied"), "{}", f.detail);
    assert!(
        f.detail
            .contains("SIMULATED fault access-denied=StartRestoreJob"),
        "{}",
        f.detail
    );
    assert!(f.fix.is_some());
}

#[tokio::test]
async fn in_the_sandbox_a_refused_simulation_lists_the_actions_to_check_by_hand() {
    let p = preflight(
        shipped("cabal-addresses-restore.toml"),
        &[("role_arn", ROLE_ARN)],
        sandbox(vec![
            "access-denied=SimulatePrincipalPolicy".parse().unwrap(),
        ]),
    )
    .await;
    let restore = of_step(&p, "restore");
    assert_eq!(restore.len(), 1, "{restore:#?}");
    let f = restore[0];
    assert_eq!(f.verdict, Verdict::Unchecked);
    assert!(
        f.detail.contains("iam:SimulatePrincipalPolicy denied"),
        "{}",
        f.detail
    );
    assert!(
        f.detail.contains(&format!("iam:PassRole on {ROLE_ARN}"))
            && f.detail.contains("backup:StartRestoreJob on "),
        "{}",
        f.detail
    );
    assert!(
        permissions(&p)
            .iter()
            .all(|f| f.verdict == Verdict::Unchecked)
    );
}

/// Every shipped runbook in the sandbox: each step that calls AWS gets a
/// permissions finding, and none fails without a fault.
#[tokio::test]
async fn in_the_sandbox_every_shipped_runbook_is_allowed_step_by_step() {
    let mut names: Vec<String> = std::fs::read_dir(repo_file("runbooks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 11, "{names:?}");
    let params = [
        ("role_arn", ROLE_ARN),
        ("account_id", ACCOUNT),
        ("user", "alice"),
        ("uid", "1000"),
        ("file_system_id", "fs-12345678"),
        ("environment", "staging"),
        ("destroy_cmd", "true"),
        ("target_time", "2026-11-20T03:00:00Z"),
        ("prefix", "media/"),
        ("backup_key", "k"),
        ("vault_token", "t"),
    ];
    for name in names {
        let book = shipped(&name);
        let aws_steps: Vec<String> = book
            .steps
            .iter()
            .filter(|s| !s.action.permissions().is_empty())
            .map(|s| s.id.value.clone())
            .collect();
        let p = preflight(book, &params, sandbox(vec![])).await;
        assert!(failed(&p).is_empty(), "{name}: {:#?}", failed(&p));
        for step in aws_steps {
            assert!(
                !of_step(&p, &step).is_empty(),
                "{name}: step {step} has no finding"
            );
        }
    }
}

// --- against moto ---------------------------------------------------------

/// A moto user with `statements` as its inline policy, and its own keys.
async fn user_with(statements: &str) -> (String, SdkConfig) {
    let iam = aws_sdk_iam::Client::new(&moto().sdk_config("us-east-1"));
    let name = unique("pf-user");
    iam.create_user().user_name(&name).send().await.unwrap();
    iam.put_user_policy()
        .user_name(&name)
        .policy_name("drill")
        .policy_document(format!(
            r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#
        ))
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto().sdk_config("us-east-1").endpoint_url().unwrap())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            key.access_key_id(),
            key.secret_access_key(),
            None,
            None,
            "test",
        )))
        .build();
    (name, config)
}

fn aws(config: SdkConfig) -> Arc<dyn Cloud> {
    let options = AwsOptions {
        poll_interval: Some(Duration::from_millis(200)),
        ..AwsOptions::default()
    };
    Arc::new(AwsCloud::from_config(config, &options))
}

const POINT: &str = "arn:aws:backup:us-east-1:123456789012:recovery-point:PF-1";

/// A restore of a known point with the role as a parameter, and a count.
fn restore_runbook() -> Runbook {
    runbook(&format!(
        r#"
[runbook]
id = "pf-iam"
title = "Permissions"

[params]
role_arn = {{ required = true }}

[[step]]
id = "restore"
kind = "backup.restore"
backup_vault = "cabal-backup"
recovery_point = "{POINT}"
iam_role_arn = "{{{{ params.role_arn }}}}"

[[step]]
id = "count"
kind = "dynamodb.count"
table = "cabal-addresses"
"#
    ))
}

const SIMULATE: &str =
    r#"{"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy", "Resource": "*"}"#;
const RESTORE: &str = r#"{"Effect": "Allow", "Action": ["backup:GetRecoveryPointRestoreMetadata", "backup:DescribeRecoveryPoint", "backup:StartRestoreJob", "backup:DescribeRestoreJob"], "Resource": "*"}"#;
const COUNT: &str = r#"{"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/cabal-*"}"#;
const PASS_ROLE: &str = r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/cabal-*"}"#;

#[tokio::test]
async fn against_moto_every_call_allowed_is_one_pass_line_per_step() {
    let (name, config) = user_with(&[SIMULATE, RESTORE, COUNT, PASS_ROLE].join(",")).await;
    let p = preflight(restore_runbook(), &[("role_arn", ROLE_ARN)], aws(config)).await;
    let found = permissions(&p);
    assert_eq!(found.len(), 2, "{found:#?}");
    let user = format!("arn:aws:iam::{ACCOUNT}:user/{name}");
    for (f, step, n) in [(found[0], "restore", 5), (found[1], "count", 1)] {
        assert_eq!(f.verdict, Verdict::Pass, "{f:#?}");
        assert_eq!(f.step.as_deref(), Some(step));
        let calls = if n == 1 { "call" } else { "calls" };
        assert_eq!(f.detail, format!("{n} {calls} allowed for {user}"));
    }
}

#[tokio::test]
async fn against_moto_a_missing_pass_role_fails_the_restore_step_naming_the_role() {
    let (_, config) = user_with(&[SIMULATE, RESTORE, COUNT].join(",")).await;
    let p = preflight(restore_runbook(), &[("role_arn", ROLE_ARN)], aws(config)).await;
    let failed = failed(&p);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let f = failed[0];
    assert_eq!(f.step.as_deref(), Some("restore"));
    assert_eq!(f.subject, format!("iam:PassRole on {ROLE_ARN}"));
    assert!(f.detail.starts_with("implicitly denied"), "{}", f.detail);
    assert!(f.detail.contains("`iam_role_arn`"), "{}", f.detail);
    assert!(f.fix.as_deref().unwrap().contains(ROLE_ARN));
    // The count is allowed and says so.
    assert_eq!(of_step(&p, "count")[0].verdict, Verdict::Pass);
}

#[tokio::test]
async fn against_moto_an_explicit_deny_of_start_restore_job_names_its_statement() {
    let deny = r#"{"Effect": "Deny", "Action": "backup:StartRestoreJob", "Resource": "arn:aws:backup:*:*:recovery-point:*"}"#;
    let (name, config) = user_with(&[SIMULATE, RESTORE, COUNT, PASS_ROLE, deny].join(",")).await;
    let p = preflight(restore_runbook(), &[("role_arn", ROLE_ARN)], aws(config)).await;
    let failed = failed(&p);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let f = failed[0];
    assert_eq!(f.step.as_deref(), Some("restore"));
    assert_eq!(f.subject, format!("backup:StartRestoreJob on {POINT}"));
    assert!(f.detail.starts_with("explicitly denied"), "{}", f.detail);
    assert!(
        f.detail.contains(&format!(
            "decided by policy user_{name}_drill (user), line 1 column "
        )),
        "{}",
        f.detail
    );
}

#[tokio::test]
async fn against_moto_a_refused_simulation_is_unchecked_with_the_actions_to_check() {
    let (_, config) = user_with(&[RESTORE, COUNT].join(",")).await;
    let p = preflight(restore_runbook(), &[("role_arn", ROLE_ARN)], aws(config)).await;
    let found = permissions(&p);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found.iter().all(|f| f.verdict == Verdict::Unchecked));
    let restore = of_step(&p, "restore");
    assert!(
        restore[0]
            .detail
            .contains("iam:SimulatePrincipalPolicy denied")
            && restore[0].detail.contains(&format!(
                "check by hand: backup:GetRecoveryPointRestoreMetadata on {POINT}"
            ))
            && restore[0]
                .detail
                .contains(&format!("iam:PassRole on {ROLE_ARN}")),
        "{}",
        restore[0].detail
    );
    assert!(
        restore[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("iam:SimulatePrincipalPolicy")
    );
}

/// docs/aws.md's least-privilege `iam:PassRole` statement (allowed only
/// when the role is passed to AWS Backup), in moto's account.
fn documented_pass_role() -> String {
    let doc = std::fs::read_to_string(repo_file("docs/aws.md")).unwrap();
    let lines: Vec<&str> = doc.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(r#""Action": "iam:PassRole""#))
        .expect("docs/aws.md has a PassRole statement");
    let statement = format!("{}{}", lines[at].trim(), lines[at + 1].trim());
    assert!(
        statement.contains(r#""iam:PassedToService": "backup.amazonaws.com""#),
        "{statement}"
    );
    statement
        .trim_end_matches(',')
        .replace("111122223333", ACCOUNT)
}

/// The restore passes its role to AWS Backup: preflight says so to the
/// simulator (`iam:PassedToService`), so the documented conditional
/// PassRole reads as allowed, as on AWS.
#[tokio::test]
async fn against_moto_the_documented_pass_role_to_backup_is_allowed() {
    let pass_role = documented_pass_role();
    let (name, config) = user_with(&[SIMULATE, RESTORE, COUNT, &pass_role].join(",")).await;
    let p = preflight(restore_runbook(), &[("role_arn", ROLE_ARN)], aws(config)).await;
    assert!(failed(&p).is_empty(), "{:#?}", failed(&p));
    let user = format!("arn:aws:iam::{ACCOUNT}:user/{name}");
    let restore = of_step(&p, "restore");
    assert_eq!(restore.len(), 1, "{restore:#?}");
    assert_eq!(restore[0].detail, format!("5 calls allowed for {user}"));
    // The same statement for another service does not allow the pass.
    let (_, config) = user_with(
        &[
            SIMULATE,
            RESTORE,
            COUNT,
            &pass_role.replace("backup.amazonaws.com", "ec2.amazonaws.com"),
        ]
        .join(","),
    )
    .await;
    let p = preflight(restore_runbook(), &[("role_arn", ROLE_ARN)], aws(config)).await;
    let failed = failed(&p);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].subject, format!("iam:PassRole on {ROLE_ARN}"));
}

/// Preflight running as a role under a path (`role/service-role/NAME`):
/// the session ARN drops the path, so preflight looks the role up
/// (`iam:GetRole`) and simulates the role's own ARN.
#[tokio::test]
async fn against_moto_a_role_under_a_path_is_looked_up_and_simulated() {
    let moto_config = moto().sdk_config("us-east-1");
    let iam = aws_sdk_iam::Client::new(&moto_config);
    let name = unique("pf-pathed");
    let trust = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{ACCOUNT}:root"}}, "Action": "sts:AssumeRole"}}]}}"#
    );
    let role = iam
        .create_role()
        .role_name(&name)
        .path("/service-role/")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_owned();
    assert_eq!(
        role_arn,
        format!("arn:aws:iam::{ACCOUNT}:role/service-role/{name}")
    );
    let statements = [SIMULATE, RESTORE, COUNT, &documented_pass_role()].join(",");
    iam.put_role_policy()
        .role_name(&name)
        .policy_name("drill")
        .policy_document(format!(
            r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#
        ))
        .send()
        .await
        .unwrap();
    let sts = aws_sdk_sts::Client::new(&moto_config);
    let assumed = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("drill")
        .send()
        .await
        .unwrap();
    let c = assumed.credentials().unwrap();
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto_config.endpoint_url().unwrap())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "test",
        )))
        .build();
    let p = preflight(restore_runbook(), &[("role_arn", ROLE_ARN)], aws(config)).await;
    assert!(failed(&p).is_empty(), "{:#?}", permissions(&p));
    let restore = of_step(&p, "restore");
    assert_eq!(restore[0].verdict, Verdict::Pass, "{restore:#?}");
    assert_eq!(
        restore[0].detail,
        format!("5 calls allowed for {role_arn}"),
        "{restore:#?}"
    );
}
