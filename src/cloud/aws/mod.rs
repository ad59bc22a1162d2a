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

mod error;
mod s3;
mod table;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig};
use aws_sdk_backup::types::RecoveryPointByBackupVault;
use aws_smithy_types::DateTime;
use jiff::Timestamp;
use tokio::sync::mpsc;

use super::error::retry_message;
use super::{
    Cloud, CloudError, CopyCounts, CopyJobFilter, CopyJobSummary, CopyRequest, ErrorKind, Fetched,
    Identity, JobStatus, Notify, ObjectHead, ObjectRef, PitrStatus, PointKind, PointSource,
    RecoveryPoint, RegionSettings, RestoreRequest, RetryPolicy, TableState, VaultPosture,
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
    clients: Mutex<HashMap<String, Clients>>,
    identity: Mutex<Identity>,
    retry: RetryPolicy,
    poll_interval: std::time::Duration,
}

/// Time between polls when nothing else is said.
const DEFAULT_POLL: std::time::Duration = std::time::Duration::from_secs(10);

impl AwsCloud {
    /// Loads the SDK configuration (nothing is sent yet).
    pub async fn connect(options: &AwsOptions) -> Self {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::disabled());
        if let Some(p) = &options.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &options.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(e) = &options.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        Self::from_config(loader.load().await, options)
    }

    /// A cloud on a loaded SDK configuration (tests give one with static
    /// credentials); `options` adds the profile name and poll interval.
    pub fn from_config(config: SdkConfig, options: &AwsOptions) -> Self {
        let endpoint = config.endpoint_url().map(str::to_owned);
        let identity = Identity {
            region: config
                .region()
                .map_or_else(|| "us-east-1".to_string(), |r| r.to_string()),
            profile: options
                .profile
                .clone()
                .or_else(|| std::env::var("AWS_PROFILE").ok()),
            endpoint: endpoint.clone(),
            ..Identity::default()
        };
        Self {
            config,
            endpoint,
            clients: Mutex::new(HashMap::new()),
            identity: Mutex::new(identity),
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
            clients: Mutex::new(HashMap::from([(region.to_string(), clients)])),
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
    }

    async fn list_vault(
        &self,
        vault: &str,
        region: Option<&str>,
        resource_type: Option<&str>,
        resource_arn: Option<&str>,
        pages: &mpsc::Sender<Vec<RecoveryPoint>>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError> {
        let (clients, region) = self.clients(region);
        let resource = format!("backup vault {vault} in {region}");
        let mut token: Option<String> = None;
        loop {
            let page = send!(
                self,
                notify,
                "ListRecoveryPointsByBackupVault",
                resource,
                clients
                    .backup
                    .list_recovery_points_by_backup_vault()
                    .backup_vault_name(vault)
                    .set_by_resource_type(resource_type.map(str::to_owned))
                    .set_by_resource_arn(resource_arn.map(str::to_owned))
                    .set_next_token(token.clone())
            )
            .await?;
            let now = Timestamp::now();
            let points: Vec<RecoveryPoint> = page
                .recovery_points()
                .iter()
                .filter_map(|p| backup_point(p, &region, now))
                .collect();
            if !self.send_page(pages, points).await {
                return Ok(());
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(()),
            }
        }
    }
}

/// A fresh idempotency token for one job start, sent with every retry of
/// it: when an answer is lost and the call is retried, AWS Backup answers
/// with the job the first call started instead of starting a second one.
/// (The SDK would draw a new token for each attempt.)
fn idempotency_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let half = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u64(salt);
        h.write_u32(std::process::id());
        h.finish()
    };
    format!("dr-drill-{:016x}{:016x}", half(1), half(2))
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

fn backup_point(
    p: &RecoveryPointByBackupVault,
    region: &str,
    now: Timestamp,
) -> Option<RecoveryPoint> {
    let arn = p.recovery_point_arn()?;
    let created = p.creation_date().and_then(ts)?;
    let mut point = RecoveryPoint::new(
        arn.to_owned(),
        PointKind::Backup,
        created,
        region.to_owned(),
    );
    point.completed_at = p.completion_date().and_then(ts);
    point.status = p
        .status()
        .map_or_else(|| "UNKNOWN".into(), |s| s.as_str().to_owned());
    point.size_bytes = p.backup_size_in_bytes().and_then(|s| u64::try_from(s).ok());
    point.resource_arn = p.resource_arn().map(str::to_owned);
    point.resource_name = p.resource_name().map(str::to_owned);
    point.resource_type = p.resource_type().map(str::to_owned);
    point.vault = p.backup_vault_name().map(str::to_owned);
    point.copied_from = p.source_backup_vault_arn().map(str::to_owned);
    point.encryption_key_arn = p.encryption_key_arn().map(str::to_owned);
    if let Some(l) = p.calculated_lifecycle() {
        point.move_to_cold_at = l.move_to_cold_storage_at().and_then(ts);
        point.delete_at = l.delete_at().and_then(ts);
    }
    // The listing does not carry the storage class; the lifecycle tells it.
    point.storage_class = Some(
        if point.move_to_cold_at.is_some_and(|t| t <= now) {
            "COLD"
        } else {
            "WARM"
        }
        .into(),
    );
    Some(point)
}

