//! Runs, their leases and the runs index.
//!
//! The lease item (`pk` = run id, `sk` = -1) keeps the whole [`Lease`] as
//! JSON in `lease`, and the attributes its conditions read apart:
//! `token` (N), `rvn` (S), `state` (S). Reading it back, they must agree.
//! The index item (`pk` = `#runs`, `sk` = the start in epoch ms) keeps
//! the [`RunEntry`] as JSON in `entry` and the run id in `run`.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{KeysAndAttributes, ReturnValuesOnConditionCheckFailure};
use jiff::Timestamp;

use super::log::{Failed, Guard};
use super::{DynamoStore, Item, TeamError, get_i64, get_s, key, n, new_rvn, s};
use crate::team::store::{Lease, LeaseRequest, RunEntry, RunRow, RunState, RunStatus};

/// The lease item's sort key.
pub(super) const LEASE_SK: i64 = -1;

/// The runs index's partition key.
const RUNS_PK: &str = "#runs";

/// The longest lease or index JSON read back.
const MAX_RECORD: usize = 350_000;

/// How many later milliseconds a new run tries when its start is taken
/// in the index by another run.
const INDEX_TRIES: i64 = 64;

/// BatchGetItem takes at most 100 keys (botocore `dynamodb` 2012-08-10,
/// BatchGetItem: "up to 100 items").
const BATCH_KEYS: usize = 100;

fn state_word(state: RunState) -> &'static str {
    match state {
        RunState::Driving => "driving",
        RunState::Released => "released",
        RunState::Finished => "finished",
    }
}

impl DynamoStore {
    /// The lease item of `lease`.
    fn lease_item(&self, lease: &Lease) -> Result<Item, TeamError> {
        let json = serde_json::to_string(lease).map_err(|e| self.built("PutItem", e))?;
        let mut item = key(&lease.run_id, LEASE_SK);
        item.insert("lease".into(), s(json));
        item.insert("token".into(), n(lease.token));
        item.insert("rvn".into(), s(&lease.rvn));
        item.insert("state".into(), s(state_word(lease.state)));
        Ok(item)
    }

    /// The lease an item holds, checked.
    fn lease_of(&self, run: &str, item: &Item) -> Result<Lease, TeamError> {
        let bad = |m: &str| self.damaged(run, LEASE_SK, m.to_owned());
        let json = get_s(item, "lease").ok_or_else(|| bad("the lease item has no `lease`"))?;
        if json.len() > MAX_RECORD {
            return Err(bad("the lease is over 350,000 bytes"));
        }
        let lease: Lease = serde_json::from_str(json).map_err(|e| {
            bad(&format!(
                "the lease is not one dr-drill writes ({})",
                super::said(&e)
            ))
        })?;
        let agrees = lease.run_id == run
            && get_i64(item, "token").and_then(|t| u64::try_from(t).ok()) == Some(lease.token)
            && get_s(item, "rvn") == Some(lease.rvn.as_str())
            && get_s(item, "state") == Some(state_word(lease.state));
        if !agrees {
            return Err(bad(
                "its `token`, `rvn`, `state` or run disagree with the lease it holds",
            ));
        }
        Ok(lease)
    }

