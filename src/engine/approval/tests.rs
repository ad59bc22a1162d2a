use super::*;
use crate::runbook::StepAction;
use crate::runbook::check_str;

fn approve(fields: &str) -> Approve {
    let text = format!(
        "[runbook]\nid = \"t\"\ntitle = \"t\"\n\n[[step]]\nid = \"cutover\"\nkind = \"approve\"\n{fields}\n"
    );
    let checked = check_str(&text);
    let rb = checked.runbook.expect("the fixture loads");
    match &rb.steps[0].action {
        StepAction::Approve(a) => a.clone(),
        _ => unreachable!(),
    }
}

fn person(arn: &str, name: &str) -> Participant {
    Participant {
        arn: arn.into(),
        account: "123456789012".into(),
        name: name.into(),
    }
}

fn driver() -> Participant {
    person("arn:aws:iam::123456789012:user/dan", "dan")
}
fn alice() -> Participant {
    person(
        "arn:aws:sts::123456789012:assumed-role/SSO/alice@example.com",
        "alice",
    )
}
fn bob() -> Participant {
    person("arn:aws:iam::123456789012:user/bob", "bob")
}
fn carol() -> Participant {
    person("arn:aws:iam::123456789012:user/carol", "carol")
}

fn team() -> RunPeople {
    RunPeople {
        driver: Some(driver()),
        roles: Roles::from([
            (
                "lead".to_string(),
                vec!["bob".to_string(), "dan".to_string()],
            ),
            ("dba".to_string(), vec!["alice@example.com".to_string()]),
        ]),
        team: true,
    }
}

fn solo() -> RunPeople {
    RunPeople {
        team: false,
        ..team()
    }
}

#[test]
fn the_driver_cannot_approve_their_own_cutover_unless_allow_self() {
    let step = approve("approvers = [\"lead\"]");
    assert_eq!(
        may_approve(&step, "cutover", &team(), &driver(), &[]).unwrap_err(),
        "refused: the driver cannot approve their own cutover (allow_self = false)"
    );
    let step = approve("approvers = [\"lead\"]\nallow_self = true");
    assert!(may_approve(&step, "cutover", &team(), &driver(), &[]).is_ok());
}

#[test]
fn each_person_counts_once() {
    let step = approve("approvers = [\"lead\", \"dba\"]\nrequired = 2");
    assert_eq!(
        may_approve(&step, "cutover", &team(), &bob(), &[bob()]).unwrap_err(),
        "refused: bob has already approved"
    );
    assert!(may_approve(&step, "cutover", &team(), &alice(), &[bob()]).is_ok());
}

#[test]
fn only_approvers_count_by_role_or_by_identity_never_by_display_name() {
    let step = approve("approvers = [\"lead\", \"dba\"]");
    assert_eq!(
        may_approve(&step, "cutover", &team(), &carol(), &[]).unwrap_err(),
        "refused: carol is not an approver (approvers: lead, dba)"
    );
    assert!(may_approve(&step, "cutover", &team(), &alice(), &[]).is_ok());
    let by_arn = approve("approvers = [\"arn:aws:iam::123456789012:user/carol\"]");
    assert!(may_approve(&by_arn, "cutover", &team(), &carol(), &[]).is_ok());
    let by_name = approve("approvers = [\"carol\"]");
    // `carol` reads as a role nobody holds, and as carol's principal name.
    assert!(may_approve(&by_name, "cutover", &team(), &carol(), &[]).is_ok());
    let impostor = person("arn:aws:iam::123456789012:user/mallory", "carol");
    assert!(may_approve(&by_name, "cutover", &team(), &impostor, &[]).is_err());
}

#[test]
fn without_approvers_any_participant_but_the_driver_approves() {
    let step = approve("");
    assert!(may_approve(&step, "cutover", &team(), &carol(), &[]).is_ok());
    assert!(may_approve(&step, "cutover", &team(), &driver(), &[]).is_err());
}

#[test]
fn a_solo_run_is_approved_by_its_driver_as_before() {
    let step = approve("");
    assert!(solo_problem(&step, &solo()).is_none());
    assert!(may_approve(&step, "cutover", &solo(), &driver(), &[]).is_ok());
}

#[test]
fn a_solo_run_refuses_at_once_what_the_driver_alone_cannot_satisfy() {
    for fields in [
        "required = 2",
        "approvers = [\"dba\"]",
        "approvers = [\"lead\"]",
    ] {
        let why = solo_problem(&approve(fields), &solo()).expect(fields);
        assert!(why.contains("run the drill with --team TABLE"), "{why}");
    }
    assert_eq!(
        solo_problem(
            &approve("approvers = [\"lead\", \"dba\"]\nrequired = 2"),
            &solo()
        )
        .unwrap(),
        "needs 2 approvals from lead, dba; run the drill with --team TABLE so the approvers can answer from their own machines"
    );
    // The driver holds `lead` and may approve themselves.
    assert!(
        solo_problem(
            &approve("approvers = [\"lead\"]\nallow_self = true"),
            &solo()
        )
        .is_none()
    );
    assert!(solo_problem(&approve("required = 2"), &team()).is_none());
}

#[test]
fn owned_steps_are_answered_by_the_role() {
    assert!(may_answer(Some("dba"), &team(), &alice()).is_ok());
    assert_eq!(
        may_answer(Some("dba"), &team(), &bob()).unwrap_err(),
        "refused: bob does not hold the role `dba` that owns this step (held by: alice@example.com)"
    );
    // The driver too, when they hold the role.
    assert!(may_answer(Some("lead"), &team(), &driver()).is_ok());
    // A role nobody was given: the driver answers.
    assert!(may_answer(Some("app"), &team(), &driver()).is_ok());
    assert!(may_answer(Some("app"), &team(), &carol()).is_err());
    assert!(may_answer(None, &team(), &carol()).is_ok());
}

#[test]
fn the_question_says_what_it_still_waits_for() {
    let step = approve("approvers = [\"lead\", \"dba\"]\nrequired = 2");
    assert_eq!(waiting_for(&step, &team(), &[]), vec!["lead", "dba"]);
    assert_eq!(waiting_for(&step, &team(), &[bob()]), vec!["dba"]);
    assert_eq!(
        waiting_for(&approve(""), &team(), &[]),
        vec!["any participant"]
    );
}
