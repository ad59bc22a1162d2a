//! `dr-drill answer RUN STEP ANSWER --team TABLE`: a participant answers a
//! team run's open question from their own machine. Who they are comes
//! from STS; the answer goes to the run's inbox; the driver's step decides
//! (`session::team_answers::post`).

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::cloud::Cloud as _;
use crate::cloud::aws::AwsCloud;
use crate::engine::event::Answer;
use crate::engine::participant::Participant;
use crate::session::team_answers::{Posted, Posting, post};
use crate::session::{EXIT_ABORTED, EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::team::DynamoStore;

/// The answer words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnswerWord {
    /// Approve an approve step.
    Approve,
    /// Decline the question.
    Decline,
    /// Acknowledge a manual step as done.
    Done,
}

/// Arguments of `dr-drill answer`.
#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// The run's id.
    #[arg(value_name = "RUN")]
    pub run: String,
    /// The step whose question is answered.
    #[arg(value_name = "STEP")]
    pub step: String,
    /// approve, decline or done (or --answer TEXT).
    #[arg(value_name = "ANSWER", required_unless_present = "text")]
    pub word: Option<AnswerWord>,
    /// The answer to a manual step's question (one of its choices).
    #[arg(long = "answer", value_name = "TEXT", conflicts_with = "word")]
    pub text: Option<String>,
    /// The team's DynamoDB table.
    #[arg(long, value_name = "TABLE", env = "DR_DRILL_TEAM")]
    pub team: String,
    /// Free text with the answer.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// The name shown for you [default: user@host]; who you are is your
    /// AWS identity.
    #[arg(long = "as", value_name = "NAME")]
    pub name: Option<String>,
    /// Seconds to wait for the driver to read the answer.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub wait: u64,
    /// Where the table is.
    #[command(flatten)]
    pub aws: super::cloud::AwsFlags,
}

pub(super) fn run(args: &AnswerArgs, runtime: &tokio::runtime::Runtime) -> ExitCode {
    ExitCode::from(runtime.block_on(answer(args)))
}

async fn answer(args: &AnswerArgs) -> u8 {
    let options = args.aws.options();
    let cloud = match AwsCloud::connect(&options).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let me = match cloud.caller_identity(&crate::cloud::quiet()).await {
        Ok(me) => me,
        Err(e) => {
            eprintln!(
                "error: STS GetCallerIdentity: {e}; an answer needs your AWS identity: check your credentials (--profile)"
            );
            return EXIT_FAILED;
        }
    };
    let by = Participant::new(
        &me,
        args.name.clone().unwrap_or_else(crate::engine::operator),
    );
    let answer = match (args.word, &args.text) {
        (_, Some(text)) => Answer::Acknowledged {
            answer: Some(text.clone()),
        },
        (Some(AnswerWord::Approve), None) => Answer::Approved,
        (Some(AnswerWord::Decline), None) => Answer::Declined,
        (Some(AnswerWord::Done), None) => Answer::Acknowledged { answer: None },
        (None, None) => return EXIT_USAGE,
    };
    let store = DynamoStore::connect(&options, &args.team).await;
    let posting = Posting {
        run: args.run.clone(),
        step: args.step.clone(),
        answer,
        note: args.note.clone(),
        by,
        wait: Duration::from_secs(args.wait),
        poll: Duration::from_millis(500),
    };
    let shown = |s: &str| crate::format::printable(s).into_owned();
    match post(&store, &posting).await {
        Ok(Posted::Accepted) => {
            println!(
                "{}: the driver took your answer ({}).",
                shown(&args.step),
                shown(&me.arn)
            );
            EXIT_OK
        }
        Ok(Posted::Refused(why)) => {
            eprintln!(
                "{}: the driver refused your answer: {}",
                shown(&args.step),
                shown(&why)
            );
            EXIT_FAILED
        }
        Ok(Posted::Unread(n)) => {
            eprintln!(
                "{}: your answer is posted (inbox number {n}) and the driver has not read it yet after {} s; it counts if the driver reads it while the question is open. Run `dr-drill watch {} --team {}` to see.",
                shown(&args.step),
                args.wait,
                shown(&args.run),
                args.team
            );
            EXIT_ABORTED
        }
        Ok(Posted::NoQuestion(why)) => {
            eprintln!("error: {}; nothing was posted", shown(&why));
            EXIT_USAGE
        }
        Ok(Posted::NotEligible(why)) => {
            eprintln!("error: {}; nothing was posted", shown(&why));
            EXIT_FAILED
        }
        Err(e) => {
            eprintln!("error: {}", shown(&e.to_string()));
            EXIT_FAILED
        }
    }
}
