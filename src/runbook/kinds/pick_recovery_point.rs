//! `kind = "pick-recovery-point"`: choose the recovery point to restore from;
//! the point it chooses measures the run's RPO.

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks};
use crate::runbook::diagnostic::Code;
use crate::runbook::field::{
    Dur, Scalar, Span, Spanned, Text, custom, fields, invalid, string_enum,
};

string_enum! {
    /// How a pick step chooses a recovery point.
    #[derive(Default)]
    pub enum PickPolicy {
        /// The operator chooses (headless: from `--answer STEP=ARN`).
        #[default]
        Ask = "ask",
        /// The newest completed point that satisfies `before` and `max_age`.
        Latest = "latest",
    }
}

fields! {
    /// Where a pick step lists recovery points from: exactly one of an AWS
    /// Backup vault, a DynamoDB table, or an S3 bucket.
    pub struct RecoverySource {
        /// AWS Backup vault name.
        backup_vault: Option<Text> = opt,
        /// The vault's DR copy, listed side by side with `backup_vault`.
        dr_vault: Option<Text> = opt,
        /// Region of `dr_vault`.
        dr_region: Option<Text> = opt,
        /// Only points of this resource type (`DynamoDB`, `EFS`, `S3`, `RDS`, ...).
        resource_type: Option<Text> = opt,
        /// Only points of this resource.
        resource_arn: Option<Text> = opt,
        /// DynamoDB table: its on-demand backups and its PITR window.
        table: Option<Text> = opt,
        /// S3 bucket holding backup objects.
        bucket: Option<Text> = opt,
        /// Key prefix within `bucket`, e.g. `daily/`.
        prefix: Option<Text> = opt,
        /// Only keys ending with this, e.g. `.enc` or `backup.dump`.
        suffix: Option<Text> = opt,
        /// Region of the source (default: the run's region).
        region: Option<Text> = opt,
    }
}

impl RecoverySource {
    fn check(&self, step_span: Span, errors: &mut Vec<Error>) {
        let given = [
            self.backup_vault.is_some(),
            self.table.is_some(),
            self.bucket.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            errors.push(custom(
                Code::Conflict,
                step_span,
                "a recovery point source needs exactly one of `backup_vault`, `table` or `bucket`",
                "e.g. source = { backup_vault = \"cabal-backup\", resource_type = \"DynamoDB\" }",
            ));
        }
        let backup_only = [
            &self.dr_vault,
            &self.dr_region,
            &self.resource_type,
            &self.resource_arn,
        ];
        if self.backup_vault.is_none()
            && let Some(f) = backup_only.into_iter().flatten().next()
        {
            errors.push(invalid(
                f.span,
                "this field applies to an AWS Backup source only",
                "add `backup_vault` or remove it",
            ));
        }
        if self.bucket.is_none()
            && let Some(f) = [&self.prefix, &self.suffix].into_iter().flatten().next()
        {
            errors.push(invalid(
                f.span,
                "this field applies to an S3 source only",
                "add `bucket` or remove it",
            ));
        }
        if let (Some(r), None) = (&self.dr_region, &self.dr_vault) {
            errors.push(invalid(
                r.span,
                "`dr_region` without `dr_vault`",
                "name the DR vault with `dr_vault`",
            ));
        }
    }
}

fields! {
    /// `kind = "pick-recovery-point"`.
    pub struct PickRecoveryPoint {
        /// Where to list points from.
        source: RecoverySource = req,
        /// `ask` (the operator picks) or `latest` (the newest restorable
        /// point; in the console preselected for the operator to accept,
        /// unless `confirm_pick = false`).
        #[serde(default)]
        policy: PickPolicy = def,
        /// Only points created before this time: an RFC 3339 date-time
        /// (quoted or not) or a template.
        before: Option<Scalar> = opt,
        /// Fail if the chosen point is older than this (an RPO guard).
        max_age: Option<Spanned<Dur>> = opt,
        /// Whether the chosen point counts in the run's RPO (default
        /// true). `false` for a point replayed forward by a newer one
        /// another pick chooses (a base backup before its WAL).
        measures_rpo: Option<bool> = opt,
        /// Whether the console shows the picker with the policy's choice
        /// preselected, for the operator to accept with Enter or to pick
        /// another (default true). `false` for an unattended step: the
        /// policy chooses without asking. Headless runs never ask.
        confirm_pick: Option<bool> = opt,
    }
}

