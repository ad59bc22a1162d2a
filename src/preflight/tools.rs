//! Programs and servers the shell steps need (`requires`), checked on this
//! machine: the one place that decides whether a requirement is met.
//! Preflight turns each [`Checked`] into a [`Finding`]; the session's start
//! refusal (`session::tools::missing_message`, for `run`, `demo` and the
//! start screen) words the failed ones. Nothing else looks at `PATH`.
//!
//! A program whose entry names a version is run as `PROGRAM --version`:
//! found on `PATH` first and run by that path, with no shell, stdin from
//! `/dev/null`, an environment of `PATH` and `LC_ALL=C` only, in a process
//! group of its own that is killed after [`VERSION_TIMEOUT`]; stdout and
//! stderr share one pipe, read up to [`OUTPUT_CAP`] bytes. What it printed
//! is hostile text: only the first dotted number is read from it
//! ([`Version::first_in`]), and a line of it is shown through
//! `format::printable`. A program whose entry names no version is not run:
//! nothing says it understands `--version` (a site script might act on
//! it). The server check runs `pg_isready` the same way, with this
//! process's environment (the libpq variables name the server). At most
//! [`WORKERS`] checks run at once.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Area, Context, Finding, Sink, Verdict};
use crate::runbook::kinds::{POSTGRES_SERVER, Requirement, Version};
use crate::runbook::{Runbook, StepAction};

/// How long a program has to answer `--version`.
pub const VERSION_TIMEOUT: Duration = Duration::from_secs(2);

/// How long `pg_isready` has (it is told 2 s: `-t 2`).
pub const SERVER_TIMEOUT: Duration = Duration::from_secs(3);

/// How much of a program's output is read.
pub const OUTPUT_CAP: usize = 4096;

/// How many programs are run at once.
const WORKERS: usize = 8;

/// The longest line of a program's output a finding quotes.
const QUOTE_MAX: usize = 200;

/// One requirement as the runbook states it, with the steps stating it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The program (or server) and the version it must have.
    pub requirement: Requirement,
    /// The steps that require it, in plan order.
    pub steps: Vec<String>,
}

/// Every requirement of the runbook's shell steps, each with its steps.
pub fn needs(runbook: &Runbook) -> Vec<Need> {
    let mut needs: BTreeMap<Requirement, Vec<String>> = BTreeMap::new();
    for step in &runbook.steps {
        if let StepAction::Shell(shell) = &step.action {
            for requirement in shell.requirements() {
                needs
                    .entry(requirement)
                    .or_default()
                    .push(step.id.value.clone());
            }
        }
    }
    needs
        .into_iter()
        .map(|(requirement, steps)| Need { requirement, steps })
        .collect()
}

/// What was found for one [`Need`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// On `PATH`, with its version when the entry asked for one (and the
    /// version meets it).
    Present {
        /// Where it was found.
        path: PathBuf,
        /// The version `--version` printed, when asked.
        version: Option<Version>,
    },
    /// Not on `PATH`.
    Missing,
    /// On `PATH`, at a version the entry does not admit.
    WrongVersion {
        /// Where it was found.
        path: PathBuf,
        /// The version it printed.
        version: Version,
    },
    /// It answered `--version` with no dotted number: the line it printed.
    Unreadable {
        /// Where it was found.
        path: PathBuf,
        /// Its first line, printable.
        said: String,
    },
    /// It did not finish `--version` within [`VERSION_TIMEOUT`].
    TimedOut {
        /// Where it was found.
        path: PathBuf,
    },
    /// It could not be run.
    NotRun {
        /// Where it was found.
        path: PathBuf,
        /// Why, as the system said.
        error: String,
    },
    /// `pg_isready` says the server accepts connections.
    ServerReady {
        /// What it printed (the host and port it tried).
        said: String,
    },
    /// `pg_isready` says no server accepts connections, or did not answer.
    ServerDown {
        /// What it printed, or why it gave no answer.
        said: String,
    },
    /// `pg_isready` is not on `PATH`, so the server cannot be checked.
    NoPgIsready,
}

