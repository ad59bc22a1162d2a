//! Headless mode answers the engine's questions from the command line:
//! `--confirm STEP=TEXT` for destructive steps, `--answer STEP=VALUE` for
//! manual and approve steps. A question with no answer is declined, and
//! [`preflight`] refuses to start a run whose answers are missing, so
//! nothing destructive runs in a headless run that would stop half-way.

use std::collections::BTreeMap;

use tokio::sync::mpsc;

use super::event::{Answer, Question};
use super::human::{HumanReply, HumanRequest};
use super::journal::REDACTED;
use super::values::Values;
use crate::runbook::Runbook;

/// The answers given on the command line.
#[derive(Debug, Clone, Default)]
pub struct HeadlessAnswers {
    /// `--confirm STEP=TEXT`.
    pub confirms: BTreeMap<String, String>,
    /// `--answer STEP=VALUE`.
    pub answers: BTreeMap<String, String>,
    /// What to do with a step interrupted by a crash (`--interrupted`).
    pub interrupted: Option<Answer>,
    /// Who answers, for the journal.
    pub operator: String,
}

/// Every step of `steps` that would need an answer the command line does
/// not give, with the flag to add. Empty means the run can go headless.
/// `values` resolves confirm texts as far as they can be before the run;
/// `secrets` are redacted from the messages.
pub fn preflight(
    runbook: &Runbook,
    steps: &[usize],
    answers: &HeadlessAnswers,
    values: &Values,
    secrets: &[String],
) -> Vec<String> {
    let shown = |text: &str| {
        secrets
            .iter()
            .filter(|s| !s.is_empty())
            .fold(text.to_owned(), |t, s| t.replace(s.as_str(), REDACTED))
    };
    let mut missing = Vec::new();
    for &i in steps {
        let step = &runbook.steps[i];
        let id = &step.id.value;
        if step.is_destructive() {
            let text = step
                .confirm_text()
                .map_or_else(|| id.clone(), |t| values.preview(&t.value));
            // A text that needs no output of an earlier step is known now:
            // a wrong one is refused before anything runs.
            let known = !text.contains("<steps.");
            match answers.confirms.get(id) {
                _ if known && text.trim().is_empty() => missing.push(format!(
                    "destructive step `{id}` confirms with `{}`, which is empty for this run: an empty confirmation confirms nothing; give what it names a value",
                    step.confirm_text().map_or("", |t| t.value.as_str())
                )),
                None => missing.push(format!(
                    "destructive step `{id}` needs --confirm {id}='{}'",
                    shown(&text)
                )),
                Some(given) if known && *given != text => missing.push(format!(
                    "--confirm {id}='{}' does not match; the step is confirmed by typing '{}'",
                    shown(given),
                    shown(&text)
                )),
                Some(_) => {}
            }
        }
        let given = answers.answers.get(id).map(String::as_str);
        missing.extend(step.action.headless_answer_missing(id, given));
    }
    missing
}

/// Answers questions until the run closes the channel.
pub async fn answer(mut questions: mpsc::Receiver<HumanRequest>, answers: HeadlessAnswers) {
    while let Some(request) = questions.recv().await {
        let by = format!("{} (headless)", answers.operator);
        let given = answers.answers.get(&request.step);
        let (answer, note) = match &request.question {
            Question::Confirm { .. } => match answers.confirms.get(&request.step) {
                Some(typed) => (Answer::Confirmed { typed: typed.clone() }, Some("--confirm".to_string())),
                None => (Answer::Declined, Some(format!("no --confirm {}=TEXT was given", request.step))),
            },
            Question::Acknowledge { .. } => match given {
                Some(value) => (Answer::Acknowledged { answer: Some(value.clone()) }, Some("--answer".into())),
                None => (Answer::Declined, Some(format!("no --answer {}=VALUE was given", request.step))),
            },
            Question::Approve { .. } => match given.map(|v| v.to_ascii_lowercase()) {
                Some(v) if matches!(v.as_str(), "approve" | "approved" | "yes") => (Answer::Approved, Some("--answer".into())),
                Some(v) => (Answer::Declined, Some(format!("--answer {}={v} does not approve", request.step))),
                None => (Answer::Declined, Some(format!("no --answer {}=approve was given", request.step))),
            },
            Question::Failure { .. } => (
                Answer::Abort,
                Some("a headless run stops when a step with on_failure = \"ask\" fails".into()),
            ),
            Question::PickRecoveryPoint { .. } => match given {
                Some(point) => (Answer::Picked { point: point.clone() }, Some("--answer".into())),
                None => (Answer::Declined, Some(format!("no --answer {}=ARN was given", request.step))),
            },
            Question::Interrupted => match &answers.interrupted {
                Some(a) => (a.clone(), Some("--interrupted".into())),
                None => (
                    Answer::Abort,
                    Some("no --interrupted rerun|done was given for a step that was running when the console died".into()),
                ),
            },
        };
        let _ = request.reply.send(HumanReply {
            answer,
            by,
            note,
            who: None,
        });
    }
}
