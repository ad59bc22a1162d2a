//! `shell`: `sh -c` with templates shell-quoted, output streamed line by
//! line, outputs read from `$DR_DRILL_OUTPUT`, and the whole process group
//! killed when the step is cancelled or times out.

use std::process::Stdio;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::path::Path;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use tokio::process::{Child, Command};

use super::{StepCtx, StepError};
use crate::engine::event::Stream;
use crate::engine::values::Outputs;
use crate::runbook::kinds::Shell;

/// Longest line kept in an output event; the rest is cut.
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
    let pumps = async {
        tokio::join!(
            pump(ctx, stdout, Stream::Stdout),
            pump(ctx, stderr, Stream::Stderr)
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

/// Streams lines as events; returns the last non-empty line.
async fn pump(
    ctx: &StepCtx,
    pipe: Option<impl AsyncRead + Unpin>,
    stream: Stream,
) -> Result<Option<String>, StepError> {
    let Some(pipe) = pipe else { return Ok(None) };
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    let mut last = None;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .await
            .map_err(|e| StepError::Failed(format!("reading the command's output: {e}")))?;
        if n == 0 {
            return Ok(last);
        }
        let end = buf.len() - usize::from(buf.ends_with(b"\n"));
        let line = String::from_utf8_lossy(&buf[..end.min(MAX_LINE)])
            .trim_end_matches('\r')
            .to_string();
        if !line.trim().is_empty() {
            last = Some(line.clone());
        }
        ctx.output(stream, line).await?;
    }
}

/// `NAME=VALUE` lines the command wrote to `$DR_DRILL_OUTPUT`.
async fn read_outputs(path: &std::path::Path) -> Result<Outputs, StepError> {
    let text = match tokio::fs::read_to_string(path).await {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Outputs::new()),
        Err(e) => {
            return Err(StepError::Failed(format!(
                "cannot read the step's outputs {}: {e}",
                path.display()
            )));
        }
    };
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
