//! World files (`assets/sandbox/*.toml`) as written: compact rules the
//! world is generated from. Read with toml-spanner so every error names
//! the file, line and field.

use std::collections::BTreeMap;
use std::time::Duration;

use toml_spanner::{Context, Error, Failed, FromToml, Item, Span};

use super::SimError;
use crate::runbook::diagnostic::{did_you_mean, line_col};

/// A value and where it was written.
#[derive(Debug, Clone)]
pub(super) struct At<T> {
    pub value: T,
    pub span: Span,
}

impl<'de, T: FromToml<'de>> FromToml<'de> for At<T> {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        Ok(At {
            value: T::from_toml(ctx, item)?,
            span: item.span(),
        })
    }
}

/// One world file's text, for locating errors in it.
pub(super) struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    /// An error at `span`, about `field`.
    pub fn error(&self, span: Span, field: &str, message: impl Into<String>) -> SimError {
        let (line, column) = line_col(self.text, span.start as usize);
        SimError::World {
            file: self.file.to_owned(),
            line,
            column,
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// Parses the file into its rules.
    pub fn parse(&self) -> Result<FileSpec, SimError> {
        let arena = toml_spanner::Arena::new();
        let mut doc = toml_spanner::parse(self.text, &arena)
            .map_err(|e| self.error(e.span(), "", e.message(self.text)))?;
        doc.to::<FileSpec>().map_err(|errors| {
            let count = errors.errors.len();
            let Some(e) = errors.errors.first() else {
                return self.error(Span::new(0, 0), "", "unreadable world file");
            };
            let mut field = e.path().map(|p| p.to_string()).unwrap_or_default();
            if let toml_spanner::ErrorKind::MissingField(name) = e.kind() {
                field = if field.is_empty() {
                    name.to_owned()
                } else {
                    format!("{field}.{name}")
                };
            }
            let mut message = e.message(self.text);
            if let toml_spanner::ErrorKind::UnexpectedKey { .. } = e.kind() {
                let key = self.text.get(e.span().range()).unwrap_or_default();
                if let Some(close) = did_you_mean(key, ALL_FIELDS.iter().copied()) {
                    message.push_str(&format!(" (did you mean `{close}`?)"));
                }
            }
            if count > 1 {
                message.push_str(&format!(" (and {} more)", count - 1));
            }
            self.error(e.span(), &field, message)
        })
    }
}

/// Every field name a world file uses, for "did you mean".
const ALL_FIELDS: &[&str] = &[
    "vault",
    "plan",
    "table",
    "bucket",
    "name",
    "region",
    "kms_key",
    "lock",
    "mode",
    "min_retention_days",
    "max_retention_days",
    "at",
    "days",
    "completes_after",
    "cold_after_days",
    "delete_after_days",
    "copy_to",
    "copy_after",
    "resource",
    "type",
    "id",
    "items",
    "items_per_day",
    "size_bytes",
    "size_per_day",
    "pitr",
    "pitr_days",
    "backup",
    "days_ago",
    "object_lock",
    "object",
    "series",
    "bulk",
    "key",
    "content_file",
    "content_as_of",
    "storage_class",
    "archive_status",
    "metadata",
    "checksum_metadata",
    "magic",
    "every",
    "weekday",
    "count",
    "manifest",
    "spread_days",
    "age",
    "encrypt",
    "mailboxes",
    "continuous",
];

/// Reads one of several accepted strings (case-insensitively).
fn one_of<'de, T: Copy>(
    ctx: &mut Context<'de>,
    item: &Item<'de>,
    choices: &[(&str, T)],
) -> Result<T, Failed> {
    let text = item.require_string(ctx)?;
    if let Some((_, v)) = choices.iter().find(|(n, _)| n.eq_ignore_ascii_case(text)) {
        return Ok(*v);
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    Err(ctx.push_error(Error::custom_at(
        format!("`{text}` is not one of: {}", names.join(", ")),
        item,
    )))
}

/// A duration string (`"20m"`, `"1h 30m"`).
fn duration<'de>(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Duration, Failed> {
    let text = item.require_string(ctx)?;
    text.trim()
        .parse::<jiff::SignedDuration>()
        .ok()
        .and_then(|d| Duration::try_from(d).ok())
        .ok_or_else(|| {
            ctx.push_error(Error::custom_at(
                format!("`{text}` is not a duration: write e.g. \"20m\", \"1h 30m\""),
                item,
            ))
        })
}

