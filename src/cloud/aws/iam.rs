//! IAM and STS: who the credentials act as (`GetCallerIdentity`) and
//! IAM's policy simulator (`SimulatePrincipalPolicy`), for preflight.
//! Both are global services: their clients use the configured region only
//! to find the partition's endpoint.

use std::collections::BTreeMap;

use aws_sdk_iam::types::{EvaluationResult, PolicyEvaluationDecisionType, Statement};

use super::AwsCloud;
use crate::cloud::policy::{Decision, MatchedStatement, Simulated};
use crate::cloud::{CloudError, Notify};

/// Results asked for per page (`MaxItems`, 1 to 1000).
const PAGE: i32 = 1000;

/// One call per resource with every action asked on it (IAM evaluates
/// each action on each resource given, so grouping by resource asks
/// nothing extra), following `Marker` while `IsTruncated`.
pub(super) async fn simulate(
    cloud: &AwsCloud,
    principal: &str,
    checks: &[(String, String)],
    notify: Notify<'_>,
) -> Result<Vec<Simulated>, CloudError> {
    let iam = aws_sdk_iam::Client::new(&cloud.config);
    let mut by_resource: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (action, resource) in checks {
        let actions = by_resource.entry(resource).or_default();
        if !actions.contains(&action.as_str()) {
            actions.push(action);
        }
    }
    let mut out = Vec::new();
    for (resource, actions) in by_resource {
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
