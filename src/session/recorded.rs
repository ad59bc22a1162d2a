//! The world a run acts on, as its journal records it: what a new run
//! records ([`record`]), which world a resume acts on ([`resume_world`]:
//! the recorded one; flags that contradict it are refused), and that an
//! AWS run goes on only in the account it started in ([`same_account`]).
//! Also the one resume command printed to people ([`resume_command`]).

use std::path::Path;
use std::time::Duration;

use super::{Refused, World};
use crate::cloud::Cloud;
use crate::cloud::aws::AwsOptions;
use crate::cloud::sim::{Fault, SimOptions};
use crate::engine::journal::WorldRecord;

/// The world flags given on the command line of `resume`, as given (no
/// defaults filled in), to compare with what the journal recorded.
#[derive(Debug, Clone, Default)]
pub struct WorldFlags {
    /// `--sandbox`.
    pub sandbox: bool,
    /// `--speed`.
    pub speed: Option<f64>,
    /// `--fault`.
    pub faults: Vec<Fault>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--region`.
    pub region: Option<String>,
    /// `--endpoint-url`.
    pub endpoint_url: Option<String>,
    /// `--poll-interval`.
    pub poll_interval: Option<Duration>,
}

impl WorldFlags {
    /// The world these flags choose for a new run.
    pub fn world(&self) -> World {
        if self.sandbox {
            return World::Sandbox(SimOptions {
                speed: self.speed.unwrap_or(SimOptions::default().speed),
                faults: self.faults.clone(),
                now: None,
            });
        }
        World::Aws(AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            poll_interval: self.poll_interval,
        })
    }
}

/// What the journal of a new run on `cloud` records about its world.
pub fn record(cloud: &dyn Cloud) -> WorldRecord {
    if let Some(options) = cloud.simulation() {
        return WorldRecord::Sandbox {
            speed: options.speed,
            faults: options.faults.iter().map(ToString::to_string).collect(),
            epoch: options.now.unwrap_or_else(jiff::Timestamp::now),
        };
    }
    let id = cloud.identity();
    WorldRecord::Aws {
        account: id.account,
        region: id.region,
        profile: id.profile,
        endpoint: id.endpoint,
    }
}

/// The world run `run_id` goes on in: the one its journal recorded, with
/// a note for people when it recorded none (an older journal: the flags
/// decide, as before). Flags that contradict the record are refused.
pub fn resume_world(
    run_id: &str,
    recorded: Option<&WorldRecord>,
    flags: &WorldFlags,
) -> Result<(World, Option<String>), Refused> {
    let Some(recorded) = recorded else {
        let world = flags.world();
        let on = match &world {
            World::Sandbox(_) => "the sandbox",
            World::Aws(_) => "AWS, as --profile, --region and the environment say",
        };
        return Ok((
            world,
            Some(format!(
                "note: the journal of run {run_id} does not record the world it acted on (an older dr-drill started it); it goes on in {on}. If it ran in the sandbox, resume it with --sandbox."
            )),
        ));
    };
    let refuse = |flag: &str, why: String| {
        Refused(format!(
            "run {run_id} acted on {}; {flag} {why}. Leave {flag} out: resume goes on in the world the run started in. Nothing was run.",
            recorded.describe()
        ))
    };
    match recorded {
        WorldRecord::Sandbox {
            speed,
            faults,
            epoch,
        } => {
            if flags.profile.is_some() {
                return Err(refuse("--profile", "would send it to AWS".into()));
            }
            if flags.endpoint_url.is_some() {
                return Err(refuse("--endpoint-url", "would send it to AWS".into()));
            }
            if let Some(given) = flags.speed.filter(|s| s != speed) {
                return Err(refuse(
                    "--speed",
                    format!("{given} is not the speed it ran at ({speed})"),
                ));
            }
            let given: Vec<String> = flags.faults.iter().map(ToString::to_string).collect();
            if !given.is_empty() && given != *faults {
                return Err(refuse(
                    "--fault",
                    format!(
                        "{} are not the faults it ran with ({})",
                        given.join(", "),
                        if faults.is_empty() {
                            "none".to_owned()
                        } else {
                            faults.join(", ")
                        }
                    ),
                ));
            }
            let faults = faults
                .iter()
                .map(|f| f.parse::<Fault>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    Refused(format!(
                        "the journal of run {run_id} records a fault this dr-drill does not know: {e}"
                    ))
                })?;
            Ok((
                World::Sandbox(SimOptions {
                    speed: *speed,
                    faults,
                    now: Some(*epoch),
                }),
                None,
            ))
        }
        WorldRecord::Aws {
            region, endpoint, ..
        } => {
            if flags.sandbox {
                return Err(refuse(
                    "--sandbox",
                    "would go on in a simulated world it never acted on".into(),
                ));
            }
            if let Some(given) = flags.region.as_ref().filter(|r| *r != region) {
                return Err(refuse(
                    "--region",
                    format!("{given} is not the region it ran in ({region})"),
                ));
            }
            if let Some(given) = flags
                .endpoint_url
                .as_ref()
                .filter(|given| Some(*given) != endpoint.as_ref())
            {
                return Err(refuse(
                    "--endpoint-url",
                    format!("{given} is not the endpoint it ran against"),
                ));
            }
            let profile = flags.profile.clone().or_else(|| match recorded {
                WorldRecord::Aws { profile, .. } => profile.clone(),
                WorldRecord::Sandbox { .. } => None,
            });
            Ok((
                World::Aws(AwsOptions {
                    profile,
                    region: Some(region.clone()),
                    endpoint_url: endpoint.clone(),
                    poll_interval: flags.poll_interval,
                }),
                None,
            ))
        }
    }
}

/// Refuses to go on in another AWS account than the one run `run_id`
/// started in (when both are known).
pub fn same_account(
    run_id: &str,
    recorded: Option<&WorldRecord>,
    cloud: &dyn Cloud,
) -> Result<(), Refused> {
    let Some(WorldRecord::Aws {
        account: Some(then),
        ..
    }) = recorded
    else {
        return Ok(());
    };
    match cloud.identity().account {
        Some(now) if now != *then => Err(Refused(format!(
            "run {run_id} acted on AWS account {then}, but these credentials are for account {now}. Resume it with credentials for account {then} (--profile NAME, or aws sso login --profile NAME). Nothing was run."
        ))),
        _ => Ok(()),
    }
}

/// The command that resumes the run in `run_dir`, as people type it:
/// by its id when it is kept in the default data directory, else by its
/// directory.
pub fn resume_command(run_dir: &Path, headless: bool) -> String {
    let default_runs = std::path::absolute(crate::engine::default_data_dir().join("runs")).ok();
    let parent = run_dir.parent().and_then(|p| std::path::absolute(p).ok());
    let id = run_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let target = if !id.is_empty() && parent.is_some() && parent == default_runs {
        id
    } else {
        shell_word(&run_dir.display().to_string())
    };
    let mut command = format!("dr-drill resume {target}");
    if headless {
        command.push_str(" --headless");
    }
    command
}

/// `text` as one shell word.
fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@+,%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox() -> WorldRecord {
        WorldRecord::Sandbox {
            speed: 60.0,
            faults: vec![],
            epoch: "2026-11-22T03:00:00Z".parse().unwrap(),
        }
    }

    fn aws() -> WorldRecord {
        WorldRecord::Aws {
            account: Some("111111111111".into()),
            region: "eu-west-1".into(),
            profile: Some("dr".into()),
            endpoint: None,
        }
    }

    #[test]
    fn a_sandbox_run_resumes_in_the_sandbox_without_flags() {
        let (world, note) = resume_world("r1", Some(&sandbox()), &WorldFlags::default()).unwrap();
        assert!(note.is_none());
        let World::Sandbox(options) = world else {
            panic!("not the sandbox")
        };
        assert_eq!(options.speed, 60.0);
        assert_eq!(options.now, Some("2026-11-22T03:00:00Z".parse().unwrap()));
    }

    #[test]
    fn flags_that_contradict_the_journal_are_refused() {
        let profile = WorldFlags {
            profile: Some("prod".into()),
            ..Default::default()
        };
        let e = resume_world("r1", Some(&sandbox()), &profile).unwrap_err();
        assert!(e.0.contains("--profile"), "{}", e.0);
        assert!(e.0.contains("the sandbox"), "{}", e.0);
        let speed = WorldFlags {
            sandbox: true,
            speed: Some(600.0),
            ..Default::default()
        };
        assert!(resume_world("r1", Some(&sandbox()), &speed).is_err());
        let sandboxed = WorldFlags {
            sandbox: true,
            ..Default::default()
        };
        let e = resume_world("r1", Some(&aws()), &sandboxed).unwrap_err();
        assert!(e.0.contains("AWS account 111111111111"), "{}", e.0);
        let region = WorldFlags {
            region: Some("us-east-1".into()),
            ..Default::default()
        };
        assert!(resume_world("r1", Some(&aws()), &region).is_err());
    }

    #[test]
    fn an_aws_run_resumes_with_its_profile_and_region() {
        let (world, _) = resume_world("r1", Some(&aws()), &WorldFlags::default()).unwrap();
        let World::Aws(options) = world else {
            panic!("not AWS")
        };
        assert_eq!(options.profile.as_deref(), Some("dr"));
        assert_eq!(options.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn an_old_journal_resumes_as_the_flags_say_with_a_note() {
        let (world, note) = resume_world("r1", None, &WorldFlags::default()).unwrap();
        assert!(matches!(world, World::Aws(_)));
        assert!(note.unwrap().contains("--sandbox"));
    }

    #[test]
    fn the_resume_command_names_a_run_outside_the_default_directory_by_its_path() {
        let command = resume_command(Path::new("/tmp/my runs/runs/x-1"), true);
        assert_eq!(
            command,
            "dr-drill resume '/tmp/my runs/runs/x-1' --headless"
        );
    }
}
