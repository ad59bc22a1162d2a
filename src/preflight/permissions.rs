//! Whether IAM allows each call the plan will make, on the resources known
//! before the run. The calls come from each kind's `permissions()` (the
//! kind's file is their only home); this file resolves their resources to
//! ARNs ([`arn`], the one place an ARN is built) and asks IAM's policy
//! simulator once for the whole plan.

use std::collections::{BTreeSet, HashMap};

use super::{Area, Context, Finding, Known, Sink, Verdict};
use crate::cloud::policy::{Ask, Decision, Simulated, policy_source_arn};
use crate::cloud::{Cloud, ErrorKind, quiet};
use crate::format::printable;
use crate::runbook::field::Text;
use crate::runbook::kinds::{Permission, Resource};

/// The one permission preflight itself needs.
pub const SIMULATE: &str = "iam:SimulatePrincipalPolicy";
/// What preflight needs on its own role when it runs as an assumed role:
/// the role's ARN with its path.
pub const GET_ROLE: &str = "iam:GetRole";

/// A resource's ARN as preflight knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The ARN asked about: the resource's own, or, when part of it is
    /// known only at run time, a wildcard (`…:recovery-point:*`) so the
    /// action itself is still checked.
    pub arn: String,
    /// Why the ARN is a wildcard: what the run will tell (e.g. "step
    /// `pick` has not succeeded").
    pub waits_for: Option<String>,
}

/// Where ARNs are: the account and the world's default region.
pub struct Place<'a> {
    /// The account the credentials act in (`*` when unknown).
    pub account: &'a str,
    /// The region of a step that names none.
    pub region: &'a str,
}

/// The ARN of `resource`, resolved with `ctx`: partition `aws`, the
/// step's region or the world's, the caller's account.
pub fn arn(resource: &Resource<'_>, ctx: &Context, at: &Place<'_>) -> Target {
    let mut waits: Option<String> = None;
    let mut known = |text: &Text| match ctx.resolve(text) {
        Known::Value(v) if !v.is_empty() => Some(v),
        Known::Value(_) => {
            waits.get_or_insert_with(|| format!("`{}` is empty", text.value));
            None
        }
        Known::AtRunTime(why) => {
            waits.get_or_insert(why);
            None
        }
    };
    let mut region_of = |r: Option<&Text>| match r {
        Some(r) => known(r).unwrap_or_else(|| "*".to_owned()),
        None => at.region.to_owned(),
    };
    let account = at.account;
    let arn = match resource {
        Resource::Vault { name, region } => {
            let region = region_of(*region);
            let name = known(name).unwrap_or_else(|| "*".into());
            format!("arn:aws:backup:{region}:{account}:backup-vault:{name}")
        }
        Resource::RecoveryPoint { arn, region } => {
            let region = region_of(*region);
            known(arn)
                .unwrap_or_else(|| format!("arn:aws:backup:{region}:{account}:recovery-point:*"))
        }
        Resource::Table { name, region } => {
            let region = region_of(*region);
            let name = known(name).unwrap_or_else(|| "*".into());
            format!("arn:aws:dynamodb:{region}:{account}:table/{name}")
        }
        Resource::TableBackup { arn, region } => {
            let region = region_of(*region);
            known(arn)
                .unwrap_or_else(|| format!("arn:aws:dynamodb:{region}:{account}:table/*/backup/*"))
        }
        Resource::Bucket(bucket) => {
            format!(
                "arn:aws:s3:::{}",
                known(bucket).unwrap_or_else(|| "*".into())
            )
        }
        Resource::Objects {
            bucket,
            key,
            prefix,
        } => {
            let bucket = known(bucket).unwrap_or_else(|| "*".into());
            let path = match (key, prefix) {
                (Some(key), _) => known(key).unwrap_or_else(|| "*".into()),
                (None, Some(prefix)) => match known(prefix) {
                    Some(p) => format!("{p}*"),
                    None => "*".into(),
                },
                (None, None) => "*".into(),
            };
            format!("arn:aws:s3:::{bucket}/{path}")
        }
        Resource::VaultArn(vault) => known(vault)
            .unwrap_or_else(|| format!("arn:aws:backup:{}:{account}:backup-vault:*", at.region)),
        Resource::Role(role) => {
            known(role).unwrap_or_else(|| format!("arn:aws:iam::{account}:role/*"))
        }
        Resource::Any => "*".into(),
    };
    Target {
        arn,
        waits_for: waits,
    }
}

