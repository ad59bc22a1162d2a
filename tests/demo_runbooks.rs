//! Every runbook `dr-drill demo` offers runs end to end in the simulated
//! world with the values the demo gives it (`demo --print-params`), headless,
//! with an operator who approves, confirms and answers as the drill expects.
//! The PostgreSQL runbooks restore into a real server (tests/support/postgres.rs).
//! Each runbook's own tests (tests/runbooks_*.rs) go further, against moto
//! too; this one keeps the demo's values honest.

mod support;

use std::path::Path;

use assert_cmd::Command;
use support::drill::{demo_params, flags, report, runbook};
use support::postgres::{free_port, postgres};

/// What an operator answers in one runbook's drill: `--answer` and
/// `--confirm` pairs, and whether it needs PostgreSQL.
struct Drill {
    runbook: &'static str,
    answers: &'static [(&'static str, &'static str)],
    confirms: &'static [(&'static str, &'static str)],
    postgres: bool,
}

const DRILLS: &[Drill] = &[
    Drill {
        runbook: "cabal-backup-posture",
        answers: &[],
        confirms: &[],
        postgres: false,
    },
    Drill {
        runbook: "cabal-addresses-restore",
        answers: &[("approve-cutover", "approve"), ("smoke", "yes")],
        confirms: &[
            ("cutover", "cabal-addresses"),
            ("drop-restored", "cabal-addresses-restored"),
        ],
        postgres: false,
    },
    Drill {
        runbook: "cabal-pitr-table-restore",
        answers: &[("approve-cutover", "approve"), ("smoke", "yes")],
        confirms: &[
            ("cutover", "cabal-counter"),
            ("drop-restored", "cabal-counter-restored"),
        ],
        postgres: false,
    },
    Drill {
        runbook: "cabal-mailbox-restore",
        answers: &[("approve-put-back", "approve"), ("smoke", "yes")],
        confirms: &[("delete-recovery-dir", "dana")],
        postgres: false,
    },
    Drill {
        runbook: "cabal-dr-copyback",
        answers: &[("keep-copy", "ok")],
        confirms: &[("drop-restored", "cabal-addresses-copyback")],
        postgres: false,
    },
    Drill {
        runbook: "cabal-teardown",
        answers: &[("approve-teardown", "approve")],
        confirms: &[
            ("unlock-primary", "cabal-backup"),
            ("unlock-dr", "cabal-backup-dr"),
            ("purge-primary", "cabal-backup"),
            ("purge-dr", "cabal-backup-dr"),
            ("destroy", "development"),
        ],
        postgres: false,
    },
    Drill {
        runbook: "gtin1-database-restore",
        answers: &[("pick", "latest"), ("record", "GTIN-1")],
        confirms: &[("drop-temp-db", "gtin1_verify")],
        postgres: true,
    },
    Drill {
        runbook: "gtin1-media-restore",
        answers: &[],
        confirms: &[("remove-copy", "restored-media")],
        postgres: false,
    },
    Drill {
        runbook: "penguinmails-vault-restore-test",
        answers: &[],
        confirms: &[(
            "restore-staging",
            "https://vault-staging.penguinmails.com:8200",
        )],
        postgres: false,
    },
    Drill {
        runbook: "leapmailr-quarterly-drill",
        answers: &[
            ("window", "approve"),
            ("test-suite", "yes"),
            ("issues", "none"),
            ("lessons", "none"),
            ("share", "done"),
        ],
        confirms: &[("recreate-db", "leapmailr_demo")],
        postgres: true,
    },
    Drill {
        runbook: "cpam-pitr-drill",
        answers: &[("pick-base", "latest"), ("smoke", "yes")],
        confirms: &[("remove-restored", "pitr-data")],
        postgres: true,
    },
];

fn dr_drill() -> Command {
    Command::cargo_bin("dr-drill").unwrap()
}

fn drill(d: &Drill, data: &Path) {
    let mut cmd = dr_drill();
    cmd.args(["run", &runbook(d.runbook), "--headless"])
        .args(["--sandbox", "--speed", "3600"])
        .args(demo_params(d.runbook))
        .args(flags("--answer", d.answers))
        .args(flags("--confirm", d.confirms))
        .arg("--data-dir")
        .arg(data)
        .timeout(std::time::Duration::from_secs(300));
    if d.postgres {
        cmd.envs(postgres().env());
    }
    if d.runbook == "cpam-pitr-drill" {
        // The recovered server's port: the demo's default may be taken.
        cmd.args(["--param", &format!("restore_port={}", free_port())]);
    }
    let started = std::time::Instant::now();
    let out = cmd.output().unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("run succeeded"),
        "{}: the demo's drill failed\n{stdout}\n{}",
        d.runbook,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("acting as SIMULATED world"), "{stdout}");
    // Shown with --nocapture: figures for docs/performance.md, not tests.
    let report = report(data);
    eprintln!(
        "{}: {took:.1?} real; RTO {} s, RPO {} s (simulated)",
        d.runbook, report["rto"]["achieved_seconds"], report["rpo"]["achieved_seconds"]
    );
}

#[test]
fn every_runbook_the_demo_offers_runs_in_the_sandbox_with_the_demos_values() {
    let listed = dr_drill().args(["demo", "--list"]).output().unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    let offered: Vec<&str> = listed
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let drilled: Vec<&str> = DRILLS.iter().map(|d| d.runbook).collect();
    assert_eq!(offered, drilled, "a drill here for every runbook offered");
    for d in DRILLS {
        use std::os::unix::fs::PermissionsExt;
        let data = tempfile::tempdir().unwrap();
        // The CPAM drill's recovered server runs as `postgres` under root:
        // it must reach its data directory inside the run's.
        std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        drill(d, data.path());
    }
}