    /// Registers a new run (the trait's `create_run`).
    pub(super) async fn create(
        &self,
        entry: &RunEntry,
        header: &str,
        request: &LeaseRequest,
    ) -> Result<Lease, TeamError> {
        let run = entry.run_id.as_str();
        self.check_run("TransactWriteItems", run)?;
        let lease = Lease {
            run_id: run.to_owned(),
            token: 1,
            rvn: new_rvn(),
            holder: request.holder.clone(),
            process: request.process.clone(),
            duration: request.duration,
            heartbeat_at: Timestamp::now(),
            state: RunState::Driving,
            status: RunStatus::default(),
        };
        let entry_json = serde_json::to_string(entry).map_err(|e| self.built("PutItem", e))?;
        let start = entry.started_at.as_millisecond();
        for ms in start..start + INDEX_TRIES {
            let mut index = key(RUNS_PK, ms);
            index.insert("entry".into(), s(&entry_json));
            index.insert("run".into(), s(run));
            let guard = Guard::NewRun {
                lease: self.lease_item(&lease)?,
                index,
            };
            match self.write_line(run, 0, header, guard).await {
                Ok(()) => return Ok(lease),
                Err(Failed::Error(e)) => return Err(e),
                Err(Failed::Cancelled(c)) if c.lease || c.line => {
                    return Err(TeamError::Exists {
                        table: self.table.clone(),
                        run: run.to_owned(),
                    });
                }
                Err(Failed::Cancelled(c)) if c.index && c.other.is_none() => continue,
                Err(Failed::Cancelled(c)) => {
                    return Err(TeamError::Unreachable {
                        table: self.table.clone(),
                        action: "TransactWriteItems",
                        message: format!(
                            "run {run}: the transaction was cancelled ({})",
                            c.other.unwrap_or_default()
                        ),
                    });
                }
            }
        }
        Err(TeamError::Refused {
            table: self.table.clone(),
            action: "TransactWriteItems",
            message: format!(
                "run {run}: the runs index has other runs at each of the {INDEX_TRIES} milliseconds from its start; try again"
            ),
        })
    }

