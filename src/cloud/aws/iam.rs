//! IAM and STS: who the credentials act as (`GetCallerIdentity`) and
//! IAM's policy simulator (`SimulatePrincipalPolicy`), for preflight.
//! Both are global services: their clients use the configured region only
//! to find the partition's endpoint.

use std::collections::BTreeMap;

use aws_sdk_iam::types::{
    ContextEntry, ContextKeyTypeEnum, EvaluationResult, PolicyEvaluationDecisionType, Statement,
};

use super::AwsCloud;
use crate::cloud::policy::{Ask, Decision, MatchedStatement, Simulated};
use crate::cloud::{CloudError, ErrorKind, Notify};

/// Results asked for per page (`MaxItems`, 1 to 1000).
const PAGE: i32 = 1000;

/// One call per resource and request context with every action asked on
/// it (IAM evaluates each action on each resource given, in the context
/// given, so grouping asks nothing extra), following `Marker` while
/// `IsTruncated`. The context goes as `ContextEntries` (botocore `iam`
/// 2010-05-08, `ContextEntry`: `ContextKeyName`, `ContextKeyValues`,
/// `ContextKeyType` `string`), e.g. `iam:PassedToService` for a PassRole.
pub(super) async fn simulate(
    cloud: &AwsCloud,
    principal: &str,
    checks: &[Ask],
    notify: Notify<'_>,
) -> Result<Vec<Simulated>, CloudError> {
    let iam = aws_sdk_iam::Client::new(&cloud.config);
    type Group<'a> = (&'a str, &'a [(String, String)]);
    let mut by_resource: BTreeMap<Group<'_>, Vec<&str>> = BTreeMap::new();
    for ask in checks {
        let actions = by_resource
            .entry((ask.resource.as_str(), ask.context.as_slice()))
            .or_default();
        if !actions.contains(&ask.action.as_str()) {
            actions.push(&ask.action);
        }
    }
    let mut out = Vec::new();
    for ((resource, context), actions) in by_resource {
        let entries = context
            .iter()
            .map(|(key, value)| {
                ContextEntry::builder()
                    .context_key_name(key)
                    .context_key_values(value)
                    .context_key_type(ContextKeyTypeEnum::String)
                    .build()
            })
            .collect::<Vec<_>>();
        let mut marker: Option<String> = None;
        let what = format!("the policies of {principal} on {resource}");
        loop {
            let page = send!(
                cloud,
                notify,
                "SimulatePrincipalPolicy",
                what,
                iam.simulate_principal_policy()
                    .policy_source_arn(principal)
                    .set_action_names(Some(actions.iter().map(|a| a.to_string()).collect()))
                    .resource_arns(resource)
                    .set_context_entries((!entries.is_empty()).then(|| entries.clone()))
                    .max_items(PAGE)
                    .set_marker(marker.clone())
            )
            .await?;
            out.extend(
                page.evaluation_results()
                    .iter()
                    .map(|r| result(r, resource)),
            );
            match page.marker().filter(|_| page.is_truncated()) {
                Some(next) => marker = Some(next.to_owned()),
                None => break,
            }
        }
    }
    Ok(out)
}

/// The ARN of role `name` with its path (IAM `GetRole`, `Role.Arn`).
pub(super) async fn role_arn(
    cloud: &AwsCloud,
    name: &str,
    notify: Notify<'_>,
) -> Result<String, CloudError> {
    let iam = aws_sdk_iam::Client::new(&cloud.config);
    let what = format!("role {name}");
    let out = send!(
        cloud,
        notify,
        "GetRole",
        what,
        iam.get_role().role_name(name)
    )
    .await?;
    out.role()
        .map(|r| r.arn().to_owned())
        .filter(|arn| !arn.is_empty())
        .ok_or_else(|| {
            CloudError::new(
                "GetRole",
                format!("role {name}"),
                ErrorKind::Other,
                "IAM answered without the role's ARN",
            )
        })
}

fn result(r: &EvaluationResult, asked: &str) -> Simulated {
    // With one resource asked, its own result carries the statements when
    // the overall one does not.
    let specific = r
        .resource_specific_results()
        .iter()
        .find(|s| s.eval_resource_name() == asked);
    let (decision, statements) = match specific {
        Some(s) if r.matched_statements().is_empty() => {
            (s.eval_resource_decision(), s.matched_statements())
        }
        _ => (r.eval_decision(), r.matched_statements()),
    };
    Simulated {
        action: r.eval_action_name().to_owned(),
        resource: r.eval_resource_name().unwrap_or(asked).to_owned(),
        decision: match decision {
            PolicyEvaluationDecisionType::Allowed => Decision::Allowed,
            PolicyEvaluationDecisionType::ExplicitDeny => Decision::ExplicitDeny,
            // implicitDeny, and anything newer IAM says: not allowed.
            _ => Decision::ImplicitDeny,
        },
        matched: statements.iter().map(statement).collect(),
    }
}

fn statement(s: &Statement) -> MatchedStatement {
    let at = |p: Option<&aws_sdk_iam::types::Position>| p.map(|p| (p.line(), p.column()));
    MatchedStatement {
        policy_id: s.source_policy_id().map(str::to_owned),
        policy_type: s.source_policy_type().map(|t| t.as_str().to_owned()),
        start: at(s.start_position()),
        end: at(s.end_position()),
    }
}
