//! `kind = "wait"`: a fixed time, a probe command, or an AWS resource state.

use toml_spanner::Error;

use super::{Permission, Resource, Effect, KindRules, StepChecks};
use crate::runbook::diagnostic::{Code, Diagnostic};
use crate::runbook::field::{Dur, Span, Spanned, Text, custom, fields, invalid};

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

impl KindRules for Wait {
    fn effect(&self) -> Effect {
        Effect::ReadOnly
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["attempts"]
    }

    fn confirm_target(&self) -> Option<&Text> {
        None
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        if self.run.is_some() {
            Some("this probe")
        } else if self.until.is_some() {
            Some("this AWS resource")
        } else {
            None
        }
    }

    fn rpo_field(&self) -> Option<&'static str> {
        None
    }

    fn change(&self, _show: &dyn Fn(&str) -> String, _description: Option<&str>) -> Option<String> {
        None
    }

    fn uses_aws(&self) -> bool {
        // A wait `until` an AWS state polls the cloud the run has; it does
        // not make a run connect to one by itself.
        false
    }

    fn permissions(&self) -> Vec<Permission<'_>> {
        let Some(u) = &self.until else {
            return vec![];
        };
        let region = u.region.as_ref();
        let mut permissions = Vec::new();
        if let Some(name) = &u.table {
            permissions.push(
                Permission::new("dynamodb:DescribeTable", "until.table", Resource::Table { name, region })
                    .when("with `until.table`"),
            );
        }
        if u.restore_job.is_some() {
            permissions.push(Permission::any("backup:DescribeRestoreJob").when("with `until.restore_job`"));
        }
        if u.copy_job.is_some() {
            permissions.push(Permission::any("backup:DescribeCopyJob").when("with `until.copy_job`"));
        }
        if let Some(bucket) = &u.bucket {
            permissions.push(
                Permission::new(
                    "s3:GetObject",
                    "until.key",
                    Resource::Objects {
                        bucket,
                        key: u.key.as_ref(),
                        prefix: None,
                    },
                )
                .when("with `until.bucket`"),
            );
        }
        permissions
    }

    fn headless_answer_missing(&self, _id: &str, _given: Option<&str>) -> Option<String> {
        None
    }

    fn cross_field_errors(&self, step_span: Span, errors: &mut Vec<Error>) {
        let given = [
            self.run.is_some(),
            self.duration.is_some(),
            self.until.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            errors.push(custom(
                Code::Conflict,
                self.run.as_ref().map_or(step_span, |r| r.span),
                "a wait step needs exactly one of `run` (a probe command), `duration` or `until` (an AWS resource state)",
                "write `duration = \"5m\"` to wait a fixed time, `run = \"...\"` for a command that succeeds when the wait is over, or `until = { table = \"...\" }`",
            ));
        }
        if let Some(u) = &self.until {
            u.check(step_span, errors);
        }
    }

    fn check(&self, step: &mut dyn StepChecks) {
        let conflict = |span: Span, message: &str, help: &str| {
            Diagnostic::error(Code::Conflict, span, message).with_help(help)
        };
        if let Some(probe) = &self.run {
            step.shell_quoting(probe);
        }
        if let (Some(duration), Some(timeout)) = (&self.duration, step.timeout())
            && duration.value.0 > timeout.value.0
        {
            let d = conflict(
                duration.span,
                "the wait is longer than its timeout",
                "a fixed wait needs no timeout; remove `timeout` or shorten `duration`",
            );
            step.push(d);
        }
        if let (Some(_), Some(interval)) = (&self.duration, &self.interval) {
            step.push(conflict(
                interval.span,
                "`interval` applies to a probe (`run`), not to a fixed `duration`",
                "remove `interval`",
            ));
        }
    }
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "wait-table"
kind = "wait"
until = { table = "t" }

[[step]]
id = "wait-restore"
kind = "wait"
until = { restore_job = "j" }

[[step]]
id = "wait-copy"
kind = "wait"
until = { copy_job = "j" }

[[step]]
id = "wait-object"
kind = "wait"
until = { bucket = "b", key = "k" }
"#;
