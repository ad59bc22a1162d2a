//! Journal lines in the table: one item per line (`pk` = run id, `sk` =
//! the line's sequence number), written in a transaction with a check of
//! the lease's fencing token.
//!
//! DynamoDB keeps items of at most 400 KB, attribute names included
//! (Amazon DynamoDB Developer Guide, "Constraints", Items: "The maximum
//! item size in DynamoDB is 400 KB"); a journal line may be 8 MiB
//! ([`MAX_JOURNAL_LINE`]). A longer line is cut into parts of
//! [`PART_BYTES`] at character boundaries: the first in the line item with
//! `parts = N`, part `i` (1..N) under `pk = "RUN#parts#SEQ"`, `sk = i`.
//! A transaction takes at most 100 actions and 4 MB of items (botocore
//! `dynamodb` 2012-08-10, TransactWriteItems: "groups up to 100 action
//! requests", "aggregate size of the items in the transaction cannot
//! exceed 4 MB"), so parts that do not fit in the line's own transaction
//! are written first, in transactions of their own that check the same
//! token and that the line is not there yet; the line item goes last, so
//! the line exists (and is read) only once all its parts are in. Parts of
//! a line whose last write was refused are left unread (nothing points at
//! them) and overwritten by the next writer of that line.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem};

use super::{DynamoStore, Item, TeamError, get_i64, get_s, key, n, s};
use crate::engine::journal::MAX_JOURNAL_LINE;

/// The most bytes of a line one item holds: under DynamoDB's 400 KB
/// (409,600 bytes) with room for the key and attribute names.
pub(super) const PART_BYTES: usize = 350_000;

/// The most bytes of line text one transaction carries: under the 4 MB
/// (4,194,304 bytes) limit with room for the lease and index items.
const TRANSACTION_BYTES: usize = 3_500_000;

/// The most parts a line may have.
const MAX_PARTS: usize = MAX_JOURNAL_LINE.div_ceil(PART_BYTES) + 1;

/// Items per page of a `Query`.
const PAGE: i32 = 100;

/// What a line's transaction is conditioned on.
pub(super) enum Guard {
    /// The run's lease still has this fencing token.
    Token(u64),
    /// A new run: the lease and index items are put with the header, on
    /// the condition that neither is there.
    NewRun {
        /// The lease item.
        lease: Item,
        /// The runs index item.
        index: Item,
    },
}

/// Why a line's transaction was cancelled, from its `CancellationReasons`
/// (botocore `dynamodb` 2012-08-10, TransactionCanceledException: the
/// reasons are "ordered according to the ordering of the
/// TransactWriteItems request parameter", code `None` for an action that
/// did not fail; CancellationReason.Code `ConditionalCheckFailed`).
#[derive(Debug, Default)]
pub(super) struct Cancelled {
    /// The lease's condition failed (not ours, or there already).
    pub lease: bool,
    /// The line was there.
    pub line: bool,
    /// The index item's sort key was taken (a new run only).
    pub index: bool,
    /// Another reason (conflict, throughput, validation), as DynamoDB said.
    pub other: Option<String>,
}

/// Why a line was not written.
#[derive(Debug)]
pub(super) enum Failed {
    /// DynamoDB could not be asked, or refused the call.
    Error(TeamError),
    /// A condition of its transaction failed.
    Cancelled(Cancelled),
}

impl From<TeamError> for Failed {
    fn from(e: TeamError) -> Self {
        Failed::Error(e)
    }
}

