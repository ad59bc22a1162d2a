//! The PostgreSQL runbooks end to end through the binary: headless against
//! moto with a real PostgreSQL server (tests/support/postgres.rs), and
//! headless in the simulated world (`--sandbox`) with the same server.

mod support;

use assert_cmd::Command;
use predicates::prelude::*;
use support::drill::{block_on, gzip, output, report, runbook, step_status};
use support::postgres::{Pg, postgres};
use support::{moto, sha256_hex, unique};

/// The binary against moto, with `pg`'s client environment.
fn dr_drill_moto(pg: &Pg) -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.env_remove("AWS_PROFILE")
        .envs(moto().env())
        .envs(pg.env());
    cmd
}

/// The binary for a sandbox run, with `pg`'s client environment.
fn dr_drill_sandbox(pg: &Pg) -> Command {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    cmd.env_remove("AWS_PROFILE").envs(pg.env());
    cmd
}

fn database_exists(pg: &Pg, name: &str) -> bool {
    pg.psql(
        "postgres",
        &format!("select count(*) from pg_database where datname = '{name}'"),
    ) == "1"
}

fn db_name(prefix: &str) -> String {
    unique(prefix).replace('-', "_")
}

#[test]
fn the_test_postgres_server_answers_and_dumps_restore() {
    let pg = postgres();
    assert_eq!(pg.psql("postgres", "select 40 + 2"), "42");
    let db = db_name("launcher");
    pg.createdb(&db);
    pg.psql(
        &db,
        "create table t (id int); insert into t select generate_series(1, 5)",
    );
    let dump = pg.dir.join(format!("{db}.dump"));
    pg.dump(&db, &dump);
    let copy = format!("{db}_copy");
    pg.createdb(&copy);
    let out = pg
        .command("pg_restore")
        .args(["--jobs=2", "-d", &copy])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(pg.psql(&copy, "select count(*) from t"), "5");
    // The server programs are on the clients' PATH.
    let path = pg.env().into_iter().find(|(k, _)| *k == "PATH").unwrap().1;
    assert!(path.starts_with(&pg.bin.display().to_string()), "{path}");
}

// ---------------------------------------------------------------- GTIN1

/// A GTIN1 database in the test server: the sandbox's schema, its newest
/// change moved to 90 minutes ago. Returns its `pg_dump -Fc`.
fn gtin1_dump(pg: &Pg) -> Vec<u8> {
    let db = db_name("gtin1_src");
    pg.createdb(&db);
    let schema = std::fs::read_to_string(support::repo_file("assets/sandbox/gtin1-schema.sql"))
        .expect("the GTIN1 schema");
    pg.psql(&db, &schema);
    pg.psql(
        &db,
        "update products set updated_at = updated_at + (now() - interval '90 minutes' - timestamptz '2026-11-22 01:45+00')",
    );
    let file = pg.dir.join(format!("{db}.dump"));
    pg.dump(&db, &file);
    std::fs::read(&file).unwrap()
}

/// Uploads `dump` and a GTIN1 manifest for it (recording `manifest_sha`)
/// under `database/gtin1/TIER/ID/`; returns the dump's key.
fn upload_gtin1(bucket: &str, tier: &str, id: &str, dump: &[u8], manifest_sha: &str) -> String {
    let s3 = moto().s3("us-east-1");
    let dir = format!("database/gtin1/{tier}/{id}");
    let manifest = serde_json::json!({
        "backup_id": id,
        "database": "gtin1",
        "tier": tier,
        "created_at": jiff::Timestamp::now().to_string(),
        "file": "backup.dump",
        "size_bytes": dump.len(),
        "sha256": manifest_sha,
        "format": "pg_dump custom (-Fc)",
    });
    block_on(async {
        s3.put_object()
            .bucket(bucket)
            .key(format!("{dir}/backup.dump"))
            .body(dump.to_vec().into())
            .send()
            .await
            .unwrap();
        s3.put_object()
            .bucket(bucket)
            .key(format!("{dir}/manifest.json"))
            .body(serde_json::to_vec_pretty(&manifest).unwrap().into())
            .send()
            .await
            .unwrap();
    });
    format!("{dir}/backup.dump")
}

