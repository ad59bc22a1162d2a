//! The step kinds of format version 1: their fields, what they change, the
//! outputs later steps can read, and the text a destructive one is
//! confirmed with.
//!
//! This module describes kinds; running them is the engine's business.

use schemars::JsonSchema;
use toml_spanner::{Error, TableHelper};

use super::diagnostic::{Code, did_you_mean};
use super::model::{
    Cipher, CipherLayout, Dur, PickPolicy, RestoreTier, Scalar, Span, Spanned, Text, TextMap,
    custom, fields, invalid,
};

/// What running a step can do to the world, for the dry-run plan and the
/// confirmation rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// Reads only.
    ReadOnly,
    /// Creates or changes something that can be undone or thrown away.
    Writes,
    /// Destroys or overwrites; always needs a typed confirmation.
    Destructive,
}

/// Declares the `StepAction` enum: one variant per kind, its TOML name, and the
/// dispatch that reads a kind's fields from the step table.
macro_rules! actions {
    ($( $(#[$m:meta])* $name:literal => $variant:ident($ty:ident) ),+ $(,)?) => {
        /// What a step does, selected by its `kind` field.
        // One per step, built once at load: boxing the larger variants would
        // buy nothing measurable and cost a deref at every use.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, JsonSchema)]
        #[serde(tag = "kind")]
        pub enum StepAction {
            $( $(#[$m])* #[serde(rename = $name)] $variant($ty), )+
        }

        /// Every kind, as written in `kind = "..."`.
        pub const KINDS: &[&str] = &[$($name),+];

        impl StepAction {
            /// The kind as written in the runbook.
            pub fn kind(&self) -> &'static str {
                match self { $( StepAction::$variant(_) => $name, )+ }
            }

            /// Reads the fields of `kind` from the step table. An unknown
            /// kind is reported in `th.errors` and yields `None`.
            pub(crate) fn read(kind: &Spanned<String>, th: &mut TableHelper<'_, '_, '_>) -> Option<Self> {
                match kind.value.as_str() {
                    $( $name => $ty::read(th).map(StepAction::$variant), )+
                    other => {
                        th.ctx.push_error(unknown_kind(other, kind.span));
                        None
                    }
                }
            }

            /// The field names of `kind`, if it exists.
            pub fn fields_of(kind: &str) -> Option<&'static [&'static str]> {
                match kind { $( $name => Some($ty::FIELDS), )+ _ => None }
            }
        }
    };
}

fn unknown_kind(kind: &str, span: Span) -> Error {
    let help = match did_you_mean(kind, KINDS.iter().copied()) {
        Some(close) => format!(
            "did you mean `{close}`? The kinds are: {}",
            KINDS.join(", ")
        ),
        None => format!("the kinds are: {}", KINDS.join(", ")),
    };
    custom(
        Code::UnknownKind,
        span,
        format!("unknown step kind `{kind}`"),
        help,
    )
}

actions! {
    /// Run a command with `sh -c`.
    "shell" => Shell(Shell),
    /// Show instructions; the operator acknowledges, optionally answering a question.
    "manual" => Manual(Manual),
    /// A gate: an operator approves before the run goes on.
    "approve" => Approve(Approve),
    /// Wait for a fixed time, or until a probe command succeeds.
    "wait" => Wait(Wait),
    /// Assert on values, usually outputs of earlier steps.
    "check" => Check(Check),
    /// Choose the recovery point to restore from.
    "pick-recovery-point" => PickRecoveryPoint(PickRecoveryPoint),
    /// AWS Backup: start a restore job and follow it to the end.
    "backup.restore" => BackupRestore(BackupRestore),
    /// AWS Backup: copy a recovery point to another vault, e.g. DR back to primary.
    "backup.copy" => BackupCopy(BackupCopy),
    /// AWS Backup: describe a vault and assert its lock and retention.
    "backup.vault-posture" => BackupVaultPosture(BackupVaultPosture),
    /// AWS Backup: read the region's settings (service opt-in, full management) and assert them.
    "backup.region-settings" => BackupRegionSettings(BackupRegionSettings),
    /// AWS Backup: count the copy jobs of a recent window and assert on them.
    "backup.copy-jobs" => BackupCopyJobs(BackupCopyJobs),
    /// AWS Backup: remove a vault lock (destructive).
    "backup.delete-vault-lock" => BackupDeleteVaultLock(BackupDeleteVaultLock),
    /// AWS Backup: delete one recovery point, or all of a vault's (destructive).
    "backup.delete-recovery-point" => BackupDeleteRecoveryPoint(BackupDeleteRecoveryPoint),
    /// DynamoDB: restore an on-demand backup into a new table.
    "dynamodb.restore-from-backup" => DynamodbRestoreFromBackup(DynamodbRestoreFromBackup),
    /// DynamoDB: point-in-time restore into a new table.
    "dynamodb.restore-to-point-in-time" => DynamodbRestoreToPointInTime(DynamodbRestoreToPointInTime),
    /// DynamoDB: wait until a table is ACTIVE.
    "dynamodb.wait-active" => DynamodbWaitActive(DynamodbWaitActive),
    /// DynamoDB: count items with a parallel scan.
    "dynamodb.count" => DynamodbCount(DynamodbCount),
    /// DynamoDB: read the point-in-time recovery status and window.
    "dynamodb.pitr-status" => DynamodbPitrStatus(DynamodbPitrStatus),
    /// DynamoDB: copy every item of one table into another (the cutover).
    "dynamodb.copy-table" => DynamodbCopyTable(DynamodbCopyTable),
    /// DynamoDB: delete a table, e.g. the restored one after a drill (destructive).
    "dynamodb.delete-table" => DynamodbDeleteTable(DynamodbDeleteTable),
    /// S3: read an object's metadata, storage class and restore state.
    "s3.head" => S3Head(S3Head),
    /// S3: restore an archived object (Glacier, Deep Archive) and wait for it.
    "s3.restore-object" => S3RestoreObject(S3RestoreObject),
    /// S3: download an object to a local file.
    "s3.download" => S3Download(S3Download),
    /// S3: verify an object's SHA-256 against its metadata or a manifest.
    "s3.verify-checksum" => S3VerifyChecksum(S3VerifyChecksum),
    /// Decrypt a local file (AES-256-GCM), checking its authentication tag.
    "file.decrypt" => FileDecrypt(FileDecrypt),
}

impl StepAction {
    /// Whether the kind acts on AWS (or the simulated world).
    pub fn uses_aws(&self) -> bool {
        !matches!(
            self,
            StepAction::Shell(_)
                | StepAction::Manual(_)
                | StepAction::Approve(_)
                | StepAction::Wait(_)
                | StepAction::Check(_)
                | StepAction::FileDecrypt(_)
        )
    }

    /// What running this kind can do.
    pub fn effect(&self) -> Effect {
        use StepAction::*;
        match self {
            Manual(_)
            | Approve(_)
            | Wait(_)
            | Check(_)
            | PickRecoveryPoint(_)
            | BackupVaultPosture(_)
            | BackupRegionSettings(_)
            | BackupCopyJobs(_)
            | DynamodbWaitActive(_)
            | DynamodbCount(_)
            | DynamodbPitrStatus(_)
            | S3Head(_)
            | S3VerifyChecksum(_) => Effect::ReadOnly,
            Shell(_)
            | BackupRestore(_)
            | BackupCopy(_)
            | DynamodbRestoreFromBackup(_)
            | DynamodbRestoreToPointInTime(_)
            | S3RestoreObject(_)
            | S3Download(_)
            | FileDecrypt(_) => Effect::Writes,
            BackupDeleteVaultLock(_)
            | BackupDeleteRecoveryPoint(_)
            | DynamodbCopyTable(_)
            | DynamodbDeleteTable(_) => Effect::Destructive,
        }
    }

    /// The outputs later steps can read as `{{ steps.ID.NAME }}`.
    pub fn outputs(&self) -> Vec<&str> {
        use StepAction::*;
        let fixed: &[&str] = match self {
            Shell(s) => {
                let mut names: Vec<&str> = s.outputs.iter().map(|o| o.value.as_str()).collect();
                names.push("exit_code");
                return names;
            }
            Manual(_) => &["answer", "acknowledged_by"],
            Approve(_) => &["approved_by", "approved_at"],
            Wait(_) => &["attempts"],
            Check(_) => &[],
            PickRecoveryPoint(_) => &[
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
            ],
            BackupRestore(_) => &["job_id", "status", "created_resource_arn", "completed_at"],
            BackupCopy(_) => &["job_id", "status", "destination_recovery_point_arn"],
            BackupVaultPosture(_) => &[
                "locked",
                "min_retention_days",
                "max_retention_days",
                "lock_date",
                "recovery_points",
            ],
            BackupRegionSettings(_) => &["opted_in", "fully_managed"],
            BackupCopyJobs(_) => &["total", "completed", "failed", "running", "newest_failure"],
            BackupDeleteVaultLock(_) => &[],
            BackupDeleteRecoveryPoint(_) => &["deleted"],
            DynamodbRestoreFromBackup(_) => &["table_name", "table_arn"],
            DynamodbRestoreToPointInTime(_) => &["table_name", "table_arn", "restore_time"],
            DynamodbWaitActive(_) => &["status", "item_count"],
            DynamodbCount(_) => &["items"],
            DynamodbPitrStatus(_) => &["status", "earliest_restorable", "latest_restorable"],
            DynamodbCopyTable(_) => &["items_read", "items_written"],
            DynamodbDeleteTable(_) => &["table_arn", "status"],
            S3Head(_) => &[
                "size_bytes",
                "etag",
                "last_modified",
                "storage_class",
                "restore_status",
                "sha256",
                "version_id",
                "object_lock_mode",
                "retain_until",
            ],
            S3RestoreObject(r) if r.prefix.is_some() => &["status", "expires_at", "objects"],
            S3RestoreObject(_) => &["status", "expires_at"],
            S3Download(d) if d.prefix.is_some() => &["path", "objects", "size_bytes", "verified"],
            S3Download(_) => &["path", "size_bytes", "sha256"],
            S3VerifyChecksum(_) => &["sha256", "expected", "source"],
            FileDecrypt(_) => &["path", "size_bytes", "sha256"],
        };
        fixed.to_vec()
    }

    /// The resource a destructive kind acts on, which the operator types
    /// to confirm when the step sets no `confirm`.
    pub fn confirm_target(&self) -> Option<&Text> {
        match self {
            StepAction::BackupDeleteVaultLock(a) => Some(&a.backup_vault),
            StepAction::BackupDeleteRecoveryPoint(a) => {
                Some(a.recovery_point.as_ref().unwrap_or(&a.backup_vault))
            }
            StepAction::DynamodbCopyTable(a) => Some(&a.to),
            StepAction::DynamodbDeleteTable(a) => Some(&a.table),
            StepAction::DynamodbRestoreFromBackup(a) => Some(&a.target_table),
            StepAction::DynamodbRestoreToPointInTime(a) => Some(&a.target_table),
            StepAction::S3Download(a) => Some(&a.to),
            StepAction::FileDecrypt(a) => Some(&a.to),
            _ => None,
        }
    }

    /// Checks that need more than one field: exactly one of a set, and
    /// value ranges. Reported as errors at the offending field.
    pub(crate) fn cross_field_errors(&self, step_span: Span) -> Vec<Error> {
        let mut errors = Vec::new();
        match self {
            StepAction::Wait(w) => {
                let given = [w.run.is_some(), w.duration.is_some(), w.until.is_some()];
                if given.iter().filter(|g| **g).count() != 1 {
                    errors.push(custom(
                        Code::Conflict,
                        w.run.as_ref().map_or(step_span, |r| r.span),
                        "a wait step needs exactly one of `run` (a probe command), `duration` or `until` (an AWS resource state)",
                        "write `duration = \"5m\"` to wait a fixed time, `run = \"...\"` for a command that succeeds when the wait is over, or `until = { table = \"...\" }`",
                    ));
                }
                if let Some(u) = &w.until {
                    u.check(step_span, &mut errors);
                }
            }
            StepAction::Check(c) => {
                if c.assert.is_empty() {
                    errors.push(invalid(
                        step_span,
                        "a check step has no assertions",
                        "add `assert = [{ value = \"{{ steps.count.items }}\", at_least = 1 }]`",
                    ));
                }
                for a in &c.assert {
                    let ops = a.operators();
                    if ops.len() != 1 {
                        errors.push(invalid(
                            a.value.span,
                            format!(
                                "an assertion needs exactly one of {}; found {}",
                                Assertion::OPERATORS.join(", "),
                                if ops.is_empty() {
                                    "none".to_string()
                                } else {
                                    ops.join(", ")
                                }
                            ),
                            "split it into one assertion per comparison",
                        ));
                    }
                }
            }
            StepAction::PickRecoveryPoint(p) => p.source.check(step_span, &mut errors),
            StepAction::BackupDeleteRecoveryPoint(d) if d.recovery_point.is_some() == d.all => {
                errors.push(custom(
                    Code::Conflict,
                    d.backup_vault.span,
                    "give exactly one of `recovery_point` (one ARN) or `all = true` (every point in the vault)",
                    "write `recovery_point = \"{{ steps.pick.arn }}\"` or `all = true`",
                ));
            }
            StepAction::DynamodbCopyTable(c) => {
                // The same text, or the same templates, name the same table.
                if super::template::same(&c.from.value, &c.to.value) {
                    errors.push(custom(
                        Code::Conflict,
                        c.to.span,
                        format!("`from` and `to` are the same table `{}`", c.to.value),
                        "copy from the restored table into the live one, e.g. from = \"{{ params.restored }}\", to = \"{{ params.table }}\"",
                    ));
                }
                positive(c.segments.as_ref(), &mut errors);
            }
            StepAction::DynamodbCount(c) => positive(c.segments.as_ref(), &mut errors),
            StepAction::S3RestoreObject(r) => {
                if let Some(days) = r.days.as_ref().filter(|d| !d.value.contains("{{"))
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
                key_or_prefix(&r.key, &r.prefix, &r.version_id, step_span, &mut errors);
            }
            StepAction::S3Download(d) => {
                key_or_prefix(&d.key, &d.prefix, &d.version_id, step_span, &mut errors);
                if let (Some(from), None) = (&d.from_key, &d.prefix) {
                    errors.push(custom(
                        Code::InvalidValue,
                        from.span,
                        "`from_key` narrows a `prefix` download; this step downloads one `key`",
                        "remove `from_key`, or download a `prefix` from that key on",
                    ));
                }
            }
            StepAction::FileDecrypt(d) if super::template::same(&d.from.value, &d.to.value) => {
                errors.push(custom(
                    Code::Conflict,
                    d.to.span,
                    format!("`from` and `to` are the same file `{}`", d.to.value),
                    "write the plaintext to another file, e.g. to = \"vault.snap\"",
                ));
            }
            _ => {}
        }
        errors
    }
}

/// An S3 step on one object (`key`) or on every object under `prefix`:
/// exactly one of them, and `version_id` with `key` only.
fn key_or_prefix(
    key: &Option<Text>,
    prefix: &Option<Text>,
    version_id: &Option<Text>,
    step_span: Span,
    errors: &mut Vec<Error>,
) {
    match (key, prefix) {
        (Some(_), Some(p)) => errors.push(custom(
            Code::Conflict,
            p.span,
            "give exactly one of `key` (one object) or `prefix` (every object under it), not both",
            "remove `prefix` to act on the one object, or `key` to act on everything under the prefix",
        )),
        (None, None) => errors.push(custom(
            Code::Conflict,
            step_span,
            "this step needs exactly one of `key` (one object) or `prefix` (every object under it)",
            "e.g. key = \"{{ steps.pick.key }}\" or prefix = \"media/\"",
        )),
        _ => {}
    }
    if let (Some(v), Some(_)) = (version_id, prefix) {
        errors.push(invalid(
            v.span,
            "`version_id` applies to one object (`key`), not to a `prefix`",
            "remove `version_id`; a prefix acts on the current version of each object",
        ));
    }
}

fn positive(n: Option<&Spanned<u32>>, errors: &mut Vec<Error>) {
    if let Some(n) = n.filter(|n| n.value == 0) {
        errors.push(invalid(
            n.span,
            "must be at least 1",
            "remove the field to use the default",
        ));
    }
}

fields! {
    /// `kind = "shell"`.
    pub struct Shell {
                /// The command, run with `sh -c`. Template values reach it through
        /// environment variables: each arrives verbatim, as one word, and
        /// executes nothing.
        run: Text = req,
        /// Extra environment variables (templates allowed, not quoted).
        #[serde(default)]
        env: TextMap = def,
        /// Working directory; defaults to the run's directory.
        cwd: Option<Text> = opt,
        /// Names of the outputs the command sets by writing `NAME=VALUE`
        /// lines to the file named by `$DR_DRILL_OUTPUT`.
        #[serde(default)]
        outputs: Vec<Spanned<String>> = def,
    }
}

fields! {
    /// `kind = "manual"`.
    pub struct Manual {
        /// What the operator must do (Markdown; templates allowed).
        instructions: Text = req,
        /// A question whose answer becomes the output `answer`.
        question: Option<Text> = opt,
        /// The answers allowed to `question`.
        #[serde(default)]
        choices: Vec<Spanned<String>> = def,
    }
}

fields! {
    /// `kind = "approve"`.
    pub struct Approve {
        /// What is being approved.
        instructions: Option<Text> = opt,
    }
}

fields! {
    /// What an AWS wait waits for: exactly one of a table status, a restore
    /// job, a copy job, or an archived object's restore.
    pub struct WaitUntil {
        /// A DynamoDB table, until it has `status`.
        table: Option<Text> = opt,
        /// The table status to wait for (default `ACTIVE`).
        status: Option<Text> = opt,
        /// An AWS Backup restore job id, until it completes.
        restore_job: Option<Text> = opt,
        /// An AWS Backup copy job id, until it completes.
        copy_job: Option<Text> = opt,
        /// Bucket of an archived S3 object, until its restore is ready.
        bucket: Option<Text> = opt,
        /// Key of that object.
        key: Option<Text> = opt,
        /// Region of the resource.
        region: Option<Text> = opt,
    }
}

impl WaitUntil {
    fn check(&self, step_span: Span, errors: &mut Vec<Error>) {
        let given = [
            self.table.is_some(),
            self.restore_job.is_some(),
            self.copy_job.is_some(),
            self.bucket.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            errors.push(custom(
                Code::Conflict,
                step_span,
                "`until` needs exactly one of `table`, `restore_job`, `copy_job` or `bucket`",
                "e.g. until = { table = \"{{ params.restored }}\", status = \"ACTIVE\" } or until = { restore_job = \"{{ steps.restore.job_id }}\" }",
            ));
        }
        if let (Some(s), None) = (&self.status, &self.table) {
            errors.push(invalid(
                s.span,
                "`status` applies to a `table` wait only",
                "remove it, or wait for a table",
            ));
        }
        match (&self.bucket, &self.key) {
            (Some(b), None) => errors.push(invalid(
                b.span,
                "an object wait needs `key` beside `bucket`",
                "add key = \"...\"",
            )),
            (None, Some(k)) => errors.push(invalid(
                k.span,
                "`key` applies to an object wait only",
                "add `bucket`, or remove `key`",
            )),
            _ => {}
        }
    }
}

fields! {
    /// `kind = "wait"`.
    pub struct Wait {
        /// A probe command; the wait ends when it exits 0.
        run: Option<Text> = opt,
        /// A fixed time to wait instead of a probe.
        duration: Option<Spanned<Dur>> = opt,
        /// An AWS resource state to wait for instead of a command.
        until: Option<WaitUntil> = opt,
        /// Time between probes (default 15s); grows by half after each
        /// failed probe up to four times this value.
        interval: Option<Spanned<Dur>> = opt,
    }
}

fields! {
    /// One assertion of a check step: a value and one comparison.
    pub struct Assertion {
        /// The value under test, usually `{{ steps.ID.OUTPUT }}`.
        value: Scalar = req,
        /// Equal as text.
        equals: Option<Scalar> = opt,
        /// Different as text.
        not_equals: Option<Scalar> = opt,
        /// At least this number.
        at_least: Option<Scalar> = opt,
        /// At most this number.
        at_most: Option<Scalar> = opt,
        /// Matches this regular expression.
        matches: Option<Scalar> = opt,
        /// The value is an RFC 3339 time no older than this.
        younger_than: Option<Spanned<Dur>> = opt,
        /// Shown when the assertion fails.
        message: Option<String> = opt,
    }
}

impl Assertion {
    /// The comparison field names.
    pub const OPERATORS: &'static [&'static str] = &[
        "equals",
        "not_equals",
        "at_least",
        "at_most",
        "matches",
        "younger_than",
    ];

    fn operators(&self) -> Vec<&'static str> {
        let present = [
            self.equals.is_some(),
            self.not_equals.is_some(),
            self.at_least.is_some(),
            self.at_most.is_some(),
            self.matches.is_some(),
            self.younger_than.is_some(),
        ];
        Self::OPERATORS
            .iter()
            .zip(present)
            .filter_map(|(name, here)| here.then_some(*name))
            .collect()
    }
}

