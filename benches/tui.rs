//! The console (issue 5): one frame of the recovery point picker holding
//! 100,000 points and of the run screen of a 200-step graph, both drawn
//! with `view::draw` on ratatui's `TestBackend` at 200x50 (target: under
//! 4 ms a frame); the picker's filter on 100,000 points; a 1,000-point page
//! merged into 99,000; and the heap the picker holds with 100,000 points,
//! counted by this binary's global allocator and printed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use dr_drill::cloud::points::Listing;
use dr_drill::cloud::{Identity, PointKind, PointSource, RecoveryPoint};
use dr_drill::engine::event::{EventKind, Outcome, Question, RunEvent, Stream};
use dr_drill::engine::human::{HumanReply, HumanRequest};
use dr_drill::engine::plan::Plan;
use dr_drill::runbook::{Mode, Runbook, check_str};
use dr_drill::tui::app::{App, Command, Msg, Tab};
use dr_drill::tui::picker::Picker;
use dr_drill::tui::view;
use jiff::{SignedDuration, Timestamp};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::oneshot;

/// Counts live heap bytes and their peak while `COUNTING` is on (off during
/// the timed benchmarks: then it costs one relaxed load an allocation).
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grew(n: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        let live = LIVE.fetch_add(n as isize, Ordering::Relaxed) + n as isize;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

fn shrank(n: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_sub(n as isize, Ordering::Relaxed);
    }
}

fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

