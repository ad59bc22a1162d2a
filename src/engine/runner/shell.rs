//! `shell`: `sh -c` with templates shell-quoted, output streamed line by
//! line, outputs read from `$DR_DRILL_OUTPUT`, and the whole process group
//! killed when the step is cancelled or times out.

use std::process::Stdio;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::path::Path;
use std::path::PathBuf;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

use tokio::process::{Child, Command};

use super::{StepCtx, StepError};
use crate::engine::event::{EventKind, Stream};
use crate::engine::output::{CONTINUED, LINE_PIECE, OutputCap, Piece};
use crate::engine::values::Outputs;
use crate::runbook::kinds::Shell;

/// Longest last line quoted in a failure's reason.
const MAX_LINE: usize = 8 * 1024;

pub async fn run(ctx: &StepCtx, shell: &Shell) -> Result<Outputs, StepError> {
    let (command, mut env) = ctx.shell_command(&shell.run.value)?;
    for (name, value) in &shell.env.0 {
        env.push((name.value.clone(), ctx.resolve(&value.value)?));
    }
    let cwd = match &shell.cwd {
        Some(cwd) => super::paths::local_path(ctx, "cwd", &cwd.value)?,
        None => ctx.run_dir.clone(),
    };
    let step_dir = ctx.run_dir.join("steps").join(ctx.id());
    crate::fsx::create_private_dir_async(&step_dir)
        .await
        .map_err(|e| StepError::Failed(format!("cannot create {}: {e}", step_dir.display())))?;
    let output_file = step_dir.join(format!("outputs-{}.env", ctx.attempt));
    // A file left by an earlier attempt or run must not pass for this
    // one's: it is created afresh, empty and readable by the operator only
    // (it holds raw values, secrets too), and removed once read or when
    // the step ends another way.
    crate::fsx::create_private_file_async(&output_file)
        .await
        .map_err(|e| StepError::Failed(format!("cannot create {}: {e}", output_file.display())))?;
    let _output_file_removed = RemovedOnDrop(output_file.clone());
    let run_id = ctx.values().run.get("id").cloned().unwrap_or_default();
    env.push(("DR_DRILL_OUTPUT".into(), output_file.display().to_string()));
    env.push(("DR_DRILL_RUN_ID".into(), run_id));
    env.push(("DR_DRILL_STEP".into(), ctx.id().to_owned()));
    env.extend(ctx.sandbox_env());
    let (mut child, group) = spawn_sh(&command, &cwd, env, Stdio::piped)?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let log = Mutex::new(OutputLog::new(ctx));
    let pumps = async {
        tokio::join!(
            pump(ctx, &log, stdout, Stream::Stdout),
            pump(ctx, &log, stderr, Stream::Stderr)
        )
    };
    tokio::pin!(pumps);
    let mut pumped = None;
    let status = tokio::select! {
        status = child.wait() => status,
        done = &mut pumps => {
            pumped = Some(done);
            child.wait().await
        }
    };
    let status = status.map_err(|e| StepError::Failed(format!("lost the command: {e}")))?;
    // `sh` has exited. A background process it left may still hold the
    // output open: read what is left for a moment, then end the group.
    // (The group is ended in any case when the step ends: a step's
    // processes do not outlive it.)
    let (out, err) = match pumped {
        Some(done) => done,
        None => match tokio::time::timeout(OUTPUT_GRACE, &mut pumps).await {
            Ok(done) => done,
            Err(_) => {
                drop(group);
                pumps.await
            }
        },
    };
    out?;
    let last_error_line = err?;
    log.lock().await.finish(ctx).await?;
    let mut outputs = read_outputs(&output_file).await?;
    let code = status.code();
    outputs.insert(
        "exit_code".into(),
        code.map_or_else(|| "signal".into(), |c| c.to_string()),
    );
    if status.success() {
        Ok(outputs)
    } else {
        let how = match code {
            Some(c) => format!("the command exited with status {c}"),
            None => "the command was killed by a signal".to_string(),
        };
        Err(StepError::Failed(match last_error_line {
            Some(line) => format!("{how}: {line}"),
            None => how,
        }))
    }
}