fields! {
    /// `kind = "check"`.
    pub struct Check {
                /// The assertions; all must hold.
        assert: Vec<Assertion> = req,
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
        /// `ask` (the operator picks) or `latest`.
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
    }
}

fields! {
    /// `kind = "backup.restore"`.
    pub struct BackupRestore {
        /// Vault holding the recovery point.
        backup_vault: Text = req,
        /// Recovery point ARN, usually `{{ steps.pick.arn }}`.
        recovery_point: Text = req,
        /// IAM role AWS Backup assumes for the restore.
        iam_role_arn: Text = req,
        /// Overrides merged over the point's restore metadata, e.g.
        /// `{ targetTableName = "..." }` or EFS `itemsToRestore`.
        #[serde(default)]
        metadata: TextMap = def,
        /// Resource type when AWS Backup cannot infer it.
        resource_type: Option<Text> = opt,
        /// Region of the vault.
        region: Option<Text> = opt,
    }
}

fields! {
    /// `kind = "backup.copy"`.
    pub struct BackupCopy {
        /// Vault holding the recovery point.
        source_vault: Text = req,
        /// Recovery point ARN to copy.
        recovery_point: Text = req,
        /// ARN of the destination vault.
        destination_vault_arn: Text = req,
        /// IAM role AWS Backup assumes for the copy.
        iam_role_arn: Text = req,
        /// Region of the source vault.
        region: Option<Text> = opt,
    }
}