// SAFETY: every call goes straight to `System`; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrank(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            grew(new_size - layout.size());
        } else {
            shrank(layout.size() - new_size);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const POINTS: usize = 100_000;
const PAGE: usize = 1_000;
const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;

/// "Now" for every benchmark, so ages and clocks do not drift.
fn now() -> Timestamp {
    Timestamp::from_second(1_790_000_000).unwrap()
}

/// A runbook of `steps` steps in five phases: a `pick-recovery-point` step
/// over a vault and its DR copy first, then shell, check, manual,
/// `dynamodb.count` and approve steps, four side by side at a time.
fn runbook(steps: usize) -> Runbook {
    let phases = ["prepare", "restore", "verify", "cutover", "cleanup"];
    let mut t = String::from(
        "[runbook]\nid = \"bench\"\ntitle = \"Restore cabal-orders and fail over to us-west-2\"\nrto = \"4h\"\nrpo = \"24h\"\n\n",
    );
    for p in phases {
        writeln!(t, "[[phase]]\nid = \"{p}\"\nbudget = \"1h\"\n").unwrap();
    }
    let per_phase = steps.div_ceil(phases.len());
    for i in 0..steps {
        writeln!(
            t,
            "[[step]]\nid = \"step-{i:03}\"\nphase = \"{}\"",
            phases[i / per_phase]
        )
        .unwrap();
        if i == 0 {
            t.push_str("title = \"Pick the recovery point\"\nkind = \"pick-recovery-point\"\nsource = { backup_vault = \"cabal-backup\", dr_vault = \"cabal-backup-dr\", dr_region = \"us-west-2\" }\n\n");
            continue;
        }
        // Four steps side by side after the last step of the group before.
        let before = (i - 1) / 4 * 4;
        writeln!(t, "needs = [\"step-{before:03}\"]").unwrap();
        match i % 5 {
            0 => writeln!(t, "title = \"Count the restored table\"\nkind = \"dynamodb.count\"\ntable = \"cabal-orders-restored\"").unwrap(),
            1 => writeln!(t, "title = \"Copy shard {i} of the spool\"\nkind = \"shell\"\nrun = \"aws efs describe-file-systems --file-system-id fs-0a1b2c3d\"\noutputs = [\"state\"]\nretry = {{ attempts = 3, backoff = \"30s\" }}").unwrap(),
            2 => writeln!(t, "title = \"Check the restore\"\nkind = \"check\"\nassert = [{{ value = \"1\", at_least = 0 }}]").unwrap(),
            3 => writeln!(t, "title = \"Tell the on-call\"\nkind = \"manual\"\ninstructions = \"Post the **restore status** in #incident and wait for an ack.\"").unwrap(),
            _ => writeln!(t, "title = \"Approve the next phase\"\nkind = \"approve\"\ninstructions = \"The restored table answers reads.\"").unwrap(),
        }
        t.push('\n');
    }
    let checked = check_str(&t);
    checked.runbook.expect("valid generated runbook")
}

fn event(elapsed: Duration, kind: EventKind) -> RunEvent {
    RunEvent {
        at: now() - SignedDuration::try_from(Duration::from_secs(5)).unwrap(),
        elapsed,
        kind,
    }
}

/// A console on the run screen of `runbook`, started 40 minutes ago.
fn run_app(runbook: Runbook) -> App {
    let plan = Plan::new(&runbook, Mode::Drill).unwrap();
    let mut app = App::new(
        Arc::new(runbook),
        Identity {
            account: Some("111122223333".into()),
            region: "us-east-1".into(),
            profile: Some("dr".into()),
            ..Identity::default()
        },
        &BTreeMap::new(),
        Mode::Drill,
    );
    app.started(
        &plan,
        Mode::Drill,
        None,
        Some("/var/lib/dr-drill/runs/20260912T104800Z-bench/journal.jsonl".into()),
        Default::default(),
    );
    app.now = now();
    app.update(Msg::Engine(event(
        Duration::ZERO,
        EventKind::RunStarted {
            run_id: "20260912T104800Z-bench".into(),
            mode: Mode::Drill,
            t0: now() - SignedDuration::from_mins(40),
        },
    )));
    app
}

/// The 200-step run 40 minutes in: two phases done, the third running
/// with ten steps printing output (2,000 lines kept each), the rest
/// pending; the selected step is a running one.
fn run_screen() -> App {
    let rb = runbook(200);
    let ids: Vec<String> = rb.steps.iter().map(|s| s.id.value.clone()).collect();
    let phases: Vec<String> = rb.phases.iter().map(|p| p.id.value.clone()).collect();
    let mut app = run_app(rb);
    let mut t = Duration::ZERO;
    let send = |app: &mut App, t: Duration, kind| app.update(Msg::Engine(event(t, kind)));
    for (p, phase) in phases.iter().enumerate().take(3) {
        send(
            &mut app,
            t,
            EventKind::PhaseStarted {
                phase: phase.clone(),
            },
        );
        for (i, id) in ids.iter().enumerate().skip(p * 40).take(40) {
            t += Duration::from_secs(7);
            send(&mut app, t, EventKind::StepQueued { step: id.clone() });
            send(
                &mut app,
                t,
                EventKind::StepStarted {
                    step: id.clone(),
                    attempt: 1 + u32::from(i % 17 == 0),
                },
            );
            if p == 2 && i >= 100 {
                // The third phase's first ten steps are still running.
                if i >= 110 {
                    break;
                }
                for n in 0..2_500 {
                    send(
                        &mut app,
                        t,
                        EventKind::StepOutput {
                            step: id.clone(),
                            stream: if n % 10 == 9 {
                                Stream::Stderr
                            } else {
                                Stream::Stdout
                            },
                            line: format!(
                                "2026-09-12T11:{:02}:{:02}Z copy cabal-orders segment {n}: {} items, {} MiB written, throttled 0",
                                n / 60 % 60,
                                n % 60,
                                n * 25,
                                n / 4
                            ),
                        },
                    );
                }
                continue;
            }
            let outcome = match i % 23 {
                5 => Outcome::Skipped,
                11 => Outcome::Waived,
                _ => Outcome::Succeeded,
            };
            send(
                &mut app,
                t + Duration::from_secs(3 + i as u64 % 50),
                EventKind::StepFinished {
                    step: id.clone(),
                    outcome,
                    outputs: BTreeMap::from([("state".into(), "available".into())]),
                    reason: (outcome != Outcome::Succeeded).then(|| "not needed in a drill".into()),
                },
            );
        }
        if p < 2 {
            send(
                &mut app,
                t,
                EventKind::PhaseFinished {
                    phase: phase.clone(),
                },
            );
        }
    }
    app.now = now();
    if let dr_drill::tui::app::Screen::Run(view) = &mut app.screen {
        view.selected = 105;
    }
    app
}

/// 100,000 points as two vaults list them: `cabal-backup` in us-east-1 and
/// its copies in `cabal-backup-dr` in us-west-2, hourly backups of four
/// DynamoDB tables and two EFS file systems over about a year, mostly
/// COMPLETED, some PARTIAL, EXPIRED or still CREATING, warm then cold.
/// Returned as pages of 1,000, each source newest first, the two sources'
/// pages interleaved as they arrive side by side.
fn listing_pages() -> Vec<Listing> {
    const RESOURCES: [(&str, &str, &str, u64); 6] = [
        (
            "DynamoDB",
            "cabal-orders",
            "arn:aws:dynamodb:us-east-1:111122223333:table/cabal-orders",
            40 << 30,
        ),
        (
            "EFS",
            "cabal-mail-spool",
            "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/fs-0a1b2c3d4e5f67890",
            900 << 30,
        ),
        (
            "DynamoDB",
            "cabal-addresses",
            "arn:aws:dynamodb:us-east-1:111122223333:table/cabal-addresses",
            6 << 30,
        ),
        (
            "DynamoDB",
            "cabal-sessions",
            "arn:aws:dynamodb:us-east-1:111122223333:table/cabal-sessions",
            2 << 30,
        ),
        (
            "EFS",
            "cabal-archive",
            "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/fs-09f8e7d6c5b4a3210",
            1800 << 30,
        ),
        (
            "DynamoDB",
            "cabal-counter",
            "arn:aws:dynamodb:us-east-1:111122223333:table/cabal-counter",
            1 << 20,
        ),
    ];
    let per_vault = POINTS / 2;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let newest = now().as_second() - 600;
    let mut vaults: [Vec<RecoveryPoint>; 2] = [Vec::new(), Vec::new()];
    for (v, points) in vaults.iter_mut().enumerate() {
        let (vault, region) = if v == 0 {
            ("cabal-backup", "us-east-1")
        } else {
            ("cabal-backup-dr", "us-west-2")
        };
        for n in 0..per_vault {
            let (rtype, name, resource, size) = RESOURCES[n % RESOURCES.len()];
            let created =
                Timestamp::from_second(newest - (n / RESOURCES.len()) as i64 * 3_600).unwrap();
            let r = next();
            let id = if rtype == "DynamoDB" {
                format!(
                    "arn:aws:dynamodb:{region}:111122223333:table/{name}/backup/{:014}-{:08x}",
                    created.as_millisecond(),
                    r as u32
                )
            } else {
                format!(
                    "arn:aws:backup:{region}:111122223333:recovery-point:{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                    r as u32,
                    (r >> 32) as u16,
                    (r >> 48) as u16,
                    n as u16,
                    r >> 16 & 0xffff_ffff_ffff
                )
            };
            let mut p = RecoveryPoint::new(id, PointKind::Backup, created, region.into());
            p.completed_at = Some(created + SignedDuration::from_secs(60 + (r % 3_000) as i64));
            p.status = match (n, r % 1000) {
                (0..=5, _) => "CREATING",
                (_, 0..=9) => "PARTIAL",
                (_, 10..=13) => "EXPIRED",
                _ => "COMPLETED",
            }
            .into();
            p.size_bytes = Some(size / 2 + r % size.max(1));
            p.resource_arn = Some(resource.into());
            p.resource_name = Some(name.into());
            p.resource_type = Some(rtype.into());
            p.vault = Some(vault.into());
            if v == 1 {
                p.copied_from =
                    Some("arn:aws:backup:us-east-1:111122223333:backup-vault:cabal-backup".into());
            }
            p.encryption_key_arn = Some(format!(
                "arn:aws:kms:{region}:111122223333:key/0f3c9a7e-5b1d-4e2a-9c8f-{}",
                if v == 0 {
                    "6d4b2a1e0c9f"
                } else {
                    "7e5c3b2f1d0a"
                }
            ));
            let cold = created + SignedDuration::from_hours(24 * 30);
            p.move_to_cold_at = Some(cold);
            p.delete_at = Some(created + SignedDuration::from_hours(24 * 400));
            p.storage_class = Some(if cold <= now() { "COLD" } else { "WARM" }.into());
            points.push(p);
        }
    }
    let [primary, dr] = vaults;
    let mut pages = Vec::new();
    let mut primary = primary.into_iter();
    let mut dr = dr.into_iter();
    loop {
        let a: Vec<_> = primary.by_ref().take(PAGE).collect();
        let b: Vec<_> = dr.by_ref().take(PAGE).collect();
        if a.is_empty() && b.is_empty() {
            break;
        }
        for (source, points) in [(0, a), (1, b)] {
            if !points.is_empty() {
                pages.push(Listing::Page { source, points });
            }
        }
    }
    pages
}

fn sources() -> Vec<PointSource> {
    vec![
        PointSource::Vault {
            vault: "cabal-backup".into(),
            region: None,
            resource_type: None,
            resource_arn: None,
        },
        PointSource::Vault {
            vault: "cabal-backup-dr".into(),
            region: Some("us-west-2".into()),
            resource_type: None,
            resource_arn: None,
        },
    ]
}

/// The run screen of a small restore runbook with its pick question open
/// and every page of `pages` listed into the picker, as the console loop
/// feeds them. The reply receiver is kept so the question stays open.
fn picker_screen(pages: Vec<Listing>) -> (App, oneshot::Receiver<HumanReply>) {
    let mut app = run_app(runbook(12));
    let (reply, answer) = oneshot::channel();
    let effects = app.update(Msg::Question(HumanRequest {
        step: "step-000".into(),
        title: "Pick the recovery point".into(),
        question: Question::PickRecoveryPoint {
            sources: sources(),
            restorable: 0,
            newest: None,
        },
        attempt: 1,
        asked: None,
        reply,
    }));
    let Some(Command::ListPoints(generation, _)) = effects.first() else {
        panic!("a pick question lists points: {effects:?}");
    };
    let generation = *generation;
    for page in pages {
        app.update(Msg::Listing(generation, page));
    }
    for source in 0..2 {
        app.update(Msg::Listing(
            generation,
            Listing::Done {
                source,
                result: Ok(()),
            },
        ));
    }
    app.now = now();
    (app, answer)
}

fn picker_of(app: &App) -> &Picker {
    app.prompts[0].picker.as_ref().unwrap()
}

fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap()
}

