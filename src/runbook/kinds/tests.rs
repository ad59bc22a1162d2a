//! Every kind against its documentation: `docs/aws.md`'s IAM table is
//! generated from the kinds' permissions, and a destructive kind says what
//! it destroys.

use std::collections::BTreeSet;

use super::{EXAMPLES, Effect, IAM_TABLE_BEGIN, IAM_TABLE_END, KINDS, StepAction, iam_table};
use crate::runbook::check_str;

/// The runbook around the kinds' examples.
const HEADER: &str = r#"
[runbook]
id = "every-kind"
title = "One step of every kind"

[params]
key = { required = true, secret = true }
"#;

fn every_kind() -> Vec<StepAction> {
    let text = std::iter::once(HEADER)
        .chain(EXAMPLES.iter().copied())
        .collect::<Vec<_>>()
        .join("\n");
    let checked = check_str(&text);
    let runbook = checked
        .runbook
        .unwrap_or_else(|| panic!("{:#?}", checked.diagnostics));
    runbook.steps.into_iter().map(|s| s.action).collect()
}

const AWS_DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/aws.md");

#[test]
fn every_kind_has_an_example_step() {
    let written: BTreeSet<&str> = every_kind().iter().map(StepAction::kind).collect();
    let missing: Vec<&&str> = KINDS.iter().filter(|k| !written.contains(**k)).collect();
    assert!(
        missing.is_empty(),
        "give {missing:?} an EXAMPLE with a step of the kind"
    );
}

/// docs/aws.md's IAM table is generated from every kind's `permissions()`
/// over the kinds' examples (which set the fields that add actions):
/// everything between its two marker lines, in the style of docs/keys.md.
#[test]
fn docs_aws_md_iam_table_is_generated_from_the_kinds() {
    let doc = std::fs::read_to_string(AWS_DOC).expect("docs/aws.md is readable");
    let (Some(begin), Some(end)) = (doc.find(IAM_TABLE_BEGIN), doc.find(IAM_TABLE_END)) else {
        panic!(
            "docs/aws.md lacks the marker lines\n    {IAM_TABLE_BEGIN}\n    {IAM_TABLE_END}\nin its IAM permissions section; add them"
        );
    };
    let head = &doc[..begin + IAM_TABLE_BEGIN.len()];
    let want = format!("{head}\n\n{}\n{}", iam_table(&every_kind()), &doc[end..]);
    if std::env::var_os("UPDATE_AWS_DOC").is_some() {
        std::fs::write(AWS_DOC, &want).unwrap();
        return;
    }
    assert!(
        doc == want,
        "docs/aws.md's IAM table is stale (a kind's permissions() changed); regenerate it with:\n    UPDATE_AWS_DOC=1 cargo test --lib iam_table"
    );
}

#[test]
fn iam_table_has_a_row_per_kind_and_action_with_the_resource() {
    let table = iam_table(&every_kind());
    assert!(table.contains("| `backup.restore` | `iam:PassRole` | role `iam_role_arn` (`arn:aws:iam::ACCOUNT:role/NAME`), with `iam:PassedToService` = `backup.amazonaws.com` | always |"), "{table}");
    assert!(table.contains("| `s3.head` | `s3:GetObjectVersion` | objects `key` (`arn:aws:s3:::BUCKET/KEY`) | with `version_id` |"), "{table}");
    assert!(table.contains("| `file.decrypt` | none | | |"), "{table}");
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
