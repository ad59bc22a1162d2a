//! Who the run will act as: the account and principal of the world's
//! credentials.

use super::{Area, Context, Finding, Sink, Verdict};

/// Checks the identity the world's credentials give.
pub(super) async fn check(ctx: &Context, sink: &Sink) {
    let Some(cloud) = &ctx.cloud else {
        sink.push(Finding::new(
            Area::Identity,
            Verdict::Pass,
            "AWS",
            "no step of this runbook calls AWS",
        ));
        return;
    };
    match cloud.verify_credentials().await {
        Ok(identity) => sink.push(Finding::new(
            Area::Identity,
            Verdict::Pass,
            "credentials",
            identity.describe(),
        )),
        Err(e) => sink.push(
            Finding::new(Area::Identity, Verdict::Fail, "credentials", e.to_string())
                .fix("see the lines above; nothing can be checked on AWS without credentials"),
        ),
    }
}

/// The finding when the world could not be reached at all (its
/// configuration did not load): nothing on AWS can be checked.
pub fn unreachable(error: &str) -> Finding {
    Finding::new(Area::Identity, Verdict::Fail, "AWS", error.to_owned())
        .fix("fix the AWS configuration this names, then run preflight again")
}
