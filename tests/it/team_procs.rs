//! Participants answering a team run from their own processes, over
//! moto's DynamoDB and STS with the real binary: a driver (dave) runs a
//! headless sandbox run on the team table; alice, bob and carol answer
//! with `dr-drill answer`, each with their own IAM user's access key, so
//! STS `GetCallerIdentity` tells each process its own ARN. A follower
//! reads the shared log while the run goes; `dr-drill runs --team` lists
//! the run at the end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use assert_cmd::prelude::*;

use dr_drill::team::{DynamoStore, TeamStore};

use crate::support::drill::block_on;
use crate::support::{moto, unique};

/// One IAM user on moto: its name, ARN and access key.
#[derive(Clone)]
struct User {
    name: String,
    arn: String,
    key: String,
    secret: String,
}

/// alice, bob, carol and dave as IAM users on moto (names made unique
/// per test binary), each with an access key; created once.
fn users() -> &'static BTreeMap<&'static str, User> {
    static USERS: OnceLock<BTreeMap<&'static str, User>> = OnceLock::new();
    USERS.get_or_init(|| {
        block_on(async {
            let iam = aws_sdk_iam::Client::new(&moto().sdk_config("us-east-1"));
            let mut all = BTreeMap::new();
            for who in ["alice", "bob", "carol", "dave"] {
                let name = unique(who);
                // IAM CreateUser / CreateAccessKey (iam service model).
                let user = iam.create_user().user_name(&name).send().await.unwrap();
                let key = iam
                    .create_access_key()
                    .user_name(&name)
                    .send()
                    .await
                    .unwrap();
                let key = key.access_key().unwrap();
                let user = User {
                    name: name.clone(),
                    arn: user.user().unwrap().arn().to_owned(),
                    key: key.access_key_id().to_owned(),
                    secret: key.secret_access_key().to_owned(),
                };
                all.insert(who, user);
            }
            all
        })
    })
}

fn user(who: &str) -> &'static User {
    &users()[who]
}

/// `dr-drill` against moto as `who`: their own access key.
fn dr_drill(who: &str) -> Command {
    let u = user(who);
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.env_remove("AWS_PROFILE")
        .env_remove("DR_DRILL_TEAM")
        .envs(moto().env())
        .env("AWS_ACCESS_KEY_ID", &u.key)
        .env("AWS_SECRET_ACCESS_KEY", &u.secret)
        .env_remove("AWS_ACCOUNT_ID")
        .env("NO_COLOR", "1");
    cmd
}

fn said(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn store(table: &str) -> DynamoStore {
    DynamoStore::new(&moto().sdk_config("us-east-1"), table)
}

/// A new team table, made by `dr-drill team init`.
fn team_table() -> String {
    let table = unique("team-procs");
    let out = dr_drill("dave")
        .args(["team", "init", &table])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", said(&out));
    table
}

/// Every line of `run`'s shared log from `from` on.
fn read_from(store: &DynamoStore, run: &str, from: u64) -> Vec<(u64, String)> {
    block_on(async {
        let mut all = Vec::new();
        loop {
            let page = store
                .read_log(run, from + all.len() as u64, 500)
                .await
                .unwrap();
            let n = page.len();
            all.extend(page);
            if n < 500 {
                return all;
            }
        }
    })
}

fn lines(journal: &Path) -> Vec<(u64, String)> {
    std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(n, l)| (n as u64, l.to_owned()))
        .collect()
}

