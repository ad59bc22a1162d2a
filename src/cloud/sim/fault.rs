//! Faults injected into the simulated world (`--fault NAME[=ARG]`).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use super::SimError;
use crate::runbook::diagnostic::did_you_mean;

/// Every fault, as written on the command line.
pub const FAULT_SYNTAX: &[&str] = &[
    "copy-job-fails",
    "restore-job-fails",
    "throttle=N",
    "corrupt-checksum=BUCKET/KEY-GLOB-OR-PREFIX",
    "access-denied=ACTION",
    "missing-table=NAME",
    "inaccessible-key=TABLE",
];

/// The API actions `access-denied` accepts.
pub const ACTIONS: &[&str] = &[
    "GetCallerIdentity",
    "ListRecoveryPointsByBackupVault",
    "GetRecoveryPointRestoreMetadata",
    "StartRestoreJob",
    "DescribeRestoreJob",
    "StartCopyJob",
    "DescribeCopyJob",
    "DescribeBackupVault",
    "DeleteBackupVaultLockConfiguration",
    "DeleteRecoveryPoint",
    "ListBackups",
    "DescribeContinuousBackups",
    "RestoreTableFromBackup",
    "RestoreTableToPointInTime",
    "DescribeTable",
    "Scan",
    "BatchWriteItem",
    "ListObjectsV2",
    "ListObjectVersions",
    "HeadObject",
    "GetObjectRetention",
    "GetObject",
    "RestoreObject",
    "SimulatePrincipalPolicy",
];

/// A fault the simulated world injects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Every copy job fails part-way.
    CopyJobFails,
    /// Every AWS Backup restore job fails part-way (and removes what it created).
    RestoreJobFails,
    /// The next N calls of each operation are throttled (then retried).
    Throttle(u32),
    /// Objects matching the pattern no longer match their recorded checksum.
    CorruptChecksum {
        /// The bucket.
        bucket: String,
        /// A key glob (`*`, `?`) or, without wildcards, a key prefix.
        pattern: String,
    },
    /// Calls of this action are refused (`StartRestoreJob`).
    AccessDenied(String),
    /// The table does not exist (deleted in the incident).
    MissingTable(String),
    /// The table's KMS key is disabled or its grant revoked: DescribeTable
    /// answers INACCESSIBLE_ENCRYPTION_CREDENTIALS (botocore `dynamodb`
    /// 2012-08-10, `TableStatus`). It may name a table a restore creates.
    InaccessibleKey(String),
}

impl FromStr for Fault {
    type Err = SimError;

    fn from_str(text: &str) -> Result<Self, SimError> {
        let bad = |reason: String| SimError::Fault {
            given: text.to_owned(),
            reason,
        };
        let (name, arg) = match text.trim().split_once('=') {
            Some((n, a)) => (n.trim(), Some(a.trim()).filter(|a| !a.is_empty())),
            None => (text.trim(), None),
        };
        let needs = |what: &str| bad(format!("`{name}` needs an argument: {name}={what}"));
        match (name, arg) {
            ("copy-job-fails", None) => Ok(Fault::CopyJobFails),
            ("restore-job-fails", None) => Ok(Fault::RestoreJobFails),
            ("copy-job-fails" | "restore-job-fails", Some(_)) => {
                Err(bad(format!("`{name}` takes no argument")))
            }
            ("throttle", Some(n)) => n
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .map(Fault::Throttle)
                .ok_or_else(|| bad(format!("`{n}` is not a positive number of calls"))),
            ("throttle", None) => Err(needs("N")),
            ("corrupt-checksum", Some(target)) => match target.split_once('/') {
                Some((bucket, pattern)) if !bucket.is_empty() => Ok(Fault::CorruptChecksum {
                    bucket: bucket.to_owned(),
                    pattern: pattern.to_owned(),
                }),
                _ => Err(bad(
                    "write the bucket, a slash, then a key glob or prefix".into()
                )),
            },
            ("corrupt-checksum", None) => Err(needs("BUCKET/KEY-GLOB-OR-PREFIX")),
            ("access-denied", Some(action)) => ACTIONS
                .iter()
                .find(|a| a.eq_ignore_ascii_case(action))
                .map(|a| Fault::AccessDenied((*a).to_owned()))
                .ok_or_else(|| {
                    let close = did_you_mean(action, ACTIONS.iter().copied())
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default();
                    bad(format!(
                        "`{action}` is not an action dr-drill calls{close}; actions: {}",
                        ACTIONS.join(", ")
                    ))
                }),
            ("access-denied", None) => Err(needs("ACTION")),
            ("missing-table", Some(table)) => Ok(Fault::MissingTable(table.to_owned())),
            ("missing-table", None) => Err(needs("NAME")),
            ("inaccessible-key", Some(table)) => Ok(Fault::InaccessibleKey(table.to_owned())),
            ("inaccessible-key", None) => Err(needs("TABLE")),
            _ => {
                let names = FAULT_SYNTAX
                    .iter()
                    .map(|s| s.split('=').next().unwrap_or(s));
                let close = did_you_mean(name, names)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                Err(bad(format!("unknown fault `{name}`{close}")))
            }
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::CopyJobFails => f.write_str("copy-job-fails"),
            Fault::RestoreJobFails => f.write_str("restore-job-fails"),
            Fault::Throttle(n) => write!(f, "throttle={n}"),
            Fault::CorruptChecksum { bucket, pattern } => {
                write!(f, "corrupt-checksum={bucket}/{pattern}")
            }
            Fault::AccessDenied(a) => write!(f, "access-denied={a}"),
            Fault::MissingTable(t) => write!(f, "missing-table={t}"),
            Fault::InaccessibleKey(t) => write!(f, "inaccessible-key={t}"),
        }
    }
}

