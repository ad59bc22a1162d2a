//! The flags that choose where AWS actions go: profile, region, endpoint.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::cloud::aws::{AwsCloud, AwsOptions};
use crate::cloud::{Cloud, CloudError};
use crate::runbook::model::Dur;

/// Where AWS actions go.
#[derive(Debug, Clone, Args)]
pub struct CloudArgs {
    /// The named AWS profile [default: $AWS_PROFILE, else the default chain].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The default region [default: $AWS_REGION or the profile's]; steps may name others.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Another endpoint for every service, e.g. an emulator [default: $AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Time between polls of AWS jobs and tables [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = duration, hide = true)]
    pub poll_interval: Option<Duration>,
}

fn duration(s: &str) -> Result<Duration, String> {
    Dur::parse(s)
        .map(|d| d.0)
        .map_err(|(m, h)| format!("{m}: {h}"))
}

impl CloudArgs {
    /// The cloud these flags choose. Nothing is sent to AWS yet.
    pub async fn connect(&self) -> Result<Arc<dyn Cloud>, String> {
        let options = AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            poll_interval: self.poll_interval,
        };
        Ok(Arc::new(AwsCloud::connect(&options).await))
    }
}

/// Connects and checks credentials, for commands about to act.
pub async fn connect_checked(args: &CloudArgs) -> Result<Arc<dyn Cloud>, String> {
    let cloud = args.connect().await?;
    cloud
        .verify_credentials()
        .await
        .map_err(|e: CloudError| e.to_string())?;
    Ok(cloud)
}
