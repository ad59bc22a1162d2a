//! The team's shared table over DynamoDB (`team::DynamoStore`), against
//! moto's server over the wire: the log in order and fenced, the lease,
//! long lines, damaged items, the runs index, the answers inbox, and
//! `dr-drill team init` / `team policy`.

use std::process::Command;
use std::time::Duration;

use assert_cmd::prelude::*;
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

use dr_drill::engine::event::Answer;
use dr_drill::engine::participant::Participant;
use dr_drill::team::dynamo::init_table;
use dr_drill::team::{
    DynamoStore, Lease, LeaseRequest, RunEntry, RunState, RunStatus, TeamAnswer, TeamError,
    TeamStore,
};

use crate::support::{moto, unique};

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

fn person(name: &str) -> Participant {
    Participant {
        arn: format!("arn:aws:iam::123456789012:user/{name}"),
        account: "123456789012".into(),
        name: name.into(),
    }
}

fn request(name: &str) -> LeaseRequest {
    LeaseRequest {
        holder: person(name),
        process: format!("{name}@host pid 1"),
        duration: Duration::from_secs(30),
    }
}

fn entry(run: &str, at: Timestamp) -> RunEntry {
    RunEntry {
        run_id: run.into(),
        runbook_id: "restore".into(),
        mode: "drill".into(),
        started_at: at,
        driver: person("alice"),
    }
}

/// A new table made the way `team init` makes it.
async fn table() -> DynamoStore {
    let store = DynamoStore::new(&moto().sdk_config("us-east-1"), &unique("team"));
    init_table(&store, Duration::from_millis(50)).await.unwrap();
    store
}

/// A store with a run started by alice: (store, run, lease).
async fn started() -> (DynamoStore, String, Lease) {
    let store = table().await;
    let run = unique("restore-20260101T000000Z");
    let lease = store
        .create_run(
            &entry(&run, Timestamp::now()),
            r#"{"header":1}"#,
            &request("alice"),
        )
        .await
        .unwrap();
    (store, run, lease)
}

fn db() -> aws_sdk_dynamodb::Client {
    moto().dynamodb("us-east-1")
}

async fn put(store: &DynamoStore, pk: &str, sk: i64, attrs: &[(&str, AttributeValue)]) {
    let mut req = db()
        .put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S(pk.into()))
        .item("sk", AttributeValue::N(sk.to_string()));
    for (name, value) in attrs {
        req = req.item(*name, value.clone());
    }
    req.send().await.unwrap();
}

