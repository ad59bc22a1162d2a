//! The engine on tokio's paused clock: what runs when, failure policies,
//! retries, timeouts and cancellation, read from the event stream.

use std::collections::BTreeMap;
use std::time::Duration;

use dr_drill::engine::event::{Answer, EventKind, Outcome, Question, RunEvent};
use dr_drill::engine::human::{HumanReply, HumanRequest};
use dr_drill::engine::{self, RunSummary};
use dr_drill::runbook::{Mode, check_str};
use tokio::sync::mpsc;

const HEADER: &str = "[runbook]\nid = \"engine-test\"\ntitle = \"Engine test\"\n\n";

/// Runs `steps` (TOML after the header) to the end, answering questions
/// with `answer`, and returns the summary and every event.
async fn run_with(
    steps: &str,
    max_parallel: usize,
    answer: impl FnMut(&HumanRequest) -> Answer + Send + 'static,
) -> (RunSummary, Vec<RunEvent>) {
    let text = format!("{HEADER}{steps}");
    let checked = check_str(&text);
    let runbook = checked
        .runbook
        .unwrap_or_else(|| panic!("test runbook must be valid: {:?}", checked.diagnostics));
    let dir = tempfile::tempdir().unwrap();
    let started = engine::start_unjournaled(
        runbook,
        Mode::Drill,
        BTreeMap::new(),
        dir.path().to_owned(),
        max_parallel,
    )
    .unwrap();
    let engine::Started {
        engine,
        mut events,
        questions,
    } = started;
    tokio::spawn(respond(questions, answer));
    let summary = engine.run().await.unwrap();
    let mut all = Vec::new();
    while let Ok(e) = events.try_recv() {
        all.push(e);
    }
    (summary, all)
}

/// A run of `steps` (TOML after the header) with no journal; keep the
/// directory alive as long as the run.
fn start(steps: &str) -> (engine::Started, tempfile::TempDir) {
    let text = format!("{HEADER}{steps}");
    let checked = check_str(&text);
    let runbook = checked
        .runbook
        .unwrap_or_else(|| panic!("test runbook must be valid: {:?}", checked.diagnostics));
    let dir = tempfile::tempdir().unwrap();
    let started = engine::start_unjournaled(
        runbook,
        Mode::Drill,
        BTreeMap::new(),
        dir.path().to_owned(),
        8,
    )
    .unwrap();
    (started, dir)
}

async fn respond(
    mut questions: mpsc::Receiver<HumanRequest>,
    mut answer: impl FnMut(&HumanRequest) -> Answer,
) {
    while let Some(q) = questions.recv().await {
        let a = answer(&q);
        let _ = q.reply.send(HumanReply::new(a, "tester@test"));
    }
}

fn no_questions(q: &HumanRequest) -> Answer {
    panic!("unexpected question {:?}", q.question)
}

async fn run(steps: &str, max_parallel: usize) -> (RunSummary, Vec<RunEvent>) {
    run_with(steps, max_parallel, no_questions).await
}

/// Elapsed seconds of the first event matching `f`.
fn at(events: &[RunEvent], f: impl Fn(&EventKind) -> bool) -> f64 {
    events
        .iter()
        .find(|e| f(&e.kind))
        .map(|e| e.elapsed.as_secs_f64())
        .expect("event not found")
}

fn started(step: &'static str) -> impl Fn(&EventKind) -> bool {
    move |k| matches!(k, EventKind::StepStarted { step: s, .. } if s == step)
}

fn finished(step: &'static str) -> impl Fn(&EventKind) -> bool {
    move |k| matches!(k, EventKind::StepFinished { step: s, .. } if s == step)
}

fn outcome(summary: &RunSummary, step: &str) -> Outcome {
    summary
        .steps
        .iter()
        .find(|(s, _)| s == step)
        .map(|(_, o)| *o)
        .expect("step in summary")
}

const DIAMOND: &str = r#"
[[step]]
id = "top"
kind = "wait"
duration = "1m"