/// A range written as one value or `[low, high]`; a value is picked in it
/// deterministically per generated thing.
#[derive(Debug, Clone, Copy)]
pub(super) struct Range<T> {
    pub low: T,
    pub high: T,
}

impl<T: Copy> Range<T> {
    fn exactly(v: T) -> Self {
        Range { low: v, high: v }
    }
}

fn range<'de, T: PartialOrd + Copy>(
    ctx: &mut Context<'de>,
    item: &Item<'de>,
    one: fn(&mut Context<'de>, &Item<'de>) -> Result<T, Failed>,
) -> Result<Range<T>, Failed> {
    let Some(array) = item.as_array() else {
        return one(ctx, item).map(Range::exactly);
    };
    let [low, high] = array.as_slice() else {
        return Err(ctx.push_error(Error::custom_at(
            "write one value or a range [low, high]",
            item,
        )));
    };
    let (low, high) = (one(ctx, low)?, one(ctx, high)?);
    if low > high {
        return Err(ctx.push_error(Error::custom_at(
            "the range's low end is above its high end",
            item,
        )));
    }
    Ok(Range { low, high })
}

impl<'de> FromToml<'de> for Range<Duration> {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        range(ctx, item, duration)
    }
}

impl<'de> FromToml<'de> for Range<u64> {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        range(ctx, item, u64::from_toml)
    }
}

/// A UTC time of day, `"HH:MM"`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TimeOfDay {
    pub hour: i8,
    pub minute: i8,
}

impl<'de> FromToml<'de> for TimeOfDay {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let text = item.require_string(ctx)?;
        let parsed = text.split_once(':').and_then(|(h, m)| {
            let (hour, minute) = (h.parse::<i8>().ok()?, m.parse::<i8>().ok()?);
            ((0..24).contains(&hour) && (0..60).contains(&minute))
                .then_some(TimeOfDay { hour, minute })
        });
        parsed.ok_or_else(|| {
            ctx.push_error(Error::custom_at(
                format!("`{text}` is not a UTC time of day: write \"HH:MM\", e.g. \"02:00\""),
                item,
            ))
        })
    }
}

/// What one world file declares.
#[derive(Debug, Default)]
pub(super) struct FileSpec {
    pub vaults: Vec<VaultSpec>,
    pub plans: Vec<PlanSpec>,
    pub tables: Vec<TableSpec>,
    pub buckets: Vec<BucketSpec>,
}

impl FileSpec {
    /// The content files its objects name, with the field naming each.
    pub fn content_files(&self) -> Vec<(String, &At<String>)> {
        let mut out = Vec::new();
        for (i, bucket) in self.buckets.iter().enumerate() {
            for (j, object) in bucket.objects.iter().enumerate() {
                if let Some(file) = &object.content_file {
                    out.push((format!("bucket[{i}].object[{j}].content_file"), file));
                }
            }
            for (j, series) in bucket.series.iter().enumerate() {
                if let Some(file) = &series.content_file {
                    out.push((format!("bucket[{i}].series[{j}].content_file"), file));
                }
            }
        }
        out
    }
}

impl<'de> FromToml<'de> for FileSpec {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let mut th = item.table_helper(ctx)?;
        let spec = FileSpec {
            vaults: th.optional("vault").unwrap_or_default(),
            plans: th.optional("plan").unwrap_or_default(),
            tables: th.optional("table").unwrap_or_default(),
            buckets: th.optional("bucket").unwrap_or_default(),
        };
        th.require_empty()?;
        Ok(spec)
    }
}

