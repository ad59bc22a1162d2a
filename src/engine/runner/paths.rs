//! The one rule for a step's local path fields (`s3.download` `to`,
//! `file.decrypt` `from` and `to`, shell `cwd`): a relative path is under
//! the run directory, and what a template puts in a path stays there. A
//! value from a template (a parameter, an S3 key, a step's output) is
//! hostile: it may not climb out with `..`, nor make the path absolute. A
//! path written literally in the runbook is the author's choice and stays
//! as written, absolute or not.

use std::path::{Component, Path, PathBuf};

use super::{StepCtx, StepError};
use crate::runbook::template::{self, Segment};

/// `text`, the step's `field`, resolved to a path: relative paths are
/// joined to the run directory; see the module for what templates may not
/// do.
pub(crate) fn local_path(ctx: &StepCtx, field: &str, text: &str) -> Result<PathBuf, StepError> {
    let resolved = ctx.resolve(text)?;
    check(field, ctx.id(), text, &resolved, &ctx.run_dir)?;
    let path = PathBuf::from(resolved);
    Ok(if path.is_relative() {
        ctx.run_dir.join(path)
    } else {
        path
    })
}

/// Whether `resolved`, the value of `text`, keeps what its templates gave
/// under the run directory (an absolute path inside `run_dir`, such as a
/// download's `path` output, is under it) or the literal absolute
/// directory the text starts with.
fn check(
    field: &str,
    step: &str,
    text: &str,
    resolved: &str,
    run_dir: &Path,
) -> Result<(), StepError> {
    let segments = template::parse(text).map_err(|e| {
        StepError::Fatal(format!(
            "`{field}` of step `{step}`: {}; fix the template in the runbook",
            e.message
        ))
    })?;
    if !segments.iter().any(|s| matches!(s, Segment::Var(..))) {
        return Ok(());
    }
    let literal_absolute =
        matches!(segments.first(), Some(Segment::Literal(l)) if l.starts_with('/'));
    let path = Path::new(resolved);
    let refuse = |why: &str| {
        Err(StepError::Fatal(format!(
            "`{field}` of step `{step}`: `{text}` gives the path `{resolved}`, which {why}; a path from a template stays under the run directory: give a value without `..` that is not absolute, or write an absolute path literally in the runbook"
        )))
    };
    if resolved.trim().is_empty() {
        return refuse("is empty");
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return refuse("climbs out with `..`");
    }
    if path.is_absolute() && !literal_absolute && !path.starts_with(run_dir) {
        return refuse("is absolute");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, resolved: &str) -> bool {
        check("to", "s", text, resolved, Path::new("/data/runs/r")).is_ok()
    }

    #[test]
    fn template_values_stay_under_the_run_directory() {
        assert!(ok("{{ steps.pick.key }}", "dumps/2026/db.dump"));
        assert!(!ok("{{ steps.pick.key }}", "dumps/../../../outside"));
        assert!(!ok("{{ params.to }}", "/etc/cron.d/x"));
        assert!(
            ok("dl/{{ params.to }}", "dl//etc"),
            "`//` is still under dl"
        );
        assert!(!ok("dl/{{ params.to }}", "dl/.."));
        assert!(!ok("{{ params.to }}", ""));
        assert!(ok("{{ steps.download.path }}", "/data/runs/r/snap.enc"));
        assert!(!ok("{{ steps.download.path }}", "/data/runs/r/../x"));
        assert!(ok(
            "/srv/restore/{{ params.day }}",
            "/srv/restore/2026-11-01"
        ));
        assert!(!ok(
            "/srv/restore/{{ params.day }}",
            "/srv/restore/../../etc"
        ));
    }

    #[test]
    fn literal_paths_are_the_authors_choice() {
        assert!(ok("/srv/restore/dump.sql", "/srv/restore/dump.sql"));
        assert!(ok("../shared/cache", "../shared/cache"));
    }
}