[[step]]
id = "left"
needs = ["top"]
kind = "wait"
duration = "10m"

[[step]]
id = "right"
needs = ["top"]
kind = "wait"
duration = "10m"

[[step]]
id = "bottom"
needs = ["left", "right"]
kind = "wait"
duration = "1m"
"#;

#[tokio::test(start_paused = true)]
async fn independent_branches_of_a_diamond_overlap() {
    let (summary, events) = run(DIAMOND, 8).await;
    assert_eq!(summary.outcome, Outcome::Succeeded);
    // Both branches start when `top` ends and run side by side: the
    // bottom starts 10 minutes later, not 20.
    assert_eq!(at(&events, started("left")), 60.0);
    assert_eq!(at(&events, started("right")), 60.0);
    assert_eq!(at(&events, started("bottom")), 660.0);
    assert_eq!(at(&events, finished("bottom")), 720.0);
}

#[tokio::test(start_paused = true)]
async fn max_parallel_one_runs_the_branches_in_turn() {
    let (_, events) = run(DIAMOND, 1).await;
    assert_eq!(at(&events, started("bottom")), 1260.0);
}

#[tokio::test(start_paused = true)]
async fn every_step_ends_with_one_terminal_event() {
    let (_, events) = run(DIAMOND, 8).await;
    for step in ["top", "left", "right", "bottom"] {
        let ends = events.iter().filter(|e| finished(step)(&e.kind)).count();
        assert_eq!(ends, 1, "{step}");
    }
    assert!(matches!(
        events.last().unwrap().kind,
        EventKind::RunFinished {
            outcome: Outcome::Succeeded
        }
    ));
}

const FAILING_CHECK: &str = r#"kind = "check"
assert = [{ value = "0", at_least = 1, message = "the restored table is empty" }]"#;

#[tokio::test(start_paused = true)]
async fn abort_starts_nothing_new_but_lets_running_steps_finish() {
    let steps = format!(
        r#"
[[step]]
id = "long"
kind = "wait"
duration = "5m"

[[step]]
id = "bad"
{FAILING_CHECK}

[[step]]
id = "after-bad"
needs = ["bad"]
kind = "wait"
duration = "1s"

[[step]]
id = "independent"
needs = ["long"]
kind = "wait"
duration = "1s"
"#
    );
    let (summary, events) = run(&steps, 8).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    assert_eq!(outcome(&summary, "bad"), Outcome::Failed);
    assert_eq!(
        outcome(&summary, "long"),
        Outcome::Succeeded,
        "running steps finish"
    );
    assert_eq!(
        outcome(&summary, "independent"),
        Outcome::Skipped,
        "nothing new starts"
    );
    assert_eq!(outcome(&summary, "after-bad"), Outcome::Skipped);
    let reason = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::StepFinished { step, reason, .. } if step == "bad" => reason.clone(),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        reason,
        "the restored table is empty (expected at least 1, got 0)"
    );
}

#[tokio::test(start_paused = true)]
async fn continue_skips_what_depends_on_the_failure_and_runs_the_rest() {
    let steps = format!(
        r#"
[[step]]
id = "bad"
on_failure = "continue"
{FAILING_CHECK}

[[step]]
id = "needs-bad"
needs = ["bad"]
kind = "wait"
duration = "1s"

[[step]]
id = "after-needs-bad"
needs = ["needs-bad"]
kind = "wait"
duration = "1s"

[[step]]
id = "other"
kind = "wait"
duration = "1m"
"#
    );
    let (summary, _) = run(&steps, 8).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    assert_eq!(outcome(&summary, "other"), Outcome::Succeeded);
    assert_eq!(outcome(&summary, "needs-bad"), Outcome::Skipped);
    assert_eq!(outcome(&summary, "after-needs-bad"), Outcome::Skipped);
}

