//! Approvals through the real engine: answers from different people are
//! fed through the question channel, each with its `who`; the step counts
//! only eligible ones, records refused ones with why, and keeps asking.

use std::collections::{BTreeMap, VecDeque};

use dr_drill::engine::approval::RunPeople;
use dr_drill::engine::event::{Answer, EventKind, Outcome, Question, RunEvent};
use dr_drill::engine::human::{HumanReply, HumanRequest};
use dr_drill::engine::participant::{Participant, Roles};
use dr_drill::engine::{self, RunSummary};
use dr_drill::runbook::{Mode, check_str};

const RUNBOOK: &str = r#"[runbook]
id = "approvals"
title = "Approvals"

[[step]]
id = "cutover"
title = "cutover"
kind = "approve"
approvers = ["lead", "dba", "arn:aws:iam::123456789012:user/erin"]
required = 2
"#;

fn person(user: &str) -> Participant {
    Participant {
        arn: format!("arn:aws:iam::123456789012:user/{user}"),
        account: "123456789012".into(),
        name: user.into(),
    }
}

fn people(team: bool) -> RunPeople {
    RunPeople {
        driver: Some(person("dan")),
        roles: Roles::from([
            (
                "lead".to_string(),
                vec!["dan".to_string(), "bob".to_string()],
            ),
            ("dba".to_string(), vec!["alice".to_string()]),
        ]),
        team,
    }
}

/// Runs `text` with `people`, answering the questions in turn with
/// `answers` (who, answer); returns the summary, the events and the
/// questions asked.
async fn run(
    text: &str,
    people: RunPeople,
    answers: Vec<(Participant, Answer)>,
) -> (RunSummary, Vec<RunEvent>, Vec<Question>) {
    let runbook = check_str(text).runbook.expect("the runbook loads");
    let dir = tempfile::tempdir().unwrap();
    let engine::Started {
        engine,
        mut events,
        mut questions,
    } = engine::start_unjournaled(runbook, Mode::Drill, BTreeMap::new(), dir.path().into(), 4)
        .unwrap();
    let engine = engine.with_people(people);
    let asker = tokio::spawn(async move {
        let mut answers: VecDeque<_> = answers.into();
        let mut asked = Vec::new();
        while let Some(HumanRequest {
            question, reply, ..
        }) = questions.recv().await
        {
            asked.push(question);
            let Some((who, answer)) = answers.pop_front() else {
                break;
            };
            let mut r = HumanReply::new(answer, format!("{}@host", who.name));
            r.who = Some(who);
            let _ = reply.send(r);
        }
        asked
    });
    let summary = engine.run().await.unwrap();
    let asked = asker.await.unwrap();
    let mut all = Vec::new();
    while let Ok(e) = events.try_recv() {
        all.push(e);
    }
    (summary, all, asked)
}

fn progress(events: &[RunEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StepProgress { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn two_of_three_counts_only_eligible_people_once_each() {
    let (summary, events, asked) = run(
        RUNBOOK,
        people(true),
        vec![
            (person("dan"), Answer::Approved),
            (person("bob"), Answer::Approved),
            (person("bob"), Answer::Approved),
            (person("carol"), Answer::Approved),
            (person("alice"), Answer::Approved),
        ],
    )
    .await;
    assert_eq!(summary.outcome, Outcome::Succeeded);
    assert_eq!(
        progress(&events),
        vec![
            "refused: the driver cannot approve their own cutover (allow_self = false)",
            "refused: bob has already approved",
            "refused: carol is not an approver (approvers: lead, dba, arn:aws:iam::123456789012:user/erin)",
        ]
    );
    // Every answer is recorded with who sent it, the refused ones too.
    let who: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::HumanAnswered { who, .. } => who.as_ref().map(|w| w.name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(who, vec!["dan", "bob", "bob", "carol", "alice"]);
    // Each refusal is evidence of its own: who, and why, without the
    // progress text's wording.
    let refused: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AnswerRefused { who, reason, .. } => {
                Some((who.name.clone(), reason.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        refused,
        vec![
            (
                "dan".to_string(),
                "the driver cannot approve their own cutover (allow_self = false)".to_string()
            ),
            ("bob".to_string(), "bob has already approved".to_string()),
            (
                "carol".to_string(),
                "carol is not an approver (approvers: lead, dba, arn:aws:iam::123456789012:user/erin)"
                    .to_string()
            ),
        ]
    );
    // The question says what it still waits for.
    let Question::Approve {
        waiting_for,
        have,
        required,
        ..
    } = &asked[2]
    else {
        panic!("an approval question")
    };
    assert_eq!((*have, *required), (1, 2));
    assert_eq!(
        waiting_for,
        &vec![
            "dba".to_string(),
            "arn:aws:iam::123456789012:user/erin".to_string()
        ]
    );
    let outputs = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::StepFinished { outputs, .. } => Some(outputs.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        outputs.get("approved_by").map(String::as_str),
        Some("bob, alice")
    );
    assert_eq!(outputs.get("approvals").map(String::as_str), Some("2"));
}

#[tokio::test]
async fn a_decline_from_an_eligible_approver_fails_the_step() {
    let (summary, events, _) = run(
        RUNBOOK,
        people(true),
        vec![
            (person("carol"), Answer::Declined),
            (person("alice"), Answer::Declined),
        ],
    )
    .await;
    assert_eq!(summary.outcome, Outcome::Failed);
    assert_eq!(
        progress(&events).len(),
        1,
        "carol's decline is refused, alice's counts"
    );
}

#[tokio::test]
async fn a_solo_run_fails_at_once_when_the_driver_alone_cannot_approve() {
    let (summary, events, asked) = run(RUNBOOK, people(false), vec![]).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    assert!(asked.is_empty(), "nobody is asked");
    let reason = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::StepFinished { reason, .. } => reason.clone(),
            _ => None,
        })
        .unwrap();
    assert!(
        reason.contains("needs 2 approvals from lead, dba, arn:aws:iam::123456789012:user/erin; run the drill with --team TABLE"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_solo_gate_is_approved_by_the_driver_as_before() {
    let text =
        "[runbook]\nid = \"solo\"\ntitle = \"Solo\"\n\n[[step]]\nid = \"go\"\nkind = \"approve\"\n";
    let (summary, events, asked) =
        run(text, people(false), vec![(person("dan"), Answer::Approved)]).await;
    assert_eq!(summary.outcome, Outcome::Succeeded);
    assert!(matches!(
        &asked[0],
        Question::Approve { waiting_for, required: 0, .. } if waiting_for.is_empty()
    ));
    assert!(progress(&events).is_empty());
}

#[tokio::test]
async fn an_owned_manual_step_is_answered_by_its_role() {
    let text = "[runbook]\nid = \"own\"\ntitle = \"Own\"\n\n[[step]]\nid = \"restore\"\nkind = \"manual\"\nowner = \"dba\"\ninstructions = \"Restore.\"\n";
    let (summary, events, _) = run(
        text,
        people(true),
        vec![
            (person("bob"), Answer::Acknowledged { answer: None }),
            (person("alice"), Answer::Acknowledged { answer: None }),
        ],
    )
    .await;
    assert_eq!(summary.outcome, Outcome::Succeeded);
    assert_eq!(
        progress(&events),
        vec!["refused: bob does not hold the role `dba` that owns this step (held by: alice)"]
    );
}
