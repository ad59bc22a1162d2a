//! The step kinds of format version 1. Each kind is one file here: its
//! fields (read from TOML and described to the JSON Schema by `fields!`) and
//! its rules, an impl of [`KindRules`] whose methods have no defaults, so a
//! kind cannot be added without saying what it changes, what it outputs,
//! what it asks and what it calls on AWS. Each file also holds an
//! `EXAMPLE` step for the tests (`tests.rs` holds every kind's IAM actions
//! to `docs/aws.md`). The `actions!` list below names each kind once.
//!
//! This module describes kinds; running them is the engine's business
//! (`engine::runner`). It never imports `runbook::model`.

mod permission;
#[cfg(test)]
mod tests;

use schemars::JsonSchema;
use toml_spanner::{Error, TableHelper};

use super::diagnostic::{Code, Diagnostic, did_you_mean};
use super::field::{Dur, Span, Spanned, Text, custom, invalid};

pub use approve::{Named, read_named};
pub use backup_copy::{CopyLifecycle, CopyRetention, RetentionDays, copy_retention};
pub use backup_copy_jobs::CopyJobsExpectation;
pub use backup_delete_recovery_point::CONTINUOUS_REFUSED;
pub use backup_vault_posture::VaultExpectation;
pub use check::Assertion;
pub use file_decrypt::{Cipher, CipherLayout};
pub use permission::{IAM_TABLE_BEGIN, IAM_TABLE_END, Permission, Resource, iam_table};
pub use pick_recovery_point::{PickPolicy, RecoverySource};
pub use s3_restore_object::RestoreTier;
pub use shell::{Constraint, POSTGRES_SERVER, Requirement, Version, VersionOp};
pub use wait::WaitUntil;

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

/// The rules of one step kind, written beside its fields. No method has a
/// default: a new kind answers every question or does not compile.
pub trait KindRules {
    /// What running a step of this kind can do.
    fn effect(&self) -> Effect;

    /// The outputs later steps can read as `{{ steps.ID.NAME }}`.
    fn outputs(&self) -> Vec<&str>;

    /// The resource a destructive kind acts on, which the operator types
    /// to confirm when the step sets no `confirm`.
    fn confirm_target(&self) -> Option<&Text>;

    /// What the step polls until it is done, for the kinds whose polling
    /// only the step's `timeout` ends (a job that never finishes, a table
    /// name with a typo); `None` for the others.
    fn polled_until_done(&self) -> Option<&'static str>;

    /// The output holding the time of the recovery point the step restores
    /// from, when the step measures the run's RPO.
    fn rpo_field(&self) -> Option<&'static str>;

    /// What a step of this kind changes, in words, for its confirmation.
    /// `show` resolves a text as far as it can be; `description` is the
    /// step's own. `None` says only that the step runs.
    fn change(&self, show: &dyn Fn(&str) -> String, description: Option<&str>) -> Option<String>;

    /// Whether the kind acts on AWS (or the simulated world) by itself.
    fn uses_aws(&self) -> bool;

    /// The IAM actions a step of this kind calls, given its fields, each
    /// with the resource it acts on (`docs/aws.md`'s table is generated
    /// from them; preflight asks IAM about them), e.g.
    /// `backup:StartRestoreJob` on the recovery point.
    fn permissions(&self) -> Vec<Permission<'_>>;

    /// What a headless run of step `id` lacks, given its `--answer` (if
    /// any); `None` when nothing is missing.
    fn headless_answer_missing(&self, id: &str, given: Option<&str>) -> Option<String>;

    /// Checks across the kind's own fields, made while reading: exactly one
    /// of a set, value ranges. Reported at the offending field.
    fn cross_field_errors(&self, step_span: Span, errors: &mut Vec<Error>);

    /// Checks that need the rest of the runbook (parameters, the step's
    /// timeout), made once the runbook reads cleanly.
    fn check(&self, step: &mut dyn StepChecks);
}

/// What a kind's [`KindRules::check`] can ask of the validator, about the
/// step being checked.
pub trait StepChecks {
    /// The step's `timeout`.
    fn timeout(&self) -> Option<&Spanned<Dur>>;
    /// Reports a finding.
    fn push(&mut self, diagnostic: Diagnostic);
    /// Reports the second and later occurrences of a value in `items`.
    fn no_repeats(&mut self, what: &str, items: &[Spanned<String>]);
    /// Reports a name that is not a valid id.
    fn check_id(&mut self, what: &str, id: &Spanned<String>);
    /// Reports templates inside single quotes in a shell command.
    fn shell_quoting(&mut self, command: &Text);
    /// Reports a decryption key that is not exactly one secret parameter.
    fn secret_key(&mut self, key: &Text);
}

