//! The IAM policies of a team table, written once: what a participant's
//! credentials need (every action [`super::DynamoStore`] calls, on the
//! table's ARN, and STS to know who they are), and what `dr-drill team
//! init` needs besides. `dr-drill team policy` and `team init` print them;
//! docs/team.md shows the same text (a test keeps it equal).
//!
//! A `TransactWriteItems` is authorized action by action: its `Put` needs
//! `dynamodb:PutItem` and its `ConditionCheck` needs
//! `dynamodb:ConditionCheckItem` (Amazon DynamoDB Developer Guide, "Using
//! IAM with DynamoDB transactions").

use serde_json::json;

/// What a participant's credentials do on the table: the store's calls
/// (`DescribeTable` for the checks before a run).
pub const PARTICIPANT_ACTIONS: [&str; 7] = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
];

/// What `dr-drill team init` does besides.
pub const ADMIN_ACTIONS: [&str; 4] = [
    "dynamodb:CreateTable",
    "dynamodb:DescribeTable",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:DescribeContinuousBackups",
];

/// The ARN of `table`; region and account `*` when not known (`team
/// policy` without `--region`/`--account`).
pub fn table_arn(
    partition: &str,
    region: Option<&str>,
    account: Option<&str>,
    table: &str,
) -> String {
    format!(
        "arn:{partition}:dynamodb:{}:{}:table/{table}",
        region.unwrap_or("*"),
        account.unwrap_or("*")
    )
}

/// The participant policy on the table `arn`, as pretty JSON.
pub fn participant(arn: &str) -> String {
    pretty(&json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DrDrillTeamTable",
                "Effect": "Allow",
                "Action": PARTICIPANT_ACTIONS,
                "Resource": arn,
            },
            {
                "Sid": "DrDrillWhoAmI",
                "Effect": "Allow",
                "Action": ["sts:GetCallerIdentity"],
                "Resource": "*",
            }
        ]
    }))
}

/// The policy `dr-drill team init` needs on the table `arn`, as pretty
/// JSON.
pub fn admin(arn: &str) -> String {
    pretty(&json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DrDrillTeamTableInit",
                "Effect": "Allow",
                "Action": ADMIN_ACTIONS,
                "Resource": arn,
            }
        ]
    }))
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_participant_policy_names_each_action_on_the_table_only() {
        let arn = table_arn("aws", Some("eu-west-1"), Some("123456789012"), "drills");
        let doc: serde_json::Value = serde_json::from_str(&participant(&arn)).unwrap();
        assert_eq!(doc["Statement"][0]["Resource"], arn.as_str());
        assert_eq!(doc["Statement"][0]["Action"].as_array().unwrap().len(), 7);
        assert_eq!(doc["Statement"][1]["Action"][0], "sts:GetCallerIdentity");
        assert!(!participant(&arn).contains("CreateTable"));
        assert!(admin(&arn).contains("dynamodb:UpdateContinuousBackups"));
    }
}
