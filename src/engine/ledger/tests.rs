//! Tests of the ledger's fold.

use super::*;
use crate::runbook::check_str;

fn runbook() -> Runbook {
    let text = "[runbook]\nid = \"ledger-test\"\ntitle = \"Ledger test\"\n\n\
                [[step]]\nid = \"a\"\nkind = \"wait\"\nduration = \"1s\"\n\n\
                [[step]]\nid = \"b\"\nkind = \"wait\"\nduration = \"1s\"\n";
    check_str(text).runbook.expect("valid test runbook")
}

fn event(secs: u64, kind: EventKind) -> RunEvent {
    RunEvent {
        at: Timestamp::from_second(1_800_000_000 + secs as i64).unwrap(),
        elapsed: Duration::from_secs(secs),
        kind,
    }
}

fn rpo(secs: u64, step: &str) -> RunEvent {
    event(
        secs,
        EventKind::RpoMeasured {
            step: step.into(),
            point_time: Timestamp::UNIX_EPOCH,
            rpo: Duration::from_secs(secs * 100),
        },
    )
}

#[test]
fn the_oldest_point_among_several_picks_sets_the_rpo() {
    let events = [rpo(3, "a"), rpo(1, "b"), rpo(2, "a")];
    let ledger = RunLedger::from_events(&runbook(), &events);
    assert_eq!(ledger.rpo, Some(Duration::from_secs(300)));
}

#[test]
fn a_step_started_and_never_ended_is_interrupted_and_one_never_started_not_run() {
    let events = [event(
        1,
        EventKind::StepStarted {
            step: "a".into(),
            attempt: 1,
        },
    )];
    let ledger = RunLedger::from_events(&runbook(), &events);
    assert_eq!(ledger.steps[0].status, StepStatus::Running);
    assert_eq!(ledger.steps[0].final_status(), FinalStatus::Interrupted);
    assert_eq!(ledger.steps[1].final_status(), FinalStatus::NotRun);
}

#[test]
fn a_resume_reopens_the_run_but_keeps_how_it_last_ended() {
    let events = [
        event(
            1,
            EventKind::RunFinished {
                outcome: Outcome::Aborted,
            },
        ),
        event(
            9,
            EventKind::RunResumed {
                gap: Duration::from_secs(5),
                operator: "bob@host".into(),
                params: BTreeMap::new(),
                runbook_text: None,
                runbook_sha256: None,
            },
        ),
    ];
    let ledger = RunLedger::from_events(&runbook(), &events);
    assert_eq!(ledger.outcome(), None);
    assert_eq!(ledger.last_end.map(|e| e.outcome), Some(Outcome::Aborted));
    assert_eq!(ledger.resumes[0].gap, Duration::from_secs(5));
}

#[test]
fn a_resumed_run_shows_what_it_does_again_as_pending_not_skipped() {
    let finished = |secs, step: &str, outcome| {
        event(
            secs,
            EventKind::StepFinished {
                step: step.into(),
                outcome,
                outputs: BTreeMap::new(),
                reason: None,
            },
        )
    };
    let events = [
        finished(1, "a", Outcome::Succeeded),
        finished(2, "b", Outcome::Skipped),
        event(
            3,
            EventKind::RunFinished {
                outcome: Outcome::Aborted,
            },
        ),
        event(
            9,
            EventKind::RunResumed {
                gap: Duration::from_secs(5),
                operator: "bob@host".into(),
                params: BTreeMap::new(),
                runbook_text: None,
                runbook_sha256: None,
            },
        ),
    ];
    let ledger = RunLedger::from_events(&runbook(), &events);
    assert_eq!(ledger.steps[0].status, StepStatus::Done(Outcome::Succeeded));
    assert_eq!(ledger.steps[1].status, StepStatus::Pending);
    // The report still knows how it last ended.
    assert_eq!(ledger.steps[1].outcome, Some(Outcome::Skipped));
}

