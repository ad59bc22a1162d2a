//! The encryption of a DynamoDB table that `backup.restore` creates (and
//! the key of a new EFS file system: [`decide_file_system`]),
//! decided here and nowhere else.
//!
//! AWS Backup's restore metadata for DynamoDB names the restored table's
//! encryption with `encryptionType` (`Default`: the DynamoDB-owned key;
//! `KMS`: a KMS key) and `kmsMasterKeyArn` (AWS Backup developer guide,
//! "Restore a DynamoDB table", encryption settings and the StartRestoreJob
//! metadata; botocore `backup` `StartRestoreJobInput.Metadata` links it).
//! `GetRecoveryPointRestoreMetadata` answers "the original configuration of
//! the backed-up resource" (botocore `GetRecoveryPointRestoreMetadataOutput
//! .RestoreMetadata`): the source table's encryption. The recovery point's
//! own `EncryptionKeyArn` (botocore `DescribeRecoveryPointOutput`) is "the
//! server-side encryption key used to protect your backups": the vault's
//! key, never the table's. The rule:
//!
//! 1. the step's `metadata` wins;
//! 2. else the source table's encryption as the point records it;
//! 3. but a recorded key equal to the backup's own key is dropped (the
//!    table falls back to `Default`), and the step says so;
//! 4. nothing named at all: `Default`, AWS Backup's default ("(Default)
//!    DynamoDB-owned KMS key" in the guide).
//!
//! `KMS` without `kmsMasterKeyArn` is DynamoDB's AWS managed key
//! `alias/aws/dynamodb` (botocore `dynamodb` `SSESpecification
//! .KMSMasterKeyId`).

use std::collections::BTreeMap;

use super::StepError;
use crate::cloud::{Cloud, Notify};

/// The metadata key for the restored table's encryption type.
pub const ENCRYPTION_TYPE: &str = "encryptionType";
/// The metadata key for the restored table's KMS key.
pub const KMS_KEY: &str = "kmsMasterKeyArn";

/// How a restored table is encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableEncryption {
    /// The DynamoDB-owned key (`encryptionType = Default`).
    Default,
    /// A KMS key; `None` is the AWS managed key `alias/aws/dynamodb`.
    Kms(Option<String>),
}

impl TableEncryption {
    /// The step output `encryption`: `Default`, or `KMS <key>`.
    pub fn output(&self) -> String {
        match self {
            TableEncryption::Default => "Default".into(),
            TableEncryption::Kms(Some(key)) => format!("KMS {key}"),
            TableEncryption::Kms(None) => "KMS alias/aws/dynamodb".into(),
        }
    }

    /// Words for the step's log.
    pub fn words(&self) -> String {
        match self {
            TableEncryption::Default => "the DynamoDB-owned key (encryptionType = Default)".into(),
            TableEncryption::Kms(Some(key)) => {
                format!("the KMS key {key} (encryptionType = KMS)")
            }
            TableEncryption::Kms(None) => {
                "the AWS managed key alias/aws/dynamodb (encryptionType = KMS, no kmsMasterKeyArn)"
                    .into()
            }
        }
    }
}

/// What dr-drill knows of the key that encrypts the backup itself.
#[derive(Debug, Clone, Copy)]
pub enum BackupKey<'a> {
    /// DescribeRecoveryPoint answered (`None`: it names no key).
    Known(Option<&'a str>),
    /// DescribeRecoveryPoint failed, with why.
    Unknown(&'a str),
}

/// The metadata to send and the encryption it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The point's metadata merged with the step's, encryption settled.
    pub metadata: BTreeMap<String, String>,
    /// The encryption the restore asks for.
    pub encryption: TableEncryption,
    /// Why, for the step's log.
    pub why: String,
}

