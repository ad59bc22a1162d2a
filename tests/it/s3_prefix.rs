//! `s3.restore-object` and `s3.download` with `prefix`: every object under a
//! prefix restored from Deep Archive and downloaded into a directory, over
//! the wire against moto, and the rules that keep `key` and `prefix` apart.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use dr_drill::cloud::Cloud;
use dr_drill::cloud::aws::{AwsCloud, AwsOptions};
use dr_drill::engine::event::{Answer, EventKind, Outcome, Question, RunEvent};
use dr_drill::engine::human::HumanReply;
use dr_drill::engine::{self, RunSummary};
use dr_drill::runbook::{Mode, check_str};

use crate::support::{moto, sha256_hex, unique};

fn cloud() -> Arc<dyn Cloud> {
    let options = AwsOptions {
        poll_interval: Some(Duration::from_millis(200)),
        ..AwsOptions::default()
    };
    Arc::new(AwsCloud::from_config(
        moto().sdk_config("us-east-1"),
        &options,
    ))
}

/// Runs the steps (after a header declaring `params`) against moto,
/// confirming whatever is asked; returns the run and its directory.
async fn run(
    steps: &str,
    params: &[(&str, &str)],
) -> (RunSummary, Vec<RunEvent>, tempfile::TempDir) {
    run_in(cloud(), steps, params).await
}

async fn run_in(
    cloud: Arc<dyn Cloud>,
    steps: &str,
    params: &[(&str, &str)],
) -> (RunSummary, Vec<RunEvent>, tempfile::TempDir) {
    let mut text =
        String::from("[runbook]\nid = \"prefix\"\ntitle = \"Prefix test\"\n\n[params]\n");
    for (name, _) in params {
        text.push_str(&format!("{name} = {{ required = true }}\n"));
    }
    text.push_str(steps);
    let checked = check_str(&text);
    let runbook = checked
        .runbook
        .unwrap_or_else(|| panic!("test runbook must be valid: {:#?}", checked.diagnostics));
    let dir = tempfile::tempdir().unwrap();
    let params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let engine::Started {
        engine,
        mut events,
        mut questions,
    } = engine::start_unjournaled(runbook, Mode::Drill, params, dir.path().to_owned(), 8).unwrap();
    tokio::spawn(async move {
        while let Some(q) = questions.recv().await {
            let answer = match &q.question {
                Question::Confirm { text, .. } => Answer::Confirmed {
                    typed: text.clone(),
                },
                other => panic!("unexpected question {other:?}"),
            };
            let _ = q.reply.send(HumanReply::new(answer, "tester@test"));
        }
    });
    let summary = engine.with_cloud(cloud).run().await.unwrap();
    let mut all = Vec::new();
    while let Ok(e) = events.try_recv() {
        all.push(e);
    }
    (summary, all, dir)
}

fn finished(events: &[RunEvent], step: &str) -> (Outcome, BTreeMap<String, String>, String) {
    events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::StepFinished {
                step: s,
                outcome,
                outputs,
                reason,
                ..
            } if s == step => Some((
                *outcome,
                outputs.clone(),
                reason.clone().unwrap_or_default(),
            )),
            _ => None,
        })
        .unwrap_or_else(|| panic!("step {step} did not finish"))
}

fn progress(events: &[RunEvent], step: &str) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StepProgress { step: s, message } if s == step => Some(message.clone()),
            _ => None,
        })
        .collect()
}

async fn media_bucket() -> String {
    let bucket = unique("closient-disaster-recovery-backup");
    moto()
        .s3("us-east-1")
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let logo = b"jpeg bytes".repeat(50);
    moto()
        .put_object(
            &bucket,
            "media/products/logo.jpg",
            &logo,
            &[("sha256", &sha256_hex(&logo))],
            Some("DEEP_ARCHIVE"),
        )
        .await;
    moto()
        .put_object(
            &bucket,
            "media/products/2024/shelf.png",
            b"png bytes",
            &[],
            Some("DEEP_ARCHIVE"),
        )
        .await;
    moto()
        .put_object(&bucket, "media/products/readme.txt", b"hello", &[], None)
        .await;
    moto()
        .put_object(&bucket, "media/products/", b"", &[], None)
        .await;
    moto()
        .put_object(&bucket, "media/other/skip.jpg", b"not mine", &[], None)
        .await;
    bucket
}

const DOWNLOAD: &str = r#"
[[step]]
id = "download"
kind = "s3.download"
bucket = "{{ params.bucket }}"
prefix = "media/products/"
to = "media"
"#;

const RESTORE: &str = r#"
[[step]]
id = "thaw"
kind = "s3.restore-object"
bucket = "{{ params.bucket }}"
prefix = "media/products/"
tier = "Bulk"
days = 2
timeout = "1m"
"#;

