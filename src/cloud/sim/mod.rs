//! The simulated AWS world: a [`Cloud`] entirely in process, for `dr-drill
//! demo`, `--sandbox`, training and tests.
//!
//! It owns the world files (`assets/sandbox/*.toml`, built in), the state
//! generated from them (AWS Backup vaults with a year of recovery points,
//! DynamoDB tables, S3 buckets), jobs that progress with (scaled) time, and
//! injected [`Fault`]s. It answers like AWS as the real implementation sees
//! it, so a runbook runs the same in both; every error and the identity say
//! SIMULATED. Time comes from `tokio::time`, so tests with a paused clock
//! are deterministic. It never touches the terminal.

mod as_of;
mod calls;
mod fault;
mod generate;
mod iam;
mod mailstore;
mod spec;
mod state;
mod world;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use fault::{ACTIONS, FAULT_SYNTAX, Fault};
pub use state::FILE as STATE_FILE;

use self::fault::Faults;
use self::spec::Source;
use self::state::{Change, Done, Header, Keeper, Line, Made};
use self::world::{ACCOUNT, Refusal, World};
use super::error::{iam_permission, retry_message};
use super::{CloudError, ErrorKind, Notify, RecoveryPoint, RetryPolicy, with_retry};

/// The built-in world files.
const BUILTIN: &[(&str, &str)] = &[
    (
        "assets/sandbox/cabalmail.toml",
        include_str!("../../../assets/sandbox/cabalmail.toml"),
    ),
    (
        "assets/sandbox/penguinmails.toml",
        include_str!("../../../assets/sandbox/penguinmails.toml"),
    ),
    (
        "assets/sandbox/gtin1.toml",
        include_str!("../../../assets/sandbox/gtin1.toml"),
    ),
    (
        "assets/sandbox/leapmailr.toml",
        include_str!("../../../assets/sandbox/leapmailr.toml"),
    ),
    (
        "assets/sandbox/cpam.toml",
        include_str!("../../../assets/sandbox/cpam.toml"),
    ),
];

/// Content files the built-in world files name (`content_file`).
const BUILTIN_CONTENT: &[(&str, &[u8])] = &[
    (
        "gtin1-readme.txt",
        include_bytes!("../../../assets/sandbox/gtin1-readme.txt"),
    ),
    (
        "gtin1-backup.dump",
        include_bytes!("../../../assets/sandbox/gtin1-backup.dump"),
    ),
    (
        "leapmailr-backup.sql.gz",
        include_bytes!("../../../assets/sandbox/leapmailr-backup.sql.gz"),
    ),
    (
        "cpam/base/base.tar.gz",
        include_bytes!("../../../assets/sandbox/cpam/base/base.tar.gz"),
    ),
    (
        "cpam/base/pg_wal.tar.gz",
        include_bytes!("../../../assets/sandbox/cpam/base/pg_wal.tar.gz"),
    ),
    (
        "cpam/base/backup_manifest",
        include_bytes!("../../../assets/sandbox/cpam/base/backup_manifest"),
    ),
    (
        "cpam/wal/000000010000000000000007.gz",
        include_bytes!("../../../assets/sandbox/cpam/wal/000000010000000000000007.gz"),
    ),
    (
        "cpam/wal/000000010000000000000008.gz",
        include_bytes!("../../../assets/sandbox/cpam/wal/000000010000000000000008.gz"),
    ),
    (
        "penguinmails-vault-snapshot.tar.gz",
        include_bytes!("../../../assets/sandbox/penguinmails-vault-snapshot.tar.gz"),
    ),
];

/// Finds the bytes of a content file: (world file, name) to bytes.
type ContentOf<'a> = dyn Fn(&str, &str) -> Option<Arc<[u8]>> + 'a;

/// The region calls go to when they name none.
pub const REGION: &str = spec::DEFAULT_REGION;
/// The simulated operator.
pub const PRINCIPAL: &str = "sim-operator";

