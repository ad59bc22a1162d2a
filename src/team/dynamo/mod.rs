//! [`TeamStore`] over DynamoDB: the team's shared table (docs/team.md,
//! "The table"). `log.rs` writes and reads journal lines (split in parts
//! past DynamoDB's item size), `lease.rs` the runs, their leases and the
//! runs index, `inbox.rs` the participants' answers, `init.rs` makes the
//! table (`dr-drill team init`).
//!
//! Every read is strongly consistent, every write conditional, and every
//! value read back is checked: an item dr-drill did not write that way is
//! [`TeamError::Damaged`], naming its key. SDK errors become
//! [`TeamError::Unreachable`] (worth trying later) or
//! [`TeamError::Refused`] (saying what to do), classified by the one
//! classifier of `cloud::aws`.

mod inbox;
mod init;
mod lease;
mod log;

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::cloud::ErrorKind;
use crate::cloud::aws::AwsOptions;

use super::store::{Lease, LeaseRequest, RunEntry, RunRow, RunState, RunStatus, TeamAnswer};
use super::{TeamError, TeamStore};

pub use init::{InitReport, KeySchemaProblem, init_table};

/// An item as the SDK gives it.
type Item = HashMap<String, AttributeValue>;

/// The team's shared table on DynamoDB.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// The store of `table`, reached the way `options` say (the same
    /// profile, region and endpoint flags a run uses, loaded by the one
    /// [`crate::cloud::aws::sdk_config`]). Nothing is sent yet.
    pub async fn connect(options: &AwsOptions, table: &str) -> Self {
        Self::new(&crate::cloud::aws::sdk_config(options).await, table)
    }

    /// The store of `table` on a loaded SDK configuration.
    pub fn new(config: &aws_config::SdkConfig, table: &str) -> Self {
        Self::with_client(Client::new(config), table)
    }

    /// The store of `table` on a given client (tests).
    pub fn with_client(client: Client, table: &str) -> Self {
        Self {
            client,
            table: table.to_owned(),
        }
    }

    /// The SDK client (for `team init`).
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// `error` of `action` as a [`TeamError`]: throttling, 5xx, timeouts
    /// and lost connections are [`TeamError::Unreachable`]; the rest is
    /// [`TeamError::Refused`] with what to do.
    fn error<E>(&self, action: &'static str, error: SdkError<E, HttpResponse>) -> TeamError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let e = crate::cloud::aws::classify(action, &self.table, error);
        let table = self.table.clone();
        let said = e.message.clone();
        let message = match e.kind {
            ErrorKind::Throttled | ErrorKind::Unavailable => {
                return TeamError::Unreachable {
                    table,
                    action,
                    message: said,
                };
            }
            ErrorKind::NotFound => format!(
                "{said}; there is no such table in this region: create it with `dr-drill team init {}` (or pass the table's --region)",
                self.table
            ),
            ErrorKind::AccessDenied => format!(
                "{said}; these credentials may not do {action} on it: attach the participant policy `dr-drill team policy {}` prints",
                self.table
            ),
            ErrorKind::Credentials => format!(
                "{said}; no usable AWS credentials: sign in again (aws sso login, or the profile's keys) and retry"
            ),
            _ => format!(
                "{said}; check the table's key schema with `dr-drill team init {}`",
                self.table
            ),
        };
        TeamError::Refused {
            table,
            action,
            message,
        }
    }

    /// A [`TeamError::Damaged`] of the item `pk`/`sk`.
    fn damaged(
        &self,
        pk: &str,
        sk: impl std::fmt::Display,
        message: impl Into<String>,
    ) -> TeamError {
        TeamError::Damaged {
            table: self.table.clone(),
            key: format!("pk={pk} sk={sk}"),
            message: message.into(),
        }
    }

    /// Refuses a run id the table's keys could not tell apart from its
    /// own items (`#runs`, `RUN#answers`, `RUN#parts#N`) or that is not
    /// printable.
    fn check_run(&self, action: &'static str, run: &str) -> Result<(), TeamError> {
        let fine = !run.is_empty()
            && run.len() <= 512
            && run
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
        if fine {
            Ok(())
        } else {
            Err(TeamError::Refused {
                table: self.table.clone(),
                action,
                message: format!(
                    "run id {:?} is not one dr-drill makes (letters, digits, - _ . : only, at most 512); nothing was sent",
                    crate::format::printable(run)
                ),
            })
        }
    }
}

/// The key of an item.
fn key(pk: &str, sk: i64) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
        ("sk".to_owned(), AttributeValue::N(sk.to_string())),
    ])
}

/// A string attribute.
fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
fn n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The string attribute `name` of `item`, if it is one.
fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}

/// The number attribute `name` of `item` as an integer, if it is one.
fn get_i64(item: &Item, name: &str) -> Option<i64> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().ok(),
        _ => None,
    }
}

/// A parser's complaint about a value read back, safe to print (it may
/// quote the value).
fn said(e: &impl std::fmt::Display) -> String {
    crate::format::printable(&e.to_string()).into_owned()
}

/// A new record version: unique per write (time, process, a counter).
fn new_rvn() -> String {
    use sha2::Digest;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = format!(
        "{}/{}/{}",
        jiff::Timestamp::now().as_nanosecond(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    hex::encode(&sha2::Sha256::digest(seed.as_bytes())[..16])
}

#[async_trait]
impl TeamStore for DynamoStore {
    fn table(&self) -> &str {
        &self.table
    }

    async fn create_run(
        &self,
        entry: &RunEntry,
        header: &str,
        lease: &LeaseRequest,
    ) -> Result<Lease, TeamError> {
        self.create(entry, header, lease).await
    }

    async fn append(&self, run: &str, token: u64, seq: u64, line: &str) -> Result<(), TeamError> {
        self.check_run("TransactWriteItems", run)?;
        self.append_line(run, token, seq, line).await
    }

    async fn read_log(
        &self,
        run: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, TeamError> {
        self.check_run("Query", run)?;
        self.read_lines(run, from, limit).await
    }

    async fn lease(&self, run: &str) -> Result<Option<Lease>, TeamError> {
        self.check_run("GetItem", run)?;
        self.read_lease(run).await
    }

    async fn take(
        &self,
        run: &str,
        request: &LeaseRequest,
        observed: &Lease,
    ) -> Result<Lease, TeamError> {
        self.check_run("UpdateItem", run)?;
        self.take_lease(run, request, observed).await
    }

    async fn heartbeat(&self, lease: &Lease, status: &RunStatus) -> Result<Lease, TeamError> {
        self.check_run("UpdateItem", &lease.run_id)?;
        self.renew(lease, lease.state, status).await
    }

    async fn release(
        &self,
        lease: &Lease,
        state: RunState,
        status: &RunStatus,
    ) -> Result<(), TeamError> {
        self.check_run("UpdateItem", &lease.run_id)?;
        self.renew(lease, state, status).await.map(|_| ())
    }

    async fn post_answer(&self, run: &str, answer: &TeamAnswer) -> Result<u64, TeamError> {
        self.check_run("PutItem", run)?;
        self.post(run, answer).await
    }

    async fn answers(&self, run: &str, after: u64) -> Result<Vec<(u64, TeamAnswer)>, TeamError> {
        self.check_run("Query", run)?;
        self.read_answers(run, after).await
    }

    async fn runs(&self, limit: usize) -> Result<Vec<RunRow>, TeamError> {
        self.list_runs(limit).await
    }
}