    /// The run's lease, read consistently.
    pub(super) async fn read_lease(&self, run: &str) -> Result<Option<Lease>, TeamError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(run, LEASE_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error("GetItem", e))?;
        answer.item().map(|i| self.lease_of(run, i)).transpose()
    }

    /// Takes the lease (the trait's `take`).
    pub(super) async fn take_lease(
        &self,
        run: &str,
        request: &LeaseRequest,
        observed: &Lease,
    ) -> Result<Lease, TeamError> {
        let lease = Lease {
            run_id: run.to_owned(),
            token: observed.token + 1,
            rvn: new_rvn(),
            holder: request.holder.clone(),
            process: request.process.clone(),
            duration: request.duration,
            heartbeat_at: Timestamp::now(),
            state: RunState::Driving,
            status: observed.status.clone(),
        };
        self.update_lease(
            &lease,
            "rvn = :observed AND #state <> :finished",
            HashMap::from([
                (":observed".to_owned(), s(&observed.rvn)),
                (":finished".to_owned(), s("finished")),
            ]),
            observed.token,
        )
        .await
        .map(|()| lease)
    }

    /// Renews or ends the holder's lease with `state` and `status` (the
    /// trait's `heartbeat` and `release`).
    pub(super) async fn renew(
        &self,
        held: &Lease,
        state: RunState,
        status: &RunStatus,
    ) -> Result<Lease, TeamError> {
        let lease = Lease {
            rvn: new_rvn(),
            heartbeat_at: Timestamp::now(),
            state,
            status: status.clone(),
            ..held.clone()
        };
        self.update_lease(
            &lease,
            "#token = :ours",
            HashMap::from([(":ours".to_owned(), n(held.token))]),
            held.token,
        )
        .await
        .map(|()| lease)
    }

    /// Writes `lease` over the lease item on `condition`; a failed
    /// condition is [`TeamError::Finished`] (the run ended),
    /// [`TeamError::NoRun`] or [`TeamError::Fenced`] (`ours` is the token
    /// this process had), read from the item as it was.
    async fn update_lease(
        &self,
        lease: &Lease,
        condition: &str,
        values: HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
        ours: u64,
    ) -> Result<(), TeamError> {
        let run = lease.run_id.as_str();
        let item = self.lease_item(lease)?;
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(run, LEASE_SK)))
            .update_expression("SET #lease = :lease, #token = :token, rvn = :rvn, #state = :state")
            .condition_expression(format!("attribute_exists(pk) AND {condition}"))
            .expression_attribute_names("#lease", "lease")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#state", "state")
            // The item as it was when the condition failed (botocore
            // `dynamodb` 2012-08-10, UpdateItem,
            // ReturnValuesOnConditionCheckFailure).
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        for (name, value) in [
            (":lease", item["lease"].clone()),
            (":token", item["token"].clone()),
            (":rvn", item["rvn"].clone()),
            (":state", item["state"].clone()),
        ] {
            request = request.expression_attribute_values(name, value);
        }
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        let error = match request.send().await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let Some(UpdateItemError::ConditionalCheckFailedException(_)) = error.as_service_error()
        else {
            return Err(self.error("UpdateItem", error));
        };
        let now = match self.read_lease(run).await? {
            None => {
                return Err(TeamError::NoRun {
                    table: self.table.clone(),
                    run: run.to_owned(),
                });
            }
            Some(now) => now,
        };
        // Only a take is refused for the run's end: a heartbeat or a
        // release fails on the token alone, so another process has it.
        if now.state == RunState::Finished && condition.starts_with("rvn") {
            return Err(TeamError::Finished {
                run: run.to_owned(),
            });
        }
        Err(TeamError::fenced(run, &now, ours))
    }

    /// The newest `limit` runs with their leases (the trait's `runs`).
    pub(super) async fn list_runs(&self, limit: usize) -> Result<Vec<RunRow>, TeamError> {
        let mut entries: Vec<RunEntry> = Vec::new();
        let mut start = None;
        while entries.len() < limit {
            let page = i32::try_from(limit - entries.len()).unwrap_or(100).min(100);
            let answer = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(RUNS_PK))
                .scan_index_forward(false)
                .limit(page)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.error("Query", e))?;
            for item in answer.items() {
                entries.push(self.entry_of(item)?);
            }
            match answer.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => break,
            }
        }
        entries.truncate(limit);
        let mut leases: HashMap<String, Lease> = HashMap::new();
        for chunk in entries.chunks(BATCH_KEYS) {
            let mut keys: Vec<Item> = Vec::new();
            for e in chunk {
                if !keys
                    .iter()
                    .any(|k| get_s(k, "pk") == Some(e.run_id.as_str()))
                {
                    keys.push(key(&e.run_id, LEASE_SK));
                }
            }
            let mut tries = 0;
            while !keys.is_empty() {
                tries += 1;
                let wanted = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut keys)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| self.built("BatchGetItem", e))?;
                let answer = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, wanted)
                    .send()
                    .await
                    .map_err(|e| self.error("BatchGetItem", e))?;
                for item in answer
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    let run = get_s(item, "pk").unwrap_or_default().to_owned();
                    if let Some(e) = chunk.iter().find(|e| e.run_id == run) {
                        let lease = self.lease_of(&e.run_id, item)?;
                        leases.insert(run, lease);
                    }
                }
                // Keys DynamoDB did not get to this time (botocore
                // `dynamodb` 2012-08-10, BatchGetItem, UnprocessedKeys).
                if let Some(rest) = answer.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                    if tries >= 5 {
                        return Err(TeamError::Unreachable {
                            table: self.table.clone(),
                            action: "BatchGetItem",
                            message: format!(
                                "{} leases left unread after {tries} tries (UnprocessedKeys)",
                                rest.keys().len()
                            ),
                        });
                    }
                    keys = rest.keys().to_vec();
                    tokio::time::sleep(std::time::Duration::from_millis(50 << tries)).await;
                }
            }
        }
        Ok(entries
            .into_iter()
            .map(|entry| {
                let lease = leases.get(&entry.run_id).cloned();
                RunRow { entry, lease }
            })
            .collect())
    }

    /// The run entry an index item holds, checked.
    fn entry_of(&self, item: &Item) -> Result<RunEntry, TeamError> {
        let sk = get_i64(item, "sk").map_or_else(|| "?".to_owned(), |v| v.to_string());
        let bad = |m: String| self.damaged(RUNS_PK, &sk, m);
        let json =
            get_s(item, "entry").ok_or_else(|| bad("the index item has no `entry`".into()))?;
        if json.len() > MAX_RECORD {
            return Err(bad("the entry is over 350,000 bytes".into()));
        }
        let entry: RunEntry = serde_json::from_str(json).map_err(|e| {
            bad(format!(
                "the entry is not one dr-drill writes ({})",
                super::said(&e)
            ))
        })?;
        if get_s(item, "run") != Some(entry.run_id.as_str()) {
            return Err(bad("its `run` disagrees with the entry's run id".into()));
        }
        self.check_run("Query", &entry.run_id)
            .map_err(|_| bad("its run id is not one dr-drill makes".into()))?;
        Ok(entry)
    }
}
