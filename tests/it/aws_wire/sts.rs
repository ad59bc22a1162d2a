//! STS `GetCallerIdentity` over the wire (#16, identity): the account, the
//! principal, and for an assumed role's credentials, the role.

use std::sync::Arc;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use dr_drill::cloud::Cloud;
use dr_drill::cloud::aws::{AwsCloud, AwsOptions};

use super::{ROLE, cloud};
use crate::support::moto;

#[tokio::test]
async fn the_caller_is_the_account_and_principal_sts_names() {
    let me = cloud()
        .caller_identity(&dr_drill::cloud::quiet())
        .await
        .expect("moto answers GetCallerIdentity");
    assert_eq!(me.account, "123456789012");
    assert!(me.arn.starts_with("arn:aws:"), "{}", me.arn);
    assert!(!me.user_id.is_empty());
    assert_eq!(me.assumed_role(), None, "an access key's user is no role");
}

#[tokio::test]
async fn an_assumed_roles_credentials_name_the_role() {
    let config = moto().sdk_config("us-east-1");
    let sts = aws_sdk_sts::Client::new(&config);
    let assumed = sts
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("drill-operator")
        .send()
        .await
        .expect("moto assumes the role");
    let c = assumed.credentials().expect("credentials");
    let as_role = config
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "assumed",
        )))
        .build();
    let cloud: Arc<dyn Cloud> = Arc::new(AwsCloud::from_config(as_role, &AwsOptions::default()));
    let me = cloud
        .caller_identity(&dr_drill::cloud::quiet())
        .await
        .expect("GetCallerIdentity as the role");
    let role = me.assumed_role().expect("an assumed-role session ARN");
    assert_eq!(role.name, "cabal-backup-role");
    assert_eq!(role.session, "drill-operator");
    assert_eq!(role.role_arn(), ROLE);
}
