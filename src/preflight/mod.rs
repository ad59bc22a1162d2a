//! Preflight: before anything runs, will this drill work, how long will it
//! take, and what will it cost. Each area is one file with one `check`
//! that adds [`Finding`]s to a [`Sink`]; [`run`] runs the areas at once and
//! streams each finding as it is made, so a front end can fill in a panel
//! while the checks go on.
//!
//! Nothing here acts on the world: preflight reads (listings, describes,
//! IAM's policy simulator) and never writes. It never touches the terminal;
//! the command line and the console render a [`Preflight`].

pub mod cost;
pub mod identity;
pub mod permissions;
pub mod resources;
pub mod time;
pub mod tools;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

use crate::cloud::Cloud;
use crate::engine::values::Values;
use crate::runbook::field::Text;
use crate::runbook::{Mode, Runbook};

/// What a finding is about, in the order a report shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    /// Who the run acts as.
    Identity,
    /// Whether IAM allows each call the plan makes.
    Permissions,
    /// Whether the vaults, tables, buckets and restore targets are as the
    /// plan needs them.
    Resources,
    /// Programs and servers the shell steps need.
    Tools,
    /// How long the drill will take, against its targets.
    Time,
    /// What the drill will cost.
    Cost,
}

impl Area {
    /// Every area, in order.
    pub const ALL: [Area; 6] = [
        Area::Identity,
        Area::Permissions,
        Area::Resources,
        Area::Tools,
        Area::Time,
        Area::Cost,
    ];

    /// The area's name, as shown.
    pub fn word(self) -> &'static str {
        match self {
            Area::Identity => "identity",
            Area::Permissions => "permissions",
            Area::Resources => "resources",
            Area::Tools => "tools",
            Area::Time => "time",
            Area::Cost => "cost",
        }
    }
}

/// The verdict of one finding. Ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Checked and fine.
    Pass,
    /// Could not be checked before the run (a value only a step's output
    /// gives, a check IAM would not let us make): the finding says what to
    /// check by hand.
    Unchecked,
    /// Works, but worth knowing before T0 (another account than last time,
    /// a target the estimate says is at risk).
    Warn,
    /// Will fail: the drill should not start until this is fixed.
    Fail,
}

impl Verdict {
    /// The verdict's word, as shown.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "ok",
            Verdict::Unchecked => "unchecked",
            Verdict::Warn => "warning",
            Verdict::Fail => "FAIL",
        }
    }
}

/// One thing preflight found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What it is about.
    pub area: Area,
    /// How it went.
    pub verdict: Verdict,
    /// The step it concerns, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// What was checked, e.g. `backup:StartRestoreJob on arn:…` or
    /// `vault cabal-backup (us-west-2)`.
    pub subject: String,
    /// What was found, in a sentence.
    pub detail: String,
    /// What to do about it, when something should be done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    /// A finding with no step and no fix.
    pub fn new(
        area: Area,
        verdict: Verdict,
        subject: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Finding {
            area,
            verdict,
            step: None,
            subject: subject.into(),
            detail: detail.into(),
            fix: None,
        }
    }

    /// The same finding, about step `id`.
    pub fn step(mut self, id: impl Into<String>) -> Self {
        self.step = Some(id.into());
        self
    }

    /// The same finding, with what to do.
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// Where the areas put their findings: kept for the result, and sent on
/// at once to a front end that is listening.
pub struct Sink {
    found: Mutex<Vec<Finding>>,
    tx: Option<UnboundedSender<Finding>>,
}

impl Sink {
    fn new(tx: Option<UnboundedSender<Finding>>) -> Self {
        Sink {
            found: Mutex::new(Vec::new()),
            tx,
        }
    }

    /// Adds a finding.
    pub fn push(&self, finding: Finding) {
        if let Some(tx) = &self.tx {
            // A front end that stopped listening does not stop preflight.
            let _ = tx.send(finding.clone());
        }
        self.found
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(finding);
    }