/// The ARN whose policies IAM simulates for `caller`, and, when it could
/// not be looked up, why. An assumed-role session
/// (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`) names its role
/// without the role's path; IAM `GetRole` on NAME gives the role's own ARN
/// (`role/service-role/NAME`), which the simulator needs (with the
/// pathless one it answers `NoSuchEntity`). When GetRole is refused, the
/// pathless ARN is tried: right for a role at `/`.
async fn principal_of(cloud: &dyn Cloud, caller: &str) -> (String, Option<String>) {
    let guess = policy_source_arn(caller);
    let Some(name) = assumed_role_name(caller) else {
        return (guess, None);
    };
    match cloud.role_arn(name, &quiet()).await {
        Ok(arn) => (arn, None),
        Err(e) => {
            let why = format!(
                "{GET_ROLE} on role {} failed ({e}), so a path the role may have is unknown; grant {GET_ROLE} on it",
                printable(name)
            );
            (guess, Some(why))
        }
    }
}

/// NAME of an assumed-role session ARN.
fn assumed_role_name(caller: &str) -> Option<&str> {
    let parts: Vec<&str> = caller.splitn(6, ':').collect();
    match parts[..] {
        [_, _, "sts", _, _, rest] => rest
            .strip_prefix("assumed-role/")?
            .split_once('/')
            .map(|(name, _)| name)
            .filter(|n| !n.is_empty()),
        _ => None,
    }
}

/// One call of one step, resolved.
struct Call<'a> {
    permission: Permission<'a>,
    target: Target,
}

