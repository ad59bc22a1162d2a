//! Preflight's resources area: against moto (a missing vault, a vault in
//! another region, an existing restore target, a prefix with archived
//! objects counted by class, a missing bucket) and over every shipped
//! runbook in the sandbox with the demo's parameters (no FAIL).

use std::collections::BTreeMap;
use std::sync::Arc;

use dr_drill::cloud::Cloud;
use dr_drill::cloud::aws::{AwsCloud, AwsOptions};
use dr_drill::cloud::sim::{SimCloud, SimOptions};
use dr_drill::preflight::{self, Area, Context, Finding, Preflight, Verdict};
use dr_drill::runbook::{Mode, check_str};

use crate::support::{moto, unique};

fn moto_cloud() -> Arc<dyn Cloud> {
    Arc::new(AwsCloud::from_config(
        moto().sdk_config("us-east-1"),
        &AwsOptions::default(),
    ))
}

/// Preflight of a runbook made of `steps`, with `params` required.
async fn preflight_of(
    cloud: Arc<dyn Cloud>,
    text: &str,
    params: BTreeMap<String, String>,
) -> Preflight {
    let checked = check_str(text);
    let runbook = checked
        .runbook
        .unwrap_or_else(|| panic!("runbook must be valid: {:#?}", checked.diagnostics));
    let params = dr_drill::engine::resolve_params(&runbook, &params).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context {
        runbook,
        mode: Mode::Drill,
        params,
        cloud: Some(cloud),
        data_dir: dir.path().to_owned(),
    };
    preflight::run(&ctx, None).await
}

fn header() -> String {
    "[runbook]\nid = \"pf\"\ntitle = \"Preflight\"\n\n".to_string()
}

fn resources(p: &Preflight) -> Vec<&Finding> {
    p.of(Area::Resources).collect()
}

fn about<'a>(p: &'a Preflight, step: &str, subject: &str) -> &'a Finding {
    resources(p)
        .into_iter()
        .find(|f| f.step.as_deref() == Some(step) && f.subject.contains(subject))
        .unwrap_or_else(|| panic!("no finding on {subject} of {step}: {:#?}", resources(p)))
}

#[tokio::test]
async fn a_missing_vault_fails_and_a_vault_in_the_other_region_is_found_there() {
    let dr = unique("cabal-backup-dr");
    moto()
        .backup("us-west-2")
        .create_backup_vault()
        .backup_vault_name(&dr)
        .send()
        .await
        .unwrap();
    let missing = unique("no-such-vault");
    let text = format!(
        "{}[[step]]\nid = \"posture\"\nkind = \"backup.vault-posture\"\nbackup_vault = \"{dr}\"\n\n[[step]]\nid = \"dr\"\nkind = \"backup.vault-posture\"\nbackup_vault = \"{dr}\"\nregion = \"us-west-2\"\n\n[[step]]\nid = \"gone\"\nkind = \"backup.vault-posture\"\nbackup_vault = \"{missing}\"\n",
        header()
    );
    let p = preflight_of(moto_cloud(), &text, BTreeMap::new()).await;
    // Read-only posture steps report these themselves: preflight warns
    // (a step that writes fails, see the restore tests below).
    let wrong = about(&p, "posture", &dr);
    assert_eq!(wrong.verdict, Verdict::Warn, "{wrong:#?}");
    assert!(
        wrong.detail.contains("the step checks this itself"),
        "{wrong:#?}"
    );
    assert!(wrong.subject.contains("us-east-1"), "{wrong:#?}");
    assert!(wrong.detail.contains("it is in us-west-2"), "{wrong:#?}");
    assert!(wrong.fix.as_deref().unwrap().contains("us-west-2"));
    let right = about(&p, "dr", &dr);
    assert_eq!(right.verdict, Verdict::Pass, "{right:#?}");
    assert!(right.detail.contains("not locked"), "{right:#?}");
    let gone = about(&p, "gone", &missing);
    assert_eq!(gone.verdict, Verdict::Warn, "{gone:#?}");
    assert!(gone.detail.contains("DescribeBackupVault"), "{gone:#?}");
    assert!(gone.detail.contains("us-east-1, us-west-2"), "{gone:#?}");
}

// rule: ddb-restore-into-existing-table
#[tokio::test]
async fn a_restore_into_a_table_that_exists_fails_and_the_source_is_described() {
    let live = unique("cabal-counter");
    let restored = unique("cabal-counter-restored");
    let fresh = unique("cabal-counter-fresh");
    moto().create_pk_table("us-east-1", &live).await;
    moto().create_pk_table("us-east-1", &restored).await;
    let text = format!(
        "{}[params]\nlive = {{ required = true }}\n\n[[step]]\nid = \"restore\"\nkind = \"dynamodb.restore-to-point-in-time\"\nsource_table = \"{{{{ params.live }}}}\"\ntarget_table = \"{restored}\"\n\n[[step]]\nid = \"again\"\nkind = \"dynamodb.restore-from-backup\"\nbackup_arn = \"arn:aws:dynamodb:us-east-1:123456789012:table/x/backup/1\"\ntarget_table = \"{fresh}\"\n\n[[step]]\nid = \"count\"\nneeds = [\"again\"]\nkind = \"dynamodb.count\"\ntable = \"{fresh}\"\n",
        header()
    );
    let params = BTreeMap::from([("live".to_string(), live.clone())]);
    let p = preflight_of(moto_cloud(), &text, params).await;
    let target = about(&p, "restore", &restored);
    assert_eq!(target.verdict, Verdict::Fail, "{target:#?}");
    assert!(
        target.detail.contains("TableAlreadyExistsException"),
        "{target:#?}"
    );
    // The source exists, but PITR is off: a point-in-time restore fails.
    let source = about(&p, "restore", &live);
    assert_eq!(source.verdict, Verdict::Fail, "{source:#?}");
    assert!(source.detail.contains("PITR DISABLED"), "{source:#?}");
    assert!(source.detail.contains("0 items"), "{source:#?}");
    assert_eq!(about(&p, "again", &fresh).verdict, Verdict::Pass);
    let later = about(&p, "count", &fresh);
    assert_eq!(later.verdict, Verdict::Pass);
    assert!(
        later
            .detail
            .contains("created during the run by step `again`")
    );
    assert!(p.resources.tables.iter().any(|t| t.table == live));
}