/// A pause between listing pages, so a UI visibly fills.
const PAGE_PAUSE: Duration = Duration::from_millis(60);
/// Items a scan segment reads (or writes) per second, before `speed`.
const ITEMS_PER_SECOND: f64 = 5_000.0;
/// S3 download throughput, before `speed`.
const BYTES_PER_SECOND: f64 = 80.0 * 1024.0 * 1024.0;
/// Bytes per streamed chunk.
const CHUNK: usize = 64 * 1024;

/// How the world runs.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Time scale: 60.0 makes a 20-minute restore take 20 s.
    pub speed: f64,
    /// Faults to inject.
    pub faults: Vec<Fault>,
    /// The world's "now" when it starts (default: the real now).
    pub now: Option<Timestamp>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            speed: 60.0,
            faults: Vec::new(),
            now: None,
        }
    }
}

/// Why the simulated world could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A world file says something wrong.
    #[error("{file}:{line}:{column}: {}{message}", field_label(.field))]
    World {
        /// The file.
        file: String,
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// The field (`plan[0].vault`), when known.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A world or content file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A `--fault` is not valid.
    #[error("invalid fault `{given}`: {reason}. Valid faults: {}", FAULT_SYNTAX.join(", "))]
    Fault {
        /// As given.
        given: String,
        /// What is wrong.
        reason: String,
    },
    /// An option is out of range.
    #[error("invalid simulation option: {0}")]
    Options(String),
    /// A date could not be computed.
    #[error("simulated world time out of range: {0}")]
    Time(#[from] jiff::Error),
}

fn field_label(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("`{field}`: ")
    }
}

/// The simulated AWS world.
pub struct SimCloud {
    world: Mutex<World>,
    faults: Faults,
    /// Calls throttled so far, by action.
    throttled: Mutex<HashMap<&'static str, u32>>,
    /// Calls made so far, by action and resource (retries not counted):
    /// what a test asks of [`SimCloud::calls`].
    made: Mutex<HashMap<(&'static str, String), u32>>,
    speed: f64,
    /// The options it was built with, its epoch among them.
    options: SimOptions,
    /// The world's time when it was generated.
    epoch: Timestamp,
    /// The world's clock: its time at a real instant; it runs `speed`
    /// times faster from there.
    clock: Mutex<(Timestamp, Instant)>,
    /// Where every change calls make is kept (the run's directory), once
    /// a run is attached.
    kept: Mutex<Option<Keeper>>,
    retry: RetryPolicy,
    /// Where the run keeps the world's mailstores (`<run dir>/sandbox-efs`).
    mailstores: Mutex<Option<PathBuf>>,
    /// Restore jobs whose recovery directory is written.
    written: Mutex<std::collections::BTreeSet<String>>,
}

impl std::fmt::Debug for SimCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimCloud")
            .field("speed", &self.speed)
            .field("epoch", &self.epoch)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl SimCloud {
    /// The built-in world (Cabalmail, PenguinMails, GTIN1, CPAM).
    pub fn builtin(options: SimOptions) -> Result<SimCloud, SimError> {
        let content = |name: &str| {
            BUILTIN_CONTENT
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| Arc::<[u8]>::from(*b))
        };
        let files = BUILTIN
            .iter()
            .map(|(file, text)| (file.to_string(), text.to_string()));
        Self::build(files, &|_: &str, name: &str| content(name), options)
    }

    /// A world from world files; a `content_file` is read beside its world file.
    pub async fn from_files(paths: &[PathBuf], options: SimOptions) -> Result<SimCloud, SimError> {
        let mut files = Vec::new();
        let mut contents: HashMap<(String, String), Arc<[u8]>> = HashMap::new();
        for path in paths {
            let text = tokio::fs::read_to_string(path)
                .await
                .map_err(|source| SimError::Io {
                    path: path.clone(),
                    source,
                })?;
            let name = path.display().to_string();
            let src = Source {
                file: &name,
                text: &text,
            };
            let spec = src.parse()?;
            let dir = path.parent().unwrap_or(Path::new("."));
            for (field, wanted) in spec.content_files() {
                let file = dir.join(&wanted.value);
                let bytes = tokio::fs::read(&file).await.map_err(|e| {
                    src.error(
                        wanted.span,
                        &field,
                        format!("cannot read {}: {e}", file.display()),
                    )
                })?;
                contents.insert((name.clone(), wanted.value.clone()), bytes.into());
            }
            files.push((name, text));
        }
        Self::build(
            files.into_iter(),
            &|file: &str, name: &str| contents.get(&(file.to_owned(), name.to_owned())).cloned(),
            options,
        )
    }