#[tokio::test(start_paused = true)]
async fn ask_lets_the_operator_retry_then_skip_and_the_run_goes_on() {
    let steps = format!(
        r#"
[[step]]
id = "bad"
on_failure = "ask"
{FAILING_CHECK}

[[step]]
id = "after"
needs = ["bad"]
kind = "wait"
duration = "1s"
"#
    );
    let mut asked = 0;
    let (summary, events) = run_with(&steps, 8, move |q| {
        assert!(matches!(q.question, Question::Failure { .. }));
        asked += 1;
        if asked == 1 {
            Answer::Retry
        } else {
            Answer::Skip
        }
    })
    .await;
    let attempts = events.iter().filter(|e| started("bad")(&e.kind)).count();
    assert_eq!(attempts, 2, "retried once on request");
    assert_eq!(outcome(&summary, "bad"), Outcome::Waived);
    assert_eq!(
        outcome(&summary, "after"),
        Outcome::Succeeded,
        "a skipped step does not hold back its dependents"
    );
    assert_eq!(summary.outcome, Outcome::Succeeded);
}

#[tokio::test(start_paused = true)]
async fn ask_with_abort_stops_the_run_as_failed() {
    let steps = format!("[[step]]\nid = \"bad\"\non_failure = \"ask\"\n{FAILING_CHECK}\n");
    let (summary, events) = run_with(&steps, 8, |_| Answer::Abort).await;
    // A step failed and the operator stopped there: the run failed (exit
    // status 1), it was not cancelled.
    assert_eq!(summary.outcome, Outcome::Failed);
    assert!(events.iter().any(|e| matches!(
        &e.kind,
        EventKind::HumanAnswered {
            who: None,
            answer: Answer::Abort,
            ..
        }
    )));
}

#[tokio::test(start_paused = true)]
async fn retries_back_off_doubling_up_to_the_bound() {
    let steps = format!(
        "[[step]]\nid = \"bad\"\nretry = {{ attempts = 4, backoff = \"10s\", max_backoff = \"25s\" }}\n{FAILING_CHECK}\n"
    );
    let (summary, events) = run(&steps, 8).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let starts: Vec<f64> = events
        .iter()
        .filter(|e| started("bad")(&e.kind))
        .map(|e| e.elapsed.as_secs_f64())
        .collect();
    // Waits of 10s, 20s, then 25s (20s doubled is 40s, bounded by 25s).
    assert_eq!(starts, vec![0.0, 10.0, 30.0, 55.0]);
    let retries = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::StepRetrying { .. }))
        .count();
    assert_eq!(retries, 3);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_fails_the_attempt_and_says_so() {
    let steps = "[[step]]\nid = \"slow\"\nkind = \"wait\"\nrun = \"sleep 3600\"\ntimeout = \"5m\"\ninterval = \"1m\"\n";
    // The probe is a real process: on the paused clock the timeout fires
    // as soon as nothing else is due, which is what is under test.
    let (summary, events) = run(steps, 8).await;
    assert_eq!(outcome(&summary, "slow"), Outcome::Failed);
    let reason = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::StepFinished { reason, .. } => reason.clone(),
            _ => None,
        })
        .unwrap();
    assert_eq!(reason, "timed out after 5m");
    assert_eq!(at(&events, finished("slow")), 300.0);
}

#[tokio::test(start_paused = true)]
async fn cancelling_marks_running_steps_cancelled_and_the_rest_skipped() {
    let (started, _dir) = start(
        "[[step]]\nid = \"long\"\nkind = \"wait\"\nduration = \"1h\"\n\n[[step]]\nid = \"next\"\nneeds = [\"long\"]\nkind = \"wait\"\nduration = \"1s\"\n",
    );
    let cancel = started.engine.cancel_token();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        cancel.cancel();
    });
    let summary = started.engine.run().await.unwrap();
    assert_eq!(summary.outcome, Outcome::Aborted);
    assert_eq!(outcome(&summary, "long"), Outcome::Cancelled);
    assert_eq!(outcome(&summary, "next"), Outcome::Skipped);
}