fields! {
    /// What a vault posture check expects.
    pub struct VaultExpectation {
        /// The vault lock is on.
        locked: Option<bool> = opt,
        /// The lock's minimum retention in days is at least this.
        min_retention_days: Option<u32> = opt,
        /// At least this many recovery points are in the vault.
        recovery_points_at_least: Option<u32> = opt,
        /// The newest recovery point is younger than this.
        newest_younger_than: Option<Spanned<Dur>> = opt,
    }
}

fields! {
    /// `kind = "backup.vault-posture"`.
    pub struct BackupVaultPosture {
        /// Vault to describe.
        backup_vault: Text = req,
        /// Region of the vault.
        region: Option<Text> = opt,
        /// Assertions on the vault.
        expect: Option<VaultExpectation> = opt,
    }
}

fields! {
    /// `kind = "backup.region-settings"`.
    pub struct BackupRegionSettings {
        /// Resource types that must be opted in to AWS Backup in the region
        /// (ResourceTypeOptInPreference), e.g. `["DynamoDB", "EFS"]`.
        #[serde(default)]
        expect_opt_in: Vec<Spanned<String>> = def,
        /// Resource types whose backups AWS Backup must fully manage
        /// (ResourceTypeManagementPreference); `DynamoDB` is the advanced
        /// DynamoDB backup features that cross-region copies need.
        #[serde(default)]
        expect_full_management: Vec<Spanned<String>> = def,
        /// Region whose settings are read.
        region: Option<Text> = opt,
    }
}

