//! World files and the identity: errors that name the file, line and field, and the documented example.

use super::*;

#[tokio::test(start_paused = true)]
async fn world_files_report_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let text = "[[vault]]\nname = \"v\"\n\n[[plan]]\nname = \"p\"\nvault = \"w\"\ndays = 3\n[[plan.resource]]\ntype = \"DynamoDB\"\nname = \"t\"\nsize_bytes = 1\n";
    tokio::fs::write(&path, text).await.unwrap();
    let e = SimCloud::from_files(std::slice::from_ref(&path), SimOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad.toml:6:9")
            && e.contains("plan[0].vault")
            && e.contains("no vault named `w`"),
        "{e}"
    );

    tokio::fs::write(&path, "[[table]]\nname = \"t\"\nitems = 1\npitr_dayz = 3\n")
        .await
        .unwrap();
    let e = SimCloud::from_files(std::slice::from_ref(&path), SimOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.toml:4:1") && e.contains("pitr_days"), "{e}");

    let text = "[[bucket]]\nname = \"b\"\n[[bucket.object]]\nkey = \"data.bin\"\ncontent_file = \"data.bin\"\n";
    tokio::fs::write(&path, text).await.unwrap();
    tokio::fs::write(dir.path().join("data.bin"), b"real bytes")
        .await
        .unwrap();
    let cloud = SimCloud::from_files(&[path], SimOptions::default())
        .await
        .unwrap();
    let bytes = cloud
        .read_object(&object("b", "data.bin"), &quiet())
        .await
        .unwrap();
    assert_eq!(bytes, b"real bytes");
}

#[test]
fn the_identity_is_simulated() {
    let identity = SimCloud::builtin(SimOptions::default()).unwrap().identity();
    assert!(identity.simulated);
    assert_eq!(identity.account.as_deref(), Some("111122223333"));
    assert!(identity.describe().starts_with("SIMULATED"));
    let e = SimCloud::builtin(SimOptions {
        speed: 0.0,
        ..SimOptions::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("speed"));
}

#[tokio::test(start_paused = true)]
async fn the_documented_world_file_loads() {
    let doc = include_str!("../../../../docs/sandbox.md");
    let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
    let example = &doc[start..start + doc[start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.toml");
    tokio::fs::write(&path, example).await.unwrap();
    tokio::fs::write(dir.path().join("gtin1-readme.txt"), "hello")
        .await
        .unwrap();
    tokio::fs::write(
        dir.path().join("penguinmails-vault-snapshot.tar.gz"),
        "snap",
    )
    .await
    .unwrap();
    let options = SimOptions {
        now: Some(NOW.parse().unwrap()),
        ..SimOptions::default()
    };
    let cloud = SimCloud::from_files(&[path], options).await.unwrap();
    let (dumps, _) = list(&cloud, bucket(GTIN1, "database/", Some(".dump")))
        .await
        .unwrap();
    assert_eq!(dumps.len(), 4);
    assert!(
        dumps
            .iter()
            .all(|d| d.sha256.is_some() && d.manifest["tier"] == "weekly")
    );
    let (copies, _) = list(&cloud, vault("cabal-backup-dr", Some("us-west-2"), None))
        .await
        .unwrap();
    assert_eq!(copies.len(), 365);
}

#[test]
fn an_object_age_must_be_a_duration() {
    let text =
        "[[bucket]]\nname = \"b\"\n[[bucket.object]]\nkey = \"w/{stamp}.gz\"\nage = \"soon\"\n";
    let err = SimCloud::build(
        std::iter::once(("w.toml".to_owned(), text.to_owned())),
        &|_: &str, _: &str| None,
        SimOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`soon` is not a duration"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_manifest_over_the_read_cap_is_refused_before_its_bytes_are_made() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.toml");
    let text = format!(
        "[[bucket]]\nname = \"b\"\n[[bucket.object]]\nkey = \"manifest.json\"\nsize_bytes = {}\n",
        crate::cloud::MAX_READ_OBJECT + 1
    );
    tokio::fs::write(&path, text).await.unwrap();
    let cloud = SimCloud::from_files(&[path], SimOptions::default())
        .await
        .unwrap();
    let e = cloud
        .read_object(&object("b", "manifest.json"), &quiet())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("s3://b/manifest.json")
            && e.contains("is 67108865 bytes")
            && e.contains("64 MiB")
            && e.contains("`expected`"),
        "{e}"
    );
}
