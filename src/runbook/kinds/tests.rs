//! Every kind against its documentation: the IAM actions it calls are the
//! ones `docs/aws.md` lists, and a destructive kind says what it destroys.

use std::collections::BTreeSet;

use super::{EXAMPLES, Effect, KINDS, StepAction};
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
fn every_kind_has_an_example_step() {
    let written: BTreeSet<&str> = every_kind().iter().map(StepAction::kind).collect();
    let missing: Vec<&&str> = KINDS.iter().filter(|k| !written.contains(**k)).collect();
    assert!(
        missing.is_empty(),
        "give {missing:?} an EXAMPLE with a step of the kind"
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
