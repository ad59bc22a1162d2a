//! The one place that makes a run's people: who drives it (the world's
//! caller identity, STS `GetCallerIdentity` in AWS, the simulated operator
//! in the sandbox, plus a display name) and who holds each role (`--role
//! ROLE=WHO`, the start form's roles field). The engine decides who may
//! answer (`engine::approval`); this module only gathers the people.
//!
//! Every value here is from outside (flags, the form, STS): a role's
//! people are read with `read_named` and refused naming the flag.

use crate::cloud::Cloud;
use crate::engine::participant::{Participant, Roles};
use crate::runbook::Runbook;
use crate::runbook::StepAction;
use crate::runbook::kinds::{Named, read_named};

use super::Refused;

/// The driver of a run: the world's caller identity and `name` (the
/// display name: `engine::operator()`, or `--as NAME`). `Err` says why
/// the world told no identity.
pub async fn driver(cloud: &dyn Cloud, name: &str) -> Result<Participant, String> {
    // STS GetCallerIdentity needs no IAM permission (sts.json,
    // `GetCallerIdentity`: "No permissions are required").
    cloud
        .caller_identity(&crate::cloud::quiet())
        .await
        .map(|me| Participant::new(&me, name))
        .map_err(|e| e.to_string())
}

/// Whether the run needs to know its driver: a step has an `owner`, or an
/// approve step names `approvers`.
pub fn needs_identity(runbook: &Runbook) -> bool {
    runbook.steps.iter().any(|s| {
        s.owner.is_some() || matches!(&s.action, StepAction::Approve(a) if !a.approvers.is_empty())
    })
}

/// The run's driver, or `None` with the one line to say when the world
/// told no identity and no step needs one. Refused, before anything runs,
/// when a step needs it.
pub async fn driver_for(
    cloud: &dyn Cloud,
    name: &str,
    runbook: &Runbook,
) -> Result<(Option<Participant>, Option<String>), Refused> {
    match driver(cloud, name).await {
        Ok(me) => Ok((Some(me), None)),
        Err(why) if needs_identity(runbook) => Err(Refused(format!(
            "cannot tell who drives this run (sts:GetCallerIdentity: {why}); a step has an `owner` or an approve step names `approvers`, and who may answer them is decided on the AWS identity. Check the credentials (`aws sts get-caller-identity`) and start again.\nNothing was run."
        ))),
        Err(why) => Ok((
            None,
            Some(format!(
                "note: cannot tell who drives this run (sts:GetCallerIdentity: {why}); the journal records no driver identity"
            )),
        )),
    }
}

/// The driver of a new run and the lines to say before it starts (no
/// identity, roles no step names).
pub async fn people_for_start(
    cloud: &dyn Cloud,
    name: &str,
    runbook: &Runbook,
    roles: &Roles,
) -> Result<(Option<Participant>, Vec<String>), Refused> {
    let mut lines = Vec::new();
    // In AWS, STS is asked only when the run decides by identity (an
    // owner, approvers, roles given): other runs start as before, with no
    // call that an unreachable endpoint would hold for the SDK's retries.
    // The sandbox answers at once.
    let asks = cloud.simulation().is_some() || needs_identity(runbook) || !roles.is_empty();
    let driver = if asks {
        let (driver, note) = driver_for(cloud, name, runbook).await?;
        lines.extend(note);
        driver
    } else {
        None
    };
    lines.extend(unnamed_roles(runbook, roles));
    Ok((driver, lines))
}

/// Reads `--role ROLE=WHO` entries (a role given again adds a person):
/// the role an id, each person an ARN or a principal
/// name as `Participant::is` reads them. `flag` names where they came
/// from in the refusal (`--role`, "the roles field").
pub fn read_roles<'a>(
    entries: impl IntoIterator<Item = &'a str>,
    flag: &str,
) -> Result<Roles, String> {
    let mut roles = Roles::new();
    for entry in entries {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let Some((role, who)) = entry.split_once('=') else {
            return Err(format!(
                "{flag} `{entry}` is not ROLE=WHO (e.g. dba=alice@example.com)"
            ));
        };
        let role = role.trim();
        if read_named(role) != Ok(Named::Role) {
            return Err(format!(
                "{flag} `{entry}`: `{role}` is not a role name (lowercase letters, digits, `-`, `_`, starting with a letter)"
            ));
        }
        let people = roles.entry(role.to_string()).or_default();
        // One person per entry: `+`, `,` and `=` may be part of a
        // principal name (sts.json `roleSessionNameType`), so several
        // people are several entries (`--role dba=a --role dba=b`).
        let person = who.trim();
        if person.is_empty() {
            return Err(format!(
                "{flag} `{entry}` names no one: give an ARN or a principal name after `=`"
            ));
        }
        if let Err(why) = read_named(person) {
            return Err(format!("{flag} `{entry}`: {why}"));
        }
        if !people.iter().any(|p| p == person) {
            people.push(person.to_string());
        }
    }
    Ok(roles)
}

/// Reads the start form's roles field: `dba=alice@example.com,
/// lead=bob` (entries separated by `,` or `;`, so a name holding `,` is
/// given by `--role` instead).
pub fn read_roles_field(text: &str) -> Result<Roles, String> {
    read_roles(text.split([',', ';']), "roles")
}

/// The roles given that no step names (as `owner` or in `approvers`):
/// one warning line each, not an error.
pub fn unnamed_roles(runbook: &Runbook, roles: &Roles) -> Vec<String> {
    roles
        .keys()
        .filter(|role| {
            !runbook.steps.iter().any(|s| {
                s.owner.as_ref().is_some_and(|o| &o.value == *role)
                    || matches!(&s.action, StepAction::Approve(a)
                        if a.approvers.iter().any(|e| &e.value == *role))
            })
        })
        .map(|role| {
            format!("warning: the role `{role}` is given but no step names it (as `owner` or in `approvers`)")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_read_role_equals_people() {
        let roles = read_roles(
            [
                "dba=alice@example.com",
                "lead=bob",
                "dba=arn:aws:iam::123456789012:user/carol",
            ],
            "--role",
        )
        .unwrap();
        assert_eq!(
            roles["dba"],
            vec!["alice@example.com", "arn:aws:iam::123456789012:user/carol"]
        );
        assert_eq!(roles["lead"], vec!["bob"]);
        let field = read_roles_field("dba=alice@example.com, lead=bob").unwrap();
        assert_eq!(field.len(), 2);
        assert!(read_roles_field("").unwrap().is_empty());
    }

    #[test]
    fn a_bad_role_is_refused_naming_the_flag() {
        let e = read_roles(["dba"], "--role").unwrap_err();
        assert!(e.contains("--role `dba` is not ROLE=WHO"), "{e}");
        let e = read_roles(["DBA=alice"], "--role").unwrap_err();
        assert!(e.contains("is not a role name"), "{e}");
        let e = read_roles(["dba=al ice"], "--role").unwrap_err();
        assert!(e.contains("--role `dba=al ice`"), "{e}");
        let e = read_roles(["dba="], "--role").unwrap_err();
        assert!(e.contains("names no one"), "{e}");
        let e = read_roles_field("dba=arn:aws:s3:::bucket").unwrap_err();
        assert!(e.starts_with("roles "), "{e}");
    }
}