// rule: s3-listing-gives-size-and-class
#[tokio::test]
async fn archived_objects_are_counted_by_class_and_a_missing_bucket_fails() {
    let bucket = unique("closient-disaster-recovery-backup");
    moto()
        .s3("us-east-1")
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let prefix = "media/products/a1/";
    for (i, class) in [
        Some("GLACIER"),
        Some("DEEP_ARCHIVE"),
        Some("DEEP_ARCHIVE"),
        None,
    ]
    .into_iter()
    .enumerate()
    {
        let body = vec![b'x'; 100 * (i + 1)];
        moto()
            .put_object(&bucket, &format!("{prefix}{i}.jpg"), &body, &[], class)
            .await;
    }
    moto()
        .put_object(&bucket, "media/other.jpg", b"not counted", &[], None)
        .await;
    let missing = unique("no-such-bucket");
    let text = format!(
        "{}[[step]]\nid = \"thaw\"\nkind = \"s3.restore-object\"\nbucket = \"{bucket}\"\nprefix = \"{prefix}\"\n\n[[step]]\nid = \"get\"\nkind = \"s3.download\"\nbucket = \"{missing}\"\nprefix = \"{prefix}\"\nto = \"media\"\n",
        header()
    );
    let p = preflight_of(moto_cloud(), &text, BTreeMap::new()).await;
    let thaw = about(&p, "thaw", &bucket);
    assert_eq!(thaw.verdict, Verdict::Pass, "{thaw:#?}");
    assert!(thaw.detail.starts_with("4 objects, 1000 B"), "{thaw:#?}");
    assert!(
        thaw.detail
            .contains("archived, a restore needed before a read: 3 objects, 600 B: DEEP_ARCHIVE 2 (500 B), GLACIER 1 (100 B)"),
        "{thaw:#?}"
    );
    let facts = &p.resources.prefixes[0];
    assert_eq!(facts.summary.by_class["DEEP_ARCHIVE"].objects, 2);
    assert_eq!(facts.summary.by_class["STANDARD"].bytes, 400);
    let get = about(&p, "get", &missing);
    assert_eq!(get.verdict, Verdict::Fail, "{get:#?}");
    assert!(get.detail.contains("ListObjectsV2"), "{get:#?}");
    assert!(get.detail.contains(&missing), "{get:#?}");
    assert_eq!(
        about(&p, "get", "download target media").verdict,
        Verdict::Pass
    );
}

/// The demo's `--param` values for a shipped runbook.
fn demo_params(name: &str) -> BTreeMap<String, String> {
    let out = assert_cmd::Command::cargo_bin("dr-drill")
        .unwrap()
        .args(["demo", "--runbook", name, "--print-params"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn every_shipped_runbook_finds_its_resources_in_the_sandbox() {
    let mut dir: Vec<_> = std::fs::read_dir(crate::support::repo_file("runbooks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    dir.sort();
    assert_eq!(dir.len(), 11, "{dir:?}");
    for path in dir {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let sim: Arc<dyn Cloud> = Arc::new(SimCloud::builtin(SimOptions::default()).unwrap());
        let p = preflight_of(sim, &text, demo_params(&name)).await;
        let failed: Vec<&Finding> = resources(&p)
            .into_iter()
            .filter(|f| f.verdict == Verdict::Fail)
            .collect();
        assert!(failed.is_empty(), "{name}: {failed:#?}");
        let checked = resources(&p)
            .into_iter()
            .filter(|f| f.verdict == Verdict::Pass)
            .count();
        assert!(checked > 0, "{name}: nothing checked: {:#?}", resources(&p));
        match name.as_str() {
            "gtin1-media-restore" => {
                let media = &p.resources.prefixes[0].summary;
                assert!(media.archived().objects > 0, "{media:#?}");
                assert!(media.by_class.contains_key("DEEP_ARCHIVE"), "{media:#?}");
            }
            "cabal-addresses-restore" => {
                let vault = about(&p, "pick", "vault cabal-backup (");
                assert!(vault.detail.contains("locked"), "{vault:#?}");
                let target = about(&p, "restore", "table cabal-addresses-restored");
                assert_eq!(target.verdict, Verdict::Pass, "{target:#?}");
                assert!(
                    target.detail.contains("does not exist yet in any region"),
                    "{target:#?}"
                );
                assert!(!p.resources.points.is_empty());
            }
            _ => {}
        }
    }
}
