//! Generates the world from its rules: a year of nightly recovery points
//! with their DR copies, tables and their backups, S3 objects on a schedule
//! (with checksums and manifests) or spread over time. Every generated
//! value (a jitter, a size, an id) is a hash of names, so the same rules and
//! `now` give the same world.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

use super::SimError;
use super::spec::{
    At, BucketSpec, EncryptSpec, Every, FileSpec, ObjectCommon, PlanSpec, ResourceSpec,
    ResourceType, Source, TableSpec, TimeOfDay, VaultSpec,
};
use super::world::*;
use crate::cloud::{PointKind, RecoveryPoint};
use sha2::{Digest, Sha256};

fn at_time(date: Date, at: TimeOfDay) -> Result<Timestamp, SimError> {
    Ok(date
        .at(at.hour, at.minute, 0, 0)
        .to_zoned(TimeZone::UTC)?
        .timestamp())
}

/// The last `count` times a schedule fired at or before `now`, newest first.
fn occurrences(
    every: Every,
    weekday: Option<Weekday>,
    at: TimeOfDay,
    count: u32,
    now: Timestamp,
) -> Result<Vec<Timestamp>, SimError> {
    let today = now.to_zoned(TimeZone::UTC).date();
    let mut out = Vec::with_capacity(count as usize);
    let mut step: i64 = 0;
    while out.len() < count as usize {
        let date = match every {
            Every::Day => today.checked_sub(jiff::Span::new().days(step))?,
            Every::Week => {
                let wd = weekday.unwrap_or(Weekday::Sunday);
                let back = i64::from(today.weekday().since(wd));
                today.checked_sub(jiff::Span::new().days(back + 7 * step))?
            }
            Every::Month | Every::Year => {
                let base = if every == Every::Month {
                    today
                        .first_of_month()
                        .checked_sub(jiff::Span::new().months(step))?
                } else {
                    today
                        .first_of_year()
                        .checked_sub(jiff::Span::new().years(step))?
                };
                match weekday {
                    Some(wd) => base.nth_weekday_of_month(1, wd)?,
                    None => base,
                }
            }
        };
        step += 1;
        let when = at_time(date, at)?;
        if when <= now {
            out.push(when);
        }
    }
    Ok(out)
}