fn frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame_200x50");
    let (mut app, _answer) = picker_screen(listing_pages());
    assert_eq!(picker_of(&app).points.len(), POINTS);
    assert!(app.prompt_open());
    let mut term = terminal();
    // Selection in the middle of the list, as after some scrolling.
    app.prompts[0].picker.as_mut().unwrap().move_by(40_000);
    group.bench_function("picker_100000_points", |b| {
        b.iter(|| {
            term.draw(|f| view::draw(f, black_box(&app))).unwrap();
        })
    });
    // The same with a filter on (fewer rows pass; the frame is the same work).
    app.prompts[0]
        .picker
        .as_mut()
        .unwrap()
        .set_filter("orders".into());
    group.bench_function("picker_100000_points_filtered", |b| {
        b.iter(|| {
            term.draw(|f| view::draw(f, black_box(&app))).unwrap();
        })
    });

    let mut app = run_screen();
    let mut term = terminal();
    group.bench_function("run_200_steps", |b| {
        b.iter(|| {
            term.draw(|f| view::draw(f, black_box(&app))).unwrap();
        })
    });
    if let dr_drill::tui::app::Screen::Run(view) = &mut app.screen {
        view.search = Some(("segment 1".into(), false));
    }
    group.bench_function("run_200_steps_output_search", |b| {
        b.iter(|| {
            term.draw(|f| view::draw(f, black_box(&app))).unwrap();
        })
    });
    if let dr_drill::tui::app::Screen::Run(view) = &mut app.screen {
        view.search = None;
        view.tab = Tab::Timeline;
    }
    group.bench_function("run_200_steps_timeline", |b| {
        b.iter(|| {
            term.draw(|f| view::draw(f, black_box(&app))).unwrap();
        })
    });
    group.finish();
}