/// The region a resource is in when the file does not say.
pub(super) const DEFAULT_REGION: &str = "us-east-1";

/// An AWS Backup vault.
#[derive(Debug)]
pub(super) struct VaultSpec {
    pub name: At<String>,
    pub region: String,
    pub kms_key: Option<String>,
    pub lock: Option<LockSpec>,
}

impl<'de> FromToml<'de> for VaultSpec {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let mut th = item.table_helper(ctx)?;
        let name = th.required("name");
        let region = th.optional("region");
        let kms_key = th.optional("kms_key");
        let lock = th.optional("lock");
        th.require_empty()?;
        Ok(VaultSpec {
            name: name?,
            region: region.unwrap_or_else(|| DEFAULT_REGION.into()),
            kms_key,
            lock,
        })
    }
}

/// A vault lock.
#[derive(Debug, Clone, Copy)]
pub(super) struct LockSpec {
    pub compliance: bool,
    pub min_retention_days: i64,
    pub max_retention_days: Option<i64>,
}

impl<'de> FromToml<'de> for LockSpec {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let mut th = item.table_helper(ctx)?;
        let compliance = match th.optional_item("mode") {
            Some(mode) => one_of(th.ctx, mode, &[("governance", false), ("compliance", true)]).ok(),
            None => Some(false),
        };
        let min = th.required("min_retention_days");
        let max = th.optional("max_retention_days");
        th.require_empty()?;
        Ok(LockSpec {
            compliance: compliance.ok_or(Failed)?,
            min_retention_days: min?,
            max_retention_days: max,
        })
    }
}

/// A nightly backup rule of an AWS Backup plan.
#[derive(Debug)]
pub(super) struct PlanSpec {
    pub name: String,
    pub vault: At<String>,
    pub at: TimeOfDay,
    pub days: u32,
    pub completes_after: Range<Duration>,
    pub cold_after_days: Option<i64>,
    pub delete_after_days: Option<i64>,
    pub copy_to: Option<At<String>>,
    pub copy_after: Range<Duration>,
    /// A continuous backup plan: one continuous (point-in-time) recovery
    /// point per resource, kept up to date, instead of nightly ones.
    pub continuous: bool,
    pub resources: Vec<ResourceSpec>,
}

impl<'de> FromToml<'de> for PlanSpec {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let mut th = item.table_helper(ctx)?;
        let name = th.required("name");
        let vault = th.required("vault");
        let at = th.optional("at").unwrap_or_default();
        let days = th.required("days");
        let completes_after = th.optional("completes_after");
        let cold_after_days = th.optional("cold_after_days");
        let delete_after_days = th.optional("delete_after_days");
        let copy_to = th.optional("copy_to");
        let copy_after = th.optional("copy_after");
        let continuous = th.optional("continuous").unwrap_or(false);
        let resources = th.required("resource");
        th.require_empty()?;
        Ok(PlanSpec {
            name: name?,
            vault: vault?,
            at,
            days: days?,
            completes_after: completes_after.unwrap_or(Range {
                low: Duration::from_secs(20 * 60),
                high: Duration::from_secs(90 * 60),
            }),
            cold_after_days,
            delete_after_days,
            copy_to,
            copy_after: copy_after.unwrap_or(Range {
                low: Duration::from_secs(5 * 60),
                high: Duration::from_secs(3600),
            }),
            continuous,
            resources: resources?,
        })
    }
}

/// What AWS Backup backs up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ResourceType {
    DynamoDb,
    Efs,
}

impl ResourceType {
    /// As AWS Backup names it.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::DynamoDb => "DynamoDB",
            ResourceType::Efs => "EFS",
        }
    }
}

