//! The run's people as its journal tells them: the driver and the roles
//! from the header, each `driver_changed` (the first driver on the shared
//! log, then takeovers), and for every step with an `owner` or of kind
//! `approve` each answer: who, when, what, and whether it counted or was
//! refused and why (`answer_refused`). Part of the one fold
//! ([`RunLedger`](super::RunLedger)); the report only reads it.

use jiff::Timestamp;

use crate::engine::event::Answer;
use crate::engine::participant::{Participant, Roles};
use crate::runbook::{Runbook, StepAction};

/// A process that drove the run on the team's shared log from `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverChange {
    /// Who drove, as their credentials proved them.
    pub driver: Participant,
    /// Their process (`user@host pid N`).
    pub process: String,
    /// When (wall clock).
    pub at: Timestamp,
    /// With `--take-over`: why the lease was taken before it expired.
    pub took_over: Option<String>,
}

/// An answer given to an owned or approve step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenAnswer {
    /// Who sent it, by AWS identity (absent in older journals and console
    /// answers without identity: then `by` says who).
    pub who: Option<Participant>,
    /// Who answered, as the front end named them (`user@host`).
    pub by: String,
    /// When (wall clock).
    pub at: Timestamp,
    /// The answer.
    pub answer: Answer,
    /// Why it did not count; `None`: it counted.
    pub refused: Option<String>,
}

impl GivenAnswer {
    /// The name to show: the participant's display name, else `by`.
    pub fn name(&self) -> &str {
        match &self.who {
            Some(w) if !w.name.is_empty() => &w.name,
            _ => &self.by,
        }
    }

    /// The ARN the answer came from, empty when unknown.
    pub fn arn(&self) -> &str {
        self.who.as_ref().map_or("", |w| w.arn.as_str())
    }
}

/// A step whose answers say who may act: it has an `owner`, or it is an
/// `approve` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeopleStep {
    /// The step id.
    pub id: String,
    /// The role that owns it.
    pub owner: Option<String>,
    /// An approve step's `approvers` (roles or identities).
    pub approvers: Vec<String>,
    /// An approve step's `required` (M of N); `None` for other kinds.
    pub required: Option<usize>,
    /// Its answers, in order, refused ones included.
    pub answers: Vec<GivenAnswer>,
}

impl PeopleStep {
    /// Approvals that counted.
    pub fn approvals(&self) -> usize {
        self.answers
            .iter()
            .filter(|a| a.refused.is_none() && a.answer == Answer::Approved)
            .count()
    }

    /// Whether the runbook makes this step about people beyond a solo
    /// run's plain gate: an owner, named approvers, or more than one
    /// approval needed.
    fn decides_by_people(&self) -> bool {
        self.owner.is_some() || !self.approvers.is_empty() || self.required.is_some_and(|r| r > 1)
    }
}

/// Who took part in the run and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunPeopleRecord {
    /// Who started the run, from the journal's header.
    pub driver: Option<Participant>,
    /// Who holds each role, from the journal's header.
    pub roles: Roles,
    /// The drivers on the team's shared log, in order.
    pub drivers: Vec<DriverChange>,
    /// Owned and approve steps, in runbook order.
    pub steps: Vec<PeopleStep>,
}

impl RunPeopleRecord {
    /// The owned and approve steps of `runbook`, no answers yet.
    pub(super) fn new(runbook: &Runbook) -> RunPeopleRecord {
        let steps = runbook
            .steps
            .iter()
            .filter_map(|s| {
                let owner = s.owner.as_ref().map(|o| o.value.clone());
                let (approvers, required) = match &s.action {
                    StepAction::Approve(a) => (
                        a.approvers.iter().map(|p| p.value.clone()).collect(),
                        Some(a.required()),
                    ),
                    _ if owner.is_some() => (Vec::new(), None),
                    _ => return None,
                };
                Some(PeopleStep {
                    id: s.id.value.clone(),
                    owner,
                    approvers,
                    required,
                    answers: Vec::new(),
                })
            })
            .collect();
        RunPeopleRecord {
            steps,
            ..RunPeopleRecord::default()
        }
    }

    /// Whether the run had anything to say about people: roles given, a
    /// team driver, a step decided by people, or a refused answer. Solo
    /// runs with none of these (and journals from before) have nothing.
    pub fn is_worth_showing(&self) -> bool {
        !self.roles.is_empty()
            || !self.drivers.is_empty()
            || self
                .steps
                .iter()
                .any(|s| s.decides_by_people() || s.answers.iter().any(|a| a.refused.is_some()))
    }

    /// The owned or approve step `id`.
    pub fn step(&self, id: &str) -> Option<&PeopleStep> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub(super) fn answered(&mut self, step: &str, answer: GivenAnswer) {
        if let Some(s) = self.steps.iter_mut().find(|s| s.id == step) {
            s.answers.push(answer);
        }
    }

    /// The last answer to `step` did not count. A refusal with no answer
    /// of `who` before it (a damaged journal) marks nothing.
    pub(super) fn refused(&mut self, step: &str, who: &Participant, reason: &str) {
        let last = self
            .steps
            .iter_mut()
            .find(|s| s.id == step)
            .and_then(|s| s.answers.last_mut())
            .filter(|a| a.refused.is_none() && a.who.as_ref().is_none_or(|w| w.arn == who.arn));
        if let Some(a) = last {
            a.refused = Some(reason.to_owned());
        }
    }
}
