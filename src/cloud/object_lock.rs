//! What dr-drill knows of an S3 object's Object Lock: locked, not locked,
//! or unknown and why. The one place that decides it from what S3 said.
//!
//! HeadObject returns `x-amz-object-lock-mode` and
//! `x-amz-object-lock-retain-until-date` "only if the requester has the
//! s3:GetObjectRetention permission" (botocore `s3` 2006-03-01,
//! `HeadObjectOutput.ObjectLockMode`), so a head without them is not "no
//! lock". A bucket without an Object Lock configuration
//! (`GetObjectLockConfiguration` answers
//! `ObjectLockConfigurationNotFoundError`, botocore `s3` 2006-03-01,
//! `GetObjectLockConfiguration`) holds no locked object: one call per
//! bucket settles every object in it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Why a listed object's lock is unknown when its head had no headers.
pub const LOCK_HIDDEN: &str = "HeadObject shows Object Lock only with s3:GetObjectRetention";

/// An object's Object Lock, as far as dr-drill can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ObjectLock {
    /// Retained: `mode` is `GOVERNANCE` or `COMPLIANCE`.
    Locked {
        /// `GOVERNANCE` or `COMPLIANCE`.
        mode: String,
        /// The retain-until date, when S3 gave one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<Timestamp>,
    },
    /// Known not to be retained.
    NotLocked,
    /// Not known, and why.
    Unknown {
        /// What kept dr-drill from knowing, and what would tell.
        reason: String,
    },
}

/// A bucket's Object Lock configuration, as `GetObjectLockConfiguration`
/// answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketLock {
    /// The bucket has Object Lock: an object may be locked.
    Configured,
    /// `ObjectLockConfigurationNotFoundError`: no object is locked.
    NotConfigured,
    /// The call failed (refused, throttled…): what it said.
    Unknown(String),
}

impl ObjectLock {
    /// A listed object's lock: from its head's Object Lock headers (`None`
    /// when the head had none or there was no head), else from its bucket.
    pub fn listed(headers: Option<(String, Option<Timestamp>)>, bucket: &BucketLock) -> Self {
        match (headers, bucket) {
            (Some((mode, until)), _) => ObjectLock::Locked { mode, until },
            (None, BucketLock::NotConfigured) => ObjectLock::NotLocked,
            (None, BucketLock::Configured) => ObjectLock::Unknown {
                reason: LOCK_HIDDEN.into(),
            },
            (None, BucketLock::Unknown(why)) => ObjectLock::Unknown {
                reason: format!(
                    "{LOCK_HIDDEN}, and the bucket's Object Lock configuration is unknown: {why}"
                ),
            },
        }
    }

    /// Outputs `object_lock_mode` and `retain_until`: the mode and date,
    /// empty when not locked, `unknown` when unknown.
    pub fn outputs(&self) -> (String, String) {
        match self {
            ObjectLock::Locked { mode, until } => (
                mode.clone(),
                until.map(crate::format::timestamp).unwrap_or_default(),
            ),
            ObjectLock::NotLocked => (String::new(), String::new()),
            ObjectLock::Unknown { .. } => ("unknown".into(), "unknown".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_lock_an_object_and_no_configuration_frees_it() {
        let until: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
        let locked = ObjectLock::listed(
            Some(("GOVERNANCE".into(), Some(until))),
            &BucketLock::Configured,
        );
        assert_eq!(
            locked.outputs(),
            ("GOVERNANCE".into(), crate::format::timestamp(until))
        );
        assert_eq!(
            ObjectLock::listed(None, &BucketLock::NotConfigured),
            ObjectLock::NotLocked
        );
        let hidden = ObjectLock::listed(None, &BucketLock::Configured);
        assert_eq!(
            hidden,
            ObjectLock::Unknown {
                reason: LOCK_HIDDEN.into()
            }
        );
        assert_eq!(hidden.outputs(), ("unknown".into(), "unknown".into()));
        let refused = ObjectLock::listed(None, &BucketLock::Unknown("AccessDenied".into()));
        assert!(
            matches!(refused, ObjectLock::Unknown { reason } if reason.contains("AccessDenied"))
        );
    }

    #[test]
    fn it_reads_as_json_with_a_state() {
        let json = serde_json::to_value(ObjectLock::Unknown {
            reason: LOCK_HIDDEN.into(),
        })
        .unwrap();
        assert_eq!(json["state"], "unknown");
        assert_eq!(
            serde_json::to_value(ObjectLock::NotLocked).unwrap()["state"],
            "not_locked"
        );
    }
}