/// Expands `{name}` placeholders in a key template.
fn expand(template: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            return Err("a `{` is never closed".into());
        };
        let name = &rest[open + 1..open + close];
        out.push_str(&value(name).ok_or_else(|| {
            format!("unknown placeholder `{{{name}}}`: use {{date}}, {{month}}, {{stamp}}, {{ymd}}, {{hms}}, {{hex7}}, {{hex8}} or {{n}}")
        })?);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl World {
    /// Adds one world file's resources, generated for `now`; `content`
    /// gives the bytes of a `content_file` named in it.
    pub fn add(
        &mut self,
        src: &Source<'_>,
        spec: FileSpec,
        content: &dyn Fn(&str) -> Option<Arc<[u8]>>,
        now: Timestamp,
    ) -> Result<(), SimError> {
        for (i, vault) in spec.vaults.into_iter().enumerate() {
            self.add_vault(src, i, vault, now)?;
        }
        for (i, plan) in spec.plans.iter().enumerate() {
            self.add_plan(src, i, plan, now)?;
        }
        for (i, table) in spec.tables.into_iter().enumerate() {
            self.add_table(src, i, table, now)?;
        }
        for (i, bucket) in spec.buckets.into_iter().enumerate() {
            self.add_bucket(src, i, bucket, content, now)?;
        }
        Ok(())
    }

    fn add_vault(
        &mut self,
        src: &Source<'_>,
        i: usize,
        spec: VaultSpec,
        now: Timestamp,
    ) -> Result<(), SimError> {
        let name = spec.name.value;
        if self.vault(&spec.region, &name).is_ok() {
            return Err(src.error(
                spec.name.span,
                &format!("vault[{i}].name"),
                format!("vault `{name}` in {} is declared twice", spec.region),
            ));
        }
        let lock = spec.lock.map(|l| Lock {
            min_retention_days: l.min_retention_days,
            max_retention_days: l.max_retention_days,
            lock_date: l.compliance.then(|| before(now, days_long(3))),
        });
        self.vaults.push(Vault {
            arn: vault_arn(&spec.region, &name),
            name,
            region: spec.region,
            kms_key: spec.kms_key,
            lock,
            points: Vec::new(),
        });
        Ok(())
    }

    pub(super) fn vault_index(&self, region: &str, name: &str) -> Option<usize> {
        self.vaults
            .iter()
            .position(|v| v.region == region && v.name == name)
    }

    fn named_vault(
        &self,
        src: &Source<'_>,
        name: &At<String>,
        field: &str,
    ) -> Result<usize, SimError> {
        let found: Vec<usize> = (0..self.vaults.len())
            .filter(|&i| self.vaults[i].name == name.value)
            .collect();
        match found[..] {
            [one] => Ok(one),
            [] => Err(src.error(
                name.span,
                field,
                format!("no vault named `{}` is declared", name.value),
            )),
            _ => Err(src.error(
                name.span,
                field,
                format!("vault `{}` exists in several regions", name.value),
            )),
        }
    }

    fn add_plan(
        &mut self,
        src: &Source<'_>,
        i: usize,
        plan: &PlanSpec,
        now: Timestamp,
    ) -> Result<(), SimError> {
        let home = self.named_vault(src, &plan.vault, &format!("plan[{i}].vault"))?;
        let copy = match &plan.copy_to {
            Some(c) => Some(self.named_vault(src, c, &format!("plan[{i}].copy_to"))?),
            None => None,
        };
        let region = self.vaults[home].region.clone();
        let nights = occurrences(Every::Day, None, plan.at, plan.days, now)?;
        for res in &plan.resources {
            let (resource_arn, items_table) = match res.kind {
                ResourceType::DynamoDb => (table_arn(&region, &res.name), Some(res.name.clone())),
                ResourceType::Efs => {
                    let id = res.id.as_deref().unwrap_or_default();
                    self.filesystems.insert(
                        id.to_owned(),
                        super::world::Filesystem {
                            mailboxes: res.mailboxes.clone(),
                        },
                    );
                    let arn =
                        format!("arn:aws:elasticfilesystem:{region}:{ACCOUNT}:file-system/{id}");
                    (arn, None)
                }
            };
            if plan.continuous {
                self.add_continuous_point(plan, res, home, &resource_arn, &nights);
                continue;
            }
            for (age, created) in nights.iter().enumerate() {
                let age = age as u64;
                let date = created.strftime("%Y-%m-%d").to_string();
                let h = hash(&[&plan.name, &res.name, &date]);
                let mut rp = RecoveryPoint::new(
                    format!(
                        "arn:aws:backup:{region}:{ACCOUNT}:recovery-point:{}",
                        uuid(h)
                    ),
                    PointKind::Backup,
                    *created,
                    region.clone(),
                );
                rp.completed_at = Some(after(*created, pick_duration(h, plan.completes_after)));
                rp.size_bytes = Some(res.size_bytes.saturating_sub(age * res.size_per_day).max(1));
                rp.resource_arn = Some(resource_arn.clone());
                rp.resource_name = Some(res.name.clone());
                rp.resource_type = Some(res.kind.as_str().into());
                rp.vault = Some(self.vaults[home].name.clone());
                rp.encryption_key_arn = self.vaults[home].kms_key.clone();
                rp.move_to_cold_at = plan.cold_after_days.map(|d| after(*created, days_long(d)));
                rp.delete_at = plan
                    .delete_after_days
                    .map(|d| after(*created, days_long(d)));
                let items: Items = items_table
                    .iter()
                    .map(|t| (t.clone(), res.items.saturating_sub(age * res.items_per_day)))
                    .collect();
                if let (Some(dest), Some(done)) = (copy, rp.completed_at) {
                    let starts = after(done, pick_duration(splitmix(h), plan.copy_after));
                    let copy = copy_of(
                        &rp,
                        &self.vaults[home].arn,
                        &self.vaults[dest],
                        starts,
                        splitmix(h ^ 1),
                        minutes(20, 40),
                    );
                    self.vaults[dest].points.push(Point {
                        rp: copy,
                        visible_at: starts,
                        items: items.clone(),
                    });
                }
                self.vaults[home].points.push(Point {
                    visible_at: rp.created_at,
                    rp,
                    items,
                });
            }
        }
        Ok(())
    }

    /// A continuous plan's one point for `res`: its ARN reads
    /// `recovery-point:continuous:ID` as AWS writes it (the developer
    /// guide's point-in-time restore examples), created when the plan's
    /// window starts and kept up to date ("Continuous backups and
    /// point-in-time restore (PITR)": the plan "creates one continuous
    /// recovery point and updates that recovery point").
    fn add_continuous_point(
        &mut self,
        plan: &PlanSpec,
        res: &ResourceSpec,
        home: usize,
        resource_arn: &str,
        nights: &[Timestamp],
    ) {
        let Some(first) = nights.last() else {
            return;
        };
        let region = self.vaults[home].region.clone();
        let h = hash(&[&plan.name, &res.name, "continuous"]);
        let mut rp = RecoveryPoint::new(
            format!(
                "arn:aws:backup:{region}:{ACCOUNT}:recovery-point:continuous:{}",
                uuid(h)
            ),
            PointKind::Backup,
            *first,
            region,
        );
        rp.completed_at = Some(after(*first, pick_duration(h, plan.completes_after)));
        rp.earliest_restorable = Some(*first);
        rp.size_bytes = Some(res.size_bytes.max(1));
        rp.resource_arn = Some(resource_arn.to_owned());
        rp.resource_name = Some(res.name.clone());
        rp.resource_type = Some(res.kind.as_str().into());
        rp.vault = Some(self.vaults[home].name.clone());
        rp.encryption_key_arn = self.vaults[home].kms_key.clone();
        let items: Items = match res.kind {
            ResourceType::DynamoDb => [(res.name.clone(), res.items)].into(),
            ResourceType::Efs => Items::default(),
        };
        self.vaults[home].points.push(Point {
            visible_at: rp.created_at,
            rp,
            items,
        });
    }

    fn add_table(
        &mut self,
        src: &Source<'_>,
        i: usize,
        spec: TableSpec,
        now: Timestamp,
    ) -> Result<(), SimError> {
        let key = (spec.region.clone(), spec.name.value.clone());
        if self.tables.contains_key(&key) {
            return Err(src.error(
                spec.name.span,
                &format!("table[{i}].name"),
                format!("table `{}` in {} is declared twice", key.1, key.0),
            ));
        }
        let name = spec.name.value;
        let arn = table_arn(&spec.region, &name);
        let born = before(now, days_long(2 * 365));
        for b in &spec.backups {
            let h = hash(&[&name, &b.name]);
            let created = before(
                now,
                days_long(i64::from(b.days_ago)) + Duration::from_secs(h % 36_000),
            );
            let backup_arn = format!(
                "{arn}/backup/{:013}-{}",
                created.as_millisecond(),
                hex(h, 8)
            );
            let items = b.items.unwrap_or(spec.items);
            self.backups.insert(
                backup_arn.clone(),
                TableBackup {
                    arn: backup_arn,
                    table: name.clone(),
                    table_arn: arn.clone(),
                    region: spec.region.clone(),
                    created_at: created,
                    size_bytes: items * 340,
                    items: Items::from([(name.clone(), items)]),
                },
            );
        }
        self.tables.insert(
            key,
            Table {
                items: Items::from([(name.clone(), spec.items)]),
                name,
                arn,
                pitr_days: spec.pitr.then_some(spec.pitr_days),
                created_at: born,
                active_at: born,
                gone_at: None,
                restored_as_of: None,
            },
        );
        Ok(())
    }

    fn add_bucket(
        &mut self,
        src: &Source<'_>,
        i: usize,
        spec: BucketSpec,
        content: &dyn Fn(&str) -> Option<Arc<[u8]>>,
        now: Timestamp,
    ) -> Result<(), SimError> {
        let name = spec.name.value.clone();
        if self.buckets.contains_key(&name) {
            return Err(src.error(
                spec.name.span,
                &format!("bucket[{i}].name"),
                format!("bucket `{name}` is declared twice"),
            ));
        }
        let mut bucket = Bucket {
            region: spec.region.clone(),
            object_lock: spec.object_lock.is_some(),
            objects: BTreeMap::new(),
        };
        let lock = spec.object_lock.as_ref().map(|l| (l.mode, l.days));
        let mut put = |common: &ObjectCommon,
                       field: String,
                       key: Result<String, String>,
                       when: Timestamp,
                       content: Content|
         -> Result<Object, SimError> {
            let key = key.map_err(|e| src.error(common.key.span, &field, e))?;
            let bytes = content.bytes();
            let sha = sha256_hex(&bytes);
            let mut metadata = common.metadata.clone();
            if let Some(m) = &common.checksum_metadata {
                metadata.insert(m.clone(), sha.clone());
            }
            let object = Object {
                size: bytes.len() as u64,
                class: common.storage_class,
                archive_status: common.archive_status,
                last_modified: when,
                etag: format!("\"{}\"", &sha[..32]),
                version_id: lock.map(|_| hex(hash(&[&name, &key, "version"]), 32)),
                metadata,
                lock: lock.map(|(mode, days)| (mode, after(when, days_long(days)))),
                content,
                restore: None,
                key,
            };
            bucket.objects.insert(object.key.clone(), object.clone());
            Ok(object)
        };
        for (o, spec) in spec.objects.iter().enumerate() {
            let field = format!("bucket[{i}].object[{o}]");
            let when = match spec.age {
                Some(age) => before(now, age),
                None => before(now, days_long(i64::from(spec.days_ago))),
            };
            let h = hash(&[&name, &spec.common.key.value]);
            let key = expand(&spec.common.key.value, |p| placeholder(p, when, h, o + 1));
            let bytes = match &spec.content_file {
                Some(file) => Content::Bytes(content(&file.value).ok_or_else(|| {
                    src.error(
                        file.span,
                        &format!("{field}.content_file"),
                        format!(
                            "content file `{}` not found beside the world file",
                            file.value
                        ),
                    )
                })?),
                None => generated(&spec.common, &name, key.as_deref().unwrap_or_default()),
            };
            put(&spec.common, format!("{field}.key"), key, when, bytes)?;
        }
        for (s, series) in spec.series.iter().enumerate() {
            let field = format!("bucket[{i}].series[{s}].key");
            let file_bytes = match &series.content_file {
                Some(file) => Some(content(&file.value).ok_or_else(|| {
                    src.error(
                        file.span,
                        &format!("bucket[{i}].series[{s}].content_file"),
                        format!(
                            "content file `{}` not found beside the world file",
                            file.value
                        ),
                    )
                })?),
                None => None,
            };
            let as_of = match (&series.content_as_of, &file_bytes) {
                (None, _) => None,
                (Some(at), None) => {
                    return Err(src.error(
                        at.span,
                        &format!("bucket[{i}].series[{s}].content_as_of"),
                        "`content_as_of` says when a `content_file` was taken: name the file too"
                            .to_string(),
                    ));
                }
                (Some(at), Some(_)) => {
                    let taken = at.value.parse::<Timestamp>().map_err(|_| {
                        src.error(
                            at.span,
                            &format!("bucket[{i}].series[{s}].content_as_of"),
                            format!(
                                "`{}` is not a time: write it as RFC 3339, e.g. 2026-11-22T02:00:00Z",
                                at.value
                            ),
                        )
                    })?;
                    Some((taken, at.span))
                }
            };
            let times = occurrences(series.every, series.weekday, series.at, series.count, now)?;
            let sealed = match &series.encrypt {
                Some(e) => Some(encryption(src, &format!("bucket[{i}].series[{s}]"), e)?),
                None => None,
            };
            for (n, when) in times.iter().enumerate() {
                let h = hash(&[&name, &series.common.key.value, &when.to_string()]);
                let key = expand(&series.common.key.value, |p| {
                    placeholder(p, *when, h, n + 1)
                });
                let key_text = key.as_deref().unwrap_or_default();
                let plain = match (&file_bytes, as_of) {
                    (Some(bytes), Some((taken, span))) => {
                        let by = when.duration_since(taken);
                        let bytes = super::as_of::moved(bytes, by).map_err(|e| {
                            src.error(span, &format!("bucket[{i}].series[{s}].content_as_of"), e)
                        })?;
                        Content::Bytes(bytes.into())
                    }
                    (Some(bytes), None) => Content::Bytes(bytes.clone()),
                    (None, _) => generated(&series.common, &name, key_text),
                };
                let content = match &sealed {
                    // A fresh IV per object, the same on every run.
                    Some(secret) => {
                        let iv = Sha256::digest(format!("{name}/{key_text}/iv").as_bytes());
                        Content::Bytes(
                            crate::crypt::encrypt(
                                secret,
                                crate::crypt::Layout::Iv16Tag16Ciphertext,
                                &iv[..16],
                                &plain.bytes(),
                            )
                            .into(),
                        )
                    }
                    None => plain,
                };
                let object = put(&series.common, field.clone(), key, *when, content)?;
                if let Some(fields) = &series.manifest {
                    let manifest = manifest_json(&object, fields);
                    let key = crate::cloud::points::manifest_key(&object.key).unwrap_or_default();
                    let common = ObjectCommon {
                        storage_class: "STANDARD",
                        archive_status: None,
                        metadata: BTreeMap::new(),
                        checksum_metadata: None,
                        ..series.common.clone()
                    };
                    put(
                        &common,
                        field.clone(),
                        Ok(key),
                        after(*when, Duration::from_secs(3)),
                        Content::Bytes(manifest.into()),
                    )?;
                }
            }
        }
        for (b, bulk) in spec.bulk.iter().enumerate() {
            let field = format!("bucket[{i}].bulk[{b}].key");
            let spread = days_long(i64::from(bulk.spread_days)).as_secs().max(1);
            for n in 0..bulk.count as usize {
                let h = hash(&[&name, &bulk.common.key.value, &n.to_string()]);
                let when = before(now, Duration::from_secs(h % spread));
                let key = expand(&bulk.common.key.value, |p| placeholder(p, when, h, n + 1));
                let key_text = key.clone().unwrap_or_default();
                let size = pick(splitmix(h), bulk.common.size_bytes);
                let content = Content::Generated {
                    seed: hash(&[&name, &key_text]),
                    size,
                    magic: bulk.common.magic.as_str().into(),
                };
                // Bulk objects are many: no checksum is computed for them.
                let key = key.map_err(|e| src.error(bulk.common.key.span, &field, e))?;
                bucket.objects.insert(
                    key.clone(),
                    Object {
                        size,
                        class: bulk.common.storage_class,
                        archive_status: bulk.common.archive_status,
                        last_modified: when,
                        etag: format!("\"{}\"", hex(h, 32)),
                        version_id: lock.map(|_| hex(hash(&[&name, &key, "version"]), 32)),
                        metadata: bulk.common.metadata.clone(),
                        lock: lock.map(|(mode, days)| (mode, after(when, days_long(days)))),
                        content,
                        restore: None,
                        key,
                    },
                );
            }
        }
        self.buckets.insert(name, bucket);
        Ok(())
    }

    /// Removes a table as if it had been deleted (the `missing-table` fault).
    pub fn drop_table(&mut self, name: &str) -> bool {
        let before = self.tables.len();
        self.tables.retain(|(_, n), _| n != name);
        self.tables.len() != before
    }
}

