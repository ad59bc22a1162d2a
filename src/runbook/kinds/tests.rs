//! Every kind against its documentation: the IAM actions it calls are the
//! ones `docs/aws.md` lists, and a destructive kind says what it destroys.

use std::collections::BTreeSet;

use super::{Effect, KINDS, StepAction};
use crate::runbook::check_str;

/// One step of every kind, with the fields that add IAM actions set.
const EVERY_KIND: &str = r#"
[runbook]
id = "every-kind"
title = "One step of every kind"

[params]
key = { required = true, secret = true }

[[step]]
id = "shell"
kind = "shell"
run = "true"

[[step]]
id = "manual"
kind = "manual"
instructions = "Carry it out."

[[step]]
id = "approve"
kind = "approve"

[[step]]
id = "wait-table"
kind = "wait"
until = { table = "t" }

[[step]]
id = "wait-restore"
kind = "wait"
until = { restore_job = "j" }

[[step]]
id = "wait-copy"
kind = "wait"
until = { copy_job = "j" }

[[step]]
id = "wait-object"
kind = "wait"
until = { bucket = "b", key = "k" }

[[step]]
id = "check"
kind = "check"
assert = [{ value = "1", equals = "1" }]

[[step]]
id = "pick-vault"
kind = "pick-recovery-point"
source = { backup_vault = "v" }

[[step]]
id = "pick-table"
kind = "pick-recovery-point"
source = { table = "t" }

[[step]]
id = "pick-bucket"
kind = "pick-recovery-point"
source = { bucket = "b" }

[[step]]
id = "restore"
kind = "backup.restore"
backup_vault = "v"
recovery_point = "arn:p"
iam_role_arn = "arn:r"

[[step]]
id = "copy"
kind = "backup.copy"
source_vault = "v"
recovery_point = "arn:p"
destination_vault_arn = "arn:v"
iam_role_arn = "arn:r"

[[step]]
id = "posture"
kind = "backup.vault-posture"
backup_vault = "v"
expect = { newest_younger_than = "1h" }

[[step]]
id = "settings"
kind = "backup.region-settings"

[[step]]
id = "copy-jobs"
kind = "backup.copy-jobs"

[[step]]
id = "unlock"
kind = "backup.delete-vault-lock"
backup_vault = "v"

[[step]]
id = "delete-points"
kind = "backup.delete-recovery-point"
backup_vault = "v"
all = true

[[step]]
id = "from-backup"
kind = "dynamodb.restore-from-backup"
backup_arn = "arn:b"
target_table = "t1"

[[step]]
id = "pitr"
kind = "dynamodb.restore-to-point-in-time"
source_table = "t"
target_table = "t2"

[[step]]
id = "active"
kind = "dynamodb.wait-active"
table = "t"

[[step]]
id = "count"
kind = "dynamodb.count"
table = "t"

[[step]]
id = "pitr-status"
kind = "dynamodb.pitr-status"
table = "t"

[[step]]
id = "cutover"
kind = "dynamodb.copy-table"
from = "t1"
to = "t"

[[step]]
id = "drop"
kind = "dynamodb.delete-table"
table = "t1"

[[step]]
id = "head"
kind = "s3.head"
bucket = "b"
key = "k"
version_id = "v1"

[[step]]
id = "thaw"
kind = "s3.restore-object"
bucket = "b"
prefix = "p/"

[[step]]
id = "download"
kind = "s3.download"
bucket = "b"
prefix = "p/"
to = "dir"

[[step]]
id = "verify"
kind = "s3.verify-checksum"
bucket = "b"
key = "k"

[[step]]
id = "decrypt"
kind = "file.decrypt"
from = "a.enc"
to = "a"
cipher = "aes-256-gcm"
key = "{{ params.key }}"
"#;

fn every_kind() -> Vec<StepAction> {
    let checked = check_str(EVERY_KIND);
    let runbook = checked
        .runbook
        .unwrap_or_else(|| panic!("{:#?}", checked.diagnostics));
    runbook.steps.into_iter().map(|s| s.action).collect()
}

/// The `## IAM permissions` section of docs/aws.md.
fn iam_section() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/aws.md");
    let doc = std::fs::read_to_string(path).expect("docs/aws.md is readable");
    let start = doc
        .find("## IAM permissions")
        .expect("docs/aws.md has IAM permissions");
    let rest = &doc[start + 2..];
    rest[..rest.find("\n## ").unwrap_or(rest.len())].to_owned()
}

#[test]
fn the_test_runbook_has_a_step_of_every_kind() {
    let written: BTreeSet<&str> = every_kind().iter().map(StepAction::kind).collect();
    let missing: Vec<&&str> = KINDS.iter().filter(|k| !written.contains(**k)).collect();
    assert!(
        missing.is_empty(),
        "add a step of {missing:?} to EVERY_KIND"
    );
}

#[test]
fn every_iam_action_a_kind_calls_is_in_docs_aws_md_and_back() {
    let section = iam_section();
    let called: BTreeSet<&str> = every_kind()
        .iter()
        .flat_map(StepAction::aws_actions)
        .collect();
    // The docs write the actions on a restore's target table bare, after
    // their service's first action: `PutItem` for `dynamodb:PutItem`.
    let undocumented: Vec<&&str> = called
        .iter()
        .filter(|a| {
            let bare = a.split_once(':').map_or(**a, |(_, name)| name);
            !section.contains(&format!("`{a}`")) && !section.contains(&format!("`{bare}`"))
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "list these in docs/aws.md: {undocumented:?}"
    );
    let documented: BTreeSet<&str> = section
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| {
            t.split_once(':').is_some_and(|(service, name)| {
                !service.is_empty()
                    && service
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && name.chars().all(|c| c.is_ascii_alphanumeric())
            })
        })
        .collect();
    let uncalled: Vec<&&str> = documented.difference(&called).collect();
    assert!(
        uncalled.is_empty(),
        "docs/aws.md lists actions no kind calls: {uncalled:?}"
    );
}

#[test]
fn the_kinds_that_use_aws_call_iam_actions_and_the_others_call_none() {
    for action in every_kind() {
        // A wait `until` an AWS state polls the cloud without asking for one.
        if matches!(action, StepAction::Wait(_)) {
            continue;
        }
        assert_eq!(
            action.uses_aws(),
            !action.aws_actions().is_empty(),
            "{}",
            action.kind()
        );
    }
}

#[test]
fn a_destructive_kind_names_what_it_destroys_and_says_how() {
    let show = |text: &str| text.to_owned();
    for action in every_kind() {
        if action.effect() == Effect::Destructive {
            assert!(action.confirm_target().is_some(), "{}", action.kind());
            assert!(
                action.rules().change(&show, None).is_some(),
                "{}",
                action.kind()
            );
        }
    }
}
