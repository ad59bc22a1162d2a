//! Participants answer a team run from their own machines: the relay
//! (`session::team_answers`) hands the step the first answer from the
//! driver's front end or the run's inbox; the step's approval rules decide
//! whether it counts. In one process, over `MemoryStore`, with a real
//! journaled engine mirrored to the shared log.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use dr_drill::engine::approval::RunPeople;
use dr_drill::engine::event::{Answer, EventKind, Outcome, RunEvent};
use dr_drill::engine::headless::HeadlessAnswers;
use dr_drill::engine::human::{HumanReply, HumanRequest};
use dr_drill::engine::participant::{Participant, Roles};
use dr_drill::engine::{self, RunSetup};
use dr_drill::runbook::{Mode, check_str};
use dr_drill::session::team_answers::{FrontEnd, Posted, Posting, Relay, post};
use dr_drill::team::log::{LogOptions, SharedLog};
use dr_drill::team::memory::MemoryStore;
use dr_drill::team::{LeaseRequest, RunEntry, TeamAnswer, TeamStore};

const HEADER: &str = "[runbook]\nid = \"answers\"\ntitle = \"Answers\"\n\n";

fn person(name: &str) -> Participant {
    Participant {
        arn: format!("arn:aws:iam::123456789012:user/{name}"),
        account: "123456789012".into(),
        name: name.into(),
    }
}

fn people() -> RunPeople {
    RunPeople {
        driver: Some(person("lead")),
        roles: Roles::from([
            ("lead".to_string(), vec!["lead".to_string()]),
            ("dba".to_string(), vec!["alice".to_string()]),
            ("app".to_string(), vec!["carol".to_string()]),
        ]),
        team: true,
    }
}

/// A team run of `steps` on `store`, driven by `lead`, its questions
/// relayed to `front` and the inbox. Returns the engine's run task, the
/// run id, the front end's questions and the events.
struct Driven {
    run_id: String,
    done: tokio::task::JoinHandle<Outcome>,
    front: tokio::sync::mpsc::Receiver<HumanRequest>,
    events: tokio::sync::mpsc::UnboundedReceiver<RunEvent>,
    _log: Arc<SharedLog>,
    _dir: tempfile::TempDir,
}

async fn drive(store: &Arc<MemoryStore>, steps: &str, front: FrontEnd) -> Driven {
    drive_on(store.clone(), steps, Some(front)).await
}

/// [`drive`] on any store; without a front end nothing relays (nobody
/// reads the inbox).
async fn drive_on<S: TeamStore + 'static>(
    store: Arc<S>,
    steps: &str,
    front: Option<FrontEnd>,
) -> Driven {
    let text = format!("{HEADER}{steps}");
    let runbook = check_str(&text).runbook.expect("valid test runbook");
    let dir = tempfile::tempdir().unwrap();
    let started = engine::start(RunSetup {
        runbook,
        runbook_text: text,
        runbook_path: dir.path().join("rb.toml"),
        mode: Mode::Drill,
        params: BTreeMap::new(),
        t0: None,
        operator: "lead@host".into(),
        data_dir: dir.path().to_owned(),
        max_parallel: 4,
        world: None,
        roles: Default::default(),
        driver: None,
    })
    .unwrap();
    let journal = started.engine.journal_path().unwrap().to_owned();
    let run_id = started.engine.run_id().to_owned();
    let header = std::fs::read_to_string(&journal).unwrap();
    let entry = RunEntry {
        run_id: run_id.clone(),
        runbook_id: "answers".into(),
        mode: "drill".into(),
        started_at: jiff::Timestamp::now(),
        driver: person("lead"),
    };
    let request = LeaseRequest {
        holder: person("lead"),
        process: "lead@host pid 1".into(),
        duration: Duration::from_secs(30),
    };
    let lease = store
        .create_run(&entry, header.trim_end(), &request)
        .await
        .unwrap();
    let (log, _notices) = SharedLog::start(
        store.clone(),
        run_id.clone(),
        lease.token,
        LogOptions::default(),
    );
    let log = Arc::new(log);
    let engine = started
        .engine
        .with_mirror(log.clone())
        .with_people(people());
    // The driver's line, as the team session writes it first.
    engine
        .recorder()
        .record(EventKind::DriverChanged {
            driver: person("lead"),
            process: "lead@host pid 1".into(),
            token: lease.token,
            took_over: None,
        })
        .await
        .unwrap();
    let front = match front {
        Some(front) => Relay {
            store: store.clone(),
            run: run_id.clone(),
            front,
            people: people(),
            poll: Duration::from_millis(20),
        }
        .start(engine.runbook(), started.questions),
        // The questions are held, never answered.
        None => started.questions,
    };
    let done = tokio::spawn(async move { engine.run().await.unwrap().outcome });
    Driven {
        run_id,
        done,
        front,
        events: started.events,
        _log: log,
        _dir: dir,
    }
}

