//! Preflight for the console, until `pf-core`'s `session/preflight.rs`
//! (which builds the context for every front end) is merged: the lead keeps
//! theirs; `run_on` here has the same signature so the console's call does
//! not change.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use crate::cloud::Cloud;
use crate::preflight::{self, Context, Finding, Preflight};
use crate::runbook::{Mode, Runbook};

/// Runs preflight on a cloud already reached (`None` when no step calls
/// AWS), with `params` already resolved; each finding is sent on `tx`.
pub async fn run_on(
    runbook: &Runbook,
    mode: Mode,
    params: BTreeMap<String, String>,
    cloud: Option<Arc<dyn Cloud>>,
    data_dir: PathBuf,
    tx: Option<UnboundedSender<Finding>>,
) -> Preflight {
    let ctx = Context {
        runbook: runbook.clone(),
        mode,
        params,
        cloud,
        data_dir,
    };
    preflight::run(&ctx, tx).await
}
