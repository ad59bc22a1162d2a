//! What dr-drill reads into memory from outside is capped: a manifest
//! object over [`MAX_READ_OBJECT`] is refused over the wire against moto,
//! naming the object, its size, the cap and what to do.

use std::sync::Arc;

use dr_drill::cloud::aws::{AwsCloud, AwsOptions};
use dr_drill::cloud::{Cloud, MAX_READ_OBJECT, ObjectRef};

use crate::support::{moto, unique};

#[tokio::test]
async fn a_manifest_over_the_read_cap_is_refused_naming_bucket_key_and_cap() {
    let bucket = unique("read-cap");
    moto()
        .s3("us-east-1")
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let big = vec![b' '; usize::try_from(MAX_READ_OBJECT).unwrap() + 1];
    moto()
        .put_object(&bucket, "backups/manifest.json", &big, &[], None)
        .await;
    drop(big);
    moto()
        .put_object(&bucket, "backups/small.json", b"{}", &[], None)
        .await;
    let cloud: Arc<dyn Cloud> = Arc::new(AwsCloud::from_config(
        moto().sdk_config("us-east-1"),
        &AwsOptions::default(),
    ));
    let object = |key: &str| ObjectRef {
        bucket: bucket.clone(),
        key: key.to_string(),
        version_id: None,
        region: None,
    };
    let quiet = |_: String| {};
    let e = cloud
        .read_object(&object("backups/manifest.json"), &quiet)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("s3://{bucket}/backups/manifest.json"))
            && e.contains("67108865 bytes")
            && e.contains("64 MiB")
            && e.contains("`expected`"),
        "{e}"
    );
    let small = cloud
        .read_object(&object("backups/small.json"), &quiet)
        .await
        .unwrap();
    assert_eq!(small, b"{}");
}