fn new_bucket(prefix: &str) -> String {
    let bucket = unique(prefix);
    block_on(
        moto()
            .s3("us-east-1")
            .create_bucket()
            .bucket(&bucket)
            .send(),
    )
    .unwrap();
    bucket
}

#[test]
fn the_gtin1_verification_restores_a_real_dump_from_s3_and_drops_it() {
    let pg = postgres();
    let dump = gtin1_dump(pg);
    let sha = sha256_hex(&dump);
    let bucket = new_bucket("gtin1-dr");
    upload_gtin1(
        &bucket,
        "weekly",
        "gtin1-dr-20261122-020000-1111111",
        &dump,
        &sha,
    );
    let monthly = upload_gtin1(
        &bucket,
        "monthly",
        "gtin1-dr-20261101-020000-abc1234",
        &dump,
        &sha,
    );
    let temp_db = db_name("gtin1_verify");
    let data = tempfile::tempdir().unwrap();

    dr_drill_moto(pg)
        .args(["run", &runbook("gtin1-database-restore"), "--headless"])
        .args(["--param", &format!("bucket={bucket}")])
        .args(["--param", &format!("temp_db={temp_db}")])
        .args(["--answer", &format!("pick=s3://{bucket}/{monthly}")])
        .args(["--answer", "record=GTIN-123"])
        .args(["--confirm", &format!("drop-temp-db={temp_db}")])
        .arg("--data-dir")
        .arg(data.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("verify-dump: succeeded"))
        .stdout(predicate::str::contains("run succeeded"));

    let report = report(data.path());
    assert_eq!(
        output(&report, "manifest-key", "key"),
        monthly.replace("backup.dump", "manifest.json")
    );
    assert_eq!(output(&report, "manifest", "tier"), "monthly");
    assert_eq!(output(&report, "verify-dump", "sha256"), sha);
    assert_eq!(output(&report, "download", "sha256"), sha);
    assert_eq!(output(&report, "counts", "tables"), "3");
    assert_eq!(output(&report, "counts", "rows"), "2000");
    let lag: i64 = output(&report, "counts", "lag_hours").parse().unwrap();
    assert!((0..=2).contains(&lag), "lag {lag}");
    for step in ["integrity", "record", "drop-temp-db"] {
        assert_eq!(step_status(&report, step), "succeeded", "{step}");
    }
    // The temporary database existed (rows were counted in it) and is gone.
    assert!(!database_exists(pg, &temp_db));
}

#[test]
fn a_gtin1_dump_that_differs_from_its_manifest_is_never_restored() {
    let pg = postgres();
    let dump = gtin1_dump(pg);
    let bucket = new_bucket("gtin1-bad");
    let wrong = sha256_hex(b"another dump");
    let key = upload_gtin1(
        &bucket,
        "monthly",
        "gtin1-dr-20261101-020000-bad0bad",
        &dump,
        &wrong,
    );
    let temp_db = db_name("gtin1_never");
    let data = tempfile::tempdir().unwrap();

    dr_drill_moto(pg)
        .args(["run", &runbook("gtin1-database-restore"), "--headless"])
        .args(["--param", &format!("bucket={bucket}")])
        .args(["--param", &format!("temp_db={temp_db}")])
        .args(["--answer", "pick=latest"])
        .args(["--answer", "record=GTIN-124"])
        .args(["--confirm", &format!("drop-temp-db={temp_db}")])
        .arg("--data-dir")
        .arg(data.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("SHA-256 mismatch"))
        .stdout(predicate::str::contains(key.as_str()));
    let report = report(data.path());
    assert_eq!(step_status(&report, "verify-dump"), "failed");
    assert_ne!(step_status(&report, "createdb"), "succeeded");
    assert!(!database_exists(pg, &temp_db));
}