/// Checks the plan's calls against IAM.
pub(super) async fn check(ctx: &Context, sink: &Sink) {
    let Some(cloud) = &ctx.cloud else {
        return;
    };
    let steps: Vec<(&str, Vec<Permission<'_>>)> = ctx
        .runbook
        .steps
        .iter()
        .map(|s| (s.id.value.as_str(), s.action.permissions()))
        .filter(|(_, p)| !p.is_empty())
        .collect();
    if steps.is_empty() {
        return;
    }
    let identity = cloud.identity();
    let caller = match cloud.caller_identity(&quiet()).await {
        Ok(caller) => caller.arn,
        Err(e) => {
            let why = format!("who the run acts as is unknown ({e}), so IAM cannot be asked");
            for (id, permissions) in &steps {
                sink.push(by_hand(id, &why, permissions, None));
            }
            return;
        }
    };
    let account = caller
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .or(identity.account)
        .unwrap_or_else(|| "*".to_owned());
    let place = Place {
        account: &account,
        region: &identity.region,
    };
    let (principal, lookup) = principal_of(cloud.as_ref(), &caller).await;
    let plan: Vec<(&str, Vec<Call<'_>>)> = steps
        .into_iter()
        .map(|(id, permissions)| {
            let calls = permissions
                .into_iter()
                .map(|permission| Call {
                    target: arn(&permission.on, ctx, &place),
                    permission,
                })
                .collect();
            (id, calls)
        })
        .collect();
    let asked: BTreeSet<Ask> = plan
        .iter()
        .flat_map(|(_, calls)| calls.iter())
        .map(|c| Ask {
            action: c.permission.action.to_owned(),
            resource: c.target.arn.clone(),
            context: c
                .permission
                .context
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        })
        .collect();
    let asked: Vec<Ask> = asked.into_iter().collect();
    let answers = match cloud
        .simulate_principal_policy(&principal, &asked, &quiet())
        .await
    {
        Ok(answers) => answers,
        Err(e) => {
            let mut why = if e.kind == ErrorKind::AccessDenied {
                format!(
                    "IAM refused to simulate the policies of {} ({SIMULATE} denied: {e})",
                    printable(&principal)
                )
            } else {
                format!("IAM's policy simulator failed: {e}")
            };
            if let Some(lookup) = &lookup {
                why.push_str(&format!(" ({lookup})"));
            }
            for (id, calls) in &plan {
                let permissions: Vec<Permission<'_>> =
                    calls.iter().map(|c| c.permission.clone()).collect();
                let arns: Vec<&str> = calls.iter().map(|c| c.target.arn.as_str()).collect();
                sink.push(by_hand(id, &why, &permissions, Some(&arns)));
            }
            return;
        }
    };
    let answers: HashMap<(String, &str), &Simulated> = answers
        .iter()
        .map(|a| ((a.action.to_ascii_lowercase(), a.resource.as_str()), a))
        .collect();
    for (id, calls) in &plan {
        report_step(id, calls, &answers, &principal, sink);
    }
}

fn report_step(
    id: &str,
    calls: &[Call<'_>],
    answers: &HashMap<(String, &str), &Simulated>,
    principal: &str,
    sink: &Sink,
) {
    let mut allowed = 0;
    let mut failed = false;
    let mut seen = BTreeSet::new();
    for call in calls {
        let action = call.permission.action;
        let resource = call.target.arn.as_str();
        if !seen.insert((action, resource)) {
            continue;
        }
        let subject = format!("{action} on {}", printable(resource));
        let what = if call.permission.field.is_empty() {
            String::new()
        } else {
            format!(
                " (the {} in `{}`)",
                call.permission.on.word(),
                call.permission.field
            )
        };
        let Some(answer) = answers.get(&(action.to_ascii_lowercase(), resource)) else {
            sink.push(
                Finding::new(
                    Area::Permissions,
                    Verdict::Unchecked,
                    subject,
                    format!("IAM's simulator gave no answer for this call{what}"),
                )
                .step(id)
                .fix(format!(
                    "check by hand that {} may call it",
                    printable(principal)
                )),
            );
            continue;
        };
        let statements: Vec<String> = answer.matched.iter().map(|s| s.describe()).collect();
        let by = if statements.is_empty() {
            String::new()
        } else {
            format!("; decided by {}", statements.join("; "))
        };
        match (answer.decision, &call.target.waits_for) {
            (Decision::Allowed, None) => allowed += 1,
            (Decision::Allowed, Some(waits)) => sink.push(
                Finding::new(
                    Area::Permissions,
                    Verdict::Unchecked,
                    subject,
                    format!(
                        "allowed on any such resource, but the one used{what} is known only at run time: {}",
                        printable(waits)
                    ),
                )
                .step(id),
            ),
            (Decision::ImplicitDeny, Some(waits)) => sink.push(
                Finding::new(
                    Area::Permissions,
                    Verdict::Unchecked,
                    subject,
                    format!(
                        "not allowed on every such resource, and the one used{what} is known only at run time ({}){by}",
                        printable(waits)
                    ),
                )
                .step(id)
                .fix(format!(
                    "check that {} may call {action} on the resource the run will use",
                    printable(principal)
                )),
            ),
            (decision, _) => {
                failed = true;
                let fix = if decision == Decision::ExplicitDeny {
                    format!(
                        "the deny wins over any allow: remove or narrow the statement that denies {action}, or run as another principal"
                    )
                } else {
                    format!(
                        "grant {action} on {} to {} (an IAM policy statement), or run as a principal that has it",
                        printable(resource),
                        printable(principal)
                    )
                };
                sink.push(
                    Finding::new(
                        Area::Permissions,
                        Verdict::Fail,
                        subject,
                        format!(
                            "{} for {}{what}{by}",
                            decision.word(),
                            printable(principal)
                        ),
                    )
                    .step(id)
                    .fix(fix),
                );
            }
        }
    }
    if !failed && allowed > 0 {
        sink.push(
            Finding::new(
                Area::Permissions,
                Verdict::Pass,
                "IAM",
                format!(
                    "{allowed} call{} allowed for {}",
                    if allowed == 1 { "" } else { "s" },
                    printable(principal)
                ),
            )
            .step(id),
        );
    }
}

/// A step whose calls could not be simulated: what to check by hand.
fn by_hand(id: &str, why: &str, permissions: &[Permission<'_>], arns: Option<&[&str]>) -> Finding {
    let mut list: Vec<String> = Vec::new();
    for (i, p) in permissions.iter().enumerate() {
        let on = match arns.and_then(|a| a.get(i)) {
            Some(arn) => printable(arn).into_owned(),
            None if p.field.is_empty() => "*".to_owned(),
            None => format!("the {} in `{}`", p.on.word(), p.field),
        };
        let line = format!("{} on {on}", p.action);
        if !list.contains(&line) {
            list.push(line);
        }
    }
    Finding::new(
        Area::Permissions,
        Verdict::Unchecked,
        "IAM",
        format!("{why}; check by hand: {}", list.join(", ")),
    )
    .step(id)
    .fix(format!(
        "grant {SIMULATE} on the principal (docs/aws.md, IAM permissions) so preflight can check, or check the actions listed by hand"
    ))
}
