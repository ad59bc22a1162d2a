//! `manual` and `approve`: a person acts, the step records who and what.

use super::{StepCtx, StepError};
use crate::engine::event::{Answer, Question};
use crate::engine::values::Outputs;
use crate::runbook::kinds::{Approve, Manual};

pub async fn run(ctx: &StepCtx, manual: &Manual) -> Result<Outputs, StepError> {
    let instructions = ctx.resolve(&manual.instructions.value)?;
    let question = manual
        .question
        .as_ref()
        .map(|q| ctx.resolve(&q.value))
        .transpose()?;
    let choices: Vec<String> = manual.choices.iter().map(|c| c.value.clone()).collect();
    let reply = ctx
        .ask(Question::Acknowledge {
            instructions,
            question: question.clone(),
            choices: choices.clone(),
        })
        .await?;
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
    let reply = ctx.ask(Question::Approve { instructions }).await?;
    match reply.answer {
        Answer::Approved => Ok(Outputs::from([
            ("approved_by".to_string(), reply.by),
            (
                "approved_at".to_string(),
                crate::format::timestamp(ctx.recorder.clock().now().0),
            ),
        ])),
        _ => Err(StepError::Fatal(format!(
            "{} did not approve{}",
            reply.by,
            reply.note.map(|n| format!(": {n}")).unwrap_or_default()
        ))),
    }
}
