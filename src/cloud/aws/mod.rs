//! [`Cloud`] on the AWS SDK: AWS Backup, DynamoDB and S3, with the standard
//! credential chain (environment, profiles, SSO), `--profile`, `--region`,
//! a region per call for DR-region actions, and `--endpoint-url` /
//! `AWS_ENDPOINT_URL` (S3 path-style when an endpoint is set).
//!
//! The SDK's own retries are off: every call goes through
//! [`with_retry`], which backs off on throttling and 5xx and says so, so
//! the operator sees "retrying" instead of a silent pause.

/// One SDK call with visible retries: builds `$request` for each attempt,
/// sends it, and classifies an error as `$action` on `$resource`.
macro_rules! send {
    ($cloud:expr, $notify:expr, $action:literal, $resource:expr, $request:expr) => {
        $cloud.call($notify, || {
            let request = $request;
            let resource: &str = &$resource;
            async move {
                request
                    .send()
                    .await
                    .map_err(|e| $crate::cloud::aws::classify($action, resource, e))
            }
        })
    };
}

mod backup;
mod error;
mod iam;
mod s3;
mod sts;
mod table;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig};
use aws_smithy_types::DateTime;
use jiff::Timestamp;
use tokio::sync::mpsc;

use super::CallerIdentity;
use super::error::retry_message;
use super::{
    Cloud, CloudError, CopyCounts, CopyJobFilter, CopyJobSummary, CopyRequest, ErrorKind, Fetched,
    Identity, JobStatus, Notify, ObjectHead, ObjectRef, PitrStatus, PointSource, PrefixSummary,
    RecoveryPoint, RegionSettings, RestoreRequest, RetryPolicy, TableState, Tried, VaultPosture,
    with_retry,
};
pub(crate) use error::classify;

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// A named profile (`--profile`, else `AWS_PROFILE`).
    pub profile: Option<String>,
    /// The default region (`--region`, else the profile's or `AWS_REGION`).
    pub region: Option<String>,
    /// Another endpoint (`--endpoint-url`, else `AWS_ENDPOINT_URL`).
    pub endpoint_url: Option<String>,
    /// Time between polls of a job or a table (default 10 s).
    pub poll_interval: Option<std::time::Duration>,
}

/// The three service clients of one region.
#[derive(Clone)]
pub(crate) struct Clients {
    pub backup: aws_sdk_backup::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
}

/// AWS, through the SDK.
pub struct AwsCloud {
    config: SdkConfig,
    endpoint: Option<String>,
    /// Where credentials are looked for, for credentials errors.
    tried: Tried,
    clients: Mutex<HashMap<String, Clients>>,
    identity: Mutex<Identity>,
    /// The secret key and session token `verify_credentials` resolved.
    secrets: Mutex<Vec<String>>,
    retry: RetryPolicy,
    poll_interval: std::time::Duration,
}

/// How long IMDS may take to connect, and to answer.
const IMDS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The region assumed when none is configured anywhere.
const FALLBACK_REGION: &str = "us-east-1";

/// Time between polls when nothing else is said.
const DEFAULT_POLL: std::time::Duration = std::time::Duration::from_secs(10);

