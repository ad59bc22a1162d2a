//! The headless front end: questions answered from the command line's
//! flags, one line per event on standard output (text for people, or JSON
//! Lines), then a closing summary against the targets and the report.
//! Ctrl-C, SIGTERM and SIGHUP cancel the run, which can be resumed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::ValueEnum;

use super::preflight::Gate;
use super::{EXIT_ABORTED, Ending, Refused, RunEnd, World};
use crate::cloud::Cloud;
use crate::engine::event::{Answer, EventKind, Outcome, Question, RunEvent, Stream};
use crate::engine::headless::{self, HeadlessAnswers};
use crate::engine::journal::WorldRecord;
use crate::engine::ledger::RunLedger;
use crate::engine::plan::Plan;
use crate::engine::timeline::Timeline;
use crate::engine::values::Values;
use crate::engine::{self, RunSetup, Started};
use crate::format::SimulatedTime;
use crate::runbook::{Mode, Runbook};

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Lines for people.
    Text,
    /// JSON Lines (one event per line), or one JSON document for a dry run.
    Json,
}

/// A new headless run, as the command line asked for it.
pub struct NewRun {
    /// The checked runbook.
    pub runbook: Runbook,
    /// Its text, for the journal.
    pub runbook_text: String,
    /// Where it was read from, absolute (a resume from another directory
    /// finds it to compare).
    pub runbook_path: PathBuf,
    /// Drill or incident.
    pub mode: Mode,
    /// Parameter values given on the command line.
    pub params: BTreeMap<String, String>,
    /// The declared outage start, if given.
    pub t0: Option<jiff::Timestamp>,
    /// Where runs are kept.
    pub data_dir: PathBuf,
    /// Steps at once.
    pub max_parallel: usize,
    /// The world it acts on.
    pub world: World,
    /// Whether preflight runs first, and whether a failed check stops it.
    pub preflight: super::preflight::Gate,
    /// How the preflight's findings are printed.
    pub output: Output,
    /// A team run whose participants answer from their own machines
    /// (`session::team_answers`): a manual or approve step the flags do
    /// not answer waits for them instead of refusing the run.
    pub team_inbox: bool,
    /// Who holds each role (`--role`, read by `people::read_roles`).
    pub roles: crate::engine::participant::Roles,
    /// A team run's driver, as the team's credentials prove them: the
    /// identity participants' answers are judged against (the world's
    /// identity otherwise; in the sandbox that is the simulated operator).
    pub team_driver: Option<crate::engine::participant::Participant>,
}

