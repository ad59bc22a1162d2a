//! STS: who the credentials are (`GetCallerIdentity`). The call needs no
//! IAM permission: "No permissions are required to perform this
//! operation" (STS API Reference, GetCallerIdentity; botocore
//! `sts` `GetCallerIdentity`, output shape `GetCallerIdentityResponse`:
//! `UserId`, `Account`, `Arn`).

use aws_config::Region;

use super::AwsCloud;
use crate::cloud::{CallerIdentity, CloudError, Notify};

/// The account, principal ARN and user id of the credentials, from STS in
/// the default region (or the endpoint `--endpoint-url` names).
pub(super) async fn caller_identity(
    cloud: &AwsCloud,
    notify: Notify<'_>,
) -> Result<CallerIdentity, CloudError> {
    let client = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&cloud.config)
            .region(Region::new(cloud.default_region()))
            .build(),
    );
    let out = send!(
        cloud,
        notify,
        "sts:GetCallerIdentity",
        "the caller's identity",
        client.get_caller_identity()
    )
    .await?;
    let said = |v: Option<&str>| v.unwrap_or_default().to_owned();
    Ok(CallerIdentity {
        account: said(out.account()),
        arn: said(out.arn()),
        user_id: said(out.user_id()),
    })
}
