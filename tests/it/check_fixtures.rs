//! Every error class and warning has a fixture whose file name starts with
//! the diagnostic code it must produce; the full message is pinned by an
//! insta snapshot so a change in wording is reviewed, not accidental.

use std::path::Path;

use dr_drill::runbook::{Severity, check_file, check_str};

/// `template.unknown-param.toml` → `template`.
fn expected_code(path: &Path) -> String {
    let stem = path.file_stem().unwrap().to_string_lossy();
    stem.split('.').next().unwrap().to_string()
}

fn rendered(path: &Path) -> String {
    let file = check_file(path);
    let name = format!("fixtures/{}", path.file_name().unwrap().to_string_lossy());
    file.checked
        .diagnostics
        .iter()
        .map(|d| d.render(&name, &file.source, false))
        .collect()
}

#[test]
fn each_invalid_fixture_fails_with_its_error_class() {
    insta::glob!("../fixtures", "invalid/*.toml", |path| {
        let file = check_file(path);
        let code = expected_code(path);
        assert!(
            file.checked.runbook.is_none(),
            "{} must not load",
            path.display()
        );
        assert!(
            file.checked
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error && d.code.as_str() == code),
            "{} should report error `{code}`, got {:?}",
            path.display(),
            file.checked
                .diagnostics
                .iter()
                .map(|d| d.code.as_str())
                .collect::<Vec<_>>()
        );
        insta::assert_snapshot!(rendered(path));
    });
}

#[test]
fn each_warning_fixture_loads_with_its_warning_and_no_error() {
    insta::glob!("../fixtures", "warnings/*.toml", |path| {
        let file = check_file(path);
        let code = expected_code(path);
        assert!(
            file.checked.runbook.is_some(),
            "{} has only warnings and must load",
            path.display()
        );
        assert_eq!(file.checked.errors(), 0);
        assert!(
            file.checked
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Warning && d.code.as_str() == code),
            "{} should warn `{code}`",
            path.display()
        );
        insta::assert_snapshot!(rendered(path));
    });
}

#[test]
fn shipped_runbooks_are_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            seen += 1;
            let file = check_file(&path);
            assert!(
                file.checked.diagnostics.is_empty(),
                "{}:\n{}",
                path.display(),
                file.render(false)
            );
        }
    }
    assert!(seen > 0, "no runbooks found");
}

#[test]
fn the_example_runbook_reads_as_written() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/cabal-addresses-restore.toml"),
    )
    .unwrap();
    let rb = check_str(&text).runbook.expect("valid");
    assert_eq!(rb.runbook.id.value, "cabal-addresses-restore");
    assert_eq!(rb.runbook.rto.as_ref().unwrap().value.0.as_secs(), 2 * 3600);
    // Parameters keep the order they were written in, for the start form.
    let names: Vec<&str> = rb.params.iter().map(|p| p.name.value.as_str()).collect();
    assert_eq!(
        names,
        ["vault", "table", "restored", "role_arn", "reconfigure_cmd"]
    );
    let cutover = rb.step("cutover").unwrap();
    assert!(cutover.is_destructive());
    assert_eq!(cutover.confirm_text().unwrap().value, "{{ params.table }}");
    let cleanup = rb.step("drop-restored").unwrap();
    assert!(cleanup.cleanup && !cleanup.runs_in(dr_drill::runbook::Mode::Incident));
    assert_eq!(rb.steps.iter().filter(|s| s.ends_rto).count(), 1);
}

#[test]
fn errors_report_line_and_column() {
    let text = "[runbook]\nid = \"x\"\ntitle = \"t\"\n\n[[step]]\nid = \"a\"\nkind = \"shell\"\nrun = \"true\"\nneeds = [\"nope\"]\n";
    let checked = check_str(text);
    let d = &checked.diagnostics[0];
    let located = d.locate("x.toml", text);
    assert_eq!((located.line, located.column), (Some(9), Some(10)));
}

#[test]
fn a_destructive_kind_is_destructive_without_saying_so_and_confirms_its_target() {
    let text = r#"
[runbook]
id = "teardown"
title = "t"

[[step]]
id = "unlock"
kind = "backup.delete-vault-lock"
backup_vault = "cabal-backup"
"#;
    let rb = check_str(text).runbook.unwrap();
    let step = rb.step("unlock").unwrap();
    assert!(step.is_destructive());
    assert_eq!(step.confirm_text().unwrap().value, "cabal-backup");
}