/// A resource in a backup plan.
#[derive(Debug)]
pub(super) struct ResourceSpec {
    pub kind: ResourceType,
    pub name: String,
    pub id: Option<String>,
    pub items: u64,
    pub items_per_day: u64,
    pub size_bytes: u64,
    pub size_per_day: u64,
    /// EFS: the mailboxes (top-level directories) of the mailstore.
    pub mailboxes: Vec<String>,
}

impl<'de> FromToml<'de> for ResourceSpec {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let mut th = item.table_helper(ctx)?;
        let kind = th.required_item("type").and_then(|t| {
            one_of(
                th.ctx,
                t,
                &[
                    ("DynamoDB", ResourceType::DynamoDb),
                    ("EFS", ResourceType::Efs),
                ],
            )
        });
        let name = th.required("name");
        let id = th.optional("id");
        let items = th.optional("items").unwrap_or(0);
        let items_per_day = th.optional("items_per_day").unwrap_or(0);
        let size_bytes = th.required("size_bytes");
        let size_per_day = th.optional("size_per_day").unwrap_or(0);
        let mailboxes: Vec<String> = th.optional("mailboxes").unwrap_or_default();
        th.require_empty()?;
        let kind = kind?;
        if kind != ResourceType::Efs && !mailboxes.is_empty() {
            let message = "`mailboxes` applies to an EFS resource only";
            return Err(ctx.push_error(Error::custom_at(message, item)));
        }
        if let Some(bad) = mailboxes
            .iter()
            .find(|m| m.is_empty() || m.contains('/') || m.starts_with('.'))
        {
            let message = format!(
                "mailbox `{bad}` must be a plain directory name (no `/`, not starting with `.`)"
            );
            return Err(ctx.push_error(Error::custom_at(message, item)));
        }
        if kind == ResourceType::Efs && id.is_none() {
            let message = "an EFS resource needs its file system `id` (fs-...)";
            return Err(ctx.push_error(Error::custom_at(message, item)));
        }
        Ok(ResourceSpec {
            kind,
            name: name?,
            id,
            items,
            items_per_day,
            size_bytes: size_bytes?,
            size_per_day,
            mailboxes,
        })
    }
}

/// A DynamoDB table.
#[derive(Debug)]
pub(super) struct TableSpec {
    pub name: At<String>,
    pub region: String,
    pub items: u64,
    pub pitr: bool,
    pub pitr_days: i64,
    pub backups: Vec<BackupSpec>,
}

impl<'de> FromToml<'de> for TableSpec {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let mut th = item.table_helper(ctx)?;
        let name = th.required("name");
        let region = th.optional("region");
        let items = th.required("items");
        let pitr = th.optional("pitr");
        let pitr_days = th.optional("pitr_days");
        let backups = th.optional("backup");
        th.require_empty()?;
        Ok(TableSpec {
            name: name?,
            region: region.unwrap_or_else(|| DEFAULT_REGION.into()),
            items: items?,
            pitr: pitr.unwrap_or(true),
            pitr_days: pitr_days.unwrap_or(35),
            backups: backups.unwrap_or_default(),
        })
    }
}

/// An on-demand DynamoDB backup.
#[derive(Debug)]
pub(super) struct BackupSpec {
    pub name: String,
    pub days_ago: u32,
    pub items: Option<u64>,
}

impl<'de> FromToml<'de> for BackupSpec {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let mut th = item.table_helper(ctx)?;
        let name = th.required("name");
        let days_ago = th.required("days_ago");
        let items = th.optional("items");
        th.require_empty()?;
        Ok(BackupSpec {
            name: name?,
            days_ago: days_ago?,
            items,
        })
    }
}

/// An S3 bucket and the objects generated in it.
#[derive(Debug)]
pub(super) struct BucketSpec {
    pub name: At<String>,
    pub region: String,
    pub object_lock: Option<ObjectLockSpec>,
    pub objects: Vec<ObjectSpec>,
    pub series: Vec<SeriesSpec>,
    pub bulk: Vec<BulkSpec>,
}