/// Starts a new headless run: refused, with nothing run, unless every
/// answer it will need is given, its parameters resolve and its cloud
/// accepts the credentials.
pub async fn start(
    run: NewRun,
    answers: &HeadlessAnswers,
) -> Result<(Started, Option<Arc<dyn Cloud>>), Refused> {
    let plan = Plan::new(&run.runbook, run.mode).map_err(Refused::because)?;
    let params = engine::resolve_params(&run.runbook, &run.params).map_err(Refused::because)?;
    let gate = run.preflight;
    // Without preflight the programs are still checked here; with it, its
    // tools area checks them (once), and their words are asked for only
    // when the run stops.
    if gate == Gate::Skip
        && let Some(missing) = super::tools::missing_message(&run.runbook)
    {
        return Err(Refused(format!("{missing}\nNothing was run.")));
    }
    let secrets = engine::secret_values(&run.runbook, &params);
    let resolved = params.clone();
    let preview = Values {
        params,
        ..Values::default()
    };
    // In a team run only a destructive step's confirmation must be given
    // here; the rest may come from the team's inbox.
    let needed: Vec<usize> = plan
        .order
        .iter()
        .copied()
        .filter(|&i| !run.team_inbox || run.runbook.steps[i].is_destructive())
        .collect();
    let missing = headless::preflight(&run.runbook, &needed, answers, &preview, &secrets);
    if !missing.is_empty() {
        return Err(Refused(format!(
            "a headless run needs every answer before it starts; nothing was run:\n  - {}",
            missing.join("\n  - ")
        )));
    }
    let cloud = run.world.for_steps(&run.runbook, &plan.order).await?;
    let preflight = match gate {
        Gate::Skip => None,
        Gate::Stop | Gate::Force => {
            // On the cloud the run will use, its credentials already
            // checked: without them nothing could run, forced or not.
            let found = super::preflight::run_on(
                &run.runbook,
                run.mode,
                resolved,
                cloud.clone(),
                run.data_dir.clone(),
                None,
            )
            .await;
            print_preflight(&found, run.output, gate);
            if let Some(Refused(stop)) = super::preflight::gate(&found, gate == Gate::Force) {
                // The programs' own words (where to install, PGHOST) first.
                let tools_failed = found
                    .of(crate::preflight::Area::Tools)
                    .any(|f| f.verdict == crate::preflight::Verdict::Fail);
                let missing = tools_failed
                    .then(|| super::tools::missing_message(&run.runbook))
                    .flatten();
                return Err(Refused(match missing {
                    Some(missing) => format!("{missing}\n{stop}"),
                    None => stop,
                }));
            }
            let forced = !found.passed();
            if forced {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: preflight found failed checks; going on anyway (--force), and the journal records it"
                );
            }
            Some((found, forced))
        }
    };
    // The journal records the world, even when no step reaches it.
    let reached = match &cloud {
        Some(cloud) => cloud.clone(),
        None => run
            .world
            .connect()
            .await
            .map_err(|e| Refused(format!("{e}\nNothing was run.")))?,
    };
    let world = super::recorded::record(reached.as_ref());
    let (driver, people) = super::people::people_for_start(
        reached.as_ref(),
        &answers.operator,
        &run.runbook,
        &run.roles,
    )
    .await?;
    let driver = run.team_driver.clone().or(driver);
    for line in people {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
    let setup = RunSetup {
        world: Some(world),
        runbook: run.runbook,
        runbook_text: run.runbook_text,
        runbook_path: run.runbook_path,
        mode: run.mode,
        params: run.params,
        t0: run.t0,
        operator: answers.operator.clone(),
        data_dir: run.data_dir,
        max_parallel: run.max_parallel,
        roles: run.roles,
        driver,
    };
    let mut started = engine::start(setup).map_err(Refused::because)?;
    if let Some((found, forced)) = preflight {
        started.engine = started.engine.with_preflight(found, forced);
    }
    Ok((started, cloud))
}

/// Prints what preflight found before a headless run: the table (text),
/// or, when the run stops there, the one `preflight_ran` line it would
/// have journaled (JSON Lines; a run that goes on prints the event itself).
fn print_preflight(found: &crate::preflight::Preflight, output: Output, gate: Gate) {
    let mut out = std::io::stdout();
    let _ = match output {
        Output::Text => write!(out, "{}", super::preflight::table(found, 80, false)),
        Output::Json if found.passed() || gate == Gate::Force => Ok(()),
        Output::Json => writeln!(
            out,
            "{}",
            serde_json::json!({
                "event": "preflight_ran",
                "preflight": found,
                "forced": false,
            })
        ),
    };
}

/// Goes on with a reopened run headless: refused, with nothing run, unless
/// every answer the remaining steps need is given (an interrupted step's
/// too) and the cloud accepts the credentials.
pub async fn go_on(
    started: Started,
    answers: &HeadlessAnswers,
    world: &World,
    recorded: Option<&WorldRecord>,
    team_inbox: bool,
) -> Result<(Started, Option<Arc<dyn Cloud>>), Refused> {
    let remaining = started.engine.remaining();
    // In a team run only a destructive step's confirmation must be given
    // here; the rest may come from the team's inbox (as for a new run).
    let needed: Vec<usize> = remaining
        .iter()
        .copied()
        .filter(|&i| !team_inbox || started.engine.runbook().steps[i].is_destructive())
        .collect();
    let preview = started.engine.values();
    let secrets = engine::secret_values(started.engine.runbook(), &preview.params);
    let mut missing = headless::preflight(
        started.engine.runbook(),
        &needed,
        answers,
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
        return Err(Refused(format!(
            "a headless resume needs every answer before it goes on; nothing was run:\n  - {}",
            missing.join("\n  - ")
        )));
    }
    let cloud = world
        .for_steps(started.engine.runbook(), &remaining)
        .await?;
    if let Some(cloud) = &cloud {
        super::recorded::same_account(started.engine.run_id(), recorded, cloud.as_ref())?;
    }
    Ok((started, cloud))
}