#[test]
fn an_answer_to_a_failure_says_what_came_after_it() {
    let events = [
        event(
            1,
            EventKind::StepFinished {
                step: "a".into(),
                outcome: Outcome::Interrupted,
                outputs: BTreeMap::new(),
                reason: Some("the console stopped".into()),
            },
        ),
        event(
            2,
            EventKind::HumanAsked {
                step: "a".into(),
                question: Question::Interrupted,
            },
        ),
        event(
            5,
            EventKind::HumanAnswered {
                who: None,
                step: "a".into(),
                by: "bob@host".into(),
                note: None,
                answer: Answer::Rerun,
            },
        ),
    ];
    let ledger = RunLedger::from_events(&runbook(), &events);
    assert_eq!(
        ledger.failures[0].then,
        AfterFailure::Answered {
            answer: Answer::Rerun,
            by: "bob@host".into()
        }
    );
    assert!(ledger.failures[0].interrupted);
    assert_eq!(ledger.steps[0].human_wait, Duration::from_secs(3));
    assert_eq!(ledger.steps[0].answer, None);
}

fn person(user: &str) -> crate::engine::participant::Participant {
    crate::engine::participant::Participant {
        arn: format!("arn:aws:iam::123456789012:user/{user}"),
        account: "123456789012".into(),
        name: user.into(),
    }
}

fn approve_step(extra: &str) -> Runbook {
    let text = format!(
        "[runbook]\nid = \"people\"\ntitle = \"People\"\n\n\
         [[step]]\nid = \"go\"\nkind = \"approve\"\n{extra}\n"
    );
    check_str(&text).runbook.expect("valid test runbook")
}

fn asked_and_answered(secs: u64, who: &str, refused: Option<&str>) -> Vec<RunEvent> {
    let mut events = vec![
        event(
            secs,
            EventKind::HumanAsked {
                step: "go".into(),
                question: Question::Approve {
                    instructions: None,
                    waiting_for: Vec::new(),
                    have: 0,
                    required: 0,
                },
            },
        ),
        event(
            secs,
            EventKind::HumanAnswered {
                step: "go".into(),
                by: format!("{who}@host"),
                who: Some(person(who)),
                note: None,
                answer: Answer::Approved,
            },
        ),
    ];
    if let Some(reason) = refused {
        events.push(event(
            secs,
            EventKind::AnswerRefused {
                step: "go".into(),
                who: person(who),
                reason: reason.into(),
            },
        ));
    }
    events
}

#[test]
fn each_answer_to_an_approve_step_is_kept_counted_or_refused_with_why() {
    let runbook = approve_step("approvers = [\"lead\", \"dba\"]\nrequired = 2");
    let mut events = asked_and_answered(1, "dan", Some("the driver cannot approve"));
    events.extend(asked_and_answered(2, "bob", None));
    events.extend(asked_and_answered(
        3,
        "bob",
        Some("bob has already approved"),
    ));
    events.extend(asked_and_answered(4, "alice", None));
    let ledger = RunLedger::from_events(&runbook, &events);
    let step = ledger.people.step("go").expect("an approve step is kept");
    let seen: Vec<(&str, Option<&str>)> = step
        .answers
        .iter()
        .map(|a| (a.name(), a.refused.as_deref()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("dan", Some("the driver cannot approve")),
            ("bob", None),
            ("bob", Some("bob has already approved")),
            ("alice", None),
        ]
    );
    assert_eq!(step.approvals(), 2);
    assert_eq!(step.required, Some(2));
    assert!(ledger.people.is_worth_showing());
}

#[test]
fn a_solo_plain_gate_has_nothing_to_say_about_people() {
    let ledger = RunLedger::from_events(&approve_step(""), &asked_and_answered(1, "dan", None));
    assert_eq!(ledger.people.step("go").map(|s| s.answers.len()), Some(1));
    assert!(!ledger.people.is_worth_showing());
    // A step that is neither owned nor an approval is not kept.
    assert!(RunLedger::new(&runbook()).people.steps.is_empty());
}
