//! The PostgreSQL runbooks end to end: headless against moto with a real
//! PostgreSQL server (tests/support/postgres.rs), and headless in the
//! simulated world with the same server.

mod support;

use support::postgres::postgres;

#[test]
fn the_test_postgres_server_answers_and_dumps_restore() {
    let pg = postgres();
    assert_eq!(pg.psql("postgres", "select 40 + 2"), "42");
    let db = support::unique("launcher").replace('-', "_");
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