    fn build(
        files: impl Iterator<Item = (String, String)>,
        content: &ContentOf<'_>,
        options: SimOptions,
    ) -> Result<SimCloud, SimError> {
        if !(options.speed.is_finite() && options.speed > 0.0) {
            return Err(SimError::Options(format!(
                "speed must be a positive number, not {}",
                options.speed
            )));
        }
        let now = options.now.unwrap_or_else(Timestamp::now);
        let faults = Faults::new(&options.faults);
        let mut world = World::default();
        for (file, text) in files {
            let src = Source {
                file: &file,
                text: &text,
            };
            let spec = src.parse()?;
            world.add(&src, spec, &|name: &str| content(&file, name), now)?;
        }
        for table in &faults.missing_tables {
            if !world.drop_table(table) {
                return Err(SimError::Fault {
                    given: format!("missing-table={table}"),
                    reason: format!(
                        "the world has no table `{table}`; its tables: {}",
                        world
                            .table_names()
                            .into_iter()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
        for (bucket, pattern) in &faults.corrupt {
            if !world.buckets.contains_key(bucket) {
                return Err(SimError::Fault {
                    given: format!("corrupt-checksum={bucket}/{pattern}"),
                    reason: format!(
                        "the world has no bucket `{bucket}`; its buckets: {}",
                        world.buckets.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        Ok(SimCloud {
            world: Mutex::new(world),
            faults,
            throttled: Mutex::new(HashMap::new()),
            made: Mutex::new(HashMap::new()),
            speed: options.speed,
            options: SimOptions {
                now: Some(now),
                ..options
            },
            epoch: now,
            clock: Mutex::new((now, Instant::now())),
            kept: Mutex::new(None),
            retry: RetryPolicy::default(),
            mailstores: Mutex::new(None),
            written: Mutex::new(Default::default()),
        })
    }

    /// The world's time now: its start plus the time since, scaled by speed.
    pub fn now(&self) -> Timestamp {
        let (base, since) = *self.clock.lock().unwrap_or_else(|p| p.into_inner());
        let real = Instant::now().duration_since(since).as_secs_f64();
        let scaled = Duration::try_from_secs_f64(real * self.speed).unwrap_or(Duration::MAX);
        world::after(base, scaled)
    }

    /// The options this world was built with; `now` is its epoch, so the
    /// same options build the same world.
    pub fn options(&self) -> &SimOptions {
        &self.options
    }

    /// How long `nominal` world time takes in real time.
    fn real(&self, nominal: Duration) -> Duration {
        Duration::try_from_secs_f64(nominal.as_secs_f64() / self.speed).unwrap_or(Duration::MAX)
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn region(region: Option<&str>) -> &str {
        region.unwrap_or(REGION)
    }

    /// Faults that answer before the service looks at the request.
    fn gate(&self, action: &'static str, resource: &str) -> Result<(), CloudError> {
        // DeleteRecoveryPoint without the permissions answers 200 and
        // leaves the point EXPIRED (World::delete_point), as AWS does.
        if self.faults.access_denied.contains(action) && action != "DeleteRecoveryPoint" {
            return Err(CloudError::new(
                action,
                resource,
                ErrorKind::AccessDenied,
                format!(
                    "SIMULATED AccessDeniedException: User: arn:aws:sts::{ACCOUNT}:assumed-role/{PRINCIPAL}/drill is not authorized to perform: {} on resource: {resource} (fault access-denied={action})",
                    iam_permission(action)
                ),
            ));
        }
        if let Some(limit) = self.faults.throttle {
            let mut counts = self.throttled.lock().unwrap_or_else(|p| p.into_inner());
            let done = counts.entry(action).or_insert(0);
            if *done < limit {
                *done += 1;
                return Err(CloudError::new(
                    action,
                    resource,
                    ErrorKind::Throttled,
                    format!(
                        "SIMULATED ThrottlingException: Rate exceeded (fault throttle={limit})"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// How many times each (action, resource) was called so far, sorted; a
    /// listing's next pages are counted as `RESOURCE, page N from FIRST`.
    pub fn calls(&self) -> Vec<((String, String), u32)> {
        let made = self.made.lock().unwrap_or_else(|p| p.into_inner());
        let mut calls: Vec<_> = made
            .iter()
            .map(|((a, r), n)| (((*a).to_owned(), r.clone()), *n))
            .collect();
        calls.sort();
        calls
    }

    /// One API call: faults first, then `op` on the world at its `now`;
    /// throttling is retried with backoff, each retry told to `notify`.
    async fn call<T>(
        &self,
        action: &'static str,
        resource: &str,
        notify: Notify<'_>,
        op: impl FnMut(&mut World, Timestamp) -> Result<T, Refusal>,
    ) -> Result<T, CloudError> {
        self.count(action, resource.to_owned());
        self.attempt(action, resource, notify, op).await
    }

    fn count(&self, action: &'static str, counted_as: String) {
        *self
            .made
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((action, counted_as))
            .or_default() += 1;
    }

    /// [`SimCloud::call`] without counting it.
    async fn attempt<T>(
        &self,
        action: &'static str,
        resource: &str,
        notify: Notify<'_>,
        mut op: impl FnMut(&mut World, Timestamp) -> Result<T, Refusal>,
    ) -> Result<T, CloudError> {
        with_retry(
            self.retry,
            |e, attempt, backoff| notify(retry_message(e, attempt, backoff)),
            || {
                let result = self.gate(action, resource).and_then(|()| {
                    let now = self.now();
                    op(&mut self.world(), now).map_err(|r| refused(action, resource, r))
                });
                std::future::ready(result)
            },
        )
        .await
    }

    /// A call that changes the world: made like [`SimCloud::call`], and
    /// once made, kept in the run's directory so a resumed run finds it.
    async fn change(
        &self,
        action: &'static str,
        resource: &str,
        notify: Notify<'_>,
        change: Change,
    ) -> Result<Done, CloudError> {
        let mut at = self.now();
        let done = self
            .call(action, resource, notify, |w, now| {
                at = now;
                change.apply(w, now, &self.faults)
            })
            .await?;
        self.keep(&Line::Change(Made { at, change }));
        Ok(done)
    }

    /// Appends `line` to the kept world, if a run is attached. A failed
    /// write is logged: the run goes on, and only a resume would miss it.
    fn keep(&self, line: &Line) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let Some(keeper) = kept.as_mut() else { return };
        if let Err(e) = keeper.append(line) {
            tracing::warn!(file = %keeper.path().display(), error = %e, "cannot keep the simulated world");
        }
    }

    /// Keeps the world's time: a resumed run goes on from it.
    pub(super) fn keep_clock(&self) {
        self.keep(&Line::Stopped {
            stopped: self.now(),
        });
    }

    /// Attaches the run in `run_dir`: a world kept there by an earlier
    /// session of the run is made again (the same changes at the same
    /// times) and its clock goes on from where it stopped.
    fn reopen_kept(&self, run_dir: &Path) -> Result<(), String> {
        if let Some(saved) = state::read(run_dir)? {
            if saved.header.epoch != self.epoch {
                return Err(format!(
                    "{}: the world kept there was generated at {}, this one at {}; resume the run with `dr-drill resume` so its recorded world is used",
                    run_dir.join(STATE_FILE).display(),
                    saved.header.epoch,
                    self.epoch
                ));
            }
            let mut world = self.world();
            for made in &saved.changes {
                // A change that failed again is as it was: it failed then.
                let _ = made.change.apply(&mut world, made.at, &self.faults);
            }
            drop(world);
            let last = saved.changes.iter().map(|m| m.at).max();
            if let Some(stopped) = saved.stopped.max(last) {
                *self.clock.lock().unwrap_or_else(|p| p.into_inner()) = (stopped, Instant::now());
            }
        }
        let header = Header::new(
            self.epoch,
            self.speed,
            self.options
                .faults
                .iter()
                .map(ToString::to_string)
                .collect(),
        );
        let keeper = Keeper::open(run_dir, &header).map_err(|e| {
            format!(
                "cannot keep the simulated world in {}: {e}",
                run_dir.join(STATE_FILE).display()
            )
        })?;
        *self.kept.lock().unwrap_or_else(|p| p.into_inner()) = Some(keeper);
        Ok(())
    }

    /// Sleeps through `nominal` world time in steps, telling `notify` how
    /// far along `total` units of work are (`say(done, total)`).
    async fn progress(
        &self,
        nominal: Duration,
        total: u64,
        notify: Notify<'_>,
        say: impl Fn(u64, u64) -> String,
    ) {
        const STEPS: u64 = 10;
        let steps = total.clamp(1, STEPS);
        for step in 1..=steps {
            tokio::time::sleep(self.real(nominal.div_f64(steps as f64))).await;
            if steps > 1 {
                notify(say(total * step / steps, total));
            }
        }
    }

    /// Sends `points` in pages of `size`, each page one (gated) call;
    /// S3 pages first get the manifests beside their objects.
    #[allow(clippy::too_many_arguments)]
    async fn send_pages(
        &self,
        action: &'static str,
        resource: &str,
        points: Vec<RecoveryPoint>,
        size: usize,
        pages: &mpsc::Sender<Vec<RecoveryPoint>>,
        notify: Notify<'_>,
        mut manifests: Option<HashMap<String, Option<serde_json::Value>>>,
    ) -> Result<(), CloudError> {
        for (i, chunk) in points.chunks(size).enumerate() {
            if i > 0 {
                tokio::time::sleep(PAGE_PAUSE).await;
                // A next page is counted apart (one listing, many pages),
                // by its first point: another filter gives other pages.
                let first = chunk.first().map_or("", |p| p.id.as_str());
                self.count(action, format!("{resource}, page {} from {first}", i + 1));
                self.attempt(action, resource, notify, |_, _| Ok(()))
                    .await?;
            }
            let mut page = chunk.to_vec();
            if let Some(cache) = manifests.as_mut() {
                super::points::attach_manifests(self, &mut page, cache, notify).await;
            }
            if pages.send(page).await.is_err() {
                break;
            }
        }
        Ok(())
    }
}

impl SimCloud {
    /// Writes, once, the recovery directory of a completed item-level EFS
    /// restore into a mailstore laid out under the run's directory.
    fn write_recovery_directory(&self, job_id: &str) -> Result<(), String> {
        let Some(root) = self
            .mailstores
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        else {
            return Ok(());
        };
        let (restore, completed) = {
            let world = self.world();
            match world.jobs.get(job_id) {
                Some(job) => match &job.efs {
                    Some(r) => (r.clone(), job.ends_at),
                    None => return Ok(()),
                },
                None => return Ok(()),
            }
        };
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if written.contains(job_id) {
            return Ok(());
        }
        // Marked written only once it is: a failed write is tried again at
        // the next DescribeRestoreJob, not reported COMPLETED without it.
        mailstore::write_recovery(&root, &restore, completed, self.epoch).map_err(|e| {
            format!(
                "SIMULATED: cannot write the recovery directory under {}: {e}",
                root.display()
            )
        })?;
        written.insert(job_id.to_owned());
        Ok(())
    }
}

/// The error a refused call gives: `action` on `resource`, marked SIMULATED.
fn refused(action: &str, resource: &str, r: Refusal) -> CloudError {
    CloudError::new(
        action,
        resource,
        r.kind,
        format!("SIMULATED {}: {}", r.code, r.message),
    )
}
