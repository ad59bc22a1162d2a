//! Preflight asks AWS for each size and storage class once: the resources
//! area asks, and the time and cost areas read its facts. Over every
//! shipped runbook in the sandbox (which counts its calls), no listing,
//! describe or HEAD is made twice on one resource.

use std::collections::BTreeMap;
use std::sync::Arc;

use dr_drill::cloud::Cloud;
use dr_drill::cloud::sim::{SimCloud, SimOptions};
use dr_drill::preflight::{self, Context};
use dr_drill::runbook::{Mode, check_str};

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

fn is_a_read(action: &str) -> bool {
    ["List", "Describe", "Head", "Get"]
        .iter()
        .any(|p| action.starts_with(p))
        && action != "GetCallerIdentity"
}

#[tokio::test]
async fn each_listing_describe_and_head_is_made_once_per_resource() {
    let mut dir: Vec<_> = std::fs::read_dir(crate::support::repo_file("runbooks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    dir.sort();
    assert_eq!(dir.len(), 11, "{dir:?}");
    let mut read_any = 0;
    let mut twice = Vec::new();
    for path in dir {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let runbook = check_str(&text).runbook.unwrap();
        let params = dr_drill::engine::resolve_params(&runbook, &demo_params(&name)).unwrap();
        let sim = Arc::new(SimCloud::builtin(SimOptions::default()).unwrap());
        let data = tempfile::tempdir().unwrap();
        let ctx = Context {
            runbook,
            mode: Mode::Drill,
            params,
            cloud: Some(sim.clone() as Arc<dyn Cloud>),
            data_dir: data.path().to_owned(),
        };
        let p = preflight::run(&ctx, None).await;
        let reads: Vec<_> = sim
            .calls()
            .into_iter()
            .filter(|((action, _), _)| is_a_read(action))
            .collect();
        read_any += reads.len();
        twice.extend(
            reads
                .iter()
                .filter(|(_, n)| *n > 1)
                // Left: a pick over a bucket prefix (its candidates, by
                // suffix) and a download of the same prefix (its classes)
                // still list it each (docs/preflight.md, Resources).
                .filter(|((action, resource), n)| {
                    // (and each such listing asks the bucket's Object Lock
                    // configuration once, when a head lacks the headers).
                    !(name == "cpam-pitr-drill"
                        && ((action == "ListObjectsV2"
                            && resource == "s3://prod-cpam-backups/wal/")
                            || (action == "GetObjectLockConfiguration"
                                && resource == "s3://prod-cpam-backups"))
                        && *n == 2)
                })
                .map(|((action, resource), n)| format!("{name}: {action} {resource} x{n}")),
        );
        // The figures still come: the cost area read the resources' facts.
        if name == "cabal-addresses-restore" {
            let cost = p.cost.as_ref().expect("a cost estimate");
            // The point's size is known (the shipped prices lack the
            // restore's price: that part stays unknown, as the doc says).
            let restore = cost.lines.iter().find(|l| l.step == "restore").unwrap();
            assert!(
                !restore.arithmetic.starts_with("size unknown"),
                "{restore:#?}"
            );
        }
        if name == "gtin1-media-restore" {
            let time = p.time.as_ref().expect("a time estimate");
            let thaw = time.steps.iter().find(|s| s.step == "thaw").unwrap();
            assert_eq!(thaw.worst, Some(48.0 * 3600.0), "{thaw:#?}");
        }
    }
    assert!(read_any > 0, "the sandbox counted no call");
    assert!(twice.is_empty(), "asked more than once: {twice:#?}");
}
