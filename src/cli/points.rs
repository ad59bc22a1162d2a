//! `dr-drill points`: the recovery points of vaults, tables and buckets,
//! without the console, as a table for people or JSON for machines.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use jiff::Timestamp;
use serde::Serialize;

use super::cloud::CloudArgs;
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::cloud::points::{Listing, list_all, newest_first};
use crate::cloud::{Identity, PointSource, RecoveryPoint, human_bytes};
use crate::engine::humanize;

/// Arguments of `dr-drill points`.
#[derive(Debug, Args)]
pub struct PointsArgs {
    /// An AWS Backup vault, NAME or NAME@REGION (repeatable: primary and DR side by side).
    #[arg(long = "vault", value_name = "NAME[@REGION]")]
    pub vaults: Vec<String>,
    /// Only points of this resource type in the vaults (`DynamoDB`, `EFS`, ...).
    #[arg(long, value_name = "TYPE")]
    pub resource_type: Option<String>,
    /// Only points of this resource in the vaults.
    #[arg(long, value_name = "ARN")]
    pub resource_arn: Option<String>,
    /// A DynamoDB table, NAME or NAME@REGION: its backups and PITR window (repeatable).
    #[arg(long = "table", value_name = "NAME[@REGION]")]
    pub tables: Vec<String>,
    /// An S3 bucket holding backup objects, NAME or NAME@REGION.
    #[arg(long, value_name = "NAME[@REGION]")]
    pub bucket: Option<String>,
    /// Key prefix in the bucket, e.g. `daily/`.
    #[arg(long, default_value = "", requires = "bucket")]
    pub prefix: String,
    /// Only keys ending with this, e.g. `.enc`.
    #[arg(long, requires = "bucket")]
    pub suffix: Option<String>,
    /// Every version of each object, not only the current one.
    #[arg(long, requires = "bucket")]
    pub versions: bool,
    /// A table for people, or JSON.
    #[arg(long, value_enum, default_value_t = PointsOutput::Table)]
    pub output: PointsOutput,
    /// Show at most this many points (newest first).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Where AWS actions go.
    #[command(flatten)]
    pub cloud: CloudArgs,
}

/// `--output` of `points`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PointsOutput {
    /// Aligned columns.
    Table,
    /// One JSON document: identity and points.
    Json,
}

fn split_region(s: &str) -> (String, Option<String>) {
    match s.rsplit_once('@') {
        Some((name, region)) if !region.is_empty() => (name.to_owned(), Some(region.to_owned())),
        _ => (s.to_owned(), None),
    }
}

impl PointsArgs {
    fn sources(&self) -> Vec<PointSource> {
        let mut sources: Vec<PointSource> = self
            .vaults
            .iter()
            .map(|v| {
                let (vault, region) = split_region(v);
                PointSource::Vault {
                    vault,
                    region,
                    resource_type: self.resource_type.clone(),
                    resource_arn: self.resource_arn.clone(),
                }
            })
            .collect();
        sources.extend(self.tables.iter().map(|t| {
            let (table, region) = split_region(t);
            PointSource::Table { table, region }
        }));
        if let Some(b) = &self.bucket {
            let (bucket, region) = split_region(b);
            sources.push(PointSource::Bucket {
                bucket,
                prefix: self.prefix.clone(),
                suffix: self.suffix.clone(),
                versions: self.versions,
                region,
            });
        }
        sources
    }
}

#[derive(Serialize)]
struct PointsDoc<'a> {
    simulated: bool,
    identity: &'a Identity,
    listed_at: Timestamp,
    sources: &'a [PointSource],
    points: &'a [RecoveryPoint],
}

