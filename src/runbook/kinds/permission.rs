//! What a step calls on AWS, with what it calls it on: each kind's
//! [`KindRules::permissions`](super::KindRules::permissions) returns
//! [`Permission`]s built from its own fields, and nothing else in dr-drill
//! knows which IAM action a kind needs. Preflight resolves the resources'
//! texts and asks IAM; [`iam_table`] writes `docs/aws.md`'s table from the
//! same declarations.

use std::collections::BTreeMap;

use super::StepAction;
use crate::runbook::field::Text;

/// One IAM action a step calls, on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission<'a> {
    /// The IAM action, e.g. `backup:StartRestoreJob`.
    pub action: &'static str,
    /// What the action acts on.
    pub on: Resource<'a>,
    /// The step's field naming the resource (`backup_vault`, `to`, …);
    /// empty for [`Resource::Any`].
    pub field: &'static str,
    /// When the step calls it, if not always (e.g. "with `prefix`").
    pub when: Option<&'static str>,
    /// The request context IAM evaluates the call in, as condition keys
    /// and values (e.g. `iam:PassedToService` = `backup.amazonaws.com` for
    /// a role AWS Backup is given): preflight passes them to the policy
    /// simulator as `ContextEntries`, so a statement conditioned on them is
    /// judged as AWS judges the real call.
    pub context: Vec<(&'static str, &'static str)>,
}

/// The condition key of the service a role is passed to (IAM user guide,
/// "Granting a user permissions to pass a role to an AWS service").
pub const PASSED_TO_SERVICE: &str = "iam:PassedToService";

impl<'a> Permission<'a> {
    /// `action` on `on`, named by the step's field `field`.
    pub fn new(action: &'static str, field: &'static str, on: Resource<'a>) -> Self {
        Permission {
            action,
            on,
            field,
            when: None,
            context: Vec::new(),
        }
    }

    /// `action` on no resource in particular (IAM's `*`): listings and
    /// job descriptions that have no resource type.
    pub fn any(action: &'static str) -> Self {
        Self::new(action, "", Resource::Any)
    }

    /// `iam:PassRole` on `role`, named by the step's field `field`, for a
    /// role given to `service` (e.g. `backup.amazonaws.com`): AWS checks
    /// the pass with `iam:PassedToService` set to the service.
    pub fn pass_role(field: &'static str, role: &'a Text, service: &'static str) -> Self {
        let mut p = Self::new("iam:PassRole", field, Resource::Role(role));
        p.context.push((PASSED_TO_SERVICE, service));
        p
    }

    /// The same, called only `when`.
    pub fn when(mut self, when: &'static str) -> Self {
        self.when = Some(when);
        self
    }
}