/// `line` cut into parts of at most [`PART_BYTES`], at character
/// boundaries.
pub(super) fn parts(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while rest.len() > PART_BYTES {
        let mut cut = PART_BYTES;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    out.push(rest);
    out
}

fn parts_pk(run: &str, seq: u64) -> String {
    format!("{run}#parts#{seq}")
}

impl DynamoStore {
    /// Writes line `seq` of `run` under `guard` (see the module's top).
    pub(super) async fn write_line(
        &self,
        run: &str,
        seq: u64,
        line: &str,
        guard: Guard,
    ) -> Result<(), Failed> {
        let action = "TransactWriteItems";
        if line.len() > MAX_JOURNAL_LINE || line.contains('\n') {
            return Err(Failed::Error(TeamError::Refused {
                table: self.table.clone(),
                action,
                message: format!(
                    "run {run}, line {seq}: {} bytes{}; a journal line is one line of at most {MAX_JOURNAL_LINE} bytes; nothing was written",
                    line.len(),
                    if line.contains('\n') {
                        " with a line break"
                    } else {
                        ""
                    }
                ),
            }));
        }
        let Ok(seq_n) = i64::try_from(seq) else {
            return Err(Failed::Error(TeamError::Refused {
                table: self.table.clone(),
                action,
                message: format!("run {run}: line number {seq} is past DynamoDB's numbers"),
            }));
        };
        let pieces = parts(line);
        let token = match &guard {
            Guard::Token(t) => Some(*t),
            Guard::NewRun { .. } => None,
        };
        // Parts after the first, in transactions of their own while they
        // do not fit in the line's.
        let mut tail: Vec<(usize, &str)> = pieces.iter().copied().enumerate().skip(1).collect();
        while tail.iter().map(|(_, p)| p.len()).sum::<usize>() + pieces[0].len() > TRANSACTION_BYTES
        {
            let mut batch = Vec::new();
            let mut bytes = 0;
            while let Some((i, p)) = tail.last().copied() {
                if bytes + p.len() > TRANSACTION_BYTES || batch.len() == 90 {
                    break;
                }
                bytes += p.len();
                batch.push((i, p));
                tail.pop();
            }
            let mut items = vec![
                self.lease_check(run, token),
                TransactWriteItem::builder()
                    .condition_check(
                        ConditionCheck::builder()
                            .table_name(&self.table)
                            .set_key(Some(key(run, seq_n)))
                            .condition_expression("attribute_not_exists(pk)")
                            .build()
                            .map_err(|e| self.built(action, e))?,
                    )
                    .build(),
            ];
            for (i, p) in batch {
                items.push(self.part_put(run, seq, i, p)?);
            }
            // Laid out as a line's own transaction: the lease first, the line
            // second, whatever the guard.
            self.transact(false, items).await?;
        }
        let mut item = key(run, seq_n);
        item.insert("line".into(), s(pieces[0]));
        if pieces.len() > 1 {
            item.insert("parts".into(), n(pieces.len()));
        }
        if let Some(t) = token {
            item.insert("token".into(), n(t));
        } else {
            item.insert("token".into(), n(1));
        }
        let line_put = TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map_err(|e| self.built(action, e))?,
            )
            .build();
        let mut items = match guard {
            Guard::Token(t) => vec![self.lease_check(run, Some(t))],
            Guard::NewRun { lease, index } => {
                vec![self.new_put(lease)?, self.new_put(index)?]
            }
        };
        items.push(line_put);
        for (i, p) in tail {
            items.push(self.part_put(run, seq, i, p)?);
        }
        self.transact(token.is_none(), items).await
    }

    /// A put of a new item, on the condition that it is not there.
    fn new_put(&self, item: Item) -> Result<TransactWriteItem, TeamError> {
        Ok(TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map_err(|e| self.built("TransactWriteItems", e))?,
            )
            .build())
    }

    fn part_put(
        &self,
        run: &str,
        seq: u64,
        i: usize,
        text: &str,
    ) -> Result<TransactWriteItem, TeamError> {
        let mut item = key(&parts_pk(run, seq), i as i64);
        item.insert("line".into(), s(text));
        Ok(TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| self.built("TransactWriteItems", e))?,
            )
            .build())
    }

    /// The check that the run's lease has `token` (or, for a new run, is
    /// not there).
    fn lease_check(&self, run: &str, token: Option<u64>) -> TransactWriteItem {
        let mut check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(run, super::lease::LEASE_SK)));
        check = match token {
            Some(t) => check
                .condition_expression("#token = :t")
                .expression_attribute_names("#token", "token")
                .expression_attribute_values(":t", n(t)),
            None => check.condition_expression("attribute_not_exists(pk)"),
        };
        TransactWriteItem::builder()
            .condition_check(check.build().expect("table, key and condition are set"))
            .build()
    }

    /// A request the SDK would not build (a bug of ours, said plainly).
    pub(super) fn built(&self, action: &'static str, e: impl std::fmt::Display) -> TeamError {
        TeamError::Refused {
            table: self.table.clone(),
            action,
            message: format!("the request could not be built ({e})"),
        }
    }

    /// Sends one transaction of a line; a cancellation comes back with
    /// its reasons read.
    async fn transact(&self, new_run: bool, items: Vec<TransactWriteItem>) -> Result<(), Failed> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => Err(
                    Failed::Cancelled(cancellation(c.cancellation_reasons(), new_run)),
                ),
                _ => Err(Failed::Error(self.error("TransactWriteItems", e))),
            },
        }
    }

    /// Appends line `seq` with fencing `token` (the trait's `append`).
    pub(super) async fn append_line(
        &self,
        run: &str,
        token: u64,
        seq: u64,
        line: &str,
    ) -> Result<(), TeamError> {
        let c = match self.write_line(run, seq, line, Guard::Token(token)).await {
            Ok(()) => return Ok(()),
            Err(Failed::Error(e)) => return Err(e),
            Err(Failed::Cancelled(c)) => c,
        };
        if let Some(other) = c.other {
            // TransactionConflict, throughput: another try may do.
            return Err(TeamError::Unreachable {
                table: self.table.clone(),
                action: "TransactWriteItems",
                message: format!("run {run}, line {seq}: the transaction was cancelled ({other})"),
            });
        }
        if c.line && !c.lease {
            // Our own earlier write whose answer was lost is done already.
            if let Ok(found) = self.read_lines(run, seq, 1).await
                && found.first().is_some_and(|(_, text)| text == line)
            {
                return Ok(());
            }
        }
        Err(match self.read_lease(run).await {
            Ok(Some(lease)) => TeamError::fenced(run, &lease, token),
            Ok(None) => TeamError::NoRun {
                table: self.table.clone(),
                run: run.to_owned(),
            },
            Err(_) => TeamError::Fenced {
                run: run.to_owned(),
                holder: "unknown".into(),
                current: token,
                ours: token,
            },
        })
    }

    /// Lines `from..` of `run`, at most `limit`, in order and whole.
    pub(super) async fn read_lines(
        &self,
        run: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, TeamError> {
        let mut out: Vec<(u64, String)> = Vec::new();
        let mut start = None;
        while out.len() < limit {
            let page = PAGE.min(i32::try_from(limit - out.len()).unwrap_or(PAGE));
            let answer = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk AND sk >= :from")
                .expression_attribute_values(":pk", s(run))
                .expression_attribute_values(":from", n(from))
                .limit(page)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.error("Query", e))?;
            for item in answer.items() {
                let expected = from + out.len() as u64;
                let sk = get_i64(item, "sk");
                if sk != i64::try_from(expected).ok() {
                    let found = sk.map_or_else(|| "no number".to_owned(), |v| v.to_string());
                    return Err(self.damaged(
                        run,
                        expected,
                        format!("line {expected} is missing (the next line there is {found}): the shared log has a gap"),
                    ));
                }
                let line = self.whole_line(run, expected, item).await?;
                out.push((expected, line));
                if out.len() == limit {
                    break;
                }
            }
            match answer.last_evaluated_key() {
                Some(k) if out.len() < limit => start = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Line `seq`'s text from its item and its parts, checked.
    async fn whole_line(&self, run: &str, seq: u64, item: &Item) -> Result<String, TeamError> {
        let Some(first) = get_s(item, "line") else {
            return Err(self.damaged(run, seq, "it has no `line` text"));
        };
        let count = match item.get("parts") {
            None => 1,
            Some(_) => match get_i64(item, "parts") {
                Some(c) if c >= 2 && (c as usize) <= MAX_PARTS => c as usize,
                _ => {
                    return Err(self.damaged(
                        run,
                        seq,
                        format!("its `parts` is not a count from 2 to {MAX_PARTS}"),
                    ));
                }
            },
        };
        let mut line = first.to_owned();
        if count > 1 {
            let pk = parts_pk(run, seq);
            let mut start = None;
            let mut next = 1usize;
            loop {
                let answer = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .consistent_read(true)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", s(&pk))
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(|e| self.error("Query", e))?;
                for part in answer.items() {
                    let sk = get_i64(part, "sk");
                    if next >= count || sk != Some(next as i64) {
                        return Err(self.damaged(
                            &pk,
                            sk.map_or_else(|| "?".to_owned(), |v| v.to_string()),
                            format!(
                                "line {seq} has {count} parts; this part is missing or one too many"
                            ),
                        ));
                    }
                    let Some(text) = get_s(part, "line") else {
                        return Err(self.damaged(&pk, next, "the part has no `line` text"));
                    };
                    line.push_str(text);
                    if line.len() > MAX_JOURNAL_LINE {
                        break;
                    }
                    next += 1;
                }
                match answer.last_evaluated_key() {
                    Some(k) if line.len() <= MAX_JOURNAL_LINE => start = Some(k.clone()),
                    _ => break,
                }
            }
            if next != count && line.len() <= MAX_JOURNAL_LINE {
                return Err(self.damaged(
                    &pk,
                    next,
                    format!("line {seq} has {count} parts; part {next} is missing"),
                ));
            }
        }
        if line.len() > MAX_JOURNAL_LINE {
            return Err(self.damaged(
                run,
                seq,
                format!("the line is over {MAX_JOURNAL_LINE} bytes, longer than any journal line"),
            ));
        }
        if line.contains('\n') {
            return Err(self.damaged(run, seq, "the line holds a line break"));
        }
        Ok(line)
    }
}

/// The reasons of a cancelled line transaction. Its actions are, in
/// order: for a new run the lease put, the index put, then the line; else
/// the lease check, then the line (or its check), then parts.
fn cancellation(
    reasons: &[aws_sdk_dynamodb::types::CancellationReason],
    new_run: bool,
) -> Cancelled {
    let mut c = Cancelled::default();
    for (i, r) in reasons.iter().enumerate() {
        match r.code() {
            None | Some("None") => {}
            Some("ConditionalCheckFailed") => match (new_run, i) {
                (true, 0) | (false, 0) => c.lease = true,
                (true, 1) => c.index = true,
                (true, 2) | (false, 1) => c.line = true,
                _ => c.other = Some("a part's condition failed".into()),
            },
            Some(code) => {
                c.other = Some(match r.message() {
                    Some(m) => format!("{code}: {m}"),
                    None => code.to_owned(),
                });
            }
        }
    }
    c
}
