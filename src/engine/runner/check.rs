//! `check`: assertions on values, usually outputs of earlier steps. A
//! failure shows the actual value against the expected one.

use super::{StepCtx, StepError};
use crate::engine::values::Outputs;
use crate::runbook::kinds::{Assertion, Check};

pub fn run(ctx: &StepCtx, check: &Check) -> Result<Outputs, StepError> {
    let mut failures = Vec::new();
    for assertion in &check.assert {
        if let Err(why) = holds(ctx, assertion)? {
            failures.push(match &assertion.message {
                Some(message) => format!("{message} ({why})"),
                None => why,
            });
        }
    }
    if failures.is_empty() {
        Ok(Outputs::new())
    } else {
        Err(StepError::Failed(failures.join("; ")))
    }
}

/// `Ok(Ok(()))` when the assertion holds, `Ok(Err(why))` when it does not.
fn holds(ctx: &StepCtx, a: &Assertion) -> Result<Result<(), String>, StepError> {
    let actual = ctx.resolve(&a.value.value)?;
    let expected = |operand: &crate::runbook::model::Scalar| ctx.resolve(&operand.value);
    let number = |text: &str, what: &str| {
        text.trim()
            .parse::<f64>()
            .map_err(|_| StepError::Failed(format!("{what} `{text}` is not a number")))
    };
    let verdict = if let Some(e) = &a.equals {
        let e = expected(e)?;
        (actual == e)
            .then_some(())
            .ok_or(format!("expected `{e}`, got `{actual}`"))
    } else if let Some(e) = &a.not_equals {
        let e = expected(e)?;
        (actual != e)
            .then_some(())
            .ok_or(format!("expected anything but `{e}`"))
    } else if let Some(e) = &a.at_least {
        let (got, min) = (
            number(&actual, "the value")?,
            number(&expected(e)?, "`at_least`")?,
        );
        (got >= min)
            .then_some(())
            .ok_or(format!("expected at least {min}, got {actual}"))
    } else if let Some(e) = &a.at_most {
        let (got, max) = (
            number(&actual, "the value")?,
            number(&expected(e)?, "`at_most`")?,
        );
        (got <= max)
            .then_some(())
            .ok_or(format!("expected at most {max}, got {actual}"))
    } else if let Some(e) = &a.matches {
        let pattern = expected(e)?;
        let re = regex::Regex::new(&pattern).map_err(|err| {
            StepError::Fatal(format!("`{pattern}` is not a regular expression: {err}"))
        })?;
        re.is_match(&actual)
            .then_some(())
            .ok_or(format!("`{actual}` does not match `{pattern}`"))
    } else if let Some(max_age) = &a.younger_than {
        let when: jiff::Timestamp = actual
            .trim()
            .parse()
            .map_err(|_| StepError::Failed(format!("`{actual}` is not an RFC 3339 time")))?;
        let age = crate::engine::clock::between(when, ctx.recorder.clock().now().0);
        (age <= max_age.value.0).then_some(()).ok_or(format!(
            "`{actual}` is {}s old, more than {}s",
            age.as_secs(),
            max_age.value.0.as_secs()
        ))
    } else {
        return Err(StepError::Fatal(
            "an assertion has no comparison; run `dr-drill check`".into(),
        ));
    };
    Ok(verdict)
}
