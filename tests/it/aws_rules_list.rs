//! One list of rules, tested against both doubles (#15): every bullet of
//! docs/aws.md's "What dr-drill assumes about AWS" ends with a rule id, and
//! each id is carried by a test on the moto side and a test on the sandbox
//! side, in a `// rule: ID` comment line right above the test's attribute
//! (or in its doc comment), unless the bullet says why that side cannot
//! hold it ("moto cannot …", "The sandbox holds no …"). No test names an id
//! the doc lacks. Read as text, like `architecture.rs`.
//!
//! Which side a tagged test is on, from where it lives and what it calls:
//! - the sandbox: under `src/cloud/sim/tests/`, or its name or code says
//!   `sandbox` (`sandbox_run`, `in_the_sandbox`, `SimCloud`);
//! - moto: any other test under `tests/it/aws_wire/`, or a test under
//!   `tests/it/` whose code calls `moto`;
//! - mocked clients (aws-smithy-mocks): the rest of
//!   `tests/it/aws_mocked_rules.rs`; they stand for the moto side only
//!   when the bullet says "moto cannot".

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SECTION: &str = "## What dr-drill assumes about AWS";
const NO_MOTO: &str = "moto cannot";
const NO_SANDBOX: &str = "The sandbox holds no";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Moto,
    Mocked,
    Sandbox,
}

/// A bullet of the section: its rule id and its text (lines joined).
struct Rule {
    id: String,
    text: String,
}

