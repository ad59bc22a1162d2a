//! The console end to end, in a real terminal: tmux runs the debug binary
//! in a detached pane of fixed size on a private socket; the test types with
//! `send-keys` and reads the screen with `capture-pane`, polling until what it
//! waits for appears. tmux is required: without it these tests fail, saying
//! how to install it (`scripts/test` installs it when run as root).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_dr-drill");
const WIDTH: u16 = 140;
const HEIGHT: u16 = 40;
/// How long one expectation may take to appear on screen.
const PATIENCE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);
/// The pane's modes the launcher records when dr-drill has exited.
const TERMINAL_MODES: &str =
    "alternate=#{alternate_on} cursor=#{cursor_flag} mouse=#{mouse_any_flag}";

/// The runbook of the picker scenario: pick a point by hand, restore it,
/// copy it over the live table (destructive, confirmed by typing).
const RUNBOOK: &str = r#"
[runbook]
format = 1
id = "tmux-e2e"
title = "Restore a table and copy it back (tmux end-to-end test)"

[[step]]
id = "pick"
title = "Choose the point to restore"
kind = "pick-recovery-point"
policy = "ask"
source = { backup_vault = "cabal-backup", dr_vault = "cabal-backup-dr", dr_region = "us-west-2", resource_type = "DynamoDB" }

[[step]]
id = "restore"
title = "Restore it into a new table"
needs = ["pick"]
kind = "backup.restore"
backup_vault = "{{ steps.pick.vault }}"
recovery_point = "{{ steps.pick.arn }}"
iam_role_arn = "arn:aws:iam::111122223333:role/cabal-backup-role"
metadata = { targetTableName = "t-restored" }

[[step]]
id = "copy"
title = "Copy the restored items into the live table"
needs = ["restore"]
kind = "dynamodb.copy-table"
from = "t-restored"
to = "cabal-addresses"
destructive = true
confirm = "cabal-addresses"
"#;

/// Fails (never skips) when tmux cannot be run.
fn require_tmux() {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "tmux is not installed, and the console's end-to-end tests need it{}.\n\
         Install it (Debian/Ubuntu: `apt-get install tmux`; macOS: `brew install tmux`), \
         or run scripts/test as root, which installs it.",
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            " (CI=true: CI must install tmux, see .ci/run)"
        } else {
            ""
        }
    );
}

/// A dr-drill in a tmux pane; the tmux server (and the program) go away
/// on drop.
struct Pane {
    socket: String,
    /// The socket's file, removed on drop (`kill-server` leaves it).
    socket_path: Option<PathBuf>,
    dir: tempfile::TempDir,
}

impl Pane {
    /// Starts `dr-drill ARGS` in a detached `WIDTH`x`HEIGHT` pane that stays
    /// after the program exits, in a temporary directory holding `files`
    /// (name, text). A launcher script gives it a private home and data
    /// directory, and records the program's exit status and the terminal
    /// modes before and after it.
    fn start(name: &str, files: &[(&str, &str)], args: &[&str]) -> Self {
        Self::start_sized(name, files, args, (WIDTH, HEIGHT))
    }