impl KindRules for PickRecoveryPoint {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec![
            "arn",
            "created_at",
            "completed_at",
            "size_bytes",
            "vault",
            "region",
            "resource_arn",
            "resource_name",
            "resource_type",
            "storage_class",
            "bucket",
            "key",
            "version_id",
            "sha256",
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
        // A point replayed forward by a newer one another pick chooses (a
        // base backup before its WAL) does not measure it.
        (self.measures_rpo != Some(false)).then_some("created_at")
    }

    fn change(&self, _show: &dyn Fn(&str) -> String, _description: Option<&str>) -> Option<String> {
        None
    }

    fn uses_aws(&self) -> bool {
        true
    }

    fn permissions(&self) -> Vec<Permission<'_>> {
        let s = &self.source;
        let mut permissions = Vec::new();
        let vaults = [
            ("source.backup_vault", &s.backup_vault, s.region.as_ref()),
            ("source.dr_vault", &s.dr_vault, s.dr_region.as_ref()),
        ];
        for (field, name, region) in vaults {
            if let Some(name) = name {
                let when = if field == "source.dr_vault" {
                    "with `source.dr_vault`"
                } else {
                    "with `source.backup_vault`"
                };
                let vault = Resource::Vault { name, region };
                permissions.extend([
                    Permission::new("backup:ListRecoveryPointsByBackupVault", field, vault)
                        .when(when),
                    // The chosen point's ARN comes from the listing.
                    Permission::any("backup:DescribeRecoveryPoint").when(when),
                ]);
            }
        }
        if let Some(name) = &s.table {
            let table = Resource::Table {
                name,
                region: s.region.as_ref(),
            };
            let when = "with `source.table`";
            permissions.extend([
                Permission::new("dynamodb:DescribeContinuousBackups", "source.table", table.clone()).when(when),
                Permission::new("dynamodb:DescribeTable", "source.table", table.clone()).when(when),
                Permission::new("dynamodb:ListBackups", "source.table", table).when(when),
                Permission::any("backup:ListRecoveryPointsByResource").when(when),
                Permission::any("backup:DescribeRecoveryPoint").when(when),
            ]);
        }
        if let Some(bucket) = &s.bucket {
            let when = "with `source.bucket`";
            permissions.extend([
                Permission::new("s3:ListBucket", "source.bucket", Resource::Bucket(bucket)).when(when),
                Permission::new(
                    "s3:GetObject",
                    "source.prefix",
                    Resource::Objects {
                        bucket,
                        key: None,
                        prefix: s.prefix.as_ref(),
                    },
                )
                .when(when),
            ]);
        }
        permissions
    }

    fn headless_answer_missing(&self, id: &str, given: Option<&str>) -> Option<String> {
        (given.is_none() && self.policy == PickPolicy::Ask).then(|| format!(
            "`{id}` asks which recovery point to use: give --answer {id}=ARN (or {id}=latest), or set policy = \"latest\" in the runbook"
        ))
    }

    fn cross_field_errors(&self, step_span: Span, errors: &mut Vec<Error>) {
        self.source.check(step_span, errors);
    }

    fn check(&self, _step: &mut dyn StepChecks) {}
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "pick-vault"
kind = "pick-recovery-point"
source = { backup_vault = "v", dr_vault = "dr", dr_region = "us-west-2" }

[[step]]
id = "pick-table"
kind = "pick-recovery-point"
source = { table = "t" }

[[step]]
id = "pick-bucket"
kind = "pick-recovery-point"
source = { bucket = "b" }
"#;
