//! The format documentation keeps up with the code: every kind has its
//! section and every field is named.

use dr_drill::runbook::{KINDS, StepAction, model::step_fields};

fn format_doc() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/runbook-format.md"
    ))
    .expect("docs/runbook-format.md exists")
}

#[test]
fn every_kind_has_a_section_naming_its_fields() {
    let doc = format_doc();
    for kind in KINDS {
        let heading = format!("### `{kind}`");
        let start = doc
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/runbook-format.md lacks the heading {heading}"));
        let section = &doc[start + heading.len()..];
        let section = &section[..section.find("\n### ").unwrap_or(section.len())];
        for field in StepAction::fields_of(kind).unwrap() {
            assert!(
                section.contains(&format!("`{field}`")),
                "the section on `{kind}` does not mention `{field}`"
            );
        }
    }
}

#[test]
fn every_common_step_field_is_documented() {
    let doc = format_doc();
    for field in step_fields() {
        assert!(
            doc.contains(&format!("`{field}`")),
            "docs/runbook-format.md does not mention `{field}`"
        );
    }
}