fields! {
    /// What `backup.copy-jobs` expects of the window's copy jobs.
    pub struct CopyJobsExpectation {
        /// At least this many completed.
        completed_at_least: Option<u32> = opt,
        /// At most this many failed (or ended partial, aborted or expired).
        failed_at_most: Option<u32> = opt,
    }
}

fields! {
    /// `kind = "backup.copy-jobs"`.
    pub struct BackupCopyJobs {
        /// How far back to look: jobs created within this long before now
        /// (default 24 hours).
        within: Option<Spanned<Dur>> = opt,
        /// Only jobs copying points of this resource type (`DynamoDB`, `EFS`, ...).
        resource_type: Option<Text> = opt,
        /// Only jobs into this vault (its ARN).
        destination_vault_arn: Option<Text> = opt,
        /// Region the jobs ran in (the source vault's).
        region: Option<Text> = opt,
        /// Assertions on the counts; without it the step only reports.
        expect: Option<CopyJobsExpectation> = opt,
    }
}

fields! {
    /// `kind = "backup.delete-vault-lock"`.
    pub struct BackupDeleteVaultLock {
        /// Vault whose lock is removed.
        backup_vault: Text = req,
        /// Region of the vault.
        region: Option<Text> = opt,
    }
}

fields! {
    /// `kind = "backup.delete-recovery-point"`.
    pub struct BackupDeleteRecoveryPoint {
        /// Vault holding the points.
        backup_vault: Text = req,
        /// One recovery point ARN.
        recovery_point: Option<Text> = opt,
        /// Every recovery point in the vault.
        #[serde(default)]
        all: bool = def,
        /// Region of the vault.
        region: Option<Text> = opt,
    }
}

