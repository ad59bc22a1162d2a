//! A private PostgreSQL server for the tests: `initdb` in a temporary
//! directory, a server on a free loopback port with its unix socket in that
//! directory, and the environment a client (`psql`, `pg_dump`, `pg_restore`,
//! a `dr-drill` shell step) needs to reach it.
//!
//! The server programs come from Debian's packages
//! (`/usr/lib/postgresql/<version>/bin`, not on PATH); `scripts/test`
//! installs them as root. A missing server fails the test with what to
//! install; it is never skipped.
//!
//! The tests run as root and `postgres` refuses root, so as root every
//! server program runs as the `postgres` user (`runuser`). Clients connect
//! as the database superuser `postgres` with `trust` authentication.
//!
//! Each server has a watchdog (`sh` reading its stdin from the test
//! process): when the test process exits, however it exits, the pipe
//! closes and the watchdog stops the server and removes its directory.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::OnceLock;

/// How to make a server.
#[derive(Debug, Clone, Default)]
pub struct PgOptions {
    /// `initdb --wal-segsize` in MB (`None`: PostgreSQL's 16).
    pub wal_segsize_mb: Option<u32>,
    /// Archive every finished WAL segment into `<dir>/wal-archive`
    /// (`archive_mode = on`, `wal_level = replica`).
    pub archive: bool,
}

/// A running server; it is stopped and its directory removed when the test
/// process exits.
pub struct Pg {
    /// The temporary directory: `data/`, the socket, `server.log`,
    /// `wal-archive/` when archiving.
    pub dir: PathBuf,
    /// The cluster's data directory.
    pub data: PathBuf,
    /// The loopback TCP port the server listens on.
    pub port: u16,
    /// Debian's server programs (`initdb`, `pg_ctl`, `pg_basebackup`...).
    pub bin: PathBuf,
    /// `true` when the server programs run as the `postgres` user.
    pub as_postgres_user: bool,
    _watchdog: Child,
    _watchdog_stdin: ChildStdin,
}

/// The test binary's one shared server (no archiving), started on first use.
pub fn postgres() -> &'static Pg {
    static PG: OnceLock<Pg> = OnceLock::new();
    PG.get_or_init(|| Pg::start(PgOptions::default()))
}

