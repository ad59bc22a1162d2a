//! `dr-drill run RUNBOOK`: a dry run (the plan, nothing executed) or a
//! headless run (questions answered from flags, one line per event).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::cloud::{CloudArgs, connect_checked};
use super::{EXIT_ABORTED, EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::engine::event::{Answer, EventKind, Outcome, Question, RunEvent, Stream};
use crate::engine::headless::{self, HeadlessAnswers};
use crate::engine::ledger::RunLedger;
use crate::engine::plan::Plan;
use crate::engine::timeline::Timeline;
use crate::engine::values::Values;
use crate::engine::{self, DEFAULT_MAX_PARALLEL, RunSetup};
use crate::runbook::{Effect, Mode, Runbook};

/// Arguments of `dr-drill run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The runbook to run.
    #[arg(value_name = "RUNBOOK")]
    pub runbook: PathBuf,
    /// Answer every question from the command line and print one line per
    /// event, instead of opening the console.
    #[arg(long)]
    pub headless: bool,
    /// Print the plan (order, parallel groups, resolved values, what each
    /// step changes) and run nothing.
    #[arg(long, conflicts_with = "headless")]
    pub dry_run: bool,
    /// Drill (T0 is now) or incident (give the outage start with --t0).
    #[arg(long, value_enum, default_value_t = ModeArg::Drill)]
    pub mode: ModeArg,
    /// T0 as RFC 3339: the declared outage start, required in incident
    /// mode; in a drill it defaults to the moment the run starts.
    #[arg(long, value_name = "TIME")]
    pub t0: Option<jiff::Timestamp>,
    /// Answers, parameters and output.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Flags shared by `run` and `resume`.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// A parameter value, NAME=VALUE (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = key_value)]
    pub params: Vec<(String, String)>,
    /// Confirm a destructive step by typing its confirm text, STEP=TEXT.
    #[arg(long = "confirm", value_name = "STEP=TEXT", value_parser = key_value)]
    pub confirms: Vec<(String, String)>,
    /// Answer a manual or approve step, STEP=VALUE (`approve` approves).
    #[arg(long = "answer", value_name = "STEP=VALUE", value_parser = key_value)]
    pub answers: Vec<(String, String)>,
    /// Lines for people, or JSON (JSON Lines of events; one document for a dry run).
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Steps run at once, at most.
    #[arg(long, default_value_t = DEFAULT_MAX_PARALLEL as u16, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_parallel: u16,
    /// Where runs are kept [default: $DR_DRILL_DATA_DIR, or the user's data directory].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where AWS actions go.
    #[command(flatten)]
    pub cloud: CloudArgs,
}

impl CommonArgs {
    /// Absolute, so paths handed to shell steps (`DR_DRILL_OUTPUT`) hold
    /// whatever directory the step runs in.
    fn data_dir(&self) -> PathBuf {
        let dir = self
            .data_dir
            .clone()
            .unwrap_or_else(engine::default_data_dir);
        std::path::absolute(&dir).unwrap_or(dir)
    }

    fn answers(&self, interrupted: Option<Answer>) -> HeadlessAnswers {
        HeadlessAnswers {
            confirms: self.confirms.iter().cloned().collect(),
            answers: self.answers.iter().cloned().collect(),
            interrupted,
            operator: engine::operator(),
        }
    }
}

/// Arguments of `dr-drill resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run: its id, its directory, or its journal file.
    #[arg(value_name = "RUN-ID|PATH")]
    pub run: String,
    /// Answer every question from the command line instead of the console.
    #[arg(long)]
    pub headless: bool,
    /// Resume although the runbook file changed since the run started.
    #[arg(long)]
    pub force: bool,
    /// What to do with a step that was running when the console died.
    #[arg(long, value_enum)]
    pub interrupted: Option<InterruptedArg>,
    /// Answers, parameters (secret ones again) and output.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `--interrupted`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InterruptedArg {
    /// Run the step again.
    Rerun,
    /// It was finished by hand: go on.
    Done,
    /// Stop the run.
    Abort,
}

/// `--mode`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// A planned drill.
    Drill,
    /// A real incident.
    Incident,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Drill => Mode::Drill,
            ModeArg::Incident => Mode::Incident,
        }
    }
}

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Lines for people.
    Text,
    /// JSON Lines (one event per line), or one JSON document for a dry run.
    Json,
}

fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