fn job_status(
    job_id: &str,
    status: Option<&str>,
    percent: Option<&str>,
    message: Option<&str>,
    completed: Option<&DateTime>,
) -> JobStatus {
    JobStatus {
        job_id: job_id.to_owned(),
        status: status.unwrap_or("UNKNOWN").to_owned(),
        percent_done: percent.map(str::to_owned),
        message: message.filter(|m| !m.is_empty()).map(str::to_owned),
        created_resource_arn: None,
        destination_recovery_point_arn: None,
        completed_at: completed.and_then(ts),
    }
}

#[async_trait]
impl Cloud for AwsCloud {
    fn identity(&self) -> Identity {
        self.lock_identity().clone()
    }

    fn poll_interval(&self) -> std::time::Duration {
        self.poll_interval
    }

    async fn verify_credentials(&self) -> Result<Identity, CloudError> {
        use aws_credential_types::provider::ProvideCredentials;
        let Some(provider) = self.config.credentials_provider() else {
            return Err(CloudError::new(
                "resolve credentials",
                "the AWS credential chain",
                ErrorKind::Credentials,
                "no credentials provider is configured",
            ));
        };
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(error::credentials)?;
        if let Some(expiry) = credentials.expiry()
            && expiry <= std::time::SystemTime::now()
        {
            return Err(CloudError::new(
                "resolve credentials",
                "the AWS credential chain",
                ErrorKind::Credentials,
                "the session credentials have expired",
            ));
        }
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
                self.list_vault(
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
        let (c, _) = self.clients(region);
        let out = send!(
            self,
            notify,
            "GetRecoveryPointRestoreMetadata",
            point_arn,
            c.backup
                .get_recovery_point_restore_metadata()
                .backup_vault_name(vault)
                .recovery_point_arn(point_arn)
        )
        .await?;
        Ok(out
            .restore_metadata()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    async fn start_restore(
        &self,
        request: &RestoreRequest,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<String, CloudError> {
        let (c, _) = self.clients(region);
        let metadata: HashMap<String, String> = request.metadata.clone().into_iter().collect();
        let token = idempotency_token();
        let out = send!(
            self,
            notify,
            "StartRestoreJob",
            &request.recovery_point_arn,
            c.backup
                .start_restore_job()
                .idempotency_token(&token)
                .recovery_point_arn(&request.recovery_point_arn)
                .iam_role_arn(&request.iam_role_arn)
                .set_metadata(Some(metadata.clone()))
                .set_resource_type(request.resource_type.clone())
        )
        .await?;
        out.restore_job_id().map(str::to_owned).ok_or_else(|| {
            CloudError::new(
                "StartRestoreJob",
                &request.recovery_point_arn,
                ErrorKind::Other,
                "the answer has no restore job id",
            )
        })
    }

    async fn restore_job(
        &self,
        job_id: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<JobStatus, CloudError> {
        let (c, _) = self.clients(region);
        let resource = format!("restore job {job_id}");
        let out = send!(
            self,
            notify,
            "DescribeRestoreJob",
            resource,
            c.backup.describe_restore_job().restore_job_id(job_id)
        )
        .await?;
        let mut status = job_status(
            job_id,
            out.status().map(|s| s.as_str()),
            out.percent_done(),
            out.status_message(),
            out.completion_date(),
        );
        status.created_resource_arn = out.created_resource_arn().map(str::to_owned);
        if let Some(arn) = &status.created_resource_arn {
            self.saw_arn(arn);
        }
        Ok(status)
    }

    async fn start_copy(
        &self,
        request: &CopyRequest,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<String, CloudError> {
        let (c, _) = self.clients(region);
        let token = idempotency_token();
        let out = send!(
            self,
            notify,
            "StartCopyJob",
            &request.recovery_point_arn,
            c.backup
                .start_copy_job()
                .idempotency_token(&token)
                .recovery_point_arn(&request.recovery_point_arn)
                .source_backup_vault_name(&request.source_vault)
                .destination_backup_vault_arn(&request.destination_vault_arn)
                .iam_role_arn(&request.iam_role_arn)
        )
        .await?;
        out.copy_job_id().map(str::to_owned).ok_or_else(|| {
            CloudError::new(
                "StartCopyJob",
                &request.recovery_point_arn,
                ErrorKind::Other,
                "the answer has no copy job id",
            )
        })
    }

    async fn copy_job(
        &self,
        job_id: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<JobStatus, CloudError> {
        let (c, _) = self.clients(region);
        let resource = format!("copy job {job_id}");
        let out = send!(
            self,
            notify,
            "DescribeCopyJob",
            resource,
            c.backup.describe_copy_job().copy_job_id(job_id)
        )
        .await?;
        let Some(job) = out.copy_job() else {
            return Err(CloudError::new(
                "DescribeCopyJob",
                resource,
                ErrorKind::NotFound,
                "the answer has no copy job",
            ));
        };
        let mut status = job_status(
            job_id,
            job.state().map(|s| s.as_str()),
            None,
            job.status_message(),
            job.completion_date(),
        );
        status.destination_recovery_point_arn =
            job.destination_recovery_point_arn().map(str::to_owned);
        Ok(status)
    }

    async fn vault_posture(
        &self,
        vault: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<VaultPosture, CloudError> {
        let (c, region) = self.clients(region);
        let resource = format!("backup vault {vault} in {region}");
        let out = send!(
            self,
            notify,
            "DescribeBackupVault",
            resource,
            c.backup.describe_backup_vault().backup_vault_name(vault)
        )
        .await?;
        let arn = out.backup_vault_arn().unwrap_or_default().to_owned();
        self.saw_arn(&arn);
        Ok(VaultPosture {
            name: out.backup_vault_name().unwrap_or(vault).to_owned(),
            arn,
            locked: out.locked().unwrap_or(false),
            min_retention_days: out.min_retention_days(),
            max_retention_days: out.max_retention_days(),
            lock_date: out.lock_date().and_then(ts),
            recovery_points: out.number_of_recovery_points(),
            encryption_key_arn: out.encryption_key_arn().map(str::to_owned),
        })
    }

    async fn region_settings(
        &self,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<RegionSettings, CloudError> {
        let (c, region) = self.clients(region);
        let resource = format!("AWS Backup settings of {region}");
        let out = send!(
            self,
            notify,
            "DescribeRegionSettings",
            resource,
            c.backup.describe_region_settings()
        )
        .await?;
        let map = |m: Option<&HashMap<String, bool>>| -> BTreeMap<String, bool> {
            m.map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
                .unwrap_or_default()
        };
        Ok(RegionSettings {
            opt_in: map(out.resource_type_opt_in_preference()),
            full_management: map(out.resource_type_management_preference()),
        })
    }

    async fn list_copy_jobs(
        &self,
        filter: &CopyJobFilter,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<Vec<CopyJobSummary>, CloudError> {
        let (c, region) = self.clients(region);
        let resource = format!("copy jobs in {region}");
        let since = Timestamp::now()
            .checked_sub(
                jiff::SignedDuration::try_from(filter.within).unwrap_or(jiff::SignedDuration::MAX),
            )
            .unwrap_or(Timestamp::MIN);
        let mut jobs = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = send!(
                self,
                notify,
                "ListCopyJobs",
                resource,
                c.backup
                    .list_copy_jobs()
                    .by_created_after(sdk_time(since))
                    .set_by_resource_type(filter.resource_type.clone())
                    .set_by_destination_vault_arn(filter.destination_vault_arn.clone())
                    .set_next_token(token.clone())
            )
            .await?;
            for j in out.copy_jobs() {
                let Some(created_at) = j.creation_date().and_then(ts) else {
                    continue;
                };
                jobs.push(CopyJobSummary {
                    job_id: j.copy_job_id().unwrap_or_default().to_owned(),
                    state: j.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    created_at,
                    completed_at: j.completion_date().and_then(ts),
                    resource_type: j.resource_type().map(str::to_owned),
                    source_recovery_point_arn: j.source_recovery_point_arn().map(str::to_owned),
                    destination_vault_arn: j.destination_backup_vault_arn().map(str::to_owned),
                    message: j.status_message().map(str::to_owned),
                });
            }
            token = out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        jobs.sort_by_key(|j| std::cmp::Reverse(j.created_at));
        Ok(jobs)
    }

    async fn delete_vault_lock(
        &self,
        vault: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError> {
        let (c, region) = self.clients(region);
        let resource = format!("backup vault {vault} in {region}");
        send!(
            self,
            notify,
            "DeleteBackupVaultLockConfiguration",
            resource,
            c.backup
                .delete_backup_vault_lock_configuration()
                .backup_vault_name(vault)
        )
        .await?;
        Ok(())
    }

    async fn delete_recovery_point(
        &self,
        vault: &str,
        point_arn: &str,
        region: Option<&str>,
        notify: Notify<'_>,
    ) -> Result<(), CloudError> {
        let (c, _) = self.clients(region);
        send!(
            self,
            notify,
            "DeleteRecoveryPoint",
            point_arn,
            c.backup
                .delete_recovery_point()
                .backup_vault_name(vault)
                .recovery_point_arn(point_arn)
        )
        .await?;
        Ok(())
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

    async fn restore_object(
        &self,
        object: &ObjectRef,
        tier: &str,
        days: u32,
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
