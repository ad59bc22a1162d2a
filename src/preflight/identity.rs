//! Who the run will act as: the account, the principal and, for an assumed
//! role, the role, from STS `GetCallerIdentity` (which needs no IAM
//! permission: STS API Reference, GetCallerIdentity). Warns when the
//! account is not the one the runbook's ARNs name, or not the one the last
//! drill of this runbook acted in.

use std::collections::BTreeSet;

use super::{Area, Context, Finding, Sink, Verdict};
use crate::cloud::{CallerIdentity, ErrorKind};
use crate::engine::event::EventKind;
use crate::engine::journal::{JournalContents, WorldRecord};
use crate::format::printable;

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
    // The credentials first: their errors say where they were looked for.
    if let Err(e) = cloud.verify_credentials().await {
        sink.push(
            Finding::new(Area::Identity, Verdict::Fail, "credentials", e.to_string())
                .fix("the detail says where credentials were looked for and what to do (aws sso login, --profile, --sandbox); nothing on AWS can be checked without them"),
        );
        return;
    }
    let me = match cloud.caller_identity(&crate::cloud::quiet()).await {
        Ok(me) => me,
        // STS refused the credentials: every call will be refused.
        Err(e) if e.kind == ErrorKind::Credentials => {
            sink.push(
                Finding::new(Area::Identity, Verdict::Fail, "sts:GetCallerIdentity", e.to_string())
                    .fix("GetCallerIdentity needs no IAM permission: the credentials themselves are refused"),
            );
            return;
        }
        // An endpoint without STS (an emulator) or an outage: the
        // credentials loaded, so who they are is only unknown.
        Err(e) => {
            sink.push(
                Finding::new(Area::Identity, Verdict::Unchecked, "sts:GetCallerIdentity", e.to_string())
                    .fix("check by hand which account and principal the credentials are (aws sts get-caller-identity)"),
            );
            return;
        }
    };
    let world = cloud.identity();
    for finding in found(ctx, &me, world.simulated, &world.describe()) {
        sink.push(finding);
    }
}

/// The findings about `me`, acting in the world `world` describes.
fn found(ctx: &Context, me: &CallerIdentity, simulated: bool, world: &str) -> Vec<Finding> {
    let account = printable(&me.account).into_owned();
    let mut out = vec![
        Finding::new(
            Area::Identity,
            Verdict::Pass,
            format!("account {account}"),
            format!("the run acts as {}", printable(world)),
        ),
        Finding::new(
            Area::Identity,
            Verdict::Pass,
            "principal",
            format!(
                "{} (user id {})",
                printable(&me.arn),
                printable(&me.user_id)
            ),
        ),
    ];
    if let Some(role) = me.assumed_role() {
        out.push(Finding::new(
            Area::Identity,
            Verdict::Pass,
            format!("role {}", role.name),
            format!("{}, session {}", role.role_arn(), role.session),
        ));
    }
    let named = runbook_accounts(ctx);
    let others: Vec<&String> = named.iter().filter(|a| **a != me.account).collect();
    if !others.is_empty() {
        out.push(
            Finding::new(
                Area::Identity,
                Verdict::Warn,
                format!("account {account}"),
                format!(
                    "the runbook's ARNs (parameters and step fields) name account {}, not the account the credentials are in",
                    others.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
            .fix("check --profile (or AWS_PROFILE) and the ARNs given with --param: a cross-account restore is fine only when planned"),
        );
    }
    let earlier = crate::report::history::earlier_runs(
        &ctx.data_dir,
        &ctx.runbook.runbook.id.value,
        "",
        jiff::Timestamp::now(),
    );
    if let Some((run_id, last)) = earlier
        .iter()
        .rev()
        .find_map(|run| last_account(run, simulated).map(|a| (&run.header.run_id, a)))
        && is_account_id(&last)
        && last != me.account
    {
        out.push(
            Finding::new(
                Area::Identity,
                Verdict::Warn,
                format!("account {account}"),
                format!(
                    "the last drill of this runbook ({}) acted in account {}",
                    printable(run_id),
                    printable(&last)
                ),
            )
            .fix("check --profile (or AWS_PROFILE): this drill will not act on the resources the last one did"),
        );
    }
    out
}

/// The account ids the runbook's ARNs name: in parameter values (defaults
/// and given) and in step fields written out. Only the 12-digit account
/// field of `arn:PARTITION:SERVICE:REGION:ACCOUNT:` counts.
fn runbook_accounts(ctx: &Context) -> BTreeSet<String> {
    let Ok(arn) =
        regex::Regex::new(r"arn:[a-z-]{1,32}:[a-z0-9-]{1,64}:[a-z0-9-]{0,32}:([0-9]{12}):")
    else {
        return BTreeSet::new();
    };
    let mut texts: Vec<String> = ctx.params.values().cloned().collect();
    // Every field of every step, literal or templated, as the runbook
    // wrote it (templates name parameters, scanned above).
    texts.extend(ctx.runbook.steps.iter().map(|s| format!("{:?}", s.action)));
    texts
        .iter()
        .flat_map(|t| {
            arn.captures_iter(t)
                .map(|c| c[1].to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The account an earlier run acted in, as its journal says (the last
/// `cloud_connected`, else its header), when it acted in the same kind of
/// world (simulated or AWS).
fn last_account(run: &JournalContents, simulated: bool) -> Option<String> {
    let connected = run.events.iter().rev().find_map(|e| match &e.kind {
        EventKind::CloudConnected { identity } if identity.simulated == simulated => {
            identity.account.clone()
        }
        _ => None,
    });
    connected.or_else(|| match &run.header.world {
        Some(WorldRecord::Aws { account, .. }) if !simulated => account.clone(),
        _ => None,
    })
}

/// An AWS account id as AWS Backup's model writes it (botocore
/// backup 2018-11-15, shape `AccountId`: `^[0-9]{12}$`). An earlier journal
/// is outside input: an account of any other shape (control characters,
/// line breaks that would forge lines of the table) is not compared.
fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The finding when the world could not be reached at all (its
/// configuration did not load): nothing on AWS can be checked.
pub fn unreachable(error: &str) -> Finding {
    Finding::new(Area::Identity, Verdict::Fail, "AWS", error.to_owned())
        .fix("fix the AWS configuration this names, then run preflight again")
}
