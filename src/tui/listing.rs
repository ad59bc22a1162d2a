//! The one recovery point listing the console runs at a time. Starting a
//! listing cancels the one it replaces (a refresh, the next question's
//! picker), and a question answered stops its own: the pages of a listing
//! nobody reads are not fetched to the end. The listing itself is
//! `cloud::points`; this module only owns its forwarding task.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::app::Msg;
use crate::cloud::points::list_all;
use crate::cloud::{Cloud, PointSource};

/// The listing whose pages the loop forwards, if one is going.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    forwarding: Option<AbortHandle>,
}

impl Listing {
    /// Lists `sources` as generation `generation`, its pages sent to `tx`;
    /// the listing before it is cancelled.
    pub(crate) fn start(
        &mut self,
        cloud: Arc<dyn Cloud>,
        generation: u64,
        sources: Vec<PointSource>,
        tx: &mpsc::UnboundedSender<Msg>,
    ) {
        self.stop();
        let mut pages = list_all(cloud, sources);
        let tx = tx.clone();
        let task = tokio::spawn(async move {
            while let Some(l) = pages.recv().await {
                if tx.send(Msg::Listing(generation, l)).is_err() {
                    break;
                }
            }
        });
        self.forwarding = Some(task.abort_handle());
    }

    /// Cancels the listing going, if any. Its pages' reader is dropped, so
    /// each source stops at its next page (`Cloud::list_points` stops when
    /// no one reads).
    pub(crate) fn stop(&mut self) {
        if let Some(task) = self.forwarding.take() {
            task.abort();
        }
    }
}

impl Drop for Listing {
    fn drop(&mut self) {
        self.stop();
    }
}