/// How long output is read after the command exits.
const OUTPUT_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Set in the environment of a sandbox run's commands.
pub(super) const SANDBOX_VAR: &str = "DR_DRILL_SANDBOX";

/// Starts `sh -c command` in `cwd` with `env`, in a process group of its
/// own. Dropping the returned guard (the step was cancelled or timed out)
/// kills the command and everything it started.
pub(super) fn spawn_sh(
    command: &str,
    cwd: &Path,
    env: Vec<(String, String)>,
    output: fn() -> Stdio,
) -> Result<(Child, ProcessGroup), StepError> {
    let mut sh = Command::new("sh");
    if env.iter().any(|(k, v)| k == SANDBOX_VAR && v == "1") {
        // In the simulated world no AWS setting of the operator's reaches
        // the command: not only keys and profiles, but also the web
        // identity (EKS) and container (ECS) credentials an SDK would find.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("AWS_") {
                sh.env_remove(name);
            }
        }
    }
    let child = sh
        .arg("-c")
        .arg(command)
        .current_dir(cwd)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(output())
        .stderr(output())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            StepError::Failed(format!("cannot start `sh -c` in {}: {e}", cwd.display()))
        })?;
    let group = ProcessGroup(child.id());
    Ok((child, group))
}

/// A step attempt's output on its way to the journal: pieces pass through
/// the [`OutputCap`]; once the cap holds some back, every byte also goes to
/// `steps/<id>/output-<attempt>.log` (0600), the head written first.
struct OutputLog {
    cap: OutputCap,
    /// The log's path relative to the run directory, and its full path.
    file: (String, PathBuf),
    /// Raw bytes of the head, until the log is opened.
    head: Vec<u8>,
    log: Option<tokio::io::BufWriter<tokio::fs::File>>,
}

impl OutputLog {
    fn new(ctx: &StepCtx) -> Self {
        let relative = format!("steps/{}/output-{}.log", ctx.id(), ctx.attempt);
        let full = ctx.run_dir.join(&relative);
        Self {
            cap: OutputCap::default(),
            file: (relative, full),
            head: Vec::new(),
            log: None,
        }
    }

    async fn take(&mut self, ctx: &StepCtx, piece: Piece, raw: &[u8]) -> Result<(), StepError> {
        let journal_now = self.cap.admit(piece);
        let held_back = journal_now.is_none();
        if held_back && self.log.is_none() {
            let file = tokio::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&self.file.1)
                .await
                .map_err(|e| self.log_error(&e))?;
            let mut file = tokio::io::BufWriter::with_capacity(LINE_PIECE, file);
            file.write_all(&std::mem::take(&mut self.head))
                .await
                .map_err(|e| self.log_error(&e))?;
            self.log = Some(file);
        }
        match &mut self.log {
            Some(file) => file.write_all(raw).await.map_err(|e| self.log_error(&e))?,
            None => self.head.extend_from_slice(raw),
        }
        if let Some(piece) = journal_now {
            ctx.output(piece.stream, piece.text).await?;
        }
        Ok(())
    }

    fn log_error(&self, e: &std::io::Error) -> StepError {
        StepError::Failed(format!(
            "cannot write the step's full output to {}: {e}; free disk space or check the run directory's permissions",
            self.file.1.display()
        ))
    }

    /// Records what was left out, then the kept tail.
    async fn finish(&mut self, ctx: &StepCtx) -> Result<(), StepError> {
        if let Some(mut file) = self.log.take() {
            file.flush().await.map_err(|e| {
                StepError::Failed(format!(
                    "cannot write the step's full output to {}: {e}",
                    self.file.1.display()
                ))
            })?;
        }
        let (left_out, tail) = std::mem::take(&mut self.cap).finish(&self.file.0);
        if let Some(left_out) = left_out {
            ctx.record(EventKind::StepOutputLeftOut {
                step: ctx.id().to_owned(),
                left_out,
            })
            .await?;
        }
        for piece in tail {
            ctx.output(piece.stream, piece.text).await?;
        }
        Ok(())
    }
}

