//! The simulated world's IAM: its operator may do everything except the
//! actions `--fault access-denied=OPERATION` refuses, and the policy
//! simulator says so. A refused operation is an explicit deny of its IAM
//! action (`iam_permission`) on every resource, matched by a statement
//! named after the fault; `access-denied=SimulatePrincipalPolicy` refuses
//! the simulation itself.

use super::SimCloud;
use crate::cloud::error::iam_permission;
use crate::cloud::policy::{Decision, MatchedStatement, Simulated};
use crate::cloud::{CloudError, Notify};

pub(super) async fn simulate(
    cloud: &SimCloud,
    principal: &str,
    checks: &[(String, String)],
    notify: Notify<'_>,
) -> Result<Vec<Simulated>, CloudError> {
    let what = format!("the policies of {principal}");
    cloud
        .call("SimulatePrincipalPolicy", &what, notify, |_, _| Ok(()))
        .await?;
    Ok(checks
        .iter()
        .map(|(action, resource)| {
            let denied_by = cloud
                .faults
                .access_denied
                .iter()
                .find(|op| iam_permission(op).eq_ignore_ascii_case(action));
            Simulated {
                action: action.clone(),
                resource: resource.clone(),
                decision: if denied_by.is_some() {
                    Decision::ExplicitDeny
                } else {
                    Decision::Allowed
                },
                matched: denied_by
                    .map(|op| MatchedStatement {
                        policy_id: Some(format!("SIMULATED fault access-denied={op}")),
                        policy_type: Some("role".into()),
                        start: None,
                        end: None,
                    })
                    .into_iter()
                    .collect(),
            }
        })
        .collect())
}