pub(super) fn usage(message: impl std::fmt::Display) -> color_eyre::Result<ExitCode> {
    let _ = writeln!(std::io::stderr(), "error: {message}");
    Ok(ExitCode::from(EXIT_USAGE))
}

pub(super) fn run(args: &RunArgs) -> color_eyre::Result<ExitCode> {
    let file = crate::runbook::check_file(&args.runbook);
    let Some(runbook) = file.checked.runbook.clone() else {
        let _ = write!(std::io::stderr(), "{}", file.render(false));
        return usage(format!("{} has errors; nothing was run", file.name));
    };
    let mode = Mode::from(args.mode);
    if mode == Mode::Incident && args.t0.is_none() && !args.dry_run {
        return usage(
            "an incident run needs --t0, the declared outage start (RFC 3339, e.g. 2026-11-22T03:10:00Z)",
        );
    }
    let given: BTreeMap<String, String> = args.common.params.iter().cloned().collect();
    if args.dry_run {
        return dry_run(&runbook, mode, &given, args.common.output);
    }
    if !args.headless {
        return interactive(
            runbook,
            file.source.clone(),
            &args.runbook,
            mode,
            given,
            &args.common,
            None,
        );
    }
    let plan = match Plan::new(&runbook, mode) {
        Ok(plan) => plan,
        Err(e) => return usage(e),
    };
    let answers = args.common.answers(None);
    let params = match engine::resolve_params(&runbook, &given) {
        Ok(params) => params,
        Err(e) => return usage(e),
    };
    let secrets = engine::secret_values(&runbook, &params);
    let preview = Values {
        params,
        ..Values::default()
    };
    let missing = headless::preflight(&runbook, &plan.order, &answers, &preview, &secrets);
    if !missing.is_empty() {
        return usage(format!(
            "a headless run needs every answer before it starts; nothing was run:\n  - {}",
            missing.join("\n  - ")
        ));
    }
    let setup = RunSetup {
        runbook,
        runbook_text: file.source.clone(),
        // Absolute, so a resume from another directory finds it to compare.
        runbook_path: std::path::absolute(&args.runbook).unwrap_or_else(|_| args.runbook.clone()),
        mode,
        params: given,
        t0: args.t0,
        operator: answers.operator.clone(),
        data_dir: args.common.data_dir(),
        max_parallel: usize::from(args.common.max_parallel),
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let cloud = match runtime.block_on(cloud_for(&setup.runbook, &plan.order, &args.common.cloud)) {
        Ok(cloud) => cloud,
        Err(e) => return usage(e),
    };
    let mut started = match engine::start(setup) {
        Ok(started) => started,
        Err(e) => return usage(e),
    };
    if let Some(cloud) = cloud {
        started.engine = started.engine.with_cloud(cloud);
    }
    runtime.block_on(headless_run(started, answers, args.common.output))
}

pub(super) fn resume(args: &ResumeArgs) -> color_eyre::Result<ExitCode> {
    let data_dir = args.common.data_dir();
    let journal = engine::resume::locate(&args.run, &data_dir);
    if !journal.exists() {
        let runs: Vec<String> = std::fs::read_dir(data_dir.join("runs"))
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let known = if runs.is_empty() {
            format!(
                "there are no runs under {}",
                data_dir.join("runs").display()
            )
        } else {
            let mut runs = runs;
            runs.sort();
            format!(
                "the runs under {} are:\n  {}",
                data_dir.join("runs").display(),
                runs.join("\n  ")
            )
        };
        return usage(format!("no journal at {}; {known}", journal.display()));
    }
    let given = args.common.params.iter().cloned().collect();
    let started = match engine::resume::resume(
        &journal,
        given,
        args.force,
        usize::from(args.common.max_parallel),
    ) {
        Ok(started) => started,
        Err(e) => return usage(e),
    };
    if !args.headless {
        let runbook = started.engine.runbook().clone();
        let past = match engine::journal::read(&journal) {
            Ok(contents) => contents.events,
            Err(e) => return usage(e),
        };
        let mode = started.engine.plan().mode;
        return interactive(
            runbook,
            String::new(),
            &journal,
            mode,
            BTreeMap::new(),
            &args.common,
            Some(crate::tui::Resumed { started, past }),
        );
    }
    let interrupted = args.interrupted.map(|i| match i {
        InterruptedArg::Rerun => Answer::Rerun,
        InterruptedArg::Done => Answer::MarkDone,
        InterruptedArg::Abort => Answer::Abort,
    });
    let answers = args.common.answers(interrupted);
    let remaining = started.engine.remaining();
    let preview = started.engine.values();
    let secrets = engine::secret_values(started.engine.runbook(), &preview.params);
    let mut missing = headless::preflight(
        started.engine.runbook(),
        &remaining,
        &answers,
        &preview,
        &secrets,
    );
    if answers.interrupted.is_none() {
        for i in started.engine.interrupted() {
            let id = &started.engine.runbook().steps[i].id.value;
            missing.push(format!("step `{id}` was running when the console died: say --interrupted rerun, done or abort"));
        }
    }
    if !missing.is_empty() {
        return usage(format!(
            "a headless resume needs every answer before it goes on; nothing was run:\n  - {}",
            missing.join("\n  - ")
        ));
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let cloud = runtime.block_on(cloud_for(
        started.engine.runbook(),
        &remaining,
        &args.common.cloud,
    ));
    let mut started = started;
    match cloud {
        Ok(Some(cloud)) => started.engine = started.engine.with_cloud(cloud),
        Ok(None) => {}
        Err(e) => return usage(e),
    }
    runtime.block_on(headless_run(started, answers, args.common.output))
}

/// Opens the console on `runbook` (stdout must be a terminal).
pub(super) fn interactive(
    runbook: Runbook,
    text: String,
    path: &Path,
    mode: Mode,
    params: BTreeMap<String, String>,
    common: &CommonArgs,
    resumed: Option<crate::tui::Resumed>,
) -> color_eyre::Result<ExitCode> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return usage(
            "the console needs a terminal: run it in one, or use --headless (answers from flags) or --dry-run",
        );
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let uses_aws = runbook.steps.iter().any(|s| s.action.uses_aws());
    let cloud = runtime.block_on(async {
        if uses_aws {
            super::cloud::connect_checked(&common.cloud).await
        } else {
            common.cloud.connect().await
        }
    });
    let cloud = match cloud {
        Ok(cloud) => cloud,
        Err(e) => return usage(format!("{e}\nNothing was run.")),
    };
    drop(runtime);
    crate::tui::run(
        crate::tui::Session {
            runbook,
            runbook_text: text,
            runbook_path: std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
            cloud,
            params,
            mode,
            data_dir: common.data_dir(),
            max_parallel: usize::from(common.max_parallel),
        },
        resumed,
    )
}

/// The cloud for a run whose `steps` include AWS steps (or any run with
/// `--sandbox`), with credentials checked before anything runs; `None` when
/// no step needs one.
async fn cloud_for(
    runbook: &Runbook,
    steps: &[usize],
    args: &CloudArgs,
) -> Result<Option<std::sync::Arc<dyn crate::cloud::Cloud>>, String> {
    // A sandbox run always has its world, so its shell steps are fenced
    // off from real AWS credentials.
    if !args.sandbox && !steps.iter().any(|&i| runbook.steps[i].action.uses_aws()) {
        return Ok(None);
    }
    connect_checked(args)
        .await
        .map(Some)
        .map_err(|e| format!("{e}\nNothing was run."))
}

async fn headless_run(
    started: engine::Started,
    answers: HeadlessAnswers,
    output: Output,
) -> color_eyre::Result<ExitCode> {
    let engine::Started {
        engine,
        mut events,
        questions,
    } = started;
    if let Some(path) = engine.journal_path() {
        let _ = writeln!(std::io::stderr(), "journal: {}", path.display());
    }
    let cancel = engine.cancel_token();
    tokio::spawn(async move {
        if let Some(signal) = stop_signal().await {
            let _ = writeln!(
                std::io::stderr(),
                "\n{signal}: cancelling running steps (their processes are killed); resume later with `dr-drill resume`"
            );
            cancel.cancel();
        }
    });
    tokio::spawn(headless::answer(questions, answers));
    let runbook = engine.runbook().clone();
    let mut ledger = RunLedger::new(&runbook);
    let printer = tokio::spawn(async move {
        let mut out = std::io::stdout();
        let mut reader_gone = false;
        while let Some(event) = events.recv().await {
            if !reader_gone {
                let line = match output {
                    Output::Json => serde_json::to_string(&event).unwrap_or_default(),
                    Output::Text => text_line(&event),
                };
                // If the reader went away, the run goes on and is journaled.
                reader_gone = writeln!(out, "{line}").is_err();
            }
            // The closing summary reads where the run stands.
            ledger.apply(&event);
        }
        ledger
    });
    let journal = engine.journal_path().map(Path::to_owned);
    let summary = engine.run().await;
    let ledger = printer.await.unwrap_or_else(|_| RunLedger::new(&runbook));
    let summary = match summary {
        Ok(summary) => summary,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: {e}\nThe run stopped and its running steps were killed. Fix the cause (free disk space, permissions), then: dr-drill resume {} --headless",
                journal
                    .as_deref()
                    .and_then(Path::parent)
                    .map_or_else(String::new, |d| d.display().to_string())
            );
            return Ok(ExitCode::from(EXIT_ABORTED));
        }
    };
    if output == Output::Text {
        let timeline = ledger.timeline();
        let _ = write!(
            std::io::stdout(),
            "{}",
            closing_summary(&runbook, &timeline, journal.as_deref())
        );
    }
    // The report is evidence, but failing to write it does not change how
    // the run went: it is said, and can be rebuilt with `dr-drill report`.
    if let Some(journal) = &journal {
        match crate::report::write_next_to(journal) {
            Ok(path) if output == Output::Text => {
                let _ = writeln!(std::io::stdout(), "  report: {}", path.display());
            }
            Ok(path) => {
                let _ = writeln!(std::io::stderr(), "report: {}", path.display());
            }
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: the report was not written: {e}\nRebuild it with: dr-drill report {}",
                    journal.display()
                );
            }
        }
    }
    Ok(ExitCode::from(match summary.outcome {
        Outcome::Succeeded => EXIT_OK,
        Outcome::Aborted | Outcome::Cancelled => EXIT_ABORTED,
        _ => EXIT_FAILED,
    }))
}

