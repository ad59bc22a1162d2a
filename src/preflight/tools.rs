//! Programs and servers the shell steps need (`requires`).

use super::{Area, Context, Finding, Sink, Verdict};
use crate::session::tools;

/// Checks each requirement of the runbook's shell steps on this machine.
pub(super) async fn check(ctx: &Context, sink: &Sink) {
    let runbook = ctx.runbook.clone();
    let (required, missing) =
        tokio::task::spawn_blocking(move || (tools::required(&runbook), tools::missing(&runbook)))
            .await
            .unwrap_or_default();
    for (tool, steps) in required {
        let finding = match missing.get(&tool) {
            Some(_) => Finding::new(
                Area::Tools,
                Verdict::Fail,
                tool.clone(),
                format!("missing; needed by {}", steps.join(", ")),
            )
            .fix(format!("install `{tool}` or put it on PATH")),
            None => Finding::new(
                Area::Tools,
                Verdict::Pass,
                tool.clone(),
                format!("present; needed by {}", steps.join(", ")),
            ),
        };
        sink.push(finding);
    }
}