/// A test carrying a rule id: where it is and which double it runs on.
#[derive(Debug)]
struct Tagged {
    id: String,
    place: String,
    side: Option<Side>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn is_rule_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The bullets of the section, or what is wrong with them.
fn rules(doc: &str) -> Result<Vec<Rule>, Vec<String>> {
    let start = doc
        .find(SECTION)
        .ok_or_else(|| vec![format!("docs/aws.md has no `{SECTION}`")])?;
    let body = &doc[start + SECTION.len()..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    let mut bullets: Vec<String> = Vec::new();
    for line in body.lines() {
        if let Some(rest) = line.strip_prefix("- ") {
            bullets.push(rest.to_string());
        } else if line.starts_with("  ") && !line.trim().is_empty() {
            if let Some(last) = bullets.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
            }
        } else if !line.trim().is_empty() {
            // A paragraph or a heading ends the bullet before it.
            bullets.push(String::new());
        }
    }
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for text in bullets.into_iter().filter(|b| !b.is_empty()) {
        let tail = text.trim_end().trim_end_matches('.');
        let id = tail
            .strip_suffix("`)")
            .and_then(|t| t.rsplit_once("(rule `"))
            .map(|(_, id)| id.to_string());
        match id {
            Some(id) if is_rule_id(&id) => out.push(Rule { id, text }),
            _ => errors.push(format!(
                "docs/aws.md, \"What dr-drill assumes about AWS\": a bullet does not end with \
                 (rule `some-id`): \"{}…\"",
                text.chars().take(70).collect::<String>()
            )),
        }
    }
    let mut seen = BTreeSet::new();
    for r in &out {
        if !seen.insert(r.id.as_str()) {
            errors.push(format!("docs/aws.md: rule `{}` is given twice", r.id));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The side of a test from its file (relative to the crate) and its name
/// and code (comments left aside).
fn side_of(rel: &str, code: &str) -> Option<Side> {
    let lower = code.to_lowercase();
    if rel.starts_with("src/cloud/sim/tests/")
        || lower.contains("sandbox")
        || lower.contains("simcloud")
    {
        Some(Side::Sandbox)
    } else if rel.starts_with("tests/it/aws_wire/") || lower.contains("moto") {
        Some(Side::Moto)
    } else if rel == "tests/it/aws_mocked_rules.rs" {
        Some(Side::Mocked)
    } else {
        None
    }
}

/// The rule tags in one file: each `// rule: ID` (or `/// rule: ID`) line
/// must stand among the comments and attributes right above a test fn.
fn tags_in(rel: &str, text: &str, errors: &mut Vec<String>) -> Vec<Tagged> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut pending: Vec<(String, usize)> = Vec::new();
    let mut test_attr = false;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        let tag = t
            .strip_prefix("/// rule:")
            .or_else(|| t.strip_prefix("// rule:"));
        if let Some(id) = tag {
            let id = id.trim();
            if is_rule_id(id) {
                pending.push((id.to_string(), i + 1));
            } else {
                errors.push(format!("{rel}:{}: `{t}` is not a rule id", i + 1));
            }
            continue;
        }
        if pending.is_empty() {
            continue;
        }
        if t.starts_with("#[") {
            test_attr |= t.starts_with("#[test]") || t.starts_with("#[tokio::test");
            continue;
        }
        if t.starts_with("//") || t.is_empty() && !test_attr {
            continue;
        }
        let is_fn = t.contains("fn ") && test_attr;
        if is_fn {
            let indent = &line[..line.len() - line.trim_start().len()];
            let close = format!("{indent}}}");
            let end = lines[i..]
                .iter()
                .position(|l| *l == close)
                .map_or(lines.len(), |n| i + n);
            let code: String = lines[i..end]
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let name = t
                .split("fn ")
                .nth(1)
                .and_then(|s| s.split('(').next())
                .unwrap_or("?");
            let side = side_of(rel, &code);
            for (id, _) in pending.drain(..) {
                out.push(Tagged {
                    id,
                    place: format!("{rel}:{} `{name}`", i + 1),
                    side,
                });
            }
        } else {
            for (id, at) in pending.drain(..) {
                errors.push(format!(
                    "{rel}:{at}: `rule: {id}` is not right above a #[test] or #[tokio::test] fn"
                ));
            }
        }
        test_attr = false;
    }
    for (id, at) in pending {
        errors.push(format!("{rel}:{at}: `rule: {id}` is not above a test"));
    }
    out
}

fn all_tags(errors: &mut Vec<String>) -> Vec<Tagged> {
    let root = root();
    let mut files: Vec<PathBuf> = super::rust_files(&root.join("tests/it"));
    files.extend(super::rust_files(&root.join("src")));
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let rel = rel_path(&root, &path);
        if rel == "tests/it/aws_rules_list.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        out.extend(tags_in(&rel, &text, errors));
    }
    out
}

fn rel_path(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// What is wrong with the list and the tags, one line each.
fn check(rules: &[Rule], tags: &[Tagged]) -> Vec<String> {
    let mut errors = Vec::new();
    let mut by_id: BTreeMap<&str, Vec<&Tagged>> = BTreeMap::new();
    for t in tags {
        by_id.entry(t.id.as_str()).or_default().push(t);
    }
    let known: BTreeSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    for t in tags {
        if !known.contains(t.id.as_str()) {
            errors.push(format!(
                "{}: names rule `{}`, which docs/aws.md (\"What dr-drill assumes about AWS\") lacks",
                t.place, t.id
            ));
        }
        if t.side.is_none() {
            errors.push(format!(
                "{}: carries rule `{}` but runs on neither double (a sandbox test is under \
                 src/cloud/sim/tests/ or uses the sandbox; a moto test is under \
                 tests/it/aws_wire/ or calls moto)",
                t.place, t.id
            ));
        }
    }
    for r in rules {
        let sides: BTreeSet<Side> = by_id
            .get(r.id.as_str())
            .into_iter()
            .flatten()
            .filter_map(|t| t.side)
            .collect();
        let moto_cannot = r.text.contains(NO_MOTO);
        let moto = sides.contains(&Side::Moto) || moto_cannot;
        if !moto {
            let why = if sides.contains(&Side::Mocked) {
                "its mocked test stands for moto only when the bullet says \"moto cannot …\""
            } else {
                "tag a test under tests/it/aws_wire/, or say \"moto cannot …\" in the bullet"
            };
            errors.push(format!("rule `{}` has no test against moto: {why}", r.id));
        }
        if !sides.contains(&Side::Sandbox) && !r.text.contains(NO_SANDBOX) {
            errors.push(format!(
                "rule `{}` has no test in the sandbox: tag one under src/cloud/sim/tests/ or \
                 tests/it/, or say \"{NO_SANDBOX} …\" in the bullet",
                r.id
            ));
        }
    }
    errors
}

#[test]
fn every_rule_about_aws_is_tested_against_both_doubles() {
    let doc = std::fs::read_to_string(root().join("docs/aws.md")).unwrap();
    let rules = match rules(&doc) {
        Ok(r) => r,
        Err(errors) => panic!("{}", errors.join("\n")),
    };
    assert!(rules.len() >= 20, "only {} rules found", rules.len());
    let mut errors = Vec::new();
    let tags = all_tags(&mut errors);
    errors.extend(check(&rules, &tags));
    assert!(errors.is_empty(), "\n{}", errors.join("\n"));
}

#[test]
fn the_checker_finds_a_missing_side_a_stray_tag_and_an_untagged_bullet() {
    let doc = format!(
        "{SECTION}\n\n- One. (rule `one`)\n- Two; moto cannot\n  do it. (rule `two`)\n\n- Three.\n\n## Next\n"
    );
    let Err(errors) = rules(&doc) else {
        panic!("an untagged bullet passed")
    };
    assert!(errors[0].contains("\"Three.…\""), "{errors:?}");
    let doc = doc.replace("- Three.", "- Three. (rule `three`)");
    let rules = rules(&doc).unwrap();
    assert_eq!(rules.len(), 3);
    let mut errors = Vec::new();
    let wire = "// rule: one\n#[tokio::test]\nasync fn a_wire_test() {\n    moto();\n}\n\n\
                /// Docs.\n// rule: nowhere\n#[test]\nfn stray() {\n    moto();\n}\n";
    let mocked = "// rule: two\n#[tokio::test]\nasync fn mocked() {\n    mock();\n}\n\
                  // rule: three\nfn not_a_test() {}\n";
    let mut tags = tags_in("tests/it/aws_wire/x.rs", wire, &mut errors);
    tags.extend(tags_in("tests/it/aws_mocked_rules.rs", mocked, &mut errors));
    tags.extend(tags_in(
        "src/cloud/sim/tests/x.rs",
        "// rule: two\n#[tokio::test(start_paused = true)]\nasync fn sim_side() {\n}\n",
        &mut errors,
    ));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("rule: three"), "{errors:?}");
    let errors = check(&rules, &tags);
    let expect = [
        "names rule `nowhere`",
        "rule `one` has no test in the sandbox",
        "rule `three` has no test against moto",
        "rule `three` has no test in the sandbox",
    ];
    assert_eq!(errors.len(), expect.len(), "{errors:#?}");
    for (e, want) in errors.iter().zip(expect) {
        assert!(e.contains(want), "{e} lacks {want}");
    }
}
