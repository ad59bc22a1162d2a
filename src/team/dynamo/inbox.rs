//! The answers participants post to a run's inbox: `pk` = `RUN#answers`,
//! `sk` = 1, 2, ... in the order they arrived, the [`TeamAnswer`] as
//! JSON in `answer`.

use aws_sdk_dynamodb::operation::put_item::PutItemError;

use super::{DynamoStore, TeamError, get_i64, get_s, key, n, s};
use crate::team::store::TeamAnswer;

/// How often a post tries the next number when another participant took
/// it first.
const POST_TRIES: usize = 8;

/// The longest answer read back.
const MAX_ANSWER: usize = 64 * 1024;

fn inbox(run: &str) -> String {
    format!("{run}#answers")
}

impl DynamoStore {
    /// Posts `answer` (the trait's `post_answer`): the next number after
    /// the newest, put on the condition that it is free.
    pub(super) async fn post(&self, run: &str, answer: &TeamAnswer) -> Result<u64, TeamError> {
        if self.read_lease(run).await?.is_none() {
            return Err(TeamError::NoRun {
                table: self.table.clone(),
                run: run.to_owned(),
            });
        }
        let json = serde_json::to_string(answer).map_err(|e| self.built("PutItem", e))?;
        if json.len() > MAX_ANSWER {
            return Err(TeamError::Refused {
                table: self.table.clone(),
                action: "PutItem",
                message: format!(
                    "run {run}: the answer is {} bytes, over {MAX_ANSWER}; shorten its note",
                    json.len()
                ),
            });
        }
        let pk = inbox(run);
        for _ in 0..POST_TRIES {
            let last = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(&pk))
                .scan_index_forward(false)
                .limit(1)
                .send()
                .await
                .map_err(|e| self.error("Query", e))?;
            let last = match last.items().first() {
                None => 0,
                Some(item) => get_i64(item, "sk")
                    .filter(|v| *v >= 1)
                    .ok_or_else(|| self.damaged(&pk, "?", "an answer's number is not 1 or more"))?,
            };
            let number = last + 1;
            let mut item = key(&pk, number);
            item.insert("answer".into(), s(&json));
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await;
            match put {
                Ok(_) => return Ok(number as u64),
                Err(e)
                    if matches!(
                        e.as_service_error(),
                        Some(PutItemError::ConditionalCheckFailedException(_))
                    ) =>
                {
                    // Another participant posted number `number` first.
                    continue;
                }
                Err(e) => return Err(self.error("PutItem", e)),
            }
        }
        Err(TeamError::Unreachable {
            table: self.table.clone(),
            action: "PutItem",
            message: format!(
                "run {run}: {POST_TRIES} other answers arrived while this one was posted; try again"
            ),
        })
    }

    /// The inbox's answers numbered above `after` (the trait's `answers`).
    pub(super) async fn read_answers(
        &self,
        run: &str,
        after: u64,
    ) -> Result<Vec<(u64, TeamAnswer)>, TeamError> {
        let pk = inbox(run);
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let answer = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk AND sk > :after")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":after", n(after))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.error("Query", e))?;
            for item in answer.items() {
                let number = get_i64(item, "sk")
                    .filter(|v| *v >= 1)
                    .ok_or_else(|| self.damaged(&pk, "?", "an answer's number is not 1 or more"))?;
                let bad = |m: String| self.damaged(&pk, number, m);
                let json = get_s(item, "answer")
                    .ok_or_else(|| bad("the item has no `answer` text".into()))?;
                if json.len() > MAX_ANSWER {
                    return Err(bad(format!("the answer is over {MAX_ANSWER} bytes")));
                }
                let parsed: TeamAnswer = serde_json::from_str(json).map_err(|e| {
                    bad(format!(
                        "the answer is not one dr-drill writes ({})",
                        super::said(&e)
                    ))
                })?;
                out.push((number as u64, parsed));
            }
            match answer.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => break,
            }
        }
        Ok(out)
    }
}
