//! The report's AWS cost on a sandbox run: the final figure from the
//! finished steps with its arithmetic, and the restored table no cleanup
//! step deletes, named with its cost per day.

use assert_cmd::Command;

const RUNBOOK: &str = r#"
[runbook]
id = "cost-leftover"
title = "A restore nobody cleans up"

[[step]]
id = "pick"
kind = "pick-recovery-point"
source = { backup_vault = "cabal-backup", resource_type = "DynamoDB" }
policy = "latest"

[[step]]
id = "restore"
needs = ["pick"]
kind = "backup.restore"
backup_vault = "{{ steps.pick.vault }}"
region = "{{ steps.pick.region }}"
recovery_point = "{{ steps.pick.arn }}"
iam_role_arn = "arn:aws:iam::111122223333:role/cabal-backup-role"
metadata = { targetTableName = "orders-left" }
"#;

const CONFIG: &str = r#"
[prices.us-east-1]
backup-restore-dynamodb = { usd = "0.15", per = "GB", read = "2026-12-03", source = "https://aws.amazon.com/backup/pricing/" }
dynamodb-storage = { usd = "0.25", per = "GB-month", read = "2026-12-03", source = "https://aws.amazon.com/dynamodb/pricing/" }
"#;

#[test]
fn a_sandbox_report_gives_the_final_cost_and_what_was_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("cost.toml");
    std::fs::write(&runbook, RUNBOOK).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let data = dir.path().join("data");
    let out = Command::cargo_bin("dr-drill")
        .unwrap()
        .env("DR_DRILL_CONFIG", &config)
        .args(["run", runbook.to_str().unwrap(), "--headless", "--sandbox"])
        .args(["--speed", "3600", "--data-dir"])
        .arg(&data)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report = crate::support::drill::report(&data);
    let cost = &report["cost"];
    assert_eq!(cost["unknown"], 0, "{cost:#}");
    let restore = &cost["lines"][0];
    assert_eq!(restore["charge"], "AWS Backup restore", "{cost:#}");
    let amount = restore["amount"].as_u64().unwrap();
    assert!(amount > 0, "{cost:#}");
    assert_eq!(cost["final_total"].as_u64(), Some(amount), "{cost:#}");
    let arithmetic = restore["arithmetic"].as_str().unwrap();
    assert!(
        arithmetic.contains(" GB × $0.15 per GB = $"),
        "{arithmetic}"
    );
    let left = cost["left"].as_array().unwrap();
    assert_eq!(left.len(), 1, "{cost:#}");
    assert_eq!(
        left[0]["resource"],
        "restored table orders-left (us-east-1)"
    );
    assert!(left[0]["per_day"].as_u64().is_some(), "{cost:#}");
    assert!(
        left[0]["note"]
            .as_str()
            .unwrap()
            .contains("no cleanup step deletes it"),
        "{cost:#}"
    );
    let md =
        std::fs::read_to_string(crate::support::drill::run_dir(&data).join("report.md")).unwrap();
    assert!(md.contains("## AWS cost"), "{md}");
    assert!(
        md.contains("- restored table orders-left (us-east-1) (step restore): <$0.0001 per day"),
        "{md}"
    );
}