/// The SDK configuration `options` choose (profile, region, endpoint),
/// with the bounded IMDS probes and the SDK's own retries off; nothing is
/// sent yet. The one place dr-drill loads it: [`AwsCloud::connect`] and
/// the team table (`team::dynamo`) both start here.
pub async fn sdk_config(options: &AwsOptions) -> SdkConfig {
    use aws_config::default_provider::credentials::DefaultCredentialsChain;
    use aws_config::meta::region::RegionProviderChain;
    let imds = aws_config::imds::Client::builder()
        .max_attempts(1)
        .connect_timeout(IMDS_TIMEOUT)
        .read_timeout(IMDS_TIMEOUT)
        .build();
    let mut profile_region = aws_config::profile::region::ProfileFileRegionProvider::builder();
    let mut credentials = DefaultCredentialsChain::builder().imds_client(imds.clone());
    if let Some(p) = &options.profile {
        profile_region = profile_region.profile_name(p);
        credentials = credentials.profile_name(p);
    }
    let region = match &options.region {
        Some(r) => RegionProviderChain::first_try(Region::new(r.clone())),
        None => RegionProviderChain::first_try(
            aws_config::environment::region::EnvironmentVariableRegionProvider::new(),
        )
        .or_else(profile_region.build())
        .or_else(
            aws_config::imds::region::ImdsRegionProvider::builder()
                .imds_client(imds)
                .build(),
        ),
    };
    // The region chain's IMDS probe does not keep to the client's
    // timeouts; bounded here, and without an answer the region stays
    // unset and us-east-1 is assumed (and shown).
    let region = tokio::time::timeout(2 * IMDS_TIMEOUT, region.region())
        .await
        .ok()
        .flatten();
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::disabled());
    if let Some(p) = &options.profile {
        loader = loader.profile_name(p);
    }
    // Always given, so the loader does not probe IMDS again unbounded.
    let region = region.unwrap_or_else(|| Region::new(FALLBACK_REGION));
    loader = loader.region(region.clone());
    credentials = credentials.region(region);
    loader = loader.credentials_provider(credentials.build().await);
    if let Some(e) = &options.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    loader.load().await
}

impl AwsCloud {
    /// Loads the SDK configuration (nothing is sent yet).
    ///
    /// The EC2 instance metadata service (IMDS), last in the credential
    /// and region chains, is asked once with 1 s timeouts instead of the
    /// SDK's four attempts: on a machine without credentials the operator
    /// hears so within about two seconds, and on EC2 it still answers.
    ///
    /// The SDK's own retries are off: calls are retried by [`with_retry`]
    /// with the policy `AWS_MAX_ATTEMPTS` sets ([`RetryPolicy::from_env`]);
    /// a bad value of it is the error.
    pub async fn connect(options: &AwsOptions) -> Result<Self, String> {
        let retry = RetryPolicy::from_env()?;
        let mut cloud = Self::from_config(sdk_config(options).await, options);
        cloud.retry = retry;
        Ok(cloud)
    }

    /// A cloud on a loaded SDK configuration (tests give one with static
    /// credentials); `options` adds the profile name and poll interval.
    pub fn from_config(config: SdkConfig, options: &AwsOptions) -> Self {
        let endpoint = config.endpoint_url().map(str::to_owned);
        // An empty name (`--profile ""`, `AWS_PROFILE=`) is no profile.
        let chosen = options
            .profile
            .clone()
            .or_else(|| std::env::var("AWS_PROFILE").ok())
            .filter(|p| !p.is_empty());
        let (defined, sso) = error::profile_facts(chosen.as_deref().unwrap_or("default"));
        let tried = Tried {
            // The default profile is named only when it signs in with SSO.
            profile: chosen
                .clone()
                .or_else(|| sso.then(|| "default".to_string())),
            sso,
            defined,
            region: config
                .region()
                .map_or_else(|| FALLBACK_REGION.to_string(), |r| r.to_string()),
            endpoint: endpoint.clone(),
        };
        let identity = Identity {
            region: config
                .region()
                .map_or_else(|| FALLBACK_REGION.to_string(), |r| r.to_string()),
            profile: chosen,
            endpoint: endpoint.clone(),
            ..Identity::default()
        };
        Self {
            config,
            endpoint,
            tried,
            clients: Mutex::new(HashMap::new()),
            identity: Mutex::new(identity),
            secrets: Mutex::new(Vec::new()),
            retry: RetryPolicy::default(),
            poll_interval: options.poll_interval.unwrap_or(DEFAULT_POLL),
        }
    }

