//! `kind = "s3.verify-checksum"`: verify an object's SHA-256 against its
//! metadata or a manifest.

use toml_spanner::Error;

use super::{Effect, KindRules, Permission, Resource, StepChecks, get_object};
use crate::runbook::field::{Span, Text, fields};

fields! {
    /// `kind = "s3.verify-checksum"`.
    pub struct S3VerifyChecksum {
        /// Bucket.
        bucket: Text = req,
        /// Object key.
        key: Text = req,
        /// A specific version.
        version_id: Option<Text> = opt,
        /// The expected SHA-256 in hex; otherwise taken from the object's
        /// metadata, its ChecksumSHA256, or `manifest`.
        expected: Option<Text> = opt,
        /// Key of a `manifest.json` that lists the object's checksum.
        manifest: Option<Text> = opt,
        /// Region.
        region: Option<Text> = opt,
    }
}

impl KindRules for S3VerifyChecksum {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["sha256", "expected", "source"]
    }

    fn confirm_target(&self) -> Option<&Text> {
        None
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        None
    }

    fn rpo_field(&self) -> Option<&'static str> {
        None
    }

    fn change(&self, _show: &dyn Fn(&str) -> String, _description: Option<&str>) -> Option<String> {
        None
    }

    fn uses_aws(&self) -> bool {
        true
    }

    fn permissions(&self) -> Vec<Permission<'_>> {
        let object = Resource::Objects {
            bucket: &self.bucket,
            key: Some(&self.key),
            prefix: None,
        };
        get_object("key", object, &self.version_id)
    }

    fn headless_answer_missing(&self, _id: &str, _given: Option<&str>) -> Option<String> {
        None
    }

    fn cross_field_errors(&self, _step_span: Span, _errors: &mut Vec<Error>) {}

    fn check(&self, _step: &mut dyn StepChecks) {}
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "verify"
kind = "s3.verify-checksum"
bucket = "b"
key = "k"

[[step]]
id = "verify-version"
kind = "s3.verify-checksum"
bucket = "b"
key = "k"
version_id = "v1"
"#;
