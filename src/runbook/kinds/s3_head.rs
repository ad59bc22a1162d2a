//! `kind = "s3.head"`: read an object's metadata, storage class and restore
//! state.

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks, get_object};
use crate::runbook::field::{Span, Text, fields};

fields! {
    /// `kind = "s3.head"`.
    pub struct S3Head {
        /// Bucket.
        bucket: Text = req,
        /// Object key.
        key: Text = req,
        /// A specific version.
        version_id: Option<Text> = opt,
        /// Region.
        region: Option<Text> = opt,
    }
}

impl KindRules for S3Head {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec![
            "size_bytes",
            "etag",
            "last_modified",
            "storage_class",
            "restore_status",
            "sha256",
            "version_id",
            "object_lock_mode",
            "retain_until",
        ]
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
        let mut permissions = get_object("key", object.clone(), &self.version_id);
        permissions.push(Permission::new("s3:GetObjectRetention", "key", object));
        permissions
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
id = "head"
kind = "s3.head"
bucket = "b"
key = "k"
version_id = "v1"
"#;