fields! {
    /// `kind = "dynamodb.restore-from-backup"`.
    pub struct DynamodbRestoreFromBackup {
        /// DynamoDB backup ARN.
        backup_arn: Text = req,
        /// New table to create.
        target_table: Text = req,
        /// Region.
        region: Option<Text> = opt,
    }
}

fields! {
    /// `kind = "dynamodb.restore-to-point-in-time"`.
    pub struct DynamodbRestoreToPointInTime {
        /// Table with PITR enabled.
        source_table: Text = req,
        /// New table to create.
        target_table: Text = req,
        /// Time to restore to: an RFC 3339 date-time (quoted or not) or a
        /// template; the latest restorable time if absent, empty or `latest`.
        restore_time: Option<Scalar> = opt,
        /// Region.
        region: Option<Text> = opt,
    }
}

fields! {
    /// `kind = "dynamodb.wait-active"`.
    pub struct DynamodbWaitActive {
        /// Table to wait for.
        table: Text = req,
        /// Region.
        region: Option<Text> = opt,
    }
}

fields! {
    /// `kind = "dynamodb.count"`.
    pub struct DynamodbCount {
        /// Table to count.
        table: Text = req,
        /// Parallel scan segments (default 4).
        segments: Option<Spanned<u32>> = opt,
        /// Region.
        region: Option<Text> = opt,
    }
}