/// The shared log's `human_asked` lines of `step`, waiting until there
/// are `n` of them.
async fn asked(store: &dyn TeamStore, run: &str, step: &str, n: usize) -> Vec<u64> {
    for _ in 0..500 {
        let seqs: Vec<u64> = store
            .read_log(run, 0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|(_, l)| l.contains("\"human_asked\"") && l.contains(&format!("\"{step}\"")))
            .map(|(s, _)| s)
            .collect();
        if seqs.len() >= n {
            return seqs;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{step} was not asked {n} times on the shared log");
}

async fn inbox(store: &MemoryStore, run: &str, step: &str, asked: u64, who: &str, answer: Answer) {
    store
        .post_answer(
            run,
            &TeamAnswer {
                step: step.into(),
                asked,
                answer,
                note: Some(format!("from {who}'s laptop")),
                by: person(who),
                at: jiff::Timestamp::now(),
            },
        )
        .await
        .unwrap();
}

async fn finish(d: &mut Driven) -> (Outcome, Vec<EventKind>) {
    let outcome = tokio::time::timeout(Duration::from_secs(20), &mut d.done)
        .await
        .expect("the run finishes")
        .unwrap();
    let mut all = Vec::new();
    while let Ok(e) = d.events.try_recv() {
        all.push(e.kind);
    }
    (outcome, all)
}

fn answered(events: &[EventKind]) -> Vec<(String, Answer)> {
    events
        .iter()
        .filter_map(|k| match k {
            EventKind::HumanAnswered { who, answer, .. } => {
                Some((who.as_ref().map(|w| w.name.clone())?, answer.clone()))
            }
            _ => None,
        })
        .collect()
}

fn progress(events: &[EventKind]) -> Vec<String> {
    events
        .iter()
        .filter_map(|k| match k {
            EventKind::StepProgress { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

const OWNED: &str = r#"
[[step]]
id = "restore"
kind = "manual"
owner = "dba"
instructions = "Restore the orders table."
"#;

#[tokio::test]
async fn the_dbas_inbox_answer_completes_an_owned_step_and_a_non_dba_is_refused() {
    let store = Arc::new(MemoryStore::new("team"));
    // Headless with no --answer: the step waits for the inbox.
    let mut d = drive(
        &store,
        OWNED,
        FrontEnd::Headless(HeadlessAnswers::default()),
    )
    .await;
    let first = asked(&*store, &d.run_id, "restore", 1).await[0];
    let done = || Answer::Acknowledged { answer: None };
    inbox(&store, &d.run_id, "restore", first, "bob", done()).await;
    // Refused, the step asks again; alice answers the first question
    // (still this attempt's).
    asked(&*store, &d.run_id, "restore", 2).await;
    inbox(&store, &d.run_id, "restore", first, "alice", done()).await;
    let (outcome, events) = finish(&mut d).await;
    assert_eq!(outcome, Outcome::Succeeded, "{events:?}");
    assert_eq!(
        answered(&events),
        vec![("bob".into(), done()), ("alice".into(), done())]
    );
    let refusals = progress(&events);
    assert!(
        refusals
            .iter()
            .any(|m| m.contains("bob does not hold the role `dba`")),
        "{refusals:?}"
    );
    // The shared log (and so the journal) records alice by her ARN.
    let lines: Vec<String> = store.lines(&d.run_id).into_iter().map(|l| l.1).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("human_answered")
                && l.contains("arn:aws:iam::123456789012:user/alice")),
        "{lines:#?}"
    );
    assert!(d.front.try_recv().is_err(), "the flags gave no answer");
}

const TWO_OF_THREE: &str = r#"
[[step]]
id = "cutover"
kind = "approve"
approvers = ["lead", "dba", "app"]
required = 2
"#;

#[tokio::test]
async fn two_of_three_the_drivers_console_approval_is_refused_and_two_inbox_approvals_complete_it()
{
    let store = Arc::new(MemoryStore::new("team"));
    let mut d = drive(&store, TWO_OF_THREE, FrontEnd::Console).await;
    // The driver approves at the console, once; later dialogs stay open.
    let request = d.front.recv().await.unwrap();
    let first = request.asked.expect("a journaled question has its line");
    let _ = request
        .reply
        .send(HumanReply::new(Answer::Approved, "lead@host"));
    let mut open = Vec::new();
    open.push(d.front.recv().await.unwrap());
    inbox(
        &store,
        &d.run_id,
        "cutover",
        first,
        "alice",
        Answer::Approved,
    )
    .await;
    inbox(
        &store,
        &d.run_id,
        "cutover",
        first,
        "carol",
        Answer::Approved,
    )
    .await;
    let (outcome, events) = finish(&mut d).await;
    assert_eq!(outcome, Outcome::Succeeded, "{events:?}");
    assert_eq!(
        answered(&events),
        vec![
            ("lead".into(), Answer::Approved),
            ("alice".into(), Answer::Approved),
            ("carol".into(), Answer::Approved),
        ]
    );
    let refusals = progress(&events);
    assert!(
        refusals
            .iter()
            .any(|m| m.contains("the driver cannot approve their own")),
        "{refusals:?}"
    );
    let outputs = events.iter().find_map(|k| match k {
        EventKind::StepFinished { outputs, .. } => Some(outputs.clone()),
        _ => None,
    });
    assert_eq!(
        outputs.unwrap().get("approved_by").map(String::as_str),
        Some("alice, carol")
    );
}

const RETRIED: &str = r#"
[[step]]
id = "verify"
kind = "manual"
instructions = "Compare the row counts."
question = "Do they match?"
choices = ["yes", "no"]
retry = { attempts = 2, backoff = "1s" }
"#;

#[tokio::test]
async fn an_inbox_answer_to_an_earlier_attempts_question_is_ignored() {
    let store = Arc::new(MemoryStore::new("team"));
    let mut d = drive(
        &store,
        RETRIED,
        FrontEnd::Headless(HeadlessAnswers::default()),
    )
    .await;
    let say = |a: &str| Answer::Acknowledged {
        answer: Some(a.into()),
    };
    let first = asked(&*store, &d.run_id, "verify", 1).await[0];
    // Not one of the choices: the first attempt fails, the second asks.
    inbox(&store, &d.run_id, "verify", first, "alice", say("maybe")).await;
    let second = asked(&*store, &d.run_id, "verify", 2).await[1];
    assert!(second > first);
    // A late answer to the first attempt's question, then one to this
    // attempt's: only the second counts.
    inbox(&store, &d.run_id, "verify", first, "carol", say("no")).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    inbox(&store, &d.run_id, "verify", second, "alice", say("yes")).await;
    let (outcome, events) = finish(&mut d).await;
    assert_eq!(outcome, Outcome::Succeeded, "{events:?}");
    assert_eq!(
        answered(&events),
        vec![("alice".into(), say("maybe")), ("alice".into(), say("yes"))]
    );
}

fn posting(run: &str, step: &str, who: &str, answer: Answer) -> Posting {
    Posting {
        run: run.into(),
        step: step.into(),
        answer,
        note: None,
        by: person(who),
        wait: Duration::from_secs(10),
        poll: Duration::from_millis(20),
    }
}

#[tokio::test]
async fn answer_hears_the_driver_refuse_a_non_dba_and_take_the_dba() {
    let store = Arc::new(MemoryStore::new("team"));
    let mut d = drive(
        &store,
        OWNED,
        FrontEnd::Headless(HeadlessAnswers::default()),
    )
    .await;
    asked(&*store, &d.run_id, "restore", 1).await;
    let done = || Answer::Acknowledged { answer: None };
    let bob = post(&*store, &posting(&d.run_id, "restore", "bob", done()))
        .await
        .unwrap();
    let Posted::Refused(why) = bob else {
        panic!("{bob:?}")
    };
    assert!(why.contains("does not hold the role `dba`"), "{why}");
    let alice = post(&*store, &posting(&d.run_id, "restore", "alice", done()))
        .await
        .unwrap();
    assert_eq!(alice, Posted::Accepted);
    let (outcome, _) = finish(&mut d).await;
    assert_eq!(outcome, Outcome::Succeeded);
    // The run has ended: nothing more is asked, nothing is posted.
    let late = post(&*store, &posting(&d.run_id, "restore", "alice", done()))
        .await
        .unwrap();
    assert!(
        matches!(&late, Posted::NoQuestion(why) if why.contains("has ended")),
        "{late:?}"
    );
    assert_eq!(store.answers(&d.run_id, 0).await.unwrap().len(), 2);
}

#[tokio::test]
async fn answer_says_a_step_is_not_asking_and_that_nobody_read_an_answer() {
    let store = Arc::new(MemoryStore::new("team"));
    let steps = format!(
        "{OWNED}\n[[step]]\nid = \"later\"\nneeds = [\"restore\"]\nkind = \"manual\"\ninstructions = \"Then.\"\n"
    );
    // No relay: nobody reads the inbox.
    let d = drive_on(store.clone(), &steps, None).await;
    let asked_at = asked(&*store, &d.run_id, "restore", 1).await[0];
    let not_yet = post(
        &*store,
        &posting(&d.run_id, "later", "alice", Answer::Approved),
    )
    .await
    .unwrap();
    assert!(
        matches!(&not_yet, Posted::NoQuestion(why) if why.contains("not asking")),
        "{not_yet:?}"
    );
    let mut quick = posting(
        &d.run_id,
        "restore",
        "alice",
        Answer::Acknowledged { answer: None },
    );
    quick.wait = Duration::from_millis(100);
    assert_eq!(post(&*store, &quick).await.unwrap(), Posted::Unread(1));
    let inbox = store.answers(&d.run_id, 0).await.unwrap();
    assert_eq!(
        inbox.len(),
        1,
        "only the answer to an open question is posted"
    );
    assert_eq!(inbox[0].1.asked, asked_at);
    assert_eq!(inbox[0].1.by, person("alice"));
    d.done.abort();
}

/// `dr-drill answer` as a participant runs it, against moto's DynamoDB
/// and STS: (exit code, stderr).
async fn answer_cli(table: &str, args: &[&str]) -> (i32, String) {
    use assert_cmd::prelude::*;
    let mut cmd = std::process::Command::cargo_bin("dr-drill").unwrap();
    cmd.envs(crate::support::moto().env())
        .env_remove("DR_DRILL_TEAM")
        .arg("answer")
        .args(args)
        .args(["--team", table, "--as", "Alice"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_command_posts_with_the_callers_arn_and_says_when_nobody_reads_it() {
    use dr_drill::team::DynamoStore;
    let moto = crate::support::moto();
    let store = DynamoStore::new(
        &moto.sdk_config("us-east-1"),
        &crate::support::unique("team"),
    );
    dr_drill::team::dynamo::init_table(&store, Duration::from_millis(50))
        .await
        .unwrap();
    let table = store.table().to_owned();
    let store = Arc::new(store);
    let steps = format!(
        "{OWNED}\n[[step]]\nid = \"later\"\nneeds = [\"restore\"]\nkind = \"manual\"\ninstructions = \"Then.\"\n"
    );
    // A driver whose inbox nobody reads.
    let d = drive_on(store.clone(), &steps, None).await;
    let asked_at = asked(&*store, &d.run_id, "restore", 1).await[0];
    let (code, err) = answer_cli(&table, &[&d.run_id, "restore", "done", "--wait", "1"]).await;
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("posted") && err.contains("not read it yet"),
        "{err}"
    );
    let inbox = store.answers(&d.run_id, 0).await.unwrap();
    assert_eq!(inbox.len(), 1);
    let posted = &inbox[0].1;
    assert_eq!(posted.asked, asked_at);
    assert_eq!(posted.by.name, "Alice");
    assert!(
        posted.by.arn.starts_with("arn:aws:") && posted.by.arn.contains("123456789012"),
        "the caller's ARN from STS: {}",
        posted.by.arn
    );
    let (code, err) = answer_cli(&table, &[&d.run_id, "later", "done"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`later`") && err.contains("not asking"),
        "{err}"
    );
    let (code, err) = answer_cli(&table, &["no-such-run", "restore", "done"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("holds no run no-such-run"), "{err}");
    assert_eq!(store.answers(&d.run_id, 0).await.unwrap().len(), 1);
    d.done.abort();
}

/// `dr-drill ARGS` against moto: (exit code, stdout, stderr).
async fn cli(args: Vec<String>) -> (i32, String, String) {
    use assert_cmd::prelude::*;
    let mut cmd = std::process::Command::cargo_bin("dr-drill").unwrap();
    cmd.envs(crate::support::moto().env())
        .env_remove("DR_DRILL_TEAM")
        .env("NO_COLOR", "1")
        .args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_and_watch_read_the_team_table() {
    use dr_drill::team::DynamoStore;
    let store = DynamoStore::new(
        &crate::support::moto().sdk_config("us-east-1"),
        &crate::support::unique("team"),
    );
    dr_drill::team::dynamo::init_table(&store, Duration::from_millis(50))
        .await
        .unwrap();
    let table = store.table().to_owned();
    let run = crate::support::unique("restore-20260101T000000Z");
    let entry = RunEntry {
        run_id: run.clone(),
        runbook_id: "restore".into(),
        mode: "drill".into(),
        started_at: jiff::Timestamp::now(),
        driver: person("lead"),
    };
    let request = LeaseRequest {
        holder: person("lead"),
        process: "lead@host pid 1".into(),
        duration: Duration::from_secs(30),
    };
    store
        .create_run(&entry, r#"{"header":1}"#, &request)
        .await
        .unwrap();
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let (code, out, err) = cli(s(&["runs", "--team", &table, "--output", "json"])).await;
    assert_eq!(code, 0, "{err}");
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_id"] == run.as_str())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row["driver"].as_str().unwrap().contains("lead"), "{row}");
    let (code, out, err) = cli(s(&["runs", "--team", &table])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&run), "{out}");
    // No such run: said before the terminal is taken.
    let (code, _, err) = cli(s(&["watch", "no-such-run", "--team", &table])).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("table {table} holds no run no-such-run")),
        "{err}"
    );
    // A table that is not there names what to do.
    let (code, _, err) = cli(s(&["runs", "--team", "no-such-team-table"])).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no-such-team-table"), "{err}");
}

#[tokio::test]
async fn answer_refuses_early_what_the_record_rules_out() {
    let store = Arc::new(MemoryStore::new("team"));
    let steps = format!(
        "{TWO_OF_THREE}\n[[step]]\nid = \"named\"\nkind = \"approve\"\napprovers = [\"arn:aws:iam::123456789012:user/alice\", \"carol@example.com\"]\n"
    );
    let d = drive_on(store.clone(), &steps, None).await;
    asked(&*store, &d.run_id, "cutover", 1).await;
    asked(&*store, &d.run_id, "named", 1).await;
    let own = post(
        &*store,
        &posting(&d.run_id, "cutover", "lead", Answer::Approved),
    )
    .await
    .unwrap();
    assert!(
        matches!(&own, Posted::NotEligible(why) if why.contains("the driver cannot approve their own")),
        "{own:?}"
    );
    let bob = post(
        &*store,
        &posting(&d.run_id, "named", "bob", Answer::Approved),
    )
    .await
    .unwrap();
    assert!(
        matches!(&bob, Posted::NotEligible(why) if why.contains("bob is not an approver (approvers: arn:aws:iam::123456789012:user/alice, carol@example.com)")),
        "{bob:?}"
    );
    // A role is the driver's to judge: posted.
    let mut dba = posting(&d.run_id, "cutover", "alice", Answer::Approved);
    dba.wait = Duration::from_millis(50);
    assert_eq!(post(&*store, &dba).await.unwrap(), Posted::Unread(1));
    d.done.abort();
}

/// A headless team run starts without `--answer` for its manual and
/// approve steps (they wait for the team); a solo run is refused, as
/// before.
#[tokio::test]
async fn a_headless_team_run_starts_without_answers_the_team_gives() {
    use dr_drill::session::World;
    use dr_drill::session::headless::{NewRun, Output, start};
    use dr_drill::session::preflight::Gate;
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HEADER}{OWNED}{TWO_OF_THREE}");
    let new_run = |team_inbox| NewRun {
        runbook: check_str(&text).runbook.unwrap(),
        runbook_text: text.clone(),
        runbook_path: dir.path().join("rb.toml"),
        mode: Mode::Drill,
        params: BTreeMap::new(),
        t0: None,
        data_dir: dir.path().to_owned(),
        max_parallel: 2,
        world: World::Sandbox(Default::default()),
        preflight: Gate::Skip,
        output: Output::Text,
        team_inbox,
        team_driver: None,
        roles: Default::default(),
    };
    let answers = HeadlessAnswers::default();
    let solo = start(new_run(false), &answers)
        .await
        .err()
        .expect("refused");
    assert!(solo.0.contains("needs every answer"), "{}", solo.0);
    assert!(start(new_run(true), &answers).await.is_ok());
}
