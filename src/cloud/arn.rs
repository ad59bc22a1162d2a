//! What an ARN says about where a call goes.

/// The region a vault-and-point call goes to: the step's `region` when
/// given, else the recovery point ARN's own. Vault names exist only within
/// a region (AWS Backup developer guide, "Backup vaults"; every Backup ARN
/// is `arn:aws:backup:REGION:ACCOUNT:...`), so a DR copy picked by
/// `latest` must be restored, copied or deleted in the DR region, not in
/// the run's.
pub fn point_region(given: Option<String>, point_arn: &str) -> Option<String> {
    given
        .filter(|r| !r.is_empty())
        .or_else(|| arn_region(point_arn))
}

/// The region field of an ARN (`arn:PARTITION:SERVICE:REGION:...`), when
/// it has one that looks like a region name.
pub fn arn_region(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(5, ':');
    let (Some("arn"), Some(_), Some(_), Some(region), Some(_)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let plausible = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    plausible.then(|| region.to_owned())
}

#[cfg(test)]
mod region_tests {
    use super::point_region;

    #[test]
    fn a_point_is_reached_in_its_own_region_unless_the_step_names_one() {
        let dr = "arn:aws:backup:us-west-2:123456789012:recovery-point:abc";
        assert_eq!(point_region(None, dr).as_deref(), Some("us-west-2"));
        assert_eq!(
            point_region(Some("eu-west-1".into()), dr).as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            point_region(Some(String::new()), dr).as_deref(),
            Some("us-west-2")
        );
        let table = "arn:aws:dynamodb:eu-central-1:123456789012:table/t/backup/0169";
        assert_eq!(point_region(None, table).as_deref(), Some("eu-central-1"));
        for hostile in [
            "",
            "arn:p",
            "arn:aws:backup::1:x",
            "arn:aws:backup:US WEST:1:x",
            "not-an-arn:a:b:c:d",
        ] {
            assert_eq!(point_region(None, hostile), None, "{hostile}");
        }
    }
}
