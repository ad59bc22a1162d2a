//! cabal-backup-posture: a healthy account passes and a broken one has
//! every gap named, on moto and in the sandbox.

use super::*;

const PITR_TABLES: [&str; 4] = [
    "cabal-counter",
    "cabal-user-preferences",
    "cabal-user-domain-access",
    "cabal-dmarc-reports",
];

/// A Cabalmail account in `region` (DR in us-west-2) as the posture check
/// reads it; `broken` leaves the DR vault unlocked, PITR off on
/// cabal-dmarc-reports and the DynamoDB opt-in off (so its copy fails).
fn cabal_account(region: &str, primary: &str, dr: &str, broken: bool) {
    for t in PITR_TABLES {
        table(region, t, 2, !(broken && t == "cabal-dmarc-reports"));
    }
    let addresses = unique("cabal-addresses");
    table(region, &addresses, 3, false);
    block_on(
        moto()
            .backup(region)
            .update_region_settings()
            .resource_type_management_preference("DynamoDB", !broken)
            .send(),
    )
    .unwrap();
    let ddb = backup_now(region, primary, &addresses);
    let efs = backup_resource(
        region,
        primary,
        &format!(
            "arn:aws:elasticfilesystem:{region}:123456789012:file-system/fs-0c4b7e2d91a35f862"
        ),
    );
    let ddb_copy = copy_from(region, primary, &ddb, dr);
    assert_eq!(ddb_copy, if broken { "FAILED" } else { "COMPLETED" });
    assert_eq!(copy_from(region, primary, &efs, dr), "COMPLETED");
    lock(region, primary);
    if !broken {
        lock("us-west-2", dr);
    }
}

fn posture_params<'a>(region: &'a str, primary: &'a str, dr: &'a str) -> Vec<String> {
    args(
        &[
            ("primary_region", region),
            ("vault", primary),
            ("dr_vault", dr),
        ],
        &[],
        &[],
    )
}

#[test]
fn cabal_backup_posture_passes_on_a_healthy_account_on_moto() {
    // A region of its own: region settings and copy jobs are region-wide.
    let region = "ca-central-1";
    let (primary, dr) = (unique("cabal-backup"), unique("cabal-backup-dr"));
    cabal_account(region, &primary, &dr, false);
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        on_moto(),
        &runbook("cabal-backup-posture"),
        &posture_params(region, &primary, &dr),
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    assert!(stdout.contains("dynamodb-opt-in: succeeded"), "{stdout}");
    assert!(
        stdout.contains("dynamodb-copies: succeeded [completed=1"),
        "{stdout}"
    );
    assert!(stdout.contains("dr-efs: succeeded"), "{stdout}");
    let report = report(&dir.path().join("data"));
    for s in report["steps"].as_array().unwrap() {
        assert_eq!(s["status"], "succeeded", "{s}");
    }
}

#[test]
fn cabal_backup_posture_names_every_gap_on_moto() {
    let region = "eu-west-3";
    let (primary, dr) = (unique("cabal-backup"), unique("cabal-backup-dr"));
    cabal_account(region, &primary, &dr, true);
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        on_moto(),
        &runbook("cabal-backup-posture"),
        &posture_params(region, &primary, &dr),
        &dir.path().join("data"),
    );
    let stdout = failed(&out);
    let report = report(&dir.path().join("data"));
    let failed: Vec<&str> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "failed")
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "dr-vault",
            "dr-dynamodb",
            "dynamodb-opt-in",
            "dynamodb-copies",
            "pitr-dmarc-reports"
        ],
        "{stdout}"
    );
    for s in [
        "primary-vault",
        "primary-efs",
        "dr-efs",
        "efs-copies",
        "pitr-counter",
    ] {
        assert_eq!(step(&report, s)["status"], "succeeded", "{s}: {stdout}");
    }
    assert!(
        stdout.contains("the vault lock is off, expected on"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ResourceTypeManagementPreference DynamoDB=false"),
        "{stdout}"
    );
    assert!(stdout.contains("1 failed, expected at most 0"), "{stdout}");
    assert!(
        stdout.contains("point-in-time recovery is DISABLED on cabal-dmarc-reports"),
        "{stdout}"
    );
}

#[test]
fn cabal_backup_posture_passes_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        in_sandbox(),
        &runbook("cabal-backup-posture"),
        &["--sandbox".into(), "--speed".into(), "3600".into()],
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    assert!(stdout.contains("primary-efs: succeeded"), "{stdout}");
    assert!(stdout.contains("dr-dynamodb: succeeded"), "{stdout}");
    assert!(
        stdout.contains("efs-copies: succeeded [completed="),
        "{stdout}"
    );
}

#[test]
fn cabal_backup_posture_fails_in_the_sandbox_when_copy_jobs_fail() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        in_sandbox(),
        &runbook("cabal-backup-posture"),
        &[
            "--sandbox".into(),
            "--speed".into(),
            "3600".into(),
            "--fault".into(),
            "copy-job-fails".into(),
        ],
        &dir.path().join("data"),
    );
    let stdout = failed(&out);
    let report = report(&dir.path().join("data"));
    for s in ["dynamodb-opt-in", "dynamodb-copies", "efs-copies"] {
        assert_eq!(step(&report, s)["status"], "failed", "{s}: {stdout}");
    }
    assert_eq!(step(&report, "pitr-counter")["status"], "succeeded");
    assert!(
        stdout.contains("--resource-type-management-preference DynamoDB=true"),
        "{stdout}"
    );
}