/// The first of Ctrl-C, SIGTERM and SIGHUP, by name.
async fn stop_signal() -> Option<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return tokio::signal::ctrl_c().await.ok().map(|()| "interrupted");
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.ok().map(|()| "interrupted"),
        _ = term.recv() => Some("terminated"),
        _ = hup.recv() => Some("hung up"),
    }
}

/// What a person wants to see at the end: outcome against the targets.
fn closing_summary(runbook: &Runbook, timeline: &Timeline, journal: Option<&Path>) -> String {
    let mut out = String::from("\nsummary\n");
    let target = |actual: Option<std::time::Duration>,
                  target: Option<std::time::Duration>,
                  name: &str| match (actual, target) {
        (Some(a), Some(t)) => format!(
            "  {name} {} against a target of {}: {}\n",
            engine_humanize(a),
            engine_humanize(t),
            if a <= t { "met" } else { "MISSED" }
        ),
        (Some(a), None) => format!("  {name} {} (no target)\n", engine_humanize(a)),
        (None, Some(t)) => format!("  {name} not measured (target {})\n", engine_humanize(t)),
        (None, None) => String::new(),
    };
    out.push_str(&target(
        timeline.rto,
        runbook.runbook.rto.as_ref().map(|r| r.value.0),
        "RTO",
    ));
    out.push_str(&target(
        timeline.rpo,
        runbook.runbook.rpo.as_ref().map(|r| r.value.0),
        "RPO",
    ));
    for p in &timeline.phases {
        let Some(span) = p.span else { continue };
        let budget = match p.budget {
            Some(b) if span > b => format!(", OVER its budget of {}", engine_humanize(b)),
            Some(b) => format!(", within its budget of {}", engine_humanize(b)),
            None => String::new(),
        };
        out.push_str(&format!(
            "  phase {}: {}{budget}\n",
            p.phase,
            engine_humanize(span)
        ));
    }
    if !timeline.critical_path.is_empty() {
        out.push_str(&format!(
            "  critical path: {}\n",
            timeline.critical_path.join(" -> ")
        ));
    }
    if let Some(journal) = journal {
        out.push_str(&format!("  journal: {}\n", journal.display()));
    }
    out
}