/// One requirement and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The requirement.
    pub need: Need,
    /// What was found.
    pub status: Status,
}

impl Checked {
    /// How it went: missing, the wrong version or no server fail; a version
    /// that could not be read is unchecked.
    pub fn verdict(&self) -> Verdict {
        match self.status {
            Status::Present { .. } | Status::ServerReady { .. } => Verdict::Pass,
            Status::Unreadable { .. } | Status::TimedOut { .. } | Status::NotRun { .. } => {
                Verdict::Unchecked
            }
            Status::Missing
            | Status::WrongVersion { .. }
            | Status::ServerDown { .. }
            | Status::NoPgIsready => Verdict::Fail,
        }
    }

    /// `step a` or `steps a, b`.
    pub fn steps(&self) -> String {
        let steps = &self.need.steps;
        format!(
            "step{} {}",
            if steps.len() == 1 { "" } else { "s" },
            steps.join(", ")
        )
    }

    /// The finding preflight shows.
    pub fn finding(&self) -> Finding {
        let requirement = &self.need.requirement;
        let name = &requirement.name;
        let wanted = requirement
            .constraint
            .as_ref()
            .map(|c| c.wanted())
            .unwrap_or_default();
        let steps = self.steps();
        let (detail, fix) = match &self.status {
            Status::Present { path, version } => (
                match version {
                    Some(v) => format!("{v} at {}; needed by {steps}", path.display()),
                    None => format!("present at {}; needed by {steps}", path.display()),
                },
                None,
            ),
            Status::Missing => (
                format!("missing from PATH; needed by {steps}"),
                Some(format!("install `{name}` or put it on PATH")),
            ),
            Status::WrongVersion { path, version } => (
                format!(
                    "{version} at {}, but {steps} need{} {wanted}",
                    path.display(),
                    if self.need.steps.len() == 1 { "s" } else { "" },
                ),
                Some(format!(
                    "install `{name}` {wanted}, or put one first on PATH"
                )),
            ),
            Status::Unreadable { path, said } => (
                format!(
                    "`{} --version` printed no version number: \"{said}\"; needed by {steps}",
                    path.display()
                ),
                Some(format!("check by hand that `{name}` is {wanted}")),
            ),
            Status::TimedOut { path } => (
                format!(
                    "`{} --version` did not finish within {} s and was stopped; needed by {steps}",
                    path.display(),
                    VERSION_TIMEOUT.as_secs()
                ),
                Some(format!("check by hand that `{name}` is {wanted}")),
            ),
            Status::NotRun { path, error } => (
                format!(
                    "`{} --version` could not be run: {error}; needed by {steps}",
                    path.display()
                ),
                Some(format!("check by hand that `{name}` is {wanted}")),
            ),
            Status::ServerReady { said } => (
                format!(
                    "a PostgreSQL server accepts connections at {} (pg_isready: \"{said}\"); needed by {steps}",
                    postgres_target()
                ),
                None,
            ),
            Status::ServerDown { said } => (
                format!(
                    "no PostgreSQL server accepts connections at {} (pg_isready: \"{said}\"); needed by {steps}",
                    postgres_target()
                ),
                Some(SERVER_FIX.into()),
            ),
            Status::NoPgIsready => (
                format!("cannot be checked: pg_isready is not on PATH; needed by {steps}"),
                Some(
                    "install PostgreSQL's client programs (pg_isready) or put them on PATH".into(),
                ),
            ),
        };
        let mut finding =
            Finding::new(Area::Tools, self.verdict(), requirement.to_string(), detail);
        if let [step] = self.need.steps.as_slice() {
            finding = finding.step(step.clone());
        }
        match fix {
            Some(fix) => finding.fix(fix),
            None => finding,
        }
    }
}

/// What to do when no server answers.
pub const SERVER_FIX: &str = "start one, or set PGHOST and PGPORT (and PGUSER, PGPASSWORD) to the server the runbook restores into";