fields! {
    /// `kind = "dynamodb.pitr-status"`.
    pub struct DynamodbPitrStatus {
        /// Table to inspect.
        table: Text = req,
        /// Fail unless PITR is enabled.
        #[serde(default)]
        expect_enabled: bool = def,
        /// Region.
        region: Option<Text> = opt,
    }
}

fields! {
    /// `kind = "dynamodb.copy-table"`.
    pub struct DynamodbCopyTable {
        /// Table to read (usually the restored one).
        from: Text = req,
        /// Table to write into (usually the live one).
        to: Text = req,
        /// Parallel scan segments (default 4).
        segments: Option<Spanned<u32>> = opt,
        /// Region.
        region: Option<Text> = opt,
    }
}

fields! {
    /// `kind = "dynamodb.delete-table"`.
    pub struct DynamodbDeleteTable {
        /// Table to delete.
        table: Text = req,
        /// Region.
        region: Option<Text> = opt,
    }
}

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
        /// Days the restored copy stays available (default 7): a whole
        /// number, or a template that gives one.
        days: Option<Scalar> = opt,
        /// Region.
        region: Option<Text> = opt,
    }
}

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

fields! {
    /// `kind = "file.decrypt"`.
    pub struct FileDecrypt {
        /// The encrypted file; relative paths are under the run directory.
        from: Text = req,
        /// The plaintext file to write; relative paths are under the run
        /// directory.
        to: Text = req,
        /// The cipher.
        cipher: Cipher = req,
        /// Where the file keeps the IV and the tag.
        #[serde(default)]
        layout: CipherLayout = def,
        /// The 32-byte key as 64 hex digits or base64: a secret parameter,
        /// `{{ params.NAME }}`.
        key: Text = req,
    }
}