/// Streams output as events, in pieces of at most [`LINE_PIECE`] bytes
/// (memory stays bounded whatever the command prints); returns the last
/// non-empty line (cut to [`MAX_LINE`]).
async fn pump(
    ctx: &StepCtx,
    log: &Mutex<OutputLog>,
    pipe: Option<impl AsyncRead + Unpin>,
    stream: Stream,
) -> Result<Option<String>, StepError> {
    let Some(pipe) = pipe else { return Ok(None) };
    let mut reader = BufReader::with_capacity(LINE_PIECE, pipe);
    let mut piece: Vec<u8> = Vec::new();
    let mut continued = false;
    let mut last = None;
    loop {
        let buf = reader
            .fill_buf()
            .await
            .map_err(|e| StepError::Failed(format!("reading the command's output: {e}")))?;
        let (ends_line, eof) = if buf.is_empty() {
            (!piece.is_empty(), true)
        } else {
            let room = LINE_PIECE - piece.len();
            let seen = &buf[..buf.len().min(room)];
            match seen.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    piece.extend_from_slice(&seen[..i]);
                    reader.consume(i + 1);
                    (true, false)
                }
                None => {
                    let n = seen.len();
                    piece.extend_from_slice(seen);
                    reader.consume(n);
                    (false, false)
                }
            }
        };
        if ends_line || piece.len() >= LINE_PIECE {
            // A piece cut inside a character carries the character over.
            let cut = if ends_line {
                piece.len()
            } else {
                match std::str::from_utf8(&piece) {
                    Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => e.valid_up_to(),
                    _ => piece.len(),
                }
            };
            let rest = piece.split_off(cut);
            let mut raw = std::mem::replace(&mut piece, rest);
            let text = String::from_utf8_lossy(&raw)
                .trim_end_matches('\r')
                .to_string();
            let text = if continued {
                format!("{CONTINUED}{text}")
            } else {
                text
            };
            if ends_line && !eof {
                raw.push(b'\n');
            }
            if !text.trim().is_empty() {
                last = Some(text.chars().take(MAX_LINE).collect());
            }
            let bytes = raw.len();
            log.lock()
                .await
                .take(
                    ctx,
                    Piece {
                        stream,
                        text,
                        bytes,
                    },
                    &raw,
                )
                .await?;
            continued = !ends_line;
        }
        if eof {
            return Ok(last);
        }
    }
}

/// Largest `$DR_DRILL_OUTPUT` file read back: outputs are short values.
pub const MAX_OUTPUTS_FILE: u64 = 1024 * 1024;

/// `NAME=VALUE` lines the command wrote to `$DR_DRILL_OUTPUT`.
async fn read_outputs(path: &std::path::Path) -> Result<Outputs, StepError> {
    let cannot = |e: std::io::Error| {
        StepError::Failed(format!(
            "cannot read the step's outputs {}: {e}",
            path.display()
        ))
    };
    let size = match tokio::fs::metadata(path).await {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Outputs::new()),
        Err(e) => return Err(cannot(e)),
    };
    if size > MAX_OUTPUTS_FILE {
        return Err(StepError::Failed(format!(
            "the step's outputs {} hold {}, over the cap of {}; write short NAME=VALUE lines to $DR_DRILL_OUTPUT and leave large data in files",
            path.display(),
            crate::format::human_bytes(size),
            crate::format::human_bytes(MAX_OUTPUTS_FILE)
        )));
    }
    let mut text = String::new();
    let file = tokio::fs::File::open(path).await.map_err(cannot)?;
    // Read no more than the cap even if the file grew since.
    tokio::io::AsyncReadExt::read_to_string(
        &mut tokio::io::AsyncReadExt::take(file, MAX_OUTPUTS_FILE),
        &mut text,
    )
    .await
    .map_err(cannot)?;
    Ok(text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .collect())
}

/// Removes a file when dropped: the step's outputs file, once read.
struct RemovedOnDrop(std::path::PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Kills a process group when dropped.
pub(super) struct ProcessGroup(Option<u32>);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if let Some(Ok(pid)) = self.0.map(i32::try_from) {
            // The group may be gone already; that is the normal case.
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}