#[tokio::test]
async fn a_prefix_of_deep_archive_objects_is_restored_then_downloaded_with_its_paths() {
    let bucket = media_bucket().await;

    // Before the restore: the download refuses, naming what to do.
    let (summary, events, dir) = run(DOWNLOAD, &[("bucket", &bucket)]).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let (_, _, why) = finished(&events, "download");
    assert!(
        why.contains("2 of the 3 objects under s3://")
            && why.contains("archived and not restored")
            && why.contains("DEEP_ARCHIVE")
            && why.contains("s3.restore-object"),
        "{why}"
    );
    assert!(!dir.path().join("media").exists(), "nothing was downloaded");

    let steps = format!("{RESTORE}{DOWNLOAD}needs = [\"thaw\"]\n");
    let (summary, events, dir) = run(&steps, &[("bucket", &bucket)]).await;
    let (outcome, thaw, why) = finished(&events, "thaw");
    assert_eq!(outcome, Outcome::Succeeded, "{why}");
    assert_eq!(thaw["status"], "ready");
    assert_eq!(thaw["objects"], "3");
    let said = progress(&events, "thaw");
    assert!(
        said.iter()
            .any(|m| m.contains("2 Bulk restores requested for 2 days")),
        "{said:?}"
    );
    assert!(said.iter().any(|m| m == "3 of 3 ready"), "{said:?}");

    assert_eq!(summary.outcome, Outcome::Succeeded);
    let (_, download, _) = finished(&events, "download");
    let media = dir.path().join("media");
    assert_eq!(download["path"], media.display().to_string());
    assert_eq!(download["objects"], "3");
    assert_eq!(download["size_bytes"], (500 + 9 + 5).to_string());
    assert_eq!(download["verified"], "1");
    assert_eq!(
        std::fs::read(media.join("logo.jpg")).unwrap(),
        b"jpeg bytes".repeat(50)
    );
    assert_eq!(
        std::fs::read(media.join("2024/shelf.png")).unwrap(),
        b"png bytes"
    );
    assert_eq!(std::fs::read(media.join("readme.txt")).unwrap(), b"hello");
    assert!(!media.join("skip.jpg").exists());
    let left: Vec<_> = walk(&media)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "part"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // Restoring again: every copy is already readable.
    let (summary, events, _) = run(RESTORE, &[("bucket", &bucket)]).await;
    assert_eq!(summary.outcome, Outcome::Succeeded);
    assert_eq!(finished(&events, "thaw").1["objects"], "3");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn a_prefix_download_fails_on_a_recorded_sha256_that_does_not_match() {
    let bucket = unique("closient-disaster-recovery-backup");
    moto()
        .s3("us-east-1")
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    moto()
        .put_object(&bucket, "media/products/a.txt", b"fine", &[], None)
        .await;
    moto()
        .put_object(
            &bucket,
            "media/products/b.txt",
            b"bits flipped",
            &[("checksum", &sha256_hex(b"the original"))],
            None,
        )
        .await;
    let (summary, events, dir) = run(DOWNLOAD, &[("bucket", &bucket)]).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let (_, _, why) = finished(&events, "download");
    assert!(
        why.contains("SHA-256 mismatch for s3://") && why.contains("media/products/b.txt"),
        "{why}"
    );
    assert!(
        !dir.path().join("media/b.txt").exists(),
        "the bad copy is removed"
    );
}

#[tokio::test]
async fn an_empty_prefix_fails_naming_it() {
    let bucket = unique("closient-disaster-recovery-backup");
    moto()
        .s3("us-east-1")
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    for steps in [RESTORE, DOWNLOAD] {
        let (summary, events, _) = run(steps, &[("bucket", &bucket)]).await;
        assert_eq!(summary.outcome, Outcome::Failed);
        let step = if steps == RESTORE { "thaw" } else { "download" };
        let why = finished(&events, step).2;
        assert!(
            why.contains(&format!("no objects under s3://{bucket}/media/products/")),
            "{why}"
        );
    }
}

#[test]
fn key_and_prefix_exclude_each_other() {
    let header = "[runbook]\nid = \"r\"\ntitle = \"R\"\n\n";
    let cases = [
        (
            "kind = \"s3.download\"\nbucket = \"b\"\nkey = \"k\"\nprefix = \"p/\"\nto = \"x\"\n",
            "not both",
        ),
        (
            "kind = \"s3.download\"\nbucket = \"b\"\nto = \"x\"\n",
            "exactly one of `key` (one object) or `prefix`",
        ),
        (
            "kind = \"s3.restore-object\"\nbucket = \"b\"\nprefix = \"p/\"\nversion_id = \"v\"\ntimeout = \"1h\"\n",
            "`version_id` applies to one object",
        ),
        (
            "kind = \"s3.restore-object\"\nbucket = \"b\"\nprefix = \"p/\"\ndays = 0\ntimeout = \"1h\"\n",
            "`days` must be a whole number of days, at least 1, not `0`",
        ),
        (
            "kind = \"s3.restore-object\"\nbucket = \"b\"\nkey = \"k\"\ndays = \"seven\"\ntimeout = \"1h\"\n",
            "not `seven`",
        ),
        (
            "kind = \"s3.download\"\nbucket = \"b\"\nkey = \"k\"\nfrom_key = \"k\"\nto = \"x\"\n",
            "`from_key` narrows a `prefix` download",
        ),
    ];
    for (step, want) in cases {
        let text = format!("{header}[[step]]\nid = \"s\"\n{step}");
        let checked = check_str(&text);
        assert!(checked.runbook.is_none(), "{text}");
        let said = format!("{:?}", checked.diagnostics);
        assert!(said.contains(want), "{text}\n{said}");
    }
    // A prefix download's outputs are known to later steps.
    let ok = format!(
        "{header}[[step]]\nid = \"d\"\nkind = \"s3.download\"\nbucket = \"b\"\nprefix = \"media/\"\nto = \"media\"\n\n[[step]]\nid = \"c\"\nneeds = [\"d\"]\nkind = \"check\"\nassert = [{{ value = \"{{{{ steps.d.objects }}}}\", at_least = 1 }}, {{ value = \"{{{{ steps.d.verified }}}}\", at_least = 0 }}]\n"
    );
    let checked = check_str(&ok);
    assert!(checked.runbook.is_some(), "{:#?}", checked.diagnostics);
}

#[tokio::test]
async fn in_the_sandbox_a_media_prefix_takes_a_deep_archive_bulk_restore_then_downloads() {
    use dr_drill::cloud::sim::{SimCloud, SimOptions};
    // 12 to 14 hours of Bulk retrieval in a second, while the copy
    // stays readable for seconds (at 2,000,000 its 2 days lasted 0.09 s, and
    // a slow download found it expired).
    let sim = SimCloud::builtin(SimOptions {
        speed: 50_000.0,
        ..SimOptions::default()
    })
    .unwrap();
    let sim: Arc<dyn Cloud> = Arc::new(sim);
    let bucket = "closient-disaster-recovery-backup";
    let steps = format!("{}{}needs = [\"thaw\"]\n", RESTORE, DOWNLOAD)
        .replace("media/products/", "media/products/00");
    let (summary, events, dir) = run_in(
        sim.clone(),
        DOWNLOAD
            .replace("media/products/", "media/products/00")
            .as_str(),
        &[("bucket", bucket)],
    )
    .await;
    assert_eq!(summary.outcome, Outcome::Failed);
    assert!(
        finished(&events, "download")
            .2
            .contains("archived and not restored")
    );
    drop(dir);

    let (summary, events, dir) = run_in(sim, &steps, &[("bucket", bucket)]).await;
    let (outcome, thaw, why) = finished(&events, "thaw");
    assert_eq!(outcome, Outcome::Succeeded, "{why}");
    assert_eq!(
        summary.outcome,
        Outcome::Succeeded,
        "{:?}",
        finished(&events, "download")
    );
    let n: usize = thaw["objects"].parse().unwrap();
    assert!(n >= 1, "{thaw:?}");
    assert_eq!(thaw["status"], "ready");
    assert!(!thaw["expires_at"].is_empty());
    let said = progress(&events, "thaw");
    assert!(
        said.iter().any(|m| *m == format!("{n} of {n} ready")),
        "{said:?}"
    );
    let (_, download, _) = finished(&events, "download");
    assert_eq!(download["objects"], n.to_string());
    let files = walk(&dir.path().join("media"));
    assert_eq!(files.len(), n, "{files:?}");
    let bytes: u64 = files.iter().map(|f| f.metadata().unwrap().len()).sum();
    assert_eq!(download["size_bytes"], bytes.to_string());
    // Bulk media records no checksum.
    assert_eq!(download["verified"], "0");
}

/// Keys that would share a local file (`x` and its `.part`, `a/./b` and
/// `a/b`) or be a file and a directory (`d` and `d/e`) stop the download
/// before anything is written; a prefix that resolves to nothing is refused.
#[tokio::test]
async fn keys_that_would_share_a_local_file_are_refused_before_downloading() {
    let bucket = unique("clashing-keys");
    moto()
        .s3("us-east-1")
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    for (set, keys) in [
        ("one", ["one/x", "one/x.part"]),
        ("two", ["two/a/./b", "two/a/b"]),
        ("three", ["three/d", "three/d/e"]),
    ] {
        for key in keys {
            moto()
                .put_object(&bucket, key, key.as_bytes(), &[], None)
                .await;
        }
        let steps = format!(
            "[[step]]\nid = \"download\"\nkind = \"s3.download\"\nbucket = \"{{{{ params.bucket }}}}\"\nprefix = \"{set}/\"\nto = \"out\"\n"
        );
        let (summary, events, dir) = run(&steps, &[("bucket", &bucket)]).await;
        assert_eq!(summary.outcome, Outcome::Failed, "{set}");
        let why = finished(&events, "download").2;
        assert!(why.contains("would be downloaded to"), "{set}: {why}");
        assert!(!dir.path().join("out").exists(), "{set}: nothing written");
    }
    let steps = "[[step]]\nid = \"download\"\nkind = \"s3.download\"\nbucket = \"{{ params.bucket }}\"\nprefix = \"{{ params.p }}\"\nto = \"out\"\n";
    let (summary, events, _) = run(steps, &[("bucket", &bucket), ("p", "")]).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let why = finished(&events, "download").2;
    assert!(why.contains("`prefix` is empty"), "{why}");
}