/// Where the libpq environment points, as the findings name it.
pub fn postgres_target() -> String {
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| crate::format::printable(&v).into_owned())
    };
    format!(
        "PGHOST={}, PGPORT={}",
        var("PGHOST").unwrap_or_else(|| "(unset: the local socket)".into()),
        var("PGPORT").unwrap_or_else(|| "(unset: 5432)".into()),
    )
}

/// Checks each requirement of the runbook's shell steps on this machine.
pub(super) async fn check(ctx: &Context, sink: &Sink) {
    let runbook = ctx.runbook.clone();
    let path = std::env::var_os("PATH");
    match tokio::task::spawn_blocking(move || check_all(&runbook, path.as_deref())).await {
        Ok(checked) => {
            for c in checked {
                sink.push(c.finding());
            }
        }
        Err(e) => sink.push(Finding::new(
            Area::Tools,
            Verdict::Unchecked,
            "requires",
            format!("the check of the shell steps' programs stopped: {e}"),
        )),
    }
}

/// Checks every requirement of the runbook against `path` (a `PATH`
/// value), running the version and server checks at once; at most
/// [`SERVER_TIMEOUT`] per round of [`WORKERS`] checks.
pub fn check_all(runbook: &Runbook, path: Option<&OsStr>) -> Vec<Checked> {
    let needs = needs(runbook);
    // One run per program (and one pg_isready), whatever the entries.
    let mut jobs: Vec<(String, Probe)> = Vec::new();
    for need in &needs {
        let name = &need.requirement.name;
        let job = if name == POSTGRES_SERVER {
            locate("pg_isready", path).map(Probe::Server)
        } else if need.requirement.constraint.is_some() {
            locate(name, path).map(Probe::Version)
        } else {
            None
        };
        if let Some(job) = job
            && !jobs.iter().any(|(n, _)| n == name)
        {
            jobs.push((name.clone(), job));
        }
    }
    let ran = run_all(&jobs, path);
    needs
        .into_iter()
        .map(|need| {
            let name = need.requirement.name.as_str();
            let answer = ran.get(name);
            let status = if name == POSTGRES_SERVER {
                match answer {
                    None => Status::NoPgIsready,
                    Some(Ran::Exited {
                        success: true,
                        printed,
                    }) => Status::ServerReady {
                        said: first_line(printed),
                    },
                    Some(Ran::Exited { printed, .. }) => Status::ServerDown {
                        said: first_line(printed),
                    },
                    Some(Ran::TimedOut) => Status::ServerDown {
                        said: format!("no answer within {} s", SERVER_TIMEOUT.as_secs()),
                    },
                    Some(Ran::Failed(e)) => Status::ServerDown {
                        said: format!("could not be run: {e}"),
                    },
                }
            } else {
                match (locate(name, path), &need.requirement.constraint, answer) {
                    (None, _, _) => Status::Missing,
                    (Some(path), None, _) | (Some(path), Some(_), None) => Status::Present {
                        path,
                        version: None,
                    },
                    (Some(path), Some(constraint), Some(answer)) => match answer {
                        Ran::Exited { printed, .. } => match Version::first_in(printed) {
                            Some(version) if constraint.admits(&version) => Status::Present {
                                path,
                                version: Some(version),
                            },
                            Some(version) => Status::WrongVersion { path, version },
                            None => Status::Unreadable {
                                path,
                                said: first_line(printed),
                            },
                        },
                        Ran::TimedOut => Status::TimedOut { path },
                        Ran::Failed(error) => Status::NotRun {
                            path,
                            error: error.clone(),
                        },
                    },
                }
            };
            Checked { need, status }
        })
        .collect()
}

/// A program to run: `--version`, or `pg_isready` for the server.
enum Probe {
    Version(PathBuf),
    Server(PathBuf),
}

/// How a bounded run ended.
#[derive(Debug, Clone)]
enum Ran {
    /// It exited; what it printed (lossy UTF-8, at most [`OUTPUT_CAP`]).
    Exited { success: bool, printed: String },
    /// It ran out of time and was killed, with its process group.
    TimedOut,
    /// It could not be started.
    Failed(String),
}