/// Runs a started run to its end headless, on `cloud` if given: prints
/// its events in `output`, answers its questions from `answers`, then the
/// summary and the report. Returns the exit code.
pub async fn run(
    started: Started,
    cloud: Option<Arc<dyn Cloud>>,
    answers: HeadlessAnswers,
    output: Output,
) -> ExitCode {
    run_to_end(started, cloud, answers, output).await.0
}

/// [`run`], also saying whether the run stopped because another process
/// drives it now (the team's shared log fenced it): then nothing is
/// printed about it here, the team session says who took it.
pub async fn run_to_end(
    started: Started,
    cloud: Option<Arc<dyn Cloud>>,
    answers: HeadlessAnswers,
    output: Output,
) -> (ExitCode, bool) {
    let runbook = started.engine.runbook().clone();
    let journal = started.engine.journal_path().map(Path::to_owned);
    let sim = cloud
        .as_ref()
        .and_then(|c| c.simulation())
        .map(|s| SimulatedTime { speed: s.speed });
    if let Some(path) = &journal {
        let _ = writeln!(std::io::stderr(), "journal: {}", path.display());
    }
    let resume = journal
        .as_deref()
        .and_then(Path::parent)
        .map(|dir| super::recorded::resume_command(dir, true))
        .unwrap_or_else(|| "dr-drill resume RUN --headless".into());
    let cancel = started.engine.cancel_token();
    tokio::spawn(async move {
        if let Some(signal) = stop_signal().await {
            let _ = writeln!(
                std::io::stderr(),
                "\n{signal}: cancelling running steps (their processes are killed); the run can be resumed"
            );
            cancel.cancel();
        }
    });
    let super::Running {
        mut events,
        questions,
        end,
        ..
    } = super::launch(started, cloud);
    tokio::spawn(headless::answer(questions, answers));
    let mut ledger = RunLedger::new(&runbook);
    let printer = tokio::spawn(async move {
        let mut out = std::io::stdout();
        let mut reader_gone = false;
        while let Some(event) = events.recv().await {
            if !reader_gone {
                let line = match output {
                    Output::Json => serde_json::to_string(&event).unwrap_or_default(),
                    Output::Text => crate::format::printable(&text_line(&event)).into_owned(),
                };
                // If the reader went away, the run goes on and is journaled.
                reader_gone = writeln!(out, "{line}").is_err();
            }
            // The closing summary reads where the run stands.
            ledger.apply(&event);
        }
        ledger
    });
    // A panic in the engine is the engine's: it goes on as one.
    let end: RunEnd = end
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    let ledger = printer.await.unwrap_or_else(|_| RunLedger::new(&runbook));
    if let Err(crate::engine::journal::JournalError::Fenced { .. }) = &end.outcome {
        return (ExitCode::from(EXIT_ABORTED), true);
    }
    if let Err(e) = &end.outcome {
        let _ = writeln!(
            std::io::stderr(),
            "error: {e}\nThe run stopped and its running steps were killed. Fix the cause (free disk space, permissions), then: {resume}"
        );
        debug_assert_eq!(end.ending().exit_code(), EXIT_ABORTED);
        return (ExitCode::from(end.ending().exit_code()), false);
    }
    if output == Output::Text {
        let timeline = ledger.timeline();
        let _ = write!(
            std::io::stdout(),
            "{}",
            crate::format::printable(&closing_summary(
                &runbook,
                &timeline,
                journal.as_deref(),
                sim
            ))
        );
    }
    // The report is evidence, but failing to write it does not change how
    // the run went: it is said, and can be rebuilt with `dr-drill report`.
    if let (Some(journal), Some(report)) = (&journal, &end.report) {
        match report {
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
    if end.ending().exit_code() == EXIT_ABORTED {
        let _ = writeln!(std::io::stderr(), "resume later with: {resume}");
    }
    (ExitCode::from(Ending::exit_code(end.ending())), false)
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
/// In a simulated run (`sim`), the RTO and the phase budgets are judged in
/// world time, and durations read side by side (`format::SimulatedTime`).
fn closing_summary(
    runbook: &Runbook,
    timeline: &Timeline,
    journal: Option<&Path>,
    sim: Option<SimulatedTime>,
) -> String {
    let mut out = String::from("\nsummary\n");
    // The RTO is measured on this machine's clock, so a simulated run's is
    // converted; the RPO is between the world's own moments and is not.
    let target = |actual: Option<std::time::Duration>,
                  target: Option<std::time::Duration>,
                  name: &str,
                  sim: Option<SimulatedTime>| match (actual, target) {
        (Some(a), Some(t)) => format!(
            "  {name} {} against a target of {}: {}\n",
            SimulatedTime::words(sim, a),
            engine_humanize(t),
            if SimulatedTime::judged(sim, a) <= t {
                "met"
            } else {
                "MISSED"
            }
        ),
        (Some(a), None) => format!("  {name} {} (no target)\n", SimulatedTime::words(sim, a)),
        (None, Some(t)) => format!("  {name} not measured (target {})\n", engine_humanize(t)),
        (None, None) => String::new(),
    };
    out.push_str(&target(
        timeline.rto,
        runbook.runbook.rto.as_ref().map(|r| r.value.0),
        "RTO",
        sim,
    ));
    out.push_str(&target(
        timeline.rpo,
        runbook.runbook.rpo.as_ref().map(|r| r.value.0),
        "RPO",
        None,
    ));
    for p in &timeline.phases {
        let Some(span) = p.span else { continue };
        let budget = match p.budget {
            Some(b) if SimulatedTime::judged(sim, span) > b => {
                format!(", OVER its budget of {}", engine_humanize(b))
            }
            Some(b) => format!(", within its budget of {}", engine_humanize(b)),
            None => String::new(),
        };
        out.push_str(&format!(
            "  phase {}: {}{budget}\n",
            p.phase,
            SimulatedTime::words(sim, span)
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
        EventKind::PreflightRan { preflight, forced } => format!(
            "{}{}",
            super::preflight::summary_line(preflight),
            if *forced {
                " (FORCED past a failed check, --force)"
            } else {
                ""
            }
        ),
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
        EventKind::StepOutputLeftOut { step, left_out } => {
            format!("{step} … {}", left_out.phrase())
        }
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
        EventKind::DriverChanged {
            driver,
            process,
            token,
            took_over,
        } => match took_over {
            Some(why) => format!(
                "TAKEN OVER: {} drives the run now ({process}, fencing token {token}); why: {why}",
                driver.describe()
            ),
            None => format!(
                "{} drives the run on the team's shared log ({process}, fencing token {token})",
                driver.describe()
            ),
        },
        EventKind::TeamBehind { reason } => format!(
            "TEAM CANNOT SEE THIS RUN: {reason}; the run goes on on its local journal, and the shared log catches up when the table is back"
        ),
        EventKind::TeamCaughtUp { lines } => {
            format!("the team sees the run again: the shared log caught up ({lines} lines)")
        }
        // The progress line after it says why.
        EventKind::AnswerRefused { step, who, .. } => {
            format!("{step}: the answer from {} is not counted", who.describe())
        }
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
        Question::Approve { .. } => q
            .approval_progress()
            .unwrap_or_else(|| "waits for approval".into()),
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
    o.loud_word()
}

fn answer_word(a: &Answer) -> String {
    a.phrase()
}

#[cfg(test)]
mod team_lines {
    use super::*;

    fn line(kind: EventKind) -> String {
        text_line(&RunEvent {
            at: jiff::Timestamp::UNIX_EPOCH,
            elapsed: std::time::Duration::from_secs(61),
            kind,
        })
    }

    #[test]
    fn the_team_losing_sight_of_the_run_is_printed_loudly() {
        let behind = line(EventKind::TeamBehind {
            reason: "table team, TransactWriteItems: cannot reach DynamoDB".into(),
        });
        assert!(
            behind.starts_with("00:01:01 TEAM CANNOT SEE THIS RUN: table team"),
            "{behind}"
        );
        assert!(behind.contains("goes on on its local journal"), "{behind}");
        let back = line(EventKind::TeamCaughtUp { lines: 4 });
        assert!(back.contains("caught up (4 lines)"), "{back}");
    }
}