#[test]
fn the_gtin1_verification_restores_the_sandbox_dump_into_real_postgres() {
    let pg = postgres();
    let temp_db = db_name("gtin1_sandbox");
    let data = tempfile::tempdir().unwrap();
    let run = dr_drill_sandbox(pg)
        .args(["run", &runbook("gtin1-database-restore"), "--headless"])
        .args(["--sandbox", "--speed", "3600"])
        .args(["--param", &format!("temp_db={temp_db}")])
        .args(["--answer", "pick=latest"])
        .args(["--answer", "record=GTIN-125"])
        .args(["--confirm", &format!("drop-temp-db={temp_db}")])
        .arg("--data-dir")
        .arg(data.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("SIMULATED"))
        .stdout(predicate::str::contains("run succeeded"));
    let report = report(data.path());
    assert!(
        regex::Regex::new(r"^database/gtin1/(weekly|monthly|yearly)/gtin1-dr-\d{8}-020000-[0-9a-f]{7}/manifest.json$")
            .unwrap()
            .is_match(&output(&report, "manifest-key", "key")),
        "{report}"
    );
    assert_eq!(output(&report, "manifest", "database"), "gtin1");
    assert_eq!(output(&report, "counts", "tables"), "3");
    assert_eq!(output(&report, "counts", "rows"), "2000");
    // Each sandbox dump holds its rows as of its own time: the newest change
    // is a quarter of an hour before the dump, never after it.
    let dumped: jiff::Timestamp = output(&report, "manifest", "created_at").parse().unwrap();
    let newest: jiff::Timestamp = output(&report, "counts", "newest").parse().unwrap();
    assert_eq!(
        dumped.duration_since(newest),
        jiff::SignedDuration::from_mins(15)
    );
    assert_eq!(output(&report, "counts", "lag_hours"), "0");
    let negative = regex::Regex::new(r"-\d+ ?h\b|lag_hours=-").unwrap();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    for text in [&stdout, &report.to_string()] {
        assert!(!negative.is_match(text), "a negative duration: {text}");
    }
    assert_eq!(step_status(&report, "drop-temp-db"), "succeeded");
    assert!(!database_exists(pg, &temp_db));
}

// ---------------------------------------------------------------- CPAM

/// The CPAM asset's SQL (`assets/sandbox/cpam/NAME.sql`).
fn cpam_sql(name: &str) -> String {
    std::fs::read_to_string(support::repo_file(&format!(
        "assets/sandbox/cpam/{name}.sql"
    )))
    .unwrap()
}

fn put(bucket: &str, key: &str, body: Vec<u8>) {
    let sha = sha256_hex(&body);
    block_on(moto().put_object(bucket, key, &body, &[("sha256", &sha)], None));
}

/// A data dir the `postgres` user can traverse (the restored server reads
/// the downloaded WAL from the run's directory).
fn open_data_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    data
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

