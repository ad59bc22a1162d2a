//! Who may answer a step, written once: a step's `owner` role, an
//! `approve` step's `approvers`, `required` and `allow_self`, and what a
//! solo run (no team) can satisfy. The runners ask these functions; the
//! console, the headless printer and the report only show what they
//! decided (the answer event with `who`, and a progress line saying why an
//! answer was refused).
//!
//! People are matched on their AWS identity alone ([`Participant::is`]):
//! a display name is never trusted.

use super::participant::{Participant, Roles};
use crate::runbook::kinds::{Approve, Named, read_named};

/// The people of a run, as the step context sees them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunPeople {
    /// Who drives the run; `None` when the world told no identity.
    pub driver: Option<Participant>,
    /// Who holds each role (`--role dba=alice@example.com`).
    pub roles: Roles,
    /// Whether other participants can answer from their own machines
    /// (`--team`); a solo run has only the driver.
    pub team: bool,
}

impl RunPeople {
    /// Whether `who` is the run's driver (by ARN).
    pub fn is_driver(&self, who: &Participant) -> bool {
        self.driver.as_ref().is_some_and(|d| d.arn == who.arn)
    }

    /// Whether `who` holds `role`.
    pub fn holds(&self, who: &Participant, role: &str) -> bool {
        self.roles
            .get(role)
            .is_some_and(|people| people.iter().any(|p| who.is(p)))
    }

    /// Whether `entry` (a role or a person, as `approvers` names them)
    /// means `who`.
    fn means(&self, entry: &str, who: &Participant) -> bool {
        match read_named(entry) {
            Ok(Named::Role) => self.holds(who, entry) || who.is(entry),
            Ok(Named::Person) => who.is(entry),
            Err(_) => false,
        }
    }
}

/// Whether `who` may answer a step owned by `owner`. A role nobody was
/// given in this run is answered by the driver alone.
pub fn may_answer(
    owner: Option<&str>,
    people: &RunPeople,
    who: &Participant,
) -> Result<(), String> {
    let Some(role) = owner else { return Ok(()) };
    let assigned = people.roles.get(role).is_some_and(|p| !p.is_empty());
    if people.holds(who, role) || (!assigned && people.is_driver(who)) {
        return Ok(());
    }
    let held_by = people
        .roles
        .get(role)
        .filter(|p| !p.is_empty())
        .map_or_else(|| "the driver".to_string(), |p| p.join(", "));
    Err(format!(
        "refused: {} does not hold the role `{role}` that owns this step (held by: {held_by})",
        who.name
    ))
}

/// Why a solo run cannot answer a step owned by `owner`: the role is
/// given to people other than the driver, and they cannot answer from
/// their own machines without `--team`. `None` in a team run, when the
/// role is nobody's (the driver's), or when the driver holds it.
pub fn solo_owner_problem(owner: Option<&str>, people: &RunPeople) -> Option<String> {
    let role = owner?;
    let held = people.roles.get(role).filter(|p| !p.is_empty())?;
    if people.team
        || people
            .driver
            .as_ref()
            .is_some_and(|d| held.iter().any(|p| d.is(p)))
    {
        return None;
    }
    let driver = people.driver.as_ref().map_or_else(
        || "the driver".to_string(),
        |d| format!("the driver ({})", d.name),
    );
    Some(format!(
        "the role `{role}` that owns this step is held by {}, not by {driver}; run the drill with --team TABLE so they can answer from their own machines",
        held.join(", ")
    ))
}

/// Whether `who`'s answer to `step` counts, given the approvals already
/// counted (`already`, in order). `what` names the step for the refusal
/// words ("their own cutover").
pub fn may_approve(
    step: &Approve,
    what: &str,
    people: &RunPeople,
    who: &Participant,
    already: &[Participant],
) -> Result<(), String> {
    if people.is_driver(who) && !step.allow_self && !solo_driver_approves(step, people) {
        return Err(format!(
            "refused: the driver cannot approve their own {what} (allow_self = false)"
        ));
    }
    if already.iter().any(|a| a.arn == who.arn) {
        return Err(format!("refused: {} has already approved", who.name));
    }
    if !step.approvers.is_empty() && !step.approvers.iter().any(|e| people.means(&e.value, who)) {
        return Err(format!(
            "refused: {} is not an approver (approvers: {})",
            who.name,
            approvers_list(step)
        ));
    }
    Ok(())
}

/// A solo run's approve step with no `approvers` and `required = 1` is
/// approved by the driver, as before teams.
fn solo_driver_approves(step: &Approve, people: &RunPeople) -> bool {
    !people.team && step.approvers.is_empty() && step.required() == 1
}

/// Why a solo run cannot satisfy `step` (the driver alone cannot give
/// the approvals it needs); `None` in a team run or when it can.
pub fn solo_problem(step: &Approve, people: &RunPeople) -> Option<String> {
    if people.team || solo_driver_approves(step, people) {
        return None;
    }
    let driver_counts = people.driver.as_ref().is_some_and(|d| {
        step.allow_self && step.approvers.iter().any(|e| people.means(&e.value, d))
    });
    if step.required() == 1 && driver_counts {
        return None;
    }
    let from = if step.approvers.is_empty() {
        "other participants".to_string()
    } else {
        approvers_list(step)
    };
    Some(format!(
        "needs {} approval{} from {from}; run the drill with --team TABLE so the approvers can answer from their own machines",
        step.required(),
        if step.required() == 1 { "" } else { "s" }
    ))
}

/// The approvers still unmatched by the approvals so far (or "any
/// participant"), for the question "2 of 3 needed: waits for lead, dba".
pub fn waiting_for(step: &Approve, people: &RunPeople, have: &[Participant]) -> Vec<String> {
    if step.approvers.is_empty() {
        return vec!["any participant".into()];
    }
    let open: Vec<String> = step
        .approvers
        .iter()
        .filter(|e| !have.iter().any(|p| people.means(&e.value, p)))
        .map(|e| e.value.clone())
        .collect();
    if open.is_empty() {
        // Every entry has someone, but a role may hold more people.
        return step.approvers.iter().map(|e| e.value.clone()).collect();
    }
    open
}

fn approvers_list(step: &Approve) -> String {
    step.approvers
        .iter()
        .map(|e| e.value.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