    /// [`Pane::start`] in a pane of `(width, height)`.
    fn start_sized(
        name: &str,
        files: &[(&str, &str)],
        args: &[&str],
        (width, height): (u16, u16),
    ) -> Self {
        require_tmux();
        let dir = tempfile::tempdir().unwrap();
        for (file, text) in files {
            std::fs::write(dir.path().join(file), text).unwrap();
        }
        let socket = format!("dr-drill-test-{}-{name}", std::process::id());
        let quoted: Vec<String> = args.iter().map(|a| quote(a)).collect();
        let d = dir.path();
        let script = format!(
            "#!/bin/sh\n\
             cd {dir}\n\
             export HOME={dir}/home XDG_STATE_HOME={dir}/state XDG_DATA_HOME={dir}/share\n\
             export DR_DRILL_DATA_DIR={dir}/data\n\
             stty -g > {dir}/stty-before\n\
             {bin} {args}\n\
             echo $? > {dir}/exit-status\n\
             stty -g > {dir}/stty-after\n\
             tmux display-message -p -t \"$TMUX_PANE\" '{TERMINAL_MODES}' > {dir}/modes-after\n",
            dir = quote(&d.display().to_string()),
            bin = quote(BIN),
            args = quoted.join(" "),
        );
        let launcher = d.join("launch.sh");
        std::fs::write(&launcher, script).unwrap();
        std::fs::create_dir_all(d.join("home")).unwrap();
        let mut pane = Pane {
            socket,
            socket_path: None,
            dir,
        };
        let launcher = launcher.display().to_string();
        let (w, h) = (width.to_string(), height.to_string());
        pane.tmux(&[
            "new-session",
            "-d",
            "-s",
            "drill",
            "-x",
            &w,
            "-y",
            &h,
            "sh",
            &launcher,
            ";",
            "set-option",
            "-w",
            "-t",
            "drill",
            "remain-on-exit",
            "on",
        ]);
        pane.socket_path = Some(PathBuf::from(pane.format("#{socket_path}")));
        pane
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn run_tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("tmux runs")
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = self.run_tmux(args);
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Presses keys, tmux names: `Enter`, `Escape`, `Down`, `C-s`, `F1`, `q`.
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "drill"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "drill", "-l", text]);
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "drill"])
    }

    /// A tmux format of the pane: `#{alternate_on}`, `#{pane_dead}`.
    fn format(&self, f: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", "drill", f])
            .trim()
            .to_owned()
    }

    /// Polls the screen until `ready` holds; panics with the screen if it
    /// does not within `PATIENCE`. Returns the screen.
    fn wait_until(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!(
                    "waited {PATIENCE:?} for {what}; the screen is:\n{screen}\n(pane: {})",
                    self.format("dead=#{pane_dead} alternate=#{alternate_on}")
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until `text` is on screen.
    fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |s| s.contains(text))
    }

    /// Waits for the program (and its launcher) to end; returns its exit
    /// status.
    fn wait_exit(&self) -> i32 {
        let deadline = Instant::now() + PATIENCE;
        while self.format("#{pane_dead}") != "1" {
            if Instant::now() > deadline {
                panic!(
                    "dr-drill did not exit within {PATIENCE:?}; the screen is:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(POLL);
        }
        let status = std::fs::read_to_string(self.dir().join("exit-status"))
            .expect("the launcher recorded the exit status");
        status.trim().parse().unwrap()
    }

    /// The terminal is as it was: the alternate screen is gone, the cursor
    /// shows, mouse reporting is off and the tty modes (raw mode) are back.
    /// The launcher records the pane's modes as the program left them (a
    /// dead pane's cursor is hidden by tmux), and the dead pane must still
    /// show the normal screen.
    fn assert_terminal_restored(&self) {
        let modes = std::fs::read_to_string(self.dir().join("modes-after")).unwrap();
        assert_eq!(
            modes.trim(),
            "alternate=0 cursor=1 mouse=0",
            "the terminal after dr-drill exited; the screen is:\n{}",
            self.screen()
        );
        assert_eq!(
            self.format("#{alternate_on} #{mouse_any_flag}"),
            "0 0",
            "the dead pane is on the alternate screen or reports the mouse"
        );
        let before = std::fs::read_to_string(self.dir().join("stty-before")).unwrap();
        let after = std::fs::read_to_string(self.dir().join("stty-after")).unwrap();
        assert!(!before.trim().is_empty());
        assert_eq!(before, after, "the tty modes were not restored");
    }
}

impl Pane {
    /// Runs `command` (a shell command line, as dr-drill printed it) in the
    /// same pane, home and data directory, once the program before it has
    /// exited.
    fn run_again(&self, command: &str) {
        let d = self.dir();
        let script = format!(
            "#!/bin/sh\n\
             cd {dir}\n\
             export HOME={dir}/home XDG_STATE_HOME={dir}/state XDG_DATA_HOME={dir}/share\n\
             export DR_DRILL_DATA_DIR={dir}/data PATH={bindir}:$PATH\n\
             {command}\n\
             echo $? > {dir}/exit-status\n",
            dir = quote(&d.display().to_string()),
            bindir = quote(&Path::new(BIN).parent().unwrap().display().to_string()),
        );
        let launcher = d.join("launch-again.sh");
        std::fs::write(&launcher, script).unwrap();
        let _ = std::fs::remove_file(d.join("exit-status"));
        self.tmux(&[
            "respawn-pane",
            "-k",
            "-t",
            "drill",
            "sh",
            &launcher.display().to_string(),
        ]);
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.run_tmux(&["kill-server"]);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Single quotes for sh.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The picker's line saying why a point cannot be chosen.
fn refused(screen: &str) -> Option<String> {
    screen
        .lines()
        .find(|l| l.contains("cannot be restored now"))
        .map(|l| l.trim().to_owned())
}

fn journals(data: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for run in std::fs::read_dir(data.join("runs")).into_iter().flatten() {
        let journal = run.unwrap().path().join("journal.jsonl");
        if journal.is_file() {
            found.push(journal);
        }
    }
    found
}

#[test]
fn pick_a_point_confirm_by_typing_and_leave_with_the_terminal_restored() {
    let pane = Pane::start(
        "run",
        &[("tmux-e2e.toml", RUNBOOK)],
        &["run", "tmux-e2e.toml", "--sandbox", "--speed", "3600"],
    );

    pane.wait_for("Restore a table and copy it back");
    pane.wait_for("ctrl-s");
    assert_eq!(
        pane.format("#{alternate_on}"),
        "1",
        "the console uses the alternate screen"
    );
    pane.keys(&["C-s"]);

    // The picker opens at once and fills in page by page.
    let screen = pane.wait_for("Pick a recovery point — pick");
    assert!(
        screen.contains("loading…") || screen.contains(" points, listed "),
        "the picker says neither loading… nor how many points it listed:\n{screen}"
    );
    pane.wait_for(" points, listed ");

    // Newest first; at equal times the DR copy (us-west-2 sorts after
    // us-east-1, descending) comes first, so one row down is the primary.
    // Around midnight UTC the newest point may not be complete yet, or its
    // copy not listed: then go on down to the first restorable primary
    // point (a DR copy's vault is in another region than the restore).
    pane.keys(&["Down", "Enter"]);
    // A refusal stays on screen until the next one, which names another point.
    let mut refusal: Option<String> = None;
    for tries in 0.. {
        assert!(tries < 10, "no restorable primary point near the top");
        let answered = |s: &str| {
            s.contains("Use this recovery point?") || refused(s).is_some_and(|r| Some(r) != refusal)
        };
        let screen = pane.wait_until("the point's confirmation or why not", answered);
        if screen.contains("Use this recovery point?") {
            if screen.contains("cabal-backup@us-east-1") && !screen.contains("(a DR copy)") {
                break;
            }
            pane.keys(&["Escape"]);
            pane.wait_until("the picker again", |s| {
                !s.contains("Use this recovery point?")
            });
        } else {
            refusal = refused(&screen);
        }
        pane.keys(&["Down", "Enter"]);
    }
    pane.keys(&["Enter"]);

    // The destructive step: Enter alone does nothing but say what to type.
    pane.wait_for("Confirm a destructive step");
    pane.keys(&["Enter"]);
    let screen = pane.wait_for("type `cabal-addresses` to confirm");
    assert!(screen.contains("Confirm a destructive step"), "{screen}");
    pane.type_text("cabal-addresses");
    pane.wait_for("> cabal-addresses");
    pane.keys(&["Enter"]);

    pane.wait_for("SUCCEEDED");
    pane.keys(&["q"]);
    pane.wait_for("Enter leaves; Esc stays.");
    pane.keys(&["Enter"]);
    assert_eq!(pane.wait_exit(), 0, "a succeeded run exits 0");
    pane.assert_terminal_restored();

    let journals = journals(&pane.dir().join("data"));
    assert_eq!(journals.len(), 1, "one run, one journal: {journals:?}");
    let journal = std::fs::read_to_string(&journals[0]).unwrap();
    let answers: Vec<&str> = journal
        .lines()
        .filter(|l| l.contains(r#""event":"human_answered""#))
        .collect();
    assert!(
        answers
            .iter()
            .any(|l| l.contains(r#""reply":"picked""#) && l.contains(r#""step":"pick""#)),
        "no picked reply in the journal:\n{journal}"
    );
    assert!(
        answers
            .iter()
            .any(|l| l.contains(r#""reply":"confirmed""#)
                && l.contains(r#""typed":"cabal-addresses""#)),
        "no typed confirmation in the journal:\n{journal}"
    );
}

#[test]
fn demo_help_overlay_then_leave_from_the_start_screen() {
    let pane = Pane::start("demo", &[], &["demo"]);
    pane.wait_for("Restore cabal-addresses from last night's backup");
    // `?` is text on the start form; F1 opens the help there.
    pane.wait_for("f1  help");
    pane.keys(&["F1"]);
    let help = pane.wait_for("Keys (? or Esc closes)");
    assert!(help.contains("ctrl-c"), "the help lists no ctrl-c:\n{help}");
    pane.keys(&["Escape"]);
    pane.wait_until("the help to close", |s| {
        !s.contains("Keys (? or Esc closes)")
    });

    // On the start screen Esc leaves (q would be typed into the form).
    pane.keys(&["Escape"]);
    pane.wait_for("Leave the console?");
    pane.keys(&["Enter"]);
    assert_eq!(pane.wait_exit(), 0, "nothing ran, so leaving is a success");
    pane.assert_terminal_restored();
}

#[test]
fn demo_left_mid_restore_resumes_in_the_sandbox_with_the_printed_command_and_finishes() {
    let pane = Pane::start("resume", &[], &["demo", "--speed", "60"]);
    pane.wait_for("ctrl-s");
    pane.keys(&["C-s"]);
    // Every pick shows the picker, the policy's point preselected.
    pane.wait_for(" points, listed ");
    pane.keys(&["Enter"]);
    pane.wait_for("Use this recovery point?");
    pane.keys(&["Enter"]);
    // Leave while the restore job runs (a simulated hour at 60x).
    pane.wait_for("▶  restore");
    pane.keys(&["q"]);
    pane.wait_for("Leave?");
    pane.keys(&["Enter"]);
    assert_eq!(pane.wait_exit(), 3, "leaving a running drill exits 3");
    let screen = pane.screen();
    let hint = screen
        .lines()
        .find_map(|l| l.trim().strip_prefix("resume later with: "))
        .unwrap_or_else(|| panic!("no resume hint:\n{screen}"))
        .to_owned();
    assert!(
        !hint.contains("--sandbox") && !hint.contains("--speed"),
        "the world comes from the journal, not from flags: {hint}"
    );

    // The printed command, as printed: the restore goes on in the same
    // simulated world and the run finishes.
    pane.run_again(&hint);
    pane.wait_for("Approve the cutover");
    pane.keys(&["Right", "Enter"]);
    pane.wait_for("Type cabal-addresses to confirm");
    pane.type_text("cabal-addresses");
    pane.keys(&["Enter"]);
    pane.wait_for("Were both messages delivered?");
    pane.keys(&["Right", "Enter"]);
    pane.wait_for("Type cabal-addresses-restored to confirm");
    pane.type_text("cabal-addresses-restored");
    pane.keys(&["Enter"]);
    pane.wait_for("SUCCEEDED");
    pane.keys(&["q"]);
    pane.wait_for("Leave?");
    pane.keys(&["Enter"]);
    assert_eq!(pane.wait_exit(), 0);
    // One restore job across the two processes: the resumed step followed
    // the job it had started.
    let runs: Vec<_> = std::fs::read_dir(pane.dir().join("data/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "one run, resumed: {runs:?}");
    let journal = std::fs::read_to_string(runs[0].join("journal.jsonl")).unwrap();
    assert!(journal.contains(r#""event":"run_resumed""#));
    assert!(journal.contains(r#""step":"drop-restored","outcome":"succeeded""#));
}

/// A runbook with one required secret, echoed by a step into a file.
const SECRET_RUNBOOK: &str = r#"
[runbook]
id = "hidden-prompt"
title = "A secret asked for without echo"

[params]
token = { required = true, secret = true }

[[step]]
id = "use"
kind = "shell"
run = "printf %s {{ params.token }} > used-token"
"#;

/// Issue #14, item 3: a secret not given is asked for on the terminal
/// without echo; the typed value never shows and reaches the step.
#[test]
fn a_headless_run_asks_for_a_missing_secret_without_echo() {
    let pane = Pane::start(
        "secret-prompt",
        &[("secret.toml", SECRET_RUNBOOK)],
        &["run", "secret.toml", "--headless", "--sandbox"],
    );
    pane.wait_for("token (secret, not shown):");
    pane.type_text("hunter2-s3cret");
    pane.keys(&["Enter"]);
    assert_eq!(pane.wait_exit(), 0, "{}", pane.screen());
    assert!(!pane.screen().contains("hunter2"), "{}", pane.screen());
    // A shell step runs in its run directory.
    let journal = &journals(&pane.dir().join("data"))[0];
    let used = journal.parent().unwrap().join("used-token");
    assert_eq!(std::fs::read_to_string(used).unwrap(), "hunter2-s3cret");
    pane.assert_terminal_restored();
}

/// Ctrl-C at the hidden prompt leaves the terminal echoing again.
#[test]
fn ctrl_c_at_the_secret_prompt_restores_the_terminal() {
    let pane = Pane::start(
        "secret-ctrl-c",
        &[("secret.toml", SECRET_RUNBOOK)],
        &["run", "secret.toml", "--headless", "--sandbox"],
    );
    pane.wait_for("token (secret, not shown):");
    pane.type_text("half");
    pane.keys(&["C-c"]);
    assert_ne!(pane.wait_exit(), 0);
    assert!(
        journals(&pane.dir().join("data")).is_empty(),
        "a cancelled prompt starts no run"
    );
    pane.assert_terminal_restored();
}

#[test]
fn demo_start_screen_fills_the_preflight_panel_from_the_sandbox() {
    let pane = Pane::start("preflight", &[], &["demo"]);
    pane.wait_for("Restore cabal-addresses from last night's backup");
    // The form is usable at once; the panel fills in beside it (140x40)
    // and ends with a verdict per area and how long it took.
    let screen = pane.wait_until("the preflight to finish", |s| {
        s.contains("┌ Preflight") && s.contains(" s ─") && s.contains("✓ identity")
    });
    for area in ["permissions", "resources", "tools", "time", "cost"] {
        assert!(screen.contains(area), "no {area} line:\n{screen}");
    }
    assert!(!screen.contains("checking"), "{screen}");
    assert!(screen.contains("ctrl-e: hide findings"), "{screen}");
    // ctrl-e folds the list to one line per area; ctrl-e again shows it.
    pane.keys(&["C-e"]);
    pane.wait_until("the findings to fold", |s| !s.contains("hide findings"));
    pane.keys(&["C-e"]);
    pane.wait_for("ctrl-e: hide findings");
    pane.keys(&["Escape"]);
    pane.wait_for("Leave the console?");
    pane.keys(&["Enter"]);
    assert_eq!(pane.wait_exit(), 0, "nothing ran, so leaving is a success");
    pane.assert_terminal_restored();
}

#[test]
fn a_start_with_a_denied_action_asks_first_naming_it() {
    let runbook = include_str!("../runbooks/cabal-addresses-restore.toml");
    let pane = Pane::start(
        "denied",
        &[("denied.toml", runbook)],
        &[
            "run",
            "denied.toml",
            "--sandbox",
            "--fault",
            "access-denied=StartRestoreJob",
            "--param",
            "role_arn=arn:aws:iam::111122223333:role/cabal-backup-role",
            "--param",
            "reconfigure_cmd=echo reconfigured",
        ],
    );
    pane.wait_for("✗ permissions FAIL");
    pane.keys(&["C-s"]);
    let dialog = pane.wait_for("Start despite failed checks?");
    assert!(
        dialog.contains("backup:StartRestoreJob"),
        "the dialog does not name the denied action:\n{dialog}"
    );
    // A bare Enter starts nothing; Esc goes back to the form.
    pane.keys(&["Enter"]);
    pane.wait_for("nothing is chosen");
    assert!(journals(&pane.dir().join("data")).is_empty());
    pane.keys(&["Escape"]);
    pane.wait_until("the dialog to close", |s| {
        !s.contains("Start despite failed checks?")
    });
    // "start anyway", chosen: the run starts (its journal is written).
    pane.keys(&["C-s"]);
    pane.wait_for("Start despite failed checks?");
    pane.keys(&["Right", "Enter"]);
    pane.wait_for("Pick a recovery point");
    assert_eq!(journals(&pane.dir().join("data")).len(), 1);
    pane.keys(&["C-c"]);
    pane.keys(&["C-c"]);
    pane.wait_for("STOPPED");
    pane.keys(&["q"]);
    pane.wait_for("Leave the console?");
    pane.keys(&["Enter"]);
    assert_eq!(pane.wait_exit(), 3, "a stopped run can be resumed");
    pane.assert_terminal_restored();
}

/// A run of a few seconds: a short wait between two steps.
const SLOW_RUNBOOK: &str = r#"
[runbook]
format = 1
id = "watched"
title = "Watched run"
rto = "10m"

[[step]]
id = "before"
kind = "shell"
run = "echo before"

[[step]]
id = "pause"
needs = ["before"]
kind = "wait"
duration = "6s"

[[step]]
id = "after"
needs = ["pause"]
kind = "shell"
run = "echo after"
ends_rto = true
"#;

#[test]
fn watch_follows_a_live_headless_run_to_its_end_and_its_keys_do_not_act() {
    require_tmux();
    let data = tempfile::tempdir().unwrap();
    let runbook = data.path().join("watched.toml");
    std::fs::write(&runbook, SLOW_RUNBOOK).unwrap();
    let mut driver = Command::new(BIN)
        .args(["run", "--headless", "--sandbox", "--speed", "1"])
        .arg(&runbook)
        .env("DR_DRILL_DATA_DIR", data.path().join("data"))
        .env("HOME", data.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    let journal = loop {
        if let Some(j) = journals(&data.path().join("data")).pop() {
            break j;
        }
        assert!(
            Instant::now() < deadline,
            "the headless run wrote no journal"
        );
        std::thread::sleep(POLL);
    };
    let pane = Pane::start_sized(
        "watch",
        &[],
        &["watch", &journal.display().to_string()],
        (80, 24),
    );
    pane.wait_for("WATCHING — read-only · driven by");
    let screen = pane.wait_for("pause");
    assert!(
        !screen.contains("abort"),
        "an acting key is hinted:\n{screen}"
    );
    // Abort (twice) and answer: the console refuses, the run goes on.
    pane.keys(&["C-c"]);
    pane.keys(&["C-c"]);
    pane.wait_for("only the driver can abort the run");
    pane.keys(&["Enter"]);
    let screen = pane.wait_for("the run has ended: succeeded");
    assert!(screen.contains("SUCCEEDED"), "{screen}");
    let status = driver.wait().unwrap();
    assert!(status.success(), "the driven run did not succeed: {status}");
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(
        text.lines()
            .last()
            .unwrap()
            .contains("\"outcome\":\"succeeded\""),
        "{text}"
    );
    // The console stays until left; leaving is at once.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(pane.format("#{pane_dead}"), "0");
    pane.keys(&["q"]);
    assert_eq!(pane.wait_exit(), 0);
    pane.assert_terminal_restored();
}