pub(super) fn run(
    args: &PointsArgs,
    runtime: &tokio::runtime::Runtime,
) -> color_eyre::Result<ExitCode> {
    let sources = args.sources();
    if sources.is_empty() {
        let _ = writeln!(
            std::io::stderr(),
            "error: say what to list: --vault NAME[@REGION], --table NAME[@REGION] or --bucket NAME --prefix PREFIX"
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    runtime.block_on(async {
        // Credentials are checked before the listing, so a missing login
        // is said once, plainly, instead of once per source.
        let cloud = match args.cloud.world().connect_checked().await {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "error: {e}");
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        };
        let mut rx = list_all(cloud.clone(), sources.clone());
        let mut points = Vec::new();
        let mut errors = Vec::new();
        while let Some(listing) = rx.recv().await {
            match listing {
                Listing::Page { points: page, .. } => points.extend(page),
                Listing::Done { source, result } => {
                    if let Err(e) = result {
                        errors.push(format!("{}: {e}", sources[source].describe()));
                    }
                }
                Listing::Notice(m) => {
                    let _ = writeln!(std::io::stderr(), "{m}");
                }
            }
        }
        newest_first(&mut points);
        if let Some(limit) = args.limit {
            points.truncate(limit);
        }
        let identity = cloud.identity();
        let now = Timestamp::now();
        let mut out = std::io::stdout().lock();
        // No source answered: a table saying "0 points" would be a lie.
        let listed = errors.len() < sources.len();
        match args.output {
            _ if !listed => {}
            PointsOutput::Json => {
                let doc = PointsDoc {
                    simulated: identity.simulated,
                    identity: &identity,
                    listed_at: now,
                    sources: &sources,
                    points: &points,
                };
                serde_json::to_writer(&mut out, &doc)?;
                writeln!(out)?;
            }
            PointsOutput::Table => write_table(&mut out, &identity, &sources, &points, now)?,
        }
        for e in &errors {
            let _ = writeln!(std::io::stderr(), "error: {e}");
        }
        Ok(ExitCode::from(if errors.is_empty() {
            EXIT_OK
        } else {
            EXIT_FAILED
        }))
    })
}

fn write_table(
    out: &mut impl Write,
    identity: &Identity,
    sources: &[PointSource],
    points: &[RecoveryPoint],
    now: Timestamp,
) -> std::io::Result<()> {
    let described: Vec<String> = sources.iter().map(PointSource::describe).collect();
    writeln!(
        out,
        "Recovery points in {} — {}",
        described.join(", "),
        identity.describe()
    )?;
    let header = [
        "CREATED (UTC)",
        "AGE",
        "STATUS",
        "SIZE",
        "TIER",
        "TYPE",
        "RESOURCE",
        "WHERE",
        "ID",
    ];
    let rows: Vec<[String; 9]> = points
        .iter()
        .map(|p| {
            let status = match &p.archive {
                Some(crate::cloud::ArchiveState::Needed) => format!("{} (archived)", p.status),
                Some(crate::cloud::ArchiveState::Ongoing) => format!("{} (restoring)", p.status),
                Some(crate::cloud::ArchiveState::Ready { .. }) => {
                    format!("{} (restored)", p.status)
                }
                None => p.status.clone(),
            };
            let place = match (&p.vault, &p.bucket) {
                (Some(v), _) => format!(
                    "{v}@{}{}",
                    p.region,
                    if p.is_copy() { " (copy)" } else { "" }
                ),
                (None, Some(b)) => format!("{b}@{}", p.region),
                _ => p.region.clone(),
            };
            [
                p.created_at.strftime("%Y-%m-%d %H:%M").to_string(),
                humanize(p.age(now)),
                status,
                p.size_bytes.map(human_bytes).unwrap_or_default(),
                p.storage_class.clone().unwrap_or_default(),
                p.resource_type.clone().unwrap_or_default(),
                p.resource_name.clone().unwrap_or_default(),
                place,
                p.id.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s
    };
    writeln!(out, "{}", line(&header.map(str::to_owned)))?;
    for row in &rows {
        writeln!(out, "{}", line(row))?;
    }
    let restorable = points.iter().filter(|p| p.is_restorable()).count();
    let newest = crate::cloud::points::latest(points, None);
    writeln!(
        out,
        "{}, {restorable} restorable{}",
        crate::format::count(points.len() as u64, "point"),
        newest
            .map(|p| format!(
                "; the newest restorable is {} old (the RPO if restored now)",
                humanize(p.age(now))
            ))
            .unwrap_or_default()
    )?;
    // No column fits: a line says how many listed objects' Object Lock is
    // unknown, and why; `--output json` gives each point's `object_lock`.
    let mut unknown = points.iter().filter_map(|p| match &p.object_lock {
        Some(crate::cloud::ObjectLock::Unknown { reason }) => Some(reason),
        _ => None,
    });
    if let Some(reason) = unknown.next() {
        writeln!(
            out,
            "Object Lock unknown for {} ({reason}); --output json shows each point's object_lock",
            crate::format::count(1 + unknown.count() as u64, "point"),
        )?;
    }
    Ok(())
}