/// Declares the kinds: each one's module (`module::Type` holds its fields
/// and its [`KindRules`]), the `StepAction` enum with one variant per kind
/// and its TOML name, the dispatch that reads a kind's fields from the step
/// table, and the dispatch to the kind's rules.
macro_rules! actions {
    ($( $(#[$m:meta])* $name:literal => $module:ident :: $ty:ident ),+ $(,)?) => {
        $( mod $module; pub use $module::$ty; )+

        /// Every kind's example steps, for the tests.
        #[cfg(test)]
        const EXAMPLES: &[&str] = &[$($module::EXAMPLE),+];

        /// What a step does, selected by its `kind` field.
        // One per step, built once at load: boxing the larger variants would
        // buy nothing measurable and cost a deref at every use.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, JsonSchema)]
        #[serde(tag = "kind")]
        pub enum StepAction {
            $( $(#[$m])* #[serde(rename = $name)] $ty($ty), )+
        }

        /// Every kind, as written in `kind = "..."`.
        pub const KINDS: &[&str] = &[$($name),+];

        impl StepAction {
            /// The kind as written in the runbook.
            pub fn kind(&self) -> &'static str {
                match self { $( StepAction::$ty(_) => $name, )+ }
            }

            /// The rules of this step's kind.
            pub fn rules(&self) -> &dyn KindRules {
                match self { $( StepAction::$ty(a) => a as &dyn KindRules, )+ }
            }

            /// Reads the fields of `kind` from the step table. An unknown
            /// kind is reported in `th.errors` and yields `None`.
            pub(crate) fn read(kind: &Spanned<String>, th: &mut TableHelper<'_, '_, '_>) -> Option<Self> {
                match kind.value.as_str() {
                    $( $name => $ty::read(th).map(StepAction::$ty), )+
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
    "shell" => shell::Shell,
    /// Show instructions; the operator acknowledges, optionally answering a question.
    "manual" => manual::Manual,
    /// A gate: an operator approves before the run goes on.
    "approve" => approve::Approve,
    /// Wait for a fixed time, or until a probe command succeeds.
    "wait" => wait::Wait,
    /// Assert on values, usually outputs of earlier steps.
    "check" => check::Check,
    /// Choose the recovery point to restore from.
    "pick-recovery-point" => pick_recovery_point::PickRecoveryPoint,
    /// AWS Backup: start a restore job and follow it to the end.
    "backup.restore" => backup_restore::BackupRestore,
    /// AWS Backup: copy a recovery point to another vault, e.g. DR back to primary.
    "backup.copy" => backup_copy::BackupCopy,
    /// AWS Backup: describe a vault and assert its lock and retention.
    "backup.vault-posture" => backup_vault_posture::BackupVaultPosture,
    /// AWS Backup: read the region's settings (service opt-in, full management) and assert them.
    "backup.region-settings" => backup_region_settings::BackupRegionSettings,
    /// AWS Backup: count the copy jobs of a recent window and assert on them.
    "backup.copy-jobs" => backup_copy_jobs::BackupCopyJobs,
    /// AWS Backup: remove a vault lock (destructive).
    "backup.delete-vault-lock" => backup_delete_vault_lock::BackupDeleteVaultLock,
    /// AWS Backup: delete one recovery point, or all of a vault's (destructive).
    "backup.delete-recovery-point" => backup_delete_recovery_point::BackupDeleteRecoveryPoint,
    /// DynamoDB: restore an on-demand backup into a new table.
    "dynamodb.restore-from-backup" => dynamodb_restore_from_backup::DynamodbRestoreFromBackup,
    /// DynamoDB: point-in-time restore into a new table.
    "dynamodb.restore-to-point-in-time" => dynamodb_restore_to_point_in_time::DynamodbRestoreToPointInTime,
    /// DynamoDB: wait until a table is ACTIVE.
    "dynamodb.wait-active" => dynamodb_wait_active::DynamodbWaitActive,
    /// DynamoDB: count items with a parallel scan.
    "dynamodb.count" => dynamodb_count::DynamodbCount,
    /// DynamoDB: read the point-in-time recovery status and window.
    "dynamodb.pitr-status" => dynamodb_pitr_status::DynamodbPitrStatus,
    /// DynamoDB: copy every item of one table into another (the cutover).
    "dynamodb.copy-table" => dynamodb_copy_table::DynamodbCopyTable,
    /// DynamoDB: delete a table, e.g. the restored one after a drill (destructive).
    "dynamodb.delete-table" => dynamodb_delete_table::DynamodbDeleteTable,
    /// S3: read an object's metadata, storage class and restore state.
    "s3.head" => s3_head::S3Head,
    /// S3: restore an archived object (Glacier, Deep Archive) and wait for it.
    "s3.restore-object" => s3_restore_object::S3RestoreObject,
    /// S3: download an object to a local file.
    "s3.download" => s3_download::S3Download,
    /// S3: verify an object's SHA-256 against its metadata or a manifest.
    "s3.verify-checksum" => s3_verify_checksum::S3VerifyChecksum,
    /// Decrypt a local file (AES-256-GCM), checking its authentication tag.
    "file.decrypt" => file_decrypt::FileDecrypt,
}

impl StepAction {
    /// Whether the kind acts on AWS (or the simulated world).
    pub fn uses_aws(&self) -> bool {
        self.rules().uses_aws()
    }

    /// What running this kind can do.
    pub fn effect(&self) -> Effect {
        self.rules().effect()
    }

    /// The outputs later steps can read as `{{ steps.ID.NAME }}`.
    pub fn outputs(&self) -> Vec<&str> {
        self.rules().outputs()
    }

    /// The resource a destructive kind acts on, which the operator types
    /// to confirm when the step sets no `confirm`.
    pub fn confirm_target(&self) -> Option<&Text> {
        self.rules().confirm_target()
    }

    /// What the step polls until it is done, when only its `timeout` ends
    /// the polling.
    pub fn polled_until_done(&self) -> Option<&'static str> {
        self.rules().polled_until_done()
    }

    /// The output holding the time of the recovery point that measures the
    /// run's RPO, if this step measures it.
    pub fn rpo_field(&self) -> Option<&'static str> {
        self.rules().rpo_field()
    }

    /// What the step changes, in words, for its confirmation; `show`
    /// resolves a text as far as it can be.
    pub fn change(&self, show: &dyn Fn(&str) -> String, description: Option<&str>) -> String {
        self.rules()
            .change(show, description)
            .unwrap_or_else(|| format!("the `{}` step runs", self.kind()))
    }

    /// The IAM actions the step calls, each on its resource.
    pub fn permissions(&self) -> Vec<Permission<'_>> {
        self.rules().permissions()
    }

    /// The IAM actions the step calls, each once, e.g.
    /// `backup:StartRestoreJob`.
    pub fn aws_actions(&self) -> Vec<&'static str> {
        let mut actions: Vec<&'static str> = Vec::new();
        for p in self.permissions() {
            if !actions.contains(&p.action) {
                actions.push(p.action);
            }
        }
        actions
    }

    /// What a headless run of step `id` lacks, given its `--answer`.
    pub fn headless_answer_missing(&self, id: &str, given: Option<&str>) -> Option<String> {
        self.rules().headless_answer_missing(id, given)
    }

    /// Checks that need more than one field: exactly one of a set, and
    /// value ranges. Reported as errors at the offending field.
    pub(crate) fn cross_field_errors(&self, step_span: Span) -> Vec<Error> {
        let mut errors = Vec::new();
        self.rules().cross_field_errors(step_span, &mut errors);
        errors
    }

    /// The kind's checks that need the rest of the runbook.
    pub fn check(&self, step: &mut dyn StepChecks) {
        self.rules().check(step)
    }
}

/// Shows a region as ` in REGION`, or nothing.
fn in_region(show: &dyn Fn(&str) -> String, region: &Option<Text>) -> String {
    region
        .as_ref()
        .map(|r| format!(" in {}", show(&r.value)))
        .unwrap_or_default()
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

/// `s3:GetObject` on `objects`, and `s3:GetObjectVersion` for a
/// specific version.
fn get_object<'a>(
    field: &'static str,
    objects: Resource<'a>,
    version_id: &Option<Text>,
) -> Vec<Permission<'a>> {
    let mut permissions = vec![Permission::new("s3:GetObject", field, objects.clone())];
    if version_id.is_some() {
        permissions
            .push(Permission::new("s3:GetObjectVersion", field, objects).when("with `version_id`"));
    }
    permissions
}

/// What DynamoDB needs on a restore's target table: it writes the items
/// with the caller's permissions (DynamoDB developer guide, "Restoring a
/// DynamoDB table from a backup", IAM policy for restores).
fn restore_target<'a>(table: &'a Text, region: Option<&'a Text>) -> Vec<Permission<'a>> {
    [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:BatchWriteItem",
    ]
    .into_iter()
    .map(|action| {
        Permission::new(
            action,
            "target_table",
            Resource::Table {
                name: table,
                region,
            },
        )
    })
    .collect()
}