#[test]
fn lines_come_back_in_order_from_any_point() {
    block_on(async {
        let (store, run, lease) = started().await;
        assert_eq!(lease.token, 1);
        for seq in 1..=250u64 {
            store
                .append(&run, lease.token, seq, &format!(r#"{{"n":{seq}}}"#))
                .await
                .unwrap();
        }
        let all = store.read_log(&run, 0, 1000).await.unwrap();
        assert_eq!(all.len(), 251);
        assert_eq!(all[0], (0, r#"{"header":1}"#.to_owned()));
        assert!(all.iter().enumerate().all(|(i, (seq, _))| *seq == i as u64));
        let some = store.read_log(&run, 240, 5).await.unwrap();
        assert_eq!(
            some.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            vec![240, 241, 242, 243, 244]
        );
        assert!(store.read_log(&run, 251, 10).await.unwrap().is_empty());
    });
}

#[test]
fn a_second_writer_of_the_same_line_is_refused() {
    block_on(async {
        let (store, run, lease) = started().await;
        store.append(&run, 1, 1, "first").await.unwrap();
        // The same line again is our own write whose answer was lost: done.
        store.append(&run, 1, 1, "first").await.unwrap();
        let err = store.append(&run, 1, 1, "other").await.unwrap_err();
        assert!(matches!(err, TeamError::Fenced { .. }), "{err}");
        assert_eq!(store.read_log(&run, 1, 10).await.unwrap()[0].1, "first");
        let _ = lease;
    });
}

#[test]
fn after_a_take_the_old_token_is_fenced_and_the_new_one_writes() {
    block_on(async {
        let (store, run, lease) = started().await;
        let taken = store.take(&run, &request("bob"), &lease).await.unwrap();
        assert_eq!(taken.token, 2);
        assert_eq!(taken.holder.name, "bob");
        let err = store.append(&run, 1, 1, "stale").await.unwrap_err();
        match &err {
            TeamError::Fenced {
                holder,
                current,
                ours,
                ..
            } => {
                assert_eq!((*current, *ours), (2, 1));
                assert!(holder.contains("bob"), "{holder}");
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("stops without acting"));
        store.append(&run, 2, 1, "fresh").await.unwrap();
        // The stale heartbeat is fenced too.
        let err = store
            .heartbeat(&lease, &RunStatus::default())
            .await
            .unwrap_err();
        assert!(matches!(err, TeamError::Fenced { current: 2, .. }), "{err}");
        // A take on what was observed before the first take: fenced.
        let err = store
            .take(&run, &request("carol"), &lease)
            .await
            .unwrap_err();
        assert!(matches!(err, TeamError::Fenced { .. }), "{err}");
    });
}

#[test]
fn a_heartbeat_changes_the_rvn_so_a_waiting_take_is_refused() {
    block_on(async {
        let (store, run, lease) = started().await;
        let status = RunStatus {
            steps_done: 3,
            steps_total: 9,
            ..RunStatus::default()
        };
        let beat = store.heartbeat(&lease, &status).await.unwrap();
        assert_ne!(beat.rvn, lease.rvn);
        let read = store.lease(&run).await.unwrap().unwrap();
        assert_eq!(read, beat);
        let err = store.take(&run, &request("bob"), &lease).await.unwrap_err();
        assert!(matches!(err, TeamError::Fenced { current: 1, .. }), "{err}");
        // Finished: nobody takes it.
        store
            .release(&beat, RunState::Finished, &status)
            .await
            .unwrap();
        let done = store.lease(&run).await.unwrap().unwrap();
        assert_eq!(done.state, RunState::Finished);
        let err = store.take(&run, &request("bob"), &done).await.unwrap_err();
        assert!(matches!(err, TeamError::Finished { .. }), "{err}");
    });
}

#[test]
fn a_run_is_created_once() {
    block_on(async {
        let (store, run, _) = started().await;
        let err = store
            .create_run(&entry(&run, Timestamp::now()), "{}", &request("bob"))
            .await
            .unwrap_err();
        assert!(matches!(err, TeamError::Exists { .. }), "{err}");
        assert_eq!(
            store.lease(&run).await.unwrap().unwrap().holder.name,
            "alice"
        );
    });
}

#[test]
fn long_lines_round_trip_whole() {
    block_on(async {
        let (store, run, lease) = started().await;
        // 1 MiB of multi-byte text: parts are cut at character boundaries.
        let mib: String = "é".repeat(512 * 1024);
        assert_eq!(mib.len(), 1024 * 1024);
        store.append(&run, lease.token, 1, &mib).await.unwrap();
        // 5 MiB: past one transaction's 4 MB, written in several.
        let five: String = "x".repeat(5 * 1024 * 1024);
        store.append(&run, lease.token, 2, &five).await.unwrap();
        store.append(&run, lease.token, 3, "short").await.unwrap();
        let lines = store.read_log(&run, 1, 10).await.unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].1, mib);
        assert_eq!(lines[1].1, five);
        assert_eq!(lines[2].1, "short");
    });
}

#[test]
fn damaged_items_are_refused_naming_the_key() {
    block_on(async {
        let (store, run, lease) = started().await;
        store.append(&run, lease.token, 1, "one").await.unwrap();
        // A gap: line 3 without line 2.
        put(
            &store,
            &run,
            3,
            &[("line", AttributeValue::S("three".into()))],
        )
        .await;
        let err = store.read_log(&run, 0, 10).await.unwrap_err();
        assert!(matches!(err, TeamError::Damaged { .. }), "{err}");
        assert!(err.to_string().contains(&format!("pk={run} sk=2")), "{err}");

        // A line without text.
        put(
            &store,
            &run,
            2,
            &[("text", AttributeValue::S("two".into()))],
        )
        .await;
        let err = store.read_log(&run, 2, 10).await.unwrap_err();
        assert!(err.to_string().contains("no `line`"), "{err}");

        // A part count that does not match the parts there.
        put(
            &store,
            &run,
            2,
            &[
                ("line", AttributeValue::S("two".into())),
                ("parts", AttributeValue::N("3".into())),
            ],
        )
        .await;
        put(
            &store,
            &format!("{run}#parts#2"),
            1,
            &[("line", AttributeValue::S("a".into()))],
        )
        .await;
        let err = store.read_log(&run, 2, 10).await.unwrap_err();
        assert!(matches!(err, TeamError::Damaged { .. }), "{err}");
        assert!(err.to_string().contains("part 2 is missing"), "{err}");
        // One part too many.
        put(
            &store,
            &format!("{run}#parts#2"),
            2,
            &[("line", AttributeValue::S("b".into()))],
        )
        .await;
        put(
            &store,
            &format!("{run}#parts#2"),
            3,
            &[("line", AttributeValue::S("c".into()))],
        )
        .await;
        let err = store.read_log(&run, 2, 10).await.unwrap_err();
        assert!(err.to_string().contains("one too many"), "{err}");
        // A count out of range.
        put(
            &store,
            &run,
            2,
            &[
                ("line", AttributeValue::S("two".into())),
                ("parts", AttributeValue::N("100000".into())),
            ],
        )
        .await;
        let err = store.read_log(&run, 2, 10).await.unwrap_err();
        assert!(err.to_string().contains("`parts`"), "{err}");

        // An answer that is not JSON.
        put(
            &store,
            &format!("{run}#answers"),
            1,
            &[("answer", AttributeValue::S("{not json".into()))],
        )
        .await;
        let err = store.answers(&run, 0).await.unwrap_err();
        assert!(matches!(err, TeamError::Damaged { .. }), "{err}");
        assert!(
            err.to_string().contains(&format!("pk={run}#answers sk=1")),
            "{err}"
        );

        // A lease whose attributes disagree with what it holds.
        db().update_item()
            .table_name(store.table())
            .key("pk", AttributeValue::S(run.clone()))
            .key("sk", AttributeValue::N("-1".into()))
            .update_expression("SET #t = :t")
            .expression_attribute_names("#t", "token")
            .expression_attribute_values(":t", AttributeValue::N("7".into()))
            .send()
            .await
            .unwrap();
        let err = store.lease(&run).await.unwrap_err();
        assert!(
            err.to_string().contains(&format!("pk={run} sk=-1")),
            "{err}"
        );
    });
}

#[test]
fn runs_are_listed_newest_first_with_their_leases() {
    block_on(async {
        let store = table().await;
        let t0 = Timestamp::now();
        let mut ids = Vec::new();
        for i in 0..3i64 {
            let run = unique("restore-run");
            // Two runs in the same millisecond: the second takes the next.
            let at = t0 + jiff::SignedDuration::from_secs(i.min(1));
            store
                .create_run(&entry(&run, at), "{}", &request("alice"))
                .await
                .unwrap();
            ids.push(run);
        }
        let rows = store.runs(10).await.unwrap();
        let listed: Vec<&str> = rows.iter().map(|r| r.entry.run_id.as_str()).collect();
        assert_eq!(listed, vec![&ids[2], &ids[1], &ids[0]]);
        assert!(
            rows.iter()
                .all(|r| r.lease.as_ref().is_some_and(|l| l.token == 1))
        );
        assert_eq!(store.runs(1).await.unwrap().len(), 1);
    });
}

#[test]
fn answers_are_numbered_in_the_order_they_arrive() {
    block_on(async {
        let (store, run, _) = started().await;
        let answer = |who: &str, a: Answer| TeamAnswer {
            step: "cutover".into(),
            asked: 7,
            answer: a,
            note: None,
            by: person(who),
            at: Timestamp::now(),
        };
        assert_eq!(
            store
                .post_answer(&run, &answer("bob", Answer::Approved))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .post_answer(&run, &answer("carol", Answer::Declined))
                .await
                .unwrap(),
            2
        );
        let all = store.answers(&run, 0).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].0, all[0].1.by.name.as_str()), (1, "bob"));
        assert_eq!((all[1].0, all[1].1.answer.clone()), (2, Answer::Declined));
        assert_eq!(store.answers(&run, 1).await.unwrap().len(), 1);
        let err = store
            .post_answer("no-such-run", &answer("bob", Answer::Approved))
            .await
            .unwrap_err();
        assert!(matches!(err, TeamError::NoRun { .. }), "{err}");
    });
}