/// Debian's newest `/usr/lib/postgresql/<version>/bin` that has `initdb`,
/// or `$DR_DRILL_PG_BIN`.
pub fn pg_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DR_DRILL_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut best: Option<(u32, PathBuf)> = None;
    for entry in std::fs::read_dir("/usr/lib/postgresql").ok()?.flatten() {
        let Ok(version) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let bin = entry.path().join("bin");
        if bin.join("initdb").exists() && best.as_ref().is_none_or(|(v, _)| version > *v) {
            best = Some((version, bin));
        }
    }
    best.map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn check(what: &str, out: std::io::Result<Output>) -> Output {
    let out = out.unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Pg {
    /// `initdb` and start a new server as `options` say.
    pub fn start(options: PgOptions) -> Pg {
        let bin = pg_bin().unwrap_or_else(|| {
            panic!(
                "PostgreSQL's server is not installed (no /usr/lib/postgresql/<version>/bin/initdb): \
                 `apt-get install postgresql` as root, or run the whole suite with scripts/test, which does"
            )
        });
        let as_postgres_user = is_root();
        let dir = tempfile::Builder::new()
            .prefix("dr-drill-pg-")
            .tempdir()
            .expect("a temporary directory")
            .keep();
        let data = dir.join("data");
        let port = free_port();
        let pg = |program: &str| -> Command {
            let mut cmd = if as_postgres_user {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(bin.join(program));
                c
            } else {
                Command::new(bin.join(program))
            };
            cmd.current_dir(&dir);
            cmd
        };
        if options.archive {
            std::fs::create_dir(dir.join("wal-archive")).expect("wal-archive dir");
        }
        if as_postgres_user {
            check(
                "chown -R postgres: <pg temp dir>",
                Command::new("chown")
                    .args(["-R", "postgres:"])
                    .arg(&dir)
                    .output(),
            );
        }
        let mut initdb = pg("initdb");
        initdb
            .args(["-D"])
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
            .args(["--locale=C", "--no-sync"]);
        if let Some(mb) = options.wal_segsize_mb {
            initdb.arg(format!("--wal-segsize={mb}"));
        }
        check("initdb", initdb.output());

        let mut conf = format!(
            "\n# dr-drill tests\nport = {port}\nlisten_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\nfsync = off\nmax_connections = 40\n\
             shared_buffers = 16MB\n",
            dir.display()
        );
        if options.archive {
            conf.push_str(&format!(
                "wal_level = replica\narchive_mode = on\n\
                 archive_command = 'test ! -f {0}/%f && cp %p {0}/%f'\n",
                dir.join("wal-archive").display()
            ));
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .expect("postgresql.conf is writable");

        check(
            "pg_ctl start",
            pg("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.join("server.log"))
                .args(["-w", "-t", "60", "start"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .output(),
        );

        // The watchdog: stops the server and removes the directory when our
        // end of its stdin closes (the test process exited).
        let stop = format!(
            "{} -D '{}' -m immediate -w stop >/dev/null 2>&1",
            bin.join("pg_ctl").display(),
            data.display()
        );
        let stop = if as_postgres_user {
            format!("runuser -u postgres -- {stop}")
        } else {
            stop
        };
        let script = format!("cat >/dev/null; {stop}; rm -rf '{}'", dir.display());
        let mut watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("sh runs");
        let stdin = watchdog.stdin.take().expect("piped stdin");
        Pg {
            dir,
            data,
            port,
            bin,
            as_postgres_user,
            _watchdog: watchdog,
            _watchdog_stdin: stdin,
        }
    }

    /// The environment for a client of this server (`psql`, `pg_dump`,
    /// a `dr-drill` process and its shell steps): PGHOST (the socket
    /// directory), PGPORT, PGUSER, PGDATABASE and PATH with the server
    /// programs' directory first.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let path = std::env::var("PATH").unwrap_or_default();
        vec![
            ("PGHOST", self.dir.display().to_string()),
            ("PGPORT", self.port.to_string()),
            ("PGUSER", "postgres".into()),
            ("PGDATABASE", "postgres".into()),
            ("PATH", format!("{}:{path}", self.bin.display())),
        ]
    }

    /// A client `program` (from the server's bin directory) with [`Pg::env`].
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        cmd.envs(self.env());
        cmd
    }

    /// Runs `sql` with `psql` in `database`; panics on an error. Returns the
    /// unaligned, tuples-only output, trimmed.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let out = check(
            &format!("psql -d {database} -c {sql:?}"),
            self.command("psql")
                .args([
                    "-X",
                    "-q",
                    "-At",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-d",
                    database,
                    "-c",
                ])
                .arg(sql)
                .output(),
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Creates a database named `name`.
    pub fn createdb(&self, name: &str) {
        check(
            &format!("createdb {name}"),
            self.command("createdb").arg(name).output(),
        );
    }

    /// `pg_dump -Fc` of `database` into `file`.
    pub fn dump(&self, database: &str, file: &Path) {
        check(
            &format!("pg_dump -Fc {database}"),
            self.command("pg_dump")
                .args(["-Fc", "-f"])
                .arg(file)
                .arg(database)
                .output(),
        );
    }

    /// The server's log so far (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// A command running a server program as the server's user (`postgres`
    /// under root), e.g. `pg_basebackup` or `pg_ctl` on another data dir.
    pub fn as_server_user(&self, program: &str) -> Command {
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(program));
            c
        } else {
            Command::new(self.bin.join(program))
        };
        cmd.envs(self.env());
        cmd
    }
}