/// The faults in force, in the form the world consults.
#[derive(Debug, Clone, Default)]
pub(super) struct Faults {
    pub copy_job_fails: bool,
    pub restore_job_fails: bool,
    pub throttle: Option<u32>,
    pub corrupt: Vec<(String, String)>,
    pub access_denied: BTreeSet<String>,
    pub missing_tables: Vec<String>,
    pub inaccessible_keys: BTreeSet<String>,
}

impl Faults {
    pub fn new(faults: &[Fault]) -> Self {
        let mut out = Faults::default();
        for fault in faults {
            match fault {
                Fault::CopyJobFails => out.copy_job_fails = true,
                Fault::RestoreJobFails => out.restore_job_fails = true,
                Fault::Throttle(n) => out.throttle = Some(*n),
                Fault::CorruptChecksum { bucket, pattern } => {
                    out.corrupt.push((bucket.clone(), pattern.clone()))
                }
                Fault::AccessDenied(a) => {
                    out.access_denied.insert(a.clone());
                }
                Fault::MissingTable(t) => out.missing_tables.push(t.clone()),
                Fault::InaccessibleKey(t) => {
                    out.inaccessible_keys.insert(t.clone());
                }
            }
        }
        out
    }

    /// Whether reads of `bucket/key` return corrupted bytes.
    pub fn corrupts(&self, bucket: &str, key: &str) -> bool {
        self.corrupt.iter().any(|(b, pattern)| {
            b == bucket
                && if pattern.contains(['*', '?']) {
                    glob(pattern.as_bytes(), key.as_bytes())
                } else {
                    key.starts_with(pattern.as_str())
                }
        })
    }
}

/// Whether `text` matches `pattern` (`*` any run, `?` one byte).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.split_first(), text.split_first()) {
        (None, _) => text.is_empty(),
        (Some((b'*', rest)), _) => {
            glob(rest, text) || text.split_first().is_some_and(|(_, t)| glob(pattern, t))
        }
        (Some((b'?', rest)), Some((_, t))) => glob(rest, t),
        (Some((p, rest)), Some((c, t))) => p == c && glob(rest, t),
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_and_print_back() {
        for text in [
            "copy-job-fails",
            "restore-job-fails",
            "throttle=3",
            "corrupt-checksum=b/daily/*.enc",
            "access-denied=StartRestoreJob",
            "missing-table=cabal-counter",
        ] {
            let fault: Fault = text.parse().unwrap();
            assert_eq!(fault.to_string(), text);
        }
    }

    #[test]
    fn bad_faults_say_what_is_valid() {
        let e = "copy-jobs-fail".parse::<Fault>().unwrap_err().to_string();
        assert!(e.contains("did you mean `copy-job-fails`"), "{e}");
        assert!(e.contains("missing-table=NAME"), "{e}");
        let e = "throttle=x".parse::<Fault>().unwrap_err().to_string();
        assert!(e.contains("not a positive number"), "{e}");
        let e = "access-denied=StartRestoreJb"
            .parse::<Fault>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `StartRestoreJob`"), "{e}");
        assert!("throttle".parse::<Fault>().is_err());
    }

    #[test]
    fn corrupt_checksum_takes_globs_or_prefixes() {
        let f = Faults::new(&[
            "corrupt-checksum=b/daily/*/x-?.enc".parse().unwrap(),
            "corrupt-checksum=c/monthly/".parse().unwrap(),
        ]);
        assert!(f.corrupts("b", "daily/2026-11-23/x-1.enc"));
        assert!(!f.corrupts("b", "daily/2026-11-23/x-12.enc"));
        assert!(f.corrupts("c", "monthly/2026-11/s.enc"));
        assert!(!f.corrupts("c", "daily/2026-11/s.enc"));
        assert!(!f.corrupts("b", "monthly/x"));
    }
}
