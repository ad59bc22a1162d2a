//! `manual` and `approve`: a person acts, the step records who and what.

use super::{StepCtx, StepError};
use crate::engine::approval::{self, RunPeople};
use crate::engine::event::{Answer, EventKind, Question};
use crate::engine::human::HumanReply;
use crate::engine::participant::Participant;
use crate::engine::values::Outputs;
use crate::runbook::kinds::{Approve, Manual};

/// Who sent `reply`, and the run's people with a driver: an answer
/// without an identity is the driver's, and a run whose world told no
/// identity has a driver known by the name they answered with.
fn answerer(ctx: &StepCtx, reply: &HumanReply) -> (Participant, RunPeople) {
    let mut people = (*ctx.people).clone();
    let driver = people.driver.get_or_insert_with(|| Participant {
        arn: String::new(),
        account: String::new(),
        name: reply.by.clone(),
    });
    let who = reply.who.clone().unwrap_or_else(|| driver.clone());
    (who, people)
}

/// A refused answer: recorded as evidence (who, why) for the report and
/// said on the step's progress; a solo run fails, since no one else can
/// answer.
async fn refused(ctx: &StepCtx, who: Participant, why: String) -> Result<(), StepError> {
    // The progress line first: a participant's `dr-drill answer` hears
    // its refusal from the line after its answer (`session/team_answers.rs`).
    ctx.progress(why.clone()).await?;
    let reason = why.strip_prefix("refused: ").unwrap_or(&why).to_owned();
    ctx.record(EventKind::AnswerRefused {
        step: ctx.id().to_owned(),
        who,
        reason,
    })
    .await?;
    if ctx.people.team {
        Ok(())
    } else {
        Err(StepError::Failed(format!(
            "{why}; run the drill with --team TABLE so others can answer from their own machines"
        )))
    }
}

pub async fn run(ctx: &StepCtx, manual: &Manual) -> Result<Outputs, StepError> {
    let instructions = ctx.resolve(&manual.instructions.value)?;
    let question = manual
        .question
        .as_ref()
        .map(|q| ctx.resolve(&q.value))
        .transpose()?;
    let choices: Vec<String> = manual.choices.iter().map(|c| c.value.clone()).collect();
    let owner = ctx.step().owner.as_ref().map(|o| o.value.clone());
    if let Some(why) = approval::solo_owner_problem(owner.as_deref(), &ctx.people) {
        return Err(StepError::Failed(why));
    }
    let reply = loop {
        let reply = ctx
            .ask(Question::Acknowledge {
                instructions: instructions.clone(),
                question: question.clone(),
                choices: choices.clone(),
            })
            .await?;
        let (who, people) = answerer(ctx, &reply);
        match approval::may_answer(owner.as_deref(), &people, &who) {
            Ok(()) => break reply,
            Err(why) => refused(ctx, who, why).await?,
        }
    };
    let answer = match reply.answer {
        Answer::Acknowledged { answer } => answer,
        _ => {
            return Err(StepError::Fatal(format!(
                "{} did not acknowledge the step",
                reply.by
            )));
        }
    };
    let mut outputs = Outputs::from([("acknowledged_by".to_string(), reply.by.clone())]);
    if let Some(question) = question {
        let Some(answer) = answer.filter(|a| !a.trim().is_empty()) else {
            return Err(StepError::Failed(format!(
                "no answer was given to: {question}"
            )));
        };
        if !choices.is_empty() && !choices.contains(&answer) {
            return Err(StepError::Failed(format!(
                "`{answer}` is not one of the answers: {}",
                choices.join(", ")
            )));
        }
        outputs.insert("answer".into(), answer);
    }
    Ok(outputs)
}

pub async fn approve(ctx: &StepCtx, approve: &Approve) -> Result<Outputs, StepError> {
    let instructions = approve
        .instructions
        .as_ref()
        .map(|i| ctx.resolve(&i.value))
        .transpose()?;
    let owned = ctx.step().owner.as_ref().map(|o| o.value.as_str());
    if let Some(why) = approval::solo_problem(approve, &ctx.people)
        .or_else(|| approval::solo_owner_problem(owned, &ctx.people))
    {
        return Err(StepError::Failed(why));
    }
    let what = ctx.step().display_title().to_owned();
    let owner = ctx.step().owner.as_ref().map(|o| o.value.clone());
    // A solo run's plain gate asks as it always has.
    let plain = !ctx.people.team && approve.approvers.is_empty() && approve.required() == 1;
    let required = approve.required();
    let mut approved: Vec<(Participant, String)> = Vec::new();
    while approved.len() < required {
        let have: Vec<Participant> = approved.iter().map(|(p, _)| p.clone()).collect();
        let question = Question::Approve {
            instructions: instructions.clone(),
            waiting_for: if plain {
                Vec::new()
            } else {
                approval::waiting_for(approve, &ctx.people, &have)
            },
            have: if plain { 0 } else { have.len() },
            required: if plain { 0 } else { required },
        };
        let reply = ctx.ask(question).await?;
        let (who, people) = answerer(ctx, &reply);
        // `approvers` decide; without them, the step's owner role does.
        let owner = owner.as_deref().filter(|_| approve.approvers.is_empty());
        let eligible = approval::may_approve(approve, &what, &people, &who, &have)
            .and_then(|()| approval::may_answer(owner, &people, &who));
        if let Err(why) = eligible {
            refused(ctx, who, why).await?;
            continue;
        }
        match reply.answer {
            Answer::Approved => {
                approved.push((who, crate::format::timestamp(ctx.recorder.clock().now().0)))
            }
            _ => {
                return Err(StepError::Fatal(format!(
                    "{} did not approve{}",
                    reply.by,
                    reply.note.map(|n| format!(": {n}")).unwrap_or_default()
                )));
            }
        }
    }
    let names: Vec<String> = approved
        .iter()
        .map(|(p, _)| {
            if p.name.is_empty() {
                p.arn.clone()
            } else {
                p.name.clone()
            }
        })
        .collect();
    let at = approved
        .last()
        .map(|(_, at)| at.clone())
        .unwrap_or_default();
    Ok(Outputs::from([
        ("approved_by".to_string(), names.join(", ")),
        ("approvals".to_string(), approved.len().to_string()),
        ("approved_at".to_string(), at),
    ]))
}