fn wait_for<T>(what: &str, within: Duration, mut done: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(t) = done() {
            return t;
        }
        assert!(start.elapsed() < within, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// dave drives `runbook` headless in the sandbox on `table`.
fn drive(table: &str, runbook: &Path, data: &Path, extra: &[String]) -> Child {
    dr_drill("dave")
        .args([
            "run",
            "--headless",
            "--sandbox",
            "--no-preflight",
            "--team",
            table,
        ])
        .args(["--as", "Dave (lead)", "--lease-duration", "3s"])
        .args(extra)
        .arg("--data-dir")
        .arg(data)
        .arg(runbook)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The run id, once the driver has made its run dir.
fn run_id(data: &Path) -> String {
    wait_for("the run dir", Duration::from_secs(30), || {
        let runs = data.join("runs");
        let dir = std::fs::read_dir(runs).ok()?.flatten().next()?;
        Some(dir.file_name().to_str().unwrap().to_owned())
    })
}

/// A follower on the shared log: a thread reading the lines in order
/// every 200 ms until `stop`, then once more. Returns every line and how
/// many reads brought something.
fn follow(
    table: String,
    run: String,
    stop: &'static AtomicBool,
) -> std::thread::JoinHandle<(Vec<(u64, String)>, usize)> {
    std::thread::spawn(move || {
        let store = store(&table);
        let mut seen: Vec<(u64, String)> = Vec::new();
        let mut reads = 0;
        loop {
            let last = stop.load(Ordering::SeqCst);
            let page = read_from(&store, &run, seen.len() as u64);
            if !page.is_empty() {
                reads += 1;
            }
            for (seq, line) in page {
                assert_eq!(seq, seen.len() as u64, "the shared log came in order");
                seen.push((seq, line));
            }
            if last {
                return (seen, reads);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })
}

/// Waits until the shared log shows `n` questions of `step`.
fn asked(table: &str, run: &str, step: &str, n: usize) {
    let store = store(table);
    let needle = format!(r#""step":"{step}""#);
    wait_for(
        &format!("{step} asked {n} times"),
        Duration::from_secs(30),
        || {
            let asked = read_from(&store, run, 0)
                .iter()
                .filter(|(_, l)| l.contains(r#""human_asked""#) && l.contains(&needle))
                .count();
            (asked >= n).then_some(())
        },
    );
}

/// `dr-drill answer RUN STEP WORD --team TABLE` as `who`.
fn answer(who: &str, table: &str, run: &str, step: &str, word: &str) -> Output {
    dr_drill(who)
        .args(["answer", run, step, word, "--team", table, "--wait", "20"])
        .args(["--as", who])
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn events(journal: &Path) -> Vec<serde_json::Value> {
    lines(journal)
        .iter()
        .skip(1)
        .map(|(_, l)| serde_json::from_str(l).unwrap())
        .collect()
}

/// The ARNs of who answered `step`, in order.
fn answers(journal: &Path, step: &str) -> Vec<String> {
    events(journal)
        .iter()
        .filter(|e| e["event"] == "human_answered" && e["step"] == step)
        .map(|e| e["who"]["arn"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn moto_sts_tells_each_access_key_its_own_iam_user() {
    for who in ["alice", "bob"] {
        let u = user(who);
        let arn = block_on(async {
            let config = aws_config_for(u);
            aws_sdk_sts::Client::new(&config)
                .get_caller_identity()
                .send()
                .await
                .unwrap()
                .arn()
                .unwrap()
                .to_owned()
        });
        assert_eq!(arn, u.arn);
        assert!(arn.ends_with(&format!(":user/{}", u.name)), "{arn}");
    }
}

fn aws_config_for(u: &User) -> aws_config::SdkConfig {
    use aws_credential_types::Credentials;
    let base = moto().sdk_config("us-east-1");
    base.into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                &u.key, &u.secret, None, None, "test",
            )),
        )
        .build()
}

const OWNED: &str = r#"[runbook]
id = "team-procs-dba"
title = "The DBA answers"

[[step]]
id = "prepare"
kind = "shell"
run = "true"

[[step]]
id = "restore"
needs = ["prepare"]
kind = "manual"
owner = "dba"
timeout = "60s"
instructions = "Restore the orders table."

[[step]]
id = "smoke"
needs = ["restore"]
kind = "shell"
run = "true"
"#;

/// Items 1, 3 and 4: the DBA answers from their process, a watcher sees
/// every line in order, `runs --team` lists the finished run.
#[test]
fn the_dba_answers_from_their_process_a_follower_sees_every_line_and_runs_lists_it() {
    let table = team_table();
    let dir = tempfile::tempdir().unwrap();
    let runbook = write(dir.path(), "dba.toml", OWNED);
    let data = dir.path().join("dave");
    let role = vec!["--role".to_string(), format!("dba={}", user("alice").name)];
    let driver = drive(&table, &runbook, &data, &role);
    let run = run_id(&data);
    static STOP: AtomicBool = AtomicBool::new(false);
    let follower = follow(table.clone(), run.clone(), &STOP);

    asked(&table, &run, "restore", 1);
    let bob = answer("bob", &table, &run, "restore", "done");
    assert_eq!(bob.status.code(), Some(1), "{}", said(&bob));
    let err = String::from_utf8_lossy(&bob.stderr);
    assert!(
        err.contains("does not hold the role `dba`"),
        "{}",
        said(&bob)
    );

    let alice = answer("alice", &table, &run, "restore", "done");
    assert_eq!(alice.status.code(), Some(0), "{}", said(&alice));

    let out = driver.wait_with_output().unwrap();
    STOP.store(true, Ordering::SeqCst);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let journal = data.join("runs").join(&run).join("journal.jsonl");

    // The journal records who answered, by ARN.
    let answered = answers(&journal, "restore");
    assert_eq!(
        answered,
        vec![user("bob").arn.clone(), user("alice").arn.clone()],
        "{answered:?}"
    );

    // The driver the journal's header records (and the report shows) is
    // who the team's credentials say, not the sandbox's operator.
    let header: serde_json::Value = serde_json::from_str(&lines(&journal)[0].1).unwrap();
    assert_eq!(
        header["driver"]["arn"],
        user("dave").arn.as_str(),
        "{header}"
    );
    let report = std::fs::read_to_string(journal.with_file_name("report.md")).unwrap();
    assert!(report.contains(&user("alice").arn), "{report}");

    // The follower read the log while the run went, in order, and has
    // every line of the driver's journal.
    let (seen, reads) = follower.join().unwrap();
    assert!(reads > 1, "the follower read the log more than once");
    assert_eq!(seen, lines(&journal));

    // `runs --team` lists it, driven by dave, finished.
    let out = dr_drill("carol")
        .args(["runs", "--team", &table, "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_id"] == run.as_str())
        .unwrap_or_else(|| panic!("{}", said(&out)));
    let driver = row["driver"].as_str().unwrap_or_default();
    assert!(driver.contains("Dave (lead)"), "{row}");
    assert!(
        row["state"]
            .as_str()
            .unwrap_or_default()
            .contains("finished"),
        "{row}"
    );
}

const TWO_OF_THREE: &str = r#"[runbook]
id = "team-procs-cutover"
title = "Two of three approve"

[[step]]
id = "cutover"
kind = "approve"
approvers = ["lead", "dba", "app"]
required = 2
timeout = "60s"
instructions = "Cut over to the restored table."

[[step]]
id = "after"
needs = ["cutover"]
kind = "shell"
run = "true"
"#;

/// Item 2: two of three approve from their processes; the driver's own
/// approval, from its `--answer` and from its own `answer` process, is
/// refused.
#[test]
fn two_of_three_approve_from_their_processes_and_the_drivers_own_approval_is_refused() {
    let table = team_table();
    let dir = tempfile::tempdir().unwrap();
    let runbook = write(dir.path(), "cutover.toml", TWO_OF_THREE);
    let data = dir.path().join("dave");
    let mut roles = Vec::new();
    for (role, who) in [("lead", "dave"), ("dba", "alice"), ("app", "carol")] {
        roles.push("--role".to_string());
        roles.push(format!("{role}={}", user(who).name));
    }
    roles.push("--answer".into());
    roles.push("cutover=approve".into());
    let driver = drive(&table, &runbook, &data, &roles);
    let run = run_id(&data);

    // The driver's flag approval was refused: the step asks again.
    asked(&table, &run, "cutover", 2);
    let dave = answer("dave", &table, &run, "cutover", "approve");
    assert_eq!(dave.status.code(), Some(1), "{}", said(&dave));
    assert!(
        String::from_utf8_lossy(&dave.stderr).contains("cannot approve their own"),
        "{}",
        said(&dave)
    );

    let alice = answer("alice", &table, &run, "cutover", "approve");
    assert_eq!(alice.status.code(), Some(0), "{}", said(&alice));
    asked(&table, &run, "cutover", 3);
    let carol = answer("carol", &table, &run, "cutover", "approve");
    assert_eq!(carol.status.code(), Some(0), "{}", said(&carol));

    let out = driver.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let journal = data.join("runs").join(&run).join("journal.jsonl");
    let events = events(&journal);
    assert_eq!(
        answers(&journal, "cutover"),
        vec![
            user("dave").arn.clone(),
            user("alice").arn.clone(),
            user("carol").arn.clone()
        ]
    );
    let refusal = events
        .iter()
        .find(|e| e["event"] == "step_progress" && e["step"] == "cutover")
        .unwrap_or_else(|| panic!("no refusal recorded: {events:?}"));
    assert!(
        refusal.to_string().contains("cannot approve their own"),
        "{refusal}"
    );
    let finished = events
        .iter()
        .find(|e| e["event"] == "step_finished" && e["step"] == "cutover")
        .unwrap();
    assert_eq!(
        finished["outputs"]["approved_by"], "alice, carol",
        "{finished}"
    );
    assert_eq!(finished["outputs"]["approvals"], "2", "{finished}");
    // Each approval's time: the journal's answer events, alice's then carol's.
    let at: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "human_answered" && e["step"] == "cutover")
        .filter_map(|e| e["at"].as_str())
        .collect();
    assert_eq!(at.len(), 3, "{events:?}");
    assert!(at[1] <= at[2]);
    // `approved_at` is the last approval's time, to the second.
    let approved_at: jiff::Timestamp = finished["outputs"]["approved_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let carols: jiff::Timestamp = at[2].parse().unwrap();
    let apart = approved_at.duration_since(carols).as_secs_f64().abs();
    assert!(apart < 2.0, "{approved_at} vs {carols}");
}
