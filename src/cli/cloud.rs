//! The flags that choose where AWS actions go: real AWS (profile, region,
//! endpoint) or the simulated world (`--sandbox`), never both. How the
//! world is reached is the session's ([`World`]).

use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::cloud::Cloud;
use crate::cloud::sim::Fault;
use crate::runbook::model::Dur;
use crate::session::World;
use crate::session::recorded::WorldFlags;

/// Where AWS actions go.
#[derive(Debug, Clone, Default, Args)]
pub struct CloudArgs {
    /// The named AWS profile [default: $AWS_PROFILE, else the default chain].
    #[arg(long, value_name = "NAME", conflicts_with = "sandbox")]
    pub profile: Option<String>,
    /// The default region [default: $AWS_REGION or the profile's]; steps may name others.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Another endpoint for every service, e.g. an emulator [default: $AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL", conflicts_with = "sandbox")]
    pub endpoint_url: Option<String>,
    /// Act on the simulated world, not AWS: no credentials are read, and
    /// every output says SIMULATED.
    #[arg(long)]
    pub sandbox: bool,
    /// Simulated time runs this many times faster than real time [default: 60].
    #[arg(long, value_name = "FACTOR", requires = "sandbox")]
    pub speed: Option<f64>,
    /// Inject a fault into the simulated world (repeatable): copy-job-fails,
    /// restore-job-fails, throttle=N, corrupt-checksum=BUCKET/PREFIX,
    /// access-denied=ACTION, missing-table=NAME.
    #[arg(long = "fault", value_name = "FAULT", requires = "sandbox")]
    pub faults: Vec<Fault>,
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
    /// The world these flags choose.
    pub fn world(&self) -> World {
        self.flags().world()
    }

    /// The flags as given, for `resume` to hold against the journal.
    pub fn flags(&self) -> WorldFlags {
        WorldFlags {
            sandbox: self.sandbox,
            speed: self.speed,
            faults: self.faults.clone(),
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            poll_interval: self.poll_interval,
        }
    }

    /// The cloud these flags choose. Nothing is sent to AWS yet.
    pub async fn connect(&self) -> Result<Arc<dyn Cloud>, String> {
        self.world().connect().await
    }
}

/// Where a command that is not a run reaches AWS: the team's table
/// (`team init`, `answer`, `watch --team`, `runs --team`) or the evidence archive
/// (`archive`, `report s3://…`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsFlags {
    /// The named AWS profile [default: $AWS_PROFILE, else the default chain].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The region of the table or bucket [default: $AWS_REGION or the profile's].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Another endpoint, e.g. an emulator [default: $AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl AwsFlags {
    /// The SDK options these flags give.
    pub fn options(&self) -> crate::cloud::aws::AwsOptions {
        crate::cloud::aws::AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            poll_interval: None,
        }
    }
}
