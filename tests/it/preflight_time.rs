//! The time area over real history: the sandbox demo's PITR drill run
//! headless twice in a temporary data directory, then preflight reads
//! those journals (median and worst, in world time, how many runs).

use std::path::Path;

use assert_cmd::Command;
use dr_drill::preflight::{self, Area, Context, Verdict};
use dr_drill::runbook::Mode;

const RUNBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/runbooks/cabal-pitr-table-restore.toml"
);

fn sandbox_drill(data: &Path) {
    let mut cmd = Command::cargo_bin("dr-drill").unwrap();
    for var in [
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ENDPOINT_URL",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .args(["run", RUNBOOK, "--headless", "--sandbox", "--speed", "3600"])
        .args(["--param", "table=cabal-user-preferences"])
        .args(["--param", "restore_to=latest"])
        .args(["--param", "reconfigure_cmd=true"])
        .args(["--confirm", "cutover=cabal-user-preferences"])
        .args(["--confirm", "drop-restored=cabal-user-preferences-restored"])
        .args([
            "--answer",
            "approve-cutover=approve",
            "--answer",
            "smoke=yes",
        ])
        .arg("--data-dir")
        .arg(data)
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn preflight_of(text: &str, data: &Path) -> preflight::Preflight {
    let checked = dr_drill::runbook::check_str(text);
    let runbook = checked.runbook.expect("the shipped runbook checks");
    let ctx = Context {
        runbook,
        mode: Mode::Drill,
        params: [
            ("table", "cabal-user-preferences"),
            ("restore_to", "latest"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        cloud: None,
        data_dir: data.to_owned(),
    };
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(preflight::run(&ctx, None))
}

#[test]
fn preflight_estimates_from_two_earlier_sandbox_drills() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let text = std::fs::read_to_string(RUNBOOK).unwrap();

    // Before any run: no history, the AWS facts (a PITR restore has no
    // documented duration, an approval neither): the 2h RTO is unchecked.
    let before = preflight_of(&text, &data);
    let estimate = before.time.clone().unwrap();
    assert!(estimate.history.is_none());
    assert!(
        estimate.not_estimated.iter().any(|s| s == "restore"),
        "{estimate:#?}"
    );
    let rto = before
        .of(Area::Time)
        .find(|f| f.subject == "RTO 2h")
        .unwrap();
    assert_eq!(rto.verdict, Verdict::Unchecked, "{rto:#?}");

    sandbox_drill(&data);
    sandbox_drill(&data);

    let after = preflight_of(&text, &data);
    let estimate = after.time.clone().unwrap();
    let history = estimate.history.clone().expect("two earlier drills");
    assert_eq!(history.runs, 2, "{history:#?}");
    assert_eq!(history.mode, "drill");
    assert!(history.world_time, "sandbox runs are judged in world time");
    assert_eq!(history.changed_since, 0);
    assert!(estimate.worst >= estimate.typical && estimate.typical > 0.0);
    assert!(
        estimate.basis.contains("2 drills") && estimate.basis.contains("world time"),
        "{}",
        estimate.basis
    );
    let rto = after
        .of(Area::Time)
        .find(|f| f.subject == "RTO 2h")
        .unwrap();
    assert!(rto.detail.contains("2 drills"), "{rto:#?}");
    assert_ne!(rto.verdict, Verdict::Unchecked, "{rto:#?}");

    // The runbook's text changes: the estimate says since how many runs.
    let edited = text.replacen("rto = \"2h\"", "rto = \"3h\"", 1);
    let changed = preflight_of(&edited, &data).time.unwrap();
    assert_eq!(changed.history.unwrap().changed_since, 2);
    assert!(
        changed.basis.contains("changed since 2"),
        "{}",
        changed.basis
    );
}