impl<'de> FromToml<'de> for BucketSpec {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let mut th = item.table_helper(ctx)?;
        let name = th.required("name");
        let region = th.optional("region");
        let object_lock = th.optional("object_lock");
        let objects = th.optional("object");
        let series = th.optional("series");
        let bulk = th.optional("bulk");
        th.require_empty()?;
        Ok(BucketSpec {
            name: name?,
            region: region.unwrap_or_else(|| DEFAULT_REGION.into()),
            object_lock,
            objects: objects.unwrap_or_default(),
            series: series.unwrap_or_default(),
            bulk: bulk.unwrap_or_default(),
        })
    }
}

/// A bucket's default Object Lock retention.
#[derive(Debug, Clone)]
pub(super) struct ObjectLockSpec {
    pub mode: &'static str,
    pub days: i64,
}

impl<'de> FromToml<'de> for ObjectLockSpec {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let mut th = item.table_helper(ctx)?;
        let mode = th.required_item("mode").and_then(|m| {
            one_of(
                th.ctx,
                m,
                &[("GOVERNANCE", "GOVERNANCE"), ("COMPLIANCE", "COMPLIANCE")],
            )
        });
        let days = th.required("days");
        th.require_empty()?;
        Ok(ObjectLockSpec {
            mode: mode?,
            days: days?,
        })
    }
}

/// What every generated object may say about itself.
#[derive(Debug, Clone)]
pub(super) struct ObjectCommon {
    pub key: At<String>,
    pub size_bytes: Range<u64>,
    pub storage_class: &'static str,
    /// An INTELLIGENT_TIERING object's archive tier (`x-amz-archive-status`).
    pub archive_status: Option<&'static str>,
    pub metadata: BTreeMap<String, String>,
    pub checksum_metadata: Option<String>,
    pub magic: String,
}

/// The S3 storage classes a world file may use.
pub(super) const STORAGE_CLASSES: &[(&str, &str)] = &[
    ("STANDARD", "STANDARD"),
    ("STANDARD_IA", "STANDARD_IA"),
    ("ONEZONE_IA", "ONEZONE_IA"),
    ("INTELLIGENT_TIERING", "INTELLIGENT_TIERING"),
    ("GLACIER_IR", "GLACIER_IR"),
    ("GLACIER", "GLACIER"),
    ("DEEP_ARCHIVE", "DEEP_ARCHIVE"),
];

fn read_common(th: &mut toml_spanner::TableHelper<'_, '_, '_>) -> Result<ObjectCommon, Failed> {
    let key = th.required("key");
    let size_bytes = th.optional("size_bytes");
    let storage_class = match th.optional_item("storage_class") {
        Some(class) => one_of(th.ctx, class, STORAGE_CLASSES),
        None => Ok("STANDARD"),
    };
    let archive_status = th.optional_item("archive_status").map(|s| {
        one_of(
            th.ctx,
            s,
            &[
                ("ARCHIVE_ACCESS", "ARCHIVE_ACCESS"),
                ("DEEP_ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"),
            ],
        )
    });
    let metadata = th.optional("metadata");
    let checksum_metadata = th.optional("checksum_metadata");
    let magic = th.optional("magic");
    Ok(ObjectCommon {
        key: key?,
        size_bytes: size_bytes.unwrap_or(Range::exactly(4096)),
        storage_class: storage_class?,
        archive_status: archive_status.transpose()?,
        metadata: metadata.unwrap_or_default(),
        checksum_metadata,
        magic: magic.unwrap_or_default(),
    })
}

/// One object, its content generated or read from a file.
#[derive(Debug)]
pub(super) struct ObjectSpec {
    pub common: ObjectCommon,
    pub content_file: Option<At<String>>,
    pub days_ago: u32,
    /// Written this long before now (instead of `days_ago`), e.g. `"4m"`.
    pub age: Option<Duration>,
}