/// One line for people.
fn text_line(event: &RunEvent) -> String {
    let secs = event.elapsed.as_secs();
    let clock = format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    let what = match &event.kind {
        EventKind::RunStarted { run_id, mode, t0 } => {
            format!("run {run_id} started ({} mode, T0 {t0})", mode.as_str())
        }
        EventKind::RunResumed {
            gap,
            operator,
            runbook_sha256,
            ..
        } => format!(
            "run resumed by {operator} after a gap of {}{}",
            engine_humanize(*gap),
            if runbook_sha256.is_some() {
                " (with the edited runbook, --force)"
            } else {
                ""
            }
        ),
        EventKind::CloudConnected { identity } => format!("acting as {}", identity.describe()),
        EventKind::RtoStopped { step, rto } => {
            format!("RTO {} (ended by {step})", engine_humanize(*rto))
        }
        EventKind::RpoMeasured {
            rpo, point_time, ..
        } => format!("RPO {} (restore point {point_time})", engine_humanize(*rpo)),
        EventKind::PhaseStarted { phase } => format!("phase {phase} started"),
        EventKind::PhaseFinished { phase } => format!("phase {phase} finished"),
        EventKind::StepQueued { step } => format!("{step}: ready"),
        EventKind::StepStarted { step, attempt } if *attempt > 1 => {
            format!("{step}: started (attempt {attempt})")
        }
        EventKind::StepStarted { step, .. } => format!("{step}: started"),
        EventKind::StepOutput { step, stream, line } => match stream {
            Stream::Stdout => format!("{step} | {line}"),
            Stream::Stderr => format!("{step} ! {line}"),
        },
        EventKind::StepProgress { step, message } => format!("{step}: {message}"),
        EventKind::StepRetrying {
            step,
            attempt,
            error,
            backoff,
        } => {
            format!(
                "{step}: attempt {attempt} failed ({error}); retrying in {}",
                engine_humanize(*backoff)
            )
        }
        EventKind::StepFinished {
            step,
            outcome,
            outputs,
            reason,
        } => {
            let mut line = format!("{step}: {}", outcome_word(*outcome));
            if let Some(reason) = reason {
                line.push_str(&format!(" ({reason})"));
            }
            if !outputs.is_empty() {
                let shown: Vec<String> = outputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                line.push_str(&format!(" [{}]", shown.join(" ")));
            }
            line
        }
        EventKind::HumanAsked { step, question } => format!("{step}: {}", question_words(question)),
        EventKind::HumanAnswered {
            step, by, answer, ..
        } => format!("{step}: {} by {by}", answer_word(answer)),
        EventKind::RunFinished { outcome } => format!("run {}", outcome_word(*outcome)),
    };
    format!("{clock} {what}")
}

