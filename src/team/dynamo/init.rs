//! `dr-drill team init TABLE`: the shared table made (or found) with the
//! key schema the store needs, on-demand billing and point-in-time
//! recovery on.

use std::time::Duration;

use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PointInTimeRecoverySpecification,
    PointInTimeRecoveryStatus, ScalarAttributeType, TableDescription, TableStatus,
};

use super::{DynamoStore, TeamError};

/// What `team init` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    /// The table's ARN, as DynamoDB gave it.
    pub arn: String,
    /// Whether this run created the table (else it was there).
    pub created: bool,
    /// Whether this run turned point-in-time recovery on (else it was on).
    pub pitr_turned_on: bool,
    /// The table's billing mode word, as DynamoDB gave it.
    pub billing: String,
}

/// Why an existing table cannot be the shared table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySchemaProblem(pub String);

/// How long `team init` waits for a new table to be ACTIVE.
const ACTIVE_WITHIN: Duration = Duration::from_secs(300);

/// Makes `store`'s table, or checks the one there, and turns PITR on.
/// `poll` is the time between DescribeTable calls while it is created.
pub async fn init_table(store: &DynamoStore, poll: Duration) -> Result<InitReport, TeamError> {
    let client = store.client();
    let table = store.table.as_str();
    let mut created = false;
    let described = match client.describe_table().table_name(table).send().await {
        Ok(d) => d.table,
        Err(e)
            if matches!(
                e.as_service_error(),
                Some(DescribeTableError::ResourceNotFoundException(_))
            ) =>
        {
            None
        }
        Err(e) => return Err(store.error("DescribeTable", e)),
    };
    let mut description = match described {
        Some(d) => {
            if let Err(KeySchemaProblem(problem)) = check_keys(&d) {
                return Err(TeamError::Refused {
                    table: table.to_owned(),
                    action: "DescribeTable",
                    message: format!(
                        "the table is there but cannot hold a team's runs: {problem}; dr-drill needs partition key `pk` (string) and sort key `sk` (number): choose another name, nothing was changed"
                    ),
                });
            }
            d
        }
        None => {
            // On-demand: no capacity to plan, billed per request (botocore
            // `dynamodb` 2012-08-10, CreateTable.BillingMode:
            // PAY_PER_REQUEST "for unpredictable workloads").
            let answer = client
                .create_table()
                .table_name(table)
                .attribute_definitions(attribute(table, "pk", ScalarAttributeType::S)?)
                .attribute_definitions(attribute(table, "sk", ScalarAttributeType::N)?)
                .key_schema(key_element(table, "pk", KeyType::Hash)?)
                .key_schema(key_element(table, "sk", KeyType::Range)?)
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await
                .map_err(|e| store.error("CreateTable", e))?;
            created = true;
            answer
                .table_description
                .unwrap_or_else(|| TableDescription::builder().build())
        }
    };
    // CreateTable answers at once with CREATING; reads and writes work
    // only once the table is ACTIVE (botocore `dynamodb` 2012-08-10,
    // CreateTable).
    let waited = std::time::Instant::now();
    while description.table_status() != Some(&TableStatus::Active) {
        if waited.elapsed() > ACTIVE_WITHIN {
            return Err(TeamError::Unreachable {
                table: table.to_owned(),
                action: "DescribeTable",
                message: format!(
                    "the table is not ACTIVE after {} s (it is {}); run `dr-drill team init {table}` again later",
                    ACTIVE_WITHIN.as_secs(),
                    description
                        .table_status()
                        .map_or("of no status", |s| s.as_str())
                ),
            });
        }
        tokio::time::sleep(poll).await;
        description = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| store.error("DescribeTable", e))?
            .table
            .unwrap_or_else(|| TableDescription::builder().build());
    }
    // Point-in-time recovery: the shared log can be restored to any
    // second of the last 35 days (botocore `dynamodb` 2012-08-10,
    // UpdateContinuousBackups; DescribeContinuousBackups says whether it
    // is on).
    let backups = client
        .describe_continuous_backups()
        .table_name(table)
        .send()
        .await
        .map_err(|e| store.error("DescribeContinuousBackups", e))?;
    let on = backups
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        == Some(&PointInTimeRecoveryStatus::Enabled);
    if !on {
        client
            .update_continuous_backups()
            .table_name(table)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .map_err(|e| store.built("UpdateContinuousBackups", e))?,
            )
            .send()
            .await
            .map_err(|e| store.error("UpdateContinuousBackups", e))?;
    }
    Ok(InitReport {
        arn: description.table_arn().unwrap_or_default().to_owned(),
        created,
        pitr_turned_on: !on,
        billing: description
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map_or_else(|| "PROVISIONED".to_owned(), |m| m.as_str().to_owned()),
    })
}

fn attribute(
    table: &str,
    name: &str,
    kind: ScalarAttributeType,
) -> Result<AttributeDefinition, TeamError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .map_err(|e| built(table, e))
}

fn key_element(table: &str, name: &str, kind: KeyType) -> Result<KeySchemaElement, TeamError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| built(table, e))
}

fn built(table: &str, e: impl std::fmt::Display) -> TeamError {
    TeamError::Refused {
        table: table.to_owned(),
        action: "CreateTable",
        message: format!("the request could not be built ({e})"),
    }
}

/// Whether `d`'s keys are `pk` (S, HASH) and `sk` (N, RANGE), and if not
/// what is wrong.
pub fn check_keys(d: &TableDescription) -> Result<(), KeySchemaProblem> {
    let type_of = |name: &str| {
        d.attribute_definitions()
            .iter()
            .find(|a| a.attribute_name() == name)
            .map(|a| a.attribute_type().as_str().to_owned())
    };
    let keys: Vec<String> = d
        .key_schema()
        .iter()
        .map(|k| format!("{} ({})", k.attribute_name(), k.key_type().as_str()))
        .collect();
    let want = ["pk (HASH)", "sk (RANGE)"];
    if keys != want {
        return Err(KeySchemaProblem(format!(
            "its key schema is {}",
            if keys.is_empty() {
                "empty".to_owned()
            } else {
                keys.join(", ")
            }
        )));
    }
    for (name, want) in [("pk", "S"), ("sk", "N")] {
        let got = type_of(name);
        if got.as_deref() != Some(want) {
            return Err(KeySchemaProblem(format!(
                "its key `{name}` is of type {}, not {want}",
                got.unwrap_or_else(|| "unknown".into())
            )));
        }
    }
    Ok(())
}
