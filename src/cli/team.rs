//! `dr-drill team`: the team's shared table. `init` makes it (or checks
//! the one there) and prints the participant policy; `policy` prints a
//! policy alone. The table and policies themselves are `team::`'s.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::session::{EXIT_FAILED, EXIT_OK};
use crate::team::dynamo::{DynamoStore, init_table};
use crate::team::policy;

/// `dr-drill team ...`.
#[derive(Debug, Args)]
pub struct TeamArgs {
    /// What to do with the table.
    #[command(subcommand)]
    pub command: TeamCommand,
}

/// The `team` subcommands.
#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Create the shared table (on-demand billing, point-in-time recovery
    /// on), or check the one there, then print the participant IAM policy.
    ///
    /// Exit status: 0 ready, 1 AWS refused or could not be reached, 2 usage.
    Init(InitArgs),
    /// Print the IAM policy a participant needs on the table (or, with
    /// --admin, the one `team init` needs). Nothing is sent to AWS.
    Policy(PolicyArgs),
}

/// `dr-drill team init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The table's name.
    #[arg(value_name = "TABLE", value_parser = table_name)]
    pub table: String,
    /// Where the table is.
    #[command(flatten)]
    pub aws: super::cloud::AwsFlags,
    /// Time between checks while the new table is created.
    #[arg(long, value_name = "SECONDS", default_value_t = 2, hide = true)]
    pub poll_seconds: u64,
}

/// `dr-drill team policy`.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// The table's name.
    #[arg(value_name = "TABLE", value_parser = table_name)]
    pub table: String,
    /// The table's region [default: any, `*`].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// The table's AWS account id [default: any, `*`].
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// The AWS partition (aws, aws-cn, aws-us-gov).
    #[arg(long, value_name = "NAME", default_value = "aws")]
    pub partition: String,
    /// Print the policy `dr-drill team init` needs instead.
    #[arg(long)]
    pub admin: bool,
}

/// A DynamoDB table name: 3 to 255 of `a-z A-Z 0-9 _ - .` (Amazon
/// DynamoDB Developer Guide, "Constraints", Naming rules).
fn table_name(s: &str) -> Result<String, String> {
    let fine = (3..=255).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if fine {
        Ok(s.to_owned())
    } else {
        Err("a DynamoDB table name is 3 to 255 letters, digits, `_`, `-` or `.`".into())
    }
}

/// Runs `dr-drill team ...`.
pub fn run(args: &TeamArgs, runtime: &tokio::runtime::Runtime) -> color_eyre::Result<ExitCode> {
    match &args.command {
        TeamCommand::Policy(p) => {
            let arn = policy::table_arn(
                &p.partition,
                p.region.as_deref(),
                p.account.as_deref(),
                &p.table,
            );
            let text = if p.admin {
                policy::admin(&arn)
            } else {
                policy::participant(&arn)
            };
            println!("{text}");
            Ok(ExitCode::from(EXIT_OK))
        }
        TeamCommand::Init(i) => runtime.block_on(init(i)),
    }
}

async fn init(args: &InitArgs) -> color_eyre::Result<ExitCode> {
    let store = DynamoStore::connect(&args.aws.options(), &args.table).await;
    let report = match init_table(&store, Duration::from_secs(args.poll_seconds.max(1))).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    };
    let table = &args.table;
    if report.created {
        println!(
            "Created table {table} (on-demand billing; partition key pk string, sort key sk number)."
        );
    } else {
        println!(
            "Table {table} is there with the right keys (partition key pk string, sort key sk number; billing {}).",
            report.billing
        );
    }
    if report.pitr_turned_on {
        println!("Point-in-time recovery: turned on.");
    } else {
        println!("Point-in-time recovery: already on.");
    }
    println!("ARN: {}", report.arn);
    println!();
    println!(
        "Attach this policy to everyone who drives, answers or watches a run on {table} (also `dr-drill team policy {table}`):"
    );
    println!("{}", policy::participant(&report.arn));
    Ok(ExitCode::from(EXIT_OK))
}