#[tokio::test(start_paused = true)]
async fn outputs_flow_to_later_steps_and_the_rto_stops_at_its_step() {
    let steps = r#"
[[step]]
id = "smoke"
kind = "manual"
instructions = "Send a message"
question = "Delivered?"
choices = ["yes", "no"]

[[step]]
id = "wait"
needs = ["smoke"]
kind = "wait"
duration = "2m"

[[step]]
id = "passed"
needs = ["wait"]
kind = "check"
assert = [{ value = "{{ steps.smoke.answer }}", equals = "yes" }]
ends_rto = true
"#;
    let (summary, events) = run_with(steps, 8, |_| Answer::Acknowledged {
        answer: Some("yes".into()),
    })
    .await;
    assert_eq!(summary.outcome, Outcome::Succeeded);
    let rto = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::RtoStopped { rto, step } if step == "passed" => Some(*rto),
            _ => None,
        })
        .expect("RTO stopped");
    assert_eq!(rto.as_secs(), 120);
}

#[tokio::test(start_paused = true)]
async fn a_wrong_confirmation_changes_nothing() {
    let steps = r#"
[[step]]
id = "drop"
kind = "shell"
run = "touch dropped"
destructive = true
confirm = "cabal-addresses-restored"
"#;
    let (summary, events) = run_with(steps, 8, |_| Answer::Confirmed {
        typed: "cabal-addresses".into(),
    })
    .await;
    assert_eq!(outcome(&summary, "drop"), Outcome::Failed);
    assert!(
        !events.iter().any(|e| started("drop")(&e.kind)),
        "the step never started"
    );
}

#[tokio::test(start_paused = true)]
async fn cleanup_runs_after_a_failure_when_what_it_needs_succeeded() {
    let steps = format!(
        r#"
[[step]]
id = "restore"
kind = "wait"
duration = "1m"

[[step]]
id = "verify"
needs = ["restore"]
{FAILING_CHECK}

[[step]]
id = "drop-restored"
needs = ["restore"]
kind = "wait"
duration = "1s"
cleanup = true
"#
    );
    let (summary, events) = run(&steps, 8).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    assert_eq!(outcome(&summary, "drop-restored"), Outcome::Succeeded);
    assert!(at(&events, started("drop-restored")) >= at(&events, finished("verify")));
}