/// Runs the jobs, [`WORKERS`] at a time; the answers by program name.
fn run_all(jobs: &[(String, Probe)], path: Option<&OsStr>) -> BTreeMap<String, Ran> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let answers = std::sync::Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS.min(jobs.len()) {
            scope.spawn(|| {
                while let Some((name, probe)) =
                    jobs.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                {
                    let ran = match probe {
                        Probe::Version(program) => {
                            let env = vec![
                                ("PATH".into(), path.map(OsStr::to_owned).unwrap_or_default()),
                                ("LC_ALL".into(), "C".into()),
                            ];
                            bounded_run(program, &["--version"], Some(env), VERSION_TIMEOUT)
                        }
                        Probe::Server(program) => {
                            bounded_run(program, &["-t", "2"], None, SERVER_TIMEOUT)
                        }
                    };
                    answers
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(name.clone(), ran);
                }
            });
        }
    });
    answers.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Runs `program args` with no shell and stdin from `/dev/null`, its
/// output (stdout and stderr, one pipe) read up to [`OUTPUT_CAP`], in a
/// process group of its own killed at `limit`. `env`: the whole
/// environment it gets, or `None` for this process's.
fn bounded_run(
    program: &Path,
    args: &[&str],
    env: Option<Vec<(OsString, OsString)>>,
    limit: Duration,
) -> Ran {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let deadline = Instant::now() + limit;
    let (mut reader, writer) = match std::io::pipe() {
        Ok(pipe) => pipe,
        Err(e) => return Ran::Failed(e.to_string()),
    };
    let spawned = (|| {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(writer.try_clone()?)
            .stderr(writer)
            .process_group(0);
        if let Some(env) = env {
            command.env_clear().envs(env);
        }
        command.spawn()
        // The command, with our copies of the pipe's write end, is dropped
        // here: the reader sees the end of the output when the program's
        // side closes.
    })();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return Ran::Failed(e.to_string()),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::with_capacity(256);
        let _ = (&mut reader).take(OUTPUT_CAP as u64).read_to_end(&mut out);
        let _ = tx.send(out);
    });
    let printed = rx.recv_timeout(limit).ok();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => break None,
        }
    };
    match (printed, status) {
        (Some(out), Some(status)) => Ran::Exited {
            success: status.success(),
            printed: String::from_utf8_lossy(&out).into_owned(),
        },
        _ => {
            if let Ok(pid) = i32::try_from(child.id()) {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.kill();
            let _ = child.wait();
            Ran::TimedOut
        }
    }
}

/// The first non-empty line of a program's output, printable and at most
/// [`QUOTE_MAX`] characters.
fn first_line(printed: &str) -> String {
    let line = printed
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("(nothing)");
    let line = crate::format::printable(line);
    let mut quoted: String = line.chars().take(QUOTE_MAX).collect();
    if quoted.len() < line.len() {
        quoted.push('…');
    }
    quoted.replace('"', "'")
}

/// Where `program` is: an executable file in a directory of `path` (a
/// `PATH` value), or `program` itself when it names a path.
pub fn locate(program: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    let executable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    std::env::split_paths(path?)
        .map(|dir| dir.join(program))
        .find(|p| executable(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_is_found_on_path_only_when_executable_there() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("pg_restore");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        let path = std::env::join_paths([dir.path()]).unwrap();
        assert_eq!(
            locate("pg_restore", Some(&path)),
            None,
            "not executable yet"
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(locate("pg_restore", Some(&path)), Some(tool.clone()));
        assert_eq!(locate("jq-not-here", Some(&path)), None);
        assert_eq!(locate(tool.to_str().unwrap(), None), Some(tool));
    }

    #[test]
    fn a_quoted_line_is_printable_and_short() {
        assert_eq!(
            first_line("\n\n  \x1b]0;owned\x07jq-1.6\r\nmore"),
            "]0;ownedjq-1.6"
        );
        assert_eq!(first_line(""), "(nothing)");
        let long = "x".repeat(5000);
        assert_eq!(first_line(&long).chars().count(), QUOTE_MAX + 1);
    }
}
