//! The report's "Participants and approvals": who drove the run, who took
//! it over and why, who held each role, and every answer to an owned or
//! approve step (who, when, what, counted or refused and why). Built from
//! the ledger's [`RunPeopleRecord`]; it reads no event itself. Every value
//! is journal text: the writers escape it.

use jiff::Timestamp;
use serde::Serialize;

use crate::engine::ledger::{RunLedger, RunPeopleRecord};
use crate::engine::participant::Participant;
use crate::runbook::Runbook;

/// Who took part in a run and how; absent from runs with nothing to say
/// about people (solo runs without owners, approvers or roles, and older
/// journals).
#[derive(Debug, Clone, Serialize)]
pub struct ParticipantsReport {
    /// Who started the run, by AWS identity.
    pub driver: Option<PersonReport>,
    /// Drivers on the team's shared log, in order: the first, then each
    /// takeover.
    pub drivers: Vec<DriverReport>,
    /// Who holds each role, as given at the start.
    pub roles: Vec<RoleReport>,
    /// Owned and approve steps with their answers, in runbook order.
    pub steps: Vec<StepPeopleReport>,
}

/// A person: their display name and the ARN their credentials proved.
#[derive(Debug, Clone, Serialize)]
pub struct PersonReport {
    /// Display name (chosen by them; for reading only).
    pub name: String,
    /// The principal's ARN (empty when no identity was known).
    pub arn: String,
}

impl From<&Participant> for PersonReport {
    fn from(p: &Participant) -> Self {
        PersonReport {
            name: p.name.clone(),
            arn: p.arn.clone(),
        }
    }
}

/// A driver on the team's shared log.
#[derive(Debug, Clone, Serialize)]
pub struct DriverReport {
    /// Display name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Their process (`user@host pid N`).
    pub process: String,
    /// From when they drove.
    pub at: Timestamp,
    /// Took the run from the driver before (every driver but the first).
    pub takeover: bool,
    /// With `--take-over`: why the lease was taken before it expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub took_over: Option<String>,
}

impl DriverReport {
    /// How they came to drive: `—` (the first), `after the lease
    /// expired`, or `taken over (--take-over): WHY`.
    pub fn how(&self) -> String {
        match (&self.took_over, self.takeover) {
            (Some(why), _) => format!("taken over (--take-over): {why}"),
            (None, true) => "after the lease expired".into(),
            (None, false) => "—".into(),
        }
    }
}

/// A role and who holds it.
#[derive(Debug, Clone, Serialize)]
pub struct RoleReport {
    /// The role id.
    pub role: String,
    /// The people given it (ARNs or principal names).
    pub held_by: Vec<String>,
}

/// An owned or approve step and its answers.
#[derive(Debug, Clone, Serialize)]
pub struct StepPeopleReport {
    /// The step id.
    pub step: String,
    /// Its title.
    pub title: String,
    /// The role that owns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// An approve step's `approvers`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    /// An approve step's `required` approvals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<usize>,
    /// An approve step's approvals that counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approvals: Option<usize>,
    /// Every answer, refused ones included, in order.
    pub answers: Vec<AnswerReport>,
}

impl StepPeopleReport {
    /// "2 of 2 approvals" for an approve step that needs more than one.
    pub fn approvals_words(&self) -> Option<String> {
        match (self.approvals, self.required) {
            (Some(have), Some(required)) if required > 1 => {
                Some(format!("{have} of {required} approvals"))
            }
            _ => None,
        }
    }
}

/// One answer to an owned or approve step.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerReport {
    /// Display name, or `user@host` when no identity was recorded.
    pub name: String,
    /// ARN; empty when no identity was recorded (older journals).
    pub arn: String,
    /// When (UTC).
    pub at: Timestamp,
    /// The answer (`approved`, `declined`, `done`, or the answer given).
    pub answer: String,
    /// Whether it counted.
    pub counted: bool,
    /// Why it did not count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

impl AnswerReport {
    /// `counted`, or `refused: WHY`.
    pub fn verdict(&self) -> String {
        match &self.refused {
            None => "counted".into(),
            Some(why) => format!("refused: {why}"),
        }
    }
}

/// The section from `ledger`, or `None` when the run has nothing to say
/// about people.
pub(super) fn participants(runbook: &Runbook, ledger: &RunLedger) -> Option<ParticipantsReport> {
    let people: &RunPeopleRecord = &ledger.people;
    if !people.is_worth_showing() {
        return None;
    }
    let steps = people
        .steps
        .iter()
        .map(|s| StepPeopleReport {
            step: s.id.clone(),
            title: runbook
                .steps
                .iter()
                .find(|r| r.id.value == s.id)
                .map(|r| r.display_title().to_owned())
                .unwrap_or_default(),
            owner: s.owner.clone(),
            approvers: s.approvers.clone(),
            required: s.required,
            approvals: s.required.map(|_| s.approvals()),
            answers: s
                .answers
                .iter()
                .map(|a| AnswerReport {
                    name: a.name().to_owned(),
                    arn: a.arn().to_owned(),
                    at: a.at,
                    answer: a.answer.word(),
                    counted: a.refused.is_none(),
                    refused: a.refused.clone(),
                })
                .collect(),
        })
        .collect();
    Some(ParticipantsReport {
        driver: people.driver.as_ref().map(PersonReport::from),
        drivers: people
            .drivers
            .iter()
            .enumerate()
            .map(|(i, d)| DriverReport {
                takeover: i > 0,
                name: d.driver.name.clone(),
                arn: d.driver.arn.clone(),
                process: d.process.clone(),
                at: d.at,
                took_over: d.took_over.clone(),
            })
            .collect(),
        roles: people
            .roles
            .iter()
            .map(|(role, held_by)| RoleReport {
                role: role.clone(),
                held_by: held_by.clone(),
            })
            .collect(),
        steps,
    })
}