    /// A cloud on given clients for the default `region` (tests with mocked
    /// clients).
    pub fn with_clients(
        region: &str,
        backup: aws_sdk_backup::Client,
        dynamodb: aws_sdk_dynamodb::Client,
        s3: aws_sdk_s3::Client,
        retry: RetryPolicy,
    ) -> Self {
        let clients = Clients {
            backup,
            dynamodb,
            s3,
        };
        Self {
            config: SdkConfig::builder()
                .region(Region::new(region.to_string()))
                .behavior_version(BehaviorVersion::latest())
                .build(),
            endpoint: None,
            tried: Tried {
                region: region.to_string(),
                defined: true,
                ..Tried::default()
            },
            clients: Mutex::new(HashMap::from([(region.to_string(), clients)])),
            secrets: Mutex::new(Vec::new()),
            identity: Mutex::new(Identity {
                region: region.to_string(),
                ..Identity::default()
            }),
            retry,
            poll_interval: DEFAULT_POLL,
        }
    }

    fn default_region(&self) -> String {
        self.lock_identity().region.clone()
    }

    fn lock_identity(&self) -> std::sync::MutexGuard<'_, Identity> {
        self.identity.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The clients of `region` (the default one when `None`).
    pub(crate) fn clients(&self, region: Option<&str>) -> (Clients, String) {
        let region = region
            .filter(|r| !r.is_empty())
            .map_or_else(|| self.default_region(), str::to_owned);
        let mut cache = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        let clients = cache
            .entry(region.clone())
            .or_insert_with(|| {
                let r = Region::new(region.clone());
                let s3 = aws_sdk_s3::config::Builder::from(&self.config)
                    .region(r.clone())
                    .force_path_style(self.endpoint.is_some())
                    .build();
                Clients {
                    backup: aws_sdk_backup::Client::from_conf(
                        aws_sdk_backup::config::Builder::from(&self.config)
                            .region(r.clone())
                            .build(),
                    ),
                    dynamodb: aws_sdk_dynamodb::Client::from_conf(
                        aws_sdk_dynamodb::config::Builder::from(&self.config)
                            .region(r)
                            .build(),
                    ),
                    s3: aws_sdk_s3::Client::from_conf(s3),
                }
            })
            .clone();
        (clients, region)
    }

    /// Remembers the account an ARN names, if none is known yet.
    pub(crate) fn saw_arn(&self, arn: &str) {
        let mut id = self.lock_identity();
        if id.account.is_none()
            && let Some(account) = arn.split(':').nth(4).filter(|a| !a.is_empty())
        {
            id.account = Some(account.to_string());
        }
    }

    /// Sends a non-empty page to the reader, remembering the account its
    /// ARNs name; false when the reader is gone (the listing stops).
    pub(crate) async fn send_page(
        &self,
        pages: &mpsc::Sender<Vec<RecoveryPoint>>,
        points: Vec<RecoveryPoint>,
    ) -> bool {
        let Some(first) = points.first() else {
            return true;
        };
        self.saw_arn(&first.id);
        pages.send(points).await.is_ok()
    }

    /// Runs one SDK call with visible retries.
    pub(crate) async fn call<T, F, Fut>(&self, notify: Notify<'_>, call: F) -> Result<T, CloudError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, CloudError>>,
    {
        with_retry(
            self.retry,
            |e, attempt, backoff| notify(retry_message(e, attempt, backoff)),
            call,
        )
        .await
        .map_err(|e| self.with_tried(e))
    }

    /// A credentials error says where credentials were looked for; what
    /// is wrong comes first, and AWS's own words follow.
    fn with_tried(&self, e: CloudError) -> CloudError {
        if e.kind != ErrorKind::Credentials {
            return e;
        }
        let said = e.message.to_ascii_lowercase();
        let message = if said.contains("loading credentials") {
            format!("AWS credentials could not be loaded ({})", e.message)
        } else if said.contains("expired") {
            format!("The AWS credentials have expired ({})", e.message)
        } else {
            format!("AWS refused the credentials ({})", e.message)
        };
        CloudError {
            message,
            ..e.tried(self.tried.clone())
        }
    }
}

/// An access key id as shown and journaled: `AKIA…WXYZ`; never more
/// than its first and last four characters.
fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() > 8 {
        let head: String = chars[..4].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail}")
    } else {
        "…".to_string()
    }
}

/// An SDK date-time as a timestamp.
pub(crate) fn ts(t: &DateTime) -> Option<Timestamp> {
    Timestamp::new(t.secs(), t.subsec_nanos() as i32).ok()
}