fn question_words(q: &Question) -> String {
    match q {
        Question::Confirm { text, change, .. } if !change.is_empty() => {
            format!("waits for the confirmation `{text}` ({change})")
        }
        Question::Confirm { text, .. } => format!("waits for the confirmation `{text}`"),
        Question::Acknowledge {
            question: Some(q), ..
        } => format!("asks: {q}"),
        Question::Acknowledge { instructions, .. } => {
            format!(
                "waits for: {}",
                instructions.lines().next().unwrap_or_default()
            )
        }
        Question::Approve { .. } => "waits for approval".into(),
        Question::Failure { error } => format!("failed ({error}); asks: retry, skip or abort?"),
        Question::Interrupted => "was interrupted; asks: rerun, mark done or abort?".into(),
        Question::PickRecoveryPoint {
            restorable, newest, ..
        } => format!(
            "asks which recovery point to restore from ({restorable} restorable; newest {})",
            newest.as_deref().unwrap_or("none")
        ),
    }
}

fn engine_humanize(d: std::time::Duration) -> String {
    crate::engine::humanize(d)
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeded => "succeeded",
        Outcome::Failed => "FAILED",
        Outcome::Skipped => "skipped",
        Outcome::Waived => "waived",
        Outcome::Cancelled => "cancelled",
        Outcome::Interrupted => "interrupted",
        Outcome::Aborted => "ABORTED",
    }
}

fn answer_word(a: &Answer) -> String {
    match a {
        Answer::Confirmed { typed } => format!("confirmed by typing `{typed}`"),
        Answer::Acknowledged { answer: Some(a) } => format!("answered `{a}`"),
        Answer::Acknowledged { answer: None } => "acknowledged".into(),
        Answer::Approved => "approved".into(),
        Answer::Declined => "declined".into(),
        Answer::Retry => "retry chosen".into(),
        Answer::Skip => "skip chosen".into(),
        Answer::Abort => "abort chosen".into(),
        Answer::Rerun => "rerun chosen".into(),
        Answer::MarkDone => "marked done".into(),
        Answer::Picked { point } => format!("chose {point}"),
    }
}

