//! `kind = "s3.restore-object"`: restore an archived object (Glacier, Deep
//! Archive), or every one under a prefix, and wait for it.

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks, key_or_prefix};
use crate::runbook::field::{Scalar, Span, Text, fields, invalid, string_enum};

string_enum! {
    /// Retrieval tier of an S3 Glacier restore.
    #[derive(Default)]
    pub enum RestoreTier {
        /// Hours (3-5 for Flexible Retrieval, 12 for Deep Archive).
        #[default]
        Standard = "Standard",
        /// Cheapest; up to 48 hours from Deep Archive.
        Bulk = "Bulk",
        /// Minutes; not available for Deep Archive nor the
        /// Intelligent-Tiering Deep Archive Access tier.
        Expedited = "Expedited",
    }
}

fields! {
    /// `kind = "s3.restore-object"`.
    pub struct S3RestoreObject {
        /// Bucket.
        bucket: Text = req,
        /// Object key (exactly one of `key` and `prefix`).
        key: Option<Text> = opt,
        /// Restore every archived object whose key starts with this.
        prefix: Option<Text> = opt,
        /// A specific version (with `key` only).
        version_id: Option<Text> = opt,
        /// Retrieval tier.
        #[serde(default)]
        tier: RestoreTier = def,
        /// The tier for objects that `tier` is not available for (e.g.
        /// `"Standard"` when `tier = "Expedited"` meets a Deep Archive
        /// object, or when S3 has no Expedited capacity); without it such
        /// an object fails the step before any restore is requested.
        fallback_tier: Option<RestoreTier> = opt,
        /// Days the restored copy stays available (default 7): a whole
        /// number, or a template that gives one.
        days: Option<Scalar> = opt,
        /// Region.
        region: Option<Text> = opt,
    }
}

impl KindRules for S3RestoreObject {
    fn effect(&self) -> Effect {
        Effect::Writes
    }

    fn outputs(&self) -> Vec<&str> {
        if self.prefix.is_some() {
            vec!["status", "expires_at", "objects"]
        } else {
            vec!["status", "expires_at"]
        }
    }

    fn confirm_target(&self) -> Option<&Text> {
        None
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        Some("the archive restore")
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
        let objects = Resource::Objects {
            bucket: &self.bucket,
            key: self.key.as_ref(),
            prefix: self.prefix.as_ref(),
        };
        let field = if self.key.is_some() { "key" } else { "prefix" };
        let mut permissions = vec![
            Permission::new("s3:GetObject", field, objects.clone()),
            Permission::new("s3:RestoreObject", field, objects),
        ];
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
        if let Some(days) = self.days.as_ref().filter(|d| !d.value.contains("{{"))
            && !matches!(days.value.trim().parse::<i32>(), Ok(n) if n >= 1)
        {
            errors.push(invalid(
                days.span,
                format!(
                    "`days` must be a whole number of days, at least 1, not `{}`",
                    days.value
                ),
                "write e.g. days = 7, or a template such as days = \"{{ params.days }}\"",
            ));
        }
        if self.fallback_tier == Some(RestoreTier::Expedited) {
            errors.push(invalid(
                step_span,
                "`fallback_tier = \"Expedited\"` cannot help: Expedited is the tier some archives do not take",
                "write fallback_tier = \"Standard\" or \"Bulk\"",
            ));
        }
        key_or_prefix(&self.key, &self.prefix, &self.version_id, step_span, errors);
    }

    fn check(&self, _step: &mut dyn StepChecks) {}
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "thaw"
kind = "s3.restore-object"
bucket = "b"
prefix = "p/"

[[step]]
id = "thaw-one"
kind = "s3.restore-object"
bucket = "b"
key = "k"
"#;
