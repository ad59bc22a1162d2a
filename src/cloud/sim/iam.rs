//! The simulated world's IAM: its operator may do everything except the
//! actions `--fault access-denied=OPERATION` refuses, and the policy
//! simulator says so. A refused operation is an explicit deny of its IAM
//! action (`iam_permission`) on every resource, matched by a statement
//! named after the fault; `access-denied=SimulatePrincipalPolicy` refuses
//! the simulation itself.

use super::SimCloud;
use super::calls::SIM_ROLE;
use super::world::ACCOUNT;
use crate::cloud::error::iam_permission;
use crate::cloud::policy::{Ask, Decision, MatchedStatement, Simulated};
use crate::cloud::{CloudError, Notify};

/// IAM `GetRole`: the simulated operator's role, without a path (the
/// sandbox has no other role); `--fault access-denied=GetRole` refuses it.
pub(super) async fn role_arn(
    cloud: &SimCloud,
    name: &str,
    notify: Notify<'_>,
) -> Result<String, CloudError> {
    cloud
        .call("GetRole", name, notify, |_, _| {
            if name == SIM_ROLE {
                Ok(())
            } else {
                Err(super::world::Refusal {
                    kind: crate::cloud::ErrorKind::NotFound,
                    code: "NoSuchEntity",
                    message: format!("The role with name {name} cannot be found."),
                })
            }
        })
        .await?;
    Ok(format!("arn:aws:iam::{ACCOUNT}:role/{SIM_ROLE}"))
}

pub(super) async fn simulate(
    cloud: &SimCloud,
    principal: &str,
    checks: &[Ask],
    notify: Notify<'_>,
) -> Result<Vec<Simulated>, CloudError> {
    let what = format!("the policies of {principal}");
    cloud
        .call("SimulatePrincipalPolicy", &what, notify, |_, _| Ok(()))
        .await?;
    Ok(checks
        .iter()
        .map(
            |Ask {
                 action, resource, ..
             }| {
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
            },
        )
        .collect())
}