    fn into_findings(self) -> Vec<Finding> {
        self.found.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

/// What preflight works from: the runbook, the parameters as given, the
/// world (none when the runbook never calls AWS, or when it could not be
/// reached, which the identity area reports), and the data directory
/// holding earlier runs.
pub struct Context {
    /// The checked runbook.
    pub runbook: Runbook,
    /// Drill or incident.
    pub mode: Mode,
    /// Parameter values after defaults (secrets included: never shown).
    pub params: BTreeMap<String, String>,
    /// The world the run will act on.
    pub cloud: Option<Arc<dyn Cloud>>,
    /// Where runs are kept (earlier drills of this runbook).
    pub data_dir: PathBuf,
}

/// A value of a step's field as preflight can know it: templates that name
/// only parameters and run variables resolve; one that names a step's
/// output is only known once that step has run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// The value.
    Value(String),
    /// Known only at run time, with why (e.g. "the output `arn` of step
    /// `pick`").
    AtRunTime(String),
}

impl Context {
    /// `text` as far as preflight can know it.
    pub fn resolve(&self, text: &Text) -> Known {
        let values = Values {
            params: self.params.clone(),
            ..Values::default()
        };
        match values.resolve(&text.value) {
            Ok(v) => Known::Value(v),
            // Said as what it waits for: before the run no step has run.
            Err(e) => Known::AtRunTime(
                crate::runbook::template::references(&text.value)
                    .ok()
                    .and_then(|vars| {
                        vars.into_iter().find_map(|(var, _)| match var {
                            crate::runbook::template::Var::StepOutput { step, output } => {
                                Some(format!("it is step `{step}`'s output `{output}`"))
                            }
                            crate::runbook::template::Var::Run(name) => {
                                Some(format!("it is the run's `run.{name}`"))
                            }
                            crate::runbook::template::Var::Param(_) => None,
                        })
                    })
                    .unwrap_or(e.reason),
            ),
        }
    }
}

/// Everything preflight found, with the estimates it made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preflight {
    /// Every finding, in area order (within an area, in the order made).
    pub findings: Vec<Finding>,
    /// What the resources area found: table sizes, objects by storage
    /// class, recovery points (what the time and cost figures start from).
    #[serde(default)]
    pub resources: resources::Facts,
    /// How long the drill will take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<time::Estimate>,
    /// What the drill will cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::cost::charges::Estimate>,
    /// When preflight ran.
    pub at: jiff::Timestamp,
    /// How long it took, in seconds.
    pub took: f64,
}

impl Preflight {
    /// The worst verdict, `Pass` when nothing was found.
    pub fn verdict(&self) -> Verdict {
        self.findings
            .iter()
            .map(|f| f.verdict)
            .max()
            .unwrap_or(Verdict::Pass)
    }

    /// Whether a run may start: nothing failed.
    pub fn passed(&self) -> bool {
        self.verdict() < Verdict::Fail
    }

    /// The findings of `area`.
    pub fn of(&self, area: Area) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.area == area)
    }

    /// How many findings have `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.findings
            .iter()
            .filter(|f| f.verdict == verdict)
            .count()
    }
}

/// Runs the areas at once; each finding is sent on `tx` as it is made.
/// The resources area is the one place that asks AWS for sizes and
/// storage classes: the time and cost areas start from its [`resources::Facts`]
/// once it has them, while identity, permissions and tools go on beside.
pub async fn run(ctx: &Context, tx: Option<UnboundedSender<Finding>>) -> Preflight {
    let at = jiff::Timestamp::now();
    let started = std::time::Instant::now();
    let sink = Sink::new(tx);
    // The steps this run's mode runs: a step `only_in` the other mode
    // neither fails nor costs anything here. (Time keeps the whole
    // runbook: its needs graph names every step, and it skips the others
    // itself.)
    let active = Context {
        runbook: Runbook {
            steps: ctx
                .runbook
                .steps
                .iter()
                .filter(|s| s.only_in.as_ref().is_none_or(|m| m.value == ctx.mode))
                .cloned()
                .collect(),
            ..ctx.runbook.clone()
        },
        mode: ctx.mode,
        params: ctx.params.clone(),
        cloud: ctx.cloud.clone(),
        data_dir: ctx.data_dir.clone(),
    };
    let from_resources = async {
        let facts = resources::check(&active, &sink).await;
        let (time, cost) = tokio::join!(
            time::check(ctx, &facts, &sink),
            cost::check(&active, &facts, &sink),
        );
        (facts, time, cost)
    };
    let ((), (), (), (resources, time, cost)) = tokio::join!(
        identity::check(ctx, &sink),
        permissions::check(&active, &sink),
        tools::check(&active, &sink),
        from_resources,
    );
    let mut findings = sink.into_findings();
    findings.sort_by_key(|f| f.area);
    Preflight {
        findings,
        resources,
        time,
        cost,
        at,
        took: started.elapsed().as_secs_f64(),
    }
}
