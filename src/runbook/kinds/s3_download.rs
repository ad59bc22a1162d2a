//! `kind = "s3.download"`: download an object to a local file, or every
//! object under a prefix into a directory.

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks, get_object, key_or_prefix};
use crate::runbook::diagnostic::Code;
use crate::runbook::field::{Span, Text, custom, fields};

fields! {
    /// `kind = "s3.download"`.
    pub struct S3Download {
        /// Bucket.
        bucket: Text = req,
        /// Object key (exactly one of `key` and `prefix`).
        key: Option<Text> = opt,
        /// Download every object whose key starts with this into the
        /// directory `to`, keeping the keys' paths below the prefix.
        prefix: Option<Text> = opt,
        /// With `prefix`: only the keys at or after this one, in S3's key
        /// order (e.g. the WAL segment a base backup starts from).
        from_key: Option<Text> = opt,
        /// Local file (with `key`) or directory (with `prefix`) to write;
        /// relative paths are under the run directory.
        to: Text = req,
        /// A specific version (with `key` only).
        version_id: Option<Text> = opt,
        /// Region.
        region: Option<Text> = opt,
    }
}

impl KindRules for S3Download {
    fn effect(&self) -> Effect {
        Effect::Writes
    }

    fn outputs(&self) -> Vec<&str> {
        if self.prefix.is_some() {
            vec!["path", "objects", "size_bytes", "verified"]
        } else {
            vec!["path", "size_bytes", "sha256"]
        }
    }

    fn confirm_target(&self) -> Option<&Text> {
        Some(&self.to)
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        None
    }

    fn rpo_field(&self) -> Option<&'static str> {
        None
    }

    fn change(&self, show: &dyn Fn(&str) -> String, _description: Option<&str>) -> Option<String> {
        let (bucket, to) = (show(&self.bucket.value), show(&self.to.value));
        Some(match (&self.key, &self.prefix) {
            (Some(key), _) => format!(
                "s3://{bucket}/{} is written to {to}, replacing the file if it exists",
                show(&key.value)
            ),
            (None, prefix) => format!(
                "every object under s3://{bucket}/{} is written below {to}, replacing files that exist",
                prefix.as_ref().map(|p| show(&p.value)).unwrap_or_default()
            ),
        })
    }

    fn uses_aws(&self) -> bool {
        true
    }

    fn permissions(&self) -> Vec<Permission<'_>> {
        let objects = Resource::Objects {
            bucket: &self.bucket,
            key: self.key.as_ref(),
            prefix: self.prefix.as_ref(),
        };
        let field = if self.key.is_some() { "key" } else { "prefix" };
        let mut permissions = get_object(field, objects, &self.version_id);
        if self.prefix.is_some() {
            permissions.push(
                Permission::new("s3:ListBucket", "bucket", Resource::Bucket(&self.bucket)).when("with `prefix`"),
            );
        }
        permissions
    }

    fn headless_answer_missing(&self, _id: &str, _given: Option<&str>) -> Option<String> {
        None
    }

    fn cross_field_errors(&self, step_span: Span, errors: &mut Vec<Error>) {
        key_or_prefix(&self.key, &self.prefix, &self.version_id, step_span, errors);
        if let (Some(from), None) = (&self.from_key, &self.prefix) {
            errors.push(custom(
                Code::InvalidValue,
                from.span,
                "`from_key` narrows a `prefix` download; this step downloads one `key`",
                "remove `from_key`, or download a `prefix` from that key on",
            ));
        }
    }

    fn check(&self, _step: &mut dyn StepChecks) {}
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "download"
kind = "s3.download"
bucket = "b"
prefix = "p/"
to = "dir"

[[step]]
id = "download-version"
kind = "s3.download"
bucket = "b"
key = "k"
version_id = "v1"
to = "file"
"#;