fn picker_updates(c: &mut Criterion) {
    let mut pages = listing_pages();
    let last = pages.pop().unwrap();
    let (app, _answer) = picker_screen(pages);
    let mut picker = picker_of(&app).clone();
    drop(app);
    assert_eq!(picker.points.len(), POINTS - PAGE);

    let mut group = c.benchmark_group("picker_100000");
    group.sample_size(20);
    // The merge: the listing's last page into the 99,000 already sorted.
    let Listing::Page { source, points } = last else {
        unreachable!()
    };
    group.bench_function("add_page_1000_to_99000", |b| {
        b.iter_batched(
            || {
                (
                    picker.clone(),
                    Listing::Page {
                        source,
                        points: points.clone(),
                    },
                )
            },
            |(mut p, page)| {
                p.take(page);
                p
            },
            BatchSize::LargeInput,
        )
    });
    picker.take(Listing::Page { source, points });
    assert_eq!(picker.points.len(), POINTS);

    let matches = {
        let mut p = picker.clone();
        p.set_filter("orders".into());
        p.view.len()
    };
    println!("filter `orders` keeps {matches} of {POINTS} points");
    // A needle set at once (pasted) on the unfiltered list; the clearing
    // back to the full list is not timed.
    for needle in ["o", "orders", "2026-03-1"] {
        group.bench_function(format!("set_filter/{needle}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    picker.set_filter(String::new());
                    let start = Instant::now();
                    picker.set_filter(black_box(needle.to_owned()));
                    total += start.elapsed();
                }
                total
            })
        });
    }
    // Clearing a filter back to all 100,000 points.
    group.bench_function("set_filter/clear", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                picker.set_filter("orders".into());
                let start = Instant::now();
                picker.set_filter(black_box(String::new()));
                total += start.elapsed();
            }
            total
        })
    });
    // Typing `orders` key by key: six filter updates, as the console makes.
    group.bench_function("set_filter/type_orders_6_keys", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                picker.set_filter(String::new());
                let start = Instant::now();
                for n in 1..="orders".len() {
                    picker.set_filter(black_box("orders"[..n].to_owned()));
                }
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

/// The process's resident set, from /proc/self/status (0 elsewhere).
fn vm_rss() -> isize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<isize>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn mib(bytes: isize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

/// The heap a picker holds with 100,000 points, and the most a page adds
/// for a moment while it is merged. Not timed; printed.
fn memory(_: &mut Criterion) {
    let rss_before = vm_rss();
    COUNTING.store(true, Ordering::SeqCst);
    let base = live();
    let pages = listing_pages();
    let listed = live() - base;
    let mut picker = Picker::new(sources(), now(), now());
    let mut transient = 0;
    for page in pages {
        let before = live();
        PEAK.store(before, Ordering::SeqCst);
        picker.take(page);
        transient = transient.max(PEAK.load(Ordering::SeqCst) - before);
    }
    let held = live() - base;
    COUNTING.store(false, Ordering::SeqCst);
    assert_eq!(picker.points.len(), POINTS);
    println!(
        "picker memory, {POINTS} points: as listed (the pages) {}; \
         held by the picker {} ({} bytes a point; size_of::<RecoveryPoint>() {}); \
         the most one page's merge adds for a moment {}; peak {}; \
         process RSS grew by {} (malloc's own overhead and freed pages included)",
        mib(listed),
        mib(held),
        held / POINTS as isize,
        std::mem::size_of::<RecoveryPoint>(),
        mib(transient),
        mib(held + transient),
        mib(vm_rss() - rss_before),
    );
    black_box(picker);
}

criterion_group!(benches, memory, frames, picker_updates);
criterion_main!(benches);