#[test]
fn a_missing_table_says_to_run_team_init() {
    block_on(async {
        let store = DynamoStore::new(&moto().sdk_config("us-east-1"), "no-such-team-table");
        let err = store.lease("run-1").await.unwrap_err();
        assert!(
            matches!(
                err,
                TeamError::Refused {
                    action: "GetItem",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("dr-drill team init no-such-team-table"),
            "{err}"
        );
    });
}

#[test]
fn a_run_id_that_could_pass_for_another_item_is_refused() {
    block_on(async {
        let store = DynamoStore::new(&moto().sdk_config("us-east-1"), "any-table");
        let err = store.read_log("x#answers", 0, 1).await.unwrap_err();
        assert!(matches!(err, TeamError::Refused { .. }), "{err}");
    });
}

fn dr_drill() -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.env_remove("AWS_PROFILE").envs(moto().env());
    cmd
}

#[test]
fn team_init_makes_an_on_demand_table_with_pitr_and_is_idempotent() {
    let table = unique("team-init");
    let first = dr_drill().args(["team", "init", &table]).output().unwrap();
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(out.contains(&format!("Created table {table}")), "{out}");
    assert!(out.contains("Point-in-time recovery: turned on."), "{out}");
    assert!(out.contains(&format!(":table/{table}\"")), "{out}");
    assert!(out.contains("dynamodb:ConditionCheckItem"), "{out}");
    block_on(async {
        let d = db()
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .unwrap();
        let t = d.table().unwrap();
        assert_eq!(
            t.billing_mode_summary()
                .and_then(|b| b.billing_mode())
                .map(|m| m.as_str()),
            Some("PAY_PER_REQUEST")
        );
        let keys: Vec<_> = t
            .key_schema()
            .iter()
            .map(|k| (k.attribute_name(), k.key_type().as_str()))
            .collect();
        assert_eq!(keys, vec![("pk", "HASH"), ("sk", "RANGE")]);
        let b = db()
            .describe_continuous_backups()
            .table_name(&table)
            .send()
            .await
            .unwrap();
        let status = b
            .continuous_backups_description()
            .and_then(|d| d.point_in_time_recovery_description())
            .and_then(|p| p.point_in_time_recovery_status())
            .map(|s| s.as_str().to_owned());
        assert_eq!(status.as_deref(), Some("ENABLED"));
    });
    let again = dr_drill().args(["team", "init", &table]).output().unwrap();
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{out}");
    assert!(out.contains("is there with the right keys"), "{out}");
    assert!(out.contains("Point-in-time recovery: already on."), "{out}");
}

#[test]
fn team_init_refuses_a_table_with_other_keys_and_changes_nothing() {
    let table = unique("team-wrong");
    block_on(moto().create_pk_table("us-east-1", &table));
    let out = dr_drill().args(["team", "init", &table]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("its key schema is pk (HASH)"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
}

#[test]
fn the_policy_in_docs_team_md_is_what_team_policy_prints() {
    let out = Command::cargo_bin("dr-drill")
        .unwrap()
        .args([
            "team",
            "policy",
            "TABLE",
            "--region",
            "REGION",
            "--account",
            "ACCOUNT",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let admin = Command::cargo_bin("dr-drill")
        .unwrap()
        .args([
            "team",
            "policy",
            "TABLE",
            "--region",
            "REGION",
            "--account",
            "ACCOUNT",
            "--admin",
        ])
        .output()
        .unwrap();
    let admin = String::from_utf8(admin.stdout).unwrap();
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/team.md")).unwrap();
    let blocks: Vec<&str> = doc
        .split("```json\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert!(
        blocks.contains(&printed.as_str()),
        "docs/team.md lacks:\n{printed}"
    );
    assert!(
        blocks.contains(&admin.as_str()),
        "docs/team.md lacks:\n{admin}"
    );
}

/// The shared log's throughput through moto (`benches/team_log_moto.sh`
/// runs it): `TEAM_BENCH_LINES` appends of a 300-byte event line, one
/// after the other as the recorder makes them; prints lines/s and the
/// latency per append (p50, p95, max).
#[test]
#[ignore = "a benchmark: benches/team_log_moto.sh"]
fn team_log_throughput() {
    let lines: u64 = std::env::var("TEAM_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    block_on(async {
        let (store, run, lease) = started().await;
        let line = format!(
            r#"{{"event":"step_progress","text":"{}"}}"#,
            "x".repeat(260)
        );
        let mut took = Vec::with_capacity(lines as usize);
        let all = std::time::Instant::now();
        for seq in 1..=lines {
            let t = std::time::Instant::now();
            store.append(&run, lease.token, seq, &line).await.unwrap();
            took.push(t.elapsed());
        }
        let total = all.elapsed();
        took.sort();
        let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
        let read = std::time::Instant::now();
        let back = store.read_log(&run, 0, usize::MAX).await.unwrap();
        assert_eq!(back.len() as u64, lines + 1);
        println!(
            "team log through moto: {lines} appends in {:.2} s = {:.0} lines/s; per append p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; read back {} lines in {:.2} s",
            total.as_secs_f64(),
            lines as f64 / total.as_secs_f64(),
            at(0.50).as_secs_f64() * 1e3,
            at(0.95).as_secs_f64() * 1e3,
            took[took.len() - 1].as_secs_f64() * 1e3,
            back.len(),
            read.elapsed().as_secs_f64()
        );
    });
}