#[derive(Serialize)]
struct PlannedStep {
    step: String,
    title: String,
    kind: &'static str,
    effect: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirm: Option<String>,
    cleanup: bool,
    needs: Vec<String>,
    resolved: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct DryRun<'a> {
    runbook: &'a str,
    mode: &'static str,
    groups: Vec<Vec<PlannedStep>>,
    not_in_this_mode: Vec<String>,
}

fn dry_run(
    runbook: &Runbook,
    mode: Mode,
    given: &BTreeMap<String, String>,
    output: Output,
) -> color_eyre::Result<ExitCode> {
    let params = match engine::resolve_params(runbook, given) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let plan = match Plan::new(runbook, mode) {
        Ok(plan) => plan,
        Err(e) => return usage(e),
    };
    let values = Values {
        params: engine::redacted(runbook, &params),
        outputs: Default::default(),
        run: BTreeMap::from([("mode", mode.as_str().to_string())]),
    };
    let groups: Vec<Vec<PlannedStep>> = plan
        .groups
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|&i| {
                    let step = &runbook.steps[i];
                    let effect = if step.is_destructive() {
                        "destructive"
                    } else {
                        match step.action.effect() {
                            Effect::ReadOnly => "read-only",
                            Effect::Writes | Effect::Destructive => "writes",
                        }
                    };
                    PlannedStep {
                        step: step.id.value.clone(),
                        title: step.display_title().to_owned(),
                        kind: step.action.kind(),
                        effect,
                        confirm: step.is_destructive().then(|| {
                            step.confirm_text()
                                .map_or(step.id.value.clone(), |t| values.preview(&t.value))
                        }),
                        cleanup: step.cleanup,
                        needs: step.needs.iter().map(|n| n.value.clone()).collect(),
                        resolved: step
                            .templated
                            .iter()
                            .map(|t| (t.value.clone(), values.preview(&t.value)))
                            .collect(),
                    }
                })
                .collect()
        })
        .collect();
    let skipped: Vec<String> = runbook
        .steps
        .iter()
        .zip(&plan.included)
        .filter(|(_, inc)| !**inc)
        .map(|(s, _)| s.id.value.clone())
        .collect();
    let plan_doc = DryRun {
        runbook: &runbook.runbook.id.value,
        mode: mode.as_str(),
        groups,
        not_in_this_mode: skipped,
    };
    let mut out = std::io::stdout().lock();
    let written = match output {
        Output::Json => serde_json::to_writer_pretty(&mut out, &plan_doc)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        Output::Text => write_plan(&mut out, &plan_doc),
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::from(EXIT_OK)),
    }
}

fn write_plan(out: &mut impl Write, plan: &DryRun<'_>) -> std::io::Result<()> {
    let steps: usize = plan.groups.iter().map(Vec::len).sum();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    writeln!(
        out,
        "Plan of {} in {} mode: {} in {}. Nothing is run.",
        plan.runbook,
        plan.mode,
        plural(steps, "step"),
        plural(plan.groups.len(), "group")
    )?;
    writeln!(
        out,
        "Steps in one group do not depend on each other and run side by side."
    )?;
    for (g, group) in plan.groups.iter().enumerate() {
        writeln!(
            out,
            "\ngroup {}{}",
            g + 1,
            if group.iter().all(|s| s.cleanup) {
                " (cleanup)"
            } else {
                ""
            }
        )?;
        for s in group {
            let confirm = s
                .confirm
                .as_ref()
                .map(|c| format!(", confirm by typing `{c}`"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {} [{}, {}{confirm}] {}",
                s.step, s.kind, s.effect, s.title
            )?;
            if !s.needs.is_empty() {
                writeln!(out, "      needs: {}", s.needs.join(", "))?;
            }
            for (template, value) in &s.resolved {
                let value = value.replace('\n', " ");
                let value = if value.chars().count() > 100 {
                    format!("{}…", value.chars().take(100).collect::<String>())
                } else {
                    value
                };
                if template.contains('\n') {
                    writeln!(out, "      = {value}")?;
                } else {
                    writeln!(out, "      {template} = {value}")?;
                }
            }
        }
    }
    if !plan.not_in_this_mode.is_empty() {
        writeln!(
            out,
            "\nnot run in {} mode: {}",
            plan.mode,
            plan.not_in_this_mode.join(", ")
        )?;
    }
    Ok(())
}