impl<'de> FromToml<'de> for ObjectSpec {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let mut th = item.table_helper(ctx)?;
        let common = read_common(&mut th);
        let content_file = th.optional("content_file");
        let days_ago = th.optional("days_ago").unwrap_or(0);
        let age = th.optional_item("age").map(|a| duration(th.ctx, a));
        th.require_empty()?;
        Ok(ObjectSpec {
            common: common?,
            content_file,
            days_ago,
            age: age.transpose()?,
        })
    }
}

/// How often a series recurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Every {
    Day,
    Week,
    Month,
    Year,
}

/// Objects written on a schedule: the last `count` occurrences before now.
#[derive(Debug)]
pub(super) struct SeriesSpec {
    pub common: ObjectCommon,
    pub every: Every,
    pub weekday: Option<jiff::civil::Weekday>,
    pub at: TimeOfDay,
    pub count: u32,
    pub manifest: Option<BTreeMap<String, String>>,
    /// Every object of the series holds this file's bytes (e.g. a real
    /// `pg_dump`) instead of generated ones.
    pub content_file: Option<At<String>>,
    /// When `content_file` was taken: each object holds it with its
    /// timestamps moved to the object's own time (`as_of.rs`).
    pub content_as_of: Option<At<String>>,
    pub encrypt: Option<EncryptSpec>,
}

/// Objects encrypted as a backup encrypts them: AES-256-GCM, framed IV (16
/// bytes) + tag (16 bytes) + ciphertext, with a fresh IV per object. The
/// plaintext is the series' `content_file` (else its generated bytes).
#[derive(Debug)]
pub(super) struct EncryptSpec {
    /// The 32-byte key as 64 hex digits.
    pub key: At<String>,
}

impl<'de> FromToml<'de> for EncryptSpec {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let mut th = item.table_helper(ctx)?;
        let key = th.required("key");
        th.require_empty()?;
        Ok(EncryptSpec { key: key? })
    }
}

impl<'de> FromToml<'de> for SeriesSpec {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        use jiff::civil::Weekday::*;
        let mut th = item.table_helper(ctx)?;
        let common = read_common(&mut th);
        let every = th.required_item("every").and_then(|e| {
            one_of(
                th.ctx,
                e,
                &[
                    ("day", Every::Day),
                    ("week", Every::Week),
                    ("month", Every::Month),
                    ("year", Every::Year),
                ],
            )
        });
        let weekday = th.optional_item("weekday").map(|w| {
            one_of(
                th.ctx,
                w,
                &[
                    ("monday", Monday),
                    ("tuesday", Tuesday),
                    ("wednesday", Wednesday),
                    ("thursday", Thursday),
                    ("friday", Friday),
                    ("saturday", Saturday),
                    ("sunday", Sunday),
                ],
            )
        });
        let at = th.optional("at").unwrap_or_default();
        let count = th.required("count");
        let manifest = th.optional("manifest");
        let encrypt = th.optional("encrypt");
        let content_file = th.optional("content_file");
        let content_as_of = th.optional("content_as_of");
        th.require_empty()?;
        Ok(SeriesSpec {
            content_as_of,
            encrypt,
            common: common?,
            every: every?,
            weekday: weekday.transpose()?,
            at,
            count: count?,
            manifest,
            content_file,
        })
    }
}

/// Many objects written at times spread over the last `spread_days`.
#[derive(Debug)]
pub(super) struct BulkSpec {
    pub common: ObjectCommon,
    pub count: u32,
    pub spread_days: u32,
}

impl<'de> FromToml<'de> for BulkSpec {
    fn from_toml(ctx: &mut Context<'de>, item: &Item<'de>) -> Result<Self, Failed> {
        let mut th = item.table_helper(ctx)?;
        let common = read_common(&mut th);
        let count = th.required("count");
        let spread_days = th.optional("spread_days").unwrap_or(30);
        th.require_empty()?;
        Ok(BulkSpec {
            common: common?,
            count: count?,
            spread_days,
        })
    }
}