/// A resource an action acts on, as the step's fields write it (templates
/// included: preflight resolves them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource<'a> {
    /// An AWS Backup vault, by name, in the step's region.
    Vault {
        /// Its name.
        name: &'a Text,
        /// The step's region, if it sets one.
        region: Option<&'a Text>,
    },
    /// An AWS Backup recovery point, by ARN.
    RecoveryPoint {
        /// Its ARN.
        arn: &'a Text,
        /// The step's region, if it sets one.
        region: Option<&'a Text>,
    },
    /// A DynamoDB table, by name.
    Table {
        /// Its name.
        name: &'a Text,
        /// The step's region, if it sets one.
        region: Option<&'a Text>,
    },
    /// A DynamoDB on-demand backup, by ARN.
    TableBackup {
        /// Its ARN.
        arn: &'a Text,
        /// The step's region, if it sets one.
        region: Option<&'a Text>,
    },
    /// An S3 bucket (for listing it).
    Bucket(&'a Text),
    /// S3 objects: one `key`, every key under `prefix`, or (neither) any
    /// key of the bucket.
    Objects {
        /// The bucket.
        bucket: &'a Text,
        /// One object's key.
        key: Option<&'a Text>,
        /// A prefix of keys.
        prefix: Option<&'a Text>,
    },
    /// An AWS Backup vault, by ARN (a copy's destination).
    VaultArn(&'a Text),
    /// An IAM role, by ARN (for `iam:PassRole`).
    Role(&'a Text),
    /// No resource in particular: IAM's `*`.
    Any,
}

impl Resource<'_> {
    /// The ARN's shape, for the docs: `arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME`.
    pub fn pattern(&self) -> &'static str {
        match self {
            Resource::Vault { .. } | Resource::VaultArn(_) => {
                "arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME"
            }
            Resource::RecoveryPoint { .. } => "arn:aws:backup:REGION:ACCOUNT:recovery-point:ID",
            Resource::Table { .. } => "arn:aws:dynamodb:REGION:ACCOUNT:table/NAME",
            Resource::TableBackup { .. } => "arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/backup/ID",
            Resource::Bucket(_) => "arn:aws:s3:::BUCKET",
            Resource::Objects { .. } => "arn:aws:s3:::BUCKET/KEY",
            Resource::Role(_) => "arn:aws:iam::ACCOUNT:role/NAME",
            Resource::Any => "*",
        }
    }

    /// What it is, in a word or two.
    pub fn word(&self) -> &'static str {
        match self {
            Resource::Vault { .. } | Resource::VaultArn(_) => "backup vault",
            Resource::RecoveryPoint { .. } => "recovery point",
            Resource::Table { .. } => "table",
            Resource::TableBackup { .. } => "DynamoDB backup",
            Resource::Bucket(_) => "bucket",
            Resource::Objects { .. } => "objects",
            Resource::Role(_) => "role",
            Resource::Any => "any resource",
        }
    }
}

/// The marker lines around the generated table in `docs/aws.md`.
pub const IAM_TABLE_BEGIN: &str = "<!-- Generated from each kind's permissions() by `UPDATE_AWS_DOC=1 cargo test --lib iam_table`: do not edit below. -->";
/// The end of the generated table.
pub const IAM_TABLE_END: &str = "<!-- End of the generated table. -->";

/// The Markdown table of what `steps` call: one row per kind and action,
/// with the resources and when; kinds in the order given, actions in the
/// order each kind declares them. Kinds that call nothing say "none".
pub fn iam_table(steps: &[StepAction]) -> String {
    // kind → action → (resources, whens), in first-seen order.
    type Rows = Vec<(&'static str, Vec<String>, Vec<&'static str>)>;
    let mut order: Vec<&'static str> = Vec::new();
    let mut kinds: BTreeMap<&'static str, Rows> = BTreeMap::new();
    for step in steps {
        let kind = step.kind();
        if !kinds.contains_key(kind) {
            order.push(kind);
        }
        let rows = kinds.entry(kind).or_default();
        for p in step.permissions() {
            let on = if p.field.is_empty() {
                "`*`".to_owned()
            } else {
                format!("{} `{}` (`{}`)", p.on.word(), p.field, p.on.pattern())
            };
            let on = p.context.iter().fold(on, |on, (key, value)| {
                format!("{on}, with `{key}` = `{value}`")
            });
            let at = match rows.iter().position(|(a, _, _)| *a == p.action) {
                Some(at) => at,
                None => {
                    rows.push((p.action, Vec::new(), Vec::new()));
                    rows.len() - 1
                }
            };
            let (_, ons, whens) = &mut rows[at];
            if !ons.contains(&on) {
                ons.push(on);
            }
            let when = p.when.unwrap_or("always");
            if !whens.contains(&when) {
                whens.push(when);
            }
        }
    }
    let mut out = String::from("| step kind | action | on | when |\n| --- | --- | --- | --- |\n");
    for kind in order {
        let rows = &kinds[kind];
        if rows.is_empty() {
            out.push_str(&format!("| `{kind}` | none | | |\n"));
        }
        for (action, ons, whens) in rows {
            // Called always by one field and conditionally by another is
            // still "always".
            let when = if whens.contains(&"always") {
                "always".to_owned()
            } else {
                whens.join("; ")
            };
            out.push_str(&format!(
                "| `{kind}` | `{action}` | {} | {when} |\n",
                ons.join(", ")
            ));
        }
    }
    out
}