/// Decides a DynamoDB restore's encryption from the point's recorded
/// metadata, the step's overrides and the backup's own key. Errors name
/// the field and what to set.
pub fn decide(
    recorded: &BTreeMap<String, String>,
    step: &BTreeMap<String, String>,
    backup_key: BackupKey<'_>,
) -> Result<Decision, String> {
    let (encryption, why) = if let Some(asked) = read(step, "the step's metadata")? {
        (asked, "the step's metadata asks for it".to_owned())
    } else {
        match read(recorded, "the point's restore metadata")? {
            Some(TableEncryption::Kms(Some(key))) => match backup_key {
                BackupKey::Known(Some(backup)) if same_key(backup, &key) => (
                    TableEncryption::Default,
                    format!(
                        "the point's restore metadata names {key}, the key that encrypts the backup \
                         itself (its vault's key), not the source table's; dr-drill does not \
                         re-encrypt a restored table with it. To choose a key, set \
                         metadata.kmsMasterKeyArn in the step"
                    ),
                ),
                BackupKey::Known(_) => (
                    TableEncryption::Kms(Some(key)),
                    "the source table's encryption, as the point records it".to_owned(),
                ),
                BackupKey::Unknown(reason) => {
                    return Err(format!(
                        "the point's restore metadata names the KMS key {key}, and dr-drill cannot \
                         tell whether it is the backup's own key ({reason}). Set \
                         metadata.encryptionType in the step (\"Default\", or \"KMS\" with \
                         kmsMasterKeyArn), or allow backup:DescribeRecoveryPoint"
                    ));
                }
            },
            Some(recorded) => (
                recorded,
                "the source table's encryption, as the point records it".to_owned(),
            ),
            None => (
                TableEncryption::Default,
                "neither the step nor the point names one: AWS Backup's default".to_owned(),
            ),
        }
    };
    let mut metadata: BTreeMap<String, String> = recorded
        .iter()
        .chain(step)
        .filter(|(k, _)| !is_encryption_key(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    match &encryption {
        TableEncryption::Default => {
            metadata.insert(ENCRYPTION_TYPE.into(), "Default".into());
        }
        TableEncryption::Kms(key) => {
            metadata.insert(ENCRYPTION_TYPE.into(), "KMS".into());
            if let Some(key) = key {
                metadata.insert(KMS_KEY.into(), key.clone());
            }
        }
    }
    Ok(Decision {
        metadata,
        encryption,
        why,
    })
}

fn is_encryption_key(k: &str) -> bool {
    k.eq_ignore_ascii_case(ENCRYPTION_TYPE) || k.eq_ignore_ascii_case(KMS_KEY)
}

/// The encryption `meta` names, if any; `origin` names it in errors.
fn read(meta: &BTreeMap<String, String>, origin: &str) -> Result<Option<TableEncryption>, String> {
    let get = |name: &str| {
        meta.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    };
    let key = get(KMS_KEY).filter(|k| !k.is_empty()).map(str::to_owned);
    match get(ENCRYPTION_TYPE) {
        None | Some("") => Ok(key.map(|k| TableEncryption::Kms(Some(k)))),
        Some(t) if t.eq_ignore_ascii_case("Default") => match key {
            None => Ok(Some(TableEncryption::Default)),
            Some(k) => Err(format!(
                "{origin}: encryptionType = \"Default\" with kmsMasterKeyArn = {k:?}: the \
                 DynamoDB-owned key takes no key ARN; set encryptionType = \"KMS\" or drop \
                 kmsMasterKeyArn"
            )),
        },
        Some(t) if t.eq_ignore_ascii_case("KMS") => Ok(Some(TableEncryption::Kms(key))),
        Some(t) => Err(format!(
            "{origin}: encryptionType = {t:?} is not one AWS Backup documents for DynamoDB; use \
             \"Default\" or \"KMS\" (with kmsMasterKeyArn)"
        )),
    }
}

/// Whether two KMS key references name the same key: equal, or the same
/// key id after `key/` (an ARN against a bare id).
fn same_key(a: &str, b: &str) -> bool {
    let id = |s: &str| s.rsplit_once("key/").map_or(s, |(_, id)| id).to_owned();
    a == b || id(a) == id(b)
}

/// The metadata a `backup.restore` sends: the point's, merged with the
/// step's, and for a DynamoDB point the encryption settled by [`decide`]
/// (returned too, for the step's log and output). Other resource types
/// are merged as they are.
#[allow(clippy::too_many_arguments)]
pub(super) async fn settle(
    cloud: &dyn Cloud,
    vault: &str,
    point: &str,
    region: Option<&str>,
    resource_type: Option<&str>,
    recorded: BTreeMap<String, String>,
    step: BTreeMap<String, String>,
    notify: Notify<'_>,
) -> Result<(BTreeMap<String, String>, Option<Decision>), StepError> {
    let names_a_table = || {
        recorded
            .keys()
            .chain(step.keys())
            .any(|k| k.eq_ignore_ascii_case("targetTableName"))
    };
    let plain = |mut recorded: BTreeMap<String, String>, step| {
        recorded.extend(step);
        Ok((recorded, None))
    };
    let names_a_file_system = recorded
        .keys()
        .chain(step.keys())
        .any(|k| k.eq_ignore_ascii_case("file-system-id"));
    match resource_type {
        Some("EFS") => {}
        Some(t) if t != "DynamoDB" => return plain(recorded, step),
        None if names_a_file_system => {}
        None if !names_a_table() => return plain(recorded, step),
        _ => {}
    }
    if resource_type == Some("EFS") || (resource_type.is_none() && names_a_file_system) {
        let metadata = settle_file_system(cloud, vault, point, region, recorded, step, notify)
            .await
            .map_err(|e| StepError::Fatal(format!("backup.restore of {point}: {e}")))?;
        return Ok((metadata, None));
    }
    let described = cloud
        .describe_recovery_point(vault, point, region, notify)
        .await;
    if resource_type.is_none()
        && let Ok(p) = &described
        && p.resource_type.as_deref() != Some("DynamoDB")
    {
        return plain(recorded, step);
    }
    let failed = described.as_ref().err().map(ToString::to_string);
    let backup_key = match (&described, &failed) {
        (Ok(p), _) => BackupKey::Known(p.encryption_key_arn.as_deref()),
        (Err(_), Some(why)) => BackupKey::Unknown(why),
        (Err(_), None) => BackupKey::Unknown("DescribeRecoveryPoint failed"),
    };
    let decision = decide(&recorded, &step, backup_key)
        .map_err(|e| StepError::Fatal(format!("backup.restore of {point}: {e}")))?;
    Ok((decision.metadata.clone(), Some(decision)))
}

/// The EFS metadata key naming the new file system's KMS key.
pub const EFS_KMS_KEY: &str = "KmsKeyId";

/// An EFS restore's metadata: the point's, merged with the step's, without
/// the backup's own key as the new file system's. `KmsKeyId` "specifies
/// the KMS key that is used to encrypt the restored file system"
/// (botocore `backup` 2018-11-15, `StartRestoreJobInput.Metadata`; AWS
/// Backup developer guide, "Restore an Amazon EFS file system"), and the
/// point's `EncryptionKeyArn` is the vault's key that protects the backup
/// (`DescribeRecoveryPointOutput`): a recorded `KmsKeyId` equal to it is
/// dropped, so the file system keeps `Encrypted = true` with EFS's AWS
/// managed key, and `notify` says so. The step's `KmsKeyId` wins.
pub fn decide_file_system(
    recorded: &BTreeMap<String, String>,
    step: &BTreeMap<String, String>,
    backup_key: BackupKey<'_>,
) -> Result<(BTreeMap<String, String>, Option<String>), String> {
    let named = |m: &BTreeMap<String, String>| {
        m.iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(EFS_KMS_KEY) && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
    };
    let mut metadata = recorded.clone();
    metadata.extend(step.iter().map(|(k, v)| (k.clone(), v.clone())));
    let (Some(key), None) = (named(recorded), named(step)) else {
        return Ok((metadata, None));
    };
    match backup_key {
        BackupKey::Known(Some(backup)) if same_key(backup, &key) => {
            metadata.retain(|k, _| !k.eq_ignore_ascii_case(EFS_KMS_KEY));
            Ok((
                metadata,
                Some(format!(
                    "the point's restore metadata names KmsKeyId {key}, the key that encrypts the \
                     backup itself (its vault's key), not the file system's; dr-drill does not \
                     encrypt the restored file system with it, so EFS uses its AWS managed key. \
                     To choose a key, set metadata.KmsKeyId in the step"
                )),
            ))
        }
        BackupKey::Known(_) => Ok((metadata, None)),
        BackupKey::Unknown(reason) => Err(format!(
            "the point's restore metadata names KmsKeyId {key}, and dr-drill cannot tell whether \
             it is the backup's own key ({reason}). Set metadata.KmsKeyId in the step, or allow \
             backup:DescribeRecoveryPoint"
        )),
    }
}

/// [`decide_file_system`] after asking `DescribeRecoveryPoint`, only when
/// the point's metadata names a key the step does not override.
async fn settle_file_system(
    cloud: &dyn Cloud,
    vault: &str,
    point: &str,
    region: Option<&str>,
    recorded: BTreeMap<String, String>,
    step: BTreeMap<String, String>,
    notify: Notify<'_>,
) -> Result<BTreeMap<String, String>, String> {
    let asks = |m: &BTreeMap<String, String>| m.keys().any(|k| k.eq_ignore_ascii_case(EFS_KMS_KEY));
    if !asks(&recorded) || asks(&step) {
        return decide_file_system(&recorded, &step, BackupKey::Known(None)).map(|(m, _)| m);
    }
    let described = cloud
        .describe_recovery_point(vault, point, region, notify)
        .await;
    let why = described.as_ref().err().map(ToString::to_string);
    let backup_key = match (&described, &why) {
        (Ok(p), _) => BackupKey::Known(p.encryption_key_arn.as_deref()),
        (Err(_), Some(why)) => BackupKey::Unknown(why),
        (Err(_), None) => BackupKey::Unknown("DescribeRecoveryPoint failed"),
    };
    let (metadata, note) = decide_file_system(&recorded, &step, backup_key)?;
    if let Some(note) = note {
        notify(format!("restored file system: {note}"));
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAULT_KEY: &str = "arn:aws:kms:eu-west-1:111122223333:key/vault-key";
    const TABLE_KEY: &str = "arn:aws:kms:eu-west-1:111122223333:key/table-key";

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_vaults_key_is_never_taken_for_a_new_file_system() {
        let recorded = map(&[
            ("file-system-id", "fs-1"),
            ("Encrypted", "true"),
            ("KmsKeyId", VAULT_KEY),
            ("newFileSystem", "true"),
        ]);
        let (m, note) =
            decide_file_system(&recorded, &map(&[]), BackupKey::Known(Some("vault-key"))).unwrap();
        assert!(!m.contains_key("KmsKeyId"), "{m:?}");
        assert_eq!(m["Encrypted"], "true");
        assert!(note.unwrap().contains("vault's key"));
        // The file system's own key stays; the step's wins; unknown refuses.
        let own = map(&[("KmsKeyId", TABLE_KEY)]);
        let (m, note) =
            decide_file_system(&own, &map(&[]), BackupKey::Known(Some(VAULT_KEY))).unwrap();
        assert_eq!((m["KmsKeyId"].as_str(), note), (TABLE_KEY, None));
        let step = map(&[("KmsKeyId", VAULT_KEY)]);
        let (m, _) = decide_file_system(&recorded, &step, BackupKey::Unknown("denied")).unwrap();
        assert_eq!(m["KmsKeyId"], VAULT_KEY);
        let e = decide_file_system(&own, &map(&[]), BackupKey::Unknown("denied")).unwrap_err();
        assert!(
            e.contains("metadata.KmsKeyId") && e.contains("denied"),
            "{e}"
        );
    }

    #[test]
    fn the_vaults_key_is_never_taken_for_the_tables() {
        let recorded = map(&[
            ("targetTableName", "t"),
            ("encryptionType", "KMS"),
            ("kmsMasterKeyArn", VAULT_KEY),
        ]);
        let d = decide(&recorded, &map(&[]), BackupKey::Known(Some(VAULT_KEY))).unwrap();
        assert_eq!(d.encryption, TableEncryption::Default);
        assert_eq!(
            d.metadata,
            map(&[("targetTableName", "t"), ("encryptionType", "Default")])
        );
        assert!(d.why.contains("vault's key"), "{}", d.why);
        // The same key by its bare id is the same key.
        let d = decide(&recorded, &map(&[]), BackupKey::Known(Some("vault-key"))).unwrap();
        assert_eq!(d.encryption, TableEncryption::Default);
    }

    #[test]
    fn the_source_tables_own_key_is_kept() {
        let recorded = map(&[("encryptionType", "KMS"), ("kmsMasterKeyArn", TABLE_KEY)]);
        let d = decide(&recorded, &map(&[]), BackupKey::Known(Some(VAULT_KEY))).unwrap();
        assert_eq!(d.encryption, TableEncryption::Kms(Some(TABLE_KEY.into())));
        assert_eq!(d.encryption.output(), format!("KMS {TABLE_KEY}"));
    }

    #[test]
    fn the_steps_metadata_wins_even_for_the_vaults_key() {
        let recorded = map(&[("encryptionType", "KMS"), ("kmsMasterKeyArn", TABLE_KEY)]);
        let step = map(&[("kmsMasterKeyArn", VAULT_KEY)]);
        let d = decide(&recorded, &step, BackupKey::Known(Some(VAULT_KEY))).unwrap();
        assert_eq!(d.encryption, TableEncryption::Kms(Some(VAULT_KEY.into())));
        // Default from the step drops the recorded key: the merge sends
        // no Default-with-a-key pair.
        let step = map(&[("EncryptionType", "default")]);
        let d = decide(&recorded, &step, BackupKey::Unknown("denied")).unwrap();
        assert_eq!(d.metadata, map(&[("encryptionType", "Default")]));
    }

    #[test]
    fn nothing_named_is_default_and_kms_without_a_key_is_the_managed_key() {
        let d = decide(&map(&[]), &map(&[]), BackupKey::Unknown("denied")).unwrap();
        assert_eq!(d.encryption, TableEncryption::Default);
        let d = decide(
            &map(&[("encryptionType", "KMS")]),
            &map(&[]),
            BackupKey::Known(None),
        )
        .unwrap();
        assert_eq!(d.encryption.output(), "KMS alias/aws/dynamodb");
        assert_eq!(d.metadata, map(&[("encryptionType", "KMS")]));
    }

    #[test]
    fn unclear_or_inconsistent_metadata_is_refused_with_the_field() {
        let recorded = map(&[("encryptionType", "KMS"), ("kmsMasterKeyArn", TABLE_KEY)]);
        let e = decide(&recorded, &map(&[]), BackupKey::Unknown("AccessDenied")).unwrap_err();
        assert!(e.contains("backup:DescribeRecoveryPoint"), "{e}");
        let e = decide(
            &map(&[]),
            &map(&[("encryptionType", "AES256")]),
            BackupKey::Known(None),
        )
        .unwrap_err();
        assert!(
            e.contains("the step's metadata: encryptionType = \"AES256\""),
            "{e}"
        );
        let e = decide(
            &map(&[]),
            &map(&[
                ("encryptionType", "Default"),
                ("kmsMasterKeyArn", TABLE_KEY),
            ]),
            BackupKey::Known(None),
        )
        .unwrap_err();
        assert!(e.contains("drop kmsMasterKeyArn"), "{e}");
    }
}