/// Real time and real processes: cancelling a shell step kills the command
/// and everything it started, background children included.
#[tokio::test]
async fn cancelling_a_shell_step_kills_its_whole_process_group() {
    let marker = format!("{}", 7_000_000 + std::process::id());
    let steps = format!(
        "[[step]]\nid = \"tree\"\nkind = \"shell\"\nrun = \"sleep {marker} & sleep {marker}\"\n"
    );
    let (started, _dir) = start(&steps);
    let cancel = started.engine.cancel_token();
    let count = |marker: String| {
        let out = std::process::Command::new("pgrep")
            .args(["-f", &format!("sleep {marker}")])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    let watcher = {
        let marker = marker.clone();
        tokio::spawn(async move {
            for _ in 0..100 {
                if count(marker.clone()) >= 2 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let running = count(marker.clone());
            cancel.cancel();
            running
        })
    };
    let summary = started.engine.run().await.unwrap();
    // Both sleeps, and `sh` itself, whose command line names them too.
    assert!(
        watcher.await.unwrap() >= 2,
        "the sleeps were running before the cancel"
    );
    assert_eq!(outcome(&summary, "tree"), Outcome::Cancelled);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(count(marker), 0, "no process of the step survives");
}

#[tokio::test(start_paused = true)]
async fn the_timeline_splits_human_wait_from_machine_time_and_finds_the_critical_path() {
    use dr_drill::engine::timeline::Timeline;
    let steps = r#"
[[phase]]
id = "restore"
budget = "30m"

[[phase]]
id = "verify"

[[step]]
id = "restore"
phase = "restore"
kind = "wait"
duration = "10m"

[[step]]
id = "side"
phase = "restore"
kind = "wait"
duration = "1m"

[[step]]
id = "smoke"
phase = "verify"
needs = ["restore"]
kind = "manual"
instructions = "Check mail"

[[step]]
id = "done"
phase = "verify"
needs = ["smoke", "side"]
kind = "wait"
duration = "2m"
ends_rto = true
"#;
    let (started, _dir) = start(steps);
    let runbook = started.engine.runbook().clone();
    let engine::Started {
        engine,
        mut events,
        mut questions,
    } = started;
    tokio::spawn(async move {
        while let Some(q) = questions.recv().await {
            // The operator takes 5 minutes to answer.
            tokio::time::sleep(Duration::from_secs(300)).await;
            let _ = q.reply.send(HumanReply::new(
                Answer::Acknowledged { answer: None },
                "tester@test",
            ));
        }
    });
    engine.run().await.unwrap();
    let mut all = Vec::new();
    while let Ok(e) = events.try_recv() {
        all.push(e);
    }
    let timeline = Timeline::new(&runbook, &all);
    let smoke = timeline.steps.iter().find(|s| s.step == "smoke").unwrap();
    assert_eq!(smoke.human_wait, Duration::from_secs(300));
    assert_eq!(smoke.machine, Some(Duration::ZERO));
    assert_eq!(timeline.critical_path, ["restore", "smoke", "done"]);
    assert_eq!(timeline.rto, Some(Duration::from_secs(600 + 300 + 120)));
    let restore = timeline
        .phases
        .iter()
        .find(|p| p.phase == "restore")
        .unwrap();
    assert_eq!(restore.span, Some(Duration::from_secs(600)));
    assert_eq!(restore.on_critical_path, Duration::from_secs(600));
    let verify = timeline
        .phases
        .iter()
        .find(|p| p.phase == "verify")
        .unwrap();
    assert_eq!(verify.on_critical_path, Duration::from_secs(420));
}

#[tokio::test(start_paused = true)]
async fn a_failing_cleanup_step_does_not_stop_the_other_cleanup() {
    let steps = format!(
        r#"
[[step]]
id = "restore"
kind = "wait"
duration = "1m"

[[step]]
id = "drop-a"
needs = ["restore"]
cleanup = true
{FAILING_CHECK}

[[step]]
id = "drop-b"
needs = ["restore"]
cleanup = true
kind = "wait"
duration = "1s"
"#
    );
    let (summary, _) = run(&steps, 1).await;
    assert_eq!(outcome(&summary, "drop-a"), Outcome::Failed);
    assert_eq!(outcome(&summary, "drop-b"), Outcome::Succeeded);
}

#[tokio::test(start_paused = true)]
async fn skipped_steps_are_off_the_critical_path_and_unstarted_phases_do_not_finish() {
    use dr_drill::engine::timeline::Timeline;
    let steps = format!(
        r#"
[[phase]]
id = "restore"

[[phase]]
id = "verify"

[[step]]
id = "a"
phase = "restore"
kind = "wait"
duration = "1m"

[[step]]
id = "b"
phase = "restore"
needs = ["a"]
{FAILING_CHECK}

[[step]]
id = "c"
phase = "verify"
needs = ["b"]
kind = "wait"
duration = "1s"
ends_rto = true
"#
    );
    let (started, _dir) = start(&steps);
    let runbook = started.engine.runbook().clone();
    let engine::Started {
        engine, mut events, ..
    } = started;
    engine.run().await.unwrap();
    let mut all = Vec::new();
    while let Ok(e) = events.try_recv() {
        all.push(e);
    }
    assert!(
        !all.iter()
            .any(|e| matches!(&e.kind, EventKind::PhaseFinished { phase } if phase == "verify"))
    );
    let reason = all
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::StepFinished { step, reason, .. } if step == "c" => reason.clone(),
            _ => None,
        })
        .unwrap();
    assert_eq!(reason, "needs `b`, which did not succeed");
    assert_eq!(Timeline::new(&runbook, &all).critical_path, ["a", "b"]);
}