/// A timestamp as an SDK date-time.
pub(crate) fn sdk_time(t: Timestamp) -> DateTime {
    DateTime::from_secs_and_nanos(t.as_second(), t.subsec_nanosecond().max(0) as u32)
}

#[async_trait]
impl Cloud for AwsCloud {
    fn identity(&self) -> Identity {
        self.lock_identity().clone()
    }

    fn poll_interval(&self) -> std::time::Duration {
        self.poll_interval
    }

    fn credential_secrets(&self) -> Vec<String> {
        self.secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn verify_credentials(&self) -> Result<Identity, CloudError> {
        use aws_credential_types::provider::ProvideCredentials;
        let tried = &self.tried;
        if let Some(p) = &tried.profile
            && !tried.defined
        {
            return Err(error::resolving(
                format!("AWS profile `{p}` is not defined in the AWS config or credentials file"),
                tried,
            ));
        }
        let Some(provider) = self.config.credentials_provider() else {
            return Err(error::resolving("No AWS credentials were found", tried));
        };
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| error::credentials(&e, tried))?;
        if let Some(expiry) = credentials.expiry()
            && expiry <= std::time::SystemTime::now()
        {
            return Err(error::resolving(
                "The AWS session credentials have expired",
                tried,
            ));
        }
        *self.secrets.lock().unwrap_or_else(|p| p.into_inner()) = [
            Some(credentials.secret_access_key()),
            credentials.session_token(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| s.len() >= 8)
        .map(str::to_owned)
        .collect();
        let masked = mask_key(credentials.access_key_id());
        let mut id = self.lock_identity();
        id.principal = Some(masked);
        if let Some(account) = credentials.account_id() {
            id.account = Some(account.as_str().to_owned());
        } else if let Ok(account) = std::env::var("AWS_ACCOUNT_ID") {
            id.account = Some(account);
        }
        Ok(id.clone())
    }

    async fn simulate_principal_policy(
        &self,
        principal_arn: &str,
        checks: &[crate::cloud::policy::Ask],
        notify: Notify<'_>,
    ) -> Result<Vec<crate::cloud::policy::Simulated>, CloudError> {
        iam::simulate(self, principal_arn, checks, notify).await
    }

    async fn role_arn(&self, name: &str, notify: Notify<'_>) -> Result<String, CloudError> {
        iam::role_arn(self, name, notify).await
    }

    async fn list_points(
        &self,
        source: &PointSource,
        pages: &mpsc::Sender<Vec<RecoveryPoint>>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError> {
        match source {
            PointSource::Vault {
                vault,
                region,
                resource_type,
                resource_arn,
            } => {
                backup::list_points(
                    self,
                    vault,
                    region.as_deref(),
                    resource_type.as_deref(),
                    resource_arn.as_deref(),
                    pages,
                    notify,
                )
                .await
            }
            PointSource::Table { table, region } => {
                table::list_points(self, table, region.as_deref(), pages, notify).await
            }
            PointSource::Bucket {
                bucket,
                prefix,
                suffix,
                versions,
                region,
            } => {
                s3::list_points(
                    self,
                    s3::Listing {
                        bucket,
                        prefix,
                        suffix: suffix.as_deref(),
                        versions: *versions,
                        region: region.as_deref(),
                    },
                    pages,
                    notify,
                )
                .await
            }
        }
    }

    async fn restore_metadata(
        &self,
        vault: &str,
        point_arn: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<BTreeMap<String, String>, CloudError> {
        backup::restore_metadata(self, vault, point_arn, region, notify).await
    }

    async fn start_restore(
        &self,
        request: &RestoreRequest,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<String, CloudError> {
        backup::start_restore(self, request, region, notify).await
    }

    async fn restore_job(
        &self,
        job_id: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<JobStatus, CloudError> {
        backup::restore_job(self, job_id, region, notify).await
    }

    async fn start_copy(
        &self,
        request: &CopyRequest,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<String, CloudError> {
        backup::start_copy(self, request, region, notify).await
    }

    async fn copy_job(
        &self,
        job_id: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<JobStatus, CloudError> {
        backup::copy_job(self, job_id, region, notify).await
    }

    async fn vault_posture(
        &self,
        vault: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<VaultPosture, CloudError> {
        backup::vault_posture(self, vault, region, notify).await
    }

    async fn region_settings(
        &self,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<RegionSettings, CloudError> {
        backup::region_settings(self, region, notify).await
    }

    async fn list_copy_jobs(
        &self,
        filter: &CopyJobFilter,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<Vec<CopyJobSummary>, CloudError> {
        backup::list_copy_jobs(self, filter, region, notify).await
    }

    async fn delete_vault_lock(
        &self,
        vault: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError> {
        backup::delete_vault_lock(self, vault, region, notify).await
    }

    async fn delete_recovery_point(
        &self,
        vault: &str,
        point_arn: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError> {
        backup::delete_recovery_point(self, vault, point_arn, region, notify).await
    }

    async fn describe_recovery_point(
        &self,
        vault: &str,
        point_arn: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<RecoveryPoint, CloudError> {
        backup::describe_recovery_point(self, vault, point_arn, region, notify).await
    }

    async fn restore_table_from_backup(
        &self,
        backup_arn: &str,
        target: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError> {
        table::restore_from_backup(self, backup_arn, target, region, notify).await
    }

    async fn restore_table_to_point_in_time(
        &self,
        source: &str,
        target: &str,
        time: Option<Timestamp>,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError> {
        table::restore_to_point_in_time(self, source, target, time, region, notify).await
    }

    async fn describe_table(
        &self,
        table: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError> {
        table::describe(self, table, region, notify).await
    }

    async fn delete_table(
        &self,
        table: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<TableState, CloudError> {
        table::delete(self, table, region, notify).await
    }

    async fn count_items(
        &self,
        table: &str,
        segments: u32,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<u64, CloudError> {
        table::count(self, table, segments, region, notify).await
    }

    async fn pitr_status(
        &self,
        table: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<PitrStatus, CloudError> {
        table::pitr(self, table, region, notify).await
    }

    async fn copy_table(
        &self,
        from: &str,
        to: &str,
        segments: u32,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<CopyCounts, CloudError> {
        table::copy(self, from, to, segments, region, notify).await
    }

    async fn head_object(
        &self,
        object: &ObjectRef,
        notify: Notify<'_>,
    ) -> Result<ObjectHead, CloudError> {
        s3::head(self, object, notify).await
    }

    async fn summarize_prefix(
        &self,
        bucket: &str,
        prefix: &str,
        region: Option<&str>,
        cap: usize,
        notify: Notify<'_>,
    ) -> Result<PrefixSummary, CloudError> {
        s3::summarize(self, bucket, prefix, region, cap, notify).await
    }

    async fn caller_identity(&self, notify: Notify<'_>) -> Result<CallerIdentity, CloudError> {
        sts::caller_identity(self, notify).await
    }

    async fn object_retention(
        &self,
        object: &ObjectRef,
        notify: Notify<'_>,
    ) -> Result<Option<(String, Timestamp)>, CloudError> {
        s3::retention(self, object, notify).await
    }

    async fn restore_object(
        &self,
        object: &ObjectRef,
        tier: &str,
        days: Option<u32>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError> {
        s3::restore(self, object, tier, days, notify).await
    }

    async fn fetch_object(
        &self,
        object: &ObjectRef,
        to: Option<&Path>,
        notify: Notify<'_>,
    ) -> Result<Fetched, CloudError> {
        s3::fetch(self, object, to, notify).await
    }

    async fn read_object(
        &self,
        object: &ObjectRef,
        notify: Notify<'_>,
    ) -> Result<Vec<u8>, CloudError> {
        s3::read(self, object, notify).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_key_is_masked_without_panicking_on_any_text() {
        assert_eq!(mask_key("AKIAIOSFODNN7EXAMPLE"), "AKIA…MPLE");
        assert_eq!(mask_key("short"), "…");
        // A mistyped key with non-ASCII text must not panic the run.
        assert_eq!(mask_key("AK€IOSFODNN7EXAMPLE"), "AK€I…MPLE");
    }
}