/// The key of an `encrypt` table.
fn encryption(src: &Source<'_>, field: &str, spec: &EncryptSpec) -> Result<[u8; 32], SimError> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(spec.key.value.trim(), &mut key).map_err(|_| {
        src.error(
            spec.key.span,
            &format!("{field}.encrypt.key"),
            "the key must be 64 hex digits (32 bytes, AES-256)".to_string(),
        )
    })?;
    Ok(key)
}

fn placeholder(name: &str, when: Timestamp, h: u64, n: usize) -> Option<String> {
    Some(match name {
        "date" => when.strftime("%Y-%m-%d").to_string(),
        "month" => when.strftime("%Y-%m").to_string(),
        "stamp" => when.strftime("%Y%m%d-%H%M%S").to_string(),
        "ymd" => when.strftime("%Y%m%d").to_string(),
        "hms" => when.strftime("%H%M%S").to_string(),
        "hex7" => hex(h, 7),
        "hex8" => hex(h, 8),
        "n" => n.to_string(),
        _ => return None,
    })
}

fn generated(common: &ObjectCommon, bucket: &str, key: &str) -> Content {
    let seed = hash(&[bucket, key]);
    Content::Generated {
        seed,
        size: pick(splitmix(seed), common.size_bytes),
        magic: common.magic.as_str().into(),
    }
}

/// A GTIN1-style `manifest.json` for a dump.
fn manifest_json(object: &Object, fields: &BTreeMap<String, String>) -> Vec<u8> {
    let mut m = serde_json::Map::new();
    let dir = object.key.rsplit_once('/').map_or("", |(d, _)| d);
    let file = object.key.rsplit('/').next().unwrap_or(&object.key);
    m.insert(
        "backup_id".into(),
        dir.rsplit('/').next().unwrap_or(dir).into(),
    );
    for (k, v) in fields {
        m.insert(k.clone(), v.clone().into());
    }
    m.insert("created_at".into(), object.last_modified.to_string().into());
    m.insert("file".into(), file.into());
    m.insert("size_bytes".into(), object.size.into());
    m.insert(
        "sha256".into(),
        object
            .metadata
            .get("sha256")
            .cloned()
            .unwrap_or_else(|| sha256_hex(&object.content.bytes()))
            .into(),
    );
    m.insert("format".into(), "pg_dump custom (-Fc)".into());
    serde_json::to_vec_pretty(&serde_json::Value::Object(m)).unwrap_or_default()
}
