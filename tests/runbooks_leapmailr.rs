//! runbooks/leapmailr-quarterly-drill.toml end to end, headless: the dump
//! comes from moto's S3 (uploaded by the test: a real `pg_dump -Fc`,
//! gzipped, as LeapMailR's backup script writes it) and is restored into a
//! real PostgreSQL server (tests/support/postgres.rs); the backend and its
//! health check are local stand-ins that leave marks in files.

mod support;

use std::path::Path;

use assert_cmd::Command;
use support::drill::{block_on, demo_params, gzip, report};
use support::postgres::{Pg, postgres};
use support::{moto, unique};

const RUNBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/runbooks/leapmailr-quarterly-drill.toml"
);

/// A LeapMailR-like database with rows in three tables (one empty), and
/// its gzipped custom-format dump.
fn leapmailr_dump(pg: &Pg, dir: &Path) -> Vec<u8> {
    let db = unique("leapmailr_src").replace('-', "_");
    pg.createdb(&db);
    pg.psql(
        &db,
        "create table users (id int primary key, email text not null);
         insert into users select g, 'user' || g || '@example.com' from generate_series(1, 250) g;
         create table templates (id serial primary key, name text, body text);
         insert into templates (name, body) select 'tpl' || g, 'hello' from generate_series(1, 40) g;
         create table email_logs (id bigserial primary key, user_id int references users, sent_at timestamptz default now());
         insert into email_logs (user_id) select 1 + g % 250 from generate_series(1, 3000) g;
         create table unsubscribes (email text primary key);",
    );
    let file = dir.join("dump.custom");
    pg.dump(&db, &file);
    gzip(&std::fs::read(&file).unwrap())
}

fn upload(bucket: &str, objects: &[(&str, Vec<u8>)]) {
    block_on(async {
        let s3 = moto().s3("us-east-1");
        s3.create_bucket().bucket(bucket).send().await.unwrap();
        for (key, body) in objects {
            moto().put_object(bucket, key, body, &[], None).await;
        }
    });
}

/// `dr-drill run` headless on the runbook, against moto and `pg`, with the
/// stand-ins writing their marks into `marks`.
fn drill(pg: &Pg, data: &Path, marks: &Path, bucket: &str, database: &str) -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.envs(moto().env())
        .envs(pg.env())
        .args(["run", RUNBOOK, "--headless"])
        .args(["--param", &format!("bucket={bucket}")])
        .args(["--param", &format!("database={database}")])
        .args([
            "--param",
            &format!("stop_cmd=echo stopped >> {}/backend", marks.display()),
            "--param",
            &format!("start_cmd=echo started >> {}/backend", marks.display()),
            "--param",
            &format!(
                "health_cmd=grep -q started {}/backend && echo healthy",
                marks.display()
            ),
        ])
        .args(["--answer", "window=approve"])
        .args(["--confirm", &format!("recreate-db={database}")])
        .args(["--answer", "test-suite=yes"])
        .args(["--answer", "issues=none"])
        .args(["--answer", "lessons=keep the dump listing step"])
        .args(["--answer", "share=done"])
        .arg("--data-dir")
        .arg(data);
    cmd
}

#[test]
fn the_quarterly_drill_restores_the_newest_offsite_dump_into_postgresql() {
    let pg = postgres();
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("leapmailr-backups");
    let dump = leapmailr_dump(pg, dir.path());
    // An older dump of something else: the drill must take the newest.
    upload(
        &bucket,
        &[
            (
                "leapmailr_backup_20261101_020000.sql.gz",
                gzip(b"not this one"),
            ),
            ("leapmailr_backup_20261124_020000.sql.gz", dump),
        ],
    );
    let database = unique("leapmailr_drill").replace('-', "_");
    // The database exists with stale data: the drill drops and recreates it.
    pg.createdb(&database);
    pg.psql(&database, "create table stale (x int)");
    let marks = dir.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    let data = dir.path().join("data");

    let out = drill(pg, &data, &marks, &bucket, &database)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        pg.log()
    );
    assert!(
        stdout.contains("leapmailr_backup_20261124_020000.sql.gz"),
        "{stdout}"
    );
    assert!(stdout.contains("verify-dump: succeeded"), "{stdout}");
    assert!(stdout.contains("tables=4"), "{stdout}");
    assert!(stdout.contains("rows=3290"), "{stdout}");
    assert!(stdout.contains("run succeeded"), "{stdout}");

    // The database holds the dump's data, and only that.
    assert_eq!(
        pg.psql(&database, "select count(*) from email_logs"),
        "3000"
    );
    assert_eq!(
        pg.psql(
            &database,
            "select count(*) from pg_tables where tablename = 'stale'"
        ),
        "0"
    );
    // The backend was stopped before it was started again.
    assert_eq!(
        std::fs::read_to_string(marks.join("backend")).unwrap(),
        "stopped\nstarted\n"
    );
    // The report records the RTO (ended by the health check), the RPO and
    // the review's answers.
    let report = report(&data);
    let text = report.to_string();
    assert!(text.contains("keep the dump listing step"), "{text}");
    assert_eq!(report["rto"]["verdict"], "pass", "{:#}", report["rto"]);
    assert!(
        report["rpo"]["achieved_seconds"].is_number(),
        "{:#}",
        report["rpo"]
    );
}

#[test]
fn a_dump_that_is_not_a_dump_stops_the_drill_before_the_database_is_touched() {
    let pg = postgres();
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("leapmailr-backups");
    upload(
        &bucket,
        &[(
            "leapmailr_backup_20261124_020000.sql.gz",
            gzip(b"PGDMP but truncated"),
        )],
    );
    let database = unique("leapmailr_keep").replace('-', "_");
    pg.createdb(&database);
    pg.psql(
        &database,
        "create table precious (x int); insert into precious values (1)",
    );
    let marks = dir.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    let data = dir.path().join("data");

    let out = drill(pg, &data, &marks, &bucket, &database)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("verify-dump: FAILED"), "{stdout}");
    assert!(!stdout.contains("recreate-db: succeeded"), "{stdout}");
    assert_eq!(pg.psql(&database, "select count(*) from precious"), "1");
}

/// In the simulated world, with the demo's stand-ins, the newest of the
/// world's daily dumps (a real one) is restored into the real server.
#[test]
fn the_quarterly_drill_runs_in_the_sandbox_as_the_demo_offers_it() {
    let pg = postgres();
    let dir = tempfile::tempdir().unwrap();
    let database = unique("leapmailr_sandbox").replace('-', "_");
    let out = Command::cargo_bin("dr-drill")
        .unwrap()
        .envs(pg.env())
        .args(["run", RUNBOOK, "--headless", "--sandbox", "--speed", "3600"])
        .args(demo_params("leapmailr-quarterly-drill"))
        .args(["--param", &format!("database={database}")])
        .args(["--answer", "window=approve"])
        .args(["--confirm", &format!("recreate-db={database}")])
        .args(["--answer", "test-suite=yes"])
        .args(["--answer", "issues=none"])
        .args(["--answer", "lessons=none"])
        .args(["--answer", "share=done"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("acting as SIMULATED world"), "{stdout}");
    assert!(
        stdout.contains("scaled to 0 replicas (simulated)"),
        "{stdout}"
    );
    assert!(stdout.contains("tables=4"), "{stdout}");
    assert!(stdout.contains("rows=6740"), "{stdout}");
    assert_eq!(
        pg.psql(&database, "select count(*) from email_logs"),
        "5000"
    );
}