#[test]
fn the_cpam_pitr_drill_recovers_exactly_to_the_target_time_from_s3() {
    use support::postgres::{PgOptions, free_port};
    let pg = Pg::start(PgOptions {
        wal_segsize_mb: Some(1),
        archive: true,
    });
    pg.createdb("cpam");
    pg.psql("cpam", &cpam_sql("schema"));
    let backup = pg.dir.join("backup");
    let out = pg
        .as_server_user("pg_basebackup")
        .arg("-h")
        .arg(&pg.dir)
        .args(["-p", &pg.port.to_string(), "-U", "postgres", "-D"])
        .arg(&backup)
        .args(["-Ft", "-z", "-X", "stream", "--checkpoint=fast"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pg.psql("cpam", &cpam_sql("before"));
    let target = pg.psql(
        "cpam",
        r#"select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#,
    );
    std::thread::sleep(std::time::Duration::from_millis(1200));
    pg.psql("cpam", &cpam_sql("after"));
    let last = pg.psql("cpam", "select pg_walfile_name(pg_current_wal_lsn())");
    pg.psql("cpam", "select pg_switch_wal()");
    let archive = pg.dir.join("wal-archive");
    for _ in 0..200 {
        if archive.join(&last).exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        archive.join(&last).exists(),
        "{last} not archived:\n{}",
        pg.log()
    );
    assert_eq!(pg.psql("cpam", "select count(*) from calculations"), "550");

    let bucket = new_bucket("cpam-backups");
    for file in ["base.tar.gz", "pg_wal.tar.gz", "backup_manifest"] {
        put(
            &bucket,
            &format!("base/cpam_backup_20261124_020000/{file}"),
            std::fs::read(backup.join(file)).unwrap(),
        );
    }
    let mut segments = Vec::new();
    for entry in std::fs::read_dir(&archive).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.len() == 24 && name.chars().all(|c| c.is_ascii_hexdigit()) {
            put(
                &bucket,
                &format!("wal/{name}.gz"),
                gzip(&std::fs::read(entry.path()).unwrap()),
            );
            segments.push(name);
        }
    }
    assert!(segments.len() >= 2, "{segments:?}");

    let data = open_data_dir();
    let outbox = data.path().join("outbox");
    std::fs::create_dir(&outbox).unwrap();
    let port = free_port();
    dr_drill_moto(&pg)
        .args(["run", &runbook("cpam-pitr-drill"), "--headless"])
        .args(["--param", &format!("bucket={bucket}")])
        .args(["--param", &format!("target_time={target}")])
        .args(["--param", &format!("restore_port={port}")])
        .args(["--param", "min_rows=600"])
        .args([
            "--param",
            &format!(
                "app_check_cmd=psql -X -At -c 'select count(*) from calculations' > {}/app.txt",
                outbox.display()
            ),
        ])
        .args([
            "--param",
            &format!(
                "metrics_cmd=cp \"$METRICS_FILE\" {}/pushed.prom",
                outbox.display()
            ),
        ])
        .args([
            "--param",
            &format!(
                "notify_cmd=printf '%s\\n' \"$DRILL_SUMMARY\" > {}/notified.txt",
                outbox.display()
            ),
        ])
        .args(["--answer", "pick-base=latest"])
        .args(["--answer", "smoke=yes"])
        .args(["--confirm", "remove-restored=pitr-data"])
        .arg("--data-dir")
        .arg(data.path())
        .timeout(std::time::Duration::from_secs(300))
        .assert()
        .success()
        .stdout(predicate::str::contains("run succeeded"));

    let report = report(data.path());
    // Exactly at the target: the 620 rows before it, none of the bad batch,
    // none of the deleted rows missing.
    assert_eq!(output(&report, "integrity", "rows"), "620");
    assert_eq!(output(&report, "integrity", "after_target"), "0");
    let newest = output(&report, "integrity", "newest");
    let replayed = output(&report, "integrity", "last_replayed");
    assert!(newest.as_str() <= target.as_str(), "{newest} > {target}");
    assert!(
        replayed.as_str() <= target.as_str(),
        "{replayed} > {target}"
    );
    assert_eq!(
        std::fs::read_to_string(outbox.join("app.txt"))
            .unwrap()
            .trim(),
        "620"
    );
    let rpo: i64 = output(&report, "rpo", "rpo_seconds").parse().unwrap();
    assert!((0..120).contains(&rpo), "rpo {rpo}");
    // Only the segments from the one the base backup started in: the
    // archive's older ones (from before the backup) are not downloaded.
    let start = output(&report, "wal-start", "segment");
    let needed = segments.iter().filter(|s| **s >= start).count();
    assert!(needed < segments.len(), "{start} {segments:?}");
    assert_eq!(
        output(&report, "download-wal", "objects"),
        needed.to_string()
    );
    assert_eq!(
        output(&report, "download-wal", "verified"),
        needed.to_string()
    );

    let pushed = std::fs::read_to_string(outbox.join("pushed.prom")).unwrap();
    let metrics =
        prometheus_parse::Scrape::parse(pushed.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let value = |name: &str| {
        metrics
            .samples
            .iter()
            .find(|s| s.metric == name)
            .map(|s| match s.value {
                prometheus_parse::Value::Gauge(v) => v,
                ref other => panic!("{name}: {other:?}"),
            })
            .unwrap_or_else(|| panic!("no {name} in {pushed}"))
    };
    assert_eq!(value("restore_drill_restored_rows"), 620.0);
    assert_eq!(value("restore_drill_rpo_seconds"), rpo as f64);
    assert!(value("restore_drill_duration_seconds") >= 0.0);
    assert!(value("restore_drill_last_timestamp") > 1.7e9);
    let notified = std::fs::read_to_string(outbox.join("notified.txt")).unwrap();
    assert!(notified.contains(&target), "{notified}");
    assert!(notified.contains("620 rows"), "{notified}");

    // Cleaned up: the restored server is stopped and its directory gone.
    assert!(!port_open(port));
    for step in ["stop-restored", "remove-restored"] {
        assert_eq!(step_status(&report, step), "succeeded", "{step}");
    }
    let runs: Vec<_> = std::fs::read_dir(data.path().join("runs"))
        .unwrap()
        .flatten()
        .collect();
    assert!(!runs[0].path().join("pitr-data").exists());
}

#[test]
fn the_cpam_pitr_drill_recovers_the_sandbox_backup_into_real_postgres() {
    use support::postgres::free_port;
    let pg = postgres();
    let target = std::fs::read_to_string(support::repo_file("assets/sandbox/cpam/target.txt"))
        .unwrap()
        .trim()
        .to_owned();
    let data = open_data_dir();
    let outbox = data.path().join("outbox");
    std::fs::create_dir(&outbox).unwrap();
    let port = free_port();
    dr_drill_sandbox(pg)
        .args(["run", &runbook("cpam-pitr-drill"), "--headless"])
        .args(["--sandbox", "--speed", "3600"])
        .args(["--param", &format!("target_time={target}")])
        .args(["--param", &format!("restore_port={port}")])
        .args(["--param", "min_rows=600"])
        .args(["--param", "app_check_cmd=psql -X -At -c 'select 1'"])
        .args([
            "--param",
            &format!(
                "metrics_cmd=cp \"$METRICS_FILE\" {}/pushed.prom",
                outbox.display()
            ),
        ])
        .args([
            "--param",
            &format!(
                "notify_cmd=printf '%s\\n' \"$DRILL_SUMMARY\" > {}/notified.txt",
                outbox.display()
            ),
        ])
        .args(["--answer", "pick-base=latest"])
        .args(["--answer", "smoke=yes"])
        .args(["--confirm", "remove-restored=pitr-data"])
        .arg("--data-dir")
        .arg(data.path())
        .timeout(std::time::Duration::from_secs(300))
        .assert()
        .success()
        .stdout(predicate::str::contains("SIMULATED"))
        .stdout(predicate::str::contains("run succeeded"));
    let report = report(data.path());
    assert!(
        output(&report, "base-folder", "prefix").starts_with("base/cpam_backup_"),
        "{report}"
    );
    assert_eq!(output(&report, "download-base", "objects"), "3");
    assert_eq!(output(&report, "download-base", "verified"), "3");
    assert_eq!(output(&report, "download-wal", "verified"), "2");
    // The asset's PITR lands on 620 rows: none of the bad batch, none of
    // the deleted rows missing.
    assert_eq!(output(&report, "integrity", "rows"), "620");
    assert_eq!(output(&report, "integrity", "after_target"), "0");
    // The newest WAL segment is 4 minutes old in the sandbox.
    let rpo: i64 = output(&report, "rpo", "rpo_seconds").parse().unwrap();
    assert!((240..900).contains(&rpo), "rpo {rpo}");
    // The report's RPO is the newest point picked (the WAL), not the base
    // backup of 02:00.
    let achieved = report["rpo"]["achieved_seconds"].as_f64().unwrap();
    assert!((240.0..900.0).contains(&achieved), "{:#}", report["rpo"]);
    assert_eq!(report["rpo"]["verdict"], "pass", "{:#}", report["rpo"]);
    assert!(
        std::fs::read_to_string(outbox.join("notified.txt"))
            .unwrap()
            .contains("620 rows")
    );
    assert!(!port_open(port));
}

#[test]
fn a_cpam_target_past_the_newest_wal_fails_the_recovery_and_cleans_up() {
    use support::postgres::free_port;
    let pg = postgres();
    let data = open_data_dir();
    let port = free_port();
    dr_drill_sandbox(pg)
        .args(["run", &runbook("cpam-pitr-drill"), "--headless"])
        .args(["--sandbox", "--speed", "3600"])
        .args(["--param", "target_time=2099-01-01T00:00:00Z"])
        .args(["--param", &format!("restore_port={port}")])
        .args(["--answer", "pick-base=latest", "--answer", "smoke=yes"])
        .args(["--confirm", "remove-restored=pitr-data"])
        .arg("--data-dir")
        .arg(data.path())
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "recovery ended before configured recovery target was reached",
        ))
        .stdout(predicate::str::contains("run FAILED"));
    let report = report(data.path());
    assert_eq!(step_status(&report, "integrity"), "skipped");
    for step in ["stop-restored", "remove-restored"] {
        assert_eq!(step_status(&report, step), "succeeded", "{step}");
    }
    assert!(!port_open(port));
}
